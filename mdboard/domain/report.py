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

from mdboard.core import cache, dates
from mdboard.core.config import CardType
from mdboard.git.history import CACHE_VERSION as HISTORY_VERSION, History, gc_paused
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
    facts = report_facts(board, history)
    by_type = facts.by_type()
    out = {"since": since.date().isoformat() if since else None,
           "until": (end - timedelta(microseconds=1)).date().isoformat() if until else None,
           "types": {}}
    for key, ctype in cfg.types.items():
        if type and key != type:
            continue
        out["types"][key] = _type_report(board, ctype, facts, by_type.get(key, []), cards, window, charts)
    out["after_sales"] = _after_sales(board, by_type, cards, window)
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
        if fact[F_CYCLE] is not None:
            cycle.append(fact[F_CYCLE])
            if charts:
                card = cards.get(fact[F_CARD])
                points.append({"card": fact[F_CARD], "title": card.title if card else (fact[F_TITLE] or fact[F_CARD]),
                               "finished": date.fromordinal(day).isoformat(), "days": round(fact[F_CYCLE], 2)})
        card = cards.get(fact[F_CARD])
        if card is not None:
            due = due_moment(ctype, card, tz)
            if due is not None:
                with_due += 1
                late += done > due.timestamp()
    points.sort(key=lambda p: (p["finished"], p["card"]))
    if window.start_ts is None and window.end_ts >= facts.latest:
        in_state = _time_in_state_now(ctype, mine, window.end_ts)
    else:
        in_state = _time_in_state(ctype, facts.tracks_of(mine), window)
    return {"label": ctype.label, "lead_time_days": summary(lead), "cycle_time_days": summary(cycle),
            "time_in_state_days": in_state,
            "throughput": _throughput(done_days, window.since, window.end),
            "finished": finished, "late": late, "with_due": with_due, "late_share": _share(late, with_due),
            "cumulative_flow": cumulative_flow(ctype, facts.tracks_of(mine), window) if charts else [],
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


def _time_in_state_now(ctype: CardType, mine: list[tuple], hi: float) -> dict:
    """`_time_in_state` for a window that starts with the history and ends after its last
    step (a report without --since): each card's closed stays are summed in its facts, only
    the stay it is still in grows to `hi`. The same figures, to the last bit: the same sums
    in the same order."""
    done = ctype.done_states()
    per_state: dict[str, list[float]] = {s.key: [] for s in ctype.states if s.key not in done}
    for fact in mine:
        closed, current = fact[F_CLOSED], fact[F_OPEN]
        if current is None:
            for state, days in closed:
                per_state[state].append(days)
            continue
        since = fact[F_OPEN_SINCE]
        extra = (hi - since) / DAY if hi > since else None
        for state, days in closed:
            if state == current and extra is not None:
                days, extra = days + extra, None
            per_state[state].append(days)
        if extra is not None:
            per_state[current].append(extra)
    return {key: {"label": ctype.state(key).label, "median": _round(percentile(vals, 0.5)),
                  "p85": _round(percentile(vals, 0.85)), "total": round(sum(vals), 2)}
            for key, vals in per_state.items()}


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


# --- each card's facts, kept per history head ---------------------------------------------------

FACTS_NAME = "report.cache"
FACTS_VERSION = (1, HISTORY_VERSION)  # what a fact holds, and the history rows they come from

# A card's facts: one flat tuple (100,000 of them unpickle in a blink, objects would not).
#   card, type; created, done (unix times or None); day = the day it finished (its ordinal in the
#   board's time zone); lead, cycle (days, for a finished card); title (its last in the history);
#   resolved (a queue case: when it first reached its resolved state); closed = ((state, days), …)
#   its ended stays summed per state that is not done, first stayed in first; open = the state it
#   is still in and open_since its start, if that state is not done.
(F_CARD, F_TYPE, F_CREATED, F_DONE, F_DAY, F_LEAD, F_CYCLE, F_TITLE, F_RESOLVED, F_CLOSED, F_OPEN,
 F_OPEN_SINCE) = range(12)

_KEPT: dict[str, "Facts"] = {}  # cache file -> the facts this process made or read last (serve's rebuilds)


class Facts:
    """What the report reads of each card's track (`cards`: card ID -> facts, in the order the
    history met the cards), made at one history head for one board configuration (`shape`).

    `count` is how many of the history's steps they were made from, `lineage` the history
    cache's (`History.lineage`): a newer head of the same lineage walks on only the tracks of
    the cards its new steps touch. The tracks themselves (`packed`) are read from the cache
    only when a report needs the stays (a window, the cumulative flow of the charts) or a
    newer head walks some of them on. `latest` is the last moment any step happened.
    """

    def __init__(self, head: str | None, lineage: str | None, count: int, shape: tuple, latest: float,
                 cards: dict[str, tuple] | None = None, packed: dict[str, tuple] | None = None, loader=None):
        self.head, self.lineage, self.count, self.shape, self.latest = head, lineage, count, shape, latest
        self._cards, self._packed, self._loader = cards, packed, loader
        self._by_type: dict[str, list[tuple]] | None = None

    def key(self) -> tuple:
        """What names these facts: every part of their cache file carries it."""
        return (self.head, self.lineage, self.count, self.shape, self.latest)

    @property
    def cards(self) -> dict[str, tuple] | None:
        """card ID -> its facts (see F_CARD …); None when the cache no longer holds them."""
        if self._cards is None:
            self._cards = self._loader(1)
        return self._cards

    @property
    def packed(self) -> dict[str, tuple] | None:
        """card ID -> its track, packed (see `_pack`); None when the cache no longer holds them."""
        if self._packed is None:
            self._packed = self._loader(2)
        return self._packed

    def by_type(self) -> dict[str, list[tuple]]:
        """type key -> the facts of its cards, in card order."""
        if self._by_type is None:
            out: dict[str, list[tuple]] = {}
            for fact in self.cards.values():
                found = out.get(fact[F_TYPE])
                if found is None:
                    out[fact[F_TYPE]] = [fact]
                else:
                    found.append(fact)
            self._by_type = out
        return self._by_type

    def tracks_of(self, facts: list[tuple]) -> list[Track]:
        """The tracks of these cards (unpacked afresh: the caller may keep them)."""
        packed = self.packed
        return [_unpack(fact[F_CARD], packed[fact[F_CARD]]) for fact in facts]


def report_facts(board: Board, history: History) -> Facts:
    """Each card's facts at the history's head, through `<state_dir>/report.cache`.

    At the cached head (and the same configuration) they are read as they are; at a newer
    head of the same history lineage only the cards the new steps touch are worked out
    again; otherwise every card is, from the history's steps. A History not read from git
    (no head) is never cached. The last facts are also kept in this process (a team
    server's rebuilds ask at every change)."""
    shape = _shape(board.config)
    head, lineage = history.head, getattr(history, "lineage", None)
    if head is None or board.git_dir is None:
        return _walk(None, history.steps(), shape, head, lineage)
    path = board.state_dir / FACTS_NAME
    kept = _KEPT.get(str(path))
    if kept is not None and kept.head == head and kept.shape == shape:
        return kept
    if kept is None or kept.lineage != lineage:
        kept = _from_cache(path)
        if kept is not None and kept.head == head and kept.shape == shape and kept.cards is not None:
            _KEPT[str(path)] = kept
            return kept
    steps = history.steps()
    base = kept if kept is not None and lineage and kept.lineage == lineage and kept.count <= len(steps) else None
    if base is not None and (base.packed is None or (base.shape == shape and base.cards is None)):
        base = None  # the cache changed under us: start afresh
    facts = _walk(base, steps, shape, head, lineage)
    key = facts.key()
    cache.save(path, "report", FACTS_VERSION, key, (key, facts.cards), (key, facts.packed))
    _KEPT[str(path)] = facts
    return facts


def _from_cache(path) -> Facts | None:
    """The facts cached in `path` (their parts read when first asked for), or None."""
    key = cache.load(path, "report", FACTS_VERSION, 0)
    if not (isinstance(key, tuple) and len(key) == 5):
        return None

    def part(index: int):
        with gc_paused():
            found = cache.load(path, "report", FACTS_VERSION, index)
        ok = isinstance(found, tuple) and len(found) == 2 and found[0] == key and isinstance(found[1], dict)
        return found[1] if ok else None

    return Facts(*key, loader=part)


def _walk(base: Facts | None, steps: list[tuple], shape: tuple, head: str | None, lineage: str | None) -> Facts:
    """The facts after `steps`: from `base` (made from the first base.count of them) walking
    on only the cards the later steps touch, else from nothing."""
    new = steps[base.count:] if base is not None else steps
    packed = dict(base.packed) if base is not None else {}
    walking: dict[str, Track] = {}
    for step in new:
        card = step[0]
        if card not in walking and card in packed:
            walking[card] = _unpack(card, packed[card])
    follow(walking, new)  # the cards new here are added in the order the history meets them
    info, day = _type_info(shape), Days(shape[0])
    for card, track in walking.items():
        packed[card] = _pack(track)  # a new card goes last, as in the history; a known one keeps its place
    if base is not None and base.shape == shape:
        cards = dict(base.cards)
        for card, track in walking.items():
            cards[card] = _fact(track, info, day)
    else:  # every card's facts (again: the configuration changed)
        cards = {card: _fact(walking.get(card) or _unpack(card, track), info, day) for card, track in packed.items()}
    latest = max(base.latest if base is not None else 0, max((step[6] for step in new), default=0))
    return Facts(head, lineage, len(steps), shape, latest, cards, packed)


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
