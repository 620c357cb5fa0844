"""Accessibility: axe-core (bundled with axe-playwright-python, no network) finds no serious
or critical problems on the site's pages, in the light and the dark theme."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

PAGES = ["index.html", "types/sku.html", "types/campaign.html", "types/issue.html", "types/asset.html",
         "cards/SKU-0001.html", "cards/CMP-0002.html", "cards/AS-0005.html", "people/zhaomin.html",
         "people/index.html", "timeline.html", "assets.html", "queue.html", "report.html", "standup.html"]


@pytest.fixture(scope="module")
def axe():
    """axe-core through Playwright (a test extra: missing means `make test` was not run, a failure)."""
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


def serious(results) -> list[str]:
    """`rule: element` for each serious or critical violation."""
    out = []
    for violation in results.response["violations"]:
        if violation["impact"] in ("serious", "critical"):
            for node in violation["nodes"][:3]:
                out.append(f"{violation['id']}: {node['target']} {node.get('failureSummary', '')[:160]}")
    return out


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_serious_accessibility_problems(demo_site, browser, axe, scheme):
    context = browser.new_context(color_scheme=scheme)
    page = context.new_page()
    problems = {}
    for name in PAGES:
        page.goto((demo_site / "_site" / name).as_uri())
        found = serious(axe.run(page))
        if found:
            problems[name] = found
    context.close()
    assert problems == {}, "\n".join(f"{k}: {v}" for k, v in problems.items())
