"""bench/bench_team.py, small: on a 200-card board it measures all three figures of issue 16
(move -> commit / -> the second browser's column, people acting at once and back to back,
memory over actions),
so the harness cannot rot. Speed is not asserted here; the full run is in docs/benchmarks.md."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import REPO, wait_until

pytestmark = pytest.mark.browser


def test_the_team_benchmark_measures_every_figure(tmp_path):
    proc = subprocess.run([sys.executable, str(REPO / "bench" / "bench_team.py"), "--cards", "200", "--commits", "400",
                           "--moves", "2", "--people", "3", "--actions", "2", "--memory-actions", "20",
                           "--checkpoint", "10", "--capacity", "--json"], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout)
    for figure in ("move_to_commit", "move_to_column"):
        assert report["browser"][figure]["n"] == 2 and report["browser"][figure]["median"] > 0
    assert report["load"]["actions"]["n"] == 6 and report["load"]["refused"] == 0
    assert report["load"]["server_cpu_per_action"] > 0 and report["load"]["think"] == [0.5, 3.0]
    assert report["capacity"]["actions"]["n"] == 6 and report["capacity"]["refused"] == 0
    assert report["capacity"]["think"] is None and report["capacity"]["actions_per_second"] > 0
    assert [point[0] for point in report["memory"]["curve"]] == [10, 20]
    assert report["memory"]["after_first"] > 0 and report["memory"]["after_all"] > 0


def test_the_bench_stops_its_server_even_where_ctrl_c_is_ignored(board, monkeypatch):
    """A shell running the bench in the background starts it with SIGINT ignored (and so the
    server): the bench still stops the server as Ctrl-C would, instead of killing it."""
    import os
    import signal

    monkeypatch.syspath_prepend(str(REPO / "bench"))
    import bench_team

    old = signal.signal(signal.SIGINT, signal.SIG_IGN)  # inherited by the server, as from `cmd &`
    try:
        server = bench_team.Server(board, dict(os.environ))
    finally:
        signal.signal(signal.SIGINT, old)
    server.stop()
    assert server.proc.returncode == 0
    wait_until(lambda: server.lines and server.lines[-1] == "已停止，再见。", "the server's last line")
