"""The big-sale calendar (大促日历): platform sale dates, one file per year.

`sales/2027.yaml` lists that year's sales (年货节, 38节, 618, 99划算节, 双11, 双12 …),
each with its key dates: signup opens (`signup_start`), signup closes (`signup_end`),
goes live (`live_start`, the first day shoppers can buy, pre-sale included) and ends
(`live_end`), the platforms it runs on, and whether the team has confirmed the dates
(`confirmed`). `mdboard init` writes the coming year's file with dates estimated from
past years, marked unconfirmed; the team corrects them when a platform announces its
dates. The keys are language-neutral (`double11`); labels are for people.

`mdboard sales` lists what is coming with the days left until each signup closes,
the site's overview shows the next sales with countdowns, and `mdboard plan` takes a
sale's dates from here when none are given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from mdboard.core import dates as dates_mod
from mdboard.core.errors import Problem
from mdboard.core.i18n import t, t_in
from mdboard.domain.boardfiles import Reader, data_files, read_yaml

SALES_DIR = "sales"
KEY_DATES = ("signup_start", "signup_end", "live_start", "live_end")  # in the order they come
SALE_KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_\-]*$")
_YEAR_FILE = re.compile(r"^sales/(\d{4})\.ya?ml$")

# How the sales usually fall, to estimate a coming year: platforms, the day the sale
# centres on (month, day) or "cny" (Chinese New Year), and each key date as days from it.
ESTIMATES = {
    "cny": (("tmall", "jd", "douyin", "pdd"), "cny",
            {"signup_start": -75, "signup_end": -55, "live_start": -33, "live_end": -14}),
    "38": (("tmall", "jd", "douyin"), (3, 8),
           {"signup_start": -35, "signup_end": -21, "live_start": -7, "live_end": 0}),
    "618": (("tmall", "jd", "douyin", "pdd"), (6, 18),
            {"signup_start": -75, "signup_end": -50, "live_start": -36, "live_end": 2}),
    "99": (("tmall",), (9, 9),
           {"signup_start": -40, "signup_end": -25, "live_start": -4, "live_end": 0}),
    "double11": (("tmall", "jd", "douyin", "pdd"), (11, 11),
                 {"signup_start": -70, "signup_end": -50, "live_start": -28, "live_end": 0}),
    "double12": (("tmall", "pdd"), (12, 12),
                 {"signup_start": -37, "signup_end": -20, "live_start": -4, "live_end": 0}),
}
# Chinese New Year's day, which 年货节 is counted back from (no estimate outside these years).
NEW_YEAR = {2025: (1, 29), 2026: (2, 17), 2027: (2, 6), 2028: (1, 26), 2029: (2, 13), 2030: (2, 3),
            2031: (1, 23), 2032: (2, 11), 2033: (1, 31), 2034: (2, 19), 2035: (2, 8)}


@dataclass
class Sale:
    """One platform sale of one year, as the calendar file says."""

    key: str
    year: int
    label: str
    path: str
    dates: dict[str, date] = field(default_factory=dict)  # key date -> day, in KEY_DATES order
    platforms: list[str] = field(default_factory=list)
    confirmed: bool = False
    note: str = ""

    @property
    def first(self) -> date | None:
        return min(self.dates.values()) if self.dates else None

    @property
    def last(self) -> date | None:
        return max(self.dates.values()) if self.dates else None

    @property
    def name(self) -> str:
        """The label with the year: `双11 2027`."""
        return f"{self.label} {self.year}"


@dataclass
class Calendar:
    """Every sale of every year file, in date order, and what was wrong in the files."""

    sales: list[Sale]
    problems: list[Problem]

    def upcoming(self, today: date, days: int | None = None) -> list[Sale]:
        """Sales not over yet (ending today or later), soonest first; within `days` of today."""
        out = [s for s in self.sales if s.last is not None and s.last >= today]
        if days is not None:
            out = [s for s in out if s.first <= today + timedelta(days=days)]
        return out

    def of(self, key: str) -> list[Sale]:
        return [s for s in self.sales if s.key == key]


def date_label(key: str, lang: str | None = None) -> str:
    """A standard key date's label in the board's language (报名截止 / Signup closes)."""
    return t_in(lang, f"sales.date_{key}") if lang else t(f"sales.date_{key}")


def load_calendar(root: Path, platforms: dict[str, str] | None = None) -> Calendar:
    """Read every `sales/<year>.yaml`; a broken file or sale is left out and reported."""
    sales, problems = [], []
    for rel, path in data_files(root, SALES_DIR):
        data, found = read_yaml(path, rel)
        problems += found
        if data is not None:
            year_sales, found = _read_year(rel, data, platforms)
            sales += year_sales
            problems += found
    sales.sort(key=lambda s: (s.dates.get("live_start") or s.first or date.max, s.key))
    return Calendar(sales, problems)


def _read_year(rel: str, data, platforms: dict[str, str] | None) -> tuple[list[Sale], list[Problem]]:
    r = Reader(rel)
    m = _YEAR_FILE.match(rel)
    if not m:
        r.bad("", t("sales.bad_file_name"), t("sales.hint_file_name"))
        return [], r.problems
    year = int(m.group(1))
    data = r.mapping(data, "")
    r.known_keys(data, "", {"year", "sales"})
    if data.get("year") is not None and str(data.get("year")) != str(year):
        r.bad("year", t("sales.year_mismatch", value=data.get("year"), year=year), t("sales.hint_year", year=year))
    sales = []
    for key, spec in r.mapping(data.get("sales"), "sales").items():
        sale = _read_sale(r, str(key), year, spec, platforms)
        if sale is not None:
            sales.append(sale)
    return sales, r.problems


def _read_sale(r: Reader, key: str, year: int, spec, platforms: dict[str, str] | None) -> Sale | None:
    where = f"sales.{key}"
    if not SALE_KEY_RE.match(key):
        r.bad(where, t("sales.bad_key", key=key), t("sales.hint_key"))
        return None
    spec = r.mapping(spec, where)
    r.known_keys(spec, where, {"label", "platforms", "confirmed", "note", *KEY_DATES})
    sale = Sale(key, year, r.text(spec.get("label"), f"{where}.label", key) or key, r.path,
                note=r.text(spec.get("note"), f"{where}.note"))
    broken = len(r.problems)
    for name in KEY_DATES:
        value = spec.get(name)
        if value in (None, ""):
            continue
        day = dates_mod.parse_date(value)
        if day is None:
            r.bad(f"{where}.{name}", t("fields.not_date", value=value), t("fields.hint_date"))
        else:
            sale.dates[name] = day
    for a, b in zip(KEY_DATES, KEY_DATES[1:]):
        if a in sale.dates and b in sale.dates and sale.dates[a] > sale.dates[b]:
            r.bad(f"{where}.{b}", t("sales.out_of_order", a=date_label(a), av=sale.dates[a], b=date_label(b),
                                    bv=sale.dates[b]), t("sales.hint_order"))
    if "live_start" not in sale.dates:
        r.bad(f"{where}.live_start", t("sales.needs_live_start"), t("sales.hint_live_start"))
    sale.platforms = r.strings(spec.get("platforms"), f"{where}.platforms")
    for p in sale.platforms:
        if platforms is not None and p not in platforms:
            from mdboard.core.text import suggest

            r.bad(f"{where}.platforms", t("sales.unknown_platform", value=p), suggest(p, platforms), "warning")
    confirmed = spec.get("confirmed", False)
    if not isinstance(confirmed, bool):
        r.bad(f"{where}.confirmed", t("config.want_bool"), "confirmed: true")
        confirmed = False
    sale.confirmed = confirmed
    errors = [p for p in r.problems[broken:] if p.level == "error"]
    return None if errors else sale


# --- countdowns --------------------------------------------------------------------------

@dataclass
class Countdown:
    """Where a sale stands today: `phase` and days to the next date, as one phrase."""

    phase: str  # "signup" (signup still open or not open yet), "waiting" (signup closed), "live", "over"
    signup_days: int | None  # days until signup closes (negative: closed that long ago)
    live_days: int | None  # days until it goes live
    end_days: int | None  # days until it ends
    text: str


def countdown(sale: Sale, today: date, lang: str | None = None) -> Countdown:
    """Days left until signup closes, until it goes live, until it ends; one phrase for people."""
    say = (lambda key, **v: t_in(lang, key, **v)) if lang else t
    days = {k: (d - today).days for k, d in sale.dates.items()}
    signup, live, end = days.get("signup_end"), days.get("live_start"), days.get("live_end")
    if end is not None and end < 0 or end is None and live is not None and live < 0:
        return Countdown("over", signup, live, end, say("sales.over"))
    if live is not None and live <= 0:
        text = say("sales.ends_today") if end == 0 else say("sales.live_ends_in", n=end) if end is not None \
            else say("sales.live_now")
        return Countdown("live", signup, live, end, text)
    if signup is not None and signup >= 0:
        text = say("sales.signup_today") if signup == 0 else say("sales.signup_in", n=signup)
        return Countdown("signup", signup, live, end, text)
    text = say("sales.live_today") if live == 0 else say("sales.signup_closed_live_in", n=live)
    return Countdown("waiting", signup, live, end, text)


# --- the estimated calendar `mdboard init` writes ------------------------------------------

def estimate(key: str, year: int) -> dict[str, date] | None:
    """A sale's key dates in `year`, estimated from how it usually falls; None when unknown."""
    _, centre, offsets = ESTIMATES[key]
    if centre == "cny":
        if year not in NEW_YEAR:
            return None
        centre = NEW_YEAR[year]
    day = date(year, *centre)
    return {k: day + timedelta(days=offsets[k]) for k in KEY_DATES}


def calendar_text(year: int, lang: str, platforms: dict[str, str], today: date | None = None) -> str | None:
    """The YAML of `sales/<year>.yaml` with estimated dates, every sale unconfirmed; only
    the sales that end on or after `today`, only the board's platforms. None: no sale left."""
    from mdboard.core.cardfile import render_value

    lines = [f"# {line}" if line else "#" for line in t_in(lang, "sales.file_head", year=year).splitlines()]
    lines += [f"year: {year}", "sales:"]
    count = 0
    for key, (on, _, _) in ESTIMATES.items():
        days = estimate(key, year)
        if days is None or (today is not None and days["live_end"] < today):
            continue
        count += 1
        kept = [p for p in on if p in platforms]
        lines += [f"  {_yaml_key(key)}:", f"    label: {render_value(t_in(lang, 'sales.name_' + key))}",
                  f"    platforms: [{', '.join(kept)}]"]
        lines += [f"    {k}: {days[k].isoformat()}" for k in KEY_DATES]
        lines.append("    confirmed: false")
    return "\n".join(lines) + "\n" if count else None


def _yaml_key(key: str) -> str:
    """A sale key as a YAML mapping key: `618` quoted, so it stays text."""
    return f'"{key}"' if key.isdigit() else key


def coming_years(today: date) -> list[int]:
    """The calendar years `mdboard init` writes: this year (what is left of it) and the next."""
    return [today.year, today.year + 1]
