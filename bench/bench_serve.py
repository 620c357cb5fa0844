"""How long after one card is saved does the served page show it? (issue 4: target < 0.3 s)

Generates a board (bench/generate.py when present, else a plain loop of cards), starts
the real `mdboard serve --port 0` as a subprocess, then several times: rewrites one card's
title the way an editor saves, and polls that card's served page until the new title is
there; and until an open tab (waiting on the reload event stream) is told to reload.
Prints median / min / max of both, and of the whole rebuild.

    .venv/bin/python bench/bench_serve.py --cards 10000 --runs 7
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
TARGET_SECONDS = 0.3


def generate(out: Path, cards: int, commits: int) -> None:
    """A board of `cards` cards: bench/generate.py if it exists, else a plain loop."""
    script = HERE / "generate.py"
    if script.exists():
        subprocess.run([sys.executable, str(script), "--cards", str(cards), "--commits", str(commits), str(out)],
                       check=True, stdout=subprocess.DEVNULL)
        return
    subprocess.run([str(BIN / "mdboard"), "init", str(out)], check=True, stdout=subprocess.DEVNULL)
    sys.path.insert(0, str(HERE.parent))
    from mdboard.core.config import load_config

    cfg = load_config(out)
    slots = [(ctype, state.key) for ctype in cfg.types.values() for state in ctype.states]
    owner = next(iter(cfg.people))
    for i in range(cards):
        ctype, state = slots[i % len(slots)]
        path = out / ctype.key / state / f"{ctype.prefix}-{i + 1:05d}.md"
        path.write_text(f"---\ntitle: 卡片 {i + 1}\nowner: {owner}\n---\n\n正文 {i + 1}\n", "utf-8")
    subprocess.run(["git", "add", "-A"], cwd=out, check=True)
    subprocess.run(["git", "commit", "-qm", "bench cards"], cwd=out, check=True)


class Serve:
    """`mdboard serve --port 0` in the board; its output is read (and echoed) in a thread."""

    def __init__(self, board: Path):
        self.proc = subprocess.Popen([str(BIN / "mdboard"), "serve", "--port", "0"], cwd=board, text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.lines: list[str] = []
        self.url = ""
        self._ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        self._ready.wait()
        if not self.url:
            raise SystemExit(f"serve exited with {self.proc.wait()} before printing its URL")

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.rstrip())
            print("  serve:", line.rstrip())
            found = re.search(r"http://\S+/", line)
            if found and not self.url:
                self.url = found.group(0)
                self._ready.set()
        self._ready.set()

    def rebuild_seconds(self) -> list[float]:
        """The duration of every finished rebuild, from the terminal lines."""
        return [float(m.group(1)) for line in self.lines
                if line.startswith(("已更新", "Updated")) and (m := re.search(r"([\d.]+) (?:秒|s)$", line))]

    def wait_idle(self, rebuilds: int) -> None:
        """Wait until `rebuilds` rebuilds have finished (the server is idle again)."""
        deadline = time.perf_counter() + 120
        while len(self.rebuild_seconds()) < rebuilds and time.perf_counter() < deadline:
            time.sleep(0.05)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(timeout=60)


def card_page(board: Path, card_id: str) -> str:
    """The URL path of the card's own page in the built site."""
    site = board / "_site"
    for pattern in (f"**/{card_id}.html", f"**/{card_id}/index.html"):
        for found in sorted(site.glob(pattern)):
            return "/" + found.relative_to(site).as_posix()
    raise SystemExit(f"no page for {card_id} under {site}")


def pick_card(board: Path) -> Path:
    """A card file in the middle of the board."""
    files = sorted(board.glob("sku/*/*.md"))
    return files[len(files) // 2]


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return resp.read().decode("utf-8", "replace")


def one_edit(path: Path, url: str, marker: str) -> tuple[float, float]:
    """Save a new title the way an editor does (write + rename); seconds until (a) a GET of
    the served page first shows it (polled every 20 ms) and (b) an open tab is told to
    reload and then shows it (the reload event stream, as the browser waits on it)."""
    text = path.read_text("utf-8")
    new = re.sub(r"^title: .*$", f"title: {marker}", text, count=1, flags=re.M)
    tmp = path.with_name(f".{path.name}.bench.tmp")
    tmp.write_text(new, "utf-8")
    version = re.search(r'data-version="([^"]+)"', fetch(url)).group(1)
    host, port = url.split("/", 3)[2].rsplit(":", 1)
    seen: list[float] = []
    started = time.perf_counter()

    def poll():
        while time.perf_counter() < started + 60:
            if marker in fetch(url):
                seen.append(time.perf_counter() - started)
                return
            time.sleep(0.02)

    poller = threading.Thread(target=poll, daemon=True)
    os.replace(tmp, path)
    poller.start()
    while time.perf_counter() < started + 60:
        version = wait_reload(host, int(port), version)
        if marker in fetch(url):
            reloaded = time.perf_counter() - started
            poller.join()
            return seen[0], reloaded
    raise SystemExit(f"the page {url} never showed {marker}")


def wait_reload(host: str, port: int, version: str) -> str:
    """Block on /__mdboard/events until the server says reload; the new version."""
    conn = http.client.HTTPConnection(host, port, timeout=60)
    try:
        conn.request("GET", f"/__mdboard/events?v={version}")
        resp = conn.getresponse()
        while line := resp.readline():
            if line.startswith(b"data: "):
                return line[6:].decode().strip()
    finally:
        conn.close()
    return version


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=10000)
    parser.add_argument("--commits", type=int, default=2000, help="history commits for generate.py")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--board", type=Path, help="use this board instead of generating one")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="mdboard-bench-serve-"))
    board = args.board or tmp / "board"
    try:
        if not args.board:
            started = time.perf_counter()
            generate(board, args.cards, args.commits)
            print(f"generated {args.cards} cards in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        serve = Serve(board)
        print(f"serve ready after {time.perf_counter() - started:.1f} s at {serve.url}")
        try:
            path = pick_card(board)
            page = serve.url.rstrip("/") + card_page(board, path.stem)
            served, reloaded = [], []
            for run in range(args.runs):
                serve.wait_idle(run)  # each edit starts with the server idle
                time.sleep(0.3)
                first, tab = one_edit(path, page, f"基准测试标题 {run} {time.time_ns()}")
                served.append(first)
                reloaded.append(tab)
                print(f"  run {run + 1}: served page shows it after {first:.3f} s, open tab reloaded after {tab:.3f} s")
            serve.wait_idle(args.runs)
        finally:
            serve.stop()
        for what, times in (("edit -> served page shows it", served), ("edit -> open tab reloaded", reloaded)):
            median = statistics.median(times)
            print(f"{what}: {args.cards} cards, {len(times)} runs: median {median:.3f} s, min {min(times):.3f} s, "
                  f"max {max(times):.3f} s (target < {TARGET_SECONDS} s: {'met' if median < TARGET_SECONDS else 'NOT met'})")
        whole = serve.rebuild_seconds()
        if whole:
            print(f"whole rebuild (every page written): median {statistics.median(whole):.2f} s, "
                  f"min {min(whole):.2f} s, max {max(whole):.2f} s")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
