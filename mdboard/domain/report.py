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

from array import array
from bisect import bisect_left, insort
from functools import lru_cache

import math
from datetime import date, datetime, timedelta

from mdboard.core import cache, dates
from mdboard.core.config import CardType
from mdboard.git.history import CACHE_VERSION as HISTORY_VERSION, SHARDS, History, shard_of
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
    follow(out, history.steps())
    return out


def follow(out: dict[str, Track], steps) -> None:
    """Walk `out`'s tracks on through `steps` (a card met for the first time gets a track).

    Steps only ever extend a track, so the tracks made from the first n steps of a history,
    walked on through the rest, are the tracks of the whole history (see `report_facts`)."""
    for card_id, ctype, action, src, dst, title, when in steps:
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
    return _ranked(sorted(values), share)


def _ranked(xs: list[float], share: float) -> float | None:
    """`percentile` of values already sorted."""
    if not xs:
        return None
    pos = share * (len(xs) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _spread(values: list[float]) -> tuple[float | None, float | None]:
    """(median, 85th percentile), rounded, from one sort."""
    xs = sorted(values)
    return _round(_ranked(xs, 0.5)), _round(_ranked(xs, 0.85))


def summary(values: list[float]) -> dict:
    median, p85 = _spread(values)
    return {"median": median, "p85": p85, "count": len(values)}


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
    """
    return _report(board, history, since, until, type, charts)


def _report(board: Board, history: History, since: datetime | None, until: datetime | None, type: str | None,
            charts: bool) -> dict:
    cfg = board.config
    tz = cfg.timezone
    end = until or dates.now(tz)
    window = Window(since, end, Days(tz))
    cards = board.by_id()
    facts = report_facts(board, history)
    whole = since is None and window.end_ts > facts.latest  # every step of the history inside the window
    if (charts or not whole) and facts.entries() is None:  # the cards' snapshot is gone (another process)
        facts = report_facts(board, history, afresh=True)
    out = {"since": since.date().isoformat() if since else None,
           "until": (end - timedelta(microseconds=1)).date().isoformat() if until else None,
           "types": {}}
    for key, ctype in cfg.types.items():
        if type and key != type:
            continue
        if whole:
            figures = _type_whole(board, ctype, facts, cards, window, charts)
        else:
            figures = _type_report(board, ctype, facts, facts.by_type().get(key, []), cards, window, charts)
        out["types"][key] = figures
    out["after_sales"] = (_after_sales_whole(board, facts, cards) if whole
                          else _after_sales(board, facts.by_type(), cards, window))
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


def _type_report(board: Board, ctype: CardType, facts: "Facts", mine: list[tuple], cards: dict[str, Card],
                 window: Window, charts: bool = True) -> dict:
    """One type's figures in a window, from each card's facts (and its stays, for the time in state)."""
    tz = board.config.timezone
    lead, cycle, points = [], [], []
    finished = late = with_due = 0
    done_days: dict[int, int] = {}
    lo, hi = window.start_ts, window.end_ts
    for fact in mine:
        done = fact[F_DONE]
        if done is None or done >= hi or (lo is not None and done < lo):
            continue
        finished += 1
        day = fact[F_DAY]
        done_days[day] = done_days.get(day, 0) + 1
        if fact[F_LEAD] is not None:
            lead.append(fact[F_LEAD])
        card = cards.get(fact[F_CARD])
        if fact[F_CYCLE] is not None:
            cycle.append(fact[F_CYCLE])
            if charts:
                points.append(_point(cards, fact[F_CARD], fact[F_TITLE] or fact[F_CARD],
                                     date.fromordinal(day).isoformat(), round(fact[F_CYCLE], 2)))
        if card is not None:
            due = due_moment(ctype, card, tz)
            if due is not None:
                with_due += 1
                late += done > due.timestamp()
    points.sort(key=lambda p: (p["finished"], p["card"]))
    return _figures(ctype, summary(lead), summary(cycle), _time_in_state(ctype, facts.tracks_of(mine), window),
                    _throughput(done_days, window.since, window.end), finished, late, with_due,
                    cumulative_flow(ctype, facts.flows.get(ctype.key), window) if charts else [], points)


def _type_whole(board: Board, ctype: CardType, facts: "Facts", cards: dict[str, Card], window: Window,
                charts: bool) -> dict:
    """One type's figures over the whole history (no --since, the window ending after the last
    step): the tally kept with the facts (see `_tally`), with what changes without a commit
    worked out now: how late the finished cards still on the board are by their due field,
    and the time in the states the cards are still in."""
    whole = facts.whole.get(ctype.key) or _empty_tally(())
    tz = board.config.timezone
    late = with_due = 0
    done_by = whole[W_DONE]
    for card_id, card in cards.items():
        done = done_by.get(card_id)
        if done is not None:
            due = due_moment(ctype, card, tz)
            if due is not None:
                with_due += 1
                late += done > due.timestamp()
    points = []
    if charts:
        points = [_point(cards, *point) for point in facts.points(ctype.key)]
    return _figures(ctype, _summary_of(whole[W_LEAD]), _summary_of(whole[W_CYCLE]),
                    _time_in_state_whole(ctype, whole, window.end_ts),
                    _throughput(whole[W_DAYS], window.since, window.end), len(done_by), late, with_due,
                    cumulative_flow(ctype, facts.flows.get(ctype.key), window) if charts else [], points)


def _summary_of(xs) -> dict:
    """`summary` of values kept sorted."""
    return {"median": _round(_ranked(xs, 0.5)), "p85": _round(_ranked(xs, 0.85)), "count": len(xs)}


def _point(cards: dict[str, Card], card_id: str, title: str, finished: str, days: float) -> dict:
    """A finished card on the cycle time chart (titled as the board has it now)."""
    card = cards.get(card_id)
    return {"card": card_id, "title": card.title if card else title, "finished": finished, "days": days}


def _figures(ctype: CardType, lead: dict, cycle: dict, in_state: dict, throughput: list, finished: int, late: int,
             with_due: int, flow: list, points: list) -> dict:
    return {"label": ctype.label, "lead_time_days": lead, "cycle_time_days": cycle, "time_in_state_days": in_state,
            "throughput": throughput, "finished": finished, "late": late, "with_due": with_due,
            "late_share": _share(late, with_due), "cumulative_flow": flow, "cycle_points": points}


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
    return {key: _in_state(ctype.state(key).label, vals) for key, vals in per_state.items()}


def _in_state(label: str, vals: list[float]) -> dict:
    """Median, 85th percentile and total of the days the cards spent in a state. The total is
    the exactly rounded sum (`math.fsum`), the same whatever order the cards come in: the
    figures kept card by card (`_tally`) hold them in another order than the history's."""
    xs = sorted(vals)
    return {"label": label, "median": _round(_ranked(xs, 0.5)), "p85": _round(_ranked(xs, 0.85)),
            "total": round(math.fsum(xs), 2)}


def _time_in_state_whole(ctype: CardType, whole: list, hi: float) -> dict:
    """`_time_in_state` for a window from the history's start to `hi`, after its last step,
    from a type's tally (`_tally`): per state, the days of the cards no longer in it (kept
    sorted), and those of the cards still in it, which grow to `hi`. The same values as the
    stays give."""
    out = {}
    done = ctype.done_states()
    for state in ctype.states:
        if state.key in done:
            continue
        vals = list(whole[W_ENDED].get(state.key, ()))
        for before, since in whole[W_OPEN].get(state.key, {}).values():
            if hi > since:
                extra = (hi - since) / DAY
                vals.append(extra if before is None else before + extra)
            elif before is not None:
                vals.append(before)
        out[state.key] = _in_state(state.label, vals)
    return out


def _throughput(done_days: dict[int, int], since: datetime | None, end: datetime) -> list[dict]:
    """Cards finished per ISO week, every week of the window listed (zeros included);
    `done_days`: day (as its ordinal) -> cards finished that day."""
    if not done_days and since is None:
        return []
    first = since.date() if since else date.fromordinal(min(done_days))
    last = (end - timedelta(microseconds=1)).date()
    counts: dict[str, int] = {}
    for ordinal, n in done_days.items():
        week = iso_week(date.fromordinal(ordinal))[0]
        counts[week] = counts.get(week, 0) + n
    weeks = []
    monday = iso_week(first)[1]
    while monday <= last:
        name, start = iso_week(monday)
        weeks.append({"week": name, "start": start.isoformat(), "count": counts.get(name, 0)})
        monday += timedelta(days=7)
    return weeks


def cumulative_flow(ctype: CardType, flow: tuple | None, window: Window) -> list[dict]:
    """How many cards sat in each state at the end of each day of the window, from the type's
    `flow` (see `_flow_add`): what each day adds to and takes from each state, and how many
    stays began on each day."""
    deltas, starts = flow or ({}, {})
    begun = [day for day, n in starts.items() if n > 0]
    if not begun:
        return []
    first = window.since.date() if window.since else date.fromordinal(min(begun))
    last = (window.end - timedelta(microseconds=1)).date()
    keys = [s.key for s in ctype.states]
    counts = {k: 0 for k in keys}
    start = first.toordinal()
    for day in sorted(d for d in deltas if d < start):
        for state, n in deltas[day].items():
            counts[state] = counts.get(state, 0) + n
    out = []
    day = first
    while day <= last:
        for state, n in deltas.get(day.toordinal(), {}).items():
            counts[state] = counts.get(state, 0) + n
        out.append({"date": day.isoformat(), "counts": {k: counts.get(k, 0) for k in keys}})
        day += timedelta(days=1)
    return out


def _after_sales(board: Board, by_type: dict[str, list[tuple]], cards: dict[str, Card], window: Window) -> dict:
    """After-sales cases (every queue type, `CardType.is_queue`) resolved in the window: hours
    to resolve, and how many within their due time."""
    hours, within, with_due = [], 0, 0
    tz = board.config.timezone
    for key, ctype in board.config.types.items():
        if not ctype.is_queue:
            continue
        for fact in by_type.get(key, ()):
            when = fact[F_RESOLVED]
            if when is None or not window.holds(when):
                continue
            hours.append(max(0.0, (when - fact[F_CREATED]) / 3600))
            card = cards.get(fact[F_CARD])
            due = due_moment(ctype, card, tz) if card is not None else None
            if due is not None:
                with_due += 1
                within += when <= due.timestamp()
    median, p85 = _spread(hours)
    return {"resolved": len(hours), "median_hours": median, "p85_hours": p85, "within_due": within, "with_due": with_due,
            "within_due_share": _share(within, with_due)}


def _after_sales_whole(board: Board, facts: "Facts", cards: dict[str, Card]) -> dict:
    """`_after_sales` over the whole history: the hours kept with the facts; within due time
    worked out now, for the cases still on the board (their due field may change)."""
    hours, by_card = facts.whole.get(AFTER_SALES) or (array("d"), {})
    within = with_due = 0
    for card_id, card in cards.items():
        found = by_card.get(card_id)
        if found is not None:
            due = due_moment(board.config.types[found[0]], card, board.config.timezone)
            if due is not None:
                with_due += 1
                within += found[1] <= due.timestamp()
    return {"resolved": len(hours), "median_hours": _round(_ranked(hours, 0.5)),
            "p85_hours": _round(_ranked(hours, 0.85)), "within_due": within,
            "with_due": with_due, "within_due_share": _share(within, with_due)}


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


# --- each card's facts, kept per history head ---------------------------------------------------

FACTS_NAME = "report.cache"  # the figures over the whole history, the flows, the cards changed lately
CARDS_NAME = "report-cards.cache"  # each card's facts and track at one head, in shards: the snapshot the changes go on
FACTS_VERSION = (4, HISTORY_VERSION)  # what the facts hold, and the history rows they come from
SNAPSHOT_AFTER = 2000  # cards changed since the snapshot before a new one is written

# A card's facts: one flat tuple (100,000 of them unpickle in a blink, objects would not).
#   card, type; created, done (unix times or None); day = the day it finished (its ordinal in the
#   board's time zone); lead, cycle (days, for a finished card); title (its last in the history);
#   resolved (a queue case: when it first reached its resolved state); closed = ((state, days), …)
#   its ended stays summed per state that is not done, first stayed in first; open = the state it
#   is still in and open_since its start, if that state is not done.
(F_CARD, F_TYPE, F_CREATED, F_DONE, F_DAY, F_LEAD, F_CYCLE, F_TITLE, F_RESOLVED, F_CLOSED, F_OPEN,
 F_OPEN_SINCE) = range(12)
# A type's tally: its figures over the whole history, kept up to date card by card (see `_tally`):
# the lead and cycle times of its finished cards (sorted arrays), cards finished per day (ordinal
# -> n), when each finished card finished, and per state that is not done the days spent there by
# each card no longer in it (a sorted array) and, for each card still in it, (days of its ended
# stays there or None, since when it is in it again).
W_LEAD, W_CYCLE, W_DAYS, W_DONE, W_ENDED, W_OPEN = range(6)
AFTER_SALES = ""  # the after-sales tally, beside the types': hours to resolve (sorted), card -> (type, when)

_KEPT: dict[str, "Facts"] = {}  # state folder -> the facts this process made or read last (serve's rebuilds)


class Facts:
    """What the report reads of the history, made at one history head for one board
    configuration (`shape`), kept in two cache files and in this process:

    - `whole`: each type's tally (see W_LEAD …) and the after-sales one, all a report without
      --since reads but for what may change without a commit (the due fields of the cards on
      the board, the time the cards are still in their states); `flows`, each type's
      cumulative flow as what each day adds to and takes from each state;
    - each card's (facts, track) (see F_CARD …, `_pack`): on disk a snapshot made at some head
      (CARDS_NAME, in shards by card ID) and the cards changed since (`delta`, beside `whole`).
      A newer head reads the entries of the cards its steps touch (the delta, a shard or two);
      a report with a window or the cycle time chart reads them all (`entries`).

    `count` is how many of the history's steps they were made from, `lineage` the history
    cache's (`History.lineage`): a newer head of the same lineage walks on only the tracks of
    the cards its new steps touch, and takes their old facts out of the tallies and puts the
    new ones in. `latest` is the last moment any step happened.
    """

    def __init__(self, head: str | None, lineage: str | None, count: int, shape: tuple, latest: float,
                 loader=None, entries: dict | None = None, **parts):
        self.head, self.lineage, self.count, self.shape, self.latest = head, lineage, count, shape, latest
        self._loader = loader  # part name or shard number -> what the cache holds of it, or None
        self._parts = parts
        self._entries = entries
        self._shards: dict[int, dict | None] = {}
        self._by_type: dict[str, list[tuple]] | None = None
        self._points: dict[str, list[tuple]] = {}

    def key(self) -> tuple:
        """What names these facts: every part of their cache files carries it."""
        return (self.head, self.lineage, self.count, self.shape, self.latest)

    def part(self, name: str):
        """whole, flows or delta (snapshot key, card -> (facts, track)): read from the cache on
        first use (None when the cache no longer holds it)."""
        if self._parts.get(name) is None and self._loader is not None:
            self._parts[name] = self._loader(name)
        return self._parts.get(name)

    whole = property(lambda self: self.part("whole"))
    flows = property(lambda self: self.part("flows"))
    delta = property(lambda self: self.part("delta"))

    def entry(self, card_id: str):
        """The card's (facts, track), None for a card these facts do not know, or False when
        the cache no longer holds what it needs (another process rewrote it meanwhile)."""
        if self._entries is not None:
            return self._entries.get(card_id)
        delta = self.delta
        if delta is None:
            return False
        found = delta[1].get(card_id)
        if found is not None:
            return found
        shard = self._shard(shard_of(card_id))
        return False if shard is None else shard.get(card_id)

    def _shard(self, index: int) -> dict | None:
        if index not in self._shards:
            self._shards[index] = self._loader(index) if self._loader is not None else None
        return self._shards[index]

    def entries(self) -> dict | None:
        """card ID -> (facts, track) of every card (None when the cache no longer holds them)."""
        if self._entries is None:
            delta = self.delta
            shards = [self._shard(i) for i in range(SHARDS)] if delta is not None else [None]
            if any(shard is None for shard in shards):
                return None
            found: dict = {}
            for shard in shards:
                found.update(shard)
            found.update(delta[1])
            self._entries = found
        return self._entries

    def by_type(self) -> dict[str, list[tuple]]:
        """type key -> the facts of its cards."""
        if self._by_type is None:
            out: dict[str, list[tuple]] = {}
            for fact, _ in self.entries().values():
                out.setdefault(fact[F_TYPE], []).append(fact)
            self._by_type = out
        return self._by_type

    def points(self, key: str) -> list[tuple]:
        """The cycle time chart's points of a type over the whole history: (card, title, day
        finished, days), in the chart's order."""
        found = self._points.get(key)
        if found is None:
            found = self._points[key] = sorted(
                ((f[F_CARD], f[F_TITLE] or f[F_CARD], date.fromordinal(f[F_DAY]).isoformat(), round(f[F_CYCLE], 2))
                 for f in self.by_type().get(key, ()) if f[F_DONE] is not None and f[F_CYCLE] is not None),
                key=lambda p: (p[2], p[0]))
        return found

    def tracks_of(self, facts: list[tuple]) -> list[Track]:
        """The tracks of these cards (unpacked afresh: the caller may keep them)."""
        entries = self.entries()
        return [_unpack(fact[F_CARD], entries[fact[F_CARD]][1]) for fact in facts]

    def save(self, state_dir) -> None:
        """Write the small file, and the snapshot too when there is none yet or too many
        cards changed since it was made."""
        key = self.key()
        snapshot, changed = self.delta
        if snapshot is None or len(changed) > SNAPSHOT_AFTER:
            entries = self.entries()
            if entries is None:  # the snapshot the changes go on is gone: the next report starts afresh
                return
            shards: list[dict] = [{} for _ in range(SHARDS)]
            for card, entry in entries.items():
                shards[shard_of(card)][card] = entry
            cache.save(state_dir / CARDS_NAME, "report-cards", FACTS_VERSION, key,
                       *((key, shard) for shard in shards))
            self._parts["delta"] = (key, {})
        cache.save(state_dir / FACTS_NAME, "report", FACTS_VERSION, key, (key, self.whole), (key, self.flows),
                   (key, self.delta))


def report_facts(board: Board, history: History, afresh: bool = False) -> Facts:
    """The history's facts at its head (see `Facts`), through the board's report caches.

    At the cached head (and the same configuration) they are read as they are; at a newer
    head of the same history lineage only the cards the new steps touch are worked out
    again; otherwise (or `afresh`) every card is, from the history's steps. A History not
    read from git (no head) is never cached. The last facts are also kept in this process
    (a team server's rebuilds ask at every change)."""
    shape = _shape(board.config)
    head, lineage = history.head, getattr(history, "lineage", None)
    if head is None or board.git_dir is None:
        steps = history.steps()
        return _walk(None, steps, len(steps), shape, head, lineage)
    state_dir = board.state_dir
    kept = None if afresh else _KEPT.get(str(state_dir))
    if kept is not None and kept.head == head and kept.shape == shape:
        return kept
    if not afresh and (kept is None or kept.lineage != lineage):
        kept = _from_cache(state_dir)
        if kept is not None and kept.head == head and kept.shape == shape and kept.whole is not None:
            _KEPT[str(state_dir)] = kept
            return kept
    count = history.step_count()
    facts = None
    if kept is not None and lineage and kept.lineage == lineage and kept.count <= count:
        facts = _walk(kept, history.steps_after(kept.count), count, shape, head, lineage)
    if facts is None:  # no facts of an older head of this history (or the cache changed under us)
        facts = _walk(None, history.steps(), count, shape, head, lineage)
    facts.save(state_dir)
    _KEPT[str(state_dir)] = facts
    return facts


def _from_cache(state_dir) -> Facts | None:
    """The facts cached in `state_dir` (their parts read when first asked for), or None."""
    key = cache.load(state_dir / FACTS_NAME, "report", FACTS_VERSION, 0)
    if not (isinstance(key, tuple) and len(key) == 5):
        return None

    def part(path, kind: str, index: int, named: tuple):
        found = cache.load(path, kind, FACTS_VERSION, index)
        return found[1] if isinstance(found, tuple) and len(found) == 2 and found[0] == named else None

    def load(name):
        if isinstance(name, int):  # a shard of the snapshot the delta goes on
            delta = facts.delta
            found = part(state_dir / CARDS_NAME, "report-cards", 1 + name, delta[0]) if delta is not None else None
            return found if isinstance(found, dict) else None
        found = part(state_dir / FACTS_NAME, "report", ("whole", "flows", "delta").index(name) + 1, key)
        if name == "delta":
            return found if isinstance(found, tuple) and len(found) == 2 and isinstance(found[1], dict) else None
        return found if isinstance(found, dict) else None

    facts = Facts(*key, loader=load)
    return facts


def _walk(base: Facts | None, new: list[tuple], count: int, shape: tuple, head: str | None,
          lineage: str | None) -> Facts | None:
    """The facts after a history's `count` steps: from `base` (made from the first base.count
    of them) walking on only the cards the later steps (`new`) touch, else from nothing
    (`new` then holds all of them). None when `base`'s cache no longer holds what it needs."""
    if base is None:
        walking: dict[str, Track] = {}
        follow(walking, new)
        return _made(walking, count, shape, head, lineage, _latest(0, new))
    old: dict[str, tuple] = {}
    for step in new:
        card = step[0]
        if card not in old:
            found = base.entry(card)
            if found is False:
                return None
            old[card] = found
    if base.shape != shape:  # the configuration changed: every card's facts again, from its track
        entries = base.entries()
        if entries is None:
            return None
        walking = {card: _unpack(card, packed) for card, (_, packed) in entries.items()}
        follow(walking, new)
        return _made(walking, count, shape, head, lineage, _latest(base.latest, new))
    whole, flows, delta = base.whole, base.flows, base.delta
    if whole is None or flows is None or delta is None:
        return None
    walking = {card: _unpack(card, entry[1]) for card, entry in old.items() if entry is not None}
    follow(walking, new)
    info, day = _type_info(shape), Days(shape[0])
    whole, flows, changed = _copy_whole(whole), _copy_flows(flows), dict(delta[1])
    for card, track in walking.items():
        before = old.get(card)
        if before is not None:
            _tally(whole, before[0], -1, _place)
            _flow_add(flows, _unpack(card, before[1]), day, -1)
        fact = _fact(track, info, day)
        _tally(whole, fact, 1, _place)
        _flow_add(flows, track, day, 1)
        changed[card] = (fact, _pack(track))
    facts = Facts(head, lineage, count, shape, _latest(base.latest, new),
                  loader=base._loader if base._entries is None else None,
                  entries=None if base._entries is None else {**base._entries, **changed},
                  whole=whole, flows=flows, delta=(delta[0], changed))
    facts._shards = base._shards  # the same snapshot
    return facts


def _latest(before: float, steps: list[tuple]) -> float:
    return max(before, max((step[6] for step in steps), default=0))


def _made(tracks: dict[str, Track], count: int, shape: tuple, head: str | None, lineage: str | None,
          latest: float) -> Facts:
    """Facts made from every card's track (nothing cached to start from)."""
    info, day = _type_info(shape), Days(shape[0])
    entries, flows = {}, {}
    whole = _empty_whole(shape, list)
    for card, track in tracks.items():
        fact = _fact(track, info, day)
        entries[card] = (fact, _pack(track))
        _tally(whole, fact, 1, _append)
        _flow_add(flows, track, day, 1)
    for tally in whole.values():  # what `_place` keeps sorted one by one, sorted at once
        for index, values in enumerate(tally):
            if isinstance(values, list):
                tally[index] = array("d", sorted(values))
        if len(tally) > W_OPEN:
            ended = tally[W_ENDED]
            for state, values in ended.items():
                ended[state] = array("d", sorted(values))
    return Facts(head, lineage, count, shape, latest, entries=entries, whole=whole, flows=flows, delta=(None, {}))


def _tally(whole: dict, fact: tuple, sign: int, put) -> None:
    """Put a card's facts into its type's tally and the after-sales one (sign 1), or take them
    out (-1); `put(values, value, sign)` adds a value to a list of values or takes it away."""
    tally = whole.get(fact[F_TYPE])
    if tally is None:  # a type the configuration no longer has: no figure reads it
        return
    card, finished = fact[F_CARD], fact[F_DONE]
    if finished is not None:
        _count(tally[W_DAYS], fact[F_DAY], sign)
        if sign > 0:
            tally[W_DONE][card] = finished
        else:
            tally[W_DONE].pop(card, None)
        if fact[F_LEAD] is not None:
            put(tally[W_LEAD], fact[F_LEAD], sign)
        if fact[F_CYCLE] is not None:
            put(tally[W_CYCLE], fact[F_CYCLE], sign)
    current, opens = fact[F_OPEN], tally[W_OPEN]
    placed = False
    for state, spent in fact[F_CLOSED]:
        if state == current:
            placed = True
            _mark(opens[state], card, (spent, fact[F_OPEN_SINCE]), sign)
        else:
            put(tally[W_ENDED][state], spent, sign)
    if current is not None and not placed:
        _mark(opens[current], card, (None, fact[F_OPEN_SINCE]), sign)
    if fact[F_RESOLVED] is not None:
        hours, resolved_by = whole[AFTER_SALES]
        put(hours, max(0.0, (fact[F_RESOLVED] - fact[F_CREATED]) / 3600), sign)
        _mark(resolved_by, card, (fact[F_TYPE], fact[F_RESOLVED]), sign)


def _count(counts: dict, key, sign: int) -> None:
    n = counts.get(key, 0) + sign
    if n:
        counts[key] = n
    else:
        del counts[key]


def _mark(found: dict, card: str, value, sign: int) -> None:
    if sign > 0:
        found[card] = value
    else:
        found.pop(card, None)


def _append(values: list, value: float, sign: int) -> None:
    values.append(value)


def _place(values: array, value: float, sign: int) -> None:
    """Insert a value into sorted values (sign 1) or take one equal to it out (-1)."""
    if sign > 0:
        insort(values, value)
        return
    index = bisect_left(values, value)
    if index < len(values) and values[index] == value:
        del values[index]


def _empty_tally(states, kind=array) -> list:
    """A type's tally holding nothing, for these states (not done): its values in lists, to be
    sorted at the end, or in sorted arrays."""
    return [kind(), kind(), {}, {}, {state: kind() for state in states}, {state: {} for state in states}]


def _empty_whole(shape: tuple, kind=array) -> dict:
    """An empty tally for each type (see W_LEAD …) and the after-sales one."""
    out = {key: _empty_tally([state for state in states if state not in done], kind)
           for key, states, done, _ in shape[1]}
    out[AFTER_SALES] = [kind(), {}]
    return out


def _copy_whole(whole: dict) -> dict:
    out = {}
    for key, tally in whole.items():
        if key == AFTER_SALES:
            out[key] = [array("d", tally[0]), dict(tally[1])]
        else:
            out[key] = [array("d", tally[W_LEAD]), array("d", tally[W_CYCLE]), dict(tally[W_DAYS]),
                        dict(tally[W_DONE]), {state: array("d", values) for state, values in tally[W_ENDED].items()},
                        {state: dict(cards) for state, cards in tally[W_OPEN].items()}]
    return out


def _flow_add(flows: dict, track: Track, day: Days, sign: int) -> None:
    """Add (sign 1) or take away (-1) a track's stays to its type's cumulative flow:
    (day ordinal -> state -> cards entering minus cards leaving, day ordinal -> stays begun)."""
    deltas, starts = flows.setdefault(track.type, ({}, {}))
    for state, start, stop in track.stays:
        if start is None:
            continue
        begun = day(start).toordinal()
        starts[begun] = starts.get(begun, 0) + sign
        row = deltas.setdefault(begun, {})
        row[state] = row.get(state, 0) + sign
        if stop is not None:
            row = deltas.setdefault(day(stop).toordinal(), {})
            row[state] = row.get(state, 0) - sign


def _copy_flows(flows: dict) -> dict:
    return {key: ({day: dict(row) for day, row in deltas.items()}, dict(starts))
            for key, (deltas, starts) in flows.items()}


def _shape(cfg) -> tuple:
    """What the facts depend on in the configuration: the time zone, and each type's states,
    done states and (a queue type) where its cases count as resolved."""
    return (cfg.timezone, tuple((key, tuple(s.key for s in ctype.states), tuple(sorted(ctype.done_states())),
                                 _resolved_index(ctype) if ctype.is_queue else None)
                                for key, ctype in cfg.types.items()))


def _type_info(shape: tuple) -> dict:
    """type key -> (done states, first state, resolved index or None, state -> index)."""
    return {key: (frozenset(done), states[0], resolved, {s: i for i, s in reversed(list(enumerate(states)))})
            for key, states, done, resolved in shape[1]}


def _fact(tr: Track, info: dict, day: Days) -> tuple:
    """A card's facts (see F_CARD …) from its track."""
    kind = info.get(tr.type)
    if kind is None:  # a type the configuration no longer has: no figure reads it
        return (tr.card, tr.type, tr.created, None, None, None, None, tr.title, None, (), None, None)
    done_states, first, resolved_from, index = kind
    done = tr.finished(done_states)
    done_day = lead = cycle = None
    if done is not None:
        done_day = day(done).toordinal()
        if tr.created is not None:
            lead = _days(tr.created, done)
        start = tr.started(first)
        if start is not None:
            cycle = _days(start, done)
    resolved = None
    if resolved_from is not None and tr.created is not None:
        resolved = next((start for state, start, _ in tr.stays
                         if start is not None and index.get(state, -1) >= resolved_from), None)
    closed: dict[str, float] = {}
    current = since = None
    for state, start, stop in tr.stays:
        if start is None or state in done_states or state not in index:
            continue
        if stop is None:
            current, since = state, start
        elif stop > start:
            closed[state] = closed.get(state, 0.0) + (stop - start) / DAY
    return (tr.card, tr.type, tr.created, done, done_day, lead, cycle, tr.title, resolved, tuple(closed.items()),
            current, since)


def _pack(tr: Track) -> tuple:
    return (tr.type, tr.created, tr.title, tr.deleted, tuple(tuple(stay) for stay in tr.stays))


def _unpack(card: str, packed: tuple) -> Track:
    tr = Track(card, packed[0])
    tr.created, tr.title, tr.deleted = packed[1], packed[2], packed[3]
    tr.stays = [list(stay) for stay in packed[4]]
    return tr
