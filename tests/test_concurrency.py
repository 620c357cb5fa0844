"""Many mdboard commands on one clone at once: they take turns on the board lock."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from conftest import git
from mdboard.git.changes import board_lock
from mdboard.core.store import Board

LOCK_MESSAGE = "错误：另一个 mdboard 命令正在修改这个看板，请稍后重试\n"
EXE = str(Path(sys.executable).with_name("mdboard"))


def test_twenty_concurrent_moves_and_sets_are_each_committed_exactly_once(cli, board):
    for i in range(1, 11):
        assert cli("new", "sku", f"商品{i}", "--owner", "wangli").exit_code == 0
    base = git(board, "rev-parse", "HEAD")
    commands = ([["move", f"SKU-{i:04d}", "shooting"] for i in range(1, 7)]
                + [["set", f"SKU-{i:04d}", f"category=类目{i}"] for i in range(1, 11)]
                + [["set", f"SKU-{i:04d}", f"due=2026-12-{i:02d}"] for i in range(7, 11)])
    assert len(commands) == 20
    env = {**os.environ, "MDBOARD_LOCK_TIMEOUT": "300"}
    procs = [subprocess.Popen([EXE, *c], cwd=board, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for c in commands]
    outcomes = [(p.wait(), *p.communicate()) for p in procs]
    for (code, out, err), command in zip(outcomes, commands):
        assert code == 0 and err == "", (command, out, err)

    subjects = git(board, "log", "--format=%s", f"{base}..HEAD").splitlines()
    expected = ([f"move SKU-{i:04d}: 规划中 → 拍摄中" for i in range(1, 7)]
                + [f"set SKU-{i:04d}: category={'类目' + str(i)}" for i in range(1, 11)]
                + [f"set SKU-{i:04d}: due=2026-12-{i:02d}" for i in range(7, 11)])
    assert Counter(subjects) == Counter(expected)
    assert git(board, "status", "--porcelain") == ""
    git(board, "fsck", "--no-progress")

    cards = {c.id: c for c in Board(board).cards()}
    assert len(cards) == 10
    for i in range(1, 11):
        card = cards[f"SKU-{i:04d}"]
        assert card.state == ("shooting" if i <= 6 else "planning")
        assert card.meta["category"] == f"类目{i}"
        assert card.meta.get("due") == (f"2026-12-{i:02d}" if i >= 7 else None)
        committed = git(board, "show", f"HEAD:{card.path}")
        assert committed == (board / card.path).read_text("utf-8").rstrip("\n")
    assert cli("check").exit_code == 0


def test_a_command_that_cannot_get_the_lock_says_so_and_changes_nothing(cli, board):
    assert cli("new", "sku", "商品", "--owner", "wangli").exit_code == 0
    head = git(board, "rev-parse", "HEAD")
    env = {"MDBOARD_LOCK_TIMEOUT": "0.3"}
    with board_lock(Board(board)):
        for args in (["set", "SKU-0001", "price=10"], ["move", "SKU-0001", "shooting"], ["sync"]):
            proc = cli.proc(*args, env=env)
            assert (proc.returncode, proc.stderr) == (1, LOCK_MESSAGE), args
    assert git(board, "rev-parse", "HEAD") == head
    assert git(board, "status", "--porcelain") == ""
