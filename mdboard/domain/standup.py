"""The morning-meeting digest (晨会): what moved, what is due, what is stuck.

Short enough to read aloud: what each person did since the last working day (on
Monday, since Friday), the cards due today, the overdue ones, the blocked ones
(the next state's requirements unmet, a state over its WIP limit) and the
after-sales cases opened since. "Due" and "overdue" come from `views`, so they
mean the same here as in `ls`, `mine` and the site.
"""

from __future__ import annotations

from datetime import datetime

from mdboard.git.history import History, describe, last_working_day
from mdboard.core.i18n import t
from mdboard.domain.views import card_json
from mdboard.core.store import Board, Card
from mdboard.domain.views import id_sort_key, card_due, countdown

# What a standup reads out: progress, not every keystroke.
SHOWN_ACTIONS = ("created", "moved", "checklist", "deleted", "renumbered")
SHOWN_FIELDS = ("owner", "due")
TEXT_LIMIT = 12  # lines per section in the terminal digest


def compute_standup(board: Board, history: History, since: datetime | None = None) -> dict:
    """The digest as one JSON-ready dict."""
    cfg = board.config
    since = since or last_working_day(cfg.timezone)
    open_cards = [c for c in board.cards() if _is_open(board, c)]
    due_today, overdue = [], []
    for card in open_cards:
        due = card_due(cfg, card)
        if due is None:
            continue
        if due.overdue:
            overdue.append((due.days, card))
        elif due.days == 0:
            due_today.append((due.days, card))
    sort = lambda pairs: [c for _, c in sorted(pairs, key=lambda p: (p[0], id_sort_key(p[1].id)))]
    return {"since": since.isoformat(),
            "moved": moved(board, history, since),
            "due_today": [card_json(board, c, brief=True) for c in sort(due_today)],
            "overdue": [card_json(board, c, brief=True) for c in sort(overdue)],
            "blocked": blocked(board, open_cards),
            "over_wip": over_wip(board),
            "new_issues": new_issues(board, history, since)}


def _is_open(board: Board, card: Card) -> bool:
    ctype = board.config.types.get(card.type)
    return ctype is not None and ctype.state(card.state) is not None and card.state not in ctype.done_states()


def moved(board: Board, history: History, since: datetime) -> list[dict]:
    """Events since `since`, grouped by person (roster order, then other authors)."""
    order = {key: i for i, key in enumerate(board.config.people)}
    groups: dict[tuple, dict] = {}
    for event in history.since(since):
        if not shown(event):
            continue
        key = (order.get(event.person, len(order)), event.person or "", event.author)
        group = groups.setdefault(key, {"person": event.person, "name": event.author, "events": []})
        group["events"].append(event.to_dict() | {"text": describe(event, board)})
    return [groups[k] for k in sorted(groups)]


def shown(event) -> bool:
    """Whether a standup reads this event out (progress, not every keystroke)."""
    return event.action in SHOWN_ACTIONS or (event.action == "field" and event.field in SHOWN_FIELDS)


def blocked(board: Board, open_cards: list[Card]) -> list[dict]:
    """Open cards that cannot move on to their next state, with the reasons."""
    from mdboard.core.workflow import blocked_reasons

    out = []
    for card in sorted(open_cards, key=lambda c: (c.type, id_sort_key(c.id))):
        if card.error:
            continue
        reasons = blocked_reasons(board, card)
        if reasons:
            out.append({"card": card_json(board, card, brief=True), "reasons": reasons})
    return out


def over_wip(board: Board) -> list[dict]:
    """States holding more cards than their WIP limit."""
    counts: dict[tuple[str, str], int] = {}
    for card in board.cards():
        counts[(card.type, card.state)] = counts.get((card.type, card.state), 0) + 1
    out = []
    for key, ctype in board.config.types.items():
        for state in ctype.states:
            n = counts.get((key, state.key), 0)
            if state.wip and n > state.wip:
                out.append({"type": key, "state": state.key, "label": state.label, "count": n, "wip": state.wip,
                            "text": t("history.standup_over_wip", type=ctype.label, state=state.label, count=n, wip=state.wip)})
    return out


def new_issues(board: Board, history: History, since: datetime) -> list[dict]:
    """After-sales cases created since `since` that are still on the board."""
    cards = board.by_id()
    queues = {key for key, ctype in board.config.types.items() if ctype.is_queue}  # after-sales, by trait
    seen, out = set(), []
    for event in history.since(since):
        if event.action == "created" and event.type in queues and event.card in cards and event.card not in seen:
            seen.add(event.card)
            out.append(card_json(board, cards[event.card], brief=True))
    return out


# --- text ------------------------------------------------------------------------------

def standup_text(board: Board, data: dict) -> str:
    """The digest for the terminal, in the board's language."""
    from mdboard.core.dates import now, parse_datetime

    tz = board.config.timezone
    since = parse_datetime(data["since"], tz)
    lines = [t("history.standup_title", today=_day(now(tz)), since=_day(since))]
    lines += _section(t("history.standup_moved"), _moved_lines(data["moved"]))
    lines += _section(t("history.standup_due_today"), [_card_line(board, c) for c in data["due_today"]], len(data["due_today"]))
    lines += _section(t("history.standup_overdue"), [_card_line(board, c) for c in data["overdue"]], len(data["overdue"]))
    stuck = [_card_line(board, b["card"]) + " — " + "；".join(b["reasons"]) for b in data["blocked"]]
    stuck = [w["text"] for w in data.get("over_wip", [])] + stuck
    lines += _section(t("history.standup_blocked"), stuck, len(stuck))
    lines += _section(t("history.standup_new_issues"), [_card_line(board, c) for c in data["new_issues"]],
                      len(data["new_issues"]))
    return "\n".join(lines)


def _day(moment: datetime) -> str:
    from babel.dates import format_skeleton

    from mdboard.core.i18n import get_language

    return format_skeleton("MMMEd", moment, locale=get_language().replace("-", "_"))


def _section(title: str, items: list[str], count: int | None = None) -> list[str]:
    head = t("history.standup_heading", title=title) if count is None else \
        t("history.standup_heading_n", title=title, count=count)
    if not items:
        return ["", head, "  " + t("history.standup_none")]
    shown = items[:TEXT_LIMIT] if count is not None else items
    more = [f"  {t('history.standup_more', n=len(items) - len(shown))}"] if len(items) > len(shown) else []
    return ["", head] + [f"  {x}" for x in shown] + more


def _moved_lines(groups: list[dict]) -> list[str]:
    out = []
    for group in groups:
        out.append(group["name"])
        events = group["events"]
        out += [f"  · {e['text']}" for e in events[:TEXT_LIMIT]]
        if len(events) > TEXT_LIMIT:
            out.append(f"  {t('history.standup_more', n=len(events) - TEXT_LIMIT)}")
    return out


def _card_line(board: Board, data: dict) -> str:
    """`SKU-0042 蓝牙耳机 · 王丽 · 待审核 · 逾期 2 天`."""
    cfg = board.config
    parts = [f"{data['id']} {data.get('title') or ''}".strip()]
    owner = data.get("owner")
    if isinstance(owner, str):
        parts.append(cfg.person_name(owner))
    parts.append(data.get("state_label") or data["state"])
    status = data.get("due_status")
    if status:
        from mdboard.domain.views import Due

        parts.append(countdown(Due(status["value"], status["label"], status["days"], status["overdue"])))
    return " · ".join(parts)
