"""`mdboard notify` (the morning digest to group chats) and `mdboard mcp` (tools for assistants).

The library lives in `domain/notify.py` (composing, sending) and `serve/mcp_server.py`;
these commands parse options, call it, and print what happened.
"""

from __future__ import annotations

import json
import os

import click

from mdboard.cli.common import pass_ctx
from mdboard.core.errors import MdboardError
from mdboard.core.i18n import t


@click.command("notify", help=t("notify.help_notify"))
@click.option("--person", "person_lists", is_flag=True, help=t("notify.opt_person"))
@click.option("--robot", "robots", multiple=True, metavar="NAME", help=t("notify.opt_robot"))
@click.option("--dry-run", is_flag=True, help=t("notify.opt_dry_run"))
@pass_ctx
def notify_command(ctx, person_lists, robots, dry_run):
    from mdboard.domain.notify import lookup_secret, notify

    board = ctx.board
    if not board.config.notify.robots:
        click.echo(t("notify.no_robots"))
        return
    report = notify(board, robots, person_lists, dry_run)
    if dry_run:
        for out in report.planned:
            robot = out.robot
            click.echo(t("notify.dry_run_head", robot=robot.key, platform=t(f"notify.platform_{robot.platform}"),
                         n=len(out.payloads)))
            for payload in out.payloads:
                click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
            if not lookup_secret(robot.webhook_env, os.environ):
                click.echo(t("notify.dry_run_missing", env=robot.webhook_env), err=True)
        click.echo(t("notify.dry_run_done"), err=True)
        return
    for result in report.robots:
        if result.sent:
            click.echo(t("notify.sent", robot=result.robot, platform=t(f"notify.platform_{result.platform}"),
                         n=result.sent))
        if result.error:
            click.echo(result.error, err=True)
    if report.failed:
        raise MdboardError(t("notify.some_failed", n=len(report.failed)))


@click.command("mcp", help=t("mcp.help_mcp"))
@pass_ctx
def mcp_command(ctx):
    from mdboard.serve.mcp_server import serve_stdio

    serve_stdio(ctx.board_path, ctx.as_person, ctx.no_commit)
