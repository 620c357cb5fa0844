"""The `mdboard` program: the command group, lazy command loading, and `run`.

Every command lives in a module of this package by family (cards, site, history,
teams, spreadsheet, demo) and is imported only when run (see LAZY_COMMANDS), so
`mdboard --help` starts in a blink. Library errors (MdboardError) become a one-line
message and exit 1; usage mistakes exit 2. Only this package imports click.
"""

from __future__ import annotations

import os
import sys

import click

from mdboard.cli import lang
from mdboard.cli.common import Context, MdboardCommandError, MdboardUsageError
from mdboard.core.errors import MdboardError, UsageMistake, os_error_message
from mdboard.core.i18n import set_language, t

lang.install()  # before any option is declared: click's words in the board's language
set_language(lang.interface_language(sys.argv[1:]))

# name -> ("module:attribute", short help key). A command's module is imported only when
# it runs (or its own --help is asked for), so `mdboard --help` imports no command at all.
LAZY_COMMANDS = {
    "init": ("mdboard.cli.cards:init", "cli.help_init"),
    "new": ("mdboard.cli.cards:new", "cli.help_new"),
    "move": ("mdboard.cli.cards:move", "cli.help_move"),
    "set": ("mdboard.cli.cards:set_", "cli.help_set"),
    "assign": ("mdboard.cli.cards:assign", "cli.help_assign"),
    "tick": ("mdboard.cli.cards:tick", "cli.help_tick"),
    "note": ("mdboard.cli.cards:note", "cli.help_note"),
    "edit": ("mdboard.cli.cards:edit", "cli.help_edit"),
    "save": ("mdboard.cli.cards:save", "cli.help_save"),
    "show": ("mdboard.cli.cards:show", "cli.help_show"),
    "ls": ("mdboard.cli.cards:ls", "cli.help_ls"),
    "mine": ("mdboard.cli.cards:mine", "cli.help_mine"),
    "check": ("mdboard.cli.cards:check", "cli.help_check"),
    "fix-encoding": ("mdboard.cli.cards:fix_encoding", "mistakes.help_fix_encoding"),
    "person": ("mdboard.cli.people:person_command", "people.help_person"),
    "build": ("mdboard.cli.site:build_command", "cli.help_build"),
    "serve": ("mdboard.cli.site:serve_command", "cli.help_serve"),
    "watch": ("mdboard.cli.site:watch_command", "cli.help_watch"),
    "history": ("mdboard.cli.history:history_command", "cli.help_history"),
    "log": ("mdboard.cli.history:log_command", "cli.help_log"),
    "standup": ("mdboard.cli.history:standup_command", "cli.help_standup"),
    "report": ("mdboard.cli.history:report_command", "cli.help_report"),
    "demo": ("mdboard.cli.demo:demo_command", "cli.help_demo"),
    "sync": ("mdboard.cli.teams:sync_command", "cli.help_sync"),
    "hooks": ("mdboard.cli.teams:hooks_command", "cli.help_hooks"),
    "import": ("mdboard.cli.spreadsheet:import_command", "cli.help_import"),
    "export": ("mdboard.cli.spreadsheet:export_command", "cli.help_export"),
    "schema": ("mdboard.cli.spreadsheet:schema_command", "cli.help_schema"),
    "notify": ("mdboard.cli.notify:notify_command", "notify.help_notify"),
    "mcp": ("mdboard.cli.notify:mcp_command", "mcp.help_mcp"),
    "plan": ("mdboard.cli.plans:plan_command", "plans.help_plan"),
    "sales": ("mdboard.cli.plans:sales_command", "sales.help_sales"),
    "archive": ("mdboard.cli.archive:archive_command", "archive.help_archive"),
    "user": ("mdboard.cli.users:user_command", "web.help_user"),
}
# Commands whose listed help key is their whole help text (the others have a short one).
FULL_HELP_KEYS = {"init", "new", "move", "set", "assign", "tick", "note", "edit", "save", "show", "ls", "mine",
                  "check", "plan", "sales", "fix-encoding"}


class LazyGroup(click.Group):
    """A click group that imports each command's module on first use."""

    def list_commands(self, ctx):
        return sorted(set(super().list_commands(ctx)) | set(LAZY_COMMANDS))

    def make_context(self, info_name, args, parent=None, **extra):
        """Decide the interface's language before anything is parsed (help, usage errors)."""
        set_language(lang.interface_language(list(args)))
        lang.localize(self)
        return super().make_context(info_name, args, parent, **extra)

    def get_command(self, ctx, name):
        if name in LAZY_COMMANDS and name not in self.commands:
            import importlib

            module, _, attr = LAZY_COMMANDS[name][0].partition(":")
            # a command that fails to import is a bug: let it show, never drop the command
            command = getattr(importlib.import_module(module), attr)
            self.add_command(command, name)
        command = super().get_command(ctx, name)
        if command is not None:
            _localize_tree(command)
        return command

    def format_commands(self, ctx, formatter):
        rows = []
        for name in self.list_commands(ctx):
            if name in LAZY_COMMANDS:  # said in this run's language, even if loaded in another's
                text = t(LAZY_COMMANDS[name][1])
                if name in FULL_HELP_KEYS:  # the command's whole help: shortened as click shortens it
                    text = click.Command(name, help=text).get_short_help_str(limit=formatter.width - 20)
                rows.append((name, text))
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
        except click.MissingParameter as exc:
            raise click.UsageError(_missing(exc), exc.ctx) from None
        except UsageMistake as exc:
            raise MdboardUsageError(str(exc))
        except MdboardError as exc:
            raise MdboardCommandError(str(exc))
        except OSError as exc:  # disk full, read-only folder, a file where a folder belongs ...
            if isinstance(exc, BrokenPipeError):
                raise
            raise MdboardCommandError(os_error_message(exc))


def _localize_tree(command) -> None:
    """A command, and a group's subcommands, in the current language."""
    lang.localize(command)
    for sub in getattr(command, "commands", {}).values():
        _localize_tree(sub)


def _missing(exc: click.MissingParameter) -> str:
    """`缺少参数「状态」`: what click says of a missing argument or option, in our words."""
    param = exc.param
    if param is None:
        return exc.format_message()
    if isinstance(param, click.Argument):
        return t("cli.missing_argument", name=param.make_metavar(exc.ctx) if exc.ctx else param.name)
    return t("cli.missing_option", name=" / ".join(param.opts))


@click.group("mdboard", cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]},
             help=t("cli.help_main"))
@click.option("--board", "board_path", envvar="MDBOARD_BOARD", metavar="PATH", help=t("cli.opt_board"))
@click.option("--as", "as_person", envvar="MDBOARD_AS", metavar="PERSON", help=t("cli.opt_as"))
@click.option("--no-commit", is_flag=True, help=t("cli.opt_no_commit"))
@click.version_option(package_name="mdboard", prog_name="mdboard", help=t("cli.opt_version"))
@click.pass_context
def main(ctx, board_path, as_person, no_commit):
    import gc

    # A command holds one board's cards for its whole (short) life; collecting less
    # often keeps the cyclic GC from rescanning 10,000 cards on every allocation burst.
    gc.set_threshold(50_000, 20, 100)
    ctx.obj = Context(board_path, as_person, no_commit)


def run() -> None:
    """The `mdboard` program: `main`, then out without tearing the interpreter down.

    A command ends holding a whole board in memory; freeing it object by object at
    exit costs ~12 ms at 10,000 cards, for nothing. Files are all written and closed
    (writes go through `atomic_write`) and no command leaves threads or atexit work
    behind, so once the output is flushed the process ends with `os._exit`. An
    unexpected exception still ends the ordinary way, with its traceback, and so does
    a run under a profiler, debugger or coverage tool (they report at exit). Tests
    call `main` in-process and are not affected.

    This is also where the process's garbage-collection policy is decided: a one-shot
    command makes tens of thousands of objects and keeps them all until it ends, so
    the cyclic collector is off (it would only rescan them, ~40% of a warm `ls`);
    the long-running commands turn it back on (`common.collect_garbage`).
    """
    import gc

    gc.disable()
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
