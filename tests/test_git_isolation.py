"""mdboard's own commands never run the repository's hooks or fsmonitor (issue 13 item 10).

A board is written by anyone with push access and a clone's `.git/config` or hooks
folder may hold anything: a `post-commit`, `prepare-commit-msg` or
`reference-transaction` hook, a `core.fsmonitor` command. Every git process mdboard
starts goes through `mdboard.git.runner` with hooks and fsmonitor off, so new, move,
set, sync, history and build leave no trace of them. (Git itself still runs the
hooks when a person commits by hand: that is theirs to decide.)
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from conftest import Cli, git

HOOKS = ["post-commit", "prepare-commit-msg", "reference-transaction", "pre-commit", "commit-msg", "post-merge",
         "post-rewrite", "pre-push", "post-checkout", "pre-rebase", "pre-auto-gc", "post-index-change"]


def hostile(root: Path, marks: Path) -> None:
    """Every hook and a core.fsmonitor command that leave a file named after themselves in `marks`."""
    hooks = root / ".git" / "hooks"
    hooks.mkdir(exist_ok=True)
    for name in HOOKS + ["fsmonitor"]:
        script = hooks / name
        script.write_text(f"#!/bin/sh\ntouch '{marks}/{name}'\n", "utf-8")
        script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    git(root, "config", "core.fsmonitor", str(hooks / "fsmonitor"))


def test_the_planted_hooks_do_run_for_plain_git(board, tmp_path):
    """The trap works: a plain `git commit` by hand runs them (so the test below can fail)."""
    marks = tmp_path / "marks"
    marks.mkdir()
    hostile(board, marks)
    (board / "note.txt").write_text("x", "utf-8")
    git(board, "add", "note.txt")
    git(board, "commit", "-qm", "by hand")
    assert {"post-commit", "prepare-commit-msg", "reference-transaction", "fsmonitor"} <= set(os.listdir(marks))


def test_mdboard_commands_run_no_hook_and_no_fsmonitor(board, tmp_path):
    marks = tmp_path / "marks"
    marks.mkdir()
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(board, "remote", "add", "origin", str(remote))
    cli = Cli(board)
    hostile(board, marks)
    for args in (["new", "sku", "蓝牙耳机", "--owner", "wangli"], ["set", "SKU-0001", "price=99"],
                 ["move", "SKU-0001", "shooting"], ["assign", "SKU-0001", "zhaomin"], ["sync"],
                 ["history", "SKU-0001"], ["log"], ["standup"], ["report"], ["build"], ["check"]):
        result = cli.ok(*args)
        assert sorted(os.listdir(marks)) == [], (args, result.output)
    cli.proc_ok("move", "SKU-0001", "content")
    cli.proc_ok("build")
    assert sorted(os.listdir(marks)) == []
    assert git(board, "status", "--porcelain") == ""
