"""Small text helpers every layer uses: what is safe to print, "did you mean", card IDs.

They live here, below config, fields and store, so that errors, config and the card
store can all use them without importing each other.
"""

from __future__ import annotations

import re

from mdboard.core.i18n import t

ID_PATTERN = r"[A-Z][A-Z0-9]*-\d+"  # a card ID: PREFIX-123, the one pattern everything uses
ID_RE = re.compile(r"^([A-Z][A-Z0-9]*)-(\d+)$")  # the same, with (prefix, number) as groups
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def has_control_chars(text: str) -> bool:
    """Whether text holds control characters other than tab and newline."""
    return bool(_CONTROL.search(text))


def printable(text: str) -> str:
    """Text that is safe to print on a teammate's terminal.

    A card is written by anyone with push access; an escape sequence in a title
    could recolour, retitle or rewrite the terminal of whoever runs `mdboard ls`.
    Control characters (tab and newline aside) become U+FFFD.
    """
    return _CONTROL.sub("\ufffd", text)


def next_id(prefix: str, ids) -> str:
    """The next free ID of `prefix` among `ids`: one more than the highest number in use."""
    highest = 0
    for card_id in ids:
        m = ID_RE.match(card_id)
        if m and m.group(1) == prefix:
            highest = max(highest, int(m.group(2)))
    return f"{prefix}-{highest + 1:04d}"


def suggest(word: str, choices) -> str:
    """A "did you mean" hint for `word`, or a list of what is allowed."""
    import difflib

    choices = [str(c) for c in choices]
    close = difflib.get_close_matches(str(word), choices, n=1, cutoff=0.5)
    if close:
        return t("fields.did_you_mean", value=close[0])
    return t("fields.choose_from", options=", ".join(choices[:12]))
