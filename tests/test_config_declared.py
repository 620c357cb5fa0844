"""mdboard.yaml's keys are declared once (`core.config`): the reader and the JSON Schema that
editors use are both made from the declarations, so they agree on every value of every key —
except where the reader also judges a value against the rest of the file (`Key.more`), and
there the schema is never the stricter one."""

from __future__ import annotations

import copy

import pytest

from mdboard.core.cardfile import load_yaml
from mdboard.core.config import BOARD, CARD_TYPE, FIELD, NOTIFY, PERSON, ROBOT, STATE, Section, parse_config
from mdboard.core.errors import ConfigError
from mdboard.domain.schema import config_schema

from conftest import REPO, Cli

SKELETON = load_yaml((REPO / "mdboard/domain/skeleton/zh-CN.yaml").read_text("utf-8"))
SKELETON["notify"] = {"time": "08:50", "robots": {"ops": {"platform": "dingtalk", "keyword": "日报"}}}
SKELETON["people"]["me"]["mobile"] = 13800001111


def reader_ok(data) -> bool:
    try:
        parse_config(data)
        return True
    except ConfigError:
        return False


@pytest.fixture(scope="module")
def schema_ok():
    import jsonschema

    validator = jsonschema.Draft202012Validator(config_schema())
    return lambda data: validator.is_valid(data)


def changed(path: tuple, value):
    """The skeleton config with the value at `path` replaced (a key that is not there is added)."""
    data = copy.deepcopy(SKELETON)
    target = data
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return data


def removed(path: tuple):
    data = copy.deepcopy(SKELETON)
    target = data
    for step in path[:-1]:
        target = target[step]
    del target[path[-1]]
    return data


ASSET = ("types", "asset")
OPS = ("notify", "robots", "ops")
STATE_1 = (*ASSET, "states", 1)
DUE = (*ASSET, "fields", "due")

# (what, config, good?, can the schema tell?)
TABLE = [
    ("the skeleton", SKELETON, True, True),
    ("checklist: true", changed((*STATE_1, "checklist"), True), True, True),
    ("checklist: (empty)", changed((*STATE_1, "checklist"), None), True, True),
    ('checklist: "no"', changed((*STATE_1, "checklist"), "no"), False, True),
    ('done: "false"', changed((*STATE_1, "done"), "false"), False, True),
    ("done: 0", changed((*STATE_1, "done"), 0), False, True),
    ('commit: "yes"', changed(("commit",), "yes"), False, True),
    ("required: 1", changed((*DUE, "required"), 1), False, True),
    ("label: 618", changed((*ASSET, "label"), 618), True, True),
    ("label: yes (true)", changed((*ASSET, "label"), True), False, True),
    ("label: [a]", changed((*ASSET, "label"), ["a"]), False, True),
    ("title: {a: 1}", changed(("title",), {"a": 1}), False, True),
    ("wip: 3", changed((*STATE_1, "wip"), 3), True, True),
    ("wip: 3.0", changed((*STATE_1, "wip"), 3.0), True, True),
    ("wip: 0", changed((*STATE_1, "wip"), 0), False, True),
    ("wip: 2.5", changed((*STATE_1, "wip"), 2.5), False, True),
    ('wip: "5"', changed((*STATE_1, "wip"), "5"), False, True),
    ("wip: true", changed((*STATE_1, "wip"), True), False, True),
    ("language: fr", changed(("language",), "fr"), False, True),
    ("language: (empty)", changed(("language",), None), True, True),
    ("prefix: mat", changed((*ASSET, "prefix"), "mat"), False, True),
    ("prefix: 5", changed((*ASSET, "prefix"), 5), False, True),
    ("state key: 规划中", changed((*STATE_1, "key"), "规划中"), False, True),
    ("state key: (missing)", removed((*STATE_1, "key")), False, True),
    ("state as a word", changed(STATE_1, "drafting"), True, True),
    ("state as a number", changed(STATE_1, 1), False, True),
    ("email: one address", changed(("people", "me", "email"), "me@example.com"), True, True),
    ("email: [1]", changed(("people", "me", "email"), [1]), False, True),
    ("roles: {a: b}", changed(("people", "me", "roles"), {"a": "b"}), False, True),
    ("person as a name", changed(("people", "me"), "我"), True, True),
    ("person: (empty)", changed(("people", "me"), None), True, True),
    ("person as a number", changed(("people", "me"), 123), False, True),
    ("person key: 赵敏", changed(("people", "赵敏"), "赵敏"), False, True),
    ("field as its type", changed(DUE, "date"), True, True),
    ("field: (empty)", changed(DUE, None), True, True),
    ("field type: currency", changed((*DUE, "type"), "currency"), False, True),
    ("field key: 截止日期", changed((*ASSET, "fields", "截止日期"), "date"), False, True),
    ("states: []", changed((*ASSET, "states"), []), False, True),
    ("states: todo", changed((*ASSET, "states"), "todo"), False, True),
    ("states: (missing)", removed((*ASSET, "states")), False, True),
    ("types: {}", changed(("types",), {}), False, True),
    ("types: (missing)", removed(("types",)), False, True),
    ("unknown key titel", changed(("titel",), "x"), False, True),
    ("unknown state key colour", changed((*STATE_1, "colour"), "red"), False, True),
    ("date_order: one rule", changed(("types", "campaign", "date_order"), "signup_start <= signup_end"), True, True),
    ("date_order: not a rule", changed(("types", "campaign", "date_order"), ["报名截止早于开始"]), False, True),
    ("platforms: [tmall]", changed(("platforms",), ["tmall"]), False, True),
    ("platform label: [a]", changed(("platforms", "tmall"), ["a"]), False, True),
    ("platform label: (empty)", changed(("platforms", "tmall"), None), True, True),
    ("transition to 1", changed(("types", "issue", "transitions", "new"), 1), False, True),
    ("not a mapping", ["types"], False, True),
    ("mobile: 13800001111 (a number)", changed(("people", "me", "mobile"), 13800001111), True, True),
    ('mobile: "138-0000-1111"', changed(("people", "me", "mobile"), "138-0000-1111"), True, True),
    ("mobile: 110", changed(("people", "me", "mobile"), 110), False, True),
    ("wecom: <@all>", changed(("people", "me", "wecom"), "<@all>"), False, True),
    ("dingtalk: 12345 (a number)", changed(("people", "me", "dingtalk"), 12345), True, True),
    ("site_url: shop.example", changed(("site_url",), "shop.example"), False, True),
    ('site_url: ""', changed(("site_url",), ""), True, True),
    ("notify: (empty)", changed(("notify",), None), True, True),
    ("notify time: 9点", changed(("notify", "time"), "9点"), False, True),
    ("notify time: 8:50 unquoted (530)", changed(("notify", "time"), 530), False, True),
    ("notify days: [mon, 周三, Fri]", changed(("notify", "days"), ["mon", "周三", "Fri"]), True, True),
    ("notify days: [mon, funday]", changed(("notify", "days"), ["mon", "funday"]), False, True),
    ("robot platform: slack", changed((*OPS, "platform"), "slack"), False, True),
    ("robot platform: (missing)", removed((*OPS, "platform")), False, True),
    ("robot webhook written in", changed((*OPS, "webhook"), "https://oapi.dingtalk.com/robot/send?x"), False, True),
    ("robot secret: (empty)", changed((*OPS, "secret"), None), True, True),
    ("robot sections: [overdue]", changed((*OPS, "sections"), ["overdue"]), True, True),
    ("robot sections: [weather]", changed((*OPS, "sections"), ["weather"]), False, True),
    ("robot webhook_env: ops_hook", changed((*OPS, "webhook_env"), "ops_hook"), False, True),
    # what only the reader can tell: it needs the rest of the file or the time zone database
    ("timezone: Mars/Olympus", changed(("timezone",), "Mars/Olympus"), False, False),
    ("prefix used twice", changed((*ASSET, "prefix"), "SKU"), False, False),
    ("default prefix not valid", changed(("types", "asset_x"), {"states": ["todo"]}), False, False),
    ("requires: [cost]", changed((*STATE_1, "requires"), ["cost"]), False, False),
    ("state key twice", changed((*STATE_1, "key"), "todo"), False, False),
    ("transition to archived", changed(("types", "issue", "transitions", "new"), ["gone"]), False, False),
    ("link to: product", changed(("types", "campaign", "fields", "skus", "to"), "product"), False, False),
    ("date rule on text", changed(("types", "campaign", "date_order"), ["signup_end <= skus"]), False, False),
    ("milestone not a date", changed(("types", "campaign", "milestones"), ["skus"]), False, False),
    ("enum without options", changed((*DUE, "type"), "enum"), False, False),
]


@pytest.mark.parametrize("what, data, good, schema_tells", TABLE, ids=[row[0] for row in TABLE])
def test_reader_and_schema_agree(schema_ok, what, data, good, schema_tells):
    assert reader_ok(data) == good
    assert schema_ok(data) == (good if schema_tells else True)


SHAPES = [None, True, False, 0, 1, -1, 2.5, 3.0, "", "text", "no", "false", "yes", "zh-CN", "todo", "SKU",
          "a <= b", [], ["x"], [1], [None], {}, {"a": 1}]


def _sites() -> list[tuple[tuple, bool]]:
    """(path, does the reader judge more than the declaration) for every declared key, at one
    place in the skeleton where nothing else in the file depends on its value."""
    sites = []

    def add(prefix: tuple, section: Section):
        sites.extend(((*prefix, key.name), key.more) for key in section.keys)

    add((), BOARD)
    add(("people", "me"), PERSON)
    add(ASSET, CARD_TYPE)
    add(STATE_1, STATE)
    add(DUE, FIELD)
    add(("notify",), NOTIFY)
    add(OPS, ROBOT)
    sites += [(("platforms", "tmall"), False), (("people", "me"), False), (DUE, False), (OPS, False),
              (STATE_1, True),  # a state given as a word may repeat another state's key
              (("types", "issue", "transitions", "new"), True)]
    return sites


@pytest.mark.parametrize("path, more", _sites(), ids=[".".join(map(str, p)) for p, _ in _sites()])
def test_every_key_every_shape(schema_ok, path, more):
    """Any value of any YAML shape in any declared key: the reader and the schema agree, and
    where the reader judges more, the schema accepts whatever the reader accepts."""
    for value in SHAPES:
        data = changed(path, value)
        reader, schema = reader_ok(data), schema_ok(data)
        if more:
            assert schema or not reader, (path, value)
        else:
            assert reader == schema, (path, value, reader, schema)


def test_a_quoted_no_is_refused_with_a_clear_message(board):
    cfg = board / "mdboard.yaml"
    text = cfg.read_text("utf-8").replace("checklist: true", 'checklist: "no"').replace(
        "{key: live, label: 活动中, requires: [live_start, live_end]}",
        '{key: live, label: 活动中, requires: [live_start, live_end], done: "false"}')
    cfg.write_text(text, "utf-8")
    result = Cli(board)("check")
    assert result.exit_code == 1
    assert ("mdboard.yaml:types.sku.states[4].checklist: 应为 true 或 false（写 checklist: true 或 checklist: false，"
            "不加引号）") in result.output
    assert ("mdboard.yaml:types.campaign.states[4].done: 应为 true 或 false（写 done: true 或 done: false，不加引号）"
            in result.output)
