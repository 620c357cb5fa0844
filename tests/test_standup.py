"""The morning digest from a known history: exact lines, sections and the Monday rule."""

from __future__ import annotations

import json

from mdboard.git.history import last_working_day, load_history
from mdboard.domain.standup import compute_standup, standup_text
from mdboard.core.store import Board


EXPECTED = """晨会 · 11月25日周三（自 11月24日周二 起）

【进展】
  陈静
    · 陈静 新建了 SKU-0005「快充头」
  孙丽
    · 孙丽 新建了 AS-0003「退货未到」
    · 孙丽 把 AS-0002 从「新登记」移到「已解决」

【今天到期】(1)
  SKU-0005 快充头 · 陈静 · 规划中 · 今天到期

【已逾期】(2)
  AS-0002 少发配件 · 孙丽 · 已解决 · 逾期 2 天
  SKU-0004 智能手表 · 赵敏 · 拍摄中 · 逾期 1 天

【受阻】(1)
  SKU-0001 数据线 · 刘洋 · 文案详情 — 进入「待审核」前必须填写「价格」；进入「待审核」前必须填写「平台」

【新售后】(1)
  AS-0003 退货未到 · 孙丽 · 新登记 · 还剩 1 天"""


def test_standup_text_since_the_last_working_day(shop, cli):
    result = cli("standup")
    assert result.exit_code == 0, result.output
    assert result.output.rstrip("\n") == EXPECTED
    proc = cli.proc("standup")
    assert proc.returncode == 0 and proc.stdout.rstrip("\n") == EXPECTED


def test_standup_json(shop, cli):
    data = json.loads(cli("standup", "--json").output)
    assert data["since"] == "2026-11-24T00:00:00+08:00"
    assert [(g["person"], g["name"], [e["text"] for e in g["events"]]) for g in data["moved"]] == [
        ("chenjing", "陈静", ["陈静 新建了 SKU-0005「快充头」"]),
        ("sunli", "孙丽", ["孙丽 新建了 AS-0003「退货未到」", "孙丽 把 AS-0002 从「新登记」移到「已解决」"])]
    event = data["moved"][1]["events"][1]
    assert (event["action"], event["from_state"], event["to_state"], event["time"]) == (
        "moved", "new", "resolved", "2026-11-24T10:00:00+08:00")
    assert [c["id"] for c in data["due_today"]] == ["SKU-0005"]
    assert [(c["id"], c["due_status"]["days"]) for c in data["overdue"]] == [("AS-0002", -2), ("SKU-0004", -1)]
    assert [(b["card"]["id"], b["reasons"]) for b in data["blocked"]] == [
        ("SKU-0001", ["进入「待审核」前必须填写「价格」", "进入「待审核」前必须填写「平台」"])]
    assert [c["id"] for c in data["new_issues"]] == ["AS-0003"]
    assert data["over_wip"] == []


def test_since_option_widens_the_digest(shop, cli):
    data = json.loads(cli("standup", "--json", "--since", "2026-11-22").output)
    assert data["since"] == "2026-11-22T00:00:00+08:00"
    texts = [e["text"] for g in data["moved"] for e in g["events"]]
    assert texts == ["王丽 把 SKU-0003 从「待审核」移到「已上架」（强制：大促先上）",
                     "陈静 新建了 SKU-0005「快充头」",
                     "孙丽 把 AS-0001 从「已解决」移到「已归档」",
                     "孙丽 新建了 AS-0002「少发配件」",
                     "孙丽 新建了 AS-0003「退货未到」",
                     "孙丽 把 AS-0002 从「新登记」移到「已解决」"]
    assert [c["id"] for c in data["new_issues"]] == ["AS-0002", "AS-0003"]


def test_on_monday_since_is_friday(monkeypatch):
    monkeypatch.setenv("MDBOARD_NOW", "2026-11-30T09:00:00+08:00")  # a Monday
    assert last_working_day("Asia/Shanghai").isoformat() == "2026-11-27T00:00:00+08:00"
    monkeypatch.setenv("MDBOARD_NOW", "2026-11-29T09:00:00+08:00")  # a Sunday
    assert last_working_day("Asia/Shanghai").isoformat() == "2026-11-27T00:00:00+08:00"
    monkeypatch.setenv("MDBOARD_NOW", "2026-12-01T09:00:00+08:00")  # a Tuesday
    assert last_working_day("Asia/Shanghai").isoformat() == "2026-11-30T00:00:00+08:00"


def test_over_wip_and_an_empty_day(board, cli):
    cfg = board / "mdboard.yaml"
    cfg.write_text(cfg.read_text("utf-8").replace("{key: planning, label: 规划中}",
                                                  "{key: planning, label: 规划中, wip: 1}"), "utf-8")
    for title in ("A", "B"):
        (board / f"sku/planning/SKU-000{'AB'.index(title) + 1}.md").write_text(
            f"---\ntitle: {title}\nowner: wangli\n---\n", "utf-8")
    b = Board.open(str(board))
    data = compute_standup(b, load_history(b))
    assert [(w["state"], w["count"], w["wip"]) for w in data["over_wip"]] == [("planning", 2, 1)]
    text = standup_text(b, data)
    assert "【受阻】(1)\n  上新「规划中」有 2 张，超过 WIP 上限 1" in text
    assert "【进展】\n  无" in text


def test_standup_in_english(shop, cli, monkeypatch):
    cfg = shop / "mdboard.yaml"
    cfg.write_text(cfg.read_text("utf-8").replace("language: zh-CN", "language: en"), "utf-8")
    result = cli("standup")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Standup · Wed, Nov 25 (since Tue, Nov 24)")
    assert "陈静 created SKU-0005 \"快充头\"" in result.output
