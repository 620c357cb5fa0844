"""Time the iCalendar feeds in one process on a large board.

    .venv/bin/python bench/bench_calendar.py bench/out/board-c10000-m20000-s7
    .venv/bin/python bench/bench_calendar.py DIR --runs 9

The board is cloned to a temporary folder first (reading a board writes its parse
cache), so the generated board stays untouched. Each figure is CPU time
(`time.process_time`, steady on a shared machine) with wall time beside it; repeated
figures are medians of `--runs`. What it times, with the targets for 10,000 cards:

- the whole-board feed, first in the process (caches empty) and again (< 1 s);
- each person's feed (< 0.2 s);
- `card_events` for one card, averaged over every dated card (< 1 ms);
- `assemble` of the whole feed from parts already rendered (what a site pays when
  one card changed and it kept the others' parts), and `calendar_cards`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import generate  # noqa: E402


def timed(fn, runs: int = 1) -> tuple[float, float, object]:
    """(median CPU seconds, median wall seconds, last result) of calling `fn` `runs` times."""
    cpu, wall, result = [], [], None
    for _ in range(runs):
        c0, w0 = time.process_time(), time.perf_counter()
        result = fn()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return statistics.median(cpu), statistics.median(wall), result


def row(what: str, cpu: float, wall: float, target: float | None = None, unit: str = "s") -> str:
    """One printed line: the figure, its wall time and, if it has one, its target and verdict."""
    scale = {"s": 1, "ms": 1e3, "µs": 1e6}[unit]
    verdict = "" if target is None else f"  target < {target * scale:g} {unit}: {'ok' if cpu < target else 'MISSED'}"
    return f"{what:<44} {cpu * scale:9.3f} {unit} cpu {wall * scale:9.3f} {unit} wall{verdict}"


def measure(root: Path, runs: int) -> list[str]:
    """Every figure of the module docstring on the board at `root`, as printed lines."""
    cpu, wall, _ = timed(lambda: __import__("icalendar"))
    lines = [row("import icalendar", cpu, wall)]
    from mdboard.domain.calendar import assemble, board_calendar, calendar_cards, card_events
    from mdboard.core.store import Board

    board = Board.open(str(root))
    cpu, wall, cards = timed(board.cards)
    lines.append(row(f"read {len(cards)} cards (not counted below)", cpu, wall))
    cpu, wall, feed = timed(lambda: board_calendar(board))
    lines.append(row(f"whole feed, first ({feed.count(b'BEGIN:VEVENT')} events, {len(feed) >> 10} KiB)",
                     cpu, wall, 1.0))
    lines.append(row("whole feed, again", *timed(lambda: board_calendar(board), runs)[:2], 1.0))
    people = [(key, *timed(lambda key=key: board_calendar(board, key), runs)[:2]) for key in board.config.people]
    slowest = max(people, key=lambda p: p[1])
    lines.append(row(f"person feed, slowest of {len(people)} ({slowest[0]})", *slowest[1:], 0.2))
    lines.append(row("person feed, median", statistics.median(p[1] for p in people),
                     statistics.median(p[2] for p in people), 0.2))
    dated = calendar_cards(board)
    cpu, wall, parts = timed(lambda: [card_events(board, card) for card in dated], runs)
    lines.append(row(f"card_events, mean of {len(dated)} cards", cpu / len(dated), wall / len(dated), 1e-3, "µs"))
    lines.append(row("assemble whole feed from its parts", *timed(lambda: assemble(board, parts), runs)[:2]))
    lines.append(row("calendar_cards, whole board", *timed(lambda: calendar_cards(board), runs)[:2]))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("board", type=Path, help="a board in a git repository (it is cloned, not changed)")
    parser.add_argument("--runs", type=int, default=5, help="runs of each repeated figure (median shown)")
    args = parser.parse_args()
    os.environ.setdefault("MDBOARD_NOW", generate.TODAY)
    with tempfile.TemporaryDirectory(prefix="mdboard-cal-") as tmp:
        clone = Path(tmp) / "board"
        subprocess.run(["git", "clone", "-q", str(args.board.resolve()), str(clone)], check=True)
        print(f"board: {args.board} (cloned), {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}")
        for line in measure(clone, args.runs):
            print(line)


if __name__ == "__main__":
    main()
