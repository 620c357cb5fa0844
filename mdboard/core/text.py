"""Small text helpers every layer uses: what is safe to print, "did you mean", card IDs.

They live here, below config, fields and store, so that errors, config and the card
store can all use them without importing each other.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from mdboard.core.i18n import t


def lazy_regex(pattern: str, flags: int = 0) -> Callable[[], re.Pattern]:
    """A regular expression compiled the first time it is asked for (`NAME()`), not when its
    module is imported. Every command is a new process: a pattern compiled at import costs
    each of them 0.1-5 ms (a class of Unicode ranges the most), whether it is used or not.
    For patterns most commands never use (typed dates, help layout, rare errors)."""
    compiled: list[re.Pattern] = []

    def get() -> re.Pattern:
        if not compiled:
            compiled.append(re.compile(pattern, flags))
        return compiled[0]

    get.pattern = pattern  # what declarations quote (config's keys), without compiling
    return get

# A card ID: PREFIX-123, the one pattern everything uses. ASCII digits only; matched whole
# (ID_RE ends with `\Z`, not `$`: `$` also matches before a final newline, and a file named
# "SKU-0001\n.md" would pass for SKU-0001).
ID_PATTERN = r"[A-Z][A-Z0-9]*-[0-9]+"
ID_RE = re.compile(r"^([A-Z][A-Z0-9]*)-([0-9]+)\Z")  # the same, with (prefix, number) as groups
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Characters that change how the text around them is shown without being seen: bidi
# overrides and isolates (U+202E turns "gpj.exe" into "exe.jpg"), zero-width spaces and
# joiners, a BOM. A zero-width joiner between emoji (👩‍💻) is how emoji are written: kept.
_INVISIBLE = lazy_regex("[\u061c\u200b\u200c\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
                        "|(?<![\u2600-\u27bf\U0001f000-\U0001faff\ufe0f\U0001f3fb-\U0001f3ff])\u200d"
                        "|\u200d(?![\u2600-\u27bf\U0001f000-\U0001faff])")
SURROGATE_RE = lazy_regex("[\ud800-\udfff]")  # a file name byte that is not UTF-8, as Python keeps it


def has_control_chars(text: str) -> bool:
    """Whether text holds control characters other than tab and newline."""
    return bool(_CONTROL.search(text))


def has_invisible_chars(text: str) -> bool:
    """Whether text holds bidi overrides or zero-width characters (see `_INVISIBLE`)."""
    return bool(_INVISIBLE().search(text))


def printable(text: str) -> str:
    """Text that is safe to print on a teammate's terminal.

    A card is written by anyone with push access; an escape sequence in a title
    could recolour, retitle or rewrite the terminal of whoever runs `mdboard ls`,
    and a right-to-left override could make it read backwards. Control characters
    (tab and newline aside), bidi overrides, zero-width characters and the bytes of a
    file name that is not UTF-8 become U+FFFD.
    """
    if text.isprintable():
        return text
    return SURROGATE_RE().sub("\ufffd", _INVISIBLE().sub("\ufffd", _CONTROL.sub("\ufffd", text)))


def next_id(prefix: str, ids) -> str:
    """The next free ID of `prefix` among `ids`: one more than the highest number in use.

    An ID of `prefix` is `PREFIX-` and ASCII digits (what ID_RE reads, a prefix being
    `[A-Z][A-Z0-9]*`), told by string tests: `new` on a board of 100,000 cards looks at
    ~40,000 IDs, and a regular expression match for each cost 3 times as much."""
    head = prefix + "-"
    cut = len(head)
    numbers = [card_id[cut:] for card_id in ids if card_id.startswith(head)]
    digits = [number for number in numbers if number.isdigit() and number.isascii()]
    return f"{prefix}-{max(map(int, digits), default=0) + 1:04d}"


def suggest(word: str, choices) -> str:
    """A "did you mean" hint for `word`, or a list of what is allowed."""
    import difflib

    choices = [str(c) for c in choices]
    close = difflib.get_close_matches(str(word), choices, n=1, cutoff=0.5)
    if close:
        return t("fields.did_you_mean", value=close[0])
    return t("fields.choose_from", options=", ".join(choices[:12]))


def suggest_label(word: str, labels, otherwise: str = "") -> str:
    """A "did you mean" naming a label people see, or the labels to choose from.

    `labels` maps each key to its label (a dict, or (key, label) pairs); `word` is
    compared with keys and labels alike (case aside), and the nearest one's label is
    what the hint names. `otherwise` follows the list when nothing is near (what to do
    when the word is new to the board, not mistyped).
    """
    import difflib

    from mdboard.core.i18n import join_list

    pairs = list(labels.items() if isinstance(labels, dict) else labels)
    names: dict[str, str] = {}
    for key, label in pairs:
        names.setdefault(str(label).lower(), str(label))
        names.setdefault(str(key).lower(), str(label))
    close = difflib.get_close_matches(str(word).lower(), list(names), n=1, cutoff=0.5)
    if close:
        return t("fields.did_you_mean", value=names[close[0]])
    options = t("fields.choose_from", options=join_list(list(dict.fromkeys(str(label) for _, label in pairs))[:12]))
    return options + (t("text.then", next=otherwise) if otherwise else "")
