"""The HTTP side of `mdboard serve`: the built site, live, on Starlette + uvicorn.

One asyncio event loop serves every connection (an idle connection costs a socket,
not a thread, and one that sends nothing is closed after `IDLE_SECONDS`). Pages are
the files `mdboard build` writes, read from the output folder; HTML responses get
the live parts added on the way out (the problem banner, the live-update script and,
in team mode, what `team.py` adds), so the files on disk stay exactly what `build`
wrote. Every response carries the security headers; every request must name this
server in its Host header (exactly: no DNS rebinding through `127.0.0.1.evil.example`).
Open tabs follow changes through one server-sent event stream each, fed by a single
relay thread that waits on the LiveSite.
"""

from __future__ import annotations

import asyncio
import errno
import html
import json
import mimetypes
import os
import socket
import sys
import threading
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable
from urllib.parse import quote, unquote, urlsplit

from mdboard.core.errors import MdboardError
from mdboard.core.i18n import t
from mdboard.serve.hosts import HostCheck, host_name, is_loopback
from mdboard.serve.live import Log, _sigterm_as_interrupt, _wait_forever, make_live_site, quiet_when_gone
from mdboard.serve.memory import tune_malloc
from mdboard.serve.pages import LIVE_PREFIX, STATIC_DIR, STATIC_PREFIX, Extras, PageHook, error_page, inject

PING_SECONDS = 10.0  # a comment on idle event streams (finds closed tabs)
IDLE_SECONDS = 10.0  # a connection that sends no request for this long is closed
MAX_CONNECTIONS = 4000  # beyond this, new requests get 503 (the event loop stays responsive)
TEAM_REBUILD_REST = 1.0  # team mode: the site rebuilds at most half the time while actions keep coming
CARD_EVENTS_KEPT = 200  # recent team actions a slow stream can still catch up on
# team mode: how long a thread may hold the GIL while another waits for it (Python's default
# is 5 ms). A team action gives the GIL up at each git command it runs and waits for it back
# each time; while the site rebuilds in the same process, 5 ms per wait made an action ~3x
# slower (0.2 s -> 0.6 s on the loaded 2-core box; 0.3 s with 0.5 ms)
TEAM_SWITCH_INTERVAL = 0.0005

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; "
       "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
]

# --- what every response gets ------------------------------------------------------------


class Guard:
    """ASGI middleware: refuse requests for other host names (421, nothing else runs),
    and add the security headers to every response."""

    def __init__(self, app, hosts: HostCheck):
        self.app = app
        self.hosts = hosts

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), "")
        if not self.hosts.allows(host):
            body = error_page(421, t("web.wrong_host", host=host[:100], names=", ".join(sorted(self.hosts.names))))
            await _plain_response(send, 421, body)
            return

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in SECURITY_HEADERS if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _plain_response(send, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(body)).encode()),
               (b"cache-control", b"no-store")] + SECURITY_HEADERS
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


# --- the built files ----------------------------------------------------------------------


def resolve_request_path(out_dir: Path, url_path: str) -> Path | None:
    """The file or folder a URL path names inside `out_dir`, or None if it would leave it.

    Refuses `..` (also percent-encoded), backslashes, NUL bytes and anything that
    resolves — symlinks included — outside the output folder.
    """
    raw = unquote(urlsplit(url_path).path, errors="strict")
    if "\\" in raw or "\x00" in raw:
        return None
    parts = [part for part in raw.split("/") if part not in ("", ".")]
    if any(part == ".." for part in parts):
        return None
    root = os.path.realpath(out_dir)
    target = os.path.realpath(os.path.join(root, *parts))
    if target != root and not target.startswith(root + os.sep):
        return None
    return Path(target)


def live_extras(site) -> Extras:
    """The problem banner, the live stylesheet and the live-update scripts."""
    head = f'<link rel="stylesheet" href="{STATIC_PREFIX}live.css">{site.banner_html()}'
    tail = (f'<script src="{STATIC_PREFIX}vendor/idiomorph.min.js"></script>'
            f'<script src="{STATIC_PREFIX}live.js" data-version="{html.escape(site.version)}"></script>')
    return Extras(head, tail)


# --- live updates --------------------------------------------------------------------------


class Hub:
    """Tells every open event stream that the site changed, and what a team action did.

    One relay thread waits on the LiveSite and hands each new version to the event
    loop; streams wait on an asyncio.Event, so a thousand open tabs cost no thread.
    Team actions add a `card` event the moment their commit is made (`card_changed`),
    long before the site is rebuilt: every open kanban moves the tile at once.
    """

    def __init__(self, site):
        self.site = site
        self.version = site.version
        self.closing = False
        self.cards: deque = deque(maxlen=CARD_EVENTS_KEPT)  # (serial, JSON text) of recent team actions
        self.card_serial = 0
        self._event: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._event = asyncio.Event()
        self._thread = threading.Thread(target=self._relay, name="mdboard-events", daemon=True)
        self._thread.start()

    def _relay(self) -> None:
        seen = self.version
        while not self.closing and not self.site.closing:
            seen = self.site.wait_for_change(seen, PING_SECONDS)
            if seen != self.version:
                self._call(self._publish, seen)
        self._call(self._close)

    def _call(self, fn, *args) -> None:
        try:
            self._loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:  # the loop is already closed
            pass

    def _wake(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    def _publish(self, version: str) -> None:
        self.version = version
        self._wake()

    def card_changed(self, event: dict) -> None:
        """Send `event` (a card's id, type and state after a committed action) to every open
        page now (event loop thread). Pages that missed it catch up with the next `change`."""
        if self._event is None or self.closing:
            return
        self.card_serial += 1
        self.cards.append((self.card_serial, json.dumps(event, ensure_ascii=False)))
        self._wake()

    def cards_after(self, serial: int) -> list[tuple[int, str]]:
        return [item for item in self.cards if item[0] > serial]

    def _close(self) -> None:
        self.closing = True
        if self._event is not None:
            self._event.set()

    def close(self) -> None:
        """Wake and end every stream (called from any thread)."""
        self.closing = True
        if self._loop is not None:
            self._call(self._close)

    async def wait(self, seen: str, card_seen: int, timeout: float) -> str:
        """The current version once it differs from `seen` or a card event newer than
        `card_seen` came, or after `timeout` seconds."""
        if self.version != seen or self.card_serial != card_seen or self.closing:
            return self.version
        event = self._event
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except asyncio.TimeoutError:
            pass
        return self.version


# --- the application ------------------------------------------------------------------------


@dataclass
class SiteApp:
    """The Starlette application of `serve`: static pages + live updates (+ what a mode adds).

    `routes` come before the catch-all page route (team mode adds its actions there);
    `page_hook` adds per-request markup to HTML pages (the signed-in bar, a card's panel);
    `gate` may answer a request instead of the page (team mode: "sign in first").
    """

    site: object
    hosts: HostCheck
    routes: list = field(default_factory=list)
    page_hook: PageHook | None = None
    gate: Callable | None = None
    middleware: list = field(default_factory=list)
    exception_handlers: dict = field(default_factory=dict)  # exception class -> answer (team mode)

    def build(self):
        from starlette.applications import Starlette
        from starlette.routing import Route

        self.hub = Hub(self.site)
        routes = [Route("/favicon.ico", no_content, methods=["GET", "HEAD"]),
                  Route(LIVE_PREFIX + "events", self.events),
                  Route(STATIC_PREFIX + "{name:path}", self.static, methods=["GET", "HEAD"]),
                  *self.routes,
                  Route("/{path:path}", self.page, methods=["GET", "HEAD"])]
        app = Starlette(routes=routes, middleware=self.middleware, lifespan=self._lifespan,
                        exception_handlers=self.exception_handlers)
        guard = Guard(app, self.hosts)
        guard.hub = self.hub  # the server closes it first on stop, so open streams end at once
        return guard

    def _lifespan(self, app):
        import contextlib

        @contextlib.asynccontextmanager
        async def span(app):
            self.hub.start(asyncio.get_running_loop())
            yield
            self.hub.close()

        return span(app)

    async def page(self, request):
        from starlette.concurrency import run_in_threadpool
        from starlette.responses import RedirectResponse, Response

        if self.gate is not None:
            answer = self.gate(request)
            if answer is not None:
                return answer
        raw = request.scope.get("raw_path") or request.scope["path"].encode()
        try:
            target = resolve_request_path(self.site.out_dir, raw.decode("latin-1"))
        except UnicodeDecodeError:
            target = None
        if target is None:
            return not_found()
        if target.is_dir():
            path = request.scope["path"]
            if not path.endswith("/"):
                clean = [p for p in path.split("/") if p]
                return RedirectResponse("/" + "/".join(quote(p) for p in clean) + "/", status_code=301)
            target = target / "index.html"
        try:
            data = await run_in_threadpool(target.read_bytes)
        except OSError:  # missing, a folder without index.html, unreadable
            return not_found()
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if kind == "text/html":
            data = await self.decorate(request, data, target)
        return Response(data, media_type=kind, headers={"Cache-Control": "no-cache"})

    async def decorate(self, request, data: bytes, target: Path) -> bytes:
        """The page with the live parts (and the mode's parts) added."""
        extras = live_extras(self.site)
        if self.page_hook is not None:
            rel = os.path.relpath(target, os.path.realpath(self.site.out_dir)).replace(os.sep, "/")
            more = await self.page_hook(request, rel)
            if more is not None:
                extras = Extras(extras.head + more.head, more.tail + extras.tail, more.after_title)
        return inject(data, extras.head, extras.tail, extras.after_title)

    async def static(self, request):
        from starlette.responses import Response

        name = request.path_params["name"]
        path = STATIC_DIR / name
        if not _static_name_ok(name) or not path.is_file():
            return not_found()
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return Response(path.read_bytes(), media_type=kind, headers={"Cache-Control": "no-cache"})

    async def events(self, request):
        """Server-sent events: `change` whenever the site differs from the tab's version."""
        from starlette.responses import StreamingResponse

        if self.gate is not None and (answer := self.gate(request)) is not None:
            return answer
        seen = request.query_params.get("v", "")
        hub = self.hub
        card_seen = hub.card_serial  # a page hears of the team actions made after it opened its stream

        async def stream():
            nonlocal seen, card_seen
            yield "retry: 1000\n\n"
            while not hub.closing:
                current = await hub.wait(seen, card_seen, PING_SECONDS)
                if hub.closing:
                    return
                news = hub.cards_after(card_seen)
                for card_seen, data in news:
                    yield f"event: card\ndata: {data}\n\n"
                if current != seen:
                    seen = current
                    yield f"event: change\ndata: {current}\n\n"
                elif not news:
                    card_seen = hub.card_serial
                    yield ": ping\n\n"

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


async def no_content(request):
    """The site has no icon; say so without an error in the browser's console."""
    from starlette.responses import Response

    return Response(status_code=204)


def _static_name_ok(name: str) -> bool:
    parts = name.split("/")
    return all(part and not part.startswith(".") and part != ".." for part in parts)


def not_found():
    from starlette.responses import Response

    return Response(error_page(404, t("serve.not_found")), status_code=404, media_type="text/html")


# --- the server -------------------------------------------------------------------------------


def _protocol_class():
    """uvicorn's h11 protocol, with the idle timer started when a connection opens (uvicorn
    starts it only after a first response, so a connection that never sends would stay)."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class IdleClosingH11(H11Protocol):
        def connection_made(self, transport):
            super().connection_made(transport)
            self.timeout_keep_alive_task = self.loop.call_later(self.timeout_keep_alive,
                                                                self.timeout_keep_alive_handler)

    return IdleClosingH11


def bind(host: str, port: int) -> socket.socket:
    """A listening socket, or MdboardError naming the busy port (before anything is built)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise MdboardError(t("serve.port_busy", port=port, other=port + 1 if port else 8001))
        raise MdboardError(t("serve.bind_failed", host=host, port=port, error=exc.strerror or exc))
    sock.setblocking(False)
    return sock


class BoardServer:
    """uvicorn serving an ASGI app on its own event-loop thread; binds at once."""

    def __init__(self, site, host: str = "127.0.0.1", port: int = 8000, app=None, names: Iterable[str] = (),
                 idle_seconds: float = IDLE_SECONDS):
        self.site = site
        self.host = host
        self.idle_seconds = idle_seconds  # a connection that sends no request for this long is closed
        self.sock = bind(host, port)
        self.port = self.sock.getsockname()[1]
        names = list(names)
        self.hosts = HostCheck(host, names)
        self.names = [n for n in (host_name(name) for name in names) if n]
        self.app = app if app is not None else SiteApp(site, self.hosts).build()
        self._server = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = self.host
        if host in ("0.0.0.0", "", "::"):
            host = "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}/"

    @property
    def shared_url(self) -> str | None:
        """The address the others on the network open: the first `--name`, else the address
        bound to; None when only this computer can reach the server (or, bound to every
        interface without `--name`, when there is no one address to tell)."""
        if is_loopback(self.host):
            return None
        host = self.names[0] if self.names else self.host
        if host in ("0.0.0.0", "", "::"):
            return None
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}/"

    def start(self) -> None:
        import uvicorn

        config = uvicorn.Config(self.app, http=_protocol_class(), ws="none", lifespan="on", log_config=None,
                                log_level="warning", access_log=False, timeout_keep_alive=self.idle_seconds,
                                limit_concurrency=MAX_CONNECTIONS, timeout_graceful_shutdown=3,
                                proxy_headers=True, forwarded_allow_ips="127.0.0.1", server_header=False)
        self._server = uvicorn.Server(config)
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), name="mdboard-http", daemon=True)
        self._thread.start()
        ready.wait(30)

    def _run(self, ready: threading.Event) -> None:
        async def main():
            task = asyncio.create_task(self._server.serve(sockets=[self.sock]))
            while not self._server.started and not task.done():
                await asyncio.sleep(0.01)
            ready.set()
            await task

        asyncio.run(main())
        ready.set()

    def stop(self) -> None:
        hub = getattr(self.app, "hub", None)
        if hub is not None:
            hub.close()
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.sock.close()


# --- the blocking entry point ------------------------------------------------------------------


def make_server(board, site, host: str, port: int, log: Log, team: bool = False, names: Iterable[str] = (),
                accounts=None):
    """The server for `site`: read-only, or the team board. Refuses (MdboardError) to open the
    team board beyond this computer without accounts, and a busy port, before anything runs."""
    names = list(names)
    log = quiet_when_gone(log)
    if not team:
        return BoardServer(site, host, port, names=names), None
    from mdboard.serve.team import TeamBoard

    team_board = TeamBoard(board.root, site, host, log, accounts)
    team_board.check_can_start()
    hosts = HostCheck(host, names)
    app = SiteApp(site, hosts, routes=team_board.routes(), page_hook=team_board.page_hook, gate=team_board.gate,
                  middleware=team_board.middleware(), exception_handlers=team_board.exception_handlers()).build()
    team_board.hub = app.hub
    site.rest = TEAM_REBUILD_REST
    return BoardServer(site, host, port, app=app, names=names), team_board


def serve_board(board, log: Log, host: str = "127.0.0.1", port: int = 8000, open_browser: bool = False,
                out_dir=None, builder=None, team: bool = False, names: Iterable[str] = (),
                sync_every: float | None = None) -> None:
    """Build, serve and follow the board until Ctrl-C (or SIGTERM): read-only, or the team
    board with `team`. Terminal lines go to `log`: the URL and the mode, one line per
    rebuild and per new problem (and per team action). A busy port, a team board beyond
    this computer without accounts, or `sync_every` without a remote raise MdboardError
    before anything is built."""
    if sync_every and not team:
        raise MdboardError(t("web.sync_needs_team"))
    tune_malloc()  # before any thread starts: a server's memory stays flat (serve/memory.py)
    log = quiet_when_gone(log)
    site = make_live_site(board, out_dir, log, builder)
    server, team_board = make_server(board, site, host, port, log, team, names)
    syncer = None
    if sync_every:
        from mdboard.serve.syncloop import SyncLoop

        syncer = SyncLoop(board.root, site, sync_every, log)
        syncer.check()
    switch = sys.getswitchinterval()
    try:
        if team:
            sys.setswitchinterval(TEAM_SWITCH_INTERVAL)
        with _sigterm_as_interrupt():
            site.start()
            server.start()
            _announce(server, team_board, log)
            if syncer is not None:
                syncer.start()
            if open_browser:
                import webbrowser

                threading.Thread(target=webbrowser.open, args=(server.url,), daemon=True).start()
            _wait_forever()
    except KeyboardInterrupt:
        pass
    finally:
        if syncer is not None:
            syncer.stop()
        server.stop()
        if team_board is not None:
            team_board.close()
        site.stop()
        sys.setswitchinterval(switch)
    log(t("serve.goodbye"))


def _announce(server, team_board, log: Log) -> None:
    if not is_loopback(server.host):
        log(t("serve.public_warning", host=server.host))
    log(t("serve.url", url=server.url))
    if team_board is None:
        log(t("web.mode_read_only"))
        return
    shared = server.shared_url
    if shared:
        log(t("web.shared_url", url=shared))
    team_board.announced(shared or server.url)  # the address `mdboard user add` puts in its links
    if team_board.accounts.any():
        log(t("web.mode_accounts", n=len(team_board.accounts.people())))
    else:
        log(t("web.mode_local", name=team_board.visitor_name()))
    if not is_loopback(server.host):
        log(t("web.names", names=", ".join(sorted(server.hosts.names))))
