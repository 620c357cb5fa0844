"""Compiled templates: a process compiles each template once, whichever board folder it builds,
and a template whose source changed is compiled again (mdboard/site/render.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import jinja2
import pytest

from mdboard.core.config import parse_config
from mdboard.site import render

CONFIG = {"title": "店铺看板", "language": "zh-CN",
          "types": {"sku": {"label": "商品上新", "prefix": "SKU", "states": [{"key": "planning", "label": "规划中"}]}}}


@pytest.fixture
def compiles(monkeypatch, tmp_path) -> list[str]:
    """The names of the templates jinja compiles from source, with a copy of the templates
    folder of our own (so this process has compiled none of it yet, and a test may edit it)."""
    folder = tmp_path / "templates"
    shutil.copytree(render.template_dir(), folder)
    monkeypatch.setattr(render, "template_dir", lambda: folder)
    names: list[str] = []
    compile_source = jinja2.Environment.compile

    def counting(self, source, name=None, filename=None, raw=False, defer_init=False):
        names.append(name)
        return compile_source(self, source, name, filename, raw, defer_init)

    monkeypatch.setattr(jinja2.Environment, "compile", counting)
    return names


def renderer(compiled: Path | None) -> render.Renderer:
    return render.Renderer(parse_config(CONFIG), compiled)


def test_a_second_board_folder_uses_the_templates_this_process_compiled(compiles, tmp_path):
    first = renderer(tmp_path / "one")
    first.render("_header.html", root="", current="", nav=[])
    assert compiles == ["_header.html"]
    second = renderer(tmp_path / "two")
    assert second.render("_header.html", root="", current="", nav=[]) == \
        first.render("_header.html", root="", current="", nav=[])
    assert compiles == ["_header.html"]
    # the new folder holds what a compile would have left there, for the next process
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == sorted(p.name for p in (tmp_path / "one").iterdir())
    assert len(list((tmp_path / "two").iterdir())) == 1
    renderer(None).render("_header.html", root="", current="", nav=[])  # no folder: memory alone
    assert compiles == ["_header.html"]


def test_a_changed_template_is_compiled_again(compiles, tmp_path):
    before = renderer(tmp_path / "one").render("_header.html", root="", current="", nav=[])
    header = render.template_dir() / "_header.html"
    header.write_text(header.read_text("utf-8") + "<!-- 改过的模板 -->\n", "utf-8")
    after = renderer(tmp_path / "one").render("_header.html", root="", current="", nav=[])
    assert after == before + "\n<!-- 改过的模板 -->"
    assert compiles == ["_header.html", "_header.html"]
    assert renderer(tmp_path / "two").render("_header.html", root="", current="", nav=[]) == after
    assert compiles == ["_header.html", "_header.html"]
