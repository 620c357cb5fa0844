"""The board's history: per-card events read from `git log` in one streamed pass.

One `git log -M --raw -z` process lists each commit's changed files (paths, renames,
object ids); one `git cat-file --batch` then gives the contents of the card versions
the events need: both versions of a changed card, the title of an added or deleted
one, nothing for a card moved unchanged. Each commit becomes events per card:
created, moved (a rename between state folders), field (a front matter key changed:
owner, due, …), checklist (a task item ticked or unticked), edited (other text),
deleted and renumbered. Commits made by mdboard and commits made by hand with plain
git are read the same way, from their content; mdboard's trailers add what content
cannot say (the `Forced:` reason of a forced move).

Every event is filed under the card's ID of today. A renumbering (a commit that
renames a card file to another ID, as `mdboard sync` does when two people created
the same ID offline) moves the events of the old ID to the new one, but only those
in the renumbering commit's own past (its ancestors): the other card that kept the
old ID, created on another line of work, keeps its own events.

A commit becomes compact rows (tuples) and its card versions are dropped; `Event`s are
made only for the rows a command asks for (`History`). The rows are cached in two files
of the board's private folder. The base (`history.cache`) holds every row up to one
commit, in parts read one at a time: the rows, each card's steps through its states
(all a report reads), the rows of the last weeks (all a standup reads), and the rows
again by card in shards (all `history ID` reads). It is written once and rewritten
only when the tail grows past TAIL_ROWS. The tail (`history.tail.cache`) holds the
rows of the commits after the base, and is all a new commit rewrites: the next run
asks git only for `last..HEAD`. When `last` is no longer an ancestor of HEAD (rebase,
reset, force push) the commits after the base are read again; when the base's own
commit is gone too, everything is.

Measured on the generated boards (2026-11-30): git spends 2.1 CPU s at 10,000 cards /
20,000 commits (47 s at 100,000 / 200,000) on the whole-file patches this module once
read, against 1.1 s (31 s) on `--raw -M` and 0.3 s (2.8 s) on `cat-file`; almost all
of git's time is comparing the trees of the state folders, whatever is printed.
The rows are the same (tests/history_oracle.py keeps the patch reader to compare with).
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
import sys
import tempfile
import time
import zlib
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from mdboard.core import cache, dates
from mdboard.core.cardfile import checklist, load_yaml, render_value, split_key_line
from mdboard.core.errors import GitError, MdboardError, UsageMistake
from mdboard.core.i18n import t
from mdboard.core.store import ARCHIVE_YEAR_RE, Board
from mdboard.core.text import ID_PATTERN, lazy_regex
from mdboard.git.runner import run_git, stream_git

CACHE_VERSION = 6  # 4: parts (head and prefix, rows, steps), read one at a time; 5: recent rows; 6: base and tail
CACHE_NAME = "history.cache"  # the base (see load_history)
TAIL_NAME = "history.tail.cache"  # the rows after the base
ACTIONS = ("created", "moved", "field", "checklist", "edited", "deleted", "renumbered")
_FORMAT = "%x1e%H%x1f%P%x1f%an%x1f%ae%x1f%at%x1f%s%x1f%(trailers:only,unfold)%x1d"
_CARD_NAME = re.compile(rf"^({ID_PATTERN})\.md$")
_TYPE_DIR = re.compile(r"^[a-z][a-z0-9_]*$")
_CLOSING_FENCE = re.compile(r"^(?:---|\.\.\.)[ \t]*\r*$", re.M)
_TITLE_LINE = re.compile(r"^title:(.*?)\r*$", re.M)
_TASK_MARK = re.compile(r"^([ \t]*[-*+][ \t]+\[)[ xX](\])")
_PLAIN_SCALAR = re.compile(r"^[^\s'\"\[\]{}#&*!|>%@`,][^#]*$")


@dataclass(frozen=True)
class Event:
    """One thing that happened to one card in one commit."""

    commit: str  # full sha
    time: datetime  # author date, aware, in the board timezone
    author: str  # roster name when the email is known, else the git name
    email: str
    person: str | None  # roster key, or None
    card: str  # the card's ID today (after any renumbering)
    type: str | None  # card type key
    action: str  # one of ACTIONS
    from_state: str | None
    to_state: str | None
    field: str | None  # for "field": the front matter key; for "checklist": the item text
    old: str | None  # the value as text (lists as [a, b]); checklist: "x" / " "; renumbered: the old ID
    new: str | None
    subject: str
    forced: str | None  # the --force reason, if any
    was: str | None = None  # the card's ID when this happened, if it was renumbered since

    def to_dict(self) -> dict:
        data = asdict(self)
        data["time"] = self.time.isoformat()
        return data


_FIELDS = tuple(f.name for f in fields(Event))


class History:
    """Every event on the board, oldest first (git's order), with a few ways in.

    It holds the compact rows read from git (or the cache) and makes `Event`s only for
    the rows a caller asks for: a standup wants the last day's, `history ID` one card's,
    and the report only each card's way through its states (`steps`), which the cache
    keeps apart so a warm report never unpickles the rest.

    From the cache, the rows are a base's (`parts`, read part by part when first needed)
    followed by the tail's (`tail`, the rows of the commits after the base, at hand): a
    caller that needs only the newest rows or steps, or one card's, reads no more.
    """

    def __init__(self, rows: list[tuple] | None = None, read_commits: int = 0, rebuilt: bool = False,
                 head: str | None = None, config=None, parts: "_Base | None" = None, lineage: str | None = None,
                 tail: list[tuple] | None = None):
        self._rows = rows if rows is not None or parts is not None else []
        self._tail = tail if tail is not None else []
        self.read_commits = read_commits  # commits parsed by this run (0 when the cache was current)
        self.rebuilt = rebuilt  # True when this run read the whole history
        self.head = head
        # The cache's line of descent: the same lineage means the rows (and steps) of an
        # older head are the first rows of this one, so a consumer that kept what it made
        # of the first n steps (the report's per-card facts) reads only the steps after them.
        # A new one each time the rows are read from scratch; None for a History not from git.
        self.lineage = lineage
        self._config = config
        self._parts = parts  # the _Base to load rows / steps from on first use (with the tail after it), else None
        self._steps: list[tuple] | None = None
        self._events: list[Event] | None = None
        self._by_card: dict[str, list[Event]] | None = None
        self._card_rows: dict[str, list[tuple]] | None = None
        self._card_asks = 0
        self._who: dict[tuple[str, str], tuple[str, str | None]] = {}
        self._times: dict[int, datetime] = {}

    @property
    def rows(self) -> list[tuple]:
        """The event rows, oldest first (columns: see `_Commit.rows`)."""
        if self._rows is None:
            self._rows = self._parts.rows() + self._tail
        return self._rows

    @property
    def events(self) -> list[Event]:
        if self._events is None:
            self._events = self._make(self.rows)
        return self._events

    def steps(self) -> list[tuple]:
        """Each card's way through its states, oldest first: (card, type, action, from state,
        to state, title or None, unix time) for the created, moved and deleted events and the
        title changes: all a retrospective report reads."""
        if self._steps is None:
            self._steps = self._parts.steps() + steps_of(self._tail) if self._rows is None else steps_of(self._rows)
        return self._steps

    def step_count(self) -> int:
        """len(self.steps()), without reading the base's steps."""
        if self._steps is None:
            if self._rows is None:
                return self._parts.meta["steps"] + len(steps_of(self._tail))
            self._steps = steps_of(self._rows)
        return len(self._steps)

    def steps_after(self, n: int) -> list[tuple]:
        """self.steps()[n:]: from the tail alone when the first n steps hold the base's (a report
        that kept what it made of the first n steps reads only what the newer commits added)."""
        if self._steps is None and self._rows is None and n >= self._parts.meta["steps"]:
            return steps_of(self._tail)[n - self._parts.meta["steps"]:]
        return self.steps()[n:]

    def moment(self, ts: int) -> datetime:
        """A row's unix time as an aware datetime in the board's time zone (memoised)."""
        moment = self._times.get(ts)
        if moment is None:
            moment = self._times[ts] = datetime.fromtimestamp(ts, ZoneInfo(self._config.timezone))
        return moment

    def by_card(self) -> dict[str, list[Event]]:
        """card ID -> its events, oldest first (a renumbered card keeps its earlier events)."""
        if self._by_card is None:
            index: dict[str, list[Event]] = {}
            for event in self.events:
                index.setdefault(event.card, []).append(event)
            self._by_card = index
        return self._by_card

    def commits_after(self, n: int) -> list[tuple[str, str]]:
        """(card ID, commit) of each row after the first n, oldest first: with n the rows an
        older head of the same `lineage` had, what the newer commits added (no `Event` is made)."""
        if self._rows is None and n >= self._parts.meta["rows"]:
            return [(row[_CARD], row[_SHA]) for row in self._tail[n - self._parts.meta["rows"]:]]
        return [(row[_CARD], row[_SHA]) for row in self.rows[n:]]

    def row_count(self) -> int:
        """len(self.rows), without reading the base's rows."""
        return self._parts.meta["rows"] + len(self._tail) if self._rows is None else len(self._rows)

    def card_commits(self) -> dict[str, list[str]]:
        """card ID -> the commits of its events, oldest first (what a card's page depends on),
        from the rows: no `Event` is made."""
        return {card: [row[_SHA] for row in rows] for card, rows in self.rows_by_card().items()}

    def rows_by_card(self) -> dict[str, list[tuple]]:
        """card ID -> its rows, oldest first; one pass over the rows, made once (the rows never
        change after they are read)."""
        if self._card_rows is None:
            index: dict[str, list[tuple]] = {}
            for row in self.rows:
                found = index.get(row[_CARD])
                if found is None:
                    index[row[_CARD]] = [row]
                else:
                    found.append(row)
            self._card_rows = index
        return self._card_rows

    def for_card(self, card_id: str) -> list[Event]:
        """One card's events, oldest first. The first card asked for is found by one pass
        over the rows (`history ID`; from the cache, in the base's shard of that card and the
        tail); from the second on, the rows are indexed by card once (a build asks for every
        card's: a pass per card made a 10,000-card build 2.5x slower)."""
        if self._by_card is not None or self._events is not None:
            return list(self.by_card().get(card_id, []))
        self._card_asks += 1
        if self._rows is None and self._card_asks == 1:
            return self._make(self._parts.card_rows(card_id) + [row for row in self._tail if row[_CARD] == card_id])
        if self._card_rows is None and self._card_asks == 1:
            return self._make([row for row in self.rows if row[_CARD] == card_id])
        return self._make(self.rows_by_card().get(card_id, []))

    def recent(self, n: int = 20) -> list[Event]:
        """The last n events, newest first."""
        if n <= 0:
            return []
        if self._rows is None:
            recent = self._parts.recent() if len(self._tail) < n else None
            rows = self._tail if recent is None else recent[1] + self._tail
            if len(rows) >= n or (recent is not None and len(recent[1]) == self._parts.meta["rows"]):
                return list(reversed(self._make(rows[-n:])))
        return list(reversed(self._make(self.rows[-n:])))

    def since(self, moment: datetime) -> list[Event]:
        """Events at or after `moment`, oldest first (a standup's: from the cache's recent
        rows when they reach back that far, without loading every row)."""
        if self._events is not None:
            return [e for e in self._events if e.time >= moment]
        stamp = moment.timestamp()
        rows = self._rows
        if rows is None:
            recent = self._parts.recent()
            rows = recent[1] + self._tail if recent is not None and stamp >= recent[0] else self.rows
        return self._make([row for row in rows if row[_TS] >= stamp])

    def _make(self, rows: list[tuple]) -> list[Event]:
        """Rows -> Events, resolving people and time zone with today's config."""
        if not rows:
            return []
        cfg = self._config
        by_email = {e.lower(): p for p in cfg.people.values() for e in p.emails}
        who, moment = self._who, self.moment
        out = []
        make, names = object.__new__, _FIELDS  # an Event without its __init__: twice as fast for 20k events
        for sha, ts, name, email, subject, forced, card, ctype, action, src, dst, fld, old, new, was in rows:
            ident = who.get((name, email))
            if ident is None:
                person = by_email.get(email.lower())
                ident = who[(name, email)] = (person.name, person.key) if person else (name, None)
            event = make(Event)
            event.__dict__.update(zip(names, (sha, moment(ts), ident[0], email, ident[1], card, ctype, action, src,
                                              dst, fld, old, new, subject, forced, was)))
            out.append(event)
        return out


def steps_of(rows: list[tuple]) -> list[tuple]:
    """The rows a card's way through its states is made of, as `History.steps` gives them."""
    out = []
    for row in rows:
        action = row[_ACTION]
        if action in _STEP_ACTIONS or (action == "field" and row[_FIELD] == "title"):
            title = row[_OLD] if action == "deleted" else row[_NEW]
            out.append((row[_CARD], row[_TYPE], action, row[_SRC], row[_DST], title, row[_TS]))
    return out


_STEP_ACTIONS = frozenset(("created", "moved", "deleted"))


# --- loading -------------------------------------------------------------------------

def load_history(board: Board) -> History:
    """The board's history from git, through the segmented cache.

    An empty History (no error) when the board is not in a repository or has no commits.
    The cache is a base (every row up to some commit, written once: see `_Base`) and a
    tail (the rows of the commits after it, rewritten at each new head: see `_save_tail`).
    A new head of the same history reads only its new commits and rewrites only the tail;
    once the tail holds more than TAIL_ROWS rows it is folded into a new base. A history
    rewritten below the tail (a reset, amend or rebase of recent commits) reads the
    commits after the base again; one rewritten below the base is read from scratch.
    """
    if board.git_dir is None:
        return History([], config=board.config)
    found = _head_and_prefix(board.root)
    if found is None:
        return History([], config=board.config)
    head, prefix = found
    base = _Base.load(board, prefix)
    if base is not None:
        tail = _load_tail(board, base)
        if tail is not None and tail["head"] == head:
            return History(None, 0, False, head, board.config, base, tail["lineage"], tail["rows"])
        history = _grow(board, base, tail, head, prefix)
        if history is not None:
            return history
    rows, count = read_rows(board.root, prefix, None, head)
    history = History(rows, count, True, head, board.config, lineage=os.urandom(8).hex())
    _save_base(board, head, prefix, rows, history.lineage, history.steps())
    return history


def _grow(board: Board, base: "_Base", tail: dict | None, head: str, prefix: str) -> History | None:
    """The history at `head` from the cached base (and tail, when `head` descends from it),
    reading only the commits after them; None when it must be read from scratch (the base
    is no ancestor of `head`, or a new renumbering concerns a card the cache holds rows of)."""
    root = board.root
    if tail is not None and _is_ancestor(root, tail["head"], head):
        start, rows, lineage = tail["head"], tail["rows"], tail["lineage"]
    elif _is_ancestor(root, base.head, head):
        # the tail's commits were rewritten (or the tail is lost): what a consumer made of
        # them may not hold, so the rows get a new lineage
        start, rows, lineage = base.head, [], os.urandom(8).hex()
    else:
        return None
    new_rows, count = read_rows(root, prefix, start, head)
    if _renumbers_known_ids(new_rows, rows) or base.renumbers(new_rows):
        return None  # a renumbering may concern events read before: read everything
    rows = rows + new_rows
    if len(rows) > TAIL_ROWS:
        old = base.rows(fallback=False)
        if old is None:
            return None
        history = History(old + rows, count, False, head, board.config, lineage=lineage)
        _save_base(board, head, prefix, history.rows, lineage, history.steps())
        return history
    _save_tail(board, base.head, head, lineage, rows)
    return History(None, count, False, head, board.config, base, lineage, rows)


TAIL_ROWS = 10_000  # rows the tail may hold before it is folded into a new base
SHARDS = 64  # the base also keeps its rows by card, in this many parts (one card's history reads one)
_SHARD_PART = 4  # the base's parts: meta, rows, steps, recent rows, then the shards


def _save_base(board: Board, head: str, prefix: str, rows: list[tuple], lineage: str, steps: list[tuple]) -> None:
    """Cache `rows` (read up to `head`) as a new base with an empty tail: the rows, the steps
    made from them, the recent rows and the rows again by card (`SHARDS` parts), each part
    naming `head`; its first part says what the base holds (see `_Base`)."""
    shards: list[list[tuple]] = [[] for _ in range(SHARDS)]
    where: dict[str, list] = {}
    for row in rows:
        shard = where.get(row[_CARD])
        if shard is None:
            shard = where[row[_CARD]] = shards[shard_of(row[_CARD])]
        shard.append(row)
    meta = {"head": head, "prefix": prefix, "lineage": lineage, "rows": len(rows), "steps": len(steps),
            "was": frozenset(row[_WAS] for row in rows if row[_WAS])}
    cache.save(cache_path(board), "history", CACHE_VERSION, meta, (head, rows), (head, steps),
               (head, recent_rows(rows)), *((head, shard) for shard in shards))
    _save_tail(board, head, head, lineage, [])


def _save_tail(board: Board, base: str, head: str, lineage: str, rows: list[tuple]) -> None:
    """Cache the rows of the commits after the base `base` up to `head`."""
    cache.save(tail_path(board), "history-tail", CACHE_VERSION,
               {"base": base, "head": head, "lineage": lineage, "rows": rows})


def _load_tail(board: Board, base: "_Base") -> dict | None:
    """The cached tail of `base` (base, head, lineage, rows), or None when there is none for it."""
    tail = cache.load(tail_path(board), "history-tail", CACHE_VERSION)
    if isinstance(tail, dict) and tail.get("base") == base.head and isinstance(tail.get("rows"), list) \
            and isinstance(tail.get("head"), str) and tail.get("lineage"):
        return tail
    return None


def shard_of(card_id: str) -> int:
    """Which of the base's shards holds a card's rows (the same in every process)."""
    return zlib.crc32(card_id.encode("utf-8", "surrogatepass")) % SHARDS


RECENT_DAYS = 35  # the cache's recent rows reach back this far from the newest commit


def recent_rows(rows: list[tuple]) -> list:
    """[unix time, the rows at or after it]: the last RECENT_DAYS days before the newest row,
    which is all a standup or `log --since` of the last weeks reads."""
    if not rows:
        return [0, []]
    cutoff = max(row[_TS] for row in rows) - RECENT_DAYS * 86400
    return [cutoff, [row for row in rows if row[_TS] >= cutoff]]


class _Base:
    """The base of a history cache: every row up to its `head`, its parts read on first use.

    Part 0 (read at once) says what it holds: head, prefix, lineage, how many rows and
    steps, and the IDs its renumbered rows had (`was`). The others (the rows, the steps,
    the recent rows, the shards) each name the commit they were made at: a part that no
    longer matches (another process wrote a new base in between) or cannot be read is
    read again from git, or from the whole rows.
    """

    def __init__(self, board: Board, meta: dict):
        self.board, self.meta = board, meta
        self.head, self.prefix, self.lineage = meta["head"], meta["prefix"], meta["lineage"]
        self._rows: list[tuple] | None = None

    @classmethod
    def load(cls, board: Board, prefix: str) -> "_Base | None":
        meta = cache.load(cache_path(board), "history", CACHE_VERSION, 0)
        if isinstance(meta, dict) and meta.get("prefix") == prefix and isinstance(meta.get("head"), str) \
                and meta.get("lineage") and isinstance(meta.get("rows"), int) and isinstance(meta.get("steps"), int):
            return cls(board, meta)
        return None

    def _part(self, index: int):
        data = cache.load(cache_path(self.board), "history", CACHE_VERSION, index)
        if isinstance(data, tuple) and len(data) == 2 and data[0] == self.head and isinstance(data[1], list):
            return data[1]
        return None

    def rows(self, fallback: bool = True) -> list[tuple] | None:
        if self._rows is None:
            self._rows = self._part(1)
            if self._rows is None and fallback:
                self._rows = read_rows(self.board.root, self.prefix, None, self.head)[0]
        return self._rows

    def steps(self) -> list[tuple]:
        steps = self._part(2)
        return steps if steps is not None else steps_of(self.rows())

    def recent(self) -> list | None:
        """[unix time, the rows at or after it] (see `recent_rows`), or None."""
        found = self._part(3)
        return found if found is not None and len(found) == 2 and isinstance(found[1], list) else None

    def card_rows(self, card_id: str) -> list[tuple]:
        """The rows filed under `card_id`, oldest first: one shard read, not every row."""
        shard = self._part(_SHARD_PART + shard_of(card_id)) if self._rows is None else None
        return [row for row in (shard if shard is not None else self.rows()) if row[_CARD] == card_id]

    def renumbers(self, new_rows: list[tuple]) -> bool:
        """Whether a renumbering among `new_rows` renames an ID the base holds rows of."""
        renamed = {row[_OLD] for row in new_rows if row[_ACTION] == "renumbered"}
        return bool(renamed) and (bool(renamed & self.meta.get("was", frozenset()))
                                  or any(self.card_rows(card_id) for card_id in renamed))


def _renumbers_known_ids(new_rows: list[tuple], old_rows: list[tuple]) -> bool:
    """Whether a renumbering among `new_rows` renames an ID that `old_rows` hold events of."""
    renamed = {row[_OLD] for row in new_rows if row[_ACTION] == "renumbered"}
    return bool(renamed) and any(row[_CARD] in renamed or row[_WAS] in renamed for row in old_rows)


def _git(root: Path, *args: str) -> subprocess.CompletedProcess:
    return run_git(root, *args)


def _head_and_prefix(root: Path) -> tuple[str, str] | None:
    """(HEAD commit, the board's folder inside the repository with a trailing /) or None."""
    proc = _git(root, "rev-parse", "--show-prefix", "--verify", "-q", "HEAD")
    if proc.returncode != 0:
        return None
    lines = proc.stdout.decode("utf-8", "replace").split("\n")
    if len(lines) < 2 or not lines[1].strip():
        return None
    return lines[1].strip(), lines[0].strip()


def _is_ancestor(root: Path, old: str, head: str) -> bool:
    return _git(root, "merge-base", "--is-ancestor", old, head).returncode == 0


# --- reading git ---------------------------------------------------------------------

BATCH = 2000  # commits whose card versions one `git cat-file --batch` reads, while the log streams on


def read_rows(root: Path, prefix: str, start: str | None, head: str) -> tuple[list[tuple], int]:
    """Event rows of the commits in `start..head` (all of head's history when start is None).

    Returns (rows oldest first, number of commits read), each row's card under its ID as of
    `head` (see `follow_renumbers`). `git log --raw -z` lists each commit's changed paths and
    object ids and is read as it streams; every BATCH commits, one `git cat-file --batch`
    gives the contents of the card versions their events need, and the commits become rows
    and are dropped: what is held at once is one batch's commits and contents, not the
    whole history's (a version the next batch needs again is read again).
    """
    chunks, parents = [], {}
    batch: list[_Commit] = []
    for commit in _log_commits(root, prefix, start, head):
        batch.append(commit)
        if len(batch) >= BATCH:
            _rows_of(root, batch, chunks, parents)
    _rows_of(root, batch, chunks, parents)
    rows = [row for chunk in reversed(chunks) for row in chunk]
    chunks.clear()
    return follow_renumbers(rows, parents), len(parents)


def _rows_of(root: Path, batch: list[_Commit], chunks: list, parents: dict) -> None:
    """Turn a batch of commits (newest first) into rows appended to `chunks`, their parents
    noted in `parents`; the batch is emptied."""
    contents = _Contents(root, batch)
    for commit in batch:
        contents.fill(commit.files)
        chunks.append(commit.rows())
        parents[commit.sha] = commit.parents
    batch.clear()


def log_args(prefix: str, start: str | None, head: str) -> list[str]:
    """The `git log` arguments `_log_commits` parses: changed paths and object ids of `start..head`."""
    args = ["log", "-M", "--raw", "-z", "--no-abbrev", "--no-color", "--no-diff-merges", "--no-show-signature",
            f"--format={_FORMAT}"]
    if prefix:
        args.append(f"--relative={prefix}")
    args.append(f"{start}..{head}" if start else head)
    return args


def _log_commits(root: Path, prefix: str, start: str | None, head: str):
    """The commits of `start..head`, newest first, each with the card files it changed, as
    `git log` writes them (GitError, after the last, when git failed)."""
    with tempfile.TemporaryFile() as err:
        if start is not None:  # the commits after a cached head: a short log, read from the pipe
            proc = stream_git(root, *log_args(prefix, start, head), stderr=err)
            try:
                yield from _raw_commits(proc.stdout)
            finally:
                proc.stdout.close()
                code = proc.wait()
        else:
            code = yield from _spooled_commits(root, prefix, head, err)
        if code != 0:
            err.seek(0)
            detail = err.read().decode("utf-8", "replace").strip()
            raise GitError(t("git.failed", command="git log", detail=detail[-500:]))


def _spooled_commits(root: Path, prefix: str, head: str, err):
    """`_log_commits` of the whole history, through a `_Spool`; returns git's exit code."""
    spool = _Spool()
    try:
        proc = stream_git(root, *log_args(prefix, None, head), stderr=err, stdout=spool.writer)
    except BaseException:
        spool.close()
        raise
    spool.started(proc)
    try:
        yield from _raw_commits(spool)
    finally:
        spool.close()
        code = proc.wait()
    return code


class _Spool:
    """`git log`'s output through a file of its own: git writes into it as fast as it can,
    and the parser (`read`) takes what is there, waiting briefly when it has caught up
    (a quarter of what it has waited so far, from 0.5 ms to 20 ms). For the whole history
    only: the few commits after a cached head come through a pipe as before, where no
    wait adds to a warm report's time.

    Read from a pipe, git stopped at every full pipe (64 KiB) until the parser came back
    for more, and the parser waited for git in turn: git's time and the parser's added up
    (27 s at 100,000 cards / 200,000 commits, 14 s of it git's). Through the file they run
    side by side on two cores, without a thread that would take the interpreter's lock
    from the parser at every few kilobytes git writes. The file has no name once it is
    open (its folder is the system's temporary one) and goes when closed.
    """

    PAUSE = 0.02  # the longest wait for more output

    def __init__(self):
        fd, name = tempfile.mkstemp(prefix="mdboard-log-")
        try:
            self.writer = fd  # for git's stdout; `started` closes this process's copy
            self._file = open(name, "rb", buffering=0)
        except BaseException:
            os.close(fd)
            raise
        finally:
            os.unlink(name)
        self.proc: subprocess.Popen | None = None
        self._end = False

    def started(self, proc: subprocess.Popen) -> None:
        self.proc = proc
        os.close(self.writer)
        self.writer = -1

    def read(self, size: int = 1 << 20) -> bytes:
        """Up to `size` bytes more of git's output (waiting while git is still at work), b"" at its end."""
        waiting = None
        while True:
            data = self._file.read(size)
            if data or self._end:
                return data
            if self.proc.poll() is not None:
                self._end = True  # all it wrote is in the file: read on to the end
                continue
            now = time.monotonic()
            waiting = waiting or now
            time.sleep(min(self.PAUSE, max(0.0005, (now - waiting) / 4)))

    def close(self) -> None:
        """Stop: git is stopped when its output was not read to the end (the parser gave up)."""
        if self.writer >= 0:
            os.close(self.writer)
        if self.proc is not None and not self._end and self.proc.poll() is None:
            self.proc.kill()
        self._file.close()


def _raw_commits(stream, block: int = 1 << 20):
    """`git log --raw -z --format=_FORMAT` bytes -> _Commit objects, newest first, as they arrive."""
    tail = b""
    cards: dict[bytes, tuple | None] = {}  # path -> card_of(path), shared by every commit that names it
    shas: dict[str, str] = {}  # parents met whose own commit is still to come (see `_raw_commit`)
    while True:
        data = stream.read(block)
        if not data:
            break
        pieces = (tail + data).split(b"\x1e")
        tail = pieces.pop()
        for piece in pieces:
            if piece:
                yield _raw_commit(piece, cards, shas)
    if tail:
        yield _raw_commit(tail, cards, shas)


# compiled when a log is first read: a warm report or standup reads none
_RAW_ENTRY = lazy_regex(rb":[0-7]+ [0-7]+ ([0-9a-f]+) ([0-9a-f]+) "
                        rb"(?:([RC])[0-9]*\0([^\0]*)\0([^\0]*)|([A-Z])[0-9]*\0([^\0]*))\0")


def _raw_commit(piece: bytes, cards: dict, shas: dict | None = None) -> _Commit:
    """One commit: its header (up to the \\x1d) and its raw entries
    (`:mode mode old-id new-id status` NUL path NUL [second path NUL], one match of
    _RAW_ENTRY each: a path is never searched for an entry)."""
    header, _, rest = piece.partition(b"\x1d")
    commit = _Commit(header.decode("utf-8", "replace"))
    if shas is not None:  # newest first, a commit's id is met first as its child's parent: one string for both
        commit.sha = shas.pop(commit.sha, commit.sha)
        commit.parents = tuple(shas.setdefault(p, p) for p in commit.parents)
    files = commit.files
    for old_id, new_id, renamed, old_path, new_path, status, path in _RAW_ENTRY().findall(rest):
        if renamed:
            kind = "M"
        else:
            old_path = new_path = path
            kind = "A" if status == b"A" else "D" if status == b"D" else "M"
        old_card = None if kind == "A" else _card_of_bytes(old_path, cards)
        new_card = None if kind == "D" else _card_of_bytes(new_path, cards)
        if old_card is None and new_card is None:
            continue
        files.append(_File(kind, old_card, new_card, old_id.decode("ascii"), new_id.decode("ascii")))
    return commit


def _card_of_bytes(path: bytes, cards: dict) -> tuple | None:
    """card_of for a path as git wrote it, memoised in `cards`: the same (ID, type, state)
    strings for every commit that names the path (smaller rows, smaller cache)."""
    try:
        return cards[path]
    except KeyError:
        found = cards[path] = card_of(path.decode("utf-8", "replace"))
        return found


# row columns (see _Commit.rows)
_SHA, _TS, _CARD, _TYPE, _ACTION, _SRC, _DST, _FIELD, _OLD, _NEW, _WAS = 0, 1, 6, 7, 8, 9, 10, 11, 12, 13, 14


def follow_renumbers(rows: list[tuple], parents: dict[str, tuple[str, ...]]) -> list[tuple]:
    """`rows` with each event filed under the ID its card has after the renumberings.

    A renumbering commit R renames card X to Y. The events of X in R's past (R's
    ancestors, found through `parents`) happened to the card that is now Y; events
    of X elsewhere (another line of work that also created an X, merged later)
    belong to that other card and keep X. Renumberings are applied oldest first,
    so a card renumbered twice ends under its last ID.
    """
    renumbers = [i for i, row in enumerate(rows) if row[_ACTION] == "renumbered" and row[_OLD] != row[_CARD]]
    if not renumbers:
        return rows
    rows = list(rows)
    depth = _generations(parents)
    by_id: dict[str, list[int]] = {}
    for j, row in enumerate(rows):
        by_id.setdefault(row[_CARD], []).append(j)
    for i in sorted(renumbers, key=lambda i: depth.get(rows[i][_SHA], 0)):
        sha, old, new = rows[i][_SHA], rows[i][_OLD], rows[i][_CARD]
        candidates = [j for j in by_id.get(old, []) if rows[j][_SHA] != sha]
        if not candidates:
            continue
        past = _ancestors(sha, parents, depth, min(depth.get(rows[j][_SHA], 0) for j in candidates))
        moved = [j for j in candidates if rows[j][_SHA] in past]
        for j in moved:
            row = rows[j]
            rows[j] = row[:_CARD] + (new,) + row[_CARD + 1:_WAS] + (row[_WAS] or old,)
        gone = set(moved)
        by_id[old] = [j for j in by_id[old] if j not in gone]
        by_id[new] = sorted(by_id.get(new, []) + moved)
    return rows


def _generations(parents: dict[str, tuple[str, ...]]) -> dict[str, int]:
    """commit -> 1 + the longest path to a root among `parents` (a parent never outranks its child)."""
    depth: dict[str, int] = {}
    for start in parents:
        stack = [start]
        while stack:
            sha = stack[-1]
            if sha in depth:
                stack.pop()
                continue
            pending = [p for p in parents.get(sha, ()) if p in parents and p not in depth]
            if pending:
                stack += pending
            else:
                depth[sha] = 1 + max((depth[p] for p in parents.get(sha, ()) if p in depth), default=0)
                stack.pop()
    return depth


def _ancestors(sha: str, parents: dict[str, tuple[str, ...]], depth: dict[str, int], floor: int) -> set[str]:
    """The strict ancestors of `sha` among `parents`, not walking below generation `floor`."""
    seen: set[str] = set()
    todo = list(parents.get(sha, ()))
    while todo:
        commit = todo.pop()
        if commit in seen or depth.get(commit, 0) < floor:
            continue
        seen.add(commit)
        todo += parents.get(commit, ())
    return seen


class _Side:
    """One version of a card file: its front matter (key -> its lines) and its body text
    (lines joined by \\n, without line ends).

    The front matter is split into keys only when asked for (`fm`): two versions whose
    front matter text is the same (`head`) have no field changes to find."""

    __slots__ = ("head", "_fm", "body")

    def __init__(self, fm: dict[str, list[str]] | None, body: str, head: str | None = None):
        self._fm, self.body, self.head = fm, body, head

    @property
    def fm(self) -> dict[str, list[str]]:
        if self._fm is None:
            self._fm = _front_matter(self.head)
        return self._fm


@functools.lru_cache(maxsize=1 << 16)
def _key_value(line: str) -> tuple[str | None, str]:
    """(key, value text) of a top-level `key: value` front matter line, else (None, "").

    Memoised: the same lines (`owner: wangli`, `state: …`) come back in version after
    version of a card."""
    first = line[:1]
    if not first or first in " \t#-":
        return None, ""
    return split_key_line(line)


class _File:
    """One card file changed by a commit: added ("A"), deleted ("D") or changed or renamed
    ("M"), the card its old and new path name (`card_of`, None for a path that is no card),
    its old and new object id and, once `_Contents.fill` has read them, both sides (None
    where the events need no content)."""

    __slots__ = ("kind", "old_card", "new_card", "old_id", "new_id", "old", "new")

    def __init__(self, kind: str, old_card, new_card, old_id: str, new_id: str):
        self.kind = kind
        self.old_card, self.new_card = old_card, new_card
        self.old_id, self.new_id = old_id, new_id
        self.old = self.new = None

    def wants(self) -> tuple[tuple[str, bool], ...]:
        """The (object id, whole?) versions its events read: an added or deleted card only its
        title, a changed one both versions whole; a file moved unchanged nothing."""
        if self.kind == "A":
            return ((self.new_id, False),)
        if self.kind == "D":
            return ((self.old_id, False),)
        if self.old_id == self.new_id:
            return ()
        return ((self.old_id, True), (self.new_id, True))


class _Contents:
    """The card versions a list of commits needs, read in one `git cat-file --batch`.

    Each version is parsed once, when first asked for, and dropped after its last use
    (a version is usually read twice: as the new side of one change, the old side of the next).
    The versions stay where git wrote them (one buffer, an offset per object id) until parsed.
    """

    def __init__(self, root: Path, commits: list[_Commit]):
        uses: dict[tuple[str, bool], int] = {}
        for commit in commits:
            for f in commit.files:
                for want in f.wants():
                    uses[want] = uses.get(want, 0) + 1
        self.uses = uses
        self.parsed: dict[tuple[str, bool], _Side | None] = {}
        ids = sorted({oid for oid, _ in uses})
        self.data, self.where = _cat_file(root, ids) if ids else (b"", {})

    def fill(self, files: list[_File]) -> None:
        for f in files:
            wants = f.wants()
            if not wants:
                continue
            if f.kind == "A":
                f.new = self._side(wants[0])
            elif f.kind == "D":
                f.old = self._side(wants[0])
            else:
                f.old, f.new = self._side(wants[0]), self._side(wants[1])

    def _side(self, want: tuple[str, bool]) -> _Side | None:
        side = self.parsed.get(want)
        if side is None and want not in self.parsed:
            span = self.where.get(want[0])
            side = self.parsed[want] = None if span is None else _side_of(self.data, span[0], span[1], want[1])
        left = self.uses[want] - 1
        if left:
            self.uses[want] = left
        else:
            del self.uses[want], self.parsed[want]
        return side


def _cat_file(root: Path, ids: list[str]) -> tuple[bytes, dict[str, tuple[int, int]]]:
    """(`git cat-file --batch` output for `ids`, object id -> (start, end) of its content there;
    ids git does not have are left out)."""
    proc = run_git(root, "cat-file", "--batch", input="".join(oid + "\n" for oid in ids))
    if proc.returncode != 0:
        raise GitError(t("git.failed", command="git cat-file", detail=proc.stderr.decode("utf-8", "replace")[-500:]))
    data, pos, where = proc.stdout, 0, {}
    for oid in ids:
        end = data.index(b"\n", pos)
        header = data[pos:end].split()
        pos = end + 1
        if len(header) == 3 and header[1] != b"missing":
            size = int(header[2])
            where[oid] = (pos, pos + size)
            pos += size + 1
    return data, where


def _side_of(data: bytes, start: int, end: int, whole: bool) -> _Side | None:
    """The card version in data[start:end]: its front matter and body (`whole`), or only its
    `title:` line; None when it is binary as git judges it (a NUL in its first 8,000 bytes).

    Lines are split at \\n only and lose their trailing \\r, as in a diff; the front matter
    is what lies between a first line `---` and the next `---` or `...` line."""
    if data.find(b"\0", start, min(end, start + 8000)) >= 0:
        return None
    text = str(memoryview(data)[start:end], "utf-8", "replace")
    eol = text.find("\n")
    first = text if eol < 0 else text[:eol]
    if first.lstrip("\ufeff").rstrip() != "---":  # no front matter: all of it is body
        return _Side({}, _body(text) if whole else "")
    if eol < 0:
        return _Side({}, "")
    close = _CLOSING_FENCE.search(text, eol + 1)
    head = text[eol + 1:close.start() if close else len(text)]
    if not whole:
        titles = _TITLE_LINE.findall(head)
        return _Side({"title": [titles[-1]]} if titles else {}, "")
    return _Side(None, _body(text[close.end() + 1:]) if close else "", head)


def _front_matter(head: str) -> dict[str, list[str]]:
    """Front matter text -> key -> [its first line's value, its continuation lines]."""
    fm: dict[str, list[str]] = {}
    key = None
    for line in head.split("\n"):
        line = line.rstrip("\r")
        found, value = _key_value(line)
        if found is not None:
            key = found
            fm[key] = [value]
        elif key is not None and line.strip() and not line.lstrip().startswith("#"):
            fm[key].append(line)
    return fm


def _body(text: str) -> str:
    """Body text as lines joined by \\n without their line ends (the last \\n dropped)."""
    if text.endswith("\n"):
        text = text[:-1]
    if "\r" in text:
        text = "\n".join(line.rstrip("\r") for line in text.split("\n"))
    return text


class _Commit:
    """A commit's header and the card files it touched."""

    __slots__ = ("sha", "parents", "ts", "name", "email", "subject", "trailers", "files")

    def __init__(self, header: str):
        parts = header.lstrip("\x1e").split("\x1f")
        parts += [""] * (7 - len(parts))
        self.sha, self.parents = parts[0], tuple(parts[1].split())
        self.name, self.email = sys.intern(parts[2]), sys.intern(parts[3])  # a few people, many commits
        self.ts = int(parts[4] or 0)
        self.subject = parts[5]
        self.trailers = _trailers(parts[6].rstrip("\x1d\n")) if "Forced:" in parts[6] else {}
        self.files: list[_File] = []

    def rows(self) -> list[tuple]:
        forced = self.trailers.get("Forced")
        forced_card = self.trailers.get("Card")
        head = (self.sha, self.ts, self.name, self.email, self.subject)
        out = []
        for card, ctype, action, src, dst, fld, old, new in _card_events(self.files):
            reason = forced if forced is not None and action == "moved" and forced_card in (None, card) else None
            out.append(head + (reason, card, ctype, action, src, dst, fld, old, new, None))
        return out


def _trailers(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() and key.strip() not in out:
            out[key.strip()] = value.strip()
    return out


def card_of(path: str | None) -> tuple[str, str, str] | None:
    """(card ID, type key, state key) of a board-relative card path, else None."""
    if not path:
        return None
    parts = path.split("/")
    if len(parts) == 4 and ARCHIVE_YEAR_RE.fullmatch(parts[2]):  # archived: the same card, the same state
        del parts[2]
    if len(parts) != 3 or not _TYPE_DIR.match(parts[0]):
        return None
    m = _CARD_NAME.match(parts[2])
    return (m.group(1), parts[0], parts[1]) if m else None


def _card_events(files: list[_File]) -> list[tuple]:
    """(card, type, action, from, to, field, old, new) for the card files of one commit."""
    out: list[tuple] = []
    if len(files) == 1:  # most commits: one card file
        f = files[0]
        old, new = f.old_card, f.new_card
        if new is None:
            if old is not None:
                _one_card(out, old[0], None, None, f, old)
        elif old is not None and old[0] != new[0]:
            _one_card(out, new[0], f, new, None, None)
            _one_card(out, old[0], None, None, f, old)
        else:
            _one_card(out, new[0], f, new, None, None)
        return out
    by_id: dict[str, list] = {}
    for f in files:
        old, new = f.old_card, f.new_card
        if old is None and new is None:
            continue
        if new is not None:
            found = by_id.setdefault(new[0], [None, None, None, None])
            found[0], found[1] = f, new
        if old is not None and (new is None or old[0] != new[0]):
            found = by_id.setdefault(old[0], [None, None, None, None])
            found[2], found[3] = f, old
    for card_id, (new_file, new, old_file, old) in by_id.items():
        _one_card(out, card_id, new_file, new, old_file, old)
    return out


def _one_card(out: list, card_id: str, new_file, new, old_file, old) -> None:
    """Append the events of one card in one commit: the file it is in now (`new_file`, its
    `new` (ID, type, state)) and the file it left (`old_file`, `old`), either None."""
    if new_file is not None and new_file.old_card is not None:
        old_info = new_file.old_card
        if old_info[0] != card_id:
            out.append((card_id, new[1], "renumbered", old_info[2], new[2], None, old_info[0], card_id))
        if (old_info[1], old_info[2]) != (new[1], new[2]):
            out.append((card_id, new[1], "moved", old_info[2], new[2], None, None, None))
        _content_events(out, card_id, new[1], new_file.old, new_file.new)
        return
    if new_file is not None and old_file is not None:
        # deleted and added again: a move git did not pair (only the titles of both are known)
        if (old[1], old[2]) != (new[1], new[2]):
            out.append((card_id, new[1], "moved", old[2], new[2], None, None, None))
        _content_events(out, card_id, new[1], old_file.old, new_file.new)
        return
    if new_file is not None:
        out.append((card_id, new[1], "created", None, new[2], None, None, _title(new_file.new)))
        return
    after = old_file.new_card
    if after is not None and after[0] != card_id:
        return  # renumbered: reported on the new ID
    out.append((card_id, old[1], "deleted", old[2], None, None, _title(old_file.old), None))


def _title(side: _Side | None) -> str | None:
    if side is None or "title" not in side.fm:
        return None
    return value_text(side.fm["title"])


def _content_events(out: list, card_id: str, ctype: str, old: _Side | None, new: _Side | None) -> None:
    """Append the field, checklist and edited events between two versions of a card."""
    if old is None or new is None:
        return
    edited = False
    if old.head is None or old.head != new.head:  # the same front matter text: no field changed
        before, after = old.fm, new.fm
        for key in list(after) + [k for k in before if k not in after]:
            a, b = before.get(key), after.get(key)
            if a == b:
                continue
            va, vb = value_text(a), value_text(b)
            if va != vb:
                out.append((card_id, ctype, "field", None, None, key, va, vb))
            else:
                edited = True
    if old.body != new.body:
        ticks, other = _checklist_changes(old.body, new.body)
        for text, was, now in ticks:
            out.append((card_id, ctype, "checklist", None, None, text, was, now))
        edited = edited or other
    if edited:
        out.append((card_id, ctype, "edited", None, None, None, None, None))


def _checklist_changes(old_body: str, new_body: str) -> tuple[list[tuple[str, str, str]], bool]:
    """([(item, old mark, new mark)] for ticked/unticked items, whether anything else changed)."""
    before = checklist(old_body)
    after = checklist(new_body)
    ticks = []
    if [x for _, x in before] == [x for _, x in after]:
        for (was, text), (now, _) in zip(before, after):
            if was != now:
                ticks.append((text, "x" if was else " ", "x" if now else " "))
    else:
        return [], True
    return ticks, _other_lines_changed(old_body, new_body)


def _other_lines_changed(old_body: str, new_body: str) -> bool:
    """Whether the bodies differ in more than the marks of their task items."""
    old_body, new_body = old_body.split("\n"), new_body.split("\n")
    if len(old_body) != len(new_body):
        return True
    blank = _TASK_MARK.sub
    return any(a != b and blank(r"\1 \2", a) != blank(r"\1 \2", b) for a, b in zip(old_body, new_body))


def value_text(lines: list[str] | None) -> str | None:
    """A front matter value as one line of YAML text (None when absent or empty)."""
    if lines is None:
        return None
    first = lines[0].strip()
    if len(lines) == 1 and (not first or _PLAIN_SCALAR.match(first)):
        return first or None
    return _yaml_text(first, tuple(lines[1:]))


@functools.lru_cache(maxsize=1 << 12)
def _yaml_text(first: str, rest: tuple[str, ...]) -> str | None:
    """`value_text` of a value YAML must read (a list, a quoted text …), memoised: the same
    values (`platforms: [douyin, tmall]`) come back in version after version of a card."""
    try:
        data = load_yaml("v: " + "\n".join((first,) + rest))
    except MdboardError:
        return " ".join(x.strip() for x in (first,) + rest).strip() or None
    value = data.get("v") if isinstance(data, dict) else None
    if value is None or value == "" or value == []:
        return None
    return value if isinstance(value, str) else render_value(value)


def parse_value(text: str | None):
    """An event's old/new YAML text back to a value (`[a, b]` -> a list, `199` -> 199)."""
    if text is None:
        return None
    try:
        data = load_yaml("v: " + text)
    except MdboardError:
        return text
    return data.get("v") if isinstance(data, dict) else text


def select_events(board: Board, history: History, since: datetime | None = None, who: str | None = None,
                  type: str | None = None) -> list[Event]:
    """Events filtered by time, person (key, name or email) and card type, oldest first."""
    events = history.since(since) if since else history.events
    if who:
        person = board.config.find_person(who)
        if person is not None:
            events = [e for e in events if e.person == person.key]
        else:  # someone who committed but is not (or no longer) in the team list
            low = who.strip().lower()
            events = [e for e in events if low in (e.author.lower(), e.email.lower())]
            if not events and not any(low in (e.author.lower(), e.email.lower()) for e in history.events):
                from mdboard.core import names

                names.person(board.config, who)  # nobody by that name at all: UnknownName, never an empty list
    if type:

        key = board.config.find_type(type).key
        events = [e for e in events if e.type == key]
    return events


# --- words ---------------------------------------------------------------------------

def describe(event: Event, board: Board) -> str:
    """One line in the board language: 王丽 把 SKU-0042 从「审核」移到「已上架」."""
    cfg = board.config
    ctype = cfg.types.get(event.type or "")
    who, card = event.author, event.card
    if event.action == "created":
        text = t("history.created", who=who, id=card, title=event.new or card, state=_state_label(ctype, event.to_state))
    elif event.action == "moved":
        text = t("history.moved", who=who, id=card, src=_state_label(ctype, event.from_state),
                 dst=_state_label(ctype, event.to_state))
    elif event.action == "field":
        text = _describe_field(event, board)
    elif event.action == "checklist":
        key = "history.ticked" if event.new == "x" else "history.unticked"
        text = t(key, who=who, id=card, item=event.field or "")
    elif event.action == "deleted":
        text = t("history.deleted", who=who, id=card, title=event.old or card)
    elif event.action == "renumbered":
        # the ID it got then: a card renumbered twice was not given today's ID the first time
        text = t("history.renumbered", who=who, id=event.was or card, old=event.old or "")
    else:
        text = t("history.edited", who=who, id=card)
    if event.was and event.action != "renumbered":
        text += t("history.was_id", old=event.was)
    if event.forced:
        text += t("history.forced", reason=event.forced)
    return text


def _state_label(ctype, key: str | None) -> str:
    if ctype is None or key is None:
        return key or "?"
    return ctype.state_label(key)


def _describe_field(event: Event, board: Board) -> str:
    cfg = board.config
    ctype = cfg.types.get(event.type or "")
    fd = ctype.fields.get(event.field) if ctype else None
    label = fd.label if fd else event.field
    old, new = show_value(board, event.type, event.field, event.old), show_value(board, event.type, event.field, event.new)
    if event.field == "owner" and new:
        key = "history.owner_changed" if old else "history.owner_set"
    elif not new:
        key = "history.field_cleared"
    elif not old:
        key = "history.field_set"
    else:
        key = "history.field_changed"
    return t(key, who=event.author, id=event.card, label=label, old=old, new=new)


def show_value(board: Board, type_key: str | None, field: str | None, text: str | None) -> str:
    """An event value as people read it: names for people, labels for platforms."""
    if text is None:
        return ""
    from mdboard.core.fields import display

    ctype = board.config.types.get(type_key or "")
    fd = ctype.fields.get(field) if ctype and field else None
    if fd is None or fd.type in ("text", "date", "datetime", "person", "platform", "enum", "link"):
        value = text if _PLAIN_SCALAR.match(text) else parse_value(text)
    else:
        value = parse_value(text)
    if fd is None:
        return ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    return display(fd, value, board.config) or text


# --- time words ----------------------------------------------------------------------

def parse_moment(text: str, tz: str, end: bool = False) -> datetime:
    """A time to look back from, as an aware datetime: `3d` / `3天` (three days ago), `2w` /
    `2周`, or any date or date-and-time the one date parser reads (`yesterday`, `昨天`,
    `12月1日`, `上周一`, `2026-12-01`, `2026-12-01 18:00`, an ISO datetime with its offset).

    A day means its start (or, with `end`, the start of the next day).
    """
    raw = str(text).strip()
    zone = ZoneInfo(tz)
    moment = dates.parse_datetime(raw, tz)
    if moment is not None:
        return moment.astimezone(zone)
    m = re.fullmatch(r"(\d{1,4})\s*([dw天周])", raw.lower())
    if m:
        day = dates.today(tz) - timedelta(days=int(m.group(1)) * (7 if m.group(2) in ("w", "周") else 1))
        clock = None
    else:
        understood = dates.understand(raw, tz)
        if understood is None:
            raise UsageMistake(t("history.bad_since", value=raw))
        day, clock = understood.day, understood.time
    if clock is not None:
        return datetime(day.year, day.month, day.day, clock[0], clock[1], clock[2], tzinfo=zone)
    if end:
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, tzinfo=zone)


def last_working_day(tz: str) -> datetime:
    """The start of the previous working day: Friday on Monday (and at the weekend)."""
    today = dates.today(tz)
    back = {0: 3, 5: 1, 6: 2}.get(today.weekday(), 1)
    day = today - timedelta(days=back)
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(tz))


def cache_path(board: Board) -> Path:
    return board.state_dir / CACHE_NAME


def tail_path(board: Board) -> Path:
    return board.state_dir / TAIL_NAME


def clear_cache(board: Board) -> None:
    """Forget the cached history (the next load reads everything)."""
    cache.remove(cache_path(board))
    cache.remove(tail_path(board))
