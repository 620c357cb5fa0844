"""The board's dates as an iCalendar feed (`calendar.ics`, `people/<key>.ics`, `export ics`).

Every dated field a team plans by becomes an event: `due` dates, a card type's
milestones, and `X_start`/`X_end` pairs (signup and live windows) as one range.
Dates are all-day events; datetimes are timed events in the board's timezone.

A calendar app refreshing the feed must update events, not add copies, and a site
rebuilt from an unchanged board must write the same bytes. So each event's UID is
`<card ID>-<field>@<board>.mdboard`, and its DTSTAMP comes from the event's own
date, never from the clock.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Callable
from zoneinfo import ZoneInfo

from . import dates
from .config import DATE_TYPES, CardType, FieldDef
from .errors import MdboardError
from .fields import BadValue, parse_input
from .i18n import t
from .store import Board, Card
from .views import people_of

PRODID = "-//mdboard//mdboard calendar//EN"


@dataclass(frozen=True)
class Span:
    """Which field(s) of a card type make one event: a single date or a start/end pair."""

    key: str  # the UID part: the field key, or the pair's common stem (`signup`)
    start: str
    end: str | None = None


@dataclass
class CalendarEvent:
    """One event before it is written: what, when, and where it came from."""

    uid: str
    summary: str
    start: date | datetime
    end: date | datetime | None  # None: an instant (a timed deadline)
    description: str
    category: str  # the card type's label
    card: Card
    span: Span


def board_calendar(board: Board, person: str | None = None,
                   card_url: Callable[[Card], str] | None = None) -> bytes:
    """The whole board's (or one person's) dated fields as iCalendar bytes.

    `person` (key, name or email) keeps the cards they own or help with.
    `card_url`, when given, links each event to the card's page.
    """
    from icalendar import Calendar

    cfg = board.config
    key = _person_key(board, person) if person else None
    events = board_events(board, key)
    cal = Calendar()
    name = cfg.title if key is None else t("spreadsheet.cal_person_name", title=cfg.title,
                                              name=cfg.person_name(key))
    for prop, value in (("prodid", PRODID), ("version", "2.0"), ("calscale", "GREGORIAN"),
                        ("method", "PUBLISH"), ("name", name), ("x-wr-calname", name),
                        ("x-wr-timezone", cfg.timezone), ("refresh-interval", timedelta(hours=1)),
                        ("x-published-ttl", "PT1H")):
        cal.add(prop, value)
    cal["refresh-interval"].params["VALUE"] = "DURATION"
    for event in events:
        cal.add_component(_vevent(event, card_url))
    if any(isinstance(e.start, datetime) for e in events):
        cal.add_missing_timezones()
    return cal.to_ical()


def _person_key(board: Board, text: str) -> str:
    """A roster key from a key, name or email; unknown people are an error with a suggestion."""
    try:
        return parse_input(FieldDef("person", "person", "person"), text, board.config)
    except BadValue as exc:
        raise MdboardError(f"{exc.message} ({exc.hint})")


def board_events(board: Board, person: str | None = None) -> list[CalendarEvent]:
    """Every event of the board (of `person`'s cards if given), sorted by start then UID."""
    cfg = board.config
    host = board_host(cfg.title)
    spans = {tk: calendar_spans(ct) for tk, ct in cfg.types.items()}
    out = []
    for card in board.cards():
        if card.error or card.type not in spans or (person and person not in people_of(card)):
            continue
        for span in spans[card.type]:
            event = _event(board, card, span, host)
            if event is not None:
                out.append(event)
    out.sort(key=lambda e: (_sort_moment(e.start, cfg.timezone), e.uid))
    return out


def calendar_spans(ctype: CardType) -> list[Span]:
    """The spans of a card type: `due`, milestones and `X_start`/`X_end` date pairs."""
    dated = [k for k, fd in ctype.fields.items() if fd.type in DATE_TYPES]
    wanted = [k for k in dated if k == "due" or k in ctype.milestones]
    spans, paired = [], set()
    for key in dated:
        stem = key[: -len("_start")] if key.endswith("_start") else None
        if stem and f"{stem}_end" in dated:
            spans.append(Span(stem, key, f"{stem}_end"))
            paired |= {key, f"{stem}_end"}
    spans += [Span(k, k) for k in wanted if k not in paired]
    order = {k: i for i, k in enumerate(ctype.fields)}
    return sorted(spans, key=lambda s: order[s.start])


def board_host(title: str) -> str:
    """The UID host part: `<title slug>.mdboard`, a short hash when the title has no Latin letters."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    if not slug:
        slug = hashlib.sha1(title.encode("utf-8")).hexdigest()[:10]
    return f"{slug}.mdboard"


def _event(board: Board, card: Card, span: Span, host: str) -> CalendarEvent | None:
    """The event of one span of a card, or None when its dates are missing or invalid."""
    cfg = board.config
    ctype = cfg.types[card.type]
    start_value = card.meta.get(span.start)
    end_value = card.meta.get(span.end) if span.end else None
    start = _moment(start_value, cfg.timezone)
    end = _moment(end_value, cfg.timezone)
    if span.end and start is not None and end is not None:
        label = t("spreadsheet.cal_range", start=ctype.fields[span.start].label, end=ctype.fields[span.end].label)
        start, end = _range(start, end, cfg.timezone)
        if end is None:
            return None
    else:
        field = span.start if start is not None else span.end
        moment = start if start is not None else end
        if moment is None:
            return None
        label = ctype.fields[field].label
        start, end = moment, (moment + timedelta(days=1) if not isinstance(moment, datetime) else None)
    summary = t("spreadsheet.cal_summary", type=ctype.label, title=card.title, what=label)
    return CalendarEvent(f"{card.id}-{span.key}@{host}", summary, start, end, _description(board, card),
                         ctype.label, card, span)


def _moment(value, tz: str) -> date | datetime | None:
    """A field value as a date (all-day) or an aware datetime (timed), or None."""
    if value in (None, ""):
        return None
    day = dates.parse_date(value)
    if day is not None and not isinstance(value, datetime):
        return day
    moment = dates.parse_datetime(value, tz)
    return moment.astimezone(ZoneInfo(tz)) if moment else None


def _range(start, end, tz: str):
    """(start, exclusive end) of a window; all-day if both are dates. Backwards windows: (start, None)."""
    if not isinstance(start, datetime) and not isinstance(end, datetime):
        return (start, end + timedelta(days=1)) if end >= start else (start, None)
    zone = ZoneInfo(tz)
    if not isinstance(start, datetime):
        start = datetime.combine(start, time(0, 0), zone)
    if not isinstance(end, datetime):
        end = datetime.combine(end + timedelta(days=1), time(0, 0), zone)
    return (start, end) if end > start else (start, None)


def _description(board: Board, card: Card) -> str:
    """Card ID, state and owner in the board's language, one per line."""
    cfg = board.config
    ctype = cfg.types[card.type]
    state = ctype.state(card.state)
    lines = [f"{t('spreadsheet.col_id')}: {card.id}",
             f"{t('spreadsheet.col_state')}: {state.label if state else card.state}"]
    if card.owner and "owner" in ctype.fields:
        lines.append(f"{ctype.fields['owner'].label}: {cfg.person_name(card.owner)}")
    return "\n".join(lines)


def _sort_moment(value, tz: str) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc)
    return datetime.combine(value, time(0, 0), ZoneInfo(tz)).astimezone(timezone.utc)


def _stamp(value) -> datetime:
    """DTSTAMP derived from the event itself (its start, in UTC), so rebuilds are byte-stable."""
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc)
    return datetime.combine(value, time(0, 0), timezone.utc)


def _vevent(event: CalendarEvent, card_url):
    """The icalendar VEVENT of one event."""
    from icalendar import Event

    vevent = Event()
    vevent.add("uid", event.uid)
    vevent.add("dtstamp", _stamp(event.start))
    vevent.add("dtstart", event.start)
    if event.end is not None:
        vevent.add("dtend", event.end)
    vevent.add("summary", event.summary)
    vevent.add("description", event.description)
    vevent.add("categories", [event.category])
    vevent.add("transp", "TRANSPARENT")
    if card_url is not None:
        vevent.add("url", card_url(event.card))
    return vevent
