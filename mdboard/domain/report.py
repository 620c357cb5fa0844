"""Retrospective figures (复盘) from the board's history.

Every figure comes from each card's path through its states, rebuilt from the
history's events: when it was created, when it entered each state, when it
finished (entered a done state and stayed there). From those:

- lead time: created -> finished; cycle time: first move out of the first state
  (or creation, for a card created further on) -> finished; median and 85th percentile;
- time spent in each (not done) state, clipped to the window, per card;
- throughput: cards finished per ISO week;
- late: finished after the due date (the `due` field, else the type's last milestone);
- after-sales (the queue types, `CardType.is_queue`): created -> first resolved, against the case's due time;
- load: each person's open and overdue cards right now.

The window [since, until) selects the cards finished inside it (lead, cycle,
throughput, late) and clips time in state and the cumulative flow.
"""

from __future__ import annotations

from functools import lru_cache

import math
from datetime import date, datetime, timedelta

from mdboard.core import dates
from mdboard.core.config import CardType
from mdboard.git.history import History, gc_paused
from mdboard.core.store import Board, Card
from mdboard.domain.views import card_due, people_of

DAY = 86400.0


class Track:
    """One card's way through its states, rebuilt from its steps. Times are unix seconds:
    a report compares and subtracts them for every card, and only turns the few it shows
    into days of the calendar (see `Days`)."""

    __slots__ = ("card", "type", "created", "title", "stays", "deleted")

    def __init__(self, card: str, type: str):
        self.card, self.type = card, type
        self.created: int | None = None
        self.title: str | None = None
        self.stays: list = []  # [state, start, end or None]
        self.deleted = False

    def enter(self, state: str, moment: int) -> None:
        self.leave(moment)
        self.stays.append([state, moment, None])

    def leave(self, moment: int) -> None:
        if self.stays and self.stays[-1][2] is None:
            self.stays[-1][2] = moment

    def finished(self, done: set[str]) -> int | None:
        """When the card entered the done state(s) it is still in, else None."""
        if self.deleted or not self.stays or self.stays[-1][2] is not None or self.stays[-1][0] not in done:
            return None
        idx = len(self.stays) - 1
        while idx > 0 and self.stays[idx - 1][0] in done:
            idx -= 1
        return self.stays[idx][1]

    def started(self, first: str) -> int | None:
        """When work started: the first move out of the first state (or creation elsewhere)."""
        if not self.stays:
            return None
        if self.stays[0][0] != first:
            return self.stays[0][1]
        return self.stays[0][2]


def tracks(history: History) -> dict[str, Track]:
    """card ID -> Track, for every card the history knows (renumbered cards under their new ID).

    Made from the history's steps (created, moved, deleted, title changed), which a warm
    history cache keeps apart from the other events.
    """
    out: dict[str, Track] = {}
    for card_id, ctype, action, src, dst, title, when in history.steps():
        track = out.get(card_id)
        if track is None:
            track = out[card_id] = Track(card_id, ctype or "")
        if action == "created":
            track.created = track.created or when
            track.title = title or track.title
            track.deleted = False
            track.enter(dst, when)
        elif action == "moved" and dst:
            if not track.stays and src:
                track.stays.append([src, None, None])
            track.enter(dst, when)
        elif action == "deleted":
            track.leave(when)
            track.deleted = True
            track.title = title or track.title
        elif action == "field" and title:
            track.title = title
        if ctype:
            track.type = ctype
    return out


class Days:
    """Unix seconds -> the day they fall on in the board's time zone (memoised)."""

    def __init__(self, tz: str):
        self.zone = dates.zone(tz)
        self.known: dict[float, date] = {}

    def __call__(self, moment: float) -> date:
        day = self.known.get(moment)
        if day is None:
            day = self.known[moment] = datetime.fromtimestamp(moment, self.zone).date()
        return day


# --- statistics ------------------------------------------------------------------------

def percentile(values: list[float], share: float) -> float | None:
    """The `share` quantile with linear interpolation between ranks (None when empty)."""
    if not values:
        return None
    xs = sorted(values)
    pos = share * (len(xs) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def summary(values: list[float]) -> dict:
    return {"median": _round(percentile(values, 0.5)), "p85": _round(percentile(values, 0.85)), "count": len(values)}


def _days(a: float, b: float) -> float:
    """Days from unix time a to b (0 when b is earlier)."""
    return max(0.0, (b - a) / DAY)


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


@lru_cache(maxsize=4096)
def iso_week(day: date) -> tuple[str, date]:
    """("2026-W48", that week's Monday); memoised: a report asks for every event's day."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}", day - timedelta(days=day.weekday())


# --- the report --------------------------------------------------------------------------

def compute_report(board: Board, history: History, since: datetime | None = None, until: datetime | None = None,
                   type: str | None = None, charts: bool = True) -> dict:
    """All retrospective figures as one JSON-ready dict (see the module docstring).

    `charts=False` leaves out the per-day cumulative flow and the per-card cycle points
    (empty lists), which only charts use: the terminal report does not need them.
    The garbage collector pauses meanwhile (a track per card, a list per stay, nothing to
    collect): a one-shot command has it off anyway, a build inside `serve` has it on.
    """
    with gc_paused():
        return _report(board, history, since, until, type, charts)


def _report(board: Board, history: History, since: datetime | None, until: datetime | None, type: str | None,
            charts: bool) -> dict:
    cfg = board.config
    tz = cfg.timezone
    end = until or dates.now(tz)
    window = Window(since, end, Days(tz))
    cards = board.by_id()
    all_tracks = tracks(history)
    by_type: dict[str, list[Track]] = {}
    for tr in all_tracks.values():
        by_type.setdefault(tr.type, []).append(tr)
    out = {"since": since.date().isoformat() if since else None,
           "until": (end - timedelta(microseconds=1)).date().isoformat() if until else None,
           "types": {}}
    for key, ctype in cfg.types.items():
        if type and key != type:
            continue
        out["types"][key] = _type_report(board, ctype, by_type.get(key, []), cards, window, charts)
    out["after_sales"] = _after_sales(board, all_tracks, cards, window)
    out["load"] = load(board, type)
    return out


class Window:
    """The report's window [since, end) as datetimes and as unix seconds, and the day counter."""

    def __init__(self, since: datetime | None, end: datetime, day: Days):
        self.since, self.end, self.day = since, end, day
        self.start_ts = since.timestamp() if since else None
        self.end_ts = end.timestamp()

    def holds(self, moment: float) -> bool:
        return moment < self.end_ts and (self.start_ts is None or moment >= self.start_ts)


def _type_report(board: Board, ctype: CardType, mine: list[Track], cards: dict[str, Card], window: Window,
                 charts: bool = True) -> dict:
    tz = board.config.timezone
    day = window.day
    done_states, first = ctype.done_states(), ctype.states[0].key
    lead, cycle, points = [], [], []
    finished = late = with_due = 0
    done_days = []
    for tr in mine:
        done = tr.finished(done_states)
        if done is None or not window.holds(done):
            continue
        finished += 1
        done_days.append(day(done))
        if tr.created is not None:
            lead.append(_days(tr.created, done))
        start = tr.started(first)
        if start is not None:
            cycle.append(_days(start, done))
            if charts:
                card = cards.get(tr.card)
                points.append({"card": tr.card, "title": card.title if card else (tr.title or tr.card),
                               "finished": day(done).isoformat(), "days": round(_days(start, done), 2)})
        due = due_moment(ctype, cards.get(tr.card), tz)
        if due is not None:
            with_due += 1
            late += done > due.timestamp()
    points.sort(key=lambda p: (p["finished"], p["card"]))
    return {"label": ctype.label, "lead_time_days": summary(lead), "cycle_time_days": summary(cycle),
            "time_in_state_days": _time_in_state(ctype, mine, window),
            "throughput": _throughput(done_days, window.since, window.end),
            "finished": finished, "late": late, "with_due": with_due, "late_share": _share(late, with_due),
            "cumulative_flow": cumulative_flow(ctype, mine, window) if charts else [],
            "cycle_points": points}


def due_moment(ctype: CardType, card: Card | None, tz: str) -> datetime | None:
    """A card's deadline as a moment: `due`, else the type's last milestone that is set."""
    if card is None:
        return None
    keys = (["due"] if "due" in ctype.fields else []) or list(reversed(ctype.milestones))
    for key in keys:
        value = card.meta.get(key)
        if value:
            moment = dates.when(value, tz)
            if moment is not None:
                return moment
    return None


def _time_in_state(ctype: CardType, mine: list[Track], window: Window) -> dict:
    done = ctype.done_states()
    per_state: dict[str, list[float]] = {s.key: [] for s in ctype.states if s.key not in done}
    lo, hi = window.start_ts, window.end_ts
    for tr in mine:
        spent: dict[str, float] = {}
        for state, start, stop in tr.stays:
            if state not in per_state or start is None:
                continue
            a = start if lo is None or start > lo else lo
            b = hi if stop is None or stop > hi else stop
            if b > a:
                spent[state] = spent.get(state, 0.0) + (b - a) / DAY
        for state, days in spent.items():
            per_state[state].append(days)
    return {key: {"label": ctype.state(key).label, "median": _round(percentile(vals, 0.5)),
                  "p85": _round(percentile(vals, 0.85)), "total": round(sum(vals), 2)}
            for key, vals in per_state.items()}


def _throughput(done_days: list[date], since: datetime | None, end: datetime) -> list[dict]:
    """Cards finished per ISO week, every week of the window listed (zeros included)."""
    if not done_days and since is None:
        return []
    first = since.date() if since else min(done_days)
    last = (end - timedelta(microseconds=1)).date()
    counts: dict[str, int] = {}
    for day in done_days:
        counts[iso_week(day)[0]] = counts.get(iso_week(day)[0], 0) + 1
    weeks = []
    monday = iso_week(first)[1]
    while monday <= last:
        name, start = iso_week(monday)
        weeks.append({"week": name, "start": start.isoformat(), "count": counts.get(name, 0)})
        monday += timedelta(days=7)
    return weeks


def cumulative_flow(ctype: CardType, mine: list[Track], window: Window) -> list[dict]:
    """How many cards sat in each state at the end of each day of the window."""
    deltas: dict[date, dict[str, int]] = {}
    starts = []
    day_of = window.day
    for tr in mine:
        for state, start, stop in tr.stays:
            if start is None:
                continue
            starts.append(day_of(start))
            row = deltas.setdefault(starts[-1], {})
            row[state] = row.get(state, 0) + 1
            if stop is not None:
                row = deltas.setdefault(day_of(stop), {})
                row[state] = row.get(state, 0) - 1
    if not starts:
        return []
    first = window.since.date() if window.since else min(starts)
    last = (window.end - timedelta(microseconds=1)).date()
    keys = [s.key for s in ctype.states]
    counts = {k: 0 for k in keys}
    for day in sorted(d for d in deltas if d < first):
        for state, n in deltas[day].items():
            counts[state] = counts.get(state, 0) + n
    out = []
    day = first
    while day <= last:
        for state, n in deltas.get(day, {}).items():
            counts[state] = counts.get(state, 0) + n
        out.append({"date": day.isoformat(), "counts": {k: counts.get(k, 0) for k in keys}})
        day += timedelta(days=1)
    return out


def _after_sales(board: Board, all_tracks: dict[str, Track], cards: dict[str, Card], window: Window) -> dict:
    """After-sales cases (every queue type, `CardType.is_queue`) resolved in the window: hours
    to resolve, and how many within their due time."""
    queues = {key: ctype for key, ctype in board.config.types.items() if ctype.is_queue}
    resolved_from = {key: _resolved_index(ctype) for key, ctype in queues.items()}
    hours, within, with_due = [], 0, 0
    for tr in all_tracks.values():
        ctype = queues.get(tr.type)
        if ctype is None or tr.created is None:
            continue
        index = resolved_from[tr.type]
        when = next((start for state, start, _ in tr.stays
                     if start is not None and ctype.state_index(state) >= index), None)
        if when is None or not window.holds(when):
            continue
        hours.append(max(0.0, (when - tr.created) / 3600))
        due = due_moment(ctype, cards.get(tr.card), board.config.timezone)
        if due is not None:
            with_due += 1
            within += when <= due.timestamp()
    return {"resolved": len(hours), "median_hours": _round(percentile(hours, 0.5)),
            "p85_hours": _round(percentile(hours, 0.85)), "within_due": within, "with_due": with_due,
            "within_due_share": _share(within, with_due)}


def _resolved_index(ctype: CardType) -> int:
    """Where a case counts as resolved: its `resolved` state, else its first done state."""
    if ctype.state("resolved"):
        return ctype.state_index("resolved")
    return min((ctype.state_index(k) for k in ctype.done_states()), default=len(ctype.states))


def load(board: Board, type: str | None = None) -> list[dict]:
    """Each person's open cards (owner or helper) and how many are overdue, right now."""
    cfg = board.config
    rows = {key: {"person": key, "name": p.name, "open": 0, "overdue": 0, "by_type": {}}
            for key, p in cfg.people.items()}
    for card in board.cards():
        ctype = cfg.types.get(card.type)
        if ctype is None or card.state in ctype.done_states() or (type and card.type != type):
            continue
        due = None
        for person in people_of(card):
            row = rows.get(person)
            if row is None:
                continue
            row["open"] += 1
            row["by_type"][card.type] = row["by_type"].get(card.type, 0) + 1
            if due is None:
                due = card_due(cfg, card) or False
            row["overdue"] += bool(due and due.overdue)
    return list(rows.values())
