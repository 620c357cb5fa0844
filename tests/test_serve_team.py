"""`mdboard serve --team` over real HTTP: a real uvicorn server on 127.0.0.1 driven by httpx.

Each action must write exactly the commit the CLI would (subject, trailers), authored
by the signed-in person; every refusal — no CSRF token, another origin, another Host,
no session, a role that does not allow it, a card that changed meanwhile — must leave
the repository as it was (same HEAD, clean `git status`).
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import threading
from pathlib import Path

import httpx
import pytest

from conftest import DEADLINE, Cli, children_of, ended, git, wait_until
from mdboard.core.errors import MdboardError
from mdboard.core.store import Board
from mdboard.serve.accounts import Accounts
from mdboard.serve.http import make_server
from mdboard.serve.builder_process import describe_failure
from mdboard.serve.live import make_live_site

PASSWORDS = {"wangli": "wangli-secret-1", "zhaomin": "zhaomin-secret-2"}


# --- helpers ------------------------------------------------------------------------------


class TeamServer:
    """The team board running in this process on a free port, with its terminal lines kept."""

    def __init__(self, root: Path, names=(), builder=None):
        self.root = root
        self.lines: list[str] = []
        board = Board.open(str(root))
        self.site = make_live_site(board, root / "_site", self.lines.append, builder)
        self.server, self.team = make_server(board, self.site, "127.0.0.1", 0, self.lines.append, team=True,
                                             names=names)
        self.site.start()
        self.server.start()
        self.url = self.server.url

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)

    def stop(self):
        self.server.stop()
        self.team.close()
        self.site.stop()


def csrf_of(client: httpx.Client, path: str = "/index.html") -> str:
    """The CSRF token of this client's session, as a page shows it."""
    page = client.get(path)
    assert page.status_code == 200, page.text
    return re.search(r'name="csrf" value="([^"]+)"|data-csrf="([^"]+)"', page.text).group(1) or \
        re.search(r'data-csrf="([^"]+)"', page.text).group(1)


def sign_in(client: httpx.Client, person: str) -> None:
    token = csrf_of(client, "/__mdboard/signin")
    answer = client.post("/__mdboard/signin", data={"csrf": token, "name": person, "password": PASSWORDS[person]})
    assert answer.status_code == 303, answer.text


def head(root: Path) -> str:
    return git(root, "rev-parse", "HEAD")


def assert_untouched(root: Path, before: str) -> None:
    assert head(root) == before
    assert git(root, "status", "--porcelain") == ""


def last_commit(root: Path) -> tuple[str, str, str]:
    """(author "name <email>", subject, trailers block) of HEAD."""
    author = git(root, "log", "-1", "--format=%an <%ae>")
    subject = git(root, "log", "-1", "--format=%s")
    body = git(root, "log", "-1", "--format=%b")
    return author, subject, body


def new_sku(cli, title: str = "蓝牙耳机 上新", *sets: str) -> str:
    result = cli("new", "sku", title, "--owner", "wangli", *[x for s in sets for x in ("--set", s)])
    assert result.exit_code == 0, result.output
    return re.search(r"SKU-\d+", result.output).group(0)


@pytest.fixture
def local(board, cli):
    """Team mode on 127.0.0.1 without accounts: acts as the local git user (王丽)."""
    new_sku(cli)
    running = TeamServer(board)
    yield running
    running.stop()


@pytest.fixture
def accounts(board):
    accounts = Accounts(board)
    for person, password in PASSWORDS.items():
        accounts.add(person)
        accounts.set_password(person, password)
    return accounts


@pytest.fixture
def team(board, cli, accounts):
    """Team mode with accounts for 王丽 (运营) and 赵敏 (美工)."""
    new_sku(cli)
    running = TeamServer(board)
    yield running
    running.stop()



STOPPING = "服务器正在停止，这次操作没有执行，卡片没有任何改动：等服务器重新启动后刷新页面再提交一次"


# --- the local mode ---------------------------------------------------------------------------


def test_a_move_posted_from_the_card_page_is_the_cli_commit_as_the_git_user(local, board):
    with local.client() as client:
        token = csrf_of(client, "/cards/SKU-0001.html")
        answer = client.post("/__mdboard/cards/SKU-0001/move", data={"csrf": token, "to": "shooting", "from": "planning"})
        assert answer.status_code == 303 and answer.headers["location"] == "/cards/SKU-0001.html"
        page = client.get("/cards/SKU-0001.html").text
    assert "已把 SKU-0001 移到「拍摄中」" in page  # the message shows on the page it goes back to
    assert (board / "sku/shooting/SKU-0001.md").exists()
    author, subject, body = last_commit(board)
    assert author == "王丽 <wangli@example.com>"
    assert subject == "move SKU-0001: 规划中 → 拍摄中"
    assert body.splitlines() == ["Card: SKU-0001", "Action: move", "From: planning", "To: shooting"]
    assert git(board, "status", "--porcelain") == ""


def test_pages_are_the_built_files_plus_the_bar_and_the_panel(local, board):
    with local.client() as client:
        served = client.get("/cards/SKU-0001.html")
    built = (board / "_site/cards/SKU-0001.html").read_text("utf-8")
    assert "mdboard-team" in served.text and 'id="mdb-panel"' in served.text
    assert "mdboard-team" not in built and "mdb-panel" not in built and "__mdboard" not in built
    assert "本机模式：以 王丽 的身份操作" in served.text


def test_every_response_carries_the_security_headers(local):
    with local.client() as client:
        for path in ("/index.html", "/static/board.css", "/__mdboard/static/team.js", "/__mdboard/new/sku",
                     "/nope.html"):
            headers = client.get(path).headers
            csp = headers["content-security-policy"]
            script = next(part for part in csp.split(";") if part.strip().startswith("script-src"))
            assert script.strip() == "script-src 'self'", path
            assert "frame-ancestors 'none'" in csp
            assert headers["x-content-type-options"] == "nosniff"
            assert headers["x-frame-options"] == "DENY"
            assert headers["referrer-policy"] == "same-origin"


def test_the_session_cookie_is_httponly_and_samesite(local):
    with local.client() as client:
        cookie = client.get("/index.html").headers["set-cookie"]
    assert cookie.startswith("mdboard_session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


@pytest.mark.parametrize("how", ["no token", "wrong token", "other origin", "other referer"])
def test_a_write_without_the_right_token_or_origin_writes_nothing(local, board, how):
    before = head(board)
    with local.client() as client:
        token = csrf_of(client)
        data = {"to": "shooting", "from": "planning", "csrf": token}
        headers = {}
        if how == "no token":
            del data["csrf"]
        elif how == "wrong token":
            data["csrf"] = token[:-2] + "xx"
        elif how == "other origin":
            headers["Origin"] = "http://evil.example"
        else:
            headers["Referer"] = "http://127.0.0.1.evil.example/page.html"
        answer = client.post("/__mdboard/cards/SKU-0001/move", data=data, headers=headers)
    assert answer.status_code == 403
    assert "没有通过安全检查，什么都没有改" in answer.text
    assert_untouched(board, before)
    assert (board / "sku/planning/SKU-0001.md").exists()


def test_a_token_from_another_session_does_not_work(local, board):
    before = head(board)
    with local.client() as mine, local.client() as theirs:
        token = csrf_of(theirs)
        csrf_of(mine)
        answer = mine.post("/__mdboard/cards/SKU-0001/move", data={"csrf": token, "to": "shooting"})
    assert answer.status_code == 403
    assert_untouched(board, before)


@pytest.mark.parametrize("host", ["127.0.0.1.evil.example", "evil.example", "localhost.evil.example",
                                  "127.0.0.1:80@evil.example", "127.1.evil", ""])
def test_another_host_name_is_refused_for_pages_and_writes(local, board, host):
    before = head(board)
    with socket.create_connection(("127.0.0.1", local.server.port), timeout=10) as sock:
        body = "to=shooting"
        sock.sendall((f"POST /__mdboard/cards/SKU-0001/move HTTP/1.1\r\nHost: {host}\r\n"
                      f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
                      f"Connection: close\r\n\r\n{body}").encode("latin-1"))
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    status = int(data.split()[1])
    assert status in (400, 421)
    assert "蓝牙耳机".encode() not in data
    if host:
        with local.client() as client:
            assert client.get("/cards/SKU-0001.html", headers={"Host": host}).status_code in (400, 421)
    assert_untouched(board, before)


def test_loopback_names_with_ports_are_answered(local):
    port = local.server.port
    with local.client() as client:
        for host in (f"127.0.0.1:{port}", f"localhost:{port}", "localhost", f"[::1]:{port}", "LOCALHOST."):
            assert client.get("/index.html", headers={"Host": host}).status_code == 200, host


def test_get_never_changes_anything(local, board):
    before = head(board)
    with local.client() as client:
        for path in ("/__mdboard/cards/SKU-0001/move?to=shooting", "/__mdboard/cards/SKU-0001/tick?item=拍摄",
                     "/__mdboard/cards/SKU-0001/note?text=x", "/__mdboard/new/sku?title=x"):
            assert client.get(path).status_code in (200, 404, 405)
    assert_untouched(board, before)


# --- accounts ------------------------------------------------------------------------------------


def test_with_accounts_every_page_needs_a_session(team, board):
    with team.client() as client:
        page = client.get("/cards/SKU-0001.html")
        assert page.status_code == 303
        assert page.headers["location"] == "/__mdboard/signin?next=%2Fcards%2FSKU-0001.html"
        assert client.get("/__mdboard/events").status_code == 403
        assert client.get("/__mdboard/static/team.js").status_code == 200  # no card data there
        signin = client.get("/__mdboard/signin")
        assert signin.status_code == 200 and "蓝牙耳机" not in signin.text


def test_a_write_without_a_session_writes_nothing(team, board):
    before = head(board)
    with team.client() as client:
        token = csrf_of(client, "/__mdboard/signin")
        answer = client.post("/__mdboard/cards/SKU-0001/move", data={"csrf": token, "to": "shooting"})
    assert answer.status_code == 401 and "请先登录" in answer.text
    assert_untouched(board, before)


def test_the_signed_in_person_is_the_author(team, board):
    with team.client() as client:
        sign_in(client, "zhaomin")
        token = csrf_of(client, "/cards/SKU-0001.html")
        answer = client.post("/__mdboard/cards/SKU-0001/move", data={"csrf": token, "to": "shooting"},
                             headers={"Accept": "application/json"})
    assert answer.status_code == 200 and answer.json()["ok"] is True
    assert answer.json()["message"] == "已把 SKU-0001 移到「拍摄中」"
    author, subject, _ = last_commit(board)
    assert author == "赵敏 <zhaomin@example.com>" and subject == "move SKU-0001: 规划中 → 拍摄中"


def test_a_role_that_does_not_allow_the_move_is_refused_and_cannot_be_forced(team, board, cli):
    card = new_sku(cli, "有价格的耳机", "price=199", "price_approved=true", "platforms=抖音")
    for state in ("shooting", "content", "review"):
        assert cli("move", card, state).exit_code == 0
    for step in range(5):
        cli("tick", card, str(step + 1))
    before = head(board)
    with team.client() as client:
        sign_in(client, "zhaomin")
        token = csrf_of(client)
        for data in ({"to": "listed"}, {"to": "listed", "reason": "老板说可以"}):
            answer = client.post(f"/__mdboard/cards/{card}/move", data={"csrf": token, **data},
                                 headers={"Accept": "application/json"})
            outcome = answer.json()
            assert answer.status_code == 422 and outcome["ok"] is False
            assert outcome["message"] == f"{card} 没有移动"
            assert [p["message"] for p in outcome["problems"]] == ["赵敏 不能把卡片移入「已上架」（需要角色：运营）"]
            assert outcome["problems"][0]["hint"] == "请有这个角色的成员来移动"
            assert outcome["forcible"] is False
    assert_untouched(board, before)


def test_a_refused_move_names_the_rule_and_may_be_forced_with_a_reason(team, board):
    with team.client() as client:
        sign_in(client, "wangli")
        token = csrf_of(client)
        before = head(board)
        answer = client.post("/__mdboard/cards/SKU-0001/move", data={"csrf": token, "to": "review"},
                             headers={"Accept": "application/json"})
        outcome = answer.json()
        assert answer.status_code == 422 and outcome["forcible"] is True
        assert [p["message"] for p in outcome["problems"]] == ["进入「待审核」前必须填写「价格」",
                                                              "进入「待审核」前必须填写「平台」"]
        assert_untouched(board, before)
        forced = client.post("/__mdboard/cards/SKU-0001/move", data={"csrf": token, "to": "review",
                                                                     "reason": "样品已到，价格明天补"},
                             headers={"Accept": "application/json"})
    assert forced.json()["ok"] is True
    _, subject, body = last_commit(board)
    assert subject == "move SKU-0001: 规划中 → 待审核"
    assert "Forced: 样品已到，价格明天补" in body and "Overrode: 进入「待审核」前必须填写「价格」" in body


def test_wrong_passwords_are_rate_limited(team):
    with team.client() as client:
        token = csrf_of(client, "/__mdboard/signin")
        codes = [client.post("/__mdboard/signin", data={"csrf": token, "name": "王丽", "password": f"guess{i}"}).status_code
                 for i in range(11)]
        assert codes[:10] == [401] * 10 and codes[10] == 429
        right = client.post("/__mdboard/signin", data={"csrf": token, "name": "王丽", "password": PASSWORDS["wangli"]})
        assert right.status_code == 429 and "分钟后再试" in right.text


def test_a_one_time_link_signs_in_once_and_get_does_not_use_it(board, cli, accounts):
    new_sku(cli)
    token = accounts.new_link("zhaomin")
    running = TeamServer(board)
    try:
        with running.client() as client:
            for _ in range(2):  # a chat app's link preview fetches it first: that must not use it up
                page = client.get(f"/__mdboard/signin/{token}")
                assert page.status_code == 200 and "以 赵敏 的身份登录" in page.text
            csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
            used = client.post(f"/__mdboard/signin/{token}", data={"csrf": csrf})
            assert used.status_code == 303
            assert client.get("/cards/SKU-0001.html").status_code == 200
        with running.client() as other:
            page = other.get(f"/__mdboard/signin/{token}")
            assert page.status_code == 410 and "已经用过或过期" in page.text
    finally:
        running.stop()


def test_changing_the_password_ends_other_sessions(team, accounts):
    with team.client() as first, team.client() as second:
        sign_in(first, "wangli")
        sign_in(second, "wangli")
        token = csrf_of(first)
        answer = first.post("/__mdboard/password", data={"csrf": token, "password": "a-new-password", "again": "a-new-password"})
        assert answer.status_code == 303
        assert first.get("/index.html").status_code == 200
        assert second.get("/index.html").status_code == 303


def test_the_server_will_not_open_beyond_this_computer_without_accounts(board):
    site = make_live_site(Board.open(str(board)), board / "_site", lambda line: None)
    with pytest.raises(MdboardError) as err:
        make_server(Board.open(str(board)), site, "0.0.0.0", 0, lambda line: None, team=True)
    assert "mdboard user add" in str(err.value)


# --- what a write checks ------------------------------------------------------------------------------


def test_two_moves_of_the_same_card_at_once_give_exactly_one_commit(local, board):
    before = head(board)
    with local.client() as a, local.client() as b:
        tokens = {a: csrf_of(a), b: csrf_of(b)}
        results = {}

        def move(client, state):
            results[state] = client.post("/__mdboard/cards/SKU-0001/move",
                                         data={"csrf": tokens[client], "to": state, "from": "planning"},
                                         headers={"Accept": "application/json"}).json()

        threads = [threading.Thread(target=move, args=(a, "shooting")), threading.Thread(target=move, args=(b, "content"))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    oks = [state for state, outcome in results.items() if outcome["ok"]]
    assert len(oks) == 1
    loser = next(outcome for outcome in results.values() if not outcome["ok"])
    assert "SKU-0001" in loser["message"]
    assert git(board, "rev-list", "--count", f"{before}..HEAD") == "1"
    assert git(board, "status", "--porcelain") == ""


def test_edits_to_different_fields_are_both_kept_and_a_clash_is_refused(local, board):
    with local.client() as a, local.client() as b:
        form_a = a.get("/__mdboard/cards/SKU-0001/edit").text
        form_b = b.get("/__mdboard/cards/SKU-0001/edit").text

        def fields(form_html, **changes):
            data = {name: value for name, value in re.findall(r'name="(csrf|version|was)" value="([^"]*)"', form_html)}
            data = {k: v.replace("&#34;", '"').replace("&quot;", '"') for k, v in data.items()}
            data.update(title="蓝牙耳机 上新", shown=["price", "category"])
            data.update({f"f.{k}": v for k, v in changes.items()})
            return data

        first = a.post("/__mdboard/cards/SKU-0001/edit", data=fields(form_a, price="199", category=""),
                       headers={"Accept": "application/json"})
        assert first.json()["ok"] is True
        second = b.post("/__mdboard/cards/SKU-0001/edit", data=fields(form_b, price="", category="耳机"),
                        headers={"Accept": "application/json"})
        assert second.json()["ok"] is True, second.json()
        text = (board / "sku/planning/SKU-0001.md").read_text("utf-8")
        assert "price: 199" in text and "category: 耳机" in text
        before = head(board)
        clash = b.post("/__mdboard/cards/SKU-0001/edit", data=fields(form_b, price="299", category="耳机"))
        assert clash.status_code == 409
        assert "299" in clash.text  # what the person typed is still in the form
        assert "价格" in clash.text
    assert_untouched(board, before)


def test_tick_and_note_are_the_cli_commits(local, board):
    with local.client() as client:
        token = csrf_of(client, "/cards/SKU-0001.html")
        ticked = client.post("/__mdboard/cards/SKU-0001/tick", data={"csrf": token, "item": "主图", "n": "1", "done": "1"},
                             headers={"Accept": "application/json"})
        assert ticked.json()["ok"] is True
        assert last_commit(board)[1:] == ("tick SKU-0001: 主图", "Card: SKU-0001\nAction: tick\nItem: 主图")
        noted = client.post("/__mdboard/cards/SKU-0001/note", data={"csrf": token, "text": "客户已回复"},
                            headers={"Accept": "application/json"})
        assert noted.json()["ok"] is True
    author, subject, body = last_commit(board)
    assert subject == "note SKU-0001: 客户已回复" and body == "Card: SKU-0001\nAction: note"
    text = (board / "sku/planning/SKU-0001.md").read_text("utf-8")
    assert "- [x] 主图" in text and "王丽" in text.split("## 备注", 1)[1] and "客户已回复" in text
    assert git(board, "status", "--porcelain") == ""


@pytest.mark.parametrize("type_key, fields, card_id", [
    ("sku", {"owner": "zhaomin", "platforms": ["douyin", "tmall"], "price": "199"}, "SKU-0002"),
    ("campaign", {"owner": "liuyang", "platform": "tmall", "signup_end": "2026-12-05"}, "CMP-0001"),
    ("issue", {"owner": "sunli", "due": "2026-11-27T18:00", "platform": "pdd", "order_no": "PDD-8812",
               "problem": "物流", "sku": "SKU-0001"}, "AS-0001"),
    ("asset", {"owner": "zhaomin", "kind": "主图", "skus": ["SKU-0001", ""]}, "MAT-0001"),
])
def test_a_card_of_each_type_made_from_its_form_opens_when_saved(local, board, type_key, fields, card_id):
    with local.client() as client:
        form = client.get(f"/__mdboard/new/{type_key}").text
        token = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
        shown = re.findall(r'name="shown" value="([^"]+)"', form)
        data = {"csrf": token, "title": "网页上新建的卡片", "shown": shown}
        data.update({f"f.{key}": value for key, value in fields.items()})
        answer = client.post(f"/__mdboard/new/{type_key}", data=data)
        assert answer.status_code == 303, answer.text
        assert answer.headers["location"] == f"/cards/{card_id}.html"
        page = client.get(answer.headers["location"])
    assert page.status_code == 200 and "网页上新建的卡片" in page.text  # its page exists at once
    author, subject, body = last_commit(board)
    assert author == "王丽 <wangli@example.com>" and subject == f"new {card_id}: 网页上新建的卡片"
    assert body.startswith(f"Card: {card_id}\nAction: new\nType: {type_key}\nTo: ")
    assert git(board, "status", "--porcelain") == ""


def test_a_bad_value_in_the_new_form_comes_back_with_the_field_named_and_nothing_written(local, board):
    before = head(board)
    with local.client() as client:
        form = client.get("/__mdboard/new/sku").text
        token = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
        answer = client.post("/__mdboard/new/sku", data={"csrf": token, "title": "价格写错了", "shown": ["owner", "price"],
                                                         "f.owner": "wangli", "f.price": "一百"})
    assert answer.status_code == 422
    assert "价格写错了" in answer.text and 'value="一百"' in answer.text
    assert "不是数字" in answer.text or "数字" in answer.text
    assert_untouched(board, before)


def test_what_a_card_says_stays_text_in_every_team_page(board, cli):
    hostile = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
    assert cli("new", "sku", hostile, "--owner", "wangli", "--set", f"category={hostile}").exit_code == 0
    running = TeamServer(board)
    try:
        with running.client() as client:
            for path in ("/cards/SKU-0001.html", "/__mdboard/cards/SKU-0001/edit", "/__mdboard/cards/SKU-0001/panel",
                         "/__mdboard/new/campaign"):
                page = client.get(path)
                assert page.status_code == 200, path
                assert "<script>alert(1)" not in page.text and "<img src=x" not in page.text, path
                assert '"><script' not in page.text, path
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in client.get("/__mdboard/cards/SKU-0001/edit").text
    finally:
        running.stop()


# --- refusals name the rule, and write nothing -----------------------------------------------------

JSON = {"Accept": "application/json"}


def test_a_drag_of_a_card_moved_meanwhile_says_where_it_is_now_and_writes_nothing(local, board, cli):
    assert cli("move", "SKU-0001", "shooting").exit_code == 0  # someone on the CLI, after the page was drawn
    before = head(board)
    with local.client() as client:
        token = csrf_of(client)
        answer = client.post("/__mdboard/cards/SKU-0001/move", data={"csrf": token, "to": "content", "from": "planning"},
                             headers=JSON)
    outcome = answer.json()
    assert answer.status_code == 409 and outcome["ok"] is False
    assert outcome["message"] == "SKU-0001 已经被王丽移到「拍摄中」（你拖动时它在「规划中」），这次没有移动"
    assert outcome["state"] == "shooting"  # team.js puts the tile where the card is now
    assert_untouched(board, before)


def test_a_move_into_a_full_column_names_the_wip_limit_and_may_be_forced_with_a_reason(local, board, cli):
    config = board / "mdboard.yaml"
    text = config.read_text("utf-8")
    assert "{key: shooting, label: 拍摄中, wip: 6}" in text
    config.write_text(text.replace("{key: shooting, label: 拍摄中, wip: 6}", "{key: shooting, label: 拍摄中, wip: 1}"), "utf-8")
    git(board, "commit", "-qam", "wip 1")
    assert cli("move", "SKU-0001", "shooting").exit_code == 0
    card = new_sku(cli, "第二副耳机")
    before = head(board)
    with local.client() as client:
        token = csrf_of(client)
        move = {"csrf": token, "to": "shooting", "from": "planning"}
        answer = client.post(f"/__mdboard/cards/{card}/move", data=move, headers=JSON)
        outcome = answer.json()
        assert answer.status_code == 422 and outcome["forcible"] is True
        assert [(p["message"], p["hint"]) for p in outcome["problems"]] == [
            ("「拍摄中」已有 1 张卡片，达到 WIP 上限 1", "先完成该列中的卡片，或写明原因后仍然移动")]
        assert_untouched(board, before)
        forced = client.post(f"/__mdboard/cards/{card}/move", data={**move, "reason": "大促前加急"}, headers=JSON)
    assert forced.json()["ok"] is True
    _, subject, body = last_commit(board)
    assert subject == f"move {card}: 规划中 → 拍摄中"
    assert "Forced: 大促前加急" in body and "Overrode: 「拍摄中」已有 1 张卡片，达到 WIP 上限 1" in body


def test_a_move_the_type_does_not_allow_names_where_the_card_may_go(local, board, cli):
    made = cli("new", "issue", "少发了耳机", "--owner", "sunli", "--set", "due=2026-11-27T18:00", "--set", "platform=pdd",
               "--set", "order_no=PDD-1", "--set", "problem=少件错发")
    assert made.exit_code == 0, made.output
    before = head(board)
    with local.client() as client:
        token = csrf_of(client)
        answer = client.post("/__mdboard/cards/AS-0001/move", data={"csrf": token, "to": "archived", "from": "new"},
                             headers=JSON)
    outcome = answer.json()
    assert answer.status_code == 422 and outcome["message"] == "AS-0001 没有移动"
    problem = outcome["problems"][0]
    assert problem["message"] == "不能从「新登记」移到「已归档」"
    assert problem["hint"] == "可以移到：「跟进中」、「已解决」"
    assert_untouched(board, before)


def test_a_hand_edit_on_the_server_is_never_swept_into_a_web_commit(local, board):
    path = board / "sku/planning/SKU-0001.md"
    edited = path.read_text("utf-8").replace("title: 蓝牙耳机 上新", "title: 手改的标题")
    path.write_text(edited, "utf-8")
    before = head(board)
    with local.client() as client:
        token = csrf_of(client, "/cards/SKU-0001.html")
        answer = client.post("/__mdboard/cards/SKU-0001/note", data={"csrf": token, "text": "客户已回复"}, headers=JSON)
    outcome = answer.json()
    assert answer.status_code == 409 and outcome["ok"] is False
    assert outcome["problems"][0]["message"] == "有还没提交的手工修改"
    assert "看板管理员" in outcome["problems"][0]["hint"] and "mdboard save SKU-0001" in outcome["problems"][0]["hint"]
    assert head(board) == before
    assert path.read_text("utf-8") == edited  # the hand edit stays as it was, nothing appended


# --- sessions ---------------------------------------------------------------------------------------


def test_signing_out_needs_the_token_and_ends_the_session(team, board):
    before = head(board)
    with team.client() as client:
        sign_in(client, "wangli")
        token = csrf_of(client)
        assert client.post("/__mdboard/signout", data={}).status_code == 403  # a page elsewhere cannot sign you out
        assert client.get("/index.html").status_code == 200
        answer = client.post("/__mdboard/signout", data={"csrf": token})
        assert answer.status_code == 303 and answer.headers["location"] == "/__mdboard/signin"
        assert client.get("/index.html").status_code == 303
        late = client.post("/__mdboard/cards/SKU-0001/move", data={"csrf": token, "to": "shooting"}, headers=JSON)
        assert late.status_code in (401, 403) and late.json()["ok"] is False
    assert_untouched(board, before)


def test_behind_an_https_proxy_on_this_computer_the_cookie_is_secure(local):
    with local.client() as client:
        cookie = client.get("/index.html", headers={"X-Forwarded-Proto": "https"}).headers["set-cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie


def test_a_terminal_that_went_away_never_stops_an_action_or_the_pages(board, cli):
    """The server's window closed, or `mdboard serve --team | head` ended: its lines cannot be
    written any more, and the board goes on (no 500 after a commit, no rebuild thread lost)."""
    new_sku(cli)

    def gone(line):
        raise BrokenPipeError(32, "Broken pipe")

    opened = Board.open(str(board))
    site = make_live_site(opened, board / "_site", gone)
    server, team = make_server(opened, site, "127.0.0.1", 0, gone, team=True)
    site.start()
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            token = csrf_of(client, "/cards/SKU-0001.html")
            answer = client.post("/__mdboard/cards/SKU-0001/move", data={"csrf": token, "to": "shooting", "from": "planning"})
            assert answer.status_code == 303
            assert "已把 SKU-0001 移到「拍摄中」" in client.get("/cards/SKU-0001.html").text
    finally:
        server.stop()
        team.close()
        site.stop()
    assert last_commit(board)[1] == "move SKU-0001: 规划中 → 拍摄中"


class HeldBuilder:
    """The real site builder whose rebuilds wait until `release` is set: the pages stay as
    they were before an action for as long as a test wants (a big board's slow rebuild)."""

    def __init__(self, board, out_dir):
        from mdboard.site.builder import SiteBuilder

        self.real = SiteBuilder(board, out_dir)
        self.out_dir = self.real.out_dir
        self.release = threading.Event()
        self.started = 0

    def build_all(self):
        return self.real.build_all()

    def rebuild(self, paths, early=None):
        self.started += 1
        self.release.wait(60)
        return self.real.rebuild(paths)  # no early pages: tabs are told once, when the rebuild ends


def test_other_pages_hear_of_a_move_when_it_is_committed_not_after_the_rebuild(board, cli):
    new_sku(cli)
    held = HeldBuilder(Board.open(str(board)), board / "_site")
    running = TeamServer(board, builder=held)
    try:
        with running.client() as watcher, running.client() as mover:
            version = re.search(r'data-version="([^"]*)"', watcher.get("/types/sku.html").text).group(1)
            token = csrf_of(mover)
            with watcher.stream("GET", f"/__mdboard/events?v={version}") as stream:
                lines = stream.iter_lines()
                assert next(lines).startswith("retry:")
                moved = mover.post("/__mdboard/cards/SKU-0001/move", data={"csrf": token, "to": "shooting", "from": "planning"},
                                   headers={"Accept": "application/json"}).json()
                assert moved["ok"], moved
                event = [line for line in (next(lines), next(lines), next(lines)) if line]
                assert running.site.rebuilds == 0  # the pages are not rebuilt yet
        assert event[0] == "event: card"
        assert json.loads(event[1].removeprefix("data: ")) == {"id": "SKU-0001", "state": "shooting",
                                                               "commit": head(board)}
    finally:
        held.release.set()
        running.stop()


def test_a_link_field_lists_no_cards_and_its_pick_finds_them_as_typed(local, board, cli):
    new_sku(cli, "充电宝 上新")
    with local.client() as client:
        form = client.get("/__mdboard/new/issue").text
        assert 'data-pick="sku"' in form
        assert "SKU-0002" not in form and "<datalist" not in form  # a big board's cards are never listed
        found = lambda q: client.get("/__mdboard/find", params={"type": "sku", "q": q})
        assert found("").json() == [{"id": "SKU-0002", "title": "充电宝 上新"},
                                    {"id": "SKU-0001", "title": "蓝牙耳机 上新"}]  # newest first
        assert found("耳机").json() == [{"id": "SKU-0001", "title": "蓝牙耳机 上新"}]
        assert found("sku-0002").json() == [{"id": "SKU-0002", "title": "充电宝 上新"}]
        assert found("上新 充电").json() == [{"id": "SKU-0002", "title": "充电宝 上新"}]
        assert found("没有这张").json() == []
        assert client.get("/__mdboard/find", params={"type": "nope", "q": ""}).status_code == 404


def test_the_pick_answers_a_few_cards_however_many_match():
    from types import SimpleNamespace

    from mdboard.serve.forms import MAX_FOUND, find_cards

    cards = [SimpleNamespace(id=f"SKU-{n:04d}", title=f"耳机 {n}", type="sku", error=None) for n in range(1, 1001)]
    cards.append(SimpleNamespace(id="AS-0001", title="耳机 售后", type="issue", error=None))
    board = SimpleNamespace(cards=lambda: cards)
    found = find_cards(board, "sku", "耳机")
    assert len(found) == MAX_FOUND and found[0]["id"] == "SKU-1000" and found[-1]["id"] == f"SKU-{1001 - MAX_FOUND:04d}"
    assert [c["id"] for c in find_cards(board, "sku", "sku-0007")] == ["SKU-0007"]


def test_the_pick_needs_a_session(team):
    with team.client() as client:
        assert client.get("/__mdboard/find", params={"type": "sku", "q": ""}).status_code == 403


def test_a_card_page_read_while_its_card_moves_still_shows_the_panel(local, monkeypatch):
    """Pages are read on their own thread while the writer commits: a card moved between
    the folder listing and the file read is read again, never a broken page."""
    from mdboard.serve.team import TeamBoard

    real = TeamBoard._panel_html
    calls = []

    def moving(self, *args):
        calls.append(args[0])
        if len(calls) == 1:
            raise FileNotFoundError(2, "moved meanwhile", "sku/planning/SKU-0001.md")
        return real(self, *args)

    monkeypatch.setattr(TeamBoard, "_panel_html", moving)
    with local.client() as client:
        page = client.get("/cards/SKU-0001.html")
    assert page.status_code == 200 and 'id="mdb-panel"' in page.text
    assert calls == ["SKU-0001", "SKU-0001"]


# --- the writer: actions waiting together share one batch ------------------------------------


def test_actions_waiting_while_the_writer_works_share_one_branch_move(board, monkeypatch):
    """While one job runs, three actions queue up: they run next in one batch (one
    update-index, one update-ref), each its own commit by its own person, each answered
    with its commit; a job that raises hands its error to whoever waits for it."""
    from mdboard.domain import ops
    from mdboard.git import changes
    from mdboard.serve.writer import Writer

    Cli(board).ok("new", "sku", "数据线", "--owner", "liuyang")
    Cli(board).ok("new", "sku", "充电宝", "--owner", "liuyang")
    moved, real = [], changes.GitRepo.run

    def run(self, *args, **kw):
        moved.extend(a for a in args[:1] if a in ("update-ref", "update-index"))
        return real(self, *args, **kw)

    monkeypatch.setattr(changes.GitRepo, "run", run)
    own = Board.open(str(board))
    writer = Writer(lambda: own, lambda value, error: ("lost", error))
    busy, go = threading.Event(), threading.Event()
    first = writer.submit(lambda: (busy.set(), go.wait(10)))
    busy.wait(10)
    who = [ops.Actor("zhaomin", "赵敏", "zhaomin@example.com"), ops.Actor("wangli", "王丽", "wangli@example.com")]
    jobs = [writer.submit(ops.set_fields, own, "SKU-0001", ["price=29"], who[0]),
            writer.submit(ops.move_card, own, "SKU-0002", "shooting", who[1]),
            writer.submit(ops.move_card, own, "SKU-0404", "shooting", who[1])]
    go.set()
    first.result(10)
    one, two = jobs[0].result(10), jobs[1].result(10)
    with pytest.raises(MdboardError):
        jobs[2].result(10)
    writer.shutdown()
    assert moved == ["update-index", "update-ref"]
    assert git(board, "log", "-2", "--format=%H|%an|%s").split("\n") == [
        f"{two.commit}|王丽|move SKU-0002: 规划中 → 拍摄中", f"{one.commit}|赵敏|set SKU-0001: price=29"]
    assert git(board, "status", "--porcelain") == ""


def test_an_action_submitted_as_the_writer_stops_is_answered_never_left_waiting(board):
    """The stop sign lands between the writer's look at whether it is stopping and the job's
    queueing: the job still runs (it was taken before the stop), and one submitted after
    the stop is refused at once with a message - neither waits for ever."""
    from mdboard.serve.writer import Writer

    own = Board.open(str(board))
    writer = Writer(lambda: own, lambda value, error: ("lost", error))
    real, stopper = writer._queue, threading.Thread(target=writer.shutdown)

    class StopLandsFirst:
        def put(self, item):
            if item is not None and stopper.ident is None:
                stopper.start()
                stopper.join(0.5)  # the stop goes as far as it can meanwhile
            real.put(item)

        def get(self):  # the writer's thread waits here for its next job (and the stop sign)
            return real.get()

        def get_nowait(self):
            return real.get_nowait()

    writer._queue = StopLandsFirst()
    late = writer.submit(lambda: "done")
    stopper.join(10)
    assert late.result(10) == "done"
    after = writer.submit(lambda: "never")
    with pytest.raises(MdboardError) as caught:
        after.result(1)
    assert str(caught.value) == STOPPING


def test_an_action_posted_while_the_server_stops_gets_a_message_and_changes_nothing(local, board):
    before = head(board)
    with local.client() as client:
        token = csrf_of(client, "/cards/SKU-0001.html")
        local.team.writer.shutdown()  # the writer is told to stop first, the web side last
        answer = client.post("/__mdboard/cards/SKU-0001/move", data={"csrf": token, "to": "shooting"},
                             headers={"Accept": "application/json"})
    assert answer.status_code == 503 and answer.json()["message"] == STOPPING
    assert_untouched(board, before)



STOPPING_PAGE = "服务器正在停止：等服务器重新启动后再刷新页面"


@pytest.mark.parametrize("path", ["/cards/SKU-0001.html", "/__mdboard/cards/SKU-0001/panel",
                                  "/__mdboard/new/sku", "/__mdboard/cards/SKU-0001/edit", "/__mdboard/find?type=sku&q=SKU"])
def test_a_page_asked_for_while_the_server_stops_gets_a_message_not_an_error(local, board, path):
    """The team board's threads are told to stop while the web side still answers (the reader
    of card data is gone): a page that needs it is answered 503 with what is happening and
    what to do, never a server error, and nothing is changed."""
    before = head(board)
    with local.client() as client:
        csrf_of(client, "/cards/SKU-0001.html")
        local.team.close()
        answer = client.get(path)
    assert answer.status_code == 503, answer.text
    assert STOPPING_PAGE in answer.text
    assert_untouched(board, before)


NOT_SAVED = "没有保存：No space left on device（卡片保持原样；检查磁盘空间和文件夹权限后再做一次）"


def full_disk(monkeypatch, where: str) -> None:
    """ENOSPC from the moment named on: "tip" (the batch's journal line before its branch
    moves), "card" (writing SKU-0001's file), "tip-on" (that line and every write after)."""
    import errno
    import os

    from mdboard.git import changes

    real_write, real_atomic_write, filled = os.write, changes.atomic_write, []

    def write(fd, data):
        if bytes(data[:7]) == b'{"tip":':
            filled.append(True)
        if filled and (where != "tip" or bytes(data[:7]) == b'{"tip":'):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    def atomic_write(path, data, sync=True):
        if (where == "card" and path.name == "SKU-0001.md") or (where == "tip-on" and filled):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_atomic_write(path, data, sync)

    monkeypatch.setattr(os, "write", write)
    monkeypatch.setattr(changes, "atomic_write", atomic_write)


def post_note(client, token: str, text: str = "客户已回复") -> dict:
    answer = client.post("/__mdboard/cards/SKU-0001/note", data={"csrf": token, "text": text},
                         headers={"Accept": "application/json"})
    return answer.json()


@pytest.mark.parametrize("where", ["tip", "card"])
def test_a_note_the_full_disk_stops_is_put_back_and_told_not_saved(local, board, monkeypatch, where):
    """The disk fills up as the batch is recorded (its journal's last line), or as the card
    itself is written: the person is told the note was not saved, and it is not - not now,
    and not after the next action (which would finish what a journal holds); the note sent
    again is there once."""
    from mdboard.git import changes

    card = board / "sku/planning/SKU-0001.md"
    before, text = head(board), card.read_text("utf-8")
    with local.client() as client:
        token = csrf_of(client, "/cards/SKU-0001.html")
        full_disk(monkeypatch, where)
        noted = post_note(client, token)
        monkeypatch.undo()
        assert (noted["ok"], noted["message"]) == (False, NOT_SAVED)
        assert_untouched(board, before)
        assert card.read_text("utf-8") == text and not changes.batch_journal(Board(board)).exists()
        assert post_note(client, token)["ok"] is True
    assert card.read_text("utf-8").count("客户已回复") == 1
    assert git(board, "log", "--format=%s", f"{before}..HEAD").split("\n") == ["note SKU-0001: 客户已回复"]
    assert git(board, "status", "--porcelain") == ""


def test_a_note_that_cannot_be_put_back_either_is_told_written_and_recorded_by_the_next_action(
        local, board, monkeypatch):
    """The disk stays full while the batch's files are put back: the person is told the note
    is written and will be recorded, and the next action records it, once."""
    before = head(board)
    with local.client() as client:
        token = csrf_of(client, "/cards/SKU-0001.html")
        full_disk(monkeypatch, "tip-on")
        noted = post_note(client, token)
        monkeypatch.undo()
        assert noted["message"] == "卡片已改好，但还没记入 git 历史：No space left on device（下一个操作会自动补记，不要再做一次）"
        ticked = client.post("/__mdboard/cards/SKU-0001/tick", data={"csrf": token, "item": "主图", "n": "1", "done": "1"},
                             headers={"Accept": "application/json"})
        assert ticked.json()["ok"] is True
    assert (board / "sku/planning/SKU-0001.md").read_text("utf-8").count("客户已回复") == 1
    assert git(board, "log", "--format=%an|%s", f"{before}..HEAD").split("\n") == [
        "王丽|tick SKU-0001: 主图", "王丽|note SKU-0001: 客户已回复"]
    assert git(board, "status", "--porcelain") == ""


def test_a_note_whose_journal_finds_no_room_is_told_not_saved(local, board, monkeypatch):
    """The disk is full as the batch's journal is begun (before any card is written): the
    person is told the note was not saved - which is what happened - not that a change cut
    short will be finished."""
    import errno

    from mdboard.git import changes

    real_atomic_write = changes.atomic_write

    def atomic_write(path, data, sync=True):
        if path == changes.batch_journal(Board(board)):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_atomic_write(path, data, sync)

    before = head(board)
    with local.client() as client:
        token = csrf_of(client, "/cards/SKU-0001.html")
        monkeypatch.setattr(changes, "atomic_write", atomic_write)
        noted = post_note(client, token)
    assert (noted["ok"], noted["message"]) == (False, NOT_SAVED)
    assert_untouched(board, before)


def test_a_disk_error_an_action_meets_is_told_in_words_on_the_web(local, board, monkeypatch):
    """An OSError an action meets (here: with no file name) reads on the web as on the
    command line - what failed and what to do - not as a message key."""
    import errno

    from mdboard.git import changes

    def no_room(self, change):
        raise OSError(errno.ENOSPC, "No space left on device")

    with local.client() as client:
        token = csrf_of(client, "/cards/SKU-0001.html")
        monkeypatch.setattr(changes.Batch, "add", no_room)
        noted = post_note(client, token)
    assert noted["message"] == ("无法写入文件：No space left on device"
                                "（检查磁盘空间和文件夹权限；已写入的修改会在下一条命令时补完）")


def test_a_roster_name_changed_in_the_tick_the_server_read_it_names_the_author_as_it_is_now(team, board):
    """The server reads mdboard.yaml again when its stamp changes; a name rewritten with as
    many bytes in the tick the server read it in is read again too: the commit names the
    person as the roster says now."""
    import os
    import time

    cfg = board / "mdboard.yaml"
    moment = time.time_ns() + 3_000_000_000  # a time the clock has not passed: this very tick
    os.utime(cfg, ns=(moment, moment))
    with team.client() as client:
        sign_in(client, "zhaomin")
        token = csrf_of(client, "/cards/SKU-0001.html")  # the server reads the roster: 赵敏
        cfg.write_text(cfg.read_text("utf-8").replace("{name: 赵敏,", "{name: 赵明,"), "utf-8")  # same size
        os.utime(cfg, ns=(moment, moment))  # the same tick
        git(board, "commit", "-q", "-am", "改名")
        answer = client.post("/__mdboard/cards/SKU-0001/move", data={"csrf": token, "to": "shooting"},
                             headers={"Accept": "application/json"})
    assert answer.json()["ok"] is True, answer.text
    assert last_commit(board)[0] == "赵明 <zhaomin@example.com>"


SAVED_NOT_RECORDED = "卡片已改好，但还没记入 git 历史：No space left on device（下一个操作会自动补记，不要再做一次）"


def batch_of_three(board, second_breaks) -> list:
    """Three actions that wait together while the writer is busy, so they share one batch:
    赵敏 sets SKU-0001's price, 王丽 SKU-0002's, 刘洋 SKU-0003's. `second_breaks()` runs just
    before the second is applied. What each was answered (its result, or its error's words)."""
    from mdboard.domain import ops
    from mdboard.serve.writer import Writer

    own = Board.open(str(board))
    writer = Writer(lambda: own, lambda value, error: ("lost", error.message))
    busy, go = threading.Event(), threading.Event()
    first = writer.submit(lambda: (busy.set(), go.wait(10)))
    busy.wait(10)

    def second(*args):
        second_breaks()
        return ops.set_fields(*args)

    who = {key: ops.Actor(key, name, f"{key}@example.com") for key, name in
           (("zhaomin", "赵敏"), ("wangli", "王丽"), ("liuyang", "刘洋"))}
    jobs = [writer.submit(ops.set_fields, own, "SKU-0001", ["price=11"], who["zhaomin"]),
            writer.submit(second, own, "SKU-0002", ["price=22"], who["wangli"]),
            writer.submit(ops.set_fields, own, "SKU-0003", ["price=33"], who["liuyang"])]
    go.set()
    first.result(10)
    answers = []
    for job in jobs:
        try:
            value = job.result(10)
            answers.append(value if isinstance(value, tuple) else "saved")
        except MdboardError as exc:
            answers.append(exc.message)
    writer.shutdown()
    return answers


def no_room(monkeypatch, path_commit: bool, writes: int) -> dict:
    """From the moment it is called (`path_commit`: from the moment the next commit object
    cannot be stored), the next `writes` card writes or journal tip lines fail for lack of
    room; then the room is back (the patches stay, spent: `monkeypatch.undo` would undo the
    test's own git identity too)."""
    import errno

    from mdboard.git import changes
    from mdboard.git.commit import PathCommit

    left = {"make": int(path_commit), "writes": writes}
    real_make, real_atomic_write, real_write = PathCommit.make, changes.atomic_write, os.write

    def full():
        return OSError(errno.ENOSPC, "No space left on device")

    def make(self, *args, **kwargs):
        if left["make"]:
            left["make"] -= 1
            raise full()
        return real_make(self, *args, **kwargs)

    def atomic_write(path, data, sync=True):
        if left["writes"] and not left["make"]:
            left["writes"] -= 1
            raise full()
        return real_atomic_write(path, data, sync)

    def write(fd, data):
        if left["writes"] and not left["make"] and bytes(data[:7]) == b'{"tip":':
            left["writes"] -= 1
            raise full()
        return real_write(fd, data)

    monkeypatch.setattr(PathCommit, "make", make)
    monkeypatch.setattr(changes, "atomic_write", atomic_write)
    monkeypatch.setattr(os, "write", write)
    return left


def three_cards(cli) -> None:
    for title in ("一", "二", "三"):
        cli.ok("new", "sku", title, "--owner", "wangli")


def test_a_change_whose_commit_and_put_back_both_fail_is_told_saved_and_recorded_by_the_next_action(
        board, cli, monkeypatch):
    """The disk fills up as the second action's commit is stored, and its card cannot be put
    back either (the first write needing room fails); then there is room again. The second
    action is told its change is written and will be recorded, and so is the first (pending
    in the same batch, now left to the journal with it); the third, not begun, is told it
    was not saved. The next command records the first two, each as its person - nothing
    half done, nothing told otherwise than it is."""
    three_cards(cli)
    before = head(board)
    answers = batch_of_three(board, lambda: no_room(monkeypatch, path_commit=True, writes=1))
    assert answers == [("lost", SAVED_NOT_RECORDED), SAVED_NOT_RECORDED, NOT_SAVED]
    cli.ok("assign", "SKU-0003", "chenjing")
    assert git(board, "log", "--format=%an|%s", f"{before}..HEAD").split("\n") == [
        "王丽|assign SKU-0003: owner=chenjing", "王丽|set SKU-0002: price=22", "赵敏|set SKU-0001: price=11"]
    assert "price: 33" not in (board / "sku/planning/SKU-0003.md").read_text("utf-8")
    assert git(board, "status", "--porcelain") == ""


def test_a_batch_recorded_halfway_whose_put_back_fails_leaves_its_journal_to_the_next_action(
        board, cli, monkeypatch):
    """The second action meets a card edited by hand, so what the batch holds so far is
    recorded first - and the disk is full for that (the journal's last line) and for
    putting the first action's card back. The first action is told its change is written
    and will be recorded; the second and third (room again by then) that they were not
    saved. The third never writes a journal over the first's: the next command records the
    first, as 赵敏, and the hand edit stays as it was."""
    three_cards(cli)
    card = board / "sku/planning/SKU-0002.md"
    card.write_text(card.read_text("utf-8").replace("title: 二", "title: 二（手改）"), "utf-8")
    edited, before = card.read_text("utf-8"), head(board)
    answers = batch_of_three(board, lambda: no_room(monkeypatch, path_commit=False, writes=2))
    assert answers == [("lost", SAVED_NOT_RECORDED), NOT_SAVED, NOT_SAVED]
    cli.ok("assign", "SKU-0003", "chenjing")
    assert git(board, "log", "--format=%an|%s", f"{before}..HEAD").split("\n") == [
        "王丽|assign SKU-0003: owner=chenjing", "赵敏|set SKU-0001: price=11"]
    assert card.read_text("utf-8") == edited
    assert git(board, "status", "--porcelain") == "M sku/planning/SKU-0002.md"


def test_a_note_recorded_when_git_cannot_be_started_is_put_back_and_told_not_saved(local, board, monkeypatch):
    """git cannot be started from the batch's `update-index` on (no process left to fork): the
    files are put back, and unstaging (git again) fails too. The person is told the note was
    not saved, and it is not - not after the next action either (no journal left to finish);
    the note sent again is there once."""
    import errno

    from mdboard.git import changes

    real_run, broken = changes.GitRepo.run, []

    def run(self, *args, **kwargs):
        if args[:1] == ("update-index",):
            broken.append(True)
        if broken:
            raise OSError(errno.EAGAIN, "Resource temporarily unavailable")
        return real_run(self, *args, **kwargs)

    card = board / "sku/planning/SKU-0001.md"
    before, text = head(board), card.read_text("utf-8")
    with local.client() as client:
        token = csrf_of(client, "/cards/SKU-0001.html")
        monkeypatch.setattr(changes.GitRepo, "run", run)
        noted = post_note(client, token)
        monkeypatch.undo()
        assert broken
        assert (noted["ok"], noted["message"]) == (
            False, "没有保存：Resource temporarily unavailable（卡片保持原样；检查磁盘空间和文件夹权限后再做一次）")
        assert card.read_text("utf-8") == text and not changes.batch_journal(Board(board)).exists()
        assert post_note(client, token)["ok"] is True
    assert card.read_text("utf-8").count("客户已回复") == 1
    assert git(board, "log", "--format=%s", f"{before}..HEAD").split("\n") == ["note SKU-0001: 客户已回复"]
    assert git(board, "status", "--porcelain") == ""


# --- the site builder's own process -----------------------------------------------------------


def builder_process(site) -> int:
    """The id of the process the live site's builder runs in (checked to be one of ours)."""
    pid = site.builder.pid
    assert pid is not None and pid != os.getpid() and pid in children_of(os.getpid())
    assert "mdboard.cli.builder_child" in Path(f"/proc/{pid}/cmdline").read_text()
    return pid


def column_in_the_built_site(board: Path, card_id: str) -> str:
    """The state whose column holds the card on the SKU board the builder wrote."""
    page = (board / "_site/types/sku.html").read_text("utf-8")
    columns = re.split(r'<section class="column[^"]*" data-column="', page)[1:]
    return next(column.split('"', 1)[0] for column in columns if f"{card_id}.html" in column.split("</section>")[0])


def move_and_wait_for_the_rebuild(running: TeamServer) -> None:
    """Move SKU-0001 planning -> shooting over HTTP and wait for the rebuild that follows."""
    with running.client() as client:
        token = csrf_of(client, "/cards/SKU-0001.html")
        moved = client.post("/__mdboard/cards/SKU-0001/move", data={"csrf": token, "to": "shooting", "from": "planning"},
                            headers={"Accept": "application/json"}).json()
        assert moved["ok"], moved
        wait_until(lambda: running.site.rebuilds >= 1, "the rebuild after the move")
        assert client.get("/types/sku.html").status_code == 200


def test_the_pages_are_built_and_rebuilt_in_a_process_of_its_own(local, board):
    pid = builder_process(local.site)
    assert column_in_the_built_site(board, "SKU-0001") == "planning"
    move_and_wait_for_the_rebuild(local)
    assert column_in_the_built_site(board, "SKU-0001") == "shooting"
    assert local.site.failure == "" and local.site.builder.restarts == 0
    assert local.site.builder.pid == pid  # the same process rebuilt (it is not started per rebuild)
    assert any(line.startswith("已更新：2 个文件有变化") for line in local.lines), local.lines


def test_the_builder_process_hands_over_the_early_pages_then_the_report(board, cli):
    from mdboard.serve.builder_process import ProcessBuilder

    new_sku(cli)
    lines: list[str] = []
    builder = ProcessBuilder(Board.open(str(board)), board / "_site", lines.append)
    try:
        full = builder.build_all()
        pid = builder.pid
        assert "cards/SKU-0001.html" in full.written and full.pages == len(full.written)
        path = next(board.glob("sku/*/SKU-0001.md"))
        path.write_text(path.read_text("utf-8").replace("蓝牙耳机 上新", "子进程里改的标题"), "utf-8")
        early: list[list[str]] = []
        report = builder.rebuild({"sku/planning/SKU-0001.md"}, early=early.append)
    finally:
        builder.close()
    assert len(early) == 1 and "cards/SKU-0001.html" in early[0]
    assert set(early[0]) <= set(report.written) and len(report.written) > len(early[0])
    assert "子进程里改的标题" in (board / "_site/cards/SKU-0001.html").read_text("utf-8")
    assert builder.pid is None and ended(pid) and lines == []


def test_a_failed_build_in_the_builder_process_reads_as_it_did_in_the_server(board, cli):
    """A broken mdboard.yaml fails the rebuild in the child; the server's banner and line say
    exactly what the builder running in the server said, and a fix rebuilds as before."""
    from mdboard.serve.builder_process import ProcessBuilder
    from mdboard.site.builder import SiteBuilder

    config = board / "mdboard.yaml"
    text = config.read_text("utf-8")
    said = []
    for make in (lambda b: SiteBuilder(b, board / "_site"), lambda b: ProcessBuilder(b, board / "_site", said.append)):
        builder = make(Board.open(str(board)))
        builder.build_all()
        config.write_text(text + "\n  : [unclosed\n", "utf-8")
        with pytest.raises(MdboardError) as failed:
            builder.rebuild({"mdboard.yaml"})
        said.append(describe_failure(failed.value))
        config.write_text(text, "utf-8")
        assert builder.rebuild({"mdboard.yaml"}).problems == []
        if isinstance(builder, ProcessBuilder):
            builder.close()
    assert said[0] == said[1] and said[0].startswith("mdboard.yaml: YAML 格式错误")


def test_a_killed_builder_process_is_started_again_with_a_full_build_and_a_line(local, board):
    pid = builder_process(local.site)
    assert column_in_the_built_site(board, "SKU-0001") == "planning"
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: ended(pid), "the builder process to die")
    move_and_wait_for_the_rebuild(local)
    assert column_in_the_built_site(board, "SKU-0001") == "shooting"
    assert "生成网页的后台进程意外退出（退出码 -9），已重新启动并重新生成了整个网站。" in local.lines
    assert local.site.failure == "" and local.site.builder.restarts == 1
    again = builder_process(local.site)
    assert again != pid


def test_no_builder_process_is_left_when_the_server_stops(board, cli):
    new_sku(cli)
    running = TeamServer(board)
    pid = builder_process(running.site)
    running.stop()
    assert ended(pid) and running.site.builder.pid is None
    assert pid not in children_of(os.getpid())


def test_an_output_folder_that_would_hold_the_board_is_refused_before_any_process_starts(board):
    from mdboard.site.builder import SiteBuilder

    opened = Board.open(str(board))
    before = children_of(os.getpid())
    with pytest.raises(MdboardError) as in_server:
        SiteBuilder(opened, board.parent)
    with pytest.raises(MdboardError) as served:
        make_live_site(opened, board.parent, lambda line: None)
    assert str(served.value) == str(in_server.value)
    assert children_of(os.getpid()) == before


def test_a_builder_process_still_building_when_the_server_stops_is_killed_and_not_started_again(board, cli,
                                                                                                   monkeypatch):
    """The server stops while a rebuild still runs (held here at its early pages): the child
    is killed, that rebuild ends (with a message, unless the child had already sent its
    report), and no new child is started, then or for a later rebuild."""
    from concurrent.futures import ThreadPoolExecutor

    from mdboard.serve import builder_process
    from mdboard.serve.builder_process import ProcessBuilder

    new_sku(cli)
    monkeypatch.setattr(builder_process, "STOP_WAIT_SECONDS", 0.2)
    builder = ProcessBuilder(Board.open(str(board)), board / "_site", lambda line: None)
    builder.build_all()
    pid = builder.pid
    early, release = threading.Event(), threading.Event()
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(builder.rebuild, {"sku/planning/SKU-0001.md"},
                              lambda pages: (early.set(), release.wait(DEADLINE)))
        assert early.wait(DEADLINE)
        builder.close()
        wait_until(lambda: ended(pid), "the builder process to be killed")
        release.set()
        try:
            running.result(DEADLINE)  # its report, when the child had sent it before it was killed
        except MdboardError as stopped:
            assert str(stopped) == "服务正在停止，网站不再重新生成。"
    assert ended(pid)
    with pytest.raises(MdboardError) as later:
        builder.rebuild({"sku/planning/SKU-0001.md"})
    assert str(later.value) == "服务正在停止，网站不再重新生成。"
    assert builder.restarts == 0 and builder.pid is None and pid not in children_of(os.getpid())
