"""The report's facts kept card by card: after any sequence of commits, the report worked out
from the facts of an older head (in this process or from the cache files) says exactly what
a report worked out from nothing says, window or not; a rewritten history included."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from conftest import git
from mdboard.core import cache
from mdboard.core.store import Board
from mdboard.domain import report
from mdboard.domain.report import compute_report
from mdboard.git.history import load_history

ZONE = ZoneInfo("Asia/Shanghai")
STATES = {"sku": ["planning", "shooting", "content", "review", "listed"],
          "issue": ["new", "following", "resolved", "archived"],
          "asset": ["todo", "making", "review", "ready", "live"]}
PREFIX = {"sku": "SKU", "issue": "AS", "asset": "MAT"}
WINDOWS = ({}, {"since": datetime(2026, 11, 18, tzinfo=ZONE)},
           {"since": datetime(2026, 11, 20, tzinfo=ZONE), "until": datetime(2026, 11, 24, 12, tzinfo=ZONE)})


def fresh(root, tmp, **window) -> dict:
    """The report worked out from nothing: in a clone of the board (same commits, same cards,
    its own empty caches), leaving the board's caches and what this process keeps alone."""
    clone = tmp / f"fresh-{len(list(tmp.iterdir()))}"
    git(root, "clone", "-q", str(root), str(clone))
    board = Board.open(str(clone))
    try:
        return compute_report(board, load_history(board), **window)
    finally:
        report._KEPT.pop(str(board.state_dir), None)


def kept(root, new_process: bool, **window) -> dict:
    """The report worked out from what the caches (and, unless `new_process`, this process) keep."""
    if new_process:
        report._KEPT.clear()
    board = Board.open(str(root))
    return compute_report(board, load_history(board), **window)


class Shop:
    """Commits made by hand at known, growing times: moves to any state, title changes, new
    cards, deleted cards, and rewrites of the last commits (reset, amend)."""

    def __init__(self, root, seed: int):
        self.root, self.rng = root, random.Random(seed)
        self.moment = datetime(2026, 11, 24, 10, tzinfo=ZONE)
        self.made = 0

    def commit(self, *args: str) -> None:
        self.moment += timedelta(minutes=self.rng.choice((0, 7, 45, 180)))
        stamp = self.moment.isoformat()
        env = {"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
        import os
        import subprocess

        proc = subprocess.run(["git", *args], cwd=self.root, capture_output=True, text=True, env={**os.environ, **env})
        assert proc.returncode == 0, proc.stderr

    def cards(self) -> list:
        return sorted(p.relative_to(self.root) for key in STATES for p in (self.root / key).glob("*/*.md"))

    def step(self) -> str:
        rng = self.rng
        action = rng.choice(("move", "move", "move", "title", "new", "delete", "rewrite"))
        cards = self.cards()
        if action == "new" or not cards:
            key = rng.choice(sorted(STATES))
            self.made += 1
            path = self.root / key / rng.choice(STATES[key][:2]) / f"{PREFIX[key]}-{900 + self.made:04d}.md"
            path.parent.mkdir(exist_ok=True)
            path.write_text(f"---\ntitle: 新卡 {self.made}\nowner: sunli\n---\n\n正文\n", "utf-8")
            git(self.root, "add", str(path))
            self.commit("commit", "-qm", "new by hand")
        elif action == "move":
            card = rng.choice(cards)
            key = card.parts[0]
            target = self.root / key / rng.choice([s for s in STATES[key] if s != card.parts[1]]) / card.name
            target.parent.mkdir(exist_ok=True)
            git(self.root, "mv", str(card), str(target.relative_to(self.root)))
            self.commit("commit", "-qm", "move by hand")
        elif action == "title":
            path = self.root / rng.choice(cards)
            text = path.read_text("utf-8")
            path.write_text(text.replace("title: ", f"title: 改{rng.randrange(100)} ", 1), "utf-8")
            self.commit("commit", "-qam", "retitle by hand")
        elif action == "delete":
            git(self.root, "rm", "-q", str(rng.choice(cards)))
            self.commit("commit", "-qm", "delete by hand")
        elif rng.random() < 0.5:
            git(self.root, "reset", "-q", "--hard", "HEAD~2")
        else:
            self.commit("commit", "-q", "--amend", "-m", "amended")
        return action


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_report_from_kept_facts_says_what_one_from_nothing_says(shop, seed, monkeypatch, tmp_path):
    """30 random commits (or rewrites) on the shop; after each, the report from the facts the
    caches keep (a new process, or the same one) with and without a window is the report
    from nothing, and unless the history was rewritten no card's facts were made afresh but
    those the new commit touched. A small SNAPSHOT_AFTER makes new snapshots along the way."""
    monkeypatch.setattr(report, "SNAPSHOT_AFTER", 3)
    made = []
    real = report._made
    monkeypatch.setattr(report, "_made", lambda *a, **k: made.append(1) or real(*a, **k))
    shop_commits = Shop(shop, seed)
    kept(shop, True)
    done = set()
    for _ in range(30):
        action = shop_commits.step()
        done.add(action)
        new_process = shop_commits.rng.random() < 0.5
        window = shop_commits.rng.choice(WINDOWS)
        for asked in ({}, window):
            made.clear()
            got = kept(shop, new_process, **asked)
            assert made == [] or action == "rewrite", action
            assert got == fresh(shop, tmp_path, **asked), (asked, done)
    assert done == {"move", "title", "new", "delete", "rewrite"}


def test_a_report_whose_card_snapshot_is_gone_works_the_cards_out_again(shop, tmp_path):
    """Another process may replace or lose the cards' snapshot between two reads: a report
    with a window, or with its charts, that then finds no snapshot for its facts works every
    card out again from the history instead of failing, and says what a report from nothing says."""
    kept(shop, True)
    board = Board.open(str(shop))
    window = {"since": datetime(2026, 11, 18, tzinfo=ZONE)}
    for asked, charts in (({}, True), (window, False)):
        cache.remove(board.state_dir / report.CARDS_NAME)
        report._KEPT.clear()
        board = Board.open(str(shop))
        got = compute_report(board, load_history(board), charts=charts, **asked)
        clone = tmp_path / f"clone-{charts}"
        git(shop, "clone", "-q", str(shop), str(clone))
        other = Board.open(str(clone))
        assert got == compute_report(other, load_history(other), charts=charts, **asked)
