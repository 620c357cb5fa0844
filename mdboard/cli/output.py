"""How the CLI shows cards: tables (rich on a terminal, plain columns in a pipe) and JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Callable, Iterator

from mdboard.core.errors import MdboardError, parenthesized
from mdboard.core.fields import display
from mdboard.core.text import printable
from mdboard.core.i18n import t
from mdboard.core.store import Board, Card
from mdboard.domain.views import GROUPS, card_due, card_json, countdown, linked_from, state_label


_ENCODER = json.JSONEncoder(ensure_ascii=False, indent=2, default=str)
WRITE_EVERY = 1 << 16  # characters of JSON gathered before each write


def write_json(value, write: Callable[[str], object]) -> None:
    """`value` as JSON, written through `write` a piece at a time, then a newline; the same
    text as `json.dumps(value, ensure_ascii=False, indent=2)`.

    An iterator inside `value` (a mapping's value, or `value` itself) is written as a list
    whose items are made and encoded one at a time: ten cards of 2 MB once took 2 GB when
    every card's JSON was made first and the whole text joined at the end.
    """
    buffered: list[str] = []
    size = 0
    for piece in _json_pieces(value, 0):
        buffered.append(piece)
        size += len(piece)
        if size >= WRITE_EVERY:
            write("".join(buffered))
            buffered, size = [], 0
    buffered.append("\n")
    write("".join(buffered))


def _json_pieces(value, level: int) -> Iterator[str]:
    """The JSON text of `value` at nesting `level`, in pieces; mappings and iterators are
    walked here, everything else is left to the encoder (indented to the level)."""
    pad = "\n" + "  " * level
    if isinstance(value, dict) and value:
        opening = "{"
        for key, item in value.items():
            yield f"{opening}{pad}  {_ENCODER.encode(str(key))}: "
            yield from _json_pieces(item, level + 1)
            opening = ","
        yield pad + "}"
    elif isinstance(value, Iterator):
        opening = "["
        for item in value:
            yield f"{opening}{pad}  "
            yield from _json_pieces(item, level + 1)
            opening = ","
        yield "[]" if opening == "[" else pad + "]"
    else:
        for chunk in _ENCODER.iterencode(value):
            yield chunk.replace("\n", pad) if level and "\n" in chunk else chunk


def _row_maker(board: Board):
    """A function card -> table row, with labels and names looked up once."""
    cfg = board.config
    states = {(type_key, s.key): s.label for type_key, ctype in cfg.types.items() for s in ctype.states}
    names = {key: p.name for key, p in cfg.people.items()}

    def row(card: Card) -> list[str]:
        due = card_due(cfg, card)
        progress = f"{card.checklist_done}/{len(card.checklist)}" if card.checklist else ""
        owner = names.get(card.owner, card.owner or "")
        return [card.id, states.get((card.type, card.state), card.state or "?"), owner, countdown(due), progress,
                card.title]

    return row


def print_card_table(board: Board, cards: list[Card]) -> None:
    headers = [t("cli.col_id"), t("cli.col_state"), t("cli.col_owner"), t("cli.col_due"),
               t("cli.col_checklist"), t("cli.col_title")]
    rows = list(map(_row_maker(board), cards))
    if sys.stdout.isatty() and len(rows) <= 2000:
        from rich.console import Console
        from rich.table import Table

        table = Table(*headers, box=None, header_style="bold")
        for row, card in zip(rows, cards):
            due = card_due(board.config, card)
            style = "red" if due and due.overdue else None
            table.add_row(*row, style=style)
        Console().print(table)
        Console(stderr=True).print(t("cli.count", n=len(rows)))
    else:
        out = sys.stdout
        out.write("\t".join(headers) + "\n")
        out.write("".join("\t".join(r) + "\n" for r in rows))


def card_text(board: Board, card: Card) -> str:
    """`show`: every field by its label, the due status, checklist and body."""
    cfg = board.config
    ctype = board.type_of(card)
    lines = [f"{card.id}  {card.title}", f"{t('cli.col_type')}: {ctype.label}    {t('cli.col_state')}: {state_label(board, card)}",
             f"{t('cli.col_path')}: {card.path}"]
    if card.error:
        lines.append(t("cli.warning_prefix") + card.error)
    due = card_due(cfg, card)
    if due:
        lines.append(parenthesized(f"{due.label}: {due.value}", countdown(due)))
    for key, value in card.meta.items():
        if key == "title":
            continue
        fd = ctype.fields.get(key)
        shown = display(fd, value, cfg) if fd else str(value)
        lines.append(f"{fd.label if fd else key}: {shown}")
    linked = linked_from(board, card)
    if linked:
        lines += ["", t("cli.linked_from")]
        lines += [t("cli.linked_line", id=other.id, title=other.title, state=state_label(board, other), field=label)
                  for label, other in linked]
    from mdboard.core.cardfile import parse

    try:
        body = parse(board.read_text(card)).body.strip()
    except MdboardError:
        body = ""
    if body:
        lines += ["", body]
    return printable("\n".join(lines))  # card text may hold terminal escape sequences


def _next(board: Board, card: Card) -> str:
    from mdboard.core.workflow import next_step

    return next_step(board, card)


def mine_text(board: Board, person: str, groups) -> str:
    """`mine`: a person's cards for today, grouped, each with its next step."""
    cfg = board.config
    lines = [t("cli.mine_title", name=cfg.person_name(person))]
    total = 0
    for group in GROUPS:
        items = groups[group]
        if not items:
            continue
        lines += ["", parenthesized(t("views.group_" + group), str(len(items)))]
        for card, due in items:
            total += 1
            when = f"  {countdown(due)}" if due else ""
            lines.append(f"  {card.id}  {card.title}  [{state_label(board, card)}]{when}")
            lines.append(f"      → {_next(board, card)}")
    if total == 0:
        lines.append(t("cli.mine_empty"))
    return printable("\n".join(lines))


def relative_paths(board: Board, paths) -> list[str]:
    """Board-relative card paths for `check PATHS...`; paths outside the board are refused."""
    out = []
    for raw in paths:
        path = Path(raw).resolve()
        try:
            rel = path.relative_to(board.root.resolve())
        except ValueError:
            raise MdboardError(t("cli.outside_board", path=raw))
        if path.is_dir():
            out += [c.path for c in board.cards() if (board.root / c.path).resolve().is_relative_to(path)]
        else:
            out.append(rel.as_posix())
    return out
