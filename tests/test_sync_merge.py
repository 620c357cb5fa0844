"""Merging one card field by field (what sync does where git's line merge gives up)."""

from __future__ import annotations

import pytest

from mdboard.core.store import Board
from mdboard.git.sync import merge_card, merge_card_text

BASE = """---
title: 连衣裙
owner: wangli
price: 99
---

## 上新清单

- [ ] 拍摄
- [ ] 主图
- [ ] 详情页
"""


@pytest.fixture
def b(board) -> Board:
    return Board(board)


def test_neighbouring_fields_changed_on_each_side_are_both_kept(b):
    mine = BASE.replace("owner: wangli", "owner: zhaomin")
    theirs = BASE.replace("price: 99", "price: 129")
    text, conflicts = merge_card_text(b, "SKU-0001", BASE, mine, theirs)
    assert conflicts == []
    assert text == BASE.replace("owner: wangli", "owner: zhaomin").replace("price: 99", "price: 129")


def test_keys_added_and_removed_on_different_sides(b):
    mine = BASE.replace("price: 99\n", "price: 99\ncategory: 女装\n")
    theirs = BASE.replace("price: 99\n", "")
    text, conflicts = merge_card_text(b, "SKU-0001", BASE, mine, theirs)
    assert conflicts == []
    assert "price" not in text and "category: 女装\n---" in text


def test_checklist_items_ticked_on_each_side_are_both_ticked(b):
    mine = BASE.replace("- [ ] 拍摄", "- [x] 拍摄")
    theirs = BASE.replace("- [ ] 主图", "- [x] 主图")
    text, conflicts = merge_card_text(b, "SKU-0001", BASE, mine, theirs)
    assert conflicts == []
    assert text.endswith("- [x] 拍摄\n- [x] 主图\n- [ ] 详情页\n")


def test_the_same_field_set_two_ways_is_a_conflict_unless_a_side_is_preferred(b):
    mine = BASE.replace("price: 99", "price: 109")
    theirs = BASE.replace("price: 99", "price: 119")
    _, conflicts = merge_card_text(b, "SKU-0001", BASE, mine, theirs)
    assert [(c.kind, c.field, c.mine, c.theirs) for c in conflicts] == [("field", "price", "¥109", "¥119")]
    assert "price: 119" in merge_card_text(b, "SKU-0001", BASE, mine, theirs, prefer="theirs")[0]
    assert "price: 109" in merge_card_text(b, "SKU-0001", BASE, mine, theirs, prefer="mine")[0]


def test_the_same_body_line_rewritten_two_ways_is_a_conflict(b):
    mine = BASE.replace("## 上新清单", "## 清单 A")
    theirs = BASE.replace("## 上新清单", "## 清单 B")
    _, conflicts = merge_card_text(b, "SKU-0001", BASE, mine, theirs)
    assert [c.kind for c in conflicts] == ["body"]


def test_moved_two_ways_is_a_state_conflict_and_a_move_plus_an_edit_is_not(b):
    base = ("sku/planning/SKU-0001.md", BASE)
    edited = BASE.replace("price: 99", "price: 1")
    (path, text), conflicts = merge_card(b, "SKU-0001", base, ("sku/shooting/SKU-0001.md", BASE),
                                         ("sku/planning/SKU-0001.md", edited))
    assert (path, text, conflicts) == ("sku/shooting/SKU-0001.md", edited, [])
    _, conflicts = merge_card(b, "SKU-0001", base, ("sku/shooting/SKU-0001.md", BASE),
                              ("sku/content/SKU-0001.md", BASE))
    assert [(c.kind, c.mine, c.theirs) for c in conflicts] == [("state", "拍摄中", "文案详情")]


# --- the body, line by line -------------------------------------------------------------------

def test_neighbouring_ticks_and_a_line_added_on_one_side_merge_without_a_clash(b):
    mine = BASE.replace("- [ ] 拍摄", "- [x] 拍摄") + "样品已寄出\n"
    theirs = BASE.replace("- [ ] 主图", "- [x] 主图")
    text, conflicts = merge_card_text(b, "SKU-0001", BASE, mine, theirs)
    assert conflicts == []
    assert text.endswith("- [x] 拍摄\n- [x] 主图\n- [ ] 详情页\n样品已寄出\n")


@pytest.mark.parametrize("prefer", ["mine", "theirs"])
def test_a_picked_side_only_settles_what_clashed(b, prefer):
    """Both ticked a different item and both added a line at the end: the lines clash (where
    do they go?), the ticks do not. Picking a side keeps both ticks and both lines."""
    mine = BASE.replace("- [ ] 拍摄", "- [x] 拍摄") + "我：样品已寄出\n"
    theirs = BASE.replace("- [ ] 主图", "- [x] 主图") + "同事：主图外包\n"
    _, conflicts = merge_card_text(b, "SKU-0001", BASE, mine, theirs)
    assert [c.kind for c in conflicts] == ["body"]
    text, conflicts = merge_card_text(b, "SKU-0001", BASE, mine, theirs, prefer=prefer)
    assert conflicts == []
    assert text.endswith("- [x] 拍摄\n- [x] 主图\n- [ ] 详情页\n同事：主图外包\n我：样品已寄出\n")


@pytest.mark.parametrize("prefer", ["mine", "theirs"])
def test_the_same_line_rewritten_two_ways_takes_the_picked_side_and_keeps_the_rest(b, prefer):
    mine = BASE.replace("## 上新清单", "## 清单 A").replace("- [ ] 详情页", "- [x] 详情页")
    theirs = BASE.replace("## 上新清单", "## 清单 B").replace("price: 99", "price: 129") + "备注\n"
    text, conflicts = merge_card_text(b, "SKU-0001", BASE, mine, theirs, prefer=prefer)
    assert conflicts == []
    heading = "## 清单 A" if prefer == "mine" else "## 清单 B"
    assert text == BASE.replace("## 上新清单", heading).replace("- [ ] 详情页", "- [x] 详情页").replace(
        "price: 99", "price: 129") + "备注\n"


def test_a_body_without_a_final_newline_still_takes_lines_added_on_both_sides(b):
    base = BASE.rstrip("\n")
    text, conflicts = merge_card_text(b, "SKU-0001", base, base + "\n甲", base + "\n乙", prefer="mine")
    assert conflicts == [] and text.endswith("- [ ] 详情页\n乙\n甲")
