"""Interface text in Chinese uses full-width punctuation inside sentences."""

from __future__ import annotations

import json
import re
from pathlib import Path

from mdboard.core.errors import Problem, parenthesized

ZH = Path(__file__).resolve().parents[1] / "mdboard" / "locale" / "zh-CN"
WIDE = "\u4e00-\u9fff\u3000-\u303f\uff00-\uffef"
# ASCII ( ) : ; ? next to a Chinese character, a placeholder's Chinese neighbour included
ASCII_NEXT_TO_CHINESE = re.compile(f"[{WIDE}][(:;?)]|[(:;)][{WIDE}]")
# written out on purpose: the `path:field: problem` format, YAML (`键: 值`, `字段: 值`, `types:`) and
# the standup's section counts (`【已逾期】(2)`, as the digest has always shown them)
KEPT = ("文件:字段:", "路径:字段:", "键: 值", "字段: 值", "types:", "】({count})")


def texts(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from texts(item)
    elif isinstance(value, str):
        yield value


def test_chinese_messages_use_full_width_punctuation():
    found = []
    for path in sorted(ZH.glob("*.json")):
        for text in texts(json.loads(path.read_text("utf-8"))):
            rest = text
            for kept in KEPT:
                rest = rest.replace(kept, "")
            if ASCII_NEXT_TO_CHINESE.search(rest):
                found.append(f"{path.name}: {text}")
    assert found == []


def test_a_hint_is_parenthesized_in_the_style_of_its_language():
    assert parenthesized("名单里没有「王力」", "是不是「王丽」？") == "名单里没有「王力」（是不是「王丽」？）"
    assert parenthesized("缺少必填字段「负责人」", "mdboard set SKU-0001 owner=...") == \
        "缺少必填字段「负责人」（mdboard set SKU-0001 owner=...）"
    assert parenthesized("'wangly' is not in the people list", "did you mean 'wangli'?") == \
        "'wangly' is not in the people list (did you mean 'wangli'?)"
    assert parenthesized("已逾期", "") == "已逾期"
    line = Problem("sku/planning/SKU-0001.md", "owner", "名单里没有「wangly」", "是不是「wangli」？").line()
    assert line == "sku/planning/SKU-0001.md:owner: 名单里没有「wangly」（是不是「wangli」？）"
