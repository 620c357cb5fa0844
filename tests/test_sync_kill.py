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
from test_sync import cards, ok, shared, shared_template, team  # noqa: F401  (fixtures: a remote and two clones)

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


def colliding(shared) -> None:
    """Both clones create a card offline (both get SKU-0003) and edit SKU-0001 on neighbouring
    lines; a syncs first."""
    a, b = shared.clones["a"], shared.clones["b"]
    ok(a("new", "sku", "王丽的新品", "--owner", "wangli"))
    ok(a("set", "SKU-0001", "price=99"))
    ok(b("new", "sku", "赵敏的新品", "--owner", "zhaomin"))
    ok(b("set", "SKU-0001", "category=女装"))
    ok(a("sync"))


def assert_both_cards_kept(shared) -> None:
    """After `colliding` and b's syncs: each card once, with its own content and history."""
    for cli in shared.clones.values():
        assert {k: v[1] for k, v in cards(cli.root).items()} == {
            "SKU-0001": "连衣裙", "SKU-0002": "T恤", "SKU-0003": "王丽的新品", "SKU-0004": "赵敏的新品"}
        board = Board(cli.root)
        assert (board.get("SKU-0003").meta["owner"], board.get("SKU-0004").meta["owner"]) == ("wangli", "zhaomin")
        assert (board.get("SKU-0001").meta["price"], board.get("SKU-0001").meta["category"]) == (99, "女装")
        assert story(cli.root, "SKU-0003") == ["王丽 新建了 SKU-0003「王丽的新品」"]
        assert story(cli.root, "SKU-0004")[0] == "赵敏 新建了 SKU-0004「赵敏的新品」（当时编号 SKU-0003）"
        assert not (board.state_dir / JOURNAL).exists()
    log = git(shared.remote, "log", "--format=%s")
    assert log.count("new SKU-0003") == 2 and log.count("renumber SKU-0003 → SKU-0004") == 1
    git(shared.remote, "fsck", "--no-progress")


def rebasing(shared) -> None:
    """Both clones edit SKU-0001 on neighbouring lines, b also moves SKU-0002; a syncs first."""
    a, b = shared.clones["a"], shared.clones["b"]
    ok(a("set", "SKU-0001", "price=99"))
    ok(b("set", "SKU-0001", "category=女装"))
    ok(b("move", "SKU-0002", "shooting"))
    ok(a("sync"))


def assert_rebased(shared) -> None:
    """After `rebasing` and b's syncs: both edits and the move, in a straight history."""
    for cli in shared.clones.values():
        board = Board(cli.root)
        assert (board.get("SKU-0001").meta["price"], board.get("SKU-0001").meta["category"]) == (99, "女装")
        assert board.get("SKU-0002").state == "shooting"
        assert git(cli.root, "rev-list", "--merges", "HEAD") == ""


@pytest.mark.parametrize("step,sig", KILLS, ids=[f"{s}-{g}" for s, g in KILLS])
def test_a_colliding_sync_stopped_at_any_step_is_finished_by_the_next(shared, step, sig):
    b = shared.clones["b"]
    colliding(shared)
    stop_b_at(shared, step, sig)
    if sig != "KILL":  # Ctrl-C and friends: sync put the clone back (or had finished) before ending
        assert not (b.root / ".git/MERGE_HEAD").exists() and not (b.root / ".git/rebase-merge").exists()
        assert git(b.root, "status", "--porcelain") == ""
    out = ok(b("sync")).output
    assert "错误" not in out and "--ours" not in out
    shared.settle()
    assert_both_cards_kept(shared)


@pytest.mark.parametrize("step", ["merging", "resolved"])
def test_a_rebase_stopped_half_way_is_finished_by_the_next_sync(shared, step):
    b = shared.clones["b"]
    rebasing(shared)
    stop_b_at(shared, step, "KILL")
    assert (b.root / ".git/rebase-merge").exists()  # the half-done rebase that the next sync undoes
    ok(b("sync"))
    shared.settle()
    assert_rebased(shared)


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


# --- stopped while git itself works (the signal reaches git and mdboard together) ----------------

WRAPPER = """#!/bin/sh
# git for the kill tests: after the chosen git command has run, signal the whole process
# group (mdboard and its git), as Ctrl-C in a terminal or a killed session does.
sub=""; skip=0
for a in "$@"; do
  if [ "$skip" = 1 ]; then skip=0; continue; fi
  case "$a" in -c) skip=1;; -*) ;; *) sub="$a"; break;; esac
done
"{git}" "$@"
status=$?
if [ "$sub" = "$STOP_SUB" ]; then
  echo x >> "$STOP_COUNT"
  if [ "$(wc -l < "$STOP_COUNT")" -eq "$STOP_NTH" ]; then kill -"$STOP_SIG" 0; sleep 5; fi
fi
exit $status
"""


def stop_b_in_git(shared, sub: str, nth: int, sig: str) -> subprocess.CompletedProcess:
    """b's sync as a real process in a session of its own, stopped (with its git) just after
    its `nth` `git sub` finished, before mdboard saw the outcome."""
    import os
    import shutil
    import sys
    from pathlib import Path

    b = shared.clones["b"]
    bin_dir = shared.tmp / "stop-bin"
    bin_dir.mkdir(exist_ok=True)
    wrapper = bin_dir / "git"
    wrapper.write_text(WRAPPER.replace("{git}", shutil.which("git")), "utf-8")
    wrapper.chmod(0o755)
    count = shared.tmp / f"stop-count-{sub}-{nth}-{sig}"
    count.write_text("", "utf-8")
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "STOP_SUB": sub,
           "STOP_NTH": str(nth), "STOP_SIG": sig, "STOP_COUNT": str(count)}
    exe = Path(sys.executable).with_name("mdboard")
    proc = subprocess.run([str(exe), "sync"], cwd=b.root, capture_output=True, text=True, env=env,
                          start_new_session=True, timeout=120)
    assert count.read_text("utf-8").count("x") >= nth, (sub, nth, proc.stdout, proc.stderr)  # it did stop there
    if sig == "KILL":
        assert proc.returncode == -9, (proc.stdout, proc.stderr)
    else:
        assert proc.returncode == 1 and "同步被中断了" in proc.stderr, (proc.stdout, proc.stderr)
    return proc


# (git command, which time it runs) in a colliding sync: the renumbering's staging and commit
# (its index, then the branch moved: mdboard.git.commit writes the trees and the commit object
# itself, between the two, so a stop there leaves what a stop after update-index leaves: objects
# nothing points to), the merge that stops on SKU-0001, sync's staging of the merged card, the
# merge commit, the push
GIT_STEPS = [("fetch", 1), ("update-index", 1), ("update-ref", 1), ("merge", 1),
             ("update-index", 2), ("commit", 1), ("push", 1)]
GIT_KILLS = [(s, n, "KILL") for s, n in GIT_STEPS] + [(s, n, "INT") for s, n in GIT_STEPS]


@pytest.mark.parametrize("sub,nth,sig", GIT_KILLS, ids=[f"{s}{n}-{g}" for s, n, g in GIT_KILLS])
def test_a_colliding_sync_stopped_inside_git_is_finished_by_the_next(shared, sub, nth, sig):
    colliding(shared)
    stop_b_in_git(shared, sub, nth, sig)
    out = ok(shared.clones["b"]("sync")).output
    assert "错误" not in out and "--ours" not in out
    shared.settle()
    assert_both_cards_kept(shared)


REBASE_STEPS = [("rebase", 1), ("update-index", 1), ("rebase", 2), ("push", 1)]


@pytest.mark.parametrize("sub,nth", REBASE_STEPS, ids=[f"{s}{n}" for s, n in REBASE_STEPS])
def test_a_rebasing_sync_killed_inside_git_is_finished_by_the_next(shared, sub, nth):
    rebasing(shared)
    stop_b_in_git(shared, sub, nth, "KILL")
    ok(shared.clones["b"]("sync"))
    shared.settle()
    assert_rebased(shared)


# --- between the interrupted sync and the next one ------------------------------------------------

UNFINISHED = ("错误：上一次 mdboard sync 被中断了，还没有做完。请先运行 mdboard sync，它会接着完成"
              "（你的工作都还在本机，没有丢失）；然后再做这件事。\n")


@pytest.mark.parametrize("collide", [True, False], ids=["merge", "rebase"])
def test_a_change_made_while_a_killed_sync_is_half_done_is_refused_with_what_to_run(shared, collide):
    """The killed sync left git's merge (or rebase) in the middle: a command that changes a card
    says to run `mdboard sync` (not git's merge --abort), and works once sync has finished."""
    a, b = shared.clones["a"], shared.clones["b"]
    ok(a("set", "SKU-0001", "price=99"))
    ok(b("set", "SKU-0001", "category=女装"))
    if collide:
        ok(a("new", "sku", "王丽的新品", "--owner", "wangli"))
        ok(b("new", "sku", "赵敏的新品", "--owner", "zhaomin"))
    ok(a("sync"))
    stop_b_at(shared, "merging", "KILL")
    assert (b.root / ".git" / ("MERGE_HEAD" if collide else "rebase-merge")).exists()
    refused = b("move", "SKU-0002", "shooting")
    assert (refused.exit_code, refused.output) == (1, UNFINISHED)
    ok(b("sync"))
    ok(b("move", "SKU-0002", "shooting"))
    shared.settle()
    meta = Board(a.root).get("SKU-0001").meta
    assert (meta["price"], meta["category"], Board(a.root).get("SKU-0002").state) == (99, "女装", "shooting")


def test_check_during_a_killed_sync_says_to_run_sync_not_to_edit_the_markers(shared):
    """git's conflict markers that a killed sync left in a card are not the user's to clean
    up: `check` names them and says to run `mdboard sync`, which puts the card back and merges."""
    b = shared.clones["b"]
    colliding(shared)
    stop_b_at(shared, "merging", "KILL")
    text = (b.root / "sku/planning/SKU-0001.md").read_text("utf-8")
    assert "<<<<<<<" in text, text
    check = b("check")
    assert check.exit_code == 1
    assert ("sku/planning/SKU-0001.md: 文件里留有合并冲突标记" in check.output
            and "（这是上一次被中断的 mdboard sync 留下的，不用手改：运行 mdboard sync，它会接着完成）" in check.output
            and "删掉 <<<<<<<" not in check.output), check.output
    ok(b("sync"))
    ok(b("check"))
    shared.settle()
    assert_both_cards_kept(shared)


def test_work_done_after_an_interrupted_renumbering_and_a_second_collision_keep_each_story(shared):
    """b's sync is killed just after renumbering SKU-0003 to SKU-0004 (that commit stays). b goes
    on working with the new ID; meanwhile a creates another card, which takes SKU-0004 on the
    remote. b's next sync renumbers again: each card has its own content and its own history,
    on every clone, in `history` and in the overview's 最近变更."""
    import re

    a, b = shared.clones["a"], shared.clones["b"]
    ok(a("new", "sku", "王丽的新品", "--owner", "wangli"))
    ok(b("new", "sku", "赵敏的新品", "--owner", "zhaomin"))
    ok(a("sync"))
    stop_b_at(shared, "renumbered", "KILL")
    ok(b("move", "SKU-0004", "shooting"))
    ok(b("new", "sku", "赵敏的第二款", "--owner", "zhaomin"))
    ok(a("new", "sku", "王丽的第二款", "--owner", "wangli"))
    ok(a("sync"))
    out = ok(b("sync")).output
    assert "你新建的卡片 SKU-0004 改号为 SKU-0006" in out and "SKU-0005 改号" not in out
    shared.settle()

    for cli in shared.clones.values():
        assert cards(cli.root) == {
            "SKU-0001": ("planning", "连衣裙"), "SKU-0002": ("planning", "T恤"),
            "SKU-0003": ("planning", "王丽的新品"), "SKU-0004": ("planning", "王丽的第二款"),
            "SKU-0005": ("planning", "赵敏的第二款"), "SKU-0006": ("shooting", "赵敏的新品")}
        assert story(cli.root, "SKU-0003") == ["王丽 新建了 SKU-0003「王丽的新品」"]
        assert story(cli.root, "SKU-0004") == ["王丽 新建了 SKU-0004「王丽的第二款」"]
        assert story(cli.root, "SKU-0006") == [
            "赵敏 新建了 SKU-0006「赵敏的新品」（当时编号 SKU-0003）",
            "赵敏 把 SKU-0003 重新编号为 SKU-0004",
            "赵敏 把 SKU-0006 从「规划中」移到「拍摄中」（当时编号 SKU-0004）",
            "赵敏 把 SKU-0004 重新编号为 SKU-0006"]
        assert story(cli.root, "SKU-0005") == ["赵敏 新建了 SKU-0005「赵敏的第二款」"]

    ok(a("build"))
    page = (a.root / "_site/index.html").read_text("utf-8")
    recent = page[page.index('id="recent-h"'):]
    links = re.findall(r'<a href="cards/([^"]+)\.html"><span class="card-id">[^<]+</span></a> ([^<]+)</li>', recent)
    created = {card: text for card, text in links if "新建了" in text}
    assert created == {"SKU-0003": "王丽 新建了 SKU-0003「王丽的新品」",
                       "SKU-0004": "王丽 新建了 SKU-0004「王丽的第二款」",
                       "SKU-0006": "赵敏 新建了 SKU-0006「赵敏的新品」（当时编号 SKU-0003）",
                       "SKU-0005": "赵敏 新建了 SKU-0005「赵敏的第二款」",
                       "SKU-0001": "王丽 新建了 SKU-0001「连衣裙」", "SKU-0002": "王丽 新建了 SKU-0002「T恤」"}


@pytest.mark.parametrize("side", ["ours", "theirs"])
def test_after_an_interrupted_renumbering_only_a_real_clash_is_named_and_a_pick_keeps_both_cards(shared, side):
    """Issue 13.1 as it was found: b's sync is killed after renumbering; before b syncs again,
    the two sides set one price two ways. The next sync stops on the price of SKU-0001 only (the
    two new cards are not one card edited two ways), and picking a side keeps both new cards."""
    a, b = shared.clones["a"], shared.clones["b"]
    ok(a("new", "sku", "王丽的新品", "--owner", "wangli"))
    ok(b("new", "sku", "赵敏的新品", "--owner", "zhaomin"))
    ok(a("sync"))
    stop_b_at(shared, "renumbered", "KILL")
    ok(a("set", "SKU-0001", "price=99"))
    ok(a("sync"))
    ok(b("set", "SKU-0001", "price=109"))
    stopped = b("sync")
    assert stopped.exit_code == 1
    assert "SKU-0001 连衣裙：字段" in stopped.output and "SKU-0003" not in stopped.output
    assert "mdboard sync --ours SKU-0001 " in stopped.output
    ok(b("sync", f"--{side}", "SKU-0001"))
    shared.settle()
    for cli in shared.clones.values():
        assert {k: v[1] for k, v in cards(cli.root).items()} == {
            "SKU-0001": "连衣裙", "SKU-0002": "T恤", "SKU-0003": "王丽的新品", "SKU-0004": "赵敏的新品"}
        assert Board(cli.root).get("SKU-0001").meta["price"] == (109 if side == "ours" else 99)
        assert story(cli.root, "SKU-0004")[0] == "赵敏 新建了 SKU-0004「赵敏的新品」（当时编号 SKU-0003）"
