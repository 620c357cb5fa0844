"""Excel workbooks (.xlsx) in and out, through openpyxl: `mdboard export xlsx`, `import xlsx`.

Teams keep their sheets in Excel or WPS far more often than in CSV. An export writes
every text cell as text (format "@"), so an order number such as 3698512740215583327
stays those digits instead of becoming 3.69851E+18; money and number fields as numbers
(the sheet can sum them); dates as dates. An import reads the cells back as the text a
person would type, so it goes through exactly the same checks as a CSV. openpyxl is
imported only here, when a workbook is read or written (it takes most of a second).
"""

from __future__ import annotations

import io
import re
from datetime import date, datetime, time
from pathlib import Path

from mdboard.core import dates
from mdboard.core.errors import MdboardError
from mdboard.core.i18n import join_list, t

TEXT_FORMAT = "@"
NUMBER_KINDS = ("number", "money")
EXACT_DIGITS = 15  # Excel keeps 15 significant digits of a number; past that they are gone
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")  # what an xlsx file cannot hold


# --- writing --------------------------------------------------------------------------

def workbook_bytes(headers: list[str], rows: list[list[str]], kinds: list[str], title: str) -> bytes:
    """An .xlsx file of one sheet: a bold header row that stays in view, one row per card."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    sheet = book.create_sheet(_sheet_title(title))
    sheet.freeze_panes = "A2"
    for i, (header, kind) in enumerate(zip(headers, kinds)):
        column = sheet.column_dimensions[_column_letter(i)]
        column.width = _width(header, [r[i] for r in rows[:200]])
        if kind not in NUMBER_KINDS and kind != "date":
            column.number_format = TEXT_FORMAT  # what is typed later into an empty cell stays text too
    bold = Font(bold=True)
    sheet.append([_text_cell(WriteOnlyCell(sheet), h, bold) for h in headers])
    for row in rows:  # an empty cell is left out of the file (most of a whole-board export's cells)
        sheet.append([_cell(WriteOnlyCell(sheet), text, kind) if text else None for text, kind in zip(row, kinds)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cell(cell, text: str, kind: str):
    """A cell holding a value as Excel should see it: a number, a date, or text."""
    if kind in NUMBER_KINDS and text:
        try:
            number = float(text)
        except ValueError:
            pass
        else:
            cell.value = int(number) if number.is_integer() and "." not in text else number
            return cell
    if kind == "date" and dates.parse_date(text):
        cell.value = dates.parse_date(text)
        cell.number_format = "yyyy-mm-dd"
        return cell
    return _text_cell(cell, text)


def _text_cell(cell, text: str, font=None):
    """Text that stays text: never a number, never a formula (`=HYPERLINK(…)` shows as typed)."""
    cell.value = _CONTROL.sub("", text)
    cell.data_type = "s"
    cell.number_format = TEXT_FORMAT
    if font is not None:
        cell.font = font
    return cell


def _sheet_title(title: str) -> str:
    """A sheet name Excel accepts: at most 31 characters, none of []:*?/\\."""
    return re.sub(r"[\[\]:*?/\\]", " ", title).strip()[:31] or "mdboard"


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def _width(header: str, cells: list[str]) -> float:
    """A column width that shows its header and most cells (a Chinese character counts twice)."""
    widest = max([_display_width(header)] + [_display_width(c) for c in cells])
    return min(max(widest + 2, 6), 60)


def _display_width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2e7f else 1 for ch in text)


# --- reading --------------------------------------------------------------------------

def read_workbook(path: str, sheet: str | None = None) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header cells and (Excel row number, cells as text) of every non-empty row of one sheet.

    The header is the first row with two or more filled cells (a title row above it is
    skipped). A merged cell gives its value to every cell it covers, so a 活动 written once
    across five rows reaches all five.
    """
    book = _open(path)
    try:
        ws = _sheet(book, path, sheet)
        grid = [[_text(v) for v in row] for row in ws.iter_rows(values_only=True)]
        header_at = next((i for i, row in enumerate(grid) if sum(1 for c in row if c.strip()) >= 2),
                         next((i for i, row in enumerate(grid) if any(c.strip() for c in row)), None))
        if header_at is None:
            raise MdboardError(t("spreadsheet.no_header", path=path))
        _fill_merged(ws, grid, header_at)
    finally:
        book.close()
    headers = [h.strip() for h in grid[header_at]]
    rows = [(i + 1, row) for i, row in enumerate(grid) if i > header_at and any(c.strip() for c in row)]
    return headers, rows


def _open(path: str):
    """The workbook (values, not formulas), or an error a person can act on."""
    from zipfile import BadZipFile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    if not Path(path).is_file():
        raise MdboardError(t("spreadsheet.unreadable", path=path, error=t("spreadsheet.no_such_file")))
    try:
        return load_workbook(path, data_only=True)
    except OSError as exc:
        raise MdboardError(t("spreadsheet.unreadable", path=path, error=exc.strerror or str(exc)))
    except (BadZipFile, InvalidFileException, KeyError, ValueError, TypeError) as exc:
        raise MdboardError(t("spreadsheet.bad_xlsx", path=path)) from exc


def _sheet(book, path: str, name: str | None):
    """The named sheet, or the one the workbook opens on."""
    if name is None:
        return book.active if book.active is not None else book.worksheets[0]
    if name in book.sheetnames:
        return book[name]
    raise MdboardError(t("spreadsheet.no_sheet", path=path, sheet=name, sheets=join_list(book.sheetnames)))


def _fill_merged(ws, grid: list[list[str]], header_at: int) -> None:
    """Copy each merged range's value (kept in its top-left cell) into the cells it covers."""
    for merged in ws.merged_cells.ranges:
        top, left = merged.min_row - 1, merged.min_col - 1
        if top <= header_at or top >= len(grid):
            continue
        value = grid[top][left] if left < len(grid[top]) else ""
        for r in range(top, min(merged.max_row, len(grid))):
            row = grid[r]
            row.extend([""] * (merged.max_col - len(row)))
            for c in range(left, merged.max_col):
                row[c] = value


def _text(value) -> str:
    """A cell's value as the text a person would type into `mdboard set`.

    Whole numbers lose Excel's ".0"; a number so long Excel kept only its first 15 digits
    reads as Excel shows it (3.69851E+18), which the import then names as digits lost.
    Dates and times read as ISO.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _number_text(value)
    if isinstance(value, datetime):
        if value.time() == time():
            return value.date().isoformat()
        return value.strftime("%Y-%m-%d %H:%M" + (":%S" if value.second else ""))
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return str(value)


def _number_text(value: float) -> str:
    if value.is_integer() and abs(value) < 10 ** EXACT_DIGITS:
        return str(int(value))
    if value.is_integer():
        mantissa, exponent = f"{value:.5E}".split("E")
        return f"{mantissa.rstrip('0').rstrip('.')}E{exponent}"  # as Excel shows it: 5.8291E+17
    return repr(value)
