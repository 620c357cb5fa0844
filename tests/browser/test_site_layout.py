"""Every page of the built demo site laid out at a phone's 390 px, a tablet's 768 px and a laptop's 1366 px
(chromium via Playwright, pages opened from file://): no table cell squeezed to one
character per line, no text spilling out of its cell, every kanban column reachable by
scrolling its board sideways, timeline axis labels apart, nothing wider than the screen;
on a phone, every control and every card's link big enough to tap (24 px, WCAG 2.2).

`make screenshots` writes screenshots of every page at 390 px to tests/output/phone-390/ (the
test's output names the folder; MDBOARD_TEST_OUTPUT moves it), so a person can look through
what a phone shows; `make test` leaves that out.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

OUTPUT = Path(os.environ.get("MDBOARD_TEST_OUTPUT") or Path(__file__).resolve().parents[1] / "output")
WIDTHS = {"phone": (390, 844), "tablet": (768, 1024), "laptop": (1366, 768)}

# One pass over a page in the browser: every problem a person would see, as text.
LAYOUT_PROBLEMS = """
() => {
  const out = [];
  const px = v => parseFloat(v) || 0;
  const name = el => {
    const id = el.closest('[data-id]');
    const tag = el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).split(' ')[0] : '');
    return (id ? id.dataset.id + ' ' : '') + tag + ' "' + el.innerText.trim().slice(0, 24) + '"';
  };
  const hidden = el => {
    for (let a = el; a && a !== document.body; a = a.parentElement) {
      const cs = getComputedStyle(a);
      if (cs.display === 'none' || cs.visibility === 'hidden' || cs.clip !== 'auto') return true;
    }
    return false;
  };
  // the width a cell's content takes on one line, in the cell's own font
  const probe = document.createElement('div');
  probe.style.cssText = 'position:absolute;visibility:hidden;white-space:nowrap;left:-9999px;top:0;width:auto';
  document.body.appendChild(probe);
  const natural = cell => {
    probe.style.font = getComputedStyle(cell).font;
    probe.innerHTML = cell.innerHTML;
    probe.querySelectorAll('br').forEach(br => br.replaceWith(' '));
    return probe.getBoundingClientRect().width;
  };

  const doc = document.documentElement;
  if (doc.scrollWidth > innerWidth + 1) out.push('page wider than the screen: ' + doc.scrollWidth + ' px');

  for (const cell of document.querySelectorAll('main td, main th')) {
    if (hidden(cell) || !cell.innerText.trim()) continue;
    const cs = getComputedStyle(cell);
    const inner = cell.clientWidth - px(cs.paddingLeft) - px(cs.paddingRight);
    const two = 2 * px(cs.fontSize);
    const need = Math.min(two, natural(cell));
    if (inner + 0.5 < need) out.push('cell narrower than two characters (' + inner.toFixed(1) + ' px): ' + name(cell));
    if (cell.scrollWidth > cell.clientWidth + 1) out.push('text overflows its cell: ' + name(cell));
  }

  for (const bar of document.querySelectorAll('main .load')) {
    const cell = bar.closest('td');
    const r = bar.getBoundingClientRect(), c = cell.getBoundingClientRect();
    if (r.width < 2 * px(getComputedStyle(bar).fontSize) || r.right > c.right + 0.5 || r.left < c.left - 0.5)
      out.push('load bar clipped: ' + name(cell.parentElement));
  }

  for (const board of document.querySelectorAll('main .board')) {
    const cs = getComputedStyle(board);
    const scrolls = cs.overflowX === 'auto' || cs.overflowX === 'scroll';
    if (board.scrollWidth > board.clientWidth + 1 && !scrolls)
      out.push('kanban clips its columns: ' + (board.dataset.board || name(board)));
    for (const col of board.querySelectorAll(':scope > .column')) {
      col.scrollIntoView({inline: 'nearest', block: 'nearest'});
      const r = col.getBoundingClientRect(), b = board.getBoundingClientRect();
      if (r.left < b.left - 1 || r.right > b.right + 1 || r.right > innerWidth + 1)
        out.push('kanban column cannot be brought into view: ' + col.dataset.column);
      if (col.scrollWidth > col.clientWidth + 1) out.push('tiles overflow their column: ' + col.dataset.column);
    }
    board.scrollLeft = 0;
  }

  for (const axis of document.querySelectorAll('main .tl-axis')) {
    const ticks = [...axis.querySelectorAll('.tick')].map(t => t.getBoundingClientRect());
    for (let i = 1; i < ticks.length; i++)
      if (ticks[i].left < ticks[i - 1].right - 0.5) out.push('timeline labels run together: tick ' + i);
  }
  probe.remove();
  window.scrollTo(0, 0);
  return out;
}
"""


# Controls and the links that open a card or go up a level: at least 24 x 24 px on a phone
# (WCAG 2.2 target size). A checkbox counts with the label around it, which takes the tap.
SMALL_TARGETS = """
() => [...document.querySelectorAll('nav a, .crumbs a, .tile-title a, button, select, input, summary')]
  .filter(el => el.offsetParent !== null)
  .map(el => el.type === 'checkbox' && el.closest('label') ? el.closest('label') : el)
  .map(el => [el, el.getBoundingClientRect()])
  .filter(([el, r]) => r.width < 24 || r.height < 24)
  .map(([el, r]) => el.tagName.toLowerCase() + ' "' + el.innerText.trim().slice(0, 16) + '" ' +
       Math.round(r.width) + 'x' + Math.round(r.height) + ' px')
"""


def site_pages(root: Path) -> list[str]:
    return sorted(p.relative_to(root / "_site").as_posix() for p in (root / "_site").rglob("*.html"))


@pytest.fixture(scope="module")
def pages(demo_site) -> list[str]:
    names = site_pages(demo_site)
    kinds = {name.split("/")[0] for name in names}
    assert len(names) > 60 and {"index.html", "cards", "people", "types", "timeline.html", "queue.html"} <= kinds
    return names


def open_at(browser, size: str):
    width, height = WIDTHS[size]
    return browser.new_context(viewport={"width": width, "height": height}, is_mobile=size == "phone",
                               device_scale_factor=1)


@pytest.mark.parametrize("size", list(WIDTHS))
def test_every_page_lays_out_without_squeezed_cells_or_clipped_columns(demo_site, pages, browser, size):
    context = open_at(browser, size)
    page = context.new_page()
    found = {}
    for name in pages:
        page.goto((demo_site / "_site" / name).as_uri())
        problems = page.evaluate(LAYOUT_PROBLEMS)
        if size == "phone":
            problems += ["too small to tap: " + p for p in page.evaluate(SMALL_TARGETS)]
        if problems:
            found[name] = problems
    context.close()
    assert found == {}


def test_every_kanban_shows_all_its_columns_at_1366_px(demo_site, browser):
    """A laptop sees a whole board (six states at most on the demo board) without scrolling."""
    context = open_at(browser, "laptop")
    page = context.new_page()
    for name in ("types/sku.html", "types/campaign.html", "types/issue.html", "types/asset.html"):
        page.goto((demo_site / "_site" / name).as_uri())
        sizes = page.evaluate("() => { const b = document.querySelector('.board');"
                              " return [b.scrollWidth, b.clientWidth, b.children.length]; }")
        assert sizes[0] <= sizes[1] + 1, (name, sizes)
    context.close()


def test_a_phone_scrolls_the_kanban_sideways_one_column_at_a_time(demo_site, browser):
    context = open_at(browser, "phone")
    page = context.new_page()
    page.goto((demo_site / "_site" / "types/campaign.html").as_uri())
    board = page.locator(".board")
    width = page.evaluate("() => document.querySelector('.board').clientWidth")
    assert page.evaluate("() => document.querySelector('.board').scrollWidth") > width
    first = page.locator(".board > .column").first.bounding_box()
    assert 0.6 * width < first["width"] < width  # the next column peeks in: there is more to the side
    board.evaluate("b => b.scrollBy(10000, 0)")
    last = page.locator(".board > .column").last.bounding_box()
    assert last["x"] + last["width"] <= 390
    context.close()


@pytest.mark.screenshots
def test_screenshots_of_every_page_at_390_px(demo_site, pages, browser, capsys):
    """Written for people to look at (a check that they are real pictures, not blank)."""
    folder = OUTPUT / "phone-390"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    context = open_at(browser, "phone")
    page = context.new_page()
    for name in pages:
        page.goto((demo_site / "_site" / name).as_uri())
        shot = folder / (name.removesuffix(".html").replace("/", "_") + ".png")
        page.screenshot(path=str(shot), full_page=True)
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    context.close()
    assert len(list(folder.glob("*.png"))) == len(pages)
    with capsys.disabled():
        print(f"\nscreenshots of {len(pages)} pages at 390 px: {folder}")
