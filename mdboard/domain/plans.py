"""Plans: a playbook made into cards for one sale (`mdboard plan`), rolled over from
last year's campaign (`--like`), and compared with what happened (plan against actual).

A plan is named `<playbook>-<year>` (`double11-2027`). Every card it makes carries a
`plan:` key naming the plan, the playbook card it comes from and, for per-SKU cards,
the SKU: `plan: double11-2027/main_image/SKU-0042`. That is how a plan remembers what
it made: running it again makes only what is missing (a SKU added, a card someone
deleted, a card added to the playbook), never a second copy. The key is plain text in
the card, so it survives sync, hand edits and copies, and anyone can read it.

Owners are chosen by role: among the people with the step's role, the one with the
fewest open cards (cards already given out by this plan count too), ties going to the
one listed first in the roster. The preview says who was chosen and why.

Every card is built and checked exactly as `mdboard new` checks a card (the CLI's
field rules, the board's validation), and the whole plan is written as one change:
one commit naming every card, or nothing at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Callable

from mdboard.core import cardfile, dates as dates_mod
from mdboard.core.config import DATE_TYPES, BoardConfig
from mdboard.core.errors import MdboardError, Problem, ValidationFailed, parenthesized
from mdboard.core.i18n import join_list, t
from mdboard.core.store import Board, Card
from mdboard.core.text import ID_RE, suggest, suggest_label
from mdboard.domain.playbooks import (PLACEHOLDERS, Offset, Playbook, Step, date_order_problems, load_playbooks,
                                      step_order_problems, work_out_dates)
from mdboard.domain.sales import Calendar, Sale, load_calendar

PLAN_KEY = "plan"
_PLACEHOLDER = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(?:\[[ xX]\]\s+)?(.*\S)\s*$")
_TASK_LINE = re.compile(r"^[ \t]*[-*+][ \t]+\[[ xX]\][ \t]+")


# --- what a plan is called, and which cards belong to it ------------------------------------

@dataclass(frozen=True)
class PlanRef:
    """What a card's `plan:` key says: the plan, the playbook card, the SKU (per-SKU cards)."""

    plan: str
    step: str
    sku: str = ""

    def text(self) -> str:
        return "/".join(x for x in (self.plan, self.step, self.sku) if x)


def plan_id(playbook_key: str, year: int) -> str:
    return f"{playbook_key}-{year}"


def read_ref(value) -> PlanRef | None:
    """A card's `plan:` value read back; None when it is not one."""
    if not isinstance(value, str):
        return None
    parts = value.strip().split("/")
    if len(parts) not in (2, 3) or not all(parts):
        return None
    return PlanRef(*parts)


def plan_members(cards: list[Card], plan: str) -> list[Card]:
    """The cards a plan made (by their `plan:` key), in board order."""
    out = []
    for card in cards:
        ref = read_ref(card.meta.get(PLAN_KEY)) if not card.error else None
        if ref is not None and ref.plan == plan:
            out.append(card)
    return out


def plan_index(cards: list[Card]) -> dict[str, list[Card]]:
    """plan name -> the cards it made, for every plan on the board (one pass)."""
    out: dict[str, list[Card]] = {}
    for card in cards:
        ref = read_ref(card.meta.get(PLAN_KEY)) if not card.error else None
        if ref is not None:
            out.setdefault(ref.plan, []).append(card)
    return out


def main_card(pb_main_step: str | None, members: list[Card]) -> Card | None:
    """The plan's campaign card: the member made from the playbook's first card."""
    for card in members:
        ref = read_ref(card.meta.get(PLAN_KEY))
        if ref is not None and ref.step == pb_main_step and not ref.sku:
            return card
    return None


# --- the request and the plan ----------------------------------------------------------------

@dataclass
class PlanRequest:
    """What `mdboard plan` was asked for (as typed; names may be keys or labels)."""

    playbook: str
    dates: list[str] = field(default_factory=list)  # NAME=YYYY-MM-DD
    skus: list[str] = field(default_factory=list)
    year: int | None = None
    like: str | None = None
    owners: list[str] = field(default_factory=list)  # ROLE=PERSON


@dataclass
class KeyDay:
    key: str
    label: str
    day: date
    source: str  # "given" (--date), "sale" (the calendar), "default" (the playbook's offset)
    how: str = ""  # the default's offset text


@dataclass
class PlannedCard:
    """A card the plan will make (or has made)."""

    ref: PlanRef
    step: Step
    card: Card
    text: str
    owner_note: str
    offsets: dict[str, str] = field(default_factory=dict)  # date field -> the offset it came from


@dataclass
class Plan:
    """What `mdboard plan` shows and `--apply` writes."""

    playbook: Playbook
    name: str
    year: int
    sale: Sale | None
    days: list[KeyDay]
    new: list[PlannedCard]
    existing: list[Card]
    updated: list[tuple[Card, str]]  # existing cards that gain links to the new ones: (card after, text)
    skipped: list[Step]  # per-SKU cards left out because no SKU was given
    like: Card | None = None
    commit: str | None = None

    def to_dict(self) -> dict:
        return {"plan": self.name, "playbook": self.playbook.key, "year": self.year,
                "sale": {"key": self.sale.key, "year": self.sale.year, "path": self.sale.path,
                         "confirmed": self.sale.confirmed} if self.sale else None,
                "dates": [{"key": d.key, "label": d.label, "date": d.day.isoformat(), "source": d.source}
                          for d in self.days],
                "new": [{**p.card.to_dict(), "step": p.step.key, "owner_note": p.owner_note, "offsets": p.offsets}
                        for p in self.new],
                "existing": [c.id for c in self.existing], "updated": [c.id for c, _ in self.updated],
                "skipped": [s.key for s in self.skipped], "like": self.like.id if self.like else None,
                "commit": self.commit}


class _Problems(list):
    def add(self, path: str, where: str, message: str, hint: str = "") -> None:
        self.append(Problem(path, where, message, hint))


def make_plan(board: Board, request: PlanRequest) -> Plan:
    """Work out every card of a plan and check it; ValidationFailed lists every reason a
    plan cannot be made (nothing is written here)."""
    cfg = board.config
    today = dates_mod.today(cfg.timezone)
    pb = load_playbooks(board.root, cfg).find(request.playbook)
    problems = _Problems()
    like = None
    skus = request.skus
    if request.like:
        like = board.get(request.like)
        pb, last_skus = playbook_like(board, pb, like, problems)
        skus = skus or last_skus
    sku_cards = _sku_cards(board, skus, pb, problems)
    given = _given_dates(pb, request.dates, problems, cfg.timezone)
    calendar = load_calendar(board.root, cfg.platforms)
    sale = pick_sale(calendar, pb, given, request.year, today)
    days, sources = _key_days(pb, sale, given, problems)
    if problems:
        raise ValidationFailed(t("plans.not_made"), list(problems))
    year = sale.year if sale is not None else days[pb.anchors[0]].year
    ordered = date_order_problems(pb, days) + [(w, m) for w, m, _ in step_order_problems(pb, cfg, days)]
    for where, message in ordered:
        problems.add(pb.path, where, message, t("plans.hint_order"))
    plan = Plan(pb, plan_id(pb.key, year), year, sale, [], [], [], [], [], like)
    plan.days = [KeyDay(k, pb.dates[k].label, days[k], sources[k],
                        pb.dates[k].default.text if sources[k] == "default" else "") for k in days]
    _Builder(board, plan, days, sku_cards, _owner_choices(board, request.owners, problems), today, problems).build()
    if problems:
        raise ValidationFailed(t("plans.not_made"), list(problems))
    return plan


def apply_plan(board: Board, request: PlanRequest, actor=None, no_commit: bool = False) -> Plan:
    """Make the plan's cards in one change (one commit), under the board lock.

    The plan is worked out again under the lock, so the IDs and owners are those of the
    board as it is when it is written. A plan with nothing left to make writes nothing.
    """
    from mdboard.domain.ops import resolve_actor
    from mdboard.git import changes as git_changes

    actor = actor or resolve_actor(board)
    with git_changes.board_lock(board):
        board.invalidate()
        plan = make_plan(board, request)
        if not plan.new and not plan.updated:
            return plan
        files = {p.card.path: p.text for p in plan.new}
        files.update({card.path: text for card, text in plan.updated})
        ids = [p.card.id for p in plan.new]
        subject = f"plan {plan.name}: {len(plan.new)} cards from playbook {plan.playbook.key}"
        trailers = [("Action", "plan"), ("Plan", plan.name), ("Playbook", plan.playbook.key)]
        trailers += [("Card", card_id) for card_id in ids] + [("Linked", c.id) for c, _ in plan.updated]
        if plan.like is not None:
            trailers.append(("Like", plan.like.id))
        change = git_changes.Change(files, subject, trailers, actor.author, creates=[p.card.path for p in plan.new])
        commit = git_changes.commits_enabled(board, no_commit)
        plan.commit = git_changes.apply_change(board, change, commit=commit)
    return plan


# --- inputs ---------------------------------------------------------------------------------

def _sku_cards(board: Board, skus: list[str], pb: Playbook, problems: _Problems) -> list[Card]:
    """The cards named by --sku (comma-separated, repeatable), in order, each once."""
    out, seen = [], set()
    for part in (p.strip() for text in skus for p in re.split(r"[,，、\s]+", text)):
        if not part or part.upper() in seen:
            continue
        seen.add(part.upper())
        try:
            out.append(board.get(part))
        except MdboardError as exc:
            problems.add(pb.path, "--sku", exc.message)
    return out


def _given_dates(pb: Playbook, pairs: list[str], problems: _Problems, tz: str) -> dict[str, date]:
    """--date NAME=DAY (name: a key date's key or label; the day in any form people type,
    read by the one date parser: 2027-10-14, 10月14日, 下周一 ...) -> {key: day}."""
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        key = pb.date_key(name) if sep else None
        if not sep:
            problems.add(pb.path, "--date", t("plans.bad_date_option", value=pair), t("plans.hint_date_option",
                                                                                    example=_date_example(pb)))
        elif key is None:
            problems.add(pb.path, "--date", t("playbooks.unknown_date", value=name.strip()),
                         suggest(name.strip(), pb.date_names()))
        elif dates_mod.understand(value, tz) is None:
            problems.add(pb.path, "--date", t("fields.not_date", value=value.strip()), t("fields.hint_typed_date"))
        else:
            out[key] = dates_mod.understand(value, tz).day
    return out


def _date_example(pb: Playbook) -> str:
    anchor = pb.anchors[0] if pb.anchors else next(iter(pb.dates), "live_start")
    label = pb.dates[anchor].label if anchor in pb.dates else anchor
    return f"--date {label}=YYYY-MM-DD"


def pick_sale(calendar: Calendar, pb: Playbook, given: dict[str, date], year: int | None, today: date) -> Sale | None:
    """The calendar's sale a plan is for: of `year` if asked; else, when the anchor date (上线)
    is given, the sale going live that very day (none: the given dates and the playbook's
    defaults make the plan); else the next one that is not over."""
    sales = calendar.of(pb.sale)
    if year is not None:
        return next((s for s in sales if s.year == year), None)
    anchor = pb.anchors[0] if pb.anchors else None
    if anchor in given:
        return next((s for s in sales if s.dates.get(anchor) == given[anchor]), None)
    return next((s for s in sales if s.last is not None and s.last >= today), None)


def _key_days(pb: Playbook, sale: Sale | None, given: dict[str, date],
              problems: _Problems) -> tuple[dict[str, date], dict[str, str]]:
    """Every key date with where it came from; a problem for each that cannot be worked out."""
    from_sale = {k: v for k, v in (sale.dates.items() if sale else ()) if k in pb.dates}
    days, missing = work_out_dates(pb, {**from_sale, **given})
    sources = {k: "given" if k in given else "sale" if k in from_sale else "default" for k in days}
    for key in missing:
        problems.add(pb.path, f"dates.{key}", t("plans.no_date", label=pb.dates[key].label, sale=pb.sale),
                     t("plans.hint_no_date", label=pb.dates[key].label))
    return days, sources


def _owner_choices(board: Board, pairs: list[str], problems: _Problems) -> dict[str, str]:
    """--owner ROLE=PERSON -> {role: person key}."""
    cfg = board.config
    out = {}
    for pair in pairs:
        role, sep, who = pair.partition("=")
        person = cfg.find_person(who.strip()) if sep else None
        if person is None:
            problems.add("--owner", role.strip(), t("fields.unknown_person", value=who.strip() or pair),
                         suggest_label(who.strip(), {k: p.name for k, p in cfg.people.items()}))
        else:
            out[role.strip()] = person.key
    return out


# --- owners ---------------------------------------------------------------------------------

def open_loads(board: Board) -> dict[str, int]:
    """person key -> how many open cards they own (cards not in a done state)."""
    cfg = board.config
    loads = {key: 0 for key in cfg.people}
    for card in board.cards():
        ctype = cfg.types.get(card.type)
        if card.error or ctype is None or card.state in ctype.done_states():
            continue
        if card.owner in loads:
            loads[card.owner] += 1
    return loads


def choose_owner(cfg: BoardConfig, role: str, loads: dict[str, int]) -> tuple[str | None, str]:
    """(person key, why) for a card of `role`: the person with that role who has the fewest
    open cards, ties going to the one listed first in the roster. `loads` counts the
    chosen person's new card. (None, "") when nobody has the role."""
    people = [p for p in cfg.people.values() if role in p.roles]
    if not people:
        return None, ""
    best = min(people, key=lambda p: loads.get(p.key, 0))  # min keeps the first of equals: roster order
    fewest = loads.get(best.key, 0)
    if len(people) == 1:
        why = t("plans.owner_only", role=role, name=best.name, n=fewest)
    else:
        counts = join_list(f"{p.name} {loads.get(p.key, 0)}" for p in people)
        tied = sum(1 for p in people if loads.get(p.key, 0) == fewest) > 1
        why = t("plans.owner_tie" if tied else "plans.owner_fewest", role=role, name=best.name, counts=counts)
    loads[best.key] = fewest + 1
    return best.key, why


# --- building the cards ---------------------------------------------------------------------

class _Builder:
    """Works out every card of a plan: IDs, owners, fields, links both ways, bodies; then
    checks each one as `mdboard new` would."""

    def __init__(self, board: Board, plan: Plan, days: dict[str, date], skus: list[Card], owners: dict[str, str],
                 today: date, problems: _Problems):
        self.board, self.cfg, self.plan, self.days = board, board.config, plan, days
        self.skus, self.owners, self.today, self.problems = skus, owners, today, problems
        self.pb = plan.playbook
        self.existing = {read_ref(c.meta.get(PLAN_KEY)).text(): c for c in plan_members(board.cards(), plan.name)}
        self.made: dict[str, PlannedCard] = {}  # ref text -> planned card
        self.ids: dict[str, list[str]] = {}  # step key -> card IDs of its cards (made or existing), SKU order
        self.by_sku: dict[tuple[str, str], str] = {}  # (step key, SKU ID) -> card ID

    def build(self) -> None:
        instances = self._instances()
        next_ids = self._id_counters()
        for step, sku in instances:
            ref = PlanRef(self.plan.name, step.key, sku.id if sku else "")
            found = self.existing.get(ref.text())
            card_id = found.id if found is not None else next_ids(step.type)
            self.ids.setdefault(step.key, []).append(card_id)
            if sku is not None:
                self.by_sku[(step.key, sku.id)] = card_id
            if found is not None:
                self.plan.existing.append(found)
            else:
                self.made[ref.text()] = PlannedCard(ref, step, Card(card_id, step.type, "", ""), "", "")
        loads = open_loads(self.board)
        for (step, sku), planned in self._made_in_order(instances):
            self._fill(planned, step, sku, loads)
        self._link_existing()
        self._link_back()
        for planned in self.made.values():
            planned.text = cardfile.new_card_text(planned.card.meta, self._body(planned.step))
            parsed = cardfile.parse(planned.text)
            planned.card.checklist = parsed.checklist
        self.plan.new = list(self.made.values())
        self._check()

    def _instances(self) -> list[tuple[Step, Card | None]]:
        out = []
        for step in self.pb.steps.values():
            if step.each and not self.skus:
                self.plan.skipped.append(step)
            out += [(step, sku) for sku in self.skus] if step.each else [(step, None)]
        return out

    def _made_in_order(self, instances):
        for step, sku in instances:
            ref = PlanRef(self.plan.name, step.key, sku.id if sku else "").text()
            if ref in self.made:
                yield (step, sku), self.made[ref]

    def _id_counters(self) -> Callable[[str], str]:
        """type key -> the next free ID of that type, counting the IDs this plan gives out."""
        given: dict[str, int] = {}

        def next_id(type_key: str) -> str:
            ctype = self.cfg.types[type_key]
            if type_key not in given:
                given[type_key] = int(ID_RE.match(self.board.next_id(ctype)).group(2))
            else:
                given[type_key] += 1
            return f"{ctype.prefix}-{given[type_key]:04d}"

        return next_id

    def _fill(self, planned: PlannedCard, step: Step, sku: Card | None, loads: dict[str, int]) -> None:
        """The card's front matter in the type's field order, `plan:` last; its path and owner."""
        ctype = self.cfg.types[step.type]
        words = {"year": str(self.plan.year), "sale": self.plan.sale.label if self.plan.sale else self.pb.label,
                 "sku": sku.title if sku else "", "sku_id": sku.id if sku else ""}
        fill = lambda text: _PLACEHOLDER.sub(lambda m: words[m.group(1)], text)
        values: dict = {"title": fill(step.title)}
        owner, why = self._owner(step, loads)
        values["owner"] = owner
        for key, value in step.values.items():
            if isinstance(value, str) and ctype.fields[key].type == "text":
                value = fill(value)
            elif isinstance(value, list) and ctype.fields[key].type == "tags":
                value = [fill(v) for v in value]
            values[key] = value
        for key, offset in step.dates.items():
            values[key] = offset.apply(self.days).isoformat()
            planned.offsets[key] = offset.text
        for key, refs in step.links.items():
            found = self._targets(refs, step, sku)
            values[key] = found if ctype.fields[key].type == "links" else (found[0] if found else None)
        meta = {k: values[k] for k in ctype.fields if values.get(k) not in (None, "", [])}
        meta[PLAN_KEY] = planned.ref.text()
        state = ctype.first_state.key
        card_id = planned.card.id
        planned.card = Card(card_id, ctype.key, state, f"{ctype.key}/{state}/{card_id}.md", meta)
        planned.owner_note = why

    def _owner(self, step: Step, loads: dict[str, int]) -> tuple[str | None, str]:
        if step.owner:
            return step.owner, t("plans.owner_fixed", name=self.cfg.person_name(step.owner))
        if not step.role:
            self.problems.add(self.pb.path, f"cards.{step.key}", t("plans.no_owner", step=step.label),
                              t("plans.hint_no_owner"))
            return None, ""
        if step.role in self.owners:
            key = self.owners[step.role]
            loads[key] = loads.get(key, 0) + 1
            return key, t("plans.owner_given", role=step.role, name=self.cfg.person_name(key))
        owner, why = choose_owner(self.cfg, step.role, loads)
        if owner is None:
            roles = sorted({r for p in self.cfg.people.values() for r in p.roles})
            self.problems.add(self.pb.path, f"cards.{step.key}.role", t("playbooks.nobody_has_role", role=step.role),
                              parenthesized(t("playbooks.hint_role_missing", role=step.role),
                                            suggest(step.role, roles)) if roles else "")
        return owner, why

    def _targets(self, refs: list[str], step: Step, sku: Card | None) -> list[str]:
        """Card IDs for a link field's references: step keys, {sku}, {skus}, card IDs."""
        out: list[str] = []
        for ref in refs:
            if ref == "{sku}":
                found = [sku.id] if sku else []
            elif ref == "{skus}":
                found = [c.id for c in self.skus]
            elif ref in self.pb.steps:
                other = self.pb.steps[ref]
                same = self.by_sku.get((ref, sku.id)) if (other.each and sku is not None) else None
                found = [same] if same else self.ids.get(ref, [])
            else:
                found = [ref.upper()]
            out += [x for x in found if x not in out]
        return out

    def _link_existing(self) -> None:
        """Cards made by an earlier run gain links to this run's cards (a SKU added later)."""
        for card in self.plan.existing:
            ref = read_ref(card.meta.get(PLAN_KEY))
            step = self.pb.steps.get(ref.step) if ref else None
            if step is None:
                continue
            ctype = self.cfg.types[card.type]
            sku = next((c for c in self.skus if ref.sku == c.id), None)
            for key, refs in step.links.items():
                if ctype.fields[key].type == "links":
                    self._add_links(card, key, self._targets(refs, step, sku))

    def _link_back(self) -> None:
        """Links both ways: a card this plan links to gets a link back when its type has a
        link field to the linking card's type (the first such field)."""
        by_id = {p.card.id: p.card for p in self.made.values()}
        for planned in list(self.made.values()):
            source = planned.card
            ctype = self.cfg.types[source.type]
            for key, fd in ctype.fields.items():
                if fd.type not in ("link", "links"):
                    continue
                value = source.meta.get(key)
                for target_id in value if isinstance(value, list) else [value] if value else []:
                    target = by_id.get(target_id) or self._existing_card(target_id)
                    if target is not None:
                        self._link_one(target, source, by_id)

    def _existing_card(self, card_id: str) -> Card | None:
        try:
            return self.board.find(card_id)
        except MdboardError:
            return None

    def _link_one(self, target: Card, source: Card, made: dict[str, Card]) -> None:
        ttype = self.cfg.types[target.type]
        back = next((fd for fd in ttype.fields.values() if fd.type in ("link", "links") and fd.to == source.type),
                    None)
        if back is None:
            return
        if target.id in made:
            step = next(p.step for p in self.made.values() if p.card.id == target.id)
            if back.key in step.links:
                return  # the playbook says what this field holds
            current = target.meta.get(back.key)
            if back.type == "links":
                target.meta[back.key] = [*(current or []), source.id] if source.id not in (current or []) else current
            elif not current:
                target.meta[back.key] = source.id
            _reorder(target, self.cfg)
        elif back.type == "links":
            self._add_links(target, back.key, [source.id])
        elif not target.meta.get(back.key):
            self._set_field(target, back.key, source.id)

    def _add_links(self, card: Card, key: str, ids: list[str]) -> None:
        current = self._current(card).meta.get(key)
        current = current if isinstance(current, list) else [current] if current else []
        missing = [x for x in ids if x not in current]
        if missing:
            self._set_field(card, key, current + missing)

    def _current(self, card: Card) -> Card:
        return next((c for c, _ in self.plan.updated if c.id == card.id), card)

    def _set_field(self, card: Card, key: str, value) -> None:
        """Change one key of an existing card (only that key's lines), kept for the one commit."""
        for i, (before, text) in enumerate(self.plan.updated):
            if before.id == card.id:
                text = cardfile.set_field(text, key, value)
                self.plan.updated[i] = (_reparsed(card, text), text)
                return
        text = cardfile.set_field(self.board.read_text(card), key, value)
        self.plan.updated.append((_reparsed(card, text), text))

    def _body(self, step: Step) -> str:
        return card_body(self.cfg.types[step.type].template, step.checklist, step.lessons, step.lessons_from)

    def _check(self) -> None:
        """Dates in the past, then every card as `mdboard new` / `mdboard set` judge one (with
        ops' own judge, against the board and every card of this plan)."""
        from mdboard.domain.ops import _new_problems as new_problems

        ids = self.board.id_types()
        ids.update({p.card.id: p.card.type for p in self.made.values()})
        for planned in self.made.values():
            where = f"cards.{planned.step.key}"
            for key in planned.offsets:
                day = dates_mod.parse_date(planned.card.meta.get(key))
                if day is not None and day < self.today:
                    label = self.cfg.types[planned.card.type].fields[key].label
                    self.problems.add(self.pb.path, f"{where}.fields.{key}", t(
                        "plans.in_the_past", id=planned.card.id, label=label, day=day, today=self.today),
                        t("plans.hint_past", example=_date_example(self.pb)))
            for p in new_problems(self.board, None, planned.card, ids):
                field_where = f"{where}.fields.{p.field}" if p.field else where
                self.problems.add(self.pb.path, field_where, f"{planned.card.id}: {p.message}", p.hint)
        for after, _ in self.plan.updated:
            self.problems.extend(new_problems(self.board, self.board.find(after.id), after, ids))


def _reorder(card: Card, cfg: BoardConfig) -> None:
    """Keep a card's front matter in its type's field order (`plan:` last)."""
    ctype = cfg.types[card.type]
    meta = card.meta
    card.meta = {**{k: meta[k] for k in ctype.fields if k in meta},
                 **{k: v for k, v in meta.items() if k not in ctype.fields}}


def _reparsed(card: Card, text: str) -> Card:
    parsed = cardfile.parse(text)
    return Card(card.id, card.type, card.state, card.path, parsed.meta, parsed.checklist)


# --- card bodies ----------------------------------------------------------------------------

def card_body(template: str, checklist: list[str] | None, lessons: list[str], lessons_from: str) -> str:
    """A new card's body: its type's template, with the playbook's checklist in place of the
    template's (or under a checklist heading when the template has none), and last year's
    retrospective notes as a checklist of their own before this year's retrospective heading."""
    lines = template.rstrip("\n").split("\n") if template.strip() else []
    if checklist is not None:
        items = [f"- [ ] {item}" for item in checklist]
        first = next((i for i, line in enumerate(lines) if _TASK_LINE.match(line)), None)
        if first is None:
            lines += (["", t("plans.checklist_heading"), ""] if lines else [t("plans.checklist_heading"), ""]) + items
        else:
            kept = [line for line in lines[first:] if not _TASK_LINE.match(line)]
            lines = lines[:first] + items + kept
    if lessons:
        section = [t("plans.lessons_heading", id=lessons_from), ""] + [f"- [ ] {x}" for x in lessons] + [""]
        at = next((i for i, line in enumerate(lines) if _is_retro_heading(line)), None)
        if at is None:
            lines += ([""] if lines else []) + section[:-1]
        else:
            lines = lines[:at] + section + lines[at:]
    return "\n".join(lines) + "\n" if lines else ""


def _retro_words() -> tuple[str, ...]:
    from mdboard.core.i18n import t_in

    words = t_in("zh-CN", "plans.retro_words").split("|") + t_in("en", "plans.retro_words").split("|")
    return tuple(w.strip().lower() for w in words if w.strip())


def _is_retro_heading(line: str) -> bool:
    m = _HEADING.match(line)
    return bool(m) and any(word in m.group(2).lower() for word in _retro_words()) and not _is_lessons_heading(line)


def _is_lessons_heading(line: str) -> bool:
    from mdboard.core.i18n import t_in

    m = _HEADING.match(line)
    if not m:
        return False
    starts = [t_in(lang, "plans.lessons_heading", id="").lstrip("# ").split("（")[0].split("(")[0].strip()
              for lang in ("zh-CN", "en")]
    return any(s and m.group(2).startswith(s) for s in starts)


def retro_notes(body: str) -> list[str]:
    """The notes under a card's retrospective heading (复盘 / Retrospective …), one per line
    or list item, until the next heading of the same or a higher level."""
    notes, level, in_code = [], None, False
    for line in body.split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            in_code = not in_code
            continue
        m = None if in_code else _HEADING.match(line)
        if m:
            if level is not None and len(m.group(1)) <= level:
                break
            if level is None and _is_retro_heading(line):
                level = len(m.group(1))
            continue
        if level is None or in_code or not line.strip():
            continue
        item = _ITEM.match(line)
        text = item.group(1) if item else line.strip()
        if text not in notes:
            notes.append(text)
    return notes


def checklist_outside_lessons(body: str) -> list[str]:
    """A card's checklist items, leaving out those under a "last year's notes" heading."""
    items, skipping = [], False
    for line in body.split("\n"):
        if _HEADING.match(line):
            skipping = _is_lessons_heading(line)
        elif not skipping:
            items += [text for _, text in cardfile.checklist(line)]
    return items


# --- rollover: a plan like last year's campaign --------------------------------------------

def playbook_like(board: Board, pb: Playbook, source: Card, problems: _Problems) -> tuple[Playbook, list[str]]:
    """A playbook made from a finished campaign and its cards (`mdboard plan X --like CMP-…`).

    The shape (which cards, their types, fields and checklists) comes from last year's
    cards; each date keeps its distance to the nearest of last year's key dates (read from
    the campaign's fields that the playbook's first card fills with a key date); owners are
    chosen by the playbook card's role (a card the playbook lacks: its owner's first role);
    last year's retrospective notes become a checklist on the new campaign card. Returns
    the playbook and last year's SKUs (used when no --sku is given).
    """
    cfg = board.config
    members = _like_members(board, source)
    last = _last_key_dates(pb, source, cfg)
    if not last:
        problems.add(source.path, "", t("plans.like_no_dates", id=source.id, playbook=pb.label),
                     t("plans.hint_like_dates"))
        return pb, []
    year = _source_year(source, last, pb)
    main = pb.main
    sku_field = next((k for k, refs in main.links.items() if "{skus}" in refs), None) if main else None
    steps: dict[str, Step] = {}
    keys: dict[str, str] = {}  # card ID -> its step key in the new playbook
    skus: list[str] = []
    for card in members:
        ref = read_ref(card.meta.get(PLAN_KEY))
        key = ref.step if ref and ref.step else (main.key if card.id == source.id and main else _free_key(card, steps))
        keys[card.id] = key
        if ref and ref.sku:
            skus += [ref.sku] if ref.sku not in skus else []
        if key in steps:
            continue
        steps[key] = _step_like(board, pb, card, key, ref.sku if ref else "", last, year)
    listed = source.meta.get(sku_field) if sku_field else None
    listed = [x for x in (listed if isinstance(listed, list) else [listed] if listed else []) if isinstance(x, str)]
    skus = listed or skus  # the campaign's own SKU list, else the SKUs its per-SKU cards were for
    for card in members:
        _links_like(cfg, steps[keys[card.id]], card, keys, sku_field if card.id == source.id else None)
    first = steps.pop(keys[source.id])
    first.lessons, first.lessons_from = retro_notes(cardfile.parse(board.read_text(source)).body), source.id
    ordered = {first.key: first, **steps}
    for step in ordered.values():
        step.after = [k for k in step.after if k in ordered]
    return Playbook(pb.key, pb.label, pb.path, pb.sale, pb.dates, ordered), skus


def _like_members(board: Board, source: Card) -> list[Card]:
    """Last year's plan: the cards its `plan:` key names, else the campaign and the cards linking to it."""
    ref = read_ref(source.meta.get(PLAN_KEY))
    cards = board.cards()
    if ref is not None:
        members = plan_members(cards, ref.plan)
    else:
        cfg = board.config
        members = [c for c in cards if not c.error and source.id in _link_values(cfg, c)]
    return [source] + sorted((c for c in members if c.id != source.id), key=lambda c: (c.type, c.id))


def _link_values(cfg: BoardConfig, card: Card) -> list[str]:
    ctype = cfg.types.get(card.type)
    out = []
    for fd in ctype.fields.values() if ctype else ():
        if fd.type in ("link", "links"):
            value = card.meta.get(fd.key)
            out += value if isinstance(value, list) else [value] if value else []
    return out


def _last_key_dates(pb: Playbook, source: Card, cfg: BoardConfig) -> dict[str, date]:
    """Last year's key dates, from the campaign fields the playbook fills with a key date as it is."""
    out = {}
    main = pb.main
    if main is None or source.type != main.type:
        return out
    for key, offset in main.dates.items():
        day = _day(source.meta.get(key), cfg.timezone)
        if offset.days == 0 and day is not None:
            out.setdefault(offset.base, day)
    return out


def _source_year(source: Card, last: dict[str, date], pb: Playbook) -> int:
    ref = read_ref(source.meta.get(PLAN_KEY))
    if ref is not None and re.search(r"-(\d{4})$", ref.plan):
        return int(ref.plan[-4:])
    anchor = pb.anchors[0] if pb.anchors else None
    return (last.get(anchor) or min(last.values())).year


def _free_key(card: Card, steps: dict) -> str:
    n = 1
    while f"{card.type}_{n}" in steps:
        n += 1
    return f"{card.type}_{n}"


def _step_like(board: Board, pb: Playbook, card: Card, key: str, sku: str, last: dict[str, date],
               year: int) -> Step:
    """One card of last year as a playbook card: its type, fields, dates as offsets, checklist."""
    cfg = board.config
    ctype = cfg.types[card.type]
    known = pb.steps.get(key)
    general = lambda text: _generalised(text, year, board, sku)
    title = general(card.title)
    if sku and "{sku" not in title:  # every SKU's card needs its own title
        title = known.title if known is not None else t("plans.per_sku_title", title=title, sku="{sku}")
    step = Step(key, known.label if known else card.title, card.type, title, each="sku" if sku else "",
                after=list(known.after) if known else [],
                checklist=checklist_outside_lessons(cardfile.parse(board.read_text(card)).body) or None)
    if known is not None:
        step.role, step.owner = known.role, known.owner
    else:
        person = cfg.people.get(card.owner or "")
        if person is not None and person.roles:
            step.role = person.roles[0]
        elif person is not None:
            step.owner = person.key
    for fkey, fd in ctype.fields.items():
        value = card.meta.get(fkey)
        if fkey in ("title", "owner") or value in (None, "", []) or fd.type in ("link", "links"):
            continue
        if fd.type in DATE_TYPES:
            day = _day(value, cfg.timezone)
            if day is not None:
                step.dates[fkey] = _nearest(pb, last, day)
        elif fd.type == "text" and isinstance(value, str):
            step.values[fkey] = general(value)
        else:
            step.values[fkey] = value
    return step


def _links_like(cfg: BoardConfig, step: Step, card: Card, keys: dict[str, str], sku_field: str | None) -> None:
    """Last year's links as references: plan cards by step key, the card's SKU as {sku}."""
    ctype = cfg.types[card.type]
    ref = read_ref(card.meta.get(PLAN_KEY))
    for fkey, fd in ctype.fields.items():
        if fd.type not in ("link", "links") or fkey in step.links:
            continue
        if fkey == sku_field:
            step.links[fkey] = ["{skus}"]
            continue
        value = card.meta.get(fkey)
        refs = []
        for target in value if isinstance(value, list) else [value] if value else []:
            target = str(target)
            refs.append("{sku}" if ref and target == ref.sku else keys.get(target, target))
        if refs:
            step.links[fkey] = list(dict.fromkeys(refs))


def _generalised(text: str, year: int, board: Board, sku: str) -> str:
    """Last year's text with its year (and a per-SKU card's SKU title) made placeholders again."""
    text = re.sub(rf"(?<!\d){year}(?!\d)", "{year}", text)
    if sku:
        try:
            title = board.find(sku).title
        except MdboardError:
            title = ""
        if title and title in text:
            text = text.replace(title, "{sku}")
    return text


def _nearest(pb: Playbook, last: dict[str, date], day: date) -> Offset:
    """The date as an offset from the nearest of last year's key dates (the earlier on a tie)."""
    base = min(last, key=lambda k: (abs((day - last[k]).days), list(pb.dates).index(k)))
    days = (day - last[base]).days
    label = pb.dates[base].label
    text = label if days == 0 else f"{label} {'+' if days > 0 else '-'} {abs(days)}d"
    return Offset(base, days, text)


def _day(value, tz: str) -> date | None:
    if value in (None, ""):
        return None
    moment = dates_mod.when(value, tz)
    return moment.date() if moment else None


# --- plan against actual ----------------------------------------------------------------------

@dataclass
class StepProgress:
    """One card of a plan: when it was planned to be done and when it really was."""

    card: Card
    label: str
    planned_start: date | None  # when the plan made the card
    planned_due: date | None  # the due the plan gave it (before anyone moved it)
    started: date | None  # when work started (it first left its first state)
    finished: date | None  # when it reached a done state (None: not done)
    slip: int | None  # days late (negative: early); only for finished cards with a due
    late_open: int | None  # days past due so far, for cards not finished


@dataclass
class Progress:
    """A plan's cards (the campaign card aside): done / total and each one's plan against actual."""

    plan: str
    rows: list[StepProgress]

    @property
    def total(self) -> int:
        return len(self.rows)

    @property
    def done(self) -> int:
        return sum(1 for r in self.rows if r.finished is not None)

    @property
    def slipped(self) -> list[StepProgress]:
        """Cards done late, or not done and past due, latest first."""
        late = [r for r in self.rows if (r.slip or 0) > 0 or (r.late_open or 0) > 0]
        return sorted(late, key=lambda r: (-(r.slip or r.late_open or 0), r.card.id))


def plan_progress(cfg: BoardConfig, plan: str, members: list[Card], main: Card | None,
                  events_of: Callable[[str], list], today: date, labels: dict[str, str] | None = None) -> Progress:
    """Each plan card's planned and actual dates, from its front matter and its git history
    (`events_of(card ID)` -> history.Event list, oldest first)."""
    rows = []
    for card in members:
        if main is not None and card.id == main.id:
            continue
        ctype = cfg.types.get(card.type)
        if ctype is None:
            continue
        ref = read_ref(card.meta.get(PLAN_KEY))
        label = (labels or {}).get(ref.step, ref.step) if ref else card.id
        rows.append(_step_progress(cfg, card, ctype, label, events_of(card.id), today))
    rows.sort(key=lambda r: (r.planned_due or date.max, r.card.id))
    return Progress(plan, rows)


def _step_progress(cfg: BoardConfig, card: Card, ctype, label: str, events: list, today: date) -> StepProgress:
    tz = cfg.timezone
    created = next((e.time.date() for e in events if e.action == "created"), None)
    first_state = ctype.first_state.key
    started = next((e.time.date() for e in events if e.action == "moved" and e.from_state == first_state), None)
    done = ctype.done_states()
    finished = None
    if card.state in done:
        entered = [e.time.date() for e in events if e.action == "moved" and e.to_state in done]
        finished = entered[-1] if entered else None
    due_changes = [e for e in events if e.action == "field" and e.field == "due"]
    planned = due_changes[0].old or due_changes[0].new if due_changes else card.meta.get("due")
    planned_due = _day(planned, tz)
    if finished is not None and started is None:
        started = finished
    slip = (finished - planned_due).days if finished and planned_due else None
    late_open = (today - planned_due).days if finished is None and planned_due and planned_due < today else None
    return StepProgress(card, label, created, planned_due, started, finished, slip, late_open)


# --- the sales coming, with their plans -------------------------------------------------------

@dataclass
class SalePlan:
    """A plan made for a sale: its name, its campaign card (when found) and how many cards it has."""

    name: str
    playbook: Playbook
    main: Card | None
    cards: int


@dataclass
class ComingSale:
    """A sale of the calendar with its countdown, the playbooks for it and the plans made."""

    sale: Sale
    countdown: object  # sales.Countdown
    playbooks: list[Playbook]
    plans: list[SalePlan]


def coming_sales(board: Board, days: int | None = None, everything: bool = False,
                 cards: list[Card] | None = None) -> tuple[list[ComingSale], list[Problem]]:
    """The calendar's sales not over yet (every sale with `everything`), soonest first, each with
    the playbooks that plan for it and the plans already made; and the problems of the files."""
    from mdboard.domain.sales import countdown

    cfg = board.config
    today = dates_mod.today(cfg.timezone)
    calendar = load_calendar(board.root, cfg.platforms)
    books = load_playbooks(board.root, cfg)
    index = plan_index(board.cards() if cards is None else cards)
    sales = calendar.sales if everything else calendar.upcoming(today, days)
    out = []
    for sale in sales:
        playbooks = books.for_sale(sale.key)
        plans = []
        for pb in playbooks:
            name = plan_id(pb.key, sale.year)
            if name in index:
                main = main_card(pb.main.key if pb.main else None, index[name])
                plans.append(SalePlan(name, pb, main, len(index[name])))
        out.append(ComingSale(sale, countdown(sale, today, cfg.language), playbooks, plans))
    return out, calendar.problems + books.problems
