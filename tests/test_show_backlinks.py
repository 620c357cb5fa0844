"""`show` lists the cards that link to this one, as the site's card page does."""

from __future__ import annotations

import json

from conftest import Cli


def test_show_lists_the_cards_linking_here(demo_board):
    out = Cli(demo_board)("show", "SKU-0003").output
    section = out.split("\n\n")[1]
    assert section.splitlines() == [
        "链接到这张卡片的：",
        "  AS-0005  充电器发热严重，怀疑质量问题  [跟进中]（相关商品）",
        "  CMP-0001  天猫 双11 全球狂欢节  [已结束]（活动商品）",
        "  CMP-0003  天猫 双12 年终好价节  [平台审核]（活动商品）",
        "  CMP-0005  拼多多 限时秒杀 充电专场  [素材准备]（活动商品）",
        "  CMP-0006  京东 年货节 数码焕新  [已报名]（活动商品）",
        "  MAT-0008  秒杀专场 充电宝 + 充电器 主图  [制作中]（相关商品）",
    ]


def test_show_json_names_the_linking_cards_and_their_fields(demo_board):
    data = json.loads(Cli(demo_board)("show", "CMP-0002", "--json").output)
    assert data["linked_from"] == [{"id": "MAT-0002", "title": "抖音好物节 直播间贴片与福袋海报", "field": "所属活动"},
                                   {"id": "MAT-0009", "title": "抖音好物节 直播切片 10 条", "field": "所属活动"}]


def test_a_card_nothing_links_to_shows_no_section(cli):
    assert cli("new", "sku", "耳机", "--owner", "wangli").exit_code == 0
    out = cli("show", "SKU-0001").output
    assert "链接到这张卡片的" not in out
    assert json.loads(cli("show", "SKU-0001", "--json").output)["linked_from"] == []
