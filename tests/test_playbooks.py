"""Campaign playbooks: `mdboard plan` makes a whole campaign's cards in one commit, with dates
counted back from the sale, owners chosen by role, links both ways and checklists; running
it again makes nothing; a playbook that cannot work is refused before anything is written,
and `mdboard check` says why."""

from __future__ import annotations

import json
import re

import pytest

from mdboard.core import cardfile
from mdboard.core.store import Board

from conftest import Cli, git, git_state, tree

EIGHT = """\
label: 测试大促
sale: double11
dates:
  signup_end: {label: 报名截止, default: 上线 - 20d}
  materials_due: {label: 素材截止, default: 上线 - 10d}
  live_start: {label: 上线}
  live_end: {label: 结束, default: 上线 + 2d}
cards:
  campaign:
    type: campaign
    title: "{year} {sale} 活动提报"
    role: 运营
    fields: {platform: 天猫, signup_end: 报名截止, materials_due: 素材截止, live_start: 上线, live_end: 结束,
             skus: "{skus}", tags: [大促]}
    checklist: [确认活动规则, 报名提交]
  copy:
    label: 文案
    type: asset
    title: "{sale} 活动文案"
    role: 文案
    fields: {due: 素材截止 - 5d, kind: 文案, campaign: campaign}
  main_image:
    label: 主图
    type: asset
    each: sku
    title: "主图：{sku}"
    role: 美工
    after: [copy]
    fields: {due: 素材截止 - 2d, kind: 主图, campaign: campaign, skus: "{sku}"}
    checklist: [白底图, 价格标]
  detail_page:
    label: 详情页
    type: asset
    each: sku
    title: "详情页：{sku_id}"
    role: 美工
    after: [main_image]
    fields: {due: 素材截止 - 1d, kind: 详情页, campaign: campaign, skus: "{sku}"}
  video:
    type: asset
    title: 短视频
    role: 美工
    fields: {due: 素材截止, kind: 短视频, campaign: campaign, skus: "{skus}"}
  service:
    type: asset
    title: 客服话术
    role: 客服
    fields: {due: 上线 - 3d, kind: 文案, campaign: campaign}
"""


def write_playbook(board, name: str, text: str) -> None:
    (board / "playbooks" / f"{name}.yaml").write_text(text, "utf-8")
    git(board, "add", "-A")
    git(board, "commit", "-qm", f"playbook {name}")


def add_designer(board) -> None:
    """A second 美工 (何梅), listed after 赵敏."""
    cfg = board / "mdboard.yaml"
    text = cfg.read_text("utf-8").replace(
        "  zhougang:", "  hemei: {name: 何梅, email: [hemei@example.com], roles: [美工]}\n  zhougang:")
    cfg.write_text(text, "utf-8")
    git(board, "commit", "-qam", "何梅")


@pytest.fixture
def shop(board, cli):
    """The test team plus a second 美工, two SKUs (one owned by 赵敏), and the 8-card playbook."""
    add_designer(board)
    cli.ok("new", "sku", "S1 Pro 耳机", "--owner", "zhaomin")
    cli.ok("new", "sku", "PB20 充电宝", "--owner", "wangli")
    write_playbook(board, "test8", EIGHT)
    return board


def meta(board, card_id: str) -> dict:
    b = Board(board)
    return b.find(card_id).meta


def body(board, card_id: str) -> str:
    b = Board(board)
    return cardfile.parse(b.read_text(b.find(card_id))).body


PLAN = ["plan", "test8", "--date", "上线=2027-11-11", "--sku", "SKU-0001,SKU-0002"]


def test_an_eight_card_playbook_makes_its_plan_in_one_commit(shop, cli):
    before = int(git(shop, "rev-list", "--count", "HEAD"))
    result = cli.ok(*PLAN, "--apply")
    assert "已新建 8 张卡片，一次提交" in result.output
    assert int(git(shop, "rev-list", "--count", "HEAD")) == before + 1
    assert git(shop, "status", "--porcelain") == ""
    changed = git(shop, "show", "--name-status", "--format=", "HEAD").splitlines()
    assert sorted(changed) == sorted(["A\tcampaign/planned/CMP-0001.md"] +
                                     [f"A\tasset/todo/MAT-000{i}.md" for i in range(1, 8)])
    message = git(shop, "log", "-1", "--format=%B")
    assert message.startswith("plan test8-2027: 8 cards from playbook test8\n")
    assert "Plan: test8-2027" in message and "Card: CMP-0001" in message and "Card: MAT-0007" in message
    assert git(shop, "log", "-1", "--format=%an") == "王丽"

    campaign = meta(shop, "CMP-0001")
    assert campaign == {"title": "2027 测试大促 活动提报", "owner": "wangli", "platform": "tmall",
                        "signup_end": "2027-10-22", "materials_due": "2027-11-01", "live_start": "2027-11-11",
                        "live_end": "2027-11-13", "skus": ["SKU-0001", "SKU-0002"], "tags": ["大促"],
                        "plan": "test8-2027/campaign"}
    assert "- [ ] 确认活动规则\n- [ ] 报名提交\n" in body(shop, "CMP-0001")
    assert "## 复盘" in body(shop, "CMP-0001")  # the rest of the type's template stays

    expected = {  # ID: (title, owner, due, skus, plan)
        "MAT-0001": ("测试大促 活动文案", "chenjing", "2027-10-27", None, "test8-2027/copy"),
        "MAT-0002": ("主图：S1 Pro 耳机", "hemei", "2027-10-30", ["SKU-0001"], "test8-2027/main_image/SKU-0001"),
        "MAT-0003": ("主图：PB20 充电宝", "zhaomin", "2027-10-30", ["SKU-0002"], "test8-2027/main_image/SKU-0002"),
        "MAT-0004": ("详情页：SKU-0001", "hemei", "2027-10-31", ["SKU-0001"], "test8-2027/detail_page/SKU-0001"),
        "MAT-0005": ("详情页：SKU-0002", "zhaomin", "2027-10-31", ["SKU-0002"], "test8-2027/detail_page/SKU-0002"),
        "MAT-0006": ("短视频", "hemei", "2027-11-01", ["SKU-0001", "SKU-0002"], "test8-2027/video"),
        "MAT-0007": ("客服话术", "sunli", "2027-11-08", None, "test8-2027/service"),
    }
    for card_id, (title, owner, due, skus, plan) in expected.items():
        m = meta(shop, card_id)
        assert (m["title"], m["owner"], m["due"], m.get("skus"), m["plan"]) == (title, owner, due, skus, plan)
        assert m["campaign"] == "CMP-0001"
    assert Board(shop).find("MAT-0002").checklist == [(False, "白底图"), (False, "价格标")]
    assert cli.ok("check", "--strict").stdout == ""


def test_the_preview_shows_every_card_and_writes_nothing(shop, cli):
    before = tree(shop, skip=shop / ".git")
    state = git_state(shop)
    out = cli.ok(*PLAN).output
    assert "将新建 8 张卡片" in out and "这是预览，什么都没有写" in out
    assert "CMP-0001  活动提报  2027 测试大促 活动提报" in out
    assert "截止日期 2027-10-30（素材截止 - 2d）" in out
    assert "素材截止  2027-11-01  上线 - 10d" in out and "上线  2027-11-11  --date 给出" in out
    assert "何梅：「美工」里未完成卡片最少（赵敏 1、何梅 0）" in out
    assert "赵敏：「美工」里未完成卡片并列最少，按名单顺序（赵敏 1、何梅 1）" in out
    assert "陈静：「文案」只有这一个人（未完成 0 张）" in out
    assert tree(shop, skip=shop / ".git") == before and git_state(shop) == state
    data = json.loads(cli.ok(*PLAN, "--json").output)
    assert [c["id"] for c in data["new"]] == ["CMP-0001"] + [f"MAT-000{i}" for i in range(1, 8)]
    assert data["plan"] == "test8-2027" and data["applied"] is False


def test_running_a_plan_again_makes_nothing(shop, cli):
    cli.ok(*PLAN, "--apply")
    head = git(shop, "rev-parse", "HEAD")
    again = cli.ok(*PLAN, "--apply")
    assert "计划 test8-2027 已经建好了，没有要新建的卡片" in again.output
    assert "已经有的 8 张不再新建" in again.output
    assert git(shop, "rev-parse", "HEAD") == head and git(shop, "status", "--porcelain") == ""
    assert len(list(shop.glob("asset/*/MAT-*.md"))) == 7


def test_a_sku_added_later_gets_only_its_own_cards(shop, cli):
    cli.ok(*PLAN, "--apply")
    cli.ok("new", "sku", "C2C 数据线", "--owner", "wangli")
    result = cli.ok("plan", "test8", "--date", "上线=2027-11-11", "--sku", "SKU-0001,SKU-0002", "--sku", "SKU-0003",
                    "--apply")
    assert "已新建 2 张卡片" in result.output
    changed = sorted(git(shop, "show", "--name-status", "--format=", "HEAD").splitlines())
    assert changed == ["A\tasset/todo/MAT-0008.md", "A\tasset/todo/MAT-0009.md",
                       "M\tasset/todo/MAT-0006.md", "M\tcampaign/planned/CMP-0001.md"]
    assert meta(shop, "CMP-0001")["skus"] == ["SKU-0001", "SKU-0002", "SKU-0003"]
    assert meta(shop, "MAT-0006")["skus"] == ["SKU-0001", "SKU-0002", "SKU-0003"]  # the video covers every SKU
    assert meta(shop, "MAT-0008")["plan"] == "test8-2027/main_image/SKU-0003"
    diff = git(shop, "show", "--format=", "HEAD", "--", "campaign/planned/CMP-0001.md")
    assert [line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")] == [
        "-skus: [SKU-0001, SKU-0002]", "+skus: [SKU-0001, SKU-0002, SKU-0003]"]


def test_links_go_both_ways_when_the_linked_type_has_a_field_for_it(shop, cli):
    """A SKU type with a `campaigns` field: each SKU of the plan gets the new campaign in it,
    changing only that line, in the plan's one commit."""
    cfg = shop / "mdboard.yaml"
    text = cfg.read_text("utf-8").replace(
        "      category: {type: text, label: 类目}",
        "      category: {type: text, label: 类目}\n      campaigns: {type: links, to: campaign, label: 参加的活动}")
    cfg.write_text(text, "utf-8")
    git(shop, "commit", "-qam", "campaigns field")
    before = (shop / "sku/planning/SKU-0001.md").read_text("utf-8")
    cli.ok(*PLAN, "--apply")
    after = (shop / "sku/planning/SKU-0001.md").read_text("utf-8")
    assert meta(shop, "SKU-0001")["campaigns"] == ["CMP-0001"]
    assert after.replace("campaigns: [CMP-0001]\n", "") == before
    assert "M\tsku/planning/SKU-0002.md" in git(shop, "show", "--name-status", "--format=", "HEAD")
    assert cli.ok("check").exit_code == 0


def refused(cli, board, *args) -> str:
    before = tree(board, skip=board / ".git")
    state = git_state(board)
    result = cli(*args)
    assert result.exit_code == 1, result.output
    assert "计划没有建，什么都没有写" in result.output
    assert tree(board, skip=board / ".git") == before and git_state(board) == state
    return result.output


def test_a_role_nobody_has_is_refused_with_nothing_written(shop, cli):
    write_playbook(shop, "test8", EIGHT.replace("role: 客服", "role: 主播"))
    out = refused(cli, shop, *PLAN, "--apply")
    assert "playbooks/test8.yaml:cards.service.role: 名单里没有人的角色是「主播」" in out
    assert "在 mdboard.yaml 里给负责这件事的人加上角色「主播」" in out
    check = cli("check")
    assert "提醒：playbooks/test8.yaml:cards.service.role: 名单里没有人的角色是「主播」" in check.output


def test_offsets_that_break_the_date_order_are_refused_and_checked(shop, cli):
    # 素材截止 comes after 上线 although it is listed before it
    write_playbook(shop, "test8", EIGHT.replace("default: 上线 - 10d", "default: 上线 + 5d"))
    out = refused(cli, shop, *PLAN, "--apply")
    assert "playbooks/test8.yaml:dates.live_start: 「上线」（2027-11-11）早于排在它前面的「素材截止」（2027-11-16）" in out
    check = cli("check")
    assert check.exit_code == 1
    assert "playbooks/test8.yaml:dates.live_start: 「上线」（2030-06-15）早于排在它前面的「素材截止」（2030-06-20）" in check.output


def test_offsets_that_break_a_cards_date_order_are_refused_and_checked(shop, cli):
    swapped = EIGHT.replace("signup_end: 报名截止, materials_due: 素材截止", "signup_end: 素材截止, materials_due: 报名截止")
    write_playbook(shop, "test8", swapped)
    out = refused(cli, shop, *PLAN, "--apply")
    assert ("playbooks/test8.yaml:cards.campaign.fields.materials_due: "
            "「报名截止」（2027-11-01）应在「素材截止」（2027-10-22）之前") in out
    check = cli("check").output
    assert ("playbooks/test8.yaml:cards.campaign.fields.materials_due: "
            "「报名截止」（2030-06-05）应在「素材截止」（2030-05-26）之前") in check


def test_a_step_due_before_the_step_it_follows_is_refused(shop, cli):
    write_playbook(shop, "test8", EIGHT.replace("due: 素材截止 - 2d", "due: 素材截止 - 9d"))
    out = refused(cli, shop, *PLAN)
    assert "cards.main_image.after: 「主图」的截止日期 2027-10-23 早于它应排在其后的「文案」（2027-10-27）" in out


def test_dates_in_the_past_are_refused(shop, cli):
    out = refused(cli, shop, "plan", "test8", "--date", "上线=2026-12-01", "--apply")
    assert "CMP-0001 的「报名截止」是 2026-11-11，已经过去了（今天 2026-11-25）" in out
    assert "换一个更晚的日期（--date 上线=YYYY-MM-DD）" in out


def test_check_names_each_mistake_in_a_playbook(shop, cli):
    bad = (EIGHT.replace("kind: 文案, campaign: campaign}", "kind: 文按, campaign: campaign, colour: 红}", 1)
           .replace("due: 上线 - 3d", "due: 开售 - 3d").replace('title: "主图：{sku}"', 'title: "主图：{sku_name}"'))
    write_playbook(shop, "test8", bad)
    out = cli("check").output
    assert "playbooks/test8.yaml:cards.copy.fields.kind: 「文按」不在可选项中" in out
    assert "playbooks/test8.yaml:cards.copy.fields.colour: 「素材」没有这个字段" in out
    assert "playbooks/test8.yaml:cards.service.fields.due: 没有叫「开售」的关键日期" in out
    assert "playbooks/test8.yaml:cards.main_image.title: 没有这个占位符：{sku_name}" in out
    result = cli(*PLAN)
    assert result.exit_code == 1
    assert "打法 playbooks/test8.yaml 有错误，先修好它" in result.output
    assert "cards.copy.fields.colour" in result.output


def test_an_unknown_playbook_gets_a_suggestion(shop, cli):
    result = cli("plan", "test9")
    assert result.exit_code == 1
    assert "没有叫「test9」的打法" in result.output and "test8" in result.output


def test_without_dates_the_sale_calendar_gives_them(shop, cli):
    out = cli.ok("plan", "test8", "--sku", "SKU-0001").output
    assert "大促：双11 2027（sales/2027.yaml，日期是估算的，还没确认）" in out
    assert "上线  2027-10-14  大促日历" in out and "报名截止  2027-09-22  大促日历" in out
    assert "素材截止  2027-10-04  上线 - 10d" in out


def test_per_sku_cards_wait_for_skus(shop, cli):
    out = cli.ok("plan", "test8", "--date", "上线=2027-11-11").output
    assert "将新建 4 张卡片" in out
    assert "没有给 --sku：每个商品一张的卡片（主图、详情页）这次不建" in out


def test_owner_option_gives_a_role_to_someone(shop, cli):
    cli.ok(*PLAN, "--owner", "美工=zhaomin", "--apply")
    assert {meta(shop, f"MAT-000{i}")["owner"] for i in (2, 3, 4, 5, 6)} == {"zhaomin"}


def test_plan_lists_the_playbooks(shop, cli):
    out = cli.ok("plan").output
    assert "double11  双11  playbooks/double11.yaml：活动提报、活动文案和卖点、主图、详情页、短视频、店铺首页和海报、客服话术" in out
    assert "test8  测试大促  playbooks/test8.yaml" in out


def test_the_default_playbooks_plan_on_a_new_board(board, cli):
    """What `mdboard init` writes works as it is: 双11 and 618 from the sale calendar."""
    cli.ok("new", "sku", "S1 Pro 耳机", "--owner", "zhaomin")
    assert cli.ok("check", "--strict").stdout == ""
    cli.ok("plan", "double11", "--sku", "SKU-0001", "--apply")
    cli.ok("plan", "618", "--sku", "SKU-0001", "--apply")
    b = Board(board)
    plans = sorted({c.meta["plan"].split("/")[0] for c in b.cards() if "plan" in c.meta})
    assert plans == ["618-2027", "double11-2027"]
    assert meta(board, "CMP-0001")["live_start"] == "2027-10-14"
    assert meta(board, "CMP-0002")["live_start"] == "2027-05-13"
    assert cli.ok("check", "--strict").stdout == ""


def test_sales_lists_what_is_coming_with_days_left(shop, cli):
    cli.ok(*PLAN[:2], "--sku", "SKU-0001", "--apply")  # from the calendar: 双11 2027
    out = cli.ok("sales").output
    assert out.startswith("今天是 2026-11-25。接下来的大促：\n")
    assert "双12 2026  报名已截止，还有 13 天上线  [日期待确认]" in out
    assert "年货节 2027  报名截止还有 18 天  [日期待确认]" in out
    assert "计划 double11-2027" not in out and "计划 test8-2027：CMP-0001 2027 双11 活动提报，6 张卡片" in out
    assert "还没有计划：mdboard plan 618 --sku …" in out
    rows = json.loads(cli.ok("sales", "--json").output)
    first = rows[0]
    assert (first["key"], first["year"], first["signup_days"], first["live_days"]) == ("double12", 2026, -3, 13)
    assert [r["key"] for r in json.loads(cli.ok("sales", "--days", "30", "--json").output)] == ["double12", "cny"]


def test_a_wrong_sale_calendar_is_reported_by_check(shop, cli):
    path = shop / "sales/2027.yaml"
    path.write_text(path.read_text("utf-8").replace("live_end: 2027-11-11", "live_end: 2027-10-01")
                    .replace("    platforms: [tmall]\n", "    platforms: [taobao]\n"), "utf-8")
    out = cli("check").output
    assert "sales/2027.yaml:sales.double11.live_end: 「上线」（2027-10-14）应在「结束」（2027-10-01）之前" in out
    assert "提醒：sales/2027.yaml:sales.99.platforms: 看板的平台列表里没有「taobao」" in out


# --- rollover: --like last year's campaign ---------------------------------------------------

def test_like_copies_last_years_finished_campaign_into_next_year(demo_board):
    """The demo's 双11 2026 (CMP-0001, finished, made by a plan with its main images) rolled over:
    dates moved to 2027's sale, owners by role, the SKUs kept, last year's 复盘 as a checklist."""
    cli = Cli(demo_board)
    head = git(demo_board, "rev-parse", "HEAD")
    result = cli.ok("plan", "double11", "--like", "CMP-0001", "--apply")
    assert "照 CMP-0001「天猫 双11 全球狂欢节」和它的卡片建" in result.output
    assert git(demo_board, "rev-parse", "HEAD~1") == head
    assert "Like: CMP-0001" in git(demo_board, "log", "-1", "--format=%B")
    campaign = meta(demo_board, "CMP-0008")
    assert {k: campaign[k] for k in ("signup_start", "signup_end", "materials_due", "review_date", "live_start",
                                     "live_end")} == {
        "signup_start": "2027-09-02", "signup_end": "2027-09-22", "materials_due": "2027-10-02",
        "review_date": "2027-10-07", "live_start": "2027-10-14", "live_end": "2027-11-11"}
    assert campaign["skus"] == ["SKU-0001", "SKU-0003", "SKU-0004", "SKU-0005"]
    assert campaign["plan"] == "double11-2027/campaign" and campaign["owner"] == "wangli"
    text = body(demo_board, "CMP-0008")
    assert "## 去年复盘要点（CMP-0001）\n\n- [ ] 成交 GMV 68.2 万，目标 60 万，完成 114%\n" in text
    assert "- [ ] 下次预售要提前 3 天投放种草\n\n## 复盘" in text
    assert "- [ ] 确认活动规则\n- [ ] 报名提交\n" in text  # last year's checklist, not ticked
    assert "[x]" not in text
    # one main image card per SKU, each due as far from 报名截止 as last year's (10-10 = 10-08 + 2d)
    images = [c for c in Board(demo_board).cards() if str(c.meta.get("plan", "")).startswith("double11-2027/main")]
    assert sorted(c.meta["skus"][0] for c in images) == ["SKU-0001", "SKU-0003", "SKU-0004", "SKU-0005"]
    assert {c.meta["due"] for c in images} == {"2027-09-24"} and {c.owner for c in images} == {"zhaomin"}
    assert all(c.checklist == [(False, "800×800 主图 5 张"), (False, "透明底图"), (False, "上传千牛素材库")]
               for c in images)
    assert all(c.meta["campaign"] == "CMP-0008" for c in images)
    again = cli.ok("plan", "double11", "--like", "CMP-0001", "--apply")
    assert "没有要新建的卡片" in again.output
    assert cli.ok("check", "--strict").stdout == ""


def test_like_a_hand_made_campaign_takes_it_and_the_cards_linking_to_it(board, cli):
    """A campaign typed by hand last year (no plan key): the cards linking to it come along."""
    cli.ok("new", "sku", "S1 Pro 耳机", "--owner", "zhaomin")
    cli.ok("new", "campaign", "2026 抖音 双11 好物节", "--owner", "wangli", "--set", "platform=douyin",
           "--set", "signup_end=2026-09-25", "--set", "live_start=2026-10-20", "--set", "live_end=2026-11-11",
           "--set", "skus=SKU-0001")
    cli.ok("new", "asset", "2026 双11 直播切片", "--owner", "zhaomin", "--due", "2026-10-22",
           "--set", "kind=直播切片", "--set", "campaign=CMP-0001", "--set", "platforms=douyin")
    path = board / "campaign/planned/CMP-0001.md"
    path.write_text(path.read_text("utf-8") + "- 直播切片要当天发\n", "utf-8")
    git(board, "commit", "-qam", "复盘")
    out = cli.ok("plan", "double11", "--like", "CMP-0001", "--apply").output
    assert "将新建" not in out and "新建了 2 张卡片" in out
    clip = meta(board, "MAT-0002")
    assert (clip["title"], clip["due"], clip["campaign"], clip["plan"]) == (
        "2027 双11 直播切片", "2027-10-16", "CMP-0002", "double11-2027/asset_1")  # 上线 + 2d, as last year
    assert meta(board, "CMP-0002")["platform"] == "douyin"
    assert "- [ ] 直播切片要当天发" in body(board, "CMP-0002")


def test_the_docs_show_the_default_playbooks_init_writes():
    """docs/playbooks.md quotes the two playbooks `mdboard init` writes, exactly."""
    from conftest import REPO

    text = (REPO / "docs/playbooks.md").read_text("utf-8")
    found = dict(re.findall(r"<!-- file: (\S+) -->\n```yaml\n(.*?)\n```\n", text, re.S))
    assert sorted(found) == ["playbooks/618.yaml", "playbooks/double11.yaml"]
    for rel, quoted in found.items():
        shipped = REPO / "mdboard/domain/skeleton/playbooks/zh-CN" / rel.split("/")[1]
        assert quoted + "\n" == shipped.read_text("utf-8"), rel


def test_an_english_board_gets_english_playbooks_that_plan(tmp_path):
    from click.testing import CliRunner

    from mdboard.cli.main import main

    root = tmp_path / "en"
    assert CliRunner().invoke(main, ["init", str(root), "--lang", "en"]).exit_code == 0
    cli = Cli(root)
    assert cli.ok("check", "--strict").stdout == ""
    cli.ok("new", "sku", "Earbuds", "--owner", "me")
    out = cli.ok("plan", "double11", "--sku", "SKU-0001").output
    assert "Plan double11-2027 · playbook 'Double 11' (playbooks/double11.yaml)" in out
    assert "Owner Me: the only 'ops' (1 open cards)" in out
    assert "Due 2027-09-29 (Materials due - 3d)" in out
    assert "This is a preview; nothing was written." in out
    sales = cli.ok("sales").output
    assert "Double 11 2027  signup closes in 301 days  [dates not confirmed]" in sales


def test_a_playbook_that_does_not_fit_the_board_is_a_warning_and_cannot_plan(board, cli):
    """A team that drops the asset type keeps a valid board: check warns that the default
    playbooks do not fit it (and exits 0); planning with one is refused, naming why."""
    cfg = board / "mdboard.yaml"
    text = cfg.read_text("utf-8")
    cfg.write_text(text[:text.index("  asset:\n")], "utf-8")
    git(board, "commit", "-qam", "no assets")
    check = cli("check")
    assert check.exit_code == 0, check.output
    assert "提醒：playbooks/double11.yaml:cards.main_image.type: 没有「asset」这种卡片" in check.output
    out = refused_plain(cli, board, "plan", "double11", "--sku", "SKU-0001")
    assert "打法 playbooks/double11.yaml 有错误，先修好它" in out
    assert "playbooks/double11.yaml:cards.poster.type: 没有「asset」这种卡片" in out


def refused_plain(cli, board, *args) -> str:
    before, state = tree(board, skip=board / ".git"), git_state(board)
    result = cli(*args)
    assert result.exit_code == 1, result.output
    assert tree(board, skip=board / ".git") == before and git_state(board) == state
    return result.output


def test_a_plan_never_sweeps_in_a_hand_edit(shop, cli):
    """Adding a SKU later changes the campaign card; if it holds an uncommitted hand edit the
    plan is refused (as every action is) and nothing is written."""
    cli.ok(*PLAN, "--apply")
    cli.ok("new", "sku", "C2C 数据线", "--owner", "wangli")
    path = shop / "campaign/planned/CMP-0001.md"
    path.write_text(path.read_text("utf-8") + "\n手写的备注\n", "utf-8")
    before, head = tree(shop, skip=shop / ".git"), git(shop, "rev-parse", "HEAD")
    result = cli(*PLAN, "--sku", "SKU-0003", "--apply")
    assert result.exit_code == 1, result.output
    assert "campaign/planned/CMP-0001.md" in result.output and "mdboard save CMP-0001" in result.output
    assert tree(shop, skip=shop / ".git") == before and git(shop, "rev-parse", "HEAD") == head
