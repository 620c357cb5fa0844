"""`mdboard build`: the board as a static HTML site, rebuilt incrementally.

`SiteBuilder` renders the pages listed by `site_pages.plan_pages` into the output
folder (default `_site/`, ignored by git). Each page has a key, a hash of what it
shows; a manifest kept in the board's private state folder remembers each page's key
and the hash of the bytes written, each card file's stamp, hashes, links and people,
and what the pages were made against (templates and config, day, HEAD). A later build
- in this process (`serve`) or the next (`mdboard build` again) - compares the cards
with that to find what a change can touch (`site_pages.Dirty`), works out the keys of
those pages only, renders the ones whose key changed and writes the files whose bytes
changed; every other page stays as the last build made it. A card that cannot be read
does not take the site down: its last good page stays, and it is listed in
`BuildReport.problems`.

At 10,000 cards: a full build shares the card pages out to forked helpers; a rebuild
after one card's body changed reads no git history (each card's history rows are kept),
and in `serve` only the files an editor saved are read again.
"""

from __future__ import annotations

import os
import re
import stat
import threading
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from mdboard.core.config import CONFIG_NAME
from mdboard.core.errors import MdboardError, Problem
from mdboard.core.i18n import set_language, t
from mdboard.core.store import OUTPUT_DIR, Board

if TYPE_CHECKING:
    from mdboard.site.slots import KeptPages

MANIFEST_VERSION = 9  # 9: cards' commit hashes chained (8: kept pages' sentence slots; 7: CardState.untitled_fp)
SITE_FORMAT = "1"  # bump when page paths or the manifest's meaning change
# The builder's state holders below are never compared with ==: `eq=False` spares making an
# __eq__ for each at every import (~0.3 ms each; every command pays for its dataclasses).


@dataclass(eq=False)
class BaseKey:
    """What every page depends on (templates, config file, language, the playbooks and sale
    calendar), worked out for one renderer and one state of those files."""

    key: str
    files: str = ""  # domain.boardfiles.data_stamp: the playbooks and sale calendar the key was made with


@dataclass(eq=False)
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


@dataclass(eq=False)
class LastBuild:
    """What the last build made, as the manifest keeps it between builds: what the next
    build compares the board with to find what changed."""

    pages: dict[str, tuple[str, str]]  # output path -> (key, hash of the bytes written)
    cards: dict  # card path -> CardState
    context: dict  # what the pages were made against: base, day, hour, head, flip
    history: dict  # HEAD and the per-card commit hashes at it
    on_disk: dict  # the pages the output folder held after it (those gone since are deleted)

    @classmethod
    def nothing(cls, on_disk: dict | None = None) -> "LastBuild":
        """No build known (everything is made), maybe with the pages an earlier one wrote."""
        return cls({}, {}, {}, {}, on_disk if on_disk is not None else {})


@dataclass(eq=False)
class BoardRead:
    """The cards one build read, kept for the next: a rebuild after an editor saved a few
    card files reads only those again (`SiteBuilder._reread`)."""

    cards: list
    positions: dict[str, int] | None = None  # card path -> its place in `cards` (made when first needed)


@dataclass(eq=False)
class Rendering:
    """The rendering environment, kept between builds while mdboard.yaml stays the same:
    the renderer, what every page depends on, the card views and tile keys made so far."""

    renderer: object  # site.render.Renderer
    base: BaseKey | None = None
    views: dict = field(default_factory=dict)  # card views kept between rebuilds in this process (one per card)
    tile_keys: dict = field(default_factory=dict)  # and the keys of their tiles
    views_for: tuple | None = None  # the (base key, day) those were worked out at


@dataclass(eq=False)
class HistoryKept:
    """What the pages made from git history keep between builds."""

    previous: "LazyHistory | None" = None  # the last build's history, reused at the same HEAD (not once it read every row)
    rows: "HistoryRows | None" = None  # each card's history rows, kept on disk
    kept: "KeptPages | None" = None  # pages made from history, kept with their titles as slots


class RenderCache:
    """Rendered tiles and calendar parts, kept on disk between builds in SHARDS files by
    card ID (a card's tiles and its events in the same one): a shard is read when a card
    of it is first needed, and written after a build that changed something in it.

    At 100,000 cards the cache holds ~10,000 tiles and ~8,000 cards' events (13 MB): as
    one file it cost ~47 ms to read (checking and unpickling it all) in a rebuild after one
    title changed, which needs that card's tile and events only - one shard of ~200 KB. A
    kanban or feed made whole reads every shard it needs, as it read the whole file; a
    build after one title changed writes one shard (the whole file cost ~0.12 s at 10,000
    cards, which is why it was a base plus a small file of what changed since)."""

    SHARDS = 64

    def __init__(self, folder: Path, legacy: tuple[Path, ...] = ()):
        """`legacy`: the files of the one-file cache earlier versions kept (removed on saving)."""
        self.folder = folder
        self.legacy = legacy
        self._shards: dict[int, dict] = {}  # number -> {"tiles": ..., "parts": ..., "parts_base": ...}
        self._changed: set[int] = set()
        self._tiles = _Entries(self, "tiles", lambda slot: slot[0])
        self._parts: _Entries | None = None

    def shard_of(self, card_id: str) -> int:
        from zlib import crc32

        return crc32(card_id.encode("utf-8", "surrogatepass")) % self.SHARDS

    def shard(self, number: int) -> dict:
        """A shard's entries (read when first asked for; empty when missing or damaged)."""
        found = self._shards.get(number)
        if found is None:
            kept = _read_state(self.folder / f"{number:02d}.cache", "site-render")
            tiles, parts = kept.get("tiles"), kept.get("parts")
            found = self._shards[number] = {"tiles": tiles if isinstance(tiles, dict) else {},
                                            "parts": parts if isinstance(parts, dict) else {},
                                            "parts_base": kept.get("parts_base")}
        return found

    def changed(self, number: int) -> None:
        self._changed.add(number)

    def loaded(self) -> dict[int, dict]:
        return self._shards

    def tiles(self) -> "_Entries":
        """(card ID, root) -> (key, html) of rendered tiles."""
        return self._tiles

    def feed_parts(self, base: str) -> "_Entries":
        """card path -> (front matter hash, its calendar events), for this config and language."""
        if self._parts is None or self._parts.base != base:
            self._parts = _Entries(self, "parts", _card_id_of, base)
        return self._parts

    def prune(self, data, extras: dict) -> None:
        """Forget the tiles and calendar parts of cards that are gone (of the shards read)."""
        for number, shard in self._shards.items():
            stale = [slot for slot in shard["tiles"] if slot[0] not in data.cards]
            for slot in stale:
                del shard["tiles"][slot]
            if stale:
                self._changed.add(number)
        feeds = extras.get("calendar")
        if feeds is not None:
            feeds.prune()

    def save(self) -> None:
        """Write the shards that changed."""
        if not self._changed:
            return
        from mdboard.core import cache

        for path in self.legacy:
            cache.remove(path)
        for number in sorted(self._changed):
            _write_state(self.folder / f"{number:02d}.cache", "site-render", self._shards[number])
        self._changed.clear()


class _Entries:
    """One kind of the render cache's entries (`kind`: tiles by (card ID, root), or
    calendar parts by card path for the config and language of `base`), as a mapping whose
    shards are read when first asked for; iterating it goes over the shards read."""

    def __init__(self, cache: RenderCache, kind: str, card_of: Callable, base: str | None = None):
        self.cache = cache
        self.kind = kind
        self.card_of = card_of
        self.base = base

    def _table(self, key) -> tuple[int, dict]:
        number = self.cache.shard_of(self.card_of(key))
        shard = self.cache.shard(number)
        if self.kind == "parts" and shard["parts_base"] != self.base:  # made for another config or language
            if shard["parts"]:
                self.cache.changed(number)
            shard["parts"], shard["parts_base"] = {}, self.base
        return number, shard[self.kind]

    def get(self, key, default=None):
        return self._table(key)[1].get(key, default)

    def __setitem__(self, key, value) -> None:
        number, table = self._table(key)
        table[key] = value
        self.cache.changed(number)

    def __delitem__(self, key) -> None:
        number, table = self._table(key)
        del table[key]
        self.cache.changed(number)

    def __iter__(self):
        for number in list(self.cache.loaded()):
            yield from list(self._table_of(number))

    def _table_of(self, number: int) -> dict:
        shard = self.cache.shard(number)
        return shard[self.kind] if self.kind == "tiles" or shard["parts_base"] == self.base else {}

    def __len__(self) -> int:
        return sum(len(self._table_of(number)) for number in list(self.cache.loaded()))


def _card_id_of(path: str) -> str:
    """The card ID a card file's path names (its file name without `.md`)."""
    name = path.rpartition("/")[2]
    return name[:-3] if name.endswith(".md") else name


class SiteBuilder:
    """Renders a board's site and keeps what it needs to rebuild only what changed: what
    the last build made (`last`), the cards it read (`read`), the rendering environment
    (`rendering`), the render cache and what history pages keep (`history`)."""

    def __init__(self, board: Board, out_dir: Path | None = None):
        self.board = board
        self.out_dir = check_out_dir(board, Path(out_dir) if out_dir else board.root / OUTPUT_DIR)
        self.last: LastBuild | None = None  # read from the manifest when first needed
        self.read: BoardRead | None = None
        self.rendering: Rendering | None = None  # None: made again (first build, mdboard.yaml changed)
        self.history = HistoryKept()
        self._manifest: Manifest | None = None
        self._render_cache: RenderCache | None = None

    # --- public ------------------------------------------------------------------------

    def build_all(self, force: bool = False) -> BuildReport:
        """Bring the whole output folder up to date (a full build when nothing is known yet)."""
        if force:
            self.last = LastBuild.nothing(self._last_build().on_disk)
        return self._build(None)

    def rebuild(self, changed_paths: set[str], early: Callable[[list[str]], None] | None = None) -> BuildReport:
        """Rebuild after these board-relative paths changed (cards or mdboard.yaml).

        `early`, if given, is called with the pages written so far as soon as the changed
        cards' own pages and their boards are written, before the rest is worked out."""
        return self._build({p.replace(os.sep, "/") for p in changed_paths}, early)

    # --- the build ---------------------------------------------------------------------

    def _build(self, changed: set[str] | None, early=None) -> BuildReport:
        """One build (full when `changed` is None). How the process collects garbage is
        the program's choice (`mdboard.cli.main`), not the builder's."""
        from mdboard.site.feature_pages import extras
        from mdboard.site.pages import Tiles, plan_pages

        started = time.perf_counter()
        last = self._last_build()
        read, rendering = self._read_board(changed)
        self.read, self.rendering = read, rendering
        base = rendering.base.key
        states, texts = self._card_states(read.cards, changed or set(), base, last)
        history = self._history(last, base)
        self.history.previous, self.history.rows = None, history.rows_cache  # for the next build (see below)
        data, dirty, clock, now = self._work_out(read.cards, rendering, states, texts, history, last)
        cache = self._cache()
        tiles = Tiles(data, base, cache.tiles, rendering.tile_keys, dirty.cards)
        feeds_extra = extras(data, self.board, lambda: cache.feed_parts(base), self._zone)
        written, pages = self._write_pages(plan_pages(data, base, tiles, feeds_extra, dirty), last.pages,
                                           history, rendering.renderer.dates, early)
        removed = self._remove_stale(last.on_disk, pages)
        cache.prune(data, feeds_extra)
        if dirty.everything:
            history.rows_cache.prune(data.cards)
        clock["flip"] = self._next_flip(data, dirty, now, last.context)
        self.last = LastBuild(pages, states, clock, history.kept_summary(data.cards), on_disk=dict(pages))
        # kept for a rebuild at the same commit, unless it holds every row of the history
        # (~13 MB at 20,000 commits, more with each commit): read again from its cache then
        self.history.previous = None if history.holds_rows() else history
        self._save_state(final=changed is None)
        return BuildReport(written, data.problems, len(pages), time.perf_counter() - started, removed,
                           self.out_dir)

    def _last_build(self) -> LastBuild:
        """What the last build made: from the manifest, once per builder."""
        if self.last is None:
            if self._manifest is None:
                self._manifest = Manifest(self.board.state_dir / "site", self._out_key(), str(self.out_dir))
            self.last = self._manifest.load()
        return self.last

    def _read_board(self, changed: set[str] | None) -> tuple[BoardRead, Rendering]:
        """(the cards, the rendering environment) for this build: the config read again
        when it changed, only the saved files read again when that is enough (`_reread`),
        else the board scanned."""
        rendering = self.rendering
        if changed is None or CONFIG_NAME in changed:
            self.board.reload_config()
            rendering = None
        read = self._reread(changed) if changed and rendering is not None else None
        self.board.invalidate()  # what reads the board itself (report, standup) gets `cards` (BoardAsRead)
        if read is None:
            read = BoardRead(self.board.cards(lazy=True))  # most of them are not read after one edit
        set_language(self.board.config.language)
        if rendering is None:
            rendering = Rendering(self._new_renderer())
        rendering.renderer.new_build()
        rendering.base = self._base_key(rendering)
        return read, rendering

    def _work_out(self, cards: list, rendering: Rendering, states: dict, texts: dict, history: "LazyHistory",
                  last: LastBuild) -> tuple:
        """(SiteData, Dirty, what the pages are made against, now) for this build."""
        from mdboard.core import dates
        from mdboard.site.pages import Dirty, SiteData

        base = rendering.base.key
        now = dates.now(self.board.config.timezone)
        clock = {"base": base, "day": now.date().isoformat(), "hour": now.strftime("%Y-%m-%dT%H"),
                 "head": history.head}
        everything = _everything_changed(last, clock, now)
        if everything or rendering.views_for != (base, clock["day"]):
            rendering.views, rendering.tile_keys, rendering.views_for = {}, {}, (base, clock["day"])
        data = SiteData(BoardAsRead(self.board, cards), rendering.renderer, states, history, rendering.views, cards,
                        texts, self._kept_pages(), base=base, out_dir=str(self.out_dir), settled=not everything)
        return data, Dirty() if everything else _dirty(data, clock, last), clock, now

    def _new_renderer(self):
        """A renderer for the board's config, with the date texts earlier builds made."""
        from mdboard.site.render import Renderer

        cfg = self.board.config
        known = _read_state(self._dates_file(), "site-dates")
        texts = known.get("texts") if known.get("for") == (cfg.language, cfg.timezone) else None
        return Renderer(cfg, self._jinja_cache(), texts if isinstance(texts, dict) else None)

    def _dates_file(self) -> Path:
        return self.board.state_dir / "site" / "dates.cache"

    def _jinja_cache(self) -> Path | None:
        """Where compiled templates are kept between processes (the board's private state)."""
        return self.board.state_dir / "site" / "templates"

    def _base_key(self, rendering: Rendering) -> BaseKey:
        """What every page depends on: templates, the config file, the language (worked out
        again whenever the renderer is made again, i.e. after mdboard.yaml changed), and the
        playbooks and sale calendar (a few small files, edited rarely: hashed every build)."""
        from mdboard.domain.boardfiles import data_stamp
        from mdboard.site.render import digest

        files = data_stamp(self.board.root)
        if rendering.base is not None and rendering.base.files == files:
            return rendering.base
        renderer = rendering.renderer
        try:
            config = (self.board.root / CONFIG_NAME).read_bytes()
        except OSError:
            config = b""
        return BaseKey(digest(SITE_FORMAT, renderer.fingerprint(), config, renderer.lang, files), files)

    # --- what changed ------------------------------------------------------------------

    def _reread(self, changed: set[str]) -> BoardRead | None:
        """The last build's cards with the changed files read again, when every changed path
        is a card file the last build read that is still a plain file in the same place (an
        editor's save); None when the board must be scanned (new, moved or deleted cards,
        anything else). Scanning 10,000 cards costs ~0.1 s; this, a few ms."""
        from mdboard.core.store import Card, parse_file

        if self.read is None or CONFIG_NAME in changed:
            return None
        positions = self.read.positions
        if positions is None:
            positions = {c.path: i for i, c in enumerate(self.read.cards)}
        cards = list(self.read.cards)
        for rel in changed:
            i = positions.get(rel)
            if i is None:
                return None
            path = self.board.root / rel
            try:
                st = os.stat(path, follow_symlinks=False)
            except OSError:
                return None
            if not stat.S_ISREG(st.st_mode) or os.path.islink(path.parent):
                return None
            old = cards[i]
            meta, checklist, error = parse_file(path)
            cards[i] = Card(old.id, old.type, old.state, old.path, meta, checklist, error,
                            (st.st_size, st.st_mtime_ns, False))
        return BoardRead(cards, positions)  # same paths in the same places

    def _card_states(self, cards: list, changed: set[str], base: str, last: LastBuild) -> tuple[dict, dict]:
        """(card path -> CardState, card path -> the bytes read now, for their pages). A file
        is read again only when its stamp (from the scan) changed or it is in `changed`; links
        and people are worked out again for those, and for every card after the config
        changed (link fields may be others)."""
        from mdboard.site.pages import CardState, untitled_fp
        from mdboard.site.render import digest, outgoing_links
        from mdboard.domain.views import people_of

        cfg = self.board.config
        old = last.cards if last.context.get("base") == base else {}
        same_config = bool(old)
        known = last.cards
        root = str(self.board.root)
        fresh = {}
        texts: dict[str, bytes] = {}
        for card in cards:
            state = old.get(card.path)
            if state is not None and card.stamp is not None and state.stamp == card.stamp and card.path not in changed:
                fresh[card.path] = state
                continue
            previous = known.get(card.path)
            if previous is not None and card.stamp is not None and previous.stamp == card.stamp \
                    and card.path not in changed:
                fp, meta_fp = previous.fp, previous.meta_fp  # same file, other config
            else:
                fp, meta_fp = _file_hash(os.path.join(root, card.path), card, texts), \
                    digest(card.path, repr(card.meta), card.checklist, card.error)
            if same_config and state is not None and (state.fp, state.meta_fp) == (fp, meta_fp):
                fresh[card.path] = state._replace(stamp=card.stamp)
            else:
                fresh[card.path] = CardState(card.stamp, fp, meta_fp, card.id, card.type,
                                             tuple(outgoing_links(cfg, card)), tuple(people_of(card)),
                                             untitled_fp(card) if state is None or state.meta_fp != meta_fp
                                             else state.untitled_fp)
        return fresh, texts

    def _next_flip(self, data, dirty, now, last_context: dict) -> float | None:
        """The first moment after `now` at which a card's due status flips (a due time passes):
        from every card after a full build, else the earlier of the last one and the changed cards'."""
        from mdboard.core import dates

        tz = data.cfg.timezone
        if dirty.everything:
            views = data.views.values()
            best = None
        else:
            views = [data.view(card_id) for card_id in dirty.cards]
            best = last_context.get("flip")
        for view in views:
            if view is None or view.due is None:
                continue
            moment = dates.when(view.due.value, tz)
            if moment is not None and moment > now:
                best = moment.timestamp() if best is None else min(best, moment.timestamp())
        return best

    def _history(self, last: LastBuild, base: str) -> "LazyHistory":
        """The board's git history for this build, read at most once and only if a page needs it."""
        known = last.history if last.history.get("head") is not None else {}
        rows = self.history.rows
        if rows is None or rows.base != base:
            rows = HistoryRows(self.board.state_dir / "site" / f"{self._out_key()}.history", base)
        return LazyHistory(self.board, known, self.history.previous, rows)

    # --- writing -----------------------------------------------------------------------

    def _write_pages(self, plan, old_pages: dict, history: "LazyHistory", dates, early=None) -> tuple[list[str], dict]:
        """Render pages whose key changed; write files whose bytes changed. Returns what was
        written and every page of the site now (output path -> (key, hash of its bytes)).

        Pages nothing changed for keep what the last build made. With `early`, the changed
        cards' pages and boards come first, then `early` is told, then the rest. Many card
        pages (a first build, a new template) are shared out between processes."""
        new_pages: dict[str, tuple[str, str]] = {}
        existing = _existing_files(self.out_dir, {page.path.rpartition("/")[0] for page in plan.pages} | {"cards"})

        def todo_of(pages) -> list:
            todo = []
            for page in pages:
                old = old_pages.get(page.path)
                there = page.path in existing
                if page.keep_existing and there:
                    new_pages[page.path] = old or ("", "")
                elif old is not None and there and (not page.dirty or old[0] == page.key):
                    new_pages[page.path] = old
                else:
                    todo.append((page, old if there else None, there))
            return todo

        planned = {page.path for page in plan.pages}
        missing = []  # card pages nothing changed for, but whose file is gone
        for path, card_id in plan.card_pages.items():
            if path not in planned:
                if path in old_pages and path in existing:
                    new_pages[path] = old_pages[path]
                else:
                    missing.append(plan.card_page(card_id))
        first = [page for page in plan.pages if page.early] if early is not None else []
        written = self._render(todo_of(first), new_pages, history, dates)
        if first:
            early(sorted(written))
        rest = [page for page in plan.pages if not (first and page.early)] + missing
        written += self._render(todo_of(rest), new_pages, history, dates)
        return sorted(written), new_pages

    def _render(self, todo: list, new_pages: dict, history: "LazyHistory", dates) -> list[str]:
        """Make the pages of `todo`, note them in `new_pages`; the paths written.

        New pages come first, so a page rewritten to link to a new card never links to a
        page that is not there yet (`serve` shows each file as soon as it is written)."""
        todo.sort(key=lambda job: job[2])
        for folder in {os.path.dirname(page.path) for page, _, _ in todo}:
            os.makedirs(os.path.join(self.out_dir, folder), exist_ok=True)
        written = []
        for path, key, hashed, wrote in _render_pages(todo, self.out_dir, history.before_fork, dates, history.rows_cache):
            new_pages[path] = (key, hashed)
            if wrote:
                written.append(path)
        return written

    def _remove_stale(self, on_disk: dict, current: dict) -> list[str]:
        """Delete pages the last build left that no longer exist (a deleted card's page)."""
        removed = []
        for rel in sorted(set(on_disk) - set(current)):
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
        return removed

    def _kept_pages(self) -> "KeptPages":
        """The pages made from history that the last builds kept (read when first needed)."""
        from mdboard.site.slots import KeptPages

        if self.history.kept is None:
            self.history.kept = KeptPages(lambda: _read_state(self._state_file("kept"), "site-kept"))
        return self.history.kept

    def _zone(self):
        """The board time zone as the calendar feeds write it (`calendar.Zone`), kept in a
        small state file: working it out imports icalendar (~0.1 s of a one-card rebuild).
        Worked out again when the zone, icalendar or the zone's tz data changed."""
        from mdboard.domain import calendar

        path = self.board.state_dir / "site" / "zone.cache"
        stamp = calendar.zone_stamp(self.board.config.timezone)
        kept = _read_state(path, "site-zone")
        if kept.get("for") == stamp and isinstance(kept.get("zone"), tuple):
            return calendar.Zone(*kept["zone"])
        zone = calendar.zone_of(self.board.config.timezone)
        try:
            _write_state(path, "site-zone", {"for": stamp, "zone": (zone.before, zone.after, zone.block)})
        except OSError:
            pass  # worked out again next time
        return zone

    def _cache(self) -> RenderCache:
        if self._render_cache is None:
            self._render_cache = RenderCache(self.board.state_dir / "site" / f"{self._out_key()}.render",
                                             (self._state_file("render"), self._state_file("render-recent")))
        return self._render_cache

    # --- state between builds ----------------------------------------------------------

    def _out_key(self) -> str:
        """Names this output folder's state files (several folders may be built from one board)."""
        from mdboard.site.render import digest

        return digest(str(self.out_dir))

    def _state_file(self, name: str) -> Path:
        return self.board.state_dir / "site" / f"{self._out_key()}.{name}.cache"

    def _save_state(self, final: bool) -> None:
        """Write the manifest after every build; the render cache after full builds only."""
        try:
            self._manifest.save(self.last)
            kept = self.history.kept
            if kept is not None and kept.changed:
                _write_state(self._state_file("kept"), "site-kept", kept.entries)
                kept.saved()
            if self.history.rows is not None:
                self.history.rows.save()
            dates = self.rendering.renderer.dates if self.rendering is not None else None
            if dates is not None and dates.learned:
                cfg = self.board.config
                _write_state(self._dates_file(), "site-dates", {"for": (cfg.language, cfg.timezone),
                                                                "texts": dates.remembered})
                dates.saved()
            if final:
                self._cache().save()
        except OSError:
            pass  # without a manifest the next build renders everything again; nothing breaks


def _everything_changed(last: LastBuild, clock: dict, now) -> bool:
    """Whether every page must be worked out again: nothing known yet, another config or
    template, another day, or a due time passed since the last build (overdue flags)."""
    if not last.context or not last.cards or not last.pages:
        return True
    if any(last.context.get(k) != clock[k] for k in ("base", "day")):
        return True
    flip = last.context.get("flip")
    return flip is not None and now.timestamp() >= flip


def _dirty(data, clock: dict, last: LastBuild):
    """Which pages a change touches: a changed card's own page; if its front matter
    changed, the pages of the cards it links to or is linked from, its board, the pages
    of its people and the board-wide pages; card pages whose git history changed; and a
    campaign's page when a card of its plan is touched (it shows them)."""
    from mdboard.site.pages import Dirty
    from mdboard.site.plans import main_cards_of

    dirty = Dirty(everything=False, titled=set(), before=last.pages)
    dirty.hour = last.context.get("hour") != clock["hour"]
    old, new = last.cards, data.states
    changes = [(old.get(path), state) for path, state in new.items() if old.get(path) is not state]
    changes += [(old[path], None) for path in old.keys() - new.keys()]
    for before, after in changes:
        if after is not None:
            dirty.cards.add(after.id)
            dirty.early_cards.add(after.id)
            dirty.early_types.add(after.type)
        if before is not None and after is not None and before.meta_fp == after.meta_fp:
            continue  # only the body changed: its own page
        dirty.board = True
        # only the title changed: board-wide lists that do not show the card keep, and so do
        # the boards and people of the cards it links with (their tiles show its ID, not its title)
        title_only = before is not None and after is not None and before.untitled_fp == after.untitled_fp
        if title_only and dirty.titled is not None:
            dirty.titled.add(after.id)
        elif not title_only:
            dirty.titled = None
        touched = set()
        for state in (before, after):
            if state is not None:
                touched |= {state.id, *state.links, *data.linked_from.get(state.id, ())}
                dirty.types.add(state.type)
                dirty.people.update(state.people)
        for card_id in touched:
            dirty.cards.add(card_id)
            card = None if title_only else data.cards.get(card_id)
            if card is not None:
                state = new[card.path]
                dirty.types.add(state.type)
                dirty.people.update(state.people)
    if last.context.get("head") != clock["head"]:
        dirty.history = True
        dirty.cards |= data.history.changed_cards(data.cards)
    if dirty.cards:
        dirty.cards |= main_cards_of(data, dirty.cards)
    return dirty


class Manifest:
    """What a builder remembers between builds, on disk as a base file plus a small file of
    what changed since it was written: rewriting 10,000 pages and cards costs ~40 ms, the
    few entries one edit changes ~1 ms. The base is rewritten once RECENT_MAX piled up, or
    when the history summary changed (a new commit). Cards are stored as plain tuples,
    which load three times faster than named ones."""

    RECENT_MAX = 512

    def __init__(self, folder: Path, name: str, out_dir: str):
        self.base_path = folder / f"{name}.manifest.cache"
        self.recent_path = folder / f"{name}.manifest-recent.cache"
        self.out_dir = out_dir
        self.base: dict | None = None  # what the base file holds (pages and cards as read)

    def load(self) -> LastBuild:
        """What the last build made; nothing when the files are missing, of another version
        or unreadable (everything is made again)."""
        try:
            state = self._load()
        except Exception:  # a damaged manifest costs one full build, never the build
            self.base = None
            return LastBuild.nothing()
        return LastBuild(dict(state["pages"]), state["cards"], state["context"], state["history"],
                         on_disk=state["pages"])

    def _load(self) -> dict:
        from mdboard.site.pages import CardState

        base = _read_state(self.base_path, "site-manifest")
        if base.get("out_dir") != self.out_dir:
            raise ValueError("no manifest for this output folder")
        make = CardState._make
        stored = base["cards"]
        cards = dict(zip(stored, map(partial(tuple.__new__, CardState), stored.values())))  # CardState._make, in C
        self.base = {"token": base["token"], "pages": base["pages"], "cards": cards, "history": base["history"]}
        state = {"pages": dict(base["pages"]), "cards": dict(cards), "context": base["context"],
                 "history": base["history"]}
        recent = _read_state(self.recent_path, "site-manifest-recent")
        if recent.get("token") == base["token"]:
            _put_changes(state["pages"], recent["pages"])
            _put_changes(state["cards"], recent["cards"], make)
            state["context"] = recent["context"]
        return state

    def save(self, last: LastBuild) -> None:
        """Write what changed since the base, or a new base when much did."""
        state = {"pages": last.pages, "cards": last.cards, "context": last.context, "history": last.history}
        base = self.base
        if base is not None and (state["history"] is base["history"] or state["history"] == base["history"]):
            changes = {key: _changes(base[key], state[key]) for key in ("pages", "cards")}
            if sum(len(c) for c in changes.values()) <= self.RECENT_MAX:
                changes["cards"] = {path: (tuple(s) if s is not None else None) for path, s in changes["cards"].items()}
                _write_state(self.recent_path, "site-manifest-recent", {
                    "token": base["token"], **changes, "context": state["context"]})
                return
        import secrets

        token = secrets.token_hex(8)
        _write_state(self.base_path, "site-manifest", {
            "out_dir": self.out_dir, "token": token, "pages": state["pages"],
            "cards": {path: tuple(s) for path, s in state["cards"].items()}, "context": state["context"],
            "history": state["history"]})
        self.base = {"token": token, "pages": dict(state["pages"]), "cards": dict(state["cards"]),
                     "history": state["history"]}
        from mdboard.core import cache

        cache.remove(self.recent_path)


def _put_changes(entries: dict, changes: dict, make=None) -> None:
    """Put what `_changes` found into `entries` (None: the entry is gone), each value
    through `make` when given."""
    for key, value in changes.items():
        if value is None:
            entries.pop(key, None)
        else:
            entries[key] = make(value) if make is not None else value


def _changes(before: dict, after: dict) -> dict:
    """path -> new value (None: gone) for every entry that differs between two dicts."""
    out = {path: value for path, value in after.items() if (old := before.get(path)) is not value and old != value}
    out.update((path, None) for path in before.keys() - after.keys())
    return out


def _file_hash(path: str, card, texts: dict) -> str:
    """A hash of a card file's path, bytes and read error (what its own page shows); the
    bytes of a readable card are kept in `texts` for its page (read once per build)."""
    from mdboard.site.render import digest

    from mdboard.core.store import open_card

    link = card.stamp[2] if card.stamp is not None else os.path.islink(path)
    try:
        if link:
            content = b"symlink"
        else:
            with open_card(path) as fh:  # never blocks on a named pipe
                content = fh.read()
            if not card.error:
                texts[card.path] = content
    except (OSError, MdboardError):
        content = b""
    return digest(card.path, content, card.error)


PARALLEL_MIN = 400  # card pages to make before it pays to fork helper processes
CHUNK = 64  # card pages per job handed to a helper
_shared: list = []  # [pages, dates, rows] forked helpers work with (inherited at fork, never pickled)


def _render_pages(todo: list, out_dir: Path, before_fork=None, dates=None, rows=None) -> list[tuple]:
    """(path, key, hash, written) for each (page, old entry, file exists) to make.

    Card pages (the bulk of a full build) go to forked helper processes, one per CPU, when
    there are many, more than one CPU and no threads that forking could upset (`serve`
    rebuilds in a thread: it renders here). Everything else - boards, people, calendar
    feeds - is made meanwhile in this process, which keeps the tile and calendar caches.
    `before_fork` loads what each helper would otherwise load again (the git history);
    the date texts and card history rows (`HistoryRows`) the helpers make are handed back
    to `dates` and `rows` (kept for later builds).
    """
    heavy = [job for job in todo if job[0].path.startswith("cards/")]
    cpus = os.cpu_count() or 1
    if len(heavy) < PARALLEL_MIN or cpus < 2 or not hasattr(os, "fork") or threading.active_count() > 1:
        return [_render_one(job, out_dir) for job in todo]
    import multiprocessing

    if before_fork is not None:
        before_fork()
    jobs = [(i, min(i + CHUNK, len(heavy))) for i in range(0, len(heavy), CHUNK)]
    rest = [job for job in todo if not job[0].path.startswith("cards/")]
    _shared[:] = [heavy, dates, rows]
    try:
        with multiprocessing.get_context("fork").Pool(min(cpus, 4), initializer=_helper_started) as pool:
            done = pool.imap_unordered(_render_range, [(start, end, out_dir) for start, end in jobs])
            results = [_render_one(job, out_dir) for job in rest]
            for part, learned, made in done:
                results += part
                if dates is not None:
                    dates.learn(learned)
                if rows is not None:
                    rows.learn(made)
    finally:
        _shared.clear()
    return results


def _helper_started() -> None:
    """In a forked helper: SIGTERM ends it. The pool ends its helpers with SIGTERM while it
    holds their task queue's lock; a helper that kept its parent's handler (`serve` turns
    SIGTERM into Ctrl-C around its first build) could miss it and wait for that lock
    forever, and the build with it."""
    import signal

    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _render_range(job: tuple[int, int, Path]) -> tuple[list[tuple], dict, dict]:
    """In a forked helper: make and write pages start..end of the shared list; also the
    date texts and card history rows made meanwhile."""
    start, end, out_dir = job
    pages, dates, rows = _shared
    done = [_render_one(one, out_dir) for one in pages[start:end]]
    return done, dates.take_new() if dates is not None else {}, rows.take_new() if rows is not None else {}


def _render_one(job, out_dir: Path) -> tuple:
    """Make one page and write it unless the file already holds these bytes: (path, key,
    hash, written). `job` is (page, its manifest entry or None, whether its file exists)."""
    from mdboard.site.render import digest

    page, old, there = job
    target = os.path.join(out_dir, page.path)
    content = page.make()
    hashed = digest(content)
    same = there and (old[1] == hashed if old is not None else _same_bytes(target, content))
    if not same:
        _write_file(target, content, there)
    return page.path, page.key, hashed, not same


class BoardAsRead(Board):
    """The board as this build read it: every page of one build - the report and standup
    included, which read the board themselves - shows the same cards, read once."""

    def __init__(self, board: Board, cards: list):
        super().__init__(board.root)
        self._source = board
        self._read = cards

    @property
    def config(self):
        return self._source.config

    def cards(self) -> list:
        return self._read

    def scan_problems(self) -> list:
        return self._source.scan_problems()

    def archive_folders(self) -> dict:
        """The board's archive folders, as the scan that read these cards met them (no
        second listing of the done states' folders)."""
        return self._source.archive_folders()


class LazyHistory:
    """The board's git history for the pages, read from git only when a page needs it.

    Each card page's key includes a hash of the card's commits. While HEAD stays where the
    last build saw it, those hashes come from the manifest (`known`), so a rebuild after an
    uncommitted edit never reads the history; after a new commit it is read once. The hash
    is chained commit by commit, so after new commits of the same history (`lineage`) only
    the cards they touch are hashed again: ~0.1 s per commit at 10,000 cards otherwise.
    """

    def __init__(self, board: Board, known: dict, previous: "LazyHistory | None" = None,
                 rows: "HistoryRows | None" = None):
        self.board = board
        self.rows_cache = rows
        self.head = _git_head(board)
        same_as_before = previous is not None and previous.head == self.head
        self._history = previous._history if same_as_before else None
        self._failed = False
        same = known.get("head") == self.head
        # the cards' hashes, and the history (lineage, number of rows) they were made from
        self.summary = {"head": self.head, "cards": known.get("cards", {}) if same else None,
                        "lineage": known.get("lineage") if same else None, "rows": known.get("rows") if same else None}
        self._before = None if same else known  # the last build's summary, at its HEAD

    def holds_rows(self) -> bool:
        """Whether the history read holds all its rows in memory (not only its cache's tail)."""
        return getattr(self._history, "_rows", None) is not None

    def _get(self):
        if self._history is None and not self._failed:
            try:
                from mdboard.git.history import load_history

                self._history = load_history(self.board)
            except MdboardError:
                self._failed = True
        return self._history

    def card_key(self, card_id: str) -> str:
        """A hash of the card's commits (from the manifest while HEAD has not moved)."""
        if self.summary["cards"] is None:
            self._hash_cards()
        return self.summary["cards"].get(card_id, "")

    def _hash_cards(self) -> None:
        """Each card's hash, chained over its commits: from the last build's hashes and the
        rows after its own when the history is the same one grown (same lineage), else from
        every row."""
        from mdboard.site.render import digest

        history = self._get()
        if history is None:
            self.summary.update(cards={}, lineage=None, rows=None)
            return
        before = self._before or {}
        rows = history.row_count()
        grown = before.get("cards") is not None and history.lineage is not None \
            and before.get("lineage") == history.lineage and isinstance(before.get("rows"), int) \
            and before["rows"] <= rows
        cards = dict(before["cards"]) if grown else {}
        for card_id, commit in history.commits_after(before["rows"] if grown else 0):
            cards[card_id] = digest(cards.get(card_id, ""), commit)
        self.summary.update(cards=cards, lineage=history.lineage, rows=rows)

    def changed_cards(self, cards) -> set[str]:
        """IDs of the cards whose commits differ from the last build's (all of `cards` when
        the last build did not know them): of `cards` (the open ones, which have pages) and
        of those the last build knew."""
        before = self._before.get("cards") if self._before is not None else None
        if before is None:
            return set(cards)
        self.card_key("")
        now = self.summary["cards"]
        return {cid for cid in (now.keys() & set(cards)) | before.keys() if now.get(cid) != before.get(cid)}

    def kept_summary(self, cards) -> dict:
        """The summary the manifest keeps for the next build: the hashes of `cards` only (the
        open cards: only they have pages). At 10,000 cards the archived ones' hashes were
        nine tenths of the manifest, read by every build. A card back from the archive is
        then hashed from the commits after it came back: its page's key still changes with
        each of its commits."""
        hashes = self.summary["cards"]
        if hashes is None or hashes.keys() <= cards.keys():
            return self.summary
        return {**self.summary, "cards": {cid: hashes[cid] for cid in cards if cid in hashes}}

    def rows(self, card_id: str, dates) -> list:
        """The card's history as its page lists it: (ISO time, time as `dates` shows it,
        sentence). From the kept rows while the card's commits are the same, else from git
        history (and kept from now on)."""
        slot = (self.card_key(card_id), self.rows_cache.base if self.rows_cache else "", HistoryRows.FORMAT)
        kept = self.rows_cache.get(card_id, slot) if self.rows_cache is not None else None
        if kept is not None:
            return kept
        from mdboard.git.history import describe

        rows = [(e.time.isoformat(), dates.moment(e.time), describe(e, self.board)) for e in self.for_card(card_id)]
        if self.rows_cache is not None:
            self.rows_cache.put(card_id, slot, rows)
        return rows

    def before_fork(self) -> None:
        """Work out, before pages are shared out to forked helpers, what each would otherwise
        work out again and keep to itself: the history, and each card's commits hash (which
        the manifest keeps, so that the next build reads no history while HEAD stays)."""
        self._get()
        self.card_key("")

    def for_card(self, card_id: str) -> list:
        history = self._get()
        return history.for_card(card_id) if history is not None else []

    def recent(self, n: int = 20) -> list:
        history = self._get()
        return history.recent(n) if history is not None else []

    def since(self, moment) -> list:
        history = self._get()
        return history.since(moment) if history is not None else []

    def event_count(self) -> int:
        """How many events the history holds (one row each: no `Event` is made, which for
        20,000 commits cost ~0.25 s of each report after a commit)."""
        history = self._get()
        return history.row_count() if history is not None else 0

    def real(self):
        """The History object itself (for compute_report / compute_standup); empty if unreadable."""
        from mdboard.git.history import History

        return self._get() or History([])


class HistoryRows:
    """Each card's history as its page lists it, kept in the board's private state in shards
    by card ID: a rebuild at the same commit makes a card's page without reading the whole
    git history (which costs ~0.1 s at 20,000 commits), reading one small shard instead."""

    SHARDS = 64
    FORMAT = 2  # of a row: (ISO time, time as shown, sentence)

    def __init__(self, folder: Path, base: str):
        self.folder = folder
        self.base = base
        self._shards: dict[int, dict] = {}
        self._changed: set[int] = set()
        self._new: dict[str, tuple] = {}  # card ID -> (slot, rows) put since `take_new` was last asked

    def _shard(self, card_id: str) -> int:
        from zlib import crc32

        return crc32(card_id.encode("utf-8", "surrogatepass")) % self.SHARDS

    def _load(self, number: int) -> dict:
        shard = self._shards.get(number)
        if shard is None:
            shard = self._shards[number] = _read_state(self.folder / f"{number:02d}.cache", "site-history-rows")
        return shard

    def get(self, card_id: str, slot: tuple) -> list | None:
        hit = self._load(self._shard(card_id)).get(card_id)
        return hit[1] if isinstance(hit, tuple) and len(hit) == 2 and hit[0] == slot else None

    def put(self, card_id: str, slot: tuple, rows: list) -> None:
        number = self._shard(card_id)
        shard = self._load(number)
        if shard.get(card_id, (None,))[0] != slot:
            shard[card_id] = self._new[card_id] = (slot, rows)
            self._changed.add(number)

    def take_new(self) -> dict:
        """The rows put since last asked (what a forked helper hands back)."""
        new, self._new = self._new, {}
        return new

    def learn(self, made: dict) -> None:
        """Keep rows made elsewhere (by a forked helper)."""
        for card_id, (slot, rows) in made.items():
            self.put(card_id, slot, rows)

    def prune(self, card_ids) -> None:
        """Forget the cards that are gone (reads every shard: after full builds only)."""
        for number in range(self.SHARDS):
            shard = self._load(number)
            for gone in [cid for cid in shard if cid not in card_ids]:
                del shard[gone]
                self._changed.add(number)

    def save(self) -> None:
        for number in sorted(self._changed):
            _write_state(self.folder / f"{number:02d}.cache", "site-history-rows", self._shards[number])
        self._changed.clear()
        self._new.clear()


def _git_head(board: Board) -> str:
    """The commit HEAD points at ("" outside git or before the first commit): read from
    git's files when they are the usual ones (a git call costs ~10 ms, a third of a
    rebuild's own work after one edit), else asked of git."""
    if board.git_dir is None:
        return ""
    found = _head_from_files(board.git_dir)
    if found is not None:
        return found
    from mdboard.git.changes import GitRepo

    return GitRepo.of(board).run("rev-parse", "--verify", "-q", "HEAD", check=False)


_COMMIT_RE = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


def _head_from_files(git_dir: Path) -> str | None:
    """HEAD's commit as `git rev-parse HEAD` says it, read from `HEAD` and the branch's
    loose ref or `packed-refs`; None whenever they hold anything else (no commit yet, a
    ref naming a ref, another ref store): git is asked then."""
    try:
        head = (git_dir / "HEAD").read_text("utf-8").strip()
        if _COMMIT_RE.fullmatch(head):
            return head  # detached
        ref = head[5:].strip() if head.startswith("ref: ") else ""
        if not ref.startswith("refs/heads/") or ".." in ref.split("/"):
            return None
        common = git_dir
        if (git_dir / "commondir").is_file():  # a linked worktree: branches live in the main .git
            common = git_dir / (git_dir / "commondir").read_text("utf-8").strip()
        try:
            loose = (common / ref).read_text("utf-8").strip()
        except FileNotFoundError:
            loose = None
        if loose is not None:
            return loose if _COMMIT_RE.fullmatch(loose) else None
        with open(common / "packed-refs", encoding="utf-8") as fh:
            for line in fh:
                commit, _, name = line.rstrip("\n").partition(" ")
                if name == ref:
                    return commit if _COMMIT_RE.fullmatch(commit) else None
    except (OSError, UnicodeDecodeError):
        return None
    return None


def check_out_dir(board: Board, out_dir: Path) -> Path:
    """The output folder, refused when it would overwrite the board itself or its git folder."""
    out = out_dir.expanduser().resolve()
    root = board.root.resolve()
    if out.exists() and not out.is_dir():
        raise MdboardError(t("site.out_not_folder", path=out_dir))
    if root.is_relative_to(out):
        raise MdboardError(t("site.out_holds_board", path=out_dir))
    inside = [root / ".git"] + [root / type_key for type_key in board.config.types]
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


def _read_state(path: Path, kind: str) -> dict:
    """A private state file of the builder ({} when missing, damaged or not made here: see `cache`)."""
    from mdboard.core import cache

    data = cache.load(path, kind, MANIFEST_VERSION)
    return data if isinstance(data, dict) else {}


def _write_state(path: Path, kind: str, data: dict) -> None:
    """Write a private state file; OSError when it could not be (the caller knows what that costs)."""
    from mdboard.core import cache

    if not cache.save(path, kind, MANIFEST_VERSION, data):
        raise OSError(f"{path}: not written")

