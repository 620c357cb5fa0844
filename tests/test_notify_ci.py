"""The CI files' scheduled job: valid YAML, the schedule in the right timezone, and its notify step runs.

The notify step of each generated file is run as written (with `--dry-run` added,
and the secrets as CI passes them), in a board that has robots configured, so
the file cannot drift from what `mdboard notify` accepts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from conftest import git
from mdboard.cli.main import main
from mdboard.domain.notify import local_cron, utc_cron

ROBOTS = "notify:\n  time: \"07:30\"\n  robots:\n    ops: {platform: dingtalk}\n    kefu: {platform: wecom}\n"


def init(tmp_path: Path, ci: str) -> Path:
    root = tmp_path / "shop"
    result = CliRunner().invoke(main, ["init", str(root), "--ci", ci], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return root


def with_robots(root: Path) -> None:
    cfg = root / "mdboard.yaml"
    cfg.write_text(cfg.read_text("utf-8").replace("\npeople:\n", "\n" + ROBOTS + "\npeople:\n", 1), "utf-8")
    git(root, "commit", "-qam", "robots")


def run_step(root: Path, command: str, secrets: dict) -> subprocess.CompletedProcess:
    """A CI step's shell line, run in the repository with mdboard on PATH, plus --dry-run."""
    assert command.rstrip().endswith(" notify"), command
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "MDBOARD_CI_SECRETS": json.dumps(secrets)}
    return subprocess.run(["bash", "-c", command + " --dry-run"], cwd=root, capture_output=True, text=True, env=env)


def test_github_workflow_has_a_weekday_morning_schedule_and_its_notify_step_runs(tmp_path):
    root = init(tmp_path, "github")
    workflow = yaml.safe_load((root / ".github/workflows/mdboard.yml").read_text("utf-8"))
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as true
    assert triggers["schedule"] == [{"cron": "50 0 * * 1-5"}]  # 08:50 in Asia/Shanghai
    job = workflow["jobs"]["notify"]
    assert job["if"] == "github.event_name == 'schedule' || inputs.notify"
    steps = {s.get("name"): s for s in job["steps"]}
    assert steps["Send the morning digest"]["env"] == {"MDBOARD_CI_SECRETS": "${{ toJSON(secrets) }}"}
    assert steps["Check the board"]["run"] == 'mdboard --board "." check'

    with_robots(root)
    done = run_step(root, steps["Send the morning digest"]["run"], {"MDBOARD_ROBOT_OPS_WEBHOOK": "https://x.invalid/"})
    assert done.returncode == 0, done.stderr
    assert "== 群机器人「ops」（钉钉）：1 条消息" in done.stdout and "== 群机器人「kefu」（企业微信）：1 条消息" in done.stdout
    assert "注意：没有设置 MDBOARD_ROBOT_KEFU_WEBHOOK" in done.stderr
    assert "MDBOARD_ROBOT_OPS_WEBHOOK" not in done.stderr  # found in the CI secrets


def test_gitlab_pipeline_has_a_scheduled_notify_job_whose_commands_run(tmp_path):
    root = init(tmp_path, "gitlab")
    text = (root / ".gitlab-ci.yml").read_text("utf-8")
    pipeline = yaml.safe_load(text)
    job = pipeline["notify"]
    assert job["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "schedule"'}]
    assert job["script"][1:] == ['mdboard --board "." notify', 'mdboard --board "." check']
    assert 'Interval Pattern 填 "50 8 * * 1-5"，Cron timezone 选 Asia/Shanghai' in text
    with_robots(root)
    done = run_step(root, job["script"][1], {})
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("== 群机器人") == 2


def test_the_schedule_follows_the_board_time_and_days(tmp_path):
    root = tmp_path / "shop"
    assert CliRunner().invoke(main, ["init", str(root)]).exit_code == 0
    cfg = root / "mdboard.yaml"
    cfg.write_text(cfg.read_text("utf-8").replace("\npeople:\n", "\nnotify:\n  time: \"07:30\"\n  days: [周一, 周三, 周六]\n"
                                                                    "\npeople:\n", 1), "utf-8")
    git(root, "commit", "-qam", "time")
    result = CliRunner().invoke(main, ["--board", str(root), "hooks", "ci", "github"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    workflow = yaml.safe_load((root / ".github/workflows/mdboard.yml").read_text("utf-8"))
    assert workflow[True]["schedule"] == [{"cron": "30 23 * * 0,2,5"}]  # 07:30 +08:00 is 23:30 UTC the day before


@pytest.mark.parametrize("clock, days, tz, utc, local", [
    ("08:50", (0, 1, 2, 3, 4), "Asia/Shanghai", "50 0 * * 1-5", "50 8 * * 1-5"),
    ("07:00", (0, 1, 2, 3, 4), "Asia/Shanghai", "0 23 * * 0-4", "0 7 * * 1-5"),
    ("09:15", (5, 6), "UTC", "15 9 * * 0,6", "15 9 * * 0,6"),
    ("20:00", (6,), "America/New_York", "0 1 * * 1", "0 20 * * 0"),
])
def test_cron_lines(clock, days, tz, utc, local):
    assert utc_cron(clock, days, tz, on=date(2026, 11, 25)) == utc
    assert local_cron(clock, days) == local
