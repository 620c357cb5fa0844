"""Issue 9: killing mdboard at any moment loses nothing and leaves nothing half done.

Two complementary tests:

* **Random kills.** 200 real `mdboard new / set / move / import csv --apply` processes
  are killed with SIGKILL after a random delay, four boards in parallel (`pytest -m slow`;
  the default run kills 40, with the same seeds). After each
  kill the board is checked *before* anything repairs it (`check` finds no
  half-written card), then the next command takes the lock and replays the journal,
  and then the work tree is clean and the operation is either absent (HEAD did not
  move) or complete (exactly one new commit, with the operation's subject and
  exactly its files). `git fsck` passes at the end.
* **Every crash point, deterministically.** The same commands run in a Python
  process that SIGKILLs itself at each step of `apply_change` (before the journal,
  after it, half-way through writing the card, after the files, after `git add`,
  after `git commit`), so each window is proven on every run, not only when the
  random delay happens to hit it.

Only the mdboard process is killed; a git child it started finishes on its own, as
it would when a terminal is closed, and the test waits for it.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import git
from mdboard.git import changes as git_changes
from mdboard.core.store import Board
from mdboard.core.workflow import check_board

KILLS = 200  # `pytest -m slow`; the default run kills QUICK_KILLS
QUICK_KILLS = 40  # ten per board: each board's CLI recovers once (every tenth run)
WORKERS = 4
MDBOARD = str(Path(sys.executable).with_name("mdboard"))
SKU_STATES = ["planning", "shooting", "content", "review", "listed"]


# --- helpers ---------------------------------------------------------------------------

def group_alive(pgid: int) -> bool:
    """Whether a process of this process group is still running (zombies do not count)."""
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                stat = fh.read().decode("utf-8", "replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            return True
    return False


def kill_after(args: list[str], root: Path, delay: float, env: dict) -> tuple[int, float]:
    """Start mdboard, SIGKILL it after `delay` s, wait for its git children.

    Returns the exit code (-9 when killed) and how long it ran.
    """
    start = time.monotonic()
    proc = subprocess.Popen([MDBOARD, *args], cwd=root, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    elapsed = time.monotonic() - start
    deadline = time.monotonic() + 20
    while group_alive(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.01)
    return proc.returncode, elapsed


def cards_of(root: Path) -> dict[str, str]:
    """SKU card ID -> its path, from the work tree."""
    return {p.stem: p.relative_to(root).as_posix() for p in root.glob("sku/*/SKU-*.md")}


def stray_files(root: Path) -> list[str]:
    """Temporary files of a write that never finished, anywhere in the work tree."""
    return [p.relative_to(root).as_posix() for p in root.rglob(".*.tmp") if ".git" not in p.parts]


def board_errors(root: Path) -> list[str]:
    """`check` in-process, read-only: nothing is repaired by looking."""
    board = Board(root)
    return [p.line() for p in check_board(board) if p.level == "error"]


def recover(root: Path) -> None:
    """What the next mdboard command does first: take the lock (which replays a journal)."""
    board = Board(root)
    with git_changes.board_lock(board):
        pass
    assert not (board.state_dir / "journal.json").exists()


def commits_since(root: Path, sha: str) -> list[tuple[str, list[str]]]:
    """(subject, ["A path", ...]) of each commit after `sha`, newest first."""
    out = git(root, "log", "--format=%x01%s", "--name-status", "--no-renames", f"{sha}..HEAD")
    commits = []
    for chunk in out.split("\x01")[1:]:
        lines = [x for x in chunk.splitlines() if x.strip()]
        commits.append((lines[0], sorted(" ".join(x.split("\t")) for x in lines[1:])))
    return commits


class Op:
    """One command and what its commit must look like if it happened."""

    def __init__(self, args: list[str], subject: str, files: list[str] | None, added: int = 0):
        self.args, self.subject, self.files, self.added = args, subject, files, added

    def check(self, root: Path, before: str) -> str:
        """'absent' or 'complete'; fails the test for anything in between."""
        commits = commits_since(root, before)
        if not commits:
            return "absent"
        assert len(commits) == 1, commits
        subject, files = commits[0]
        assert subject.startswith(self.subject), (subject, self.subject)
        if self.files is not None:
            assert files == sorted(self.files), (files, self.files)
        else:
            assert len(files) == self.added and all(f.startswith("A sku/planning/SKU-") for f in files), files
        return "complete"


def pick_op(root: Path, rng: random.Random, n: int) -> Op:
    """A random new / set / move (or import) on this board."""
    cards = cards_of(root)
    kinds = ["new", "set", "move", "import"]
    kind = rng.choice(kinds) if cards else "new"
    if kind == "new":
        return Op(["new", "sku", f"商品 {n}", "--owner", "wangli"], "new SKU-", None, 1)
    if kind == "import":
        sheet = root.parent / f"sheet-{n}.csv"
        sheet.write_text(f"标题,负责人,价格\n导入 {n}-1,王丽,{n}\n导入 {n}-2,赵敏,{n + 1}\n", "utf-8")
        return Op(["import", "csv", str(sheet), "--type", "sku", "--apply"], f"import {sheet.name}", None, 2)
    card_id = rng.choice(sorted(cards))
    path = cards[card_id]
    if kind == "set":
        return Op(["set", card_id, f"price={1000 + n}", f"category=类目 {n}"], f"set {card_id}: price=", [f"M {path}"])
    state = rng.choice([s for s in SKU_STATES if s != path.split("/")[1]])
    return Op(["move", card_id, state, "--force", "--reason", "断电测试"], f"move {card_id}:",
              [f"D {path}", f"A sku/{state}/{card_id}.md"])


# --- random kills ------------------------------------------------------------------------

def worker(root: Path, seed: int, kills: int, env: dict, stats: dict, errors: list) -> None:
    rng = random.Random(seed)
    try:
        start = time.monotonic()
        assert subprocess.run([MDBOARD, "new", "sku", "第一件", "--owner", "wangli"], cwd=root, env=env,
                              capture_output=True).returncode == 0
        duration = time.monotonic() - start  # how long one command takes here, now
        for n in range(kills):
            op = pick_op(root, rng, n)
            before = git(root, "rev-parse", "HEAD")
            code, elapsed = kill_after(op.args, root, rng.uniform(0.2, 1.0) * duration, env)
            if code == -signal.SIGKILL:
                stats["killed"] += 1
            else:  # it finished first: a better idea of how long commands take right now
                duration = 0.7 * duration + 0.3 * elapsed
            problems = board_errors(root)
            assert problems == [], (op.args, problems)
            stats["journal"] += (Board(root).state_dir / "journal.json").exists()
            if n % 10 == 9:  # now and then the real CLI recovers, as a user's next command would
                result = subprocess.run([MDBOARD, "set", sorted(cards_of(root))[0], "colour=red"], cwd=root, env=env,
                                        capture_output=True, text=True)
                assert result.returncode == 1 and "没有这个字段" in result.stderr, result.stderr
            recover(root)
            assert git(root, "status", "--porcelain") == "", op.args
            assert stray_files(root) == []
            stats[op.check(root, before)] += 1
    except BaseException as exc:  # reported by the main thread
        errors.append((seed, exc))


def test_forty_random_kills_leave_a_valid_board_and_clean_git(board, tmp_path):
    random_kills(board, tmp_path, QUICK_KILLS)


@pytest.mark.slow
def test_two_hundred_random_kills_leave_a_valid_board_and_clean_git(board, tmp_path):
    random_kills(board, tmp_path, KILLS)


def random_kills(board: Path, tmp_path: Path, kills: int) -> None:
    """`kills` mdboard processes killed at random moments, spread over WORKERS copies of `board`."""
    env = {**os.environ, "MDBOARD_LOCK_TIMEOUT": "60"}
    roots = []
    for i in range(WORKERS):
        root = tmp_path / f"b{i}" / "board"
        shutil.copytree(board, root, symlinks=True)
        roots.append(root)
    stats = [{"journal": 0, "absent": 0, "complete": 0, "killed": 0} for _ in roots]
    errors: list = []
    threads = [threading.Thread(target=worker, args=(root, 9000 + i, kills // WORKERS, env, stats[i], errors))
               for i, root in enumerate(roots)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    if errors:
        raise errors[0][1]
    stats = {key: sum(s[key] for s in stats) for key in stats[0]}
    assert stats["absent"] + stats["complete"] == kills
    print(f"\n{kills} runs, {stats['killed']} killed: {stats['complete']} complete, {stats['absent']} absent, "
          f"{stats['journal']} finished from the journal")
    for root in roots:
        fsck = subprocess.run(["git", "fsck", "--no-progress", "--strict"], cwd=root, capture_output=True, text=True)
        assert fsck.returncode == 0, fsck.stdout + fsck.stderr
        result = subprocess.run([MDBOARD, "check"], cwd=root, env=env, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr
        assert git(root, "status", "--porcelain") == ""


# --- every crash point -----------------------------------------------------------------------

KILLER = r"""
import os, signal, sys
from mdboard.git import changes as git_changes
from mdboard.core import store

point = sys.argv[1]
die = lambda: os.kill(os.getpid(), signal.SIGKILL)

if point == "before-journal":
    real_ready = git_changes.GitRepo.ready
    git_changes.GitRepo.ready = lambda self, change: (real_ready(self, change), die())
elif point == "after-journal":
    git_changes._apply_files = lambda board, change: die()
elif point == "mid-write":
    real_replace = os.replace
    def replace(src, dst, *a, **k):
        if str(dst).endswith(".md"):
            die()
        return real_replace(src, dst, *a, **k)
    os.replace = replace
    real_rename = os.rename
    def rename(src, dst, *a, **k):
        if str(dst).endswith(".md"):
            die()
        return real_rename(src, dst, *a, **k)
    os.rename = rename
elif point == "after-add":  # the commit object is being written, the index entries are made
    from mdboard.git import commit as git_commit
    git_commit.PathCommit.write_commit = lambda self, *a, **k: die()
else:
    # the git steps of a commit (mdboard.git.commit): index entries, the branch moved;
    # "after-commit" dies once update-ref has run
    step = {"after-files": "update-index", "before-ref": "update-ref",
            "after-commit": "update-ref"}[point]
    real_run, real_bytes = git_changes.GitRepo.run, git_changes.GitRepo.run_bytes
    def run(self, *args, **kw):
        if args[0] == step and point != "after-commit":
            die()
        out = real_run(self, *args, **kw)
        if args[0] == step:
            die()
        return out
    def run_bytes(self, *args, **kw):
        if args[0] == step:
            die()
        return real_bytes(self, *args, **kw)
    git_changes.GitRepo.run, git_changes.GitRepo.run_bytes = run, run_bytes

from mdboard.cli.main import main
sys.argv = ["mdboard"] + sys.argv[2:]
main()
"""

POINTS = ["before-journal", "after-journal", "mid-write", "after-files", "after-add", "before-ref", "after-commit"]


@pytest.mark.parametrize("point", POINTS)
def test_killed_at_each_step_the_change_is_absent_or_complete(board, cli, point):
    assert cli("new", "sku", "第一件", "--owner", "wangli").exit_code == 0
    git(board, "status", "--porcelain")
    ops = [Op(["new", "sku", "第二件", "--owner", "zhaomin"], "new SKU-0002", ["A sku/planning/SKU-0002.md"]),
           Op(["set", "SKU-0001", "price=88"], "set SKU-0001: price=88", ["M sku/planning/SKU-0001.md"]),
           Op(["move", "SKU-0001", "shooting"], "move SKU-0001: 规划中 → 拍摄中",
              ["D sku/planning/SKU-0001.md", "A sku/shooting/SKU-0001.md"]),
           Op(["assign", "SKU-0001", "chenjing"], "assign SKU-0001: owner=chenjing", None)]
    (board.parent / "s.csv").write_text("标题,负责人\n导入甲,王丽\n导入乙,赵敏\n", "utf-8")
    ops.append(Op(["import", "csv", str(board.parent / "s.csv"), "--type", "sku", "--apply"], "import s.csv", None, 2))
    for op in ops:
        cards = cards_of(board)
        if op.args[0] == "assign":
            op.files = [f"M {cards['SKU-0001']}"]
        before = git(board, "rev-parse", "HEAD")
        proc = subprocess.run([sys.executable, "-c", KILLER, point, *op.args], cwd=board, capture_output=True, text=True)
        assert proc.returncode == -signal.SIGKILL, proc.stderr
        assert board_errors(board) == []
        had_journal = (Board(board).state_dir / "journal.json").exists()
        assert had_journal == (point != "before-journal")
        result = cli("ls")  # any command: ls reads only, so nothing is replayed yet
        assert result.exit_code == 0
        assert (Board(board).state_dir / "journal.json").exists() == had_journal
        follow = cli("check")
        assert follow.exit_code == 0, follow.output
        recover(board)
        assert git(board, "status", "--porcelain") == ""
        assert stray_files(board) == []
        expected = "absent" if point == "before-journal" else "complete"
        assert op.check(board, before) == expected, (op.args, point)
        if expected == "absent":  # do it for real, so the next operation has its card
            assert cli(*op.args).exit_code == 0
    fsck = subprocess.run(["git", "fsck", "--no-progress", "--strict"], cwd=board, capture_output=True, text=True)
    assert fsck.returncode == 0, fsck.stdout + fsck.stderr


def test_the_next_real_command_replays_the_journal(board, cli):
    """The user's view: a killed `set`, then an ordinary `mdboard assign` finishes it first."""
    assert cli("new", "sku", "第一件", "--owner", "wangli").exit_code == 0
    proc = subprocess.run([sys.executable, "-c", KILLER, "after-add", "set", "SKU-0001", "price=66"], cwd=board,
                          capture_output=True, text=True)
    assert proc.returncode == -signal.SIGKILL
    assert git(board, "status", "--porcelain") == "M  sku/planning/SKU-0001.md"  # staged, not committed
    result = cli.proc("assign", "SKU-0001", "zhaomin")
    assert result.returncode == 0, result.stderr
    assert git(board, "log", "-2", "--format=%s") == "assign SKU-0001: owner=zhaomin\nset SKU-0001: price=66"
    assert git(board, "status", "--porcelain") == ""
    text = (board / "sku/planning/SKU-0001.md").read_text("utf-8")
    assert "price: 66" in text and "owner: zhaomin" in text


def test_a_stale_lock_file_does_not_block(board, cli):
    """The lock is an flock: a killed holder's lock file stays, but the lock is gone with it."""
    assert cli("new", "sku", "第一件", "--owner", "wangli").exit_code == 0
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from mdboard.core.store import Board; from mdboard.git import changes as git_changes\n"
        "with git_changes.board_lock(Board(sys.argv[1])):\n    print('locked', flush=True); time.sleep(60)\n"), str(board)],
        stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    busy = cli.proc("set", "SKU-0001", "price=1", env={"MDBOARD_LOCK_TIMEOUT": "0.3"})
    assert busy.returncode == 1 and "另一个 mdboard 命令正在修改这个看板" in busy.stderr
    holder.kill()
    holder.wait()
    assert (Board(board).state_dir / "lock").exists()
    result = cli.proc("set", "SKU-0001", "price=1", env={"MDBOARD_LOCK_TIMEOUT": "2"})
    assert result.returncode == 0, result.stderr


# --- a batch of changes (the team board's writer) killed at each step -----------------------

BATCH_KILLER = r"""
import os, signal, sys
from mdboard.core.store import Board
from mdboard.domain import ops
from mdboard.git import changes

point = sys.argv[1]
die = lambda: os.kill(os.getpid(), signal.SIGKILL)
if point == "second-files":  # the second change's journal is written, its files are not
    real_apply, applied = changes._apply_files, []
    def apply(board, change):
        applied.append(change)
        if len(applied) == 2:
            die()
        return real_apply(board, change)
    changes._apply_files = apply
elif point == "torn-line":  # killed halfway through appending the second change's line
    real_write = os.write
    def write(fd, data):  # the first line made the journal; the second is appended
        if bytes(data[:9]) == b'{"change"':
            real_write(fd, data[:len(data) // 2])
            die()
        return real_write(fd, data)
    os.write = write
else:  # "before-ref": the index entries are made; "after-ref": the branch has moved too
    real_run = changes.GitRepo.run
    def run(self, *args, **kw):
        if args[0] == "update-ref" and point == "before-ref":
            die()
        out = real_run(self, *args, **kw)
        if args[0] == "update-ref":
            die()
        return out
    changes.GitRepo.run = run
board = Board.open(".")
with changes.batched(board):
    ops.set_fields(board, "SKU-0001", ["price=66"])
    ops.move_card(board, "SKU-0001", "shooting")
"""


@pytest.mark.parametrize("point", ["second-files", "before-ref", "after-ref", "torn-line"])
def test_a_batch_killed_at_each_step_is_replayed_whole(board, cli, point):
    """Two changes of one batch, killed while the second is written, before the branch
    moves, or after it: the next command finishes both, each its own commit, in order.
    Killed while the second change's journal line is written: that change never began,
    and only the first is finished."""
    assert cli("new", "sku", "第一件", "--owner", "wangli").exit_code == 0
    proc = subprocess.run([sys.executable, "-c", BATCH_KILLER, point], cwd=board, capture_output=True, text=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert board_errors(board) == []
    assert (Board(board).state_dir / "batch-journal.jsonl").exists()
    subjects = git(board, "log", "-2", "--format=%s")
    if point == "after-ref":
        assert subjects == "move SKU-0001: 规划中 → 拍摄中\nset SKU-0001: price=66"
    else:
        assert subjects.startswith("new SKU-0001")
    assert cli("assign", "SKU-0001", "chenjing").exit_code == 0  # takes the lock: replays first
    done = ["move SKU-0001: 规划中 → 拍摄中"] if point != "torn-line" else []
    assert git(board, "log", "-4", "--format=%s").split("\n")[:3 + len(done)] == [
        "assign SKU-0001: owner=chenjing", *done, "set SKU-0001: price=66", "new SKU-0001: 第一件"]
    state, gone = ("shooting", "planning") if done else ("planning", "shooting")
    text = (board / f"sku/{state}/SKU-0001.md").read_text("utf-8")
    assert "price: 66" in text and "owner: chenjing" in text
    assert not (board / f"sku/{gone}/SKU-0001.md").exists()
    assert git(board, "status", "--porcelain") == ""
    assert stray_files(board) == []
    fsck = subprocess.run(["git", "fsck", "--no-progress", "--strict"], cwd=board, capture_output=True, text=True)
    assert fsck.returncode == 0, fsck.stdout + fsck.stderr


KILLED_BEFORE_THE_BRANCH_MOVES = r"""
real_run = changes.GitRepo.run
def run(self, *args, **kw):  # killed as the batch's branch is about to move
    if args[0] == "update-ref":
        os.kill(os.getpid(), signal.SIGKILL)
    return real_run(self, *args, **kw)
changes.GitRepo.run = run
board = Board.open(".")
"""

TORN_THEN_WHOLE = r"""
import errno, os, signal
from mdboard.core.errors import MdboardError
from mdboard.core.store import Board
from mdboard.domain import ops
from mdboard.git import changes

real_write, appended = os.write, []
def write(fd, data):  # the disk fills up halfway through the second change's line
    if bytes(data[:9]) == b'{"change"':
        appended.append(data)
        if len(appended) == 1:
            real_write(fd, bytes(data[:len(data) // 2]))
            raise OSError(errno.ENOSPC, "No space left on device")
    return real_write(fd, data)
os.write = write
""" + KILLED_BEFORE_THE_BRANCH_MOVES + r"""with changes.batched(board):
    ops.set_fields(board, "SKU-0001", ["price=66"])
    try:
        ops.set_fields(board, "SKU-0001", ["category=耳机"])
    except MdboardError as exc:
        print("refused:", exc.message)
    ops.move_card(board, "SKU-0001", "shooting")
"""


def killed_then_replayed(board, cli, script: str) -> str:
    """A new SKU-0001, then `script` run on the board until it kills itself, then an `assign`
    of the card (which takes the lock: replays first); what the script printed."""
    cli.ok("new", "sku", "第一件", "--owner", "wangli")
    proc = subprocess.run([sys.executable, "-c", script], cwd=board, capture_output=True, text=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    cli.ok("assign", "SKU-0001", "chenjing")
    return proc.stdout


def test_a_journal_line_cut_short_by_a_full_disk_hides_no_change_after_it(board, cli):
    """The disk fills up halfway through a batch's journal line: that action is refused,
    told not saved (it was never begun), the room comes back, the next action's line is whole - and after a
    kill both whole changes are replayed, the refused one is not."""
    assert killed_then_replayed(board, cli, TORN_THEN_WHOLE) == (
        "refused: 没有保存：No space left on device（卡片保持原样；检查磁盘空间和文件夹权限后再做一次）\n")
    assert git(board, "log", "-4", "--format=%s").split("\n") == [
        "assign SKU-0001: owner=chenjing", "move SKU-0001: 规划中 → 拍摄中", "set SKU-0001: price=66",
        "new SKU-0001: 第一件"]
    text = (board / "sku/shooting/SKU-0001.md").read_text("utf-8")
    assert "price: 66" in text and "category" not in text
    assert not (board / "sku/planning/SKU-0001.md").exists()
    assert git(board, "status", "--porcelain") == ""


REFUSED_TWICE_THEN_WHOLE = r"""
import errno, os, signal
from mdboard.core.errors import MdboardError
from mdboard.core.store import Board
from mdboard.domain import ops
from mdboard.git import changes

real_atomic_write, refused = changes.atomic_write, []
def atomic_write(path, data, sync=True):  # the disk is full for the card of the first two changes
    if path.name == "SKU-0001.md" and len(refused) < 2:
        refused.append(path)
        raise OSError(errno.ENOSPC, "No space left on device")
    return real_atomic_write(path, data, sync)
changes.atomic_write = atomic_write
""" + KILLED_BEFORE_THE_BRANCH_MOVES + r"""with changes.batched(board):
    for fields in (["price=66"], ["category=耳机壳"]):
        try:
            ops.set_fields(board, "SKU-0001", fields)
        except MdboardError as exc:
            print("refused")
    ops.move_card(board, "SKU-0001", "shooting")
"""


def test_changes_put_back_one_after_another_leave_the_journal_to_the_next_change_alone(board, cli):
    """The first two changes of a batch are refused (the disk is full for their card: put back,
    their journal lines cut off), the third is made; a kill before the branch moves. The next
    command replays the third alone: neither refused change, and the third not lost."""
    assert killed_then_replayed(board, cli, REFUSED_TWICE_THEN_WHOLE) == "refused\nrefused\n"
    assert git(board, "log", "-3", "--format=%s").split("\n") == [
        "assign SKU-0001: owner=chenjing", "move SKU-0001: 规划中 → 拍摄中", "new SKU-0001: 第一件"]
    text = (board / "sku/shooting/SKU-0001.md").read_text("utf-8")
    assert "price" not in text and "category" not in text
    assert not (board / "sku/planning/SKU-0001.md").exists()
    assert git(board, "status", "--porcelain") == ""


@pytest.mark.parametrize("point", ["after-journal", "after-commit"])
def test_a_hand_edit_made_after_a_kill_is_never_written_over_by_the_replay(board, cli, point):
    """mdboard is killed during a `set` (before its files are written, or once its commit is
    made); the person then edits the card by hand. The next command does not write the
    journal's text over that edit: the edit stays (for `mdboard save`), and the set is
    either absent or already committed."""
    assert cli("new", "sku", "第一件", "--owner", "wangli").exit_code == 0
    before = git(board, "rev-parse", "HEAD")
    proc = subprocess.run([sys.executable, "-c", KILLER, point, "set", "SKU-0001", "price=66"], cwd=board,
                          capture_output=True, text=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    card = board / "sku/planning/SKU-0001.md"
    edited = card.read_text("utf-8").replace("title: 第一件", "title: 第一件（手改）")
    card.write_text(edited, "utf-8")
    assert cli("new", "sku", "第二件", "--owner", "wangli").exit_code == 0  # takes the lock: recovers first
    assert card.read_text("utf-8") == edited
    subjects = git(board, "log", "--format=%s", f"{before}..HEAD").split("\n")
    assert subjects == (["new SKU-0002: 第二件"] if point == "after-journal"
                        else ["new SKU-0002: 第二件", "set SKU-0001: price=66"])
    assert git(board, "status", "--porcelain") == "M sku/planning/SKU-0001.md"  # the edit, not staged
    assert not (Board(board).state_dir / "journal.json").exists()


# --- a commit made by hand between the kill and the replay ------------------------------------

def hand_commit(board: Path, rel: str, old: str, new: str, subject: str) -> str:
    """Edit `rel` by hand and commit it with plain git (as 王丽 in her editor and terminal)."""
    card = board / rel
    card.write_text(card.read_text("utf-8").replace(old, new), "utf-8")
    git(board, "commit", "-q", "-am", subject)
    return card.read_text("utf-8")


@pytest.mark.parametrize("point", ["after-journal", "after-files", "after-commit"])
def test_a_hand_commit_made_after_a_kill_is_never_written_over_by_the_replay(board, cli, point):
    """mdboard is killed during a `set` (before its files are written, once they are, or once
    its commit is made); the person then edits the card by hand and commits it with plain
    git. The next command neither writes the journal's text over the committed edit nor
    commits on top of it as the set: the hand commit is HEAD's card, and the set is absent,
    in the hand commit (its file was written: `commit -a` took it along) or the commit it
    already was."""
    cli.ok("new", "sku", "第一件", "--owner", "wangli")
    before = git(board, "rev-parse", "HEAD")
    proc = subprocess.run([sys.executable, "-c", KILLER, point, "set", "SKU-0001", "price=66"], cwd=board,
                          capture_output=True, text=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert (Board(board).state_dir / "journal.json").exists()
    edited = hand_commit(board, "sku/planning/SKU-0001.md", "title: 第一件", "title: 第一件（手改）", "手改标题")
    cli.ok("new", "sku", "第二件", "--owner", "wangli")  # takes the lock: recovers first
    assert (board / "sku/planning/SKU-0001.md").read_text("utf-8") == edited
    subjects = git(board, "log", "--format=%s", f"{before}..HEAD").split("\n")
    assert subjects == ["new SKU-0002: 第二件", "手改标题"] + (["set SKU-0001: price=66"] if point == "after-commit" else [])
    assert git(board, "status", "--porcelain") == ""
    assert not (Board(board).state_dir / "journal.json").exists()


def test_a_hand_commit_made_after_a_killed_batch_is_never_written_over_by_the_replay(board, cli):
    """The team board's batch is killed once its branch has moved; the person then edits the
    card by hand and commits it with plain git. The next command keeps the hand commit as
    it is: nothing of the batch is written or committed again on top of it."""
    cli.ok("new", "sku", "第一件", "--owner", "wangli")
    proc = subprocess.run([sys.executable, "-c", BATCH_KILLER, "after-ref"], cwd=board, capture_output=True, text=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert (Board(board).state_dir / "batch-journal.jsonl").exists()
    edited = hand_commit(board, "sku/shooting/SKU-0001.md", "title: 第一件", "title: 第一件（手改）", "手改标题")
    cli.ok("new", "sku", "第二件", "--owner", "wangli")  # takes the lock: replays first
    assert (board / "sku/shooting/SKU-0001.md").read_text("utf-8") == edited
    assert git(board, "log", "-5", "--format=%s").split("\n") == [
        "new SKU-0002: 第二件", "手改标题", "move SKU-0001: 规划中 → 拍摄中", "set SKU-0001: price=66", "new SKU-0001: 第一件"]
    assert git(board, "status", "--porcelain") == ""


def test_a_batch_killed_before_its_branch_moved_is_replayed_on_top_of_a_hand_commit(board, cli):
    """The batch is killed before its branch moves; the person then commits a file of their
    own with plain git. The next command keeps that commit and records the batch's two
    changes on top of it, in order, each with its own subject."""
    cli.ok("new", "sku", "第一件", "--owner", "wangli")
    proc = subprocess.run([sys.executable, "-c", BATCH_KILLER, "before-ref"], cwd=board, capture_output=True,
                          text=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    (board / "notes.txt").write_text("备忘\n", "utf-8")
    git(board, "add", "notes.txt")
    git(board, "commit", "-q", "-m", "备忘", "--", "notes.txt")
    cli.ok("new", "sku", "第二件", "--owner", "wangli")
    assert git(board, "log", "-5", "--format=%s").split("\n") == [
        "new SKU-0002: 第二件", "move SKU-0001: 规划中 → 拍摄中", "set SKU-0001: price=66", "备忘", "new SKU-0001: 第一件"]
    assert "price: 66" in (board / "sku/shooting/SKU-0001.md").read_text("utf-8")
    assert git(board, "status", "--porcelain") == ""


# --- a journal line that cannot be read ---------------------------------------------------------

THREE_CARDS_KILLED = r"""
import os, signal
from mdboard.core.store import Board
from mdboard.domain import ops
from mdboard.git import changes
""" + KILLED_BEFORE_THE_BRANCH_MOVES + r"""with changes.batched(board):
    ops.set_fields(board, "SKU-0001", ["price=11"])
    ops.set_fields(board, "SKU-0002", ["price=22"])
    ops.move_card(board, "SKU-0003", "shooting")
"""


@pytest.mark.parametrize("bad", [
    b'{"change": {"files": {"sku/planning/SKU-0002.md": "x"}, "subj',  # not JSON (cut, or written over)
    b'\x00\x00\x00\x00{"change": 1}',  # JSON, but no change
    b'{"change": {"subject": "set SKU-0002: price=22"}}',  # a change without its files
    b'{"change": {"files": {"sku/planning/SKU-0002.md": 22}, "subject": "s", "trailers": []}}',  # files not text
    b'{"change": {"files": {"sku/planning/SKU-0002.md": "x"}, "subject": "s", "trailers": [["a"]]}}',
])
def test_a_journal_line_that_cannot_be_read_hides_no_change_after_it(board, cli, bad):
    """A batch of three changes is killed before its branch moves, and the journal's middle
    line is then unreadable (written over, or made by some other program). The next command
    records the first and the third change, each its own commit, and leaves the second
    card's file as it is (for `mdboard save`, or `git restore`): nothing lost, nothing
    committed as somebody it cannot name - and no command fails on the journal."""
    for title in ("一", "二", "三"):
        cli.ok("new", "sku", title, "--owner", "wangli")
    proc = subprocess.run([sys.executable, "-c", THREE_CARDS_KILLED], cwd=board, capture_output=True, text=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    journal = Board(board).state_dir / "batch-journal.jsonl"
    lines = journal.read_bytes().split(b"\n")
    assert len(lines) == 5 and lines[3].startswith(b'{"tip"') and lines[4] == b""  # three changes, the tip
    journal.write_bytes(b"\n".join([lines[0], bad, *lines[2:]]))
    second = (board / "sku/planning/SKU-0002.md").read_bytes()
    result = cli.proc("assign", "SKU-0001", "chenjing")
    assert (result.returncode, result.stderr) == (0, "")
    assert git(board, "log", "-4", "--format=%s").split("\n") == [
        "assign SKU-0001: owner=chenjing", "move SKU-0003: 规划中 → 拍摄中", "set SKU-0001: price=11", "new SKU-0003: 三"]
    assert (board / "sku/planning/SKU-0002.md").read_bytes() == second
    assert git(board, "diff", "HEAD", "--name-only") == "sku/planning/SKU-0002.md"  # (staged before the kill)
    status = git(board, "status", "--porcelain", "--untracked-files=all").splitlines()
    assert len(status) == 1 and status[0].endswith(" sku/planning/SKU-0002.md")
    assert not journal.exists()


def test_a_single_change_journal_holding_no_change_is_dropped_and_no_command_fails_on_it(board, cli):
    """A change's journal (written whole, so never half a change) that holds a file's text as a
    number: it is dropped, and the command that found it does what it was asked."""
    cli.ok("new", "sku", "第一件", "--owner", "wangli")
    journal = Board(board).state_dir / "journal.json"
    journal.write_text('{"change": {"files": {"sku/planning/SKU-0001.md": 5}, "subject": "s", "trailers": []},'
                       ' "commit": true}', "utf-8")
    result = cli.proc("assign", "SKU-0001", "chenjing")
    assert (result.returncode, result.stderr) == (0, "")
    assert git(board, "log", "-1", "--format=%s") == "assign SKU-0001: owner=chenjing"
    assert git(board, "status", "--porcelain") == "" and not journal.exists()


def test_a_change_reverted_by_hand_after_a_kill_once_it_was_committed_is_not_made_again(board, cli):
    """mdboard is killed once a `set`'s commit is made (its journal still there); the person
    sees the commit and takes it back with `git revert`. The next command does not make
    the set again on top of the revert: it was already recorded."""
    cli.ok("new", "sku", "第一件", "--owner", "wangli")
    proc = subprocess.run([sys.executable, "-c", KILLER, "after-commit", "set", "SKU-0001", "price=66"], cwd=board,
                          capture_output=True, text=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert (Board(board).state_dir / "journal.json").exists()
    git(board, "revert", "--no-edit", "HEAD")
    cli.ok("new", "sku", "第二件", "--owner", "wangli")  # takes the lock: recovers first
    assert "price: 66" not in (board / "sku/planning/SKU-0001.md").read_text("utf-8")
    assert git(board, "log", "-4", "--format=%s").split("\n") == [
        "new SKU-0002: 第二件", 'Revert "set SKU-0001: price=66"', "set SKU-0001: price=66", "new SKU-0001: 第一件"]
    assert git(board, "status", "--porcelain") == ""
