"""The one way mdboard keeps a private cache on disk: `load`, `save`, one version scheme.

Every cache (parsed cards, the checked config, check results, the history read from
git, the site's manifest, render cache, history rows, date texts, compiled templates)
is a file in the board's private folder (`.git/mdboard/`), written and read here only.

Nothing read back can run code or tell lies. Caches hold pickles (and compiled
templates, which are code), and a repository shared as a folder or unpacked from an
archive brings its `.git/mdboard/` along. So every part of a cache file carries a MAC:
keyed BLAKE2b (a keyed hash designed to serve as HMAC does) under a secret that never
leaves this computer — 32 random bytes in the user's own cache folder
(`~/.cache/mdboard/key`, mode 0600, made on first use), never in the repository. A part
is unpickled only after its MAC verifies; a file made anywhere else, changed, cut
short, of another cache or another version reads as no cache at all, which costs only
speed. Keyed BLAKE2b was measured against HMAC-SHA256 for the warm listing of 10,000
cards (2.2 MB of parsed cards): 2.8 ms + 0.4 ms import against 1.5 ms + 4.3 ms to load
OpenSSL, and its builtin module is always there.

The version scheme: a file is valid for one (FORMAT, kind, version), all three bound
into the MAC. `kind` names the cache ("parse", "config" …); `version` is the caller's
own (an int, or a tuple of ints and strings such as the board's language) and changes
whenever what the cache holds changes meaning. FORMAT changes when this file layout
does, or when pickled classes move to other modules.

Each user keeps their own copy of a cache: the file's name carries a short fingerprint of
the key (`parse.cache` is `parse.3fa2c1d0.cache` on disk). People sharing a board folder,
or one person's computers syncing it, would otherwise throw away each other's caches on
every command.

A file: MAGIC, FORMAT (1 byte), the number of parts (1 byte), per part its length
(8 bytes, little-endian) and MAC (32 bytes), then the parts. A reader that wants one
part reads, verifies and unpickles only that one (the parse cache's packed part is half
of a 5 MB file at 10,000 cards).
"""

from __future__ import annotations

import os
from pathlib import Path

from mdboard.core.fsutil import atomic_write

try:  # the C modules alone: `pickle` and `hashlib` would cost a warm listing ~2 ms and ~4 ms to import
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - Pythons without the builtin module
    from hashlib import blake2b
try:
    from _pickle import dumps, loads
except ImportError:  # pragma: no cover
    from pickle import dumps, loads
try:
    from _operator import _compare_digest as same_mac  # what hmac.compare_digest is, without loading OpenSSL
except ImportError:  # pragma: no cover
    from hmac import compare_digest as same_mac

MAGIC = b"MDBC"
FORMAT = 1
KEY_BYTES = 32
MAC_BYTES = 32
_ENTRY = 8 + MAC_BYTES
_HEAD = len(MAGIC) + 2
_PROTOCOL = 5
_KEYS: dict[str, bytes] = {}  # key file path -> its key (b"": none can be had) in this process
_IDS: dict[bytes, str] = {}  # key -> its fingerprint in file names


def load(path: Path, kind: str, version, part: int = 0):
    """Part `part` of the cache file `path` as saved, or None when there is no valid one.

    None also when the file is missing, damaged, of another kind or version, or was
    not made on this computer by this user: the caller then works it out afresh.
    """
    key = _key()
    if not key:
        return None
    try:
        with open(_mine(path, key), "rb") as fh:
            body, mac, count = _part_of(fh, part)
        if body is None or not same_mac(_mac(key, kind, version, part, count, body), mac):
            return None
        return loads(body)
    except Exception:  # a cache that cannot be read only costs speed
        return None


def save(path: Path, kind: str, version, *objects) -> bool:
    """Write `objects` as the parts of cache file `path` (replacing it in one step).

    False when it could not be written (disk full, folder read-only, no key): a cache
    that cannot be written only costs speed, so that is never an error.
    """
    key = _key()
    if not key:
        return False
    parts = [dumps(obj, _PROTOCOL) for obj in objects]
    head = [MAGIC, bytes((FORMAT, len(parts)))]
    for index, part in enumerate(parts):
        head += [len(part).to_bytes(8, "little"), _mac(key, kind, version, index, len(parts), part)]
    try:
        atomic_write(_mine(path, key), b"".join(head + parts), sync=False)
    except OSError:
        return False
    return True


def remove(path: Path) -> None:
    """Forget this user's copy of cache file `path` (nothing happens when there is none)."""
    key = _key()
    if key:
        try:
            os.unlink(_mine(path, key))
        except OSError:
            pass


def _mine(path: Path, key: bytes) -> Path:
    """This user's copy of cache file `path` (the key's fingerprint before the suffix)."""
    key_id = _IDS.get(key)
    if key_id is None:
        key_id = _IDS[key] = blake2b(b"file name", key=key, digest_size=4).hexdigest()
    path = Path(path)
    return path.with_name(f"{path.stem}.{key_id}{path.suffix}")


def _part_of(fh, part: int) -> tuple[bytes | None, bytes, int]:
    """(the bytes of part `part`, its MAC as written, the number of parts) read from an open
    cache file, only the header and that part; None for the bytes when the layout does not
    hold (not a cache file, another format, a part that is not there or reaches past the end)."""
    head = fh.read(_HEAD)
    if len(head) < _HEAD or head[:len(MAGIC)] != MAGIC or head[len(MAGIC)] != FORMAT:
        return None, b"", 0
    count = head[len(MAGIC) + 1]
    table = fh.read(count * _ENTRY)
    if not 0 <= part < count or len(table) != count * _ENTRY:
        return None, b"", count
    sizes = [int.from_bytes(table[i * _ENTRY:i * _ENTRY + 8], "little") for i in range(count)]
    start = _HEAD + count * _ENTRY + sum(sizes[:part])
    if start + sizes[part] > os.fstat(fh.fileno()).st_size:
        return None, b"", count
    fh.seek(start)
    body = fh.read(sizes[part])
    entry = part * _ENTRY + 8
    return (body if len(body) == sizes[part] else None), table[entry:entry + MAC_BYTES], count


def _mac(key: bytes, kind: str, version, index: int, count: int, body) -> bytes:
    """The MAC of one part: its bytes, and which file format, cache, version and part it is."""
    context = f"{FORMAT}\0{kind}\0{version!r}\0{index}/{count}\0".encode("utf-8", "surrogatepass")
    mac = blake2b(context, key=key, digest_size=MAC_BYTES)
    mac.update(body)
    return mac.digest()


# --- the key ---------------------------------------------------------------------------------

def user_cache_folder() -> Path:
    """mdboard's folder in the user's own cache folder ($XDG_CACHE_HOME, else ~/.cache)."""
    base = os.environ.get("XDG_CACHE_HOME")
    if not base or not os.path.isabs(base):  # the XDG rule: a relative path is ignored
        base = os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "mdboard"


def key_path() -> Path:
    return user_cache_folder() / "key"


def _key() -> bytes:
    """This user's cache key, made on first use; b"" when none can be read or made."""
    path = str(key_path())
    key = _KEYS.get(path)
    if key is None:
        key = _KEYS[path] = _read_key(path) or _new_key(path)
    return key


def _read_key(path: str) -> bytes:
    """The key in `path` if it is one: a regular file of the right size that only this user owns and reads."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return b""
    try:
        st = os.fstat(fd)
        if not _private(st) or st.st_size != KEY_BYTES:
            return b""
        key = os.read(fd, KEY_BYTES + 1)
        return key if len(key) == KEY_BYTES else b""
    except OSError:
        return b""
    finally:
        os.close(fd)


def _private(st: os.stat_result) -> bool:
    import stat

    if not stat.S_ISREG(st.st_mode):
        return False
    if os.name == "nt":  # no owner or mode bits to judge by: the user's profile folder is private
        return True
    return st.st_uid == os.getuid() and not st.st_mode & 0o077


def _new_key(path: str) -> bytes:
    """Make a key, readable by this user only. Two processes doing so at once agree on one
    (the first link wins); a key file that is not private is replaced."""
    key = os.urandom(KEY_BYTES)
    folder = os.path.dirname(path)
    tmp = os.path.join(folder, f".key.{os.getpid()}.tmp")
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, key)
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)
        except FileExistsError:
            found = _read_key(path)
            if found:
                return found
            os.replace(tmp, path)
        except OSError:  # a file system without hard links: the last writer wins (costs a cache miss)
            os.replace(tmp, path)
    except OSError:
        return b""
    finally:
        try:
            os.unlink(tmp)
        except OSError:
            pass
    return key
