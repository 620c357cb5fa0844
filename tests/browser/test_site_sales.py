"""The big sales on the overview and a campaign's plan against actual, in a real browser:
the demo board's next sales with their countdowns and whether a plan exists for each,
and the 双12 campaign page reached from there."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def url(root, page: str) -> str:
    return (root / "_site" / page).as_uri()


def test_overview_shows_the_next_sales_with_countdowns_and_plans(demo_site, tab):
    page = tab.open(url(demo_site, "index.html"))
    section = page.locator("section.sales")
    assert section.locator("h2").inner_text() == "接下来的大促"
    sales = section.locator("li.sale")
    assert [sales.nth(i).get_attribute("data-sale") for i in range(sales.count())] == [
        "double12-2026", "cny-2027", "38-2027", "618-2027"]

    double12 = section.locator('[data-sale="double12-2026"]')
    assert double12.locator("h3").inner_text() == "双12 2026"  # confirmed: no "dates not confirmed" mark
    countdown = double12.locator(".sale-countdown")
    assert countdown.inner_text() == "报名已截止，还有 15 天上线"
    assert (countdown.get_attribute("data-signup-days"), countdown.get_attribute("data-live-days")) == ("-7", "15")
    assert double12.locator(".sale-plan").get_attribute("data-plan") == "yes"
    assert "计划 CMP-0003 天猫 双12 年终好价节" in double12.locator(".sale-plan").inner_text()

    cny = section.locator('[data-sale="cny-2027"]')
    assert cny.locator(".sale-countdown").inner_text() == "报名截止还有 18 天"
    assert cny.locator(".sale-unconfirmed").inner_text() == "日期待确认"
    assert cny.locator(".sale-plan").inner_text() == "还没有这场大促的打法"
    mid = section.locator('[data-sale="618-2027"] .sale-plan')
    assert mid.get_attribute("data-plan") == "no" and mid.locator("code").inner_text() == "mdboard plan 618"

    double12.locator(".sale-plan a").click()
    page.wait_for_load_state("load")
    assert page.url.endswith("/cards/CMP-0003.html")
    plan = page.locator("section.plan")
    assert plan.get_attribute("data-plan") == "double12-2026"
    count = plan.locator("h2 .count")
    assert count.get_attribute("data-total") == "3"
    assert count.inner_text() == f"完成 {count.get_attribute('data-done')} / 3"
    rows = plan.locator(".gantt-row")
    assert sorted(rows.nth(i).get_attribute("data-step") for i in range(rows.count())) == [
        "MAT-0003", "MAT-0005", "MAT-0006"]
    for i in range(rows.count()):
        assert rows.nth(i).locator(".plan-planned").is_visible()
    assert plan.locator("h3").inner_text() == "延误的步骤"


def test_sales_and_plans_read_well_on_a_phone(demo_site, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        page.goto(url(demo_site, "cards/CMP-0003.html"))
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390 + 1
        page.goto(url(demo_site, "index.html"))
        assert page.locator("section.sales li.sale").first.is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1
    finally:
        context.close()
