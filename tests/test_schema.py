"""JSON Schemas for mdboard.yaml and card front matter: they accept what `check` accepts on
the demo board and flag what an editor should underline."""

from __future__ import annotations

import json
import re

import pytest

from mdboard.core.cardfile import load_yaml, parse
from mdboard.core.config import CONFIG_NAME
from mdboard.domain.schema import DATE_PATTERN, card_schema, config_schema
from mdboard.core.store import Board

from conftest import REPO, Cli



def validator():
    """jsonschema's 2020-12 validator (a test extra, installed by `make test`)."""
    import jsonschema

    return jsonschema.Draft202012Validator


def errors(schema: dict, data) -> list[str]:
    """Each validation error as `path: validator` (e.g. `owner: anyOf`)."""
    return sorted(f"{'.'.join(map(str, e.absolute_path))}: {e.validator}" for e in validator()(schema).iter_errors(data))


@pytest.fixture
def demo(demo_board) -> Board:
    return Board.open(str(demo_board))


def test_schemas_are_valid_draft_2020_12(demo):
    Validator = validator()
    Validator.check_schema(config_schema())
    for key in demo.config.types:
        schema = card_schema(demo, key)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        Validator.check_schema(schema)


def test_every_demo_card_matches_its_type_schema(demo):
    schemas = {key: card_schema(demo, key) for key in demo.config.types}
    cards = demo.cards()
    assert len(cards) >= 40
    for card in cards:
        meta = parse(demo.read_text(card)).meta
        assert errors(schemas[card.type], meta) == [], card.path


@pytest.mark.parametrize("path", [REPO / "mdboard/domain/demo_board" / CONFIG_NAME, REPO / "mdboard/domain/skeleton/zh-CN.yaml",
                                  REPO / "mdboard/domain/skeleton/en.yaml"])
def test_real_configs_match_the_config_schema(path):
    assert errors(config_schema(), load_yaml(path.read_text("utf-8"))) == []


def test_config_schema_flags_what_check_refuses():
    data = load_yaml((REPO / "mdboard/domain/skeleton/zh-CN.yaml").read_text("utf-8"))
    data["comit"] = True
    data["language"] = "fr"
    data["types"]["sku"]["prefix"] = "sku"
    data["types"]["sku"]["fields"]["owner"]["requried"] = True
    data["types"]["sku"]["fields"]["price"]["type"] = "currency"
    data["types"]["sku"]["states"][1]["wip"] = 0
    assert errors(config_schema(), data) == [
        ": additionalProperties", "language: enum", "types.sku.fields.owner: anyOf",
        "types.sku.fields.price: anyOf", "types.sku.prefix: pattern", "types.sku.states.1: anyOf"]


def test_card_schema_flags_bad_values(demo):
    schema = card_schema(demo, "sku")
    good = {"title": "大衣", "owner": "wangli", "due": "2026-12-01", "platforms": ["tmall"], "price": 99,
            "price_approved": False, "tags": ["冬季"], "category": None}
    assert errors(schema, good) == []
    bad = dict(good, owner="王力", due="2026/12/1", platforms=["taobao"], price=-1, price_approved="是")
    assert errors(schema, bad) == ["due: anyOf", "owner: enum", "platforms: anyOf", "price: anyOf",
                                   "price_approved: anyOf"]
    assert errors(schema, {"owner": "wangli"}) == [": required"]
    assert errors(schema, dict(good, owner=None)) == ["owner: enum", "owner: type"]  # required: no null


def test_card_schema_is_generated_from_the_config(demo):
    asset = card_schema(demo, "素材")  # by label, like every command
    props = asset["properties"]
    assert asset["required"] == ["title", "owner", "kind"]
    assert props["kind"]["enum"] == ["主图", "详情页", "短视频", "直播切片", "海报", "文案"]
    assert props["owner"]["enum"] == list(demo.config.people)
    assert props["owner"]["description"].startswith("制作人 — 可写：wangli=王丽, liuhao=刘浩")
    assert props["campaign"]["anyOf"][0] == {"type": "string", "pattern": r"^CMP-\d+$"}
    assert props["skus"]["anyOf"][0] == {"type": "array", "items": {"type": "string", "pattern": r"^SKU-\d+$"}}
    assert props["due"]["anyOf"][0] == {"type": "string", "pattern": DATE_PATTERN}
    assert props["platforms"]["anyOf"][0]["items"]["enum"] == ["douyin", "tmall", "pdd", "jd"]
    issue = card_schema(demo, "issue")["properties"]
    assert issue["due"]["pattern"].startswith(r"^\d{4}-\d{2}-\d{2}([T ]")
    assert re.match(issue["due"]["pattern"], "2026-11-30 18:00")
    assert not re.match(issue["due"]["pattern"], "2026/11/30 18:00")


def test_schema_command_prints_and_writes(demo, tmp_path):
    cli = Cli(demo.root)
    printed = cli("schema")
    assert printed.exit_code == 0
    assert json.loads(printed.stdout) == config_schema()
    sku = cli("schema", "--type", "sku")
    assert json.loads(sku.stdout)["properties"]["owner"]["enum"][0] == "wangli"
    result = cli("schema", "--out", ".vscode/schemas")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [f"已写入 .vscode/schemas/{name}.schema.json" for name in
                                          ("mdboard", "sku", "campaign", "issue", "asset")]
    settings = json.loads(result.stderr[result.stderr.index("{"):])
    assert settings == {"yaml.schemas": {"./.vscode/schemas/mdboard.schema.json": "mdboard.yaml"}}
    written = json.loads((demo.root / ".vscode/schemas/campaign.schema.json").read_text("utf-8"))
    assert written == card_schema(demo, "campaign")
    again = cli.proc("schema", "--out", ".vscode/schemas")
    assert again.returncode == 0
    assert json.loads((demo.root / ".vscode/schemas/campaign.schema.json").read_text("utf-8")) == written
    unknown = cli("schema", "--type", "商品")
    assert unknown.exit_code == 2 and unknown.stderr.startswith("错误：没有卡片类型「商品」")
