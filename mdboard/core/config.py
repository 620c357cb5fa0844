"""`mdboard.yaml`: the board's types, states, fields, people and platforms.

`load_config` reads and checks the whole file, collects every mistake with its key
path (`types.sku.states[2].wip`) and raises one ConfigError listing them all, so a
user fixes the file in one go.
"""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path

from mdboard.core.errors import CardSyntaxError, ConfigError, Problem, parenthesized
from mdboard.core.i18n import LANGUAGES, t, t_in
from mdboard.core.records import ValueRecord
from mdboard.core.text import lazy_regex

CONFIG_NAME = "mdboard.yaml"
FIELD_TYPES = ("text", "number", "money", "bool", "date", "datetime", "person", "people",
               "platform", "platforms", "enum", "link", "links", "tags")
DATE_TYPES = ("date", "datetime")
KEY_RE = re.compile(r"^[a-z][a-z0-9_]*$")
# Patterns the declarations below quote (`.pattern`); compiled when a value is checked against
# one, which only reading a changed mdboard.yaml does (`NAME()`).
STATE_RE = lazy_regex(r"^[a-z0-9][a-z0-9_\-]*$")
PREFIX_RE = lazy_regex(r"^[A-Z][A-Z0-9]*$")
DEFAULT_TIMEZONE = "Asia/Shanghai"
# Names a card's JSON and spreadsheet rows already use for what mdboard knows about the card
# (its ID, type, state folder, path, checklist, body ...): a field of that name would be
# hidden behind them, or show the card's state in the field's column. Each with a name to
# suggest instead.
RESERVED_FIELDS = {"id": "code", "type": "kind", "state": "stage", "path": "file", "checklist": "todo",
                   "body": "notes", "error": "issue", "state_label": "stage", "due_status": "due_note",
                   "next_step": "next", "commit": "commit_note"}

# group chats: notify and per-person ids
PLATFORM_NAMES = {"dingtalk": "dingtalk", "钉钉": "dingtalk", "feishu": "feishu", "lark": "feishu", "飞书": "feishu",
                  "wecom": "wecom", "企业微信": "wecom", "企微": "wecom"}
NOTIFY_SECTIONS = ("overdue", "due_today", "new_issues", "blocked", "moved")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAYS_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
CHAT_KEYS = ("mobile", "dingtalk", "feishu", "wecom")
ENV_RE = lazy_regex(r"^[A-Z_][A-Z0-9_]*$")
CHAT_ID_RE = lazy_regex(r"^[A-Za-z0-9_.@+-]{1,64}$")
MOBILE_RE = lazy_regex(r"^\+?[0-9][0-9-]{5,19}$")
TIME_RE = lazy_regex(r"^([01]?[0-9]|2[0-3]):([0-5][0-9])$")


# The classes below are plain records (`core.records`), equal when their fields are, as the
# dataclasses they were: every command reads the config, and making 8 dataclasses at import
# cost each command ~5 ms.


class Person(ValueRecord):
    """One person of the roster (`people:`): the key cards name them by, their name, the
    emails their commits carry, their roles, and ids for @-mentions in group chats
    (`chat`: mobile, dingtalk, feishu, wecom)."""

    FIELDS = ("key", "name", "emails", "roles", "chat")

    def __init__(self, key: str, name: str, emails: list[str] | None = None, roles: list[str] | None = None,
                 chat: dict[str, str] | None = None):
        self.key, self.name = key, name
        self.emails = [] if emails is None else emails
        self.roles = [] if roles is None else roles
        self.chat = {} if chat is None else chat


class FieldDef(ValueRecord):
    """One field of a card type (`fields:`): its key, kind, label, and what it may hold
    (`options`: an enum's; `to`: a link's target card type)."""

    FIELDS = ("key", "type", "label", "required", "options", "to", "help")

    def __init__(self, key: str, type: str, label: str, required: bool = False, options: list[str] | None = None,
                 to: str = "", help: str = ""):
        self.key, self.type, self.label, self.required = key, type, label, required
        self.options = [] if options is None else options
        self.to, self.help = to, help

    @cached_property
    def item(self) -> "FieldDef":
        """The field one element of a list field is (people → person, links → link …)."""
        kind = {"people": "person", "platforms": "platform", "links": "link", "tags": "text"}.get(self.type, self.type)
        return FieldDef(self.key, kind, self.label, options=self.options, to=self.to)


class StateDef(ValueRecord):
    """One state of a card type (`states:`), which is its folder: label, WIP limit, and the
    rules a card must meet to enter it: fields that must be set (`requires`), a complete
    checklist, the roles allowed to move a card in; `done`: work in it is finished."""

    FIELDS = ("key", "label", "wip", "requires", "checklist", "roles", "done")

    def __init__(self, key: str, label: str, wip: int | None = None, requires: list[str] | None = None,
                 checklist: bool = False, roles: list[str] | None = None, done: bool = False):
        self.key, self.label, self.wip = key, label, wip
        self.requires = [] if requires is None else requires
        self.checklist = checklist
        self.roles = [] if roles is None else roles
        self.done = done


class DateRule(ValueRecord):
    """`due < live_start` in a type's `date_order`: one date field must come before another
    (`op`: "<" or "<=")."""

    FIELDS = ("left", "op", "right")

    def __init__(self, left: str, op: str, right: str):
        self.left, self.op, self.right = left, op, right

    def text(self) -> str:
        return f"{self.left} {self.op} {self.right}"


class CardType(ValueRecord):
    """One card type (`types:`): its states in order, fields, ID prefix and new-card template
    (the body a new card starts with, its checklist)."""

    FIELDS = ("key", "label", "prefix", "states", "fields", "transitions", "date_order", "milestones", "template")

    def __init__(self, key: str, label: str, prefix: str, states: list[StateDef], fields: dict[str, FieldDef],
                 transitions: dict[str, list[str]] | None = None, date_order: list[DateRule] | None = None,
                 milestones: list[str] | None = None, template: str = ""):
        self.key, self.label, self.prefix, self.states, self.fields = key, label, prefix, states, fields
        self.transitions = transitions
        self.date_order = [] if date_order is None else date_order
        self.milestones = [] if milestones is None else milestones
        self.template = template

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


class BoardConfig(ValueRecord):
    """The whole of mdboard.yaml as read and checked (`load_config`). `site_url`: the published
    site, for links from chat messages; `archive_days` (`archive: {days: N}`): `mdboard archive`
    files away cards finished N days ago."""

    FIELDS = ("title", "language", "timezone", "platforms", "people", "types", "commit", "raw", "site_url", "notify",
              "archive_days")
    archive_days = 30  # the default (`mdboard archive` without `archive: {days: N}`)

    def __init__(self, title: str, language: str, timezone: str, platforms: dict[str, str], people: dict[str, Person],
                 types: dict[str, CardType], commit: bool = True, raw: dict | None = None, site_url: str = "",
                 notify: "NotifyConfig | None" = None, archive_days: int | None = None):
        self.title, self.language, self.timezone = title, language, timezone
        self.platforms, self.people, self.types, self.commit = platforms, people, types, commit
        self.raw = {} if raw is None else raw
        self.site_url = site_url
        self.notify = NotifyConfig() if notify is None else notify
        self.archive_days = BoardConfig.archive_days if archive_days is None else archive_days

    def find_type(self, text: str) -> CardType:
        """A card type by key, label or ID prefix (case aside); UnknownName naming the nearest
        labels otherwise (`core.names` finds states, people and platforms the same way)."""
        low = str(text).strip().lower()
        for ctype in self.types.values():
            if low in (ctype.key.lower(), str(ctype.label).lower(), ctype.prefix.lower()):
                return ctype
        from mdboard.core.errors import UnknownName
        from mdboard.core.text import suggest_label

        raise UnknownName(t("ops.unknown_type", value=str(text).strip()),
                          suggest_label(text, {k: ctype.label for k, ctype in self.types.items()}))

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


class RobotConfig(ValueRecord):
    """One group chat's robot: its platform (dingtalk | feishu | wecom) and the environment
    variables holding its address and secret."""

    FIELDS = ("key", "platform", "webhook_env", "secret_env", "keyword", "sections")

    def __init__(self, key: str, platform: str, webhook_env: str, secret_env: str, keyword: str = "",
                 sections: tuple[str, ...] = NOTIFY_SECTIONS):
        self.key, self.platform, self.webhook_env, self.secret_env = key, platform, webhook_env, secret_env
        self.keyword, self.sections = keyword, sections

    def __hash__(self):  # all its fields are text and tuples, as when it was a frozen dataclass
        return hash(tuple(getattr(self, name) for name in self.FIELDS))


class NotifyConfig(ValueRecord):
    """`notify:` in mdboard.yaml: when the scheduled digest goes out, on which days (0 =
    Monday), and to which robots (name -> RobotConfig)."""

    FIELDS = ("time", "days", "robots")

    def __init__(self, time: str = "08:50", days: tuple[int, ...] = (0, 1, 2, 3, 4), robots: dict | None = None):
        self.time, self.days = time, days
        self.robots = {} if robots is None else robots


def load_config(root: Path, cache_dir: Path | None = None) -> BoardConfig:
    """Read `<root>/mdboard.yaml`; raise ConfigError listing every mistake.

    With `cache_dir`, a checked config is kept in a private cache keyed by the file's
    size and mtime, so a warm command does not even import the YAML parser. A file read in
    the tick it was written in is cached unstamped (`fsutil.settled`): an edit of the same
    size in that tick (a roster name) would keep both.
    """
    path = Path(root) / CONFIG_NAME
    if path.is_symlink():  # refused like a symlinked card: it may lead anywhere
        raise ConfigError(t("config.broken", path=CONFIG_NAME),
                          [Problem(CONFIG_NAME, "", t("config.symlink"), t("config.hint_symlink"))])
    if cache_dir is None:
        return _read_config(path)
    import time

    from mdboard.core import cache
    from mdboard.core.fsutil import settled

    read_ns = time.time_ns()
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
    cache.save(cache_file, "config", CONFIG_CACHE_VERSION, (stamp if settled(st.st_mtime_ns, read_ns) else None, cfg))
    return cfg


CONFIG_CACHE_VERSION = 6  # 3: notify, site_url, chat ids; 4: reserved field names; 5: values of the wrong kind are refused; 6: archive


def _read_config(path: Path) -> BoardConfig:
    from mdboard.core.cardfile import MAX_CONFIG_NODES, YamlTooBig, load_yaml

    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        from mdboard.core.mistakes import looks_gbk

        problem = Problem(CONFIG_NAME, "", t("mistakes.gbk")) if looks_gbk(raw) else \
            Problem(CONFIG_NAME, "", t("card.not_utf8", offset=exc.start), t("config.hint_utf8"))
        raise ConfigError(t("config.broken", path=CONFIG_NAME), [problem])
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


# --- what mdboard.yaml may hold, declared once -------------------------------------------------
# `parse_config` checks every value against these declarations, and `domain.schema` writes the JSON
# Schema that editors use from the same ones, so the two cannot disagree about a key's kind.

class Key:
    """One key of a section of mdboard.yaml: the kind of value it takes, and its default.

    kind: "text" (a string, or a number read as text), "name" (a string matching `pattern`;
    with `numbers`, also a whole number written without quotes, read as its digits, between
    `minimum` and `maximum`), "bool", "int" (at least `minimum`), "enum" (one of `choices`),
    "strings" (a string or a list of strings, each matching `pattern` or among `choices`), "map"
    (keys matching `names` -> values declared by `of`), "list" (of `of`, at least `min_items`),
    "section" (one nested section, `of`), "refused" (a key that must stay empty: `bad` says why).
    An empty value (`key:` with nothing after it) means the default. `bad`: the message (with
    {value}) for a value that is refused, and `hint` its hint (with {options}). `more`: the reader
    judges the value against more than this declaration (the rest of the file, the time zone
    database), which a schema cannot.

    A plain class, not a dataclass: every command imports this module, and making a
    dataclass compiles its methods (~1 ms for these two).
    """

    __slots__ = ("name", "kind", "default", "pattern", "choices", "minimum", "maximum", "numbers", "min_items",
                 "of", "names", "required", "bad", "hint", "describe", "more")

    def __init__(self, name: str, kind: str, default=None, *, pattern: str = "", choices: tuple = (),
                 minimum: int | None = None, maximum: int | None = None, numbers: bool = False, min_items: int = 0,
                 of: "Key | Section | None" = None, names: str = "", required: bool = False, bad: str = "",
                 hint: str = "", describe: str = "", more: bool = False):
        self.name, self.kind, self.default, self.pattern, self.choices = name, kind, default, pattern, choices
        self.minimum, self.maximum, self.numbers, self.min_items = minimum, maximum, numbers, min_items
        self.of, self.names, self.required, self.bad, self.hint = of, names, required, bad, hint
        self.describe, self.more = describe, more

    def __repr__(self) -> str:
        return f"Key({self.name!r}, {self.kind!r})"

    def fresh_default(self):
        """The default; for a list of strings a new list each time (declarations are shared)."""
        return list(self.default) if self.kind == "strings" else self.default


class Section:
    """A mapping of declared keys. `shorthand`: the key a plain string stands for
    (`- todo` in a list of states is `- key: todo`)."""

    __slots__ = ("name", "keys", "shorthand", "names")

    def __init__(self, name: str, keys: tuple[Key, ...], shorthand: str = ""):
        self.name, self.keys, self.shorthand = name, keys, shorthand
        self.names = [k.name for k in keys]

    def __repr__(self) -> str:
        return f"Section({self.name!r})"

    def key(self, name: str) -> Key:
        return next(k for k in self.keys if k.name == name)

    @property
    def required(self) -> bool:
        """Whether some key must be given (else an empty value is the section with its defaults)."""
        return any(k.required for k in self.keys)


DATE_RULE_RE = lazy_regex(r"^\s*(\w+)\s*(<=|<)\s*(\w+)\s*$")
SITE_URL_RE = lazy_regex(r"^(https?://[^\s/]+(/\S*)?)?$")  # whole: checked with fullmatch
WEEKDAY_NAMES = WEEKDAYS + tuple(day.capitalize() for day in WEEKDAYS) + WEEKDAYS_ZH


def _chat_id(name: str, describe: str) -> Key:
    """An id for @-mentions in group chats (digits may be written without quotes)."""
    return Key(name, "name", pattern=CHAT_ID_RE.pattern, numbers=True, bad="notify.bad_chat_id",
               hint="notify.hint_chat_id", describe=describe)


PERSON = Section("person", (
    Key("name", "text"),
    Key("email", "strings", ()),
    Key("roles", "strings", ()),
    Key("mobile", "name", pattern=MOBILE_RE.pattern, numbers=True, minimum=10 ** 5, maximum=10 ** 20 - 1,
        bad="notify.bad_mobile", hint="notify.hint_mobile", describe="notify.schema_mobile"),
    _chat_id("dingtalk", "notify.schema_dingtalk"),
    _chat_id("feishu", "notify.schema_feishu"),
    _chat_id("wecom", "notify.schema_wecom"),
), shorthand="name")

FIELD = Section("field", (
    Key("type", "enum", "text", choices=FIELD_TYPES, bad="config.bad_field_type", describe="spreadsheet.schema_field_type"),
    Key("label", "text"),
    Key("required", "bool", False),
    Key("options", "strings", (), more=True),  # an enum field needs some
    Key("to", "name", pattern=KEY_RE.pattern, bad="config.bad_link_type", hint="config.hint_key",
        describe="spreadsheet.schema_field_to", more=True),  # an existing type
    Key("help", "text"),
), shorthand="type")

STATE = Section("state", (
    Key("key", "name", pattern=STATE_RE.pattern, required=True, bad="config.bad_state_key",
        hint="config.hint_state_key", more=True),  # not twice
    Key("label", "text"),
    Key("wip", "int", minimum=1, bad="config.bad_wip", hint="config.hint_wip"),
    Key("requires", "strings", (), more=True),  # fields of the type
    Key("checklist", "bool", False),
    Key("roles", "strings", ()),
    Key("done", "bool", False),
), shorthand="key")

CARD_TYPE = Section("type", (
    Key("label", "text"),
    Key("prefix", "name", pattern=PREFIX_RE.pattern, bad="config.bad_prefix", hint="config.hint_prefix_form",
        describe="spreadsheet.schema_prefix", more=True),  # one per type; the default is the key in capitals
    Key("states", "list", of=STATE, min_items=1, required=True, bad="config.want_states", hint="config.hint_states",
        describe="spreadsheet.schema_states"),
    Key("transitions", "map", of=Key("", "strings", (), more=True), more=True),  # states of the type
    Key("fields", "map", of=FIELD, names=KEY_RE.pattern, describe="spreadsheet.schema_fields"),
    Key("date_order", "strings", (), pattern=DATE_RULE_RE.pattern, bad="config.bad_date_rule",
        hint="config.hint_date_rule", more=True),  # date fields of the type
    Key("milestones", "strings", (), more=True),  # date fields of the type
    Key("template", "text"),
))


def _env_name(name: str) -> Key:
    """The name of the environment variable (a CI secret) holding a robot's address or secret."""
    return Key(name, "name", pattern=ENV_RE.pattern, bad="notify.bad_env_name", hint="notify.hint_env_name")


def _literal_secret(name: str) -> Key:
    """A key where someone would write a webhook address or secret into the repository: refused."""
    return Key(name, "refused", bad="notify.literal_secret", hint="notify.hint_literal_secret")


ROBOT = Section("robot", (
    Key("platform", "enum", choices=tuple(PLATFORM_NAMES), required=True, bad="notify.bad_platform",
        hint="notify.hint_platform"),
    Key("keyword", "text"),
    Key("sections", "strings", NOTIFY_SECTIONS, choices=NOTIFY_SECTIONS, bad="notify.bad_section",
        hint="notify.hint_section"),
    _env_name("webhook_env"),
    _env_name("secret_env"),
    *(_literal_secret(name) for name in ("webhook", "secret", "url", "key", "token")),
))

NOTIFY = Section("notify", (
    Key("time", "name", "08:50", pattern=TIME_RE.pattern, bad="notify.bad_time", hint="notify.hint_time"),
    Key("days", "strings", WEEKDAYS[:5], choices=WEEKDAY_NAMES, bad="notify.bad_day", hint="notify.hint_day"),
    Key("robots", "map", of=ROBOT, names=KEY_RE.pattern, describe="notify.schema_robots"),
))

ARCHIVE = Section("archive", (
    Key("days", "int", BoardConfig.archive_days, minimum=0, bad="archive.bad_config_days",
        hint="archive.hint_config_days", describe="archive.schema_days"),
))

BOARD = Section("board", (
    Key("title", "text"),
    Key("language", "enum", "zh-CN", choices=LANGUAGES, bad="config.bad_language", hint="config.hint_language"),
    Key("timezone", "name", DEFAULT_TIMEZONE, bad="config.bad_timezone", hint="config.hint_timezone",
        describe="spreadsheet.schema_timezone", more=True),  # a zone that exists
    Key("platforms", "map", of=Key("", "text"), describe="spreadsheet.schema_platforms"),
    Key("people", "map", of=PERSON, names=KEY_RE.pattern, describe="spreadsheet.schema_people"),
    Key("types", "map", of=CARD_TYPE, names=KEY_RE.pattern, min_items=1, required=True, bad="config.no_types",
        hint="config.hint_types", describe="spreadsheet.schema_types"),
    Key("commit", "bool", True),
    Key("site_url", "name", "", pattern=SITE_URL_RE.pattern, bad="notify.bad_site_url", hint="notify.hint_site_url",
        describe="notify.schema_site_url"),
    Key("notify", "section", of=NOTIFY, describe="notify.schema_notify"),
    Key("archive", "section", of=ARCHIVE, describe="archive.schema_archive"),
))
PLATFORM_LABEL = BOARD.key("platforms").of


class _Reader:
    """Collects problems while reading a config mapping against its declarations."""

    def __init__(self):
        self.problems: list[Problem] = []

    def bad(self, where: str, message: str, hint: str = "") -> None:
        self.problems.append(Problem(CONFIG_NAME, where, message, hint))

    def reported(self, where: str) -> bool:
        """Whether a problem was already reported at `where` (one message per mistake)."""
        return any(p.field == where for p in self.problems)

    def refuse(self, where: str, key: Key, value) -> None:
        """A value that the key refuses, with the key's own message and hint."""
        options = ", ".join(map(str, key.choices))
        if key.hint:
            hint = t(key.hint, options=options) if options else t(key.hint)
        else:
            hint = t("config.hint_one_of", options=options) if options else ""
        self.bad(where, t(key.bad, value=value), hint)

    def section(self, data, where: str, section: Section) -> dict | None:
        """Each declared key's checked value (its default when absent, empty or wrong); None when
        `data` is not a mapping at all. Unknown keys are reported (a typo like `requried`)."""
        if section.shorthand and isinstance(data, str):
            data = {section.shorthand: data}
        if data is None:
            data = {}
        if not isinstance(data, dict):
            self.bad(where, t("config.want_mapping"), t("config.hint_mapping"))
            return None
        for name in data:
            if name not in section.names:
                from mdboard.core.text import suggest

                self.bad(f"{where}.{name}" if where else str(name), t("config.unknown_key"),
                         suggest(str(name), section.names))
        return {key.name: self.value(data.get(key.name), f"{where}.{key.name}" if where else key.name, key)
                for key in section.keys}

    def value(self, value, where: str, key: Key):
        """One value checked against its key's kind (maps and lists are checked by `entries`
        and `items`, and handed back as they are)."""
        if value is None:
            if key.required:
                self.refuse(where, key, "")
            return key.fresh_default()
        check = getattr(self, "_" + key.kind)
        return check(value, where, key)

    def _text(self, value, where: str, key: Key):
        if isinstance(value, str):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        self.bad(where, t("config.want_text"), t("config.hint_text"))
        return key.default

    def _name(self, value, where: str, key: Key):
        if key.numbers and isinstance(value, float) and value.is_integer():
            value = int(value)
        if key.numbers and isinstance(value, int) and not isinstance(value, bool):
            if (key.minimum is None or value >= key.minimum) and (key.maximum is None or value <= key.maximum):
                value = str(value)
        if isinstance(value, str) and (not key.pattern or re.fullmatch(key.pattern, value)):
            return value
        if key.bad:
            self.refuse(where, key, value)
        else:
            self.bad(where, t("config.want_text"), t("config.hint_text"))
        return key.default

    def _bool(self, value, where: str, key: Key):
        if isinstance(value, bool):
            return value
        self.bad(where, t("config.want_bool"), t("config.hint_bool", key=key.name))
        return key.default

    def _int(self, value, where: str, key: Key):
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # 5.0 is 5, as in JSON
        if isinstance(value, int) and not isinstance(value, bool) and (key.minimum is None or value >= key.minimum):
            return value
        self.refuse(where, key, value)
        return key.default

    def _enum(self, value, where: str, key: Key):
        if isinstance(value, str) and value in key.choices:
            return value
        self.refuse(where, key, value)
        return key.default

    def _strings(self, value, where: str, key: Key) -> list[str]:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(x, str) for x in items):
            self.bad(where, t("config.want_list"), t("config.hint_list"))
            return key.fresh_default()
        for i, item in enumerate(items):
            if (key.pattern and not re.fullmatch(key.pattern, item)) or (key.choices and item not in key.choices):
                self.refuse(f"{where}[{i}]", key, item)
        return [item for item in items if not key.choices or item in key.choices]

    def _refused(self, value, where: str, key: Key):
        self.refuse(where, key, value)
        return None

    def _section(self, value, where: str, key: Key):
        return self.section(value, where, key.of)

    def _map(self, value, where: str, key: Key):
        return value

    _list = _map

    def entries(self, data, where: str, key: Key) -> list[tuple[str, object, str]]:
        """(name, value, where) of a declared mapping whose names are well formed."""
        if data is None:
            return []  # absent: a required one was reported by `section`
        if not isinstance(data, dict):
            self.bad(where, t("config.want_mapping"), t("config.hint_mapping"))
            return []
        out = []
        for name, value in data.items():
            if key.names and not (isinstance(name, str) and re.fullmatch(key.names, name)):
                self.bad(f"{where}.{name}", t("config.bad_key", key=name), t("config.hint_key"))
                continue
            out.append((str(name), value, f"{where}.{name}"))
        if len(data) < key.min_items:
            self.refuse(where, key, "")
        return out

    def items(self, data, where: str, key: Key) -> list[tuple[object, str]]:
        """(value, where) of a declared list of at least `min_items`."""
        if data is None:
            return []  # absent: a required one was reported by `section`
        if not isinstance(data, list) or len(data) < key.min_items:
            self.refuse(where, key, "")
            return []
        return [(value, f"{where}[{i}]") for i, value in enumerate(data)]


def parse_config(data) -> BoardConfig:
    """Turn the loaded YAML into a BoardConfig, or raise ConfigError with every problem."""
    r = _Reader()
    top = r.section(data, "", BOARD)
    if top is None:
        raise ConfigError(t("config.broken", path=CONFIG_NAME), r.problems)
    language = top["language"]
    timezone = top["timezone"]
    if not _valid_timezone(timezone):
        r.refuse("timezone", BOARD.key("timezone"), timezone)
        timezone = BOARD.key("timezone").default
    platforms = {name: r.value(label, where, PLATFORM_LABEL) or name
                 for name, label, where in r.entries(top["platforms"], "platforms", BOARD.key("platforms"))}
    people = _people(r, top["people"])
    types = _types(r, top["types"])
    for ctype in types.values():  # the built-in title label speaks the board's language, not the caller's
        if ctype.fields["title"].label == t("fields.title"):
            ctype.fields["title"].label = t_in(language, "fields.title")
    notify = _notify(r, top["notify"] or r.section({}, "notify", NOTIFY))
    archive = top["archive"] or r.section({}, "archive", ARCHIVE)
    if r.problems:
        raise ConfigError(t("config.broken", path=CONFIG_NAME), r.problems)
    return BoardConfig(top["title"] or "mdboard", language, timezone, platforms, people, types, top["commit"], data,
                       top["site_url"], notify, archive["days"])


def _valid_timezone(name: str) -> bool:
    from zoneinfo import ZoneInfo

    try:
        ZoneInfo(name)
        return True
    except Exception:
        return False


def _people(r: _Reader, data) -> dict[str, Person]:
    people = {}
    for key, spec, where in r.entries(data, "people", BOARD.key("people")):
        values = r.section(spec, where, PERSON)
        if values is not None:
            chat = {name: values[name] for name in CHAT_KEYS if values[name]}
            people[key] = Person(key, values["name"] or key, values["email"], values["roles"], chat)
    return people


def _types(r: _Reader, data) -> dict[str, CardType]:
    types = {}
    for key, spec, where in r.entries(data, "types", BOARD.key("types")):
        values = r.section(spec, where, CARD_TYPE)
        ctype = _card_type(r, key, values, where) if values is not None else None
        if ctype:
            types[key] = ctype
    prefixes: dict[str, str] = {}
    for ctype in types.values():
        if ctype.prefix in prefixes:
            r.bad(f"types.{ctype.key}.prefix", t("config.dup_prefix", prefix=ctype.prefix, other=prefixes[ctype.prefix]),
                  t("config.hint_prefix"))
        prefixes[ctype.prefix] = ctype.key
        for f in ctype.fields.values():
            where = f"types.{ctype.key}.fields.{f.key}.to"
            if f.type in ("link", "links") and f.to not in types and not r.reported(where):
                r.bad(where, t("config.bad_link_type", value=f.to), t("config.hint_one_of", options=", ".join(types)))
    return types


def _card_type(r: _Reader, key: str, spec: dict, where: str) -> CardType | None:
    prefix = spec["prefix"] or key.upper()
    if not PREFIX_RE().fullmatch(prefix) and not r.reported(f"{where}.prefix"):  # the default: the key in capitals
        r.refuse(f"{where}.prefix", CARD_TYPE.key("prefix"), prefix)
    fields = _fields(r, spec["fields"], f"{where}.fields")
    states = _states(r, spec["states"], f"{where}.states", fields)
    if not states:
        return None
    transitions = _transitions(r, spec["transitions"], f"{where}.transitions", [s.key for s in states])
    rules = []
    for i, rule in enumerate(spec["date_order"]):
        parsed = _date_rule(rule)
        if parsed is None:
            continue  # its form was refused already
        if any(k not in fields or fields[k].type not in DATE_TYPES for k in (parsed.left, parsed.right)):
            r.refuse(f"{where}.date_order[{i}]", CARD_TYPE.key("date_order"), rule)
        else:
            rules.append(parsed)
    for m in spec["milestones"]:
        if m not in fields or fields[m].type not in DATE_TYPES:
            r.bad(f"{where}.milestones", t("config.bad_milestone", value=m), t("config.hint_milestone"))
    return CardType(key, spec["label"] or key, prefix, states, fields, transitions, rules, spec["milestones"],
                    spec["template"] or "")


def _transitions(r: _Reader, data, where: str, state_keys: list[str]) -> dict[str, list[str]] | None:
    """The allowed moves, each state named in them checked (None: any move is allowed)."""
    if data is None:
        return None
    declared = CARD_TYPE.key("transitions")
    transitions = {}
    for src, targets, twhere in r.entries(data, where, declared):
        targets = r.value(targets, twhere, declared.of)
        for name in [src] + targets:
            if name not in state_keys:
                r.bad(twhere, t("config.unknown_state", value=name),
                      t("config.hint_one_of", options=", ".join(state_keys)))
        transitions[src] = targets
    return transitions


def _date_rule(text: str) -> DateRule | None:
    m = DATE_RULE_RE().match(text)
    return DateRule(m.group(1), m.group(2), m.group(3)) if m else None


def _fields(r: _Reader, data, where: str) -> dict[str, FieldDef]:
    fields = {"title": FieldDef("title", "text", t("fields.title"), required=True)}
    for key, spec, fwhere in r.entries(data, where, CARD_TYPE.key("fields")):
        if key in RESERVED_FIELDS:
            r.bad(fwhere, t("config.reserved_field", key=key), t("config.hint_reserved", example=RESERVED_FIELDS[key]))
            continue
        values = r.section(spec, fwhere, FIELD)
        if values is None or r.reported(f"{fwhere}.type"):
            continue  # a field of no known type is left out, so nothing else trips on it
        if values["type"] == "enum" and not values["options"]:
            r.bad(f"{fwhere}.options", t("config.enum_needs_options"), "options: [A, B]")
        fields[key] = FieldDef(key, values["type"], values["label"] or key, values["required"], values["options"],
                               values["to"] or "", values["help"] or "")
    return fields


def _states(r: _Reader, data, where: str, fields) -> list[StateDef]:
    states, seen = [], set()
    for spec, swhere in r.items(data, where, CARD_TYPE.key("states")):
        values = r.section(spec, swhere, STATE)
        if values is None or values["key"] is None:
            continue
        key = values["key"]
        if key in seen:
            r.bad(f"{swhere}.key", t("config.dup_state", value=key), "")
        seen.add(key)
        for name in values["requires"]:
            if name not in fields:
                r.bad(f"{swhere}.requires", t("config.unknown_field", value=name),
                      t("config.hint_one_of", options=", ".join(fields)))
        states.append(StateDef(key, values["label"] or key, values["wip"], values["requires"], values["checklist"],
                               values["roles"], values["done"]))
    return states


def _notify(r: _Reader, values: dict) -> NotifyConfig:
    """`notify:` as checked against NOTIFY: the time as HH:MM, the days as numbers (0 = Monday),
    each robot with the names of the variables holding its address and secret."""
    clock = TIME_RE().fullmatch(values["time"])
    days = sorted({WEEKDAYS.index(day.lower()) if day.lower() in WEEKDAYS else WEEKDAYS_ZH.index(day)
                   for day in values["days"]})
    robots = {}
    for key, spec, where in r.entries(values["robots"], "notify.robots", NOTIFY.key("robots")):
        robot = r.section(spec, where, ROBOT)
        if robot is None or robot["platform"] is None:
            continue
        robots[key] = RobotConfig(key, PLATFORM_NAMES[robot["platform"]],
                                  robot["webhook_env"] or f"MDBOARD_ROBOT_{key.upper()}_WEBHOOK",
                                  robot["secret_env"] or f"MDBOARD_ROBOT_{key.upper()}_SECRET",
                                  (robot["keyword"] or "").strip(), tuple(robot["sections"]))
    return NotifyConfig(f"{int(clock.group(1)):02d}:{clock.group(2)}", tuple(days), robots)
