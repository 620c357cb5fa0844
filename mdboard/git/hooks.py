"""A git pre-commit hook that checks staged cards, so hand edits are validated too.

`mdboard hooks pre-commit` judges what is about to be committed: the STAGED
version of each staged card file (read from git's index, not the work tree),
against the staged board config and the IDs in the index. It reads only the
staged cards, so it stays fast on a big board; when mdboard.yaml itself is
staged, the config is checked and every card is judged under it.
The installed hook is a tiny shell script that calls that command.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

from mdboard.core.config import CONFIG_NAME, parse_config
from mdboard.core.errors import CardSyntaxError, ConfigError, MdboardError, Problem
from mdboard.core.i18n import t
from mdboard.core.store import Board, Card, find_repo
from mdboard.git.runner import run_git

HOOK_NAME = "pre-commit"
HOOK_COMMAND = "hooks pre-commit"


class HookError(MdboardError):
    """The hook cannot be installed or removed; the message says why."""


# --- installing ------------------------------------------------------------------------------

def _git(cwd: Path, *args: str, input: bytes | None = None, isolated: bool = True) -> subprocess.CompletedProcess:
    return run_git(cwd, "-c", "core.quotepath=off", *args, input=input, isolated=isolated)


def hooks_dir(cwd: Path) -> Path:
    """The folder git runs hooks from (core.hooksPath when set, else .git/hooks)."""
    # git as configured (isolated=False): where the repository's own hooks live; runs no hook
    proc = _git(cwd, "rev-parse", "--git-path", "hooks", isolated=False)
    if proc.returncode != 0:
        raise HookError(t("teams.hook_not_repo", path=cwd))
    custom = _git(cwd, "config", "--get", "core.hooksPath", isolated=False).stdout.decode().strip()
    if custom:
        return find_repo(Path(cwd).resolve())[0] / Path(custom).expanduser()
    return (cwd / proc.stdout.decode().strip()).resolve()


def hook_script() -> str:
    """The hook: run this installation's mdboard on the staged cards."""
    exe = Path(sys.executable).with_name("mdboard")
    command = shlex.quote(str(exe)) if exe.exists() else "mdboard"
    return f"#!/bin/sh\n# {t('teams.hook_comment')}\nexec {command} {HOOK_COMMAND}\n"


def is_ours(path: Path) -> bool:
    try:
        return HOOK_COMMAND in path.read_text("utf-8", "replace")
    except OSError:
        return False


def install(cwd: Path, force: bool = False) -> tuple[Path, Path | None]:
    """Write the pre-commit hook; (hook path, backup of a replaced foreign hook or None)."""
    path = hooks_dir(cwd) / HOOK_NAME
    backup = None
    if path.exists() and not is_ours(path):
        if not force:
            raise HookError(t("teams.hook_foreign", path=path))
        backup = path.with_name(HOOK_NAME + ".before-mdboard")
        os.replace(path, backup)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(hook_script(), "utf-8")
    path.chmod(0o755)
    return path, backup


def uninstall(cwd: Path) -> Path:
    """Remove mdboard's hook (a foreign hook is left alone); the path it was at."""
    path = hooks_dir(cwd) / HOOK_NAME
    if not path.exists():
        raise HookError(t("teams.hook_absent", path=path))
    if not is_ours(path):
        raise HookError(t("teams.hook_not_ours", path=path))
    path.unlink()
    backup = path.with_name(HOOK_NAME + ".before-mdboard")
    if backup.exists():
        os.replace(backup, path)
    return path


# --- checking what is staged -------------------------------------------------------------------

def staged_problems(cwd: Path, files: list[str] | None = None, board_dir: Path | None = None) -> list[Problem]:
    """Errors in the staged cards (and staged config) of every board in this repository.

    Paths in the problems are relative to the repository's top folder, as git shows them.
    `files` (e.g. from the pre-commit framework) replaces "what is staged" with those files.
    """
    found = find_repo(Path(cwd).resolve())
    if found is None:
        raise HookError(t("teams.hook_not_repo", path=cwd))
    top = found[0]
    if files is not None:  # e.g. `pre-commit run --all-files`: judge these files as they are in the index
        staged = [_repo_path(top, cwd, f) for f in files]
    else:
        staged = _z(_git(top, "diff", "--cached", "--name-only", "-z", "--diff-filter=ACMR").stdout)
    problems: list[Problem] = []
    for prefix in _board_prefixes(top, board_dir):
        mine = [p for p in staged if p.startswith(prefix)]
        if mine:
            problems += _check_board(top, prefix, [p[len(prefix):] for p in mine])
    return problems


def _z(data: bytes) -> list[str]:
    return [p for p in data.decode("utf-8", "replace").split("\0") if p]


def _repo_path(top: Path, cwd: Path, name: str) -> str:
    full = (cwd / name).resolve() if not os.path.isabs(name) else Path(name).resolve()
    try:
        return full.relative_to(top.resolve()).as_posix()
    except ValueError:
        return name


def _board_prefixes(top: Path, board_dir: Path | None) -> list[str]:
    """Repository-relative folders (with a trailing /, or "") that hold a board config in the index."""
    if board_dir is not None:
        rel = os.path.relpath(board_dir.resolve(), top.resolve()).replace(os.sep, "/")
        return ["" if rel == "." else rel + "/"]
    configs = _z(_git(top, "ls-files", "-z", "--", CONFIG_NAME, f"**/{CONFIG_NAME}").stdout)
    prefixes = [c[: -len(CONFIG_NAME)] for c in configs if c == CONFIG_NAME or c.endswith("/" + CONFIG_NAME)]
    return sorted(prefixes, key=len, reverse=True)


def _check_board(top: Path, prefix: str, staged: list[str]) -> list[Problem]:
    """Errors of one board's staged files (board-relative `staged`), paths made repository-relative."""
    from mdboard.core.cardfile import MAX_CONFIG_NODES, load_yaml
    from mdboard.git.sync import card_ref, cat_blobs
    from mdboard.core.workflow import duplicate_ids, check_card

    config_bytes = cat_blobs(top, [":" + prefix + CONFIG_NAME])[":" + prefix + CONFIG_NAME]
    try:
        config = parse_config(load_yaml((config_bytes or b"").decode("utf-8-sig", "replace"),
                                        max_nodes=MAX_CONFIG_NODES))
    except ConfigError as exc:
        return [_moved(p, prefix) for p in exc.problems] or [Problem(prefix + CONFIG_NAME, "", exc.message)]
    except CardSyntaxError as exc:
        return [Problem(prefix + CONFIG_NAME, "", exc.message, t("config.fix_yaml"))]
    board = Board(top / prefix if prefix else top)
    board._config = config
    indexed = [p[len(prefix):] for p in _z(_git(top, "ls-files", "-z", "--", prefix or ".").stdout)]
    refs = {rel: ref for rel in indexed if (ref := card_ref(board, rel))}
    ids = {ref[0]: ref[1] for ref in refs.values()}
    judged = list(refs) if CONFIG_NAME in staged else [rel for rel in staged if rel in refs]
    texts = cat_blobs(top, [":" + prefix + rel for rel in judged])
    problems, cards = [], []
    for rel in judged:
        card_id, type_key, state = refs[rel]
        card = _card(card_id, type_key, state, rel, texts[":" + prefix + rel])
        cards.append(card)
        problems += [p for p in check_card(board, card, ids) if p.level == "error"]
    judged_set = set(judged)
    others = [Card(r[0], r[1], r[2], rel) for rel, r in refs.items() if rel not in judged_set]
    problems += [p for p in duplicate_ids(others + cards) if p.path in judged_set]
    return [_moved(p, prefix) for p in problems]


def _card(card_id: str, type_key: str, state: str, rel: str, data: bytes | None) -> Card:
    """A Card from staged bytes; a text that does not parse becomes the card's error."""
    from mdboard.core.cardfile import parse

    try:
        try:
            text = (data or b"").decode("utf-8")
        except UnicodeDecodeError as exc:
            from mdboard.core.mistakes import encoding_message

            raise CardSyntaxError(encoding_message(data or b"", exc.start))
        parsed = parse(text)
    except CardSyntaxError as exc:
        return Card(card_id, type_key, state, rel, error=exc.message)
    return Card(card_id, type_key, state, rel, parsed.meta, parsed.checklist)


def _moved(problem: Problem, prefix: str) -> Problem:
    return Problem(prefix + problem.path, problem.field, problem.message, problem.hint, problem.level)
