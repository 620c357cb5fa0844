"""Issue 2: ls filters, mine (a person's day), show, --json, and the English interface."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from conftest import git
from mdboard.cli.main import main


@pytest.fixture
def shop(board, cli):
    """Cards with known owners, platforms, tags and dues around 2026-11-25 (today)."""
    cards = [
        ("sku", "耳机 已逾期", "wangli", "2026-11-20", ["platforms=douyin", "tags=主推"]),
        ("sku", "充电宝 今天到期", "wangli", "2026-11-25", ["platforms=tmall,jd"]),
        ("sku", "数据线 本周", "wangli", "2026-11-28", ["platforms=pdd", "tags=主推,引流"]),
        ("sku", "手表 以后", "wangli", "2026-12-20", []),
        ("sku", "音箱 赵敏的", "zhaomin", "2026-11-24", ["platforms=jd"]),
        ("sku", "支架 没有截止", "wangli", None, []),
    ]
    for ctype, title, owner, due, sets in cards:
        args = ["new", ctype, title, "--owner", owner] + (["--due", due] if due else [])
        for s in sets:
            args += ["--set", s]
        assert cli(*args).exit_code == 0
    assert cli("move", "SKU-0003", "shooting").exit_code == 0
    return board


def ids(output: str) -> list[str]:
    return [line.split("\t")[0] for line in output.strip().splitlines()[1:]]


def test_ls_lists_every_card_without_filters(shop, cli):
    result = cli("ls")
    assert result.exit_code == 0
    assert ids(result.output) == ["SKU-0001", "SKU-0002", "SKU-0004", "SKU-0005", "SKU-0006", "SKU-0003"]
    assert result.output.splitlines()[0].split("\t") == ["编号", "状态", "负责人", "截止", "清单", "标题"]


@pytest.mark.parametrize("args,expected", [
    (["--owner", "赵敏"], ["SKU-0005"]),
    (["--owner", "zhaomin"], ["SKU-0005"]),
    (["--platform", "京东"], ["SKU-0002", "SKU-0005"]),
    (["--tag", "主推"], ["SKU-0001", "SKU-0003"]),
    (["--state", "shooting"], ["SKU-0003"]),
    (["--state", "拍摄中", "--type", "sku"], ["SKU-0003"]),
    (["--overdue"], ["SKU-0001", "SKU-0005"]),
    (["--overdue", "--owner", "wangli"], ["SKU-0001"]),
    (["--due-before", "2026-11-25"], ["SKU-0001", "SKU-0002", "SKU-0005"]),
    (["--type", "campaign"], []),
])
def test_ls_filters(shop, cli, args, expected):
    result = cli("ls", *args)
    assert result.exit_code == 0, result.output
    assert ids(result.output) == expected


def test_ls_json_and_bad_filters(shop, cli):
    data = json.loads(cli("ls", "--owner", "zhaomin", "--json").output)
    assert [(c["id"], c["state"], c["owner"], c["due_status"]["days"], c["due_status"]["overdue"]) for c in data] == [
        ("SKU-0005", "planning", "zhaomin", -1, True)]
    bad = cli("ls", "--owner", "zhaomn")
    assert (bad.exit_code, bad.output) == (2, "错误：名单里没有「zhaomn」（是不是「赵敏」？）\n")
    bad = cli("ls", "--due-before", "下周")
    assert (bad.exit_code, bad.output) == (
        2, "错误：「下周」不是日期（写成 2026-12-01、2026/12/1、12月1日、今天、明天、+3 或 下周一）\n")


def test_mine_groups_a_persons_cards_with_next_steps(shop, cli):
    result = cli("mine", "王丽")
    assert result.exit_code == 0
    text = result.output
    order = [text.index(h) for h in ("已逾期（1）", "今天到期（1）", "7 天内（1）", "以后（1）", "无截止日期（1）")]
    assert order == sorted(order)
    assert "SKU-0001  耳机 已逾期  [规划中]  逾期 5 天" in text
    assert "SKU-0003  数据线 本周  [拍摄中]  还剩 3 天" in text
    assert "→ 下一步：移到「拍摄中」" in text
    assert "SKU-0005" not in text


def test_mine_defaults_to_the_git_user(shop, cli):
    proc = cli.proc("mine")
    assert proc.returncode == 0
    assert proc.stdout.startswith("王丽 的卡片")
    data = json.loads(cli("mine", "--json").output)
    assert [c["id"] for c in data["groups"]["overdue"]] == ["SKU-0001"]
    assert data["groups"]["week"][0]["next_step"] == "下一步：移到「文案详情」"


def test_mine_for_an_unknown_git_user_says_what_to_do(shop, cli):
    git(shop, "config", "user.email", "stranger@example.com")
    result = cli("mine")
    assert result.exit_code == 1
    assert "stranger@example.com" in result.output and "mdboard mine" in result.output


def test_show_prints_fields_by_label_and_the_body(shop, cli):
    cli.ok("set", "SKU-0002", "price=129.5", "price_approved=yes")
    result = cli("show", "sku-0002")
    assert result.exit_code == 0
    out = result.output
    assert out.startswith("SKU-0002  充电宝 今天到期")
    assert "负责人: 王丽" in out and "平台: 天猫、京东" in out and "价格: ¥129.50" in out
    assert "价格已审核: 是" in out and "今天到期" in out and "- [ ] 主图" in out
    data = json.loads(cli("show", "SKU-0002", "--json").output)
    assert data["platforms"] == ["tmall", "jd"] and data["price"] == 129.5
    assert data["checklist"][0] == {"done": False, "text": "拍摄"}
    assert "## 上新清单" in data["body"]


def test_check_json_lists_problems(shop, cli):
    path = shop / "sku/planning/SKU-0001.md"
    path.write_text(path.read_text("utf-8").replace("owner: wangli", "owner: 王力"), "utf-8")
    result = cli("check", "--json")
    assert result.exit_code == 1
    problems = json.loads(result.output)
    assert problems == [{"path": "sku/planning/SKU-0001.md", "field": "owner", "message": "名单里没有「王力」",
                         "hint": "是不是「王丽」？", "level": "error"}]
    only = cli("check", "sku/planning/SKU-0002.md")
    assert only.exit_code == 0


def test_an_english_board_speaks_english(tmp_path):
    root = tmp_path / "en"
    runner = CliRunner()
    assert runner.invoke(main, ["init", str(root), "--lang", "en"], catch_exceptions=False).exit_code == 0
    base = ["--board", str(root), "--as", "me"]
    result = runner.invoke(main, base + ["new", "sku", "Earbuds", "--owner", "me", "--due", "2026-11-20"],
                           catch_exceptions=False)
    assert result.exit_code == 0 and result.output.startswith("created SKU-0001")
    result = runner.invoke(main, base + ["set", "SKU-0001", "owner=mee"], catch_exceptions=False)
    assert result.exit_code == 1
    assert "owner: 'mee' is not in the people list (did you mean 'Me'?) — nothing was changed" in result.output
    listing = runner.invoke(main, base + ["ls"], catch_exceptions=False).output
    assert "5 days overdue" in listing and "Planning" in listing
