"""Card forms of the team board: widgets built from a type's fields, and the text they send.

The forms never judge a value: what a person picks or types becomes the same
`key=text` the CLI takes (`mdboard set SKU-0001 price=199`), and `domain/ops`
parses and validates it exactly as it does for the CLI. Widgets only make the
choice easy: enums and platforms as choices, people from the roster, dates as
date inputs, links as a searchable pick of existing cards (the server finds the
cards matching what is typed: a form never lists a big board's cards).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

LIST_KINDS = ("people", "platforms", "links", "tags")
SET_LIKE = ("people", "platforms", "links", "tags")  # order does not matter when comparing
MAX_FOUND = 20  # cards a link field's pick shows at once (type more to narrow it)
FIELD_PREFIX = "f."


@dataclass
class Widget:
    """One form control: what to show and what it holds now."""

    key: str
    label: str
    kind: str  # text, number, date, datetime, select, checks, link, links, bool
    required: bool = False
    help: str = ""
    value: str = ""  # single-valued controls
    chosen: list = field(default_factory=list)  # checks: the values ticked; links: one row each
    options: list = field(default_factory=list)  # (value, label)
    target: str = ""  # link/links: the card type whose cards are offered
    problem: str = ""

    @property
    def name(self) -> str:
        return FIELD_PREFIX + self.key


def form_text(fd, value) -> str:
    """A stored value as the text its control holds (and sends back unchanged)."""
    if value is None or value == "" or value == []:
        return ""
    if fd.type in LIST_KINDS:
        items = value if isinstance(value, list) else [value]
        return ", ".join(str(item) for item in items)
    if fd.type == "bool":
        return "true" if value is True else "false" if value is False else str(value)
    if fd.type == "datetime":
        return str(value).replace(" ", "T", 1)[:16]
    return str(value)


def widgets(cfg, ctype, values: dict, problems: dict | None = None, skip=("title",)) -> list:
    """The controls of a form for `ctype`, holding `values` (key -> text as `form_text` makes it)."""
    problems = problems or {}
    out = []
    for key, fd in ctype.fields.items():
        if key in skip:
            continue
        text = values.get(key, "")
        w = Widget(key, fd.label, _kind(fd), fd.required, fd.help, text, problem=problems.get(key, ""))
        parts = [p.strip() for p in text.split(",") if p.strip()]
        if fd.type in ("person", "people"):
            w.options = [(k, p.name) for k, p in cfg.people.items()]
        elif fd.type in ("platform", "platforms"):
            w.options = list(cfg.platforms.items())
        elif fd.type == "enum":
            w.options = [(o, o) for o in fd.options]
        elif fd.type == "bool":
            w.options = [("true", "bool_yes"), ("false", "bool_no")]
        elif fd.type in ("link", "links"):
            w.target = fd.to
        if fd.type in ("people", "platforms"):
            w.chosen = parts
        elif fd.type == "links":
            w.chosen = parts + [""]
        _keep_unknown_choice(w)
        out.append(w)
    return out


def _kind(fd) -> str:
    return {"person": "select", "platform": "select", "enum": "select", "people": "checks",
            "platforms": "checks", "date": "date", "datetime": "datetime", "number": "number",
            "money": "number", "bool": "bool", "link": "link", "links": "links"}.get(fd.type, "text")


def _keep_unknown_choice(w: Widget) -> None:
    """A stored value that is no longer a choice (a person who left the roster) stays
    selectable, so saving the form does not silently clear it."""
    known = {value for value, _ in w.options}
    if w.kind == "select" and w.value and w.value not in known:
        w.options = w.options + [(w.value, w.value)]
    if w.kind == "checks":
        w.options = w.options + [(v, v) for v in w.chosen if v not in known]


def submitted(form, ctype) -> dict:
    """key -> text for every field the form showed (`shown` lists them; an unticked
    group of checkboxes sends nothing, which means "none")."""
    out = {}
    for key in form.getlist("shown"):
        fd = ctype.fields.get(key)
        if fd is None:
            continue
        parts = [str(v).strip() for v in form.getlist(FIELD_PREFIX + key)]
        if fd.type in LIST_KINDS:
            out[key] = ", ".join(p for p in parts if p)
        else:
            out[key] = parts[0] if parts else ""
    return out


def same_text(fd, a: str, b: str) -> bool:
    """Two texts of a field mean the same value (list fields: the same items, any order)."""
    if fd is not None and fd.type in SET_LIKE:
        split = lambda s: sorted({p.strip() for p in s.replace("，", ",").split(",") if p.strip()})
        return split(a) == split(b)
    return a.strip() == b.strip()


def changed_pairs(ctype, sent: dict, was: dict) -> list[str]:
    """`key=text` for each field whose sent text differs from what the form showed."""
    pairs = []
    for key, text in sent.items():
        fd = ctype.fields.get(key)
        if not same_text(fd, text, form_text(fd, was.get(key)) if fd else ""):
            pairs.append(f"{key}={text}")
    return pairs


def was_json(meta: dict, keys) -> str:
    """The stored values a form was made from, as the hidden `was` field carries them."""
    return json.dumps({key: meta.get(key) for key in keys}, ensure_ascii=False, default=str)


def read_was(text: str) -> dict:
    try:
        data = json.loads(text or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def find_cards(board, target: str, text: str, limit: int = MAX_FOUND) -> list[dict]:
    """The cards of type `target` a link field may pick, matching what the person typed
    (in the ID or the title, any case; nothing typed: the newest), newest first, at most
    `limit` — what the pick under a link field shows, however many cards the board has."""
    words = text.casefold().split()
    found = []
    for card in board.cards():
        if card.type != target or card.error:
            continue
        haystack = f"{card.id} {card.title}".casefold()
        if all(word in haystack for word in words):
            found.append(card)
    found.sort(key=_number, reverse=True)
    return [{"id": c.id, "title": c.title} for c in found[:limit]]


def _number(card) -> int:
    digits = card.id.rsplit("-", 1)[-1]
    return int(digits) if digits.isdigit() else 0
