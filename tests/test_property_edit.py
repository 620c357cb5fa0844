"""Issue 9: `cardfile.set_field` changes exactly one key and leaves every other byte.

Hypothesis writes front matter the way people do by hand: keys in any order, plain,
quoted and flow values, block lists and block scalars, comments on key lines and
between keys (also between list items), blank lines, LF or CRLF, with or without a
BOM, and any body. The document is built from blocks whose lines are known, so the
test knows exactly which lines belong to the key being set: everything before and
after them must come back byte for byte.
"""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from conftest import typed
from mdboard.core.cardfile import parse, set_field
from mdboard.core.errors import CardSyntaxError

# --- building blocks ------------------------------------------------------------------

KEY = st.from_regex(r"[a-z][a-z0-9_]{0,7}", fullmatch=True)
# PyYAML (YAML 1.1) reads these keys as true, false or null: mdboard writes them in quotes
YAML_WORDS = r"yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|null|Null|NULL|~"
YAML_WORD = st.sampled_from(["on", "no", "yes", "off", "true", "False", "null", "NULL"])


def written_key(key: str) -> str:
    """A key as a card's line starts with it: bare, or quoted where YAML would read a bare one as
    true, false or null."""
    return f"'{key}'" if re.fullmatch(YAML_WORDS, key) else key
OTHER_KEY = st.one_of(KEY, st.sampled_from(["标题", "供应商", "备注 说明", "x-y", "Price", "_k", "'引号键'", '"q k"']))
WORD = st.builds(lambda a, b: (a + b).rstrip(), st.sampled_from(list("abcxyz中文测试")),
                 st.text(alphabet=st.sampled_from(list("abcxyz019 中文测试_-.")), max_size=11))
PRINTABLE = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Cf", "Co", "Cn", "Zl", "Zp")), max_size=30)
ANY_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
BMP_TEXT = st.text(st.characters(blacklist_categories=("Cs",), max_codepoint=0xFFFF), max_size=30)
COMMENT = st.text(alphabet=st.sampled_from(list("注释 note#:'\"-[]{}")), max_size=12).map(lambda s: "# " + s)


def _single_quoted(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


INLINE_VALUE = st.one_of(
    WORD,
    st.integers(-10**6, 10**6).map(str),
    st.sampled_from(["true", "false", "null", "~", "''", '""', "3.5", "2026-12-01", "2026-12-01 18:00"]),
    PRINTABLE.map(_single_quoted),
    PRINTABLE.map(lambda s: json.dumps(s, ensure_ascii=False)),
    BMP_TEXT.map(json.dumps),  # \uXXXX escapes (YAML does not join surrogate pairs)
    st.lists(WORD, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]"),
    st.lists(PRINTABLE, max_size=3).map(lambda xs: "[" + ",".join(map(_single_quoted, xs)) + "]"),
    st.dictionaries(KEY, WORD, max_size=2).map(lambda d: "{" + ", ".join(f"{k}: {v}" for k, v in d.items()) + "}"),
)


@st.composite
def key_block(draw, key):
    """(lines, inline comment or "") for one key: the lines a hand-written key occupies."""
    rk = key
    kind = draw(st.sampled_from(["inline", "inline", "inline", "block_list", "block_scalar", "nested", "empty"]))
    comment = draw(st.one_of(st.just(""), COMMENT.map(lambda c: "  " + c)))
    gap = draw(st.sampled_from([" ", "  ", "\t"]))
    if kind == "inline":
        return [f"{rk}:{gap}{draw(INLINE_VALUE)}{comment}"], comment
    if kind == "empty":
        return [f"{rk}:{comment}"], comment
    indent = draw(st.sampled_from(["", "  ", "    "])) if kind == "block_list" else draw(st.sampled_from(["  ", "    "]))
    lines = [f"{rk}:{comment}"] if kind != "block_scalar" else [f"{rk}: {draw(st.sampled_from(['|', '|-', '>', '>-']))}{comment}"]
    items = draw(st.lists(WORD, min_size=1, max_size=4))
    for i, item in enumerate(items):
        if i and draw(st.booleans()):
            between = ["", indent + "# 列表中的注释"] + (["# 顶格注释"] if kind != "block_scalar" else [])
            lines.append(draw(st.sampled_from(between)))
        if kind == "block_list":
            lines.append(f"{indent}- {item}")
        elif kind == "nested":
            lines.append(f"{indent}k{i}: {item}")
        else:
            lines.append(f"{indent}{item}")
    if draw(st.booleans()) and kind != "block_scalar":
        lines.append(indent + "  # 缩进的结尾注释" if indent else "  # 缩进的结尾注释")
    return lines, comment


@st.composite
def card(draw):
    """(blocks, newline, bom, body): blocks are ("key", key, lines, comment) or ("other", None, lines, "")."""
    keys = draw(st.lists(st.one_of(KEY, OTHER_KEY), max_size=7, unique_by=lambda k: k.strip("'\"")))
    blocks = []
    for key in keys:
        if draw(st.integers(0, 3)) == 0:
            blocks.append(("other", None, [draw(st.one_of(COMMENT, st.just("")))], ""))
        lines, comment = draw(key_block(key))
        blocks.append(("key", key.strip("'\""), lines, comment))
    if draw(st.booleans()):
        blocks.append(("other", None, [draw(COMMENT)], ""))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    bom = draw(st.booleans())
    body = draw(st.one_of(st.just(""), st.text(max_size=60), st.just("\n## 清单\n\n- [ ] 主图\n---\nowner: x\n")))
    return blocks, newline, bom, body


SOME_VALUE = st.one_of(
    ANY_TEXT,
    st.integers(-10**9, 10**9),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.sampled_from(["2026-12-01", "yes", "no", "null", "~", "- a", "a: b", "# x", "---", "...", "|", ">", "'", '"']),
    st.lists(ANY_TEXT, max_size=4),
)
NEW_VALUE = st.one_of(st.none(), SOME_VALUE)


def render(blocks, newline, bom, body) -> tuple[str, list[tuple[int, int]]]:
    """The card text, and each block's [start, end) character span."""
    parts, spans, pos = [("\ufeff" if bom else "") + "---" + newline], [], 0
    pos = len(parts[0])
    for _, _, lines, _ in blocks:
        chunk = "".join(line + newline for line in lines)
        spans.append((pos, pos + len(chunk)))
        parts.append(chunk)
        pos += len(chunk)
    parts.append("---" + newline + body)
    return "".join(parts), spans


def check_edit(blocks, newline, bom, body, key, value):
    """set_field(key, value) keeps all bytes outside key's own lines; returns the new text."""
    text, spans = render(blocks, newline, bom, body)
    try:
        before = parse(text).meta
    except CardSyntaxError:
        assume(False)  # the generator wrote something YAML does not accept
    index = next((i for i, b in enumerate(blocks) if b[0] == "key" and b[1] == key), None)
    result = set_field(text, key, value)
    expected = dict(before)
    if value is None:
        expected.pop(key, None)
    else:
        expected[key] = value
    assert typed(parse(result).meta) == typed(expected)
    if index is None:
        cut = spans[-1][1] if spans else len(text) - len("---" + newline + body)
        start, end = cut, cut
    else:
        start, end = spans[index]
    prefix, suffix = text[:start], text[end:]
    assert result.startswith(prefix) and result.endswith(suffix) and len(result) >= len(prefix) + len(suffix), (
        text, result)
    middle = result[len(prefix):len(result) - len(suffix)]
    if value is None:
        assert middle == ""
    else:
        assert middle.endswith(newline) and middle.count("\n") == 1, middle
        assert middle.startswith(f"{written_key(key)}: ")
        if index is not None and blocks[index][3]:
            assert middle.rstrip("\r\n").endswith(blocks[index][3]), (middle, blocks[index][3])
    return result


def set_field_changes_exactly_one_key(doc, data):
    blocks, newline, bom, body = doc
    existing = [b[1] for b in blocks if b[0] == "key" and re.fullmatch(r"[a-z][a-z0-9_]*", b[1])]
    key = data.draw(st.sampled_from(existing) if existing and data.draw(st.booleans()) else st.one_of(KEY, YAML_WORD))
    value = data.draw(NEW_VALUE)
    check_edit(blocks, newline, bom, body, key, value)


def two_edits_in_a_row_are_each_exact(doc, data):
    """The output of one edit is a good input for the next (ops.set_fields chains them)."""
    blocks, newline, bom, body = doc
    key = data.draw(st.one_of(KEY, YAML_WORD))
    text = check_edit(blocks, newline, bom, body, key, data.draw(SOME_VALUE))
    again = set_field(text, key, "第二次")
    old, new = text.split(newline), again.split(newline)
    assert len(old) == len(new)
    changed = [(a, b) for a, b in zip(old, new) if a != b]
    line = f"{written_key(key)}: "
    assert len(changed) <= 1 and all(a.startswith(line) and b.startswith(line) for a, b in changed)
    assert parse(again).meta[key] == "第二次"


def drawn(test, examples: int, *health):
    """`test` as a Hypothesis test of `examples` random cards."""
    return settings(max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.too_slow, *health])(
        given(doc=card(), data=st.data())(test))


# The default run draws a third of the cards `pytest -m slow` does.
test_set_field_changes_exactly_one_key = drawn(set_field_changes_exactly_one_key, 200, HealthCheck.filter_too_much)
test_two_edits_in_a_row_are_each_exact = drawn(two_edits_in_a_row_are_each_exact, 50)
test_set_field_changes_exactly_one_key_600_cards = pytest.mark.slow(
    drawn(set_field_changes_exactly_one_key, 600, HealthCheck.filter_too_much))
test_two_edits_in_a_row_are_each_exact_150_times = pytest.mark.slow(drawn(two_edits_in_a_row_are_each_exact, 150))


@pytest.mark.parametrize("value", ["a\nb", "a\u2028b", "line\r\nbreak", "x\x85y", "\ttab", "a\u2029b\x0cc"])
def test_values_with_line_breaks_stay_on_one_line(value):
    text = "---\r\ntitle: 旧\r\nowner: me\r\n---\r\n"
    result = set_field(text, "title", value)
    lines = result.split("\r\n")
    assert lines[0] == "---" and lines[1].startswith('title: "') and lines[2:] == ["owner: me", "---", ""]
    assert not re.search("[\n\r\x85\u2028\u2029\x0b\x0c]", lines[1])
    assert parse(result).meta["title"] == value


def test_a_line_separator_inside_a_quoted_value_does_not_split_the_card():
    """U+2028 is a line break to str.splitlines but not to the card's line layout."""
    text = '---\ntitle: "a\u2028owner: x"\nowner: me\n---\n'
    assert set_field(text, "owner", "you") == '---\ntitle: "a\u2028owner: x"\nowner: you\n---\n'


def test_comment_between_list_items_belongs_to_the_list():
    text = "---\ntags:\n- a\n# 第二个\n- b\nowner: me\n---\n"
    assert set_field(text, "tags", ["c"]) == "---\ntags: [c]\nowner: me\n---\n"


def test_comment_after_a_list_stays_with_the_next_key():
    text = "---\ntags:\n- a\n# 负责人\nowner: me\n---\n"
    assert set_field(text, "tags", ["c"]) == "---\ntags: [c]\n# 负责人\nowner: me\n---\n"


@pytest.mark.parametrize("line,kept", [
    ("title: \"a # b\"  # 备注", "  # 备注"),
    ("title: 'x'   # 引号值的注释", "   # 引号值的注释"),
    ("title: [a, b] # 列表", " # 列表"),
    ("title: a#b  # 真注释", "  # 真注释"),
    ("title: a#b", ""),
])
def test_inline_comment_after_any_value_is_kept(line, kept):
    result = set_field(f"---\n{line}\n---\n", "title", "新")
    assert result == f"---\ntitle: 新{kept}\n---\n"


def test_block_list_key_line_comment_is_kept():
    assert set_field("---\ntags:  # 标签\n  - a\n---\n", "tags", ["b"]) == "---\ntags: [b]  # 标签\n---\n"
