"""Issue 2: `mdboard edit` opens $EDITOR, validates after saving, commits; a bad save changes nothing."""

from __future__ import annotations

from conftest import git


def test_edit_commits_a_valid_save(board, cli):
    cli.ok("new", "sku", "耳机", "--owner", "wangli")
    head = git(board, "rev-parse", "HEAD")
    proc = cli.proc("edit", "SKU-0001", env={"EDITOR": "sed -i -e 's/owner: wangli/owner: zhaomin/' -e 's/- \\[ \\] 拍摄/- [x] 拍摄/'"})
    assert proc.returncode == 0, proc.stderr
    text = (board / "sku/planning/SKU-0001.md").read_text("utf-8")
    assert "owner: zhaomin" in text and "- [x] 拍摄" in text
    assert git(board, "rev-parse", "HEAD~1") == head
    assert git(board, "log", "-1", "--format=%s%n%(trailers:only)").splitlines()[:3] == [
        "edit SKU-0001: 耳机", "Card: SKU-0001", "Action: edit"]
    assert git(board, "status", "--porcelain") == ""


def test_edit_refuses_an_invalid_save_and_keeps_the_card(board, cli):
    cli.ok("new", "sku", "耳机", "--owner", "wangli")
    path = board / "sku/planning/SKU-0001.md"
    before = path.read_bytes()
    head = git(board, "rev-parse", "HEAD")
    proc = cli.proc("edit", "SKU-0001", env={"EDITOR": "sed -i 's/owner: wangli/owner: 王力/'"})
    assert proc.returncode == 1
    assert "sku/planning/SKU-0001.md:owner: 名单里没有「王力」" in proc.stderr
    assert "修改已放弃" in proc.stderr and "Traceback" not in proc.stderr
    assert path.read_bytes() == before
    assert git(board, "rev-parse", "HEAD") == head


def test_edit_without_changes_does_nothing(board, cli):
    cli.ok("new", "sku", "耳机", "--owner", "wangli")
    head = git(board, "rev-parse", "HEAD")
    proc = cli.proc("edit", "SKU-0001", env={"EDITOR": "true"})
    assert proc.returncode == 0 and "没有修改" in proc.stdout
    assert git(board, "rev-parse", "HEAD") == head
