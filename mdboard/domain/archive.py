"""Archiving: finished cards older than N days go into a folder per year inside their state.

A finished after-sales case `issue/archived/AS-0001.md`, finished in 2025, becomes
`issue/archived/2025/AS-0001.md`. The folder is still its state (an archived card stays
finished, its history reads on as one card); the year folder only files it away, so that
`ls`, `mine`, `check` and the board's pages, which skip archive folders unless asked
(`--archived`), cost the same after a year of 100,000 cases as after a week. Links to an
archived card stay good, and its ID is never given to a new card.

When a card was finished is when its file arrived in its done state's folder, as git
recorded it (one `git log` over the done folders); a board outside git, or a card not
committed yet, goes by the file's modification time. Archiving commits like every other
change (`git.changes.Change`: the lock, the redo journal, only the cards' own paths), as
moves, in batches of `BATCH` cards so that no command line grows too long.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from mdboard.core import dates
from mdboard.core.config import BoardConfig
from mdboard.core.errors import MdboardError
from mdboard.core.i18n import t
from mdboard.core.store import Board, Card
from mdboard.domain.ops import Actor, resolve_actor
from mdboard.git import changes as git_changes

DEFAULT_DAYS = BoardConfig.archive_days  # without `archive: {days: N}` in mdboard.yaml: a month of after-sales
BATCH = 2000  # cards per commit: each card names two paths on git's command line


@dataclass
class Archived:
    """One card to archive: where it is, when it was finished, where it goes."""

    card: Card
    finished: datetime
    path: str  # the new board-relative path, in its year's folder


@dataclass
class ArchiveResult:
    """What `archive` did (or, for a dry run, would do)."""

    moved: list[Archived] = field(default_factory=list)
    commits: list[str] = field(default_factory=list)
    note: str = ""


def archive_path(card: Card, finished: datetime) -> str:
    """`<type>/<state>/<year>/<ID>.md`: the card's archive folder is its state's, by year."""
    return f"{card.type}/{card.state}/{finished.year:04d}/{card.id}.md"


def archive_days(board: Board, days: int | None = None) -> int:
    """How many days after finishing a card is archived: `days` when given (`--days`),
    else the board's `archive: {days: N}` (30 when mdboard.yaml does not say)."""
    return board.config.archive_days if days is None else days


def due_for_archive(board: Board, days: int | None = None) -> list[Archived]:
    """The finished cards (in a done state, not archived yet) finished more than `days`
    days ago (None: the board's setting), oldest first."""
    days = archive_days(board, days)
    if days < 0:
        raise MdboardError(t("archive.bad_days", days=days))
    cfg = board.config
    tz = cfg.timezone
    done = [c for c in board.cards() if not c.error and c.state and c.state in cfg.types[c.type].done_states()]
    if not done:
        return []
    since = finished_times(board, [c.path for c in done])
    limit = dates.now(tz) - timedelta(days=days)
    out = []
    for card in done:
        finished = since.get(card.path) or _modified(board, card)
        if finished <= limit:
            out.append(Archived(card, finished, archive_path(card, finished.astimezone(dates.zone(tz)))))
    return sorted(out, key=lambda a: (a.finished, a.card.path))


def finished_times(board: Board, paths: list[str]) -> dict[str, datetime]:
    """When each card file arrived at its path, as git recorded it (the latest commit that
    added it there: its move into the done state, or its creation there). One `git log`
    over the folders that hold `paths`, newest first and without rename detection (a move
    is an addition at the new path), read only until every path is found: on a board
    archived every month the cards waiting are all in the last few weeks of history, so
    200,000 commits are not walked. Paths git does not know are left out."""
    if board.git_dir is None or not paths:
        return {}
    import subprocess

    from mdboard.git.runner import stream_git

    wanted = set(paths)
    folders = sorted({p.rsplit("/", 1)[0] for p in paths})
    # plain folder names (their archive folders come along and are passed over): git prunes
    # the trees it compares by them, 2.4 times faster than a `:(glob)folder/*.md` pathspec
    proc = stream_git(board.root, "-c", "core.quotepath=false", "--literal-pathspecs", "log", "--no-renames",
                      "--diff-filter=A", "--name-only", "--relative", "--format=%x00%ct", "--", *folders,
                      stderr=subprocess.DEVNULL)
    found: dict[str, datetime] = {}
    moment = None
    try:
        for raw in proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if line.startswith("\0"):
                moment = datetime.fromtimestamp(int(line[1:])).astimezone()
            elif moment is not None and line in wanted and line not in found:
                found[line] = moment
                if len(found) == len(wanted):
                    break
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
        proc.wait()
    return found


def _modified(board: Board, card: Card) -> datetime:
    """The card file's modification time (a board outside git, a card not committed)."""
    return datetime.fromtimestamp(os.stat(board.root / card.path).st_mtime).astimezone()


def archive(board: Board, days: int | None = None, actor: Actor | None = None, no_commit: bool = False,
            dry_run: bool = False) -> ArchiveResult:
    """Move every finished card older than `days` days (None: the board's setting) into its
    year's archive folder, committed as the acting person (one commit per `BATCH` cards)."""
    days = archive_days(board, days)
    actor = actor or resolve_actor(board)
    with git_changes.board_lock(board):
        board.invalidate()
        moved = due_for_archive(board, days)
        result = ArchiveResult(moved)
        if dry_run or not moved:
            return result
        commit = git_changes.commits_enabled(board, no_commit)
        if not commit and not no_commit and board.config.commit:
            result.note = t("ops.not_a_repo")
        batches = [moved[i:i + BATCH] for i in range(0, len(moved), BATCH)]
        for number, batch in enumerate(batches, 1):
            change = _change(board, batch, days, actor, number, len(batches))
            sha = git_changes.apply_change(board, change, commit=commit)
            if sha:
                result.commits.append(sha)
    return result


def _change(board: Board, batch: list[Archived], days: int, actor: Actor, number: int, total: int):
    """One commit moving a batch of cards into their archive folders (content untouched)."""
    files: dict[str, str | None] = {}
    renames: dict[str, str] = {}
    for item in batch:
        files[item.card.path] = None
        files[item.path] = board.read_text(item.card)
        renames[item.path] = item.card.path
    subject = t("archive.subject", count=len(batch), days=days)
    if total > 1:
        subject = t("archive.subject_batch", subject=subject, number=number, total=total)
    trailers = [("Action", "archive"), ("Days", str(days))]
    return git_changes.Change(files, subject, trailers, actor.author, renames=renames)

