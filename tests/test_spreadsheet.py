"""CSV import and export: Excel's encodings and separators, Chinese headers, every row
validated and reported by row and column, one commit or nothing, and a lossless round trip."""

from __future__ import annotations

import csv
import io
import json

import pytest

from conftest import Cli, git

NEW_SHEET = "标题,负责人,截止日期,平台,价格,标签\n羊毛大衣,王丽,2026-12-03,天猫、京东,1299,冬季、爆款\n围巾,赵敏,,抖音,89,\n"


def commits(root) -> int:
    return int(git(root, "rev-list", "--count", "HEAD"))


def sheet(root, name: str, text: str, encoding: str = "utf-8"):
    path = root / name
    path.write_bytes(text.encode(encoding))
    return path


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "Excel needs the UTF-8 BOM"
    return list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline="")))


@pytest.fixture
def demo(demo_board) -> Cli:
    """The CLI on a fresh copy of the demo board in its own repository."""
    return Cli(demo_board)


# --- import: encodings, separators, headers -----------------------------------------

@pytest.mark.parametrize("encoding,sep", [("gb18030", ","), ("utf-8-sig", ","), ("utf-8", "\t"), ("utf-8", ";"),
                                          ("utf-16", "\t")])
def test_import_reads_excel_encodings_and_separators(board, cli, encoding, sep):
    path = sheet(board, "上新.csv", NEW_SHEET.replace(",", sep), encoding)
    result = cli("import", "csv", path.name, "--type", "上新", "--apply")
    assert result.exit_code == 0, result.output
    assert "已导入：新建 2 张，更新 0 张，0 张不变" in result.output
    assert (board / "sku/planning/SKU-0001.md").read_text("utf-8") == (
        "---\ntitle: 羊毛大衣\nowner: wangli\ndue: 2026-12-03\nplatforms: [tmall, jd]\nprice: 1299\n"
        "tags: [冬季, 爆款]\n---\n\n## 上新清单\n\n- [ ] 拍摄\n- [ ] 主图\n- [ ] 详情页\n- [ ] 文案\n- [ ] 价格审核\n")
    assert "owner: zhaomin\nplatforms: [douyin]\nprice: 89\n" in (board / "sku/planning/SKU-0002.md").read_text("utf-8")


FOREIGN_SHEETS = [  # (encoding, sheet text): real bytes that a GB18030 guess would turn into Chinese
    ("latin-1", "title,owner\nCrème brûlée à la vanille,wangli\nÜbergröße Jacke,zhaomin\n"),
    ("cp1252", "title,owner\n“Señor” piñata,wangli\nSmörgåsbord,zhaomin\n"),
    ("shift_jis", "title,owner\nワイヤレスイヤホン,wangli\n急速充電器 ブラック,zhaomin\n"),
    ("euc_jp", "title,owner\nワイヤレスイヤホン,wangli\nスマホケース 手帳型,zhaomin\n"),
    ("big5", "title,owner\n無線耳機 禮盒裝,wangli\n保溫杯,zhaomin\n"),
]


@pytest.mark.parametrize("encoding,text", FOREIGN_SHEETS, ids=[e for e, _ in FOREIGN_SHEETS])
def test_an_encoding_that_cannot_be_told_is_asked_for_not_guessed(board, cli, encoding, text):
    sheet(board, "supplier.csv", text, encoding)
    before = commits(board)
    for args in ((), ("--apply",)):
        result = cli("import", "csv", "supplier.csv", "--type", "sku", *args)
        assert result.exit_code == 1
        assert result.stderr.strip() == (
            "错误：无法确定 supplier.csv 的编码：它不是 UTF-8，读成中文编码（GBK/GB18030）也不像中文，猜错会把文字变成"
            "乱码。请在 Excel 或 WPS 中另存为「CSV UTF-8（逗号分隔）」，或用 --encoding 指明编码，例如 --encoding gbk"
            "（中文 Excel）、big5（繁体中文）、shift_jis（日文）、latin-1（西欧文字）")
    assert commits(board) == before and not list(board.glob("sku/*/*.md"))


@pytest.mark.parametrize("encoding,text", FOREIGN_SHEETS, ids=[e for e, _ in FOREIGN_SHEETS])
def test_a_named_encoding_is_read_as_named(board, cli, encoding, text):
    sheet(board, "supplier.csv", text, encoding)
    plan = cli("import", "csv", "supplier.csv", "--type", "sku", "--encoding", encoding)
    assert plan.exit_code == 0, plan.output
    assert f"mdboard import csv supplier.csv --type sku --encoding {encoding} --apply" in plan.stderr
    assert cli("import", "csv", "supplier.csv", "--type", "sku", "--encoding", encoding, "--apply").exit_code == 0
    first, second = (line.split(",")[0] for line in text.splitlines()[1:])
    assert f"title: {first}\n" in (board / "sku/planning/SKU-0001.md").read_text("utf-8")
    assert f"title: {second}\n" in (board / "sku/planning/SKU-0002.md").read_text("utf-8")


def test_chinese_gbk_with_rare_name_characters_and_a_borrowed_no_needs_no_encoding(board, cli):
    roster = board / "mdboard.yaml"
    roster.write_text(roster.read_text("utf-8").replace("name: 赵敏", "name: 赵喆"), "utf-8")
    git(board, "commit", "-qam", "roster")
    sheet(board, "上新.csv", "标题,负责人\n夏日の清凉 冰丝凉席,赵喆\n加绒加厚外套 王堃同款,王丽\n", "gbk")
    result = cli("import", "csv", "上新.csv", "--type", "sku", "--apply")
    assert result.exit_code == 0, result.output
    assert "title: 夏日の清凉 冰丝凉席\nowner: zhaomin\n" in (board / "sku/planning/SKU-0001.md").read_text("utf-8")


def test_an_unknown_or_wrong_named_encoding_is_refused(board, cli):
    sheet(board, "s.csv", NEW_SHEET, "gbk")
    for name in ("klingon", "base64"):
        result = cli("import", "csv", "s.csv", "--type", "sku", "--encoding", name)
        assert result.exit_code == 1
        assert result.stderr.strip() == (f"错误：不认识编码「{name}」：请写 utf-8、gbk、gb18030、big5、shift_jis 或 latin-1 "
                                         "这样的名称")
    wrong = cli("import", "csv", "s.csv", "--type", "sku", "--encoding", "utf-8", "--apply")
    assert wrong.exit_code == 1
    assert wrong.stderr.strip() == ("错误：s.csv 不是 utf-8 编码的文本（第 0 个字节无法按 utf-8 读取）：请用 --encoding "
                                    "指明它真正的编码，或另存为「CSV UTF-8」")
    assert not list(board.glob("sku/*/*.md"))


def test_imported_card_is_written_exactly_as_mdboard_new_writes_it(board, cli, tmp_path):
    sheet(board, "a.csv", "标题,负责人,截止日期,平台\n羊毛大衣,王丽,2026-12-03,天猫\n")
    assert cli("import", "csv", "a.csv", "--type", "sku", "--apply").exit_code == 0
    imported = (board / "sku/planning/SKU-0001.md").read_text("utf-8")
    assert cli("new", "sku", "羊毛大衣", "--owner", "王丽", "--due", "2026-12-03",
               "--set", "platforms=天猫").exit_code == 0
    assert (board / "sku/planning/SKU-0002.md").read_text("utf-8") == imported


def test_dry_run_shows_the_plan_and_writes_nothing(board, cli):
    sheet(board, "a.csv", NEW_SHEET)
    before = commits(board)
    result = cli("import", "csv", "a.csv", "--type", "sku")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "表格的列：", "  标题 → 标题 (title)", "  负责人 → 负责人 (owner)", "  截止日期 → 截止日期 (due)",
        "  平台 → 平台 (platforms)", "  价格 → 价格 (price)", "  标签 → 标签 (tags)",
        "第 2 行  新建  SKU-0001  羊毛大衣  标题: 羊毛大衣; 负责人: 王丽; 截止日期: 2026-12-03; 平台: 天猫、京东; "
        "价格: 1299; 标签: 冬季、爆款",
        "第 3 行  新建  SKU-0002  围巾  标题: 围巾; 负责人: 赵敏; 平台: 抖音; 价格: 89",
        "将新建 2 张，更新 0 张，0 张不变（加 --apply 执行）"]
    assert "mdboard import csv a.csv --type sku --apply" in result.stderr
    assert commits(board) == before
    assert not (board / "sku/planning/SKU-0001.md").exists()
    data = json.loads(cli("import", "csv", "a.csv", "--type", "sku", "--json").stdout)
    assert (data["valid"], data["applied"], data["new"], data["updated"]) == (True, False, 2, 0)
    assert data["rows"][1]["changes"][1] == {"column": "负责人", "old": "", "new": "赵敏"}
    assert data["columns"][1] == {"column": "负责人", "field": "owner", "label": "负责人 (owner)"}


def test_headers_by_key_or_english_label_work_too(board, cli):
    sheet(board, "a.csv", "title,owner,Due,platforms\n大衣,zhaomin,2026-12-03,tmall\n")
    result = cli("import", "csv", "a.csv", "--type", "SKU", "--apply")
    assert result.exit_code == 0, result.output
    assert "owner: zhaomin\ndue: 2026-12-03\nplatforms: [tmall]\n" in (board / "sku/planning/SKU-0001.md").read_text("utf-8")


# --- import: bad rows -------------------------------------------------------------------

BAD_SHEET = ("标题,负责人,截止日期,平台\n"
             "好的一行,王丽,2026-12-01,天猫\n"
             "大衣,王力,2026-12-01,天猫\n"
             "围巾,赵敏,2026-02-30,天猫\n"
             "手套,赵敏,2026-12-02,淘宝\n")


@pytest.mark.parametrize("apply", [False, True])
def test_bad_rows_are_reported_by_row_and_column_and_nothing_is_written(board, cli, apply):
    sheet(board, "bad.csv", BAD_SHEET)
    before = commits(board)
    result = cli("import", "csv", "bad.csv", "--type", "sku", *(["--apply"] if apply else []))
    assert result.exit_code == 1
    lines = [
        "bad.csv:第 3 行:负责人: 名单里没有「王力」（是不是「王丽」？）",
        "bad.csv:第 4 行:截止日期: 没有这一天：2026-02-30（写成 2026-12-01、2026/12/1、12月1日、今天、明天、+3 或 下周一）",
        "bad.csv:第 5 行:平台: 没有平台「淘宝」（可选：抖音、天猫、拼多多、京东）"]
    for line in lines:
        assert line in result.stderr
    assert "Traceback" not in result.output
    assert commits(board) == before
    assert not list((board / "sku").rglob("SKU-*.md"))
    assert git(board, "status", "--porcelain") == "?? bad.csv"


def test_bad_rows_as_a_subprocess_with_json(board, cli):
    sheet(board, "bad.csv", BAD_SHEET)
    proc = cli.proc("import", "csv", "bad.csv", "--type", "sku", "--apply", "--json")
    assert proc.returncode == 1
    data = json.loads(proc.stdout)
    assert data["valid"] is False and data["applied"] is False
    assert [(p["path"], p["field"]) for p in data["problems"]] == [
        ("bad.csv:第 3 行", "负责人"), ("bad.csv:第 4 行", "截止日期"), ("bad.csv:第 5 行", "平台")]
    plain = cli.proc("import", "csv", "bad.csv", "--type", "sku")
    assert plain.returncode == 1
    assert plain.stderr.strip().splitlines()[-1] == "有 3 个错误，没有导入任何内容。改好表格后重新运行"


def test_whole_board_rules_apply_to_each_row(board, cli):
    sheet(board, "c.csv", "标题,负责人,平台,报名开始,报名截止,活动商品\n"
                          "双12,王丽,天猫,2026-12-05,2026-12-01,SKU-0009\n"
                          ",王丽,天猫,,,\n")
    result = cli("import", "csv", "c.csv", "--type", "campaign")
    assert result.exit_code == 1
    assert "c.csv:第 2 行:报名截止: 「报名开始」（2026-12-05）应在「报名截止」（2026-12-01）之前" in result.stderr
    assert "c.csv:第 2 行:活动商品: 链接的卡片 SKU-0009 不存在" in result.stderr
    assert "c.csv:第 3 行:标题: 缺少必填字段「标题」" in result.stderr


def test_spreadsheet_dates_are_normalised_with_a_warning(board, cli):
    sheet(board, "d.csv", "标题,负责人,截止日期\n"
                          "甲,王丽,2026/12/1\n乙,王丽,2026.12.2\n丙,王丽,2026年12月3日\n丁,王丽,12/4/2026\n"
                          "戊,王丽,46361\n己,王丽,2026/12/6 0:00\n")
    result = cli("import", "csv", "d.csv", "--type", "sku", "--apply")
    assert result.exit_code == 0, result.output
    assert "提醒：d.csv:第 2 行:截止日期: 日期「2026/12/1」已按 2026-12-01 导入" in result.stderr
    assert "提醒：d.csv:第 5 行:截止日期: 日期「12/4/2026」已按 2026-12-04 导入" in result.stderr
    assert "提醒：d.csv:第 6 行:截止日期: 日期「46361」已按 2026-12-05 导入" in result.stderr
    for n in range(1, 7):
        assert f"due: 2026-12-0{n}\n" in (board / f"sku/planning/SKU-000{n}.md").read_text("utf-8")


def test_datetime_cells_keep_their_time(board, cli):
    sheet(board, "i.csv", "标题,负责人,预计解决时间,平台,订单号,问题类型\n退货,孙丽,2026/11/30 18:00,天猫,88,物流\n")
    result = cli("import", "csv", "i.csv", "--type", "售后", "--apply")
    assert result.exit_code == 0, result.output
    assert "日期「2026/11/30 18:00」已按 2026-11-30 18:00 导入" in result.stderr
    text = (board / "issue/new/AS-0001.md").read_text("utf-8")
    assert "due: 2026-11-30 18:00\n" in text and "order_no: '88'\n" in text


# --- import: updates, one commit, idempotence -------------------------------------------

def test_apply_makes_one_commit_and_reimport_changes_nothing(board, cli):
    assert cli("new", "sku", "旧款", "--owner", "王丽", "--due", "2026-12-10").exit_code == 0
    before = commits(board)
    sheet(board, "s.csv", "编号,标题,负责人,截止日期\nSKU-0001,旧款,赵敏,2026-12-10\n,新款,陈静,2026/12/20\n,另一款,陈静,\n")
    result = cli("import", "csv", "s.csv", "--type", "sku", "--apply")
    assert result.exit_code == 0, result.output
    assert commits(board) == before + 1
    assert [x for x in git(board, "show", "--name-only", "--format=%s%n%b", "HEAD").splitlines() if x] == [
        "import s.csv: 2 new, 1 updated", "Action: import", "Card: SKU-0001", "Card: SKU-0002",
        "Card: SKU-0003", "sku/planning/SKU-0001.md", "sku/planning/SKU-0002.md", "sku/planning/SKU-0003.md"]
    # the update changed only the owner line
    assert git(board, "diff", "HEAD~1", "HEAD", "-U0", "--", "sku/planning/SKU-0001.md").splitlines()[-2:] == [
        "-owner: wangli", "+owner: zhaomin"]
    again = cli("import", "csv", "s.csv", "--type", "sku", "--apply")
    assert again.exit_code == 0
    assert again.stdout.strip() == "没有需要修改的内容"
    assert commits(board) == before + 1
    assert git(board, "status", "--porcelain") == "?? s.csv"


def test_an_empty_cell_clears_a_field_and_unknown_columns_are_ignored_with_a_warning(board, cli):
    assert cli("new", "sku", "大衣", "--owner", "王丽", "--due", "2026-12-10", "--set", "category=服装").exit_code == 0
    sheet(board, "s.csv", "编号,截止日期,备注\nSKU-0001,,明天再说\n")
    result = cli("import", "csv", "s.csv", "--type", "sku", "--apply")
    assert result.exit_code == 0, result.output
    assert "提醒：s.csv:备注: 没有这个字段，这一列不会导入" in result.stderr
    text = (board / "sku/planning/SKU-0001.md").read_text("utf-8")
    assert "due:" not in text and "category: 服装\n" in text and "title: 大衣\n" in text


def test_unknown_and_duplicate_ids_are_refused(board, cli):
    assert cli("new", "sku", "大衣", "--owner", "王丽").exit_code == 0
    sheet(board, "s.csv", "编号,负责人\nSKU-0001,赵敏\nSKU-0001,陈静\nSKU-0042,陈静\nAS-0001,陈静\n")
    result = cli("import", "csv", "s.csv", "--type", "sku")
    assert result.exit_code == 1
    assert "s.csv:第 3 行:编号: SKU-0001 已在第 2 行出现" in result.stderr
    assert "s.csv:第 4 行:编号: 找不到卡片 SKU-0042（新建卡片时把编号留空）" in result.stderr
    assert "s.csv:第 5 行:编号: 找不到卡片 AS-0001（新建卡片时把编号留空）" in result.stderr


def test_state_column_places_new_cards_and_moves_existing_ones(board, cli):
    assert cli("new", "sku", "大衣", "--owner", "王丽").exit_code == 0
    sheet(board, "s.csv", "编号,状态,标题,负责人\nSKU-0001,拍摄中,大衣,王丽\n,文案详情,围巾,赵敏\n")
    result = cli("import", "csv", "s.csv", "--type", "sku", "--apply")
    assert result.exit_code == 0, result.output
    assert (board / "sku/shooting/SKU-0001.md").exists() and not (board / "sku/planning/SKU-0001.md").exists()
    assert (board / "sku/content/SKU-0002.md").exists()
    assert git(board, "status", "--porcelain") == "?? s.csv"
    sheet(board, "bad.csv", "编号,状态\nSKU-0001,已上架\nSKU-0002,上架啦\n")
    bad = cli("import", "csv", "bad.csv", "--type", "sku")
    assert bad.exit_code == 1
    assert "bad.csv:第 2 行:价格: 进入「已上架」前必须填写「价格」" in bad.stderr
    assert "bad.csv:第 3 行:状态: 「上新」没有状态「上架啦」" in bad.stderr


def test_a_type_column_imports_several_types_and_is_required_without_type(board, cli):
    sheet(board, "m.csv", "类型,标题,负责人,平台\n上新,大衣,王丽,天猫\n活动提报,双12,王丽,天猫\n素材,主图,赵敏,\n")
    result = cli("import", "csv", "m.csv")
    assert result.exit_code == 1
    assert "m.csv:第 4 行:素材类型: 缺少必填字段「素材类型」" in result.stderr
    sheet(board, "n.csv", "标题,负责人\n大衣,王丽\n")
    missing = cli("import", "csv", "n.csv")
    assert missing.exit_code == 1
    assert missing.stderr.strip() == "错误：n.csv 没有「类型」列，请用 --type 指定卡片类型"
    other = cli("import", "csv", "m.csv", "--type", "sku")
    assert "m.csv:第 3 行:类型: 这一行是「活动提报」，但 --type 指定的是「上新」" in other.stderr


def test_unreadable_or_empty_files_are_one_line_errors(board, cli):
    result = cli("import", "csv", "nope.csv", "--type", "sku")
    assert result.exit_code == 1
    assert result.stderr.startswith("错误：无法读取 nope.csv：")
    sheet(board, "empty.csv", "")
    assert cli("import", "csv", "empty.csv", "--type", "sku").stderr.strip() == "错误：empty.csv 是空的或第一行没有列名"


# --- export ------------------------------------------------------------------------------

def test_export_csv_labels_names_and_bom(board, cli):
    assert cli("new", "sku", "羊毛大衣", "--owner", "王丽", "--due", "2026-12-03",
               "--set", "platforms=天猫,京东", "--set", "price=1299.5", "--set", "price_approved=是",
               "--set", "tags=冬季,爆款").exit_code == 0
    result = cli("export", "csv", "--type", "sku")
    assert result.exit_code == 0
    assert read_csv(result.stdout_bytes) == [
        ["编号", "状态", "标题", "负责人", "截止日期", "平台", "价格", "价格已审核", "类目", "标签"],
        ["SKU-0001", "规划中", "羊毛大衣", "王丽", "2026-12-03", "天猫、京东", "1299.5", "是", "", "冬季、爆款"]]
    assert result.stdout_bytes.endswith(b"\r\n")


def test_export_to_a_file_with_filters(board, cli):
    for title, owner in (("甲", "王丽"), ("乙", "赵敏"), ("丙", "王丽")):
        assert cli("new", "sku", title, "--owner", owner).exit_code == 0
    result = cli("export", "csv", "--owner", "王丽", "-o", "out.csv")
    assert result.exit_code == 0
    assert result.stderr.strip() == "已写入 out.csv（2 张卡片）"
    rows = read_csv((board / "out.csv").read_bytes())
    assert rows[0][:4] == ["编号", "类型", "状态", "标题"]
    assert [r[0] for r in rows[1:]] == ["SKU-0001", "SKU-0003"]
    assert "平台 (platforms)" in rows[0] and "平台 (platform)" in rows[0]


def test_export_json_is_the_whole_board(board, cli):
    assert cli("new", "sku", "大衣", "--owner", "王丽").exit_code == 0
    data = json.loads(cli("export", "json").stdout)
    assert data["title"] == "我的店铺 运营看板"
    assert data["people"]["wangli"] == {"name": "王丽", "email": ["wangli@example.com"], "roles": ["运营"]}
    assert data["types"]["sku"]["fields"]["owner"] == {"type": "person", "label": "负责人", "required": True}
    assert [s["key"] for s in data["types"]["issue"]["states"]] == ["new", "following", "resolved", "archived"]
    card = data["cards"][0]
    assert (card["id"], card["state"], card["owner"], card["checklist"][0]) == (
        "SKU-0001", "planning", "wangli", {"done": False, "text": "拍摄"})
    assert card["body"].startswith("\n## 上新清单")


def test_export_ics_to_stdout_and_file(board, cli):
    assert cli("new", "sku", "大衣", "--owner", "王丽", "--due", "2026-12-03").exit_code == 0
    assert cli("new", "sku", "围巾", "--owner", "赵敏", "--due", "2026-12-04").exit_code == 0
    out = cli("export", "ics")
    assert out.exit_code == 0 and out.stdout_bytes.count(b"BEGIN:VEVENT") == 2
    result = cli("export", "ics", "--person", "赵敏", "-o", "zm.ics")
    assert result.stderr.strip() == "已写入 zm.ics（1 个日程）"
    assert b"SUMMARY:\xe3\x80\x90" in (board / "zm.ics").read_bytes()
    bad = cli("export", "ics", "--person", "王力")
    assert bad.exit_code == 2 and bad.stderr.strip() == "错误：名单里没有「王力」（是不是「王丽」？）"


# --- the round trip on the demo board -------------------------------------------------

def test_demo_board_round_trip_changes_nothing(demo):
    root = demo.root
    before = commits(root)
    whole = demo("export", "csv", "-o", "all.csv")
    assert whole.exit_code == 0
    assert len(read_csv((root / "all.csv").read_bytes())) == 1 + len(list(root.glob("*/*/*.md")))
    result = demo("import", "csv", "all.csv", "--apply")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "没有需要修改的内容"
    for ctype in ("sku", "campaign", "issue", "asset"):
        assert demo("export", "csv", "--type", ctype, "-o", f"{ctype}.csv").exit_code == 0
        proc = demo.proc("import", "csv", f"{ctype}.csv", "--type", ctype, "--apply")
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == "没有需要修改的内容"
    assert commits(root) == before
    assert git(root, "status", "--porcelain", "--", ".", ":!*.csv") == ""


def test_demo_board_edited_in_excel_changes_only_the_edited_cells(demo):
    root = demo.root
    demo.ok("export", "csv", "--type", "sku", "-o", "sku.csv")
    rows = read_csv((root / "sku.csv").read_bytes())
    header = rows[0]
    target = rows[1]
    old_owner = target[header.index("负责人")]
    new_owner = "赵敏" if old_owner != "赵敏" else "陈静"
    target[header.index("负责人")] = new_owner
    out = io.StringIO(newline="")
    csv.writer(out).writerows(rows)
    (root / "sku.csv").write_bytes(out.getvalue().encode("gb18030"))  # saved again by a Chinese Excel
    before = commits(root)
    result = demo("import", "csv", "sku.csv", "--type", "sku", "--apply")
    assert result.exit_code == 0, result.output
    assert commits(root) == before + 1
    diff = git(root, "diff", "HEAD~1", "HEAD", "--stat")
    assert diff.splitlines()[-1].strip() == "1 file changed, 1 insertion(+), 1 deletion(-)"
    assert f"{target[0]}.md" in diff


def test_english_board_round_trip(tmp_path):
    from click.testing import CliRunner

    from mdboard.cli.main import main

    root = tmp_path / "en"
    assert CliRunner().invoke(main, ["init", str(root), "--lang", "en", "--title", "Shop"]).exit_code == 0
    cli = Cli(root)
    assert cli("new", "sku", "Wool coat", "--owner", "me", "--due", "2026-12-03", "--set", "platforms=tmall,jd",
               "--set", "tags=winter,hot", "--set", "price_approved=yes").exit_code == 0
    assert cli("new", "issue", "Late parcel", "--owner", "me", "--due", "2026-11-30 18:00", "--set", "platform=pdd",
               "--set", "order_no=889", "--set", "problem=shipping").exit_code == 0
    exported = cli("export", "csv", "--type", "sku")
    assert read_csv(exported.stdout_bytes) == [
        ["ID", "State", "Title", "Owner", "Due", "Platforms", "Price", "Price approved", "Category", "Tags"],
        ["SKU-0001", "Planning", "Wool coat", "Me", "2026-12-03", "Tmall, JD", "", "yes", "", "winter, hot"]]
    assert cli("export", "csv", "-o", "all.csv").exit_code == 0
    before = commits(root)
    result = cli("import", "csv", "all.csv", "--apply")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "Nothing to change"
    assert commits(root) == before


def test_export_defuses_formulas_and_import_restores_the_text(board, cli, tmp_path):
    """A title like =HYPERLINK(...) must show as text in Excel, and come back unchanged."""
    payload = '=HYPERLINK("http://evil.example","点我")'
    assert cli("new", "sku", payload, "--owner", "wangli", "--set", "category=@SUM(1+1)").exit_code == 0
    out = tmp_path / "out.csv"
    assert cli("export", "csv", "--type", "sku", "-o", str(out)).exit_code == 0
    text = out.read_bytes().decode("utf-8-sig")
    assert "'=HYPERLINK(" in text and "'@SUM(1+1)" in text
    assert ",=" not in text and ",@" not in text
    head = git(board, "rev-parse", "HEAD")
    result = cli("import", "csv", str(out), "--type", "sku", "--apply")
    assert result.exit_code == 0, result.output
    assert git(board, "rev-parse", "HEAD") == head
    assert f"title: {payload}\n" in (board / "sku/planning/SKU-0001.md").read_text("utf-8")
