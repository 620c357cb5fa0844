"""`mdboard serve` and `mdboard watch`: the site follows every edit on disk.

The board folder is watched with watchdog. Changes are collected until they settle
(an editor's save dance or a `git pull` of hundreds of files gives one rebuild), then
the site builder rebuilds only what those paths touch. `serve` also serves the output
folder over HTTP and tells open tabs to reload through server-sent events; the reload
script and the problem banner are added to HTML responses on the way out, so the
files on disk stay exactly what `mdboard build` writes.

A card broken mid-edit never takes the board down: the builder keeps its last good
pages and reports the problem, which shows as a banner on every served page and as
one line in the terminal until the next good save. A rebuild that raises is logged
in one line and the server keeps going.
"""

from __future__ import annotations

import errno
import html
import mimetypes
import os
import re
import secrets
import socket
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable
from urllib.parse import parse_qs, unquote, urlsplit

import click

from .cli import pass_ctx
from .errors import MdboardError, Problem
from .i18n import t
from .config import CONFIG_NAME
from .store import OUTPUT_DIR

SETTLE_SECONDS = 0.1  # quiet time after the last change before rebuilding
MAX_WAIT_SECONDS = 2.0  # rebuild at the latest this long after the first change of a burst
PING_SECONDS = 10.0  # keep-alive comment on idle event streams (finds closed tabs)
EARLY_PAUSE_SECONDS = 0.05  # after telling tabs, before the rebuild takes the CPU (and GIL) back
MAX_LISTED_PROBLEMS = 10
LIVE_PREFIX = "/__mdboard/"
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}

# Names editors and tools write while saving: vim swap/backup and its `4913` probe,
# emacs locks and autosaves, JetBrains/Kate/gedit/LibreOffice/VS Code temporaries.
# Names starting with "." are ignored as a whole (covers .git, .mdboard, .x.swp, .#x).
EDITOR_TEMP = re.compile(
    r"(~|\.sw[a-z]|\.tmp|\.temp|\.bak|\.orig|\.kate-swp|\.crswap|___jb_(tmp|old)___)$"
    r"|^(4913|#.*#|\.?~lock\..*#?)$|^\.goutputstream-"
)

Log = Callable[[str], None]


def ignored_name(name: str) -> bool:
    """True for hidden files and folders and for editors' temporary files."""
    return name.startswith(".") or bool(EDITOR_TEMP.search(name))


class PathFilter:
    """Turns absolute paths from the watcher into board-relative ones, or None to ignore.

    Ignored: the output folder, anything hidden (.git, .mdboard, dot-temp files),
    editors' temporaries, and paths outside the board.
    """

    def __init__(self, root: Path, out_dir: Path):
        self.roots = list(_spellings(root))
        self.outs = list(_spellings(out_dir))

    def relative(self, path: str) -> str | None:
        for spelling in _spellings(path):
            if any(_inside(spelling, out) for out in self.outs):
                return None
            for root in self.roots:
                if _inside(spelling, root) and spelling != root:
                    parts = spelling[len(root.rstrip(os.sep)) + 1:].split(os.sep)
                    return None if any(ignored_name(part) for part in parts) else "/".join(parts)
        return None


def _spellings(path):
    """A path as given (made absolute), then - only if asked for - with symlinks resolved."""
    plain = os.path.abspath(path)
    yield plain
    real = os.path.realpath(plain)
    if real != plain:
        yield real


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def file_stamps(root: Path, keep: PathFilter) -> dict[str, tuple[int, int]]:
    """(mtime, size) of every file of the board that a change of counts (not output, not hidden)."""
    stamps = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if keep.relative(os.path.join(folder, d))]
        for name in files:
            if ignored_name(name):
                continue
            path = os.path.join(folder, name)
            try:
                st = os.stat(path, follow_symlinks=False)
            except OSError:
                continue
            stamps[path] = (st.st_mtime_ns, st.st_size)
    return stamps


def stamp_changes(before: dict, after: dict) -> set[str]:
    """Paths added, removed or modified between two `file_stamps` snapshots."""
    return {path for path in before.keys() | after.keys() if before.get(path) != after.get(path)}


class LiveSite:
    """The builder kept in step with the board folder: watch, debounce, rebuild, report.

    `version` changes whenever what a reader sees may have changed (pages rewritten,
    problems found or fixed, a rebuild failed); the server's event stream waits on it.
    """

    def __init__(self, board, builder, out_dir: Path, log: Log, settle: float = SETTLE_SECONDS,
                 max_wait: float = MAX_WAIT_SECONDS):
        self.board = board
        self.builder = builder
        self.out_dir = Path(out_dir)
        self.log = log
        self.settle = settle
        self.max_wait = max_wait
        self.filter = PathFilter(board.root, self.out_dir)
        self._type_keys = self._current_type_keys(frozenset())
        self.rebuilds = 0
        self.problems: list[Problem] = []
        self.failure = ""
        self._session = secrets.token_hex(4)
        self._serial = 0
        self._cond = threading.Condition()  # guards the pending changes
        self._changed = threading.Condition()  # signals a new version to event streams
        self._pending: set[str] = set()
        self._first = self._last = 0.0
        self._closing = False
        self._observer = None
        self._thread: threading.Thread | None = None

    # --- the reader's view --------------------------------------------------------

    @property
    def version(self) -> str:
        """Changes on every visible change; differs between server runs too."""
        return f"{self._session}-{self._serial}"

    def wait_for_change(self, seen: str, timeout: float) -> str:
        """Block until `version` differs from `seen`, the site closes, or `timeout` passes."""
        with self._changed:
            self._changed.wait_for(lambda: self.version != seen or self._closing, timeout)
            return self.version

    @property
    def closing(self) -> bool:
        return self._closing

    # --- life cycle ---------------------------------------------------------------

    def start(self) -> None:
        """Build everything once, then watch and rebuild after each burst of changes.

        The first build runs before any thread starts (the builder may then share the
        work with forked processes); files saved meanwhile are caught up right after.
        """
        before = file_stamps(self.board.root, self.filter)
        started = time.perf_counter()
        report = self.builder.build_all()
        self.log(t("serve.built", pages=report.pages, seconds=_seconds(time.perf_counter() - started)))
        self._take_problems(report.problems)
        self._start_observer()
        self._thread = threading.Thread(target=self._run, name="mdboard-rebuild", daemon=True)
        self._thread.start()
        self.notice(stamp_changes(before, file_stamps(self.board.root, self.filter)))

    def stop(self) -> None:
        """Stop watching and rebuilding; wakes every waiting event stream."""
        for cond in (self._cond, self._changed):
            with cond:
                self._closing = True
                cond.notify_all()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=5)
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _start_observer(self) -> None:
        from watchdog import events
        from watchdog.observers import Observer

        kinds = [events.FileCreatedEvent, events.FileModifiedEvent, events.FileDeletedEvent,
                 events.FileMovedEvent, events.FileClosedEvent, events.DirCreatedEvent,
                 events.DirDeletedEvent, events.DirMovedEvent]
        self._observer = Observer()
        self._observer.schedule(_Handler(self), str(self.board.root), recursive=True, event_filter=kinds)
        self._observer.daemon = True
        self._observer.start()

    # --- changes ------------------------------------------------------------------

    def notice(self, paths) -> None:
        """Record changed absolute paths (from the watcher); ignored ones are dropped.

        Only mdboard.yaml and the card type folders make the site: a log file or a
        README saved in the board folder (say `mdboard serve > serve.log`) is ignored.
        """
        rels = {rel for rel in map(self.filter.relative, paths) if rel and self._counts(rel)}
        if not rels:
            return
        with self._cond:
            now = time.monotonic()
            if not self._pending:
                self._first = now
            self._pending |= rels
            self._last = now
            self._cond.notify_all()

    def _counts(self, rel: str) -> bool:
        return rel == CONFIG_NAME or rel.split("/", 1)[0] in self._type_keys

    def _current_type_keys(self, fallback: frozenset) -> frozenset:
        """The card type folders of the board's config, or `fallback` while it is broken."""
        try:
            return frozenset(self.board.config.types)
        except Exception:  # a broken config is the builder's to report; keep watching
            return fallback

    def _next_batch(self) -> set[str] | None:
        """Wait for changes, then until they settle; the set of changed paths (None: closing)."""
        with self._cond:
            self._cond.wait_for(lambda: self._pending or self._closing)
            while not self._closing:
                wake = min(self._last + self.settle, self._first + self.max_wait)
                left = wake - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            if self._closing:
                return None
            batch, self._pending = self._pending, set()
            return batch

    def _run(self) -> None:
        while (batch := self._next_batch()) is not None:
            self.rebuild(batch)

    def rebuild(self, paths: set[str]) -> None:
        """Rebuild for these board-relative paths; failures are logged, never raised.

        Open tabs are told to reload as soon as the changed cards' own pages and boards
        are written (when the builder can say so), and again at the end only if more
        pages changed. `rebuilds` counts finished rebuilds: it moves after the lines and
        the banner.
        """
        started = time.perf_counter()
        told: set[str] = set()

        def early(written: list[str]) -> None:
            if written:
                told.update(written)
                self._bump()
                time.sleep(EARLY_PAUSE_SECONDS)  # the server threads serve the reloads first

        try:
            if getattr(self.builder, "early_pages", False):
                report = self.builder.rebuild(paths, early=early)
            else:
                report = self.builder.rebuild(paths)
        except Exception as exc:  # a rebuild must never stop the server
            self._type_keys = self._current_type_keys(self._type_keys)
            self.failure = _describe(exc)
            self.log(t("serve.rebuild_failed", error=self.failure))
            self._bump()
            self.rebuilds += 1
            return
        self._type_keys = self._current_type_keys(self._type_keys)
        was_failing, self.failure = self.failure, ""
        self.log(t("serve.rebuilt", files=len(paths), pages=len(report.written),
                   seconds=_seconds(time.perf_counter() - started)))
        changed = self._take_problems(report.problems)
        if set(report.written) - told or changed or was_failing:
            self._bump()
        self.rebuilds += 1

    def _take_problems(self, problems: list[Problem]) -> bool:
        """Adopt the builder's current problems (the banner follows at once, and always shows
        the latest message); the terminal gets one line when a file turns bad and one when
        it is fixed, however often it is saved in between. True when the problems changed."""
        before = {p.line() for p in self.problems}
        bad_before = {p.path for p in self.problems}
        fixed = sorted(bad_before - {p.path for p in problems})
        self.problems = list(problems)
        new, seen = [], set(bad_before)
        for problem in problems:  # the first problem of each newly bad file
            if problem.path not in seen:
                seen.add(problem.path)
                new.append(problem)
        for problem in new[:MAX_LISTED_PROBLEMS]:
            self.log(t("serve.problem", line=problem.line()))
        if len(new) > MAX_LISTED_PROBLEMS:
            self.log(t("serve.problems_more", count=len(new) - MAX_LISTED_PROBLEMS))
        for path in fixed:
            self.log(t("serve.fixed", path=path))
        after = {p.line() for p in problems}
        return before != after

    def _bump(self) -> None:
        with self._changed:
            self._serial += 1
            self._changed.notify_all()

    # --- what the server adds to HTML pages -----------------------------------------

    def banner_html(self) -> str:
        """The problem banner (empty when all is well); every card text is escaped."""
        if not self.problems and not self.failure:
            return ""
        items = []
        if self.failure:
            items.append(f"<p>{html.escape(t('serve.banner_failed', error=self.failure))}</p>")
        if self.problems:
            lines = "".join(f"<li><code>{html.escape(p.line())}</code></li>"
                            for p in self.problems[:MAX_LISTED_PROBLEMS])
            more = len(self.problems) - MAX_LISTED_PROBLEMS
            if more > 0:
                lines += f"<li>{html.escape(t('serve.banner_more', count=more))}</li>"
            title = html.escape(t("serve.banner_title", count=len(self.problems)))
            items.append(f"<p>{title}</p><ul>{lines}</ul>")
        return f'<div id="mdboard-live-banner" role="alert">{"".join(items)}</div>'


class _Handler:
    """watchdog event handler: hands every changed path to the LiveSite."""

    def __init__(self, site: LiveSite):
        self.site = site

    def dispatch(self, event) -> None:
        paths = [os.fsdecode(event.src_path)]
        if getattr(event, "dest_path", ""):
            paths.append(os.fsdecode(event.dest_path))
        self.site.notice(paths)


def _describe(exc: BaseException) -> str:
    """One line for a failed rebuild: the library's message, or the exception type for a bug."""
    if isinstance(exc, MdboardError):
        text = str(exc)
    else:
        text = f"{type(exc).__name__}: {exc}"
    return " ".join(text.split())


def _seconds(value: float) -> str:
    return f"{value:.2f}"


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


# --- the blocking entry points ---------------------------------------------------------


def default_out_dir(board, out_dir=None) -> Path:
    return Path(out_dir).resolve() if out_dir else board.root / OUTPUT_DIR


def make_live_site(board, out_dir=None, log: Log | None = None, builder=None) -> LiveSite:
    """A LiveSite over the real SiteBuilder (or `builder`, which must offer build_all/rebuild)."""
    out = default_out_dir(board, out_dir)
    if builder is None:
        from .site import SiteBuilder

        builder = SiteBuilder(board, out)  # refuses an output folder that would hold the board
    return LiveSite(board, builder, getattr(builder, "out_dir", out), log or click.echo)


def serve_board(board, host: str = "127.0.0.1", port: int = 8000, open_browser: bool = False,
                out_dir=None, log: Log | None = None, builder=None) -> None:
    """Build, serve and follow the board until Ctrl-C (or SIGTERM).

    Terminal lines go to `log` (default: click.echo): the URL, one line per rebuild,
    one per new problem. A busy port raises MdboardError before anything is built.
    """
    log = log or click.echo
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


def watch_board(board, out_dir=None, log: Log | None = None, builder=None) -> None:
    """Build once, then rebuild after every burst of changes until Ctrl-C (no HTTP server)."""
    log = log or click.echo
    site = make_live_site(board, out_dir, log, builder)
    try:
        with _sigterm_as_interrupt():
            site.start()
            log(t("serve.watching", root=board.root, out=site.out_dir))
            _wait_forever()
    except KeyboardInterrupt:
        pass
    finally:
        site.stop()
    log(t("serve.goodbye"))


def _wait_forever() -> None:
    """Sleep in the main thread until Ctrl-C (lock waits are interruptible on POSIX)."""
    forever = threading.Event()
    while True:
        forever.wait(3600)


class _sigterm_as_interrupt:
    """Within the block, SIGTERM stops the command like Ctrl-C (main thread only)."""

    def __enter__(self):
        import signal

        self._old = None
        if threading.current_thread() is threading.main_thread():
            self._old = signal.signal(signal.SIGTERM, _raise_interrupt)
        return self

    def __exit__(self, *exc):
        import signal

        if self._old is not None:
            signal.signal(signal.SIGTERM, self._old)
        return False


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


# --- the commands ------------------------------------------------------------------------


def _output_option(f):
    return click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False), default=None,
                        help=t("serve.help_output"))(f)


@click.command(help=t("cli.help_serve"))
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help=t("serve.help_port"))
@click.option("--host", default="127.0.0.1", show_default=True, help=t("serve.help_host"))
@click.option("--open", "open_browser", is_flag=True, help=t("serve.help_open"))
@_output_option
@pass_ctx
def serve_command(ctx, port, host, open_browser, out_dir):
    serve_board(ctx.board, host=host, port=port, open_browser=open_browser, out_dir=out_dir)


@click.command(help=t("cli.help_watch"))
@_output_option
@pass_ctx
def watch_command(ctx, out_dir):
    watch_board(ctx.board, out_dir=out_dir)
