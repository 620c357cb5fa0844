"""`mdboard demo`: the bundled demo board made into a living repository (domain.demo),
its site built and served."""

from __future__ import annotations

from pathlib import Path

import click

from mdboard.cli.common import collect_garbage, pass_ctx
from mdboard.core.i18n import t


@click.command("demo", help=t("history.help_demo"))
@click.option("--dir", "directory", default=".demo", show_default=True, type=click.Path(file_okay=False),
              help=t("history.opt_demo_dir"))
@click.option("--host", default="127.0.0.1", show_default=True, help=t("history.opt_host"))
@click.option("--port", default=8000, show_default=True, type=int, help=t("history.opt_port"))
@click.option("--no-serve", is_flag=True, help=t("history.opt_no_serve"))
@pass_ctx
def demo_command(ctx, directory, host, port, no_serve):
    from mdboard.core.store import Board
    from mdboard.domain.demo import make_demo
    from mdboard.git.history import load_history

    result = make_demo(Path(directory))
    board = Board.open(str(result.root))
    load_history(board)  # warm the history cache: the first standup is instant
    click.echo(t("history.demo_ready", path=result.root, commits=result.commits, people=result.people,
                 days=result.days))
    if no_serve:
        from mdboard.site.builder import build_site

        report = build_site(board)
        click.echo(t("history.demo_built", path=Path(report.out_dir) / "index.html"))
        click.echo(t("history.demo_try", path=result.root, exe=_exe()))
        return
    from mdboard.serve.http import serve_board

    collect_garbage()
    click.echo(t("history.demo_try", path=result.root, exe=_exe()))
    serve_board(board, click.echo, host=host, port=port, open_browser=False)


def _exe() -> str:
    """How to run mdboard from any folder: its full path unless it is on PATH."""
    import shutil
    import sys

    here = Path(sys.argv[0]).absolute() if sys.argv and sys.argv[0] else None  # a symlink named as typed
    on_path = shutil.which("mdboard")
    if here and here.name == "mdboard" and (not on_path or Path(on_path).resolve() != here.resolve()):
        return str(here)
    return "mdboard"
