"""The spreadsheet commands: `mdboard import csv|xlsx`, `mdboard export csv|xlsx|json|ics`, `mdboard schema`.

The work is done in domain.spreadsheet, domain.calendar and domain.schema; these
commands parse options, call them, and print plans, problems and files.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from mdboard.core.errors import MdboardError, Problem, ValidationFailed
from mdboard.core.i18n import t
from mdboard.domain.schema import card_schema, config_schema, schema_text, vscode_settings, write_schemas
from mdboard.domain.spreadsheet import ImportResult, Source, board_json, csv_bytes, export_rows, import_sheet


def _print_problems(problems: list[Problem]) -> None:
    for p in problems:
        click.echo(("" if p.level == "error" else t("cli.warning_prefix")) + p.line(), err=True)


def _action_label(action: str) -> str:
    return t(f"spreadsheet.action_{action}")


def print_plan(result: ImportResult) -> None:
    """The rows an import creates or changes: a table on a terminal, plain lines in a pipe."""
    rows = [r for r in result.rows if r.action != "same"]
    lines = [(t("spreadsheet.row", n=r.row), _action_label(r.action), r.card.id, r.card.title,
              "; ".join(f"{c}: {o} → {n}" if o else f"{c}: {n}" for c, o, n in r.changes)) for r in rows]
    if sys.stdout.isatty() and rows:
        from rich.console import Console
        from rich.table import Table

        table = Table(t("spreadsheet.col_row"), t("spreadsheet.col_action"), t("spreadsheet.col_id"),
                      t("fields.title"), t("spreadsheet.col_changes"), box=None, header_style="bold")
        for line in lines:
            table.add_row(*line)
        Console().print(table)
    else:
        for line in lines:
            click.echo("  ".join(x for x in line if x))


def _summary(result: ImportResult) -> str:
    values = dict(new=result.count("new"), updated=result.count("update", "move"), same=result.count("same"))
    if result.applied:
        line = t("spreadsheet.applied", **values)
        return line + (f"  [{result.commit[:8]}]" if result.commit else "")
    return t("spreadsheet.would_apply", **values)


@click.group("import", help=t("spreadsheet.help_import"))
def import_command():
    pass


def _map_option(f):
    return click.option("--map", "mapping", multiple=True, metavar=t("spreadsheet.map_metavar"),
                        help=t("spreadsheet.opt_map"))(f)


def _import_options(f):
    f = click.option("--json", "as_json", is_flag=True, help=t("cli.opt_json"))(f)
    f = click.option("--apply", is_flag=True, help=t("spreadsheet.opt_apply"))(f)
    f = click.option("--fill-down", "fill_down", multiple=True, metavar=t("spreadsheet.fill_down_metavar"),
                     help=t("spreadsheet.opt_fill_down"))(f)
    f = _map_option(f)
    return click.option("--type", "type_", default=None, help=t("spreadsheet.opt_type_import"))(f)


@import_command.command("csv", help=t("spreadsheet.help_import_csv"))
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--encoding", default=None, metavar="NAME", help=t("spreadsheet.opt_encoding"))
@_import_options
@click.pass_obj
def import_csv_command(ctx, file, encoding, type_, mapping, fill_down, apply, as_json):
    source = Source(file, "csv", encoding=encoding, mapping=list(mapping), fill_down=list(fill_down))
    run_import(ctx, source, type_, apply, as_json)


@import_command.command("xlsx", help=t("spreadsheet.help_import_xlsx"))
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--sheet", default=None, metavar=t("spreadsheet.sheet_metavar"), help=t("spreadsheet.opt_sheet"))
@_import_options
@click.pass_obj
def import_xlsx_command(ctx, file, sheet, type_, mapping, fill_down, apply, as_json):
    source = Source(file, "xlsx", sheet=sheet, mapping=list(mapping), fill_down=list(fill_down))
    run_import(ctx, source, type_, apply, as_json)


def run_import(ctx, source: Source, type_, apply: bool, as_json: bool) -> None:
    """Plan (or apply) an import and print its columns, rows and problems; exit 1 on errors."""
    try:
        result = import_sheet(ctx.board, source, type_, apply, ctx.actor(), ctx.no_commit)
    except ValidationFailed as exc:
        if as_json:
            click.echo(_json({"file": source.path, "valid": False, "applied": False,
                              "problems": [p.to_dict() for p in exc.problems]}))
            sys.exit(1)
        raise
    if as_json:
        click.echo(_json(result.to_dict()))
    else:
        if not apply:
            print_columns(result)
        print_plan(result)
        _print_problems(result.problems)
        if result.errors:
            click.echo(t("spreadsheet.fix_and_retry", errors=len(result.errors)), err=True)
        else:
            click.echo(result.note or _summary(result))
        if not result.errors and not apply and (result.count("new", "update", "move") or result.remembered):
            click.echo(t("spreadsheet.hint_apply", command=_again(source, type_)), err=True)
    if result.errors:
        sys.exit(1)


def print_columns(result: ImportResult) -> None:
    """Which column fills which field: what the import understood of the sheet's headers."""
    click.echo(t("spreadsheet.columns_understood"))
    for header, key, what in result.columns:
        click.echo(f"  {header} → {what}" if key else f"  {header} ✗ {what}")


def _again(source: Source, type_) -> str:
    """The command that applies this import, as the person would type it."""
    import re
    import shlex

    words = ["mdboard", "import", source.kind, source.path]
    words += ["--type", type_] if type_ else []
    words += ["--encoding", source.encoding] if source.encoding else []
    words += ["--sheet", source.sheet] if source.sheet else []
    for item in source.mapping:
        words += ["--map", item]
    for item in source.fill_down:
        words += ["--fill-down", item]
    return " ".join(w if re.fullmatch(r"[\w@%+=:,./-]+", w) else shlex.quote(w) for w in words + ["--apply"])


def _json(data) -> str:
    import json

    return json.dumps(data, ensure_ascii=False, indent=2, default=str)


def _write_output(data, out: str | None, what) -> None:
    """Bytes to `-o FILE` (and a line saying so on stderr) or to stdout.

    `data` may instead be a function that writes text through the `write` it is given,
    so a large export is streamed, never held whole; `what` may be a function too, asked
    once the writing is done.
    """
    if out and out != "-":
        try:
            if callable(data):
                with open(out, "w", encoding="utf-8") as fh:
                    data(fh.write)
            else:
                Path(out).write_bytes(data)
        except OSError as exc:
            raise MdboardError(t("spreadsheet.cannot_write", path=out, error=exc.strerror or str(exc)))
        click.echo(t("spreadsheet.written", path=out, what=what() if callable(what) else what), err=True)
    elif callable(data):
        data(lambda text: click.echo(text.encode("utf-8"), nl=False))  # UTF-8 bytes, as a file gets them
    else:
        click.echo(data, nl=False)


def _output_option(f):
    return click.option("-o", "--output", "out", default=None, metavar="FILE", help=t("spreadsheet.opt_output"))(f)


@click.group("export", help=t("spreadsheet.help_export"))
def export_command():
    pass


def _filters(f):
    from mdboard.cli.common import filter_options

    return filter_options(f)


@export_command.command("csv", help=t("spreadsheet.help_export_csv"))
@_filters
@_output_option
@click.pass_obj
def export_csv_command(ctx, out, **opts):
    table = _export_table(ctx, opts)
    _write_output(csv_bytes(table.headers, table.rows), out, t("spreadsheet.what_cards", n=len(table.rows)))


def _export_table(ctx, opts: dict):
    """The cards the filters choose, as a table; a warning for each card that cannot be read."""
    from mdboard.domain.views import build_filter

    board = ctx.board
    table = export_rows(board, build_filter(board, **opts))
    for card in table.broken:
        click.echo(t("cli.warning_prefix") + t("spreadsheet.skipped_broken", path=card.path, error=card.error), err=True)
    return table


@export_command.command("xlsx", help=t("spreadsheet.help_export_xlsx"))
@_filters
@_output_option
@click.pass_obj
def export_xlsx_command(ctx, out, **opts):
    from mdboard.domain.workbook import workbook_bytes

    if (not out or out == "-") and sys.stdout.isatty():
        raise MdboardError(t("spreadsheet.xlsx_needs_file"))
    table = _export_table(ctx, opts)
    data = workbook_bytes(table.headers, table.rows, table.kinds, ctx.board.config.title)
    _write_output(data, out, t("spreadsheet.what_cards", n=len(table.rows)))


@export_command.command("json", help=t("spreadsheet.help_export_json"))
@_output_option
@click.pass_obj
def export_json_command(ctx, out):
    from mdboard.cli.output import write_json

    data = board_json(ctx.board)
    cards = [0]

    def counted(items):
        for item in items:
            cards[0] += 1
            yield item

    data["cards"] = counted(data["cards"])
    _write_output(lambda write: write_json(data, write), out, lambda: t("spreadsheet.what_cards", n=cards[0]))


@export_command.command("ics", help=t("spreadsheet.help_export_ics"))
@click.option("--person", default=None, help=t("spreadsheet.opt_person"))
@_output_option
@click.pass_obj
def export_ics_command(ctx, person, out):
    from mdboard.domain.calendar import board_calendar

    data = board_calendar(ctx.board, person)
    _write_output(data, out, t("spreadsheet.what_events", n=data.count(b"BEGIN:VEVENT")))


@click.command("schema", help=t("spreadsheet.help_schema"))
@click.option("--type", "type_", default=None, help=t("spreadsheet.opt_schema_type"))
@click.option("--out", default=None, metavar="DIR", help=t("spreadsheet.opt_schema_out"))
@click.pass_obj
def schema_command(ctx, type_, out):
    board = ctx.board
    if out:
        paths = write_schemas(board, out, type_)
        for path in paths:
            click.echo(t("spreadsheet.schema_written", path=path))
        click.echo(t("spreadsheet.schema_vscode"), err=True)
        click.echo(json.dumps(vscode_settings(board, paths), ensure_ascii=False, indent=2), err=True)
        return
    schema = card_schema(board, type_) if type_ else config_schema()
    click.echo(schema_text(schema), nl=False)
