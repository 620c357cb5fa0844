"""Which names a board server answers to: the Host check against DNS rebinding.

A page elsewhere can point a name of its own at 127.0.0.1 (`127.0.0.1.evil.example`) and
have the visitor's browser talk to the board server; the browser then sends that name
in the Host header. The server answers only to names it knows exactly.
"""

from __future__ import annotations

import re
import socket
from typing import Iterable

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def is_loopback(host: str) -> bool:
    """True for an address only this computer can reach (127.x.y.z, ::1, localhost)."""
    name = host.strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    parts = name.split(".")
    return len(parts) == 4 and parts[0] == "127" and all(p.isdigit() and int(p) < 256 for p in parts)


def host_name(header: str) -> str | None:
    """The name part of a Host header (`name`, `name:port`, `[v6]:port`), lowercased, or None."""
    header = header.strip().lower()
    if not header or any(c in header for c in " /\\@?#"):
        return None
    if header.startswith("["):
        end = header.find("]")
        if end < 0 or (header[end + 1:] and not re.fullmatch(r":\d{1,5}", header[end + 1:])):
            return None
        return header[1:end]
    name, sep, port = header.partition(":")
    if sep and not re.fullmatch(r"\d{1,5}", port):
        return None
    return name.rstrip(".") or None


class HostCheck:
    """The exact names this server answers to: loopback names, the address it is bound
    to, this computer's own name and addresses when bound to every interface, and the
    names given with `--name` (a LAN address, the reverse proxy's public name)."""

    def __init__(self, bound: str, names: Iterable[str] = ()):
        allowed = set(LOOPBACK_NAMES)
        bound = bound.strip("[]").lower()
        if bound in ("0.0.0.0", "::", ""):
            allowed |= own_names()
        else:
            allowed.add(bound)
        allowed |= {n for n in (host_name(name) for name in names) if n}
        self.names = frozenset(allowed)

    def allows(self, header: str) -> bool:
        name = host_name(header)
        return name is not None and name in self.names


def own_names() -> set[str]:
    """This computer's host name and the addresses it resolves to (no network traffic)."""
    names = set()
    try:
        hostname = socket.gethostname()
    except OSError:
        return names
    names |= {hostname.lower(), f"{hostname.lower()}.local"}
    try:
        for info in socket.getaddrinfo(hostname, None):
            names.add(str(info[4][0]).lower())
    except OSError:
        pass
    return names
