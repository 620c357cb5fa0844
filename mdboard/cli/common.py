"""What every command shares: the Context (options and the board opened on first use),
the --json option and output, filter options, and the error class the CLI shows."""

from __future__ import annotations

import gc
import json
import os

import click

from mdboard.core.i18n import set_language, t


class MdboardCommandError(click.ClickException):
    """A library error shown in the board's language, exit 1."""

    def show(self, file=None):
        click.echo(t("cli.error_prefix") + self.format_message(), err=True)


class MdboardUsageError(MdboardCommandError):
    """A name the board does not know, given as an option or argument: a usage mistake, exit 2."""

    exit_code = 2


class Context:
    """Options shared by every command, and the board opened on first use."""

    def __init__(self, board_path, as_person, no_commit):
        self.board_path = board_path
        self.as_person = as_person
        self.no_commit = no_commit
        self._board = None

    @property
    def board(self):
        if self._board is None:
            from mdboard.core.store import Board

            self._board = Board.open(self.board_path)
            if os.environ.get("MDBOARD_LANG"):  # the person's own choice wins over the board's
                set_language(os.environ["MDBOARD_LANG"])
        return self._board

    def actor(self):
        from mdboard.domain.ops import resolve_actor

        return resolve_actor(self.board, self.as_person)


# Python's own collection thresholds. `main` raises them for the one-shot commands; a
# server kept them and never ran a full collection: after ~7,000 team-board actions 1.3 M
# objects waited for one and RSS had grown 414 -> 1,497 MB over 1,000 -> 10,000 actions
# (bench/bench_team.py --memory-only; with these, 147 -> 165 MB over 1,000 -> 6,000).
LONG_RUNNING_THRESHOLDS = (700, 10, 10)


def collect_garbage() -> None:
    """A long-running command (serve, watch, demo) collects garbage as Python does by
    default: `run` switched the cyclic collector off and `main` raised its thresholds for
    the one-shot commands, and a server runs for weeks."""
    gc.set_threshold(*LONG_RUNNING_THRESHOLDS)
    gc.enable()


pass_ctx = click.make_pass_decorator(Context)


def json_option(f):
    return click.option("--json", "as_json", is_flag=True, help=t("cli.opt_json"))(f)


def emit_json(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def report_result(result, verb: str) -> None:
    """One line saying what happened, plus a note (e.g. not committed)."""
    card = result.card
    line = t(verb, id=card.id, title=card.title, path=card.path)
    if result.commit:
        line += f"  [{result.commit[:8]}]"
    click.echo(line)
    for said in result.understood:
        click.echo(said)
    if result.note:
        click.echo(result.note, err=True)


def filter_options(f):
    for name, help_key in reversed([("--type", "cli.opt_type"), ("--state", "cli.opt_state"),
                                    ("--owner", "cli.opt_f_owner"), ("--platform", "cli.opt_platform"),
                                    ("--tag", "cli.opt_tag"), ("--due-before", "cli.opt_due_before")]):
        f = click.option(name, default=None, help=t(help_key))(f)
    return click.option("--overdue", is_flag=True, help=t("cli.opt_overdue"))(f)
