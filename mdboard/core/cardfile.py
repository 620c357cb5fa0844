"""The one module that reads and writes card text (YAML front matter + Markdown body).

Parsing keeps dates as the strings the user typed (validation judges them, so a
`2026-02-30` is a message, not a crash), refuses duplicate keys, and bounds alias
expansion. Editing an existing card changes only the lines of the key it sets: other
keys, their order, comments, quoting, line endings and the body stay byte for byte.
New cards are written one `key: value` line per key, in the order given.

PyYAML costs a command ~20 ms to import. The values cards mostly hold (plain text, whole
numbers, true/false, dates, lists of those) are written without it (`quick_value`, the
same text PyYAML writes), so a `new` or `set` of such values on a card whose front matter
is plain lines (`_plain_keys`) never loads it.
"""

from __future__ import annotations

import functools
import re
from mdboard.core.errors import CardSyntaxError
from mdboard.core.i18n import t
from mdboard.core.records import Record, ValueRecord
from mdboard.core.text import lazy_regex

_TIMESTAMP = "tag:yaml.org,2002:timestamp"
MAX_NODES = 20000  # values in one card's front matter, aliases counted each time they are used
MAX_CONFIG_NODES = 500_000  # values in mdboard.yaml: a roster takes about ten a person
BOM = "\ufeff"
_LINE_BREAKS = lazy_regex("[\n\r\x85\u2028\u2029]")  # when writing values: compiled then
_TAG_PROBLEM = lazy_regex(r"could not determine a constructor for the tag '([^']*)'")


@functools.cache
def _yaml():
    """PyYAML with the card loader and dumper, made on first use.

    Importing PyYAML costs ~15 ms (it compiles its regular expressions): a command
    that only looks at cards whose front matter did not change never pays it.
    """
    import yaml

    base_loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    base_dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

    def without_timestamps(resolvers: dict) -> dict:
        return {k: [(tag, rx) for tag, rx in v if tag != _TIMESTAMP] for k, v in resolvers.items()}

    class CardLoader(base_loader):
        """Safe YAML loading: dates stay strings, duplicate keys are an error.

        `first_line` is the file line the text starts on, so messages name file lines.
        """

        yaml_implicit_resolvers = without_timestamps(yaml.SafeLoader.yaml_implicit_resolvers)
        # Plain data only: text, numbers, booleans, null, lists and mappings. Explicit
        # !!binary, !!set, !!omap, !!pairs and !!timestamp are refused like any other tag.
        yaml_constructors = {tag: fn for tag, fn in base_loader.yaml_constructors.items()
                             if tag is None or tag.rsplit(":", 1)[-1] in ("null", "bool", "int", "float", "str", "seq", "map")}
        first_line = 1

        def construct_mapping(self, node, deep=False):
            seen = {}
            for key_node, _ in node.value:
                # A plain key is judged by its text (constructing every key twice costs a
                # tenth of a cold parse); other keys are constructed to compare them.
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) and not key_node.style \
                    else self.construct_object(key_node, deep=True)
                if isinstance(key, (list, dict)):
                    continue  # unhashable keys are reported by the base constructor
                if key in seen:
                    raise CardSyntaxError(
                        t("card.duplicate_key", key=key, line=key_node.start_mark.line + self.first_line))
                seen[key] = True
            return super().construct_mapping(node, deep=deep)

    class CardDumper(base_dumper):
        """Writes dates as plain `2026-12-01` (they are strings to us, dates to other tools)."""

        yaml_implicit_resolvers = without_timestamps(yaml.SafeDumper.yaml_implicit_resolvers)

    def represent_str(dumper, value: str):
        """Text with a line break is written double-quoted with escapes, so it stays on one line."""
        style = '"' if _LINE_BREAKS().search(value) else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    CardDumper.add_representer(str, represent_str)
    return yaml, CardLoader, CardDumper


class YamlTooBig(CardSyntaxError):
    """YAML holding more values than its kind of file may (aliases counted each time used)."""


def load_yaml(text: str, first_line: int = 1, max_nodes: int = MAX_NODES):
    """Parse YAML text safely; raise CardSyntaxError naming the file line on any mistake.

    Only plain data is built: a tag such as `!!python/object/apply` is refused,
    never constructed, and the values built are bounded (`max_nodes`: a card's front
    matter, or MAX_CONFIG_NODES for mdboard.yaml), so aliases cannot expand without end.
    """
    yaml, card_loader, _ = _yaml()
    loader = card_loader(text)
    loader.first_line = first_line
    try:
        data = loader.get_single_data()
    except CardSyntaxError:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + first_line if mark else first_line
        tag = _TAG_PROBLEM().search(exc.problem or "")
        if tag:
            raise CardSyntaxError(t("card.yaml_tag", line=line, tag=tag.group(1).replace("tag:yaml.org,2002:", "!!")))
        from mdboard.core.mistakes import explain_yaml

        raise CardSyntaxError(explain_yaml(text, first_line, upto=line)
                              or t("card.yaml_error", line=line, problem=exc.problem or str(exc)))
    except (yaml.YAMLError, ValueError, TypeError, RecursionError) as exc:
        raise CardSyntaxError(t("card.yaml_problem", problem=(str(exc).splitlines() or [type(exc).__name__])[0]))
    finally:
        loader.dispose()
    if "*" in text or len(text) > max_nodes // 2:  # without aliases, no more values than characters
        _count_nodes(data, max_nodes, aliased="*" in text and "&" in text)
    return data


def _count_nodes(data, limit: int, aliased: bool) -> None:
    """Refuse a document that builds more than `limit` values: an alias bomb (`aliased`),
    or simply too much data; the message says which."""
    budget = [limit]
    stack = [data]
    while stack:
        item = stack.pop()
        budget[0] -= 1
        if budget[0] < 0:
            raise YamlTooBig(t("card.too_big_yaml" if aliased else "card.too_many_values", limit=limit))
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def render_value(value) -> str:
    """One YAML flow value on one line, quoted only where YAML needs it."""
    quick = quick_value(value)
    return quick if quick is not None else _yaml_value(value)


def _yaml_value(value) -> str:
    """`render_value` by PyYAML's dumper."""
    yaml, _, card_dumper = _yaml()
    text = yaml.dump(value, Dumper=card_dumper, allow_unicode=True, default_flow_style=True,
                     width=1_000_000, sort_keys=False)
    text = text.rstrip("\n")
    if text.endswith("\n..."):  # the document end marker after a plain scalar; a value's own "..." stays
        text = text[: -len("\n...")]
    return text


_DATE_TEXT = lazy_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATETIME_TEXT = lazy_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}(?::[0-9]{2})?")
_PLAIN_ASCII = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 -_./()")
_YAML_WORDS = frozenset({"yes", "no", "true", "false", "on", "off", "null"})  # YAML 1.1 reads them as true/false/null
MAX_SIMPLE_KEY = 1024  # characters: YAML refuses a longer `key:` (an implicit key)
QUICK_LIMIT = 2000  # characters: longer text (which PyYAML might fold) is left to PyYAML


def quick_value(value, in_list: bool = False) -> str | None:
    """`value` written as `render_value` writes it, worked out without PyYAML, for the values
    cards mostly hold: true/false, whole numbers, decimals Python writes with a point and
    no exponent, dates, text that YAML reads back as that same text without quotes, and
    one-level lists of those; None for any other value (PyYAML writes it then)."""
    if value is True or value is False:
        return "true" if value else "false"
    kind = value.__class__
    if kind is int:
        return str(value)
    if kind is float:
        text = repr(value)
        return text if "." in text and "e" not in text and "n" not in text else None
    if kind is str:
        return value if _plain_text(value, in_list) else None
    if kind is list and not in_list:
        items = [quick_value(item, True) for item in value]
        return None if any(item is None for item in items) else "[" + ", ".join(items) + "]"
    return None


def _plain_text(text: str, in_list: bool) -> bool:
    """Whether YAML writes `text` as it is (no quotes) and reads it back as that text.

    Letters, digits, spaces inside, `-_./()` and printable characters beyond ASCII up
    to U+FFFF (libyaml writes the others as escapes);
    text made of ASCII alone must start with a letter and not be one of YAML's words
    for true, false and null (`yes`, `off` ...), or be a date (or a date and time, not
    inside a list, where `:` would need quotes). Nothing here can start a YAML
    indicator, a comment or a number: the first character is no space, `-` or `.`."""
    if not text or len(text) > QUICK_LIMIT or text[0] in " -." or text[-1] == " ":
        return False
    if text.isascii():
        if _DATE_TEXT().fullmatch(text) or (not in_list and _DATETIME_TEXT().fullmatch(text)):
            return True
        return text[0].isalpha() and text.lower() not in _YAML_WORDS and all(c in _PLAIN_ASCII for c in text)
    return all(c in _PLAIN_ASCII or ("\xa0" <= c <= "\uffff" and c.isprintable() and c != "\ufeff") for c in text)


# --- splitting ----------------------------------------------------------------------

_FENCE = re.compile(r"^(---|\.\.\.)[ \t]*$")
_TASK = re.compile(r"^[ \t]*[-*+][ \t]+\[([ xX])\][ \t]+(.*\S)[ \t]*$")
_CODE_FENCE = re.compile(r"^[ \t]{0,3}(```|~~~)")


class Layout(Record):
    """Where the parts of a card's text are: front matter lines and body start. `lines`:
    all lines, each with its own line ending, BOM removed; `fm_start`: the index of the
    first front matter line (after the opening ---); `fm_end`: of the closing --- line."""

    FIELDS = ("bom", "newline", "lines", "fm_start", "fm_end")

    def __init__(self, bom: str, newline: str, lines: list[str], fm_start: int, fm_end: int):
        self.bom, self.newline, self.lines, self.fm_start, self.fm_end = bom, newline, lines, fm_start, fm_end


def split_lines(text: str) -> list[str]:
    """Lines with their endings, split at "\\n" only.

    `str.splitlines` also splits at U+2028, form feeds and the like, which may sit
    inside a quoted value; cutting there would make half a value look like a key.
    """
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def layout(text: str) -> Layout:
    """Locate the front matter block; raise CardSyntaxError if there is none."""
    bom = BOM if text.startswith(BOM) else ""
    lines = split_lines(text[len(bom):])
    newline = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    if len(lines) == 1 and "\r" in lines[0]:  # classic Mac line endings: CR alone
        lines = [part + "\r" for part in lines[0].split("\r")]
        lines[-1] = lines[-1][:-1]
        lines = [line for line in lines if line]
        newline = "\r"
    if not lines or lines[0].rstrip("\r\n").rstrip() != "---":
        raise CardSyntaxError(t("card.no_front_matter"))
    for i in range(1, len(lines)):
        if _FENCE.match(lines[i].rstrip("\r\n")):
            return Layout(bom, newline, lines, 1, i)
    from mdboard.core.mistakes import unclosed_message

    raise CardSyntaxError(unclosed_message(lines))


class Parsed(ValueRecord):
    """A card file's content: front matter mapping, body and checklist."""

    FIELDS = ("meta", "body", "checklist")

    def __init__(self, meta: dict, body: str, checklist: list[tuple[bool, str]] | None = None):
        self.meta, self.body = meta, body
        self.checklist = [] if checklist is None else checklist


def parse(text: str) -> Parsed:
    """Split and parse card text; raise CardSyntaxError naming the line on mistakes."""
    front, first_line, body = split(text)
    return Parsed(front_matter(front, first_line), body, checklist(body))


def split(text: str) -> tuple[str, int, str]:
    """(front matter text, the file line it starts on, body) of a card's text, without
    reading the YAML; CardSyntaxError when there is no front matter block."""
    lay = layout(text)
    return "".join(lay.lines[lay.fm_start:lay.fm_end]), lay.fm_start + 1, "".join(lay.lines[lay.fm_end + 1:])


def front_matter(front: str, first_line: int = 1) -> dict:
    """The mapping a front matter text (from `split`) holds; CardSyntaxError naming the
    line when it is not a mapping of text keys."""
    meta = quick_mapping(front)
    if meta is None:
        meta = load_yaml(front, first_line=first_line) if front.strip() else {}
    if meta is None:
        meta = {}
    if not isinstance(meta, dict) or any(isinstance(key, str) and ("\u3000" in key or "：" in key) for key in meta):
        from mdboard.core.mistakes import explain_yaml  # `title：耳机` alone, or `　owner: me`: YAML reads it

        raise CardSyntaxError(explain_yaml(front, first_line) or t("card.not_mapping"))
    for key in meta:
        if not isinstance(key, str):
            raise CardSyntaxError(t("card.bad_key", key=key))
    return meta


def quick_mapping(front: str) -> dict | None:
    """What YAML reads from a front matter made only of `key: value` lines whose values
    `quick_value` writes as that same text (plain text, whole numbers, decimals, true/false,
    dates, one-level lists of those), worked out without PyYAML (~15-25 ms to import, what a
    rebuild after a title edit paid for one card); None for any other front matter. Exact
    by construction: a value is taken only when `quick_value` writes it back as the line's
    text, which YAML reads as that value."""
    if not front or len(front) > MAX_NODES // 2:
        return None
    meta: dict = {}
    for line in front.split("\n"):
        if line.endswith("\r"):
            line = line[:-1]
        if not line:
            continue
        key, sep, text = line.partition(": ")
        if not sep or len(key) > MAX_SIMPLE_KEY or key in meta or not _plain_key(key):
            return None
        value = _quick_read(text)
        if value is _NOT_QUICK:
            return None
        meta[key] = value
    return meta


_NOT_QUICK = object()


def _quick_read(text: str, in_list: bool = False):
    """The value `quick_value` writes as `text` (or a text in single quotes), else _NOT_QUICK."""
    if text == "true" or text == "false":
        return text == "true"
    if text[:1] == "'" and not in_list:
        return _single_quoted(text)
    if text[:1] == "[" and not in_list:
        items = [_quick_read(item, True) for item in text[1:-1].split(", ")] if text != "[]" else []
        if any(item is _NOT_QUICK for item in items) or quick_value(items) != text:
            return _NOT_QUICK
        return items
    first = text[:1]
    if first.isdigit() or first == "-":
        for kind in (int, float):
            try:
                number = kind(text)
            except ValueError:
                continue
            if quick_value(number) == text:
                return number
    return text if quick_value(text, in_list) == text else _NOT_QUICK


def _single_quoted(text: str):
    """`'it''s'` -> `it's`: a text in single quotes, as YAML reads it on one line (spaces may
    follow), of printable characters up to U+FFFF (what a spreadsheet's order number or a
    hand-quoted value holds: `order_no: '0012'`); else _NOT_QUICK (PyYAML reads it)."""
    body = text.rstrip(" ")
    inner = body[1:-1]
    if len(body) < 2 or body[-1] != "'" or "'" in inner.replace("''", ""):
        return _NOT_QUICK
    if not all(" " <= c <= "~" or ("\x7f" < c <= "\uffff" and c.isprintable() and c != "\ufeff") for c in inner):
        return _NOT_QUICK
    return inner.replace("''", "'")


def checklist(body: str) -> list[tuple[bool, str]]:
    """Markdown task list items (`- [x] 主图`) outside code blocks, in order."""
    items, in_code = [], False
    fenced = "```" in body or "~~~" in body  # most bodies have no code block: skip the fence test
    for line in body.splitlines():
        if fenced and _CODE_FENCE.match(line):
            in_code = not in_code
            continue
        if not in_code and "[" in line:
            m = _TASK.match(line)
            if m:
                items.append((m.group(1) != " ", m.group(2)))
    return items


# --- editing ------------------------------------------------------------------------

_KEY_LINE = re.compile(r"""^(?:"([^"]+)"|'([^']+)'|([^\s#'"\-][^:#]*?|-[^\s:][^:#]*?))[ \t]*:(?:[ \t]|\r?\n|\r|$)""")


def split_key_line(line: str) -> tuple[str | None, str]:
    """(key, text after the colon) of a top-level `key: value` front matter line, else (None, "")."""
    m = _KEY_LINE.match(line)
    if not m:
        return None, ""
    colon = line.index(":", m.start(m.lastindex) + len(m.group(m.lastindex)))
    return next(g for g in m.groups() if g is not None).strip(), line[colon + 1:]


def _key_of(line: str) -> str | None:
    return split_key_line(line)[0]


def _is_continuation(line: str) -> bool:
    """An indented line or a `- item` line: part of the value of the key above it."""
    stripped = line.rstrip("\r\n")
    if not stripped.strip():
        return False
    return stripped[:1] in (" ", "\t") or stripped == "-" or stripped.startswith(("- ", "-\t"))


def _is_filler(line: str) -> bool:
    """A blank line or a comment at the start of a line: belongs to a key only if more of it follows."""
    stripped = line.strip()
    return not stripped or line.startswith("#")


def _key_span(lay: Layout, key: str) -> tuple[int, int] | None:
    """Line range [start, end) holding `key` and its value at the top level.

    Comments and blank lines between a value's lines (say, between list items)
    belong to the key; those after its last line belong to whatever follows.
    """
    for i in range(lay.fm_start, lay.fm_end):
        if _key_of(lay.lines[i]) != key:
            continue
        end = i + 1
        for j in range(i + 1, lay.fm_end):
            if _is_continuation(lay.lines[j]):
                end = j + 1
            elif not _is_filler(lay.lines[j]):
                break
        return i, end
    return None


def _trailing_comment(line: str, key: str, value, whole: bool) -> str:
    """The ` # comment` at the end of a key's first line, with the spaces before it.

    A `#` starts a comment only where YAML says so (not inside quotes or `a#b`):
    the text before it must still read as `key: <the same value>` (`whole`, a
    one-line key) or as `key:` opening a block value (`key:`, `key: |`).
    """
    text = line.rstrip("\r\n")
    for m in re.finditer(r"[ \t]+#", text):
        try:
            data = load_yaml(text[:m.start()])
        except CardSyntaxError:
            continue
        if isinstance(data, dict) and list(data) == [key] and (data[key] == value or not whole):
            return text[m.start():]
    return ""


def set_field(text: str, key: str, value, known: dict | None = None) -> str:
    """Return `text` with front matter `key` set to `value` (None removes it).

    Only the key's own lines change; a comment at the end of its first line is
    kept. The result is parsed again and compared with the intended mapping; if
    YAML would read it differently, CardSyntaxError and nothing changes.

    `known`: the mapping `text`'s front matter holds, when the caller has it (from the
    parse cache). If the front matter is plain lines whose keys are those of `known`
    (`_plain_keys`) and the value is written without PyYAML (`quick_value`), each key's
    value is its own lines, so the edit changes `key` alone: it is made without reading
    YAML (the same text as the checked way).
    """
    lay = layout(text)
    span = _key_span(lay, key)
    line = None if value is None else quick_value(value)
    if known is not None and (value is None or line is not None) and _plain_key(key) \
            and _plain_keys(lay) == set(known):
        return _with_lines(lay, span, [] if line is None else [f"{key}: {line}{lay.newline}"])
    before = parse(text).meta
    new_lines = []
    if value is not None:
        new_line = f"{render_key(key)}: {render_value(value)}"
        if span:
            new_line += _trailing_comment(lay.lines[span[0]], key, before.get(key), span[1] - span[0] == 1)
        new_lines = [new_line + lay.newline]
    result = _with_lines(lay, span, new_lines)
    expected = dict(before)
    if value is None:
        expected.pop(key, None)
    else:
        expected[key] = value
    try:
        same = parse(result).meta == expected
    except CardSyntaxError:
        same = False
    if not same:
        raise CardSyntaxError(t("card.cannot_edit", key=key))
    return result


def _with_lines(lay: Layout, span: tuple[int, int] | None, new_lines: list[str]) -> str:
    """The card's text with the lines of `span` (else, at the end of the front matter) replaced by `new_lines`."""
    lines = list(lay.lines)
    if span:
        lines[span[0]:span[1]] = new_lines
    else:
        lines[lay.fm_end:lay.fm_end] = new_lines
    return lay.bom + "".join(lines)


_PLAIN_KEY = r"[A-Za-z_][A-Za-z0-9_]*"
_PLAIN_KEY_LINE = lazy_regex(rf"({_PLAIN_KEY}):(?: +(.*))?")
_PLAIN_KEY_RE = lazy_regex(_PLAIN_KEY)


def _plain_key(key: str) -> bool:
    """A key written as it is that YAML reads back as that text (not `yes`, `null` ...)."""
    return bool(_PLAIN_KEY_RE().fullmatch(key)) and key.lower() not in _YAML_WORDS
_SINGLE_QUOTED = lazy_regex(r"'(?:[^']|'')*' *")
_NOT_PLAIN = lazy_regex("[#&*!{}\"'|>%@`\t\r\x85\u2028\u2029]")  # the last four: line breaks to YAML


def _plain_keys(lay: Layout) -> set[str] | None:
    """The keys of a front matter made of plain lines, else None.

    Plain: every line is blank, a `key: value` line at the start of the line (a plain
    key), or a line of the value above it (indented, or a `- item`); no comment, anchor,
    alias, tag, block or flow mapping, double quotes, tab, line break YAML sees inside a
    line (CR, NEL, U+2028/9), or `[` left open at the end of its line; single quotes only
    around a key's whole value; no key twice. Such a front matter is a mapping whose keys
    are those lines' keys, each holding exactly its own lines (`_key_span`), so replacing
    one key's lines changes that key alone. A short front matter only: a long one is
    counted by `load_yaml`."""
    keys: set[str] = set()
    if sum(len(line) for line in lay.lines[lay.fm_start:lay.fm_end]) > MAX_NODES // 2:
        return None
    for raw in lay.lines[lay.fm_start:lay.fm_end]:
        line = raw.rstrip("\r\n")
        if not line.strip(" "):
            continue
        m = _PLAIN_KEY_LINE().fullmatch(line)
        if m:
            if m.group(1) in keys:
                return None
            keys.add(m.group(1))
            rest = m.group(2) or ""
            if rest.startswith("'") and _SINGLE_QUOTED().fullmatch(rest):
                continue
        elif keys and _is_continuation(line):
            rest = line
        else:
            return None
        if _NOT_PLAIN().search(rest) or rest.count("[") != rest.count("]"):
            return None
    return keys


def render_key(key: str) -> str:
    return key if _bare_key(key) else render_value(key)


_KEY_REST = re.compile(r"[\w\-]*")


def _bare_key(key: str) -> bool:
    """Whether a key is written without quotes: a letter, `_` or a CJK ideograph
    (U+4E00-U+9FFF), then word characters and `-` (`\\w` takes in the ideographs), and not a
    word YAML reads as true, false or null (`on:` unquoted is the key True, and such a card
    would be refused). The same as matching `[A-Za-z_\\u4e00-\\u9fff][\\w\\-\\u4e00-\\u9fff]*`,
    without compiling that pattern's class of 21,000 characters (~5 ms of every `set`)."""
    first = key[:1]
    if not (first.isascii() and (first.isalpha() or first == "_")) and not "\u4e00" <= first <= "\u9fff":
        return False
    return _KEY_REST.fullmatch(key, 1) is not None and key.lower() not in _YAML_WORDS


def replace_id_in_body(text: str, old: str, new: str) -> str | None:
    """`text` with the card ID `old` written in the body replaced by `new` (not inside a
    longer ID: SKU-0001 leaves SKU-00012 alone), or None when the body does not name it.
    The front matter and every other byte stay as they are."""
    lay = layout(text)
    head, body = "".join(lay.lines[:lay.fm_end + 1]), "".join(lay.lines[lay.fm_end + 1:])
    pattern = re.compile(r"(?<![A-Za-z0-9_-])" + re.escape(old) + r"(?![A-Za-z0-9_])")
    replaced, count = pattern.subn(new, body)
    return lay.bom + head + replaced if count else None


def set_checklist_item(text: str, index: int, done: bool) -> str:
    """Tick or untick the `index`-th task list item; every other byte stays."""
    lay = layout(text)
    body_start = lay.fm_end + 1
    in_code, seen = False, -1
    lines = list(lay.lines)
    for i in range(body_start, len(lines)):
        raw = lines[i]
        if _CODE_FENCE.match(raw):
            in_code = not in_code
            continue
        if in_code or not _TASK.match(raw.rstrip("\r\n")):
            continue
        seen += 1
        if seen == index:
            lines[i] = re.sub(r"\[[ xX]\]", "[x]" if done else "[ ]", raw, count=1)
            return lay.bom + "".join(lines)
    raise IndexError(index)


def new_card_text(meta: dict, body: str) -> str:
    """Text of a new card: one `key: value` line per key in the given order, a blank line,
    then the body without blank lines or spaces at its ends.

    The values are rendered exactly as `set_field` renders them, so a new card and an
    edited one look alike.
    """
    lines = "\n".join(f"{render_key(k)}: {render_value(v)}" for k, v in meta.items())
    body = body.strip("\n")
    return f"---\n{lines}\n---\n\n{body}".rstrip() + "\n"


def parse_new(text: str, meta: dict) -> Parsed:
    """`parse(text)` of a text `new_card_text(meta, ...)` wrote: `meta` itself, without
    reading YAML, when every key and value was written without PyYAML (YAML reads each
    such line back as that key and value); else the text is parsed."""
    front, _, body = split(text)
    if len(front) <= MAX_NODES // 2 and all(_plain_key(k) and quick_value(v) is not None for k, v in meta.items()):
        return Parsed(dict(meta), body, checklist(body))
    return parse(text)
