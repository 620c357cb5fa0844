"""The card commands: init, new, move, set, assign, tick, note, edit, save, show, ls, mine, check.

Each parses its options, calls one library function (domain.ops, domain.views,
core.workflow) and prints the result as text or --json.
"""

from __future__ import annotations

import sys

import click

from mdboard.cli.common import (MdboardCommandError, emit_json, filter_options, json_option, pass_ctx,
                                report_result)
from mdboard.core.errors import MdboardError
from mdboard.core.i18n import set_language, t


@click.command(help=t("cli.help_init"))
@click.argument("directory", default=".", type=click.Path(file_okay=False))
@click.option("--lang", type=click.Choice(["zh-CN", "en"]), default=None, help=t("cli.opt_lang"))
@click.option("--title", default=None, help=t("cli.opt_title"))
@click.option("--ci", type=click.Choice(["github", "gitlab"]), default=None, help=t("cli.opt_ci"))
@click.option("--me/--no-me", default=None, help=t("init.opt_me"))
@pass_ctx
def init(ctx, directory, lang, title, ci, me):
    from mdboard.domain.init import git_user, init_board

    if me is None and sys.stdin.isatty():  # a person at a terminal is asked; a script gets the placeholder
        name, email = git_user(directory)
        if name and email:
            if lang:
                set_language(lang)
            me = click.confirm(t("init.ask_me", name=name, email=email), default=True)
    result = init_board(directory, lang=lang, title=title, ci=ci, no_commit=ctx.no_commit, me=bool(me))
    for line in result:
        click.echo(line)


@click.command(help=t("cli.help_new"))
@click.argument("type_")
@click.argument("title")
@click.option("--owner", help=t("cli.opt_owner"))
@click.option("--due", help=t("cli.opt_due"))
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help=t("cli.opt_set"))
@json_option
@pass_ctx
def new(ctx, type_, title, owner, due, sets, as_json):
    from mdboard.domain.ops import new_card

    result = new_card(ctx.board, type_, title, owner, due, sets, ctx.actor(), ctx.no_commit)
    if as_json:
        emit_json(result.card.to_dict() | {"commit": result.commit})
    else:
        report_result(result, "cli.created")


@click.command(help=t("cli.help_move"))
@click.argument("card_id")
@click.argument("state")
@click.option("--force", is_flag=True, help=t("cli.opt_force"))
@click.option("--reason", default="", help=t("cli.opt_reason"))
@pass_ctx
def move(ctx, card_id, state, force, reason):
    from mdboard.domain.ops import move_card

    result = move_card(ctx.board, card_id, state, ctx.actor(), force, reason, ctx.no_commit)
    report_result(result, "cli.moved")


@click.command("set", help=t("cli.help_set"))
@click.argument("card_id")
@click.argument("pairs", nargs=-1, required=True, metavar="KEY=VALUE...")
@pass_ctx
def set_(ctx, card_id, pairs):
    from mdboard.domain.ops import set_fields

    report_result(set_fields(ctx.board, card_id, list(pairs), ctx.actor(), ctx.no_commit), "cli.updated")


@click.command(help=t("cli.help_assign"))
@click.argument("card_id")
@click.argument("person")
@pass_ctx
def assign(ctx, card_id, person):
    from mdboard.domain.ops import assign as do_assign

    report_result(do_assign(ctx.board, card_id, person, ctx.actor(), ctx.no_commit), "cli.updated")


@click.command(help=t("cli.help_tick"))
@click.argument("card_id")
@click.argument("item")
@click.option("--undo", is_flag=True, help=t("cli.opt_undo"))
@pass_ctx
def tick(ctx, card_id, item, undo):
    from mdboard.domain.ops import tick as do_tick

    result = do_tick(ctx.board, card_id, item, done=not undo, actor=ctx.actor(), no_commit=ctx.no_commit)
    if result.changed:
        line = t("cli.unticked" if undo else "cli.ticked", id=result.card.id, item=result.item)
        click.echo(line + (f"  [{result.commit[:8]}]" if result.commit else ""))
    if result.note:
        click.echo(result.note, err=True)


@click.command(help=t("cli.help_note"))
@click.argument("card_id")
@click.argument("text")
@pass_ctx
def note(ctx, card_id, text):
    from mdboard.domain.ops import add_note

    report_result(add_note(ctx.board, card_id, text, ctx.actor(), ctx.no_commit), "cli.noted")


@click.command(help=t("cli.help_save"))
@click.argument("card_ids", nargs=-1, metavar="[ID]...")
@pass_ctx
def save(ctx, card_ids):
    from mdboard.domain.ops import save as do_save

    result = do_save(ctx.board, list(card_ids), ctx.actor(), ctx.no_commit)
    for saved in result.saved:
        line = t("cli.saved_" + saved.kind, id=saved.card_id, title=saved.title, path=saved.path, old=saved.old_path)
        click.echo(line + (f"  [{result.commit[:8]}]" if result.commit else ""))
    if result.note:
        click.echo(result.note, err=True)


@click.command(help=t("cli.help_edit"))
@click.argument("card_id")
@pass_ctx
def edit(ctx, card_id):
    from mdboard.domain.ops import edit_text, refuse_unsaved

    board = ctx.board
    card = board.find(card_id)
    refuse_unsaved(board, card.id, ctx.no_commit)  # before the editor opens: no typing lost
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


@click.command(help=t("cli.help_show"))
@click.argument("card_id")
@json_option
@pass_ctx
def show(ctx, card_id, as_json):
    from mdboard.cli import output

    board = ctx.board
    card = board.find(card_id)
    if as_json:
        from mdboard.domain.views import linked_from

        linked = [{"id": other.id, "title": other.title, "field": label} for label, other in linked_from(board, card)]
        emit_json(output.card_json(board, card) | {"linked_from": linked})
    else:
        click.echo(output.card_text(board, card))


@click.command("ls", help=t("cli.help_ls"))
@filter_options
@click.option("--archived", is_flag=True, help=t("archive.opt_ls_archived"))
@json_option
@pass_ctx
def ls(ctx, as_json, archived, **opts):
    from mdboard.cli import output
    from mdboard.domain.views import build_filter, select

    board = ctx.board
    flt = build_filter(board, **opts)
    for said in flt.understood:
        click.echo(said, err=True)
    cards = select(board.config, board.cards(archived=archived), flt)
    if as_json:
        output.write_json((output.card_json(board, c, brief=True) for c in cards), _echo)
    else:
        output.print_card_table(board, cards)


def _echo(text: str) -> None:
    click.echo(text, nl=False)


@click.command(help=t("cli.help_mine"))
@click.argument("person", required=False)
@json_option
@pass_ctx
def mine(ctx, person, as_json):
    from mdboard.cli import output
    from mdboard.domain.ops import person_key
    from mdboard.domain.views import mine as mine_view, mine_json

    board = ctx.board
    key = person_key(board, person, ctx.as_person)
    groups = mine_view(board.config, board.cards(), key)
    if as_json:
        emit_json(mine_json(board, key, groups))
    else:
        click.echo(output.mine_text(board, key, groups))


@click.command(help=t("cli.help_check"))
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--strict", is_flag=True, help=t("cli.opt_strict"))
@click.option("--archived", is_flag=True, help=t("archive.opt_check_archived"))
@json_option
@pass_ctx
def check(ctx, paths, strict, archived, as_json):
    from mdboard.cli.output import relative_paths
    from mdboard.core.workflow import check_board

    board = ctx.board
    selected = relative_paths(board, paths) if paths else None
    problems = check_board(board, strict=strict, paths=selected, archived=archived)
    problems += _board_file_problems(board, selected)
    errors = [p for p in problems if p.level == "error"]
    if as_json:
        emit_json([p.to_dict() for p in problems])
    else:
        for p in problems:
            click.echo(("" if p.level == "error" else t("cli.warning_prefix")) + p.line())
        click.echo(t("cli.check_summary", cards=len(board.cards(archived=archived)) if selected is None else len(selected),
                     errors=len(errors), warnings=len(problems) - len(errors)), err=True)
    if errors:
        sys.exit(1)


def _board_file_problems(board, selected: list[str] | None) -> list:
    """Problems of the playbooks and the sale calendar (all, or those of the files named).
    A board without such files has none, and does not load their readers (~10 ms)."""
    from mdboard.domain.boardfiles import DATA_FOLDERS, data_files

    if not any(data_files(board.root, folder) for folder in DATA_FOLDERS):
        return []
    from mdboard.domain.playbooks import check_board_files

    problems = check_board_files(board.root, board.config)
    return problems if selected is None else [p for p in problems if p.path in set(selected)]


@click.command("fix-encoding", help=t("mistakes.help_fix_encoding"))
@click.option("--apply", is_flag=True, help=t("mistakes.opt_apply"))
@pass_ctx
def fix_encoding(ctx, apply):
    from mdboard.core.store import find_root
    from mdboard.domain.recode import convert, gbk_files

    root = find_root(explicit=ctx.board_path)
    files = gbk_files(root)
    if not files:
        click.echo(t("mistakes.nothing_to_convert"))
        return
    if not apply:
        for item in files:
            click.echo(t("mistakes.will_convert", path=item.rel, title=item.title or "-"))
        click.echo(t("mistakes.hint_apply"), err=True)
        return
    convert(root, files)
    for item in files:
        click.echo(t("mistakes.converted", path=item.rel))
    click.echo(t("mistakes.hint_save"), err=True)
