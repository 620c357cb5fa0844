"""`mdboard serve` in a real browser tab: it follows a change on disk without reloading (scroll and
filter stay),
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




def test_open_tab_follows_a_change_without_reloading(live, board, tab):
    tab.goto(live.url + "cards/SKU-0001.html")
    assert "蓝牙耳机 上新" in tab.inner_text("body")
    tab.evaluate("window.__before_change = true")
    path = card_file(board, "SKU-0001")
    path.write_text(retitle(path.read_text("utf-8"), "浏览器里自动更新"), "utf-8")
    tab.wait_for_function("() => document.body.innerText.includes('浏览器里自动更新')", timeout=WAIT_MS)
    assert tab.evaluate("window.__before_change === true")  # the page was patched in place, not reloaded
    assert "浏览器里自动更新" in tab.title()


# every stylesheet element taken out of or put into the page from now on, and the page's own nodes
WATCH_JS = """() => {
    window.__sheets = Array.from(document.querySelectorAll('link[rel=stylesheet], style'));
    window.__tile = document.querySelector('[data-id="SKU-0001"]');
    window.__sheet_changes = [];
    const sheet = n => n.nodeType === 1 && (n.matches('link[rel=stylesheet], style') || !!n.querySelector('link[rel=stylesheet], style'));
    new MutationObserver(records => records.forEach(r => {
        r.removedNodes.forEach(n => { if (sheet(n)) window.__sheet_changes.push('removed ' + n.tagName); });
        r.addedNodes.forEach(n => { if (sheet(n)) window.__sheet_changes.push('added ' + n.tagName); });
    })).observe(document, { childList: true, subtree: true });
}"""


def test_a_change_is_put_in_place_without_taking_the_page_apart(live, board, tab):
    """The new page's body is morphed into the open one, not put inside it as a second <body>.
    A nested body re-inserted the stylesheets: for some frames (longer on a busy machine) the
    page showed without them and every tile jumped ~40 px, so a press in that moment landed on
    another part of the tile (the team board's intermittent "the drag did not happen")."""
    tab.goto(live.url + "types/sku.html")
    tab.evaluate(WATCH_JS)
    path = card_file(board, "SKU-0001")
    path.write_text(retitle(path.read_text("utf-8"), "只改了标题"), "utf-8")
    tab.wait_for_function("() => document.body.innerText.includes('只改了标题')", timeout=WAIT_MS)
    assert tab.evaluate("document.querySelectorAll('body').length") == 1
    assert tab.evaluate("window.__sheet_changes") == []
    assert tab.evaluate("""Array.from(document.querySelectorAll('link[rel=stylesheet], style'))
                           .every((s, i) => s === window.__sheets[i])""")
    assert tab.evaluate("""document.querySelector('[data-id="SKU-0001"]') === window.__tile""")


def test_the_kanban_keeps_its_scroll_position_and_filter_through_a_change(live, board, cli, tab):
    for i in range(12):
        result = cli("new", "sku", f"王丽的卡片 {i}", "--owner", "wangli")
        assert result.exit_code == 0, result.output
    assert cli("new", "sku", "赵敏的卡片", "--owner", "zhaomin").exit_code == 0
    tab.set_viewport_size({"width": 600, "height": 400})
    tab.goto(live.url + "types/sku.html#owner=wangli")
    tab.wait_for_function("() => document.body.innerText.includes('赵敏的卡片') || document.querySelectorAll('[data-card]').length >= 14",
                          timeout=WAIT_MS)
    tab.evaluate("window.__before_change = true")
    tab.evaluate("window.scrollTo(0, 300)")
    hidden = "document.querySelector('[data-card][data-owner=zhaomin]').hidden"
    assert tab.evaluate(hidden) is True
    path = card_file(board, "SKU-0003")
    path.write_text(retitle(path.read_text("utf-8"), "改过的标题"), "utf-8")
    tab.wait_for_function("() => document.body.innerText.includes('改过的标题')", timeout=WAIT_MS)
    assert tab.evaluate("window.__before_change === true")
    assert tab.evaluate("window.scrollY") == 300
    assert tab.eval_on_selector("#filters select[name=owner]", "s => s.value") == "wangli"
    assert tab.evaluate(hidden) is True  # the filter still applies to the board that came in


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
    tab.wait_for_function("() => document.body.innerText.includes('修好以后')", timeout=WAIT_MS)
    assert banner.count() == 0


def test_a_big_kanban_is_updated_column_by_column(live, board, tab):
    """With thousands of finished cards, a change re-draws only the columns it touched."""
    from conftest import git

    listed = board / "sku/listed"
    listed.mkdir(parents=True, exist_ok=True)
    for i in range(320):
        (listed / f"SKU-{i + 100:04d}.md").write_text(f"---\ntitle: 已上架 {i}\nowner: wangli\n---\n", "utf-8")
    git(board, "add", "-A")
    git(board, "commit", "-qm", "many finished cards")
    tab.goto(live.url + "types/sku.html")
    tab.wait_for_function("() => document.querySelectorAll('[data-card]').length === 321", timeout=WAIT_MS)
    tab.wait_for_selector("html[data-mdb-columns=remembered]", state="attached", timeout=WAIT_MS)
    tab.evaluate("""() => { window.__before_change = true;
        document.querySelector('[data-column=listed] [data-card]').setAttribute('data-marker', 'untouched'); }""")
    path = card_file(board, "SKU-0001")
    path.write_text(retitle(path.read_text("utf-8"), "大看板上改的标题"), "utf-8")
    tab.wait_for_function("() => document.body.innerText.includes('大看板上改的标题')", timeout=WAIT_MS)
    assert tab.evaluate("window.__before_change === true")
    # a column that did not change is not even looked at: a whole-page morph would have removed this
    assert tab.evaluate("document.querySelector('[data-column=listed] [data-card]').dataset.marker") == "untouched"
    assert tab.evaluate("document.querySelectorAll('[data-card]').length") == 321
