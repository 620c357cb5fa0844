"""The archive on the site: the archived cards (`<type>/<done state>/<year>/`, see
domain/archive.py) listed a page per type and year, `ARCHIVE_PAGE` cards a page, and where a
link to an archived card leads (its row there).

Archived cards get no page of their own: a year of 100,000 after-sales cases would be
100,000 pages for cards nobody opens. Their rows are made from the archive's own parse
cache, and a page is made again only when one of its year's folders changed (mdboard's
own writes always change the folder; a hand edit in place of an archived file shows once
the folder next changes, or after `_site/` is removed).
"""

from __future__ import annotations

from urllib.parse import quote

from mdboard.core.store import Board, Card, parse_file
from mdboard.site.render import digest

ARCHIVE_PAGE = 500  # cards on one archive page
LOOKUPS_BEFORE_INDEX = 24  # cards looked for one by one before every archived card is indexed


class ArchiveIndex:
    """The archive as its folder listings show it (`Board.archive_folders`, no card read):
    (type, year) -> how many cards and the folders' stamps, for the page keys; where each
    card is listed, and the archived card itself, worked out only when first asked for."""

    def __init__(self, board: Board):
        self.board = board
        self.folders = board.archive_folders()
        self.counts: dict[tuple[str, str], int] = {}
        self.stamps: dict[tuple[str, str], list[str]] = {}
        for folder, (mtime, card_ids) in self.folders.items():
            type_key, _, year = folder.split("/")
            self.counts[(type_key, year)] = self.counts.get((type_key, year), 0) + len(card_ids)
            self.stamps.setdefault((type_key, year), []).append(f"{folder}:{mtime}")
        self._ids: dict[tuple[str, str], list[tuple[str, str]]] | None = None
        self._where: dict[str, tuple[tuple[str, str], int, str]] | None = None
        self._looked_up = 0
        self._read: dict[str, Card | None] = {}

    def ids(self, type_key: str, year: str) -> list[tuple[str, str]]:
        """(card ID, relative path) of a type's cards archived in `year`, in listing order."""
        if self._ids is None:
            self._ids = {}
            for folder, (_, card_ids) in self.folders.items():
                type_key_, _, year_ = folder.split("/")
                self._ids.setdefault((type_key_, year_), []).extend((c, f"{folder}/{c}.md") for c in card_ids)
        return self._ids.get((type_key, year), [])

    def _where_is(self, card_id: str):
        """((type, year), its place in that listing, its path) of an archived card, or None.
        The first few cards are looked for in the folders' lists (~1 ms each at 90,000
        archived cards, in C); past that every card is indexed once (~60 ms)."""
        if self._where is None and self._looked_up < LOOKUPS_BEFORE_INDEX:
            self._looked_up += 1
            return self._look_for(card_id)
        if self._where is None:
            self._where = {}
            for key in self.counts:
                for i, (found, rel) in enumerate(self.ids(*key)):
                    self._where.setdefault(found, (key, i, rel))
        return self._where.get(card_id)

    def _look_for(self, card_id: str):
        """What `_where_is` says of one card, found in the folders' lists in the order the
        index is made in (the first of two archived cards of one ID wins, there as here)."""
        folders: dict[tuple[str, str], list[str]] = {}
        for folder in self.folders:
            type_key, _, year = folder.split("/")
            folders.setdefault((type_key, year), []).append(folder)
        for key in self.counts:
            start = 0
            for folder in folders[key]:
                card_ids = self.folders[folder][1]
                if card_id in card_ids:
                    return key, start + card_ids.index(card_id), f"{folder}/{card_id}.md"
                start += len(card_ids)
        return None

    def href(self, card_id) -> str | None:
        """The archive page (relative to the site root) and row of an archived card, else None."""
        where = self._where_is(card_id) if isinstance(card_id, str) else None
        if where is None:
            return None
        (type_key, year), i, _ = where
        return f"{page_path(type_key, year, i // ARCHIVE_PAGE + 1)}#{quote(card_id)}"

    def card(self, card_id: str) -> Card | None:
        """An archived card, read from its own file (for a link to it: its title and state)."""
        if card_id not in self._read:
            where = self._where_is(card_id)
            self._read[card_id] = None
            if where is not None:
                meta, checklist, error = parse_file(self.board.root / where[2])
                type_key, state = where[2].split("/")[:2]
                self._read[card_id] = Card(card_id, type_key, state, where[2], meta, checklist, error)
        return self._read[card_id]

    def pages_of(self, type_key: str, year: str) -> int:
        return -(-self.counts[(type_key, year)] // ARCHIVE_PAGE)


def page_path(type_key: str, year: str, number: int) -> str:
    return f"archive/{type_key}-{year}-{number}.html"


def archive_pages(data, base: str, nav, index: ArchiveIndex) -> list:
    """The archive's overview page and its pages per type and year."""
    from mdboard.site.render import Page, lazy_page

    if not index.counts:
        return []
    rows = _Rows(data.board, data)
    order = {type_key: i for i, type_key in enumerate(data.cfg.types)}
    listing = sorted(((key, index.pages_of(*key), count) for key, count in index.counts.items()),
                     key=lambda item: (order.get(item[0][0], len(order)), item[0][1]))
    overview_key = digest(base, "archive", *(f"{t}/{y}:{n}:{c}" for (t, y), n, c in listing))
    pages = [Page("archive/index.html", overview_key,
                  lazy_page(data.renderer, "archive.html", "../", nav, "archive", data,
                        lambda: {"years": _years(data, listing), "rows": None}))]
    for (type_key, year), count, _ in listing:
        stamps = index.stamps.get((type_key, year), [])
        for number in range(1, count + 1):
            key = digest(base, "archive", type_key, year, str(number), str(count), *stamps)
            context = (lambda type_key=type_key, year=year, number=number, count=count:
                       {"years": None, "ctype": data.cfg.types[type_key], "year": year, "number": number,
                        "count": count, "pages": [page_path(type_key, year, n)[len("archive/"):]
                                                  for n in range(1, count + 1)],
                        "rows": rows.of([card_id for card_id, _ in index.ids(type_key, year)
                                         [(number - 1) * ARCHIVE_PAGE:number * ARCHIVE_PAGE]])})
            pages.append(Page(page_path(type_key, year, number), key,
                              lazy_page(data.renderer, "archive.html", "../", nav, "archive", data, context)))
    return pages


def _years(data, listing) -> list[dict]:
    """For the archive's overview: per type and year, how many cards and the first page."""
    return [{"ctype": data.cfg.types[type_key], "year": year, "count": count,
             "href": page_path(type_key, year, 1)[len("archive/"):]} for (type_key, year), _, count in listing]


class _Rows:
    """The rows of archived cards, from the archived cards read once through their cache."""

    def __init__(self, board: Board, data):
        self.board = board
        self.data = data
        self._cards: dict | None = None

    def of(self, ids: list[str]) -> list[dict]:
        if self._cards is None:
            self._cards = {}
            for card in self.board.archived_cards(lazy=True):
                self._cards.setdefault(card.id, card)
        cfg = self.data.cfg
        out = []
        for card_id in ids:
            card = self._cards.get(card_id)
            if card is None:
                continue
            ctype = cfg.types[card.type]
            owner = card.owner
            out.append({"id": card.id, "title": card.title, "state": ctype.state_label(card.state),
                        "owner": cfg.person_name(owner) if owner else "", "error": bool(card.error)})
        return out
