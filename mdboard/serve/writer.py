"""The team board's one writing thread: actions run one after the other, in batches.

Every card change of the web board runs here, on one thread with its own Board. When
several actions are waiting, they run as one batch (`mdboard.git.changes.batched`):
each is still its own commit, authored by its person, checked against the card as the
actions before it left it; the index and the branch are updated once for them all, so
30 people at once cost a few git commands per batch instead of three per action. Each
action is answered once its batch is recorded.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from typing import Callable

from mdboard.core.errors import MdboardError
from mdboard.core.i18n import t

BATCH_LIMIT = 16  # actions recorded together at most: the first of them waits for the rest


class WriterStopped(MdboardError):
    """The server is stopping: an action submitted now is refused, never run."""


class Writer:
    """Runs submitted functions on one thread; those waiting together share one batch.

    `board()` gives the Board the batch is taken on (the writer's own); `lost(result,
    error)` turns the result of an action whose commit could not be recorded into the
    answer it gets instead - its change put back, or (an error from recording the batch)
    written and left for the next command to record (the results of reads are never
    touched)."""

    def __init__(self, board: Callable, lost: Callable, name: str = "mdboard-writer"):
        self._board = board
        self._lost = lost
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._closed = False
        self._gate = threading.Lock()  # a job is queued before the stop sign or refused, never after it
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def submit(self, fn: Callable, *args) -> Future:
        """Run `fn(*args)` on the writing thread; the future holds its result once recorded.
        Once the writer is told to stop (or its thread is gone) the future holds WriterStopped
        at once: a job queued after the stop sign would wait forever."""
        future: Future = Future()
        with self._gate:
            if not self._closed and self._thread.is_alive():
                self._queue.put((future, fn, args))
                return future
        future.set_exception(WriterStopped(t("serve.stopping")))
        return future

    def _loop(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            if not self._run_batch(job):
                return

    def _run_batch(self, first) -> bool:
        """Run `first` and whatever is queued meanwhile (up to BATCH_LIMIT) in one batch, then
        answer each; False once the writer is told to stop."""
        from mdboard.git.changes import batched

        jobs, done, going, broken, batch = [first], [], True, None, None
        try:
            with batched(self._board()) as batch:
                while jobs:
                    future, fn, args = jobs.pop(0)
                    if not future.set_running_or_notify_cancel():
                        continue
                    try:
                        done.append((future, True, fn(*args)))
                    except BaseException as exc:  # handed to whoever waits, as an executor does
                        done.append((future, False, exc))
                    if not jobs and going and len(done) < BATCH_LIMIT:
                        going = self._take_waiting(jobs, BATCH_LIMIT - len(done))
        except Exception as exc:  # the batch could not be begun or recorded (a full disk ...)
            broken = exc
        lost = batch.lost if batch is not None else {}
        for future, fn, args in jobs:  # not begun
            if future.set_running_or_notify_cancel():
                future.set_exception(broken)
        for future, ok, value in done:
            commit = getattr(value, "commit", None) if ok else None
            if not ok:
                future.set_exception(value)
            elif broken is not None and commit:  # the batch says what became of it (written, to be recorded)
                if isinstance(broken, MdboardError):
                    future.set_result(self._lost(value, broken))
                else:
                    future.set_exception(broken)
            elif commit in lost:
                future.set_result(self._lost(value, lost[commit]))
            else:
                future.set_result(value)
        return going

    def _take_waiting(self, jobs: list, room: int) -> bool:
        """Move up to `room` waiting jobs into `jobs`; False if the stop sign came among them."""
        while room > 0:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                return True
            if job is None:
                return False
            jobs.append(job)
            room -= 1
        return True

    def shutdown(self) -> None:
        """Finish what is queued, then stop the thread."""
        with self._gate:
            if not self._closed:
                self._closed = True
                self._queue.put(None)
        self._thread.join()
