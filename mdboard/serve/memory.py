"""A long-running `serve` keeps glibc's malloc within two arenas (its threads share them).

glibc's malloc gives each thread that allocates an arena of its own, up to eight per
core. A server's threads — uvicorn's pool (up to 40 for page reads), the writer, the
reader, the rebuild and relay threads — each take one, and every arena keeps the freed,
fragmented memory a rebuild or a page read left in it rather than give it back.
Measured on the 10,000-card board after 300–1,200 team actions: malloc held 76–78 MB
in 10 arenas by default (19 MB of it in use), 57 MB in 2 with the limit. Threads here
do their work under the GIL, so sharing two arenas costs no waiting worth measuring.

The limit is a process-wide setting, so only the `serve` entry point sets it
(`serve_board`), before it starts any thread: a library call never changes how the
process allocates. Elsewhere than glibc (macOS, musl, Windows) nothing is done.
"""

from __future__ import annotations

import ctypes
import platform

ARENAS = 2  # malloc arenas a server may use (glibc's default: 8 per core)
M_ARENA_MAX = -8  # mallopt's parameter number for the arena limit (glibc's malloc.h)


def glibc():
    """The C library, when it is glibc and has `mallopt`; else None."""
    if platform.libc_ver()[0] != "glibc":
        return None
    try:
        libc = ctypes.CDLL(None)
        return libc if hasattr(libc, "mallopt") else None
    except OSError:
        return None


def limit_malloc_arenas(arenas: int = ARENAS) -> bool:
    """Keep every thread of this process within `arenas` malloc arenas (glibc only; call
    before the threads start: arenas already made stay). True when the limit was set."""
    libc = glibc()
    if libc is None:
        return False
    return bool(libc.mallopt(M_ARENA_MAX, arenas))
