"""Playbooks (活动打法): the cards a campaign needs, with dates counted back from a sale.

A playbook is a plain YAML file in the board, `playbooks/<key>.yaml` (`double11.yaml`,
`618.yaml`). Its keys are language-neutral, its labels are for people:

    label: 双11
    sale: double11                 # the sale in the calendar (sales/<year>.yaml) it plans for
    dates:                         # key dates, in the order they come
      signup_end: {label: 报名截止, default: 上线 - 25d}
      materials_due: {label: 素材截止, default: 上线 - 14d}
      live_start: {label: 上线}    # one key date has no default: plans start from it
    cards:                         # the first card is the plan's campaign card
      campaign:
        type: campaign
        title: "{year} 双11 活动提报"
        role: 运营
        fields: {platform: tmall, signup_end: 报名截止, live_start: 上线, skus: "{skus}"}
        checklist: [确认活动规则, 报名提交]
      main_image:
        label: 主图
        type: asset
        each: sku                  # one card per SKU given with --sku
        title: "双11 主图：{sku}"
        role: 美工
        after: [copy]              # due no earlier than the `copy` card's
        fields: {due: 素材截止 - 3d, kind: 主图, campaign: campaign, skus: "{sku}"}

Every date field holds an offset from a key date, by key or label (`报名截止 - 3d`,
`live_start + 2w`). Link fields name other cards of the playbook by key, `{sku}` (the
SKU a per-SKU card is for), `{skus}` (every SKU given) or a card ID. Titles and text
may use `{year}`, `{sale}`, `{sku}` and `{sku_id}`. An owner is chosen by `role` (see
`domain.plans.choose_owner`) or fixed with `owner`.

This module reads playbooks and judges them (`check_playbooks`, for `mdboard check`);
`domain.plans` makes plans from them. `check` tells two kinds of problem apart: a playbook
that is wrong in itself (a YAML mistake, an unknown key, an offset naming no key date,
key dates out of order) is an error; one that does not fit this board (a type, field,
option or role the board does not have, a type's date order) is a warning, since the
board itself is fine and only planning with it is refused (`Playbooks.find` refuses a
playbook with either).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from mdboard.core.config import DATE_TYPES, BoardConfig, CardType
from mdboard.core.errors import MdboardError, Problem, parenthesized
from mdboard.core.fields import BadValue, parse_input
from mdboard.core.i18n import join_list, t
from mdboard.core.text import ID_RE, suggest
from mdboard.domain.boardfiles import Reader, data_files, read_yaml
from mdboard.domain.sales import KEY_DATES, Calendar, date_label

PLAYBOOK_DIR = "playbooks"
PLAYBOOK_KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_\-]*$")
STEP_KEY_RE = re.compile(r"^[a-z][a-z0-9_]*$")
PLACEHOLDERS = ("year", "sale", "sku", "sku_id")
SKU_REFS = ("{sku}", "{skus}")
EACH_KINDS = ("sku",)
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_OFFSET = re.compile(r"^(.*?)\s*([+\-－＋])\s*(\d{1,4})\s*(d|days?|天|w|weeks?|周)?\s*$", re.IGNORECASE)
SAMPLE_ANCHOR = date(2030, 6, 15)  # any day works: `check` judges offsets, which do not depend on it
FIT = "warning"  # the level of a problem that says a playbook does not fit this board (see above)


@dataclass(frozen=True)
class Offset:
    """A date written as a key date plus or minus some days (`报名截止 - 3d`)."""

    base: str  # the key date's key
    days: int
    text: str  # as written in the playbook

    def apply(self, days: dict[str, date]) -> date:
        return days[self.base] + timedelta(days=self.days)


@dataclass
class KeyDate:
    key: str
    label: str
    default: Offset | None = None  # how to work it out when neither the calendar nor --date gives it


@dataclass
class Step:
    """One card (or one per SKU) a playbook makes."""

    key: str
    label: str
    type: str
    title: str
    role: str = ""
    owner: str = ""  # a person key fixed by the playbook (instead of a role)
    each: str = ""  # "sku": one card per SKU
    after: list[str] = field(default_factory=list)  # steps whose due this step's due may not come before
    checklist: list[str] | None = None  # None: the type's template as it is
    dates: dict[str, Offset] = field(default_factory=dict)  # date fields
    links: dict[str, list[str]] = field(default_factory=dict)  # link fields: step keys, {sku}, {skus}, IDs
    values: dict[str, object] = field(default_factory=dict)  # every other field, as a card stores it
    lessons: list[str] = field(default_factory=list)  # rollover: last year's retrospective notes
    lessons_from: str = ""  # the card they come from


@dataclass
class Playbook:
    key: str
    label: str
    path: str
    sale: str
    dates: dict[str, KeyDate]
    steps: dict[str, Step]

    @property
    def main(self) -> Step | None:
        """The plan's campaign card: the first card of the playbook."""
        return next(iter(self.steps.values()), None)

    @property
    def anchors(self) -> list[str]:
        """Key dates without a default: a plan needs them from the calendar or --date."""
        return [k for k, kd in self.dates.items() if kd.default is None]

    def date_key(self, name: str) -> str | None:
        """A key date's key from its key or label (case does not matter for keys)."""
        name = str(name).strip()
        for kd in self.dates.values():
            if name in (kd.key, kd.label) or name.lower() == kd.key:
                return kd.key
        return None

    def date_names(self) -> list[str]:
        return [name for kd in self.dates.values() for name in (kd.label, kd.key)]


@dataclass
class Playbooks:
    """Every playbook file of a board, and what was wrong in them. `found` holds the ones
    that read well (they may still not fit the board: see their problems)."""

    found: dict[str, Playbook]
    problems: list[Problem]

    def find(self, text: str) -> Playbook:
        """A playbook by key, label or file name that a plan can use; MdboardError naming its
        problems when it has any, or with a suggestion when there is no such playbook."""
        text = str(text).strip()
        for pb in self.found.values():
            if text in (pb.key, pb.label, f"{pb.key}.yaml") or text.lower() == pb.key:
                misfits = [Problem(p.path, p.field, p.message, p.hint) for p in self.problems if p.path == pb.path]
                if misfits:
                    raise MdboardError(t("playbooks.broken", path=pb.path), misfits)
                return pb
        broken = [Problem(p.path, p.field, p.message, p.hint) for p in self.problems if Path(p.path).stem == text]
        if any(Path(p.path).stem == text and p.level == "error" for p in self.problems):
            raise MdboardError(t("playbooks.broken", path=broken[0].path), broken)
        if not self.found:
            raise MdboardError(parenthesized(t("playbooks.none", value=text), t("playbooks.hint_none")))
        names = [pb.key for pb in self.found.values()] + [pb.label for pb in self.found.values()]
        raise MdboardError(parenthesized(t("playbooks.unknown", value=text), suggest(text, names)))

    def for_sale(self, sale_key: str) -> list[Playbook]:
        return [pb for pb in self.found.values() if pb.sale == sale_key]


# --- reading ------------------------------------------------------------------------------

def load_playbooks(root: Path, cfg: BoardConfig) -> Playbooks:
    """Read every `playbooks/*.yaml`; a playbook with errors is reported and left out (one
    that only does not fit the board is kept, with its warnings)."""
    found, problems = {}, []
    for rel, path in data_files(root, PLAYBOOK_DIR):
        data, read = read_yaml(path, rel)
        problems += read
        if data is None:
            continue
        r = Reader(rel)
        pb = read_playbook(r, Path(rel).stem, data, cfg)
        problems += r.problems
        if pb is not None and not any(p.level == "error" for p in r.problems):
            found[pb.key] = pb
    return Playbooks(found, problems)


def read_playbook(r: Reader, key: str, data, cfg: BoardConfig) -> Playbook | None:
    """A playbook from its file's mapping; every mistake goes to `r` with its key path."""
    if not PLAYBOOK_KEY_RE.match(key):
        r.bad("", t("playbooks.bad_file_name", key=key), t("playbooks.hint_file_name"))
        return None
    data = r.mapping(data, "")
    r.known_keys(data, "", {"label", "sale", "dates", "cards"})
    pb = Playbook(key, r.text(data.get("label"), "label", key) or key, r.path,
                  r.text(data.get("sale"), "sale", key) or key, {}, {})
    _read_dates(r, pb, data.get("dates"))
    cards = r.mapping(data.get("cards"), "cards")
    if not cards:
        r.bad("cards", t("playbooks.no_cards"), t("playbooks.hint_cards"))
    for step_key, spec in cards.items():
        step = _read_step(r, pb, str(step_key), spec, cfg)
        if step is not None:
            pb.steps[step.key] = step
    _check_steps(r, pb, cfg)
    return pb


def _read_dates(r: Reader, pb: Playbook, data) -> None:
    specs = r.mapping(data, "dates")
    if not specs:
        r.bad("dates", t("playbooks.no_dates"), t("playbooks.hint_dates"))
    for key, spec in specs.items():  # labels first: a default may name a key date by its label
        key = str(key)
        if not STEP_KEY_RE.match(key):
            r.bad(f"dates.{key}", t("config.bad_key", key=key), t("config.hint_key"))
            continue
        spec = {"label": spec} if isinstance(spec, str) else r.mapping(spec, f"dates.{key}")
        r.known_keys(spec, f"dates.{key}", {"label", "default"})
        standard = date_label(key) if key in KEY_DATES else key
        pb.dates[key] = KeyDate(key, r.text(spec.get("label"), f"dates.{key}.label", standard) or standard)
        pb.dates[key].default = spec.get("default")
    for kd in pb.dates.values():
        raw = kd.default
        kd.default = None
        if raw not in (None, ""):
            kd.default = parse_offset(r, pb, raw, f"dates.{kd.key}.default")
    anchors = pb.anchors
    if specs and len(anchors) != 1:
        r.bad("dates", t("playbooks.one_anchor", n=len(anchors), names=join_list(pb.dates[k].label for k in anchors)),
              t("playbooks.hint_anchor"))


def parse_offset(r: Reader, pb: Playbook, raw, where: str) -> Offset | None:
    """`报名截止 - 3d` / `上线 + 2w` / `上线` -> Offset; a problem (and None) otherwise."""
    if not isinstance(raw, str) or not raw.strip():
        r.bad(where, t("playbooks.want_offset", value=raw), t("playbooks.hint_offset", example=_example(pb)))
        return None
    text = raw.strip()
    m = _OFFSET.match(text)
    name, days = (m.group(1), int(m.group(3))) if m else (text, 0)
    if m:
        days = -days if m.group(2) in "-－" else days
        unit = (m.group(4) or "d").lower()
        days *= 7 if unit[0] in "w周" else 1
    base = pb.date_key(name)
    if base is None:
        r.bad(where, t("playbooks.unknown_date", value=name.strip() or text),
              suggest(name.strip(), pb.date_names()) if pb.dates else t("playbooks.hint_dates"))
        return None
    return Offset(base, days, text)


def _example(pb: Playbook) -> str:
    label = next(iter(pb.dates.values())).label if pb.dates else date_label("live_start")
    return f"{label} - 3d"


STEP_KEYS = {"label", "type", "title", "role", "owner", "each", "after", "checklist", "fields"}


def _read_step(r: Reader, pb: Playbook, key: str, spec, cfg: BoardConfig) -> Step | None:
    where = f"cards.{key}"
    if not STEP_KEY_RE.match(key):
        r.bad(where, t("config.bad_key", key=key), t("config.hint_key"))
        return None
    spec = r.mapping(spec, where)
    r.known_keys(spec, where, STEP_KEYS)
    type_text = r.text(spec.get("type"), f"{where}.type")
    ctype = next((ct for ct in cfg.types.values() if type_text in (ct.key, ct.label)), None)
    if not type_text:
        r.bad(f"{where}.type", t("playbooks.no_type"), suggest("", cfg.types))
    elif ctype is None:  # kept (its key may be linked to), its fields not read
        r.bad(f"{where}.type", t("playbooks.unknown_type", value=type_text), suggest(type_text, cfg.types), FIT)
    title = r.text(spec.get("title"), f"{where}.title")
    if not title:
        r.bad(f"{where}.title", t("playbooks.no_title"), t("playbooks.hint_title"))
    step = Step(key, r.text(spec.get("label"), f"{where}.label") or title or key, ctype.key if ctype else "", title,
                role=r.text(spec.get("role"), f"{where}.role"), owner=r.text(spec.get("owner"), f"{where}.owner"),
                each=r.text(spec.get("each"), f"{where}.each"), after=r.strings(spec.get("after"), f"{where}.after"))
    if "checklist" in spec:
        step.checklist = r.strings(spec.get("checklist"), f"{where}.checklist")
    _check_placeholders(r, title, f"{where}.title")
    if step.each and step.each not in EACH_KINDS:
        r.bad(f"{where}.each", t("playbooks.bad_each", value=step.each), t("playbooks.hint_each"))
    if bool(step.role) == bool(step.owner):
        r.bad(where, t("playbooks.role_or_owner"), t("playbooks.hint_role"))
    if step.owner:
        person = cfg.find_person(step.owner)
        if person is None:
            r.bad(f"{where}.owner", t("fields.unknown_person", value=step.owner), suggest(step.owner, cfg.people), FIT)
        else:
            step.owner = person.key
    for fkey, raw in r.mapping(spec.get("fields"), f"{where}.fields").items():
        if ctype is not None:
            _read_field(r, pb, step, ctype, str(fkey), raw, cfg)
    return step


def _read_field(r: Reader, pb: Playbook, step: Step, ctype: CardType, key: str, raw, cfg: BoardConfig) -> None:
    """One `fields:` entry: a date offset, link references, or a value as a card stores it."""
    where = f"cards.{step.key}.fields.{key}"
    fd = ctype.fields.get(key)
    if key in ("title", "owner"):
        r.bad(where, t("playbooks.field_elsewhere", key=key), t("playbooks.hint_field_" + key))
        return
    if fd is None:
        r.bad(where, t("ops.unknown_field", type=ctype.label), suggest(key, ctype.fields), FIT)
        return
    if raw in (None, "", []):
        return
    if fd.type in DATE_TYPES:
        offset = parse_offset(r, pb, raw, where)
        if offset is not None:
            step.dates[key] = offset
    elif fd.type in ("link", "links"):
        refs = r.strings(raw, where)
        for ref in refs:
            if ref not in SKU_REFS and not ID_RE.match(ref) and not STEP_KEY_RE.match(ref):
                r.bad(where, t("playbooks.bad_ref", value=ref), t("playbooks.hint_ref"))
        if fd.type == "link" and (len(refs) > 1 or "{skus}" in refs):
            r.bad(where, t("playbooks.one_link", label=fd.label), t("playbooks.hint_one_link"), FIT)
        step.links[key] = refs
    else:
        value = stored_value(r, fd, raw, cfg, where)
        if value is not None:
            step.values[key] = value


def stored_value(r: Reader, fd, raw, cfg: BoardConfig, where: str):
    """A playbook value as a card stores it, read with the CLI's rules for typed values
    (names and labels become keys, `是` becomes true …); a problem (and None) otherwise."""
    items = raw if isinstance(raw, list) else [raw]
    if any(isinstance(x, dict) or isinstance(x, list) for x in items):
        r.bad(where, t("boardfiles.want_text"), t("boardfiles.hint_quote"))
        return None
    try:
        if fd.type in ("people", "platforms", "links", "tags"):
            return [parse_input(fd.item, str(x), cfg) if fd.type != "tags" else str(x).strip() for x in items
                    if str(x).strip()]
        if isinstance(raw, list):
            r.bad(where, t("fields.want_single"), t("fields.hint_single", key=fd.key), FIT)
            return None
        text = _placeholder_free(str(raw).lower() if isinstance(raw, bool) else str(raw))
        value = parse_input(fd, text, cfg)
        return str(raw) if fd.type == "text" else value
    except BadValue as exc:
        r.bad(where, exc.message, exc.hint, FIT)
        return None


def _placeholder_free(text: str) -> str:
    """Text as it would read with placeholders filled in (for judging a value's form)."""
    return _PLACEHOLDER.sub("x", text)


def _check_placeholders(r: Reader, text: str, where: str) -> None:
    for name in _PLACEHOLDER.findall(text or ""):
        if name not in PLACEHOLDERS:
            r.bad(where, t("playbooks.unknown_placeholder", value="{" + name + "}"),
                  t("playbooks.hint_placeholders", names=" ".join("{" + p + "}" for p in PLACEHOLDERS)))


def _check_steps(r: Reader, pb: Playbook, cfg: BoardConfig) -> None:
    """What a step says of other steps: links and `after` name steps that exist and fit."""
    main = pb.main
    if main is not None and main.each:
        r.bad(f"cards.{main.key}.each", t("playbooks.main_each"), t("playbooks.hint_main_each"))
    for step in pb.steps.values():
        where = f"cards.{step.key}"
        if "{sku}" in step.title and not step.each:
            r.bad(f"{where}.title", t("playbooks.sku_needs_each", value="{sku}"), t("playbooks.hint_each"))
        for key, refs in step.links.items():  # only read for a type the board has
            fd = cfg.types[step.type].fields[key]
            for ref in refs:
                _check_ref(r, pb, step, fd, ref, f"{where}.fields.{key}", cfg)
        for other in step.after:
            if other not in pb.steps or other == step.key:
                r.bad(f"{where}.after", t("playbooks.unknown_step", value=other), suggest(other, pb.steps))
            elif "due" not in step.dates or "due" not in pb.steps[other].dates:
                r.bad(f"{where}.after", t("playbooks.after_needs_due", other=other), t("playbooks.hint_after"), FIT)


def _check_ref(r: Reader, pb: Playbook, step: Step, fd, ref: str, where: str, cfg: BoardConfig) -> None:
    if ref == "{sku}" and not step.each:
        r.bad(where, t("playbooks.sku_needs_each", value=ref), t("playbooks.hint_each"))
    if ref in SKU_REFS or ID_RE.match(ref):
        return
    target = pb.steps.get(ref)
    if target is None:
        r.bad(where, t("playbooks.unknown_step", value=ref), suggest(ref, pb.steps))
    elif target.type and target.type != fd.to:
        r.bad(where, t("playbooks.link_type", value=ref, type=cfg.types[fd.to].label), t("check.hint_link_type"), FIT)
    elif fd.type == "link" and target.each and not step.each:
        r.bad(where, t("playbooks.one_link", label=fd.label), t("playbooks.hint_one_link"), FIT)


# --- key dates ----------------------------------------------------------------------------

def work_out_dates(pb: Playbook, given: dict[str, date]) -> tuple[dict[str, date], list[str]]:
    """Every key date: as given, else from its default. Returns (dates, keys that could
    not be worked out: an anchor nobody gave, or defaults naming each other in a circle)."""
    out = dict(given)
    missing = []

    def resolve(key: str, seen: tuple) -> date | None:
        if key in out:
            return out[key]
        default = pb.dates[key].default
        if default is None or key in seen:
            return None
        base = resolve(default.base, seen + (key,))
        if base is None:
            return None
        out[key] = base + timedelta(days=default.days)
        return out[key]

    for key in pb.dates:
        if resolve(key, ()) is None:
            missing.append(key)
    return {k: out[k] for k in pb.dates if k in out}, missing


def date_order_problems(pb: Playbook, days: dict[str, date], where: str = "dates") -> list[tuple[str, str]]:
    """(key path, message) for each key date that comes before the one listed above it."""
    out = []
    keys = [k for k in pb.dates if k in days]
    for a, b in zip(keys, keys[1:]):
        if days[a] > days[b]:
            out.append((f"{where}.{b}", t("playbooks.dates_out_of_order", a=pb.dates[a].label, av=days[a],
                                          b=pb.dates[b].label, bv=days[b])))
    return out


def step_order_problems(pb: Playbook, cfg: BoardConfig, days: dict[str, date]) -> list[tuple[str, str, str]]:
    """(key path, message, level) for dates of a step that break its type's date order (a
    misfit: the type's rule) or an `after` (an error: the playbook's own order)."""
    out = []
    for step in pb.steps.values():
        ctype = cfg.types.get(step.type)
        if ctype is None:
            continue
        got = {k: o.apply(days) for k, o in step.dates.items() if o.base in days}
        for rule in ctype.date_order:
            a, b = got.get(rule.left), got.get(rule.right)
            if a is not None and b is not None and not (a < b if rule.op == "<" else a <= b):
                left, right = ctype.fields[rule.left].label, ctype.fields[rule.right].label
                out.append((f"cards.{step.key}.fields.{rule.right}",
                            t("check.date_order", left=left, right=right, lv=a, rv=b, op=rule.op), FIT))
        for other in step.after:
            mine, theirs = got.get("due"), pb.steps[other].dates.get("due") if other in pb.steps else None
            theirs = theirs.apply(days) if theirs is not None and theirs.base in days else None
            if mine is not None and theirs is not None and mine < theirs:
                out.append((f"cards.{step.key}.after", t("playbooks.after_broken", step=step.label, day=mine,
                                                         other=pb.steps[other].label, other_day=theirs), "error"))
    return out


# --- check --------------------------------------------------------------------------------

def check_playbooks(root: Path, cfg: BoardConfig, calendar: Calendar | None = None) -> list[Problem]:
    """Every problem of the board's playbooks (`mdboard check`): how each file reads, roles
    nobody has, and dates out of order - on their own and with each year's sale dates."""
    books = load_playbooks(root, cfg)
    problems = list(books.problems)
    for pb in books.found.values():
        problems += judge(pb, cfg, calendar)
    return problems


def judge(pb: Playbook, cfg: BoardConfig, calendar: Calendar | None) -> list[Problem]:
    """Problems of a playbook that reads well: roles, and dates out of order."""
    out = []
    roles = {role for p in cfg.people.values() for role in p.roles}
    for step in pb.steps.values():
        if step.role and step.role not in roles:
            out.append(Problem(pb.path, f"cards.{step.key}.role", t("playbooks.nobody_has_role", role=step.role),
                               t("playbooks.hint_role_missing", role=step.role), "warning"))
    anchors = pb.anchors
    if len(anchors) == 1:
        days, missing = work_out_dates(pb, {anchors[0]: SAMPLE_ANCHOR})
        if missing:
            out.append(Problem(pb.path, "dates", t("playbooks.date_circle", names=join_list(
                pb.dates[k].label for k in missing)), t("playbooks.hint_circle")))
        ordered = [(where, message, "error") for where, message in date_order_problems(pb, days)]
        for where, message, level in ordered + step_order_problems(pb, cfg, days):
            out.append(Problem(pb.path, where, message, t("playbooks.hint_order"), level))
    for sale in calendar.of(pb.sale) if calendar is not None else []:
        days, _ = work_out_dates(pb, {k: v for k, v in sale.dates.items() if k in pb.dates})
        for where, message in date_order_problems(pb, days):
            out.append(Problem(pb.path, where, t("playbooks.with_sale", sale=sale.name, path=sale.path,
                                                 message=message), t("playbooks.hint_with_sale"), "warning"))
    return out


# --- what a new board starts with -----------------------------------------------------------

def starter_files(lang: str, platforms: dict[str, str], today: date) -> dict[str, str]:
    """Board-relative path -> text of the playbooks and sale calendars `mdboard init` writes:
    the default playbooks (双11, 618) and the coming year's sales, dates marked unconfirmed."""
    from mdboard.domain.sales import SALES_DIR, calendar_text, coming_years

    folder = Path(__file__).parent / "skeleton" / "playbooks" / lang
    out = {f"{PLAYBOOK_DIR}/{path.name}": path.read_text("utf-8") for path in sorted(folder.glob("*.yaml"))}
    for year in coming_years(today):
        text = calendar_text(year, lang, platforms, today)
        if text is not None:
            out[f"{SALES_DIR}/{year}.yaml"] = text
    return out


def check_board_files(root: Path, cfg: BoardConfig) -> list[Problem]:
    """`mdboard check` beyond the cards: the sale calendar's files and the playbooks."""
    from mdboard.domain.sales import load_calendar

    calendar = load_calendar(root, cfg.platforms)
    return calendar.problems + check_playbooks(root, cfg, calendar)
