"""Pages made from git history, kept between builds with each card title left as a slot.

The report names thousands of cards by their titles (its scatter's dots), the standup
dozens; both are worked out from the whole git history (~1 s at 10,000 cards). A title
changes far more often than what else they show, so each is kept as made - its HTML
with a slot where each card's title goes - under a key of everything it shows but the
titles. While that key holds (same commit, day, templates, and the cards' other fields),
the page is its kept HTML with today's titles put in the slots: no history is read.
The overview's recent changes are kept the same way, by commit and day.

A page may also leave a sentence as a slot (`Slots.text`): the report's "worked out from
N changes" counts every commit, while its figures change only with a card's way through
its states; so a commit that adds a note or ticks an item fills the kept report with the
new count instead of working the report out again from the whole history.

A full build goes the same way (make the HTML with slots, then fill them), so a page
filled from kept HTML is byte for byte the page a full build writes.
"""

from __future__ import annotations

import os
from typing import Callable

from markupsafe import escape

_OPEN, _CLOSE = "\ue000", "\ue001"  # private-use characters around a slot


class Slots:
    """Hands out the slots of one page being made: a card's title becomes a marker (with
    a nonce of this page, so no text a card or its history holds can pass for one)."""

    def __init__(self, data):
        self.data = data
        self.nonce = os.urandom(4).hex()  # as secrets.token_hex does, without importing hmac and OpenSSL
        self.ids: dict[str, None] = {}  # the cards given a slot, in order
        self.names: dict[str, None] = {}  # the sentences left as slots (`text`), in order

    def title(self, card_id, title):
        """The marker of the card's title (the title itself when it is not the title of a
        card on the board: a card known only from its history keeps the title it had)."""
        card = self.data.cards.get(card_id) if isinstance(card_id, str) else None
        if card is None or card.title != title:
            return title
        self.ids[card_id] = None
        return f"{_OPEN}{self.nonce}{card_id}{_CLOSE}"

    def text(self, name: str) -> str:
        """The marker of the sentence `name`, filled with its text of the moment (the `texts`
        a page is filled with). A name starts with "#", which no card ID does."""
        name = "#" + name
        self.names[name] = None
        return f"{_OPEN}{self.nonce}{name}{_CLOSE}"


def fill(html: str, nonce: str, filled: dict[str, str]) -> str:
    """`html` with each slot of `nonce` replaced by its text in `filled`. Not a regular
    expression of the nonce: `re` keeps the last 512 it compiled, and a server filling
    pages with a new nonce at every rebuild kept 512 patterns it never used again (and
    pushed out the ones it does use)."""
    pieces = html.split(_OPEN + nonce)
    out = [pieces[0]]
    for piece in pieces[1:]:
        name, close, rest = piece.partition(_CLOSE)
        out.append(filled[name] + rest if close else _OPEN + nonce + piece)
    return "".join(out)


def held_slots(html: str, nonce: str) -> set[str]:
    """The names of the slots of `nonce` that `html` holds (split as `fill` does, no regex)."""
    held = set()
    for piece in html.split(_OPEN + nonce)[1:]:
        name, close, _ = piece.partition(_CLOSE)
        if close:
            held.add(name)
    return held


class KeptPages:
    """name -> (key, nonce, HTML with slots, IDs of the slotted cards, names of the slotted
    sentences) for the pages made from git history, plus the overview's recent changes
    and what `rows` keeps; read from the builder's state when first needed, saved when
    something changed."""

    def __init__(self, load: Callable[[], dict]):
        self._load = load
        self._entries: dict | None = None
        self.changed = False

    @property
    def entries(self) -> dict:
        if self._entries is None:
            found = self._load()
            self._entries = found if isinstance(found, dict) else {}
        return self._entries

    def _hit(self, name: str, key: str, data, texts: dict) -> tuple | None:
        hit = self.entries.get(name)
        if hit is None or len(hit) != 5 or hit[0] != key or any(card_id not in data.cards for card_id in hit[3]) \
                or any(slot[1:] not in texts for slot in hit[4]):
            return None
        return hit

    def page_key(self, name: str, key: str, data, texts: dict | None = None,
                 since: tuple[str, set] | None = None) -> str:
        """The page's key: what it was made from (`key`, all it shows but titles and `texts`,
        and `texts`, name -> the sentence of the moment), then the titles in its slots; a
        page not kept under `key` gets a key of its own (it will be made).

        `since` is (the page's key in the last build, the IDs of the cards whose titles
        alone changed since): when that key was made from the same kept page and sentences,
        only those cards' titles are read and hashed into it (the report names ~5,000 cards
        at 100,000 cards, the standup ~2,500: reading every title cost ~40 ms)."""
        from mdboard.site.render import digest

        texts = texts or {}
        hit = self._hit(name, key, data, texts)
        if hit is None:
            return digest(key, "not kept", *texts.values())
        cards = data.cards
        made_from = digest(key, *(f"{slot}:{texts[slot[1:]]}" for slot in hit[4]))
        last, titled = since if since is not None else ("", None)
        last_from, _, last_titles = last.partition(".")
        if titled is not None and last_from == made_from and last_titles:
            changed = [card_id for card_id in hit[3] if card_id in titled]
            if not changed:
                return last
            return f"{made_from}.{digest(last_titles, *(f'{card_id}:{cards[card_id].title}' for card_id in changed))}"
        return f"{made_from}.{digest(*(f'{card_id}:{cards[card_id].title}' for card_id in hit[3]))}"

    def page(self, name: str, key: str, data, make: Callable[[Slots], str], texts: dict | None = None) -> bytes:
        """The page as bytes: its kept HTML when kept under `key`, else `make(slots)`
        (kept from now on), with the slots filled with today's titles and `texts`."""
        texts = texts or {}
        hit = self._hit(name, key, data, texts)
        if hit is None:
            slots = Slots(data)
            html = make(slots)
            # the slots the page holds (the report's scatter leaves out some of the cards it was given)
            held = held_slots(html, slots.nonce)
            hit = self.entries[name] = (key, slots.nonce, html, tuple(i for i in slots.ids if i in held),
                                        tuple(n for n in slots.names if n in held))
            self.changed = True
        _, nonce, html, ids, names = hit
        cards = data.cards
        filled = {card_id: str(escape(cards[card_id].title)) for card_id in ids}
        filled.update((slot, str(escape(texts[slot[1:]]))) for slot in names)
        return fill(html, nonce, filled).encode("utf-8")

    def rows(self, name: str, key: str, make: Callable[[], object], fresh: bool = False):
        """What is kept under `key` (the overview's recent changes; the report's hash of the
        steps and count of events at a commit), else (or when `fresh`) `make()` kept."""
        hit = self.entries.get(name)
        if fresh or hit is None or hit[0] != key:
            hit = self.entries[name] = (key, make())
            self.changed = True
        return hit[1]

    def saved(self) -> None:
        """What changed is on disk now."""
        self.changed = False

    def forget(self, names: set[str]) -> None:
        """Drop what pages that are no longer made kept (a board without history)."""
        for name in names & self.entries.keys():
            del self.entries[name]
            self.changed = True
