"""The HTTP side of `mdboard serve`: the output folder over HTTP, reloads over server-sent events.

The reload script and the problem banner are added to HTML responses on the way out,
so the files on disk stay exactly what `mdboard build` writes. Only the output folder
is served; a request outside it, or for a name that is not there, is a 404.
"""

from __future__ import annotations

import errno
import html
import mimetypes
import os
import re
import socket
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from mdboard.core.errors import MdboardError
from mdboard.core.i18n import t
from mdboard.serve.live import Log, LiveSite, _sigterm_as_interrupt, _wait_forever, make_live_site

PING_SECONDS = 10.0  # keep-alive comment on idle event streams (finds closed tabs)
LIVE_PREFIX = "/__mdboard/"
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}


# --- HTTP ----------------------------------------------------------------------------

LIVE_JS = """(function () {
  var me = document.currentScript;
  var version = me ? me.getAttribute("data-version") : "";
  if (!window.EventSource) return;
  var source = new EventSource("/__mdboard/events?v=" + encodeURIComponent(version));
  source.addEventListener("reload", function () { source.close(); location.reload(); });
})();
"""

LIVE_CSS = """#mdboard-live-banner { position: sticky; top: 0; z-index: 2147483647; margin: 0;
  padding: .6em 1em; background: #b00020; color: #fff; font: 15px/1.5 system-ui, sans-serif; }
#mdboard-live-banner p { margin: 0 0 .3em; font-weight: 600; }
#mdboard-live-banner ul { margin: 0; padding-left: 1.2em; }
#mdboard-live-banner code { font: 14px/1.4 ui-monospace, monospace; white-space: pre-wrap;
  word-break: break-all; color: #fff; background: none; }
"""

BODY_OPEN = re.compile(rb"<body\b[^>]*>", re.IGNORECASE)
BODY_CLOSE = re.compile(rb"</body\s*>", re.IGNORECASE)


def inject_live(page: bytes, banner: str, version: str) -> bytes:
    """Add the banner after <body> and the reload script before </body> (served copy only)."""
    head = (f'<link rel="stylesheet" href="{LIVE_PREFIX}live.css">{banner}').encode("utf-8")
    tail = f'<script src="{LIVE_PREFIX}live.js" data-version="{html.escape(version)}"></script>'.encode()
    opening = BODY_OPEN.search(page)
    if opening:
        page = page[:opening.end()] + head + page[opening.end():]
    else:
        page = head + page
    closing = None
    for closing in BODY_CLOSE.finditer(page):
        pass
    if closing:
        return page[:closing.start()] + tail + page[closing.start():]
    return page + tail


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


class _RequestHandler(BaseHTTPRequestHandler):
    """GET/HEAD for the output folder plus the live-reload endpoints; nothing else."""

    server: "_BoardHTTPServer"
    server_version = "mdboard"

    def do_GET(self):
        self._respond(send_body=True)

    def do_HEAD(self):
        self._respond(send_body=False)

    def log_message(self, format, *args):  # requests are not logged to the terminal
        pass

    def _respond(self, send_body: bool) -> None:
        if not self.server.host_allowed(self.headers.get("Host", "")):
            self._error(HTTPStatus.MISDIRECTED_REQUEST, send_body)
            return
        path = urlsplit(self.path).path
        if path.startswith(LIVE_PREFIX):
            self._live(path[len(LIVE_PREFIX):], send_body)
            return
        try:
            target = resolve_request_path(self.server.out_dir, self.path)
        except UnicodeDecodeError:
            target = None
        if target is None:
            self._error(HTTPStatus.NOT_FOUND, send_body)
        elif target.is_dir():
            self._directory(target, path, send_body)
        elif target.is_file():
            self._file(target, send_body)
        else:
            self._error(HTTPStatus.NOT_FOUND, send_body)

    def _directory(self, target: Path, path: str, send_body: bool) -> None:
        """A folder serves its index.html (redirecting to the slash form); never a listing."""
        if not path.endswith("/"):
            clean = [p for p in unquote(path).split("/") if p]
            from urllib.parse import quote

            self.send_response(HTTPStatus.MOVED_PERMANENTLY)
            self.send_header("Location", "/" + "/".join(quote(p) for p in clean) + "/")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        index = target / "index.html"
        if index.is_file():
            self._file(index, send_body)
        else:
            self._error(HTTPStatus.NOT_FOUND, send_body)

    def _file(self, target: Path, send_body: bool) -> None:
        try:
            data = target.read_bytes()
        except OSError:
            self._error(HTTPStatus.NOT_FOUND, send_body)
            return
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if kind == "text/html":
            site = self.server.site
            data = inject_live(data, site.banner_html(), site.version)
        self._send(HTTPStatus.OK, kind, data, send_body)

    def _live(self, name: str, send_body: bool) -> None:
        if name == "events":
            self._events()
        elif name == "live.js":
            self._send(HTTPStatus.OK, "text/javascript", LIVE_JS.encode(), send_body)
        elif name == "live.css":
            self._send(HTTPStatus.OK, "text/css", LIVE_CSS.encode(), send_body)
        else:
            self._error(HTTPStatus.NOT_FOUND, send_body)

    def _events(self) -> None:
        """Server-sent events: `reload` as soon as the site differs from the tab's version."""
        site = self.server.site
        seen = parse_qs(urlsplit(self.path).query).get("v", [""])[0]
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        try:
            self.wfile.write(b"retry: 1000\n\n")
            self.wfile.flush()
            while not site.closing and not self.server.stopping:
                current = site.wait_for_change(seen, PING_SECONDS)
                if site.closing or self.server.stopping:
                    return
                if current != seen:
                    self.wfile.write(f"event: reload\ndata: {current}\n\n".encode())
                    self.wfile.flush()
                    return
                self.wfile.write(b": ping\n\n")
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            return

    def _send(self, status: HTTPStatus, kind: str, data: bytes, send_body: bool) -> None:
        if kind.startswith("text/") or kind in ("application/javascript", "application/json",
                                                "image/svg+xml"):
            kind += "; charset=utf-8"
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-cache")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        if send_body:
            self.wfile.write(data)

    def _error(self, status: HTTPStatus, send_body: bool) -> None:
        text = t("serve.not_found") if status == HTTPStatus.NOT_FOUND else status.phrase
        body = (f"<!doctype html><meta charset=utf-8><title>{status.value}</title>"
                f"<h1>{status.value}</h1><p>{html.escape(text)}</p>").encode("utf-8")
        self._send(status, "text/html", body, send_body)


class _BoardHTTPServer(ThreadingHTTPServer):
    """One thread per request (event streams are long), daemon threads, no reverse DNS."""

    daemon_threads = True

    def __init__(self, address, site: LiveSite, out_dir: Path):
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.site = site
        self.out_dir = Path(out_dir)
        self.stopping = False
        super().__init__(address, _RequestHandler)

    def server_bind(self):
        """Bind without HTTPServer's reverse DNS lookup of the host name."""
        import socketserver

        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def host_allowed(self, header: str) -> bool:
        """On loopback, answer only requests addressed to this computer (no DNS rebinding)."""
        bound = self.server_address[0]
        if bound not in LOOPBACK_NAMES and not bound.startswith("127."):
            return True
        name = header.rsplit(":", 1)[0] if not header.endswith("]") else header
        name = name.strip("[]").lower()
        return name in LOOPBACK_NAMES or name.startswith("127.") or name == bound


class BoardServer:
    """The HTTP side of `serve`: binds at once (so a busy port fails fast), serves in a thread."""

    def __init__(self, site: LiveSite, host: str = "127.0.0.1", port: int = 8000):
        self.site = site
        self.host = host
        try:
            self.httpd = _BoardHTTPServer((host, port), site, site.out_dir)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise MdboardError(t("serve.port_busy", port=port, other=port + 1 if port else 8001))
            raise MdboardError(t("serve.bind_failed", host=host, port=port, error=exc.strerror or exc))
        self.port = self.httpd.server_address[1]
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = self.host
        if host in ("0.0.0.0", "", "::"):
            host = "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}/"

    def start(self) -> None:
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="mdboard-http", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.httpd.stopping = True
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join(timeout=5)
        self.httpd.server_close()



# --- serving -------------------------------------------------------------------------------


def serve_board(board, log: Log, host: str = "127.0.0.1", port: int = 8000, open_browser: bool = False,
                out_dir=None, builder=None) -> None:
    """Build, serve and follow the board until Ctrl-C (or SIGTERM).

    Terminal lines go to `log` (the CLI passes click.echo): the URL, one line per rebuild,
    one per new problem. A busy port raises MdboardError before anything is built.
    """
    site = make_live_site(board, out_dir, log, builder)
    server = BoardServer(site, host, port)
    try:
        with _sigterm_as_interrupt():
            site.start()
            server.start()
            if server.host not in LOOPBACK_NAMES and not server.host.startswith("127."):
                log(t("serve.public_warning", host=server.host))
            log(t("serve.url", url=server.url))
            if open_browser:
                import webbrowser

                threading.Thread(target=webbrowser.open, args=(server.url,), daemon=True).start()
            _wait_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        site.stop()
    log(t("serve.goodbye"))
