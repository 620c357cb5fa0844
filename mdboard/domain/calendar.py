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
card's content, and re-render only the cards that changed. Events and the calendar's
header are written here, escaped (RFC 5545 TEXT) and folded as icalendar writes them;
the tests check the bytes against icalendar's own `Event.to_ical` and `Calendar.to_ical`.
Going through a full `Event` component per event costs ~100 µs, which a 10,000-card
board cannot afford on every build, and importing icalendar ~0.1 s, which a one-card
rebuild cannot. icalendar works out only what depends on the time zone database: the
TZID timed values carry and the VTIMEZONE block (`zone_of`), once per zone; a site keeps
them on disk (`zone_stamp` says when they must be worked out again).
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


@dataclass(frozen=True)
class Zone:
    """How the board's time zone is written, as icalendar writes it: what goes before and
    after a timed value's digits (`;TZID=Asia/Shanghai:` and nothing, or `:` and `Z` for
    a zone icalendar takes for UTC) and the zone's VTIMEZONE block (b"" for UTC)."""

    before: bytes
    after: bytes
    block: bytes


def _context(board: Board) -> _Context:
    """The board's rendering context, rebuilt only when its config or the language changes."""
    cfg = board.config
    lang = get_language()
    if _last_context and _last_context[0].config is cfg and _last_context[0].language == lang:
        return _last_context[0]
    spans = {type_key: s for type_key, ctype in cfg.types.items() if (s := calendar_spans(ctype))}
    ctx = _Context(cfg, lang, board_host(cfg.title), spans,
                   {type_key: tuple(k for sp in s for k in (sp.start, sp.end) if k) for type_key, s in spans.items()},
                   {type_key: i for i, type_key in enumerate(cfg.types)},
                   {type_key: _fold(b"CATEGORIES:" + _text(cfg.types[type_key].label)) for type_key in spans})
    _last_context[:] = [ctx]
    return ctx


def board_calendar(board: Board, person: str | None = None,
                   card_url: Callable[[Card], str] | None = None) -> bytes:
    """The whole board's (or one person's) dated fields as iCalendar bytes.

    `person` (key, name or email) keeps the cards they own or help with.
    `card_url`, when given, links each event to the card's page.
    """
    cards = calendar_cards(board, person)
    zone = zone_of(board.config.timezone)
    return assemble(board, (card_events(board, card, card_url, zone) for card in cards), person, zone)


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


def card_events(board: Board, card: Card, card_url: Callable[[Card], str] | None = None,
                zone: Zone | None = None) -> bytes:
    """The VEVENT blocks of one card (due, milestones, start/end windows), exactly as they
    appear inside the feed, in the order of the type's fields; b"" if it has none.

    The bytes depend only on the card and the board config (and language), so a site
    may cache them by the card's content. `zone`: the board time zone's `zone_of`, when
    the caller keeps it (else worked out here when a timed value needs it).
    """
    ctx = _context(board)
    if card.error or card.type not in ctx.spans:
        return b""
    ctype = ctx.config.types[card.type]
    moments = [(span, when) for span in ctx.spans[card.type] if (when := _span_moments(ctx, ctype, card, span))]
    if not moments:
        return b""
    tail = [ctx.categories[card.type], _fold(b"DESCRIPTION:" + _text(_description(ctx.config, card))),
            b"TRANSP:TRANSPARENT"]
    if card_url is not None:
        tail.append(_fold(b"URL:" + card_url(card).encode("utf-8")))
    tail_bytes = b"\r\n".join(tail) + b"\r\nEND:VEVENT\r\n"
    zoned = (lambda: zone) if zone is not None else (lambda: zone_of(ctx.config.timezone))
    return b"".join(_vevent(ctx, ctype, card, span, when, zoned) + tail_bytes for span, when in moments)


def assemble(board: Board, parts: Iterable[bytes], person: str | None = None, zone: Zone | None = None) -> bytes:
    """The VCALENDAR around already-rendered VEVENT parts, in the order given: the header,
    the calendar's name (the board's, or `person`'s feed of it), and one VTIMEZONE for the
    board's timezone when any event is timed (`zone`: its `zone_of`, when the caller keeps it)."""
    body = b"".join(parts)
    cfg = board.config
    block = b""
    if b"\r\nDTSTART;TZID=" in body:
        block = (zone or zone_of(cfg.timezone)).block
    return _header(cfg, _calendar_name(board, person)) + block + body + END_CALENDAR


def _calendar_name(board: Board, person: str | None) -> str:
    """The board's title, or "<title> · <person's name>" for one person's feed."""
    cfg = board.config
    if not person:
        return cfg.title
    return t("spreadsheet.cal_person_name", title=cfg.title, name=cfg.person_name(_person_key(board, person)))


def _header(cfg: BoardConfig, name: str) -> bytes:
    """The calendar's opening lines and properties (everything before its components), in
    icalendar's order; the name and zone are written as given (icalendar takes NAME and
    X-WR-* for values of an unknown type, which it does not escape), but for line breaks
    (`title: |`), written as TEXT writes them: icalendar refused them, and written raw they
    would be lines of the feed."""
    lines = [b"BEGIN:VCALENDAR", b"VERSION:2.0", b"PRODID:" + _text(PRODID), b"CALSCALE:GREGORIAN",
             b"METHOD:PUBLISH", _fold(b"NAME:" + _one_line(name)), _fold(b"X-WR-CALNAME:" + _one_line(name)),
             b"REFRESH-INTERVAL;VALUE=DURATION:PT1H", b"X-PUBLISHED-TTL:PT1H",
             _fold(b"X-WR-TIMEZONE:" + _one_line(cfg.timezone))]
    return b"\r\n".join(lines) + b"\r\n"


def _one_line(value: str) -> bytes:
    """`value` as is, its line breaks (CRLF, LF, CR) written `\\n` as in TEXT."""
    return value.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n").encode("utf-8")


@lru_cache(maxsize=None)
def zone_of(tz: str) -> Zone:
    """How icalendar writes the board's time zone (`Zone`): worked out with icalendar,
    once per process (its import ~0.1 s, the VTIMEZONE ~0.04 s); a site keeps it on disk."""
    from icalendar import Timezone

    before, after, tzid = _timed_form(tz)
    block = b""
    if tzid is not None:
        try:
            block = Timezone.from_tzid(tzid).to_ical()
        except ValueError:  # a zone icalendar cannot describe: calendar apps fall back to X-WR-TIMEZONE
            pass
    return Zone(before, after, block)


def _timed_form(tz: str) -> tuple[bytes, bytes, str | None]:
    """What icalendar writes before and after the digits of a time in zone `tz`, and its
    TZID (None: icalendar takes the zone for UTC and writes `Z`; several zones are)."""
    from icalendar import vDDDTypes

    typed = vDDDTypes(datetime(2000, 1, 1, tzinfo=dates.zone(tz)))
    params = typed.params.to_ical() if typed.params else b""
    after = b"Z" if typed.to_ical().endswith(b"Z") else b""
    return (b";" + params if params else b"") + b":", after, typed.params.get("TZID")


def zone_stamp(tz: str) -> tuple:
    """What `zone_of(tz)` is worked out from: icalendar's code and the zone's tz database
    file (each file's path, size and time), so a kept Zone is worked out again after an
    upgrade of either. Costs a few stat calls, no import of icalendar."""
    import os
    import zoneinfo
    from importlib.util import find_spec

    files = [spec.origin for spec in (find_spec("icalendar"),) if spec is not None and spec.origin]
    found = [os.path.join(root, tz) for root in zoneinfo.TZPATH if os.path.isfile(os.path.join(root, tz))]
    if not found:
        spec = find_spec("tzdata")
        found = [spec.origin] if spec is not None and spec.origin else []
    files += found[:1]
    stamps = []
    for path in files:
        st = os.stat(path)
        stamps.append((path, st.st_size, st.st_mtime_ns))
    return (tz, *stamps)


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


def _vevent(ctx: _Context, ctype: CardType, card: Card, span: Span, when, zone: Callable[[], Zone]) -> bytes:
    """The opening lines of one event, up to its UID (the card's shared lines follow)."""
    what, start, end = when
    lines = [b"BEGIN:VEVENT",
             _fold(b"SUMMARY:" + _text(t("spreadsheet.cal_summary", type=ctype.label, title=card.title, what=what))),
             b"DTSTART" + _when_value(start, zone)]
    if end is not None:
        lines.append(b"DTEND" + _when_value(end, zone))
    lines += [b"DTSTAMP" + _when_value(_stamp(start), zone),
              _fold(b"UID:" + _text(f"{card.id}-{span.key}@{ctx.host}"))]
    return b"\r\n".join(lines) + b"\r\n"


def _when_value(value: date | datetime, zone: Callable[[], Zone]) -> bytes:
    """`[;PARAMS]:VALUE` of a date or datetime as icalendar writes it (`;VALUE=DATE:20261201`,
    `;TZID=Asia/Shanghai:20261130T180000`, `:20261130T100000Z`). A timed value is in UTC
    (DTSTAMP) or in the board's zone (`zone()` says how that is written)."""
    if not isinstance(value, datetime):
        return b";VALUE=DATE:%04d%02d%02d" % (value.year, value.month, value.day)
    digits = b"%04d%02d%02dT%02d%02d%02d" % (value.year, value.month, value.day, value.hour, value.minute,
                                             value.second)
    if value.tzinfo is timezone.utc:
        return b":" + digits + b"Z"
    written = zone()
    return written.before + digits + written.after


def _text(value: str) -> bytes:
    """A TEXT value escaped as RFC 5545 §3.3.11 says and icalendar does (`\\N` read as a line
    break, then backslash, semicolon, comma, and every kind of line break)."""
    return (value.replace("\\N", "\n").replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n").encode("utf-8"))


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
