"""Excel, really: `import xlsx` / `export xlsx`, a team's own column names mapped with `--map`
(and remembered by the board), and order numbers that survive Excel — kept as text on
export, and named as lost when a sheet holds Excel's 3.69851E+18 instead of the digits.

Workbooks are made with openpyxl as a team's sheet would be: a title row over the
headers, merged cells, an 18-digit order number typed as text."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import openpyxl
import pytest

from conftest import Cli, git

ORDER = "369851274021558332"  # 18 digits: Excel shows 3.69851E+17 and keeps only 15 of them
MAP = ["--map", "订单编号=order_no,客户问题=标题", "--map", "跟进人=owner", "--map", "预计解决=due", "--map", "备注="]


@pytest.fixture
def demo(demo_board) -> Cli:
    return Cli(demo_board)


def commits(root) -> int:
    return int(git(root, "rev-list", "--count", "HEAD"))


def team_sheet(path, order_cell=ORDER):
    """The 售后 sheet a team keeps by hand: its own headers, a merged title row, the same
    person and platform merged over two rows, a note column mdboard has no field for."""
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "售后登记"
    ws.append(["11 月售后登记表"])
    ws.merge_cells("A1:G1")
    ws.append(["订单编号", "客户问题", "跟进人", "平台", "问题类型", "预计解决", "备注"])
    ws.append([order_cell, "耳机左耳无声", "林晓", "天猫", "质量", datetime(2026, 12, 2, 18, 0), "加急"])
    ws.append(["482910375610293847", "少发数据线", None, None, "少件错发", datetime(2026, 12, 3), None])
    ws.merge_cells("C3:C4")
    ws.merge_cells("D3:D4")
    ws["A3"].number_format = ws["A4"].number_format = "@"
    book.save(path)
    return path


def card_text(root, card_id: str) -> str:
    return next(root.glob(f"*/*/{card_id}.md")).read_text("utf-8")


# --- a team's own sheet ---------------------------------------------------------------

def test_a_team_sheet_imports_with_map_and_exports_back_with_the_order_number_intact(demo):
    root = demo.root
    team_sheet(root / "售后.xlsx")
    before = commits(root)

    plan = demo("import", "xlsx", "售后.xlsx", "--type", "售后", *MAP)
    assert plan.exit_code == 0, plan.output
    assert plan.stdout.splitlines()[:8] == [
        "表格的列：", "  订单编号 → 订单号 (order_no)", "  客户问题 → 标题 (title)", "  跟进人 → 负责人 (owner)",
        "  平台 → 平台 (platform)", "  问题类型 → 问题类型 (problem)", "  预计解决 → 预计解决时间 (due)", "  备注 ✗ 不导入"]
    assert plan.stdout.splitlines()[8].startswith("第 3 行  新建  AS-0011  耳机左耳无声  ")
    assert plan.stdout.splitlines()[9].startswith("第 4 行  新建  AS-0012  少发数据线  ")
    assert "mdboard import xlsx 售后.xlsx --type 售后 --map 订单编号=order_no,客户问题=标题 --map 跟进人=owner" \
           " --map 预计解决=due --map 备注= --apply" in plan.stderr
    assert commits(root) == before and not (root / "import-columns.yaml").exists()

    done = demo("import", "xlsx", "售后.xlsx", "--type", "售后", *MAP, "--apply")
    assert done.exit_code == 0, done.output
    assert commits(root) == before + 1
    assert git(root, "show", "--name-only", "--format=", "HEAD").splitlines() == [
        "import-columns.yaml", "issue/new/AS-0011.md", "issue/new/AS-0012.md"]
    first, second = card_text(root, "AS-0011"), card_text(root, "AS-0012")
    assert f"order_no: '{ORDER}'\n" in first and "owner: linxiao\n" in first and "due: 2026-12-02 18:00\n" in first
    assert "order_no: '482910375610293847'\n" in second
    assert "owner: linxiao\n" in second and "platform: tmall\n" in second  # from the merged cells above
    assert "加急" not in first
    assert (root / "import-columns.yaml").read_text("utf-8").splitlines()[1:] == [
        "订单编号: order_no", "客户问题: title", "跟进人: owner", "预计解决: due", "备注: ''"]

    again = demo("import", "xlsx", "售后.xlsx", "--type", "售后", "--apply")  # the board remembers the map
    assert again.exit_code == 0, again.output
    assert again.stdout.strip() == "没有需要修改的内容" and commits(root) == before + 1

    demo.ok("export", "xlsx", "--type", "售后", "-o", "out.xlsx")
    ws = openpyxl.load_workbook(root / "out.xlsx").active
    header = [c.value for c in ws[1]]
    orders = {row[0].value: row[header.index("订单号")] for row in ws.iter_rows(min_row=2)}
    assert orders["AS-0011"].value == ORDER and orders["AS-0011"].data_type == "s"
    assert orders["AS-0011"].number_format == "@"
    assert orders["AS-0001"].value == "3698512740215583327"
    from openpyxl.utils import get_column_letter

    column = ws.column_dimensions[get_column_letter(header.index("订单号") + 1)]
    assert column.number_format == "@"  # an order number typed later into an empty cell stays text too


def test_rows_that_fail_name_the_row_and_column_not_a_card_that_does_not_exist(demo):
    root = demo.root
    team_sheet(root / "售后.xlsx")
    result = demo("import", "xlsx", "售后.xlsx", "--type", "售后")
    assert result.exit_code == 1
    assert "mdboard set" not in result.stderr and "AS-0011" not in result.stderr
    lines = result.stderr.splitlines()
    assert ("售后.xlsx:第 3 行:负责人: 缺少必填字段「负责人」（表格里没有对应「负责人」的列："
            "加上这一列，或用 --map 把已有的列对应过去，例如 --map 列名=owner）") in lines
    assert ("提醒：售后.xlsx:跟进人: 没有这个字段，这一列不会导入（可选：标题, 负责人, 预计解决时间, 平台, 订单号, "
            "问题类型, 相关商品, 协作人, 处理结果, 标签 要导入这一列：--map 跟进人=字段）") in lines
    assert not (root / "issue/new/AS-0011.md").exists()


def test_an_empty_cell_names_the_cell_to_fill(demo):
    root = demo.root
    book = openpyxl.Workbook()
    book.active.append(["标题", "负责人", "预计解决时间", "平台", "订单号", "问题类型"])
    book.active.append(["少发数据线", "周刚", "2026-12-03", "拼多多", "", "少件错发"])
    book.save(root / "a.xlsx")
    result = demo("import", "xlsx", "a.xlsx", "--type", "issue")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == "a.xlsx:第 2 行:订单号: 缺少必填字段「订单号」（在这一行的「订单号」填上内容）"


# --- numbers Excel spoils -------------------------------------------------------------

def test_a_long_number_excel_turned_into_scientific_notation_is_named_in_csv_and_xlsx(demo):
    root = demo.root
    (root / "a.csv").write_text("标题,负责人,预计解决时间,平台,订单号,问题类型\n"
                                "少发数据线,周刚,2026-12-03,拼多多,3.69851E+18,少件错发\n", "utf-8")
    result = demo("import", "csv", "a.csv", "--type", "issue")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        "a.csv:第 2 行:订单号: 「3.69851E+18」是 Excel 把一串长数字（订单号、编码）显示成的科学计数法，原来的数字已经丢了"
        "（在 Excel 或 WPS 里把这一列设成「文本」格式，重新粘贴原来的数字；或者从 mdboard export xlsx 导出的表格开始改，"
        "那里长数字存为文本）")
    assert git(root, "status", "--porcelain", "--", "issue") == ""

    team_sheet(root / "售后.xlsx", order_cell=float(ORDER))  # stored as a number: Excel kept 15 digits
    result = demo("import", "xlsx", "售后.xlsx", "--type", "售后", *MAP)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0].startswith("售后.xlsx:第 3 行:订单编号: 「3.69851E+17」是 Excel 把一串长数字")


def test_export_csv_writes_long_digit_strings_so_excel_keeps_them_and_import_reads_them_back(demo):
    root = demo.root
    demo.ok("export", "csv", "--type", "issue", "-o", "issue.csv")
    data = (root / "issue.csv").read_bytes()
    assert b',"=""3698512740215583327""",' in data  # Excel shows ="…" as the digits, as text
    assert b",261124-083712954326015," in data  # not all digits: Excel leaves it alone
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[1][rows[0].index("订单号")] == '="3698512740215583327"'
    result = demo("import", "csv", "issue.csv", "--type", "issue", "--apply")
    assert result.exit_code == 0 and result.stdout.strip() == "没有需要修改的内容"


def test_the_whole_demo_board_survives_a_round_trip_through_xlsx(demo):
    root = demo.root
    before = commits(root)
    demo.ok("export", "xlsx", "-o", "all.xlsx")
    ws = openpyxl.load_workbook(root / "all.xlsx").active
    assert ws.title == "声迈数码旗舰店 运营看板" and ws.freeze_panes == "A2"
    assert ws.max_row == 1 + len(list(root.glob("*/*/*.md")))
    result = demo("import", "xlsx", "all.xlsx", "--apply")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "没有需要修改的内容"
    assert commits(root) == before


def test_export_xlsx_writes_money_as_numbers_and_dates_as_dates(demo):
    demo.ok("export", "xlsx", "--type", "sku", "-o", "sku.xlsx")
    ws = openpyxl.load_workbook(demo.root / "sku.xlsx").active
    header = [c.value for c in ws[1]]
    sku = next(row for row in ws.iter_rows(min_row=2) if row[0].value == "SKU-0001")
    price, due = sku[header.index("价格")], sku[header.index("截止日期")]
    assert price.value == 299 and price.data_type == "n"  # the sheet can sum prices
    assert due.is_date and due.value == datetime(2026, 10, 20)
    assert sku[header.index("标题")].number_format == "@"


def test_export_xlsx_keeps_formulas_as_text(board, cli):
    payload = '=HYPERLINK("http://evil.example","点我")'
    cli.ok("new", "sku", payload, "--owner", "wangli")
    cli.ok("export", "xlsx", "--type", "sku", "-o", "out.xlsx")
    title = openpyxl.load_workbook(board / "out.xlsx").active["C2"]
    assert title.value == payload and title.data_type == "s"
    result = cli("import", "xlsx", "out.xlsx", "--type", "sku", "--apply")
    assert result.exit_code == 0 and result.stdout.strip() == "没有需要修改的内容"


# --- mistakes ------------------------------------------------------------------------

def test_map_mistakes_are_refused_before_anything_is_read(demo):
    team_sheet(demo.root / "售后.xlsx")
    bad = demo.proc("import", "xlsx", "售后.xlsx", "--type", "售后", "--map", "订单编号")
    assert bad.returncode == 1 and bad.stderr.strip() == "错误：看不懂 --map「订单编号」：请写成「列名=字段」，例如 --map 商品名称=title"
    bad = demo.proc("import", "xlsx", "售后.xlsx", "--type", "售后", "--map", "订单编号=订单")
    assert bad.returncode == 1
    assert bad.stderr.strip() == ("错误：--map 里的「订单」不是字段（可选：标题、负责人、预计解决时间、平台、订单号、问题类型、"
                                  "相关商品、协作人、处理结果、标签，以及 编号、类型、状态）（是不是「订单号」？）")
    result = demo("import", "xlsx", "售后.xlsx", "--type", "售后", *MAP, "--map", "订单号码=order_no")
    assert "提醒：售后.xlsx:订单号码: 表格里没有这一列，--map 对它不起作用（是不是「订单编号」？）" in result.stderr


def test_the_wrong_file_or_sheet_says_what_to_do(demo):
    root = demo.root
    team_sheet(root / "售后.xlsx")
    wrong = demo.proc("import", "csv", "售后.xlsx", "--type", "issue")
    assert wrong.returncode == 1 and wrong.stderr.strip() == "错误：售后.xlsx 是 Excel 工作簿，不是 CSV：请用 mdboard import xlsx 售后.xlsx"
    (root / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    old = demo.proc("import", "xlsx", "old.xls", "--type", "issue")
    assert old.returncode == 1 and "请在 Excel 或 WPS 中另存为「Excel 工作簿（*.xlsx）」" in old.stderr
    assert "Traceback" not in old.stderr
    sheet = demo.proc("import", "xlsx", "售后.xlsx", "--type", "issue", "--sheet", "Sheet2")
    assert sheet.returncode == 1 and sheet.stderr.strip() == "错误：售后.xlsx 里没有名为「Sheet2」的工作表（有：售后登记）"
    missing = demo.proc("import", "xlsx", "nope.xlsx", "--type", "issue")
    assert missing.returncode == 1 and missing.stderr.strip() == "错误：无法读取 nope.xlsx：没有这个文件"


def test_a_hand_edited_column_file_that_is_no_mapping_or_names_no_field_is_explained(demo):
    root = demo.root
    (root / "a.csv").write_text("问题,跟进人\n少发数据线,周刚\n", "utf-8")
    (root / "import-columns.yaml").write_text("- 问题\n- title\n", "utf-8")
    bad = demo.proc("import", "csv", "a.csv", "--type", "issue")
    assert bad.returncode == 1 and bad.stderr.strip() == (
        "错误：import-columns.yaml 应当每行写一个「键: 值」，键是表格的列名，值是它对应的字段；请改正或删除这个文件")
    (root / "import-columns.yaml").write_text("问题: title\n跟进人: 跟进\n", "utf-8")
    result = demo("import", "csv", "a.csv", "--type", "issue")
    assert result.stdout.splitlines()[:3] == ["表格的列：", "  问题 → 标题 (title)", "  跟进人 ✗ 不导入"]
    assert any(line.startswith("提醒：import-columns.yaml:跟进人: --map 里的「跟进」不是字段（可选：")
               for line in result.stderr.splitlines()), result.stderr


def test_an_english_board_maps_columns_and_keeps_order_numbers_in_english(tmp_path):
    from click.testing import CliRunner

    from mdboard.cli.main import main

    root = tmp_path / "en"
    assert CliRunner().invoke(main, ["init", str(root), "--lang", "en", "--title", "Shop"]).exit_code == 0
    cli = Cli(root)
    book = openpyxl.Workbook()
    book.active.append(["Order", "Issue", "Who", "Platform", "Problem", "By", "Note"])
    book.active.append([ORDER, "Late parcel", "me", "PDD", "shipping", "2026-12-03 18:00", "call back"])
    book.save(root / "cases.xlsx")
    plan = cli("import", "xlsx", "cases.xlsx", "--type", "After-sales", "--map", "Order=order_no,Issue=Title",
               "--map", "Who=owner", "--map", "By=Resolve by")
    assert plan.exit_code == 0, plan.output
    assert plan.stdout.splitlines()[:8] == [
        "Columns of the sheet:", "  Order → Order number (order_no)", "  Issue → Title (title)",
        "  Who → Owner (owner)", "  Platform → Platform (platform)", "  Problem → Problem (problem)",
        "  By → Resolve by (due)", "  Note ✗ left out"]
    assert "when it looks right, run: mdboard import xlsx cases.xlsx --type After-sales" in plan.stderr
    done = cli("import", "xlsx", "cases.xlsx", "--type", "After-sales", "--map", "Order=order_no,Issue=Title",
               "--map", "Who=owner", "--map", "By=Resolve by", "--apply")
    assert done.exit_code == 0, done.output
    assert f"order_no: '{ORDER}'\n" in (root / "issue/new/AS-0001.md").read_text("utf-8")
    cli.ok("export", "xlsx", "--type", "issue", "-o", "out.xlsx")
    ws = openpyxl.load_workbook(root / "out.xlsx").active
    assert [c.value for c in ws[1]][:3] == ["ID", "State", "Title"]
    assert ws.cell(2, [c.value for c in ws[1]].index("Order number") + 1).value == ORDER
    bad = cli("import", "xlsx", "cases.xlsx", "--type", "issue", "--map", "Order")
    assert bad.exit_code == 1 and "write “column=field”" in bad.output


def test_cells_left_empty_by_unmerging_take_the_value_above_with_fill_down(demo):
    root = demo.root
    team_sheet(root / "售后.xlsx")
    book = openpyxl.load_workbook(root / "售后.xlsx")
    for merged in ("C3:C4", "D3:D4"):
        book.active.unmerge_cells(merged)  # 取消合并: the value stays in row 3 only
    book.save(root / "售后.xlsx")
    without = demo("import", "xlsx", "售后.xlsx", "--type", "售后", *MAP)
    assert without.exit_code == 1
    assert "售后.xlsx:第 4 行:跟进人: 缺少必填字段「负责人」（在这一行的「跟进人」填上内容）" in without.stderr.splitlines()
    plan = demo("import", "xlsx", "售后.xlsx", "--type", "售后", *MAP, "--fill-down", "跟进人，平台")
    assert plan.exit_code == 0, plan.output
    assert "--fill-down '跟进人，平台' --apply" in plan.stderr
    done = demo("import", "xlsx", "售后.xlsx", "--type", "售后", *MAP, "--fill-down", "跟进人，平台", "--apply")
    assert done.exit_code == 0, done.output
    second = card_text(root, "AS-0012")
    assert "owner: linxiao\n" in second and "platform: tmall\n" in second
    bad = demo.proc("import", "xlsx", "售后.xlsx", "--type", "售后", "--fill-down", "跟进")
    assert bad.returncode == 1 and bad.stderr.strip() == "错误：售后.xlsx 里没有「跟进」这一列，--fill-down 用不上（是不是「跟进人」？）"
