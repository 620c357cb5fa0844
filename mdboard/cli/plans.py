"""The campaign commands: `plan` (a playbook made into cards for a sale, or rolled over
from last year's campaign) and `sales` (the big-sale calendar, what is coming).

Each parses its options, calls one library function (domain.plans) and prints the
result as text or --json.
"""

from __future__ import annotations

import click

from mdboard.cli.common import emit_json, json_option, pass_ctx
from mdboard.core.i18n import join_list, t


@click.command(help=t("plans.help_plan"))
@click.argument("playbook", required=False)
@click.option("--date", "dates", multiple=True, metavar="NAME=YYYY-MM-DD", help=t("plans.opt_date"))
@click.option("--sku", "skus", multiple=True, metavar="ID,ID…", help=t("plans.opt_sku"))
@click.option("--year", type=int, default=None, help=t("plans.opt_year"))
@click.option("--like", default=None, metavar="CMP-…", help=t("plans.opt_like"))
@click.option("--owner", "owners", multiple=True, metavar="ROLE=PERSON", help=t("plans.opt_owner"))
@click.option("--apply", "apply_", is_flag=True, help=t("plans.opt_apply"))
@json_option
@pass_ctx
def plan_command(ctx, playbook, dates, skus, year, like, owners, apply_, as_json):
    from mdboard.domain.plans import PlanRequest, apply_plan, make_plan

    board = ctx.board
    if playbook is None:
        _list_playbooks(board, as_json)
        return
    request = PlanRequest(playbook, list(dates), list(skus), year, like, list(owners))
    plan = apply_plan(board, request, ctx.actor(), ctx.no_commit) if apply_ else make_plan(board, request)
    if as_json:
        emit_json(plan.to_dict() | {"applied": apply_})
    else:
        click.echo(plan_text(board, plan, apply_))


def _list_playbooks(board, as_json: bool) -> None:
    from mdboard.domain.playbooks import load_playbooks

    books = load_playbooks(board.root, board.config)
    if as_json:
        emit_json([{"key": pb.key, "label": pb.label, "path": pb.path, "sale": pb.sale, "cards": list(pb.steps)}
                   for pb in books.found.values()])
        return
    for pb in books.found.values():
        click.echo(t("plans.list_line", key=pb.key, label=pb.label, path=pb.path,
                     steps=join_list(s.label for s in pb.steps.values())))
    for p in books.problems:
        click.echo(p.line(), err=True)
    if not books.found:
        click.echo(t("playbooks.hint_none"), err=True)


def plan_text(board, plan, applied: bool) -> str:
    """What a plan makes: key dates and where they came from, each card with its owner and
    why, its dates and links; what exists already; what was written or how to write it."""
    from mdboard.core.text import printable

    cfg = board.config
    pb = plan.playbook
    lines = [t("plans.head", plan=plan.name, label=pb.label, path=pb.path)]
    if plan.like is not None:
        lines.append(t("plans.head_like", id=plan.like.id, title=plan.like.title))
    if plan.sale is not None:
        key = "plans.head_sale" if plan.sale.confirmed else "plans.head_sale_unconfirmed"
        lines.append(t(key, sale=plan.sale.name, path=plan.sale.path))
    lines.append(t("plans.key_dates"))
    for d in plan.days:
        source = d.how if d.source == "default" else t("plans.source_" + d.source)
        lines.append(f"  {d.label}  {d.day.isoformat()}  {source}")
    if plan.new:
        lines += ["", t("plans.made" if applied else "plans.will_make", n=len(plan.new))]
        for planned in plan.new:
            lines += _card_lines(cfg, planned)
    if plan.existing:
        lines += ["", t("plans.existing", n=len(plan.existing),
                        ids=join_list(c.id for c in plan.existing[:12]) + ("…" if len(plan.existing) > 12 else ""))]
    for card, _ in plan.updated:
        lines.append(t("plans.linked", id=card.id, title=card.title))
    if plan.skipped:
        lines += ["", t("plans.skipped", steps=join_list(s.label for s in plan.skipped))]
    lines.append("")
    if not plan.new and not plan.updated:
        lines.append(t("plans.nothing_new", plan=plan.name))
    elif applied:
        lines.append(t("plans.applied", n=len(plan.new)) + (f"  [{plan.commit[:8]}]" if plan.commit else ""))
    else:
        lines.append(t("plans.preview_only"))
    return printable("\n".join(lines))


def _card_lines(cfg, planned) -> list[str]:
    from mdboard.core.errors import parenthesized
    from mdboard.core.fields import display

    card = planned.card
    ctype = cfg.types[card.type]
    lines = [f"  {card.id}  {ctype.label}  {card.title}",
             f"      {ctype.fields['owner'].label if 'owner' in ctype.fields else 'owner'} {planned.owner_note}"]
    when = [parenthesized(f"{ctype.fields[key].label} {card.meta.get(key)}",
                          "" if offset == ctype.fields[key].label else offset)  # 报名截止 2027-09-22（报名截止）: said once
            for key, offset in planned.offsets.items()]
    if when:
        lines.append("      " + " · ".join(when))
    links = [f"{fd.label} {display(fd, card.meta[fd.key], cfg)}" for fd in ctype.fields.values()
             if fd.type in ("link", "links") and card.meta.get(fd.key)]
    if links:
        lines.append("      → " + " · ".join(links))
    if card.checklist:
        lines.append("      " + t("plans.checklist_items", n=len(card.checklist)))
    return lines


@click.command(help=t("sales.help_sales"))
@click.option("--all", "everything", is_flag=True, help=t("sales.opt_all"))
@click.option("--days", type=click.IntRange(min=0), default=None, help=t("sales.opt_days"))
@json_option
@pass_ctx
def sales_command(ctx, everything, days, as_json):
    from mdboard.domain.plans import coming_sales

    board = ctx.board
    rows, problems = coming_sales(board, days, everything)
    if as_json:
        emit_json([_sale_json(row) for row in rows])
    else:
        click.echo(sales_text(board, rows))
    for p in problems:
        click.echo((t("cli.warning_prefix") if p.level == "warning" else "") + p.line(), err=True)


def _sale_json(row) -> dict:
    sale, cd = row.sale, row.countdown
    return {"key": sale.key, "year": sale.year, "label": sale.label, "path": sale.path, "platforms": sale.platforms,
            "confirmed": sale.confirmed, "dates": {k: v.isoformat() for k, v in sale.dates.items()},
            "phase": cd.phase, "signup_days": cd.signup_days, "live_days": cd.live_days, "end_days": cd.end_days,
            "status": cd.text, "playbooks": [pb.key for pb in row.playbooks],
            "plans": [{"plan": p.name, "card": p.main.id if p.main else None, "cards": p.cards} for p in row.plans]}


def sales_text(board, rows) -> str:
    """Each sale on two lines: name, what is next and how many days are left; its dates,
    platforms, whether they are confirmed, and its plan (or how to make one)."""
    from mdboard.core import dates
    from mdboard.core.errors import parenthesized
    from mdboard.core.text import printable
    from mdboard.domain.sales import date_label

    cfg = board.config
    sep = "、" if cfg.language == "zh-CN" else ", "
    lines = [t("sales.today", day=dates.today(cfg.timezone).isoformat())]
    if not rows:
        lines.append(t("sales.none"))
    for row in rows:
        sale = row.sale
        lines.append("")
        lines.append(f"{sale.name}  {row.countdown.text}" + ("" if sale.confirmed else f"  [{t('sales.unconfirmed')}]"))
        days = " · ".join(f"{date_label(k)} {d.isoformat()}" for k, d in sale.dates.items())
        lines.append("  " + parenthesized(days, sep.join(cfg.platforms.get(p, p) for p in sale.platforms)))
        lines.append("  " + _plan_status(row))
    return printable("\n".join(lines))


def _plan_status(row) -> str:
    if row.plans:
        return " · ".join(t("sales.plan_made", plan=p.name, id=p.main.id if p.main else "-",
                            title=p.main.title if p.main else "", n=p.cards) for p in row.plans)
    if row.playbooks:
        return t("sales.plan_missing", command=f"mdboard plan {row.playbooks[0].key} --sku …")
    return t("sales.no_playbook", sale=row.sale.key)
