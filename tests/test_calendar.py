"""The iCalendar feed: the events a known board gives, read back by two independent parsers."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo, available_timezones

import icalendar
import pytest
import vobject
from hypothesis import example, given
from hypothesis import strategies as st
from icalendar.parser import Contentline

from mdboard.domain.calendar import (END_CALENDAR, PRODID, Zone, _fold, _header, _timed_form, _when_value, assemble,
                                     board_calendar, board_host, calendar_cards, card_events, zone_of)
from mdboard.core.errors import MdboardError
from mdboard.core.store import Board

from conftest import git, modules_after

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
    assert str(err.value) == "名单里没有「王力」（是不是「王丽」？）"


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

    from mdboard.cli.main import main

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


def test_demo_board_feed_parses_with_both_parsers(demo_board):
    root = demo_board
    board = Board.open(str(root))
    data = board_calendar(board)
    by_icalendar = events(data)
    by_vobject = [e.uid.value for e in vobject.readOne(data.decode("utf-8")).vevent_list]
    assert sorted(by_vobject) == sorted(by_icalendar)
    assert len(by_vobject) == len(set(by_vobject)) > 40
    dated_cards = {c.id for c in board.cards() if c.meta.get("due") or c.meta.get("signup_end")}
    assert dated_cards <= {uid.split("-due@")[0].split("-signup@")[0] for uid in by_icalendar}
    assert board_calendar(Board.open(str(root))) == data


# --- the feed as per-card parts (what the site caches) ---------------------------------------

def link(card) -> str:
    """A card page address, as the site passes to the feed."""
    return f"https://board.example/cards/{card.id}.html"


def parts(board: Board, person=None, card_url=None) -> dict[str, bytes]:
    """card ID -> its rendered events, for the cards of one feed."""
    return {card.id: card_events(board, card, card_url) for card in calendar_cards(board, person)}


def blocks(part: bytes) -> list[bytes]:
    """The VEVENT blocks of a part, each with its BEGIN and END lines."""
    return [b"BEGIN:VEVENT\r\n" + b for b in part.split(b"BEGIN:VEVENT\r\n")[1:]]


def test_each_feed_is_its_cards_parts_assembled(dated):
    board = Board.open(str(dated))
    for person, card_url in ((None, None), (None, link), ("王丽", None), ("zhaomin", link), ("zhougang", None)):
        assert assemble(board, parts(board, person, card_url).values(), person) == \
            board_calendar(board, person, card_url)
    # cards without any date are left out; the order is the config's type order, then ID
    found = parts(board)
    assert list(found) == ["SKU-0001", "CMP-0001", "CMP-0002", "AS-0001"]
    assert [len(blocks(p)) for p in found.values()] == [1, 4, 1, 1]
    assert [c.id for c in calendar_cards(board, "王丽")] == ["CMP-0001", "AS-0001"]
    undated = board.get("SKU-0002")
    assert card_events(board, undated) == b""


def test_card_events_are_the_bytes_icalendar_itself_writes(dated):
    board = Board.open(str(dated))
    host = board_host("我的店铺 运营看板")
    sku = icalendar.Event()
    for prop, value in (("uid", f"SKU-0001-due@{host}"), ("dtstamp", datetime(2026, 12, 3, tzinfo=timezone.utc)),
                        ("dtstart", date(2026, 12, 3)), ("dtend", date(2026, 12, 4)),
                        ("summary", "【上新】羊毛大衣 截止日期"), ("description", "编号: SKU-0001\n状态: 规划中\n负责人: 赵敏"),
                        ("categories", ["上新"]), ("transp", "TRANSPARENT"),
                        ("url", "https://board.example/cards/SKU-0001.html")):
        sku.add(prop, value)
    assert card_events(board, board.get("SKU-0001"), link) == sku.to_ical()
    due = icalendar.Event()
    for prop, value in (("uid", f"AS-0001-due@{host}"), ("dtstamp", datetime(2026, 11, 30, 10, tzinfo=timezone.utc)),
                        ("dtstart", datetime(2026, 11, 30, 18, 0, tzinfo=SHANGHAI)),
                        ("summary", "【售后】退货未到 预计解决时间"), ("description", "编号: AS-0001\n状态: 新登记\n负责人: 孙丽"),
                        ("categories", ["售后"]), ("transp", "TRANSPARENT")):
        due.add(prop, value)
    assert card_events(board, board.get("AS-0001")) == due.to_ical()


def test_awkward_titles_are_escaped_and_folded_as_icalendar_does(dated, cli):
    title = "双11预热,第二波;主图\\备份^v2 羊绒大衣加厚款限时直降满300减50赠品围巾一条🧣 " * 2
    assert cli("new", "sku", title.strip(), "--owner", "zhaomin", "--due", "2026-12-09").exit_code == 0
    board = Board.open(str(dated))
    part = card_events(board, board.get("SKU-0003"), link)
    assert b"\r\n " in part  # long lines were folded
    assert [icalendar.Event.from_ical(b).to_ical() for b in blocks(part)] == blocks(part)
    event = icalendar.Event.from_ical(part)
    assert str(event["summary"]) == f"【上新】{title.strip()} 截止日期"
    assert vobject.readOne(part.decode("utf-8")).summary.value == f"【上新】{title.strip()} 截止日期"


@given(st.text(st.sampled_from(list("ab\\^,;:中文😀é ")) | st.characters(blacklist_categories=("Cs", "Cc")),
               min_size=20, max_size=300))
@example("a" * 65 + "\\n" + "x" * 20)  # an escape right at the first fold: moves to the next line
@example("a" * 64 + "^^" + "x" * 80)
@example("a" * 65 + "中文" + "😀" * 30)  # multi-byte characters across every fold
def test_folding_matches_icalendar(text):
    line = "SUMMARY:" + text
    assert _fold(line.encode("utf-8")) == Contentline(line).to_ical()


def test_every_demo_event_reads_back_to_the_same_bytes(demo_board):
    board = Board.open(str(demo_board))
    found = [b for part in parts(board, card_url=link).values() for b in blocks(part)]
    assert len(found) > 40
    assert [icalendar.Event.from_ical(b).to_ical() for b in found] == found


def test_editing_a_card_changes_only_its_own_part(dated, cli):
    board = Board.open(str(dated))
    before, feed = parts(board), board_calendar(board)
    assert cli("set", "SKU-0001", "title=羊毛大衣(加厚)").exit_code == 0
    assert cli("move", "CMP-0002", "signed_up").exit_code == 0
    board = Board.open(str(dated))
    after = parts(board)
    assert list(after) == list(before)
    assert [k for k in after if after[k] != before[k]] == ["SKU-0001", "CMP-0002"]
    assert board_calendar(board) == feed.replace(before["SKU-0001"], after["SKU-0001"]).replace(
        before["CMP-0002"], after["CMP-0002"])
    assert "羊毛大衣(加厚)" in str(icalendar.Event.from_ical(after["SKU-0001"])["summary"])


def test_one_timezone_and_only_when_an_event_is_timed(dated):
    board = Board.open(str(dated))
    data = board_calendar(board)
    assert data.count(b"BEGIN:VTIMEZONE") == 1
    cal = icalendar.Calendar.from_ical(data)
    assert [str(tz["tzid"]) for tz in cal.walk("VTIMEZONE")] == ["Asia/Shanghai"]
    assert [c.name for c in cal.subcomponents][:2] == ["VTIMEZONE", "VEVENT"]
    assert vobject.readOne(data.decode("utf-8")).vtimezone.tzid.value == "Asia/Shanghai"
    assert b"VTIMEZONE" not in board_calendar(board, "zhaomin")  # all-day events only
    empty = assemble(board, [], "zhougang")
    assert empty.startswith(b"BEGIN:VCALENDAR\r\n") and empty.endswith(b"END:VCALENDAR\r\n")
    assert str(icalendar.Calendar.from_ical(empty)["x-wr-calname"]) == "我的店铺 运营看板 · 周刚"
    assert vobject.readOne(empty.decode("utf-8")).contents.get("vevent") is None


def test_export_ics_writes_the_same_bytes_from_every_process(dated, cli):
    expected = board_calendar(Board.open(str(dated)))
    for seed in ("1", "2"):
        out = dated.parent / f"feed-{seed}.ics"
        proc = cli.proc("export", "ics", "-o", str(out), env={"PYTHONHASHSEED": seed})
        assert proc.returncode == 0, proc.stderr
        assert out.read_bytes() == expected
    result = cli("export", "ics", "--person", "王丽", "-o", str(dated.parent / "wangli.ics"))
    assert result.exit_code == 0, result.output
    assert (dated.parent / "wangli.ics").read_bytes() == board_calendar(Board.open(str(dated)), "wangli")


# --- written without icalendar (a one-card rebuild does not import it) -------------------------

@pytest.mark.parametrize("name, tz", [("我的店铺 运营看板", "Asia/Shanghai"), ("Shop, Ops; \\N back\\slash^ " * 4, "UTC"),
                                      ("双11预热😀,第二波" * 9, "America/Argentina/Buenos_Aires")])
def test_the_calendar_header_is_what_icalendar_writes(name, tz):
    cal = icalendar.Calendar()
    for prop, value in (("prodid", PRODID), ("version", "2.0"), ("calscale", "GREGORIAN"), ("method", "PUBLISH"),
                        ("name", name), ("x-wr-calname", name), ("x-wr-timezone", tz),
                        ("refresh-interval", timedelta(hours=1)), ("x-published-ttl", "PT1H")):
        cal.add(prop, value)
    cal["refresh-interval"].params["VALUE"] = "DURATION"
    assert _header(SimpleNamespace(timezone=tz), name) == cal.to_ical()[: -len(END_CALENDAR)]


def test_a_board_title_with_line_breaks_stays_in_its_own_lines_of_the_feed(dated, cli):
    """`title: |` (a block of text) or a quoted title with line breaks: the calendar's NAME and
    X-WR-CALNAME write them as TEXT writes a line break (`\\n`), never as lines of the feed
    (icalendar refused such a name; written raw, the title's lines became the feed's: here
    an event of their own)."""
    expected = events(board_calendar(Board.open(str(dated))))
    cfg = dated / "mdboard.yaml"
    cfg.write_text(cfg.read_text("utf-8").replace("title: 我的店铺 运营看板",
                                                  'title: "店铺\\r\\nBEGIN:VEVENT\\nSUMMARY:假\\r"'), "utf-8")
    out = dated.parent / "feed.ics"
    result = cli("export", "ics", "-o", str(out))
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    lines = data.split(b"\r\n")
    written = "店铺\\nBEGIN:VEVENT\\nSUMMARY:假\\n".encode("utf-8")
    assert b"NAME:" + written in lines and b"X-WR-CALNAME:" + written in lines
    assert not any(b"\r" in line or b"\n" in line for line in lines)
    assert sorted(uid.split("@")[0] for uid in events(data)) == sorted(uid.split("@")[0] for uid in expected)


def test_dates_and_times_are_written_as_icalendar_writes_them_in_every_zone():
    moments = [datetime(2026, 11, 30, 18, 0, 5), datetime(1999, 7, 1), datetime(2026, 3, 29, 2, 30)]
    for tz in sorted(available_timezones()):
        before, after, _ = _timed_form(tz)
        zone = lambda: Zone(before, after, b"")  # noqa: E731
        for value in [m.replace(tzinfo=ZoneInfo(tz)) for m in moments] + [datetime(2026, 1, 2, 3, tzinfo=timezone.utc),
                                                                           date(2026, 12, 1)]:
            typed = icalendar.vDDDTypes(value)
            params = typed.params.to_ical()
            assert _when_value(value, zone) == (b";" + params if params else b"") + b":" + typed.to_ical(), (tz, value)


def zone_onsets(block: bytes) -> list[tuple[datetime, timedelta]]:
    """What a VTIMEZONE says, read as RFC 5545 (3.6.5) reads it, without icalendar: each
    STANDARD/DAYLIGHT onset (DTSTART and every RDATE, local wall times) with the offset
    (TZOFFSETTO) from then on, in order. Anything else in the block (an RRULE, a property
    this reading does not know) fails the test."""
    onsets, part = [], None
    for line in block.decode("utf-8").replace("\r\n ", "").split("\r\n")[:-1]:  # unfolded
        name, _, value = line.partition(":")
        if line in ("BEGIN:STANDARD", "BEGIN:DAYLIGHT"):
            part = {"starts": []}
        elif line in ("END:STANDARD", "END:DAYLIGHT"):
            onsets += [(datetime.strptime(start, "%Y%m%dT%H%M%S"), part["to"]) for start in part["starts"]]
            part = None
        elif part is not None and name in ("DTSTART", "RDATE"):
            part["starts"] += value.split(",")
        elif part is not None and name == "TZOFFSETTO":
            assert re.fullmatch(r"[+-]\d{4}", value), line
            sign = 1 if value[0] == "+" else -1
            part["to"] = sign * timedelta(hours=int(value[1:3]), minutes=int(value[3:5]))
        else:
            assert name in ("TZNAME", "COMMENT", "TZOFFSETFROM", "BEGIN", "END", "TZID"), line
    return sorted(onsets)


@pytest.mark.parametrize("tz", ["Asia/Shanghai", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe",
                                "Asia/Kathmandu", "America/Argentina/Buenos_Aires"])
def test_the_zone_block_gives_the_tz_databases_offsets(tz):
    """A calendar app reads a card's `DTSTART;TZID=...:20261129T180000` through the feed's
    VTIMEZONE: the block names the zone, is folded as RFC 5545 folds (CRLF, lines of at most
    75 octets), and for every wall time that exists once (not in a gap or a fold of a clock
    change) its onsets give the offset the tz database gives - around every onset, and
    every 97 hours from 1970 to 2037 (a change the block left out)."""
    zone, info = zone_of(tz), ZoneInfo(tz)
    lines = zone.block.split(b"\r\n")
    assert lines[:2] == [b"BEGIN:VTIMEZONE", f"TZID:{tz}".encode()] and lines[-2:] == [b"END:VTIMEZONE", b""]
    assert all(len(line) <= 75 for line in lines)
    onsets = zone_onsets(zone.block)
    assert onsets[0][0] <= datetime(1970, 1, 1)
    walls = [onset + timedelta(minutes=15 * k) for onset, _ in onsets[1:] for k in range(-12, 13)]
    walls += [datetime(1970, 1, 1) + timedelta(hours=97 * k) for k in range(6100)]
    for wall in walls:
        once, again = wall.replace(tzinfo=info), wall.replace(tzinfo=info, fold=1)
        if once.utcoffset() == again.utcoffset() and wall.year < 2038:
            assert [offset for onset, offset in onsets if onset <= wall][-1] == once.utcoffset(), wall


@pytest.mark.parametrize("tz", ["UTC", "Africa/Abidjan"])
def test_a_zone_written_as_utc_has_no_zone_block(tz):
    """icalendar writes times in these zones with `Z`: no VTIMEZONE, and the zone has stayed at
    UTC (so `Z` is right for every date a card can hold)."""
    assert zone_of(tz) == Zone(b":", b"Z", b"")
    assert {datetime(year, month, 1, tzinfo=ZoneInfo(tz)).utcoffset() for year in range(1970, 2038)
            for month in (1, 7)} == {timedelta(0)}


def card_path(board, card_id: str):
    return next(board.glob(f"*/*/{card_id}.md"))


def test_a_rebuild_after_a_title_change_writes_the_feeds_without_icalendar(dated, cli):
    cli.proc_ok("build")  # the first build works the time zone out once and keeps it
    path = card_path(dated, "AS-0001")  # a timed due: its feed has the VTIMEZONE
    path.write_text(path.read_text("utf-8").replace("title: 退货未到", "title: 退货未到,改"), "utf-8")
    _, loaded = modules_after(dated, "build")
    assert "icalendar" not in loaded
    site = dated / "_site"
    board = Board.open(str(dated))
    assert (site / "calendar.ics").read_bytes() == board_calendar(board)
    assert (site / "people" / "sunli.ics").read_bytes() == board_calendar(board, "sunli")
    assert "【售后】退货未到,改" in str(events(board_calendar(board))[f"AS-0001-due@{board_host(board.config.title)}"]["summary"])


def test_a_kept_zone_from_other_tz_data_or_icalendar_is_worked_out_again(dated, cli):
    from mdboard.site.builder import _write_state

    cli.proc_ok("build")
    kept = Board.open(str(dated)).state_dir / "site" / "zone.cache"  # named with the user's key on disk
    assert len(list(kept.parent.glob("zone.*.cache"))) == 1
    _write_state(kept, "site-zone", {"for": ("Asia/Shanghai", ("/old/icalendar/__init__.py", 1, 1)),
                                     "zone": (b";TZID=Old/Zone:", b"", b"BEGIN:VTIMEZONE\r\nTZID:Old/Zone\r\n")})
    path = card_path(dated, "AS-0001")
    path.write_text(path.read_text("utf-8").replace("title: 退货未到", "title: 退货未到(二)"), "utf-8")
    cli.proc_ok("build")
    assert (dated / "_site" / "calendar.ics").read_bytes() == board_calendar(Board.open(str(dated)))
