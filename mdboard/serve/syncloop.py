"""`mdboard serve --team --sync-every N`: the board server pulls and pushes on its own.

Every N seconds a thread runs the same `sync()` as `mdboard sync` (fetch, put local
commits on top, check, push). It takes the board lock like any change, so web actions
wait for it and never mix with it. What comes in reaches the pages through the file
watcher, like a `git pull` would. A sync that stops (a conflict, a blocked push, an
unreachable remote) is shown in the banner of every page and in one terminal line,
with sync's own message; the loop keeps trying, and web actions keep committing
locally meanwhile, so nothing is lost.
"""

from __future__ import annotations

import threading
from pathlib import Path

from mdboard.core.errors import MdboardError, os_error_message
from mdboard.core.i18n import t


class SyncLoop:
    def __init__(self, root: Path, site, every: float, log):
        self.root = Path(root)
        self.site = site
        self.every = float(every)
        self.log = log
        self.trouble: list[str] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def check(self) -> None:
        """Refuse to start without a remote to sync with."""
        from mdboard.git.changes import GitRepo
        from mdboard.core.store import Board

        board = Board.open(str(self.root))
        if board.git_dir is None or not GitRepo.of(board).run("remote", check=False).strip():
            raise MdboardError(t("web.sync_no_remote"))

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="mdboard-sync", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.once()

    def once(self) -> None:
        """One sync; its trouble (or the end of it) shows on every page."""
        from mdboard.core.store import Board
        from mdboard.git.sync import sync

        try:
            result = sync(Board.open(str(self.root)))
        except MdboardError as exc:
            self._show([t("web.sync_banner")] + str(exc).splitlines())
            return
        except OSError as exc:
            self._show([t("web.sync_banner"), os_error_message(exc)])
            return
        if result.blocked:
            self._show([t("web.sync_banner"), t("teams.blocked")] + [p.line() for p in result.blocked])
            return
        self._show([])
        if result.incoming or result.pushed:
            summary = t("teams.incoming_head", n=len(result.incoming)) if result.incoming else ""
            if result.pushed:
                summary = (summary + " " if summary else "") + t("teams.pushed", n=result.pushed)
            self.log(t("web.sync_done", summary=summary))

    def _show(self, lines: list[str]) -> None:
        if lines and lines != self.trouble:
            self.log(t("web.sync_failed", error=" ".join(lines[1:])[:300]))
        self.trouble = lines
        self.site.set_notice(lines)
