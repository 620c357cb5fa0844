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
from functools import lru_cache

import math
from datetime import date, datetime, timedelta

from mdboard.core import cache, dates
from mdboard.core.config import CardType
from mdboard.git.history import CACHE_VERSION as HISTORY_VERSION, History
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
    step): the figures kept with the facts, with what changes without a commit worked out
    now: how late the finished cards still on the board are by their due field, and the time
    in the states the cards are still in."""
    whole = facts.whole.get(ctype.key) or _EMPTY_WHOLE
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
    return _figures(ctype, dict(whole[W_LEAD]), dict(whole[W_CYCLE]), _time_in_state_whole(ctype, whole[W_STATES], window.end_ts),
                    _throughput(whole[W_DAYS], window.since, window.end), len(done_by), late, with_due,
                    cumulative_flow(ctype, facts.flows.get(ctype.key), window) if charts else [], points)


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
    median, p85 = _spread(vals)
    return {"label": label, "median": median, "p85": p85, "total": round(sum(vals), 2)}


def _time_in_state_whole(ctype: CardType, states: dict, hi: float) -> dict:
    """`_time_in_state` for a window from the history's start to `hi`, after its last step:
    per state, the days each card spent there in its ended stays (kept with the facts, in card
    order, NaN for a card whose only stay there has not ended) and the cards still in it
    (their place in that list, since when), which grow to `hi`. The same sums, in the same
    order, as the stays give."""
    out = {}
    done = ctype.done_states()
    for state in ctype.states:
        if state.key in done:
            continue
        base, opens = states.get(state.key, _NO_STAYS)
        vals = base.tolist()
        for i, since in opens:
            if hi > since:
                extra = (hi - since) / DAY
                vals[i] = extra if vals[i] != vals[i] else vals[i] + extra
        if opens:
            vals = [v for v in vals if v == v]  # a stay begun at or after `hi`
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
    resolved, median, p85, by_card = facts.whole.get(AFTER_SALES) or (0, None, None, {})
    within = with_due = 0
    for card_id, card in cards.items():
        found = by_card.get(card_id)
        if found is not None:
            due = due_moment(board.config.types[found[0]], card, board.config.timezone)
            if due is not None:
                with_due += 1
                within += found[1] <= due.timestamp()
    return {"resolved": resolved, "median_hours": median, "p85_hours": p85, "within_due": within,
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
CARDS_NAME = "report-cards.cache"  # each card's facts and track at one head: the snapshot the changes go on
FACTS_VERSION = (3, HISTORY_VERSION)  # what the facts hold, and the history rows they come from
SNAPSHOT_AFTER = 2000  # cards changed since the snapshot before a new one is written

# A card's facts: one flat tuple (100,000 of them unpickle in a blink, objects would not).
#   card, type; created, done (unix times or None); day = the day it finished (its ordinal in the
#   board's time zone); lead, cycle (days, for a finished card); title (its last in the history);
#   resolved (a queue case: when it first reached its resolved state); closed = ((state, days), …)
#   its ended stays summed per state that is not done, first stayed in first; open = the state it
#   is still in and open_since its start, if that state is not done.
(F_CARD, F_TYPE, F_CREATED, F_DONE, F_DAY, F_LEAD, F_CYCLE, F_TITLE, F_RESOLVED, F_CLOSED, F_OPEN,
 F_OPEN_SINCE) = range(12)
# A type's figures over the whole history (see `_wholes`): lead and cycle time summaries, cards
# finished per day (ordinal -> n), when each finished card finished, and per state that is not
# done (array of days in card order, NaN where a card's only stay there goes on; (index, since)
# of each card still in it).
W_LEAD, W_CYCLE, W_DAYS, W_DONE, W_STATES = range(5)
AFTER_SALES = ""  # the whole history's after-sales figures, beside the types' (no type has this key)
_NO_STAYS = (array("d"), ())
_EMPTY_WHOLE = (summary([]), summary([]), {}, {}, {})

_KEPT: dict[str, "Facts"] = {}  # state folder -> the facts this process made or read last (serve's rebuilds)


class Facts:
    """What the report reads of the history, made at one history head for one board
    configuration (`shape`), kept in two cache files and in this process:

    - `whole`: each type's figures over the whole history (and the after-sales figures), all a
      report without --since reads but for what may change without a commit (the due fields of
      the cards on the board, the time the cards are still in their states); `flows`, each
      type's cumulative flow as what each day adds to and takes from each state;
    - `cards`: card ID -> facts (see F_CARD …), in the order the history met the cards, and
      `packed`: card ID -> track (see `_pack`), read only for a window, the cycle time chart or
      a newer head. On disk they are a snapshot made at some head (CARDS_NAME) and the cards
      changed since (`delta`, beside `whole`): a commit rewrites the small file only.

    `count` is how many of the history's steps they were made from, `lineage` the history
    cache's (`History.lineage`): a newer head of the same lineage walks on only the tracks of
    the cards its new steps touch. `latest` is the last moment any step happened.
    """

    def __init__(self, head: str | None, lineage: str | None, count: int, shape: tuple, latest: float,
                 loader=None, **parts):
        self.head, self.lineage, self.count, self.shape, self.latest = head, lineage, count, shape, latest
        self._loader = loader
        self._parts = parts
        self._by_type: dict[str, list[tuple]] | None = None
        self._points: dict[str, list[tuple]] = {}

    def key(self) -> tuple:
        """What names these facts: every part of their cache files carries it."""
        return (self.head, self.lineage, self.count, self.shape, self.latest)

    def part(self, name: str):
        """whole, flows, delta (snapshot key, cards, packed), cards or packed: read from the
        cache on first use (None when the cache no longer holds it)."""
        if self._parts.get(name) is None and self._loader is not None:
            self._parts[name] = self._loader(name)
        return self._parts.get(name)

    whole = property(lambda self: self.part("whole"))
    flows = property(lambda self: self.part("flows"))
    delta = property(lambda self: self.part("delta"))
    cards = property(lambda self: self.part("cards"))
    packed = property(lambda self: self.part("packed"))

    def complete(self) -> bool:
        """Whether every part can be had (a cache another process rewrote meanwhile cannot)."""
        return all(self.part(name) is not None for name in ("whole", "flows", "delta", "cards", "packed"))

    def by_type(self) -> dict[str, list[tuple]]:
        """type key -> the facts of its cards, in card order."""
        if self._by_type is None:
            self._by_type = _group(self.cards)
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
        packed = self.packed
        return [_unpack(fact[F_CARD], packed[fact[F_CARD]]) for fact in facts]

    def save(self, state_dir) -> None:
        """Write the small file, and the snapshot too when there is none yet or too many
        cards changed since it was made."""
        key = self.key()
        snapshot, cards, packed = self.delta
        if snapshot is None or len(cards) > SNAPSHOT_AFTER:
            cache.save(state_dir / CARDS_NAME, "report-cards", FACTS_VERSION, key, (key, self.cards),
                       (key, self.packed))
            snapshot, cards, packed = self._parts["delta"] = (key, {}, {})
        cache.save(state_dir / FACTS_NAME, "report", FACTS_VERSION, key, (key, self.whole), (key, self.flows),
                   (key, (snapshot, cards, packed)))


def _group(cards: dict[str, tuple]) -> dict[str, list[tuple]]:
    out: dict[str, list[tuple]] = {}
    for fact in cards.values():
        out.setdefault(fact[F_TYPE], []).append(fact)
    return out


def report_facts(board: Board, history: History) -> Facts:
    """The history's facts at its head (see `Facts`), through the board's report caches.

    At the cached head (and the same configuration) they are read as they are; at a newer
    head of the same history lineage only the cards the new steps touch are worked out
    again; otherwise every card is, from the history's steps. A History not read from git
    (no head) is never cached. The last facts are also kept in this process (a team
    server's rebuilds ask at every change)."""
    shape = _shape(board.config)
    head, lineage = history.head, getattr(history, "lineage", None)
    if head is None or board.git_dir is None:
        steps = history.steps()
        return _walk(None, steps, len(steps), shape, head, lineage)
    state_dir = board.state_dir
    kept = _KEPT.get(str(state_dir))
    if kept is not None and kept.head == head and kept.shape == shape:
        return kept
    if kept is None or kept.lineage != lineage:
        kept = _from_cache(state_dir)
        if kept is not None and kept.head == head and kept.shape == shape and kept.whole is not None:
            _KEPT[str(state_dir)] = kept
            return kept
    count = history.step_count()
    base = kept if kept is not None and lineage and kept.lineage == lineage and kept.count <= count else None
    if base is not None and not base.complete():
        base = None  # the cache changed under us: start afresh
    new = history.steps_after(base.count) if base is not None else history.steps()
    facts = _walk(base, new, count, shape, head, lineage)
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

    def load(name: str):
        if name in ("whole", "flows", "delta"):
            found = part(state_dir / FACTS_NAME, "report", ("whole", "flows", "delta").index(name) + 1, key)
            return found if isinstance(found, dict) or (isinstance(found, tuple) and len(found) == 3) else None
        delta = facts.delta
        if delta is None:
            return None
        found = part(state_dir / CARDS_NAME, "report-cards", 1 if name == "cards" else 2, delta[0])
        if isinstance(found, dict):
            found.update(delta[1] if name == "cards" else delta[2])  # a new card goes last, a known one keeps its place
            return found
        return None

    facts = Facts(*key, loader=load)
    return facts


def _walk(base: Facts | None, new: list[tuple], count: int, shape: tuple, head: str | None,
          lineage: str | None) -> Facts:
    """The facts after a history's `count` steps: from `base` (made from the first base.count
    of them) walking on only the cards the later steps (`new`) touch, else from nothing
    (`new` then holds all of them)."""
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
        cards, flows = dict(base.cards), _copy_flows(base.flows)
        snapshot, changed, changed_packed = base.delta
        changed, changed_packed = dict(changed), dict(changed_packed)
        for card, track in walking.items():
            cards[card] = changed[card] = _fact(track, info, day)
            changed_packed[card] = packed[card]
            if card in base.packed:
                _flow_add(flows, _unpack(card, base.packed[card]), day, -1)
            _flow_add(flows, track, day, 1)
        delta = (snapshot, changed, changed_packed)
    else:  # every card's facts (again: the configuration changed)
        cards, flows, delta = {}, {}, (None, {}, {})
        for card, track in packed.items():
            track = walking.get(card) or _unpack(card, track)
            cards[card] = _fact(track, info, day)
            _flow_add(flows, track, day, 1)
    latest = max(base.latest if base is not None else 0, max((step[6] for step in new), default=0))
    return Facts(head, lineage, count, shape, latest, cards=cards, packed=packed, flows=flows,
                 whole=_wholes(cards, shape), delta=delta)


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


def _wholes(cards: dict[str, tuple], shape: tuple) -> dict:
    """type key -> its figures over the whole history (see W_LEAD …), and AFTER_SALES ->
    (cases resolved, median and 85th percentile of hours to resolve, card -> (type, when
    resolved))."""
    by_type = _group(cards)
    out = {}
    hours, resolved_by = [], {}
    for key, states, done, resolved in shape[1]:
        lead, cycle, days, done_by = [], [], {}, {}
        per_state = {state: ([], []) for state in states if state not in done}
        for fact in by_type.get(key, ()):
            finished = fact[F_DONE]
            if finished is not None:
                done_by[fact[F_CARD]] = finished
                days[fact[F_DAY]] = days.get(fact[F_DAY], 0) + 1
                if fact[F_LEAD] is not None:
                    lead.append(fact[F_LEAD])
                if fact[F_CYCLE] is not None:
                    cycle.append(fact[F_CYCLE])
            current, placed = fact[F_OPEN], False
            for state, spent in fact[F_CLOSED]:
                vals, opens = per_state[state]
                if state == current:
                    opens.append((len(vals), fact[F_OPEN_SINCE]))
                    placed = True
                vals.append(spent)
            if current is not None and not placed:
                vals, opens = per_state[current]
                opens.append((len(vals), fact[F_OPEN_SINCE]))
                vals.append(math.nan)
            if resolved is not None and fact[F_RESOLVED] is not None:
                hours.append(max(0.0, (fact[F_RESOLVED] - fact[F_CREATED]) / 3600))
                resolved_by[fact[F_CARD]] = (key, fact[F_RESOLVED])
        out[key] = (summary(lead), summary(cycle), days, done_by,
                    {state: (array("d", vals), tuple(opens)) for state, (vals, opens) in per_state.items()})
    out[AFTER_SALES] = (len(hours), *_spread(hours), resolved_by)
    return out


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
