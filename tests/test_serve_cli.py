"""The real `mdboard serve` and `mdboard watch` commands, run as subprocesses in a board repo.

`--port 0` lets the server pick a free port; the test reads the URL it prints, edits
cards on disk, polls the served page, counts the terminal's rebuild lines, and stops it
with Ctrl-C (SIGINT) like a person would.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import DEADLINE, card_file, children_of, ended, fetch, new_card, raw_get, retitle, wait_until

EXE = Path(sys.executable).with_name("mdboard")


class Running:
    """A background `mdboard <command>`; its output lines are collected as they come."""

    def __init__(self, root: Path, *args: str, env: dict | None = None):
        self.proc = subprocess.Popen([str(EXE), *args], cwd=root, text=True, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
        self.proc.stdout.close()

    def wait_line(self, pattern: str) -> re.Match:
        """The first output line matching `pattern` (waits for it)."""
        def found():
            for line in list(self.lines):
                if m := re.search(pattern, line):
                    return m
            if self.proc.poll() is not None and not any(re.search(pattern, x) for x in self.lines):
                pytest.fail(f"exited {self.proc.returncode} without {pattern!r}: {self.lines}")
        return wait_until(found, f"a line matching {pattern!r}")

    def interrupt(self) -> int:
        """Ctrl-C, then the exit code."""
        self.proc.send_signal(signal.SIGINT)
        code = self.proc.wait(timeout=DEADLINE)
        time.sleep(0.1)
        return code

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def serving(board, cli):
    new_card(cli, "蓝牙耳机 上新")
    running = Running(board, "serve", "--port", "0")
    running.url = running.wait_line(r"(http://127\.0\.0\.1:\d+/)").group(1)
    yield running
    running.kill()


def page_text(url: str) -> str:
    status, body = fetch(url)
    return body if status == 200 else ""


def test_serve_prints_the_url_follows_edits_and_stops_cleanly_on_ctrl_c(serving, board):
    assert any(line.startswith("看板网站已启动，用浏览器打开：http://127.0.0.1:") for line in serving.lines)
    card_url = serving.url + "cards/SKU-0001.html"
    assert "蓝牙耳机 上新" in page_text(card_url)
    path = card_file(board, "SKU-0001")
    path.write_text(retitle(path.read_text("utf-8"), "子进程里改的标题"), "utf-8")
    wait_until(lambda: "子进程里改的标题" in page_text(card_url), "the edit on the served page")
    assert serving.interrupt() == 0
    assert serving.lines[-1] == "已停止，再见。"
    assert not any("Traceback" in line for line in serving.lines)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", int(serving.url.rsplit(":", 1)[1].strip("/"))), timeout=2)


def test_atomic_rename_and_a_200_file_burst_give_few_rebuilds(serving, board):
    card_url = serving.url + "cards/SKU-0001.html"
    path = card_file(board, "SKU-0001")
    tmp = path.with_name(".SKU-0001.md.swp.tmp")
    tmp.write_text(retitle(path.read_text("utf-8"), "原子替换"), "utf-8")
    os.replace(tmp, path)
    wait_until(lambda: "原子替换" in page_text(card_url), "the atomically replaced title")
    # The pages are written before the rebuild's line is printed (and the line then goes through
    # a pipe): wait for the line itself, not for a fixed time.
    before = wait_until(lambda: rebuild_lines(serving), "the rename's rebuild line")
    assert changed_files(before) == 1, serving.lines
    folder = board / "sku/planning"
    for i in range(199):
        (folder / f"SKU-{i + 100:04d}.md").write_text(f"---\ntitle: 批量 {i}\nowner: wangli\n---\n", "utf-8")
    path.write_text(retitle(path.read_text("utf-8"), "批量结束"), "utf-8")
    wait_until(lambda: "批量结束" in page_text(card_url) and "批量 198" in page_text(serving.url + "cards/SKU-0298.html"),
               "the burst on the served pages")
    wait_until(lambda: changed_files(rebuild_lines(serving)) >= 201, "the burst's rebuild lines")
    burst = rebuild_lines(serving)[len(before):]
    assert 1 <= len(burst) <= 3, serving.lines
    assert changed_files(burst) == 200, serving.lines


def rebuild_lines(running: Running) -> list[str]:
    """The terminal's rebuild lines so far."""
    return [line for line in list(running.lines) if line.startswith("已更新：")]


def changed_files(lines: list[str]) -> int:
    """How many changed files these rebuild lines name together."""
    return sum(int(re.search(r"(\d+) 个文件有变化", line).group(1)) for line in lines)


def test_broken_card_banner_terminal_line_and_recovery(serving, board):
    card_url = serving.url + "cards/SKU-0001.html"
    path = card_file(board, "SKU-0001")
    good = path.read_text("utf-8")
    path.write_text("---\ntitle: 写到一半\nowner: [wangli\n", "utf-8")
    wait_until(lambda: "mdboard-live-banner" in page_text(card_url), "the banner")
    assert "mdboard-live-banner" in page_text(serving.url)  # on every page
    assert "蓝牙耳机 上新" in page_text(card_url)
    serving.wait_line(r"^需要修正：sku/planning/SKU-0001\.md")
    path.write_text(retitle(good, "修正之后"), "utf-8")
    serving.wait_line(r"^已修正：sku/planning/SKU-0001\.md$")
    body = page_text(card_url)
    assert "修正之后" in body and "mdboard-live-banner" not in body
    assert len([line for line in serving.lines if line.startswith("需要修正：")]) == 1
    assert serving.proc.poll() is None
    assert not (board / "_site/cards/SKU-0001.html").read_text("utf-8").count("mdboard-live")


def test_traversal_through_the_real_server_never_leaks(serving, board):
    port = int(serving.url.rsplit(":", 1)[1].strip("/"))
    for target in ("/../mdboard.yaml", "/%2e%2e/mdboard.yaml", "/..%5cmdboard.yaml", "/%2e%2e%2f.git/config"):
        status, body = raw_get(port, target)
        assert status == 404 and b"wangli" not in body and b"[core]" not in body


def test_busy_port_is_a_clear_message_and_exit_1(board, cli):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = cli.proc("serve", "--port", port)
    assert proc.returncode == 1
    assert proc.stderr.strip() == f"错误：端口 {port} 已被占用。换一个端口，例如：mdboard serve --port {port + 1}"
    assert "Traceback" not in proc.stderr + proc.stdout


def test_output_folder_inside_a_card_folder_is_refused(board, cli):
    proc = cli.proc("serve", "--port", "0", "-o", "sku/planning/site")
    assert proc.returncode == 1 and proc.stderr.startswith("错误：")
    assert not (board / "sku/planning/site").exists()


def test_english_board_prints_the_url_in_english(board, cli):
    cfg = board / "mdboard.yaml"
    cfg.write_text(cfg.read_text("utf-8").replace("language: zh-CN", "language: en"), "utf-8")
    running = Running(board, "serve", "--port", "0")
    try:
        running.wait_line(r"^Board site running, open it in your browser: http://127\.0\.0\.1:\d+/")
        assert running.interrupt() == 0
        assert running.lines[-1] == "Stopped. Bye."
    finally:
        running.kill()


def test_watch_rebuilds_the_files_without_a_server(board, cli):
    new_card(cli, "蓝牙耳机 上新")
    out = board.parent / "published"
    running = Running(board, "watch", "-o", str(out))
    try:
        running.wait_line(r"^正在监视 ")
        page = out / "cards/SKU-0001.html"
        assert "蓝牙耳机 上新" in page.read_text("utf-8")
        path = card_file(board, "SKU-0001")
        path.write_text(retitle(path.read_text("utf-8"), "发布用的标题"), "utf-8")
        wait_until(lambda: "发布用的标题" in page.read_text("utf-8"), "the rebuilt page on disk")
        assert "__mdboard" not in page.read_text("utf-8")
        assert not any("http://" in line for line in running.lines)
        assert running.interrupt() == 0
        assert running.lines[-1] == "已停止，再见。"
    finally:
        running.kill()


def test_sigterm_stops_serve_cleanly_too(serving):
    serving.proc.send_signal(signal.SIGTERM)
    assert serving.proc.wait(timeout=DEADLINE) == 0
    time.sleep(0.1)
    assert serving.lines[-1] == "已停止，再见。"


def test_help_texts(cli):
    serve_help = cli("serve", "--help").output
    assert "--port" in serve_help and "0 表示自动选一个空闲端口" in serve_help and "--open" in serve_help
    assert "不启动服务器" in cli("watch", "--help").output


def test_open_flag_opens_the_url_in_the_browser(board, cli, tmp_path):
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "fake-browser"
    browser.write_text(f'#!/bin/sh\nprintf "%s" "$1" > "{opened}"\n', "utf-8")
    browser.chmod(0o755)
    running = Running(board, "serve", "--port", "0", "--open", env={"BROWSER": str(browser)})
    try:
        url = running.wait_line(r"(http://127\.0\.0\.1:\d+/)").group(1)
        wait_until(lambda: opened.exists() and opened.read_text("utf-8") == url, "the browser to be asked")
        assert running.interrupt() == 0
    finally:
        running.kill()


def builder_process_of(running: Running) -> int:
    """The id of the site builder's process that `mdboard serve` started."""
    def found():
        return [pid for pid in children_of(running.proc.pid)
                if "mdboard.cli.builder_child" in Path(f"/proc/{pid}/cmdline").read_text()]
    return wait_until(found, "the builder process")[0]


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGKILL])
def test_the_builder_process_ends_when_serve_stops_or_is_killed(serving, stop):
    """Ctrl-C stops serve and its builder process with it; a server killed outright leaves
    no builder behind either (its pipe closes, the child ends)."""
    child = builder_process_of(serving)
    serving.proc.send_signal(stop)
    serving.proc.wait(timeout=DEADLINE)
    wait_until(lambda: ended(child), "the builder process to end")
    if stop == signal.SIGINT:
        assert serving.lines[-1] == "已停止，再见。"
    assert not any("Traceback" in line for line in serving.lines)
