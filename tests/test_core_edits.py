"""Issue 2: set, assign and move change only what they mean to change, byte for byte."""

from __future__ import annotations

import pytest

from conftest import git

HAND_MADE = (
    "---\n"
    "# 这张卡是手写的:注释、键的顺序、引号都要保留\n"
    "due: '2026-12-10'   # 和仓库确认过\n"
    "title: \"旗舰降噪耳机 X3\"\n"
    "tags:\n"
    "  - 主推\n"
    "  - 双12\n"
    "owner: zhaomin  # 美工负责\n"
    "price: 399.0\n"
    "platforms: [tmall,   jd]\n"
    "\n"
    "供应商: 东莞工厂   # 未定义的键也要保留\n"
    "---\n"
    "\n"
    "## 上新清单\n"
    "\n"
    "- [x] 拍摄\n"
    "- [ ] 主图\n"
    "\n"
    "正文里的 owner: 不是字段\n"
)


def write(board, rel, text, newline="\n", bom=False):
    data = text.replace("\n", newline)
    path = board / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data.encode("utf-8"))
    git(board, "add", rel)
    git(board, "commit", "-qm", "hand-made card")
    return path


def changed_lines(before: bytes, after: bytes) -> list[tuple[bytes, bytes]]:
    a, b = before.splitlines(keepends=True), after.splitlines(keepends=True)
    assert len(a) == len(b), (a, b)
    return [(x, y) for x, y in zip(a, b) if x != y]


@pytest.mark.parametrize("newline,bom", [("\n", False), ("\r\n", False), ("\r\n", True)], ids=["lf", "crlf", "crlf+bom"])
def test_set_changes_only_the_keys_line(board, cli, newline, bom):
    path = write(board, "sku/planning/SKU-0001.md", HAND_MADE, newline, bom)
    before = path.read_bytes()
    assert cli("set", "SKU-0001", "owner=陈静").exit_code == 0
    nl = newline.encode()
    assert changed_lines(before, path.read_bytes()) == [
        (b"owner: zhaomin  # \xe7\xbe\x8e\xe5\xb7\xa5\xe8\xb4\x9f\xe8\xb4\xa3" + nl,
         b"owner: chenjing  # \xe7\xbe\x8e\xe5\xb7\xa5\xe8\xb4\x9f\xe8\xb4\xa3" + nl)]
    assert cli("set", "SKU-0001", "due=2026-12-12").exit_code == 0
    after = path.read_bytes()
    assert after.count(b"due: 2026-12-12   # ") == 1
    assert after.startswith(b"\xef\xbb\xbf---" if bom else b"---")
    assert git(board, "status", "--porcelain") == ""


def test_set_replaces_a_block_list_and_adds_a_missing_key_before_the_closing_line(board, cli):
    path = write(board, "sku/planning/SKU-0001.md", HAND_MADE)
    assert cli("set", "SKU-0001", "tags=爆款", "category=耳机").exit_code == 0
    text = path.read_text("utf-8")
    assert "tags: [爆款]\nowner: zhaomin" in text
    assert "供应商: 东莞工厂   # 未定义的键也要保留\ncategory: 耳机\n---\n" in text
    assert text.endswith("正文里的 owner: 不是字段\n")


def test_clearing_a_key_removes_only_its_lines(board, cli):
    path = write(board, "sku/planning/SKU-0001.md", HAND_MADE)
    before = path.read_text("utf-8")
    assert cli("set", "SKU-0001", "tags=").exit_code == 0
    assert path.read_text("utf-8") == before.replace("tags:\n  - 主推\n  - 双12\n", "")


def test_assign_and_move_keep_every_other_byte(board, cli):
    path = write(board, "sku/planning/SKU-0001.md", HAND_MADE, "\r\n")
    before = path.read_bytes()
    assert cli("assign", "SKU-0001", "wangli").exit_code == 0
    assert len(changed_lines(before, path.read_bytes())) == 1
    middle = path.read_bytes()
    assert cli("move", "SKU-0001", "shooting").exit_code == 0
    assert (board / "sku/shooting/SKU-0001.md").read_bytes() == middle


def test_values_that_look_like_other_types_are_quoted(board, cli):
    write(board, "sku/planning/SKU-0001.md", HAND_MADE)
    assert cli("set", "SKU-0001", "category=true", "title=2026-12-01: 新品").exit_code == 0
    text = (board / "sku/planning/SKU-0001.md").read_text("utf-8")
    assert "category: 'true'" in text
    assert "title: '2026-12-01: 新品'" in text
    shown = cli("show", "SKU-0001", "--json")
    import json
    data = json.loads(shown.output)
    assert data["category"] == "true" and data["title"] == "2026-12-01: 新品"


def test_a_value_ending_in_three_dots_keeps_them(board, cli):
    """YAML's document end marker is `...` on a line of its own; a title's own "..." is text."""
    write(board, "sku/planning/SKU-0001.md", HAND_MADE)
    result = cli("set", "SKU-0001", "title=等待补货...", "category=0...")
    assert result.exit_code == 0, result.output
    text = (board / "sku/planning/SKU-0001.md").read_text("utf-8")
    assert "title: 等待补货...\n" in text and "category: 0...\n" in text


def test_keys_are_written_bare_exactly_as_the_key_pattern_allows():
    """A key is left unquoted without asking YAML exactly when it matches the pattern first
    written for that (checked for every character of the basic plane, first and later)."""
    import re

    from mdboard.core.cardfile import _bare_key, render_key

    pattern = re.compile(r"[A-Za-z_\u4e00-\u9fff][\w\-\u4e00-\u9fff]*")
    for code in [*range(0x10000), 0x1F600, 0x20000, 0x10FFFF]:
        char = chr(code)
        for key in (char, "a" + char, char + "价-1"):
            assert _bare_key(key) == bool(pattern.fullmatch(key)), (hex(code), key)
    assert [render_key(k) for k in ("price", "价格", "_x-1", "a b", "1st", "")] == \
        ["price", "价格", "_x-1", "a b", "1st", "''"]
