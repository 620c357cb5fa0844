"""Hostile card content in a real browser: script tags, event handlers, javascript: and
data: links, HTML comments and attribute breakouts in the title, the fields and the body
show as text, and nothing runs (no dialog, no global set), on every page that shows them."""

from __future__ import annotations

import pytest

from .sitekit import mdboard, site_env

pytestmark = pytest.mark.browser

PAYLOADS = [
    "<script>window.__pwned=1;alert(1)</script>",
    '<img src=x onerror="window.__pwned=2;alert(2)">',
    '" onmouseover="window.__pwned=3" x="',
    "'><svg onload=window.__pwned=4>",
    "<!-- hidden -->",
    "javascript:window.__pwned=5",
]
TITLE = " ".join(PAYLOADS[:4])


def yaml_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


HOSTILE_SKU = f"""---
title: {yaml_text(TITLE)}
owner: wangli
due: 2026-11-20
platforms: [tmall, {yaml_text(PAYLOADS[2])}]
category: {yaml_text(PAYLOADS[1] + ' ' + PAYLOADS[4])}
tags: [{yaml_text(PAYLOADS[0])}, {yaml_text(PAYLOADS[3])}, {yaml_text(PAYLOADS[5])}]
{yaml_text('x" onclick="window.__pwned=6')}: {yaml_text(PAYLOADS[1])}
---

{PAYLOADS[0]}

{PAYLOADS[1]} {PAYLOADS[4]}

[click me](javascript:window.__pwned=7) [data link](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)
[vb](vbscript:msgbox) <javascript:window.__pwned=8> ![pic](data:image/svg+xml,<svg onload=alert(9)>)

- [ ] {PAYLOADS[3]}
"""

HOSTILE_CAMPAIGN = f"""---
title: {yaml_text(PAYLOADS[1])}
owner: wangli
platform: tmall
signup_start: 2026-11-20
signup_end: 2026-11-24
live_start: 2026-11-28
live_end: 2026-11-30
skus: [SKU-0001, {yaml_text(PAYLOADS[2])}]
tags: [{yaml_text(PAYLOADS[3])}]
---
{PAYLOADS[3]}
"""

HOSTILE_ISSUE = f"""---
title: {yaml_text(PAYLOADS[0])}
owner: {yaml_text(PAYLOADS[2])}
due: 2026-11-25 18:00
platform: tmall
order_no: {yaml_text(PAYLOADS[1])}
problem: 物流
sku: SKU-0001
---
"""


@pytest.fixture
def hostile_site(board):
    (board / "sku/planning/SKU-0001.md").write_text(HOSTILE_SKU, "utf-8")
    (board / "campaign/planned/CMP-0001.md").write_text(HOSTILE_CAMPAIGN, "utf-8")
    (board / "issue/new/AS-0001.md").write_text(HOSTILE_ISSUE, "utf-8")
    env = site_env(board.parent)
    mdboard(board, env, "build")
    return board / "_site"


PAGES = ["cards/SKU-0001.html", "cards/CMP-0001.html", "cards/AS-0001.html", "types/sku.html",
         "types/campaign.html", "types/issue.html", "index.html", "people/wangli.html", "people/index.html",
         "timeline.html", "queue.html", "assets.html", "report.html", "standup.html"]


def assert_nothing_ran(page) -> None:
    page.wait_for_timeout(50)
    assert page.evaluate("typeof window.__pwned") == "undefined"


def test_hostile_content_shows_as_text_and_runs_nothing(hostile_site, tab):
    for name in PAGES:
        page = tab.open((hostile_site / name).as_uri())
        for tile in page.locator("[data-card]").all()[:20]:
            tile.hover()
        assert_nothing_ran(page)
        assert page.locator("main script, main svg[onload], main img[onerror], main [onmouseover], main [onclick]"
                            ).count() == 0, name
    page = tab.open((hostile_site / "cards/SKU-0001.html").as_uri())
    text = page.inner_text("main")
    for payload in PAYLOADS:
        assert payload in text, payload
    hrefs = page.eval_on_selector_all(".card-body a", "els => els.map(a => a.getAttribute('href'))")
    assert all(not h.lower().startswith(("javascript:", "data:", "vbscript:")) for h in hrefs), hrefs
    assert page.locator(".card-body img").count() == 0
    assert "[click me](javascript:window.__pwned=7)" in text  # left as the text it was
    assert page.locator("h1").inner_text() == "SKU-0001 " + TITLE
    assert_nothing_ran(page)


def test_hostile_tag_in_the_filter_and_the_url(hostile_site, tab):
    page = tab.open((hostile_site / "types/sku.html").as_uri())
    page.select_option('#filters select[name="tag"]', PAYLOADS[0])
    assert page.eval_on_selector_all("[data-card]:not([hidden])", "els => els.map(e => e.dataset.id)") == ["SKU-0001"]
    page.reload()
    assert page.locator('#filters select[name="tag"]').input_value() == PAYLOADS[0]
    page.goto((hostile_site / "types/sku.html").as_uri() + "#tag=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E&q=%22%3E%3Cscript%3Ealert(2)%3C%2Fscript%3E")
    assert page.locator('#filters input[name="q"]').input_value() == '"><script>alert(2)</script>'
    assert_nothing_ran(page)
