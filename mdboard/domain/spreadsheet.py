"""Spreadsheets in and out: `mdboard import csv`, `mdboard export csv|json|ics`.

Teams keep their 上新进度表 in Excel. Export writes a row per card with the columns
labelled in the board's language, people as names and platforms as labels, in
UTF-8 with a BOM (so Excel shows the Chinese). Import reads such a sheet back —
UTF-8 with or without BOM, GB18030 (Chinese Excel's "CSV") or UTF-16, comma or tab
separated — maps columns to fields by key or label, converts and validates every
row with the same rules as `new`/`set`, and then creates and updates all cards in
one commit, or writes nothing at all. Exported values read back to exactly what
the cards hold, so exporting and re-importing changes nothing.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from mdboard.core import cardfile, dates
from mdboard.git import changes as git_changes
from mdboard.core.config import DATE_TYPES, BoardConfig, CardType, FieldDef
from mdboard.core.errors import CardSyntaxError, MdboardError, Problem, ValidationFailed, parenthesized
from mdboard.core.fields import LIST_TYPES, BadValue, display, parse_input
from mdboard.core.text import suggest
from mdboard.core.i18n import LANGUAGES, join_list, t, t_in
from mdboard.core.text import ID_RE
from mdboard.core.store import Board, Card
from mdboard.domain.views import Filter, select
from mdboard.core.workflow import check_card, requirement_problems

_KEY_IN_HEADER = re.compile(r"^(.*?)\s*[（(]\s*([a-z][a-z0-9_]*)\s*[)）]$")


# --- export ---------------------------------------------------------------------------

def export_columns(cfg: BoardConfig, types: list[CardType]) -> list[tuple[str, str]]:
    """(column key, header) of an export: ID, type (several types only), state, then fields.

    Headers are field labels; a label that also names another field of an exported
    type gets its key added (`平台 (platforms)`), so the import can tell them apart.
    """
    cols = [("id", t("spreadsheet.col_id"))]
    if len(types) > 1:
        cols.append(("type", t("spreadsheet.col_type")))
    cols.append(("state", t("spreadsheet.col_state")))
    labels: dict[str, str] = {}
    keys_of: dict[str, set[str]] = {}
    for ctype in types:
        for key, fd in ctype.fields.items():
            labels.setdefault(key, fd.label)
            keys_of.setdefault(fd.label, set()).add(key)
    return cols + [(key, f"{label} ({key})" if len(keys_of[label]) > 1 else label) for key, label in labels.items()]


def cell(fd: FieldDef, value, cfg: BoardConfig) -> str:
    """A field value as a spreadsheet cell: numbers stay numbers, people names, platform labels."""
    if _empty(value):
        return ""
    if fd.type in ("person", "people", "platform", "platforms", "bool", "links", "tags") and (
            isinstance(value, list) == (fd.type in LIST_TYPES)):
        return display(fd, value, cfg)
    if isinstance(value, (list, dict)):
        return cardfile.render_value(value)
    return str(value)


@dataclass
class Table:
    """An export: headers, one row of cells per card, what kind of value each column holds
    (a field type, or "text" for ID, type and state), and the cards left out because they
    cannot be read."""

    headers: list[str]
    rows: list[list[str]]
    kinds: list[str]
    broken: list[Card]


def export_rows(board: Board, flt: Filter) -> Table:
    """One row per matching card, cells as text (what `cell` makes of each value)."""
    cfg = board.config
    chosen = select(cfg, board.cards(), flt)
    types = [cfg.types[flt.type]] if flt.type else list(cfg.types.values())
    cols = export_columns(cfg, types)
    rows, broken = [], []
    for card in chosen:
        if card.error:
            broken.append(card)
            continue
        ctype = cfg.types[card.type]
        row = []
        for key, _ in cols:
            if key == "id":
                row.append(card.id)
            elif key == "type":
                row.append(ctype.label)
            elif key == "state":
                row.append(ctype.state_label(card.state))
            else:
                fd = ctype.fields.get(key)
                row.append(cell(fd, card.meta.get(key), cfg) if fd else "")
        rows.append(row)
    return Table([header for _, header in cols], rows, _column_kinds(cols, types), broken)


def _column_kinds(cols: list[tuple[str, str]], types: list[CardType]) -> list[str]:
    """The field type of each exported column; "text" when the types disagree or it is no field."""
    kinds = []
    for key, _ in cols:
        found = {ctype.fields[key].type for ctype in types if key in ctype.fields}
        kinds.append(found.pop() if len(found) == 1 else "text")
    return kinds


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def defuse(text: str) -> str:
    """A cell Excel/WPS would run as a formula (`=HYPERLINK(...)`) gets a leading `'`.

    Card text is written by many people; a spreadsheet must show it, never run it.
    Plain numbers such as -5 stay as they are.
    """
    if text.startswith(_FORMULA_START) and not _PLAIN_NUMBER.match(text):
        return "'" + text
    return text


def restore(text: str) -> str:
    """Undo `defuse` and `excel_text` on import, so an export → import round trip keeps the card's text."""
    if text.startswith("'") and text[1:].startswith(_FORMULA_START):
        return text[1:]
    m = _EXCEL_TEXT.match(text)
    return m.group(1) if m else text


# Digit strings Excel would spoil when it opens a CSV: 12 digits or more become 3.69851E+18
# (and past 15 digits the rest are lost for good); a leading zero is dropped.
LONG_DIGITS = re.compile(r"^(?:0\d+|\d{12,})$")
_EXCEL_TEXT = re.compile(r'^="(0\d+|\d{12,})"$')
# What such a number looks like once Excel has spoilt it: 3.69851E+18, 1.23457E+11.
SCIENTIFIC = re.compile(r"^[+-]?\d(?:\.\d+)?[Ee]\+\d{2}$")


def excel_text(text: str) -> str:
    """A cell as CSV text that Excel and WPS open unchanged.

    An order number or a code made of many digits (or starting with 0) is written as
    `="3698512740215583327"`, which both show as those digits, as text; anything that would
    run as a formula is defused.
    """
    if LONG_DIGITS.match(text):
        return f'="{text}"'
    return defuse(text)


def csv_bytes(headers: list[str], rows: list[list[str]]) -> bytes:
    """CSV in UTF-8 with a BOM and CRLF line ends: what Excel opens without garbling Chinese."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([defuse(h) for h in headers])
    writer.writerows([excel_text(c) for c in row] for row in rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def board_json(board: Board) -> dict:
    """The whole board: a summary of its config and every card with fields, state, checklist, body.

    `cards` is an iterator: each card (its body included) is made when it is read, so a
    writer can stream them rather than hold every card's text at once.
    """
    from mdboard.domain.views import card_json

    cfg = board.config
    return {
        "title": cfg.title, "language": cfg.language, "timezone": cfg.timezone,
        "platforms": cfg.platforms,
        "people": {k: {"name": p.name, "email": p.emails, "roles": p.roles} for k, p in cfg.people.items()},
        "types": {k: {"label": ctype.label, "prefix": ctype.prefix,
                      "states": [{"key": s.key, "label": s.label, "done": s.key in ctype.done_states()}
                                 for s in ctype.states],
                      "fields": {fk: {"type": fd.type, "label": fd.label, "required": fd.required,
                                      **({"options": fd.options} if fd.options else {}),
                                      **({"to": fd.to} if fd.to else {})}
                                 for fk, fd in ctype.fields.items()}}
                  for k, ctype in cfg.types.items()},
        "cards": (card_json(board, c) for c in select(cfg, board.cards(), Filter())),
    }


# --- reading a sheet ------------------------------------------------------------------

def decode(data: bytes, name: str, encoding: str | None = None) -> str:
    """Text of a spreadsheet file, read as `encoding` when one is given.

    Otherwise: UTF-16 (with a BOM), UTF-8 (with a BOM or not), or GB18030 when the text
    reads as Chinese (what a Chinese Excel saves). Anything else is refused, never
    guessed: read in the wrong encoding, every non-English letter becomes garbled
    Chinese that would be committed as if someone had typed it.
    """
    if encoding:
        return _decode_as(data, name, encoding)
    try:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            return data.decode("utf-16")
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        text = None
    if text is None or not reads_as_chinese(text):
        raise MdboardError(t("spreadsheet.bad_encoding", path=name))
    return text


def reads_as_chinese(text: str) -> bool:
    """Whether text decoded as GB18030 is Chinese rather than another encoding misread.

    Chinese text is nearly all GB2312 characters (the common hanzi, Chinese punctuation,
    full-width forms); a rare name character or two is fine. Latin-1, Windows-1252,
    Shift-JIS or Big5 bytes read as GB18030 give 40% to all of their characters outside
    GB2312 (a high byte and the ASCII letter after it make one rare character), and EUC-JP
    gives kana. So: at most a fifth of the non-ASCII characters outside GB2312, at most a
    tenth kana (a Chinese title may borrow の).
    """
    others = sum(1 for ch in text if ch > "\x7f")
    if not others:
        return True
    outside = text.encode("gb2312", "replace").count(b"?") - text.count("?")
    kana = len(_KANA.findall(text))
    return outside <= others * 0.2 and kana <= others * 0.1


_KANA = re.compile("[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]")


def _decode_as(data: bytes, name: str, encoding: str) -> str:
    """The text of a file in the encoding its user named (`--encoding`)."""
    import codecs

    try:
        info = codecs.lookup(encoding)
    except LookupError:
        info = None
    if info is None or not getattr(info, "_is_text_encoding", True):
        raise MdboardError(t("spreadsheet.unknown_encoding", encoding=encoding))
    try:
        return data.decode("utf-8-sig" if info.name == "utf-8" else info.name)
    except UnicodeDecodeError as exc:
        raise MdboardError(t("spreadsheet.wrong_encoding", path=name, encoding=encoding, offset=exc.start))


def sniff_delimiter(text: str) -> str:
    """Comma, tab or semicolon: whichever the header line has most of."""
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", "\t", ";")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def read_sheet(path: str, encoding: str | None = None) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header cells and (spreadsheet row number, cells) of every non-empty row."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise MdboardError(t("spreadsheet.unreadable", path=path, error=exc.strerror or str(exc)))
    if data.startswith(b"PK\x03\x04"):  # a zip file: what an .xlsx is
        raise MdboardError(t("spreadsheet.is_xlsx", path=path))
    text = decode(data, path, encoding)
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text)))
    except csv.Error as exc:
        raise MdboardError(t("spreadsheet.bad_csv", path=path, error=str(exc)))
    if not records or not any(c.strip() for c in records[0]):
        raise MdboardError(t("spreadsheet.no_header", path=path))
    headers = [restore(h.strip()) for h in records[0]]
    rows = [(i + 1, [restore(c) for c in r]) for i, r in enumerate(records) if i > 0 and any(c.strip() for c in r)]
    return headers, rows


def special_names(name: str) -> set[str]:
    """Headers that mean the ID, type or state column, in every language."""
    return {t_in(lang, f"spreadsheet.col_{name}").lower() for lang in LANGUAGES} | {name}


def header_key(header: str, ctype: CardType, cfg: BoardConfig) -> str | None:
    """The field a column header means for a card type: `label (key)`, key, label, or
    the label another type gives the same key (whole-board exports label a column once)."""
    m = _KEY_IN_HEADER.match(header)
    if m and m.group(2) in ctype.fields:
        return m.group(2)
    low = header.lower()
    for key, fd in ctype.fields.items():
        if low == key or header == fd.label:
            return key
    for other in cfg.types.values():
        for key, fd in other.fields.items():
            if header == fd.label and key in ctype.fields:
                return key
    return None


def normalise_date(fd: FieldDef, text: str, tz: str) -> str | None:
    """ISO text for a date a sheet holds in another form (2026/12/1, 2026年12月1日, 12月1日,
    12/1/2026, Excel's day number 46357), read by the one date parser (`dates.understand`);
    None when `text` is ISO already or not a real date."""
    text = text.strip()
    if fd.type not in DATE_TYPES or not text:
        return None
    if fd.type == "date" and dates.parse_date(text) or fd.type == "datetime" and (
            dates.parse_datetime(text, tz) or dates.parse_date(text)):
        return None
    understood = dates.understand(text, tz, sheet=True)
    if understood is None:
        return None
    if fd.type == "date" and understood.time not in (None, (0, 0, 0)):
        return None
    return understood.day.isoformat() if fd.type == "date" else understood.iso()


def same_value(fd: FieldDef, old, new) -> bool:
    """Whether an imported value is what the card already holds (so nothing is rewritten)."""
    if _empty(old) and _empty(new):
        return True
    if old == new:
        return True
    if isinstance(old, (list, dict)) or isinstance(new, (list, dict)) or isinstance(old, bool):
        return False
    if fd.type in DATE_TYPES:
        return dates.parse_datetime(old, "UTC") is not None and \
            dates.parse_datetime(old, "UTC") == dates.parse_datetime(new, "UTC")
    return fd.type in ("text", "enum") and str(old) == str(new)


def _empty(value) -> bool:
    return value is None or value == "" or value == []


# --- planning an import -----------------------------------------------------------------

@dataclass
class RowPlan:
    """What one row does: create a card, update (and maybe move) one, or nothing."""

    row: int
    action: str  # "new", "update", "move", "same"
    card: Card  # the card as it will be
    text: str  # its new text
    changes: list[tuple[str, str, str]] = field(default_factory=list)  # (column, old, new) as shown
    before: Card | None = None

    def to_dict(self) -> dict:
        return {"row": self.row, "action": self.action, "id": self.card.id, "type": self.card.type,
                "state": self.card.state, "title": self.card.title,
                "changes": [{"column": c, "old": o, "new": n} for c, o, n in self.changes]}


@dataclass
class ImportResult:
    """The plan of an import, its problems, and the commit when it was applied."""

    file: str
    rows: list[RowPlan]
    problems: list[Problem]
    applied: bool = False
    commit: str | None = None
    note: str = ""
    columns: list[tuple[str, str | None, str]] = field(default_factory=list)  # (header, key, what it fills)
    remembered: str | None = None  # the new text of COLUMNS_FILE, when --map changed it

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "error"]

    def count(self, *actions: str) -> int:
        return sum(1 for r in self.rows if r.action in actions)

    def to_dict(self) -> dict:
        return {"file": self.file, "valid": not self.errors, "applied": self.applied, "commit": self.commit,
                "new": self.count("new"), "updated": self.count("update", "move"), "unchanged": self.count("same"),
                "columns": [{"column": h, "field": k, "label": label} for h, k, label in self.columns],
                "rows": [r.to_dict() for r in self.rows], "problems": [p.to_dict() for p in self.problems]}


class _Importer:
    """Turns the rows of one sheet into planned cards, collecting problems by row and column."""

    def __init__(self, board: Board, name: str, headers: list[str], type_text: str | None, actor,
                 mapping: dict[str, str] | None = None):
        """`mapping`: column header -> field key, "id", "type" or "state" ("" leaves the column out)."""
        self.board, self.cfg, self.name, self.headers, self.actor = board, board.config, name, headers, actor
        self.mapping = {h: k for h, k in (mapping or {}).items() if h in headers}
        self.forced = board.config.find_type(type_text) if type_text else None
        self.problems: list[tuple[int, Problem]] = []  # (row, problem); row 0: the whole file
        self.by_id = board.by_id()
        self.highest: dict[str, int] = {}
        self.seen: dict[str, int] = {}  # card ID -> the row that updates it
        self.titles: dict[tuple[str, str], list[str]] | None = None  # (type, title) -> card IDs
        self.new_titles: dict[tuple[str, str], int] = {}  # (type, title) -> first row naming it
        self.id_col = self._special("id")
        self.type_col = self._special("type")
        self.state_col = self._special("state")
        if self.forced is None and self.type_col is None:
            raise MdboardError(t("spreadsheet.need_type", path=name))
        self.columns: dict[str, dict[str, int]] = {}
        self._check_headers()

    def _special(self, name: str) -> int | None:
        names = special_names(name)
        return next((i for i, h in enumerate(self.headers)
                     if self.mapping.get(h) == name or h not in self.mapping and h.lower() in names), None)

    def _field_of(self, header: str, ctype: CardType) -> str | None:
        """The field a column fills for a card type: as mapped (`--map`), else by its header."""
        if header in self.mapping:
            key = self.mapping[header]
            return key if key in ctype.fields else None
        return header_key(header, ctype, self.cfg)

    def understood(self) -> list[tuple[str, str | None, str]]:
        """(header, field key or None, what it fills) of every column: the preview of an import."""
        types = [self.forced] if self.forced else list(self.cfg.types.values())
        specials = {self.id_col: "id", self.type_col: "type", self.state_col: "state"}
        out = []
        for i, header in enumerate(self.headers):
            if not header:
                continue
            if i in specials:
                out.append((header, specials[i], t(f"spreadsheet.col_{specials[i]}")))
                continue
            key = next((k for k in (self._field_of(header, ctype) for ctype in types) if k), None)
            label = next((ctype.fields[key].label for ctype in types if key in ctype.fields), "") if key else ""
            out.append((header, key, f"{label} ({key})" if key else t("spreadsheet.column_left_out")))
        return out

    def _specials(self) -> set[int]:
        return {i for i in (self.id_col, self.type_col, self.state_col) if i is not None}

    def where(self, row: int) -> str:
        return f"{self.name}:{t('spreadsheet.row', n=row)}"

    def _check_headers(self) -> None:
        """Warn once about columns no card type knows; refuse two columns for one field."""
        types = [self.forced] if self.forced else list(self.cfg.types.values())
        for ctype in types:
            self.columns_for(ctype)
        for i, header in enumerate(self.headers):
            if i in self._specials() or not header or header in self.mapping:
                continue
            if all(header_key(header, ctype, self.cfg) is None for ctype in types):
                known = [fd.label for ctype in types for fd in ctype.fields.values()]
                hint = suggest(header, known) + t("spreadsheet.hint_map_column", header=header)
                self.problems.append((0, Problem(self.name, header, t("spreadsheet.unknown_column"), hint,
                                                 "warning")))

    def columns_for(self, ctype: CardType) -> dict[str, int]:
        """field key -> column index for one card type."""
        if ctype.key not in self.columns:
            cols: dict[str, int] = {}
            for i, header in enumerate(self.headers):
                key = None if i in self._specials() or not header else self._field_of(header, ctype)
                if key is None:
                    continue
                if key in cols:
                    raise MdboardError(t("spreadsheet.same_field", path=self.name, a=self.headers[cols[key]],
                                         b=header, label=ctype.fields[key].label))
                cols[key] = i
            self.columns[ctype.key] = cols
        return self.columns[ctype.key]

    def bad(self, row: int, column: int | str | None, message: str, hint: str = "", level: str = "error"):
        col = self.headers[column] if isinstance(column, int) else (column or "")
        self.problems.append((row, Problem(self.where(row), col, message, hint, level)))

    # --- one row ---

    def plan(self, row: int, cells: list[str]) -> RowPlan | None:
        """The plan of one row, or None when the row cannot be understood (problems recorded)."""
        get = lambda i: cells[i].strip() if i is not None and i < len(cells) else ""
        ctype = self._row_type(row, get(self.type_col))
        if ctype is None:
            return None
        values = self._values(row, cells, ctype)
        if values is None:
            return None
        card_id = get(self.id_col).upper() or self._by_title(row, ctype, values.get("title"))
        if card_id is None:
            return None
        if card_id:
            return self._update(row, ctype, card_id, values, get(self.state_col))
        return self._new(row, ctype, values, get(self.state_col))

    def _by_title(self, row: int, ctype: CardType, title) -> str | None:
        """The ID of the one card of this type with this title ("" if none, None if several).

        Rows without an ID match cards by title, so importing the same sheet twice
        does not create every card twice.
        """
        if self.titles is None:
            self.titles = {}
            for card in self.board.cards():
                self.titles.setdefault((card.type, str(card.meta.get("title", ""))), []).append(card.id)
        if _empty(title):
            return ""
        found = self.titles.get((ctype.key, str(title)), [])
        if len(found) > 1:
            self.bad(row, self._column(ctype, "title"), t("spreadsheet.same_title", ids=join_list(found)),
                     t("spreadsheet.hint_add_id"))
            return None
        new_row = self.new_titles.setdefault((ctype.key, str(title)), row)
        if not found and new_row != row:
            self.bad(row, self._column(ctype, "title"), t("spreadsheet.title_twice", other=new_row),
                     t("spreadsheet.hint_add_id"))
            return None
        return found[0] if found else ""

    def _row_type(self, row: int, text: str) -> CardType | None:

        if not text:
            if self.forced is None:
                self.bad(row, self.type_col, t("spreadsheet.missing_type"), t("spreadsheet.hint_type",
                         types=join_list(ctype.label for ctype in self.cfg.types.values())))
            return self.forced
        try:
            ctype = self.board.config.find_type(text)
        except MdboardError as exc:
            self.bad(row, self.type_col, exc.message)
            return None
        if self.forced and ctype.key != self.forced.key:
            self.bad(row, self.type_col, t("spreadsheet.other_type", type=ctype.label, wanted=self.forced.label))
            return None
        return ctype

    def _values(self, row: int, cells: list[str], ctype: CardType) -> dict | None:
        """The row's field values converted like `mdboard set` does; None on any bad cell."""
        values, ok = {}, True
        for key, i in self.columns_for(ctype).items():
            raw = cells[i] if i < len(cells) else ""
            fd = ctype.fields[key]
            if fd.type == "text" and SCIENTIFIC.match(raw.strip()):
                self.bad(row, i, t("spreadsheet.scientific", value=raw.strip()), t("spreadsheet.hint_scientific"))
                ok = False
                continue
            text = raw
            iso = normalise_date(fd, raw, self.cfg.timezone)
            if iso is not None:
                text = iso
                self.bad(row, i, t("spreadsheet.date_normalised", value=raw.strip(), iso=iso), "", "warning")
            try:
                values[key] = parse_input(fd, text, self.cfg)
            except BadValue as exc:
                self.bad(row, i, exc.message, exc.hint)
                ok = False
        return values if ok else None

    def _state(self, row: int, ctype: CardType, text: str, default: str) -> str | None:

        if not text:
            return default
        key = ctype.find_state(text)
        if ctype.state(key) is None:
            self.bad(row, self.state_col, t("move.unknown_state", state=text, type=ctype.label),
                     suggest(text, [s.label for s in ctype.states]))
            return None
        return key

    def _new(self, row: int, ctype: CardType, values: dict, state_text: str) -> RowPlan | None:
        state = self._state(row, ctype, state_text, ctype.first_state.key)
        if state is None:
            return None
        card_id = self._next_id(ctype)
        meta = {k: values[k] for k in ctype.fields if values.get(k) is not None}
        text = cardfile.new_card_text(meta, ctype.template)
        parsed = cardfile.parse(text)
        card = Card(card_id, ctype.key, state, f"{ctype.key}/{state}/{card_id}.md", parsed.meta, parsed.checklist)
        changes = [(self._column(ctype, k), "", cell(ctype.fields[k], v, self.cfg)) for k, v in meta.items()]
        return RowPlan(row, "new", card, text, changes)

    def _next_id(self, ctype: CardType) -> str:
        if ctype.prefix not in self.highest:
            self.highest[ctype.prefix] = int(self.board.next_id(ctype).rsplit("-", 1)[1]) - 1
        self.highest[ctype.prefix] += 1
        return f"{ctype.prefix}-{self.highest[ctype.prefix]:04d}"

    def _update(self, row: int, ctype: CardType, card_id: str, values: dict, state_text: str) -> RowPlan | None:
        card = self.by_id.get(card_id)
        if not ID_RE.match(card_id) or card is None:
            self.bad(row, self.id_col, t("board.no_card", id=card_id), t("spreadsheet.hint_new_card"))
            return None
        if card_id in self.seen:
            self.bad(row, self.id_col, t("spreadsheet.duplicate_row", id=card_id, other=self.seen[card_id]))
            return None
        self.seen[card_id] = row
        if card.type != ctype.key:
            self.bad(row, self.id_col, t("check.link_wrong_type", value=card_id, type=ctype.label))
            return None
        if card.error:
            self.bad(row, self.id_col, f"{card.path}: {card.error}", t("ops.fix_by_hand"))
            return None
        state = self._state(row, ctype, state_text, card.state)
        if state is None:
            return None
        changed = {k: v for k, v in values.items() if not same_value(ctype.fields[k], card.meta.get(k), v)}
        if not changed and state == card.state:
            return RowPlan(row, "same", card, "", [], card)  # nothing to read or write
        new_text = self.board.read_text(card)
        changes = []
        for key, value in changed.items():
            fd = ctype.fields[key]
            try:
                new_text = cardfile.set_field(new_text, key, value)
            except CardSyntaxError as exc:
                self.bad(row, self._column(ctype, key), exc.message, t("ops.fix_by_hand"))
                return None
            changes.append((self._column(ctype, key), cell(fd, card.meta.get(key), self.cfg), cell(fd, value, self.cfg)))
        if state != card.state:
            changes.append((self._column(ctype, "state"), ctype.state_label(card.state), ctype.state_label(state)))
        parsed = cardfile.parse(new_text)
        after = Card(card.id, card.type, state, f"{card.type}/{state}/{card.id}.md", parsed.meta, parsed.checklist)
        action = "move" if state != card.state else "update"
        return RowPlan(row, action, after, new_text, changes, card)

    def _column(self, ctype: CardType, key: str) -> str:
        """The header a field's problems are reported under (its label if it has no column)."""
        if key == "state":
            return self.headers[self.state_col] if self.state_col is not None else t("spreadsheet.col_state")
        cols = self.columns_for(ctype)
        return self.headers[cols[key]] if key in cols else ctype.fields[key].label if key in ctype.fields else key

    # --- the whole board ---

    def validate(self, plans: list[RowPlan]) -> None:
        """Judge every planned card against the board as it will be (new IDs included)."""
        ids = {c.id: c.type for c in self.board.cards()}
        ids.update({p.card.id: p.card.type for p in plans})
        for plan in plans:
            ctype = self.cfg.types[plan.card.type]
            old = {(p.field, p.message) for p in check_card(self.board, plan.before, ids)} if plan.before else set()
            for p in check_card(self.board, plan.card, ids):
                if p.level == "error" and (p.field, p.message) not in old:
                    self.bad(plan.row, self._column(ctype, p.field) if p.field else "", p.message,
                             self._cell_hint(ctype, p))
            entering = plan.action == "new" and plan.card.state != ctype.first_state.key or plan.action == "move"
            if entering:
                self._entry_problems(plan, ctype)
        self._wip_warnings(plans)

    def _cell_hint(self, ctype: CardType, problem: Problem) -> str:
        """What to change in the sheet about a field's problem: the cell to fill, or the column to
        add or map. (The card's own hint names a command and an ID, and a new card has no ID yet.)"""
        if problem.field not in ctype.fields:
            return problem.hint
        if problem.field in self.columns_for(ctype):
            return t("spreadsheet.hint_fill_cell", column=self._column(ctype, problem.field))
        return t("spreadsheet.hint_add_column", label=ctype.fields[problem.field].label, key=problem.field)

    def _entry_problems(self, plan: RowPlan, ctype: CardType) -> None:
        """A card entering a state must meet its rules, as with `mdboard move`."""
        before = plan.before
        column = self._column(ctype, "state")
        if before is not None and ctype.state(before.state) and plan.card.state not in ctype.allowed_targets(before.state):
            self.bad(plan.row, column, t("move.not_allowed", src=ctype.state_label(before.state),
                                         dst=ctype.state_label(plan.card.state)),
                     t("move.hint_allowed", states=", ".join(ctype.allowed_targets(before.state)) or "-"))
        for p in requirement_problems(self.board, plan.card, ctype.state(plan.card.state), self.actor.person):
            self.bad(plan.row, self._column(ctype, p.field) if p.field and p.field in ctype.fields else column,
                     p.message, p.hint)

    def _wip_warnings(self, plans: list[RowPlan]) -> None:
        counts: dict[tuple[str, str], int] = {}
        for card in self.board.cards():
            counts[(card.type, card.state)] = counts.get((card.type, card.state), 0) + 1
        grown = set()
        for plan in plans:
            if plan.action in ("new", "move"):
                key = (plan.card.type, plan.card.state)
                counts[key] = counts.get(key, 0) + 1
                grown.add(key)
                if plan.before is not None:
                    counts[(plan.before.type, plan.before.state)] -= 1
        for type_key, state_key in sorted(grown):
            state = self.cfg.types[type_key].state(state_key)
            if state.wip and counts[(type_key, state_key)] > state.wip:
                self.problems.append((0, Problem(self.name, "", t("check.over_wip", state=state.label,
                                                 count=counts[(type_key, state_key)], wip=state.wip),
                                                 t("check.hint_over_wip"), "warning")))


@dataclass
class Source:
    """Where an import's rows come from: a CSV file (read in `encoding`) or one sheet of an
    Excel workbook, the columns the person mapped to fields (`--map 商品名称=title`), and the
    columns whose empty cells repeat the value above (`--fill-down 跟进人`)."""

    path: str
    kind: str = "csv"  # "csv" or "xlsx"
    encoding: str | None = None
    sheet: str | None = None
    mapping: list[str] = field(default_factory=list)  # the --map options as typed
    fill_down: list[str] = field(default_factory=list)  # column headers, as typed

    def read(self) -> tuple[list[str], list[tuple[int, list[str]]]]:
        if self.kind == "xlsx":
            from mdboard.domain.workbook import read_workbook

            headers, rows = read_workbook(self.path, self.sheet)
        else:
            headers, rows = read_sheet(self.path, self.encoding)
        return headers, fill_down(self.path, headers, rows, self.fill_down)


def fill_down(name: str, headers: list[str], rows: list[tuple[int, list[str]]],
              columns: list[str]) -> list[tuple[int, list[str]]]:
    """Rows with each empty cell of the named columns given the value above it.

    A sheet whose merged cells were unmerged (取消合并) keeps the value only in the first
    row of each block; the others look merged but are empty. A column that is not in the
    sheet is refused, with the nearest header suggested.
    """
    wanted = []
    for column in dict.fromkeys(c.strip() for item in columns for c in _MAP_SPLIT.split(item) if c.strip()):
        if column not in headers:
            raise MdboardError(parenthesized(t("spreadsheet.fill_down_no_column", path=name, column=column),
                                             suggest(column, [h for h in headers if h])))
        wanted.append(headers.index(column))
    above: dict[int, str] = {}
    out = []
    for number, cells in rows:
        cells = list(cells) + [""] * (max(wanted, default=-1) + 1 - len(cells))
        for i in wanted:
            if cells[i].strip():
                above[i] = cells[i]
            elif i in above:
                cells[i] = above[i]
        out.append((number, cells))
    return out


def plan_import(board: Board, source: Source, type_text: str | None = None, actor=None) -> ImportResult:
    """Read a sheet and work out every card it creates or changes, with every problem.

    Columns are understood by the mapping the person gives (`--map`), then by the mapping
    remembered from earlier imports into this board (COLUMNS_FILE), then by their headers.
    """
    from mdboard.domain.ops import resolve_actor

    actor = actor or resolve_actor(board)
    forced = board.config.find_type(type_text) if type_text else None
    given = parse_map(board.config, forced, source.mapping)
    remembered, notes = remembered_columns(board, forced)
    headers, rows = source.read()
    importer = _Importer(board, source.path, headers, type_text, actor, remembered | given)
    importer.problems += [(0, p) for p in notes]
    for header in given:
        if header not in headers:
            importer.problems.append((0, Problem(source.path, header, t("spreadsheet.map_no_column"),
                                                 suggest(header, headers), "warning")))
    plans = [p for p in (importer.plan(row, cells) for row, cells in rows) if p is not None]
    importer.validate(plans)
    problems = [p for _, p in sorted(importer.problems, key=lambda pair: pair[0])]
    result = ImportResult(source.path, plans, problems, columns=importer.understood())
    result.remembered = columns_file_text(board, given)
    return result


def import_sheet(board: Board, source: Source, type_text: str | None = None, apply: bool = False, actor=None,
                 no_commit: bool = False) -> ImportResult:
    """Plan an import; with `apply`, write every change and commit it once (under the board lock).

    Any error in any row: nothing is written (ValidationFailed when applying). A column
    mapping given with `--map` is remembered in COLUMNS_FILE by the same commit.
    """
    from mdboard.domain.ops import resolve_actor

    actor = actor or resolve_actor(board)
    if not apply:
        return plan_import(board, source, type_text, actor)
    with git_changes.board_lock(board):
        board.invalidate()
        result = plan_import(board, source, type_text, actor)
        if result.errors:
            raise ValidationFailed(t("ops.nothing_changed"), result.problems)
        changed = [p for p in result.rows if p.action != "same"]
        if not changed and result.remembered is None:
            result.note = t("spreadsheet.nothing_to_change")
            return result
        commit = git_changes.commits_enabled(board, no_commit)
        result.commit = git_changes.apply_change(board, _change(result, changed, actor), commit=commit)
        result.applied = True
        if not commit and not no_commit and board.config.commit:
            result.note = t("ops.not_a_repo")
    return result


def _change(result: ImportResult, changed: list[RowPlan], actor) -> git_changes.Change:
    """One commit for the whole sheet: every new, edited and moved card (and the column map)."""
    files, renames = {}, {}
    for plan in changed:
        if plan.before is not None and plan.before.path != plan.card.path:
            files[plan.before.path] = None
            renames[plan.card.path] = plan.before.path
        files[plan.card.path] = plan.text
    if result.remembered is not None:
        files[COLUMNS_FILE] = result.remembered
    subject = f"import {Path(result.file).name}: {result.count('new')} new, {result.count('update', 'move')} updated"
    trailers = [("Action", "import")] + [("Card", p.card.id) for p in changed]
    creates = [p.card.path for p in changed if p.action == "new"]
    return git_changes.Change(files, subject, trailers, actor.author, renames, creates)


# --- column mapping (`--map 商品名称=title`), remembered per board ------------------------

COLUMNS_FILE = "import-columns.yaml"  # header -> field key, kept in the board (and its git history)
_MAP_SPLIT = re.compile(r"[,，;；]")


def parse_map(cfg: BoardConfig, forced: CardType | None, items: list[str]) -> dict[str, str]:
    """`--map` options (each `列名=字段`, several per option with commas) -> header -> target.

    A target is a field's key or label, or 编号/类型/状态 (id, type, state); nothing after
    the `=` leaves the column out. Anything else is refused before the sheet is read.
    """
    mapping: dict[str, str] = {}
    for item in items:
        for part in _MAP_SPLIT.split(item):
            if not part.strip():
                continue
            header, sep, target = part.replace("＝", "=").partition("=")
            if not sep or not header.strip():
                raise MdboardError(t("spreadsheet.bad_map", item=part.strip()))
            mapping[header.strip()] = map_target(cfg, forced, target.strip())
    return mapping


def map_target(cfg: BoardConfig, forced: CardType | None, text: str) -> str:
    """The field key (or id/type/state; "" for "leave out") a `--map` target names."""
    if text in ("", "-"):
        return ""
    for name in ("id", "type", "state"):
        if text.lower() in special_names(name):
            return name
    types = [forced] if forced else list(cfg.types.values())
    for ctype in types:
        for key, fd in ctype.fields.items():
            if text.lower() == key or text == fd.label:
                return key
    known = [fd.label for ctype in types for fd in ctype.fields.values()]
    raise MdboardError(parenthesized(t("spreadsheet.unknown_map_field", field=text,
                                       fields=join_list(dict.fromkeys(known))), suggest(text, known)))


def remembered_columns(board: Board, forced: CardType | None) -> tuple[dict[str, str], list[Problem]]:
    """The column map kept in COLUMNS_FILE, and a warning for each entry that no longer fits."""
    raw = _read_columns_file(board)
    mapping, notes = {}, []
    for header, target in raw.items():
        try:
            mapping[str(header)] = map_target(board.config, forced, "" if target is None else str(target))
        except MdboardError as exc:
            notes.append(Problem(COLUMNS_FILE, str(header), exc.message, "", "warning"))
    return mapping, notes


def _read_columns_file(board: Board) -> dict:
    path = board.root / COLUMNS_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise MdboardError(t("spreadsheet.unreadable", path=COLUMNS_FILE, error=str(exc)))
    try:
        data = cardfile.load_yaml(text) if text.strip() else {}
    except CardSyntaxError as exc:
        raise MdboardError(f"{COLUMNS_FILE}: {exc.message}")
    if not isinstance(data, dict):
        raise MdboardError(t("spreadsheet.bad_columns_file", path=COLUMNS_FILE))
    return data


def columns_file_text(board: Board, given: dict[str, str]) -> str | None:
    """COLUMNS_FILE's new text with the mapping just given, or None when it stays as it is."""
    if not given:
        return None
    old = _read_columns_file(board)
    merged = {str(k): ("" if v is None else str(v)) for k, v in old.items()} | given
    if merged == old:
        return None
    lines = [f"# {t('spreadsheet.columns_file_comment')}"]
    lines += [f"{cardfile.render_key(k)}: {cardfile.render_value(v)}" for k, v in merged.items()]
    return "\n".join(lines) + "\n"


# --- the commands -----------------------------------------------------------------------
