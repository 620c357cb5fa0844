"""The history reader as it was before the `--raw` reader: whole-file patches, parsed line by line.

Kept as a test oracle only: `git log -M -p --unified=1000000` shows both versions of every
changed card in one stream, so the rows it gives are an independent way of reading the
same history. Tests compare `mdboard.git.history.read_rows` (paths from `git log --raw -z`,
contents from `git cat-file --batch`) with `oracle_rows` on real boards.
"""

from __future__ import annotations

import io
import re
import subprocess

from mdboard.git import history as h

_HUNK_CHARS = frozenset(" -+\\")
_WHOLE_HUNK = re.compile(r"^@@ -[01](?:,\d+)? \+[01](?:,\d+)? @@")


def oracle_rows(root, prefix: str = "", start: str | None = None, head: str = "HEAD") -> tuple[list[tuple], int]:
    """(rows oldest first, commits read) of `start..head`, read from whole-file patches."""
    args = ["git", "-c", "core.quotePath=false", "log", "-M", "-p", "--unified=1000000", "--no-color",
            "--no-ext-diff", "--no-textconv", "--no-diff-merges", "--no-show-signature",
            "--src-prefix=a/", "--dst-prefix=b/", f"--format={h._FORMAT}"]
    if prefix:
        args.append(f"--relative={prefix}")
    args.append(f"{start}..{head}" if start else head)
    out = subprocess.run(args, cwd=root, capture_output=True, check=True).stdout
    stream = io.TextIOWrapper(io.BytesIO(out), encoding="utf-8", errors="replace", newline="\n")
    chunks, parents = [], {}
    for commit in parse_stream(stream):
        for f in commit.files:
            f.old, f.new = f.old and f.old.side(), f.new and f.new.side()
            f.old_card, f.new_card = h.card_of(f.old_path), h.card_of(f.new_path)
            f.kind = "A" if f.old_path is None else "D" if f.new_path is None else "M"
        chunks.append(commit.rows())
        parents[commit.sha] = commit.parents
    rows = [row for chunk in reversed(chunks) for row in chunk]
    return h.follow_renumbers(rows, parents), len(parents)


def parse_stream(stream):
    """`git log -p` output -> h._Commit objects, newest first, one at a time."""
    commit = header = current = None
    old_side = new_side = whole = None
    in_hunk = False
    for line in stream:
        c = line[:1]
        if in_hunk and c in _HUNK_CHARS:
            if current is None or c == "\\":
                continue
            if whole is not None:  # an added or deleted card: only its title is wanted
                if whole.section < 2:
                    whole.take_title(line[1:].rstrip("\r\n"))
                continue
            text = line[1:].rstrip("\r\n")
            if c == " ":
                old_side.take(text)
                new_side.take(text)
            else:
                (old_side if c == "-" else new_side).take(text)
            continue
        in_hunk = False
        if header is not None or c == "\x1e":
            header = line if header is None else header + line
            if "\x1d" in line:
                if commit is not None:
                    yield commit
                commit = h._Commit(header)
                header = current = None
        elif line.startswith("diff --git "):
            current = PatchFile(line)
            if commit is not None:
                commit.files.append(current)
        elif current is not None and line.startswith("@@"):
            in_hunk = True
            assert current.old is None and _WHOLE_HUNK.match(line), f"not a whole-file diff: {line!r}"
            if h.card_of(current.old_path) is None and h.card_of(current.new_path) is None:
                current = None
                continue
            current.old = old_side = LineSide(current.old_path is not None)
            current.new = new_side = LineSide(current.new_path is not None)
            whole = None
            if current.old_path is None or current.new_path is None:
                whole = new_side if current.old_path is None else old_side
        elif current is not None:
            current.header_line(line)
    if commit is not None:
        yield commit


class PatchFile:
    """One file of a patch: its paths from the diff header lines, and both sides."""

    def __init__(self, diff_line: str):
        self.old_path = self.new_path = same_path(diff_line[11:].rstrip("\r\n"))
        self.old = self.new = None

    def header_line(self, line: str) -> None:
        if line.startswith("--- "):
            self.old_path = None if line.startswith("--- /dev/null") else path_of(line[6:])
        elif line.startswith("+++ "):
            self.new_path = None if line.startswith("+++ /dev/null") else path_of(line[6:])
        elif line.startswith("rename from "):
            self.old_path = path_of(line[12:])
        elif line.startswith("rename to "):
            self.new_path = path_of(line[10:])
        elif line.startswith("new file mode"):
            self.old_path = None
        elif line.startswith("deleted file mode"):
            self.new_path = None


def same_path(rest: str) -> str | None:
    n = (len(rest) - 5) // 2
    if n > 0 and rest[:2] == "a/" and rest[n + 2:n + 5] == " b/" and rest[2:n + 2] == rest[n + 5:]:
        return rest[2:n + 2]
    return None


def path_of(text: str) -> str:
    text = text.rstrip("\r\n")
    if text.endswith("\t"):
        text = text[:-1]
    if text.startswith('"') and text.endswith('"'):
        text = text[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape").encode(
            "latin-1", "replace").decode("utf-8", "replace")
    return text


class LineSide:
    """One side of a card file in a diff, read line by line: front matter and body lines."""

    def __init__(self, present: bool):
        self.section = 0 if present else 3  # 0 before the opening fence, 1 front matter, 2 body, 3 absent
        self.key = None
        self.fm: dict[str, list[str]] = {}
        self.body: list[str] = []

    def side(self) -> h._Side | None:
        return None if self.section == 3 else h._Side(self.fm, "\n".join(self.body))

    def take(self, text: str) -> None:
        if self.section == 2:
            self.body.append(text)
        elif self.section == 1:
            if FENCE.match(text):
                self.section = 2
                return
            key, value = h._key_value(text)
            if key is not None:
                self.key = key
                self.fm[key] = [value]
            elif self.key is not None and text.strip() and not text.lstrip().startswith("#"):
                self.fm[self.key].append(text)
        elif self.section == 0:
            self.section = 1 if text.lstrip("\ufeff").rstrip() == "---" else 2
            if self.section == 2:
                self.body.append(text)

    def take_title(self, text: str) -> None:
        if self.section == 1:
            if FENCE.match(text):
                self.section = 2
            elif text.startswith("title:"):
                self.fm["title"] = [text[6:]]
        elif self.section == 0:
            self.section = 1 if text.lstrip("\ufeff").rstrip() == "---" else 2


FENCE = re.compile(r"^(---|\.\.\.)[ \t]*$")
