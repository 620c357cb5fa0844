"""Issue 9: a broken mdboard.yaml — every kind of mistake gets its key path, no traceback, nothing written.

Each `configs:` case of `tests/corpus/cases.yaml` is a whole mdboard.yaml with one
mistake (or an oddity that is fine: a BOM, CRLF). It is committed on a real board,
then `check` must name the key (`mdboard.yaml:types.sku.states[1].wip: ...`) and exit
1, through CliRunner and the real console script; every other command refuses with
the same message, writes nothing and commits nothing; and a YAML tag never runs.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from conftest import CORPUS, Cli, expect_lines, git, git_state, tree

CONFIG_CASES = yaml.safe_load((CORPUS / "cases.yaml").read_text("utf-8"))["configs"]
COMMANDS = [["ls"], ["new", "sku", "新品", "--owner", "wangli"], ["show", "SKU-0001"], ["set", "SKU-0001", "price=1"],
            ["move", "SKU-0001", "shooting"], ["mine", "wangli"], ["build"]]


@pytest.mark.parametrize("case", CONFIG_CASES, ids=[c["case"] for c in CONFIG_CASES])
def test_config_case(case, board, tmp_path):
    cli = Cli(board)
    shutil.copyfile(CORPUS / "config" / f"{case['case']}.yaml", board / "mdboard.yaml")
    shutil.copyfile(CORPUS / "cards" / "good_sku.md", board / "sku/planning/SKU-0001.md")
    git(board, "add", "-A")
    git(board, "commit", "-qm", f"config corpus: {case['case']}")
    before, before_files, before_outside = git_state(board), tree(board, board / ".git"), tree(tmp_path, board)

    result = cli("check")
    assert "Traceback" not in result.output
    proc = cli.proc("check")
    assert "Traceback" not in proc.stdout + proc.stderr
    if case.get("accept"):
        assert result.exit_code == 0 and proc.returncode == 0, result.output
        assert cli("new", "sku", "新品", "--owner", "wangli").exit_code == 0
        assert git(board, "status", "--porcelain") == ""
        return
    assert result.exit_code == 1 and proc.returncode == 1, result.output
    assert result.output.startswith("错误：") and proc.stderr.startswith("错误："), proc.stderr
    message = result.output[len("错误："):]
    expect_lines(message, case["expect"])
    expect_lines(proc.stderr[len("错误："):], case["expect"])
    first_line = result.output.splitlines()[0]

    for args in COMMANDS:
        out = cli(*args).output
        assert out.startswith("错误：") and "Traceback" not in out, (args, out)
        assert out.splitlines()[0] == first_line, (args, out)
    assert cli.proc("new", "sku", "新品", "--owner", "wangli").returncode == 1
    assert git_state(board) == before
    assert tree(board, board / ".git") == before_files
    assert tree(tmp_path, board) == before_outside
    assert not list(tmp_path.rglob("pwned-by-config.txt")) and not Path("pwned-by-config.txt").exists()


def test_every_mistake_is_reported_at_once(board):
    """Three mistakes in one file: one run of check lists them all."""
    text = (CORPUS / "config" / "valid.yaml").read_text("utf-8")
    text = text.replace("language: zh-CN", "language: fr").replace("wip: 5", "wip: 0").replace(
        "prefix: CMP", "prefix: SKU")
    (board / "mdboard.yaml").write_text(text, "utf-8")
    out = Cli(board)("check").output
    for where in ("mdboard.yaml:language: ", "mdboard.yaml:types.sku.states[1].wip: ",
                  "mdboard.yaml:types.campaign.prefix: "):
        assert where in out, out


def test_a_broken_config_in_english_speaks_english(board):
    text = (CORPUS / "config" / "bad_wip.yaml").read_text("utf-8").replace("language: zh-CN", "language: en")
    (board / "mdboard.yaml").write_text(text, "utf-8")
    proc = Cli(board).proc("check", env={"MDBOARD_LANG": "en"})
    assert proc.returncode == 1
    assert "mdboard.yaml:types.sku.states[1].wip: " in proc.stderr and "Traceback" not in proc.stderr


def test_no_config_above_says_how_to_start(tmp_path):
    proc = Cli(tmp_path).proc("ls")
    assert proc.returncode == 1 and "mdboard init" in proc.stderr and "Traceback" not in proc.stderr
