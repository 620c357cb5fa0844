"""Dates the same everywhere (issue 15 point 5): one parser, `dates.understand`, reads a date
as people type it, and every place a date is typed (CLI options, `set`, `new --due`,
`ls --due-before`, `history --since`, imports) takes the same forms and says which day it
understood. "Now" is Wednesday 2026-11-25 09:00 in Asia/Shanghai (conftest)."""

from __future__ import annotations

import re
from datetime import date

import pytest

from conftest import git
from mdboard.core import dates

TZ = "Asia/Shanghai"

TYPED = [
    ("2026-12-01", "2026-12-01"), ("2026/12/1", "2026-12-01"), ("2026.12.01", "2026-12-01"),
    ("2026年12月1日", "2026-12-01"), ("12月1日", "2026-12-01"), ("12月1号", "2026-12-01"),
    ("１２月１日", "2026-12-01"),  # typed with a full-width input method
    ("1月5日", "2027-01-05"), ("11月1日", "2026-11-01"),  # the nearest such day
    ("今天", "2026-11-25"), ("明天", "2026-11-26"), ("后天", "2026-11-27"), ("昨天", "2026-11-24"),
    ("today", "2026-11-25"), ("Tomorrow", "2026-11-26"),
    ("+3", "2026-11-28"), ("+3d", "2026-11-28"), ("+2w", "2026-12-09"), ("-1", "2026-11-24"),
    ("3天后", "2026-11-28"), ("2周后", "2026-12-09"), ("3天前", "2026-11-22"),
    ("周五", "2026-11-27"), ("星期三", "2026-11-25"), ("周一", "2026-11-30"),  # the next one, today included
    ("本周一", "2026-11-23"), ("下周一", "2026-11-30"), ("下个星期五", "2026-12-04"), ("上周一", "2026-11-16"),
    ("friday", "2026-11-27"), ("next monday", "2026-11-30"), ("last monday", "2026-11-16"),
    ("明天 18:00", "2026-11-26 18:00"), ("12月1日 6点半", "2026-12-01 06:30"), ("2026/12/1 18:00:30", "2026-12-01 18:00:30"),
    ("下周一 9点", "2026-11-30 09:00"),
]


@pytest.mark.parametrize("typed,iso", TYPED)
def test_each_form_people_type_names_one_day(typed, iso):
    understood = dates.understand(typed, TZ)
    assert understood is not None and understood.iso() == iso


@pytest.mark.parametrize("typed", ["", "下周", "2026-02-30", "13月1日", "明天 25:00", "+9999w", "0001-01-01", "abc",
                                   "12/1/2026", "46357", "周八"])
def test_what_is_not_a_day_is_none(typed):
    assert dates.understand(typed, TZ) is None


def test_sheets_add_month_first_and_excel_day_numbers():
    assert dates.understand("12/1/2026", TZ, sheet=True).iso() == "2026-12-01"
    assert dates.understand("46357", TZ, sheet=True).iso() == "2026-12-01"
    assert dates.understand("46357.75", TZ, sheet=True).iso() == "2026-12-01 18:00"


def test_said_back_names_the_weekday_in_the_boards_language():
    understood = dates.understand("下周一", TZ)
    assert dates.said_back(understood) == "2026-11-30（周一）"
    assert not understood.as_typed() and dates.understand("2026-11-30", TZ).as_typed()


def test_set_takes_a_chinese_date_and_says_which_day_it_understood(cli, board):
    assert cli("new", "sku", "蓝牙耳机", "--owner", "王丽").exit_code == 0
    result = cli("set", "SKU-0001", "due=12月1日")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1] == "截止日期：2026-12-01（周二）"
    assert "due: 2026-12-01\n" in (board / "sku/planning/SKU-0001.md").read_text("utf-8")
    assert cli("set", "SKU-0001", "due=2026-12-02").output.count("\n") == 1  # typed as stored: nothing to say back


def test_an_after_sales_card_takes_today_as_its_due(cli, board):
    result = cli("new", "issue", "快递破损", "--owner", "孙丽", "--due", "今天",
                 "--set", "platform=抖音", "--set", "order_no=3698512740215583327", "--set", "problem=物流")
    assert result.exit_code == 0, result.output
    assert "预计解决时间：2026-11-25（周三）" in result.output
    result = cli("set", "AS-0001", "due=明天 18:00")
    assert result.exit_code == 0, result.output
    assert "due: 2026-11-26 18:00\n" in (board / "issue/new/AS-0001.md").read_text("utf-8")


def test_a_date_that_is_none_names_the_forms_to_type_and_writes_nothing(cli, board):
    assert cli("new", "sku", "蓝牙耳机", "--owner", "王丽").exit_code == 0
    head = git(board, "rev-parse", "HEAD")
    result = cli("set", "SKU-0001", "due=下周")
    assert result.exit_code == 1
    assert "「下周」" in result.output and "12月1日、今天、明天、+3 或 下周一" in result.output
    assert git(board, "rev-parse", "HEAD") == head


def test_ls_due_before_takes_the_same_forms(cli):
    for title, due in (("耳机", "2026-11-27"), ("充电宝", "2026-12-10")):
        assert cli("new", "sku", title, "--owner", "王丽", "--due", due).exit_code == 0
    result = cli("ls", "--due-before", "下周一")
    assert result.exit_code == 0
    assert [line.split("\t")[0] for line in result.stdout.splitlines()[1:]] == ["SKU-0001"]
    assert result.stderr == "截止日期早于：2026-11-30（周一）\n"
    assert cli("ls", "--due-before", "下下周").exit_code == 2


def test_history_since_takes_the_same_forms(cli):
    assert cli("new", "sku", "耳机", "--owner", "王丽").exit_code == 0
    for since in ("上周一", "11月20日", "昨天", "3天", "2026/11/20"):
        result = cli("log", "--since", since)
        assert result.exit_code == 0 and "SKU-0001" in result.output, (since, result.output)
    result = cli("log", "--since", "很久以前")
    assert result.exit_code == 2 and result.output.startswith("错误：看不懂时间「很久以前」")


def test_an_import_reads_12yue1ri_as_set_does(cli, board):
    (board / "sheet.csv").write_text("标题,负责人,截止日期\n耳机,王丽,12月1日\n", "utf-8")
    result = cli("import", "csv", "sheet.csv", "--type", "sku", "--apply")
    assert result.exit_code == 0, result.output
    assert "due: 2026-12-01\n" in (board / "sku/planning/SKU-0001.md").read_text("utf-8")


def test_an_english_board_says_the_day_back_in_english(tmp_path):
    from conftest import Cli

    root = tmp_path / "shop"
    assert Cli(tmp_path)("init", str(root), "--lang", "en").exit_code == 0
    cli = Cli(root)
    assert cli("new", "sku", "Earbuds", "--owner", "me").exit_code == 0
    result = cli("set", "SKU-0001", "due=next monday")
    assert result.exit_code == 0, result.output
    assert re.search(r"^Due: 2026-11-30 \(Mon\)$", result.output, re.M), result.output
    assert dates.understand("next monday", TZ).day == date(2026, 11, 30)


def test_plan_date_option_takes_the_same_forms(cli, board):
    from test_playbooks import EIGHT, write_playbook

    write_playbook(board, "test8", EIGHT)
    out = cli("plan", "test8", "--date", "上线=1月5日").output  # the nearest 5 January
    assert "上线  2027-01-05" in out, out
    wrong = cli("plan", "test8", "--date", "上线=下下周")
    assert wrong.exit_code == 1 and "「下下周」不是日期（写成 2026-12-01、2026/12/1、12月1日" in wrong.output
