"""SHA-1 and SHA-256, from Python's own built-in modules where it has them.

`hashlib` loads OpenSSL's libcrypto when imported, ~3 ms of every command that imports
it, and an action needs two digests of a few hundred bytes: a card's version, its
journal, and the ids of the git objects it writes. Same digests either way.
"""

from __future__ import annotations

try:
    from _sha1 import sha1
except ImportError:  # pragma: no cover - a Python built without it
    from hashlib import sha1
try:
    from _sha256 import sha256  # Python 3.11
except ImportError:  # pragma: no cover - 3.12 on
    try:
        from _sha2 import sha256
    except ImportError:
        from hashlib import sha256

__all__ = ["sha1", "sha256"]
