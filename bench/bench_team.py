"""The team web board under load (issue 16): three figures on a generated board.

1. move -> commit, and move -> the updated column in a second browser: two people signed
   in in two chromium contexts on the same kanban; one moves a card with the "move to…"
   menu, timed in the page from the click to the server's answer (sent after the commit)
   and, in the other page, to the moment the card shows in its new column (no reload).
2. 30 simulated people at once: each signed in with its own session, acting at a human
   pace (a move, a tick or a note, then a card page, then 0.5–3 s to think); the time of
   every action, p50 / p95 / max.
   With `--capacity`, also the server's capacity (clearly not the human pace): the same
   people acting back to back, no page read, no time to think; actions per second.
   `--think MIN MAX` sets the time to think (the pace); the default 0.5–3 s is faster than
   people work (a move, a tick or a note every few seconds, each of them, for minutes).
   Both report the server's CPU seconds per action (its own, its site builder process's
   and their git commands'): steadier than wall times on a shared machine. `--moves 0`
   leaves out phase 1.
3. memory: the server's resident memory after 1,000 actions and after 10,000 (one person,
   one action after the other; `--memory-only` runs this phase alone, on a fresh server).
   The figure is the sum over the server's process tree: the server and the process in
   which it builds the site.

The server is the real `mdboard serve --team` as a subprocess, with accounts for the
board's people. Targets (issue 16): median move -> column <= 0.3 s, p95 per action of
30 people <= 0.5 s, memory after 10,000 actions within 10% of where it was after 1,000.

    .venv/bin/python bench/bench_team.py --cards 10000 --commits 20000 [--save out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(HERE))

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
TARGETS = {"move_to_column_median": 0.3, "people_p95": 0.5, "memory_growth": 0.10}


def password(key: str) -> str:
    return f"bench-password-{key}"


# --- the board and the server --------------------------------------------------------------


def make_board(out: Path, cards: int, commits: int, seed: int) -> Path:
    import generate

    generate.generate(out, cards, commits, seed)
    return out


def make_accounts(board: Path) -> list[tuple[str, str]]:
    """An account with a password for every person of the roster; [(key, name)]."""
    from mdboard.core.store import Board
    from mdboard.serve.accounts import Accounts

    people = Board.open(str(board)).config.people
    accounts = Accounts(board)
    for key in people:
        accounts.add(key)
        accounts.set_password(key, password(key))
    return [(key, p.name) for key, p in people.items()]


class Server:
    """`mdboard serve --team --port 0` in the board; its lines are collected."""

    def __init__(self, board: Path, env: dict):
        self.proc = subprocess.Popen([str(BIN / "mdboard"), "serve", "--team", "--port", "0"], cwd=board,
                                     text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
        self.lines: list[str] = []
        self.url = ""
        ready = threading.Event()

        def read():
            for line in self.proc.stdout:
                self.lines.append(line.rstrip())
                if not self.url and (m := re.search(r"http://127\.0\.0\.1:\d+/", line)):
                    self.url = m.group(0)
                    ready.set()
            ready.set()

        threading.Thread(target=read, daemon=True).start()
        ready.wait(600)
        if not self.url:
            raise SystemExit(f"the server did not start: {self.lines[-5:]}")

    def tree(self) -> list[int]:
        """The server and the processes it runs, theirs too (the site builder's process)."""
        pids, i = [self.proc.pid], 0
        while i < len(pids):
            for task in Path(f"/proc/{pids[i]}/task").glob("*/children"):
                try:
                    pids += [int(pid) for pid in task.read_text().split()]
                except OSError:
                    pass
            i += 1
        return pids

    def cpu_seconds(self) -> float:
        """CPU seconds the server has used so far: every process of its tree (the site builder's
        process too), each with its waited-for children (git commands) included."""
        total = 0
        for pid in self.tree():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # ended meanwhile (a git command): its time is its parent's now
            total += sum(int(v) for v in fields[11:15])
        return total / os.sysconf("SC_CLK_TCK")

    def rss_mb(self) -> float:
        """Resident memory of the server's whole process tree (the site builder's process too)."""
        total = 0
        for pid in self.tree():
            try:
                lines = Path(f"/proc/{pid}/status").read_text().splitlines()
            except OSError:
                continue
            total += sum(int(line.split()[1]) for line in lines if line.startswith("VmRSS:"))
        return total / 1024

    def stop(self) -> None:
        """Stop the server as Ctrl-C would: with SIGTERM, which serve takes as Ctrl-C, since a
        shell running the bench in the background starts it with SIGINT ignored."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def signed_in(url: str, key: str):
    """An httpx client signed in as `key`, and its CSRF token."""
    import httpx

    client = httpx.Client(base_url=url, timeout=120)
    page = client.get("/__mdboard/signin")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    answer = client.post("/__mdboard/signin", data={"csrf": token, "name": key, "password": password(key)})
    if answer.status_code != 303:
        raise SystemExit(f"cannot sign in as {key}: {answer.status_code}")
    token = re.search(r'data-csrf="([^"]+)"', client.get("/index.html").text).group(1)
    return client, token


def cards_in(board: Path, type_key: str, state: str) -> list[str]:
    return sorted(p.stem for p in (board / type_key / state).glob("*.md"))


def stats(values: list[float]) -> dict:
    values = sorted(values)
    if not values:
        return {"n": 0}
    p95 = values[min(len(values) - 1, int(round(0.95 * (len(values) - 1))))]
    return {"n": len(values), "median": round(statistics.median(values), 3), "p95": round(p95, 3),
            "max": round(values[-1], 3)}


def summary(figures: dict) -> str:
    """`median 0.21 s, p95 0.30 s, max 0.41 s (n=21)`: a phase's figures as it ends, so a run
    cut short still tells what it measured."""
    if not figures.get("n"):
        return "no figures"
    return (f"median {figures['median']:.3f} s, p95 {figures['p95']:.3f} s, max {figures['max']:.3f} s "
            f"(n={figures['n']})")


# --- 1. move in one browser, the column in another --------------------------------------------------


MOVE_JS = """([id, target]) => new Promise((resolve) => {
  const tile = document.querySelector(`[data-id="${id}"]`);
  const started = performance.timeOrigin + performance.now();
  const original = window.fetch;
  window.fetch = function () {
    return original.apply(this, arguments).then((response) => {
      window.fetch = original;
      response.clone().json().then((data) => resolve({started, answered: performance.timeOrigin + performance.now(), ok: data.ok, message: data.message}));
      return response;
    });
  };
  tile.querySelector(".mdb-move-button").click();
  const item = Array.from(document.querySelectorAll(".mdb-menu [role=menuitem]")).find((b) => b.textContent === window.__labels[target]);
  item.click();
})"""

def browser_moves(url: str, board: Path, people, moves: int, log) -> dict:
    """Median / p95 of move -> answer (commit) and move -> the other browser's column."""
    from playwright.sync_api import sync_playwright

    type_key, there, back = "sku", "shooting", "planning"
    cards = cards_in(board, type_key, there)[:1] or cards_in(board, type_key, back)[:1]
    card = cards[0]
    state = there if (board / type_key / there / f"{card}.md").exists() else back
    commit_times, column_times = [], []
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        pages = []
        for key, _ in people[:2]:
            client, _ = signed_in(url, key)
            context = chromium.new_context(viewport={"width": 1400, "height": 900})
            context.add_cookies([{"name": c.name, "value": c.value, "url": url} for c in client.cookies.jar])
            page = context.new_page()
            page.goto(url + f"types/{type_key}.html", timeout=600_000)
            page.wait_for_selector(".mdb-move-button", timeout=600_000)
            if page.evaluate("() => document.querySelectorAll('[data-card]').length") >= 300:
                # a big kanban is updated column by column once the page has remembered its columns
                page.wait_for_selector("html[data-mdb-columns=remembered]", state="attached", timeout=600_000)
            labels = page.evaluate("() => JSON.parse(document.getElementById('mdboard-team').dataset.types)")
            page.evaluate("(labels) => { window.__labels = labels; }",
                          {s[0]: s[1] for s in labels[type_key]["states"]})
            pages.append(page)
        mover, watcher = pages
        for i in range(moves):
            target = back if state == there else there
            # the second page starts watching for the card in its new column before the move
            watcher.evaluate(f"""() => {{ window.__seen = new Promise((resolve) => {{
                const seen = () => document.querySelector('[data-column="{target}"] [data-id="{card}"]');
                const observer = new MutationObserver(() => {{ if (seen()) {{ observer.disconnect();
                  resolve(performance.timeOrigin + performance.now()); }} }});
                observer.observe(document.body, {{childList: true, subtree: true}});
            }}); }}""")
            result = mover.evaluate(MOVE_JS, [card, target])
            if not result["ok"]:
                raise SystemExit(f"move {card} -> {target} refused: {result['message']}")
            shown = watcher.evaluate("() => window.__seen")
            commit_times.append((result["answered"] - result["started"]) / 1000)
            column_times.append((shown - result["started"]) / 1000)
            log(f"  move {i + 1}/{moves}: {card} -> {target}: commit {commit_times[-1]:.3f} s, "
                f"other browser {column_times[-1]:.3f} s")
            state = target
            time.sleep(0.5)
        chromium.close()
    report = {"move_to_commit": stats(commit_times), "move_to_column": stats(column_times)}
    for name, figures in report.items():
        log(f"  {name}: {summary(figures)}")
    return report


# --- 2. thirty people at once ------------------------------------------------------------------------


def movable(board: Path) -> list[tuple[str, str, str, str]]:
    """(type, card, state, other state) for cards that may move back and forth freely:
    after-sales cases between 新登记 and 跟进中, assets between 待审核 and 已定稿."""
    pairs = [("issue", "new", "following"), ("asset", "review", "ready")]
    out = []
    for type_key, one, two in pairs:
        out += [(type_key, card, one, two) for card in cards_in(board, type_key, one)]
        out += [(type_key, card, two, one) for card in cards_in(board, type_key, two)]
    return out


def people_at_once(url: str, board: Path, people, count: int, actions: int, log, seed: int = 7,
                   think: tuple[float, float] | None = (0.5, 3.0), server: "Server | None" = None) -> dict:
    """Per-action latency while `count` simulated people act at once, each on cards of their
    own (so no two of them clash): each acts, reads the card's page and thinks for `think`
    seconds (MIN, MAX); with `think` None they act back to back without reading a page
    (the server's capacity, not a pace people have)."""
    rng = random.Random(seed)
    moving = movable(board)
    skus = cards_in(board, "sku", "planning")
    rng.shuffle(moving)
    rng.shuffle(skus)
    times: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(count)

    def person(n: int) -> None:
        key = people[n % len(people)][0]
        client, token = signed_in(url, key)
        mine = [list(item) for item in moving[n::count][:2]]
        mine_sku = skus[n::count][:2]
        local = random.Random(seed + n)
        start.wait()
        for i in range(actions):
            kind = ("move", "tick", "note")[i % 3] if mine and mine_sku else "none"
            if kind == "move":
                item = mine[i % len(mine)]
                type_key, card, here, there = item
                data = {"to": there, "from": here}
                path = f"/__mdboard/cards/{card}/move"
                item[2], item[3] = there, here
            elif kind == "tick":
                card = mine_sku[i % len(mine_sku)]
                data = {"item": "1", "done": "1" if (i // 3) % 2 == 0 else "0"}
                path = f"/__mdboard/cards/{card}/tick"
            elif kind == "note":
                card = mine_sku[i % len(mine_sku)]
                data = {"text": f"第 {i} 条备注（{key}）"}
                path = f"/__mdboard/cards/{card}/note"
            else:
                raise SystemExit("the board has too few cards for this many people")
            began = time.perf_counter()
            answer = client.post(path, data={"csrf": token, **data}, headers={"Accept": "application/json"})
            took = time.perf_counter() - began
            outcome = answer.json() if answer.headers.get("content-type", "").startswith("application/json") else {}
            with lock:
                times.append(took)
                if not outcome.get("ok"):
                    failures.append(f"{path}: {answer.status_code} {outcome.get('message', '')}")
            if think is not None:
                client.get(f"/cards/{card}.html")
                time.sleep(local.uniform(*think))
        client.close()

    threads = [threading.Thread(target=person, args=(n,)) for n in range(count)]
    cpu_before = server.cpu_seconds() if server else 0.0
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    log(f"  {len(times)} actions by {count} people in {seconds:.1f} s, {len(failures)} refused")
    for failure in failures[:5]:
        log(f"    refused: {failure}")
    log(f"  per action: {summary(stats(times))}")
    report = {"people": count, "actions": stats(times), "refused": len(failures), "seconds": round(seconds, 1),
              "actions_per_second": round(len(times) / seconds, 2), "think": list(think) if think else None}
    if server is not None and times:
        cpu = settled_cpu(server) - cpu_before  # the rebuild the last actions started included
        report["server_cpu_per_action"] = round(cpu / len(times), 4)
        log(f"  {report['actions_per_second']} actions/s; server CPU {cpu:.1f} s = "
            f"{1000 * cpu / len(times):.0f} ms per action (its git commands and rebuilds included); "
            f"load {os.getloadavg()[0]:.1f}")
    return report


def settled_cpu(server: Server, timeout: float = 60.0) -> float:
    """The server's CPU seconds once it has gone quiet (the last rebuild over)."""
    deadline = time.monotonic() + timeout
    last = server.cpu_seconds()
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = server.cpu_seconds()
        if now - last < 0.05:
            return now
        last = now
    return last


# --- 3. memory over many actions ---------------------------------------------------------------------


def memory(url: str, board: Path, server: Server, people, total: int, checkpoint: int, log) -> dict:
    """The server's resident memory (RSS, its site builder process's included) after the
    first `checkpoint` actions and after `total`, and at every checkpoint between: one signed-in person moving after-sales cases
    and assets back and forth, ticking and unticking a SKU's first checklist item and adding
    notes, one action after the other. Each checkpoint waits for the rebuilds the actions
    started to end. The figure: growth from the first checkpoint (where the server has
    settled: caches filled, the history loaded) to the last, against the 10% target."""
    client, token = signed_in(url, people[0][0])
    moving = [list(item) for item in movable(board)[:20]]
    skus = cards_in(board, "sku", "planning")[:20]
    curve, refused = [], []
    began = time.perf_counter()
    for i in range(1, total + 1):
        path, data = memory_action(i, moving, skus)
        answer = client.post(path, data={"csrf": token, **data}, headers={"Accept": "application/json"})
        if not answer.headers.get("content-type", "").startswith("application/json") or not answer.json().get("ok"):
            refused.append(f"{path}: {answer.status_code} {answer.text[:200]}")
        if i % checkpoint == 0:
            settle(client)
            curve.append((i, round(server.rss_mb(), 1)))
            log(f"  after {i} actions ({i / (time.perf_counter() - began):.1f}/s, {len(refused)} refused): "
                f"RSS {curve[-1][1]} MB")
    client.close()
    for line in refused[:5]:
        log(f"    refused: {line}")
    first, last = curve[0][1], curve[-1][1]
    growth = round((last - first) / first, 3)
    verdict = "met" if growth <= TARGETS["memory_growth"] else "not met"
    log(f"  RSS after {curve[0][0]} actions {first} MB, after {curve[-1][0]} {last} MB: growth {growth:+.1%} "
        f"(target <= {TARGETS['memory_growth']:.0%}: {verdict}); lowest {min(m for _, m in curve)} MB, "
        f"highest {max(m for _, m in curve)} MB")
    return {"curve": curve, "after_first": first, "after_all": last, "growth": growth, "refused": len(refused),
            "actions": total, "seconds": round(time.perf_counter() - began, 1)}


def memory_action(i: int, moving: list[list[str]], skus: list[str]) -> tuple[str, dict]:
    """The i-th action of the memory phase: a move, a tick (or untick) or a note, in turn."""
    kind = i % 3
    if kind == 0:
        item = moving[i % len(moving)]
        item[2], item[3] = item[3], item[2]
        return f"/__mdboard/cards/{item[1]}/move", {"to": item[2], "from": item[3]}
    card = skus[i % len(skus)]
    if kind == 1:
        return f"/__mdboard/cards/{card}/tick", {"item": "1", "done": str((i // 3) % 2)}
    return f"/__mdboard/cards/{card}/note", {"text": f"备注 {i}"}


def settle(client, quiet: float = 2.0, longest: float = 120.0) -> None:
    """Wait until the server's site has not changed for `quiet` seconds (the rebuilds the
    actions started have ended), at most `longest` seconds: RSS is read between rebuilds."""
    deadline = time.monotonic() + longest
    version = None
    while time.monotonic() < deadline:
        page = client.get("/index.html").text
        now = re.search(r'data-version="([^"]*)"', page)
        now = now.group(1) if now else ""
        if now == version:
            return
        version = now
        time.sleep(quiet)


# --- the run -----------------------------------------------------------------------------------------


def run(args, log=print) -> dict:
    work = Path(tempfile.mkdtemp(prefix="mdboard-team-bench-"))
    try:
        return measure(args, work, log)
    finally:
        if not args.keep:  # the generated board and the accounts: nothing left behind in /tmp
            import shutil

            shutil.rmtree(work, ignore_errors=True)


def measure(args, work: Path, log) -> dict:
    env = {**os.environ, "XDG_STATE_HOME": str(work / "state")}
    os.environ["XDG_STATE_HOME"] = env["XDG_STATE_HOME"]
    board = args.board or make_board(work / "board", args.cards, args.commits, args.seed)
    log(f"board: {board}")
    people = make_accounts(board)
    server = Server(board, env)
    report = {"cards": args.cards, "commits": args.commits}
    try:
        log(f"server: {server.url} (RSS {server.rss_mb():.1f} MB after the first build)")
        if not args.memory_only:
            if args.moves > 0:
                log("1. move in one browser -> commit, and -> the column in a second browser")
                report["browser"] = browser_moves(server.url, board, people, args.moves, log)
            if args.people > 0:
                low, high = args.think
                log(f"2. {args.people} people acting at once (each thinks {low:g}-{high:g} s between actions)")
                report["load"] = people_at_once(server.url, board, people, args.people, args.actions, log,
                                                think=(low, high), server=server)
            if args.capacity:
                log(f"2b. capacity, NOT a human pace: {args.people} people acting back to back")
                report["capacity"] = people_at_once(server.url, board, people, args.people, args.actions, log,
                                                    seed=8, think=None, server=server)
        if args.memory_actions >= args.checkpoint > 0:
            log(f"3. memory over {args.memory_actions} actions")
            report["memory"] = memory(server.url, board, server, people, args.memory_actions, args.checkpoint, log)
    finally:
        server.stop()
    report["targets"] = TARGETS
    return report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cards", type=int, default=10000)
    parser.add_argument("--commits", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--board", type=Path, help="use this board (a scratch copy: it gets commits)")
    parser.add_argument("--moves", type=int, default=21, help="browser moves measured")
    parser.add_argument("--people", type=int, default=30)
    parser.add_argument("--actions", type=int, default=12, help="actions per simulated person")
    parser.add_argument("--think", type=float, nargs=2, default=(0.5, 3.0), metavar=("MIN", "MAX"),
                        help="seconds each simulated person thinks between actions (default 0.5 3)")
    parser.add_argument("--capacity", action="store_true",
                        help="also the server's capacity: the people acting back to back (not a human pace)")
    parser.add_argument("--memory-actions", type=int, default=10000, help="0: no memory phase")
    parser.add_argument("--checkpoint", type=int, default=1000,
                        help="RSS read every this many actions; growth is from the first to the last")
    parser.add_argument("--memory-only", action="store_true", help="only the memory phase (no browser, no 30 people)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder (board, accounts) afterwards")
    parser.add_argument("--save", type=Path)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    report = run(args, log=(lambda line: print(line, file=sys.stderr)) if args.json else print)
    if args.save:
        args.save.write_text(json.dumps(report, ensure_ascii=False, indent=2), "utf-8")
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
