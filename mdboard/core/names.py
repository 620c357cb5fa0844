"""The words people type for a card type, a state, a person or a platform, turned into the
keys the board stores.

Every option and argument that names one of these takes the label people see (`拍摄中`,
`抖音`, `王丽`) as well as the key (`shooting`, `douyin`, `wangli`), case aside. A word
the board does not know is an `UnknownName` that names the nearest labels, never a
silent empty result.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mdboard.core.errors import UnknownName
from mdboard.core.i18n import t
from mdboard.core.text import suggest_label

if TYPE_CHECKING:  # annotations only: core.config imports nothing from here, nor this from it at run time
    from mdboard.core.config import BoardConfig, CardType, Person


def _same(text: str, *names: str) -> bool:
    low = text.strip().lower()
    return any(low == str(name).lower() for name in names)


def card_type(cfg: BoardConfig, text: str) -> CardType:
    """A card type by key, label or ID prefix (the board's config knows its types)."""
    return cfg.find_type(text)


def state(ctype: CardType, text: str) -> str:
    """The key of one of `ctype`'s states, by key or label."""
    found = next((s.key for s in ctype.states if _same(text, s.key, s.label)), None)
    if found is None:
        raise UnknownName(t("move.unknown_state", state=text.strip(), type=ctype.label),
                          suggest_label(text, {s.key: s.label for s in ctype.states}))
    return found


def states(cfg: BoardConfig, text: str, ctype: CardType | None = None) -> dict[str, str]:
    """type key -> state key for every type (or just `ctype`) that has a state by this key
    or label: `拍摄中` may name a state of several types."""
    if ctype is not None:
        return {ctype.key: state(ctype, text)}
    found = {tk: s.key for tk, ct in cfg.types.items() for s in ct.states if _same(text, s.key, s.label)}
    if not found:
        labels = [(s.key, s.label) for ct in cfg.types.values() for s in ct.states]
        raise UnknownName(t("names.unknown_any_state", value=text.strip()), suggest_label(text, labels))
    return found


def person(cfg: BoardConfig, text: str) -> Person:
    """A person of the team list by key, name or email."""
    found = cfg.find_person(text) or next((p for p in cfg.people.values() if _same(text, p.name)), None)
    if found is None:
        name = text.strip()
        typed = f'"{name}"' if any(c.isspace() for c in name) else name
        raise UnknownName(t("fields.unknown_person", value=name),
                          suggest_label(text, {k: p.name for k, p in cfg.people.items()},
                                        otherwise=t("names.add_person", name=typed)))
    return found


def platform(cfg: BoardConfig, text: str) -> str:
    """A platform key by key or label."""
    found = cfg.find_platform(text) or next((k for k, label in cfg.platforms.items() if _same(text, label)), None)
    if found is None:
        raise UnknownName(t("fields.unknown_platform", value=text.strip()),
                          suggest_label(text, cfg.platforms))
    return found
