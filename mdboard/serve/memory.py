"""How a long-running `serve` has glibc's malloc work: two arenas, large blocks mapped.

glibc's malloc gives each thread that allocates an arena of its own, up to eight per
core. A server's threads — uvicorn's pool (up to 40 for page reads), the writer, the
reader, the rebuild and relay threads — each take one, and every arena keeps the freed,
fragmented memory a rebuild or a page read left in it rather than give it back.
Measured on the 10,000-card board after 300–1,200 team actions: malloc held 76–78 MB
in 10 arenas by default (19 MB of it in use), 57 MB in 2 with the limit. Threads here
do their work under the GIL, so sharing two arenas costs no waiting worth measuring.

Large blocks (256 KiB and more: a page being written, a cache file's bytes, git's
output) are mapped on their own and given back when freed. glibc does that too at first,
but raises its threshold to the largest block freed so far (up to 32 MiB), so after the
first big cache was saved such blocks came from the main heap, and what they left there
stayed resident. Measured with `bench/bench_team.py --memory-only` side by side on the
10,000-card board (RSS after 500 -> 3,000 team actions): 146.0 -> 155.5 MB with glibc's
moving threshold, 134.8 -> 138.9 MB with it fixed here (both 2.8 actions a second). What grows
is Python's own objects (~27 more blocks per action), mostly the new commits' history rows.

Both are process-wide settings, so only the `serve` entry point makes them
(`serve_board`), before it starts any thread: a library call never changes how the
process allocates. Elsewhere than glibc (macOS, musl, Windows) nothing is done.
"""

from __future__ import annotations

import ctypes
import platform

ARENAS = 2  # malloc arenas a server may use (glibc's default: 8 per core)
LARGE = 256 * 1024  # blocks of this many bytes or more are mapped on their own (glibc's first: 128 KiB)
M_ARENA_MAX = -8  # mallopt's parameter numbers (glibc's malloc.h): the arena limit,
M_MMAP_THRESHOLD = -3  # and the size from which a block is mapped (setting it keeps it fixed)


def glibc():
    """The C library, when it is glibc and has `mallopt`; else None."""
    if platform.libc_ver()[0] != "glibc":
        return None
    try:
        libc = ctypes.CDLL(None)
        return libc if hasattr(libc, "mallopt") else None
    except OSError:
        return None


def tune_malloc(arenas: int = ARENAS, large: int = LARGE) -> bool:
    """Keep every thread of this process within `arenas` malloc arenas, and map blocks of
    `large` bytes or more on their own (glibc only; call before the threads start: arenas
    already made stay). True when both were set."""
    libc = glibc()
    if libc is None:
        return False
    return bool(libc.mallopt(M_ARENA_MAX, arenas)) & bool(libc.mallopt(M_MMAP_THRESHOLD, large))
