"""A long-running `serve` does not grow: 80 rebuilds that add and remove cards leave the
frozen objects as they were and the traced memory flat (`pytest -m slow`; the default run
makes 30, which still shows the leak below many times over).

Process-wide garbage-collection switches belong to the program's entry point
(`mdboard.cli.main.run`), never to a library method: `Board` used to `gc.freeze()`
on every scan, so a server froze every card it ever read (19,590 -> 88,713 frozen
objects, 39 -> 50 MB over 80 rebuilds).

The rebuilds run in a process of their own, as `serve` does: in a test worker that has
run other tests, threads or caches they left behind would be traced too.
"""

from __future__ import annotations

import gc
import multiprocessing
import tracemalloc
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from mdboard.core.store import Board
from mdboard.site.builder import SiteBuilder

CARD = "---\ntitle: 临时卡片 {n}\nowner: wangli\ndue: 2026-12-{day:02d}\n---\n\n第 {n} 张\n"


def test_thirty_rebuilds_adding_and_removing_cards_do_not_grow(board, cli):
    rebuilds_do_not_grow(board, cli, 30)


@pytest.mark.slow
def test_eighty_rebuilds_adding_and_removing_cards_do_not_grow(board, cli):
    rebuilds_do_not_grow(board, cli, 80)


def rebuilds_do_not_grow(board, cli, rebuilds: int) -> None:
    """`rebuilds` traced rebuilds (each adds a card, then removes it) after ten that let caches
    settle, in a new process: frozen objects unchanged, traced memory flat."""
    for n in range(4):
        cli.ok("new", "sku", f"商品 {n}", "--owner", "wangli")
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        frozen, frozen_after, grown = pool.submit(traced_rebuilds, str(board), rebuilds).result()
    assert frozen_after == frozen
    assert grown < 512 * 1024, f"traced memory grew by {grown} bytes over {rebuilds} rebuilds"


def traced_rebuilds(root: str, rebuilds: int) -> tuple[int, int, int]:
    """(frozen objects before, after, bytes of traced memory grown) over `rebuilds` rebuilds."""
    board = Path(root)
    builder = SiteBuilder(Board.open(root), board / "_site")  # what `serve` runs, rebuild by rebuild
    builder.build_all()
    folder = board / "sku" / "planning"

    def add_and_remove(n: int) -> None:
        rel = f"sku/planning/SKU-{100 + n:04d}.md"
        (folder / f"SKU-{100 + n:04d}.md").write_text(CARD.format(n=n, day=1 + n % 28), "utf-8")
        builder.rebuild({rel})
        (folder / f"SKU-{100 + n:04d}.md").unlink()
        builder.rebuild({rel})

    for n in range(10):  # caches and lazily made things settle first
        add_and_remove(n)
    frozen = gc.get_freeze_count()
    gc.collect()
    tracemalloc.start()
    try:
        add_and_remove(10)
        gc.collect()
        start = tracemalloc.get_traced_memory()[0]
        for n in range(11, 11 + rebuilds):
            add_and_remove(n)
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - start
    finally:
        tracemalloc.stop()
    return frozen, gc.get_freeze_count(), grown
