"""A full build of a big board shares the card pages out to forked helper processes
(`site.builder._render_pages`); when they are done, multiprocessing ends them with
SIGTERM while it holds their task queue's lock. A helper must then end, whatever its
parent does on SIGTERM: `serve` turns SIGTERM into Ctrl-C around its first build, and a
helper that inherited that handler could miss the signal and wait forever for the lock,
and `serve` with it, before it ever printed its address (seen in two of five starts of
`serve --team` on the 10,000-card board under load).
"""

from __future__ import annotations

import subprocess
import sys

from conftest import git
from mdboard.core.store import Board
from mdboard.site.builder import PARALLEL_MIN, SiteBuilder

CARD = "---\ntitle: 商品 {n}\nowner: wangli\n---\n\n第 {n} 张\n"

BUILD_WITH_A_SIGTERM_HANDLER = r"""
import os, signal, sys
from pathlib import Path

os.cpu_count = lambda: 2  # the helpers are forked on any machine
signal.signal(signal.SIGTERM, lambda signum, frame: None)  # the parent's own SIGTERM handler
from mdboard.core.store import Board
from mdboard.site import builder

render_range = builder._render_range


def spied(job):
    '''In a helper: what SIGTERM does there, then its pages.'''
    with open(sys.argv[2], "a") as out:
        out.write(f"{os.getpid()} {signal.getsignal(signal.SIGTERM) is signal.SIG_DFL}\n")
    return render_range(job)


builder._render_range = spied if len(sys.argv) > 2 else render_range
report = builder.SiteBuilder(Board.open(sys.argv[1]), Path(sys.argv[1]) / "_site").build_all()
print("pages", report.pages)
"""


def test_forked_helpers_end_on_sigterm_whatever_their_parent_does_with_it(board, tmp_path):
    folder = board / "sku" / "planning"
    for n in range(1, PARALLEL_MIN + 11):
        (folder / f"SKU-{n:04d}.md").write_text(CARD.format(n=n), "utf-8")
    seen = tmp_path / "helpers.txt"
    done = subprocess.run([sys.executable, "-c", BUILD_WITH_A_SIGTERM_HANDLER, str(board), str(seen)],
                          text=True, capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr
    helpers = dict(line.split() for line in seen.read_text().splitlines())
    assert helpers, "the build forked no helper"
    assert set(helpers.values()) == {"True"}, helpers
    assert len(list((board / "_site" / "cards").glob("SKU-*.html"))) == PARALLEL_MIN + 10


def test_the_history_rows_forked_helpers_make_are_kept_for_the_next_build(board, monkeypatch):
    """Each card page lists the card's history; the helpers that make the pages of a full
    build hand the rows back, so that a later build remaking those pages reads no history."""
    import mdboard.git.history

    folder = board / "sku" / "planning"
    for n in range(1, PARALLEL_MIN + 11):
        (folder / f"SKU-{n:04d}.md").write_text(CARD.format(n=n), "utf-8")
    git(board, "add", "-A")
    git(board, "commit", "-q", "-m", "many SKUs")
    done = subprocess.run([sys.executable, "-c", BUILD_WITH_A_SIGTERM_HANDLER, str(board)],
                          text=True, capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr
    page = board / "_site" / "cards" / "SKU-0007.html"
    made = page.read_text("utf-8")
    assert "新建了 SKU-0007「商品 7」" in made  # its history
    page.unlink()

    def no_history(board):
        raise AssertionError("the git history was read")

    monkeypatch.setattr(mdboard.git.history, "load_history", no_history)
    report = SiteBuilder(Board.open(str(board))).build_all()
    assert report.written == ["cards/SKU-0007.html"]
    assert page.read_text("utf-8") == made
