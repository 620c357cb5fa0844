"""Writing files safely: readers see the old bytes or the new, never a mix."""

from __future__ import annotations

import os
from pathlib import Path


def atomic_write(path: Path, data: bytes, sync: bool = True) -> None:
    """Replace `path` with `data` so readers see the old or the new bytes, never a mix."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _new_temporary(path)
    try:
        os.fchmod(fd, new_file_mode())  # made 0600; a card is shared like git's 0644
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if sync:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    if sync:
        _fsync_dir(path.parent)


def settled(mtime_ns: int, read_ns: int) -> bool:
    """Whether a file that had `mtime_ns` when it was read (`read_ns`: `time.time_ns()` taken
    before the stat and the read) cannot change again without its mtime changing: git's
    racy-git rule, for every cache keyed by a file's (size, mtime). File times move in
    ticks (a few ms on Linux, whole seconds or two on some file systems), so a file written
    again in the tick it was read in keeps its time (and maybe its size); only an mtime
    older than the read by more than a tick is one the clock has left behind."""
    tick = 2_100_000_000 if mtime_ns % 1_000_000_000 == 0 else 50_000_000
    return mtime_ns < read_ns - tick


def _new_temporary(path: Path) -> tuple[int, str]:
    """(descriptor, name) of a new, empty, private file `.<name>.<random>.tmp` beside `path`,
    made as `tempfile.mkstemp` makes one (never an existing file or a link), without
    importing tempfile: with shutil and random it costs every writing command ~5 ms."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = os.path.join(path.parent, f".{path.name}.{os.urandom(6).hex()}.tmp")
        try:
            return os.open(tmp, flags, 0o600), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"{path.parent}: no free temporary name")


def new_file_mode() -> int:
    """The mode git and editors give a new file here: 0666 less the process's umask."""
    try:
        with open("/proc/self/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # elsewhere: read it by setting it (and put it back at once)
    os.umask(mask)
    return 0o666 & ~mask


def package_folder(package: str, name: str) -> Path:
    """A folder of data shipped inside an installed package (templates, the board skeletons,
    the demo board), found through the import system, so it is the same whether mdboard
    runs from a clone, an editable install or a wheel. A package that is a folder on disk
    (always, installed as mdboard is) names it in its spec; `importlib.resources`, which
    costs a site build ~5 ms of imports, is only asked otherwise (a zipped package)."""
    import importlib

    spec = importlib.import_module(package).__spec__
    if spec is not None and spec.has_location and spec.origin and os.path.isfile(spec.origin):
        return Path(spec.origin).parent / name
    from importlib.resources import files

    return Path(str(files(package).joinpath(name)))


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
