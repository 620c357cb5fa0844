"""A long-running `serve` does not grow: 80 rebuilds that add and remove cards leave the
frozen objects as they were and the traced memory flat (`pytest -m slow`; the default run
makes 30, which still shows the leak below many times over).

Process-wide garbage-collection switches belong to the program's entry point
(`mdboard.cli.main.run`), never to a library method: `Board` used to `gc.freeze()`
on every scan, so a server froze every card it ever read (19,590 -> 88,713 frozen
objects, 39 -> 50 MB over 80 rebuilds).

The rebuilds run in a process of their own, as `serve` does: in a test worker that has
run other tests, threads or caches they left behind would be traced too.

Outside Python's objects, `serve` keeps its threads within two glibc malloc arenas
(`mdboard.serve.memory`): each thread's own arena held freed memory of its own. And it
maps large blocks on their own whatever was freed before: glibc's moving threshold put
them on the main heap once a bigger block had been freed, and the heap kept what they left.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import platform
import re
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from conftest import traced_growth
from mdboard.core.store import Board
from mdboard.serve import memory
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
    grown = traced_growth(add_and_remove, 10, rebuilds)
    return frozen, gc.get_freeze_count(), grown


# --- malloc arenas -----------------------------------------------------------------------

ON_GLIBC = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc arenas are glibc's")

COUNT_HEAPS = r'''
import ctypes, os, tempfile, threading


def heaps_with_threads(threads=6):
    """The malloc arenas (glibc: heaps) in use once `threads` threads have each allocated
    memory from malloc and hold it."""
    held, gate = [], threading.Barrier(threads + 1)

    def allocate():
        held.append([bytes(4096) for _ in range(64)])  # beyond Python's small-object allocator
        gate.wait()
        gate.wait()

    workers = [threading.Thread(target=allocate) for _ in range(threads)]
    for worker in workers:
        worker.start()
    gate.wait()
    libc = ctypes.CDLL(None)
    libc.fopen.restype = ctypes.c_void_p
    fd, path = tempfile.mkstemp()
    os.close(fd)
    out = libc.fopen(path.encode(), b"w")
    libc.malloc_info(0, ctypes.c_void_p(out))
    libc.fclose(ctypes.c_void_p(out))
    gate.wait()
    for worker in workers:
        worker.join()
    with open(path) as f:
        text = f.read()
    os.unlink(path)
    return text.count("<heap nr=")
'''

def in_serve(defs: str, label: str, call: str) -> str:
    """A script: `defs`, then the real `mdboard serve`, which once it runs prints `label` and
    what `call` gives (in the server's own process, after its start-up), and stops."""
    return defs + f'''
import os, signal, sys
from mdboard.serve import http

started = http.BoardServer.start


def start(self):
    started(self)
    print({label!r}, {call}, flush=True)
    os.kill(os.getpid(), signal.SIGTERM)


http.BoardServer.start = start
from mdboard.cli.main import run

sys.argv = ["mdboard", "serve", "--port", "0"]
run()
'''


SERVE_AND_COUNT = in_serve(COUNT_HEAPS, "heaps", "heaps_with_threads()")


def python(code: str, cwd) -> str:
    """What `code` printed, run by this Python in `cwd` with glibc's malloc left as it is."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    done = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, text=True, capture_output=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@ON_GLIBC
def test_serve_keeps_its_threads_within_two_malloc_arenas(board, cli):
    """The real `mdboard serve`, with six threads more allocating at once, uses at most two
    arenas; the same six threads in a plain Python process get an arena each."""
    cli.ok("new", "sku", "蓝牙耳机 上新", "--owner", "wangli")
    plain = int(python(COUNT_HEAPS + "print(heaps_with_threads())", board))
    assert plain >= 6, f"six threads allocating at once should use six arenas or more, not {plain}"
    served = python(SERVE_AND_COUNT, board)
    heaps = int(re.search(r"^heaps (\d+)$", served, re.M).group(1))
    assert heaps <= memory.ARENAS, served


MAPPED_AFTER_A_BIG_FREE = r'''
import ctypes


class Mallinfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                "fsmblks", "uordblks", "fordblks", "keepcost")]


def mapped_after_a_big_free():
    """Bytes in blocks mapped on their own while eight 1 MiB blocks are held, made after
    one 8 MiB block was made and freed (which raises glibc's own threshold to 8 MiB)."""
    libc = ctypes.CDLL(None)
    libc.mallinfo2.restype = Mallinfo2
    libc.malloc.restype = ctypes.c_void_p
    libc.free(ctypes.c_void_p(libc.malloc(8 << 20)))
    before = libc.mallinfo2().hblkhd
    held = [libc.malloc(1 << 20) for _ in range(8)]
    mapped = libc.mallinfo2().hblkhd - before
    for block in held:
        libc.free(ctypes.c_void_p(block))
    return mapped
'''

SERVE_AND_MAP = in_serve(MAPPED_AFTER_A_BIG_FREE, "mapped", "mapped_after_a_big_free()")


@ON_GLIBC
def test_serve_maps_large_blocks_on_their_own_after_a_bigger_one_was_freed(board, cli):
    """In the real `mdboard serve` the eight 1 MiB blocks are mapped (given back when freed);
    in a plain Python process glibc has raised its threshold and takes them from the heap."""
    cli.ok("new", "sku", "蓝牙耳机 上新", "--owner", "wangli")
    plain = int(python(MAPPED_AFTER_A_BIG_FREE + "print(mapped_after_a_big_free())", board))
    assert plain < 1 << 20, f"plain Python should take 1 MiB blocks from the heap here, mapped {plain} bytes"
    served = python(SERVE_AND_MAP, board)
    mapped = int(re.search(r"^mapped (\d+)$", served, re.M).group(1))
    assert mapped >= 8 << 20, served


def test_elsewhere_than_glibc_nothing_is_done(monkeypatch):
    monkeypatch.setattr(memory.platform, "libc_ver", lambda: ("", ""))
    assert memory.tune_malloc() is False


def test_a_long_running_command_collects_with_pythons_own_thresholds():
    """`main` raises the collector's thresholds for one-shot commands; serve, watch and demo
    put Python's own back (kept, a server never ran a full collection and grew without end)."""
    import gc

    from mdboard.cli.common import collect_garbage

    before, enabled = gc.get_threshold(), gc.isenabled()
    try:
        gc.disable()
        gc.set_threshold(50_000, 20, 100)
        collect_garbage()
        assert gc.isenabled() and gc.get_threshold() == (700, 10, 10)
    finally:
        gc.set_threshold(*before)
        (gc.enable if enabled else gc.disable)()
