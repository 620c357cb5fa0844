"""The built site in a real browser (chromium via Playwright, pages opened from file://):
card counts match the board, every filter works and lives in the URL, no console errors,
readable without JavaScript, phone and print layouts."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from mdboard.core.store import Board
from mdboard.domain.views import card_due, people_of, platforms_of

pytestmark = pytest.mark.browser


def url(root, page: str) -> str:
    return (root / "_site" / page).as_uri()


def visible_ids(page) -> list[str]:
    """IDs of the cards shown (not filtered out) on the page, in page order."""
    return page.eval_on_selector_all("[data-card]:not([hidden])", "els => els.map(e => e.dataset.id)")


@pytest.fixture(scope="module")
def board(demo_site):
    return Board.open(str(demo_site))


def sku_ids(board, keep) -> list[str]:
    return sorted(c.id for c in board.cards() if c.type == "sku" and keep(c))


def test_kanban_columns_show_the_boards_counts(demo_site, board, tab):
    for tk, ctype in board.config.types.items():
        page = tab.open(url(demo_site, f"types/{tk}.html"))
        expected = Counter(c.state for c in board.cards() if c.type == tk)
        for state in ctype.states:
            column = page.locator(f'[data-column="{state.key}"]')
            assert column.locator(".col-label").inner_text() == state.label
            assert column.locator(".col-count").inner_text() == str(expected[state.key]), (tk, state.key)
            assert column.locator("[data-card]").count() == expected[state.key]
        assert page.locator("h1 .count").inner_text() == f"{sum(expected.values())} 张卡片"


def test_overview_counts_per_type_and_state(demo_site, board, tab):
    page = tab.open(url(demo_site, "index.html"))
    for tk, ctype in board.config.types.items():
        summary = page.locator(f'[data-type-summary="{tk}"]')
        cards = [c for c in board.cards() if c.type == tk]
        assert summary.locator("h3 .count").inner_text() == str(len(cards))
        for state in ctype.states:
            row = summary.locator(f'[data-state-count="{state.key}"]')
            assert row.locator(".num").inner_text() == str(sum(1 for c in cards if c.state == state.key))


def test_wip_limit_is_shown_and_flagged_when_exceeded(demo_site, board, tab):
    page = tab.open(url(demo_site, "types/sku.html"))
    shooting = page.locator('[data-column="shooting"]')
    assert shooting.locator(".wip").inner_text().strip() == "/ 6"
    over = [s.key for s in board.config.types["sku"].states
            if s.wip and sum(1 for c in board.cards() if c.type == "sku" and c.state == s.key) > s.wip]
    assert page.eval_on_selector_all(".column.over-wip", "els => els.map(e => e.dataset.column)") == over


def choose(page, name: str, value: str) -> None:
    page.select_option(f'#filters select[name="{name}"]', value)


@pytest.mark.parametrize("name, value, keep", [
    ("owner", "zhaomin", lambda c: "zhaomin" in people_of(c)),
    ("platform", "jd", lambda c: "jd" in platforms_of(c)),
    ("tag", "新品", lambda c: "新品" in (c.meta.get("tags") or [])),
    ("state", "review", lambda c: c.state == "review"),
])
def test_each_select_filter_keeps_only_matching_cards_and_lives_in_the_url(demo_site, board, tab, name, value,
                                                                           keep):
    page = tab.open(url(demo_site, "types/sku.html"))
    assert page.locator("#filters").is_visible()
    expected = sku_ids(board, keep)
    assert 0 < len(expected) < len(sku_ids(board, lambda c: True))
    choose(page, name, value)
    assert sorted(visible_ids(page)) == expected
    assert f"{name}={value}" in page.evaluate("decodeURIComponent(location.hash)")
    status = page.locator(".filter-status").inner_text()
    assert status == f"显示 {len(expected)} / {len(sku_ids(board, lambda c: True))} 张"
    page.reload()
    assert page.locator(f'#filters select[name="{name}"]').input_value() == value
    assert sorted(visible_ids(page)) == expected


def test_text_and_overdue_filters_and_clearing(demo_site, board, tab):
    page = tab.open(url(demo_site, "types/sku.html"))
    page.fill('#filters input[name="q"]', "充电")
    expected_text = sku_ids(board, lambda c: "充电" in c.title)
    assert expected_text and sorted(visible_ids(page)) == expected_text
    page.fill('#filters input[name="q"]', "")
    page.check('#filters input[name="overdue"]')
    cfg = board.config
    overdue = sku_ids(board, lambda c: (card_due(cfg, c) or None) is not None and card_due(cfg, c).overdue)
    assert overdue and sorted(visible_ids(page)) == overdue
    assert "overdue=1" in page.evaluate("location.hash")
    for column in page.locator("[data-column]").all():  # column counts follow the filter
        shown = column.locator("[data-card]:not([hidden])").count()
        assert column.locator(".col-count").inner_text() == str(shown)
    page.click('#filters button[type="reset"]')
    page.wait_for_function("location.hash === ''")
    assert len(visible_ids(page)) == len(sku_ids(board, lambda c: True))


def test_shared_link_opens_with_the_filter_applied(demo_site, board, tab):
    page = tab.open(url(demo_site, "index.html") + "#owner=zhaomin&overdue=1")
    cfg = board.config
    expected = sorted(c.id for c in board.cards()
                      if "zhaomin" in people_of(c) and card_due(cfg, c) and card_due(cfg, c).overdue)
    assert expected and sorted(visible_ids(page)) == expected
    assert page.locator('#filters select[name="owner"]').input_value() == "zhaomin"
    assert page.locator('#filters input[name="overdue"]').is_checked()


def test_no_console_errors_on_any_page(demo_site, tab):
    pages = sorted(p.relative_to(demo_site / "_site").as_posix() for p in (demo_site / "_site").rglob("*.html"))
    assert len(pages) > 60
    for name in pages:
        tab.open(url(demo_site, name))
        assert tab.page.locator("main h1").count() == 1, name
    # the tab fixture asserts that no page logged an error


def test_everything_readable_without_javascript(demo_site, board, browser):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(url(demo_site, "types/sku.html") + "#owner=zhaomin")
    assert not page.locator("#filters").is_visible()
    assert len(visible_ids(page)) == len(sku_ids(board, lambda c: True))
    assert "声迈 S1 Pro 主动降噪真无线蓝牙耳机" in page.inner_text("main")
    context.close()


def test_phone_layout_does_not_scroll_sideways(demo_site, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
    page = context.new_page()
    for name in ("types/sku.html", "index.html", "cards/SKU-0001.html", "people/zhaomin.html"):
        page.goto(url(demo_site, name))
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, (name, width)
    context.close()


def test_print_hides_navigation_and_filters(demo_site, tab):
    page = tab.open(url(demo_site, "types/sku.html"))
    page.emulate_media(media="print")
    assert not page.locator(".site-header nav").is_visible()
    assert not page.locator("#filters").is_visible()
    assert page.locator("[data-card]").first.is_visible()


def test_dark_theme_follows_the_system(demo_site, browser):
    colours = {}
    for scheme in ("light", "dark"):
        context = browser.new_context(color_scheme=scheme)
        page = context.new_page()
        page.goto(url(demo_site, "types/sku.html"))
        colours[scheme] = page.evaluate("getComputedStyle(document.body).backgroundColor")
        context.close()
    assert colours == {"light": "rgb(244, 245, 247)", "dark": "rgb(21, 23, 27)"}


def test_card_page_shows_fields_links_both_ways_and_history(demo_site, tab):
    page = tab.open(url(demo_site, "cards/SKU-0006.html"))
    assert page.locator('[data-field="owner"] a').inner_text() == "王丽"
    assert page.locator('[data-field="platforms"] .badge').all_inner_texts() == ["抖音", "天猫"]
    linking = page.locator(".links").inner_text()
    assert "CMP-0003" in linking and "MAT-0006" in linking
    history = page.locator(".history li").all_inner_texts()
    assert history and any(re.search("移到「待审核」", line) for line in history)
    page.click('.links a:has-text("CMP-0003")')
    assert page.url.endswith("cards/CMP-0003.html")
