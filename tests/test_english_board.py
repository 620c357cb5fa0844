"""English everywhere (issue 15 point 2): an English board counts in English ("1 day
overdue", "1 error"), through Babel's plural rules, lists with ", " and headings without
Chinese brackets; the same board in Chinese is unchanged. Real CLI, real git repository."""

from __future__ import annotations

import pytest

from conftest import Cli
from mdboard.core.i18n import t_in


@pytest.fixture
def english(tmp_path) -> Cli:
    root = tmp_path / "shop"
    assert Cli(tmp_path)("init", str(root), "--lang", "en").exit_code == 0
    return Cli(root)


def test_one_day_and_many_days(english):
    assert english("new", "sku", "Earbuds", "--owner", "Me", "--due", "yesterday").exit_code == 0
    assert english("new", "sku", "Charger", "--owner", "Me", "--due", "-3").exit_code == 0
    assert english("new", "sku", "Cable", "--owner", "Me", "--due", "tomorrow").exit_code == 0
    rows = {line.split("\t")[5]: line.split("\t")[3] for line in english("ls").output.splitlines()[1:]}
    assert rows == {"Earbuds": "1 day overdue", "Charger": "3 days overdue", "Cable": "1 day left"}


def test_check_counts_in_english(english):
    assert english("new", "sku", "Earbuds", "--owner", "Me").exit_code == 0
    card = english.root / "sku/planning/SKU-0001.md"
    card.write_text(card.read_text("utf-8").replace("owner: me", "owner: nobody"), "utf-8")
    assert english("check").output.splitlines()[-1] == "checked 1 card: 1 error, 0 warnings"


def test_standup_headings_have_no_chinese_brackets(english):
    assert english("new", "sku", "Earbuds", "--owner", "Me", "--due", "yesterday").exit_code == 0
    out = english("standup").output
    assert "【" not in out and "\nOverdue (1)\n" in out


def test_a_refusal_lists_checklist_items_with_commas(english):
    assert english("new", "sku", "Earbuds", "--owner", "Me", "--set", "price=199", "--set", "platforms=Douyin",
                   "--set", "price_approved=yes").exit_code == 0
    for state in ("Shooting", "Copy & detail page", "In review"):
        assert english("move", "SKU-0001", state).exit_code == 0, state
    out = english("move", "SKU-0001", "Listed").output
    assert "Photos, Main image, Detail page" in out and "、" not in out, out


def test_plural_words_follow_babels_rules_and_chinese_has_one_form():
    assert t_in("en", "cli.count", n=1) == "1 card" and t_in("en", "cli.count", n=0) == "0 cards"
    assert t_in("zh-CN", "cli.count", n=1) == t_in("zh-CN", "cli.count", n=1).replace("|", "")


def test_an_import_lists_the_types_with_commas(english):
    (english.root / "sheet.csv").write_text("Type,Title,Owner\n,Earbuds,Me\n", "utf-8")
    out = english("import", "csv", "sheet.csv").output
    assert "no card type given (one of: SKU launch, Campaign, After-sales, Asset)" in out, out
