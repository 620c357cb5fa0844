"""A person's page says what `mdboard mine` says: each open card, in the same groups and
order, with its state and next step under it — read on a phone (390 px) in chromium."""

from __future__ import annotations

import json

import pytest

from .sitekit import mdboard, site_env

pytestmark = pytest.mark.browser

READ_PAGE = """
() => [...document.querySelectorAll('section[data-group]')].map(section => [
  section.dataset.group,
  [...section.querySelectorAll('.mine-card')].map(item => {
    const step = item.querySelector('.next-step'), r = item.getBoundingClientRect();
    return [item.querySelector('.card-id').innerText, step ? step.innerText : null, r.left >= 0 && r.right <= innerWidth];
  })])
"""


def mine(root, person: str) -> dict:
    """`mdboard mine PERSON --json` on the built board, as the CLI answers it."""
    return json.loads(mdboard(root, site_env(root.parent), "mine", person, "--json"))


def test_every_person_page_shows_each_card_with_the_next_step_mine_gives(demo_site, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    people = json.loads(mdboard(demo_site, site_env(demo_site.parent), "export", "json"))["people"]
    steps = set()
    for person in people:
        expected = mine(demo_site, person)["groups"]
        page.goto((demo_site / "_site" / "people" / f"{person}.html").as_uri())
        shown = {group: items for group, items in page.evaluate(READ_PAGE)}
        for group, cards in expected.items():
            want = [[c["id"], f'{c["state_label"]} → {c["next_step"]}', True] for c in cards]
            assert shown.get(group, []) == want, (person, group)
            steps.update(c["next_step"] for c in cards)
    context.close()
    assert any(s.startswith("下一步：移到") for s in steps)
    assert any(not s.startswith("下一步") for s in steps), steps  # a field to fill before the next state
