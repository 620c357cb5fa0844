"""Browser fixtures for the site tests: Debian's chromium through Playwright, and the
demo board (with its git history) built into a site once per worker."""

from __future__ import annotations

from pathlib import Path

import pytest

from .sitekit import mdboard, site_env


class Tab:
    """A browser page that records console errors, page errors and dialogs."""

    def __init__(self, page):
        self.page = page
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on("dialog", self._dialog)

    def _dialog(self, dialog):
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def open(self, url: str):
        self.page.goto(url)
        self.page.wait_for_load_state("load")
        return self.page


@pytest.fixture
def tab(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = Tab(context.new_page())
    yield page
    context.close()
    assert page.errors == [], page.errors
    assert page.dialogs == [], page.dialogs


@pytest.fixture(scope="session")
def demo_site(tmp_path_factory):
    """The demo board with its weeks of history (`make_demo`), built with `mdboard build`,
    once per worker: every test only reads it."""
    from mdboard.domain.demo import make_demo

    base = tmp_path_factory.mktemp("demo")
    env = site_env(base)
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        root = make_demo(base / "board").root
    mdboard(root, env, "build")
    return root
