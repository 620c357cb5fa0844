"""The records an action hands back are plain classes (`core.records`): a dataclass is
compiled when its module is imported, which every `mdboard` command, a new process, paid."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from conftest import git
from mdboard.core.cardfile import Parsed, parse
from mdboard.core.config import BoardConfig, NotifyConfig, RobotConfig
from mdboard.core.errors import Problem
from mdboard.domain.ops import Clash, Expect, Result

# The start of a program that lists the dataclasses made (module.class) in `made`.
COUNTING = """import dataclasses, sys
made = []
original = dataclasses._process_class
def process(cls, *args, **kwargs):
    made.append(cls.__module__ + "." + cls.__qualname__)
    return original(cls, *args, **kwargs)
dataclasses._process_class = process
"""
MADE = COUNTING + """import mdboard.domain.ops, mdboard.core.cardfile
print(" ".join(name for name in made if name.startswith(("mdboard.domain.ops.", "mdboard.core.cardfile."))))
"""


def test_the_action_and_card_text_modules_make_no_dataclass_at_import():
    proc = subprocess.run([sys.executable, "-c", MADE], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""


def test_records_show_their_fields_and_compare_as_the_dataclasses_did():
    assert repr(Expect("ab12", state="planning")) == "Expect(version='ab12', fields=None, state='planning')"
    assert Expect("ab12") != Expect("ab12")  # compared by identity, as before (eq=False)
    assert Clash("price", "价格", 99, 120, 130) == Clash("price", "价格", 99, 120, 130)
    assert Clash("price", "价格", 99, 120, 130) != Clash("price", "价格", 99, 121, 130)
    assert parse("---\ntitle: a\n---\n- [x] 主图\n") == Parsed({"title": "a"}, "- [x] 主图\n", [(True, "主图")])
    assert Parsed({}, "").checklist == [] and Result(None, None).understood == []
    assert Result(None, None).understood is not Result(None, None).understood


# An action as the CLI runs it, in its own process: which dataclasses it makes, whether it
# loads OpenSSL (`hashlib`), and how many patterns the git runner compiles.
ACTION = COUNTING + """from mdboard.cli.main import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    assert not exc.code, exc.code
print("MADE=" + " ".join(sorted(name for name in made if name.startswith("mdboard."))))
print("OPENSSL=" + str("_hashlib" in sys.modules))
"""


def _action(board, *args) -> dict[str, str]:
    proc = subprocess.run([sys.executable, "-c", ACTION, *args], cwd=board, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return dict(re.findall(r"^(MADE|OPENSSL)=(.*)$", proc.stdout, re.M))


@pytest.mark.parametrize("args", [("new", "sku", "蓝牙耳机 Pro", "--owner", "wangli", "--set", "price=199"),
                                  ("set", "SKU-0001", "price=299"), ("move", "SKU-0001", "shooting")])
def test_an_action_makes_no_dataclass_and_loads_no_openssl(board, cli, args):
    """Each dataclass made at import cost every command ~0.5 ms and `hashlib` ~3 ms (it loads
    libcrypto); the config's, Problem's, the card's, the change's, the git runner's and the
    commit's are plain records, digests come from `core.digest`."""
    cli.ok("new", "sku", "降噪耳机", "--owner", "wangli")
    cli.ok("ls")
    seen = _action(board, *args)
    assert seen == {"MADE": "", "OPENSSL": "False"}
    assert git(board, "status", "--porcelain") == ""


def test_config_and_problem_records_compare_hash_and_show_as_the_dataclasses_did():
    cfg = BoardConfig("店", "zh-CN", "Asia/Shanghai", {}, {}, {})
    assert cfg.notify == NotifyConfig() and cfg.raw == {} and cfg.archive_days == BoardConfig.archive_days == 30
    assert cfg == BoardConfig("店", "zh-CN", "Asia/Shanghai", {}, {}, {}) != BoardConfig("铺", "zh-CN", "UTC", {}, {}, {})
    assert repr(NotifyConfig()) == "NotifyConfig(time='08:50', days=(0, 1, 2, 3, 4), robots={})"
    assert hash(RobotConfig("a", "feishu", "A", "B")) == hash(RobotConfig("a", "feishu", "A", "B"))
    problem = Problem("sku/planning/SKU-0001.md", "price", "不是数字", "写成 199")
    assert {problem, Problem("sku/planning/SKU-0001.md", "price", "不是数字", "写成 199")} == {problem}
    assert problem.to_dict() == {"path": "sku/planning/SKU-0001.md", "field": "price", "message": "不是数字",
                                 "hint": "写成 199", "level": "error"}
