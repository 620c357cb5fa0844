"""Data files a board keeps beside its cards: playbooks (`playbooks/*.yaml`) and the
big-sale calendar (`sales/<year>.yaml`).

They are plain YAML the team edits by hand, read with the same safe loader as card
front matter (`cardfile.load_yaml`: plain data only, duplicate keys refused). A file
that cannot be read becomes a `Problem` naming the file, never an exception, so
`mdboard check` lists every broken file at once and the site keeps working.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mdboard.core.errors import CardSyntaxError, Problem
from mdboard.core.i18n import t
from mdboard.core.text import suggest

DATA_FOLDERS = ("playbooks", "sales")  # top-level folders of the board holding these files
MAX_DATA_BYTES = 256 * 1024


def data_files(root: Path, folder: str) -> list[tuple[str, Path]]:
    """(board-relative path, path) of each `.yaml` file in `folder`, sorted by name.

    Hidden files (editor temp files) are skipped; a symbolic link is listed so that
    reading it reports it rather than following it out of the board.
    """
    base = Path(root) / folder
    if not base.is_dir() or base.is_symlink():
        return []
    out = []
    for path in sorted(base.iterdir()):
        if path.name.startswith(".") or not path.name.endswith((".yaml", ".yml")):
            continue
        if path.is_file() or path.is_symlink():
            out.append((f"{folder}/{path.name}", path))
    return out


def data_stamp(root: Path) -> str:
    """A hash of every data file's path and bytes: what pages made from them depend on
    (a few small files; a file touched but not changed keeps the same stamp)."""
    import hashlib

    h = hashlib.blake2b(digest_size=12)
    for folder in DATA_FOLDERS:
        for rel, path in data_files(root, folder):
            try:
                data = b"" if path.is_symlink() else path.read_bytes()[:MAX_DATA_BYTES + 1]
            except OSError:
                data = b"\0unreadable"
            h.update(rel.encode("utf-8") + b"\0" + hashlib.blake2b(data, digest_size=12).digest())
    return h.hexdigest()


def read_yaml(path: Path, rel: str) -> tuple[object, list[Problem]]:
    """(data, problems) of one data file; data is None when it cannot be read."""
    from mdboard.core.cardfile import load_yaml

    if path.is_symlink():
        return None, [Problem(rel, "", t("card.symlink"), t("boardfiles.hint_symlink"))]
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, [Problem(rel, "", t("card.unreadable", error=exc.strerror or str(exc)), "")]
    if len(raw) > MAX_DATA_BYTES:
        return None, [Problem(rel, "", t("boardfiles.too_big", kb=MAX_DATA_BYTES // 1024), "")]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        from mdboard.core.mistakes import looks_gbk

        if looks_gbk(raw):
            return None, [Problem(rel, "", t("mistakes.gbk"))]
        return None, [Problem(rel, "", t("card.not_utf8", offset=exc.start), t("config.hint_utf8"))]
    try:
        return load_yaml(text), []
    except CardSyntaxError as exc:
        return None, [Problem(rel, "", exc.message, t("config.fix_yaml"))]


@dataclass
class Reader:
    """Collects problems while reading one data file's mapping, naming the key path."""

    path: str
    problems: list[Problem] = field(default_factory=list)

    def bad(self, where: str, message: str, hint: str = "", level: str = "error") -> None:
        self.problems.append(Problem(self.path, where, message, hint, level))

    def mapping(self, data, where: str) -> dict:
        if data is None:
            return {}
        if not isinstance(data, dict):
            self.bad(where, t("config.want_mapping"), t("config.hint_mapping"))
            return {}
        return data

    def known_keys(self, data: dict, where: str, known) -> None:
        """A key the format does not define is reported (a typo would otherwise be ignored)."""
        for key in data:
            if key not in known:
                self.bad(f"{where}.{key}" if where else str(key), t("config.unknown_key"),
                         suggest(str(key), sorted(known)))

    def strings(self, data, where: str) -> list[str]:
        if data is None:
            return []
        if isinstance(data, (str, int, float)) and not isinstance(data, bool):
            return [str(data)]
        if not isinstance(data, list) or not all(isinstance(x, (str, int, float)) and not isinstance(x, bool)
                                                 for x in data):
            self.bad(where, t("config.want_list"), t("config.hint_list"))
            return []
        return [str(x) for x in data]

    def text(self, data, where: str, default: str = "") -> str:
        if data is None:
            return default
        if isinstance(data, (dict, list)) or isinstance(data, bool):
            self.bad(where, t("boardfiles.want_text"), t("boardfiles.hint_quote"))
            return default
        return str(data).strip()
