"""`mdboard demo`: the demo board as a repository with weeks of history, dated relative to today."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from mdboard.cli.main import main
from mdboard.domain.demo import demo_source, make_demo, shift_text
from mdboard.core.errors import MdboardError

from conftest import git

SOURCE = demo_source()


def run(cwd: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    import os

    exe = Path(sys.executable).with_name("mdboard")
    return subprocess.run([str(exe), *args], cwd=cwd, capture_output=True, text=True, env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """One demo made by the real command in a subprocess ("now" fixed at the board's own day)."""
    import os

    home = tmp_path_factory.mktemp("demo-home")
    env = {"MDBOARD_NOW": "2026-11-25T09:00:00+08:00", "HOME": str(home), "GIT_CONFIG_GLOBAL": str(home / "none"),
           "GIT_CONFIG_NOSYSTEM": "1"}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    where = tmp_path_factory.mktemp("demo")
    proc = run(where, "demo", "--no-serve", "--dir", "shop")
    yield where / "shop", proc
    for key, value in old.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def test_demo_builds_a_repository_with_weeks_of_history(demo):
    root, proc = demo
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith(f"示例看板已就绪：{root}（") and "次提交" in lines[0]
    assert lines[1] == f"网站已生成：{root / '_site' / 'index.html'}"
    assert (root / "_site" / "index.html").is_file()
    out = git(root, "log", "-z", "--format=%H%x09%an%x09%at%x09%(trailers:key=Card,valueonly)")
    log = [entry.strip() + "\t" for entry in out.split("\0") if entry.strip()]
    assert len(log) >= 100
    authors = {line.split("\t")[1] for line in log}
    assert len(authors) >= 5 and {"王丽", "赵敏", "陈静", "林晓"} <= authors
    stamps = [int(line.split("\t")[2]) for line in log]
    assert (max(stamps) - min(stamps)) / 86400 >= 21
    assert max(stamps) <= datetime.fromisoformat("2026-11-25T09:00:00+08:00").timestamp()
    hand = [line for line in log if not line.split("\t")[3]]
    assert len(hand) >= 10  # checklist ticks made with plain git (and the first commit)
    assert git(root, "status", "--porcelain") == ""


def test_the_last_commit_is_exactly_the_demo_board(demo):
    root, _ = demo
    tracked = set(git(root, "ls-files").splitlines())
    expected = {p.relative_to(SOURCE).as_posix() for p in SOURCE.rglob("*") if p.is_file()}
    assert tracked == expected
    for rel in expected:
        assert (root / rel).read_bytes() == (SOURCE / rel).read_bytes(), rel


def test_the_demo_passes_check_and_fills_standup_and_report(demo):
    root, _ = demo
    check = run(root, "check", "--strict")
    assert check.returncode == 0 and check.stdout == "", check.stdout
    standup = json.loads(run(root, "standup", "--json").stdout)
    assert standup["moved"] and standup["overdue"] and standup["due_today"] and standup["blocked"]
    report = json.loads(run(root, "report", "--json").stdout)
    assert report["types"]["sku"]["finished"] >= 3 and report["types"]["sku"]["cycle_time_days"]["median"] > 0
    assert report["after_sales"]["resolved"] >= 2
    assert all(row["week"] for row in report["types"]["sku"]["throughput"])
    history = run(root, "history", "SKU-0001").stdout.splitlines()
    assert "新建了 SKU-0001" in history[0] and "移到「已上架」" in history[-1]
    moves = json.loads(run(root, "log", "--json", "--since", "60d", "--type", "sku").stdout)
    listed = [e for e in moves if e["to_state"] == "listed"]
    assert listed and all(e["person"] in ("wangli", "liuhao") for e in listed)  # only 运营 list SKUs


def test_dates_move_with_today(tmp_path, monkeypatch):
    monkeypatch.setenv("MDBOARD_NOW", "2027-03-10T09:00:00+08:00")  # 105 days after the board's day
    result = CliRunner().invoke(main, ["demo", "--no-serve", "--dir", str(tmp_path / "later")], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    root = tmp_path / "later"
    card = (root / "issue/following/AS-0004.md").read_text("utf-8")
    assert "due: 2027-03-12 18:00" in card  # was 2026-11-27 18:00
    assert "- 03-09 同意 7 天无理由" in card  # was 11-24 in the body
    assert run(root, "check").returncode == 0
    reference = tmp_path / "reference"
    monkeypatch.setenv("MDBOARD_NOW", "2026-11-25T09:00:00+08:00")
    assert CliRunner().invoke(main, ["demo", "--no-serve", "--dir", str(reference)]).exit_code == 0
    overdue_then = run(reference, "ls", "--overdue", env={"MDBOARD_NOW": "2026-11-25T09:00:00+08:00"}).stdout
    overdue_now = run(root, "ls", "--overdue", env={"MDBOARD_NOW": "2027-03-10T09:00:00+08:00"}).stdout
    assert overdue_now.splitlines()[1:] and [l.split("\t")[0] for l in overdue_now.splitlines()] == [
        l.split("\t")[0] for l in overdue_then.splitlines()]


def test_shift_text_moves_iso_and_short_dates_only():
    text = "---\ndue: 2026-11-27 18:00\norder_no: 261124-083712954326015\n---\n- 11-24 同意\n15–30s, 2026-12-01\n"
    assert shift_text(text, 7) == ("---\ndue: 2026-12-04 18:00\norder_no: 261124-083712954326015\n---\n"
                                   "- 12-01 同意\n15–30s, 2026-12-08\n")
    assert shift_text(text, 0) == text


def test_demo_refreshes_its_own_folder_and_leaves_others_alone(tmp_path, monkeypatch):
    target = tmp_path / "d"
    make_demo(target)
    (target / "scratch.txt").write_text("old", "utf-8")
    make_demo(target)
    assert not (target / "scratch.txt").exists()
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.md").write_text("keep me", "utf-8")
    result = CliRunner().invoke(main, ["demo", "--no-serve", "--dir", str(other)])
    assert result.exit_code == 1
    assert "已有内容且不是 mdboard 示例" in result.output
    assert (other / "notes.md").read_text("utf-8") == "keep me"
    with pytest.raises(MdboardError, match="找不到内置示例看板"):
        make_demo(tmp_path / "x", source=tmp_path / "no-board")


def test_demo_serves_the_board(tmp_path, monkeypatch):
    import mdboard.serve.http

    seen = {}
    monkeypatch.setattr(mdboard.serve.http, "serve_board", lambda board, log, **kw: seen.update(kw, root=board.root))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["demo", "--port", "8123"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert seen == {"host": "127.0.0.1", "port": 8123, "open_browser": False, "root": tmp_path / ".demo"}
