"""Issue 13 item 17: `ls --json` and `export json` hold one card's JSON at a time.

Ten 2 MB cards once took over 2 GB: every card's JSON was made, then the whole text
joined at the end. What the commands allocate beyond a plain `ls` must not grow with the
number of cards. Measured with tracemalloc (allocations, not the machine's load).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


ITEMS = 1500  # checklist items per card: a card of ~20 KB whose JSON is many small objects


def _fill(board, count: int) -> None:
    body = "".join(f"- [ ] 第 {i} 项\n" for i in range(ITEMS))
    for n in range(1, count + 1):
        (board / f"sku/planning/SKU-{n:04d}.md").write_text(
            f"---\ntitle: 清单卡 {n}\nowner: wangli\n---\n\n{body}", "utf-8")


_PEAK = """
import sys, tracemalloc
from mdboard.cli.main import main
tracemalloc.start()
try:
    main(sys.argv[1:], standalone_mode=False)
finally:
    sys.stderr.write(f"{tracemalloc.get_traced_memory()[1]}\\n")
"""


def _peak(board, *args: str) -> int:
    """The most memory Python held at once while `mdboard ARGS` ran, its output going to a pipe
    read as it comes (as `| jq` would), in a process of its own."""
    proc = subprocess.run([sys.executable, "-c", _PEAK, *args], cwd=board, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, env={**os.environ, "MDBOARD_LANG": ""})
    assert proc.returncode == 0, proc.stderr
    return int(proc.stderr.split()[-1])


JSON_COMMANDS = (("ls", "--json"), ("export", "json"))


def _extra(board) -> dict[tuple[str, ...], int]:
    """Bytes allocated at the peak of each JSON command, beyond the peak of a plain `ls` on the
    same board (the caches warmed first by a plain `ls` that measures nothing)."""
    warm = subprocess.run([str(Path(sys.executable).with_name("mdboard")), "ls"], cwd=board,
                          capture_output=True, text=True, env={**os.environ, "MDBOARD_LANG": ""})
    assert warm.returncode == 0, warm.stderr
    peaks = {args: _peak(board, *args) for args in JSON_COMMANDS}
    plain = _peak(board, "ls")
    return {args: peak - plain for args, peak in peaks.items()}


def test_json_output_does_not_grow_with_the_number_of_cards(board):
    _fill(board, 1)
    one = _extra(board)
    _fill(board, 8)
    eight = _extra(board)
    for args in JSON_COMMANDS:  # before: about eight times `one`
        assert eight[args] < 2 * one[args] + 2_000_000, (args, one[args], eight[args])


def test_streamed_json_is_the_same_text(cli, board):
    _fill(board, 3)
    out = cli("ls", "--json").output
    cards = json.loads(out)
    assert [c["id"] for c in cards] == ["SKU-0001", "SKU-0002", "SKU-0003"]
    assert out == json.dumps(cards, ensure_ascii=False, indent=2) + "\n"
    exported = cli("export", "json").output
    data = json.loads(exported)
    assert exported == json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    assert len(data["cards"]) == 3 and data["cards"][0]["body"].count("- [ ]") == ITEMS
    assert cli("ls", "--json", "--owner", "zhaomin").output == "[]\n"
    written = cli("export", "json", "-o", str(board / "all.json"))
    assert written.exit_code == 0 and "3 张卡片" in written.output
    assert json.loads((board / "all.json").read_text("utf-8")) == data
