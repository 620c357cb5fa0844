"""`mdboard history / log / standup / report`: thin commands over history, standup and report."""

from __future__ import annotations

import click

from mdboard.cli.common import emit_json, json_option, pass_ctx
from mdboard.core.i18n import t


def _since_option(f):
    return click.option("--since", default=None, metavar="WHEN", help=t("history.opt_since"))(f)


def _moment(board, text, end=False):
    from mdboard.git.history import parse_moment

    return parse_moment(text, board.config.timezone, end=end) if text else None


def _stamp(event) -> str:
    return event.time.strftime("%Y-%m-%d %H:%M")


@click.command("history", help=t("history.help_history"))
@click.argument("card_id")
@json_option
@pass_ctx
def history_command(ctx, card_id, as_json):
    from mdboard.git.history import describe, load_history
    from mdboard.core.store import check_id

    board = ctx.board
    card_id = check_id(card_id)
    events = load_history(board).for_card(card_id)
    if not events:
        board.get(card_id)  # an unknown ID: the usual "no such card" message
    if as_json:
        emit_json({"card": card_id, "events": [e.to_dict() | {"text": describe(e, board)} for e in events]})
        return
    if not events:
        click.echo(t("history.no_events", id=card_id))
    for e in events:
        click.echo(f"{_stamp(e)}  {describe(e, board)}")


@click.command("log", help=t("history.help_log"))
@_since_option
@click.option("--who", default=None, metavar="PERSON", help=t("history.opt_who"))
@click.option("--type", "type_", default=None, help=t("history.opt_type"))
@click.option("-n", "--limit", default=50, show_default=True, help=t("history.opt_limit"))
@json_option
@pass_ctx
def log_command(ctx, since, who, type_, limit, as_json):
    from mdboard.git.history import describe, load_history, select_events

    board = ctx.board
    events = select_events(board, load_history(board), _moment(board, since), who, type_)
    events = list(reversed(events))
    if not since:
        events = events[:limit]
    if as_json:
        emit_json([e.to_dict() | {"text": describe(e, board)} for e in events])
        return
    if not events:
        click.echo(t("history.no_log"))
    for e in events:
        click.echo(f"{_stamp(e)}  {describe(e, board)}")


@click.command("standup", help=t("history.help_standup"))
@_since_option
@json_option
@pass_ctx
def standup_command(ctx, since, as_json):
    from mdboard.git.history import load_history
    from mdboard.domain.standup import compute_standup, standup_text

    board = ctx.board
    data = compute_standup(board, load_history(board), _moment(board, since))
    if as_json:
        emit_json(data)
    else:
        click.echo(standup_text(board, data))


@click.command("report", help=t("history.help_report"))
@_since_option
@click.option("--until", default=None, metavar="WHEN", help=t("history.opt_until"))
@click.option("--type", "type_", default=None, help=t("history.opt_type"))
@json_option
@pass_ctx
def report_command(ctx, since, until, type_, as_json):
    from mdboard.git.history import load_history
    from mdboard.domain.report import compute_report

    board = ctx.board
    key = board.config.find_type(type_).key if type_ else None
    data = compute_report(board, load_history(board), _moment(board, since), _moment(board, until, end=True), key,
                          charts=as_json)
    if as_json:
        emit_json(data)
    else:
        print_report(board, data)


def print_report(board, data: dict) -> None:
    """The report as tables: rich on a terminal, plain tab-separated columns in a pipe."""
    window = t("history.window", since=data["since"] or "…", until=data["until"] or t("history.now"))
    blocks: list = [f"{t('history.report_title')}  {window}"]
    flow = [[info["label"], str(info["finished"]), _pair(info["lead_time_days"]), _pair(info["cycle_time_days"]),
             _percent(info["late_share"], info["late"], info["with_due"])] for info in data["types"].values()]
    blocks.append(("", [t("history.col_type"), t("history.col_finished"), t("history.col_lead"),
                        t("history.col_cycle"), t("history.col_late")], flow))
    for info in data["types"].values():
        rows = [[s["label"], _num(s["median"]), _num(s["p85"]), _num(s["total"])]
                for s in info["time_in_state_days"].values()]
        blocks.append((t("history.time_in_state", type=info["label"]), [
            t("history.col_state"), t("history.col_median"), t("history.col_p85"), t("history.col_total")], rows))
        weeks = "  ".join(f"{w['week']}:{w['count']}" for w in info["throughput"][-8:])
        if weeks:
            blocks.append(t("history.throughput", weeks=weeks))
    sales = data["after_sales"]
    blocks.append(t("history.after_sales", resolved=sales["resolved"], median=_num(sales["median_hours"]),
                    within=_percent(sales["within_due_share"], sales["within_due"], sales["with_due"])))
    blocks.append(("", [t("history.col_person"), t("history.col_open"), t("history.col_overdue")],
                   [[row["name"], str(row["open"]), str(row["overdue"])] for row in data["load"]]))
    _print_blocks(blocks)


def _print_blocks(blocks: list) -> None:
    """Lines and (title, headers, rows) tables; rich is imported only for a terminal."""
    import sys

    if not sys.stdout.isatty():
        for block in blocks:
            if isinstance(block, str):
                click.echo(block)
                continue
            title, headers, rows = block
            if title:
                click.echo(title)
            click.echo("".join("\t".join(r) + "\n" for r in [headers] + rows), nl=False)
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    for block in blocks:
        if isinstance(block, str):
            console.print(block, highlight=False)
            continue
        title, headers, rows = block
        table = Table(*headers, title=title or None, header_style="bold")
        for row in rows:
            table.add_row(*row)
        console.print(table)


def _num(value) -> str:
    return "-" if value is None else f"{value:g}"


def _pair(summary: dict) -> str:
    if not summary["count"]:
        return "-"
    return t("history.median_p85", median=_num(summary["median"]), p85=_num(summary["p85"]))


def _percent(share, part: int, whole: int) -> str:
    return "-" if share is None else f"{share:.0%} ({part}/{whole})"
