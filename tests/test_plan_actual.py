"""Plan against actual: a campaign page shows its plan's cards done / total, a Gantt of planned
against actual dates and the steps that slipped, with actual dates read from git history
(a board whose commits are back-dated with GIT_AUTHOR_DATE / GIT_COMMITTER_DATE)."""

from __future__ import annotations

import re
from datetime import date

import pytest

from conftest import git
from mdboard.core.store import Board
from mdboard.domain.plans import main_card, plan_members, plan_progress
from mdboard.git.history import load_history
from test_playbooks import EIGHT, add_designer, write_playbook


def at(monkeypatch, day: str, hour: str = "10:00:00") -> None:
    """Commits made from now on are dated `day` (and mdboard's "today" is that day)."""
    moment = f"{day}T{hour}+08:00"
    monkeypatch.setenv("GIT_AUTHOR_DATE", moment)
    monkeypatch.setenv("GIT_COMMITTER_DATE", moment)
    monkeypatch.setenv("MDBOARD_NOW", moment)


@pytest.fixture
def campaign(board, cli, monkeypatch):
    """A plan made on 10-01 for a sale going live 11-11, worked on through October and November.

    MAT-0001 文案       due 10-27: making 10-20, live 10-26  (a day early)
    MAT-0002 主图 SKU-1 due 10-30: making 10-25, live 11-02  (3 days late)
    MAT-0003 主图 SKU-2 due 10-30: making 10-28, live 10-30  (on time)
    MAT-0004 详情页 SKU-1 due 10-31, moved to 11-03 on 10-15: live 11-04 (4 days late against the plan)
    MAT-0005 详情页 SKU-2 due 10-31: never started   (25 days past due on 11-25)
    MAT-0006 短视频     due 11-01: making 10-29      (24 days past due, not done)
    MAT-0007 客服话术   due 11-08: making 11-01, live 11-07 (a day early)
    """
    at(monkeypatch, "2026-09-30")
    add_designer(board)
    cli.ok("new", "sku", "S1 Pro 耳机", "--owner", "zhaomin")
    cli.ok("new", "sku", "PB20 充电宝", "--owner", "wangli")
    write_playbook(board, "test8", EIGHT)
    at(monkeypatch, "2026-10-01")
    cli.ok("plan", "test8", "--date", "上线=2026-11-11", "--sku", "SKU-0001,SKU-0002", "--apply")
    steps = [("2026-10-15", "set", "MAT-0004", "due=2026-11-03"),
             ("2026-10-20", "move", "MAT-0001", "making"), ("2026-10-25", "move", "MAT-0002", "making"),
             ("2026-10-26", "move", "MAT-0001", "live"), ("2026-10-27", "move", "MAT-0004", "making"),
             ("2026-10-28", "move", "MAT-0003", "making"), ("2026-10-29", "move", "MAT-0006", "making"),
             ("2026-10-30", "move", "MAT-0003", "live"), ("2026-11-01", "move", "MAT-0007", "making"),
             ("2026-11-02", "move", "MAT-0002", "live"), ("2026-11-04", "move", "MAT-0004", "live"),
             ("2026-11-07", "move", "MAT-0007", "live")]
    for day, *args in steps:
        at(monkeypatch, day)
        cli.ok("--as", "zhaomin", *args)
    at(monkeypatch, "2026-11-25", "09:00:00")
    for var in ("GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE"):
        monkeypatch.delenv(var)
    return board


def test_progress_reads_actual_dates_from_history(campaign):
    board = Board(campaign)
    members = plan_members(board.cards(), "test8-2027")
    assert members == []
    members = plan_members(board.cards(), "test8-2026")
    history = load_history(board)
    main = main_card("campaign", members)
    assert main.id == "CMP-0001"
    progress = plan_progress(board.config, "test8-2026", members, main, history.for_card, date(2026, 11, 25))
    rows = {r.card.id: r for r in progress.rows}
    assert (progress.done, progress.total) == (5, 7)
    assert {i: (r.planned_due, r.started, r.finished, r.slip, r.late_open) for i, r in rows.items()} == {
        "MAT-0001": (date(2026, 10, 27), date(2026, 10, 20), date(2026, 10, 26), -1, None),
        "MAT-0002": (date(2026, 10, 30), date(2026, 10, 25), date(2026, 11, 2), 3, None),
        "MAT-0003": (date(2026, 10, 30), date(2026, 10, 28), date(2026, 10, 30), 0, None),
        "MAT-0004": (date(2026, 10, 31), date(2026, 10, 27), date(2026, 11, 4), 4, None),
        "MAT-0005": (date(2026, 10, 31), None, None, None, 25),
        "MAT-0006": (date(2026, 11, 1), date(2026, 10, 29), None, None, 24),
        "MAT-0007": (date(2026, 11, 8), date(2026, 11, 1), date(2026, 11, 7), -1, None),
    }
    assert all(r.planned_start == date(2026, 10, 1) for r in progress.rows)
    assert [r.card.id for r in progress.slipped] == ["MAT-0005", "MAT-0006", "MAT-0004", "MAT-0002"]


def test_campaign_page_shows_plan_against_actual(campaign, cli):
    assert cli.ok("build").exit_code == 0
    page = (campaign / "_site/cards/CMP-0001.html").read_text("utf-8")
    section = page[page.index('<section class="plan"'):page.index("</section>", page.index('<section class="plan"'))]
    assert 'data-plan="test8-2026"' in section
    assert '<span class="count" data-done="5" data-total="7">完成 5 / 7</span>' in section
    rows = re.findall(r'data-step="(MAT-\d+)" data-late="(\d+)"', section)
    assert rows == [("MAT-0001", "0"), ("MAT-0002", "3"), ("MAT-0003", "0"), ("MAT-0004", "4"),
                    ("MAT-0005", "25"), ("MAT-0006", "24"), ("MAT-0007", "0")]
    slips = re.findall(r'<li data-slip="(MAT-\d+)" data-days="(\d+)">.*?</li>', section)
    assert slips == [("MAT-0005", "25"), ("MAT-0006", "24"), ("MAT-0004", "4"), ("MAT-0002", "3")]
    assert "晚了 3 天完成" in section and "晚了 4 天完成" in section and "已超期 25 天，还没完成" in section
    assert "提前 1 天完成" in section and "按时完成" in section
    assert "（计划截止 10月31日，实际完成 11月4日）" in section  # the plan's due, not the one moved later
    # planned and actual bars on one axis: the late main image's actual bar ends after its planned bar
    late = section[section.index('data-step="MAT-0002"'):section.index('data-step="MAT-0003"')]
    planned = re.search(r'plan-planned" style="left: ([\d.]+)%; width: ([\d.]+)%', late)
    actual = re.search(r'plan-actual" style="left: ([\d.]+)%; width: ([\d.]+)%', late)
    assert float(actual.group(1)) + float(actual.group(2)) > float(planned.group(1)) + float(planned.group(2))
    other = (campaign / "_site/cards/MAT-0002.html").read_text("utf-8")
    assert '<section class="plan"' not in other  # only the campaign's page shows the plan
    assert '<tr data-field="plan"><th scope="row">所属计划</th><td>test8-2026/main_image/SKU-0001</td></tr>' in other


def test_a_move_updates_the_campaign_page_on_rebuild(campaign, cli, monkeypatch):
    from mdboard.site.builder import SiteBuilder

    builder = SiteBuilder(Board(campaign))
    builder.build_all()
    cli.ok("--as", "zhaomin", "move", "MAT-0006", "live")
    builder.rebuild({"asset/making/MAT-0006.md", "asset/live/MAT-0006.md"})
    page = (campaign / "_site/cards/CMP-0001.html").read_text("utf-8")
    assert '<span class="count" data-done="6" data-total="7">完成 6 / 7</span>' in page


def test_a_corrected_sale_calendar_rebuilds_the_overview(board, cli):
    """The calendar is board data like the cards: `build` (and `serve`, which watches sales/ and
    playbooks/) remakes the overview when it changes."""
    from mdboard.serve.live import make_live_site
    from mdboard.site.builder import SiteBuilder

    builder = SiteBuilder(Board(board))
    builder.build_all()
    index = board / "_site/index.html"
    cny = lambda: re.search(r'<li class="sale phase-\w+" data-sale="cny-2027">.*?</li>', index.read_text("utf-8"),
                            re.S).group(0)
    assert "日期待确认" in cny() and "报名截止还有 18 天" in cny()
    path = board / "sales/2027.yaml"
    text = path.read_text("utf-8")
    cny_part = text[text.index("  cny:"):text.index('  "38":')]
    path.write_text(text.replace(cny_part, cny_part.replace("signup_end: 2026-12-13", "signup_end: 2026-12-10")
                                 .replace("confirmed: false", "confirmed: true")), "utf-8")
    report = builder.rebuild({"sales/2027.yaml"})
    assert "index.html" in report.written
    assert "日期待确认" not in cny() and "报名截止还有 15 天" in cny()
    live = make_live_site(Board(board), board / "_site", lambda line: None, builder)
    assert live._counts("sales/2027.yaml") and live._counts("playbooks/double11.yaml")
    assert not live._counts("notes/todo.yaml")
