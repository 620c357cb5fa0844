"""`mdboard notify` end to end: the real CLI, a real board in git, and one robot per platform on 127.0.0.1.

The receivers (tests/robot_receivers.py) check each platform's documented signature,
message shape, keyword and size, answer 429/500 when told to, and record what they
accepted. "Now" is 2026-11-25 09:00 Asia/Shanghai (conftest).
"""

from __future__ import annotations

import json
import re

import pytest

from conftest import git
from robot_receivers import DingTalkReceiver, FeishuReceiver, WeComReceiver

SITE = "https://shop.example/board/"
HOSTILE = '[点我](http://evil.example/x) <@all> <at user_id="all">所有人</at> **急**'
IDS = {"wangli": ', mobile: "13800001111", feishu: ou_wangli, wecom: WangLi',
       "zhaomin": ", dingtalk: zm001, feishu: ou_zhaomin",
       "sunli": ', mobile: "13900002222", wecom: SunLi'}
NOTIFY = f"""
site_url: {SITE}
notify:
  robots:
    ops: {{platform: dingtalk, keyword: 日报}}
    design: {{platform: 飞书}}
    kefu: {{platform: wecom, sections: [new_issues, overdue]}}
"""


def configure(root, extra: str = NOTIFY):
    cfg = root / "mdboard.yaml"
    text = cfg.read_text("utf-8")
    for key, ids in IDS.items():
        text = re.sub(rf"(\n  {key}: {{.*?)}}\n", lambda m: m.group(1) + ids + "}\n", text)
    cfg.write_text(text.replace("\npeople:\n", extra + "\npeople:\n", 1), "utf-8")
    git(root, "commit", "-qam", "robots")


@pytest.fixture
def team(board, cli):
    """A board with robots configured and cards that are overdue, due today and new after-sales."""
    configure(board)
    assert cli("new", "sku", "蓝牙耳机 Pro", "--owner", "wangli", "--due", "2026-11-20").exit_code == 0
    assert cli("new", "sku", HOSTILE, "--owner", "zhaomin", "--due", "2026-11-25").exit_code == 0
    assert cli("new", "issue", "客户说少发了耳机盒", "--owner", "sunli", "--due", "2026-11-26T18:00",
               "--set", "platform=抖音", "--set", "order_no=DY123", "--set", "problem=少件错发").exit_code == 0
    return board


@pytest.fixture
def robots(monkeypatch):
    """One receiver per platform, with secrets; their addresses and secrets in the environment."""
    ding = DingTalkReceiver(secret="SECdingding0123+/=", keyword="日报", fail=[500])
    feishu = FeishuReceiver(secret="feishu-secret", fail=[429])
    wecom = WeComReceiver(token="6f1b-key")
    with ding, feishu, wecom:
        for name, robot in (("OPS", ding), ("DESIGN", feishu), ("KEFU", wecom)):
            monkeypatch.setenv(f"MDBOARD_ROBOT_{name}_WEBHOOK", robot.url)
            if robot.secret:
                monkeypatch.setenv(f"MDBOARD_ROBOT_{name}_SECRET", robot.secret)
        yield {"ops": ding, "design": feishu, "kefu": wecom}


def test_one_signed_message_per_group_with_owners_mentioned_after_retries(team, cli, robots):
    result = cli("notify")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["已发到群机器人「ops」（钉钉）：1 条消息",
                                          "已发到群机器人「design」（飞书）：1 条消息",
                                          "已发到群机器人「kefu」（企业微信）：1 条消息"]
    ding, feishu, wecom = robots["ops"], robots["design"], robots["kefu"]
    assert (ding.requests, feishu.requests, wecom.requests) == (2, 2, 1)  # a 500 and a 429 were retried
    assert [len(r.received) for r in robots.values()] == [1, 1, 1]
    assert all(r.errors == [] for r in robots.values())

    [msg] = ding.received
    text = msg["markdown"]["text"]
    assert msg["markdown"]["title"] == "我的店铺 运营看板 · 晨会 11月25日周三【日报】"
    assert msg["at"] == {"atMobiles": ["13800001111"], "atUserIds": ["zm001"], "isAtAll": False}
    assert f"[SKU-0001]({SITE}cards/SKU-0001.html) 蓝牙耳机 Pro · 王丽 @13800001111 · 规划中 · 逾期 5 天" in text
    assert "**已逾期（1）**" in text

    post = feishu.received[0]["content"]["post"]["zh_cn"]
    ats = [e for p in post["content"] for e in p if e["tag"] == "at"]
    assert ats == [{"tag": "at", "user_id": "ou_wangli", "user_name": "王丽"},
                   {"tag": "at", "user_id": "ou_zhaomin", "user_name": "赵敏"}]
    links = [e["href"] for p in post["content"] for e in p if e["tag"] == "a"]
    assert links and all(h.startswith(SITE) for h in links)

    content = wecom.received[0]["markdown"]["content"]
    assert "**新售后（1）**" in content and "**已逾期（1）**" in content and "今天到期" not in content
    assert "AS-0001" in content and "孙丽 <@SunLi>" not in content  # new issues name the owner, no @
    assert "王丽 <@WangLi>" in content


def test_a_hostile_title_arrives_as_text(team, cli, robots):
    assert cli("notify").exit_code == 0
    ding = robots["ops"].received[0]["markdown"]["text"]
    line = next(x for x in ding.split("\n\n") if "SKU-0002" in x)
    assert line == (f"- [SKU-0002]({SITE}cards/SKU-0002.html) ［点我］(http：//evil.example/x) ＜＠all＞ "
                    "＜at user＿id=\"all\"＞所有人＜/at＞ ＊＊急＊＊ · 赵敏 @zm001 · 规划中 · 今天到期")
    post = robots["design"].received[0]["content"]["post"]["zh_cn"]["content"]
    row = next(p for p in post if any(e.get("text") == "SKU-0002" for e in p))
    assert [e["tag"] for e in row] == ["text", "a", "text", "at", "text"]
    assert row[2] == {"tag": "text", "text": ' [点我](http：//evil.example/x) <@all> <at user_id="all">所有人</at> **急** · 赵敏 '}
    assert row[3] == {"tag": "at", "user_id": "ou_zhaomin", "user_name": "赵敏"}
    for key in ("ops", "design"):  # kefu's sections do not include cards due today
        body = json.dumps(robots[key].received, ensure_ascii=False)
        assert "http://evil" not in body and "evil.example" in body
        if key == "ops":  # markdown: no markup survives; 飞书 post text is literal by design
            assert "<@all>" not in body and "<at" not in body and "**急**" not in body and "](http" not in \
                body.replace(f"]({SITE}", "")


def test_dry_run_prints_exactly_what_would_be_sent_and_sends_nothing(team, cli, robots):
    result = cli("notify", "--dry-run")
    assert result.exit_code == 0, result.output
    assert sum(r.requests for r in robots.values()) == 0
    heads = [line for line in result.stdout.splitlines() if line.startswith("== ")]
    assert heads == ["== 群机器人「ops」（钉钉）：1 条消息", "== 群机器人「design」（飞书）：1 条消息",
                     "== 群机器人「kefu」（企业微信）：1 条消息"]
    printed = [json.loads(chunk) for chunk in re.split(r"^== .*$", result.stdout, flags=re.M)[1:]]
    assert cli("notify").exit_code == 0
    assert printed == [r.received[0] for r in robots.values()]  # the signature aside, byte for byte the same


def test_dry_run_needs_no_secrets(team, cli, monkeypatch):
    for name in ("OPS", "DESIGN", "KEFU"):
        monkeypatch.delenv(f"MDBOARD_ROBOT_{name}_WEBHOOK", raising=False)
    result = cli("notify", "--dry-run", "--robot", "kefu")
    assert result.exit_code == 0
    assert result.stdout.startswith("== 群机器人「kefu」（企业微信）：1 条消息\n")
    assert "注意：没有设置 MDBOARD_ROBOT_KEFU_WEBHOOK，真正发送时需要它" in result.stderr


def test_a_refusing_robot_is_named_with_the_fix_and_the_others_still_get_theirs(team, cli, robots, monkeypatch):
    monkeypatch.setenv("MDBOARD_ROBOT_DESIGN_SECRET", "not-the-secret")
    monkeypatch.setenv("MDBOARD_ROBOT_KEFU_WEBHOOK", robots["kefu"].url.replace("6f1b-key", "stale-key"))
    result = cli("notify")
    assert result.exit_code == 1
    assert "群机器人「design」（飞书）拒绝了消息：签名不对（19021 sign match fail or timestamp is not within one hour " \
           "from current time）。请检查 MDBOARD_ROBOT_DESIGN_SECRET 是否就是机器人安全设置里「加签／签名校验」的密钥" in result.stderr
    assert "群机器人「kefu」（企业微信）拒绝了消息：Webhook 地址不对，或机器人已被移除（93000 invalid webhook url" in result.stderr
    assert "错误：有 2 个群机器人没有收到消息" in result.stderr
    assert "not-the-secret" not in result.output and "stale-key" not in result.output
    assert len(robots["ops"].received) == 1 and robots["design"].received == [] == robots["kefu"].received


def test_a_missing_keyword_is_explained(team, cli, robots):
    cfg = team / "mdboard.yaml"
    cfg.write_text(cfg.read_text("utf-8").replace("platform: dingtalk, keyword: 日报", "platform: dingtalk"), "utf-8")
    result = cli("notify", "--robot", "ops")
    assert result.exit_code == 1
    assert "消息里没有机器人要求的关键词（310000 keywords not in content" in result.stderr
    assert "notify.robots.ops.keyword" in result.stderr


def test_a_missing_webhook_says_which_secret_to_add(team, cli, robots, monkeypatch):
    monkeypatch.delenv("MDBOARD_ROBOT_OPS_WEBHOOK")
    result = cli("notify", "--robot", "ops")
    assert result.exit_code == 1
    assert "群机器人「ops」：没有设置环境变量 MDBOARD_ROBOT_OPS_WEBHOOK" in result.stderr


def test_secrets_can_come_from_the_ci_secrets_json(team, cli, robots, monkeypatch):
    ding = robots["ops"]
    monkeypatch.delenv("MDBOARD_ROBOT_OPS_WEBHOOK")
    monkeypatch.delenv("MDBOARD_ROBOT_OPS_SECRET")
    monkeypatch.setenv("MDBOARD_CI_SECRETS", json.dumps({"MDBOARD_ROBOT_OPS_WEBHOOK": ding.url,
                                                         "MDBOARD_ROBOT_OPS_SECRET": ding.secret, "OTHER": "x"}))
    result = cli("notify", "--robot", "ops")
    assert result.exit_code == 0, result.output
    assert len(ding.received) == 1


def test_person_lists_mention_everyone_and_a_long_digest_is_split_under_the_limit(team, cli, robots):
    for i in range(24):
        owner = ("wangli", "zhaomin", "sunli")[i % 3]
        assert cli("new", "sku", f"第二批新品 {i} 号 蓝牙音箱 便携款 礼盒装", "--owner", owner,
                   "--due", f"2026-11-{20 + i % 10}").exit_code == 0
    result = cli("notify", "--person", "--robot", "kefu")
    assert result.exit_code == 0, result.output
    received = robots["kefu"].received
    assert len(received) >= 2 and result.stdout == f"已发到群机器人「kefu」（企业微信）：{len(received)} 条消息\n"
    contents = [m["markdown"]["content"] for m in received]
    assert all(len(c.encode()) <= 4096 for c in contents)
    assert all(f"（{i}/{len(contents)}）**" in c for i, c in enumerate(contents, 1))
    whole = "\n".join(contents)
    assert "**每个人的卡片**" in whole
    assert "王丽 <@WangLi>：逾期" in whole and "孙丽 <@SunLi>：逾期" in whole and "赵敏：逾期" in whole


def test_nothing_configured_is_a_note_not_an_error(board, cli):
    result = cli("notify")
    assert result.exit_code == 0
    assert "还没有配置群机器人" in result.output


def test_an_unknown_robot_name_is_refused_with_a_suggestion(team, cli):
    result = cli("notify", "--robot", "opss")
    assert result.exit_code == 1
    assert result.stderr.strip() == "错误：mdboard.yaml 里没有群机器人「opss」（是不是「ops」？）"


@pytest.mark.parametrize("snippet, message", [
    ("notify:\n  robots:\n    ops: {platform: slack}\n", "mdboard.yaml:notify.robots.ops.platform: 不认识的平台「slack」"),
    ("notify:\n  robots:\n    ops: {platform: wecom, webhook: 'https://qyapi.weixin.qq.com/x?key=abc'}\n",
     "mdboard.yaml:notify.robots.ops.webhook: 不要把 Webhook 地址或密钥写进仓库"),
    ("notify:\n  time: 9点\n", "mdboard.yaml:notify.time: 「9点」不是时间"),
    ("notify:\n  days: [mon, funday]\n", "mdboard.yaml:notify.days[1]: 「funday」不是星期几"),
    ("site_url: shop.example\n", "mdboard.yaml:site_url: site_url 应是 https:// 或 http:// 开头的网址"),
])
def test_bad_notify_settings_are_named(board, cli, snippet, message):
    cfg = board / "mdboard.yaml"
    cfg.write_text(cfg.read_text("utf-8").replace("\npeople:\n", "\n" + snippet + "people:\n", 1), "utf-8")
    result = cli("check")
    assert result.exit_code == 1
    assert message in result.stderr
    assert "abc" not in result.stderr


def test_the_config_schema_knows_the_notify_settings():
    import jsonschema

    from conftest import REPO
    from mdboard.core.cardfile import load_yaml
    from mdboard.domain.schema import config_schema

    data = load_yaml((REPO / "mdboard/domain/skeleton/zh-CN.yaml").read_text("utf-8").replace(
        "\npeople:\n", NOTIFY + "\npeople:\n", 1))
    data["people"]["me"].update({"mobile": 13800001111, "feishu": "ou_me", "wecom": "Me"})
    check = jsonschema.Draft202012Validator(config_schema())
    assert list(check.iter_errors(data)) == []
    data["notify"]["robots"]["ops"]["webhook"] = "https://oapi.dingtalk.com/robot/send?access_token=x"
    data["notify"]["time"] = "9点"
    data["people"]["me"]["wecom"] = "<@all>"
    assert sorted(".".join(map(str, e.absolute_path)) for e in check.iter_errors(data)) == [
        "notify.robots.ops.webhook", "notify.time", "people.me"]
