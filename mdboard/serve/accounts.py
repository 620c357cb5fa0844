"""Who may sign in to the team board: roster people with a password or a one-time link.

Accounts are kept outside the board and outside git: in the user's state folder
(`$XDG_STATE_HOME/mdboard/team/<board>/`, by default under `~/.local/state`), one folder
per board (named by a hash of the board's real path), mode 0700, files 0600. So no
clone, pull, shared folder or unpacked archive can bring accounts (or the key that signs
sessions) along, and nothing here is ever part of the built site. The file is JSON:
reading it runs nothing.

A password is stored as an scrypt hash (stdlib `hashlib.scrypt`, a random salt each).
A sign-in link's token is stored only as its SHA-256, expires after `LINK_DAYS` and
works once. Each person has a `generation`: changing the password, removing the
account or signing out everywhere bumps it, and every session made before stops working.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from mdboard.core.errors import MdboardError
from mdboard.core.fsutil import settled
from mdboard.core.i18n import t

FORMAT = 1
LINK_DAYS = 7
MIN_PASSWORD = 8
SCRYPT = {"n": 2 ** 14, "r": 8, "p": 1}  # ~50 ms and 16 MB per check on this kind of machine
_DUMMY_SALT = b"mdboard-no-such-account"


def team_dir(root: Path) -> Path:
    """The private folder of one board's team server (accounts, session key, last URL)."""
    base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    digest = hashlib.sha256(str(Path(root).resolve()).encode("utf-8")).hexdigest()[:16]
    return base / "mdboard" / "team" / digest


def hash_password(password: str, salt: bytes | None = None) -> str:
    """`scrypt$n$r$p$salt$hash` (base64 parts) for a password."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, dklen=32, **SCRYPT)
    b64 = lambda b: base64.b64encode(b).decode("ascii")
    return f"scrypt${SCRYPT['n']}${SCRYPT['r']}${SCRYPT['p']}${b64(salt)}${b64(digest)}"


def password_matches(stored: str | None, password: str) -> bool:
    """True when `password` gives `stored`; an account without a password (None) costs the
    same time to refuse, so timing does not tell which names have one."""
    try:
        kind, n, r, p, salt, digest = (stored or "").split("$")
        if kind != "scrypt":
            raise ValueError
        salt_b, want = base64.b64decode(salt), base64.b64decode(digest)
        params = {"n": int(n), "r": int(r), "p": int(p)}
    except ValueError:
        hashlib.scrypt(password.encode("utf-8"), salt=_DUMMY_SALT, dklen=32, **SCRYPT)
        return False
    got = hashlib.scrypt(password.encode("utf-8"), salt=salt_b, dklen=len(want), **params)
    return hmac.compare_digest(got, want)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass
class Account:
    person: str
    password: str | None
    generation: int
    links: list  # [{"hash": sha256 hex, "expires": epoch seconds}]


class Accounts:
    """The accounts file of one board, read again whenever it changed on disk.

    Every change happens under an exclusive lock on the folder's lock file and re-reads
    the file first, so `mdboard user add` and a running server never overwrite each other.
    """

    def __init__(self, root: Path, folder: Path | None = None):
        self.root = Path(root)
        self.folder = Path(folder) if folder else team_dir(self.root)
        self.path = self.folder / "accounts.json"
        self._stamp = None
        self._people: dict[str, Account] = {}

    # --- reading ----------------------------------------------------------------------

    def people(self) -> dict[str, Account]:
        """person key -> Account, as the file says now (read again when its stamp changed, and
        after a read in the tick it was written in, `fsutil.settled`: written again in that
        tick with as many bytes, a sign-out would look like the file already read)."""
        read_ns = time.time_ns()
        try:
            st = self.path.stat()
        except FileNotFoundError:
            self._stamp, self._people = None, {}
            return self._people
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        if stamp != self._stamp:
            self._people = self._read()
            self._stamp = stamp if settled(st.st_mtime_ns, read_ns) else None  # None: read again
        return self._people

    def any(self) -> bool:
        return bool(self.people())

    def get(self, person: str) -> Account | None:
        return self.people().get(person)

    def _read(self) -> dict[str, Account]:
        try:
            data = json.loads(self.path.read_text("utf-8"))
            people = data["people"]
            return {key: Account(key, value.get("password"), int(value.get("generation", 1)),
                                 list(value.get("links", []))) for key, value in people.items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise MdboardError(t("web.accounts_broken", path=self.path, error=exc))

    # --- changing -----------------------------------------------------------------------

    @contextlib.contextmanager
    def _changing(self):
        """Hold the lock, yield the current accounts (a dict to change), write them back."""
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.folder, 0o700)
        fd = os.open(self.folder / "lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._stamp = None
            people = dict(self.people())
            yield people
            self._write(people)
        finally:
            os.close(fd)

    def _write(self, people: dict[str, Account]) -> None:
        data = {"format": FORMAT, "board": str(self.root.resolve()),
                "people": {key: {"password": a.password, "generation": a.generation, "links": a.links}
                           for key, a in sorted(people.items())}}
        tmp = self.path.with_name(f".accounts.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False, indent=1)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)
        self._stamp = None

    def add(self, person: str) -> bool:
        """Make an account for a roster person; False if there already is one."""
        with self._changing() as people:
            if person in people:
                return False
            people[person] = Account(person, None, 1, [])
            return True

    def new_link(self, person: str, days: int = LINK_DAYS) -> str:
        """A new one-time sign-in token for `person` (only its hash is kept)."""
        token = secrets.token_urlsafe(24)
        now = time.time()
        with self._changing() as people:
            account = self._existing(people, person)
            account.links = [link for link in account.links if link.get("expires", 0) > now]
            account.links.append({"hash": _token_hash(token), "expires": int(now + days * 86400)})
        return token

    def use_link(self, token: str) -> str | None:
        """The person a valid, unused, unexpired token signs in (the token is used up), or None."""
        wanted = _token_hash(token)
        now = time.time()
        with self._changing() as people:
            for account in people.values():
                for link in account.links:
                    if hmac.compare_digest(link.get("hash", ""), wanted) and link.get("expires", 0) > now:
                        account.links = [other for other in account.links if other is not link]
                        return account.person
        return None

    def link_person(self, token: str) -> str | None:
        """The person a token would sign in, without using it up (for the confirm page)."""
        wanted = _token_hash(token)
        now = time.time()
        for account in self.people().values():
            for link in account.links:
                if hmac.compare_digest(link.get("hash", ""), wanted) and link.get("expires", 0) > now:
                    return account.person
        return None

    def set_password(self, person: str, password: str) -> None:
        """Set a password (scrypt); every other session of this person ends."""
        check_password_rules(password)
        hashed = hash_password(password)
        with self._changing() as people:
            account = self._existing(people, person)
            account.password = hashed
            account.generation += 1

    def check(self, person: str, password: str) -> bool:
        account = self.get(person)
        return password_matches(account.password if account else None, password)

    def sign_out_everywhere(self, person: str) -> None:
        with self._changing() as people:
            self._existing(people, person).generation += 1

    def remove(self, person: str) -> bool:
        with self._changing() as people:
            return people.pop(person, None) is not None

    def _existing(self, people: dict, person: str) -> Account:
        account = people.get(person)
        if account is None:
            raise MdboardError(t("web.no_account", person=person))
        return account


def check_password_rules(password: str) -> None:
    """A password long enough to resist guessing at the sign-in rate limit."""
    if len(password) < MIN_PASSWORD:
        raise MdboardError(t("web.password_short", n=MIN_PASSWORD))


def secret_key(folder: Path) -> bytes:
    """The key that signs session cookies: made once, kept 0600 beside the accounts."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / "session.key"
    try:
        key = path.read_bytes()
        if len(key) >= 32:
            return key
    except FileNotFoundError:
        pass
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    return key


def remember_url(folder: Path, url: str) -> None:
    """Note the address the server announced, so `mdboard user add` can print whole links."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    (folder / "url").write_text(url, "utf-8")


def remembered_url(folder: Path) -> str | None:
    try:
        return (folder / "url").read_text("utf-8").strip() or None
    except OSError:
        return None
