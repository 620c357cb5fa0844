"""Issue 2, end to end: init → new → set → move through every state, one commit per step."""

from __future__ import annotations

import re

from click.testing import CliRunner

from conftest import git
from mdboard.cli.main import main


def trailers(root, rev="HEAD") -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    body = git(root, "log", "-1", "--format=%(trailers:only,unfold)", rev)
    for line in body.splitlines():
        key, _, value = line.partition(": ")
        out.setdefault(key, []).append(value)
    return out


def commit_count(root) -> int:
    return int(git(root, "rev-list", "--count", "HEAD"))


def test_init_makes_a_committed_board_in_a_new_repository(tmp_path):
    root = tmp_path / "shop"
    result = CliRunner().invoke(main, ["init", str(root)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "git" in result.output
    assert (root / "mdboard.yaml").is_file()
    for folder in ("sku/planning", "sku/listed", "campaign/live", "issue/archived", "asset/review"):
        assert (root / folder).is_dir()
    assert "/_site/" in (root / ".gitignore").read_text("utf-8")
    assert git(root, "status", "--porcelain") == ""
    assert commit_count(root) == 1


def test_init_refuses_to_overwrite_a_board(board, cli):
    before = (board / "mdboard.yaml").read_bytes()
    result = cli("init", ".")
    assert result.exit_code == 1
    assert "mdboard.yaml" in result.output and "已存在" in result.output
    assert (board / "mdboard.yaml").read_bytes() == before


def test_a_sku_goes_through_every_state_with_one_commit_per_step(board, cli):
    start = commit_count(board)
    steps = [
        ("new", "sku", "蓝牙耳机 Pro 上新", "--owner", "赵敏", "--due", "2026-12-05"),
        ("set", "SKU-0001", "price=199", "platforms=抖音,天猫"),
        ("move", "SKU-0001", "shooting"),
        ("move", "SKU-0001", "content"),
        ("move", "SKU-0001", "review"),
        ("set", "SKU-0001", "price_approved=是"),
    ]
    for step in steps:
        result = cli("--as", "zhaomin", *step)
        assert result.exit_code == 0, result.output
    path = board / "sku/review/SKU-0001.md"
    text = path.read_text("utf-8").replace("- [ ]", "- [x]")
    path.write_text(text, "utf-8")
    git(board, "commit", "-qam", "清单完成")
    result = cli("--as", "wangli", "move", "SKU-0001", "已上架")
    assert result.exit_code == 0, result.output
    assert (board / "sku/listed/SKU-0001.md").is_file()
    assert commit_count(board) == start + len(steps) + 2
    assert git(board, "status", "--porcelain") == ""
    assert git(board, "log", "-1", "--format=%an <%ae>|%s") == "王丽 <wangli@example.com>|move SKU-0001: 待审核 → 已上架"
    assert trailers(board) == {"Card": ["SKU-0001"], "Action": ["move"], "From": ["review"], "To": ["listed"]}
    first = git(board, "log", "--reverse", "--format=%an|%s", f"HEAD~{len(steps) + 2}..HEAD").splitlines()[0]
    assert first == "赵敏|new SKU-0001: 蓝牙耳机 Pro 上新"
    assert trailers(board, "HEAD~6")["Set"] == ["price=199", "platforms=[douyin, tmall]"]


def test_commits_touch_only_the_cards_paths(board, cli):
    (board / "notes.txt").write_text("未提交的个人笔记", "utf-8")
    (board / "staged.txt").write_text("已暂存", "utf-8")
    git(board, "add", "staged.txt")
    assert cli("new", "sku", "充电宝", "--owner", "wangli").exit_code == 0
    assert cli("move", "SKU-0001", "shooting").exit_code == 0
    assert git(board, "show", "--name-status", "--format=", "HEAD").split() == [
        "R100", "sku/planning/SKU-0001.md", "sku/shooting/SKU-0001.md"]
    status = git(board, "status", "--porcelain").splitlines()
    assert "A  staged.txt" in status and "?? notes.txt" in status


def test_move_renames_without_rewriting_content(board, cli):
    cli.ok("new", "sku", "数据线", "--owner", "wangli")
    before = (board / "sku/planning/SKU-0001.md").read_bytes()
    assert cli("move", "SKU-0001", "拍摄中").exit_code == 0
    assert (board / "sku/shooting/SKU-0001.md").read_bytes() == before
    assert not (board / "sku/planning/SKU-0001.md").exists()


def test_forced_move_records_the_reason(board, cli):
    cli.ok("new", "sku", "快充头", "--owner", "wangli")
    result = cli("move", "SKU-0001", "review", "--force", "--reason", "老板要求先审")
    assert result.exit_code == 0, result.output
    tr = trailers(board)
    assert tr["Forced"] == ["老板要求先审"]
    assert any("价格" in line for line in tr["Overrode"])


def test_force_needs_a_reason(board, cli):
    cli.ok("new", "sku", "快充头", "--owner", "wangli")
    result = cli("move", "SKU-0001", "review", "--force")
    assert result.exit_code == 1
    assert "--reason" in result.output


def test_author_is_the_acting_person_or_the_git_user(board, cli):
    cli.ok("new", "sku", "耳机", "--owner", "wangli")
    assert git(board, "log", "-1", "--format=%an <%ae>") == "王丽 <wangli@example.com>"
    cli.ok("--as", "孙丽", "assign", "SKU-0001", "陈静")
    assert git(board, "log", "-1", "--format=%an <%ae>|%s") == "孙丽 <sunli@example.com>|assign SKU-0001: owner=chenjing"


def test_no_commit_writes_the_file_only(board, cli):
    head = git(board, "rev-parse", "HEAD")
    assert cli("--no-commit", "new", "sku", "耳机", "--owner", "wangli").exit_code == 0
    assert (board / "sku/planning/SKU-0001.md").exists()
    assert git(board, "rev-parse", "HEAD") == head


def test_config_switch_turns_commits_off(board, cli):
    cfg = board / "mdboard.yaml"
    cfg.write_text(cfg.read_text("utf-8").replace("timezone: Asia/Shanghai", "timezone: Asia/Shanghai\ncommit: false"), "utf-8")
    git(board, "commit", "-qam", "commit off")
    head = git(board, "rev-parse", "HEAD")
    assert cli("new", "sku", "耳机", "--owner", "wangli").exit_code == 0
    assert git(board, "rev-parse", "HEAD") == head


def test_board_in_a_subfolder_of_the_repository(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "README.txt").write_text("shop", "utf-8")
    git(repo, "add", "README.txt")
    git(repo, "commit", "-qm", "start")
    result = CliRunner().invoke(main, ["init", str(repo / "ops")], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(main, ["--board", str(repo / "ops"), "--as", "me", "new", "sku", "耳机", "--owner", "me"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert git(repo, "show", "--name-only", "--format=", "HEAD") == "ops/sku/planning/SKU-0001.md"


def test_board_is_found_by_walking_up_and_by_env(board, cli, monkeypatch, tmp_path):
    cli.ok("new", "sku", "耳机", "--owner", "wangli")
    deep = board / "sku" / "planning"
    assert "SKU-0001" in cli.proc("ls", env={}).stdout
    proc = cli.proc("ls")
    assert proc.returncode == 0
    import subprocess, sys, os
    from pathlib import Path
    exe = Path(sys.executable).with_name("mdboard")
    out = subprocess.run([str(exe), "ls"], cwd=deep, capture_output=True, text=True)
    assert "SKU-0001" in out.stdout
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = subprocess.run([str(exe), "ls"], cwd=elsewhere, capture_output=True, text=True,
                         env={**os.environ, "MDBOARD_BOARD": str(board)})
    assert "SKU-0001" in out.stdout
    out = subprocess.run([str(exe), "ls"], cwd=elsewhere, capture_output=True, text=True)
    assert out.returncode == 1 and "mdboard.yaml" in out.stderr and "Traceback" not in out.stderr


def test_ids_are_sequential_per_type(board, cli):
    for title in ("a", "b"):
        cli.ok("new", "sku", title, "--owner", "wangli")
    result = cli("new", "campaign", "双12", "--owner", "wangli", "--set", "platform=天猫")
    assert result.exit_code == 0, result.output
    assert (board / "campaign/planned/CMP-0001.md").exists()
    assert (board / "sku/planning/SKU-0002.md").exists()
    assert re.search(r"CMP-0001", result.output)
