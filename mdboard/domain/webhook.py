"""Posting messages to group-chat robots: a rate limit, retries with backoff, one answer.

HTTP goes through `urllib.request` from the standard library: a handful of JSON
POSTs a day needs no client library, urllib honours HTTPS_PROXY (CI runners behind a
proxy), and notify does not depend on a package that arrives only as another
package's dependency.

`Delivery` keeps, per robot, the times of its recent messages: at most
`RATE_LIMIT` in any `RATE_WINDOW` seconds (钉钉 and 企业微信 take 20 a minute; 钉钉
then blocks a robot for ten minutes). A long-running server that notifies more
than once keeps one `Delivery` so the limit holds across runs. The clock and the
sleep are parameters so the limit can be tested without waiting.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections import deque
from dataclasses import dataclass
from typing import Callable

from mdboard.domain.robots import Outcome

RATE_LIMIT = 20
RATE_WINDOW = 60.0
MAX_ATTEMPTS = 4
BASE_DELAY = 1.0  # seconds before the second attempt; doubled each time
MAX_DELAY = 60.0
TIMEOUT = 15.0
USER_AGENT = "mdboard-notify"


@dataclass(frozen=True)
class Answer:
    """What one HTTP request came back with (status 0: no answer at all)."""

    status: int
    data: object = None  # the JSON body, or None
    retry_after: float | None = None
    error: str = ""


class Delivery:
    """Sends messages to robots, politely: limited per robot, retried when worth it."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                 post: Callable[[str, bytes], Answer] | None = None, base_delay: float = BASE_DELAY,
                 max_attempts: int = MAX_ATTEMPTS):
        self.clock = clock
        self.sleep = sleep
        self.post = post or http_post
        self.base_delay = base_delay
        self.max_attempts = max_attempts
        self._sent: dict[str, deque] = {}

    def wait_turn(self, robot: str) -> None:
        """Sleep until `robot` may send again without passing RATE_LIMIT per RATE_WINDOW."""
        sent = self._sent.setdefault(robot, deque())
        while True:
            now = self.clock()
            while sent and now - sent[0] >= RATE_WINDOW:
                sent.popleft()
            if len(sent) < RATE_LIMIT:
                sent.append(now)
                return
            self.sleep(RATE_WINDOW - (now - sent[0]))

    def send(self, robot: str, build: Callable[[], tuple[str, dict]],
             judge: Callable[[int, object], Outcome]) -> tuple[Outcome, int]:
        """Post one message; returns the final outcome and the number of attempts.

        `build` makes the (url, body) afresh for every attempt (a signature carries
        the time); `judge` reads the platform's answer. 429, 5xx, no answer and the
        platforms' "too fast" codes are retried with growing pauses; a refusal is not.
        """
        outcome = Outcome("retry")
        for attempt in range(1, self.max_attempts + 1):
            self.wait_turn(robot)
            url, body = build()
            answer = self.post(url, json.dumps(body, ensure_ascii=False).encode("utf-8"))
            outcome = Outcome("retry", detail=answer.error) if answer.status == 0 else judge(answer.status, answer.data)
            if outcome.status != "retry":
                return outcome, attempt
            if attempt < self.max_attempts:
                self.sleep(self._pause(attempt, answer.retry_after))
        return outcome, self.max_attempts

    def _pause(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return max(0.0, min(retry_after, MAX_DELAY))
        return min(self.base_delay * 2 ** (attempt - 1), MAX_DELAY)


def http_post(url: str, body: bytes) -> Answer:
    """POST a JSON body; never raises for HTTP or network trouble, the Answer says what happened."""
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return Answer(response.status, _json(response.read()), _retry_after(response.headers))
    except urllib.error.HTTPError as exc:
        with exc:
            return Answer(exc.code, _json(exc.read()), _retry_after(exc.headers))
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        return Answer(0, error=str(reason))


def _json(raw: bytes):
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


def _retry_after(headers) -> float | None:
    value = headers.get("Retry-After") if headers is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
