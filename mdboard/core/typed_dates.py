"""What people type for a date: `12月1日`, `下周一`, `明天`, `+3`, `friday 18:00`, `12/1/2026`.

One parser for every date a person types: CLI options, `set`, imports and the web
board's forms all call `dates.understand`, which imports this module when first asked
(most commands read only the ISO dates cards store, and this parser's patterns and
records cost every command ~2 ms to make) and keeps to the years mdboard plans by. So
`12月1日` or `下周一` means the same day wherever it is written, and each place can say
which day it understood. Relative days count from the `base` day it is given (today in
the board's time zone).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

_WEEKDAY_ZH = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_WEEKDAY_EN = {name: i for i, names in enumerate((("monday", "mon"), ("tuesday", "tue", "tues"),
                                                  ("wednesday", "wed"), ("thursday", "thu", "thur", "thurs"),
                                                  ("friday", "fri"), ("saturday", "sat"), ("sunday", "sun")))
               for name in names}
_DAY_WORDS = {"today": 0, "今天": 0, "今日": 0, "tomorrow": 1, "明天": 1, "明日": 1, "后天": 2, "大后天": 3,
              "yesterday": -1, "昨天": -1, "昨日": -1, "前天": -2}
_TYPED_YMD = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?")
_TYPED_MD = re.compile(r"(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?")
_TYPED_OFFSET = re.compile(r"([+-])\s*(\d{1,4})\s*(d|days?|w|weeks?|天|日|周|星期)?")
_TYPED_LATER = re.compile(r"(\d{1,4})\s*(天|周|个?星期)\s*(后|以后|之后|前|以前|之前)")
_TYPED_WEEKDAY_ZH = re.compile(r"(本|这|下|下个|上|上个)?\s*(周|星期|礼拜)([一二三四五六日天])")
_TYPED_WEEKDAY_EN = re.compile(r"(next|this|last)?\s*([a-z]+)")
_TYPED_TIME = re.compile(r"(.*?)[\sT]*(?:(\d{1,2})[:：](\d{2})(?:[:：](\d{2}))?|(\d{1,2})\s*点\s*(?:(\d{1,2})\s*分?|(半))?)$")
_SHEET_MDY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_SHEET_SERIAL = re.compile(r"(\d{5})(?:\.(\d+))?")
EXCEL_EPOCH = date(1899, 12, 30)  # day 0 of Excel's serial dates (with its 1900 leap-year bug)
SERIAL_RANGE = (20000, 80000)  # serial numbers taken as dates: 1954 .. 2119


@dataclass(frozen=True)
class Understood:
    """A date (and maybe a time of day) a person typed, as mdboard understood it."""

    day: date
    time: tuple[int, int, int] | None = None  # (hour, minute, second)
    typed: str = ""

    def iso(self) -> str:
        """The value as cards store it: `2026-12-01`, or `2026-12-01 18:00` with a time."""
        if self.time is None:
            return self.day.isoformat()
        hour, minute, second = self.time
        return f"{self.day.isoformat()} {hour:02d}:{minute:02d}" + (f":{second:02d}" if second else "")

    def as_typed(self) -> bool:
        """Whether the person typed exactly the stored form (nothing worth saying back)."""
        return self.typed.strip() == self.iso()


def understand(text: str, base: date, *, sheet: bool = False) -> Understood | None:
    """The day (and time) `text` names, counted from `base` (today), or None. Takes
    `2026-12-01`, `2026/12/1`, `2026年12月1日`, `12月1日` (the nearest such day), `今天` `明天` `后天` `昨天`,
    `today` `tomorrow`, `+3` `+2w` `-1`, `3天后`, `周五` (the next Friday, today included),
    `本周五` `下周一` `上周一`, `friday` `next monday`, each optionally followed by a time
    (`18:00`, `18:00:30`, `18点`, `6点半`). `sheet` adds what spreadsheets write: `12/1/2026`
    (month first, as Excel does in English) and Excel's day numbers (46357)."""
    import unicodedata

    raw = unicodedata.normalize("NFKC", str(text)).strip()
    if not raw:
        return None
    body, clock = _split_time(raw)
    if clock is False:
        return None
    day = _typed_day(body.lower().strip(), base, sheet)
    if isinstance(day, tuple):  # an Excel day number carries its own time
        day, clock = day[0], clock or day[1]
    return Understood(day, clock or None, str(text)) if day is not None else None


def _split_time(text: str):
    """(the date part, (hour, minute, second) or None), or (text, False) when the time is impossible."""
    m = _TYPED_TIME.fullmatch(text)
    if not m or not m.group(1).strip():
        return text, None
    hour = int(m.group(2) or m.group(5))
    minute = int(m.group(3) or m.group(6) or (30 if m.group(7) else 0))
    second = int(m.group(4) or 0)
    if hour > 23 or minute > 59 or second > 59:
        return text, False
    return m.group(1), (hour, minute, second)


def _typed_day(low: str, base: date, sheet: bool):
    """The day a date text (no time) names, counted from `base`, or None."""
    if low in _DAY_WORDS:
        return base + timedelta(days=_DAY_WORDS[low])
    for pattern, make in ((_TYPED_YMD, _ymd), (_TYPED_MD, lambda m: _nearest(base, m)),
                          (_TYPED_OFFSET, lambda m: _offset(base, m)), (_TYPED_LATER, lambda m: _later(base, m)),
                          (_TYPED_WEEKDAY_ZH, lambda m: _weekday_zh(base, m)),
                          (_TYPED_WEEKDAY_EN, lambda m: _weekday_en(base, m))):
        m = pattern.fullmatch(low)
        if m:
            return make(m)
    if sheet:
        return _sheet_day(low)
    return None


def _real(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _ymd(m) -> date | None:
    return _real(int(m.group(1)), int(m.group(2)), int(m.group(3)))


def _nearest(base: date, m) -> date | None:
    """`12月1日`: of that day last year, this year and next year, the one nearest today."""
    days = [d for d in (_real(base.year + k, int(m.group(1)), int(m.group(2))) for k in (-1, 0, 1)) if d]
    return min(days, key=lambda d: (abs((d - base).days), d < base)) if days else None


def _offset(base: date, m) -> date:
    n = int(m.group(2)) * (7 if (m.group(3) or "d")[0] in "w周星" else 1)
    return base + timedelta(days=n if m.group(1) == "+" else -n)


def _later(base: date, m) -> date:
    n = int(m.group(1)) * (1 if m.group(2) == "天" else 7)
    return base + timedelta(days=n if m.group(3).endswith("后") else -n)


def _week_day(base: date, which: str | None, weekday: int) -> date:
    """`weekday` of this week (`this`), the next (`next`), the last (`last`), or the next one
    from today with today included (no word)."""
    monday = base - timedelta(days=base.weekday())
    if which == "this":
        return monday + timedelta(days=weekday)
    if which == "next":
        return monday + timedelta(days=7 + weekday)
    if which == "last":
        return monday + timedelta(days=weekday - 7)
    return base + timedelta(days=(weekday - base.weekday()) % 7)


def _weekday_zh(base: date, m) -> date:
    which = {"本": "this", "这": "this", "下": "next", "下个": "next", "上": "last", "上个": "last"}.get(m.group(1) or "")
    return _week_day(base, which, _WEEKDAY_ZH[m.group(3)])


def _weekday_en(base: date, m) -> date | None:
    if m.group(2) not in _WEEKDAY_EN:
        return None
    return _week_day(base, m.group(1), _WEEKDAY_EN[m.group(2)])


def _sheet_day(low: str):
    """A spreadsheet's `12/1/2026` (a day), or an Excel day number (a day and its time)."""
    m = _SHEET_MDY.fullmatch(low)
    if m:
        return _real(int(m.group(3)), int(m.group(1)), int(m.group(2)))
    m = _SHEET_SERIAL.fullmatch(low)
    if m and SERIAL_RANGE[0] <= int(m.group(1)) <= SERIAL_RANGE[1]:
        minutes = round(float("0." + (m.group(2) or "0")) * 1440)
        moment = datetime.combine(EXCEL_EPOCH, datetime.min.time()) + timedelta(days=int(m.group(1)), minutes=minutes)
        return moment.date(), ((moment.hour, moment.minute, 0) if minutes else None)
    return None
