"""The iCalendar feed: the events a known board gives, read back by two independent parsers."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
import vobject

from mdboard.calendar import board_calendar, board_host
from mdboard.errors import MdboardError
from mdboard.store import Board

from conftest import git

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def dated(board, cli):
    """A board with a campaign (every window and deadline), a timed after-sale case and SKUs."""
    steps = [
        ("new", "campaign", "双12", "--owner", "王丽", "--set", "platform=天猫",
         "--set", "signup_start=2026-11-20", "--set", "signup_end=2026-11-28",
         "--set", "materials_due=2026-12-01", "--set", "review_date=2026-12-05",
         "--set", "live_start=2026-12-10", "--set", "live_end=2026-12-12"),
        ("new", "issue", "退货未到", "--owner", "sunli", "--due", "2026-11-30 18:00",
         "--set", "platform=tmall", "--set", "order_no=889", "--set", "problem=物流", "--set", "helpers=王丽"),
        ("new", "sku", "羊毛大衣", "--owner", "zhaomin", "--due", "2026-12-03"),
        ("new", "sku", "没有日期的围巾", "--owner", "zhaomin"),
        ("new", "campaign", "年货节", "--owner", "liuyang", "--set", "platform=抖音",
         "--set", "signup_end=2026-12-20"),
    ]
    for step in steps:
        result = cli(*step)
        assert result.exit_code == 0, result.output
    return board


def events(data: bytes) -> dict:
    """UID -> VEVENT, parsed by icalendar."""
    cal = icalendar.Calendar.from_ical(data)
    return {str(e["uid"]): e for e in cal.walk("VEVENT")}


def test_board_feed_has_every_dated_field_as_one_event(dated):
    data = board_calendar(Board.open(str(dated)))
    host = board_host("我的店铺 运营看板")
    found = events(data)
    assert sorted(found) == sorted(f"{uid}@{host}" for uid in (
        "CMP-0001-signup", "CMP-0001-materials_due", "CMP-0001-review_date", "CMP-0001-live",
        "AS-0001-due", "SKU-0001-due", "CMP-0002-signup"))
    signup = found[f"CMP-0001-signup@{host}"]
    assert str(signup["summary"]) == "【活动提报】双12 报名开始～报名截止"
    assert signup.decoded("dtstart") == date(2026, 11, 20)
    assert signup.decoded("dtend") == date(2026, 11, 29)  # exclusive end: the 28th is included
    assert str(found[f"CMP-0001-materials_due@{host}"]["summary"]) == "【活动提报】双12 素材截止"
    live = found[f"CMP-0001-live@{host}"]
    assert (live.decoded("dtstart"), live.decoded("dtend")) == (date(2026, 12, 10), date(2026, 12, 13))
    # only the end of a window known: a one-day event named after that field
    lone = found[f"CMP-0002-signup@{host}"]
    assert str(lone["summary"]) == "【活动提报】年货节 报名截止"
    assert (lone.decoded("dtstart"), lone.decoded("dtend")) == (date(2026, 12, 20), date(2026, 12, 21))
    due = found[f"AS-0001-due@{host}"]
    assert str(due["summary"]) == "【售后】退货未到 预计解决时间"
    assert due.decoded("dtstart") == datetime(2026, 11, 30, 18, 0, tzinfo=SHANGHAI)
    assert "dtend" not in due
    assert str(due["description"]) == "编号: AS-0001\n状态: 新登记\n负责人: 孙丽"
    assert str(found[f"SKU-0001-due@{host}"]["summary"]) == "【上新】羊毛大衣 截止日期"


def test_a_second_parser_reads_the_same_events(dated):
    data = board_calendar(Board.open(str(dated)))
    cal = vobject.readOne(data.decode("utf-8"))
    parsed = {e.uid.value: e for e in cal.vevent_list}
    assert len(parsed) == 7
    assert parsed == {k: parsed[k] for k in events(data)}
    due = next(e for uid, e in parsed.items() if uid.startswith("AS-0001-due@"))
    assert due.dtstart.value.astimezone(SHANGHAI) == datetime(2026, 11, 30, 18, 0, tzinfo=SHANGHAI)
    signup = next(e for uid, e in parsed.items() if uid.startswith("CMP-0001-signup@"))
    assert (signup.dtstart.value, signup.dtend.value) == (date(2026, 11, 20), date(2026, 11, 29))
    assert signup.summary.value == "【活动提报】双12 报名开始～报名截止"
    assert [x.value for x in cal.contents["x-wr-timezone"]] == ["Asia/Shanghai"]


def test_same_bytes_and_uids_across_builds(dated, cli, monkeypatch):
    first = board_calendar(Board.open(str(dated)))
    monkeypatch.setenv("MDBOARD_NOW", "2027-03-01T10:00:00+08:00")
    assert board_calendar(Board.open(str(dated))) == first
    # a card moving on and being renamed updates its events instead of adding new ones
    assert cli("move", "SKU-0001", "shooting").exit_code == 0
    assert cli("set", "SKU-0001", "title=羊毛大衣(加厚)").exit_code == 0
    after = events(board_calendar(Board.open(str(dated))))
    assert sorted(after) == sorted(events(first))
    sku = next(e for uid, e in after.items() if uid.startswith("SKU-0001-due@"))
    assert str(sku["summary"]) == "【上新】羊毛大衣(加厚) 截止日期"
    assert "状态: 拍摄中" in str(sku["description"])
    assert after[str(sku["uid"])].decoded("dtstamp") == datetime(2026, 12, 3, tzinfo=ZoneInfo("UTC"))


def test_person_feed_has_their_own_and_helped_cards(dated):
    board = Board.open(str(dated))
    mine = events(board_calendar(board, "王丽"))
    assert sorted(uid.split("@")[0] for uid in mine) == [
        "AS-0001-due", "CMP-0001-live", "CMP-0001-materials_due", "CMP-0001-review_date", "CMP-0001-signup"]
    cal = icalendar.Calendar.from_ical(board_calendar(board, "zhaomin"))
    assert str(cal["x-wr-calname"]) == "我的店铺 运营看板 · 赵敏"
    assert [str(e["uid"]).split("@")[0] for e in cal.walk("VEVENT")] == ["SKU-0001-due"]
    assert events(board_calendar(board, "zhougang")) == {}


def test_unknown_person_is_an_error_with_a_suggestion(dated):
    with pytest.raises(MdboardError) as err:
        board_calendar(Board.open(str(dated)), "王力")
    assert str(err.value) == "名单里没有「王力」 (是不是「王丽」?)"


def test_invalid_and_backwards_dates_are_left_out(dated):
    path = dated / "sku" / "planning" / "SKU-0002.md"
    text = path.read_text("utf-8").replace("title: 没有日期的围巾", "title: 没有日期的围巾\ndue: 2026-02-30")
    path.write_text(text, "utf-8")
    camp = dated / "campaign" / "planned" / "CMP-0002.md"
    camp.write_text(camp.read_text("utf-8").replace("signup_end: 2026-12-20",
                                                    "signup_start: 2026-12-25\nsignup_end: 2026-12-20"), "utf-8")
    found = events(board_calendar(Board.open(str(dated))))
    assert not any(uid.startswith(("SKU-0002", "CMP-0002")) for uid in found)
    assert len(found) == 6


def test_card_url_links_each_event(dated):
    data = board_calendar(Board.open(str(dated)), card_url=lambda c: f"https://board.example/cards/{c.id}.html")
    sku = next(e for uid, e in events(data).items() if uid.startswith("SKU-0001"))
    assert str(sku["url"]) == "https://board.example/cards/SKU-0001.html"


def test_english_board_and_timed_windows(tmp_path):
    from click.testing import CliRunner

    from mdboard.cli import main

    root = tmp_path / "en"
    assert CliRunner().invoke(main, ["init", str(root), "--lang", "en", "--title", "Shop Ops"]).exit_code == 0
    cfg = root / "mdboard.yaml"
    cfg.write_text(cfg.read_text("utf-8").replace("live_start: {type: date", "live_start: {type: datetime"), "utf-8")
    card = root / "campaign" / "planned" / "CMP-0001.md"
    card.write_text("---\ntitle: Black Friday\nowner: me\nplatform: tmall\nlive_start: 2026-11-27 20:00\n"
                    "live_end: 2026-11-28\n---\n", "utf-8")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "card")
    found = events(board_calendar(Board.open(str(root))))
    assert list(found) == ["CMP-0001-live@shop-ops.mdboard"]
    live = found["CMP-0001-live@shop-ops.mdboard"]
    assert str(live["summary"]) == "[Campaign] Black Friday: Goes live – Ends"
    assert live.decoded("dtstart") == datetime(2026, 11, 27, 20, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert live.decoded("dtend") - live.decoded("dtstart") == timedelta(hours=28)
    assert str(live["description"]).startswith("ID: CMP-0001\nState: Planned")


def test_demo_board_feed_parses_with_both_parsers(tmp_path):
    import shutil

    from conftest import REPO

    root = tmp_path / "demo"
    shutil.copytree(REPO / "board", root)
    board = Board.open(str(root))
    data = board_calendar(board)
    by_icalendar = events(data)
    by_vobject = [e.uid.value for e in vobject.readOne(data.decode("utf-8")).vevent_list]
    assert sorted(by_vobject) == sorted(by_icalendar)
    assert len(by_vobject) == len(set(by_vobject)) > 40
    dated_cards = {c.id for c in board.cards() if c.meta.get("due") or c.meta.get("signup_end")}
    assert dated_cards <= {uid.split("-due@")[0].split("-signup@")[0] for uid in by_icalendar}
    assert board_calendar(Board.open(str(root))) == data
