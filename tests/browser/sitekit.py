"""Helpers for the browser tests: how chromium is launched, how a site is built."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
NOW = "2026-11-25T09:00:00+08:00"


def launch(playwright):
    """Chromium as installed by the system (Playwright's own download needs the internet)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def site_env(home: Path) -> dict:
    """The environment a site is built in: fixed clock, own git identity."""
    gitconfig = home / ".gitconfig"
    gitconfig.write_text("[user]\n\tname = 王丽\n\temail = wangli@example.com\n"
                         "[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n", "utf-8")
    return {"HOME": str(home), "GIT_CONFIG_GLOBAL": str(gitconfig), "GIT_CONFIG_NOSYSTEM": "1",
            "MDBOARD_NOW": NOW}


def mdboard(root: Path, env: dict, *args: str) -> str:
    """Run the installed mdboard command in `root`; fail the test on a non-zero exit."""
    exe = Path(sys.executable).with_name("mdboard")
    proc = subprocess.run([str(exe), *args], cwd=root, capture_output=True, text=True,
                          env={**os.environ, **env})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout
