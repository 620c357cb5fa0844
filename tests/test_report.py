"""Retrospective figures from a known history: lead and cycle time, time in state, throughput, late share."""

from __future__ import annotations

import json
import re
from datetime import datetime

import pytest

from mdboard.git.history import load_history
from mdboard.domain.report import compute_report, percentile
from mdboard.core.store import Board

from conftest import git



def test_percentile_interpolates_between_ranks():
    assert percentile([], 0.5) is None
    assert percentile([3.0], 0.85) == 3.0
    assert percentile([1.0, 2.0], 0.5) == 1.5
    assert percentile([0.75, 1.0, 1.0, 2.0, 2.0], 0.85) == 2.0
    assert percentile([10.0, 0.0, 5.0], 0.85) == pytest.approx(8.5)


def test_report_figures_of_a_known_history(shop, cli):
    board = Board.open(str(shop))
    data = compute_report(board, load_history(board))
    sku = data["types"]["sku"]
    assert sku["lead_time_days"] == {"median": 5.5, "p85": 5.85, "count": 2}
    assert sku["cycle_time_days"] == {"median": 4.0, "p85": 4.0, "count": 2}
    assert (sku["finished"], sku["late"], sku["with_due"], sku["late_share"]) == (2, 1, 2, 0.5)
    assert sku["throughput"] == [{"week": "2026-W46", "start": "2026-11-09", "count": 0}][:0] + [
        {"week": "2026-W47", "start": "2026-11-16", "count": 1},
        {"week": "2026-W48", "start": "2026-11-23", "count": 1}]
    # planning: 0001 1d, 0002 1d, 0003 2d, 0004 2d, 0005 18h
    # shooting: 0001 1d, 0002 1d, 0003 12h, 0004 11-20 10:00 -> now (4d 23h)
    # content: 0001 11-12 10:00 -> now (12d 23h), 0002 1d, 0003 12h; review: 0002 2d, 0003 3d
    assert sku["time_in_state_days"] == {
        "planning": {"label": "规划中", "median": 1.0, "p85": 2.0, "total": 6.75},
        "shooting": {"label": "拍摄中", "median": 1.0, "p85": 3.18, "total": 7.46},
        "content": {"label": "文案详情", "median": 1.0, "p85": 9.37, "total": 14.46},
        "review": {"label": "待审核", "median": 2.5, "p85": 2.85, "total": 5.0},
    }
    assert sku["cycle_points"] == [
        {"card": "SKU-0002", "title": "蓝牙耳机", "finished": "2026-11-21", "days": 4.0},
        {"card": "SKU-0003", "title": "充电宝", "finished": "2026-11-23", "days": 4.0}]
    flow = {row["date"]: row["counts"] for row in sku["cumulative_flow"]}
    assert sku["cumulative_flow"][0]["date"] == "2026-11-10" and sku["cumulative_flow"][-1]["date"] == "2026-11-25"
    assert flow["2026-11-10"] == {"planning": 1, "shooting": 0, "content": 0, "review": 0, "listed": 0}
    assert flow["2026-11-21"] == {"planning": 0, "shooting": 1, "content": 1, "review": 1, "listed": 1}
    assert flow["2026-11-25"] == {"planning": 1, "shooting": 1, "content": 1, "review": 0, "listed": 2}
    assert data["after_sales"] == {"resolved": 2, "median_hours": 36.0, "p85_hours": 44.4, "within_due": 1,
                                   "with_due": 2, "within_due_share": 0.5}
    load = {row["person"]: (row["open"], row["overdue"], row["by_type"]) for row in data["load"]}
    assert load == {"wangli": (0, 0, {}), "zhaomin": (1, 1, {"sku": 1}), "chenjing": (1, 0, {"sku": 1}),
                    "liuyang": (1, 0, {"sku": 1}), "sunli": (2, 1, {"issue": 2}), "zhougang": (0, 0, {})}
    assert data["types"]["campaign"]["lead_time_days"] == {"median": None, "p85": None, "count": 0}
    assert (data["since"], data["until"]) == (None, None)


def test_report_window_and_type_through_the_cli(shop, cli):
    result = cli("report", "--json", "--type", "上新", "--since", "2026-11-21", "--until", "2026-11-22")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert list(data["types"]) == ["sku"] and (data["since"], data["until"]) == ("2026-11-21", "2026-11-22")
    sku = data["types"]["sku"]
    assert sku["finished"] == 1 and sku["lead_time_days"] == {"median": 5.0, "p85": 5.0, "count": 1}
    assert sku["throughput"] == [{"week": "2026-W47", "start": "2026-11-16", "count": 1}]
    # clipped to 11-21 00:00 .. 11-23 00:00: 0002 waited in review until 11-21 10:00, 0003 the whole 2 days
    assert sku["time_in_state_days"]["review"] == {"label": "待审核", "median": 1.21, "p85": 1.76, "total": 2.42}
    assert sku["time_in_state_days"]["planning"] == {"label": "规划中", "median": None, "p85": None, "total": 0}
    assert [row["date"] for row in sku["cumulative_flow"]] == ["2026-11-21", "2026-11-22"]
    assert data["after_sales"]["resolved"] == 1


def test_report_table_in_a_terminal_process(shop, cli):
    proc = cli.proc("report")
    assert proc.returncode == 0, proc.stderr
    assert "复盘" in proc.stdout and "上新" in proc.stdout
    assert "5.5 / 5.85" in proc.stdout and "50% (1/2)" in proc.stdout
    assert "每周完成：2026-W47:1  2026-W48:1" in proc.stdout
    assert "售后：解决 2 件，中位用时 36 小时，按时解决 50% (1/2)" in proc.stdout


def test_bad_report_options_say_what_to_write(shop, cli):
    result = cli("report", "--since", "上周")
    assert result.exit_code == 2
    assert result.output.startswith("错误：看不懂时间「上周」")
    result = cli("report", "--type", "nope")
    assert (result.exit_code, result.output) == (2, "错误：没有卡片类型「nope」（可选：上新、活动提报、售后、素材）\n")


def test_report_tables_on_a_terminal(shop, monkeypatch):
    import io
    import sys

    from mdboard.cli.history import print_report

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    screen = Terminal()
    monkeypatch.setattr(sys, "stdout", screen)
    monkeypatch.setenv("COLUMNS", "120")
    board = Board.open(str(shop))
    data = compute_report(board, load_history(board), charts=False)
    assert data["types"]["sku"]["cumulative_flow"] == [] and data["types"]["sku"]["cycle_points"] == []
    print_report(board, data)
    import re

    text = re.sub(r"\x1b\[[0-9;]*m", "", screen.getvalue())
    assert "┃ 类型" in text and "│ 上新     │ 2    │ 5.5 / 5.85" in text
    assert "上新：各状态停留时间" in text and "│ 待审核   │ 2.5" in text


def test_a_warm_report_reads_only_the_steps_and_says_what_a_cold_one_says(shop):
    """The cache keeps each card's steps apart: a warm report unpickles those, not every event."""
    board = Board.open(str(shop))
    cold = load_history(board)
    assert cold.rebuilt and cold.read_commits > 0
    warm = load_history(Board.open(str(shop)))
    assert warm.read_commits == 0
    assert compute_report(board, warm) == compute_report(board, cold)
    assert warm._rows is None  # the rows part was never loaded
    assert [e.action for e in warm.for_card("SKU-0002")] == [e.action for e in cold.for_card("SKU-0002")]


def test_the_report_leaves_the_garbage_collector_as_the_program_set_it(shop, monkeypatch):
    """The collector's policy is the entry point's (tests/test_layout.py): a build inside
    `serve` computes the report with it on, a one-shot command with it off, and the report
    switches it neither way, also not after an error."""
    import gc

    board = Board.open(str(shop))
    history = load_history(board)
    seen = []
    steps = history.steps
    monkeypatch.setattr(history, "steps", lambda: seen.append(gc.isenabled()) or steps())
    enabled = gc.isenabled()
    try:
        gc.enable()
        assert compute_report(board, history)["types"]
        assert seen == [True] and gc.isenabled()
        monkeypatch.setattr(board, "by_id", lambda: 1 / 0)
        with pytest.raises(ZeroDivisionError):
            compute_report(board, history)
        assert gc.isenabled()
        gc.disable()
        fresh = Board.open(str(shop))
        assert compute_report(fresh, load_history(fresh))["types"] and not gc.isenabled()
    finally:
        (gc.enable if enabled else gc.disable)()


def _fresh_report(root, **window):
    """The report worked out from nothing: no history cache, no facts cache, none in memory."""
    from mdboard.domain import report
    from mdboard.git.history import clear_cache

    board = Board.open(str(root))
    clear_cache(board)
    report._KEPT.clear()
    from mdboard.core import cache

    cache.remove(board.state_dir / report.FACTS_NAME)
    cache.remove(board.state_dir / report.CARDS_NAME)
    return compute_report(board, load_history(board), **window)


def test_facts_at_a_newer_head_are_worked_out_for_the_touched_cards_only(shop, cli, monkeypatch):
    """A report after a few commits reads only those commits and works out again only the
    facts of the cards they touch; the figures are those of a report made from nothing, in a
    new process (the facts cache on disk) as in the same one (the facts kept in memory)."""
    from mdboard.domain import report

    board = Board.open(str(shop))
    before = compute_report(board, load_history(board))
    monkeypatch.setenv("GIT_AUTHOR_DATE", "2026-11-24T16:00:00+08:00")
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2026-11-24T16:00:00+08:00")
    cli.ok("--as", "zhaomin", "move", "SKU-0004", "content")
    cli.ok("--as", "chenjing", "set", "SKU-0005", "title=快充头 65W")
    cli.ok("--as", "sunli", "set", "AS-0003", "resolution=退款")
    cli.ok("--as", "sunli", "move", "AS-0003", "resolved")
    made = []
    real = report._fact
    monkeypatch.setattr(report, "_fact", lambda track, *rest: made.append(track.card) or real(track, *rest))
    for in_memory in (True, False):
        made.clear()
        if not in_memory:
            report._KEPT.clear()
            report.cache.remove(board.state_dir / report.FACTS_NAME)
            report.cache.remove(board.state_dir / report.CARDS_NAME)
            board = Board.open(str(shop))
            compute_report(board, load_history(board))  # the facts of the last head, on disk only
            report._KEPT.clear()
            cli.ok("--as", "zhaomin", "move", "SKU-0004", "shooting")
            made.clear()
        board = Board.open(str(shop))
        history = load_history(board)
        assert not history.rebuilt and history.read_commits in (1, 4)
        after = compute_report(board, history)
        assert sorted(made) == (["AS-0003", "SKU-0004", "SKU-0005"] if in_memory else ["SKU-0004"])
        assert after == _fresh_report(shop) != before
    assert after["after_sales"]["resolved"] == before["after_sales"]["resolved"] + 1


def test_facts_are_worked_out_again_when_history_is_rewritten_or_the_states_change(shop, cli):
    """Another lineage of the history cache (an amended commit) or another configuration of
    states: the figures are those of a report made from nothing."""
    board = Board.open(str(shop))
    compute_report(board, load_history(board))
    git(shop, "commit", "-q", "--amend", "-m", "快充头 (amended)")
    board = Board.open(str(shop))
    history = load_history(board)
    assert history.rebuilt
    assert compute_report(board, history) == _fresh_report(shop)
    config = shop / "mdboard.yaml"
    text, found = re.subn(r"(?m)^timezone: .*$", "timezone: Europe/Berlin", config.read_text("utf-8"))
    config.write_text(text if found else "timezone: Europe/Berlin\n" + text, "utf-8")
    board = Board.open(str(shop))
    assert board.config.timezone == "Europe/Berlin"
    moved = compute_report(board, load_history(board))
    assert moved == _fresh_report(shop)


def test_time_in_state_from_the_facts_is_the_time_in_state_of_the_tracks(shop):
    """Without --since, the time in each state comes from the tallies kept with the facts:
    the very figures the stays of the tracks give."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from mdboard.domain.report import Days, Window, _time_in_state, _time_in_state_whole, report_facts

    board = Board.open(str(shop))
    facts = report_facts(board, load_history(board))
    for end in (datetime(2026, 11, 25, 9, tzinfo=ZoneInfo("Asia/Shanghai")),
                datetime(2030, 1, 1, tzinfo=ZoneInfo("Asia/Shanghai"))):
        for key, ctype in board.config.types.items():
            mine = facts.by_type().get(key, [])
            window = Window(None, end, Days(board.config.timezone))
            assert _time_in_state_whole(ctype, facts.whole[key], end.timestamp()) == _time_in_state(
                ctype, facts.tracks_of(mine), window)


def test_the_cards_changed_since_the_snapshot_are_read_with_it(shop, cli, monkeypatch):
    """After a commit only the small cache file is written (the cards it changed ride along);
    a later process reads the snapshot and those changes together, and a snapshot is written
    again once enough cards changed."""
    from mdboard.domain import report

    def fresh_process_report(**window):
        report._KEPT.clear()
        board = Board.open(str(shop))
        return compute_report(board, load_history(board), **window)

    board = Board.open(str(shop))
    snapshot = board.state_dir / report.CARDS_NAME
    mine = lambda: report.cache._mine(snapshot, report.cache._key()).read_bytes()  # noqa: E731
    fresh_process_report()
    made = mine()
    monkeypatch.setenv("GIT_AUTHOR_DATE", "2026-11-24T16:00:00+08:00")
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2026-11-24T16:00:00+08:00")
    cli.ok("--as", "zhaomin", "move", "SKU-0004", "content")
    fresh_process_report()
    cli.ok("--as", "chenjing", "set", "SKU-0005", "title=快充头 65W")
    fresh_process_report()
    assert mine() == made
    window = {"since": datetime(2026, 11, 18, tzinfo=_zone())}
    assert fresh_process_report() == _fresh_report(shop)
    assert fresh_process_report(**window) == _fresh_report(shop, **window)
    monkeypatch.setattr(report, "SNAPSHOT_AFTER", 0)
    cli.ok("--as", "zhaomin", "move", "SKU-0004", "shooting")
    assert fresh_process_report() == _fresh_report(shop)
    assert mine() != made


def _zone():
    from zoneinfo import ZoneInfo

    return ZoneInfo("Asia/Shanghai")


def test_a_report_after_a_commit_reads_the_tail_of_the_history_only(shop, cli, monkeypatch):
    """With the facts of the last head at hand, a report after a commit reads the steps of
    the commits after the history cache's base (its tail), never the base's rows or steps,
    and says what a report made from nothing says."""
    from mdboard.git import history as history_module

    board = Board.open(str(shop))
    compute_report(board, load_history(board))
    monkeypatch.setenv("GIT_AUTHOR_DATE", "2026-11-24T16:00:00+08:00")
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2026-11-24T16:00:00+08:00")
    cli.ok("--as", "zhaomin", "move", "SKU-0004", "content")
    with monkeypatch.context() as patched:
        for name in ("rows", "steps"):
            patched.setattr(history_module._Base, name, lambda *a, **k: pytest.fail("read the base"))
        board = Board.open(str(shop))
        history = load_history(board)
        after = compute_report(board, history)
    assert history.read_commits == 1 and history._rows is None
    assert after == _fresh_report(shop)
