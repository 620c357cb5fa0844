"""Issue 2: each bad input gets a clear message and exit 1, with nothing written or committed."""

from __future__ import annotations

import pytest

from conftest import git


def snapshot(root):
    """Every file's bytes under the board (outside .git) and HEAD."""
    files = {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*")
             if p.is_file() and ".git" not in p.relative_to(root).parts}
    return files, git(root, "rev-parse", "HEAD")


@pytest.fixture
def shop(board, cli):
    """A board with one SKU in planning, one campaign, committed."""
    assert cli("new", "sku", "蓝牙耳机", "--owner", "wangli").exit_code == 0
    assert cli("new", "campaign", "双12", "--owner", "wangli", "--set", "platform=tmall",
               "--set", "signup_end=2026-12-01", "--set", "materials_due=2026-12-05").exit_code == 0
    return board


REFUSED = [
    ("owner typo", ["set", "SKU-0001", "owner=wangil"], "sku/planning/SKU-0001.md:owner:", "是不是「王丽」"),
    ("unknown owner", ["assign", "SKU-0001", "张三"], "sku/planning/SKU-0001.md:owner:", "名单里没有「张三」"),
    ("unknown owner on new", ["new", "sku", "新品", "--owner", "nobody"], ":owner:", "名单里没有「nobody」"),
    ("impossible date", ["set", "SKU-0001", "due=2026-02-30"], ":due:", "没有这一天：2026-02-30"),
    ("not a date", ["set", "SKU-0001", "due=下周"], ":due:", "「下周」不是日期（写成 2026-12-01、2026/12/1、12月1日"),
    ("dates out of order", ["set", "CMP-0001", "materials_due=2026-11-20"], ":materials_due:", "应在"),
    ("broken link", ["set", "CMP-0001", "skus=SKU-0099"], ":skus:", "SKU-0099 不存在"),
    ("link to wrong type", ["set", "CMP-0001", "skus=CMP-0001"], ":skus:", "不是「上新」卡片编号"),
    ("unknown field", ["set", "SKU-0001", "colour=red"], ":colour:", "没有这个字段"),
    ("missing required field on move", ["move", "SKU-0001", "review", ], ":price:", "必须填写「价格」"),
    ("transition not allowed", ["move", "AS-0001", "archived"], "AS-0001", "不能从「新登记」移到「已归档」"),
    ("unknown card", ["set", "SKU-0404", "price=1"], "SKU-0404", "找不到卡片 SKU-0404"),
    ("not an id", ["show", "../../etc/passwd"], "../../etc/passwd", "不是卡片编号"),
    ("not a number", ["set", "SKU-0001", "price=很贵"], ":price:", "不是数字"),
    ("force without reason", ["move", "SKU-0001", "review", "--force"], "--reason", "--force"),
]


@pytest.mark.parametrize("name,args,where,what", REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_with_a_clear_line_and_nothing_changed(shop, cli, name, args, where, what):
    if args[1] == "AS-0001":
        assert cli("new", "issue", "耳机左耳无声", "--owner", "sunli", "--due", "2026-11-26 18:00",
                   "--set", "platform=jd", "--set", "order_no=JD-1", "--set", "problem=质量").exit_code == 0
    before = snapshot(shop)
    result = cli(*args)
    assert result.exit_code == 1, result.output
    assert where in result.output and what in result.output, result.output
    assert "Traceback" not in result.output
    assert snapshot(shop) == before


def test_refusals_are_one_line_each_as_a_subprocess(shop, cli):
    proc = cli.proc("set", "SKU-0001", "owner=wangil")
    assert proc.returncode == 1
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert lines == ["错误：sku/planning/SKU-0001.md:owner: 名单里没有「wangil」（是不是「王丽」？） — 没有做任何修改"]


# A state or type typed as an argument is a usage mistake, as in ls: exit 2, the nearest labels named.
MISNAMED = [
    (["move", "SKU-0001", "sold"], "错误：「上新」没有状态「sold」（可选：规划中、拍摄中、文案详情、待审核、已上架）\n"),
    (["new", "skuu", "x", "--owner", "wangli"], "错误：没有卡片类型「skuu」（是不是「上新」？）\n"),
]


@pytest.mark.parametrize("args,said", MISNAMED, ids=["unknown state", "unknown type"])
def test_a_misnamed_state_or_type_is_a_usage_mistake(shop, cli, args, said):
    before = snapshot(shop)
    result = cli(*args)
    assert (result.exit_code, result.output) == (2, said)
    assert snapshot(shop) == before


def test_wip_limit_exceeded(shop, cli):
    for i in range(6):
        assert cli("new", "sku", f"款{i}", "--owner", "wangli").exit_code == 0
        assert cli("move", f"SKU-{i + 2:04d}", "shooting").exit_code == 0
    before = snapshot(shop)
    result = cli("move", "SKU-0001", "shooting")
    assert result.exit_code == 1
    assert "WIP 上限 6" in result.output
    assert snapshot(shop) == before


def test_role_required_to_enter_a_state(shop, cli):
    cli.ok("set", "SKU-0001", "price=99", "platforms=jd", "price_approved=true")
    shop.joinpath("sku/planning/SKU-0001.md").write_text(
        shop.joinpath("sku/planning/SKU-0001.md").read_text("utf-8").replace("[ ]", "[x]"), "utf-8")
    git(shop, "commit", "-qam", "done")
    result = cli("--as", "zhaomin", "move", "SKU-0001", "listed")
    assert result.exit_code == 1
    assert "赵敏 不能把卡片移入「已上架」（需要角色：运营）" in result.output
    assert cli("--as", "wangli", "move", "SKU-0001", "listed").exit_code == 0


def test_checklist_must_be_complete(shop, cli):
    cli.ok("set", "SKU-0001", "price=99", "platforms=jd", "price_approved=true")
    result = cli("--as", "wangli", "move", "SKU-0001", "listed")
    assert result.exit_code == 1
    assert "清单必须完成（已完成 0/5）" in result.output and "未完成：拍摄、主图" in result.output


CHECKED = [
    ("duplicate id", "sku/shooting/SKU-0001.md", None, "编号 SKU-0001 与"),
    ("card in unknown folder", "sku/selling/SKU-0007.md", None, "文件夹「selling」不是「上新」的状态"),
    ("malformed yaml", "sku/planning/SKU-0008.md", "---\ntitle: [耳机\nowner: wangli\n---\n", "YAML 格式错误"),
    ("no front matter", "sku/planning/SKU-0009.md", "# 只是一段笔记\n", "文件不是以 --- 开头"),
    ("file name is not an id", "sku/planning/耳机.md", None, "不是「上新」的卡片编号"),
    ("missing required field", "sku/planning/SKU-0010.md", "---\ntitle: 无主\n---\n", "缺少必填字段「负责人」"),
]


@pytest.mark.parametrize("name,rel,text,what", CHECKED, ids=[c[0] for c in CHECKED])
def test_check_reports_hand_made_problems(shop, cli, name, rel, text, what):
    path = shop / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text if text is not None else (shop / "sku/planning/SKU-0001.md").read_text("utf-8"), "utf-8")
    result = cli("check")
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if what in line]
    assert lines and lines[0].startswith(rel.split("/")[0]), result.output
    proc = cli.proc("check")
    assert proc.returncode == 1 and what in proc.stdout and "Traceback" not in proc.stderr


def test_check_is_clean_on_a_valid_board_and_overdue_is_not_an_error(shop, cli):
    assert cli("set", "SKU-0001", "due=2026-11-01").exit_code == 0
    result = cli("check")
    assert result.exit_code == 0, result.output
    assert "逾期" in cli("ls").output


def test_unknown_keys_are_kept_and_reported_only_with_strict(shop, cli):
    path = shop / "sku/planning/SKU-0001.md"
    path.write_text(path.read_text("utf-8").replace("owner: wangli", "owner: wangli\n供应商: 深圳某厂"), "utf-8")
    assert cli("check").exit_code == 0
    strict = cli("check", "--strict")
    assert "供应商" in strict.output and "没有这个字段" in strict.output
    assert cli("save", "SKU-0001").exit_code == 0  # an unknown key is no problem: the hand edit is saved
    assert cli("set", "SKU-0001", "price=10").exit_code == 0
    assert "供应商: 深圳某厂" in path.read_text("utf-8")


def test_a_broken_card_is_not_edited_by_commands(shop, cli):
    path = shop / "sku/planning/SKU-0001.md"
    path.write_text("---\ntitle: [坏\n---\n", "utf-8")
    result = cli("set", "SKU-0001", "price=1")
    assert result.exit_code == 1 and "YAML" in result.output
    assert path.read_text("utf-8") == "---\ntitle: [坏\n---\n"


def test_a_name_where_the_key_belongs_says_which_key_to_write(shop, cli):
    path = shop / "sku/planning/SKU-0001.md"
    path.write_text(path.read_text("utf-8").replace("owner: wangli", "owner: 王丽\nplatforms: [天猫]"), "utf-8")
    result = cli("check")
    assert result.exit_code == 1
    assert "sku/planning/SKU-0001.md:owner: 卡片里要写成员的键，不是「王丽」（写成 wangli）" in result.output
    assert "sku/planning/SKU-0001.md:platforms: 卡片里要写平台的键，不是「天猫」（写成 tmall）" in result.output
