"""Geometry for the site's drawings: the campaign timeline and the report charts.

Everything is worked out here as numbers (percentages, SVG coordinates) so the
templates only place elements; no JavaScript chart library, nothing from the network.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

from mdboard.core import dates
from mdboard.domain.calendar import calendar_spans

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
    from mdboard.site.render import card_attrs, timeline_types

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
    lo, hi = _axis(rows, today)
    rows = [r for r in rows if r["last"] >= lo]  # campaigns that ended before the axis starts are history
    rank = {"ongoing": 0, "upcoming": 1, "past": 2}
    rows.sort(key=lambda r: (rank[r["status"]], r["last"].toordinal() if r["status"] == "ongoing"
                             else r["first"].toordinal() if r["status"] == "upcoming" else -r["last"].toordinal(),
                             r["v"].id))
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


# --- report charts (inline SVG) --------------------------------------------------------------

W, H = 520, 230
PAD_L, PAD_R, PAD_T, PAD_B = 40, 12, 12, 28
MAX_FLOW_POINTS = 120  # days drawn in a cumulative flow (evenly thinned)
MAX_SCATTER = 1000  # most recent finished cards drawn in the cycle-time scatter


def nice_ticks(top: float, count: int = 4) -> list[float]:
    """Round axis values from 0 to at least `top` (steps of 1, 2 or 5 × 10^k)."""
    if top <= 0:
        return [0, 1]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    ticks, value = [], 0.0
    while value < top + step * 0.999:
        ticks.append(round(value, 6))
        value += step
    return ticks


def _frame(ymax: float):
    """Plot area scales: x from a 0..1 share, y from 0..ymax; ticks for the y axis."""
    ticks = nice_ticks(ymax)
    top = ticks[-1] or 1
    x = lambda share: PAD_L + share * (W - PAD_L - PAD_R)
    y = lambda v: H - PAD_B - v * (H - PAD_T - PAD_B) / top
    return x, y, [{"y": round(y(t), 1), "label": _num(t)} for t in ticks]


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _xticks(data, days: list[date], x) -> list[dict]:
    """About six date labels along the x axis."""
    if not days:
        return []
    step = max(1, math.ceil(len(days) / 6))
    n = max(len(days) - 1, 1)
    return [{"x": round(x(i / n), 1), "label": data.renderer.dates.short(days[i])} for i in range(0, len(days), step)]


def cumulative_flow_chart(data, ctype, flow: list[dict]) -> dict | None:
    """Stacked bands, one per state (finished at the bottom), over the report's days."""
    if len(flow) < 2:
        return None
    step = max(1, math.ceil(len(flow) / MAX_FLOW_POINTS))
    points = flow[::step] if (len(flow) - 1) % step == 0 else flow[::step] + [flow[-1]]
    n = len(points)
    x, y, yticks = _frame(max(sum(p["counts"].values()) for p in points) or 1)
    lower = [0] * n
    bands = []
    states = list(ctype.states)
    for index in reversed(range(len(states))):
        key = states[index].key
        upper = [lower[i] + points[i]["counts"].get(key, 0) for i in range(n)]
        outline = [(x(i / (n - 1)), y(upper[i])) for i in range(n)] + \
                  [(x(i / (n - 1)), y(lower[i])) for i in reversed(range(n))]
        bands.append({"label": states[index].label, "index": index,
                      "points": " ".join(f"{a:.1f},{b:.1f}" for a, b in outline)})
        lower = upper
    days = [date.fromisoformat(p["date"]) for p in points]
    return {"w": W, "h": H, "bands": bands, "yticks": yticks, "xticks": _xticks(data, days, x),
            "legend": [{"label": s.label, "index": i} for i, s in enumerate(states)],
            "base": H - PAD_B, "left": PAD_L, "right": W - PAD_R}


def throughput_chart(data, weeks: list[dict]) -> dict | None:
    """Bars: cards finished per ISO week."""
    if not weeks:
        return None
    n = len(weeks)
    x, y, yticks = _frame(max(w["count"] for w in weeks) or 1)
    width = (W - PAD_L - PAD_R) / n
    bars = [{"x": round(PAD_L + i * width + width * 0.1, 1), "w": round(max(width * 0.8, 1), 1),
             "y": round(y(w["count"]), 1), "h": round(H - PAD_B - y(w["count"]), 1), "count": w["count"],
             "label": w["week"]} for i, w in enumerate(weeks)]
    days = [date.fromisoformat(w["start"]) for w in weeks]
    ticks = _xticks(data, days, lambda share: PAD_L + share * (W - PAD_L - PAD_R - width) + width / 2)
    return {"w": W, "h": H, "bars": bars, "yticks": yticks, "xticks": ticks, "base": H - PAD_B,
            "left": PAD_L, "right": W - PAD_R}


def cycle_scatter(data, points: list[dict], summary: dict) -> dict | None:
    """One dot per finished card: when it finished (x) and its cycle time in days (y)."""
    if not points:
        return None
    shown = sorted(points, key=lambda p: p["finished"])[-MAX_SCATTER:]
    days = [date.fromisoformat(p["finished"][:10]) for p in shown]
    first, last = days[0], days[-1]
    span = max((last - first).days, 1)
    x, y, yticks = _frame(max(p["days"] for p in shown) or 1)
    dots = [{"cx": round(x((d - first).days / span), 1), "cy": round(y(p["days"]), 1), "card": p["card"],
             "title": p["title"], "days": _num(round(p["days"], 1))} for p, d in zip(shown, days)]
    lines = []
    for key in ("median", "p85"):
        if summary.get(key) is not None:
            lines.append({"key": key, "y": round(y(summary[key]), 1), "value": _num(round(summary[key], 1))})
    labels = [first + timedelta(days=round(span * i / 5)) for i in range(6)] if span >= 5 else sorted(set(days))
    ticks = [{"x": round(x((d - first).days / span), 1), "label": data.renderer.dates.short(d)} for d in labels]
    return {"w": W, "h": H, "dots": dots, "lines": lines, "yticks": yticks, "xticks": ticks, "base": H - PAD_B,
            "left": PAD_L, "right": W - PAD_R, "total": len(points), "shown": len(shown)}


def state_bars(states: dict) -> list[dict]:
    """Time in each state: median and 85th percentile, as shares of the longest p85."""
    top = max([s["p85"] or 0 for s in states.values()] + [s["median"] or 0 for s in states.values()] + [0.001])
    return [{"key": key, "label": s["label"], "median": s["median"], "p85": s["p85"],
             "median_pct": round(100 * (s["median"] or 0) / top, 1), "p85_pct": round(100 * (s["p85"] or 0) / top, 1)}
            for key, s in states.items()]
