"""Geometry for the site's drawings: the campaign timeline and the report charts.

Everything is worked out here as numbers (percentages, SVG coordinates) so the
templates only place elements; no JavaScript chart library, nothing from the network.
"""

from __future__ import annotations

from datetime import date, timedelta

from . import dates
from .calendar import calendar_spans

PAST_DAYS = 45  # how far back the timeline axis may reach
AHEAD_DAYS = 120  # how far ahead


def _day(value, tz: str) -> date | None:
    """A stored date or datetime as the day it falls on, or None."""
    if value in (None, ""):
        return None
    moment = dates.when(value, tz)
    return moment.date() if moment else None


def card_marks(data, view, spans) -> list[dict]:
    """A campaign's windows (start–end bars) and single dates (marks), in field order."""
    cfg = data.cfg
    ctype = cfg.types[view.card.type]
    meta = view.card.meta
    marks = []
    for index, span in enumerate(spans):
        start = _day(meta.get(span.start), cfg.timezone)
        end = _day(meta.get(span.end), cfg.timezone) if span.end else None
        if span.end and start and end and end >= start:
            label = data.text("span_range", start=ctype.fields[span.start].label, end=ctype.fields[span.end].label)
            text = f"{data.renderer.dates.short(start)} – {data.renderer.dates.short(end)}"
            marks.append({"kind": "bar", "start": start, "end": end, "label": label, "index": index, "text": text})
        else:
            for key, day in ((span.start, start), (span.end, end)):
                if key and day:
                    marks.append({"kind": "point", "start": day, "end": day, "label": ctype.fields[key].label,
                                  "index": index, "text": data.renderer.dates.short(day)})
    return marks


def timeline_layout(data) -> dict:
    """Rows (ongoing first, then upcoming, then past), axis ticks, a today line, a legend."""
    from .site_pages import card_attrs, timeline_types

    cfg = data.cfg
    today = data.today
    rows, legend = [], {}
    for ctype in timeline_types(cfg):
        spans = calendar_spans(ctype)
        done = ctype.done_states()
        for view in data.by_type.get(ctype.key, []):
            if view.card.error:
                continue
            marks = card_marks(data, view, spans)
            if not marks:
                continue
            for m in marks:
                legend.setdefault((m["index"], m["kind"]), m["label"])
            first, last = min(m["start"] for m in marks), max(m["end"] for m in marks)
            if view.card.state in done or last < today:
                status = "past"
            elif first <= today:
                status = "ongoing"
            else:
                status = "upcoming"
            rows.append({"v": view, "marks": marks, "first": first, "last": last, "status": status,
                         "attrs": card_attrs(cfg, view)})
    rank = {"ongoing": 0, "upcoming": 1, "past": 2}
    rows.sort(key=lambda r: (rank[r["status"]], r["last"].toordinal() if r["status"] == "ongoing"
                             else r["first"].toordinal() if r["status"] == "upcoming" else -r["last"].toordinal(),
                             r["v"].id))
    lo, hi = _axis(rows, today)
    span_days = (hi - lo).days + 1
    for row in rows:
        for m in row["marks"]:
            _place(m, lo, hi, span_days)
    return {"rows": rows, "ticks": _ticks(data, lo, hi, span_days), "today_pct": _pct(today, lo, span_days, 0.5),
            "today_label": data.renderer.dates.short(today), "range": (lo, hi),
            "legend": [{"index": i, "kind": kind, "label": label} for (i, kind), label in sorted(legend.items())]}


def _axis(rows, today: date) -> tuple[date, date]:
    """The axis covers the current and coming campaigns (and today), within limits."""
    live = [r for r in rows if r["status"] != "past"] or rows
    lo = min([r["first"] for r in live] + [today - timedelta(days=7)])
    hi = max([r["last"] for r in live] + [today + timedelta(days=21)])
    lo = max(lo, today - timedelta(days=PAST_DAYS)) - timedelta(days=2)
    hi = min(hi, today + timedelta(days=AHEAD_DAYS)) + timedelta(days=2)
    return lo, hi


def _pct(day: date, lo: date, span_days: int, offset: float = 0.0) -> float:
    return round(max(0.0, min(100.0, ((day - lo).days + offset) * 100 / span_days)), 2)


def _place(mark: dict, lo: date, hi: date, span_days: int) -> None:
    """Left and width in percent of the axis; marks outside are flagged as clipped."""
    mark["clipped"] = mark["end"] < lo or mark["start"] > hi
    if mark["kind"] == "bar":
        left = _pct(mark["start"], lo, span_days)
        right = _pct(mark["end"], lo, span_days, 1.0)
        mark["left"], mark["width"] = left, max(round(right - left, 2), 0.6)
    else:
        mark["left"], mark["width"] = _pct(mark["start"], lo, span_days, 0.5), 0


def _ticks(data, lo: date, hi: date, span_days: int) -> list[dict]:
    """Axis labels on Mondays (every week, or every other week on long axes)."""
    step = 7 if span_days <= 70 else 14
    day = lo + timedelta(days=(7 - lo.weekday()) % 7)
    out = []
    while day <= hi:
        out.append({"left": _pct(day, lo, span_days), "label": data.renderer.dates.short(day)})
        day += timedelta(days=step)
    return out
