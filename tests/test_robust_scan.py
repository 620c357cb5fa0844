"""Issue 13 items 6 and 16: nothing on disk that looks like a card is silently dropped.

A folder of cards that no type claims (a type renamed in mdboard.yaml), `.MD` files,
names with a trailing space, a line break or bytes that are not UTF-8, cards in a
folder inside a state folder, a card at the board's top level, and a named pipe where
a card belongs: each is reported by `check` (path, what is wrong, how to fix it) and
listed among the problems on the site's overview, and no command crashes or hangs.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import git

GOOD = "---\ntitle: 蓝牙耳机\nowner: wangli\n---\n"


def _card(board: Path, rel: str | bytes, text: str = GOOD) -> None:
    path = os.path.join(os.fsencode(board), rel if isinstance(rel, bytes) else os.fsencode(rel))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(text.encode("utf-8"))


def _overview_problems(board: Path) -> str:
    page = (board / "_site" / "index.html").read_text("utf-8")
    section = re.search(r'<section class="problems".*?</section>', page, re.S)
    assert section, "the overview lists no problems"
    return section.group(0)


def test_a_renamed_type_leaves_its_cards_reported_not_hidden(cli, board):
    for title in ("耳机", "音箱"):
        assert cli("new", "sku", title, "--owner", "wangli").exit_code == 0
    cfg = board / "mdboard.yaml"
    cfg.write_text(cfg.read_text("utf-8").replace("\n  sku:\n", "\n  product:\n").replace("to: sku", "to: product"),
                   "utf-8")
    check = cli("check")
    assert check.exit_code == 1
    assert ("sku: 文件夹「sku」里有 2 张卡片，但 mdboard.yaml 里没有这个类型，它们不会出现在看板上"
            "（类型「product」用的是前缀 SKU：如果是类型改了名，把文件夹也改名：git mv sku product）") in check.output
    assert cli("build").exit_code == 0
    assert "文件夹「sku」里有 2 张卡片" in _overview_problems(board)
    os.rename(board / "sku", board / "product")
    assert cli("check").exit_code == 0


def test_a_type_that_is_gone_asks_for_it_back(cli, board):
    assert cli("new", "asset", "海报", "--owner", "zhaomin", "--set", "kind=海报").exit_code == 0
    cfg = board / "mdboard.yaml"
    text = cfg.read_text("utf-8")
    cfg.write_text(text[:text.index("\n  asset:\n") + 1], "utf-8")
    check = cli("check")
    assert check.exit_code == 1
    assert ("asset: 文件夹「asset」里有 1 张卡片，但 mdboard.yaml 里没有这个类型，它们不会出现在看板上"
            "（在 mdboard.yaml 的 types 下加回「asset」，或把卡片移到现有类型的文件夹（sku, campaign, issue））"
            ) in check.output


def test_notes_folders_and_the_site_output_are_not_cards(cli, board):
    _card(board, "docs/README.md", "# 说明\n")
    _card(board, "docs/howto/上新流程.md", "# 流程\n")
    assert cli("build").exit_code == 0
    check = cli("check")
    assert check.exit_code == 0, check.output


NAMES = [
    ("sku/planning/SKU-0002.MD", "sku/planning/SKU-0002.MD: 文件名的结尾不是小写的 .md（写成了 .MD，或 .md 后面有空格、换行），"
                                 "mdboard 不把它当作卡片（改名为 SKU-0002.md）"),
    ("sku/planning/SKU-0003.md ", "sku/planning/SKU-0003.md : 文件名的结尾不是小写的 .md"),
    ("sku/planning/SKU-0004.md\n", "sku/planning/SKU-0004.md\\n: 文件名里有换行、控制字符或看不见的字符，mdboard 不把它当作卡片"
                                   "（改名为 SKU-0004.md）"),
    ("sku/planning/SKU-0005\n.md", "sku/planning/SKU-0005\\n.md: 文件名里有换行"),
    (b"sku/planning/SKU-0006\xff.md", "sku/planning/SKU-0006\\xff.md: 文件名不是 UTF-8 编码，mdboard 不把它当作卡片"
                                      "（改名为 SKU-0006.md）"),
    (b"sku/\xfe/SKU-0007.md", "sku/\\xfe: 文件夹名不是 UTF-8 编码"),
    ("sku/planning/old/SKU-0008.md", "sku/planning/old: 状态文件夹里的子文件夹不会被读取，里面的卡片不在看板上"
                                     "（把卡片直接放在状态文件夹里：<类型>/<状态>/<编号>.md）"),
    ("SKU-0009.md", "SKU-0009.md: 卡片文件不在任何类型的文件夹里，不会出现在看板上（把它移到 <类型>/<状态>/ 下，"
                    "类型可选：sku, campaign, issue, asset）"),
]


@pytest.mark.parametrize("name,line", NAMES, ids=[repr(n) for n, _ in NAMES])
def test_a_file_that_looks_like_a_card_but_cannot_be_read_as_one_is_reported(cli, board, name, line):
    assert cli("new", "sku", "耳机", "--owner", "wangli").exit_code == 0
    _card(board, name)
    check = cli.proc("check")
    assert check.returncode == 1 and "Traceback" not in check.stderr, check.stderr
    assert line in check.stdout, check.stdout
    for args in (["ls"], ["ls", "--json"], ["mine", "wangli"], ["export", "csv"], ["export", "json"],
                 ["export", "ics"], ["build"]):
        proc = cli.proc(*args)
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, (args, proc.stderr)
    assert line.split(": ", 1)[0] + ":" in _overview_problems(board).replace("<code>", "").replace("</code>", "")
    assert "SKU-0001" in cli.proc("ls").stdout


def test_the_card_id_pattern_does_not_end_before_a_line_break(cli, board):
    """`$` matches before a final newline: "SKU-0001\\n" once passed for the ID SKU-0001."""
    from mdboard.core.store import ID_RE, check_id
    from mdboard.core.errors import CardNotFound

    assert ID_RE.match("SKU-0001") and not ID_RE.match("SKU-0001\n") and not ID_RE.match("SKU-٠١")
    assert check_id(" sku-0001 ") == "SKU-0001"
    with pytest.raises(CardNotFound):
        check_id("SKU-0001\nX")
    assert cli("new", "campaign", "双11", "--owner", "wangli", "--set", "platform=tmall").exit_code == 0
    path = board / "campaign/planned/CMP-0001.md"
    path.write_text(path.read_text("utf-8").replace("platform: tmall\n", 'platform: tmall\nskus: ["SKU-0001\\n"]\n'),
                    "utf-8")
    check = cli("check")
    assert check.exit_code == 1 and "campaign/planned/CMP-0001.md:skus: 「SKU-0001\n」不是「上新」卡片编号" in check.output


def test_a_named_pipe_where_a_card_belongs_hangs_no_command(cli, board):
    assert cli("new", "sku", "耳机", "--owner", "wangli").exit_code == 0
    git(board, "status")
    os.mkfifo(board / "sku/planning/SKU-0002.md")
    for args in (["check"], ["ls"], ["ls", "--json"], ["show", "SKU-0002"], ["mine", "wangli"], ["build"],
                 ["export", "json"], ["set", "SKU-0002", "price=5"], ["move", "SKU-0002", "shooting"]):
        proc = subprocess.run([str(Path(sys.executable).with_name("mdboard")), *args], cwd=board,
                              capture_output=True, text=True, timeout=30)
        assert "Traceback" not in proc.stderr, (args, proc.stderr)
        if args[0] == "check":
            assert proc.returncode == 1
            assert "sku/planning/SKU-0002.md: 不是普通文件（可能是命名管道或设备文件），mdboard 不读取它" in proc.stdout
        if args[0] in ("set", "move"):
            assert proc.returncode == 1 and "不是普通文件" in proc.stderr, proc.stderr
