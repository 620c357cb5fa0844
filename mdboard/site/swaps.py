"""Lists after titles alone changed: the file the last build wrote, with each changed
card's piece (its tile, its calendar events) swapped for the new one.

A kanban shows every open card of its type as a tile, the calendar feeds every dated
card's events. Working such a list out again means every card's view or events: at
100,000 cards a SKU's kanban holds ~3,000 tiles and the board's feed ~8,000 cards'
events, ~0.2 s of a rebuild after one title changed. Yet a title shows only in its
card's own piece, and a piece stands in the page exactly as it was made (tiles and
events are put in as they are, in an order no title decides). So the page a full build
would write now is the last one with the changed cards' pieces swapped.

That holds while the file is the one the last build wrote (its hash is the one the
manifest keeps) and each piece as it was is found in it exactly once; otherwise the page
is made as usual. A swapped page's key is the last key and the new pieces' keys hashed
together: it names what the page shows as well as a key worked out from every card does
(a later build that works the whole key out finds another key and makes the page again,
which writes nothing when the bytes are the same).
"""

from __future__ import annotations

from typing import Callable

from mdboard.site.render import Page, digest

Pieces = list[tuple[bytes, bytes]]  # (the piece as the last build wrote it, the piece now)


def swapped(path: str, written_hash: str, pieces: Pieces) -> bytes | None:
    """The file at `path` with each piece swapped, when it is the file of `written_hash`
    and each old piece is in it exactly once; None otherwise (the page is made again)."""
    try:
        with open(path, "rb") as fh:
            content = fh.read()
    except OSError:
        return None
    if digest(content) != written_hash:
        return None
    for old, new in pieces:
        if not old or content.count(old) != 1:
            return None
        if new != old:
            content = content.replace(old, new)
    return content


def swapping_page(page: Page, path: str, before: tuple[str, str], key: Callable[[], str],
                  pieces: Callable[[], Pieces | None]) -> Page:
    """`page` made by swapping `pieces()` in the file at `path` the last build wrote as
    `before` (key, hash of its bytes) - or made as usual when that cannot be done -
    under `key()` (see the module's docstring)."""
    def make() -> bytes:
        found = pieces()
        content = swapped(path, before[1], found) if found is not None else None
        return content if content is not None else page.make()

    return Page(page.path, key, make, keep_existing=page.keep_existing, dirty=page.dirty, early=page.early)


def swapped_key(before_key: str, *pieces_keys: str) -> str:
    """The key of a page whose pieces of these keys were swapped into its last version."""
    return digest(before_key, "swapped", *pieces_keys)
