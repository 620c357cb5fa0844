"""What every command shares: the Context (options and the board opened on first use),
the --json option and output, filter options, and the error class the CLI shows."""

from __future__ import annotations

import gc
import json

import click

from mdboard.core.errors import MdboardError, parenthesized
from mdboard.core.i18n import t


class MdboardCommandError(click.ClickException):
    """A library error shown in the board's language, exit 1."""

    def show(self, file=None):
        click.echo(t("cli.error_prefix") + self.format_message(), err=True)


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
        return self._board

    def actor(self):
        from mdboard.domain.ops import resolve_actor

        return resolve_actor(self.board, self.as_person)


def collect_garbage() -> None:
    """A long-running command (serve, watch, demo) collects garbage: `run` switched the
    cyclic collector off for the one-shot commands, and a server runs for weeks."""
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
    if result.note:
        click.echo(result.note, err=True)


def filter_options(f):
    for name, help_key in reversed([("--type", "cli.opt_type"), ("--state", "cli.opt_state"),
                                    ("--owner", "cli.opt_f_owner"), ("--platform", "cli.opt_platform"),
                                    ("--tag", "cli.opt_tag"), ("--due-before", "cli.opt_due_before")]):
        f = click.option(name, default=None, help=t(help_key))(f)
    return click.option("--overdue", is_flag=True, help=t("cli.opt_overdue"))(f)


def build_filter(board, type=None, state=None, owner=None, platform=None, tag=None, due_before=None,
                 overdue=False, text=None):
    """Turn filter options (keys, labels or names) into a views.Filter; bad values exit 1."""
    from mdboard.core import dates
    from mdboard.domain.views import Filter

    cfg = board.config
    ctype = board.config.find_type(type) if type else None
    flt = Filter(type=ctype.key if ctype else None, tag=tag, overdue=overdue, text=text)
    if state:
        flt.state = ctype.find_state(state) if ctype else state
    if owner:
        person = cfg.find_person(owner)
        if person is None:
            from mdboard.core.text import suggest

            raise MdboardError(parenthesized(t("fields.unknown_person", value=owner), suggest(owner, cfg.people)))
        flt.owner = person.key
    if platform:
        flt.platform = cfg.find_platform(platform)
        if flt.platform is None:
            from mdboard.core.text import suggest

            raise MdboardError(parenthesized(t("fields.unknown_platform", value=platform), suggest(platform, cfg.platforms)))
    if due_before:
        day = dates.parse_date(dates.relative_date(due_before, cfg.timezone) or due_before)
        if day is None:
            raise MdboardError(parenthesized(t("fields.not_date", value=due_before), t("fields.hint_date")))
        flt.due_before = day
    return flt
