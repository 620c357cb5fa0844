"""`mdboard user …` and `mdboard serve --team` as a shop runs them, and the server's sync loop
with a real bare remote."""

from __future__ import annotations

import os
import re
import stat
import subprocess

import httpx

from conftest import Cli, git
from mdboard.serve.accounts import Accounts, team_dir
from test_serve_cli import Running
from test_serve_team import TeamServer, new_sku


def test_user_add_prints_a_one_time_link_and_keeps_the_account_outside_the_board(board, cli):
    result = cli("user", "add", "王丽")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "已为 王丽 开账号。"
    assert lines[1] == "把这个一次性登录链接发给 王丽（7 天内有效，只能用一次）："
    assert re.fullmatch(r"  http://127\.0\.0\.1:8000/__mdboard/signin/[A-Za-z0-9_-]{20,}", lines[2])
    folder = team_dir(board)
    assert board not in folder.parents and not str(folder).startswith(str(board))
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(folder / "accounts.json").st_mode) == 0o600
    assert git(board, "status", "--porcelain", "--ignored") in ("", "!! _site/")
    again = cli("user", "add", "wangli")
    assert again.output.splitlines()[0] == "王丽 已经有账号。"


def test_user_add_refuses_someone_not_in_the_roster(board, cli):
    result = cli("user", "add", "张三")
    assert result.exit_code == 1
    assert result.output.startswith("错误：名单里没有「张三」（先把这个人加到 mdboard.yaml 的 people 里并提交）")
    assert not Accounts(board).any()


def test_user_password_list_signout_and_remove(board, cli):
    assert cli("user", "add", "赵敏").exit_code == 0
    mismatch = cli("user", "password", "赵敏", input="first-password\nother-password\n")
    assert mismatch.exit_code == 1 and "两次输入的密码不一样" in mismatch.output
    short = cli("user", "password", "赵敏", input="short\nshort\n")
    assert short.exit_code == 1 and "密码至少要 8 个字符" in short.output
    done = cli("user", "password", "赵敏", input="zhaomin-password\nzhaomin-password\n")
    assert done.exit_code == 0 and "已为 赵敏 设置密码" in done.output
    accounts = Accounts(board)
    assert accounts.check("zhaomin", "zhaomin-password") and not accounts.check("zhaomin", "wrong-password")
    assert "zhaomin-password" not in accounts.path.read_text("utf-8")
    listed = cli("user", "list")
    assert "赵敏（zhaomin）：已设密码" in listed.output
    generation = accounts.get("zhaomin").generation
    assert cli("user", "signout", "赵敏").exit_code == 0
    assert Accounts(board).get("zhaomin").generation == generation + 1
    assert cli("user", "remove", "赵敏").output.strip() == "已删除 赵敏 的账号，这个人的所有登录都已退出。"
    assert cli("user", "remove", "赵敏").exit_code == 1


def test_a_sign_out_written_in_the_tick_the_server_read_the_accounts_in_ends_the_sessions(board, cli):
    """The server keeps the accounts it read while the file's stamp stays the same. A sign-out
    written in the tick the server read the file in, with as many bytes and into the same
    file (an inode number handed out again), is read all the same: the generation the
    server checks sessions against is the new one."""
    import os
    import time

    cli.ok("user", "add", "赵敏")
    cli.ok("user", "password", "赵敏", input="zhaomin-password\nzhaomin-password\n")
    server_view = Accounts(board)
    path = server_view.path
    moment = time.time_ns() + 3_000_000_000  # a time the clock has not passed: this very tick
    os.utime(path, ns=(moment, moment))
    generation = server_view.get("zhaomin").generation
    assert generation < 9  # one more is as many bytes
    text = path.read_text("utf-8").replace(f'"generation": {generation}', f'"generation": {generation + 1}')
    with open(path, "r+", encoding="utf-8") as fh:
        fh.write(text)
    os.utime(path, ns=(moment, moment))
    assert server_view.get("zhaomin").generation == generation + 1


def test_serve_team_will_not_open_the_lan_without_accounts(board, cli):
    proc = cli.proc("serve", "--team", "--host", "0.0.0.0", "--port", "0")
    assert proc.returncode == 1
    assert proc.stderr.strip() == ("错误：团队看板要在 127.0.0.1 以外的地址开放，先给成员开账号："
                                   "mdboard user add 王丽（每人一次），再启动")
    assert "Traceback" not in proc.stderr


def test_serve_team_runs_and_user_add_then_links_to_where_it_runs(board, cli):
    new_sku(cli)
    running = Running(board, "serve", "--team", "--port", "0")
    try:
        url = running.wait_line(r"(http://127\.0\.0\.1:\d+/)").group(1)
        running.wait_line(r"^本机团队模式：网页上的操作以 王丽 的身份提交")
        link = cli("user", "add", "王丽").output.splitlines()[2].strip()
        assert link.startswith(url + "__mdboard/signin/")
        with httpx.Client(timeout=30) as client:
            page = client.get(url + "cards/SKU-0001.html")
            assert page.status_code == 303  # an account exists now: a session is needed
            confirm = client.get(link)
            token = re.search(r'name="csrf" value="([^"]+)"', confirm.text).group(1)
            assert client.post(link, data={"csrf": token}).status_code == 303
            card = client.get(url + "cards/SKU-0001.html")
            assert card.status_code == 200 and "mdb-panel" in card.text
        assert running.interrupt() == 0
        assert running.lines[-1] == "已停止，再见。"
    finally:
        running.kill()


def test_on_the_lan_the_address_the_others_open_is_announced_and_put_in_sign_in_links(board, cli):
    assert cli("user", "add", "王丽").exit_code == 0
    running = Running(board, "serve", "--team", "--host", "0.0.0.0", "--name", "10.1.2.3", "--port", "0")
    try:
        shared = running.wait_line(r"^同一网络里的同事用这个地址打开：(http://10\.1\.2\.3:(\d+)/)").group(1)
        port = re.search(r":(\d+)/$", shared).group(1)
        link = re.search(r"http://\S+/__mdboard/signin/[A-Za-z0-9_-]+", cli("user", "link", "王丽").output).group(0)
        assert link.startswith(shared)
        with httpx.Client(timeout=30) as client:  # a phone on the LAN sends Host: 10.1.2.3:<port>
            page = client.get(link.replace("10.1.2.3", "127.0.0.1"), headers={"Host": f"10.1.2.3:{port}"})
            assert page.status_code == 200 and "以 王丽 的身份登录" in page.text
        assert running.interrupt() == 0
    finally:
        running.kill()


def test_sync_every_needs_a_remote(board, cli):
    proc = cli.proc("serve", "--team", "--port", "0", "--sync-every", "30")
    assert proc.returncode == 1
    assert "--sync-every 需要远程仓库" in proc.stderr


def _clone(remote, where, name, email):
    subprocess.run(["git", "clone", "-q", str(remote), str(where)], check=True, capture_output=True)
    git(where, "config", "user.name", name)
    git(where, "config", "user.email", email)
    return where


def test_the_sync_loop_pushes_web_changes_and_shows_a_stopped_sync_on_every_page(board, cli, tmp_path):
    from mdboard.serve.syncloop import SyncLoop

    new_sku(cli)
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    git(board, "remote", "add", "origin", str(remote))
    assert cli("sync").exit_code == 0
    other = _clone(remote, tmp_path / "other", "赵敏", "zhaomin@example.com")
    running = TeamServer(board)
    try:
        loop = SyncLoop(board, running.site, 60, running.lines.append)
        loop.check()
        with running.client() as client:
            token = re.search(r'data-csrf="([^"]+)"', client.get("/index.html").text).group(1)
            moved = client.post("/__mdboard/cards/SKU-0001/move", data={"csrf": token, "to": "shooting"},
                                headers={"Accept": "application/json"})
            assert moved.json()["ok"] is True
            loop.once()
            assert git(other, "ls-remote", str(remote), "main").split()[0] == git(board, "rev-parse", "HEAD")
            # a teammate moves it elsewhere and pushes; the web moves it too: sync stops
            git(other, "pull", "-q")
            moved_other = Cli(other)("move", "SKU-0001", "content")
            assert moved_other.exit_code == 0, moved_other.output
            git(other, "push", "-q")
            back = client.post("/__mdboard/cards/SKU-0001/move", data={"csrf": token, "to": "planning"},
                               headers={"Accept": "application/json"})
            assert back.json()["ok"] is True
            loop.once()
            page = client.get("/index.html").text
        assert "自动同步停住了" in page and "mdboard sync --ours SKU-0001" in page
        assert any(line.startswith("自动同步没有完成") for line in running.lines)
        assert (board / "sku/planning/SKU-0001.md").exists()  # the web change is still here
        assert git(board, "status", "--porcelain") == ""
    finally:
        running.stop()
