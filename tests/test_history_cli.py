"""`mdboard history` and `mdboard log` as a user runs them (CliRunner and a real process)."""

from __future__ import annotations

import json


TIMELINE = """2026-11-16 10:00  王丽 新建了 SKU-0002「蓝牙耳机」
2026-11-17 10:00  赵敏 把 SKU-0002 从「规划中」移到「拍摄中」
2026-11-18 10:00  赵敏 把 SKU-0002 从「拍摄中」移到「文案详情」
2026-11-18 12:00  陈静 把 SKU-0002 的价格设为 ¥199
2026-11-18 12:00  陈静 把 SKU-0002 的平台设为 抖音
2026-11-19 10:00  陈静 把 SKU-0002 从「文案详情」移到「待审核」
2026-11-20 10:00  王丽 把 SKU-0002 的价格已审核设为 是
2026-11-20 10:00  赵敏 勾选了 SKU-0002 的「拍摄」
2026-11-20 10:00  赵敏 勾选了 SKU-0002 的「主图」
2026-11-20 10:00  赵敏 勾选了 SKU-0002 的「详情页」
2026-11-20 10:00  赵敏 勾选了 SKU-0002 的「文案」
2026-11-20 10:00  赵敏 勾选了 SKU-0002 的「价格审核」
2026-11-21 10:00  王丽 把 SKU-0002 从「待审核」移到「已上架」
"""


def test_history_of_a_card(shop, cli):
    result = cli("history", "sku-0002")
    assert result.exit_code == 0, result.output
    assert result.output == TIMELINE
    proc = cli.proc("history", "SKU-0002")
    assert proc.returncode == 0 and proc.stdout == TIMELINE


def test_history_json(shop, cli):
    data = json.loads(cli("history", "AS-0001", "--json").output)
    assert data["card"] == "AS-0001"
    assert [(e["action"], e["person"], e["field"], e["new"], e["time"]) for e in data["events"]] == [
        ("created", "sunli", None, "物流破损", "2026-11-20T10:00:00+08:00"),
        ("moved", "sunli", None, None, "2026-11-20T14:00:00+08:00"),
        ("field", "sunli", "resolution", "补发", "2026-11-21T09:00:00+08:00"),
        ("moved", "sunli", None, None, "2026-11-21T10:00:00+08:00"),
        ("moved", "sunli", None, None, "2026-11-22T10:00:00+08:00")]
    assert data["events"][2]["text"] == "孙丽 把 AS-0001 的处理结果设为 补发"
    assert data["events"][0]["subject"] == "new AS-0001: 物流破损" and len(data["events"][0]["commit"]) == 40


def test_history_of_an_unknown_card_is_an_error(shop, cli):
    result = cli("history", "SKU-0099")
    assert result.exit_code == 1
    assert result.output.startswith("错误：找不到卡片 SKU-0099")
    result = cli("history", "not an id")
    assert result.exit_code == 1 and "错误：" in result.output


def test_log_filters(shop, cli):
    result = cli("log", "--since", "2026-11-24", "--who", "孙丽")
    assert result.exit_code == 0, result.output
    assert result.output == ("2026-11-24 10:00  孙丽 把 AS-0002 从「新登记」移到「已解决」\n"
                             "2026-11-24 09:50  孙丽 把 AS-0002 的处理结果设为 补寄配件\n"
                             "2026-11-24 09:30  孙丽 新建了 AS-0003「退货未到」\n")
    data = json.loads(cli("log", "--json", "--type", "sku", "-n", "2").output)
    assert [e["text"] for e in data] == ["陈静 新建了 SKU-0005「快充头」",
                                         "王丽 把 SKU-0003 从「待审核」移到「已上架」（强制：大促先上）"]
    assert cli("log", "--since", "2026-11-26").output == "这段时间没有变化\n"
    proc = cli.proc("log", "--who", "liuyang", "--since", "30d")
    assert proc.returncode == 0
    assert proc.stdout.splitlines() == ["2026-11-12 10:00  刘洋 把 SKU-0001 从「拍摄中」移到「文案详情」",
                                        "2026-11-11 10:00  刘洋 把 SKU-0001 从「规划中」移到「拍摄中」",
                                        "2026-11-10 10:00  刘洋 新建了 SKU-0001「数据线」"]


def test_commands_have_help(cli):
    for name in ("history", "log", "standup", "report"):
        result = cli(name, "--help")
        assert result.exit_code == 0 and "--json" in result.output
