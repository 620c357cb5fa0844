"""`mdboard.yaml`: the board's types, states, fields, people and platforms.

`load_config` reads and checks the whole file, collects every mistake with its key
path (`types.sku.states[2].wip`) and raises one ConfigError listing them all, so a
user fixes the file in one go.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from mdboard.core.errors import CardSyntaxError, ConfigError, Problem, parenthesized
from mdboard.core.i18n import LANGUAGES, t, t_in

CONFIG_NAME = "mdboard.yaml"
FIELD_TYPES = ("text", "number", "money", "bool", "date", "datetime", "person", "people",
               "platform", "platforms", "enum", "link", "links", "tags")
DATE_TYPES = ("date", "datetime")
KEY_RE = re.compile(r"^[a-z][a-z0-9_]*$")
STATE_RE = re.compile(r"^[a-z0-9][a-z0-9_\-]*$")
PREFIX_RE = re.compile(r"^[A-Z][A-Z0-9]*$")
DEFAULT_TIMEZONE = "Asia/Shanghai"
# Names a card's JSON and spreadsheet rows already use for what mdboard knows about the card
# (its ID, type, state folder, path, checklist, body ...): a field of that name would be
# hidden behind them, or show the card's state in the field's column. Each with a name to
# suggest instead.
RESERVED_FIELDS = {"id": "code", "type": "kind", "state": "stage", "path": "file", "checklist": "todo",
                   "body": "notes", "error": "issue", "state_label": "stage", "due_status": "due_note",
                   "next_step": "next", "commit": "commit_note"}


@dataclass
class Person:
    key: str
    name: str
    emails: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    chat: dict[str, str] = field(default_factory=dict)  # ids for @-mentions: mobile, dingtalk, feishu, wecom


@dataclass
class FieldDef:
    key: str
    type: str
    label: str
    required: bool = False
    options: list[str] = field(default_factory=list)  # enum
    to: str = ""  # link / links: the target card type
    help: str = ""

    @cached_property
    def item(self) -> "FieldDef":
        """The field one element of a list field is (people → person, links → link …)."""
        kind = {"people": "person", "platforms": "platform", "links": "link", "tags": "text"}.get(self.type, self.type)
        return FieldDef(self.key, kind, self.label, options=self.options, to=self.to)


@dataclass
class StateDef:
    key: str
    label: str
    wip: int | None = None
    requires: list[str] = field(default_factory=list)  # fields that must be set
    checklist: bool = False  # checklist must be complete to enter
    roles: list[str] = field(default_factory=list)  # roles allowed to move a card in
    done: bool = False  # work in this state is finished


@dataclass
class DateRule:
    left: str
    op: str  # "<" or "<="
    right: str

    def text(self) -> str:
        return f"{self.left} {self.op} {self.right}"


@dataclass
class CardType:
    key: str
    label: str
    prefix: str
    states: list[StateDef]
    fields: dict[str, FieldDef]
    transitions: dict[str, list[str]] | None = None
    date_order: list[DateRule] = field(default_factory=list)
    milestones: list[str] = field(default_factory=list)
    template: str = ""  # the body a new card starts with (its checklist)

    @property
    def is_queue(self) -> bool:
        """Worked as a queue against the clock (after-sales cases): its `due` is a date and
        time. The report's after-sales figures, the standup's new cases and the site's queue
        page find these types by this trait, never by their key, so a board may rename them."""
        due = self.fields.get("due")
        return due is not None and due.type == "datetime"

    def find_state(self, text: str) -> str:
        """A state key from a key or label; unknown text is returned as is for the caller to judge."""
        for s in self.states:
            if text in (s.key, s.label):
                return s.key
        return text

    def state(self, key: str) -> StateDef | None:
        by_key = self.__dict__.get("_by_key")  # asked once per card by ls/check/mine: a dict, built once
        if by_key is None:
            by_key = self.__dict__["_by_key"] = {s.key: s for s in reversed(self.states)}
        return by_key.get(key)

    def state_label(self, key: str | None) -> str:
        """The label of state `key`, else the key itself (a folder the config does not name)."""
        state = self.state(key) if key is not None else None
        return state.label if state else (key or "")

    def state_index(self, key: str) -> int:
        return next((i for i, s in enumerate(self.states) if s.key == key), -1)

    @property
    def first_state(self) -> StateDef:
        return self.states[0]

    def allowed_targets(self, source: str) -> list[str]:
        """States a card may move to from `source` (default: any other state)."""
        if self.transitions is not None:
            return list(self.transitions.get(source, []))
        return [s.key for s in self.states if s.key != source]

    def done_states(self) -> frozenset[str]:
        done = self.__dict__.get("_done")  # asked once per card by views and reports: built once
        if done is None:
            done = self.__dict__["_done"] = frozenset(s.key for s in self.states if s.done) or frozenset(
                {self.states[-1].key})
        return done


@dataclass
class BoardConfig:
    title: str
    language: str
    timezone: str
    platforms: dict[str, str]
    people: dict[str, Person]
    types: dict[str, CardType]
    commit: bool = True
    raw: dict = field(default_factory=dict)
    site_url: str = ""  # the published site, for links from chat messages
    notify: "NotifyConfig" = field(default_factory=lambda: NotifyConfig())

    def find_type(self, text: str) -> CardType:
        """A card type by key, label or ID prefix; MdboardError with a suggestion otherwise."""
        for ctype in self.types.values():
            if text in (ctype.key, ctype.label, ctype.prefix) or text.lower() == ctype.key:
                return ctype
        from mdboard.core.errors import MdboardError
        from mdboard.core.text import suggest

        raise MdboardError(parenthesized(t("ops.unknown_type", value=text), suggest(text, self.types)))

    def type_for_prefix(self, prefix: str) -> CardType | None:
        return next((ctype for ctype in self.types.values() if ctype.prefix == prefix), None)

    def person_by_email(self, email: str) -> Person | None:
        email = (email or "").strip().lower()
        return next((p for p in self.people.values()
                     if email in (e.lower() for e in p.emails)), None)

    def find_person(self, text: str) -> Person | None:
        """A person by key, display name or email."""
        text = str(text).strip()
        if text in self.people:
            return self.people[text]
        return next((p for p in self.people.values()
                     if p.name == text or text.lower() in (e.lower() for e in p.emails)), None)

    def find_platform(self, text: str) -> str | None:
        """A platform key by key or label."""
        text = str(text).strip()
        if text in self.platforms:
            return text
        lower = text.lower()
        return next((k for k, label in self.platforms.items()
                     if label == text or k.lower() == lower), None)

    def person_name(self, key) -> str:
        """The name of the person with roster key `key`; any other value (an unknown key, a
        hand-written list or mapping) is shown as it is."""
        person = self.people.get(key) if isinstance(key, str) else None
        return person.name if person else str(key)


def load_config(root: Path, cache_dir: Path | None = None) -> BoardConfig:
    """Read `<root>/mdboard.yaml`; raise ConfigError listing every mistake.

    With `cache_dir`, a checked config is kept in a private cache keyed by the file's
    size and mtime, so a warm command does not even import the YAML parser.
    """
    path = Path(root) / CONFIG_NAME
    if path.is_symlink():  # refused like a symlinked card: it may lead anywhere
        raise ConfigError(t("config.broken", path=CONFIG_NAME),
                          [Problem(CONFIG_NAME, "", t("config.symlink"), t("config.hint_symlink"))])
    if cache_dir is None:
        return _read_config(path)
    from mdboard.core import cache

    try:
        st = path.stat()
        stamp = (st.st_size, st.st_mtime_ns)
    except OSError:
        return _read_config(path)
    cache_file = Path(cache_dir) / "config.cache"
    found = cache.load(cache_file, "config", CONFIG_CACHE_VERSION)
    if isinstance(found, tuple) and len(found) == 2 and found[0] == stamp:
        return found[1]
    cfg = _read_config(path)
    cache.save(cache_file, "config", CONFIG_CACHE_VERSION, (stamp, cfg))
    return cfg


CONFIG_CACHE_VERSION = 4  # 2: BoardConfig moved; 3: notify, site_url, chat ids; 4: fields may not take a reserved name


def _read_config(path: Path) -> BoardConfig:
    from mdboard.core.cardfile import MAX_CONFIG_NODES, YamlTooBig, load_yaml

    try:
        text = path.read_text("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(t("config.broken", path=CONFIG_NAME),
                          [Problem(CONFIG_NAME, "", t("card.not_utf8", offset=exc.start), t("config.hint_utf8"))])
    except OSError as exc:
        raise ConfigError(t("config.unreadable", path=CONFIG_NAME, error=exc.strerror))
    try:
        data = load_yaml(text, max_nodes=MAX_CONFIG_NODES)
    except YamlTooBig as exc:
        raise ConfigError(t("config.broken", path=CONFIG_NAME),
                          [Problem(CONFIG_NAME, "", exc.message, t("config.hint_too_big", limit=MAX_CONFIG_NODES))])
    except CardSyntaxError as exc:
        raise ConfigError(t("config.broken", path=CONFIG_NAME),
                          [Problem(CONFIG_NAME, "", exc.message, t("config.fix_yaml"))])
    return parse_config(data)


class _Reader:
    """Collects problems while reading a config mapping."""

    def __init__(self):
        self.problems: list[Problem] = []

    def bad(self, where: str, message: str, hint: str = "") -> None:
        self.problems.append(Problem(CONFIG_NAME, where, message, hint))

    def mapping(self, data, where: str) -> dict:
        if data is None:
            return {}
        if not isinstance(data, dict):
            self.bad(where, t("config.want_mapping"), t("config.hint_mapping"))
            return {}
        return data

    def known_keys(self, data: dict, where: str, known: set[str]) -> None:
        """Report keys a section does not define (a typo like `requried` would be ignored)."""
        for key in data:
            if key not in known:
                from mdboard.core.text import suggest

                self.bad(f"{where}.{key}", t("config.unknown_key"), suggest(key, sorted(known)))

    def strings(self, data, where: str) -> list[str]:
        if data is None:
            return []
        if isinstance(data, str):
            return [data]
        if not isinstance(data, list) or not all(isinstance(x, str) for x in data):
            self.bad(where, t("config.want_list"), t("config.hint_list"))
            return []
        return list(data)


def parse_config(data) -> BoardConfig:
    """Turn the loaded YAML into a BoardConfig, or raise ConfigError with every problem."""
    r = _Reader()
    data = r.mapping(data, "")
    known = {"title", "language", "timezone", "platforms", "people", "types", "commit", "site_url", "notify"}
    for key in data:
        if key not in known:
            r.bad(str(key), t("config.unknown_key"), t("config.hint_known", known=", ".join(sorted(known))))
    language = str(data.get("language") or "zh-CN")
    if language not in LANGUAGES:
        r.bad("language", t("config.bad_language", value=language), t("config.hint_language"))
        language = "zh-CN"
    timezone = str(data.get("timezone") or DEFAULT_TIMEZONE)
    if not _valid_timezone(timezone):
        r.bad("timezone", t("config.bad_timezone", value=timezone), t("config.hint_timezone"))
        timezone = DEFAULT_TIMEZONE
    platforms = {str(k): str(v) for k, v in r.mapping(data.get("platforms"), "platforms").items()}
    people = _people(r, data.get("people"))
    types = _types(r, data.get("types"), platforms)
    for ctype in types.values():  # the built-in title label speaks the board's language, not the caller's
        if ctype.fields["title"].label == t("fields.title"):
            ctype.fields["title"].label = t_in(language, "fields.title")
    if not types and "types" not in [p.field.split(".")[0] for p in r.problems]:
        r.bad("types", t("config.no_types"), t("config.hint_types"))
    commit = data.get("commit", True)
    if not isinstance(commit, bool):
        r.bad("commit", t("config.want_bool"), "commit: true")
        commit = True
    site_url = _site_url(r, data.get("site_url"))
    notify = _notify(r, data.get("notify"))
    if r.problems:
        raise ConfigError(t("config.broken", path=CONFIG_NAME), r.problems)
    return BoardConfig(str(data.get("title") or "mdboard"), language, timezone, platforms,
                       people, types, commit, data, site_url, notify)


def _valid_timezone(name: str) -> bool:
    from zoneinfo import ZoneInfo

    try:
        ZoneInfo(name)
        return True
    except Exception:
        return False


def _people(r: _Reader, data) -> dict[str, Person]:
    people = {}
    for key, spec in r.mapping(data, "people").items():
        where = f"people.{key}"
        if not isinstance(key, str) or not KEY_RE.fullmatch(key):
            r.bad(where, t("config.bad_key", key=key), t("config.hint_key"))
            continue
        if isinstance(spec, str):
            spec = {"name": spec}
        spec = r.mapping(spec, where)
        r.known_keys(spec, where, {"name", "email", "roles", *CHAT_KEYS})
        emails = r.strings(spec.get("email"), f"{where}.email")
        people[key] = Person(key, str(spec.get("name") or key), emails,
                             r.strings(spec.get("roles"), f"{where}.roles"), _chat_ids(r, spec, where))
    return people


def _types(r: _Reader, data, platforms) -> dict[str, CardType]:
    types = {}
    for key, spec in r.mapping(data, "types").items():
        where = f"types.{key}"
        if not isinstance(key, str) or not KEY_RE.fullmatch(key):
            r.bad(where, t("config.bad_key", key=key), t("config.hint_key"))
            continue
        spec = r.mapping(spec, where)
        ctype = _card_type(r, key, spec, where)
        if ctype:
            types[key] = ctype
    prefixes: dict[str, str] = {}
    for ctype in types.values():
        if ctype.prefix in prefixes:
            r.bad(f"types.{ctype.key}.prefix", t("config.dup_prefix", prefix=ctype.prefix, other=prefixes[ctype.prefix]),
                  t("config.hint_prefix"))
        prefixes[ctype.prefix] = ctype.key
        for f in ctype.fields.values():
            if f.type in ("link", "links") and f.to not in types:
                r.bad(f"types.{ctype.key}.fields.{f.key}.to", t("config.bad_link_type", value=f.to),
                      t("config.hint_one_of", options=", ".join(types)))
    return types


def _card_type(r: _Reader, key: str, spec: dict, where: str) -> CardType | None:
    r.known_keys(spec, where, {"label", "prefix", "states", "transitions", "fields", "date_order", "milestones",
                               "template"})
    prefix = str(spec.get("prefix") or key.upper())
    if not PREFIX_RE.fullmatch(prefix):
        r.bad(f"{where}.prefix", t("config.bad_prefix", value=prefix), t("config.hint_prefix_form"))
    fields = _fields(r, spec.get("fields"), f"{where}.fields")
    states = _states(r, spec.get("states"), f"{where}.states", fields)
    if not states:
        return None
    state_keys = [s.key for s in states]
    transitions = None
    if spec.get("transitions") is not None:
        transitions = {}
        for src, targets in r.mapping(spec["transitions"], f"{where}.transitions").items():
            for name in [src] + r.strings(targets, f"{where}.transitions.{src}"):
                if name not in state_keys:
                    r.bad(f"{where}.transitions.{src}", t("config.unknown_state", value=name),
                          t("config.hint_one_of", options=", ".join(state_keys)))
            transitions[str(src)] = r.strings(targets, f"{where}.transitions.{src}")
    rules = []
    for i, rule in enumerate(r.strings(spec.get("date_order"), f"{where}.date_order")):
        parsed = _date_rule(rule)
        bad = [k for k in (parsed.left, parsed.right) if k not in fields or fields[k].type not in DATE_TYPES] if parsed else True
        if bad:
            r.bad(f"{where}.date_order[{i}]", t("config.bad_date_rule", value=rule), t("config.hint_date_rule"))
        else:
            rules.append(parsed)
    milestones = r.strings(spec.get("milestones"), f"{where}.milestones")
    for m in milestones:
        if m not in fields or fields[m].type not in DATE_TYPES:
            r.bad(f"{where}.milestones", t("config.bad_milestone", value=m), t("config.hint_milestone"))
    return CardType(key, str(spec.get("label") or key), prefix, states, fields, transitions, rules, milestones,
                    str(spec.get("template") or ""))


def _date_rule(text: str) -> DateRule | None:
    m = re.fullmatch(r"\s*(\w+)\s*(<=|<)\s*(\w+)\s*", text)
    return DateRule(m.group(1), m.group(2), m.group(3)) if m else None


def _fields(r: _Reader, data, where: str) -> dict[str, FieldDef]:
    fields = {"title": FieldDef("title", "text", t("fields.title"), required=True)}
    for key, spec in r.mapping(data, where).items():
        fwhere = f"{where}.{key}"
        if not isinstance(key, str) or not KEY_RE.fullmatch(key):
            r.bad(fwhere, t("config.bad_key", key=key), t("config.hint_key"))
            continue
        if key in RESERVED_FIELDS:
            r.bad(fwhere, t("config.reserved_field", key=key), t("config.hint_reserved", example=RESERVED_FIELDS[key]))
            continue
        if isinstance(spec, str):
            spec = {"type": spec}
        spec = r.mapping(spec, fwhere)
        r.known_keys(spec, fwhere, {"type", "label", "required", "options", "to", "help"})
        ftype = spec.get("type", "text")
        if ftype not in FIELD_TYPES:
            r.bad(f"{fwhere}.type", t("config.bad_field_type", value=ftype),
                  t("config.hint_one_of", options=", ".join(FIELD_TYPES)))
            continue
        options = r.strings(spec.get("options"), f"{fwhere}.options")
        if ftype == "enum" and not options:
            r.bad(f"{fwhere}.options", t("config.enum_needs_options"), "options: [A, B]")
        required = spec.get("required", False)
        if not isinstance(required, bool):
            r.bad(f"{fwhere}.required", t("config.want_bool"), "required: true")
            required = False
        fields[key] = FieldDef(key, ftype, str(spec.get("label") or key), required, options,
                               str(spec.get("to") or ""), str(spec.get("help") or ""))
    return fields


def _states(r: _Reader, data, where: str, fields) -> list[StateDef]:
    if not isinstance(data, list) or not data:
        r.bad(where, t("config.want_states"), t("config.hint_states"))
        return []
    states, seen = [], set()
    for i, spec in enumerate(data):
        swhere = f"{where}[{i}]"
        if isinstance(spec, str):
            spec = {"key": spec}
        spec = r.mapping(spec, swhere)
        r.known_keys(spec, swhere, {"key", "label", "wip", "requires", "checklist", "roles", "done"})
        key = str(spec.get("key", ""))
        if not STATE_RE.fullmatch(key):
            r.bad(f"{swhere}.key", t("config.bad_state_key", value=key), t("config.hint_state_key"))
            continue
        if key in seen:
            r.bad(f"{swhere}.key", t("config.dup_state", value=key), "")
        seen.add(key)
        wip = spec.get("wip")
        if wip is not None and (not isinstance(wip, int) or isinstance(wip, bool) or wip < 1):
            r.bad(f"{swhere}.wip", t("config.bad_wip", value=wip), "wip: 5")
            wip = None
        requires = r.strings(spec.get("requires"), f"{swhere}.requires")
        for name in requires:
            if name not in fields:
                r.bad(f"{swhere}.requires", t("config.unknown_field", value=name),
                      t("config.hint_one_of", options=", ".join(fields)))
        states.append(StateDef(key, str(spec.get("label") or key), wip, requires,
                               bool(spec.get("checklist", False)),
                               r.strings(spec.get("roles"), f"{swhere}.roles"),
                               bool(spec.get("done", False))))
    return states


# --- group chats: notify and per-person ids ---------------------------------------------------

PLATFORM_NAMES = {"dingtalk": "dingtalk", "钉钉": "dingtalk", "feishu": "feishu", "lark": "feishu", "飞书": "feishu",
                  "wecom": "wecom", "企业微信": "wecom", "企微": "wecom"}
NOTIFY_SECTIONS = ("overdue", "due_today", "new_issues", "blocked", "moved")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAYS_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
CHAT_KEYS = ("mobile", "dingtalk", "feishu", "wecom")
ENV_RE = re.compile(r"^[A-Z_][A-Z0-9_]*$")
CHAT_ID_RE = re.compile(r"^[A-Za-z0-9_.@+-]{1,64}$")
MOBILE_RE = re.compile(r"^\+?[0-9][0-9-]{5,19}$")
TIME_RE = re.compile(r"^([01]?[0-9]|2[0-3]):([0-5][0-9])$")


@dataclass(frozen=True)
class RobotConfig:
    """One group chat's robot: its platform and the environment variables holding its address and secret."""

    key: str
    platform: str  # dingtalk | feishu | wecom
    webhook_env: str
    secret_env: str
    keyword: str = ""
    sections: tuple[str, ...] = NOTIFY_SECTIONS


@dataclass(frozen=True)
class NotifyConfig:
    """`notify:` in mdboard.yaml: when the scheduled digest goes out, and to which robots."""

    time: str = "08:50"
    days: tuple[int, ...] = (0, 1, 2, 3, 4)  # 0 = Monday
    robots: dict = field(default_factory=dict)  # name -> RobotConfig


def _site_url(r: _Reader, value) -> str:
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or not re.match(r"^https?://[^\s/]+", value):
        r.bad("site_url", t("notify.bad_site_url"), t("notify.hint_site_url"))
        return ""
    return value


def _chat_ids(r: _Reader, spec: dict, where: str) -> dict[str, str]:
    """A person's ids for @-mentions; a mobile number written without quotes (an int) is accepted."""
    ids = {}
    for key in CHAT_KEYS:
        value = spec.get(key)
        if value is None:
            continue
        text = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
        pattern, message, hint = (MOBILE_RE, "notify.bad_mobile", "notify.hint_mobile") if key == "mobile" else \
            (CHAT_ID_RE, "notify.bad_chat_id", "notify.hint_chat_id")
        if not pattern.match(text):
            r.bad(f"{where}.{key}", t(message, value=value), t(hint))
            continue
        ids[key] = text
    return ids


def _notify(r: _Reader, data) -> NotifyConfig:
    data = r.mapping(data, "notify")
    r.known_keys(data, "notify", {"time", "days", "robots"})
    clock = str(data.get("time") or "08:50").strip()
    match = TIME_RE.match(clock)
    if not match:
        r.bad("notify.time", t("notify.bad_time", value=data.get("time")), t("notify.hint_time"))
        clock = "08:50"
    else:
        clock = f"{int(match.group(1)):02d}:{match.group(2)}"
    days = []
    for day in r.strings(data.get("days"), "notify.days") if "days" in data else list(WEEKDAYS[:5]):
        low = day.strip().lower()
        if low in WEEKDAYS or day in WEEKDAYS_ZH:
            days.append(WEEKDAYS.index(low) if low in WEEKDAYS else WEEKDAYS_ZH.index(day))
        else:
            r.bad("notify.days", t("notify.bad_day", value=day), t("notify.hint_day"))
    robots = {}
    for key, spec in r.mapping(data.get("robots"), "notify.robots").items():
        where = f"notify.robots.{key}"
        if not isinstance(key, str) or not KEY_RE.match(key):
            r.bad(where, t("config.bad_key", key=key), t("config.hint_key"))
            continue
        robot = _robot(r, key, r.mapping(spec, where), where)
        if robot:
            robots[key] = robot
    return NotifyConfig(clock, tuple(sorted(set(days))), robots)


def _robot(r: _Reader, key: str, spec: dict, where: str) -> RobotConfig | None:
    for literal in ("webhook", "secret", "url", "key", "token"):
        if literal in spec:
            r.bad(f"{where}.{literal}", t("notify.literal_secret"), t("notify.hint_literal_secret"))
    r.known_keys({k: v for k, v in spec.items() if k not in ("webhook", "secret", "url", "key", "token")}, where,
                 {"platform", "keyword", "sections", "webhook_env", "secret_env"})
    platform = PLATFORM_NAMES.get(str(spec.get("platform") or "").strip().lower()) or \
        PLATFORM_NAMES.get(str(spec.get("platform") or "").strip())
    if platform is None:
        r.bad(f"{where}.platform", t("notify.bad_platform", value=spec.get("platform") or ""), t("notify.hint_platform"))
    envs = {}
    for name in ("webhook_env", "secret_env"):
        value = str(spec.get(name) or f"MDBOARD_ROBOT_{key.upper()}_{name.split('_')[0].upper()}")
        if not ENV_RE.match(value):
            r.bad(f"{where}.{name}", t("notify.bad_env_name", value=value), t("notify.hint_env_name"))
        envs[name] = value
    sections = r.strings(spec.get("sections"), f"{where}.sections") if "sections" in spec else list(NOTIFY_SECTIONS)
    for name in sections:
        if name not in NOTIFY_SECTIONS:
            r.bad(f"{where}.sections", t("notify.bad_section", value=name),
                  t("notify.hint_section", options=", ".join(NOTIFY_SECTIONS)))
    if platform is None:
        return None
    return RobotConfig(key, platform, envs["webhook_env"], envs["secret_env"], str(spec.get("keyword") or "").strip(),
                       tuple(s for s in sections if s in NOTIFY_SECTIONS))
