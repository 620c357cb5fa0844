"""The team board's door: signed session cookies, CSRF checks and the sign-in rate limit.

A session is a cookie signed with itsdangerous (the key never leaves the server's
private folder): it holds the signed-in person, their account generation and the
session's CSRF token. It is HttpOnly, SameSite=Lax, and Secure when the request came
over HTTPS. Every write must bring that CSRF token (form field `csrf` or header
`X-CSRF-Token`) and, when the browser names one, an Origin (or Referer) of this very
server: a page elsewhere can neither read the token nor pass the origin check.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections import OrderedDict, deque
from urllib.parse import urlsplit

COOKIE = "mdboard_session"
MAX_AGE = 30 * 24 * 3600  # a session lasts 30 days
SALT = "mdboard-session"


class Session(dict):
    """The session's data; `changed` makes the response carry a new cookie."""

    changed = False

    def update_with(self, **values) -> None:
        self.update(values)
        self.changed = True

    def reset(self, **values) -> None:
        """A new session (after signing in or out): a fresh CSRF token, nothing else kept."""
        self.clear()
        self.update(values, csrf=secrets.token_urlsafe(32))
        self.changed = True

    @property
    def csrf(self) -> str:
        token = self.get("csrf")
        if not token:
            token = self["csrf"] = secrets.token_urlsafe(32)
            self.changed = True
        return token


class Sessions:
    """ASGI middleware: the session cookie read into `scope["mdboard.session"]`, written back
    (signed) on the response when it changed."""

    def __init__(self, app, key: bytes):
        from itsdangerous import URLSafeTimedSerializer

        self.app = app
        self.serializer = URLSafeTimedSerializer(key, salt=SALT)

    def load(self, cookie: str | None) -> Session:
        from itsdangerous import BadData

        if cookie:
            try:
                data = self.serializer.loads(cookie, max_age=MAX_AGE)
                if isinstance(data, dict):
                    return Session(data)
            except BadData:
                pass
        return Session()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        session = self.load(_cookie(scope, COOKIE))
        scope["mdboard.session"] = session

        async def send_with_cookie(message):
            if message["type"] == "http.response.start" and session.changed:
                secure = "; Secure" if scope.get("scheme") == "https" else ""
                value = self.serializer.dumps(dict(session))
                cookie = f"{COOKIE}={value}; Path=/; Max-Age={MAX_AGE}; HttpOnly; SameSite=Lax{secure}"
                message = {**message, "headers": list(message.get("headers", [])) + [
                    (b"set-cookie", cookie.encode("latin-1")), (b"vary", b"Cookie")]}
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def _cookie(scope, name: str) -> str | None:
    from http.cookies import SimpleCookie

    for key, value in scope["headers"]:
        if key == b"cookie":
            jar = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed Cookie header is no session
                return None
            if name in jar:
                return jar[name].value
    return None


def session_of(request) -> Session:
    return request.scope["mdboard.session"]


def same_origin(request) -> bool:
    """The browser's Origin (else Referer), when it sends one, is this server itself.

    The Host header was already checked against the server's names, so it is the
    origin the page was loaded from."""
    own = f"{request.url.scheme}://{request.headers.get('host', '')}".lower()
    origin = request.headers.get("origin")
    if origin is not None:
        return origin.lower() == own
    referer = request.headers.get("referer")
    if referer:
        parts = urlsplit(referer)
        return f"{parts.scheme}://{parts.netloc}".lower() == own
    return True


def csrf_ok(request, sent: str | None) -> bool:
    """The token the request brought equals the session's (and it has one)."""
    token = session_of(request).get("csrf")
    return bool(token and sent) and hmac.compare_digest(str(token), str(sent))


class Throttle:
    """At most `limit` failures per `window` seconds per key (a name, an address).

    Keeps at most `max_keys` keys (the oldest go first), so a flood of made-up names
    cannot grow it without bound."""

    def __init__(self, limit: int, window: float, max_keys: int = 10_000, clock=time.monotonic):
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self.clock = clock
        self._failures: OrderedDict[str, deque] = OrderedDict()

    def wait(self, key: str) -> float:
        """Seconds until `key` may try again (0: now)."""
        times = self._recent(key)
        if len(times) < self.limit:
            return 0.0
        return max(0.0, times[0] + self.window - self.clock())

    def fail(self, key: str) -> None:
        times = self._recent(key)
        times.append(self.clock())
        self._failures[key] = times
        self._failures.move_to_end(key)
        while len(self._failures) > self.max_keys:
            self._failures.popitem(last=False)

    def reset(self, key: str) -> None:
        self._failures.pop(key, None)

    def _recent(self, key: str) -> deque:
        times = self._failures.get(key, deque())
        cutoff = self.clock() - self.window
        while times and times[0] <= cutoff:
            times.popleft()
        return times
