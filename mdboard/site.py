"""`mdboard build`: the board as a static HTML site, rebuilt incrementally.

`SiteBuilder` renders every page listed by `site_pages.plan_pages` into the output
folder (default `_site/`, ignored by git). Each page has a key, a hash of what it
shows; a manifest kept in the board's private state folder remembers each page's key
and the hash of the bytes written, so a later build - in this process (`serve`) or the
next (`mdboard build` again) - renders only pages whose key changed and writes only
files whose bytes changed. A card that cannot be read does not take the site down: its
last good page stays, and it is listed in `BuildReport.problems`.
"""

from __future__ import annotations

import gc
import os
import pickle
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import click

from .cli import emit_json, json_option, pass_ctx
from .config import CONFIG_NAME
from .errors import MdboardError, Problem
from .i18n import set_language, t
from .store import OUTPUT_DIR, Board

MANIFEST_VERSION = 2
SITE_FORMAT = "1"  # bump when page paths or the manifest's meaning change


@dataclass
class BuildReport:
    """What a build did: files written (relative to the output folder), problems, timing."""

    written: list[str]
    problems: list[Problem]
    pages: int
    seconds: float
    removed: list[str] = field(default_factory=list)
    out_dir: Path | None = None

    def to_dict(self) -> dict:
        return {"out_dir": str(self.out_dir) if self.out_dir else None, "pages": self.pages,
                "written": self.written, "removed": self.removed, "seconds": round(self.seconds, 3),
                "problems": [p.to_dict() for p in self.problems]}


def build_site(board: Board, out_dir: Path | None = None, changed: set[str] | None = None) -> BuildReport:
    """Build the site once: everything that changed (or, with `changed`, after those paths changed)."""
    builder = SiteBuilder(board, out_dir)
    return builder.build_all() if changed is None else builder.rebuild(changed)


class SiteBuilder:
    """Renders a board's site and keeps what it needs to rebuild only what changed."""

    def __init__(self, board: Board, out_dir: Path | None = None):
        self.board = board
        self.out_dir = check_out_dir(board, Path(out_dir) if out_dir else board.root / OUTPUT_DIR)
        self._renderer = None
        self._base: tuple | None = None  # (renderer, base key)
        self._stamps: dict[str, tuple] | None = None  # card path -> ((size, mtime, inode), fingerprint)
        self._pages: dict[str, tuple[str, str]] | None = None  # output path -> (key, hash of bytes)
        self._cache: dict | None = None  # rendered tiles, read from disk when first needed
        self._cache_dirty = False
        self._last_pages: dict | None = None  # what the output folder held after the last build
        self._manifest_history: dict | None = None  # HEAD and per-card commit hashes of the last build
        self._history_kept: LazyHistory | None = None  # reused by the next rebuild at the same HEAD
        self._history_now: LazyHistory | None = None

    # --- public ------------------------------------------------------------------------

    def build_all(self, force: bool = False) -> BuildReport:
        """Bring the whole output folder up to date (a full build when nothing is known yet)."""
        if force:
            self._pages, self._stamps, self._manifest_history = {}, {}, {}
        return self._build(None)

    def rebuild(self, changed_paths: set[str]) -> BuildReport:
        """Rebuild after these board-relative paths changed (cards or mdboard.yaml)."""
        return self._build({p.replace(os.sep, "/") for p in changed_paths})

    # --- the build ---------------------------------------------------------------------

    def _build(self, changed: set[str] | None) -> BuildReport:
        """One build with the cyclic garbage collector paused: a build allocates tens of
        thousands of small objects and keeps them all, so collecting meanwhile is wasted time."""
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return self._build_pages(changed)
        finally:
            if was_enabled:
                gc.enable()

    def _build_pages(self, changed: set[str] | None) -> BuildReport:
        from .site_pages import SiteData, Tiles, plan_pages

        started = time.perf_counter()
        self._load_state()
        if changed is None or CONFIG_NAME in changed:
            self.board.reload_config()
            self._renderer = None
        self.board.invalidate()
        cfg = self.board.config
        set_language(cfg.language)
        renderer = self._get_renderer()
        renderer.new_build()
        fps = self._fingerprints(changed or set())
        history = self._history_now = self._history()
        data = SiteData(self.board, renderer, fps, history)
        base = self._base_key(renderer)
        tiles = Tiles(data, base, self._tile_cache)
        pages = plan_pages(data, base, tiles, self._extras(data))
        written = self._write_pages(pages)
        removed = self._remove_stale({p.path for p in pages})
        self._prune_tiles(tiles)
        self._save_state(final=changed is None)
        return BuildReport(written, data.problems, len(pages), time.perf_counter() - started, removed,
                           self.out_dir)

    def _get_renderer(self):
        from .site_render import Renderer

        if self._renderer is None:
            self._renderer = Renderer(self.board.config)
        return self._renderer

    def _base_key(self, renderer) -> str:
        """What every page depends on: templates, the config file, the language (worked out
        again whenever the renderer is made again, i.e. after mdboard.yaml changed)."""
        from .site_render import digest

        if self._base is None or self._base[0] is not renderer:
            try:
                config = (self.board.root / CONFIG_NAME).read_bytes()
            except OSError:
                config = b""
            self._base = (renderer, digest(SITE_FORMAT, renderer.fingerprint(), config, renderer.lang))
        return self._base[1]

    def _fingerprints(self, changed: set[str]) -> dict[str, tuple[str, str]]:
        """card path -> (hash of its bytes, hash of its front matter and checklist); a file is
        read again only when its size/mtime/inode changed or it is in `changed`."""
        from .site_render import digest

        stamps = self._stamps
        fresh: dict[str, tuple] = {}
        root = str(self.board.root)
        for card in self.board.cards():
            path = os.path.join(root, card.path)
            try:
                st = os.stat(path, follow_symlinks=False)
                stamp = (st.st_size, st.st_mtime_ns, st.st_ino)
            except OSError:
                stamp = None
            old = stamps.get(card.path)
            if old is not None and stamp is not None and old[0] == stamp and card.path not in changed:
                fresh[card.path] = old
                continue
            try:
                with open(path, "rb") as fh:
                    content = fh.read() if not os.path.islink(path) else b"symlink"
            except OSError:
                content = b""
            fresh[card.path] = (stamp, digest(card.path, content, card.error),
                                digest(card.path, repr(card.meta), card.checklist, card.error))
        self._stamps = fresh
        return {p: (v[1], v[2]) for p, v in fresh.items()}

    def _history(self) -> "LazyHistory":
        """The board's git history, read at most once per build and only if a page needs it."""
        known = self._manifest_history if self._manifest_history.get("head") is not None else {}
        history = LazyHistory(self.board, known, self._history_kept)
        self._manifest_history = history.summary
        self._history_kept = history  # a later rebuild at the same HEAD reuses what it read
        return history

    def _extras(self, data) -> dict:
        """Pages that need the calendar, report or standup modules."""
        from . import site_extra

        return site_extra.extras(data, self.board)

    # --- writing -----------------------------------------------------------------------

    def _write_pages(self, pages) -> list[str]:
        """Render pages whose key changed; write files whose bytes changed. Returns what was written.

        Many card pages (a first build, a new template) are shared out between processes."""
        old_pages = self._pages
        new_pages: dict[str, tuple[str, str]] = {}
        todo = []
        existing = _existing_files(self.out_dir, {page.path.rpartition("/")[0] for page in pages})
        for page in pages:
            old = old_pages.get(page.path)
            there = page.path in existing
            if page.keep_existing and there:
                new_pages[page.path] = old or ("", "")
            elif old is not None and old[0] == page.key and there:
                new_pages[page.path] = old
            else:
                todo.append((page, old if there else None, there))
        for folder in {(self.out_dir / page.path).parent for page, _, _ in todo}:
            folder.mkdir(parents=True, exist_ok=True)
        written = []
        for path, key, hashed, wrote in _render_pages(todo, self.out_dir, before_fork=self._history_now.real):
            new_pages[path] = (key, hashed)
            if wrote:
                written.append(path)
        self._pages = new_pages
        return sorted(written)

    def _remove_stale(self, current: set[str]) -> list[str]:
        """Delete pages this builder wrote before that no longer exist (a deleted card's page)."""
        removed = []
        for rel in sorted(set(self._last_pages) - current):
            target = (self.out_dir / rel).resolve()
            if not target.is_relative_to(self.out_dir):
                continue
            try:
                target.unlink()
                removed.append(rel)
            except FileNotFoundError:
                pass
            except OSError:
                continue
        self._last_pages = dict(self._pages)
        return removed

    def _tile_cache(self) -> dict:
        """(card ID, root) -> (key, html) of rendered tiles, read from disk on first use."""
        if self._cache is None:
            cache = _read_pickle(self._state_file("cache"))
            self._cache = cache if cache.get("version") == MANIFEST_VERSION else {"version": MANIFEST_VERSION}
        return self._cache.setdefault("tiles", {})

    def _prune_tiles(self, tiles) -> None:
        """Forget the tiles of cards that are gone (only when the cache was needed at all)."""
        if self._cache is None:
            return
        cache = self._cache.get("tiles", {})
        stale = [slot for slot in cache if slot[0] not in tiles.data.views]
        for slot in stale:
            del cache[slot]
        self._cache_dirty = self._cache_dirty or tiles.dirty or bool(stale)

    # --- state between builds ----------------------------------------------------------

    def _state_file(self, name: str) -> Path:
        from .site_render import digest

        return self.board.state_dir / "site" / f"{digest(str(self.out_dir))}.{name}.pickle"

    def _load_state(self) -> None:
        """Read the manifest (pages, card stamps, history summary) once per builder."""
        if self._pages is not None and self._last_pages is not None:
            return
        manifest = _read_pickle(self._state_file("manifest"))
        ok = manifest.get("version") == MANIFEST_VERSION and manifest.get("out_dir") == str(self.out_dir)
        if self._pages is None:
            self._pages = manifest.get("pages", {}) if ok else {}
        if self._stamps is None:
            self._stamps = manifest.get("stamps", {}) if ok else {}
        self._last_pages = manifest.get("pages", {}) if ok else {}
        if self._manifest_history is None:
            self._manifest_history = manifest.get("history", {}) if ok else {}

    def _save_state(self, final: bool) -> None:
        """Write the manifest after every build; the render cache after full builds only."""
        try:
            _write_pickle(self._state_file("manifest"), {"version": MANIFEST_VERSION, "out_dir": str(self.out_dir),
                                                         "pages": self._pages, "stamps": self._stamps,
                                                         "history": self._manifest_history})
            if final and self._cache_dirty and self._cache is not None:
                _write_pickle(self._state_file("cache"), self._cache)
                self._cache_dirty = False
        except OSError:
            pass  # without a manifest the next build renders everything again; nothing breaks


PARALLEL_MIN = 400  # card pages and calendars to make before it pays to fork helper processes
CHUNK = 64  # card pages per job handed to a helper
_shared: list = []  # the pages forked helpers render (inherited at fork, never pickled)


def _render_pages(todo: list, out_dir: Path, before_fork=None) -> list[tuple[str, str, str, bool]]:
    """(path, key, hash, written) for each (page, old entry, file exists) to make.

    Card pages and calendar feeds (the bulk of a full build) go to forked helper processes,
    one per CPU, when there are many, more than one CPU and no threads that forking could
    upset (`serve` rebuilds in a thread: it renders here). The boards and kanbans are made
    meanwhile in this process, which keeps their tile cache. `before_fork` loads what each
    helper would otherwise load again (the git history).
    """
    heavy = [job for job in todo if job[0].path.startswith("cards/") or job[0].path.endswith(".ics")]
    cpus = os.cpu_count() or 1
    if len(heavy) < PARALLEL_MIN or cpus < 2 or not hasattr(os, "fork") or threading.active_count() > 1:
        return [_render_one(job, out_dir) for job in todo]
    import multiprocessing

    if before_fork is not None:
        before_fork()
    heavy.sort(key=lambda job: not job[0].path.endswith(".ics"))  # the slow feeds first
    feeds = sum(1 for job in heavy if job[0].path.endswith(".ics"))
    jobs = [(i, i + 1) for i in range(feeds)] + [(i, min(i + CHUNK, len(heavy))) for i in range(feeds, len(heavy), CHUNK)]
    rest = [job for job in todo if not (job[0].path.startswith("cards/") or job[0].path.endswith(".ics"))]
    _shared[:] = heavy
    try:
        with multiprocessing.get_context("fork").Pool(min(cpus, 4)) as pool:
            done = pool.imap_unordered(_render_range, [(start, end, out_dir) for start, end in jobs])
            results = [_render_one(job, out_dir) for job in rest]
            for part in done:
                results += part
    finally:
        _shared.clear()
    return results


def _render_range(job: tuple[int, int, Path]) -> list[tuple[str, str, str, bool]]:
    """In a forked helper: make and write pages start..end of the shared list."""
    start, end, out_dir = job
    return [_render_one(one, out_dir) for one in _shared[start:end]]


def _render_one(job, out_dir: Path) -> tuple[str, str, str, bool]:
    """Make one page and write it unless the file already holds these bytes.

    `job` is (page, its manifest entry or None, whether its file exists)."""
    from .site_render import digest

    page, old, there = job
    target = os.path.join(out_dir, page.path)
    content = page.make()
    hashed = digest(content)
    same = there and (old[1] == hashed if old is not None else _same_bytes(target, content))
    if not same:
        _write_file(target, content, there)
    return page.path, page.key, hashed, not same


class LazyHistory:
    """The board's git history for the pages, read from git only when a page needs it.

    Each card page's key includes a hash of the card's commits. While HEAD stays where the
    last build saw it, those hashes come from the manifest (`known`), so a rebuild after an
    uncommitted edit never reads the history; after a new commit it is read once.
    """

    def __init__(self, board: Board, known: dict, previous: "LazyHistory | None" = None):
        self.board = board
        self.head = _git_head(board)
        same_as_before = previous is not None and previous.head == self.head
        self._history = previous._history if same_as_before else None
        self._failed = False
        same = known.get("head") == self.head
        self.summary = {"head": self.head, "cards": known.get("cards", {}) if same else None}

    def _get(self):
        if self._history is None and not self._failed:
            try:
                from .history import load_history

                self._history = load_history(self.board)
            except MdboardError:
                self._failed = True
        return self._history

    def card_key(self, card_id: str) -> str:
        """A hash of the card's commits (from the manifest while HEAD has not moved)."""
        if self.summary["cards"] is None:
            from .site_render import digest

            history = self._get()
            by_card = history.by_card() if history is not None else {}
            self.summary["cards"] = {cid: digest(*(e.commit for e in events)) for cid, events in by_card.items()}
        return self.summary["cards"].get(card_id, "")

    def for_card(self, card_id: str) -> list:
        history = self._get()
        return history.for_card(card_id) if history is not None else []

    def recent(self, n: int = 20) -> list:
        history = self._get()
        return history.recent(n) if history is not None else []

    def since(self, moment) -> list:
        history = self._get()
        return history.since(moment) if history is not None else []

    @property
    def events(self) -> list:
        history = self._get()
        return history.events if history is not None else []

    def real(self):
        """The History object itself (for compute_report / compute_standup); empty if unreadable."""
        from .history import History

        return self._get() or History([])


def _git_head(board: Board) -> str:
    """The commit HEAD points at ("" outside git or before the first commit); one git call."""
    if board.git_dir is None:
        return ""
    import subprocess

    proc = subprocess.run(["git", "rev-parse", "--verify", "-q", "HEAD"], cwd=board.root, capture_output=True,
                          text=True)
    return proc.stdout.strip() if proc.returncode == 0 else ""


def check_out_dir(board: Board, out_dir: Path) -> Path:
    """The output folder, refused when it would overwrite the board itself or its git folder."""
    out = out_dir.expanduser().resolve()
    root = board.root.resolve()
    if out.exists() and not out.is_dir():
        raise MdboardError(t("site.out_not_folder", path=out_dir))
    if root.is_relative_to(out):
        raise MdboardError(t("site.out_holds_board", path=out_dir))
    inside = [root / ".git"] + [root / tk for tk in board.config.types]
    if board.git_dir:
        inside.append(board.git_dir.resolve())
    for folder in inside:
        if out.is_relative_to(folder.resolve()):
            raise MdboardError(t("site.out_inside_board", path=out_dir, folder=folder.name))
    return out


def _existing_files(out_dir: Path, folders: set[str]) -> set[str]:
    """Output-relative paths of the files in these folders of the output (one listing
    each, instead of a stat per page)."""
    found: set[str] = set()
    for folder in folders:
        try:
            with os.scandir(out_dir / folder if folder else out_dir) as entries:
                prefix = f"{folder}/" if folder else ""
                found.update(prefix + entry.name for entry in entries if entry.is_file(follow_symlinks=False))
        except OSError:
            continue
    return found


def _same_bytes(path: str, content: bytes) -> bool:
    try:
        with open(path, "rb") as fh:
            return os.fstat(fh.fileno()).st_size == len(content) and fh.read() == content
    except OSError:
        return False


def _write_file(path: str, content: bytes, exists: bool) -> None:
    """Write a page; an existing page is replaced in one step (a server reading it sees
    the old or the new bytes), a new one is written directly (it is not linked yet)."""
    if not exists:
        try:
            with open(path, "xb") as fh:
                fh.write(content)
            return
        except FileExistsError:
            pass  # made meanwhile (or a link): replace it as below
    tmp = f"{os.path.dirname(path)}/.{os.path.basename(path)}.{os.getpid()}.tmp"
    try:
        with open(tmp, "wb") as fh:
            fh.write(content)
        os.replace(tmp, path)
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)


def _read_pickle(path: Path) -> dict:
    try:
        with open(path, "rb") as fh:
            data = pickle.load(fh)
        return data if isinstance(data, dict) else {}
    except Exception:
        return {}


def _write_pickle(path: Path, data: dict) -> None:
    from .store import atomic_write

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL), sync=False)


# --- the command -----------------------------------------------------------------------------

@click.command("build", help=t("site.help_build"))
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False), default=None, metavar="DIR",
              help=t("site.opt_output"))
@click.option("--force", is_flag=True, help=t("site.opt_force"))
@json_option
@pass_ctx
def build_command(ctx, out_dir, force, as_json):
    gc.disable()  # a one-shot command: collecting the build's objects just before exit is wasted time
    board = ctx.board
    report = SiteBuilder(board, Path(out_dir) if out_dir else None).build_all(force=force)
    if as_json:
        emit_json(report.to_dict())
        return
    for problem in report.problems:
        click.echo(t("site.problem_line", line=problem.line()), err=True)
    click.echo(t("site.built", path=report.out_dir, pages=report.pages, written=len(report.written),
                 seconds=f"{report.seconds:.2f}"))
