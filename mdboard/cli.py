"""The `mdboard` command line: options in, one library call, output out.

Commands of the larger features live in their own modules and are imported only
when run (see LAZY_COMMANDS), so `mdboard --help` starts in a blink. Library
errors (MdboardError) become a one-line message and exit 1; usage mistakes exit 2.
"""

from __future__ import annotations

import json
import os
import sys

import click

from .errors import MdboardError, parenthesized
from .i18n import t

# name -> ("module:attribute", short help key). Imported only when the command runs.
LAZY_COMMANDS = {
    "build": ("mdboard.site:build_command", "cli.help_build"),
    "serve": ("mdboard.serve:serve_command", "cli.help_serve"),
    "watch": ("mdboard.serve:watch_command", "cli.help_watch"),
    "history": ("mdboard.history_cli:history_command", "cli.help_history"),
    "log": ("mdboard.history_cli:log_command", "cli.help_log"),
    "standup": ("mdboard.history_cli:standup_command", "cli.help_standup"),
    "report": ("mdboard.history_cli:report_command", "cli.help_report"),
    "demo": ("mdboard.demo:demo_command", "cli.help_demo"),
    "sync": ("mdboard.teams:sync_command", "cli.help_sync"),
    "hooks": ("mdboard.teams:hooks_command", "cli.help_hooks"),
    "import": ("mdboard.spreadsheet:import_command", "cli.help_import"),
    "export": ("mdboard.spreadsheet:export_command", "cli.help_export"),
    "schema": ("mdboard.schema:schema_command", "cli.help_schema"),
}


class MdboardCommandError(click.ClickException):
    """A library error shown in the board's language, exit 1."""

    def show(self, file=None):
        click.echo(t("cli.error_prefix") + self.format_message(), err=True)


class LazyGroup(click.Group):
    """A click group that imports feature commands on first use."""

    def list_commands(self, ctx):
        return sorted(set(super().list_commands(ctx)) | set(LAZY_COMMANDS))

    def get_command(self, ctx, name):
        if name in LAZY_COMMANDS and name not in self.commands:
            import importlib

            module, _, attr = LAZY_COMMANDS[name][0].partition(":")
            try:
                self.add_command(getattr(importlib.import_module(module), attr), name)
            except (ImportError, AttributeError):
                return None
        return super().get_command(ctx, name)

    def format_commands(self, ctx, formatter):
        rows = []
        for name in self.list_commands(ctx):
            if name in LAZY_COMMANDS and name not in self.commands:
                rows.append((name, t(LAZY_COMMANDS[name][1])))
            else:
                cmd = self.commands.get(name)
                if cmd is not None and not cmd.hidden:
                    rows.append((name, cmd.get_short_help_str(limit=formatter.width - 20)))
        if rows:
            with formatter.section(t("cli.commands")):
                formatter.write_dl(rows)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except MdboardError as exc:
            raise MdboardCommandError(str(exc))
        except OSError as exc:  # disk full, read-only folder, a file where a folder belongs ...
            if isinstance(exc, BrokenPipeError):
                raise
            where = exc.filename or ""
            raise MdboardCommandError(t("hardening.os_error", path=where, error=exc.strerror or exc))


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
            from .store import Board

            self._board = Board.open(self.board_path)
        return self._board

    def actor(self):
        from .ops import resolve_actor

        return resolve_actor(self.board, self.as_person)


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


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]},
             help=t("cli.help_main"))
@click.option("--board", "board_path", envvar="MDBOARD_BOARD", metavar="PATH", help=t("cli.opt_board"))
@click.option("--as", "as_person", envvar="MDBOARD_AS", metavar="PERSON", help=t("cli.opt_as"))
@click.option("--no-commit", is_flag=True, help=t("cli.opt_no_commit"))
@click.version_option(package_name="mdboard", prog_name="mdboard")
@click.pass_context
def main(ctx, board_path, as_person, no_commit):
    import gc

    # A command holds one board's cards for its whole (short) life; collecting less
    # often keeps the cyclic GC from rescanning 10,000 cards on every allocation burst.
    gc.set_threshold(50_000, 20, 100)
    ctx.obj = Context(board_path, as_person, no_commit)


@main.command(help=t("cli.help_init"))
@click.argument("directory", default=".", type=click.Path(file_okay=False))
@click.option("--lang", type=click.Choice(["zh-CN", "en"]), default=None, help=t("cli.opt_lang"))
@click.option("--title", default=None, help=t("cli.opt_title"))
@click.option("--ci", type=click.Choice(["github", "gitlab"]), default=None, help=t("cli.opt_ci"))
@pass_ctx
def init(ctx, directory, lang, title, ci):
    from .init import init_board

    result = init_board(directory, lang=lang, title=title, ci=ci, no_commit=ctx.no_commit)
    for line in result:
        click.echo(line)


@main.command(help=t("cli.help_new"))
@click.argument("type_")
@click.argument("title")
@click.option("--owner", help=t("cli.opt_owner"))
@click.option("--due", help=t("cli.opt_due"))
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help=t("cli.opt_set"))
@json_option
@pass_ctx
def new(ctx, type_, title, owner, due, sets, as_json):
    from .ops import new_card

    result = new_card(ctx.board, type_, title, owner, due, sets, ctx.actor(), ctx.no_commit)
    if as_json:
        emit_json(result.card.to_dict() | {"commit": result.commit})
    else:
        report_result(result, "cli.created")


@main.command(help=t("cli.help_move"))
@click.argument("card_id")
@click.argument("state")
@click.option("--force", is_flag=True, help=t("cli.opt_force"))
@click.option("--reason", default="", help=t("cli.opt_reason"))
@pass_ctx
def move(ctx, card_id, state, force, reason):
    from .ops import move_card

    result = move_card(ctx.board, card_id, state, ctx.actor(), force, reason, ctx.no_commit)
    report_result(result, "cli.moved")


@main.command("set", help=t("cli.help_set"))
@click.argument("card_id")
@click.argument("pairs", nargs=-1, required=True, metavar="KEY=VALUE...")
@pass_ctx
def set_(ctx, card_id, pairs):
    from .ops import set_fields

    report_result(set_fields(ctx.board, card_id, list(pairs), ctx.actor(), ctx.no_commit), "cli.updated")


@main.command(help=t("cli.help_assign"))
@click.argument("card_id")
@click.argument("person")
@pass_ctx
def assign(ctx, card_id, person):
    from .ops import assign as do_assign

    report_result(do_assign(ctx.board, card_id, person, ctx.actor(), ctx.no_commit), "cli.updated")


@main.command(help=t("cli.help_edit"))
@click.argument("card_id")
@pass_ctx
def edit(ctx, card_id):
    from .ops import edit_text

    board = ctx.board
    card = board.find(card_id)
    original = board.read_text(card)
    text = original
    while True:
        edited = click.edit(text, extension=".md", require_save=False)
        if edited is None or edited == original:
            click.echo(t("cli.edit_unchanged"))
            return
        try:
            result = edit_text(board, card.id, edited, original, ctx.actor(), ctx.no_commit)
            break
        except MdboardError as exc:
            click.echo(str(exc), err=True)
            if not sys.stdin.isatty() or not click.confirm(t("cli.edit_again"), default=True):
                raise MdboardCommandError(t("cli.edit_discarded"))
            text = edited
    report_result(result, "cli.updated")


@main.command(help=t("cli.help_show"))
@click.argument("card_id")
@json_option
@pass_ctx
def show(ctx, card_id, as_json):
    from . import output

    board = ctx.board
    card = board.find(card_id)
    if as_json:
        emit_json(output.card_json(board, card))
    else:
        click.echo(output.card_text(board, card))


def _filter_options(f):
    for name, help_key in reversed([("--type", "cli.opt_type"), ("--state", "cli.opt_state"),
                                    ("--owner", "cli.opt_f_owner"), ("--platform", "cli.opt_platform"),
                                    ("--tag", "cli.opt_tag"), ("--due-before", "cli.opt_due_before")]):
        f = click.option(name, default=None, help=t(help_key))(f)
    return click.option("--overdue", is_flag=True, help=t("cli.opt_overdue"))(f)


def build_filter(board, type=None, state=None, owner=None, platform=None, tag=None, due_before=None,
                 overdue=False, text=None):
    """Turn filter options (keys, labels or names) into a views.Filter; bad values exit 1."""
    from . import dates
    from .views import Filter

    cfg = board.config
    ctype = board.config.find_type(type) if type else None
    flt = Filter(type=ctype.key if ctype else None, tag=tag, overdue=overdue, text=text)
    if state:
        flt.state = ctype.find_state(state) if ctype else state
    if owner:
        person = cfg.find_person(owner)
        if person is None:
            from .fields import suggest

            raise MdboardError(parenthesized(t("fields.unknown_person", value=owner), suggest(owner, cfg.people)))
        flt.owner = person.key
    if platform:
        flt.platform = cfg.find_platform(platform)
        if flt.platform is None:
            from .fields import suggest

            raise MdboardError(parenthesized(t("fields.unknown_platform", value=platform), suggest(platform, cfg.platforms)))
    if due_before:
        day = dates.parse_date(dates.relative_date(due_before, cfg.timezone) or due_before)
        if day is None:
            raise MdboardError(parenthesized(t("fields.not_date", value=due_before), t("fields.hint_date")))
        flt.due_before = day
    return flt


@main.command("ls", help=t("cli.help_ls"))
@_filter_options
@json_option
@pass_ctx
def ls(ctx, as_json, **opts):
    from . import output
    from .views import select

    board = ctx.board
    cards = select(board.config, board.cards(), build_filter(board, **opts))
    if as_json:
        emit_json([output.card_json(board, c, brief=True) for c in cards])
    else:
        output.print_card_table(board, cards)


@main.command(help=t("cli.help_mine"))
@click.argument("person", required=False)
@json_option
@pass_ctx
def mine(ctx, person, as_json):
    from . import output
    from .views import mine as mine_view

    board = ctx.board
    key = output.person_for(board, person)
    groups = mine_view(board.config, board.cards(), key)
    if as_json:
        emit_json(output.mine_json(board, key, groups))
    else:
        click.echo(output.mine_text(board, key, groups))


@main.command(help=t("cli.help_check"))
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--strict", is_flag=True, help=t("cli.opt_strict"))
@json_option
@pass_ctx
def check(ctx, paths, strict, as_json):
    from .output import relative_paths
    from .workflow import check_board

    board = ctx.board
    selected = relative_paths(board, paths) if paths else None
    problems = check_board(board, strict=strict, paths=selected)
    errors = [p for p in problems if p.level == "error"]
    if as_json:
        emit_json([p.to_dict() for p in problems])
    else:
        for p in problems:
            click.echo(("" if p.level == "error" else t("cli.warning_prefix")) + p.line())
        click.echo(t("cli.check_summary", cards=len(board.cards()) if selected is None else len(selected),
                     errors=len(errors), warnings=len(problems) - len(errors)), err=True)
    if errors:
        sys.exit(1)


def run() -> None:
    """The `mdboard` program: `main`, then out without tearing the interpreter down.

    A command ends holding a whole board in memory; freeing it object by object at
    exit costs ~12 ms at 10,000 cards, for nothing. Files are all written and closed
    (writes go through `atomic_write`) and no command leaves threads or atexit work
    behind, so once the output is flushed the process ends with `os._exit`. An
    unexpected exception still ends the ordinary way, with its traceback, and so does
    a run under a profiler, debugger or coverage tool (they report at exit). Tests
    call `main` in-process and are not affected.
    """
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code
    if sys.getprofile() is not None or sys.gettrace() is not None:
        sys.exit(code)
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:
        print(code, file=sys.stderr)
        status = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (mdboard ls | head): as Python does
            status = status or 120
    os._exit(status)


if __name__ == "__main__":  # pragma: no cover
    run()
