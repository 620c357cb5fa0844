"""`mdboard fix-encoding`: cards and mdboard.yaml saved as GBK, converted to UTF-8.

Chinese Windows editors (Notepad before 2019, WPS, some phone editors) save text as GBK by
default; mdboard reads only UTF-8, and `check` says so with this way out. The board's own
files are found on disk without opening the board (mdboard.yaml itself may be the GBK one).
A file is converted only when all of it reads as GB18030 (GBK's superset) and holds Chinese:
bytes that are merely broken are left alone for a person to look at. Nothing is committed:
the person checks the files and commits them with `mdboard save` (or git).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mdboard.core.config import CONFIG_NAME
from mdboard.core.fsutil import atomic_write
from mdboard.core.mistakes import looks_gbk

_SKIP = {".git", ".mdboard", "_site", "node_modules"}


@dataclass(frozen=True)
class Recoded:
    """One file to convert: its path in the board, its title (when a card has one) and its text."""

    rel: str
    title: str
    text: str


def gbk_files(root: Path) -> list[Recoded]:
    """mdboard.yaml, the cards (`type/state/*.md`) and the board's other YAML files
    (playbooks, sale calendars) that are not UTF-8 but read as Chinese in GB18030."""
    found = []
    for path in _board_files(root):
        try:
            data = path.read_bytes()
        except OSError:
            continue
        try:
            data.decode("utf-8")
            continue
        except UnicodeDecodeError:
            pass
        if looks_gbk(data):
            text = data.decode("gb18030")
            found.append(Recoded(path.relative_to(root).as_posix(), _title(text), text))
    return found


def _board_files(root: Path) -> list[Path]:
    """The text files of a board, in a stable order (not following links)."""
    paths = [root / CONFIG_NAME] if (root / CONFIG_NAME).is_file() else []
    for pattern in ("*/*/*.md", "*/*.yaml"):
        paths += [p for p in sorted(root.glob(pattern))
                  if p.is_file() and not p.is_symlink() and not _SKIP & set(p.relative_to(root).parts)]
    return paths


def _title(text: str) -> str:
    """The `title:` of a card's text, as written (no YAML is read: the text may be broken)."""
    for line in text.splitlines()[1:40]:
        if line.startswith("title:"):
            return line[len("title:"):].strip().strip("'\"")
    return ""


def convert(root: Path, files: list[Recoded]) -> None:
    """Write each file again as UTF-8 (its line endings and every character kept)."""
    for item in files:
        atomic_write(root / item.rel, item.text.encode("utf-8"))
