"""The board's dates as an iCalendar feed (`calendar.ics`, `people/<key>.ics`, `export ics`).

Every dated field a team plans by becomes an event: `due` dates, a card type's
milestones, and `X_start`/`X_end` pairs (signup and live windows) as one range.
Dates are all-day events; datetimes are timed events in the board's timezone.

A calendar app refreshing the feed must update events, not add copies, and a site
rebuilt from an unchanged board must write the same bytes. So each event's UID is
`<card ID>-<field>@<board>.mdboard`, and its DTSTAMP comes from the event's own
date, never from the clock.

A feed is made of parts: `card_events` renders one card's VEVENTs (bytes that depend
only on the card and the board config), `assemble` wraps any parts in the calendar
header and one VTIMEZONE. A site can therefore keep each card's part, keyed by the
card's content, and re-render only the cards that changed. Events are written with
icalendar's value types (escaping, dates, parameters) and folded as icalendar folds
them; the tests check the bytes against icalendar's own `Event.to_ical`. Going
through a full `Event` component per event costs ~100 µs, which a 10,000-card
board cannot afford on every build.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Callable, Iterable

from mdboard.core import dates
from mdboard.core.config import DATE_TYPES, BoardConfig, CardType
from mdboard.core.i18n import get_language, t
from mdboard.core.store import Board, Card
from mdboard.domain.views import id_sort_key, people_of

PRODID = "-//mdboard//mdboard calendar//EN"
FOLD_AT = 74  # octets before each CRLF + space, as icalendar folds (RFC 5545 §3.1: under 75)
END_CALENDAR = b"END:VCALENDAR\r\n"


@dataclass(frozen=True)
class Span:
    """Which field(s) of a card type make one event: a single date or a start/end pair."""

    key: str  # the UID part: the field key, or the pair's common stem (`signup`)
    start: str
    end: str | None = None


@dataclass(frozen=True)
class _Context:
    """What every event of one board needs, worked out once per config and language."""

    config: BoardConfig
    language: str
    host: str
    spans: dict[str, list[Span]]  # type key -> its spans (only types that have any)
    fields: dict[str, tuple[str, ...]]  # type key -> the date fields its spans read
    order: dict[str, int]  # type key -> position in the config (feed order)
    categories: dict[str, bytes]  # type key -> its folded CATEGORIES line


_last_context: list[_Context] = []


def _context(board: Board) -> _Context:
    """The board's rendering context, rebuilt only when its config or the language changes."""
    cfg = board.config
    lang = get_language()
    if _last_context and _last_context[0].config is cfg and _last_context[0].language == lang:
        return _last_context[0]
    from icalendar import vCategory

    spans = {type_key: s for type_key, ctype in cfg.types.items() if (s := calendar_spans(ctype))}
    ctx = _Context(cfg, lang, board_host(cfg.title), spans,
                   {type_key: tuple(k for sp in s for k in (sp.start, sp.end) if k) for type_key, s in spans.items()},
                   {type_key: i for i, type_key in enumerate(cfg.types)},
                   {type_key: _line(b"CATEGORIES", vCategory([cfg.types[type_key].label])) for type_key in spans})
    _last_context[:] = [ctx]
    return ctx


def board_calendar(board: Board, person: str | None = None,
                   card_url: Callable[[Card], str] | None = None) -> bytes:
    """The whole board's (or one person's) dated fields as iCalendar bytes.

    `person` (key, name or email) keeps the cards they own or help with.
    `card_url`, when given, links each event to the card's page.
    """
    cards = calendar_cards(board, person)
    return assemble(board, (card_events(board, card, card_url) for card in cards), person)


def calendar_cards(board: Board, person: str | None = None) -> list[Card]:
    """The cards a feed shows (every card with a date it plans by, or only `person`'s), in
    feed order: by card type as configured, then by ID. A site keys its feed cache on them."""
    ctx = _context(board)
    key = _person_key(board, person) if person else None
    chosen = [card for card in board.cards() if _has_dates(ctx, card)
              and (key is None or key in people_of(card))]
    return sorted(chosen, key=lambda c: (ctx.order[c.type], id_sort_key(c.id)))


def _has_dates(ctx: _Context, card: Card) -> bool:
    """Whether any field the card's events come from holds a value (cheap: no parsing)."""
    fields = ctx.fields.get(card.type)
    return bool(fields) and not card.error and any(card.meta.get(k) not in (None, "") for k in fields)


def card_events(board: Board, card: Card, card_url: Callable[[Card], str] | None = None) -> bytes:
    """The VEVENT blocks of one card (due, milestones, start/end windows), exactly as they
    appear inside the feed, in the order of the type's fields; b"" if it has none.

    The bytes depend only on the card and the board config (and language), so a site
    may cache them by the card's content.
    """
    ctx = _context(board)
    if card.error or card.type not in ctx.spans:
        return b""
    ctype = ctx.config.types[card.type]
    moments = [(span, when) for span in ctx.spans[card.type] if (when := _span_moments(ctx, ctype, card, span))]
    if not moments:
        return b""
    from icalendar import vText, vUri

    tail = [ctx.categories[card.type], _line(b"DESCRIPTION", vText(_description(ctx.config, card))),
            b"TRANSP:TRANSPARENT"]
    if card_url is not None:
        tail.append(_line(b"URL", vUri(card_url(card))))
    tail_bytes = b"\r\n".join(tail) + b"\r\nEND:VEVENT\r\n"
    return b"".join(_vevent(ctx, ctype, card, span, when) + tail_bytes for span, when in moments)


def assemble(board: Board, parts: Iterable[bytes], person: str | None = None) -> bytes:
    """The VCALENDAR around already-rendered VEVENT parts, in the order given: the header,
    the calendar's name (the board's, or `person`'s feed of it), and one VTIMEZONE for the
    board's timezone when any event is timed."""
    body = b"".join(parts)
    cfg = board.config
    zone = b""
    if b"\r\nDTSTART;TZID=" in body:
        zone = _vtimezone(_tzid(cfg.timezone))
    return _header(cfg, _calendar_name(board, person)) + zone + body + END_CALENDAR


def _calendar_name(board: Board, person: str | None) -> str:
    """The board's title, or "<title> · <person's name>" for one person's feed."""
    cfg = board.config
    if not person:
        return cfg.title
    return t("spreadsheet.cal_person_name", title=cfg.title, name=cfg.person_name(_person_key(board, person)))


def _header(cfg: BoardConfig, name: str) -> bytes:
    """The calendar's opening lines and properties (everything before its components)."""
    from icalendar import Calendar

    cal = Calendar()
    for prop, value in (("prodid", PRODID), ("version", "2.0"), ("calscale", "GREGORIAN"),
                        ("method", "PUBLISH"), ("name", name), ("x-wr-calname", name),
                        ("x-wr-timezone", cfg.timezone), ("refresh-interval", timedelta(hours=1)),
                        ("x-published-ttl", "PT1H")):
        cal.add(prop, value)
    cal["refresh-interval"].params["VALUE"] = "DURATION"
    data = cal.to_ical()
    return data[: -len(END_CALENDAR)]


@lru_cache(maxsize=None)
def _tzid(tz: str) -> str | None:
    """The TZID icalendar writes for the board's timezone (None for UTC, written as `Z`)."""
    from icalendar import vDDDTypes

    return vDDDTypes(datetime(2000, 1, 1, tzinfo=dates.zone(tz))).params.get("TZID")


@lru_cache(maxsize=None)
def _vtimezone(tzid: str | None) -> bytes:
    """The VTIMEZONE block of one TZID, made once per process (it takes milliseconds)."""
    from icalendar import Timezone

    if tzid is None:
        return b""
    try:
        return Timezone.from_tzid(tzid).to_ical()
    except ValueError:  # a zone icalendar cannot describe: calendar apps fall back to X-WR-TIMEZONE
        return b""


def _person_key(board: Board, text: str) -> str:
    """A roster key from a key, name or email; unknown people are UnknownName naming the nearest names."""
    from mdboard.core import names

    return names.person(board.config, text).key


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


def _span_moments(ctx: _Context, ctype: CardType, card: Card, span: Span):
    """(what, start, end) of one span of a card: the label of the field(s) it comes from and
    its start and exclusive end (None: a timed instant). None when its dates are missing or invalid."""
    tz = ctx.config.timezone
    start = _moment(card.meta.get(span.start), tz)
    end = _moment(card.meta.get(span.end), tz) if span.end else None
    if span.end and start is not None and end is not None:
        start, end = _range(start, end, tz)
        if end is None:
            return None
        return t("spreadsheet.cal_range", start=ctype.fields[span.start].label,
                 end=ctype.fields[span.end].label), start, end
    field = span.start if start is not None else span.end
    moment = start if start is not None else end
    if moment is None:
        return None
    return ctype.fields[field].label, moment, (moment + timedelta(days=1) if not isinstance(moment, datetime) else None)


def _vevent(ctx: _Context, ctype: CardType, card: Card, span: Span, when) -> bytes:
    """The opening lines of one event, up to its UID (the card's shared lines follow)."""
    from icalendar import vText

    what, start, end = when
    lines = [b"BEGIN:VEVENT",
             _line(b"SUMMARY", vText(t("spreadsheet.cal_summary", type=ctype.label, title=card.title, what=what))),
             b"DTSTART" + _when_value(start, _zone_key(start))]
    if end is not None:
        lines.append(b"DTEND" + _when_value(end, _zone_key(end)))
    stamp = _stamp(start)
    lines += [b"DTSTAMP" + _when_value(stamp, _zone_key(stamp)),
              _line(b"UID", vText(f"{card.id}-{span.key}@{ctx.host}"))]
    return b"\r\n".join(lines) + b"\r\n"


def _zone_key(value) -> str:
    """What besides the instant decides how a moment is written: its kind and its zone."""
    return str(value.tzinfo) if isinstance(value, datetime) else "date"


@lru_cache(maxsize=8192)
def _when_value(value: date | datetime, zone_key: str) -> bytes:
    """`[;PARAMS]:VALUE` of a date or datetime as icalendar writes it (`;VALUE=DATE:20261201`,
    `;TZID=Asia/Shanghai:20261130T180000`, `:20261130T100000Z`). Boards reuse few dates, so
    each is worked out once; `zone_key` keeps equal instants in different zones apart."""
    from icalendar import vDDDTypes

    typed = vDDDTypes(value)
    params = typed.params.to_ical() if typed.params else b""
    return (b";" + params if params else b"") + b":" + typed.to_ical()


def _line(name: bytes, value) -> bytes:
    """One content line `NAME[;PARAMS]:VALUE` of an icalendar value, folded as icalendar folds it."""
    params = value.params.to_ical() if value.params else b""
    return _fold(name + (b";" + params if params else b"") + b":" + value.to_ical())


def _fold(line: bytes) -> bytes:
    """Fold a long content line like icalendar does: pieces of at most 74 octets joined by
    CRLF + space, never inside a UTF-8 character, never right after a `\\` or `^` (so an
    escape stays on one line)."""
    if len(line) <= FOLD_AT:
        return line
    pieces, start = [], 0
    while len(line) - start > FOLD_AT:
        end = start + FOLD_AT
        while line[end] & 0xC0 == 0x80:  # a UTF-8 continuation byte: cut before its character
            end -= 1
        if end - start > 1 and line[end - 1] in b"\\^":
            end -= 1
        pieces.append(line[start:end])
        start = end
    pieces.append(line[start:])
    return b"\r\n ".join(pieces)


def _moment(value, tz: str) -> date | datetime | None:
    """A field value as a date (all-day) or an aware datetime (timed), or None."""
    if value in (None, ""):
        return None
    day = dates.parse_date(value)
    if day is not None and not isinstance(value, datetime):
        return day
    moment = dates.parse_datetime(value, tz)
    return moment.astimezone(dates.zone(tz)) if moment else None


def _range(start, end, tz: str):
    """(start, exclusive end) of a window; all-day if both are dates. Backwards windows: (start, None)."""
    if not isinstance(start, datetime) and not isinstance(end, datetime):
        return (start, end + timedelta(days=1)) if end >= start else (start, None)
    zone = dates.zone(tz)
    if not isinstance(start, datetime):
        start = datetime.combine(start, time(0, 0), zone)
    if not isinstance(end, datetime):
        end = datetime.combine(end + timedelta(days=1), time(0, 0), zone)
    return (start, end) if end > start else (start, None)


def _description(cfg: BoardConfig, card: Card) -> str:
    """Card ID, state and owner in the board's language, one per line."""
    ctype = cfg.types[card.type]
    state = ctype.state(card.state)
    lines = [f"{t('spreadsheet.col_id')}: {card.id}",
             f"{t('spreadsheet.col_state')}: {ctype.state_label(card.state)}"]
    if card.owner and "owner" in ctype.fields:
        lines.append(f"{ctype.fields['owner'].label}: {cfg.person_name(card.owner)}")
    return "\n".join(lines)


def _stamp(value) -> datetime:
    """DTSTAMP derived from the event itself (its start, in UTC), so rebuilds are byte-stable."""
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc)
    return datetime.combine(value, time(0, 0), timezone.utc)
