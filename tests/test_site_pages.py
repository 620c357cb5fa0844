"""What each page of the demo board's site says: timeline order, asset pool grouping, the
after-sales queue order, people and team load, report charts and the standup digest."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mdboard.domain.demo import make_demo
from mdboard.site.builder import build_site
from mdboard.core.store import Board
from mdboard.domain.views import mine


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The demo board with a few weeks of history, built once for this module."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MDBOARD_NOW", "2026-11-25T09:00:00+08:00")
        root = make_demo(tmp_path_factory.mktemp("demo") / "board").root
        build_site(Board.open(str(root)))
    return root / "_site"


def page(site: Path, name: str) -> str:
    return (site / name).read_text("utf-8")


def ids_in_order(html: str, prefix: str) -> list[str]:
    return list(dict.fromkeys(re.findall(rf'data-id="({prefix}-\d+)"', html)))


def test_timeline_puts_ongoing_campaigns_first_and_draws_today(site):
    html = page(site, "timeline.html")
    assert ids_in_order(html, "CMP") == ["CMP-0002", "CMP-0005", "CMP-0003", "CMP-0004", "CMP-0006", "CMP-0007",
                                         "CMP-0001"]
    groups = re.findall(r'<h2 class="tl-group">(.*?)</h2>', html)
    assert groups == ["进行中", "即将开始", "已结束"]
    assert "今天（11月25日）" in html and 'class="today-line"' in html
    live = html.split('data-id="CMP-0002"')[1].split("tl-row")[0]
    assert "活动开始 – 活动结束: 11月24日 – 11月26日" in live and "素材截止: 11月18日" in live


def test_asset_pool_groups_assets_by_campaign_then_state(site):
    html = page(site, "assets.html")
    groups = {re.search(r"<h3[^>]*>.*?cards/(CMP-\d+)\.html", g, re.S).group(1): g
              for g in html.split('class="asset-group"')[1:]}
    assert list(groups)[:2] == ["CMP-0002", "CMP-0004"]  # soonest due campaign first
    group = groups["CMP-0003"]
    review = group.split('data-column="review"')[1].split('data-column="ready"')[0]
    assert ids_in_order(review, "MAT") == ["MAT-0006", "MAT-0005"]
    ready = group.split('data-column="ready"')[1].split('data-column="live"')[0]
    assert ids_in_order(ready, "MAT") == ["MAT-0003"]


def test_after_sales_queue_is_sorted_by_time_left(site):
    html = page(site, "queue.html")
    order = ids_in_order(html, "AS")
    assert order[0] == "AS-0005" and "逾期 15 小时" in html.split('data-id="AS-0006"')[0]
    assert "AS-0009" not in order and "AS-0010" not in order  # archived cases are done
    board = Board.open(str(site.parent))
    hours = [board.get(i).meta["due"] for i in order]
    assert hours == sorted(hours)


def test_person_page_groups_and_team_load_match_the_views(site):
    board = Board.open(str(site.parent))
    groups = mine(board.config, board.cards(), "zhaomin")
    html = page(site, "people/zhaomin.html")
    for group in ("overdue", "today", "week", "later"):
        section = html.split(f'data-group="{group}"')[1].split("</section>")[0]
        assert ids_in_order(section, "[A-Z]+") == [c.id for c, _ in groups[group]], group
    team = page(site, "people/index.html")
    row = team.split('data-person="zhaomin"')[1].split("</tr>")[0]
    assert f'data-open="{sum(len(v) for v in groups.values())}"' in row


def test_report_draws_its_charts_as_inline_svg(site):
    html = page(site, "report.html")
    assert "<script" not in html.split("<main")[1]
    assert html.count('<svg viewBox="0 0 520 230" role="img"') == 12
    sku = html.split('id="rt-sku"')[1].split('id="rt-campaign"')[0]
    assert sku.count('<polygon class="band') == 5  # cumulative flow: one band per state
    assert '<circle class="dot"' in sku and '<rect class="bar"' in sku
    assert "已上架" in sku and "中位数" in sku


def test_report_of_a_new_board_shows_no_figure_it_does_not_have(cli, board):
    """Nothing finished yet: the lead and cycle times show "—", without an "85% within — days"."""
    cli.ok("new", "sku", "蓝牙耳机", "--owner", "wangli")
    cli.ok("build")
    html = (board / "_site" / "report.html").read_text("utf-8")
    assert "<strong>—</strong>" in html and "天内" not in html and "— " not in html


def test_standup_lists_what_moved_and_what_is_due(site):
    html = page(site, "standup.html")
    assert "<h3>林晓</h3>" in html and "林晓 把 AS-0007 从「跟进中」移到「已解决」" in html
    board = Board.open(str(site.parent))
    due_today = sorted(c.id for g, items in mine_all(board).items() if g == "today" for c in items)
    today = html.split('id="su-today"')[1].split("</section>")[0]
    assert sorted(re.findall(r'href="cards/([A-Z]+-\d+)\.html"', today)) == due_today
    assert "SKU-0010" in due_today and "AS-0002" in due_today


def mine_all(board) -> dict:
    """Every open card by due group (whoever owns it)."""
    from mdboard.domain.views import card_due, due_group

    out: dict = {}
    for card in board.cards():
        ctype = board.config.types[card.type]
        if card.state not in ctype.done_states():
            out.setdefault(due_group(card_due(board.config, card)), []).append(card)
    return out


def test_a_kept_page_names_only_the_cards_its_html_holds():
    """A page made from history keeps as slots only the titles its HTML holds (the report's
    scatter is given more cards than it draws): a title it does not show leaves its key as
    it was, one it shows changes the key and the page."""
    from types import SimpleNamespace

    from mdboard.core.store import Card
    from mdboard.site.slots import KeptPages

    def card(card_id: str, title: str) -> Card:
        return Card(card_id, "sku", "listed", f"sku/listed/{card_id}.md", {"title": title})

    data = SimpleNamespace(cards={"SKU-0001": card("SKU-0001", "甲"), "SKU-0002": card("SKU-0002", "乙")})

    def make(slots) -> str:
        slots.title("SKU-0002", "乙")  # given, not drawn
        return f"<p>{slots.title('SKU-0001', '甲')}</p>"

    kept = KeptPages(dict)
    assert kept.page("report", "k", data, make) == "<p>甲</p>".encode()
    key = kept.page_key("report", "k", data)
    data.cards["SKU-0002"] = card("SKU-0002", "丙")
    assert kept.page_key("report", "k", data) == key
    data.cards["SKU-0001"] = card("SKU-0001", "丁 <b>")
    assert kept.page_key("report", "k", data) != key
    assert kept.page("report", "k", data, make) == "<p>丁 &lt;b&gt;</p>".encode()
