"""`mdboard serve` in a real browser tab: it reloads by itself after a card changes on disk,
and a broken card shows the banner until it is fixed (Debian's chromium via Playwright)."""

from __future__ import annotations

import pytest

from conftest import card_file, retitle

pytestmark = pytest.mark.browser

WAIT_MS = 20_000


@pytest.fixture
def tab(browser):
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    page.close()
    assert errors == []




def test_open_tab_reloads_by_itself_after_a_card_changes(live, board, tab):
    tab.goto(live.url + "cards/SKU-0001.html")
    assert "蓝牙耳机 上新" in tab.inner_text("body")
    tab.evaluate("window.__before_reload = true")
    path = card_file(board, "SKU-0001")
    path.write_text(retitle(path.read_text("utf-8"), "浏览器里自动刷新"), "utf-8")
    tab.wait_for_function("document.body.innerText.includes('浏览器里自动刷新')", timeout=WAIT_MS)
    assert tab.evaluate("window.__before_reload === undefined")  # a real reload, not a DOM patch


def test_broken_card_shows_a_banner_in_the_tab_and_fixing_it_clears_it(live, board, tab):
    tab.goto(live.url + "cards/SKU-0001.html")
    path = card_file(board, "SKU-0001")
    good = path.read_text("utf-8")
    path.write_text('---\ntitle: "写了一半\nowner: [\n---\n', "utf-8")
    banner = tab.locator("#mdboard-live-banner")
    banner.wait_for(state="visible", timeout=WAIT_MS)
    assert "sku/planning/SKU-0001.md" in banner.inner_text()
    assert tab.get_by_role("alert").count() == 1
    assert "蓝牙耳机 上新" in tab.inner_text("body")  # the last good page is still there
    path.write_text(retitle(good, "修好以后"), "utf-8")
    tab.wait_for_function("document.body.innerText.includes('修好以后')", timeout=WAIT_MS)
    assert banner.count() == 0
