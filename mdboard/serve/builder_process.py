"""The site builder in a process of its own, so the server's threads never wait for a rebuild.

A rebuild after a team action at 10,000 cards takes about a second of CPU (the report and
standup pages most of it). Run on a thread of the server, it held the interpreter's lock
against the threads answering people's actions; run here, it has a process (and a core)
of its own and the server only waits on a pipe. `ProcessBuilder` is the live site's
`Builder`: each call is one message to a child process that holds the real `SiteBuilder`
(`build_all`, or `rebuild` with the changed paths), answered by the early pages as they
are written, then the `BuildReport` or the failure's description.

The child is a fresh interpreter (never a fork: the server has threads) started with the
program `mdboard.cli.builder_child`, which decides the child's process policy (garbage
collection, malloc) as the CLI does for the server. It ends when its pipe closes: when the
server stops, and also when the server is killed, since the kernel closes the server's end.
A child that died is started again with a full build, and a line says so; the pages on disk
stay the last good ones meanwhile. Not `multiprocessing.Process`: its spawn starts a
resource-tracker process as well and runs the server's `__main__` again in the child.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from multiprocessing import Pipe
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Callable

from mdboard.core.config import CONFIG_NAME
from mdboard.core.errors import MdboardError
from mdboard.core.i18n import set_language, t

CHILD_PROGRAM = "mdboard.cli.builder_child"
STOP_WAIT_SECONDS = 5.0  # after its pipe closed, how long a child may take to end before it is killed


class ChildGone(Exception):
    """The builder process ended (or its pipe broke) before it answered."""


def describe_failure(exc: BaseException) -> str:
    """One line for a failed build: the library's message, or the exception type for a bug."""
    if isinstance(exc, MdboardError):
        text = str(exc)
    else:
        text = f"{type(exc).__name__}: {exc}"
    return " ".join(text.split())


class ProcessBuilder:
    """A `Builder` whose `SiteBuilder` lives in a child process (started on the first build).

    `board` is the server's own Board: its config is read again after a build that read
    mdboard.yaml again, as the in-process builder did with the board it shared."""

    def __init__(self, board, out_dir: Path, log: Callable[[str], None]):
        from mdboard.site.builder import check_out_dir

        self.board = board
        self.out_dir = check_out_dir(board, Path(out_dir))  # refuses an output folder that would hold the board
        self.log = log
        self.restarts = 0
        self._closing = False
        self._lock = threading.Lock()  # one call at a time on the pipe
        self._proc: subprocess.Popen | None = None
        self._conn: Connection | None = None

    # --- the Builder protocol ---------------------------------------------------------

    def build_all(self):
        return self._call("build_all", None, None)

    def rebuild(self, changed_paths: set[str], early: Callable[[list[str]], None] | None = None):
        return self._call("rebuild", sorted(changed_paths), early)

    # --- the child --------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        """The builder process's id (None before the first build and after `close`)."""
        return self._proc.pid if self._proc is not None else None

    def close(self) -> None:
        """End the child: its pipe closes, it finishes what it does and exits (killed if it
        takes longer than STOP_WAIT_SECONDS, or if a build still runs after that long: that
        build then fails, and nothing is started again)."""
        self._closing = True
        if self._lock.acquire(timeout=STOP_WAIT_SECONDS):
            try:
                self._end_child()
            finally:
                self._lock.release()
        elif (proc := self._proc) is not None:
            proc.kill()

    def _call(self, kind: str, paths, early):
        with self._lock:
            if self._closing:
                self._end_child()  # one killed by `close` mid-build is waited for here
                raise MdboardError(t("serve.builder_stopping"))
            if self._proc is None:
                self._start_child()
            try:
                report = self._ask(kind, paths, early)
            except ChildGone:
                report, paths = self._restart(), None
            self._follow_config(paths)
            return report

    def _restart(self):
        """After the child ended unasked: a new one builds everything (a line says so; the
        pages on disk stay the last good ones meanwhile)."""
        code = self._end_child()
        if self._closing:
            raise MdboardError(t("serve.builder_stopping"))
        self.restarts += 1
        self.log(t("serve.builder_restarted", code=code))
        self._start_child()
        try:
            return self._ask("build_all", None, None)
        except ChildGone:
            raise MdboardError(t("serve.builder_gone", code=self._end_child())) from None

    def _start_child(self) -> None:
        import mdboard

        ours, theirs = Pipe()
        home = str(Path(mdboard.__file__).resolve().parent.parent)  # this very mdboard, not one in the cwd
        code = "import sys; sys.path[0] = sys.argv[1]; from %s import main; main(sys.argv[2:])" % CHILD_PROGRAM
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-c", code, home, str(theirs.fileno()), str(self.board.root), str(self.out_dir)],
                pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        finally:
            theirs.close()  # the child's end lives in the child alone: its death is an EOF here
        self._conn = ours

    def _ask(self, kind: str, paths, early):
        """Send one request; hand early pages to `early`; the report, or the failure raised."""
        try:
            self._conn.send((kind, paths))
            while True:
                answer, value = self._conn.recv()
                if answer == "early":
                    if early is not None:
                        early(value)
                elif answer == "done":
                    return value
                else:
                    raise BuildFailed(value)
        except (EOFError, OSError) as exc:
            raise ChildGone() from exc

    def _end_child(self) -> int | None:
        """Close the pipe and wait for the child (kill it if it does not end); its exit code."""
        proc, conn = self._proc, self._conn
        self._proc = self._conn = None
        if conn is not None:
            conn.close()
        if proc is None:
            return None
        try:
            return proc.wait(STOP_WAIT_SECONDS)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.wait()

    def _follow_config(self, paths) -> None:
        """After a build that read mdboard.yaml again, the server's Board reads it again too,
        and the server speaks the board's language, as it did when it ran the builder itself."""
        if paths is None or CONFIG_NAME in paths:
            self.board.reload_config()
        try:
            set_language(self.board.config.language)
        except Exception:  # a broken config is the build's to report
            pass


class BuildFailed(MdboardError):
    """A build in the child raised: its one-line description, as the live site logs it."""


# --- in the child -------------------------------------------------------------------------


def serve_builds(fd: int, root: str, out_dir: str) -> None:
    """The child's loop: build on request, answer on the pipe, end when the pipe closes."""
    from mdboard.core.store import Board
    from mdboard.site.builder import SiteBuilder

    conn = Connection(fd)
    board = Board(Path(root))
    try:
        set_language(board.config.language)  # as Board.open does; a broken config is the build's to report
    except Exception:
        pass
    builder = SiteBuilder(board, Path(out_dir))
    while True:
        try:
            kind, paths = conn.recv()
        except (EOFError, OSError):
            return  # the server stopped or died
        try:
            if kind == "build_all":
                answer = ("done", builder.build_all())
            else:
                answer = ("done", builder.rebuild(set(paths), early=lambda written: conn.send(("early", list(written)))))
        except Exception as exc:  # a failed build is the server's to show; the child goes on
            answer = ("failed", describe_failure(exc))
        try:
            conn.send(answer)
        except OSError:
            return
