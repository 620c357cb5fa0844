"""Shared test fixtures: a real git repository with a real board in tmp_path.

Every test runs with its own git identity (no global config leaks in), with "now"
fixed to 2026-11-25 09:00 Asia/Shanghai (MDBOARD_NOW), and in zh-CN unless a test
says otherwise.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from mdboard import i18n
from mdboard.cli import main

REPO = Path(__file__).resolve().parent.parent
NOW = "2026-11-25T09:00:00+08:00"

ROSTER = """
people:
  wangli: {name: 王丽, email: [wangli@example.com], roles: [运营]}
  zhaomin: {name: 赵敏, email: [zhaomin@example.com], roles: [美工]}
  chenjing: {name: 陈静, email: [chenjing@example.com], roles: [文案]}
  liuyang: {name: 刘洋, email: [liuyang@example.com], roles: [投手]}
  sunli: {name: 孙丽, email: [sunli@example.com], roles: [客服]}
  zhougang: {name: 周刚, email: [zhougang@example.com], roles: [仓库]}
"""


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory, monkeypatch):
    """Own git identity, fixed clock, default language, no board from the outside."""
    home = tmp_path_factory.mktemp("home")
    gitconfig = home / ".gitconfig"
    gitconfig.write_text("[user]\n\tname = 王丽\n\temail = wangli@example.com\n"
                         "[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n", "utf-8")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("MDBOARD_NOW", NOW)
    for var in ("MDBOARD_BOARD", "MDBOARD_AS", "MDBOARD_LANG", "EDITOR", "VISUAL"):
        monkeypatch.delenv(var, raising=False)
    i18n.set_language(None)
    yield
    i18n.set_language(None)


def git(root: Path, *args: str) -> str:
    """Run git in `root` and return its stdout (fails the test on error)."""
    proc = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def with_roster(config_text: str) -> str:
    """The default config with the test team in place of the placeholder person."""
    head, _, rest = config_text.partition("\npeople:\n")
    _, _, tail = rest.partition("\ntypes:\n")
    return head + "\n" + ROSTER.strip() + "\n\ntypes:\n" + tail


@pytest.fixture
def board(tmp_path) -> Path:
    """A fresh default (zh-CN) board with the test team, committed in its own repository."""
    root = tmp_path / "board"
    result = CliRunner().invoke(main, ["init", str(root)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    cfg = root / "mdboard.yaml"
    cfg.write_text(with_roster(cfg.read_text("utf-8")), "utf-8")
    git(root, "commit", "-qam", "roster")
    return root


class Cli:
    """Runs mdboard in a board, through CliRunner or as a real subprocess."""

    def __init__(self, root: Path):
        self.root = root

    def __call__(self, *args: str, input: str | None = None):
        """CliRunner, inside the board folder; returns the click Result."""
        old = os.getcwd()
        os.chdir(self.root)
        try:
            i18n.set_language(None)
            return CliRunner().invoke(main, [str(a) for a in args], input=input, catch_exceptions=False)
        finally:
            os.chdir(old)

    def proc(self, *args: str, env: dict | None = None, input: str | None = None):
        """The installed console script as a subprocess; returns CompletedProcess."""
        exe = Path(sys.executable).with_name("mdboard")
        return subprocess.run([str(exe), *map(str, args)], cwd=self.root, capture_output=True, text=True,
                              env={**os.environ, **(env or {})}, input=input)


@pytest.fixture
def cli(board) -> Cli:
    return Cli(board)


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium through Playwright, one for the whole run.

    Playwright's sync API allows one running instance per thread, so every browser
    test shares this one. A missing chromium fails loudly: `make test` installs it.
    """
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "chromium is missing: run `make test` (it installs chromium with apt-get)"
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
