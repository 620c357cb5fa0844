"""Issue 13 item 8: a value of the wrong shape or range never takes a command down.

`set` refuses what later code cannot handle (dates outside the years mdboard plans by,
numbers that are not finite), naming the field and how to write it; a hand-written
value of that kind is reported by `check` and shown as written, never formatted as if
it were good (no "¥inf").
"""

from __future__ import annotations

from conftest import git


def _refused(cli, board, args, message):
    head = git(board, "rev-parse", "HEAD")
    proc = cli.proc(*args)
    assert proc.returncode == 1, proc.stdout
    assert proc.stderr == f"错误：{message} — 没有做任何修改\n", proc.stderr
    assert git(board, "rev-parse", "HEAD") == head and git(board, "status", "--porcelain") == ""


def test_set_refuses_dates_outside_the_years_mdboard_plans_by(cli, board):
    assert cli("new", "sku", "耳机", "--owner", "wangli").exit_code == 0
    assert cli("new", "issue", "退货", "--owner", "sunli", "--due", "2026-12-01 10:00", "--set", "platform=douyin",
               "--set", "order_no=1", "--set", "problem=物流").exit_code == 0
    hint = "（日期写成 YYYY-MM-DD，例如 2026-12-01）"
    _refused(cli, board, ["set", "SKU-0001", "due=9999-12-31"],
             "sku/planning/SKU-0001.md:due: 日期「9999-12-31」超出范围：只能在 1900 年到 2199 年之间" + hint)
    _refused(cli, board, ["set", "SKU-0001", "due=0001-01-01"],
             "sku/planning/SKU-0001.md:due: 日期「0001-01-01」超出范围：只能在 1900 年到 2199 年之间" + hint)
    _refused(cli, board, ["set", "AS-0001", "due=0001-01-01 00:00"],
             "issue/new/AS-0001.md:due: 日期「0001-01-01 00:00」超出范围：只能在 1900 年到 2199 年之间" + hint)
    assert cli("set", "SKU-0001", "due=2199-12-31").exit_code == 0


def test_set_refuses_numbers_that_are_not_finite(cli, board):
    assert cli("new", "sku", "耳机", "--owner", "wangli").exit_code == 0
    for typed in ("nan", "1e400", "-inf", "¥inf"):
        _refused(cli, board, ["set", "SKU-0001", f"price={typed}"],
                 f"sku/planning/SKU-0001.md:price: 「{typed}」不是有效的数字（写数字，例如 199 或 199.5）")


def test_a_hand_written_infinite_price_is_reported_and_shown_as_written(cli, board):
    assert cli("new", "sku", "耳机", "--owner", "wangli").exit_code == 0
    path = board / "sku/planning/SKU-0001.md"
    path.write_text(path.read_text("utf-8").replace("owner: wangli\n", "owner: wangli\nprice: .inf\n"), "utf-8")
    check = cli("check")
    assert check.exit_code == 1
    assert "sku/planning/SKU-0001.md:price: 「inf」不是有效的数字（写数字，例如 199 或 199.5）" in check.output
    shown = cli("show", "SKU-0001").output
    assert "价格: inf" in shown and "¥" not in shown
    assert cli("build").exit_code == 0
    page = (board / "_site/cards/SKU-0001.html").read_text("utf-8")
    assert "¥inf" not in page and "inf" in page
