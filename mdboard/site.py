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

MANIFEST_VERSION = 1
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
        self._stamps: dict[str, tuple] | None = None  # card path -> ((size, mtime, inode), fingerprint)
        self._pages: dict[str, tuple[str, str]] | None = None  # output path -> (key, hash of bytes)
        self._cache: dict | None = None  # tiles and rendered bodies
        self._cache_dirty = False

    # --- public ------------------------------------------------------------------------

    def build_all(self, force: bool = False) -> BuildReport:
        """Bring the whole output folder up to date (a full build when nothing is known yet)."""
        if force:
            self._pages, self._stamps = {}, {}
        return self._build(None)

    def rebuild(self, changed_paths: set[str]) -> BuildReport:
        """Rebuild after these board-relative paths changed (cards or mdboard.yaml)."""
        return self._build({p.replace(os.sep, "/") for p in changed_paths})

    # --- the build ---------------------------------------------------------------------

    def _build(self, changed: set[str] | None) -> BuildReport:
        from .site_pages import SiteData, Tiles, plan_pages

        started = time.perf_counter()
        self._load_state()
        if changed is None or CONFIG_NAME in changed:
            self.board._config = None  # read mdboard.yaml again (it may have changed)
            self._renderer = None
        self.board.invalidate()
        cfg = self.board.config
        set_language(cfg.language)
        renderer = self._get_renderer()
        renderer.new_build()
        fps = self._fingerprints(changed or set())
        history = self._history()
        data = SiteData(self.board, renderer, fps, history)
        base = self._base_key(renderer)
        tiles = Tiles(data, base, self._cache.setdefault("tiles", {}))
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
        """What every page depends on: templates, the config file, the language."""
        from .site_render import digest

        if not hasattr(renderer, "_base_key"):
            try:
                config = (self.board.root / CONFIG_NAME).read_bytes()
            except OSError:
                config = b""
            renderer._base_key = digest(SITE_FORMAT, renderer.fingerprint(), config, renderer.lang)
        return renderer._base_key

    def _fingerprints(self, changed: set[str]) -> dict[str, str]:
        """card path -> hash of its bytes, re-read only when its size/mtime changed (or it is in `changed`)."""
        from .site_render import digest

        stamps = self._stamps
        fresh: dict[str, tuple] = {}
        for card in self.board.cards():
            path = self.board.root / card.path
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
                content = path.read_bytes() if not os.path.islink(path) else b"symlink"
            except OSError:
                content = b""
            fresh[card.path] = (stamp, digest(card.path, content, card.error))
        self._stamps = fresh
        return {p: v[1] for p, v in fresh.items()}

    def _history(self):
        """The board's git history, loaded once per build (None when unavailable)."""
        try:
            from .history import load_history
        except ImportError:
            return None
        try:
            return load_history(self.board)
        except MdboardError:
            return None

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
        for page in pages:
            target = self.out_dir / page.path
            old = old_pages.get(page.path)
            if page.keep_existing and target.is_file():
                new_pages[page.path] = old or ("", "")
            elif old is not None and old[0] == page.key and target.is_file():
                new_pages[page.path] = old
            else:
                todo.append((page, old))
        for folder in {(self.out_dir / page.path).parent for page, _ in todo}:
            folder.mkdir(parents=True, exist_ok=True)
        written = []
        for path, key, hashed, wrote in _render_pages(todo, self.out_dir):
            new_pages[path] = (key, hashed)
            if wrote:
                written.append(path)
        self._pages = new_pages
        return written

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

    def _prune_tiles(self, tiles) -> None:
        cache = self._cache.get("tiles", {})
        stale = set(cache) - tiles.used
        for slot in stale:
            del cache[slot]
        self._cache_dirty = self._cache_dirty or tiles.dirty or bool(stale)

    # --- state between builds ----------------------------------------------------------

    def _state_file(self, name: str) -> Path:
        from .site_render import digest

        return self.board.state_dir / "site" / f"{digest(str(self.out_dir))}.{name}.pickle"

    def _load_state(self) -> None:
        """Read the manifest (pages, card stamps) and the render cache once per builder."""
        if self._pages is not None and self._cache is not None:
            return
        manifest = _read_pickle(self._state_file("manifest"))
        ok = manifest.get("version") == MANIFEST_VERSION and manifest.get("out_dir") == str(self.out_dir)
        if self._pages is None:
            self._pages = manifest.get("pages", {}) if ok else {}
        if self._stamps is None:
            self._stamps = manifest.get("stamps", {}) if ok else {}
        self._last_pages = manifest.get("pages", {}) if ok else {}
        cache = _read_pickle(self._state_file("cache"))
        self._cache = cache if cache.get("version") == MANIFEST_VERSION else {"version": MANIFEST_VERSION}

    def _save_state(self, final: bool) -> None:
        """Write the manifest after every build; the render cache after full builds only."""
        try:
            _write_pickle(self._state_file("manifest"), {"version": MANIFEST_VERSION, "out_dir": str(self.out_dir),
                                                         "pages": self._pages, "stamps": self._stamps})
            if final and self._cache_dirty:
                _write_pickle(self._state_file("cache"), self._cache)
                self._cache_dirty = False
        except OSError:
            pass  # without a manifest the next build renders everything again; nothing breaks


PARALLEL_MIN = 400  # card pages to render before it pays to fork helper processes
_shared: list = []  # the pages a forked helper renders (inherited, never pickled)


def _render_pages(todo: list, out_dir: Path) -> list[tuple[str, str, str, bool]]:
    """(path, key, hash, written) for each page to make; card pages are shared with forked
    helpers when there are many, a CPU to spare and no threads that forking could upset."""
    cards = [job for job in todo if job[0].path.startswith("cards/")]
    helpers = min((os.cpu_count() or 1) - 1, 3)
    if len(cards) < PARALLEL_MIN or helpers < 1 or not hasattr(os, "fork") or threading.active_count() > 1:
        return [_render_one(page, old, out_dir) for page, old in todo]
    import multiprocessing

    rest = [job for job in todo if not job[0].path.startswith("cards/")]
    shares = [cards[i::helpers + 1] for i in range(helpers + 1)]
    _shared[:] = shares
    try:
        with multiprocessing.get_context("fork").Pool(helpers) as pool:
            pending = [pool.apply_async(_render_share, (i, out_dir)) for i in range(1, helpers + 1)]
            results = [_render_one(page, old, out_dir) for page, old in shares[0] + rest]
            for job in pending:
                results += job.get()
    finally:
        _shared.clear()
    return results


def _render_share(index: int, out_dir: Path) -> list[tuple[str, str, str, bool]]:
    """In a forked helper: make and write one share of the card pages."""
    return [_render_one(page, old, out_dir) for page, old in _shared[index]]


def _render_one(page, old, out_dir: Path) -> tuple[str, str, str, bool]:
    """Make one page and write it unless the file already holds these bytes."""
    from .site_render import digest

    target = out_dir / page.path
    content = page.make()
    hashed = digest(content)
    same = (old is not None and old[1] == hashed and target.is_file()) or (old is None and _same_bytes(target, content))
    if not same:
        _write_file(target, content)
    return page.path, page.key, hashed, not same


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


def _same_bytes(path: Path, content: bytes) -> bool:
    try:
        return path.stat().st_size == len(content) and path.read_bytes() == content
    except OSError:
        return False


def _write_file(path: Path, content: bytes) -> None:
    """Write a page; an existing page is replaced in one step (a server reading it sees
    the old or the new bytes), a new one is written directly (it is not linked yet)."""
    if not path.exists():
        path.write_bytes(content)
        return
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(content)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


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
    board = ctx.board
    report = SiteBuilder(board, Path(out_dir) if out_dir else None).build_all(force=force)
    if as_json:
        emit_json(report.to_dict())
        return
    for problem in report.problems:
        click.echo(t("site.problem_line", line=problem.line()), err=True)
    click.echo(t("site.built", path=report.out_dir, pages=report.pages, written=len(report.written),
                 seconds=f"{report.seconds:.2f}"))
