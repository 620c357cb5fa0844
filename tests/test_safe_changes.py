"""Issue 13 items 5, 12 and 15: no change overwrites a file it did not mean to, a roster
name never becomes part of a commit's address, and git's leftovers and a full disk get
a message a shop's staff can act on.
"""

from __future__ import annotations

import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import git
from mdboard.core.errors import GitError, MdboardError
from mdboard.core.store import Board
from mdboard.git import changes as git_changes

SKU = "sku/planning/SKU-0001.md"


@pytest.fixture
def shop(board, cli):
    assert cli("new", "sku", "蓝牙耳机", "--owner", "wangli").exit_code == 0
    return board


def snapshot(root: Path) -> dict:
    return {"head": git(root, "rev-parse", "HEAD"), "status": git(root, "status", "--porcelain"),
            "files": {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.glob("*/*/*.md"))}}


# --- item 5: a duplicate ID is never overwritten --------------------------------------------------

@pytest.fixture
def duplicate(shop):
    """SKU-0001 twice: the card in 规划中 and a different card with the same ID in 拍摄中, both committed."""
    other = shop / "sku/shooting/SKU-0001.md"
    other.parent.mkdir(exist_ok=True)
    other.write_text((shop / SKU).read_text("utf-8").replace("蓝牙耳机", "另一张卡"), "utf-8")
    git(shop, "add", "-A")
    git(shop, "commit", "-qm", "a second SKU-0001 by hand")
    return shop


@pytest.mark.parametrize("args", [["move", "SKU-0001", "shooting", "--force", "--reason", "老板要求"],
                                  ["move", "SKU-0001", "content"], ["set", "SKU-0001", "price=1"]])
def test_a_card_whose_id_is_duplicated_is_not_changed(duplicate, cli, args):
    before = snapshot(duplicate)
    result = cli(*args)
    assert result.exit_code == 1, result.output
    assert result.output == ("错误：编号 SKU-0001 有多个文件：sku/planning/SKU-0001.md, sku/shooting/SKU-0001.md，"
                             "不知道该改哪一个，没有做任何修改（同一编号只能有一张卡片：把其中一个文件改成新编号或删除，"
                             "再运行 mdboard check）\n")
    assert snapshot(duplicate) == before


def test_no_change_replaces_a_file_already_where_it_means_to_create_one(shop):
    """The guard under every op: a rename or a new file onto an existing path is refused."""
    board = Board(shop)
    target = shop / "sku/shooting/SKU-0001.md"
    target.parent.mkdir(exist_ok=True)
    target.write_text("someone's file\n", "utf-8")
    before = snapshot(shop)
    text = (shop / SKU).read_text("utf-8")
    for change in (git_changes.Change({SKU: None, "sku/shooting/SKU-0001.md": text}, "move", renames={
                       "sku/shooting/SKU-0001.md": SKU}),
                   git_changes.Change({"sku/shooting/SKU-0001.md": text}, "new", creates=["sku/shooting/SKU-0001.md"])):
        with git_changes.board_lock(board), pytest.raises(MdboardError) as caught:
            git_changes.apply_change(board, change)
        assert str(caught.value).startswith("sku/shooting/SKU-0001.md 已经有一个文件，没有覆盖它")
        assert snapshot(shop) == before
    assert target.read_text("utf-8") == "someone's file\n"


# --- item 12: the author's identity -----------------------------------------------------------------

def roster_name(root: Path, old: str, new: str) -> None:
    cfg = root / "mdboard.yaml"
    cfg.write_text(cfg.read_text("utf-8").replace(old, new), "utf-8")
    git(root, "commit", "-qam", "roster")


@pytest.mark.parametrize("name,shown", [
    ('"王丽 <boss@evil.example>"', "王丽 boss@evil.example"),
    ('"王丽\\n<boss@evil.example>"', "王丽 boss@evil.example"),
    ('"<王丽>"', "王丽"),
])
@pytest.mark.parametrize("how", [["--as", "wangli"], []], ids=["as", "git-user"])
def test_a_roster_name_never_becomes_the_commit_address(shop, cli, name, shown, how):
    roster_name(shop, "name: 王丽", f"name: {name}")
    result = cli(*how, "set", "SKU-0001", "price=99")
    assert result.exit_code == 0, result.output
    assert git(shop, "log", "-1", "--format=%an%n%ae") == f"{shown}\nwangli@example.com"


def test_an_address_git_cannot_take_is_refused_before_anything_is_written(shop, cli):
    roster_name(shop, "zhaomin@example.com", "zhaomin@example.com> <boss@evil.example")
    before = snapshot(shop)
    result = cli("--as", "zhaomin", "set", "SKU-0001", "price=99")
    assert result.exit_code == 1
    assert result.output == ("错误：「赵敏」的邮箱「zhaomin@example.com boss@evil.example」含有 git 不接受的字符（<、>、"
                             "空格或换行），不能用它提交。请在 mdboard.yaml 的 people 里改正这个邮箱\n")
    assert snapshot(shop) == before


# --- item 15: git's leftovers and a full disk ----------------------------------------------------------

@pytest.mark.parametrize("lock", ["HEAD.lock", "refs/heads/main.lock", "packed-refs.lock"])
def test_a_lock_left_by_a_killed_git_is_explained(shop, cli, monkeypatch, lock):
    monkeypatch.setattr(git_changes, "INDEX_LOCK_WAIT", 0.1)
    path = shop / ".git" / lock
    path.write_bytes(b"")
    before = snapshot(shop)
    result = cli("move", "SKU-0001", "shooting")
    assert result.exit_code == 1
    assert result.output == (f"错误：git 的锁文件还在（{path}），可能是上一次 git 命令被中断后留下的。"
                             "如果没有其他 git 命令在运行，删除这个文件后重试\n")
    assert snapshot(shop) == before
    path.unlink()
    assert cli("move", "SKU-0001", "shooting").exit_code == 0


def test_a_lock_met_by_any_git_command_reads_the_same(shop):
    lock = shop / ".git" / "refs" / "heads" / "other.lock"
    lock.write_bytes(b"")
    with pytest.raises(GitError) as caught:
        git_changes.GitRepo(shop).run("branch", "other")
    assert str(caught.value) == (f"git 的锁文件还在（{lock}），可能是上一次 git 命令被中断后留下的。"
                                 "如果没有其他 git 命令在运行，删除这个文件后重试")


def _small_files(limit: int):
    def apply():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    return apply


def test_a_write_that_fails_for_lack_of_room_names_the_file(shop, cli):
    """The disk is full (here: files may not grow past 300 bytes): the message names what was being written."""
    exe = str(Path(sys.executable).with_name("mdboard"))
    before = snapshot(shop)
    proc = subprocess.run([exe, "set", "SKU-0001", "category=" + "耳机" * 100], cwd=shop, capture_output=True,
                          text=True, preexec_fn=_small_files(300))
    assert proc.returncode == 1, proc.stderr
    journal = shop / ".git" / "mdboard" / "journal.json"
    assert proc.stderr == (f"错误：无法读写 {journal}：File too large（检查磁盘空间和文件夹权限；"
                           "已写入的修改会在下一条命令时补完）\n")
    assert snapshot(shop) == before
    assert cli("set", "SKU-0001", "category=耳机").exit_code == 0


def test_an_error_with_no_file_name_never_shows_an_empty_path(shop, cli, monkeypatch):
    import errno

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(git_changes, "recover", full)
    result = cli("set", "SKU-0001", "price=5")
    assert result.output == "错误：无法写入文件：No space left on device（检查磁盘空间和文件夹权限；已写入的修改会在下一条命令时补完）\n"
