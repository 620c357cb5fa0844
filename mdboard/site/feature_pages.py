"""Site pages made from other features' results: calendar feeds (`calendar`), the
report (复盘 charts from git history) and the standup digest (晨会)."""

from __future__ import annotations

from typing import Callable

from mdboard.site.render import digest
from mdboard.core.store import Board


def extras(data, board: Board, feed_parts: Callable[[], dict] | None = None,
           zone: Callable | None = None) -> dict[str, Callable]:
    """Optional pages by name: `calendar` (person key or None -> .ics bytes), and with
    history `report.html` / `standup.html` ((data, base, nav, dirty) -> Page).

    `feed_parts` gives the cache of each card's calendar events, `zone` the board time
    zone's `calendar.Zone` as kept (both called when first needed)."""
    out: dict[str, Callable] = {"calendar": Feeds(data, feed_parts or dict, zone)}
    if data.history is not None:
        out["report.html"] = history_page("report", report_context, report_facts, report_history, report_texts)
        out["standup.html"] = history_page("standup", standup_context, lambda d: d.untitled_key(), standup_history)
    return out


HISTORY_PAGES = {"report", "standup"}


def history_page(name: str, context: Callable, facts: Callable, history: Callable | None = None,
                 texts: Callable | None = None):
    """A page built from git history and today's board (report, standup): (data, base, nav,
    dirty) -> Page, `dirty` saying whether what it shows may have changed. `facts(data)`
    hashes what it shows of the board's cards but their titles, which `context(data,
    slots)` leaves as slots (see `site.slots`); `history(data)` what it shows of the
    history (default: the commit it was read at); `texts(data)` the sentences it leaves
    as slots, by name."""
    def page(data, base: str, nav, dirty: bool = True, changed=None):
        """`changed`: what changed since the last build (`pages.Dirty`), when known."""
        from mdboard.site.render import Page

        kept = data.kept
        made: list = []
        last = changed.before.get(f"{name}.html") if changed is not None and changed.titled \
            and not changed.everything else None
        since = (last[0], changed.titled) if last is not None else None

        def key_of_all_but_titles() -> str:
            if not made:
                read = history(data) if history is not None else data.history_key()
                made.append(digest(base, name, read, facts(data), data.today.isoformat()))
                made.append(texts(data) if texts is not None else {})
            return made[0]

        def html(slots) -> str:
            r = data.renderer
            return r.page(f"{name}.html", "", name, nav, today=data.today, **context(data, slots)).decode("utf-8")

        return Page(f"{name}.html", lambda: kept.page_key(name, key_of_all_but_titles(), data, made[1], since),
                    lambda: kept.page(name, key_of_all_but_titles(), data, html, made[1]), dirty=dirty)
    return page


def report_history(data) -> str:
    """What the report reads of the history: each card's way through its states (a commit
    that only edits, notes or ticks leaves them as they were). A hash of them, worked out
    once per commit (kept with the pages). A history from git names its steps by its lineage
    and how many there are (the same lineage: the first n steps are the same), which reads
    none of them; any other is hashed."""
    def steps_hash() -> str:
        import marshal

        history = data.history.real()
        if history.lineage is not None:
            return f"{history.lineage}:{history.step_count()}"
        return digest(marshal.dumps(history.steps(), 2))  # version 2: the bytes depend on the values only

    return data.kept.rows("report-steps", data.history_key(), steps_hash)


def standup_history(data) -> str:
    """What the standup reads of the history: the events it reads out since the last working
    day (a commit that adds a note leaves them as they were). A hash of them, worked out once
    per commit and day (kept with the pages)."""
    from mdboard.git.history import last_working_day

    since = last_working_day(data.cfg.timezone)

    def events_hash() -> str:
        from mdboard.domain.standup import shown

        return digest(*(repr(event) for event in data.history.since(since) if shown(event)))

    return data.kept.rows("standup-events", f"{data.history_key()}|{since.isoformat()}", events_hash)


def report_texts(data) -> dict[str, str]:
    """The report's sentences left as slots: how many changes it was worked out from
    (counted once per commit, kept with the pages: it counts every row of the history)."""
    count = data.kept.rows("report-events", data.history_key(), data.history.event_count)
    return {"lead": data.text("report_lead", n=count)}


def report_facts(data) -> str:
    """What the report shows of the cards but their titles: each card's type, state,
    people and dates."""
    cfg = data.cfg
    return data.settled("report_facts", lambda: digest(*(v.report_key(cfg) for v in data.views.values())))


class Feeds:
    """The calendar feeds, assembled from each card's events (`calendar.card_events`), which
    are kept in `parts` by card path and front matter: after one card changes, only its
    events are made again."""

    def __init__(self, data, parts: Callable[[], dict], zone: Callable | None = None):
        self.data = data
        self._parts = parts  # gives card path -> (meta_fp, event bytes), read when first needed
        self._zone_of = zone  # gives the calendar.Zone (None: worked out by the calendar)
        self._zone = None
        self.parts: dict = {}
        self._by_person: dict | None = None
        self._loaded = False
        self._watched: set = set()  # IDs of the cards whose events as kept before this build are kept
        self._replaced: dict[str, bytes | None] = {}  # card path -> their events as kept before this build

    def _known(self) -> dict:
        """The kept parts (read when first needed)."""
        if not self._loaded:
            self.parts, self._loaded = self._parts(), True
        return self.parts

    def part(self, card) -> bytes:
        from mdboard.domain.calendar import card_events

        meta_fp = self.data.states[card.path].meta_fp
        hit = self._known().get(card.path)
        if hit is not None and hit[0] == meta_fp:
            return hit[1]
        events = card_events(self.data.board, card, zone=self.zone())
        if card.id in self._watched:
            self._replaced.setdefault(card.path, hit[1] if hit is not None else None)
        self.parts[card.path] = (meta_fp, events)
        return events

    def watch(self, card_ids) -> None:
        """Keep the events of these cards as kept now, for `swaps` (asked before any part
        of this build is made)."""
        self._watched.update(card_ids)

    def swaps(self, person: str | None, card_ids) -> list[tuple[bytes, bytes]] | None:
        """(their events as kept before this build, their events now) of those of these
        cards that the board's feed (`person` None) or the person's holds - what a feed the
        last build wrote becomes after they changed (`site.swaps`); None when a card's
        kept events are unknown, or it gained or lost events, or a zone."""
        states = self.data.states
        out = []
        for card_id in card_ids:
            card = self.data.cards.get(card_id)
            if card is None:
                return None
            if person is not None and person not in states[card.path].people:
                continue
            new = self.part(card)
            old = self._replaced[card.path] if card.path in self._replaced else self.parts[card.path][1]
            if old is None or bool(old) != bool(new) or (b"\r\nDTSTART;TZID=" in old) != (b"\r\nDTSTART;TZID=" in new):
                return None
            if old:
                out.append((old, new))
        return out

    def zone(self):
        """The board time zone's calendar.Zone, asked for once per build (None: not kept)."""
        if self._zone is None and self._zone_of is not None:
            self._zone = self._zone_of()
        return self._zone

    def _feeds(self) -> dict:
        """person key (None: the board) -> the events of their cards, in feed order (type as
        configured, then ID); worked out once per build."""
        if self._by_person is None:
            from mdboard.domain.views import id_sort_key

            rank = {type_key: i for i, type_key in enumerate(self.data.cfg.types)}
            self._known()
            chosen = [(card, events) for card in self.data.card_list if (events := self.part(card))]
            chosen.sort(key=lambda pair: (rank[pair[0].type], id_sort_key(pair[0].id)))
            states = self.data.states
            self._by_person = {None: [events for _, events in chosen]}
            for card, events in chosen:
                for person in dict.fromkeys(states[card.path].people):
                    self._by_person.setdefault(person, []).append(events)
        return self._by_person

    def __call__(self, person: str | None) -> bytes:
        """The board's feed, or one person's (the cards they own or help with)."""
        from mdboard.domain.calendar import assemble

        return assemble(self.data.board, self._feeds().get(person, []), person, self.zone())

    def prune(self) -> None:
        """Forget the parts of cards that are gone."""
        for path in set(self.parts) - set(self.data.states):
            del self.parts[path]


def report_context(data, slots) -> dict:
    """compute_report's figures with the chart geometry worked out for each type (the
    titles of the scatter's cards left as `slots`)."""
    from mdboard.domain.report import compute_report
    from mdboard.site.charts import cumulative_flow_chart, cycle_scatter, state_bars, throughput_chart

    report = compute_report(data.board, data.history.real())
    for figures in report["types"].values():
        for point in figures["cycle_points"]:
            point["title"] = slots.title(point["card"], point["title"])
    types = []
    for key, figures in report["types"].items():
        ctype = data.cfg.types[key]
        types.append({"key": key, "label": figures["label"], "f": figures,
                      "flow": cumulative_flow_chart(data, ctype, figures["cumulative_flow"]),
                      "throughput": throughput_chart(data, figures["throughput"]),
                      "scatter": cycle_scatter(data, figures["cycle_points"], figures["cycle_time_days"]),
                      "states": state_bars(figures["time_in_state_days"])})
    has_queue = any(ctype.is_queue for ctype in data.cfg.types.values())
    return {"types": types, "after_sales": report["after_sales"] if has_queue else None,
            "load": report["load"], "lead": slots.text("lead")}


def standup_context(data, slots) -> dict:
    """compute_standup's digest with its times as datetimes for the template (the cards'
    titles left as `slots`)."""
    from datetime import datetime

    from mdboard.domain.standup import compute_standup

    digest_ = compute_standup(data.board, data.history.real())
    for card in [*digest_["due_today"], *digest_["overdue"], *digest_["new_issues"],
                 *(b["card"] for b in digest_["blocked"])]:
        if "title" in card:  # the title as written (what the page shows)
            card["title"] = slots.title(card["id"], card["title"])
    digest_["since_time"] = datetime.fromisoformat(digest_["since"])
    for group in digest_["moved"]:
        for event in group["events"]:
            event["when"] = datetime.fromisoformat(event["time"])
    return {"s": digest_}
