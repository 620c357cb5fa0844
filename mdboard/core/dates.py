"""Dates and times as cards store them: ISO text, read in the board's timezone.

`MDBOARD_NOW` (ISO date or datetime) fixes "now" for tests, demos and benchmarks.

A date outside MIN_YEAR..MAX_YEAR is not a date here: `9999-12-31` or `0001-01-01 00:00`
are real calendar days, but a day added or a timezone applied to them overflows Python's
datetime, and no shop plans by them. Every reading of a stored date goes through
`parse_date` / `parse_datetime`, so one range check keeps all date math safe; `check`
and `set` say why such a value is refused (`out_of_range`).
"""

from __future__ import annotations

import os
import re
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from mdboard.core.typed_dates import Understood

_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_DATETIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?(Z|[+-]\d{2}:?\d{2})?$")
MIN_YEAR, MAX_YEAR = 1900, 2199  # far inside what date arithmetic and timezones can handle


@lru_cache(maxsize=None)
def zone(tz: str) -> ZoneInfo:
    from zoneinfo import ZoneInfo  # imported when a time zone is first needed (~1.5 ms)

    return ZoneInfo(tz)


@lru_cache(maxsize=8)
def _fixed_now(text: str, tz: str) -> datetime | None:
    """MDBOARD_NOW parsed once (it is read for every card on a listing)."""
    value = parse_datetime(text, tz) if ":" in text else None
    if value is None:
        day = parse_date(text)
        if day is not None:
            value = datetime(day.year, day.month, day.day, 9, 0, tzinfo=zone(tz))
    return value.astimezone(zone(tz)) if value is not None else None


def now(tz: str) -> datetime:
    fixed = os.environ.get("MDBOARD_NOW")
    value = _fixed_now(fixed, tz) if fixed else None
    return value if value is not None else datetime.now(zone(tz))


def today(tz: str) -> date:
    return now(tz).date()


def in_range(day: date) -> bool:
    """Whether a day lies in the years mdboard plans by (MIN_YEAR..MAX_YEAR)."""
    return MIN_YEAR <= day.year <= MAX_YEAR


def parse_date(value) -> date | None:
    """A real ISO date (`2026-12-01`) within MIN_YEAR..MAX_YEAR, or None.

    Only text (or a date object) can be a date: a number, list or mapping is None.
    """
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value if in_range(value) else None
    if not isinstance(value, str):
        return None
    day = _parse_date_text(value)
    return day if day is not None and in_range(day) else None


@lru_cache(maxsize=4096)
def _parse_date_text(text: str) -> date | None:
    """The calendar day an ISO date text names, whatever its year (None: no such day)."""
    m = _DATE.fullmatch(text.strip())
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def parse_datetime(value, tz: str) -> datetime | None:
    """`2026-12-01 18:00` / `2026-12-01T18:00:00+08:00`, aware in the board's timezone;
    None unless it is text naming a real moment within MIN_YEAR..MAX_YEAR."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=zone(tz))
    elif isinstance(value, str):
        moment = _parse_datetime_text(value, tz)
    else:
        return None
    return moment if moment is not None and in_range(moment.date()) else None


def _parse_datetime_text(text: str, tz: str) -> datetime | None:
    """The moment an ISO datetime text names, whatever its year (None: not a real moment)."""
    text = text.strip()
    m = _DATETIME.fullmatch(text)
    if not m:
        return None
    y, mo, d, h, mi, s, off = m.groups()
    try:
        naive = datetime(int(y), int(mo), int(d), int(h), int(mi), int(s or 0))
        if not off:
            return naive.replace(tzinfo=zone(tz))
        return datetime.fromisoformat(text.replace(" ", "T").replace("Z", "+00:00"))
    except ValueError:
        return None


def out_of_range(value, tz: str) -> bool:
    """Whether text names a real date or moment that lies outside MIN_YEAR..MAX_YEAR (so
    `check` and `set` can say so, rather than "not a date")."""
    if not isinstance(value, str):
        return False
    moment = _parse_date_text(value) or _parse_datetime_text(value, tz)
    if isinstance(moment, datetime):
        moment = moment.date()
    return moment is not None and not in_range(moment)


def when(value, tz: str) -> datetime | None:
    """A date or datetime value as an aware datetime (a date means the end of that day)."""
    if isinstance(value, str):
        return _when_text(value, tz)
    return _when(value, tz)


@lru_cache(maxsize=4096)
def _when_text(value: str, tz: str) -> datetime | None:
    return _when(value, tz)


def _when(value, tz: str) -> datetime | None:
    day = parse_date(value)
    if day is not None:
        return datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=zone(tz))
    return parse_datetime(value, tz)


def days_left(value, tz: str) -> int | None:
    """Whole days from today to the value's day: 0 today, negative when overdue."""
    moment = when(value, tz)
    if moment is None:
        return None
    return (moment.astimezone(zone(tz)).date() - today(tz)).days


def is_overdue(value, tz: str) -> bool:
    moment = when(value, tz)
    return moment is not None and moment < now(tz)


# --- what people type -------------------------------------------------------------------

def understand(text: str, tz: str, *, sheet: bool = False) -> Understood | None:
    """The day (and time) a person typed in `text` (`12月1日`, `下周一 18:00`, `+3` ...), days
    counted from today in `tz`; None when it names no day, or one beyond the years mdboard
    plans by. The one parser for every typed date is `core.typed_dates` (imported when first
    asked: most commands read only stored ISO dates)."""
    from mdboard.core.typed_dates import understand as understand_typed

    understood = understand_typed(text, today(tz), sheet=sheet)
    return understood if understood is not None and in_range(understood.day) else None


def weekday_name(day: date) -> str:
    """周二 / Tue: the day of the week in the interface's language."""
    from mdboard.core.i18n import t

    return t(f"dates.weekday_{day.weekday()}")


def said_back(understood: Understood) -> str:
    """`2026-12-01（周二）` / `2026-12-01 18:00 (Tue)`: what a person typed, as understood."""
    from mdboard.core.errors import parenthesized

    return parenthesized(understood.iso(), weekday_name(understood.day))


def week_end(tz: str) -> date:
    """The last day of this week (Sunday)."""
    day = today(tz)
    return day + timedelta(days=6 - day.weekday())
