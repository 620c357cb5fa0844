"""The robot formats, signatures, limits and the delivery's rate limit and retries.

These check mdboard's side against what each platform documents, through the same
receivers the end-to-end notify tests use (tests/robot_receivers.py).
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from mdboard.domain.robots import PLATFORMS, Line, Span, plain_text
from mdboard.domain.webhook import RATE_LIMIT, RATE_WINDOW, Answer, Delivery, http_post
from robot_receivers import DingTalkReceiver, FeishuReceiver, WeComReceiver

PEOPLE = {"wangli": SimpleNamespace(name="王丽", chat={"mobile": "13800001111", "feishu": "ou_wl", "wecom": "WangLi"}),
          "zhaomin": SimpleNamespace(name="赵敏", chat={"dingtalk": "zm001"}),
          "nobody": SimpleNamespace(name="无名", chat={})}
HOSTILE = '[点我](http://evil.example/x) <@all> <at user_id="all">所有人</at> **粗** _斜_ `码` # @13900000000\n> 引用'


def line(*spans, item=True):
    return Line(list(spans), item=item)


def test_plain_text_keeps_the_words_and_drops_the_markup():
    assert plain_text(HOSTILE) == ('［点我］(http：//evil.example/x) ＜＠all＞ ＜at user＿id="all"＞所有人＜/at＞ ＊＊粗＊＊ '
                                   '＿斜＿ ｀码｀ ＃ ＠13900000000 ＞ 引用')
    assert plain_text(HOSTILE, markup=False) == ('[点我](http：//evil.example/x) <@all> <at user_id="all">所有人</at> '
                                                 '**粗** _斜_ `码` # @13900000000 > 引用')
    assert plain_text("a\u202eb\u200bc\x1b[31md", markup=False) == "a b c [31md"


@pytest.mark.parametrize("key", sorted(PLATFORMS))
def test_a_hostile_title_is_text_and_only_roster_ids_are_mentioned(key):
    platform = PLATFORMS[key](PEOPLE)
    lines = [line(Span("SKU-0001", link="https://shop.example/board/cards/SKU-0001.html"), Span(" " + HOSTILE),
                  Span(" · "), Span("王丽", person="wangli"), Span(" · "), Span("无名", person="nobody"))]
    [payload] = platform.pack("晨会", lines)
    text = json.dumps(payload, ensure_ascii=False)
    assert "evil.example" in text and "http://evil" not in text and "http：//evil" in text
    if key == "feishu":
        elements = payload["content"]["post"]["zh_cn"]["content"][0]
        assert [e["tag"] for e in elements] == ["text", "a", "text", "at", "text"]
        assert elements[2]["text"] == " " + plain_text(HOSTILE, markup=False) + " · 王丽 "
        assert elements[1] == {"tag": "a", "text": "SKU-0001", "href": "https://shop.example/board/cards/SKU-0001.html"}
        assert elements[3] == {"tag": "at", "user_id": "ou_wl", "user_name": "王丽"}
        assert elements[4] == {"tag": "text", "text": " · 无名"}
    else:
        md = payload["markdown"]["text" if key == "dingtalk" else "content"]
        assert md.count("](") == 1 and "[SKU-0001](https://shop.example/board/cards/SKU-0001.html)" in md
        assert "<@all>" not in md and "<at" not in md and "**粗**" not in md and "\n>" not in md
        if key == "dingtalk":
            assert payload["at"] == {"atMobiles": ["13800001111"], "atUserIds": [], "isAtAll": False}
            assert "王丽 @13800001111" in md and "＠13900000000" in md
        else:
            assert "王丽 <@WangLi>" in md and md.count("<@") == 1


@pytest.mark.parametrize("key", sorted(PLATFORMS))
def test_a_long_digest_is_split_under_the_limit_and_each_part_names_only_its_people(key):
    platform = PLATFORMS[key](PEOPLE)
    lines = [line(Span(f"SKU-{i:04d}"), Span(" 蓝牙耳机 Pro 上新 第二批 " * 3),
                  Span("王丽" if i < 50 else "赵敏", person="wangli" if i < 50 else "zhaomin")) for i in range(100)]
    parts = platform.pack("晨会", lines)
    assert len(parts) >= 2
    sizes = [platform.size(p) for p in parts]
    assert max(sizes) <= platform.limit
    text = [json.dumps(p, ensure_ascii=False) for p in parts]
    assert all(f"SKU-{i:04d}" in "".join(text) for i in range(100))
    assert [t.count("SKU-") for t in text] and sum(t.count("SKU-") for t in text) == 100
    assert f"晨会（1/{len(parts)}）" in text[0] and f"晨会（{len(parts)}/{len(parts)}）" in text[-1]
    if key == "dingtalk":
        assert parts[0]["at"]["atMobiles"] == ["13800001111"] and parts[0]["at"]["atUserIds"] == []
        assert parts[-1]["at"] == {"atMobiles": [], "atUserIds": ["zm001"], "isAtAll": False}


def receiver_for(key, **kwargs):
    return {"dingtalk": DingTalkReceiver, "feishu": FeishuReceiver, "wecom": WeComReceiver}[key](**kwargs)


@pytest.mark.parametrize("key", sorted(PLATFORMS))
def test_a_signed_message_is_accepted_and_a_wrong_secret_is_named(key):
    platform = PLATFORMS[key](PEOPLE)
    [payload] = platform.pack("晨会 看板", [line(Span("一切正常"))])
    secret = "" if key == "wecom" else "SEC0123abc+/="
    with receiver_for(key, secret=secret, keyword="看板") as robot:
        delivery = Delivery(sleep=lambda s: None)
        build = lambda: platform.sign(robot.url, payload, secret, _now_ms()) if secret else (robot.url, payload)
        outcome, attempts = delivery.send("r", build, platform.outcome)
        assert (outcome.status, attempts) == ("ok", 1)
        assert robot.received == [payload]
        if secret:
            wrong = lambda: platform.sign(robot.url, payload, "SECwrong", _now_ms())
            outcome, attempts = delivery.send("r", wrong, platform.outcome)
            assert (outcome.status, outcome.reason, attempts) == ("refused", "sign", 1)
    with receiver_for(key, token="other") as robot:
        outcome, _ = Delivery(sleep=lambda s: None).send("r", lambda: (robot.url.replace("other", "wrong"), payload),
                                                           platform.outcome)
        assert (outcome.status, outcome.reason) == ("refused", "address")


@pytest.mark.parametrize("key", ["dingtalk", "feishu"])
def test_a_missing_keyword_is_named(key):
    platform = PLATFORMS[key](PEOPLE)
    [payload] = platform.pack("晨会", [line(Span("一切正常"))])
    with receiver_for(key, keyword="看板") as robot:
        outcome, _ = Delivery(sleep=lambda s: None).send("r", lambda: (robot.url, payload), platform.outcome)
    assert (outcome.status, outcome.reason) == ("refused", "keyword")
    assert robot.received == []


def test_429_and_500_are_retried_with_backoff_and_nothing_is_lost_or_doubled():
    platform = PLATFORMS["wecom"](PEOPLE)
    [payload] = platform.pack("晨会", [line(Span("一切正常"))])
    pauses = []
    with WeComReceiver(fail=[429, 500, 503]) as robot:
        delivery = Delivery(sleep=pauses.append)
        outcome, attempts = delivery.send("r", lambda: (robot.url, payload), platform.outcome)
    assert (outcome.status, attempts, robot.requests) == ("ok", 4, 4)
    assert pauses == [0.0, 2.0, 4.0]  # Retry-After: 0 on the 429, then 2 s and 4 s
    assert robot.received == [payload]


def test_retries_end_with_a_clear_outcome():
    platform = PLATFORMS["feishu"](PEOPLE)
    with FeishuReceiver(fail=[500] * 9) as robot:
        outcome, attempts = Delivery(sleep=lambda s: None).send("r", lambda: (robot.url, {"msg_type": "post"}),
                                                                 platform.outcome)
    assert (outcome.status, outcome.detail, attempts, robot.received) == ("retry", "HTTP 500", 4, [])


def test_no_answer_is_retried_and_reported():
    answer = http_post("http://127.0.0.1:9/nothing-listens-here", b"{}")
    assert answer.status == 0 and answer.error


def test_at_most_twenty_messages_a_minute_per_robot():
    now = [1000.0]
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    delivery = Delivery(clock=lambda: now[0], sleep=sleep, post=lambda url, body: Answer(200, {"errcode": 0}))
    judge = PLATFORMS["wecom"](PEOPLE).outcome
    times = []
    for i in range(45):
        delivery.send("ops", lambda: ("http://x", {}), judge)
        times.append(now[0])
        delivery.send("other", lambda: ("http://y", {}), judge)
        now[0] += 0.5
    for i in range(len(times)):
        window = [x for x in times if times[i] <= x < times[i] + RATE_WINDOW]
        assert len(window) <= RATE_LIMIT
    assert slept and times[-1] - times[0] < 3 * RATE_WINDOW


def _now_ms():
    import time

    return int(time.time() * 1000)
