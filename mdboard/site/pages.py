"""Which pages the site has, what each one shows, and what each one depends on.

`SiteData` works the board out for one build (cards by ID, links both ways, problems;
a `CardView` per card when a page needs it). `plan_pages` turns it into `Page`s: an
output path, a key (a hash of everything the page shows, worked out when asked for)
and a function that renders it. `Dirty` says which pages a change can touch; the
builder keeps the others as they are and renders a page only when its key changed,
so after one card changes only the pages showing that card are made again; after
titles alone changed, a list of tiles or events is the file the last build wrote with
those cards' pieces swapped (`tiles_swapped`, `feed_page`, `site.swaps`).
"""

from __future__ import annotations

import json
import os
from urllib.parse import quote
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Callable, NamedTuple

from mdboard.core import dates
from mdboard.core.config import BoardConfig, CardType
from mdboard.core.errors import Problem
from mdboard.core.fields import display
from mdboard.core.i18n import t_in
from mdboard.core.text import ID_RE
from mdboard.site.archive_pages import archive_pages
from mdboard.site.plans import plan_context, plan_key, sales_context, sales_key
from mdboard.site.slots import KeptPages
from mdboard.site.swaps import Pieces, swapped, swapped_key, swapping_page
from mdboard.site.render import CardView, Page, Renderer, card_attrs, card_view, digest, lazy_page, timeline_types
from mdboard.core.store import Board, Card
from mdboard.domain.views import GROUPS

LIST_LIMIT = 40  # rows in the overview's overdue / this-week lists before "more…"
TILE_LINKS = 6  # related cards shown on a tile
_NONE: list = []  # the backlinks of a card nothing links to


class CardState(NamedTuple):
    """What a build knows of one card file. Kept in the manifest, so the next build works
    out again only the files whose stamp changed, and can tell what a change touches."""

    stamp: tuple | None  # (size, mtime_ns, is link) when read
    fp: str  # hash of the file's bytes and path: what the card's own page shows
    meta_fp: str  # hash of its front matter, checklist and error: what tiles and lists show
    id: str
    type: str
    links: tuple  # card IDs named in its link fields
    people: tuple  # owner and helpers
    untitled_fp: str  # meta_fp but for a title that pages show in a slot (`site.slots`)


def untitled_fp(card: Card) -> str:
    """A hash of a card's front matter, checklist and error but its title - unless the title
    is not what `Card.title` shows (empty, not text, not printable): such a title is
    written into a page as it is, never into a slot, so it counts here."""
    from mdboard.site.render import digest

    title = card.meta.get("title")
    slotted = isinstance(title, str) and title != "" and title.isprintable()
    rest = {key: value for key, value in card.meta.items() if key != "title"}
    return digest(card.path, repr(rest), card.checklist, card.error, "" if slotted else repr(title))


@dataclass
class Dirty:
    """What may look different since the last build, so which pages to work out again.

    Pages outside it keep what the last build made without their keys being worked out;
    pages inside it are made again only if their key changed.
    """

    everything: bool = True
    cards: set = field(default_factory=set)  # card IDs whose own page may differ
    types: set = field(default_factory=set)  # type keys whose kanban may differ
    people: set = field(default_factory=set)  # person keys whose page and feed may differ
    board: bool = False  # pages made from every card: overview, team, timeline, assets, queue, report…
    hour: bool = False  # the queue (it counts hours left)
    history: bool = False  # pages showing git history: overview, report, standup
    early_cards: set = field(default_factory=set)  # IDs of the changed cards (their pages first)
    early_types: set = field(default_factory=set)  # and their boards
    titled: set | None = None  # when the front matter changed only in titles: those cards' IDs
    before: dict = field(default_factory=dict)  # the last build's pages: path -> (key, hash of its bytes)

    def card(self, card_id: str) -> bool:
        return self.everything or card_id in self.cards

    def type(self, type_key: str) -> bool:
        return self.everything or type_key in self.types

    def person(self, key: str) -> bool:
        return self.everything or key in self.people

    def wide(self, history: bool = False, hour: bool = False) -> bool:
        """A board-wide page (`history`: one showing git history; `hour`: one counting hours)."""
        return self.everything or self.board or (history and self.history) or (hour and self.hour)

    def listing(self, shows: Callable[[str], bool], hour: bool = False) -> bool:
        """A board-wide page that lists only some cards (`shows`: whether it shows the card
        of an ID, title included): after a change of titles alone, only if it shows one of
        those cards."""
        if self.everything or (hour and self.hour):
            return True
        return self.board and (self.titled is None or any(map(shows, self.titled)))


class SiteData:
    """The board worked out for the pages of one build.

    Cards, problems and links both ways are worked out up front (cheap); a card's view
    (labels, due countdown, people) only when a page needs it, so a rebuild after one
    card changed works out only the views the pages it touches show. Views whose card is
    unchanged come from `view_cache` (kept between rebuilds in one process): card ID ->
    (the card's path and hashes, its view), one entry per card. Keyed by the version, as
    it was, a server kept every version of every card it rebuilt for until the day
    changed (one view, card and due date more per rebuild after an edit).
    """

    def __init__(self, board: Board, renderer: Renderer, states: dict[str, CardState], history=None,
                 view_cache: dict | None = None, cards: list[Card] | None = None,
                 texts: dict[str, bytes] | None = None, kept: KeptPages | None = None, base: str = "",
                 out_dir: str | None = None, settled: bool = False):
        """`cards`: the board's cards, when already read (default: `board.cards()`); `texts`:
        card path -> its bytes, for the files this build has read already; `kept`: the
        pages made from history kept by the last builds (default: none); `base`: what every
        page depends on (templates, config, language), which kept rows are made with;
        `out_dir`: where the last build wrote its pages (see `kept_body`); `settled`: whether
        what `settled` keeps may be read (not in a build that works everything out)."""
        self.board = board
        self.base = base
        self.out_dir = out_dir
        self._settled_kept = settled
        self.card_list = cards if cards is not None else board.cards()
        self.renderer = renderer
        self.states = states
        self.history = history
        self.today = dates.today(board.config.timezone)
        self.problems: list[Problem] = []
        self.cards: dict[str, Card] = {}  # card ID -> its card (the first, when an ID is used twice)
        self.linked_from: dict[str, list[str]] = {}  # card ID -> IDs of the cards naming it, board order
        self.duplicated: set[str] = set()  # IDs more than one card file has
        self._view_cache = view_cache if view_cache is not None else {}
        self.ids_by_type: dict[str, list[str]] = {}  # type -> its card IDs, board order
        self.texts: dict[str, bytes] = texts if texts is not None else {}
        self.kept = kept if kept is not None else KeptPages(dict)
        self._all_key: str | None = None  # worked out once per build, when first asked for
        self._untitled_key: str | None = None
        self._views: dict[str, CardView] = {}
        self._all: dict[str, CardView] | None = None
        self.by_type = _TypeViews(self)  # type -> its views in column order, worked out per type
        self._archive = None
        self._once: dict[str, object] = {}  # what the pages work out once per build, by name
        self._read_cards()

    def once(self, name: str, make: Callable[[], object]):
        """`make()`, worked out once per build (the due lists, each person's cards, the
        overview's next sales, the campaigns' plans): what several pages show."""
        if name not in self._once:
            self._once[name] = make()
        return self._once[name]

    def settled(self, name: str, make: Callable[[], object]):
        """`make()` for what pages show of every card but titles (the report's facts, the due
        lists' members, the team's load), kept with the pages under a key of every card's
        front matter but its title, the day and `base`. A rebuild after titles alone changed
        reads it instead of working out every card's view (~0.4 s at 10,000 open cards). A
        build that works everything out (a new day, a due time passed) makes it again: a due
        time that passed changes what it holds, not its key."""
        key = self.once("settled_key", lambda: digest(self.base, self.today.isoformat(), *(
            f"{state.id}:{state.untitled_fp}" for state in self.states.values())))
        return self.kept.rows("settled:" + name, key, make, fresh=not self._settled_kept)

    def kept_body(self, card_id: str, key: str) -> str | None:
        """The rendered body on the card's page as the last build wrote it, when that was
        made from the body of `key` (card.html writes the key beside it): after a change to
        the front matter only (a title, an owner, a move) the page needs no Markdown, and
        importing markdown-it alone costs ~0.13 s of such a rebuild."""
        if self.out_dir is None:
            return None
        try:
            with open(os.path.join(self.out_dir, "cards", f"{card_id}.html"), "rb") as fh:
                page = fh.read().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            return None
        marker = f' data-body="{key}">\n'
        start = page.find(marker)
        end = page.find("\n</section>", start) if start >= 0 else -1
        return page[start + len(marker):end] if end >= 0 else None

    @property
    def archive(self):
        """The archived cards' listing (`site.archive_pages.ArchiveIndex`), read when first needed."""
        if self._archive is None:
            from mdboard.site.archive_pages import ArchiveIndex

            self._archive = ArchiveIndex(self.board)
        return self._archive

    def _read_cards(self) -> None:
        """Cards by ID, problems (duplicate IDs, broken files, cards the board cannot place,
        files and folders that are no card), who links to whom."""
        from mdboard.core.workflow import placement_problems

        cards, states, linked_from, by_type = self.cards, self.states, self.linked_from, self.ids_by_type
        cfg = self.cfg
        places = _placed(cfg)
        self.problems += self.board.scan_problems()
        for card in self.card_list:
            first = cards.get(card.id)
            if first is not None:
                self.duplicated.add(card.id)
                self.problems.append(Problem(card.path, "", self.text("problem_duplicate", id=card.id,
                                                                       other=first.path),
                                             self.text("hint_duplicate")))
                continue
            cards[card.id] = card
            ids = by_type.get(card.type)
            if ids is None:
                ids = by_type[card.type] = []
            ids.append(card.id)
            if card.error:
                self.problems.append(Problem(card.path, "", card.error, self.text("hint_broken")))
            elif (match := places.get((card.type, card.state))) is None or match(card.id) is None:
                self.problems += placement_problems(cfg, card)
            links = states[card.path].links
            if links:
                for target in links:
                    if target in linked_from:
                        linked_from[target].append(card.id)
                    else:
                        linked_from[target] = [card.id]

    @property
    def cfg(self) -> BoardConfig:
        return self.board.config

    def card_text(self, card: Card) -> str:
        """A card file's text: as read earlier in this build (`texts`), else from disk."""
        content = self.texts.get(card.path)
        if content is None:
            return self.board.read_text(card)
        from mdboard.core.store import decode_card

        return decode_card(content)

    def text(self, key: str, **values) -> str:
        return t_in(self.cfg.language, "site." + key, **values)

    def view(self, card_id) -> CardView | None:
        """The card's view (None for an ID no card has, or a value that is no ID at all)."""
        if not isinstance(card_id, str):
            return None
        view = self._views.get(card_id)
        if view is None:
            card = self.cards.get(card_id)
            if card is None:
                return None
            view = self._make_view(card)
        return view

    def _make_view(self, card: Card) -> CardView:
        state = self.states[card.path]
        slot = (card.path, state.fp, state.meta_fp)
        kept = self._view_cache.get(card.id)  # one view per card: its last version's
        if kept is not None and kept[0] == slot:
            view = kept[1]
        else:
            view = card_view(self.cfg, card, (state.fp, state.meta_fp), list(state.links))
            self._view_cache[card.id] = (slot, view)
        self._views[card.id] = view
        return view

    def backlinks(self, card_id: str) -> list[str]:
        """IDs of the cards whose link fields name this card, in board order (a view is
        kept between rebuilds while its own card is unchanged; who links to it is this build's)."""
        return self.linked_from.get(card_id, _NONE)

    @property
    def views(self) -> dict[str, CardView]:
        """Every card's view by ID, in board order."""
        if self._all is None:
            made = self._views
            self._all = {card_id: made.get(card_id) or self._make_view(card) for card_id, card in self.cards.items()}
        return self._all

    def all_key(self) -> str:
        """A hash of every card's front matter and due status: what the board-wide pages show."""
        if self._all_key is None:
            self._all_key = digest(*map(_shown, self.views.values()))
        return self._all_key

    def untitled_key(self) -> str:
        """`all_key` but for the titles that pages made from history show in slots."""
        if self._untitled_key is None:
            states = self.states
            self._untitled_key = self.settled("untitled_key", lambda: digest(*(
                f"{v.id}:{states[v.card.path].untitled_fp}:{v.countdown}|{v.group}" for v in self.views.values())))
        return self._untitled_key

    def history_key(self) -> str:
        """The commit the history was read at ("" without history)."""
        return (self.history.head if self.history is not None else None) or ""

    def open_views(self, views=None) -> list[CardView]:
        """Cards that are not finished, with readable front matter and a known state (of
        `views`, default every card's)."""
        out = []
        for v in self.views.values() if views is None else views:
            ctype = self.cfg.types.get(v.card.type)
            if ctype and v.state_known and not v.card.error and v.card.state not in ctype.done_states():
                out.append(v)
        return out


def _placed(cfg: BoardConfig) -> dict[tuple[str, str], Callable]:
    """A quick test that a card sits where the board can place it (an ID of its type's
    prefix, a folder of its type's states): (type, state) -> a match of the type's IDs,
    for the folders that can hold cards. True for nearly every card, which then needs
    no `placement_problems` (it costs ~5 µs a card, 50 ms at 10,000); one lookup and one
    match a card, no call of our own (10,000 calls cost ~10 ms)."""
    import re

    places = {}
    for key, ctype in cfg.types.items():
        if ID_RE.match(ctype.prefix + "-0"):  # a prefix that is no ID's prefix places no card: placement_problems says why
            match = re.compile(re.escape(ctype.prefix + "-") + r"[0-9]+\Z").match
            places.update(((key, state.key), match) for state in ctype.states)
    return places


class _TypeViews(dict):
    """type -> its cards' views in column order (overdue and soonest due first), each type
    worked out when first asked for: a rebuild after one SKU changed needs no other type."""

    def __init__(self, data: SiteData):
        super().__init__()
        self.data = data

    def get(self, type_key, default=None):
        if not dict.__contains__(self, type_key):
            if type_key not in self.data.cfg.types:
                return default
            view = self.data.view
            self[type_key] = sorted((view(card_id) for card_id in self.data.ids_by_type.get(type_key, ())),
                                    key=_board_order)
        return dict.get(self, type_key, default)

    def __getitem__(self, type_key):
        found = self.get(type_key)
        if found is None:
            raise KeyError(type_key)
        return found


def _board_order(view: CardView):
    """Within a column: overdue and soonest due first, undated last, then by ID."""
    return view.order


# --- filters ---------------------------------------------------------------------------------

def filter_options(data: SiteData, views: list[CardView], types: list[CardType]) -> dict:
    """Choices offered by a page's filter bar: the people, platforms, tags and states on it."""
    cfg = data.cfg
    tags = sorted({tag for v in views for tag in v.tags})
    states: dict[str, str] = {}
    for ctype in types:
        for state in ctype.states:
            states.setdefault(state.key, state.label)
    return {"owners": [(k, p.name) for k, p in cfg.people.items()],
            "platforms": list(cfg.platforms.items()), "tags": tags, "states": list(states.items())}


# --- tiles -----------------------------------------------------------------------------------

class Tiles:
    """Card tiles as HTML, cached by what they show; a broken card keeps its last good tile."""

    def __init__(self, data: SiteData, base: str, cache: Callable[[], dict], keys: dict | None = None,
                 stale: set | None = None):
        """`keys`: tile keys kept from the last build (in this process), of which those of
        the cards in `stale` (the ones a change touched) are worked out again."""
        self.data = data
        self.base = base
        self._cache = cache  # loads (card ID, root) -> (key, html) when first needed
        self.keys: dict = keys if keys is not None else {}  # (card ID, root) -> key
        for card_id in stale or ():
            for root in ("../", ""):
                self.keys.pop((card_id, root), None)
        self._watched: set = set()  # IDs of the cards whose tiles as held before this build are kept
        self._replaced: dict = {}  # (card ID, root) -> the HTML the cache held before this build (None: none)

    def key(self, view: CardView, root: str) -> str:
        """What the tile shows (a hash), worked out once."""
        slot = (view.id, root)
        key = self.keys.get(slot)
        if key is None:
            live = [target in self.data.cards for target in view.links]
            key = self.keys[slot] = digest(f"{self.base}|{root}|{view.meta_fp}|{view.due_key()}|"
                                           f"{self.data.backlinks(view.id)}|{live}")
        return key

    def _related(self, card_id, root: str) -> Shown:
        """A card a tile names: its page when open, its row on the archive's page when archived
        (the archive's listing is read only for such a card), else struck through as missing.
        The tile's key knows only whether the card is open: a link to an archived card that
        is later deleted by hand leads to its old archive page until the tile changes."""
        if card_id in self.data.cards:
            return Shown(id=card_id, href=f"{root}cards/{quote(card_id)}.html", archived=False)
        where = self.data.archive.href(card_id)
        return Shown(id=str(card_id), href=f"{root}{where}" if where else None, archived=where is not None)

    def html(self, view: CardView, root: str):
        from markupsafe import Markup

        slot = (view.id, root)
        cache = self._cache()
        hit = cache.get(slot)
        key = self.key(view, root)
        if hit is not None and (hit[0] == key or view.card.error):
            return Markup(hit[1])
        related = [self._related(target, root) for target in (view.links + self.data.backlinks(view.id))[:TILE_LINKS]]
        html = str(self.data.renderer.macro("tile.html", "tile")(view, root, card_attrs(self.data.cfg, view), related))
        if not view.card.error:
            if view.id in self._watched:
                self._replaced.setdefault(slot, hit[1] if hit is not None else None)
            cache[slot] = (key, html)
        return Markup(html)

    def watch(self, card_ids) -> None:
        """Keep the tiles of these cards as the cache holds them now, for `before` (asked
        before any tile of this build is made)."""
        self._watched.update(card_ids)

    def before(self, card_id: str, root: str) -> str | None:
        """A watched card's tile as the cache held it before this build made it again (None:
        not held): what the pages the last build wrote hold, if it made this tile last."""
        slot = (card_id, root)
        if slot in self._replaced:
            return self._replaced[slot]
        hit = self._cache().get(slot)
        return hit[1] if hit is not None else None


# --- the plan --------------------------------------------------------------------------------

@dataclass
class Plan:
    """The pages of one build: those to look at, and every card page of the site.

    Card pages outside `Dirty` are not planned (10,000 of them cost time even to list);
    the builder keeps what the last build made of them, and plans one with `card_page`
    only when its file went missing.
    """

    pages: list[Page]
    card_pages: dict[str, str]  # output path -> card ID, for every card page
    card_page: Callable[[str], Page]


def plan_pages(data: SiteData, base: str, tiles: Tiles, extras: dict[str, Callable], dirty: Dirty | None = None) -> Plan:
    """The site's pages with their keys. `base` hashes templates + config; `extras` holds
    optional pages (report, standup, calendars) by name; `dirty` says what may have changed
    since the last build (default: everything)."""
    dirty = dirty or Dirty()
    cfg = data.cfg
    r = data.renderer
    nav = navigation(data, extras)
    pages: list[Page] = []
    day = data.today.isoformat()
    pages.append(Page("index.html", lambda: overview_key(data, base),
                      lazy_page(r, "overview.html", "", nav, "index", data, lambda: overview_context(data, tiles)),
                      dirty=dirty.wide(history=True)))
    for type_key in cfg.types:
        key = lambda type_key=type_key: digest(base, "type", type_key, *(tiles.key(v, "../") for v in data.by_type.get(type_key, [])))
        page = Page(f"types/{type_key}.html", key, lazy_page(r, "kanban.html", "../", nav, f"type:{type_key}", data,
                                                         lambda type_key=type_key: kanban_context(data, tiles, type_key)),
                    dirty=dirty.type(type_key), early=type_key in dirty.early_types)
        pages.append(tiles_swapped(data, tiles, dirty, page, lambda card_id, type_key=type_key:
                                   data.cards[card_id].type == type_key))
    card_pages = {f"cards/{card_id}.html": card_id for card_id in data.cards}
    for card_id in (data.cards if dirty.everything else sorted(dirty.cards & data.cards.keys())):
        pages.append(card_page(data, base, nav, card_id, early=card_id in dirty.early_cards))
    pages += people_pages(data, base, nav, tiles, extras, dirty)
    if timeline_types(cfg):
        key = lambda: digest(base, "timeline", day, *(_shown(v) for ctype in timeline_types(cfg)
                                                       for v in data.by_type.get(ctype.key, [])))
        planned = {ctype.key for ctype in timeline_types(cfg)}
        pages.append(Page("timeline.html", key, lazy_page(r, "timeline.html", "", nav, "timeline", data,
                                                      lambda: timeline_context(data)),
                          dirty=dirty.listing(lambda card_id: data.cards[card_id].type in planned)))
    if asset_types(cfg):
        pooled = {ctype.key for ctype, _ in asset_types(cfg)}

        grouping = {ctype.key: link for ctype, link in asset_types(cfg)}

        def in_pool(card_id: str) -> bool:  # an asset, or a card an asset is grouped under
            return data.cards[card_id].type in pooled or any(
                (other := data.cards.get(other_id)) is not None and other.type in pooled
                and other.meta.get(grouping[other.type]) == card_id for other_id in data.backlinks(card_id))
        pages.append(Page("assets.html", lambda: assets_key(data, base, tiles),
                          lazy_page(r, "assets.html", "", nav, "assets", data, lambda: assets_context(data, tiles)),
                          dirty=dirty.listing(in_pool)))
    if queue_types(cfg):
        hour = dates.now(cfg.timezone).strftime("%Y-%m-%dT%H")  # the queue counts hours left
        key = lambda: digest(base, "queue", hour, *(_shown(v) for ctype in queue_types(cfg)
                                                     for v in data.by_type.get(ctype.key, [])))
        queued = {ctype.key for ctype in queue_types(cfg)}
        pages.append(Page("queue.html", key, lazy_page(r, "queue.html", "", nav, "queue", data,
                                                   lambda: queue_context(data)),
                          dirty=dirty.listing(lambda card_id: data.cards[card_id].type in queued, hour=True)))
    for name, make in extras.items():
        if name.endswith(".html"):
            pages.append(make(data, base, nav, dirty.wide(history=True), dirty))
    if "calendar" in extras:
        pages.append(feed_page("calendar.ics", extras["calendar"], None, dirty.wide(), dirty))
    pages += archive_pages(data, base, nav, data.archive)
    return Plan(pages + static_pages(r), card_pages, lambda card_id: card_page(data, base, nav, card_id))


def _shown(view: CardView) -> str:
    """What lists and rows show of a card: its front matter and due status."""
    return f"{view.id}:{view.meta_fp}:{view.countdown}|{view.group}"


def feed_page(path: str, feeds, person: str | None, dirty: bool, changed: Dirty | None = None) -> Page:
    """A calendar feed: assembled from cached per-card parts (cheap), keyed by its bytes;
    after titles alone changed (`changed`), the last build's feed with the retitled cards'
    events swapped (`site.swaps`), which reads no other card's."""
    made: list[bytes] = []
    before = changed.before.get(path) if changed is not None and swappable(feeds.data, changed) else None
    out_dir = feeds.data.out_dir
    if before is not None:
        feeds.watch(changed.titled)

    def content() -> bytes:
        if not made:
            found = feeds.swaps(person, sorted(changed.titled)) if before is not None and out_dir is not None else None
            kept = swapped(os.path.join(out_dir, path), before[1], found) if found is not None else None
            made.append(kept if kept is not None else feeds(person))
        return made[0]

    return Page(path, lambda: digest(content()), content, dirty=dirty)


def swappable(data: SiteData, dirty: Dirty) -> bool:
    """Whether titles alone changed, each of a card whose ID no other card has (a
    second card of an ID is on no list but the feeds, which have both)."""
    return bool(dirty.titled) and not dirty.everything and dirty.titled.isdisjoint(data.duplicated)


def tiles_swapped(data: SiteData, tiles: Tiles, dirty: Dirty, page: Page, shows: Callable[[str], bool]) -> Page:
    """`page`, a list of tiles (a kanban, a person's cards), after titles alone changed: the
    last build's file with the tiles of the retitled cards it `shows` swapped (`site.swaps`),
    which works out no other card's view or tile; unchanged when it shows none of them."""
    before = dirty.before.get(page.path)
    if not swappable(data, dirty) or not page.dirty or before is None or data.out_dir is None:
        return page
    shown = [card_id for card_id in sorted(dirty.titled) if card_id in data.cards and shows(card_id)]
    if not shown:
        return Page(page.path, before[0], page.make, keep_existing=page.keep_existing, dirty=page.dirty,
                    early=page.early)
    tiles.watch(shown)

    def pieces() -> Pieces | None:
        out = []
        for card_id in shown:
            view = data.view(card_id)
            if view.card.error:
                return None
            new = str(tiles.html(view, "../"))
            old = tiles.before(card_id, "../")
            if old is None:
                return None
            out.append((old.encode("utf-8"), new.encode("utf-8")))
        return out

    return swapping_page(page, os.path.join(data.out_dir, page.path), before,
                         lambda: swapped_key(before[0], *(tiles.key(data.view(i), "../") for i in shown)), pieces)


def overview_key(data: SiteData, base: str) -> str:
    """What the overview shows: counts per state, the listed cards, problems, recent changes."""
    counts: dict[tuple[str, str], int] = {}
    for card in data.cards.values():
        counts[(card.type, card.state)] = counts.get((card.type, card.state), 0) + 1
    overdue, overdue_total, week, week_total = _due_summary(data)
    listed = [_shown(data.view(card_id)) for card_id in overdue + week]
    return digest(base, "index", data.today.isoformat(), data.history_key(), [p.line() for p in data.problems],
                  sorted(counts.items()), overdue_total, week_total, *listed,
                  digest(*data.cards),  # recent changes link the cards that exist
                  sales_key(data))


def assets_key(data: SiteData, base: str, tiles: Tiles) -> str:
    """What the asset pool shows: the asset tiles and the campaigns they are grouped under."""
    parts = []
    for ctype, link in asset_types(data.cfg):
        for v in data.by_type.get(ctype.key, []):
            target = v.card.meta.get(link)
            owner = data.view(target) if isinstance(target, str) else None
            parts.append(f"{tiles.key(v, '')}>{_shown(owner) if owner else ''}")
    return digest(base, "assets", *parts)


def static_pages(r: Renderer) -> list[Page]:
    """The stylesheet and script, copied as they are."""
    folder = r.folder / "static"
    pages = []
    for path in sorted(folder.iterdir()):
        if path.is_file() and not path.name.startswith("."):
            content = path.read_bytes()
            pages.append(Page(f"static/{path.name}", digest(content), lambda content=content: content))
    return pages


def navigation(data: SiteData, extras: dict) -> list[dict]:
    """The links at the top of every page (href relative to the site root)."""
    cfg = data.cfg
    items = [{"id": "index", "href": "index.html", "label": data.text("nav_overview")}]
    items += [{"id": f"type:{type_key}", "href": f"types/{type_key}.html", "label": ctype.label} for type_key, ctype in cfg.types.items()]
    if timeline_types(cfg):
        items.append({"id": "timeline", "href": "timeline.html", "label": data.text("nav_timeline")})
    if asset_types(cfg):
        items.append({"id": "assets", "href": "assets.html", "label": data.text("nav_assets")})
    if queue_types(cfg):
        items.append({"id": "queue", "href": "queue.html", "label": data.text("nav_queue")})
    items.append({"id": "people", "href": "people/index.html", "label": data.text("nav_people")})
    for name, label in (("report.html", "nav_report"), ("standup.html", "nav_standup")):
        if name in extras:
            items.append({"id": name[:-5], "href": name, "label": data.text(label)})
    if data.archive.counts:
        items.append({"id": "archive", "href": "archive/index.html", "label": data.text("nav_archive")})
    return items


# --- which types play which part -------------------------------------------------------------

def asset_types(cfg: BoardConfig) -> list[tuple[CardType, str]]:
    """(type, link field) for types whose cards belong to a timeline card (assets of a campaign)."""
    planned = {ctype.key for ctype in timeline_types(cfg)}
    out = []
    for ctype in cfg.types.values():
        if ctype.key in planned:
            continue
        link = next((f.key for f in ctype.fields.values() if f.type == "link" and f.to in planned), None)
        if link:
            out.append((ctype, link))
    return out


def queue_types(cfg: BoardConfig) -> list[CardType]:
    """Types worked as a queue against the clock (after-sales): `CardType.is_queue`."""
    return [ctype for ctype in cfg.types.values() if ctype.is_queue]


# --- overview --------------------------------------------------------------------------------

def overview_context(data: SiteData, tiles: Tiles) -> dict:
    """Counts per type and state, overdue and due-this-week lists, recent changes, problems."""
    cfg = data.cfg
    types = []
    for type_key, ctype in cfg.types.items():
        counts = {s.key: 0 for s in ctype.states}
        for card_id in data.ids_by_type.get(type_key, ()):  # the cards, not their views
            state = data.cards[card_id].state
            counts[state] = counts.get(state, 0) + 1
        states = [{"key": s.key, "label": s.label, "count": counts[s.key], "wip": s.wip,
                   "over": bool(s.wip and counts[s.key] > s.wip)} for s in ctype.states]
        types.append({"key": type_key, "label": ctype.label, "states": states, "total": sum(counts.values())})
    overdue_ids, overdue_total, week_ids, week_total = _due_summary(data)
    overdue, week = [data.view(i) for i in overdue_ids], [data.view(i) for i in week_ids]
    listed = overdue + week
    return {"types": types, "overdue": overdue, "overdue_total": overdue_total,
            "week": week, "week_total": week_total, "problems": data.problems,
            "attrs": {v.id: card_attrs(cfg, v) for v in listed},
            "filters": filter_options(data, listed, list(cfg.types.values())),
            "recent": recent_changes(data), "title": cfg.title, "sales": sales_context(data)}


def _due_summary(data: SiteData) -> tuple[list[str], int, list[str], int]:
    """What the overview lists of the due lists: the IDs it shows and how many each has
    (kept while nothing but titles changed: their members and order do not depend on titles)."""
    def make() -> tuple[list[str], int, list[str], int]:
        overdue, week = _due_lists(data)
        return [v.id for v in overdue[:LIST_LIMIT]], len(overdue), [v.id for v in week[:LIST_LIMIT]], len(week)

    return data.settled("due_lists", make)


def _due_lists(data: SiteData) -> tuple[list[CardView], list[CardView]]:
    """Open cards overdue, and due today or this week, soonest first (worked out once)."""
    def make() -> tuple[list[CardView], list[CardView]]:
        open_views = sorted(data.open_views(), key=_board_order)
        return ([v for v in open_views if v.group == "overdue"],
                [v for v in open_views if v.group in ("today", "week")])

    return data.once("due_lists", make)


def recent_changes(data: SiteData, n: int = 15) -> list[Shown]:
    """The last changes from git history (when the history module is available)."""
    if data.history is None:
        return []
    from mdboard.git.history import describe

    def rows() -> list[tuple]:
        return [(event.time.isoformat(), data.renderer.dates.moment(event.time), describe(event, data.board),
                 event.card) for event in data.history.recent(n)]

    key = f"{data.base}|{data.history_key()}|{data.today.isoformat()}|{n}"  # base: language, zone, templates
    return [Shown(iso=iso, moment=moment, text=text, card=card, known=card in data.cards)
            for iso, moment, text, card in data.kept.rows("recent", key, rows)]


# --- kanban ----------------------------------------------------------------------------------

def kanban_context(data: SiteData, tiles: Tiles, type_key: str) -> dict:
    """A type's columns: state label, count, WIP limit (flagged when exceeded) and tiles."""
    ctype = data.cfg.types[type_key]
    views = data.by_type.get(type_key, [])
    by_state: dict[str, list[CardView]] = {}
    for v in views:
        by_state.setdefault(v.card.state, []).append(v)
    columns = []
    for state in ctype.states:
        members = by_state.get(state.key, [])
        columns.append({"key": state.key, "label": state.label, "count": len(members), "wip": state.wip,
                        "over": bool(state.wip and len(members) > state.wip), "done": state.key in ctype.done_states(),
                        "tiles": [tiles.html(v, "../") for v in members]})
    stray = [v for v in views if not v.state_known]
    if stray:
        columns.append({"key": "", "label": data.text("unknown_folder"), "count": len(stray), "wip": None,
                        "over": False, "done": False, "tiles": [tiles.html(v, "../") for v in stray]})
    return {"ctype": ctype, "columns": columns, "total": len(views),
            "filters": filter_options(data, views, [ctype])}


# --- card pages ------------------------------------------------------------------------------

def card_page(data: SiteData, base: str, nav, card_id: str, early: bool = False) -> Page:
    """A card's own page: every field, the body, linked cards both ways, its history."""
    view = data.view(card_id)

    def key() -> str:
        related = "|".join(f"{i}:{other.meta_fp}:{other.due_key()}" if (other := data.view(i)) else i
                           for i in sorted(set(view.links + data.backlinks(view.id))))
        history = data.history.card_key(view.id) if data.history is not None else ""
        return digest(f"{base}|card|{view.fp}|{view.due_key()}|{related}|{history}|{plan_key(data, view.card)}")

    def context() -> dict:
        rows = data.history.rows(view.id, data.renderer.dates) if data.history is not None else []
        return card_context(data, view, rows)

    return Page(f"cards/{view.id}.html", key, lazy_page(data.renderer, "card.html", "../", nav,
                                                    f"type:{view.card.type}", data, context),
                keep_existing=bool(view.card.error), early=early)


def card_context(data: SiteData, view: CardView, events: list) -> dict:
    """The card page's table rows, rendered body, links and history (rows of ISO time, time
    as shown, sentence)."""
    board, cfg = data.board, data.cfg
    ctype = cfg.types[view.card.type]
    body = body_key = None
    if not view.card.error:
        from mdboard.core.errors import MdboardError
        from mdboard.site.render import body_of

        try:
            text = body_of(data.card_text(view.card))
        except (MdboardError, OSError, UnicodeDecodeError):
            text = None
        if text is not None:
            from markupsafe import Markup

            body_key = digest(data.base, "body", text)
            kept = data.kept_body(view.id, body_key)
            body = Markup(kept) if kept is not None else data.renderer.markdown(text)
    links_out = [(fd.label, [_ref(data, x) for x in _values(view.card.meta.get(fd.key))])
                 for fd in ctype.fields.values() if fd.type in ("link", "links") and view.card.meta.get(fd.key)]
    links_in = [_ref(data, i) for i in data.backlinks(view.id)]
    history = [Shown(iso=iso, moment=moment, text=text, card=view.id, known=False) for iso, moment, text in events]
    return {"v": view, "ctype": ctype, "rows": field_rows(data, view.card, ctype), "body": body, "body_key": body_key,
            "links_out": links_out, "links_in": links_in, "history": history, "plan": plan_context(data, view.card)}


def _values(value) -> list:
    if value is None or value == "":
        return []
    return list(value) if isinstance(value, list) else [value]


class Shown(SimpleNamespace):
    """A piece of a page handed to a template: attributes rather than dict keys, which jinja
    reads fastest (it tries an attribute first, and a card page reads hundreds)."""


def _ref(data: SiteData, card_id) -> Shown:
    """A linked card as the pages show it: ID, title, state; `missing` when it does not exist."""
    view = data.view(card_id)
    if view is None:
        card = data.archive.card(card_id) if isinstance(card_id, str) else None
        if card is None:
            return Shown(id=str(card_id), title="", missing=True)
        ctype = data.cfg.types[card.type]
        return Shown(id=card.id, title=card.title, state=f"{ctype.state_label(card.state)} · {data.text('archived_badge')}",
                     type=ctype.label, countdown="", overdue=False, missing=False, href=data.archive.href(card.id))
    return Shown(id=view.id, title=view.title, state=view.state_label, type=view.type_label,
                 countdown=view.countdown, overdue=view.overdue, missing=False, href=None)


def field_rows(data: SiteData, card: Card, ctype: CardType) -> list[Shown]:
    """One row per field (configured ones first, then any other key), each value in parts."""
    cfg = data.cfg
    rows = []
    for fd in ctype.fields.values():
        if fd.key == "title":
            continue
        rows.append(Shown(label=fd.label, key=fd.key, parts=value_parts(data, fd, card.meta.get(fd.key))))
    for key, value in card.meta.items():
        if key not in ctype.fields and key != "title":
            label = data.text("field_plan") if key == "plan" else key  # the plan that made it (domain/plans.py)
            rows.append(Shown(label=label, key=key, parts=[_part(_plain(value))] if value not in (None, "") else []))
    return rows


def value_parts(data: SiteData, fd, value) -> list[Shown]:
    """A field value as pieces of text, each maybe a link, a date or a badge."""
    cfg = data.cfg
    if value is None or value == "" or value == []:
        return []
    items = value if isinstance(value, list) else [value]
    kind = fd.type
    parts = []
    for item in items:
        if isinstance(item, (dict, list)):  # a value of the wrong shape: shown as it is
            parts.append(_part(_plain(item)))
        elif kind in ("person", "people") and isinstance(item, str):
            parts.append(_part(cfg.person_name(item), href=f"../people/{item}.html" if item in cfg.people else None))
        elif kind in ("platform", "platforms"):
            parts.append(_part(cfg.platforms.get(item, _plain(item)), badge=True))
        elif kind in ("link", "links"):
            ref = _ref(data, item)
            href = None if ref.missing else f"../{ref.href}" if ref.href else f"{quote(ref.id)}.html"
            parts.append(_part(f"{ref.id} {ref.title}".strip(), missing=ref.missing, href=href))
        elif kind in ("date", "datetime") and isinstance(item, str):
            parts.append(_part(data.renderer.dates.long(item), datetime=item))
        elif kind == "tags":
            parts.append(_part(_plain(item), tag=True))
        else:
            parts.append(_part(display(fd, item, cfg)))
    for part in parts[1:]:
        part.sep = True
    return parts


def _part(text: str, href: str | None = None, datetime: str | None = None, badge: bool = False,
          tag: bool = False, missing: bool = False) -> Shown:
    """One piece of a field value (`sep`: a separator goes before it)."""
    return Shown(text=text, href=href, datetime=datetime, badge=badge, tag=tag, missing=missing, sep=False)


def _plain(value) -> str:
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


# --- people ----------------------------------------------------------------------------------

def people_pages(data: SiteData, base: str, nav, tiles: Tiles, extras: dict, dirty: Dirty) -> list[Page]:
    """A page per person (their cards by due group, each with its next step, as `mine` shows
    them) and feed, and the team page (everyone's load)."""
    cfg = data.cfg
    calendar = "calendar" in extras
    step = _next_steps(data)

    def mine(key: str) -> dict[str, list[CardView]]:
        return _groups_of(data, key)

    pages = []
    for key in cfg.people:
        page_key = lambda key=key: digest(base, "person", key, *(
            f"{g}:{tiles.key(v, '../')}:{v.state_label}:{step(v)}" for g, views in mine(key).items() for v in views))
        context = lambda key=key: {"person": cfg.people[key], "groups": [
            (g, data.text("group_" + g), [(tiles.html(v, "../"), v.state_label, step(v)) for v in views])
            for g, views in mine(key).items()],
            "total": sum(len(x) for x in mine(key).values()), "calendar": calendar}
        page = Page(f"people/{key}.html", page_key, lazy_page(data.renderer, "person.html", "../", nav, "people",
                                                             data, context), dirty=dirty.person(key))
        pages.append(tiles_swapped(data, tiles, dirty, page, lambda card_id, key=key: _lists(data, key, card_id)))
        if calendar:
            pages.append(feed_page(f"people/{key}.ics", extras["calendar"], key, dirty.person(key), dirty))
    team = lambda: team_context(data, person_groups(data), calendar)
    pages.append(Page("people/index.html", lambda: digest(base, "team", data.settled("team_rows", lambda: repr(team()["rows"]))),
                      lazy_page(data.renderer, "team.html", "../", nav, "people", data, team), dirty=dirty.wide()))
    return pages


def _lists(data: SiteData, person: str, card_id: str) -> bool:
    """Whether the person's page shows the card (one of their open cards, as `_groups_of`)."""
    view = data.view(card_id)
    return person in data.states[view.card.path].people and bool(data.open_views([view]))


def _next_steps(data: SiteData) -> Callable[[CardView], str]:
    """A card's next step (what `mdboard mine` says under it), worked out once per build;
    nothing for a card that cannot be read."""
    from mdboard.core.workflow import next_step

    steps: dict[str, str] = {}

    def step(view: CardView) -> str:
        if view.id not in steps:
            steps[view.id] = "" if view.card.error else next_step(data.board, view.card)
        return steps[view.id]

    return step


def _groups_of(data: SiteData, person: str) -> dict[str, list[CardView]]:
    """One person's open cards by due group, as `person_groups` has them, from the views of
    their cards alone (a rebuild after a title changed makes no other card's view)."""
    def make() -> dict[str, list[CardView]]:
        if "person_groups" in data._once:
            return person_groups(data).get(person) or {g: [] for g in GROUPS}
        states = data.states
        views = [data.view(card_id) for card_id, card in data.cards.items() if person in states[card.path].people]
        out = {g: [] for g in GROUPS}
        for view in sorted(data.open_views(views), key=_board_order):
            out[view.group].append(view)
        return out

    return data.once(f"groups:{person}", make)


def person_groups(data: SiteData) -> dict[str, dict[str, list[CardView]]]:
    """person -> due group -> their open cards, soonest first (one pass over the board, once)."""
    def make() -> dict[str, dict[str, list[CardView]]]:
        out: dict[str, dict[str, list[CardView]]] = {}
        for view in sorted(data.open_views(), key=_board_order):
            for person in dict.fromkeys(view.people):
                out.setdefault(person, {g: [] for g in GROUPS})[view.group].append(view)
        return out

    return data.once("person_groups", make)


def team_context(data: SiteData, groups, calendar: bool) -> dict:
    """Each person's load: open cards, overdue, due today, this week, and per type."""
    cfg = data.cfg
    rows = []
    for key, person in cfg.people.items():
        mine = groups.get(key, {g: [] for g in GROUPS})
        everything = [v for g in GROUPS for v in mine[g]]
        by_type = {type_key: sum(1 for v in everything if v.card.type == type_key) for type_key in cfg.types}
        rows.append({"key": key, "name": person.name, "roles": person.roles, "open": len(everything),
                     "overdue": len(mine["overdue"]), "today": len(mine["today"]), "week": len(mine["week"]),
                     "by_type": by_type})
    most = max([row["open"] for row in rows] + [1])
    for row in rows:
        row["share"] = round(100 * row["open"] / most)
    return {"rows": rows, "types": list(cfg.types.values()), "calendar": calendar}


# --- timeline --------------------------------------------------------------------------------

def timeline_context(data: SiteData) -> dict:
    """Campaign rows on a shared time axis: windows as bars, deadlines as marks, a today line."""
    from mdboard.site.charts import timeline_layout

    return timeline_layout(data)


# --- asset pool and queue --------------------------------------------------------------------

def assets_context(data: SiteData, tiles: Tiles) -> dict:
    """Assets grouped by the campaign they belong to, each group split by state."""
    cfg = data.cfg
    sections = []
    for ctype, link in asset_types(cfg):
        views = data.by_type.get(ctype.key, [])
        by_owner: dict[str, list[CardView]] = {}
        for v in views:
            target = v.card.meta.get(link)
            by_owner.setdefault(target if isinstance(target, str) and target in data.cards else "", []).append(v)
        order = sorted(by_owner, key=lambda k: (k == "", _board_order(data.view(k)) if k else ()))
        groups = []
        for target in order:
            members = by_owner[target]
            states = [{"label": s.label, "key": s.key,
                       "tiles": [tiles.html(v, "") for v in members if v.card.state == s.key]} for s in ctype.states]
            groups.append({"ref": _ref(data, target) if target else None, "count": len(members), "states": states})
        sections.append({"ctype": ctype, "groups": groups, "total": len(views)})
    all_views = [v for ctype, _ in asset_types(cfg) for v in data.by_type.get(ctype.key, [])]
    return {"sections": sections,
            "filters": filter_options(data, all_views, [ctype for ctype, _ in asset_types(cfg)])}


def queue_context(data: SiteData) -> dict:
    """Open after-sales cards sorted by time left to their due time, most urgent first."""
    cfg = data.cfg
    now = dates.now(cfg.timezone)
    sections = []
    for ctype in queue_types(cfg):
        done = ctype.done_states()
        rows = []
        for v in data.by_type.get(ctype.key, []):
            if v.card.error or v.card.state in done:
                continue
            moment = dates.when(v.card.meta.get("due"), cfg.timezone) if v.card.meta.get("due") else None
            left = (moment - now).total_seconds() / 3600 if moment else None
            rows.append({"v": v, "hours": left, "left": _time_left(data, left), "attrs": card_attrs(cfg, v),
                         "extra": [(fd.label, display(fd, v.card.meta.get(fd.key), cfg))
                                   for fd in ctype.fields.values() if fd.type == "enum"]})
        rows.sort(key=lambda row: (row["hours"] is None, row["hours"] if row["hours"] is not None else 0, row["v"].id))
        enum_labels = [fd.label for fd in ctype.fields.values() if fd.type == "enum"]
        sections.append({"ctype": ctype, "rows": rows, "enum_labels": enum_labels})
    views = [row["v"] for s in sections for row in s["rows"]]
    return {"sections": sections, "filters": filter_options(data, views, queue_types(cfg))}


def _time_left(data: SiteData, hours: float | None) -> str:
    """还剩 5 小时 / 逾期 2 天 … for the queue, in hours when under a day."""
    if hours is None:
        return ""
    if abs(hours) < 24:
        n = max(1, round(abs(hours)))
        return data.text("hours_left", n=n) if hours >= 0 else data.text("hours_over", n=n)
    n = round(abs(hours) / 24)
    return data.text("days_left", n=n) if hours >= 0 else data.text("days_over", n=n)
