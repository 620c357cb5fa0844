"""`mdboard archive`: file finished cards older than N days away into their state's year folder.

The library lives in `domain/archive.py`; this command parses the options, calls it and
says what moved.
"""

from __future__ import annotations

import click

from mdboard.cli.common import emit_json, json_option, pass_ctx
from mdboard.core.i18n import t


@click.command("archive", help=t("archive.help_archive"))
@click.option("--days", type=click.IntRange(min=0), default=None, help=t("archive.opt_days"))
@click.option("--dry-run", is_flag=True, help=t("archive.opt_dry_run"))
@json_option
@pass_ctx
def archive_command(ctx, days, dry_run, as_json):
    from mdboard.domain.archive import archive, archive_days

    days = archive_days(ctx.board, days)  # --days, else mdboard.yaml's archive.days
    result = archive(ctx.board, days, ctx.actor(), ctx.no_commit, dry_run)
    if as_json:
        emit_json({"moved": [{"id": a.card.id, "from": a.card.path, "to": a.path,
                              "finished": a.finished.isoformat()} for a in result.moved],
                   "commits": result.commits, "dry_run": dry_run})
        return
    for item in result.moved:
        click.echo(f"{item.card.id}  {item.card.path} → {item.path}")
    if not result.moved:
        click.echo(t("archive.nothing", days=days))
    elif dry_run:
        click.echo(t("archive.would_move", count=len(result.moved), days=days))
    else:
        click.echo(t("archive.moved", count=len(result.moved), commits=len(result.commits)))
    if result.note:
        click.echo(result.note, err=True)
