"""What the server adds to the built pages, and its own small pages: the URL prefix of
everything the server adds (`/__mdboard/`), where its static files are, the markup a
mode adds to a served page (`Extras`) and how it is put in (`inject`), the error page.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

LIVE_PREFIX = "/__mdboard/"
STATIC_PREFIX = LIVE_PREFIX + "static/"
STATIC_DIR = Path(__file__).with_name("static")


def error_page(status: int, text: str) -> bytes:
    """A small page for an error status; `text` is escaped."""
    return (f"<!doctype html><meta charset=utf-8><meta name=viewport content='width=device-width'>"
            f"<title>{status}</title><h1>{status}</h1><p>{html.escape(text)}</p>").encode("utf-8")


BODY_OPEN = re.compile(rb"<body\b[^>]*>", re.IGNORECASE)
BODY_CLOSE = re.compile(rb"</body\s*>", re.IGNORECASE)
H1_CLOSE = re.compile(rb"</h1\s*>", re.IGNORECASE)


def inject(page: bytes, head: str, tail: str, after_title: str = "") -> bytes:
    """Add `head` right after <body>, `after_title` after the first </h1> and `tail` right
    before the last </body> (the served copy only)."""
    if after_title:
        title = H1_CLOSE.search(page)
        at = title.end() if title else 0
        page = page[:at] + after_title.encode("utf-8") + page[at:]
    head_b, tail_b = head.encode("utf-8"), tail.encode("utf-8")
    opening = BODY_OPEN.search(page)
    page = page[:opening.end()] + head_b + page[opening.end():] if opening else head_b + page
    closing = None
    for closing in BODY_CLOSE.finditer(page):
        pass
    if closing:
        return page[:closing.start()] + tail_b + page[closing.start():]
    return page + tail_b


@dataclass
class Extras:
    """What a server mode adds to a served HTML page: markup after <body> and before </body>."""

    head: str = ""
    tail: str = ""
    after_title: str = ""  # right after the page's first </h1> (a card page: the card's panel)


PageHook = Callable[[object, str], "Extras | None"]  # (request, page path) -> extras
