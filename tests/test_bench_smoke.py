"""The benchmark, small: the generator makes a valid, reproducible board with a real history,
and one pass of the harness measures every operation it lists (none may be missing).

The full run (10,000 cards, 20,000 commits) is `make bench`; this keeps it from rotting.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, git
from mdboard.core import cardfile

CARDS, COMMITS = 200, 400
ARCHIVE_DAYS = 7  # so that a board of 60 days has archived cards too
CORE = {"--help", "ls (cold)", "ls (warm)", "check (cold)", "check (warm)", "mine wangli", "new", "move", "set"}


def bench_run():
    """bench/run.py as a module."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_run", REPO / "bench" / "run.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def bench_operations() -> list[str]:
    """The names of every operation bench/run.py measures, in order (read from the harness itself)."""
    return [op.name for op in bench_run().operations()]


def test_a_cold_report_finds_neither_the_history_nor_the_reports_cache(tmp_path):
    """`report (cold)` removes every cache a report reads from before: the history's and the
    report's own (each card's facts), or a cold run would be a warm one."""
    from mdboard.core import cache
    from mdboard.domain import report
    from mdboard.git import history

    state = tmp_path / ".git" / "mdboard"
    state.mkdir(parents=True)
    for name in (history.CACHE_NAME, report.FACTS_NAME, report.CARDS_NAME, "parse.cache"):
        assert cache.save(state / name, "x", 1, name)
    session = bench_run().Session(tmp_path, 1, {})
    bench_run()._cold_history(session, 0)
    assert [p.name.split(".")[0] for p in state.iterdir()] == ["parse"]


def generate(out: Path, seed: int = 7) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "bench" / "generate.py"), "--cards", str(CARDS),
                           "--commits", str(COMMITS), "--seed", str(seed), "--archive-days", str(ARCHIVE_DAYS),
                           str(out)],
                          capture_output=True, text=True)


def mdboard(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).with_name("mdboard")), *args], cwd=root,
                          capture_output=True, text=True)


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("bench") / "board"
    proc = generate(root)
    assert proc.returncode == 0, proc.stderr
    assert f"{CARDS} cards ({len(archived(root))} archived), {COMMITS} commits" in proc.stdout
    return root


def archived(root: Path) -> list[Path]:
    return list(root.glob("*/*/[12][0-9][0-9][0-9]/*.md"))


def card_files(root: Path) -> list[Path]:
    return list(root.glob("*/*/*.md")) + archived(root)


def test_board_has_the_asked_size_and_a_clean_work_tree(big):
    assert len(card_files(big)) == CARDS
    assert git(big, "rev-list", "--count", "HEAD") == str(COMMITS)
    assert git(big, "status", "--porcelain") == ""
    assert {p.parent.parent.name for p in big.glob("*/*/*.md")} == {"sku", "campaign", "issue", "asset"}


def test_cards_finished_long_ago_are_archived_in_their_states_year_folders(big):
    """As `mdboard archive` does once a month: `<type>/<done state>/<year>/<ID>.md`."""
    files = archived(big)
    assert len(files) > CARDS // 5
    done = {("sku", "listed"), ("campaign", "finished"), ("issue", "archived"), ("asset", "live")}
    assert {(p.parent.parent.parent.name, p.parent.parent.name) for p in files} <= done
    subjects = git(big, "log", "--format=%s").splitlines()
    assert any(s.startswith("归档 ") and s.endswith(f"张完成超过 {ARCHIVE_DAYS} 天的卡片") for s in subjects)


def test_board_checks_clean_even_strict(big):
    proc = mdboard(big, "check", "--strict", "--archived")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout == ""
    assert f"检查了 {CARDS} 张卡片：0 个错误" in proc.stderr
    proc = mdboard(big, "check", "--strict")
    assert proc.returncode == 0 and proc.stdout == ""
    assert f"检查了 {CARDS - len(archived(big))} 张卡片：0 个错误" in proc.stderr


def test_cards_are_written_as_mdboard_writes_them(big):
    """Parsing a card and writing it again with mdboard's own writer gives the same bytes."""
    for path in card_files(big):
        text = path.read_text("utf-8")
        parsed = cardfile.parse(text)
        assert cardfile.new_card_text(parsed.meta, parsed.body) == text, path


def test_history_has_mdboard_commits_with_trailers_and_hand_commits(big):
    log = git(big, "log", "--format=%an <%ae>%x1f%B%x1e")
    commits = [c.strip() for c in log.split("\x1e") if c.strip()]
    assert len(commits) == COMMITS
    bodies = [c.split("\x1f", 1)[1] for c in commits]
    actions = {line.split(": ", 1)[1] for b in bodies for line in b.splitlines() if line.startswith("Action: ")}
    assert {"init", "new", "move", "set", "assign", "edit", "archive"} <= actions
    assert any("Card: " not in b for b in bodies), "some commits are plain hand commits"
    moves = [b for b in bodies if b.startswith("move ")]
    assert all("\nFrom: " in b and "\nTo: " in b for b in moves)
    authors = {c.split("\x1f", 1)[0] for c in commits}
    assert len(authors) >= 6
    assert git(big, "log", "--reverse", "--format=%s").splitlines()[0] == "init: mdboard board"


def test_same_seed_gives_the_same_commits_and_another_seed_does_not(big, tmp_path):
    assert generate(tmp_path / "again").returncode == 0
    assert git(tmp_path / "again", "rev-parse", "HEAD") == git(big, "rev-parse", "HEAD")
    assert generate(tmp_path / "other", seed=8).returncode == 0
    assert git(tmp_path / "other", "rev-parse", "HEAD") != git(big, "rev-parse", "HEAD")


def test_generator_refuses_a_folder_that_is_not_empty(tmp_path):
    (tmp_path / "x.txt").write_text("keep me", "utf-8")
    proc = generate(tmp_path)
    assert proc.returncode != 0
    assert "is not empty" in proc.stderr
    assert (tmp_path / "x.txt").read_text("utf-8") == "keep me"


def test_one_pass_of_the_harness_measures_every_operation(big, tmp_path):
    head = git(big, "rev-parse", "HEAD")
    saved = tmp_path / "results.json"
    proc = subprocess.run([sys.executable, str(REPO / "bench" / "run.py"), "--board", str(big), "--runs", "1",
                           "--json", "--save", str(saved)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads(proc.stdout)
    assert json.loads(saved.read_text("utf-8")) == report
    assert report["board"]["cards"] == CARDS and report["board"]["commits"] == COMMITS
    assert report["board"]["archived"] == len(archived(big))
    assert report["floor"]["status"] == "ok" and report["floor"]["median"] > 0
    ops = {op["name"]: op for op in report["operations"]}
    assert list(ops) == ["floor (read open card bytes)"] + bench_operations()
    assert CORE | {"build (full)", "build (one card changed)", "report (cold)", "report (warm)", "history ID",
                   "report (after a move)", "history ID (after a move)", "standup"} <= set(ops)
    for name, op in ops.items():  # a command that fails to import shows as "missing": that is a failure here
        assert op["status"] == "ok", (name, op.get("detail"))
        assert op["median"] > 0 and op["rss_mb"] > 0 and op["runs"] == 1, name
        assert op["floor_ratio"] > 0, name
    assert ops["--help"]["result"] in ("PASS", "MISS")
    # the harness measured a clone: the board itself is untouched
    assert git(big, "rev-parse", "HEAD") == head
    assert git(big, "status", "--porcelain") == ""

    # the saved figures print again as the Markdown table of docs/benchmarks.md
    shown = subprocess.run([sys.executable, str(REPO / "bench" / "run.py"), "--show", str(saved), "--markdown"],
                           capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0] == (f"**{CARDS} cards ({len(archived(big))} archived), {COMMITS} commits, 1 runs each "
                        "(after one warm-up)**")
    assert "| operation | median s | min s | max s | CPU s | × floor | peak RSS MB | target | result |" in lines
    assert any(line.startswith("| --help | ") and line.endswith((" PASS |", " MISS (time) |")) for line in lines)
    assert sum(line.startswith("| ") for line in lines) == 1 + 1 + len(ops)  # header, floor, operations


def test_the_commits_the_harness_makes_are_dated_just_before_its_now(big, tmp_path):
    """A move the harness makes (before `report (after a move)`) is dated a minute before the
    MDBOARD_NOW its commands see, not at the real clock: a report after it then finds every
    step inside its window, as a shop's report after a move does."""
    board = tmp_path / "board"
    subprocess.run(["git", "clone", "-q", str(big), str(board)], check=True)
    for key, value in (("user.name", "bench"), ("user.email", "bench@example.com")):
        git(board, "config", key, value)
    run = bench_run()
    session = run.Session(board, 1, {"today": "2026-11-25T09:00:00+08:00"})
    run._pick_moves(session)
    run._move_one(session, 0)
    assert git(board, "log", "-1", "--format=%aI %cI %s").startswith(
        "2026-11-25T08:59:00+08:00 2026-11-25T08:59:00+08:00 move ")
