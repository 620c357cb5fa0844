"""Issue 13: any front-matter value of any YAML shape, in any field of any type, on any
card (overdue or not, finished or not), never raises in `check`, the site's rebuild (what
`serve` runs after a save), `standup`, `report`, `mine`, `ls`, `show` or `export
csv|json|ics`; a value that does not fit its field is reported by `check` instead.

One board is made for the whole test; each example rewrites one card of every type with
values hypothesis draws (null, booleans, numbers of any size, nan and inf, text with
control and invisible characters, dates in and out of range, lists and mappings nested),
then runs every command in-process, exceptions not caught.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import git
from mdboard.core import i18n
from mdboard.cli.main import main
from mdboard.core.config import load_config
from mdboard.core.fields import check_value

# (type, file, its fields as written by `new`): one open overdue card, one open card due
# later, one finished card; every card type of the default board.
CARDS = {
    "sku": ("sku/shooting/SKU-0001.md", {"title": "蓝牙耳机", "owner": "wangli", "due": "2026-11-20",
                                          "platforms": ["douyin"], "price": 99}),
    "campaign": ("campaign/planned/CMP-0001.md", {"title": "双11", "owner": "wangli", "platform": "tmall",
                                                   "signup_end": "2026-12-01", "live_start": "2026-12-10",
                                                   "live_end": "2026-12-12", "skus": ["SKU-0001"]}),
    "issue": ("issue/new/AS-0001.md", {"title": "退货", "owner": "sunli", "due": "2026-11-24 18:00",
                                        "platform": "douyin", "order_no": "123", "problem": "物流",
                                        "helpers": ["wangli"], "sku": "SKU-0001"}),
    "asset": ("asset/live/MAT-0001.md", {"title": "主图", "owner": "zhaomin", "kind": "主图", "due": "2026-11-01",
                                         "campaign": "CMP-0001", "skus": ["SKU-0001"]}),
}
BODY = "\n## 清单\n\n- [x] 拍摄\n- [ ] 主图\n"

DATES = st.sampled_from(["2026-11-24", "2026-12-01", "9999-12-31", "0001-01-01", "0001-01-01 00:00",
                         "9999-12-31T23:59:59-12:00", "0001-01-01T00:00+14:00", "2026-02-30", "2026/12/1",
                         "2026-12-01 25:00", "1900-01-01", "2199-12-31 23:59", " 2026-12-01", "2026-12-01\n"])
WORDS = st.sampled_from(["wangli", "王丽", "wangli@example.com", "douyin", "抖音", "SKU-0001", "CMP-0001",
                         "SKU-9999", "物流", "主图", "true", "", " ", "\x1b[31m红", "蓝牙\u202e机耳", "a\u200bb",
                         "<script>alert(1)</script>", "{{ 7*7 }}", "=HYPERLINK(\"x\")", "- [ ] x", "---"])
SCALARS = st.one_of(
    st.none(), st.booleans(),
    st.integers(min_value=-10**30, max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    DATES, WORDS,
)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.dictionaries(st.one_of(WORDS, st.text(max_size=5)), inner, max_size=3)), max_leaves=8)


def _keys(type_key: str) -> st.SearchStrategy[str]:
    """A configured field of the type, or a key no type defines, or one named like a built-in."""
    fields = ["title", "owner", "due", "platform", "platforms", "price", "price_approved", "category", "tags",
              "signup_start", "signup_end", "materials_due", "review_date", "live_start", "live_end", "skus",
              "order_no", "problem", "sku", "helpers", "resolution", "kind", "campaign"]
    return st.sampled_from(fields + ["id", "type", "state", "path", "checklist", "备注"])


CHANGES = st.fixed_dictionaries({tk: st.dictionaries(_keys(tk), VALUES, min_size=1, max_size=3) for tk in CARDS})


@pytest.fixture
def live(board):
    """The test board with one card of each type, committed, and a site builder that lives
    through every example (as a running `serve` does)."""
    from mdboard.site.builder import SiteBuilder
    from mdboard.core.store import Board

    for path, meta in CARDS.values():
        _write(board / path, meta)
    git(board, "add", "-A")
    git(board, "commit", "-qm", "cards")
    builder = SiteBuilder(Board(board))
    builder.build_all()
    return board, builder


def _write(path: Path, meta: dict) -> None:
    text = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=1000)
    path.write_text(f"---\n{text}---\n{BODY}", "utf-8")


def _run(root: Path, *args: str):
    old = os.getcwd()
    os.chdir(root)
    try:
        i18n.set_language(None)
        return CliRunner().invoke(main, list(args), catch_exceptions=False)
    finally:
        os.chdir(old)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow, HealthCheck.data_too_large])
@given(changes=CHANGES)
@example(changes={"sku": {"due": "9999-12-31", "price": float("inf")},
                  "campaign": {"skus": {"a": "SKU-0001"}, "live_end": "9999-12-31T23:59:59-12:00"},
                  "issue": {"owner": ["sunli", "wangli"], "due": "0001-01-01 00:00"},
                  "asset": {"state": "live", "kind": ["主图"], "campaign": [["CMP-0001"]]}})
@example(changes={"sku": {"owner": {"name": "王丽"}, "platforms": "douyin", "tags": [{"a": None}]},
                  "campaign": {"signup_end": 20261201, "platform": ["tmall"]},
                  "issue": {"helpers": "wangli", "sku": ["SKU-0001"], "problem": None},
                  "asset": {"due": [], "skus": [None, 1.5], "title": ["主图"]}})
def test_any_value_in_any_field_never_raises(live, changes):
    root, builder = live
    cfg = load_config(root)
    for type_key, values in changes.items():
        path, meta = CARDS[type_key]
        _write(root / path, {**meta, **values})
    builder.board.invalidate()
    builder.rebuild({path for path, _ in CARDS.values()})  # what serve runs after the saves

    check = _run(root, "check")
    assert check.exit_code in (0, 1), check.output
    for type_key, values in changes.items():
        ctype, path = cfg.types[type_key], CARDS[type_key][0]
        for key, value in values.items():
            fd = ctype.fields.get(key)
            if fd is not None and value not in (None, "", []) and check_value(fd, value, cfg):
                assert f"{path}:{key}: " in check.output, (key, value, check.output)

    for args in (["ls"], ["ls", "--json"], ["mine", "wangli"], ["mine", "sunli", "--json"], ["show", "AS-0001"],
                 ["show", "CMP-0001", "--json"], ["standup"], ["standup", "--json"], ["report"], ["export", "csv"],
                 ["export", "json"], ["export", "ics"]):
        result = _run(root, *args)
        assert result.exit_code == 0, (args, result.output)
