"""The mistakes people make editing a card or mdboard.yaml by hand, named in plain words.

When the YAML parser gives up, its own words ("could not find expected ':'") are English
and often name the line after the mistake. People who edit cards in Notepad or a phone's
editor make a handful of mistakes again and again: a full-width colon or space typed with a
Chinese input method, a Tab for indentation, a quote left open, a value that begins with a
sign YAML reserves, the closing `---` deleted, a file saved as GBK. `explain_yaml` looks
for these in the text itself, so the message names the right line, what is wrong and what
to type instead; `encoding_message` says how to save a file again in UTF-8.
"""

from __future__ import annotations

import re

from mdboard.core.i18n import t

_KEY = r"[A-Za-z_][\w-]*"
_FULLWIDTH_COLON = re.compile(rf"^(\s*(?:-\s+)?)({_KEY})\s*：\s*(.*)$")
_SPECIAL_START = re.compile(rf"^(\s*(?:-\s+)?{_KEY}:[ ]+)([@`*:%])(.*)$")
_QUOTED_START = re.compile(rf"^(\s*(?:-\s+)?(?:{_KEY}:[ ]+)?)([\"'])(.*)$")
_FENCE_LINE = "---"


def explain_yaml(text: str, first_line: int = 1, upto: int | None = None) -> str | None:
    """The first hand-made mistake in YAML `text` (which starts on file line `first_line`),
    in the board's language with its file line and the line as it should be; None when
    none of the known mistakes is there (the parser's own message is the best we have).
    `upto`: the file line where the parser gave up; a mistake is never after it."""
    for number, line in enumerate(text.split("\n"), start=first_line):
        if upto is not None and number > upto:
            break
        line = line.rstrip("\r")
        said = _mistake_in(line, number)
        if said:
            return said
    return None


def _mistake_in(line: str, number: int) -> str | None:
    """What is wrong with one line, if it is one of the known mistakes."""
    if line.lstrip().startswith("#") or not line.strip():
        return None
    indent = line[:len(line) - len(line.lstrip(" \t\u3000"))]
    if "\t" in indent:
        return t("mistakes.tab", line=number, fixed=_shown(indent.replace("\t", "  ").replace("\u3000", "  ")
                                                           + line[len(indent):]))
    if "\u3000" in indent:
        return t("mistakes.fullwidth_space", line=number, fixed=_shown(indent.replace("\u3000", "  ")
                                                                      + line[len(indent):]))
    m = re.match(rf"^(\s*(?:-\s+)?{_KEY}):\u3000+(.*)$", line)
    if m:
        return t("mistakes.fullwidth_space", line=number, fixed=_shown(f"{m.group(1)}: {m.group(2)}"))
    m = _FULLWIDTH_COLON.match(line)
    if m and not re.match(rf"^\s*(?:-\s+)?{_KEY}:(\s|$)", line):
        return t("mistakes.fullwidth_colon", line=number, text=_shown(line.strip()),
                 fixed=_shown(f"{m.group(1)}{m.group(2)}: {m.group(3)}".rstrip()))
    m = _QUOTED_START.match(line)
    if m and not _closed(m.group(2), m.group(3)):
        quote, value = m.group(2), m.group(3).rstrip()
        return t("mistakes.unbalanced_quote", line=number, quote=quote, fixed=_shown(f"{m.group(1)}{quote}{value}{quote}"))
    m = _SPECIAL_START.match(line)
    if m:
        value = (m.group(2) + m.group(3)).rstrip().replace("\\", "\\\\").replace('"', '\\"')
        return t("mistakes.special_start", line=number, sign=m.group(2), fixed=_shown(f'{m.group(1)}"{value}"'))
    return None


def _closed(quote: str, rest: str) -> bool:
    """Whether a value that opened with `quote` closes it on the same line."""
    if quote == "'":
        return re.match(r"^(?:[^']|'')*'(?!')", rest) is not None
    return re.match(r'^(?:[^"\\]|\\.)*"', rest) is not None


def _shown(line: str) -> str:
    """A line as a message quotes it (no surrounding blanks)."""
    return line.strip()


def unclosed_message(lines: list[str]) -> str:
    """The closing `---` is missing: name the last field line, after which it belongs.

    A card's fields come first, one `key: value` per line (lists indented below their
    key); the first line that is neither is where the body begins.
    """
    last = 1
    for number, line in enumerate((ln.rstrip("\r\n") for ln in lines[1:]), start=2):
        if re.match(rf"^{_KEY}\s*[:：]", line) or (line[:1] in (" ", "\t", "-") and line.strip()
                                                   and line.strip() != _FENCE_LINE):
            last = number
            continue
        break
    return t("mistakes.unclosed", line=last)


def encoding_message(data: bytes, offset: int) -> str:
    """A file that is not UTF-8: GBK/GB18030 (what Chinese Windows saves by default) is
    named as such, with how to save it again and the command that converts it."""
    if looks_gbk(data):
        return t("mistakes.gbk")
    return t("mistakes.not_utf8", offset=offset)


def looks_gbk(data: bytes) -> bool:
    """Whether bytes that are not UTF-8 read as Chinese text in GB18030 (a superset of GBK)."""
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        return False
    return re.search(r"[\u4e00-\u9fff]", text) is not None
