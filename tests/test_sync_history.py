"""After `mdboard sync`, each card's history tells its own true story (issue 13, fault 4).

Two clones and a bare remote; the commits' times are set so the story has a fixed order.
"""

from __future__ import annotations

import re

import pytest

from conftest import git
from mdboard.domain import report
from mdboard.git.history import describe, load_history
from mdboard.core.store import Board
from test_history import at  # noqa: F401  (fixture: the date of the next commits)
from test_sync import Team, ok


def story(root, card_id: str) -> list[str]:
    board = Board.open(str(root))
    return [describe(e, board) for e in load_history(board).for_card(card_id)]


def test_two_offline_creations_each_keep_their_own_history_after_renumbering(tmp_path, board, at):
    at("2026-11-16T09:00:00+08:00")
    team = Team(tmp_path, board)
    a, b = team.clones["a"], team.clone("b")
    at("2026-11-16T10:00:00+08:00")
    ok(a("new", "sku", "王丽的新品", "--owner", "wangli"))
    at("2026-11-16T11:00:00+08:00")
    ok(b("new", "sku", "赵敏的新品", "--owner", "zhaomin"))
    at("2026-11-17T10:00:00+08:00")
    ok(b("move", "SKU-0001", "shooting"))
    for cli in (a, b):
        assert len(story(cli.root, "SKU-0001")) >= 1  # both clones have a history cache from before the sync
    at("2026-11-18T10:00:00+08:00")
    ok(a("sync"))
    assert "你新建的卡片 SKU-0001 改号为 SKU-0002" in ok(b("sync")).output
    assert "  SKU-0002 赵敏的新品：新建，在「拍摄中」，由 SKU-0001 改号（赵敏）\n" in ok(a("sync")).output
    for cli in (a, b):
        tracks = report.tracks(load_history(Board.open(str(cli.root))))
        assert (tracks["SKU-0001"].title, tracks["SKU-0002"].title) == ("王丽的新品", "赵敏的新品")
        assert story(cli.root, "SKU-0001") == ["王丽 新建了 SKU-0001「王丽的新品」"]
        assert story(cli.root, "SKU-0002") == [
            "赵敏 新建了 SKU-0002「赵敏的新品」（当时编号 SKU-0001）",
            "赵敏 把 SKU-0002 从「规划中」移到「拍摄中」（当时编号 SKU-0001）",
            "赵敏 把 SKU-0001 重新编号为 SKU-0002"]
        assert ok(cli("history", "SKU-0002")).output.splitlines()[0] == (
            "2026-11-16 11:00  赵敏 新建了 SKU-0002「赵敏的新品」（当时编号 SKU-0001）")

    ok(a("build"))
    page = (a.root / "_site/index.html").read_text("utf-8")
    recent = page[page.index('id="recent-h"'):]
    links = re.findall(r'<a href="cards/([^"]+)\.html"><span class="card-id">[^<]+</span></a> ([^<]+)</li>', recent)
    assert ("SKU-0001", "王丽 新建了 SKU-0001「王丽的新品」") in links
    assert ("SKU-0002", "赵敏 新建了 SKU-0002「赵敏的新品」（当时编号 SKU-0001）") in links
    assert not [link for link in links if link[0] == "SKU-0001" and "赵敏" in link[1]]


PICKS = [("theirs", "a", True), ("theirs", "b", True), ("ours", "a", True), ("ours", "b", True),
         ("theirs", "b", False), ("ours", "a", False)]


@pytest.mark.parametrize("side,later,collide", PICKS)
def test_the_history_of_a_card_resolved_with_a_picked_side_ends_where_the_card_is(tmp_path, board, at, side,
                                                                                   later, collide):
    """A moved MAT-0001 to 已定稿, B to 已上线, each offline (and with `collide` each also creating
    a card, so sync merges instead of rebasing). B picks a side; the card's history ends in
    the state the card is in, whichever move was made later."""
    at("2026-11-16T09:00:00+08:00")
    team = Team(tmp_path, board)
    a = team.clones["a"]
    ok(a("new", "asset", "主图", "--owner", "wangli", "--set", "kind=主图"))
    ok(a("move", "MAT-0001", "review"))
    ok(a("sync"))
    b = team.clone("b")
    times = {"a": "2026-11-17T10:00:00+08:00", "b": "2026-11-17T11:00:00+08:00"}
    if later == "a":
        times = {"a": times["b"], "b": times["a"]}
    at(times["a"])
    ok(a("move", "MAT-0001", "ready"))
    at(times["b"])
    ok(b("move", "MAT-0001", "live"))
    if collide:
        ok(a("new", "sku", "王丽的新品", "--owner", "wangli"))
        ok(b("new", "sku", "赵敏的新品", "--owner", "zhaomin"))
    at("2026-11-18T10:00:00+08:00")
    ok(a("sync"))
    stopped = b("sync")
    assert stopped.exit_code == 1
    assert "MAT-0001 主图：你把它移到了「已上线」，王丽把它移到了「已定稿」。" in stopped.output
    assert "renumber" not in git(b.root, "log", "--format=%s")  # stopped before changing anything
    picked = ok(b("sync", f"--{side}", "MAT-0001")).output
    assert ("你新建的卡片 SKU-0001 改号为 SKU-0002" in picked) == collide
    ok(a("sync"))
    state, label = ("ready", "已定稿") if side == "theirs" else ("live", "已上线")
    for cli in (a, b):
        assert Board(cli.root).get("MAT-0001").state == state
        events = load_history(Board.open(str(cli.root))).for_card("MAT-0001")
        assert [e.to_state for e in events if e.action in ("created", "moved")][-1] == state
        last = ok(cli("history", "MAT-0001")).output.splitlines()[-1]
        assert last.endswith(f"移到「{label}」"), last
        if collide:  # the choice, a commit of its own made by the sync
            assert last.startswith("2026-11-18 10:00  赵敏 把 MAT-0001 从「")
