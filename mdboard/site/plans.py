"""The site's view of sales and plans: the overview's "next big sales" (countdowns and
whether a plan exists for each) and a campaign page's plan against actual (done / total
of the plan's cards, a small Gantt of planned against actual dates, the steps that
slipped and by how many days).

Everything is worked out here as text and percentages; the templates only place it.
What each part shows is hashed (`sales_key`, `plan_key`) so the incremental builder
remakes the overview or a campaign page only when that changed.
"""

from __future__ import annotations

from datetime import date, timedelta

from mdboard.site.render import digest

SHOWN_SALES = 6  # sales on the overview
AHEAD_DAYS = 200  # how far ahead the overview looks for sales


# --- the overview's next big sales -----------------------------------------------------------

def sales_context(data) -> list[dict]:
    """The next sales (not over, starting within AHEAD_DAYS), each with its countdown, dates,
    platforms, whether the dates are confirmed, and its plans or how to make one."""
    return data.once("sales_rows", lambda: _titled(data, data.settled("sales_rows", lambda: _sales_rows(data))))


def _titled(data, rows: list[dict]) -> list[dict]:
    """The rows with each plan's campaign card's title of the moment (the kept rows name the card's file)."""
    paths = {plan["main_path"] for row in rows for plan in row["plans"] if plan["main_path"]}
    cards = {card.path: card for card in data.card_list if card.path in paths} if paths else {}
    return [{**row, "plans": [{**plan, "title": cards[plan["main_path"]].title if plan["main_path"] else ""}
                              for plan in row["plans"]]} for row in rows]


def _sales_rows(data) -> list[dict]:
    """The overview's rows of next sales (see `sales_context`), without the plans' titles
    (`_titled` puts them in): every card is read for its plan, so the rows are kept while
    nothing but titles changed."""
    from mdboard.domain.plans import coming_sales
    from mdboard.domain.sales import date_label

    cfg = data.cfg
    rows, _ = coming_sales(data.board, AHEAD_DAYS, cards=data.card_list)
    out = []
    for row in rows[:SHOWN_SALES]:
        sale, cd = row.sale, row.countdown
        out.append({
            "id": f"{sale.key}-{sale.year}", "name": sale.name, "phase": cd.phase, "status": cd.text,
            "signup_days": cd.signup_days, "live_days": cd.live_days, "confirmed": sale.confirmed,
            "dates": [(date_label(k, cfg.language), data.renderer.dates.short(d), d.isoformat())
                      for k, d in sale.dates.items()],
            "platforms": [cfg.platforms.get(p, p) for p in sale.platforms],
            "plans": [{"name": p.name, "id": p.main.id if p.main else "", "main_path": p.main.path if p.main else "",
                       "cards": p.cards} for p in row.plans],
            "command": f"mdboard plan {row.playbooks[0].key}" if row.playbooks else "",
        })
    return out


def sales_key(data) -> str:
    return digest(repr(sales_context(data)))


# --- a campaign page's plan against actual ---------------------------------------------------

def plans_of(data) -> dict:
    """plan name -> (campaign card ID, member cards, step labels), worked out once per build."""
    return data.once("plan_index", lambda: _plan_index(data))


def _plan_index(data) -> dict:
    """The campaigns' plans (see `plans_of`)."""
    from mdboard.domain.playbooks import load_playbooks
    from mdboard.domain.plans import main_card, plan_index, read_ref

    books = load_playbooks(data.board.root, data.cfg).found
    out = {}
    for name, members in plan_index(data.card_list).items():
        first = read_ref(members[0].meta.get("plan"))
        pb = books.get(name.rsplit("-", 1)[0]) if first else None
        main = main_card(pb.main.key if pb and pb.main else _campaign_step(data, members), members)
        labels = {s.key: s.label for s in pb.steps.values()} if pb else {}
        out[name] = (main.id if main else None, members, labels)
    return out


def _campaign_step(data, members) -> str | None:
    """Without its playbook: the step of the plan's card whose type has milestones (a campaign)."""
    from mdboard.domain.plans import read_ref

    for card in members:
        ctype = data.cfg.types.get(card.type)
        ref = read_ref(card.meta.get("plan"))
        if ctype is not None and ctype.milestones and ref and not ref.sku:
            return ref.step
    return None


def plan_of_card(data, card) -> str | None:
    """The plan whose campaign card this is, or None (most cards: read from the card alone)."""
    if card.error or not card.meta.get("plan"):
        return None  # most cards: no plan, and domain.plans (~15 ms to import) is not needed
    from mdboard.domain.plans import read_ref

    ref = read_ref(card.meta.get("plan"))
    if ref is None or ref.sku:
        return None
    found = plans_of(data).get(ref.plan)
    return ref.plan if found and found[0] == card.id else None


def plan_key(data, card) -> str:
    """What the campaign page's plan section shows: its cards' front matter and git history."""
    name = plan_of_card(data, card)
    if name is None:
        return ""
    _, members, labels = plans_of(data)[name]
    history = data.history
    parts = [f"{c.id}:{data.states[c.path].meta_fp}:{history.card_key(c.id) if history else ''}" for c in members]
    return digest(name, data.today.isoformat(), labels, *parts)


def main_cards_of(data, card_ids) -> set[str]:
    """The campaign cards of the plans these cards belong to (their pages show them)."""
    names = set()
    for card_id in card_ids:
        card = data.cards.get(card_id)
        if card is None or card.error or not card.meta.get("plan"):
            continue  # no plan (most cards): domain.plans is not even imported
        from mdboard.domain.plans import read_ref

        ref = read_ref(card.meta.get("plan"))
        if ref is not None:
            names.add(ref.plan)
    if not names:
        return set()
    plans = plans_of(data)
    return {plans[n][0] for n in names if n in plans and plans[n][0]}


def plan_context(data, card) -> dict | None:
    """The plan section of a campaign page: done / total, Gantt rows, slips; None for other cards."""
    name = plan_of_card(data, card)
    if name is None:
        return None
    from mdboard.domain.plans import plan_progress

    _, members, labels = plans_of(data)[name]
    history = data.history
    events = (lambda card_id: history.for_card(card_id)) if history is not None else (lambda card_id: [])
    progress = plan_progress(data.cfg, name, members, card, events, data.today, labels)
    lo, hi = _axis(progress, data.today)
    span = (hi - lo).days + 1
    rows = [_row(data, r, lo, span) for r in progress.rows]
    return {"name": name, "done": progress.done, "total": progress.total,
            "pct": round(100 * progress.done / progress.total) if progress.total else 0,
            "rows": rows, "slipped": sorted((row for row in rows if row["late"]), key=lambda row: -row["late"]),
            "today_pct": _pct(data.today, lo, span, 0.5), "today_label": data.renderer.dates.short(data.today),
            "ticks": _ticks(data, lo, hi, span)}


def _row(data, r, lo: date, span: int) -> dict:
    """One plan card as a Gantt row: planned bar (made -> due), actual bar (started -> done or
    today), and what to say of its timing."""
    short = data.renderer.dates.short
    today = data.today
    planned = actual = None
    if r.planned_due is not None:
        start = min(r.planned_start or r.planned_due, r.planned_due)
        planned = _bar(start, r.planned_due, lo, span)
    if r.started is not None or r.finished is not None:
        start = r.started or r.finished
        actual = _bar(start, r.finished or today, lo, span)
    if r.slip is not None and r.slip > 0:
        note, late = data.text("plan_slip", n=r.slip), r.slip
    elif r.slip is not None and r.slip < 0:
        note, late = data.text("plan_early", n=-r.slip), 0
    elif r.slip == 0:
        note, late = data.text("plan_on_time"), 0
    elif r.late_open:
        note, late = data.text("plan_open_late", n=r.late_open), r.late_open
    elif r.finished is not None:
        note, late = data.text("plan_done"), 0
    elif r.started is not None:
        note, late = data.text("plan_open"), 0
    else:
        note, late = data.text("plan_not_started"), 0
    if r.finished is not None:
        detail = data.text("plan_detail_done", due=short(r.planned_due) if r.planned_due else "—", done=short(r.finished))
    else:
        detail = data.text("plan_detail_open", due=short(r.planned_due) if r.planned_due else "—")
    return {"id": r.card.id, "title": r.card.title, "label": r.label, "planned": planned, "actual": actual,
            "detail": detail,
            "done": r.finished is not None, "late": late, "note": note,
            "planned_text": short(r.planned_due) if r.planned_due else "—",
            "actual_text": short(r.finished) if r.finished else "—",
            "planned_iso": r.planned_due.isoformat() if r.planned_due else "",
            "actual_iso": r.finished.isoformat() if r.finished else ""}


def _axis(progress, today: date) -> tuple[date, date]:
    days = [today]
    for r in progress.rows:
        days += [d for d in (r.planned_start, r.planned_due, r.started, r.finished) if d is not None]
    return min(days) - timedelta(days=1), max(days) + timedelta(days=1)


def _pct(day: date, lo: date, span: int, offset: float = 0.0) -> float:
    return round(max(0.0, min(100.0, ((day - lo).days + offset) * 100 / span)), 2)


def _bar(start: date, end: date, lo: date, span: int) -> dict:
    left = _pct(start, lo, span)
    return {"left": left, "width": max(round(_pct(end, lo, span, 1.0) - left, 2), 0.8)}


def _ticks(data, lo: date, hi: date, span: int) -> list[dict]:
    """About six date labels along the axis."""
    step = max(1, round(span / 6))
    out, day = [], lo + timedelta(days=1)
    while day <= hi:
        out.append({"left": _pct(day, lo, span), "label": data.renderer.dates.short(day)})
        day += timedelta(days=step)
    return out
