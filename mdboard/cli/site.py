"""The site commands: `mdboard build`, `mdboard serve`, `mdboard watch`."""

from __future__ import annotations

from pathlib import Path

import click

from mdboard.cli.common import collect_garbage, emit_json, json_option, pass_ctx
from mdboard.core.i18n import t


# --- the command -----------------------------------------------------------------------------

@click.command("build", help=t("site.help_build"))
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False), default=None, metavar="DIR",
              help=t("site.opt_output"))
@click.option("--force", is_flag=True, help=t("site.opt_force"))
@json_option
@pass_ctx
def build_command(ctx, out_dir, force, as_json):
    from mdboard.site.builder import SiteBuilder

    board = ctx.board
    report = SiteBuilder(board, Path(out_dir) if out_dir else None).build_all(force=force)
    if as_json:
        emit_json(report.to_dict())
        return
    for problem in report.problems:
        click.echo(t("site.problem_line", line=problem.line()), err=True)
    click.echo(t("site.built", path=report.out_dir, pages=report.pages, written=len(report.written),
                 seconds=f"{report.seconds:.2f}"))


# --- the commands ------------------------------------------------------------------------


def _output_option(f):
    return click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False), default=None,
                        help=t("serve.help_output"))(f)


@click.command(help=t("cli.help_serve"))
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help=t("serve.help_port"))
@click.option("--host", default="127.0.0.1", show_default=True, help=t("serve.help_host"))
@click.option("--open", "open_browser", is_flag=True, help=t("serve.help_open"))
@click.option("--team", is_flag=True, help=t("web.help_team"))
@click.option("--name", "names", multiple=True, metavar="NAME", help=t("web.help_name"))
@click.option("--sync-every", type=click.FloatRange(min=5), default=None, metavar="SECONDS",
              help=t("web.help_sync_every"))
@_output_option
@pass_ctx
def serve_command(ctx, port, host, open_browser, team, names, sync_every, out_dir):
    from mdboard.serve.http import serve_board

    collect_garbage()
    serve_board(ctx.board, click.echo, host=host, port=port, open_browser=open_browser, out_dir=out_dir,
                team=team, names=names, sync_every=sync_every)


@click.command(help=t("cli.help_watch"))
@_output_option
@pass_ctx
def watch_command(ctx, out_dir):
    from mdboard.serve.live import watch_board

    collect_garbage()
    watch_board(ctx.board, click.echo, out_dir=out_dir)
