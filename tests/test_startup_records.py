"""The records an action hands back are plain classes (`core.records`): a dataclass is
compiled when its module is imported, which every `mdboard` command, a new process, paid."""

from __future__ import annotations

import subprocess
import sys

from mdboard.core.cardfile import Parsed, parse
from mdboard.domain.ops import Clash, Expect, Result

MADE = """import dataclasses, sys
made = []
original = dataclasses._process_class
def process(cls, *args, **kwargs):
    made.append(cls.__module__ + "." + cls.__qualname__)
    return original(cls, *args, **kwargs)
dataclasses._process_class = process
import mdboard.domain.ops, mdboard.core.cardfile
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
