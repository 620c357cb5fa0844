"""`mdboard serve` / `mdboard watch`: edits on disk show on the served page, debounced,
broken cards show a banner and never stop the server, only the output folder is served.

In-process tests run the LiveSite + BoardServer in threads on a free port; the
subprocess tests run the real `mdboard serve --port 0` and stop it with Ctrl-C.
Nothing here asserts speed: pages are polled with a generous deadline.
"""

from __future__ import annotations

import http.client
import os
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from mdboard.core.errors import MdboardError, Problem
from mdboard.serve.hosts import HostCheck, host_name
from mdboard.serve.http import BoardServer, resolve_request_path
from mdboard.serve.pages import inject
from mdboard.serve.live import LiveSite, PathFilter, ignored_name
from mdboard.core.store import Board

from conftest import card_file, fetch, new_card, raw_get, retitle, wait_until


@dataclass
class Report:
    """What a fake builder hands back, shaped like the real builder's report."""
    written: list
    problems: list
    pages: int
    seconds: float = 0.0



# --- which changes count -----------------------------------------------------------------


@pytest.mark.parametrize("name", [".SKU-0001.md.swp", ".SKU-0001.md.swx", "SKU-0001.md~", "4913", ".#SKU-0001.md",
                                  "#SKU-0001.md#", ".SKU-0001.md.k3j4.tmp", "SKU-0001.md.tmp",
                                  "SKU-0001.md___jb_tmp___", ".goutputstream-XYZ12", ".git", ".mdboard",
                                  "SKU-0001.md.kate-swp", ".~lock.a.xlsx#"])
def test_editor_temporaries_and_hidden_names_are_ignored(name):
    assert ignored_name(name)


@pytest.mark.parametrize("name", ["SKU-0001.md", "mdboard.yaml", "planning", "蓝牙耳机.md", "4913.md"])
def test_card_files_and_folders_count(name):
    assert not ignored_name(name)


def test_path_filter_keeps_board_paths_and_drops_output_git_and_outside(tmp_path):
    root = tmp_path / "board"
    out = root / "_site"
    f = PathFilter(root, out)
    assert f.relative(str(root / "sku/planning/SKU-0001.md")) == "sku/planning/SKU-0001.md"
    assert f.relative(str(root / "mdboard.yaml")) == "mdboard.yaml"
    assert f.relative(str(out / "index.html")) is None
    assert f.relative(str(out)) is None
    assert f.relative(str(root / ".git/objects/ab/cdef")) is None
    assert f.relative(str(root / "sku/planning/.SKU-0001.md.swp")) is None
    assert f.relative(str(tmp_path / "elsewhere.md")) is None
    assert f.relative(str(root)) is None


def test_path_filter_understands_a_board_reached_through_a_symlink(tmp_path):
    real = tmp_path / "real"
    (real / "sku").mkdir(parents=True)
    link = tmp_path / "link"
    link.symlink_to(real)
    f = PathFilter(link, link / "_site")
    assert f.relative(str(real / "sku/a.md")) == "sku/a.md"
    assert f.relative(str(link / "sku/a.md")) == "sku/a.md"
    assert f.relative(str(real / "_site/x.html")) is None


def test_output_folder_outside_the_board_is_not_confused_with_it(tmp_path):
    root = tmp_path / "board"
    f = PathFilter(root, tmp_path / "board_site")
    assert f.relative(str(tmp_path / "board_site/index.html")) is None
    assert f.relative(str(root / "sku/a/SKU-1.md")) == "sku/a/SKU-1.md"


# --- debouncing ------------------------------------------------------------------------------


class RecordingBuilder:
    def __init__(self):
        self.calls: list[set] = []
        self.done = threading.Event()

    def build_all(self):
        return Report([], [], 0)

    def rebuild(self, changed, early=None):
        self.calls.append(set(changed))
        self.done.set()
        return Report(["index.html"], [], 1)


def test_a_burst_of_notices_gives_one_rebuild_with_every_path(board):
    builder = RecordingBuilder()
    lines = []
    site = LiveSite(Board.open(str(board)), builder, board / "_site", lines.append, settle=0.3, max_wait=30)
    site._thread = threading.Thread(target=site._run, daemon=True)
    site._thread.start()
    try:
        for i in range(200):
            site.notice([str(board / f"sku/planning/SKU-{i:04d}.md"), str(board / f"sku/planning/.x{i}.swp")])
        site.notice([str(board / "_site/index.html"), str(board / ".git/index")])
        wait_until(builder.done.is_set, "the rebuild")
        time.sleep(0.5)  # nothing else is pending, so no second rebuild may follow
    finally:
        site.stop()
    assert len(builder.calls) == 1
    assert builder.calls[0] == {f"sku/planning/SKU-{i:04d}.md" for i in range(200)}
    assert len([line for line in lines if line.startswith("已更新")]) == 1


class EditDuringFirstBuild(RecordingBuilder):
    """Saves a card while the first build runs; notes the threads alive at that moment."""

    def __init__(self, card: Path):
        super().__init__()
        self.card = card
        self.threads_during_build = None

    def build_all(self):
        self.threads_during_build = threading.active_count()
        self.card.write_text(self.card.read_text("utf-8") + "\n编辑于首次生成期间\n", "utf-8")
        return Report([], [], 0)


def test_first_build_runs_without_threads_and_edits_meanwhile_are_caught_up(board, cli):
    new_card(cli, "首次生成")
    path = card_file(board, "SKU-0001")
    builder = EditDuringFirstBuild(path)
    site = LiveSite(Board.open(str(board)), builder, board / "_site", lambda line: None)
    threads = threading.active_count()
    site.start()
    try:
        wait_until(builder.done.is_set, "the catch-up rebuild")
    finally:
        site.stop()
    assert builder.threads_during_build == threads
    assert builder.calls == [{"sku/planning/SKU-0001.md"}]


class SameTickEditDuringFirstBuild(RecordingBuilder):
    """Saves a card again while the first build runs, after the build read it: as many bytes,
    in the same file time (the tick the card was saved in before the server started)."""

    def __init__(self, card: Path, moment: int):
        super().__init__()
        self.card, self.moment = card, moment

    def build_all(self):
        text = self.card.read_text("utf-8")  # what the first build shows
        with open(self.card, "r+", encoding="utf-8") as fh:
            fh.write(text.replace("首次生成", "同刻改过"))  # as many bytes
        os.utime(self.card, ns=(self.moment, self.moment))
        return Report([], [], 0)


def test_an_edit_in_the_tick_a_card_was_saved_in_while_the_first_build_runs_is_caught_up(board, cli):
    """A card saved just before the server starts (its file time a tick the clock has not
    left) and saved again with as many bytes in that tick while the first build runs: the
    stamps taken around the build look the same, yet the card is rebuilt."""
    new_card(cli, "首次生成")
    path = card_file(board, "SKU-0001")
    moment = time.time_ns() + 3_000_000_000  # a time the clock has not passed: this very tick
    os.utime(path, ns=(moment, moment))
    builder = SameTickEditDuringFirstBuild(path, moment)
    site = LiveSite(Board.open(str(board)), builder, board / "_site", lambda line: None)
    site.start()
    try:
        wait_until(builder.done.is_set, "the catch-up rebuild", deadline=5)
    finally:
        site.stop()
    assert builder.calls == [{"sku/planning/SKU-0001.md"}]


def test_ignored_changes_alone_cause_no_rebuild(board):
    """Output, git, editor temporaries and files outside the card folders (a log file) are ignored."""
    builder = RecordingBuilder()
    site = LiveSite(Board.open(str(board)), builder, board / "_site", lambda line: None, settle=0.05)
    site._thread = threading.Thread(target=site._run, daemon=True)
    site._thread.start()
    try:
        site.notice([str(board / "_site/a.html"), str(board / ".git/HEAD"), str(board / "sku/planning/4913"),
                     str(board / "serve.log"), str(board / "README.md"), str(board / "docs/notes.md")])
        time.sleep(0.5)
    finally:
        site.stop()
    assert builder.calls == []


class HeardSite(LiveSite):
    """A LiveSite that keeps every path the watcher handed it."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.heard: list[str] = []

    def notice(self, paths):
        paths = list(paths)
        self.heard.extend(paths)
        return super().notice(paths)


def inotify_instances() -> int:
    """inotify instances this process holds open (the per-user limit counts these)."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            count += os.readlink(f"/proc/self/fd/{fd}") == "anon_inode:inotify"
        except OSError:
            pass
    return count


def test_git_and_the_output_folder_are_not_watched_and_one_inotify_instance_serves_every_folder(board):
    """git's files in .git and the pages of the output folder are never heard (a team action
    wrote ~50 of them, each an event filtered out again), the card folders are; the folders
    share one inotify instance (the per-user limit, often 128, counts instances)."""
    (board / "docs").mkdir()  # more top folders than the card types: still one instance
    builder = RecordingBuilder()
    site = HeardSite(Board.open(str(board)), builder, board / "_site", lambda line: None, settle=0.05)
    before = inotify_instances()
    site.start()
    try:
        assert inotify_instances() - before == 1
        for folder in (board / "_site/cards", board / ".git/mdboard-test"):
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(5):
                (folder / f"{i}.html").write_text("x", "utf-8")
        (board / ".git/HEAD").write_text((board / ".git/HEAD").read_text("utf-8"), "utf-8")
        target = board / "sku/planning/SKU-0900.md"
        target.write_text("---\ntitle: 听到了\nowner: wangli\n---\n", "utf-8")
        rel = target.relative_to(board).as_posix()
        wait_until(lambda: any(rel in call for call in builder.calls), "the card's rebuild")
    finally:
        site.stop()
    assert [p for p in site.heard if "/_site/" in p or "/.git/" in p] == []
    assert str(target) in site.heard


def test_a_top_folder_made_removed_or_renamed_while_served_is_followed(board):
    """A folder that appears at the top of the board (a new type's folder, a checkout) is
    watched from then on, the files already in it included; one deleted and made again, or
    renamed away and back, is watched under its own name."""
    import shutil

    shutil.move(board / "sales", board.parent / "sales")  # made again below, while served
    builder = RecordingBuilder()
    site = LiveSite(Board.open(str(board)), builder, board / "_site", lambda line: None, settle=0.05)
    site.start()
    changed = lambda rel: any(rel in call for call in builder.calls)
    try:
        (board / "sales").mkdir()
        shutil.copy(board.parent / "sales/2026.yaml", board / "sales/2026.yaml")
        wait_until(lambda: changed("sales/2026.yaml"), "the file of the new folder")
        shutil.copy(board.parent / "sales/2027.yaml", board / "sales/2027.yaml")
        wait_until(lambda: changed("sales/2027.yaml"), "a file saved in the new folder later")
        shutil.rmtree(board / "sales")
        (board / "sales").mkdir()
        builder.calls.clear()
        (board / "sales/2026.yaml").write_bytes((board.parent / "sales/2026.yaml").read_bytes())
        wait_until(lambda: changed("sales/2026.yaml"), "a file of the folder made again")
        os.rename(board / "sales", board / "sales-old")
        os.rename(board / "sales-old", board / "sales")
        time.sleep(0.3)
        builder.calls.clear()
        (board / "sales/2026.yaml").write_text("{}\n", "utf-8")
        wait_until(lambda: changed("sales/2026.yaml"), "a file of the folder renamed back")
    finally:
        site.stop()
    assert not any(p.startswith("sales-old/") for call in builder.calls for p in call)


# --- the served page follows the disk ----------------------------------------------------------------


def test_serve_shows_the_board_and_injects_live_reload_only_in_the_response(live, board):
    body = live.page()
    assert "蓝牙耳机 上新" in body
    assert 'src="/__mdboard/static/live.js"' in body
    assert "mdboard-live-banner" not in body
    for page in ("cards/SKU-0001.html", "index.html", "types/sku.html"):
        assert "live.js" in live.page(page)
        assert "__mdboard" not in (board / "_site" / page).read_text("utf-8")
    status, css = fetch(live.url + "static/board.css")
    assert status == 200 and "__mdboard" not in css
    status, script = fetch(live.url + "__mdboard/static/live.js")
    assert status == 200 and "EventSource" in script


def test_plain_write_shows_on_the_served_page(live, board):
    path = card_file(board, "SKU-0001")
    path.write_text(retitle(path.read_text("utf-8"), "蓝牙耳机 第二版"), "utf-8")
    wait_until(lambda: "第二版" in live.page(), "the new title on the served page")


def test_atomic_rename_shows_on_the_served_page(live, board):
    path = card_file(board, "SKU-0001")
    tmp = path.with_name(".SKU-0001.md.save.tmp")
    tmp.write_text(retitle(path.read_text("utf-8"), "改名后的耳机"), "utf-8")
    os.replace(tmp, path)
    wait_until(lambda: "改名后的耳机" in live.page(), "the renamed-in title")


def test_vim_style_save_dance_gives_the_new_page(live, board):
    """vim: probe file 4913, swap file, rename the original to a backup, write, delete the backup."""
    path = card_file(board, "SKU-0001")
    text = path.read_text("utf-8")
    swap = path.with_name(".SKU-0001.md.swp")
    swap.write_bytes(b"swap")
    probe = path.with_name("4913")
    probe.write_text("")
    probe.unlink()
    backup = path.with_name("SKU-0001.md~")
    os.rename(path, backup)
    path.write_text(retitle(text, "vim 保存的标题"), "utf-8")
    backup.unlink()
    swap.unlink()
    wait_until(lambda: "vim 保存的标题" in live.page(), "the vim-saved title")
    time.sleep(0.5)
    for call in live.builder.calls:
        assert all(not ignored_name(p.rsplit("/", 1)[-1]) for p in call)


def test_a_burst_of_200_changes_gives_few_rebuilds(live, board, cli):
    path = card_file(board, "SKU-0001")
    text = path.read_text("utf-8")
    before = len(live.rebuild_lines())
    folder = board / "sku/planning"
    for i in range(199):
        (folder / f"SKU-{i + 100:04d}.md").write_text(f"---\ntitle: 批量卡片 {i}\nowner: wangli\n---\n", "utf-8")
    path.write_text(retitle(text, "批量之后的标题"), "utf-8")
    wait_until(lambda: "批量之后的标题" in live.page() and "批量卡片 198" in live.page("cards/SKU-0298.html"), "the burst on the page")
    time.sleep(0.5)
    rebuilds = len(live.rebuild_lines()) - before
    assert 1 <= rebuilds <= 3, live.lines
    changed = set().union(*live.builder.calls)
    assert "sku/planning/SKU-0298.md" in changed and "sku/planning/SKU-0001.md" in changed


# --- broken cards and failing rebuilds -------------------------------------------------------------


def test_a_broken_card_shows_a_banner_and_one_terminal_line_until_fixed(live, board):
    path = card_file(board, "SKU-0001")
    good = path.read_text("utf-8")
    path.write_text('---\ntitle: "半截\nowner: [\n---\n', "utf-8")
    live.wait_rebuilds(1)
    body = live.page()
    assert "mdboard-live-banner" in body and "sku/planning/SKU-0001.md" in body
    assert "mdboard-live-banner" in live.page("index.html")  # on every page
    assert "蓝牙耳机 上新" in body  # the last good page stays
    problem_lines = [line for line in live.lines if line.startswith("需要修正：")]
    assert len(problem_lines) == 1 and "sku/planning/SKU-0001.md" in problem_lines[0]
    # Another save, still broken in another way: the banner follows, the terminal stays quiet.
    path.write_text("---\ntitle: ok\nowner: wangli\ntags: [a, b\n---\n", "utf-8")
    live.wait_rebuilds(2)
    assert "expected &#x27;,&#x27; or &#x27;]&#x27;" in live.page()
    assert len([line for line in live.lines if line.startswith("需要修正：")]) == 1
    path.write_text(retitle(good, "修好了"), "utf-8")
    live.wait_rebuilds(3)
    body = live.page()
    assert "修好了" in body and "mdboard-live-banner" not in body
    assert "已修正：sku/planning/SKU-0001.md" in live.lines


def test_banner_escapes_what_the_card_says(board):
    site = LiveSite(Board.open(str(board)), RecordingBuilder(), board / "_site", lambda line: None)
    site.problems = [Problem("sku/a/SKU-1.md", "title", "<script>alert(1)</script>", "<img onerror=x>")]
    banner = site.banner_html()
    assert "<script>" not in banner and "<img" not in banner
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in banner


def test_a_rebuild_that_raises_keeps_the_server_running(live, board):
    live.builder.fail_next = True
    path = card_file(board, "SKU-0001")
    text = path.read_text("utf-8")
    path.write_text(retitle(text, "第一次失败"), "utf-8")
    live.wait_rebuilds(1)
    body = live.page()
    assert "mdboard-live-banner" in body and "template exploded" in body
    failures = [line for line in live.lines if line.startswith("重新生成失败")]
    assert failures == ["重新生成失败：RuntimeError: template exploded（网站继续运行，保存修正后会自动重试）"]
    path.write_text(retitle(text, "第二次成功"), "utf-8")
    live.wait_rebuilds(2)
    body = live.page()
    assert "第二次成功" in body and "mdboard-live-banner" not in body


# --- live reload events ----------------------------------------------------------------------


def read_event(resp) -> str:
    """The next event of a server-sent event stream (its lines up to the blank line)."""
    lines = []
    while (line := resp.readline().decode()) not in ("\n", ""):
        lines.append(line)
    return "".join(lines)


def test_event_stream_says_change_at_once_when_the_tab_is_behind(live):
    conn = http.client.HTTPConnection("127.0.0.1", live.server.port, timeout=10)
    conn.request("GET", "/__mdboard/events?v=old-version")
    resp = conn.getresponse()
    assert resp.getheader("Content-Type").startswith("text/event-stream")
    assert read_event(resp) == "retry: 1000\n"
    assert read_event(resp) == f"event: change\ndata: {live.site.version}\n"
    conn.close()


def test_event_stream_waits_for_a_change_then_says_change_and_stays_open(live, board):
    version = live.site.version
    conn = http.client.HTTPConnection("127.0.0.1", live.server.port, timeout=20)
    conn.request("GET", f"/__mdboard/events?v={version}")
    resp = conn.getresponse()
    assert read_event(resp) == "retry: 1000\n"
    path = card_file(board, "SKU-0001")
    path.write_text(retitle(path.read_text("utf-8"), "推送刷新"), "utf-8")
    event = read_event(resp)
    assert event.startswith("event: change\n") and live.site.version != version
    path.write_text(retitle(path.read_text("utf-8"), "第二次推送"), "utf-8")
    assert read_event(resp).startswith("event: change\n")  # one stream follows every change
    conn.close()


# --- only the output folder is served ----------------------------------------------------------------


@pytest.mark.parametrize("target", [
    "/../mdboard.yaml", "/..%2fmdboard.yaml", "/%2e%2e/mdboard.yaml", "/%2E%2E%2Fmdboard.yaml",
    "/..\\mdboard.yaml", "/..%5cmdboard.yaml", "/%2e%2e%5cmdboard.yaml", "/sub/../../mdboard.yaml",
    "//etc/passwd", "/etc/passwd", "/%2Fetc%2Fpasswd", "/..%00/mdboard.yaml", "/%ff%fe",
    "/outside-link/secret.txt", "/outside-file.txt", "http://127.0.0.1/../mdboard.yaml",
])
def test_paths_outside_the_output_folder_are_refused(live, board, target):
    secret = board.parent / "secret.txt"
    secret.write_text("TOP SECRET", "utf-8")
    (board / "_site/outside-link").symlink_to(board.parent, target_is_directory=True)
    (board / "_site/outside-file.txt").symlink_to(secret)
    status, body = raw_get(live.server.port, target)
    assert status in (400, 404)
    assert b"TOP SECRET" not in body and b"wangli" not in body and b"root:" not in body


def test_no_directory_listing_and_folders_serve_their_index(live, board):
    sub = board / "_site/extra"
    sub.mkdir()
    (sub / "x.html").write_text("<html><body>x</body></html>", "utf-8")
    status, body = raw_get(live.server.port, "/extra/")
    assert status == 404 and b"x.html" not in body
    (sub / "index.html").write_text("<html><body>卡片目录</body></html>", "utf-8")
    status, _ = raw_get(live.server.port, "/extra")
    assert status == 301
    assert "卡片目录" in live.page("extra/")


@pytest.mark.parametrize("host", ["evil.example.com", "127.0.0.1.evil.example", "localhost.evil.example",
                                  "127.0.0.1:8000@evil.example", "[::1].evil.example", "127.0.0.1 evil.example"])
def test_a_foreign_host_name_is_refused_on_loopback(live, host):
    status, body = raw_get(live.server.port, "/cards/SKU-0001.html", host=host)
    assert status in (400, 421) and "蓝牙耳机".encode() not in body


@pytest.mark.parametrize("host", ["localhost", "localhost:{port}", "127.0.0.1:{port}", "[::1]:{port}", "LOCALHOST."])
def test_loopback_names_are_answered(live, host):
    assert raw_get(live.server.port, "/", host=host.format(port=live.server.port))[0] == 200


def test_host_names_are_compared_exactly():
    check = HostCheck("192.168.1.20", ["board.shop.lan"])
    for ok in ("192.168.1.20:8000", "board.shop.lan", "BOARD.SHOP.LAN:443", "localhost", "[::1]:8000"):
        assert check.allows(ok), ok
    for bad in ("board.shop.lan.evil.example", "192.168.1.20.nip.io", "evil.example", "", "a/b", "x@board.shop.lan",
                "192.168.1.2", "board.shop.lan:abc", "[::1"):
        assert not check.allows(bad), bad
    assert host_name("[::1]:8000") == "::1" and host_name("Example.COM.:80") == "example.com"


def test_many_idle_connections_cost_no_threads_and_are_closed_after_a_while(live):
    """2,000 connections that send nothing start no thread, the pages are still served, and
    each is closed once idle for the server's idle time (here 2 s, so the test waits ~3.5 s,
    not the 11.5 s `serve`'s 10 s would take: the same timer, started as each connection opens)."""
    from mdboard.serve import http as serve_http

    assert live.server.idle_seconds == serve_http.IDLE_SECONDS  # what `serve` runs with
    server = serve_http.BoardServer(live.site, "127.0.0.1", 0, idle_seconds=2.0)
    server.start()
    threads = threading.active_count()
    socks = [socket.create_connection(("127.0.0.1", server.port), timeout=5) for _ in range(2000)]
    try:
        time.sleep(0.5)
        assert threading.active_count() <= threads + 1  # at most the pages' read pool warming up
        assert fetch(server.url + "cards/SKU-0001.html")[0] == 200
        time.sleep(server.idle_seconds + 1.0)
        assert sum(not _still_open(sock) for sock in socks) == len(socks)
    finally:
        for sock in socks:
            sock.close()
        server.stop()


def _still_open(sock: socket.socket) -> bool:
    """Whether the server has not closed the connection (nothing to read, no end of stream)."""
    sock.settimeout(0.05)
    try:
        return sock.recv(1) != b""
    except socket.timeout:
        return True
    except OSError:
        return False


def request(live, method: str, path: str) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", live.server.port, timeout=10)
    conn.request(method, path, body=b"x=1" if method == "POST" else None)
    resp = conn.getresponse()
    resp.read()
    conn.close()
    return resp


def test_every_response_carries_the_security_headers(live):
    for path in ("/cards/SKU-0001.html", "/static/board.css", "/__mdboard/static/live.js", "/nope.html"):
        resp = request(live, "GET", path)
        csp = resp.getheader("Content-Security-Policy")
        assert "script-src 'self';" in csp and "frame-ancestors 'none'" in csp, path
        assert "unsafe-inline" not in csp.split("script-src", 1)[1].split(";")[0]
        assert resp.getheader("X-Content-Type-Options") == "nosniff"
        assert resp.getheader("X-Frame-Options") == "DENY"


def test_nothing_but_get_and_head(live):
    assert request(live, "POST", "/cards/SKU-0001.html").status == 405
    assert request(live, "HEAD", "/cards/SKU-0001.html").status == 200


def test_resolve_request_path_stays_inside(tmp_path):
    out = tmp_path / "_site"
    out.mkdir()
    assert resolve_request_path(out, "/a/b.html?x=1") == out.resolve() / "a/b.html"
    assert resolve_request_path(out, "/") == out.resolve()
    assert resolve_request_path(out, "/%2e%2e/x") is None
    assert resolve_request_path(out, "/a\\..\\..\\x") is None


def test_inject_adds_banner_after_body_and_script_before_the_end():
    page = '<!doctype html><html><body class="k"><p>卡片</p></body></html>'.encode()
    out = inject(page, '<div id="b">!</div>', '<script data-version="v-1"></script>').decode()
    assert out.index('<body class="k">') < out.index('<div id="b">') < out.index("<p>卡片</p>")
    assert out.index("<p>卡片</p>") < out.index('data-version="v-1"') < out.index("</body>")


# --- ports ---------------------------------------------------------------------------------------


def test_busy_port_names_the_port_and_the_option(board):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        site = LiveSite(Board.open(str(board)), RecordingBuilder(), board / "_site", lambda line: None)
        with pytest.raises(MdboardError) as err:
            BoardServer(site, "127.0.0.1", port)
    assert str(err.value) == f"端口 {port} 已被占用。换一个端口，例如：mdboard serve --port {port + 1}"


def test_a_log_file_in_the_board_folder_does_not_feed_back_into_rebuilds(live, board):
    """`mdboard serve > serve.log` inside the board: its lines must not trigger rebuilds."""
    log = board / "serve.log"
    for _ in range(5):
        with log.open("a", encoding="utf-8") as fh:
            fh.write("已更新：1 个文件有变化\n")
        time.sleep(0.1)
    path = card_file(board, "SKU-0001")
    path.write_text(retitle(path.read_text("utf-8"), "日志之后"), "utf-8")
    live.wait_rebuilds(1)
    time.sleep(0.5)
    assert live.site.rebuilds == 1
    assert live.builder.calls == [{"sku/planning/SKU-0001.md"}]


def test_a_new_card_type_in_the_config_is_watched_after_the_rebuild(live, board):
    cfg = board / "mdboard.yaml"
    text = cfg.read_text("utf-8")
    cfg.write_text(text.replace("\ntypes:\n", "\ntypes:\n  memo:\n    label: 备忘\n    prefix: MEMO\n"
                                "    states:\n      - {key: open, label: 待办}\n"
                                "    fields:\n      owner: {type: person, label: 负责人}\n", 1), "utf-8")
    live.wait_rebuilds(1)
    assert live.builder.calls[-1] == {"mdboard.yaml"}
    memo = board / "memo/open/MEMO-0001.md"
    memo.parent.mkdir(parents=True)
    memo.write_text("---\ntitle: 新类型的卡片\nowner: wangli\n---\n", "utf-8")
    live.wait_rebuilds(2)
    assert "memo/open/MEMO-0001.md" in live.builder.calls[-1]
    assert "新类型的卡片" in live.page("cards/MEMO-0001.html")
