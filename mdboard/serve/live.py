"""The live site: the board folder watched, the site rebuilt after every burst of edits.

The board folder is watched with watchdog. Changes are collected until they settle
(an editor's save dance or a `git pull` of hundreds of files gives one rebuild), then
the site builder rebuilds only what those paths touch. `mdboard watch` is this alone;
`mdboard serve` adds the HTTP side (`mdboard.serve.http`), which serves the output
folder and tells open tabs to reload.

A card broken mid-edit never takes the board down: the builder keeps its last good
pages and reports the problem, which shows as a banner on every served page and as
one line in the terminal until the next good save. A rebuild that raises is logged
in one line and the server keeps going. Terminal lines go to the `log` the caller
passes (the CLI passes click.echo): this package never prints.
"""

from __future__ import annotations

import contextlib
import html
import os
import re
import secrets
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Protocol

from mdboard.core.config import CONFIG_NAME
from mdboard.core.errors import Problem
from mdboard.core.fsutil import settled
from mdboard.core.i18n import t
from mdboard.core.store import OUTPUT_DIR
from mdboard.serve.builder_process import ProcessBuilder, describe_failure
from mdboard.domain.boardfiles import DATA_FOLDERS

if TYPE_CHECKING:
    from mdboard.site.builder import BuildReport

SETTLE_SECONDS = 0.1  # quiet time after the last change before rebuilding
MAX_WAIT_SECONDS = 2.0  # rebuild at the latest this long after the first change of a burst
EARLY_PAUSE_SECONDS = 0.05  # after telling tabs, before the rebuild takes the CPU (and GIL) back
MAX_LISTED_PROBLEMS = 10
MAX_REST_SECONDS = 10.0  # the longest pause `rest` puts between two rebuilds

# Names editors and tools write while saving: vim swap/backup and its `4913` probe,
# emacs locks and autosaves, JetBrains/Kate/gedit/LibreOffice/VS Code temporaries.
# Names starting with "." are ignored as a whole (covers .git, .mdboard, .x.swp, .#x).
EDITOR_TEMP = re.compile(
    r"(~|\.sw[a-z]|\.tmp|\.temp|\.bak|\.orig|\.kate-swp|\.crswap|___jb_(tmp|old)___)$"
    r"|^(4913|#.*#|\.?~lock\..*#?)$|^\.goutputstream-"
)

Log = Callable[[str], None]
Early = Callable[[list[str]], None]


class Builder(Protocol):
    """What the live site needs of a site builder (`mdboard.site.builder.SiteBuilder`)."""

    out_dir: Path  # where the pages are written: not watched, served as the site

    def build_all(self) -> BuildReport:
        """Bring the whole output folder up to date."""

    def rebuild(self, changed_paths: set[str], early: Early | None = None) -> BuildReport:
        """Rebuild after these board-relative paths changed; `early` is called with the
        pages written so far once the changed cards' own pages and boards are written."""


def ignored_name(name: str) -> bool:
    """True for hidden files and folders and for editors' temporary files."""
    return name.startswith(".") or bool(EDITOR_TEMP.search(name))


class PathFilter:
    """Turns absolute paths from the watcher into board-relative ones, or None to ignore.

    Ignored: the output folder, anything hidden (.git, .mdboard, dot-temp files),
    editors' temporaries, and paths outside the board.
    """

    def __init__(self, root: Path, out_dir: Path):
        self.roots = list(_spellings(root))
        self.outs = list(_spellings(out_dir))

    def relative(self, path: str) -> str | None:
        for spelling in _spellings(path):
            if any(_inside(spelling, out) for out in self.outs):
                return None
            for root in self.roots:
                if _inside(spelling, root) and spelling != root:
                    parts = spelling[len(root.rstrip(os.sep)) + 1:].split(os.sep)
                    return None if any(ignored_name(part) for part in parts) else "/".join(parts)
        return None


def _spellings(path):
    """A path as given (made absolute), then - only if asked for - with symlinks resolved."""
    plain = os.path.abspath(path)
    yield plain
    real = os.path.realpath(plain)
    if real != plain:
        yield real


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def file_stamps(root: Path, keep: PathFilter) -> dict[str, tuple[int, int]]:
    """(mtime, size) of every file of the board that a change of counts (not output, not hidden)."""
    stamps = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if keep.relative(os.path.join(folder, d))]
        for name in files:
            if ignored_name(name):
                continue
            path = os.path.join(folder, name)
            try:
                st = os.stat(path, follow_symlinks=False)
            except OSError:
                continue
            stamps[path] = (st.st_mtime_ns, st.st_size)
    return stamps


def _file_digest(path: str) -> str | None:
    """The SHA-256 of a file's bytes, None when it cannot be read."""
    from mdboard.core.digest import sha256

    try:
        with open(path, "rb") as fh:
            return sha256(fh.read()).hexdigest()
    except OSError:
        return None


def stamp_changes(before: dict, after: dict) -> set[str]:
    """Paths added, removed or modified between two `file_stamps` snapshots."""
    return {path for path in before.keys() | after.keys() if before.get(path) != after.get(path)}


class LiveSite:
    """The builder kept in step with the board folder: watch, debounce, rebuild, report.

    `version` changes whenever what a reader sees may have changed (pages rewritten,
    problems found or fixed, a rebuild failed); the server's event stream waits on it.
    """

    def __init__(self, board, builder: Builder, out_dir: Path, log: Log, settle: float = SETTLE_SECONDS,
                 max_wait: float = MAX_WAIT_SECONDS, close_builder: Callable[[], None] | None = None):
        self.board = board
        self.builder = builder
        self.close_builder = close_builder  # called by `stop`, after the last rebuild (a builder process ends)
        self.out_dir = Path(out_dir)
        self.log = log
        self.settle = settle
        self.max_wait = max_wait
        self.filter = PathFilter(board.root, self.out_dir)
        self._type_keys = self._current_type_keys(frozenset())
        self.rebuilds = 0
        self.problems: list[Problem] = []
        self.failure = ""
        self.notice_lines: list[str] = []  # a standing notice for every page (a stopped sync)
        # after a rebuild that took d seconds, wait rest * d before the next: the team board
        # (whose pages hear of each action at once) keeps time for the people's actions while
        # a stream of them keeps a big board's site rebuilding
        self.rest = 0.0
        self._rested_until = 0.0
        self._session = secrets.token_hex(4)
        self._serial = 0
        self._cond = threading.Condition()  # guards the pending changes
        self._changed = threading.Condition()  # signals a new version to event streams
        self._pending: set[str] = set()
        self._taken = 0  # batches of changes taken for a rebuild so far
        self._built = 0  # the last of those whose rebuild has finished
        self._first = self._last = 0.0
        self._closing = False
        self._observer = None
        self._handler = None
        self._root_path = os.path.abspath(board.root)
        self._not_watched = {name for name in _tops_holding(board.root, self.out_dir) if name not in DATA_FOLDERS}
        self._watches: dict[str, tuple] = {}  # top folder -> (its watch, its inode): `_follow_tops`
        self._watch_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    # --- the reader's view --------------------------------------------------------

    @property
    def version(self) -> str:
        """Changes on every visible change; differs between server runs too."""
        return f"{self._session}-{self._serial}"

    def wait_for_change(self, seen: str, timeout: float) -> str:
        """Block until `version` differs from `seen`, the site closes, or `timeout` passes."""
        with self._changed:
            self._changed.wait_for(lambda: self.version != seen or self._closing, timeout)
            return self.version

    @property
    def closing(self) -> bool:
        return self._closing

    # --- life cycle ---------------------------------------------------------------

    def start(self) -> None:
        """Build everything once, then watch and rebuild after each burst of changes.

        The first build runs before any thread starts (the builder may then share the
        work with forked processes); files saved meanwhile are caught up right after. A file
        saved in the tick its stamp was taken in (`fsutil.settled`) could be saved again in
        that tick with as many bytes and keep its stamp: those few are told by their bytes.
        """
        read_ns = time.time_ns()
        before = file_stamps(self.board.root, self.filter)
        young = {path: _file_digest(path) for path, (mtime, _) in before.items() if not settled(mtime, read_ns)}
        started = time.perf_counter()
        report = self.builder.build_all()
        self.log(t("serve.built", pages=report.pages, seconds=_seconds(time.perf_counter() - started)))
        self._take_problems(report.problems)
        self._start_observer()
        self._thread = threading.Thread(target=self._run, name="mdboard-rebuild", daemon=True)
        self._thread.start()
        rewritten = {path for path, digest in young.items() if _file_digest(path) != digest}
        self.notice(stamp_changes(before, file_stamps(self.board.root, self.filter)) | rewritten)

    def stop(self) -> None:
        """Stop watching and rebuilding; wakes every waiting event stream."""
        for cond in (self._cond, self._changed):
            with cond:
                self._closing = True
                cond.notify_all()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=5)
        if self._thread is not None:
            self._thread.join(timeout=30)
        if self.close_builder is not None:
            self.close_builder()

    def _start_observer(self) -> None:
        """Watch the board's own folder alone (mdboard.yaml, folders coming and going) and,
        with everything below them, its top folders that can hold board files (`_tops`).

        The board folder as a whole would also be heard below `.git` and the output folder:
        git's objects, index and refs and the rebuilt pages, ~50 events a team action, each
        turned into a Python object and filtered out again while the action waits for the
        interpreter. A `git pull` or checkout changes the card files themselves, which are
        heard. One observer keeps one inotify instance for all its folders (watchdog >= 7.1):
        the per-user limit (often 128) counts instances, not folders."""
        from watchdog.observers import Observer

        self._observer = Observer()
        self._observer.daemon = True
        self._handler = _Handler(self)
        self._observer.schedule(self._handler, self._root_path, recursive=False, event_filter=_event_kinds())
        self._follow_tops(catch_up=False)
        self._observer.start()

    def _tops(self) -> dict[str, int]:
        """The board's top folders worth watching, with their inode numbers: every real folder
        except hidden ones (.git, .mdboard) and one holding the output folder. Not only the
        card types of mdboard.yaml: a folder that becomes a type later is already watched."""
        out = {}
        try:
            entries = list(os.scandir(self._root_path))
        except OSError:
            return out
        for entry in entries:
            if ignored_name(entry.name) or entry.name in self._not_watched:
                continue
            try:
                if entry.is_dir(follow_symlinks=False):  # the scan does not enter a linked folder either
                    out[entry.name] = entry.inode()
            except OSError:
                continue
        return out

    def _follow_tops(self, catch_up: bool = True, renew: frozenset = frozenset()) -> None:
        """Watch each folder of `_tops` and stop watching those gone or replaced (a checkout
        may delete a folder and make it again). With `catch_up`, every file of a folder
        whose watch has just begun counts as changed: it may have been saved before.
        The folders named in `renew` (those a folder event names) are watched afresh even
        when their inode is the same: one renamed away and back before its first event was
        handed over kept its inode, yet in about half of the runs later changes in it went
        unheard through the watch kept from before (tests/test_serve.py); a new watch holds.

        Runs in `start` (before the observer runs) and then only in the observer's own
        thread (`top_folder_event`), which holds watchdog's lock while it hands over events:
        changing the watches from another thread could wait on that lock in the wrong order."""
        with self._watch_lock:
            wanted = self._tops()
            for name, (watch, inode) in list(self._watches.items()):
                if wanted.get(name) != inode or name in renew:
                    del self._watches[name]
                    with contextlib.suppress(KeyError, OSError):
                        self._observer.unschedule(watch)
            added = []
            for name, inode in sorted(wanted.items()):
                if name in self._watches:
                    continue
                path = os.path.join(self._root_path, name)
                try:
                    watch = self._observer.schedule(self._handler, path, recursive=True, event_filter=_event_kinds())
                except OSError:
                    continue  # gone again already: its removal is an event of the board folder
                self._watches[name] = (watch, inode)
                added.append(path)
        if catch_up and added:
            self.notice([os.path.join(folder, name) for top in added
                         for folder, _, files in os.walk(top) for name in files])

    def top_folder_event(self, paths: list[str]) -> None:
        """A folder was made, moved or removed: when it is a top folder, follow it."""
        tops = frozenset(os.path.basename(path) for path in paths if os.path.dirname(path) == self._root_path)
        if tops:
            self._follow_tops(renew=tops)

    # --- changes ------------------------------------------------------------------

    def notice(self, paths) -> int:
        """Record changed absolute paths (from the watcher, or from the team board right
        after it wrote them); ignored ones are dropped. Returns a ticket for `wait_built`:
        the batch of changes these paths will be rebuilt with.

        Only mdboard.yaml, the card type folders and the playbooks and sale calendar
        (domain.boardfiles.DATA_FOLDERS) make the site: a log file or a
        README saved in the board folder (say `mdboard serve > serve.log`) is ignored.
        """
        rels = {rel for rel in map(self.filter.relative, paths) if rel and self._counts(rel)}
        with self._cond:
            if not rels:
                return self._built
            now = time.monotonic()
            if not self._pending:
                self._first = now
            self._pending |= rels
            self._last = now
            self._cond.notify_all()
            return self._taken + 1

    def wait_built(self, ticket: int, timeout: float) -> bool:
        """Wait until the rebuild of the batch `ticket` names has finished (True), or
        `timeout` seconds passed or the site closes (False)."""
        with self._cond:
            return self._cond.wait_for(lambda: self._built >= ticket or self._closing, timeout) and not self._closing

    def _counts(self, rel: str) -> bool:
        top = rel.split("/", 1)[0]
        return rel == CONFIG_NAME or top in self._type_keys or top in DATA_FOLDERS

    def _current_type_keys(self, fallback: frozenset) -> frozenset:
        """The card type folders of the board's config, or `fallback` while it is broken."""
        try:
            return frozenset(self.board.config.types)
        except Exception:  # a broken config is the builder's to report; keep watching
            return fallback

    def _next_batch(self) -> set[str] | None:
        """Wait for changes, then until they settle (and the rest after the last rebuild is
        over); the set of changed paths (None: closing)."""
        with self._cond:
            self._cond.wait_for(lambda: self._pending or self._closing)
            while not self._closing:
                wake = max(min(self._last + self.settle, self._first + self.max_wait), self._rested_until)
                left = wake - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            if self._closing:
                return None
            batch, self._pending = self._pending, set()
            self._taken += 1
            return batch

    def _run(self) -> None:
        while (batch := self._next_batch()) is not None:
            started = time.monotonic()
            try:
                self.rebuild(batch)
            finally:
                with self._cond:
                    self._built += 1
                    took = time.monotonic() - started
                    self._rested_until = time.monotonic() + min(self.rest * took, MAX_REST_SECONDS)
                    self._cond.notify_all()

    def rebuild(self, paths: set[str]) -> None:
        """Rebuild for these board-relative paths; failures are logged, never raised.

        Open tabs are told to reload as soon as the changed cards' own pages and boards
        are written (when the builder can say so), and again at the end only if more
        pages changed. `rebuilds` counts finished rebuilds: it moves after the lines and
        the banner.
        """
        started = time.perf_counter()
        told: set[str] = set()

        def early(written: list[str]) -> None:
            if written:
                told.update(written)
                self._bump()
                time.sleep(EARLY_PAUSE_SECONDS)  # the server threads serve the reloads first

        try:
            report = self.builder.rebuild(paths, early=early)
        except Exception as exc:  # a rebuild must never stop the server
            self._type_keys = self._current_type_keys(self._type_keys)
            self.failure = describe_failure(exc)
            self.log(t("serve.rebuild_failed", error=self.failure))
            self._bump()
            self.rebuilds += 1
            return
        self._type_keys = self._current_type_keys(self._type_keys)
        was_failing, self.failure = self.failure, ""
        self.log(t("serve.rebuilt", files=len(paths), pages=len(report.written),
                   seconds=_seconds(time.perf_counter() - started)))
        changed = self._take_problems(report.problems)
        if set(report.written) - told or changed or was_failing:
            self._bump()
        self.rebuilds += 1

    def _take_problems(self, problems: list[Problem]) -> bool:
        """Adopt the builder's current problems (the banner follows at once, and always shows
        the latest message); the terminal gets one line when a file turns bad and one when
        it is fixed, however often it is saved in between. True when the problems changed."""
        before = {p.line() for p in self.problems}
        bad_before = {p.path for p in self.problems}
        fixed = sorted(bad_before - {p.path for p in problems})
        self.problems = list(problems)
        new, seen = [], set(bad_before)
        for problem in problems:  # the first problem of each newly bad file
            if problem.path not in seen:
                seen.add(problem.path)
                new.append(problem)
        for problem in new[:MAX_LISTED_PROBLEMS]:
            self.log(t("serve.problem", line=problem.line()))
        if len(new) > MAX_LISTED_PROBLEMS:
            self.log(t("serve.problems_more", count=len(new) - MAX_LISTED_PROBLEMS))
        for path in fixed:
            self.log(t("serve.fixed", path=path))
        after = {p.line() for p in problems}
        return before != after

    def set_notice(self, lines: list[str]) -> None:
        """Show `lines` in the banner of every page until they are set again (empty: none)."""
        if list(lines) != self.notice_lines:
            self.notice_lines = list(lines)
            self._bump()

    def _bump(self) -> None:
        with self._changed:
            self._serial += 1
            self._changed.notify_all()

    # --- what the server adds to HTML pages -----------------------------------------

    def banner_html(self) -> str:
        """The problem banner (empty when all is well); every card text is escaped."""
        if not self.problems and not self.failure and not self.notice_lines:
            return ""
        items = []
        if self.notice_lines:
            first, *rest = self.notice_lines
            more = "".join(f"<li><code>{html.escape(line)}</code></li>" for line in rest)
            items.append(f"<p>{html.escape(first)}</p>" + (f"<ul>{more}</ul>" if more else ""))
        if self.failure:
            items.append(f"<p>{html.escape(t('serve.banner_failed', error=self.failure))}</p>")
        if self.problems:
            lines = "".join(f"<li><code>{html.escape(p.line())}</code></li>"
                            for p in self.problems[:MAX_LISTED_PROBLEMS])
            more = len(self.problems) - MAX_LISTED_PROBLEMS
            if more > 0:
                lines += f"<li>{html.escape(t('serve.banner_more', count=more))}</li>"
            title = html.escape(t("serve.banner_title", count=len(self.problems)))
            items.append(f"<p>{title}</p><ul>{lines}</ul>")
        return f'<div id="mdboard-live-banner" role="alert">{"".join(items)}</div>'


class _Handler:
    """watchdog event handler: hands every changed path to the LiveSite."""

    def __init__(self, site: LiveSite):
        self.site = site

    def dispatch(self, event) -> None:
        paths = [os.fsdecode(event.src_path)]
        if getattr(event, "dest_path", ""):
            paths.append(os.fsdecode(event.dest_path))
        if event.is_directory:
            self.site.top_folder_event(paths)
        self.site.notice(paths)


def _event_kinds() -> list:
    """The watchdog events that can mean a changed file (not opened-only, not accessed)."""
    from watchdog import events

    return [events.FileCreatedEvent, events.FileModifiedEvent, events.FileDeletedEvent,
            events.FileMovedEvent, events.FileClosedEvent, events.DirCreatedEvent,
            events.DirDeletedEvent, events.DirMovedEvent]


def _tops_holding(root: Path, out_dir: Path) -> set[str]:
    """The name of the board's top folder that is or holds the output folder (none when the
    output is elsewhere): the pages a rebuild writes there are not watched."""
    names = set()
    for root_spelling in _spellings(root):
        for out_spelling in _spellings(out_dir):
            if _inside(out_spelling, root_spelling) and out_spelling != root_spelling:
                names.add(out_spelling[len(root_spelling.rstrip(os.sep)) + 1:].split(os.sep)[0])
    return names


def _seconds(value: float) -> str:
    return f"{value:.2f}"


# --- the blocking entry points ---------------------------------------------------------


def default_out_dir(board, out_dir=None) -> Path:
    return Path(out_dir).resolve() if out_dir else board.root / OUTPUT_DIR


def quiet_when_gone(log: Log) -> Log:
    """`log`, except that a terminal that has gone away (its window closed, the reader of a
    pipe ended) stops the lines, never the server: a line that cannot be written is dropped,
    so a rebuild or a team action never fails after its work is done."""
    def write(line: str) -> None:
        try:
            log(line)
        except OSError:
            pass

    return write


def make_live_site(board, out_dir, log: Log, builder: Builder | None = None) -> LiveSite:
    """A LiveSite over the real SiteBuilder in a process of its own (or over `builder`, in
    this process), watching the folder it writes to. The builder process starts with the
    first build and ends when the site stops (`mdboard.serve.builder_process`)."""
    log = quiet_when_gone(log)
    if builder is not None:
        return LiveSite(board, builder, builder.out_dir, log)
    own = ProcessBuilder(board, default_out_dir(board, out_dir), log)  # refuses an output folder holding the board
    return LiveSite(board, own, own.out_dir, log, close_builder=own.close)


def watch_board(board, log: Log, out_dir=None, builder=None) -> None:
    """Build once, then rebuild after every burst of changes until Ctrl-C (no HTTP server).
    Terminal lines go to `log`."""
    site = make_live_site(board, out_dir, log, builder)
    try:
        with _sigterm_as_interrupt():
            site.start()
            log(t("serve.watching", root=board.root, out=site.out_dir))
            _wait_forever()
    except KeyboardInterrupt:
        pass
    finally:
        site.stop()
    log(t("serve.goodbye"))


def _wait_forever() -> None:
    """Sleep in the main thread until Ctrl-C (lock waits are interruptible on POSIX)."""
    forever = threading.Event()
    while True:
        forever.wait(3600)


class _sigterm_as_interrupt:
    """Within the block, SIGTERM stops the command like Ctrl-C (main thread only)."""

    def __enter__(self):
        import signal

        self._old = None
        if threading.current_thread() is threading.main_thread():
            self._old = signal.signal(signal.SIGTERM, _raise_interrupt)
        return self

    def __exit__(self, *exc):
        import signal

        if self._old is not None:
            signal.signal(signal.SIGTERM, self._old)
        return False


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt
