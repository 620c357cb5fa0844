"""Mistakes explained (issue 15 point 3): a file edited by hand with a Chinese input method or
an old Windows editor is named in plain words, with the right line and what to type, and a
GBK file can be converted by `mdboard fix-encoding`, which commits nothing. (The corpus in
tests/corpus/cases.yaml holds one card per mistake; this file tests the way out.)"""

from __future__ import annotations

from conftest import Cli, git
from mdboard.core import i18n
from mdboard.core.mistakes import explain_yaml

CARD = "sku/planning/SKU-0001.md"


def _gbk_card(cli, board) -> bytes:
    assert cli("new", "sku", "蓝牙耳机", "--owner", "王丽").exit_code == 0
    text = (board / CARD).read_text("utf-8")
    (board / CARD).write_bytes(text.encode("gbk"))
    return text.encode("utf-8")


def test_fix_encoding_lists_first_converts_on_apply_and_commits_nothing(cli, board):
    utf8 = _gbk_card(cli, board)
    head = git(board, "rev-parse", "HEAD")
    check = cli("check")
    assert check.exit_code == 1 and f"{CARD}: 文件是用 GBK 编码保存的" in check.output
    preview = cli("fix-encoding")
    assert preview.exit_code == 0
    assert preview.stdout == f"{CARD}：GBK → UTF-8（标题：蓝牙耳机）\n"
    assert preview.stderr == "确认无误后运行：mdboard fix-encoding --apply\n"
    assert (board / CARD).read_bytes() != utf8  # a preview writes nothing
    done = cli("fix-encoding", "--apply")
    assert done.exit_code == 0 and done.stdout == f"已转换 {CARD}：GBK → UTF-8\n"
    assert (board / CARD).read_bytes() == utf8
    assert git(board, "rev-parse", "HEAD") == head
    assert cli("check").exit_code == 0
    assert cli("fix-encoding").output == "没有需要转换的文件：看板上的文件都是 UTF-8\n"


def test_a_gbk_mdboard_yaml_is_named_and_converted_without_opening_the_board(cli, board):
    config = board / "mdboard.yaml"
    utf8 = config.read_bytes()
    config.write_bytes(utf8.decode("utf-8").encode("gbk"))
    result = cli("ls")
    assert result.exit_code == 1 and "文件是用 GBK 编码保存的" in result.output
    assert cli("fix-encoding").stdout.startswith("mdboard.yaml：GBK → UTF-8")
    assert cli("fix-encoding", "--apply").exit_code == 0
    assert config.read_bytes() == utf8 and cli("ls").exit_code == 0


def test_bytes_that_are_merely_broken_are_left_alone(cli, board):
    assert cli("new", "sku", "蓝牙耳机", "--owner", "王丽").exit_code == 0
    broken = (board / CARD).read_bytes() + b"\xff\xfe\x00"
    (board / CARD).write_bytes(broken)
    assert "文件不是 UTF-8 编码" in cli("check").output
    assert cli("fix-encoding", "--apply").output.startswith("没有需要转换的文件")
    assert (board / CARD).read_bytes() == broken


def test_the_mistake_is_the_one_before_where_the_parser_stopped():
    text = 'title: "蓝牙耳机"\nowner: wangli\nref: &a 1\ncategory：耳机\nprice: 199\n'
    assert explain_yaml(text, first_line=2, upto=6).startswith("第 5 行「category：耳机」用了中文冒号")
    assert explain_yaml(text, first_line=2, upto=4) is None  # nothing wrong up to there


def test_an_english_board_explains_in_english(tmp_path):
    root = tmp_path / "shop"
    assert Cli(tmp_path)("init", str(root), "--lang", "en").exit_code == 0
    cli = Cli(root)
    assert cli("new", "sku", "Earbuds", "--owner", "me").exit_code == 0
    card = root / CARD
    card.write_text(card.read_text("utf-8").replace("owner: me", "owner：me"), "utf-8")
    out = cli("check").output
    assert 'line 3 "owner：me" uses the full-width colon "："; a field name is followed by a plain colon and a ' \
           'space: write "owner: me"' in out, out
    i18n.set_language(None)
