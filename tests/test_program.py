"""The installed `mdboard` program ends quickly (`cli.run`) without losing output or exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

EXE = Path(sys.executable).with_name("mdboard")
BUFFERED = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # as a person's shell has it


def program(board, *args):
    return subprocess.run([str(EXE), *args], cwd=board, capture_output=True, text=True, env=BUFFERED)


def test_output_and_exit_codes_survive_the_quick_exit(board, cli):
    for title in ("耳机", "充电器", "数据线"):
        cli.ok("new", "sku", title, "--owner", "wangli")
    listed = program(board, "ls")
    assert listed.returncode == 0 and listed.stderr == ""
    assert all(f"SKU-000{n}" in listed.stdout for n in (1, 2, 3))  # flushed before the process ended
    missing = program(board, "show", "SKU-0099")
    assert missing.returncode == 1 and "SKU-0099" in missing.stderr and "Traceback" not in missing.stderr
    usage = program(board, "ls", "--bogus")
    assert usage.returncode == 2 and "--bogus" in usage.stderr
    built = program(board, "build")
    assert built.returncode == 0 and (board / "_site" / "index.html").is_file()
    assert (board / "_site" / "cards" / "SKU-0003.html").is_file()


def test_a_reader_that_stops_early_gets_no_traceback(board, cli):
    for n in range(40):
        cli.ok("new", "sku", f"新品 {n}", "--owner", "wangli")
    pipeline = subprocess.run(f"'{EXE}' ls | head -n 1", shell=True, cwd=board, capture_output=True, text=True,
                              env=BUFFERED)
    assert pipeline.stdout.count("\n") == 1
    assert "Traceback" not in pipeline.stderr
