"""Make docs/screenshot.png: the demo board's SKU kanban, built by mdboard and shown in chromium.

Run from the repository root:  .venv/bin/python tests/browser/make_screenshot.py
(`test_screenshot.py` runs the same code into a temporary folder so it cannot rot.)
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

try:
    from .sitekit import NOW, launch
except ImportError:  # run as a script
    from sitekit import NOW, launch

REPO = Path(__file__).resolve().parents[2]


def build_demo_site(folder: Path) -> Path:
    """The bundled demo board with its history, and its site built; returns the board root."""
    from mdboard.domain.demo import make_demo
    from mdboard.site.builder import build_site
    from mdboard.core.store import Board

    root = make_demo(folder / "demo").root
    build_site(Board.open(str(root)))
    return root


def make_screenshot(out: Path, page: str = "types/sku.html", width: int = 1440, height: int = 900,
                    browser=None) -> Path:
    """Build the demo site in a temporary folder and save a PNG of one of its pages
    (with `browser`, an already running Playwright browser; else chromium is started)."""
    os.environ.setdefault("MDBOARD_NOW", NOW)
    with tempfile.TemporaryDirectory() as tmp:
        root = build_demo_site(Path(tmp))
        if browser is not None:
            return _shoot(browser, (root / "_site" / page).as_uri(), out, width, height)
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            chromium = launch(p)
            try:
                return _shoot(chromium, (root / "_site" / page).as_uri(), out, width, height)
            finally:
                chromium.close()


def _shoot(browser, url: str, out: Path, width: int, height: int) -> Path:
    context = browser.new_context(viewport={"width": width, "height": height}, color_scheme="light")
    tab = context.new_page()
    tab.goto(url)
    out.parent.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(out))
    context.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshot.png")
    parser.add_argument("--page", default="types/sku.html")
    args = parser.parse_args()
    print(make_screenshot(args.out, args.page))


if __name__ == "__main__":
    sys.exit(main())
