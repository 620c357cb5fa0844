"""The one way mdboard runs git: every git process mdboard starts goes through here.

mdboard's own commands (new, move, set, sync, history, build, ...) run git with the
repository's hooks and its fsmonitor switched off (`core.hooksPath=/dev/null`,
`core.fsmonitor=false`): a board is written by anyone with push access, and a
`post-commit` hook, a `reference-transaction` hook or a `core.fsmonitor` command in a
clone's configuration must not run because somebody typed `mdboard move`. Nothing
else is set here that would make git execute a command. Commits skip the commit
hooks anyway (`--no-verify`); this also covers the hooks `--no-verify` leaves on
(prepare-commit-msg, post-commit, post-merge, post-rewrite, reference-transaction).

Only reading the repository's own configuration needs git as configured (`hooks
install` asks where core.hooksPath points): `isolated=False` says so, for commands
that run no hook and no fsmonitor.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from mdboard.core.errors import GitError
from mdboard.core.i18n import t

ISOLATED = ("-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false")


def git_command(*args: str, isolated: bool = True) -> list[str]:
    """The argv of `git ARGS`, with hooks and fsmonitor off unless `isolated` is False."""
    return ["git", *(ISOLATED if isolated else ()), *args]


def run_git(cwd: Path | str, *args: str, input: str | bytes | None = None, env: dict | None = None,
            isolated: bool = True) -> subprocess.CompletedProcess:
    """Run git in `cwd` and return the finished process (bytes out; check returncode yourself)."""
    return subprocess.run(git_command(*args, isolated=isolated), cwd=cwd, capture_output=True,
                          input=input.encode("utf-8") if isinstance(input, str) else input,
                          env={**os.environ, **env} if env else None)


def stream_git(cwd: Path | str, *args: str, stderr) -> subprocess.Popen:
    """Start git in `cwd` with its stdout as a pipe to read while it runs (a long `git log`)."""
    return subprocess.Popen(git_command(*args), cwd=cwd, stdout=subprocess.PIPE, stderr=stderr)


def failure(args: tuple | list, proc: subprocess.CompletedProcess) -> GitError:
    """A GitError in git's own words (the last 500 characters of what it said)."""
    detail = (proc.stderr or proc.stdout or b"").decode("utf-8", "replace").strip()
    return GitError(t("git.failed", command="git " + " ".join(args[:2]), detail=detail[-500:]))


def git_out(cwd: Path | str, *args: str, **kw) -> str:
    """Run git and return its stdout as text; a failure raises GitError with git's words."""
    proc = run_git(cwd, *args, **kw)
    if proc.returncode != 0:
        raise failure(args, proc)
    return proc.stdout.decode("utf-8", "replace").rstrip("\n")
