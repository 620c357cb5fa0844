"""mdboard's own commands never run a command that comes with the repository (issue 13 item 10).

A board is written by anyone with push access, and a copied folder or an unpacked
archive brings its `.git` along: hooks (`post-commit`, `prepare-commit-msg`,
`reference-transaction`, ...), a `core.fsmonitor` command, and `.git/config` keys that
name commands (filters, textconv, diff and merge drivers, pagers, editors, signing
programs, ssh commands, credential helpers, `ext::` remotes). Every git process mdboard
starts goes through `mdboard.git.runner`, which switches them off, or refuses with a
message naming the setting where switching it off would change what the user asked for.
So new, move, set, sync, history and build leave no trace of them. (Git itself still
runs them when a person types git commands by hand: that is theirs to decide.)
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import Cli, card_file, git, tree
from mdboard.git.runner import git_out

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


# --- commands named by the repository's git configuration (issue 13 item 10) ---------------

def _trap(marks: Path, name: str, then: str = "") -> str:
    """A shell command that leaves `marks/name` behind (then runs `then`)."""
    return f"touch '{marks}/{name}'" + (f"; {then}" if then else "")


def plant_commands(root: Path, marks: Path) -> None:
    """Every command a repository's own config can name for the git work mdboard does,
    applied to every file by `.git/info/attributes` (which comes along with a copied folder)."""
    script = marks.parent / "program.sh"
    script.write_text(f"#!/bin/sh\ntouch '{marks}/'$(basename \"$0\")-program\ncat\n", "utf-8")
    script.chmod(0o755)
    for key, value in {
        "filter.evil.clean": _trap(marks, "clean", "cat"), "filter.evil.smudge": _trap(marks, "smudge", "cat"),
        "filter.cards.process": _trap(marks, "process"), "diff.evil.textconv": _trap(marks, "textconv", "cat"),
        "diff.evil.command": _trap(marks, "diff-command"), "diff.external": str(script),
        "merge.evil.driver": _trap(marks, "merge-driver", "false"), "merge.evil.name": "evil",
        "core.pager": _trap(marks, "pager", "cat"), "pager.log": _trap(marks, "pager-log", "cat"),
        "core.editor": _trap(marks, "editor"), "sequence.editor": _trap(marks, "sequence-editor"),
        "core.alternateRefsCommand": _trap(marks, "alternate-refs"),
        "trailer.evil.command": _trap(marks, "trailer"), "trailer.evil.cmd": _trap(marks, "trailer-cmd"),
        "gpg.program": str(script), "credential.helper": "store",
    }.items():
        git(root, "config", key, value)
    (root / ".git" / "info").mkdir(exist_ok=True)
    (root / ".git" / "info" / "attributes").write_text("* filter=evil diff=evil merge=evil\n*.md filter=cards\n", "utf-8")


@pytest.mark.parametrize("plant, expect", [
    ("hooks", {"post-commit", "prepare-commit-msg", "reference-transaction", "fsmonitor"}),
    ("config", {"clean", "textconv"}),
])
def test_the_planted_traps_do_run_for_plain_git(board, tmp_path, plant, expect):
    """The traps work: a plain `git commit` and `git log -p` by hand run the hooks, the
    fsmonitor, the filters and textconv (so the tests of mdboard's commands can fail)."""
    marks = tmp_path / "marks"
    marks.mkdir()
    (hostile if plant == "hooks" else plant_commands)(board, marks)
    (board / "note.txt").write_text("x\n", "utf-8")
    git(board, "add", "note.txt")
    git(board, "commit", "-qm", "by hand")
    git(board, "log", "-p", "-1")
    assert expect <= set(os.listdir(marks))


def test_commands_in_the_repository_config_are_switched_off(board, tmp_path):
    """Filters, diff and merge drivers, pagers, editors, trailer commands and a signing
    program (commits are not signed) named in .git/config never run: new, set, move, save,
    a sync that merges two clones' edits of one card, history and build all work as if
    they were not there, and the merge comes out as mdboard's own."""
    marks = tmp_path / "marks"
    marks.mkdir()
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(board, "remote", "add", "origin", str(remote))
    cli = Cli(board)
    cli.ok("new", "sku", "蓝牙耳机", "--owner", "wangli")
    cli.ok("sync")
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(remote), str(other))
    Cli(other).ok("set", "SKU-0001", "price=99")
    Cli(other).ok("sync")
    plant_commands(board, marks)
    for args in (["set", "SKU-0001", "tags=年货"], ["new", "sku", "充电宝", "--owner", "wangli"],
                 ["move", "SKU-0002", "shooting"], ["sync"], ["history", "SKU-0001"], ["log"], ["build"],
                 ["check"]):
        result = cli.ok(*args)
        assert sorted(os.listdir(marks)) == [], (args, result.output)
    text = card_file(board, "SKU-0001").read_text("utf-8")
    assert "price: 99" in text and "年货" in text, text
    cli.proc_ok("move", "SKU-0001", "shooting")
    cli.proc_ok("history", "SKU-0001")
    cli.proc_ok("build")
    hand = card_file(board, "SKU-0002")
    hand.write_text(hand.read_text("utf-8") + "\n手工补一句。\n", "utf-8")
    cli.proc_ok("save", "SKU-0002")
    assert sorted(os.listdir(marks)) == []
    # asked through mdboard's runner: a plain `git status` would itself run the planted filter
    # process whenever the files' timestamps make git look inside them
    assert git_out(board, "status", "--porcelain") == ""
    assert sorted(os.listdir(marks)) == []


def _refused(result, *words: str) -> None:
    """A refusal a user can act on: exit 1, Chinese, naming the setting and the fix, no traceback."""
    assert result.exit_code == 1, result.output
    assert "没有执行" in result.output and "Traceback" not in result.output, result.output
    for word in words:
        assert word in result.output, (word, result.output)


def test_sync_refuses_a_remote_address_that_is_a_command(board, tmp_path):
    """`ext::` runs its address as a shell command: sync names the setting and asks for a
    real address; nothing runs and nothing is committed."""
    marks = tmp_path / "marks"
    marks.mkdir()
    git(board, "remote", "add", "origin", f"ext::sh -c touch% {marks}/ext")
    head = git(board, "rev-parse", "HEAD")
    result = Cli(board)("sync")
    _refused(result, "remote.origin.url", "git remote set-url origin")
    assert os.listdir(marks) == [] and git(board, "rev-parse", "HEAD") == head


def test_sync_refuses_an_address_rewritten_into_a_command(board, tmp_path):
    marks = tmp_path / "marks"
    marks.mkdir()
    git(board, "remote", "add", "origin", "shop:board.git")
    git(board, "config", f"url.ext::sh -c touch% {marks}/ext% #.insteadOf", "shop:")
    _refused(Cli(board)("sync"), "insteadof", "--unset-all")
    assert os.listdir(marks) == []


@pytest.mark.parametrize("key, value, url", [
    ("remote.origin.uploadpack", "touch '{marks}/uploadpack'; git-upload-pack", "{remote}"),
    ("remote.origin.receivepack", "touch '{marks}/receivepack'; git-receive-pack", "{remote}"),
    ("core.sshCommand", "touch '{marks}/ssh'; ssh", "ssh://shop.example.invalid/board.git"),
    ("credential.helper", "!touch '{marks}/credential'", "http://127.0.0.1:9/board.git"),
    ("core.askPass", "{marks}/askpass", "http://127.0.0.1:9/board.git"),
    ("core.gitProxy", "{marks}/proxy", "git://shop.example.invalid/board.git"),
])
def test_sync_refuses_a_program_that_decides_how_git_reaches_the_remote(board, tmp_path, key, value, url):
    """Replacing these would change which key or password reaches the remote: sync refuses,
    naming the setting, where it is and how to move it to the user's own config."""
    marks = tmp_path / "marks"
    marks.mkdir()
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(board, "remote", "add", "origin", url.format(remote=remote))
    git(board, "config", key, value.format(marks=marks))
    head = git(board, "rev-parse", "HEAD")
    _refused(Cli(board)("sync"), key.lower(), ".git/config", "git config")
    assert os.listdir(marks) == [] and git(board, "rev-parse", "HEAD") == head


def test_what_no_remote_here_needs_is_switched_off_silently(board, tmp_path):
    """A credential helper that is a plain name (`store`, `manager`: git's installed helper),
    and an ssh command, askpass or proxy while the remote is a folder on this computer
    (none of them is used to reach it): sync goes ahead, and none of them runs."""
    marks = tmp_path / "marks"
    marks.mkdir()
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(board, "remote", "add", "origin", str(remote))
    git(board, "config", "credential.helper", "store")
    git(board, "config", "core.sshCommand", _trap(marks, "ssh"))
    git(board, "config", "core.askPass", str(marks / "askpass"))
    git(board, "config", "core.gitProxy", str(marks / "proxy"))
    Cli(board).ok("sync")
    assert git(remote, "rev-parse", "main") == git(board, "rev-parse", "HEAD")
    assert os.listdir(marks) == []


@pytest.mark.parametrize("plant", ["signing", "required filter"])
def test_a_command_that_would_change_what_is_committed_is_refused_before_anything_is_written(board, tmp_path,
                                                                                               plant):
    """Signed commits with the repository's own signing program, and a filter the repository
    marks as required (git-crypt, git-lfs): switching either off would commit something
    else than the user set up, so `new` and `move` refuse and nothing is written."""
    marks = tmp_path / "marks"
    marks.mkdir()
    cli = Cli(board)
    cli.ok("new", "sku", "蓝牙耳机", "--owner", "wangli")
    if plant == "signing":
        git(board, "config", "commit.gpgsign", "true")
        program = marks.parent / "gpg.sh"
        program.write_text(f"#!/bin/sh\ntouch '{marks}/gpg'\nexit 1\n", "utf-8")
        program.chmod(0o755)
        git(board, "config", "gpg.program", str(program))
        key = "gpg.program"
    else:
        git(board, "config", "filter.crypt.clean", f"touch '{marks}/clean'; cat")
        git(board, "config", "filter.crypt.required", "true")
        (board / ".git" / "info").mkdir(exist_ok=True)
        (board / ".git" / "info" / "attributes").write_text("*.md filter=crypt\n", "utf-8")
        key = "filter.crypt.clean"
    before = tree(board, skip=board / ".git")
    head = git(board, "rev-parse", "HEAD")
    _refused(cli("new", "sku", "充电宝", "--owner", "wangli"), key, ".git/config", "git config --global")
    _refused(cli("move", "SKU-0001", "shooting"), key)
    assert tree(board, skip=board / ".git") == before and git(board, "rev-parse", "HEAD") == head
    assert os.listdir(marks) == []


def test_the_users_own_config_is_trusted(board, tmp_path):
    """A signing program in the user's own ~/.gitconfig is theirs: commits are signed with it."""
    marks = tmp_path / "marks"
    marks.mkdir()
    program = marks.parent / "sign.sh"
    program.write_text(f"#!/bin/sh\ntouch '{marks}/signed'\nexit 1\n", "utf-8")
    program.chmod(0o755)
    with open(os.environ["GIT_CONFIG_GLOBAL"], "a", encoding="utf-8") as f:
        f.write(f"[gpg]\n\tprogram = {program}\n")
    git(board, "config", "commit.gpgsign", "true")
    result = Cli(board)("new", "sku", "充电宝", "--owner", "wangli")
    assert result.exit_code == 1 and os.listdir(marks) == ["signed"], result.output


def test_a_remote_in_a_folder_on_this_computer_runs_none_of_its_hooks(board, tmp_path):
    """A remote on a shared drive is served by git on this computer: its receive hooks and
    its own config's commands stay off while sync fetches from it and pushes to it."""
    marks = tmp_path / "marks"
    marks.mkdir()
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    for name in ("pre-receive", "update", "post-receive", "post-update", "reference-transaction",
                 "push-to-checkout", "fsmonitor"):
        script = remote / "hooks" / name
        script.write_text(f"#!/bin/sh\ntouch '{marks}/remote-{name}'\n", "utf-8")
        script.chmod(0o755)
    git(remote, "config", "core.fsmonitor", str(remote / "hooks" / "fsmonitor"))
    git(board, "remote", "add", "origin", str(remote))
    cli = Cli(board)
    cli.ok("new", "sku", "蓝牙耳机", "--owner", "wangli")
    cli.ok("sync")
    cli.ok("set", "SKU-0001", "price=99")
    cli.ok("sync")
    assert os.listdir(marks) == []
    assert git(remote, "rev-parse", "main") == git(board, "rev-parse", "HEAD")


def test_init_in_a_repository_whose_commit_would_be_refused_writes_nothing(tmp_path):
    """`mdboard init` in a repository with a required filter refuses as `new` does, and
    before writing mdboard.yaml, the state folders or .gitignore: the folder is left as found."""
    shop = tmp_path / "shop"
    shop.mkdir()
    git(shop, "init", "-q")
    git(shop, "config", "filter.crypt.clean", "cat")
    git(shop, "config", "filter.crypt.required", "true")
    (shop / ".git" / "info").mkdir(exist_ok=True)
    (shop / ".git" / "info" / "attributes").write_text("*.md filter=crypt\n", "utf-8")
    before = tree(shop, skip=shop / ".git")
    _refused(Cli(shop)("init"), "filter.crypt.clean")
    _refused(Cli(shop)("init", str(shop / "ops" / "board")), "filter.crypt.clean")  # a folder not made yet
    assert tree(shop, skip=shop / ".git") == before


# The runner tells a key's kind without compiling a pattern per key kind at import (every
# git-using command paid ~14 patterns): each test below is the pattern it replaced.
KEY_PART = st.sampled_from(["remote", "url", "credential", "include", "includeif", "core", "filter", "merge", "diff",
                            "gpg", "pager", "trailer", "sequence", "x509", "ssh", "a", "", "origin", "ext::sh",
                            "url", "pushurl", "vcs", "uploadpack", "receivepack", "insteadof", "pushinsteadof",
                            "helper", "path", "clean", "smudge", "process", "driver", "textconv", "command", "cmd",
                            "external", "editor", "askpass", "sshcommand", "alternaterefscommand", "program",
                            "openpgp", "defaultkeycommand", "gitdir:~/a"])


@settings(max_examples=600, deadline=None)
@given(st.lists(KEY_PART, min_size=1, max_size=5).map(".".join))
def test_config_keys_are_told_apart_as_the_patterns_did(key):
    import re

    from mdboard.git import runner

    named = {(r"remote\.(.+)\.(url|pushurl)", "remote.", ("url", "pushurl")),
             (r"remote\.(.+)\.(uploadpack|receivepack)", "remote.", ("uploadpack", "receivepack")),
             (r"remote\.(.+)\.(vcs)", "remote.", ("vcs",)), (r"remote\.(.+)\.(url)", "remote.", ("url",)),
             (r"url\.(.+)\.(insteadof|pushinsteadof)", "url.", ("insteadof", "pushinsteadof"))}
    for pattern, prefix, lasts in named:
        m = re.fullmatch(pattern, key)
        assert runner._named(key, prefix, *lasts) == (m.group(1) if m else None)
    assert runner._is_helper(key) == bool(re.fullmatch(r"credential\.(.+\.)?helper", key))
    assert (key == "include.path" or runner._named(key, "includeif.", "path") is not None) == \
        bool(re.fullmatch(r"include(if\..*)?\.path", key))
    rule = next(((kind, value) for pattern, kind, value in runner._RULES if re.fullmatch(pattern, key)), None)
    assert runner._rule(key) == rule
