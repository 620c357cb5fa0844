"""Issue 9: git trouble gets a clear message and does no damage.

Each case puts the board's repository in a state where committing is unsafe or
impossible and runs a real command through the CLI: exit 1, a message saying what
is wrong and what to do, and nothing written — the card's bytes, HEAD, the index
and the work tree are as they were, and no journal is left behind.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import git
from mdboard.git import changes as git_changes

CARD = "sku/planning/SKU-0001.md"


@pytest.fixture
def shop(board, cli):
    """A board with one committed SKU card."""
    assert cli("new", "sku", "蓝牙耳机", "--owner", "wangli").exit_code == 0
    return board


def state(root: Path) -> dict:
    """What must not change when a command is refused."""
    journal = list((root / ".git" / "mdboard").glob("journal.json")) if (root / ".git").exists() else []
    return {"card": (root / CARD).read_bytes(), "head": git(root, "rev-parse", "HEAD"),
            "status": git(root, "status", "--porcelain"), "index": git(root, "ls-files", "-s"),
            "journal": journal, "cards": sorted(p.name for p in root.glob("*/*/*.md"))}


def refused(cli, root, args, *fragments, proc=False):
    """Run a command that must be refused; check exit 1, the message and that nothing changed."""
    before = state(root)
    if proc:
        result = cli.proc(*args)
        code, out = result.returncode, result.stdout + result.stderr
    else:
        result = cli(*args)
        code, out = result.exit_code, result.output
    assert code == 1, out
    assert "Traceback" not in out
    assert out.startswith("错误："), out
    for fragment in fragments:
        assert fragment in out, out
    assert state(root) == before
    return out


# --- the repository is busy ------------------------------------------------------------

def _conflict(root: Path, *, rebase: bool) -> None:
    """Leave the repository in a conflicted merge or rebase over an unrelated file."""
    (root / "notes.txt").write_text("base\n", "utf-8")
    git(root, "add", "notes.txt")
    git(root, "commit", "-qm", "notes")
    git(root, "checkout", "-qb", "other")
    (root / "notes.txt").write_text("other\n", "utf-8")
    git(root, "commit", "-qam", "other notes")
    git(root, "checkout", "-q", "main")
    (root / "notes.txt").write_text("main\n", "utf-8")
    git(root, "commit", "-qam", "main notes")
    import subprocess

    cmd = ["git", "rebase", "other"] if rebase else ["git", "merge", "other"]
    assert subprocess.run(cmd, cwd=root, capture_output=True).returncode != 0


@pytest.mark.parametrize("proc", [False, True], ids=["clirunner", "subprocess"])
def test_merge_in_progress_refuses_every_change(shop, cli, proc):
    _conflict(shop, rebase=False)
    assert (shop / ".git" / "MERGE_HEAD").exists()
    for args in (["set", "SKU-0001", "price=99"], ["move", "SKU-0001", "shooting"],
                 ["assign", "SKU-0001", "zhaomin"], ["new", "sku", "新品", "--owner", "wangli"]):
        refused(cli, shop, args, "仓库正在合并（merge）", "git merge --abort", proc=proc)


def test_rebase_in_progress_is_refused(shop, cli):
    _conflict(shop, rebase=True)
    assert (shop / ".git" / "rebase-merge").exists() or (shop / ".git" / "rebase-apply").exists()
    refused(cli, shop, ["set", "SKU-0001", "price=99"], "变基（rebase）", "git rebase --abort")
    refused(cli, shop, ["move", "SKU-0001", "shooting"], "变基（rebase）")


def test_cherry_pick_in_progress_is_refused(shop, cli):
    (shop / "CHERRY_PICK_HEAD").write_text("", "utf-8")  # a decoy in the work tree is not git state
    (shop / ".git" / "CHERRY_PICK_HEAD").write_text(git(shop, "rev-parse", "HEAD") + "\n", "utf-8")
    refused(cli, shop, ["set", "SKU-0001", "price=99"], "cherry-pick", "--abort")


def test_detached_head_is_refused_and_says_how_to_get_back(shop, cli):
    git(shop, "checkout", "-q", "--detach")
    refused(cli, shop, ["set", "SKU-0001", "price=99"], "HEAD 处于分离状态", "git switch main")
    git(shop, "switch", "-q", "main")
    assert cli("set", "SKU-0001", "price=99").exit_code == 0


def test_index_lock_left_by_a_crashed_git(shop, cli, monkeypatch):
    monkeypatch.setattr(git_changes, "INDEX_LOCK_WAIT", 0.1)
    lock = shop / ".git" / "index.lock"
    lock.write_bytes(b"")
    out = refused(cli, shop, ["move", "SKU-0001", "shooting"], "索引被锁住", "删除这个文件后重试")
    assert str(lock) in out
    lock.unlink()
    result = cli("move", "SKU-0001", "shooting")
    assert result.exit_code == 0, result.output
    assert git(shop, "status", "--porcelain") == ""


def test_index_lock_left_by_a_crashed_git_subprocess(shop, cli):
    (shop / ".git" / "index.lock").write_bytes(b"")
    refused(cli, shop, ["set", "SKU-0001", "price=1"], "index.lock", proc=True)


# --- identity ----------------------------------------------------------------------------

@pytest.fixture
def nobody(tmp_path, monkeypatch):
    """No git identity anywhere: an empty global config."""
    empty = tmp_path / "empty.gitconfig"
    empty.write_text("[init]\n\tdefaultBranch = main\n", "utf-8")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))
    for var in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL"):
        monkeypatch.delenv(var, raising=False)
    return empty


@pytest.mark.parametrize("proc", [False, True], ids=["clirunner", "subprocess"])
def test_no_identity_and_no_as_is_refused_before_anything_is_written(shop, cli, nobody, proc):
    refused(cli, shop, ["set", "SKU-0001", "price=99"], "git 不知道你是谁", "--as", proc=proc)
    refused(cli, shop, ["new", "sku", "新品", "--owner", "wangli"], "git config --global user.name", proc=proc)


def test_no_identity_with_as_commits_as_that_person(shop, cli, nobody):
    result = cli("--as", "zhaomin", "set", "SKU-0001", "price=99")
    assert result.exit_code == 0, result.output
    assert git(shop, "log", "-1", "--format=%an <%ae>|%cn <%ce>") == \
        "赵敏 <zhaomin@example.com>|赵敏 <zhaomin@example.com>"
    assert git(shop, "status", "--porcelain") == ""


# --- git refuses the commit itself ----------------------------------------------------------

def test_a_failing_commit_puts_the_card_back(shop, cli):
    """Signing switched on with a broken signer: git commit fails after the file was written.
    (The signer is the user's own: one in the repository's config is refused before writing.)"""
    git(shop, "config", "commit.gpgsign", "true")
    git(shop, "config", "--global", "gpg.program", "false")
    for args in (["set", "SKU-0001", "price=99"], ["move", "SKU-0001", "shooting"], ["new", "sku", "新品", "--owner", "wangli"]):
        refused(cli, shop, args, "git commit", "失败：error: gpg failed to sign the data")
    git(shop, "config", "commit.gpgsign", "false")
    assert cli("move", "SKU-0001", "shooting").exit_code == 0
    assert git(shop, "status", "--porcelain") == ""


def test_an_interrupted_change_waits_for_the_merge_to_end(shop, cli, monkeypatch):
    """A journal left by a killed command is finished only when committing is safe again."""
    from mdboard.core.store import Board

    board = Board(shop)
    change = git_changes.Change({CARD: (shop / CARD).read_text("utf-8").replace("owner: wangli", "owner: zhaomin")},
                           "assign SKU-0001: owner=zhaomin", [("Card", "SKU-0001")], ("王丽", "wangli@example.com"))
    journal = board.state_dir / "journal.json"
    import json

    journal.write_text(json.dumps({"change": change.to_json(), "commit": True}, ensure_ascii=False), "utf-8")
    _conflict(shop, rebase=False)
    out = refused(cli, shop, ["set", "SKU-0001", "price=5"], "上一次被中断的修改「assign SKU-0001: owner=zhaomin」",
                  "仓库正在合并")
    assert journal.exists()
    git(shop, "merge", "--abort")
    result = cli("set", "SKU-0001", "price=5")
    assert result.exit_code == 0, result.output
    assert not journal.exists()
    assert git(shop, "log", "-2", "--format=%s") == "set SKU-0001: price=5\nassign SKU-0001: owner=zhaomin"
    assert git(shop, "status", "--porcelain") == ""


# --- no repository at all ----------------------------------------------------------------

@pytest.mark.parametrize("proc", [False, True], ids=["clirunner", "subprocess"])
def test_outside_a_repository_commands_work_and_say_nothing_was_committed(shop, cli, proc):
    shutil.rmtree(shop / ".git")
    run = (lambda *a: cli.proc(*a)) if proc else cli
    for args in (["set", "SKU-0001", "price=99"], ["move", "SKU-0001", "shooting"],
                 ["new", "sku", "新品", "--owner", "wangli"], ["assign", "SKU-0002", "zhaomin"]):
        result = run(*args)
        code = result.returncode if proc else result.exit_code
        out = (result.stdout + result.stderr) if proc else result.output
        assert code == 0, out
        assert "看板不在 git 仓库中，修改没有提交" in out
        assert "Traceback" not in out
    assert "price: 99" in (shop / "sku/shooting/SKU-0001.md").read_text("utf-8")
    assert "owner: zhaomin" in (shop / "sku/planning/SKU-0002.md").read_text("utf-8")
    assert not (shop / ".git").exists()
    assert not (shop / ".mdboard").exists()  # private files stay out of the board folder
    assert not list(Path.home().glob(".cache/mdboard/*/journal.json"))
    check = run("check")
    assert (check.returncode if proc else check.exit_code) == 0


def test_commit_switched_off_in_config_says_nothing(shop, cli):
    cfg = shop / "mdboard.yaml"
    cfg.write_text(cfg.read_text("utf-8").replace("timezone: Asia/Shanghai", "timezone: Asia/Shanghai\ncommit: false"), "utf-8")
    git(shop, "commit", "-qam", "commits off")
    result = cli("set", "SKU-0001", "price=5")
    assert result.exit_code == 0 and "没有提交" not in result.output
    assert git(shop, "status", "--porcelain") == "M " + CARD  # changed, not committed (git() strips)


def test_a_blocked_private_folder_is_a_message_not_a_traceback(shop, cli):
    """`.git/mdboard` is a file (or the disk is full, or the folder read-only): an OSError, shown in one line."""
    import shutil as sh

    sh.rmtree(shop / ".git" / "mdboard")
    (shop / ".git" / "mdboard").write_text("", "utf-8")
    out = refused(cli, shop, ["set", "SKU-0001", "price=99"], "无法读写", ".git/mdboard", "检查磁盘空间和文件夹权限")
    assert len(out.strip().splitlines()) == 1
    refused(cli, shop, ["set", "SKU-0001", "price=99"], "无法读写", proc=True)
