"""`new` and `set` without PyYAML (~20 ms of each command to import).

`cardfile.quick_value` writes the values cards mostly hold as PyYAML writes them;
`set_field(..., known=...)` trusts the parse cache's mapping where the front matter is
plain lines; `parse_new` knows a new card's mapping. Each is held against PyYAML here:
the same text, read back as the same values, or the checked way is taken.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import card_file, git, modules_after, new_card, typed
from mdboard.core.cardfile import (_yaml_value, load_yaml, new_card_text, parse, parse_new, quick_mapping, quick_value,
                                   set_field)
from mdboard.core.errors import CardSyntaxError
from test_property_edit import KEY, NEW_VALUE, YAML_WORD, card, render, written_key

TEXT = st.text(st.one_of(st.characters(blacklist_categories=("Cs",)),
                         st.sampled_from(list(" -_./():#,[]{}'\"!&*?|>%@`~=+\t\u3000\u2028\x85\ufeff中文测试号"))),
               max_size=12)
VALUE = st.one_of(
    TEXT, st.integers(-10**12, 10**12), st.floats(), st.booleans(), st.none(),
    st.sampled_from(["yes", "No", "ON", "null", "Null", "~", "=", "<<", "2026-03-10", "2026-03-10 18:00",
                     "2026-03-10T18:00", "12:30", "0x1F", "1_000", ".5", ".inf", "1e3", "0o17", "3号仓", "a  b",
                     "机械键盘 Plus 落日橙", "wangli", "y", "n", "-abc", "a-b", "(赠品)", "/tmp/x"]),
    st.lists(st.one_of(TEXT, st.integers(), st.sampled_from(["2026-03-10", "2026-03-10 18:00", "douyin"])),
             max_size=4),
)


@settings(max_examples=400, deadline=None)
@given(VALUE)
def test_quick_value_is_what_pyyaml_writes_and_reads_back(value):
    quick = quick_value(value)
    if quick is not None:
        assert quick == _yaml_value(value)
        assert typed(load_yaml(f"k: {quick}\n")) == typed({"k": value})


@pytest.mark.parametrize("value, written", [
    ("机械键盘 Plus 落日橙", "机械键盘 Plus 落日橙"), ("wangli", "wangli"), (1234, "1234"), (148.9, "148.9"),
    (True, "true"), ("2026-12-01", "2026-12-01"), ("2026-11-26 18:00", "2026-11-26 18:00"),
    (["douyin", "tmall"], "[douyin, tmall]"), (["清仓", "季节款"], "[清仓, 季节款]"), ([], "[]")])
def test_the_values_cards_mostly_hold_are_written_without_pyyaml(value, written):
    assert quick_value(value) == written


@pytest.mark.parametrize("value", ["yes", "off", "null", "", " a", "a ", "- a", "-a", ".5", "1234", "a: b", "a #b",
                                   "[a]", "'q'", "x\u2028y", "\u3000", ["2026-11-26 18:00"], [None], {"a": 1},
                                   None, 1e20, float("inf")])
def test_other_values_are_left_to_pyyaml(value):
    assert quick_value(value) is None


# --- reading a front matter of plain lines without PyYAML ---------------------------------------

def _yaml_or_error(front: str):
    try:
        return load_yaml(front)
    except CardSyntaxError as exc:
        return exc


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.one_of(KEY, YAML_WORD), VALUE, max_size=5), st.sampled_from(["\n", "\r\n"]))
def test_a_front_matter_of_plain_lines_is_read_as_pyyaml_reads_it(meta, newline):
    lines = [f"{written_key(key)}: {quick_value(value) or _yaml_value(value)}" for key, value in meta.items()]
    front = "".join(line + newline for line in lines)
    quick = quick_mapping(front)
    if quick is not None:
        assert typed(quick) == typed(load_yaml(front))
    if meta and all(quick_value(value) is not None and written_key(key) == key for key, value in meta.items()):
        assert typed(quick) == typed(meta)  # the lines `new`, `set` and the bench write: never PyYAML


LINE_TEXT = st.text(st.one_of(st.sampled_from(list(" -_.:#,[]{}'\"!&*?|>%@`~=+\t\r中文0123456789eE")),
                              st.characters(blacklist_categories=("Cs",))), max_size=14)


@settings(max_examples=600, deadline=None)
@given(st.lists(st.tuples(st.one_of(KEY, st.sampled_from(["yes", "a b", " k", "k:", "-", "#c"])), LINE_TEXT),
                max_size=4))
def test_any_other_front_matter_is_left_to_pyyaml(pairs):
    front = "".join(f"{key}: {text}\n" for key, text in pairs)
    quick = quick_mapping(front)
    assert quick is None or typed(quick) == typed(_yaml_or_error(front))


@pytest.mark.parametrize("front", ["a: 0012\n", "a: yes\n", "a: 12:30\n", "a: 1_000\n", "a: .5\n", "a: ~\n",
                                   "a:\n", "a: b # c\n", "a: b\na: c\n", "a: [x, y\n", "a: [x,y]\n", "  a: b\n",
                                   "a: b\n- c\n", "a: 'b' # c\n", "a: 'b\n", "a: 'b'c'\n", "a: '\x07'\n",
                                   "a: [x, 'y']\n", "a: 2026-03-10T18:00\n", "a:\tb\n",
                                   "k" * 1025 + ": v\n"])  # a key over 1,024 characters: YAML refuses it
def test_what_yaml_reads_otherwise_is_left_to_pyyaml(front):
    assert quick_mapping(front) is None


def test_a_key_of_1024_characters_is_read_as_pyyaml_reads_it():
    front = "k" * 1024 + ": v\n"
    assert typed(quick_mapping(front)) == typed(load_yaml(front)) == typed({"k" * 1024: "v"})


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(KEY, LINE_TEXT, st.sampled_from(["", " ", "  "])), max_size=4))
def test_a_text_in_single_quotes_is_read_as_pyyaml_reads_it_or_left_to_it(values):
    """`order_no: '0012'` (a spreadsheet's order number, as after-sales cards hold it), quotes
    doubled inside, spaces after: read as PyYAML reads it, or left to PyYAML."""
    front = "".join(f"{key}: '{text.replace(chr(39), chr(39) * 2)}'{after}\n" for key, text, after in values)
    quick = quick_mapping(front)
    assert quick is None or typed(quick) == typed(_yaml_or_error(front))
    keys = [key for key, _, _ in values]
    if values and all(text.isprintable() and text.isascii() for _, text, _ in values) \
            and len(set(keys)) == len(keys) and not {"yes", "no", "on", "off", "true", "false", "null"} & set(keys):
        assert typed(quick) == typed({key: text for key, text, _ in values})


def test_set_and_move_read_the_card_from_its_file_not_the_parse_cache_nor_pyyaml(board, cli):
    """The card an action changes is read from its own file when its front matter is plain
    lines: no PyYAML, and no parse cache to load (~17 ms at 100,000 cards). Here there is
    none, and the card holds a quoted order number."""
    card_id = new_card(cli, "蓝牙耳机 Pro")
    path = card_file(board, card_id)
    path.write_text(path.read_text("utf-8").replace("owner: wangli\n", "owner: wangli\norder_no: '0012'\n"), "utf-8")
    cli.ok("save", card_id)
    for cache_file in (board / ".git" / "mdboard").glob("parse.*"):
        cache_file.unlink()
    for args in (("set", card_id, "price=299", "platforms=douyin,jd"), ("move", card_id, "shooting")):
        out, loaded = modules_after(board, *args)
        assert "yaml" not in loaded, out
    assert card_file(board, card_id).read_text("utf-8").startswith(
        "---\ntitle: 蓝牙耳机 Pro\nowner: wangli\norder_no: '0012'\nprice: 299\nplatforms: [douyin, jd]\n---\n")
    assert not list((board / ".git" / "mdboard").glob("parse.*"))
    assert git(board, "status", "--porcelain") == ""


def test_a_rebuild_after_a_title_edit_does_not_load_pyyaml(board, cli):
    cli.proc_ok("build")
    path = card_file(board, new_card(cli, "蓝牙耳机"))
    cli.proc_ok("build")
    path.write_text(path.read_text("utf-8").replace("title: 蓝牙耳机", "title: 蓝牙耳机 Pro 改"), "utf-8")
    out, loaded = modules_after(board, "build")
    assert "yaml" not in loaded, out
    assert "蓝牙耳机 Pro 改" in (board / "_site" / "cards" / f"{path.stem}.html").read_text("utf-8")


# --- set: the parse cache's mapping trusted only where the lines are the keys --------------

def _both_ways(text: str, key: str, value, known: dict):
    """(result or error) of set_field with `known`, and of the checked way."""
    out = []
    for extra in ({"known": known}, {}):
        try:
            out.append(set_field(text, key, value, **extra))
        except CardSyntaxError as exc:
            out.append(("refused", str(exc)))
    return out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(doc=card(), data=st.data())
def test_an_edit_trusting_the_known_mapping_writes_what_the_checked_way_writes(doc, data):
    """Hand-written front matter of every kind: taking the mapping as known (even a stale
    one, with other values) never writes a text the checked way would refuse or write
    otherwise."""
    text, _ = render(*doc)
    try:
        meta = parse(text).meta
    except CardSyntaxError:
        return
    key = data.draw(st.one_of(KEY, st.sampled_from(sorted(meta) or ["title"])))
    known = data.draw(st.sampled_from([meta, {k: "旧" for k in meta}]))
    fast, checked = _both_ways(text, key, data.draw(NEW_VALUE), known)
    assert fast == checked


TRICKY = [
    # a quoted title that runs over two lines, the second looking like a key
    "---\ntitle: 'abc\nowner: x'\nowner: me\n---\n",
    "---\ntitle: \"abc\nowner: x\"\n---\n",
    # a flow list over two lines
    "---\ntags: [a,\nowner: b]\n---\n",
    # line breaks YAML sees inside a line
    "---\ntitle: a\u2028owner: x\n---\n", "---\ntitle: a\x85owner: x\n---\n", "---\ntitle: a\rowner: x\n---\n",
    # anchors and aliases, block scalars, comments, tags
    "---\na: &x 1\nowner: *x\n---\n", "---\nowner: |\n  a\n  b\n---\n", "---\nowner: me # 负责人\n---\n",
    "---\nowner: !!str 12\n---\n", "---\nowner: {name: me}\n---\n",
]


@pytest.mark.parametrize("text", TRICKY)
@pytest.mark.parametrize("key", ["owner", "title", "tags", "due"])
def test_front_matter_that_is_not_plain_lines_is_edited_the_checked_way(text, key):
    try:
        meta = parse(text).meta
    except CardSyntaxError:
        meta = {"title": "x", "owner": "x"}  # a stale cache of a file since broken by hand
    fast, checked = _both_ways(text, key, "新值", meta)
    assert fast == checked


def test_an_edit_of_plain_lines_changes_only_the_key_and_keeps_line_endings():
    text = "\ufeff---\r\ntitle: 旧\r\nplatforms:\r\n- douyin\r\n- jd\r\norder_no: '0012'\r\n---\r\n正文\r\n"
    meta = parse(text).meta
    assert set_field(text, "platforms", ["tmall"], known=meta) == \
        "\ufeff---\r\ntitle: 旧\r\nplatforms: [tmall]\r\norder_no: '0012'\r\n---\r\n正文\r\n"
    assert set_field(text, "title", None, known=meta) == \
        "\ufeff---\r\nplatforms:\r\n- douyin\r\n- jd\r\norder_no: '0012'\r\n---\r\n正文\r\n"


# --- new --------------------------------------------------------------------------------------

@pytest.mark.parametrize("body, text", [
    ("\n## 清单\n\n- [ ] 主图  \n\n", "---\ntitle: 新品\nprice: 199\n---\n\n## 清单\n\n- [ ] 主图\n"),
    ("", "---\ntitle: 新品\nprice: 199\n---\n"),
])
def test_a_new_card_is_its_lines_a_blank_line_and_the_body(body, text):
    assert new_card_text({"title": "新品", "price": 199}, body) == text


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(KEY, VALUE.filter(lambda v: v is not None), max_size=5), st.text(max_size=40))
def test_a_new_card_is_read_as_the_mapping_it_was_written_from(meta, body):
    text = new_card_text(meta, body)
    assert typed(parse_new(text, meta)) == typed(parse(text))


@pytest.mark.parametrize("key", ["on", "off", "yes", "No", "TRUE", "false", "null"])
def test_a_key_yaml_reads_as_true_false_or_null_is_written_quoted(key):
    text = new_card_text({"title": "新品", key: "x"}, "")
    assert text == f"---\ntitle: 新品\n'{key}': x\n---\n"
    assert typed(parse(text).meta) == typed(parse_new(text, {"title": "新品", key: "x"}).meta) == \
        typed({"title": "新品", key: "x"})
    edited = set_field(text, key, "y", known=parse(text).meta)
    assert typed(parse(edited).meta) == typed({"title": "新品", key: "y"})


def test_a_field_named_on_makes_a_card_that_check_accepts(board, cli):
    config = board / "mdboard.yaml"
    before = config.read_text("utf-8")
    after = before.replace("      category: {type: text, label: 类目}\n",
                           "      category: {type: text, label: 类目}\n      'on': {type: text, label: 开关}\n", 1)
    assert after != before
    config.write_text(after, "utf-8")
    git(board, "commit", "-qam", "on 字段")
    card_id = new_card(cli, "耳机")
    cli.ok("set", card_id, "on=开")
    assert "\n'on': 开\n" in card_file(board, card_id).read_text("utf-8")
    assert "0 个错误" in cli.ok("check").output


# --- the commands ------------------------------------------------------------------------------

def _run(board, *args) -> str:
    out, loaded = modules_after(board, *args)
    return out + "\nLOADED=" + ",".join(m for m in ("yaml", "frontmatter") if m in loaded)


def test_new_and_set_of_plain_values_do_not_load_pyyaml(board, cli):
    cli.ok("ls")  # the parse cache holds every card as it is
    out = _run(board, "new", "sku", "蓝牙耳机 Pro", "--owner", "wangli", "--set", "price=199")
    assert out.splitlines()[-1] == "LOADED="
    card_id = re.search(r"SKU-\d+", out).group(0)
    assert card_file(board, card_id).read_text("utf-8").startswith("---\ntitle: 蓝牙耳机 Pro\nowner: wangli\nprice: 199\n---\n")
    cli.ok("ls")
    out = _run(board, "set", card_id, "price=299", "tags=新品,耳机")
    assert out.splitlines()[-1] == "LOADED="
    text = card_file(board, card_id).read_text("utf-8")
    assert "\nprice: 299\n" in text and "\ntags: [新品, 耳机]\n" in text
    assert git(board, "status", "--porcelain") == ""
