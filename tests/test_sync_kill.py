"""An interrupted `mdboard sync` is finished by the next one (issue 13, fault 1).

Two clones and a bare remote. Both clones create a card offline and get the same ID,
and both edit one shared card (neighbouring lines, so git stops and sync merges it
field by field). Clone b's sync, a real `mdboard` process, is stopped at each step
with SIGKILL, Ctrl-C (SIGINT), SIGTERM or SIGHUP: the variable MDBOARD_TEST_SYNC_STOP
makes sync send itself the signal at that step. Then b runs `mdboard sync` again, and
in the end both cards exist once on the remote with their own content and history,
nothing anyone did is lost, and `check` is clean on every clone.
"""

from __future__ import annotations

import subprocess

import pytest

from conftest import git
from mdboard.git.history import describe, load_history
from mdboard.core.store import Board
from mdboard.git.sync import JOURNAL, STOP_VARIABLE
from test_sync import cards, ok, shared, team  # noqa: F401  (fixtures: a remote and two clones)

STEPS = ["fetched", "renumbered", "merging", "resolved", "integrated", "pushed"]
KILLS = [(step, "KILL") for step in STEPS] + [(step, "INT") for step in STEPS] + [
    ("renumbered", "TERM"), ("merging", "TERM"), ("resolved", "HUP")]


def story(root, card_id: str) -> list[str]:
    board = Board.open(str(root))
    return [describe(e, board) for e in load_history(board).for_card(card_id)]


def stop_b_at(shared, step: str, sig: str, *args: str):
    """b's sync as a real process, stopped at `step` with `sig`; returns the finished process."""
    b = shared.clones["b"]
    proc = b.proc("sync", *args, env={STOP_VARIABLE: f"{step}:{sig}"})
    if sig == "KILL":
        assert proc.returncode == -9, (proc.stdout, proc.stderr)
    else:
        assert proc.returncode == 1, (proc.stdout, proc.stderr)
        assert proc.stderr == ("错误：同步被中断了。你的工作都还在本机，没有丢失任何内容；"
                               "再运行一次 mdboard sync，它会接着完成。\n")
    return proc


@pytest.mark.parametrize("step,sig", KILLS, ids=[f"{s}-{g}" for s, g in KILLS])
def test_a_colliding_sync_stopped_at_any_step_is_finished_by_the_next(shared, step, sig):
    a, b = shared.clones["a"], shared.clones["b"]
    ok(a("new", "sku", "王丽的新品", "--owner", "wangli"))
    ok(a("set", "SKU-0001", "price=99"))
    ok(b("new", "sku", "赵敏的新品", "--owner", "zhaomin"))
    ok(b("set", "SKU-0001", "category=女装"))
    ok(a("sync"))

    stop_b_at(shared, step, sig)
    if sig != "KILL":  # Ctrl-C and friends: sync put the clone back (or had finished) before ending
        assert not (b.root / ".git/MERGE_HEAD").exists() and not (b.root / ".git/rebase-merge").exists()
        assert git(b.root, "status", "--porcelain") == ""
    out = ok(b("sync")).output
    assert "错误" not in out and "--ours" not in out
    shared.settle()

    for cli in shared.clones.values():
        assert {k: v[1] for k, v in cards(cli.root).items()} == {
            "SKU-0001": "连衣裙", "SKU-0002": "T恤", "SKU-0003": "王丽的新品", "SKU-0004": "赵敏的新品"}
        board = Board(cli.root)
        assert (board.get("SKU-0003").meta["owner"], board.get("SKU-0004").meta["owner"]) == ("wangli", "zhaomin")
        assert (board.get("SKU-0001").meta["price"], board.get("SKU-0001").meta["category"]) == (99, "女装")
        assert story(cli.root, "SKU-0003") == ["王丽 新建了 SKU-0003「王丽的新品」"]
        assert story(cli.root, "SKU-0004")[0] == "赵敏 新建了 SKU-0004「赵敏的新品」（当时编号 SKU-0003）"
        assert not (Board(cli.root).state_dir / JOURNAL).exists()
    log = git(shared.remote, "log", "--format=%s")
    assert log.count("new SKU-0003") == 2 and log.count("renumber SKU-0003 → SKU-0004") == 1
    git(shared.remote, "fsck", "--no-progress")


@pytest.mark.parametrize("step", ["merging", "resolved"])
def test_a_rebase_stopped_half_way_is_finished_by_the_next_sync(shared, step):
    a, b = shared.clones["a"], shared.clones["b"]
    ok(a("set", "SKU-0001", "price=99"))
    ok(b("set", "SKU-0001", "category=女装"))
    ok(b("move", "SKU-0002", "shooting"))
    ok(a("sync"))
    stop_b_at(shared, step, "KILL")
    assert (b.root / ".git/rebase-merge").exists()  # the half-done rebase that the next sync undoes
    ok(b("sync"))
    shared.settle()
    for cli in shared.clones.values():
        board = Board(cli.root)
        assert (board.get("SKU-0001").meta["price"], board.get("SKU-0001").meta["category"]) == (99, "女装")
        assert board.get("SKU-0002").state == "shooting"
        assert git(cli.root, "rev-list", "--merges", "HEAD") == ""


def test_files_a_killed_git_left_from_the_remote_are_put_back(shared):
    """git killed while writing the remote's files (Ctrl-C reaches it too) leaves them behind,
    unknown to git; the next sync recognises them as the remote's and starts clean."""
    a, b = shared.clones["a"], shared.clones["b"]
    ok(a("move", "SKU-0001", "shooting"))
    ok(a("sync"))
    ok(b("move", "SKU-0002", "content"))
    stop_b_at(shared, "fetched", "KILL")
    tip = git(b.root, "rev-parse", "origin/main")
    (b.root / "sku/shooting").mkdir(exist_ok=True)
    theirs = subprocess.run(["git", "cat-file", "blob", f"{tip}:sku/shooting/SKU-0001.md"], cwd=b.root,
                            capture_output=True, check=True).stdout
    (b.root / "sku/shooting/SKU-0001.md").write_bytes(theirs)
    (b.root / "sku/planning/SKU-0001.md").unlink()
    ok(b("sync"))
    shared.settle()
    assert cards(a.root) == {"SKU-0001": ("shooting", "连衣裙"), "SKU-0002": ("content", "T恤")}


@pytest.mark.parametrize("side", ["theirs", "ours"])
def test_a_sync_stopped_after_making_the_picked_side_a_commit_is_finished_by_the_next(shared, side):
    a, b = shared.clones["a"], shared.clones["b"]
    ok(a("move", "SKU-0001", "shooting"))
    ok(a("new", "sku", "王丽的新品", "--owner", "wangli"))
    ok(b("move", "SKU-0001", "content"))
    ok(b("new", "sku", "赵敏的新品", "--owner", "zhaomin"))
    ok(a("sync"))
    stop_b_at(shared, "picked", "KILL", f"--{side}", "SKU-0001")
    ok(b("sync", f"--{side}", "SKU-0001"))
    shared.settle()
    state = "shooting" if side == "theirs" else "content"
    for cli in shared.clones.values():
        assert cards(cli.root) == {"SKU-0001": (state, "连衣裙"), "SKU-0002": ("planning", "T恤"),
                                   "SKU-0003": ("planning", "王丽的新品"), "SKU-0004": ("planning", "赵敏的新品")}
        events = load_history(Board.open(str(cli.root))).for_card("SKU-0001")
        assert [e.to_state for e in events if e.action in ("created", "moved")][-1] == state


def test_a_git_lock_left_by_the_interrupted_sync_is_explained_first(shared):
    a, b = shared.clones["a"], shared.clones["b"]
    ok(a("set", "SKU-0001", "price=99"))
    ok(b("set", "SKU-0001", "category=女装"))
    ok(a("sync"))
    stop_b_at(shared, "merging", "KILL")
    lock = b.root / ".git/index.lock"
    lock.write_text("", "utf-8")
    refused = b("sync")
    assert refused.exit_code == 1
    assert refused.output.startswith(f"错误：git 的索引被锁住（{lock}）")
    lock.unlink()
    ok(b("sync"))
    shared.settle()
    meta = Board(a.root).get("SKU-0001").meta
    assert (meta["price"], meta["category"]) == (99, "女装")


def test_a_file_of_the_users_that_git_does_not_track_is_never_taken_away(shared):
    """Even when it holds exactly what the remote has: only cards can be a killed git's leftovers."""
    a, b = shared.clones["a"], shared.clones["b"]
    (a.root / "备忘.txt").write_text("周五盘点\n", "utf-8")
    git(a.root, "add", "备忘.txt")
    git(a.root, "commit", "-qm", "备忘")
    ok(a("sync"))
    ok(b("move", "SKU-0002", "shooting"))
    (b.root / "备忘.txt").write_text("周五盘点\n", "utf-8")
    stopped = b("sync")
    assert stopped.exit_code == 1 and "备忘.txt" in stopped.output
    assert (b.root / "备忘.txt").read_text("utf-8") == "周五盘点\n"
