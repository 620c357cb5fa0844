"""Pure views over the board's cards: filters, due status, a person's day.

Nothing here reads files or talks to git; the CLI and the site both use these, so
"overdue" or "this week" means the same thing everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from datetime import date

from mdboard.core import dates
from mdboard.core.config import BoardConfig
from mdboard.core.i18n import get_language, t
from mdboard.core.store import Card

GROUPS = ("overdue", "today", "week", "later", "none")


@dataclass(frozen=True)
class Due:
    """A card's next deadline: its value, what it is (the field label) and days left."""

    value: str
    label: str
    days: int
    overdue: bool


def card_due(cfg: BoardConfig, card: Card) -> Due | None:
    """The deadline that matters now: `due`, else the next open milestone (campaigns).

    Cards in a finished state have none: they are not overdue any more.
    """
    ctype = cfg.types.get(card.type)
    if ctype is None or card.state in ctype.done_states():
        return None
    tz = cfg.timezone
    if card.meta.get("due") and "due" in ctype.fields:
        return _due(cfg, card.meta["due"], ctype.fields["due"].label)
    upcoming = None
    for key in ctype.milestones:
        value = card.meta.get(key)
        if not value or dates.when(value, tz) is None:
            continue
        due = _due(cfg, value, ctype.fields[key].label)
        if due.days >= 0 and (upcoming is None or due.days < upcoming.days):
            upcoming = due
    return upcoming


def _due(cfg: BoardConfig, value, label: str) -> Due | None:
    moment = dates.when(value, cfg.timezone)
    if moment is None:
        return None
    current = dates.now(cfg.timezone)
    days = (moment.astimezone(current.tzinfo).date() - current.date()).days
    return Due(str(value), label, days, moment < current)


def countdown(due: Due | None) -> str:
    """还剩 3 天 / 今天到期 / 逾期 2 天 (or the English)."""
    if due is None:
        return ""
    return _countdown(due.days, due.overdue, get_language())


@lru_cache(maxsize=1024)
def _countdown(days: int, overdue: bool, lang: str) -> str:
    if overdue and days < 0:
        return t("views.overdue_days", n=-days)
    if overdue:
        return t("views.overdue_today")
    if days == 0:
        return t("views.due_today")
    return t("views.days_left", n=days)


def due_group(due: Due | None) -> str:
    """overdue / today / week (the next 7 days) / later / none."""
    if due is None:
        return "none"
    if due.overdue:
        return "overdue"
    if due.days == 0:
        return "today"
    return "week" if due.days <= 7 else "later"


def due_day(due: Due | None, tz: str) -> date | None:
    if due is None:
        return None
    moment = dates.when(due.value, tz)
    return moment.date() if moment else None


@dataclass
class Filter:
    """What `ls` and the site filter by; empty means "any"."""

    type: str | None = None
    state: str | None = None  # a state key, for cards of any type
    states: dict[str, str] | None = None  # type key -> state key (a label may name states of several types)
    owner: str | None = None
    platform: str | None = None
    tag: str | None = None
    due_before: date | None = None
    overdue: bool = False
    text: str | None = None
    extra: dict = field(default_factory=dict)
    understood: list[str] = field(default_factory=list)  # "截止日期早于：2026-12-01（周二）": typed dates said back

    def matches(self, cfg: BoardConfig, card: Card) -> bool:
        if self.type and card.type != self.type:
            return False
        if self.state and card.state != self.state:
            return False
        if self.states is not None and self.states.get(card.type) != card.state:
            return False
        if self.owner and self.owner not in people_of(card):
            return False
        if self.platform and self.platform not in platforms_of(card):
            return False
        if self.tag and self.tag not in (card.meta.get("tags") or []):
            return False
        due = card_due(cfg, card) if (self.due_before or self.overdue) else None
        if self.overdue and not (due and due.overdue):
            return False
        if self.due_before:
            day = due_day(due, cfg.timezone)
            if day is None or day > self.due_before:
                return False
        if self.text and self.text.lower() not in f"{card.id} {card.title}".lower():
            return False
        return True


def people_of(card: Card) -> list[str]:
    """The owner first, then anyone in a people field (helpers)."""
    out = [card.owner] if card.owner else []
    for key, value in card.meta.items():
        if key != "owner" and isinstance(value, list) and key in ("helpers", "people", "reviewers"):
            out += [v for v in value if isinstance(v, str)]
    return out


def platforms_of(card: Card) -> list[str]:
    values = card.meta.get("platforms") or []
    single = card.meta.get("platform")
    out = list(values) if isinstance(values, list) else []
    return out + ([single] if isinstance(single, str) else [])


def select(cfg: BoardConfig, cards: list[Card], flt: Filter) -> list[Card]:
    """Cards matching the filter, in board order: type, then state, then ID."""
    order = {type_key: (i, {s.key: j for j, s in enumerate(ctype.states)}) for i, (type_key, ctype) in enumerate(cfg.types.items())}
    chosen = [c for c in cards if flt.matches(cfg, c)]
    return sorted(chosen, key=lambda c: (order[c.type][0], order[c.type][1].get(c.state, 99), id_sort_key(c.id)))


def id_sort_key(card_id: str):
    prefix, _, num = card_id.rpartition("-")
    return (prefix, int(num) if num.isdigit() else 0, card_id)


def mine(cfg: BoardConfig, cards: list[Card], person: str) -> dict[str, list[tuple[Card, Due | None]]]:
    """A person's open cards grouped overdue / today / week / later / none, soonest first."""
    groups: dict[str, list] = {g: [] for g in GROUPS}
    for card in cards:
        if person not in people_of(card):
            continue
        ctype = cfg.types.get(card.type)
        if ctype is None or card.state in ctype.done_states():
            continue
        due = card_due(cfg, card)
        groups[due_group(due)].append((card, due))
    for items in groups.values():
        items.sort(key=lambda pair: (pair[1].days if pair[1] else 10**6, id_sort_key(pair[0].id)))
    return groups


def state_counts(cfg: BoardConfig, cards: list[Card]) -> dict[str, dict[str, int]]:
    """type -> state -> number of cards (every configured state present, zeros included)."""
    counts = {type_key: {s.key: 0 for s in ctype.states} for type_key, ctype in cfg.types.items()}
    for card in cards:
        counts.setdefault(card.type, {}).setdefault(card.state, 0)
        counts[card.type][card.state] += 1
    return counts


def backlinks(cfg: BoardConfig, cards: list[Card]) -> dict[str, list[tuple[str, Card]]]:
    """card ID -> [(field key, card linking to it)] for every link field on the board."""
    out: dict[str, list] = {}
    for card in cards:
        ctype = cfg.types.get(card.type)
        if ctype is None:
            continue
        for fd in ctype.fields.values():
            if fd.type not in ("link", "links"):
                continue
            value = card.meta.get(fd.key)
            for target in value if isinstance(value, list) else [value] if value else []:
                if isinstance(target, str):
                    out.setdefault(target, []).append((fd.key, card))
    return out


# --- a card as JSON (ls --json, show --json, standup, export json) ---------------------------

def state_label(board, card: Card) -> str:
    """The label of the card's state (its key when the type does not know it)."""
    return board.type_of(card).state_label(card.state) or "?"


def card_json(board, card: Card, brief: bool = False) -> dict:
    """A card as JSON: its fields, state and due status (and, unless brief, its body and
    version: what a change made from this view passes as `ops.Expect.version`)."""
    data = card.to_dict()
    data["state_label"] = state_label(board, card)
    due = card_due(board.config, card)
    data["due_status"] = {"value": due.value, "label": due.label, "days": due.days, "overdue": due.overdue} if due else None
    if not brief:
        from mdboard.core.cardfile import parse
        from mdboard.core.errors import MdboardError
        from mdboard.core.store import decode_card, read_card_bytes
        from mdboard.domain.ops import card_version

        try:
            raw = read_card_bytes(board.path_of(card))
            data["version"] = card_version(raw)
            data["body"] = parse(decode_card(raw)).body
        except MdboardError:
            data["body"] = None
    return data


def mine_json(board, person: str, groups) -> dict:
    """`mine --json` (and the assistants' `mine`): a person's groups, each card with its next step."""
    from mdboard.core.workflow import next_step

    return {"person": person, "name": board.config.person_name(person),
            "groups": {g: [card_json(board, c, brief=True) | {"next_step": next_step(board, c)} for c, _ in groups[g]]
                       for g in GROUPS}}


# --- filters from what a person typed (ls / export options, the assistants' ls) --------------

def build_filter(board, type=None, state=None, owner=None, platform=None, tag=None, due_before=None,
                 overdue=False, text=None) -> Filter:
    """Turn filter values (keys or the labels people see) into a Filter. A name the board
    does not know is `UnknownName` (the CLI exits 2) naming the nearest labels, never an
    empty listing; a date typed in another form than ISO is said back in `Filter.understood`."""
    from mdboard.core import names
    from mdboard.core.errors import UsageMistake

    cfg = board.config
    ctype = names.card_type(cfg, type) if type else None
    flt = Filter(type=ctype.key if ctype else None, tag=tag, overdue=overdue, text=text)
    if state:
        flt.states = names.states(cfg, state, ctype)
    if owner:
        flt.owner = names.person(cfg, owner).key
    if platform:
        flt.platform = names.platform(cfg, platform)
    if due_before:
        understood = dates.understand(due_before, cfg.timezone)
        if understood is None:
            raise UsageMistake(t("fields.not_date", value=due_before), t("fields.hint_typed_date"))
        flt.due_before = understood.day
        if not understood.as_typed():
            flt.understood.append(t("ops.understood", label=t("cli.due_before"), value=dates.said_back(understood)))
    return flt


def linked_from(board, card: Card) -> list[tuple[str, Card]]:
    """(label of the link field, card) for each card whose link fields name this one, by ID,
    in ID order: the backlinks the site's card page lists, for `show` and `show --json`."""
    found = backlinks(board.config, board.cards()).get(card.id, [])
    out = []
    for key, other in sorted(found, key=lambda pair: (id_sort_key(pair[1].id), pair[0])):
        fd = board.type_of(other).fields.get(key)
        out.append((fd.label if fd else key, other))
    return out
