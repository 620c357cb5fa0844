"""The README's screenshot is made by the project's own script; it must keep working."""

from __future__ import annotations

import struct

import pytest

from .make_screenshot import make_screenshot

pytestmark = pytest.mark.browser


def test_screenshot_script_makes_a_png_of_the_kanban(browser, tmp_path):
    out = make_screenshot(tmp_path / "shot.png", width=1200, height=800, browser=browser)
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1200, 800)
    assert len(data) > 50_000  # a real page, not a blank one
