"""Field values: turning what a user typed into a card value, and judging stored values.

One place knows each field type (text, number, money, bool, date, datetime, person,
people, platform(s), enum, link(s), tags): `parse_input` for the CLI and imports,
`check_value` for validation. Both speak in (message, hint) the user can act on.
"""

from __future__ import annotations

import math
import re

from mdboard.core import dates
from mdboard.core.config import BoardConfig, FieldDef
from mdboard.core.errors import UnknownName
from mdboard.core.i18n import t
from mdboard.core.text import ID_RE, has_control_chars, has_invisible_chars, printable, suggest, suggest_label

LIST_TYPES = ("people", "platforms", "links", "tags")
_TRUE = {"true", "yes", "y", "1", "on", "是", "对", "已", "√", "✓"}
_FALSE = {"false", "no", "n", "0", "off", "否", "不", "未", "×", "✗"}


class BadValue(ValueError):
    """A value that does not fit its field; carries a message and a hint."""

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.message = message
        self.hint = hint


def _split(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"[,，、;；]", text) if p.strip()]


def parse_input(fd: FieldDef, text: str, cfg: BoardConfig):
    """Turn typed text into the value stored in the card; raise BadValue.

    Empty text means "clear the field" and gives None.
    """
    text = str(text).strip()
    if text == "":
        return None
    kind = fd.type
    if kind in LIST_TYPES:
        if kind == "tags":
            return _split(text)
        return [parse_input(fd.item, part, cfg) for part in _split(text)]
    if kind == "person":
        from mdboard.core import names

        try:
            return names.person(cfg, text).key
        except UnknownName as exc:  # as a field's value: a reason not to write the card
            raise BadValue(exc.what, exc.hint)
    if kind == "platform":
        from mdboard.core import names

        try:
            return names.platform(cfg, text)
        except UnknownName as exc:
            raise BadValue(exc.what, exc.hint)
    if kind in ("number", "money"):
        cleaned = text.replace(",", "").lstrip("¥￥$").strip()
        try:
            number = float(cleaned)
        except ValueError:
            raise BadValue(t("fields.not_number", value=text), t("fields.hint_number"))
        if not math.isfinite(number):  # nan, inf, 1e400: YAML would store .nan / .inf
            raise BadValue(t("fields.not_finite", value=text), t("fields.hint_number"))
        return int(number) if number.is_integer() and "." not in cleaned else number
    if kind == "bool":
        low = text.lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise BadValue(t("fields.not_bool", value=text), t("fields.hint_bool"))
    if kind in ("date", "datetime"):
        value = _typed_date(fd, text, cfg)
    elif kind == "link":
        value = text.upper()
    else:
        value = text
    problem = check_value(fd, value, cfg)
    if problem:
        raise BadValue(*problem)
    return value


def _typed_date(fd: FieldDef, text: str, cfg: BoardConfig) -> str:
    """A typed date or datetime (`12月1日`, `明天 18:00`, `+3` ...) as the card stores it, read
    by the one date parser; BadValue naming the forms people may type when it is none."""
    if fd.type == "datetime" and dates.parse_datetime(text, cfg.timezone):  # ISO, maybe with its offset
        return text.replace("T", " ") if "+" not in text else text
    understood = dates.understand(text, cfg.timezone)
    if understood is not None and (fd.type == "datetime" or understood.time in (None, (0, 0, 0))):
        return understood.iso() if fd.type == "datetime" else understood.day.isoformat()
    problem = check_value(fd, text, cfg)
    if problem is None:
        return text
    if dates.out_of_range(text, cfg.timezone):  # a real day, but not one mdboard plans by: its own hint
        raise BadValue(*problem)
    raise BadValue(problem[0], t("fields.hint_typed_datetime" if fd.type == "datetime" else "fields.hint_typed_date"))


def check_value(fd: FieldDef, value, cfg: BoardConfig, card_ids: dict | None = None):
    """(message, hint) when a stored value does not fit its field, else None.

    `card_ids` maps card ID -> type key; when given, links are checked against it.
    """
    kind = fd.type
    if kind in LIST_TYPES:
        if not isinstance(value, list):
            return t("fields.want_list"), t("fields.hint_list", key=fd.key)
        item = fd.item
        for v in value:
            problem = check_value(item, v, cfg, card_ids)
            if problem:
                return problem
        return None
    if isinstance(value, (list, dict)):
        return t("fields.want_single"), t("fields.hint_single", key=fd.key)
    if kind == "text":
        if isinstance(value, str) and has_control_chars(value):
            return t("text.control_chars"), t("text.hint_control_chars")
        if isinstance(value, str) and has_invisible_chars(value):
            return t("text.invisible_chars"), t("text.hint_control_chars")
        return None if isinstance(value, (str, int, float)) and not isinstance(value, bool) else (
            t("fields.want_text"), t("fields.hint_quote"))
    if kind in ("number", "money"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return t("fields.not_number", value=value), t("fields.hint_number")
        if not math.isfinite(value):
            return t("fields.not_finite", value=value), t("fields.hint_number")
        if kind == "money" and value < 0:
            return t("fields.negative_money", value=value), t("fields.hint_number")
        return None
    if kind == "bool":
        return None if isinstance(value, bool) else (t("fields.not_bool", value=value), t("fields.hint_bool"))
    if kind == "date":
        if dates.parse_date(value):
            return None
        return _out_of_range(value) if dates.out_of_range(value, cfg.timezone) else _bad_date(value)
    if kind == "datetime":
        if dates.parse_datetime(value, cfg.timezone) or dates.parse_date(value):
            return None
        return _out_of_range(value) if dates.out_of_range(value, cfg.timezone) else _bad_datetime(value)
    if kind == "person":
        if value in cfg.people:
            return None
        person = cfg.find_person(value)
        if person is not None:  # a name or email where the key belongs
            return t("fields.person_by_key", value=value), t("fields.hint_write_key", key=person.key)
        return t("fields.unknown_person", value=value), suggest(
            value, list(cfg.people) + [p.name for p in cfg.people.values()])
    if kind == "platform":
        if value in cfg.platforms:
            return None
        key = cfg.find_platform(value)
        if key is not None:
            return t("fields.platform_by_key", value=value), t("fields.hint_write_key", key=key)
        return t("fields.unknown_platform", value=value), suggest(value, cfg.platforms)
    if kind == "enum":
        if str(value) in fd.options:
            return None
        return t("fields.not_option", value=value), suggest_label(value, {option: option for option in fd.options})
    if kind == "link":
        return _check_link(fd, value, cfg, card_ids)
    return None


def _check_link(fd: FieldDef, value, cfg: BoardConfig, card_ids):
    target = cfg.types.get(fd.to)
    m = ID_RE.match(str(value))
    if not m or (target and m.group(1) != target.prefix):
        prefix = target.prefix if target else "ID"
        return t("fields.bad_link", value=value, type=target.label if target else fd.to), t(
            "fields.hint_link", example=f"{prefix}-0001")
    if card_ids is not None and str(value) not in card_ids:
        return t("fields.broken_link", value=value), t("fields.hint_broken_link")
    return None


def _bad_date(value):
    text = str(value)
    m = re.match(r"^\s*(\d{4})\D(\d{1,2})\D(\d{1,2})\D?\s*$", text)
    if m:
        y, mo, d = (int(x) for x in m.groups())
        if dates.parse_date(f"{y:04d}-{mo:02d}-{d:02d}"):
            return t("fields.date_format", value=text), t("fields.hint_date_as", value=f"{y:04d}-{mo:02d}-{d:02d}")
        return t("fields.no_such_date", value=text), t("fields.hint_date")
    return t("fields.not_date", value=text), t("fields.hint_date")


def _out_of_range(value):
    return (t("fields.date_out_of_range", value=value, min=dates.MIN_YEAR, max=dates.MAX_YEAR),
            t("fields.hint_date"))


def _bad_datetime(value):
    return t("fields.not_datetime", value=value), t("fields.hint_datetime")


def display(fd: FieldDef, value, cfg: BoardConfig) -> str:
    """A value as people read it: names for people, labels for platforms."""
    if value is None or value == "" or value == []:
        return ""
    if isinstance(value, dict):  # a hand-written mapping where a value belongs: show it as it is
        return printable(str(value))
    if isinstance(value, list):
        sep = "、" if cfg.language == "zh-CN" else ", "
        return sep.join(display(fd.item, v, cfg) for v in value)
    if fd.type == "person":
        return cfg.person_name(value)
    if fd.type == "platform":
        return cfg.platforms.get(value, str(value))
    if fd.type == "bool":
        return t("fields.yes") if value else t("fields.no")
    if fd.type == "money" and isinstance(value, (int, float)) and math.isfinite(value):
        return f"¥{value:,.2f}" if isinstance(value, float) else f"¥{value:,}"
    return printable(str(value))
