"""Shared test fixtures: a real git repository with a real board in tmp_path.

Every test runs with its own git identity (no global config leaks in), with "now"
fixed to 2026-11-25 09:00 Asia/Shanghai (MDBOARD_NOW), and in zh-CN unless a test
says otherwise.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from mdboard.core import i18n
from mdboard.cli.main import main

REPO = Path(__file__).resolve().parent.parent
CORPUS = Path(__file__).resolve().parent / "corpus"
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


def isolate(monkeypatch, home: Path) -> None:
    """Own git identity (in `home`), fixed clock, default language, no board from the outside."""
    gitconfig = home / ".gitconfig"
    gitconfig.write_text("[user]\n\tname = 王丽\n\temail = wangli@example.com\n"
                         "[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n", "utf-8")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("MDBOARD_NOW", NOW)
    for var in ("MDBOARD_BOARD", "MDBOARD_AS", "MDBOARD_LANG", "EDITOR", "VISUAL", "XDG_CACHE_HOME",
                "GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE"):
        monkeypatch.delenv(var, raising=False)
    i18n.set_language(None)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory, monkeypatch):
    """Every test: its own home and git identity, fixed clock, default language (`isolate`)."""
    isolate(monkeypatch, tmp_path_factory.mktemp("home"))
    yield
    i18n.set_language(None)


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch):
    """Passwords hashed in this process cost scrypt n=2**10 instead of accounts.SCRYPT's 2**14
    (~1 ms instead of ~50 ms: the team tests sign in hundreds of times). Tests only: mdboard
    itself has no switch for it, a stored hash carries its own cost (which `password_matches`
    reads back), and `test_passwords_are_hashed_at_full_cost_outside_the_tests` checks the real
    cost in a process of its own. Servers the tests start as processes hash at full cost."""
    from mdboard.serve import accounts

    monkeypatch.setattr(accounts, "SCRYPT", {**accounts.SCRYPT, "n": 2 ** 10})


def make_template(tmp_path_factory, name: str, make) -> Path:
    """`make(root, monkeypatch)` run once (per xdist worker) in an isolated environment of its own; returns `root`.

    The fixtures below copy such a template per test (`copy_board`) instead of building the
    same board again: a copied repository is a real repository, and every test owns its copy.
    It is left as built (loose objects, no pack: tests/test_path_commit.py counts on that).
    """
    root = tmp_path_factory.mktemp(f"template-{name}") / "board"
    with pytest.MonkeyPatch.context() as mp:
        isolate(mp, root.parent)
        make(root, mp)
    i18n.set_language(None)
    return root


def copy_board(template_root: Path, root: Path) -> Path:
    """A copy of a template board (work tree and `.git`, links kept as links) at `root`."""
    shutil.copytree(template_root, root, symlinks=True)
    return root


def git(root: Path, *args: str) -> str:
    """Run git in `root` and return its stdout (fails the test on error)."""
    proc = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def written_a_while_ago(root: Path, seconds: int = 60) -> None:
    """Move every card file's mtime `seconds` back: caches trust only a file read after the
    tick it was written in (`fsutil.settled`), and a test that means a warm cache must not
    depend on how fast the machine got from writing the cards to reading them."""
    for path in root.glob("*/**/*.md"):
        moment = path.stat().st_mtime_ns - seconds * 1_000_000_000
        os.utime(path, ns=(moment, moment))


def with_roster(config_text: str) -> str:
    """The default config with the test team in place of the placeholder person."""
    head, _, rest = config_text.partition("\npeople:\n")
    _, _, tail = rest.partition("\ntypes:\n")
    return head + "\n" + ROSTER.strip() + "\n\ntypes:\n" + tail


def init_board(root: Path) -> Path:
    """`mdboard init` (zh-CN) at `root`, the placeholder person replaced by the test team in a second commit."""
    result = CliRunner().invoke(main, ["init", str(root)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    cfg = root / "mdboard.yaml"
    cfg.write_text(with_roster(cfg.read_text("utf-8")), "utf-8")
    git(root, "commit", "-qam", "roster")
    return root


@pytest.fixture(scope="session")
def board_template(tmp_path_factory) -> Path:
    """`init_board`, once per worker (never handed to a test: `board` copies it)."""
    return make_template(tmp_path_factory, "board", lambda root, mp: init_board(root))


@pytest.fixture
def board(tmp_path, board_template) -> Path:
    """A fresh default (zh-CN) board with the test team, committed in its own repository."""
    return copy_board(board_template, tmp_path / "board")


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

    def ok(self, *args: str, input: str | None = None):
        """CliRunner like calling the Cli, failing the test unless the command succeeds."""
        result = self(*args, input=input)
        assert result.exit_code == 0, (args, result.output)
        return result

    def proc_ok(self, *args: str, env: dict | None = None, input: str | None = None):
        """The console script like `proc`, failing the test unless it exits 0."""
        proc = self.proc(*args, env=env, input=input)
        assert proc.returncode == 0, (args, proc.stdout[-2000:], proc.stderr[-2000:])
        return proc

    def proc(self, *args: str, env: dict | None = None, input: str | None = None):
        """The installed console script as a subprocess; returns CompletedProcess."""
        exe = Path(sys.executable).with_name("mdboard")
        return subprocess.run([str(exe), *map(str, args)], cwd=self.root, capture_output=True, text=True,
                              env={**os.environ, **(env or {})}, input=input)


@pytest.fixture
def cli(board) -> Cli:
    return Cli(board)


# --- the bundled demo board ----------------------------------------------------------------

def copy_demo(root: Path) -> Path:
    """The demo board (`mdboard/domain/demo_board/`) copied to `root` as its own repository, one commit."""
    shutil.copytree(REPO / "mdboard/domain/demo_board", root)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "demo board")
    return root


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory) -> Path:
    """`copy_demo`, once per worker (never handed to a test: `demo_board` copies it)."""
    return make_template(tmp_path_factory, "demo", lambda root, mp: copy_demo(root))


@pytest.fixture
def demo_board(tmp_path, demo_template) -> Path:
    """A fresh copy of the demo board in its own repository (tests may change it)."""
    return copy_board(demo_template, tmp_path / "demo")


# --- comparing what is on disk ------------------------------------------------------------

def tree(folder: Path, skip: Path | None = None) -> dict[str, tuple]:
    """Every path under `folder` (not following links, not under `skip`) with its kind and content hash."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        if skip is not None and Path(dirpath) == skip.parent:
            dirnames[:] = [d for d in dirnames if Path(dirpath, d) != skip]
        for name in dirnames + filenames:
            path = Path(dirpath, name)
            rel = path.relative_to(folder).as_posix()
            if path.is_symlink():
                out[rel] = ("link", os.readlink(path))
            elif path.is_file():
                out[rel] = ("file", hashlib.sha256(path.read_bytes()).hexdigest())
            else:
                out[rel] = ("dir",)
    return out


def assert_site_is_a_full_build(root: Path, fresh: Path) -> None:
    """The site in `root/_site` is byte for byte the one a full build of the board writes
    into `fresh` (another folder, nothing known of earlier builds)."""
    from mdboard.core.store import Board
    from mdboard.site.builder import SiteBuilder

    SiteBuilder(Board.open(str(root)), fresh).build_all(force=True)
    assert tree(root / "_site") == tree(fresh)


def git_state(root: Path) -> tuple[str, str]:
    return git(root, "rev-parse", "HEAD"), git(root, "status", "--porcelain")


def expect_lines(output: str, expect: list) -> None:
    """Each [where, fragment] names one line of `check` output."""
    lines = output.splitlines()
    for where, fragment in expect:
        wheres = where if isinstance(where, list) else [where]
        assert any(line.startswith(tuple(f"{w}: " for w in wheres)) and fragment in line for line in lines), \
            (where, fragment, output)


def typed(value):
    """`value` with the type of each part beside it, for comparing what was read: `==` takes
    True for 1 and 1 for 1.0, and a card's `price: 1` is not `price: 1.0` nor `price: true`.
    A float is compared by its repr (so -0.0 is not 0.0, and nan is nan); a mapping by its
    items in order; a record (`FIELDS`) by its fields."""
    kind = type(value)
    if kind is float:
        return kind, repr(value)
    if isinstance(value, dict):
        return kind, tuple((typed(k), typed(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return kind, tuple(typed(item) for item in value)
    if hasattr(kind, "FIELDS"):
        return kind, tuple((name, typed(getattr(value, name))) for name in kind.FIELDS)
    return kind, value


# --- a small shop with two weeks of history (report, standup, history) ----------------------

def _at(monkeypatch, moment: str) -> None:
    monkeypatch.setenv("GIT_AUTHOR_DATE", moment + "+08:00")
    monkeypatch.setenv("GIT_COMMITTER_DATE", moment + "+08:00")


def build_shop(root, cli, monkeypatch) -> None:
    """Two weeks of a small shop's work, every commit at a known time ("now" is 2026-11-25 09:00, a Wednesday).

    SKU-0001 liuyang: new 11-10 10:00, shooting 11-11 10:00, content 11-12 10:00 (no price: blocked)
    SKU-0002 zhaomin: new 11-16 10:00, shooting 11-17 10:00, content 11-18 10:00, review 11-19 10:00,
             checklist ticked by hand 11-20 10:00, listed 11-21 10:00 (due 11-20: late)
    SKU-0003 chenjing: new 11-17 10:00, shooting 11-19 10:00, content 11-19 22:00, review 11-20 10:00,
             listed (forced) 11-23 10:00 (due 11-30: on time)
    SKU-0004 zhaomin: new 11-18 10:00, shooting 11-20 10:00 (due 11-24: overdue)
    SKU-0005 chenjing: new 11-24 15:00 (due today)
    AS-0001 sunli: new 11-20 10:00, following 11-20 14:00, resolved 11-21 10:00 (due 11-21 18:00), archived 11-22 10:00
    AS-0002 sunli: new 11-22 10:00, resolved 11-24 10:00 (due 11-23 12:00: late)
    AS-0003 sunli: new 11-24 09:30 (due 11-26 10:00)
    """
    def step(moment, *args):
        _at(monkeypatch, moment)
        cli.ok(*args)

    issue = ["--set", "platform=tmall", "--set", "problem=物流"]
    step("2026-11-10T10:00:00", "--as", "liuyang", "new", "sku", "数据线", "--owner", "liuyang")
    step("2026-11-11T10:00:00", "--as", "liuyang", "move", "SKU-0001", "shooting")
    step("2026-11-12T10:00:00", "--as", "liuyang", "move", "SKU-0001", "content")
    step("2026-11-16T10:00:00", "--as", "wangli", "new", "sku", "蓝牙耳机", "--owner", "zhaomin", "--due", "2026-11-20")
    step("2026-11-17T10:00:00", "--as", "zhaomin", "move", "SKU-0002", "shooting")
    step("2026-11-17T10:00:00", "--as", "chenjing", "new", "sku", "充电宝", "--owner", "chenjing", "--due", "2026-11-30")
    step("2026-11-18T10:00:00", "--as", "zhaomin", "move", "SKU-0002", "content")
    step("2026-11-18T10:00:00", "--as", "wangli", "new", "sku", "智能手表", "--owner", "zhaomin", "--due", "2026-11-24")
    step("2026-11-18T12:00:00", "--as", "chenjing", "set", "SKU-0002", "price=199", "platforms=douyin")
    step("2026-11-19T10:00:00", "--as", "chenjing", "move", "SKU-0002", "review")
    step("2026-11-19T10:00:00", "--as", "chenjing", "move", "SKU-0003", "shooting")
    step("2026-11-19T22:00:00", "--as", "chenjing", "move", "SKU-0003", "content")
    step("2026-11-20T10:00:00", "--as", "chenjing", "move", "SKU-0003", "review", "--force", "--reason", "先审")
    step("2026-11-20T10:00:00", "--as", "zhaomin", "move", "SKU-0004", "shooting")
    step("2026-11-20T10:00:00", "--as", "sunli", "new", "issue", "物流破损", "--owner", "sunli",
         "--due", "2026-11-21 18:00", "--set", "order_no=A1", *issue)
    step("2026-11-20T10:00:00", "--as", "wangli", "set", "SKU-0002", "price_approved=true")
    _at(monkeypatch, "2026-11-20T10:00:00")
    card = root / "sku/review/SKU-0002.md"
    card.write_text(card.read_text("utf-8").replace("- [ ]", "- [x]"), "utf-8")
    git(root, "commit", "-q", "-am", "清单都做完了", "--author=赵敏 <zhaomin@example.com>")
    step("2026-11-20T14:00:00", "--as", "sunli", "move", "AS-0001", "following")
    step("2026-11-21T09:00:00", "--as", "sunli", "set", "AS-0001", "resolution=补发")
    step("2026-11-21T10:00:00", "--as", "sunli", "move", "AS-0001", "resolved")
    step("2026-11-21T10:00:00", "--as", "wangli", "move", "SKU-0002", "listed")
    step("2026-11-22T10:00:00", "--as", "sunli", "move", "AS-0001", "archived")
    step("2026-11-22T10:00:00", "--as", "sunli", "new", "issue", "少发配件", "--owner", "sunli",
         "--due", "2026-11-23 12:00", "--set", "order_no=A2", *issue)
    step("2026-11-23T10:00:00", "--as", "wangli", "move", "SKU-0003", "listed", "--force", "--reason", "大促先上")
    step("2026-11-24T09:30:00", "--as", "sunli", "new", "issue", "退货未到", "--owner", "sunli",
         "--due", "2026-11-26 10:00", "--set", "order_no=A3", *issue)
    step("2026-11-24T09:50:00", "--as", "sunli", "set", "AS-0002", "resolution=补寄配件")
    step("2026-11-24T10:00:00", "--as", "sunli", "move", "AS-0002", "resolved")
    step("2026-11-24T15:00:00", "--as", "chenjing", "new", "sku", "快充头", "--owner", "chenjing", "--due", "2026-11-25")


@pytest.fixture(scope="session")
def shop_template(tmp_path_factory, board_template) -> Path:
    """`build_shop` on a copy of the board template, once per worker (`shop` copies it)."""
    def make(root, mp):
        build_shop(copy_board(board_template, root), Cli(root), mp)
    return make_template(tmp_path_factory, "shop", make)


@pytest.fixture
def shop(board, shop_template):
    """The small shop (`build_shop`) in `board`'s place: `cli` runs in it."""
    shutil.rmtree(board)
    return copy_board(shop_template, board)



# --- a live site in this process (serve tests) -----------------------------------------------

DEADLINE = 20.0


# --- helpers -------------------------------------------------------------------------------


def fetch(url: str, headers: dict | None = None) -> tuple[int, str]:
    """(status, body) of a GET; HTTP errors are returned, not raised."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


def raw_get(port: int, target: str, host: str = "127.0.0.1") -> tuple[int, bytes]:
    """A GET with the request target sent byte for byte (no client-side normalising)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"GET {target} HTTP/1.0\r\nHost: {host}\r\n\r\n".encode("latin-1"))
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def wait_until(check, what: str, deadline: float = DEADLINE):
    """Poll `check()` until it returns something truthy; fail naming `what` after the deadline."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"gave up waiting for {what}")


def children_of(pid: int) -> list[int]:
    """The ids of a running process's child processes (Linux: /proc)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def ended(pid: int) -> bool:
    """True once process `pid` has exited (gone, or a zombie nobody has waited for yet)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def new_card(cli, title: str) -> str:
    result = cli("new", "sku", title, "--owner", "wangli")
    assert result.exit_code == 0, result.output
    return re.search(r"SKU-\d+", result.output).group(0)


MODULES_AFTER = ("import sys\nfrom mdboard.cli.main import main\n"
                 "try:\n    main(sys.argv[1:])\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
                 "print('\\nMODULES=' + ' '.join(sorted(sys.modules)))")


def modules_after(root: Path, *args: str) -> tuple[str, set[str]]:
    """`mdboard ARGS` run in `root` by a fresh interpreter, failing the test unless it
    succeeds: (its output, the modules it imported)."""
    proc = subprocess.run([sys.executable, "-c", MODULES_AFTER, *args], cwd=root, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    out, _, modules = proc.stdout.rpartition("\nMODULES=")
    return out, set(modules.split())


def traced_growth(step, first: int, repeats: int) -> int:
    """Bytes of traced memory (tracemalloc) grown over `repeats` calls `step(first + 1)`,
    `step(first + 2)` ..., garbage collected before and after: the call `step(first)` runs
    with tracing on but before the count starts, so tracemalloc's own first allocations do
    not count. Let the caches settle with calls of your own before."""
    import gc
    import tracemalloc

    gc.collect()
    tracemalloc.start()
    try:
        step(first)
        gc.collect()
        start = tracemalloc.get_traced_memory()[0]
        for n in range(first + 1, first + 1 + repeats):
            step(n)
        gc.collect()
        return tracemalloc.get_traced_memory()[0] - start
    finally:
        tracemalloc.stop()


def card_file(board: Path, card_id: str) -> Path:
    return next(board.glob(f"sku/*/{card_id}.md"))


def retitle(text: str, title: str) -> str:
    return re.sub(r"^title: .*$", f"title: {title}", text, count=1, flags=re.M)


class SpyBuilder:
    """The real SiteBuilder, with every rebuild's changed paths recorded.

    `fail_next` makes the next rebuild raise, as a bug in a template would.
    """

    def __init__(self, board, out_dir: Path):
        from mdboard.site.builder import SiteBuilder

        self.real = SiteBuilder(board, out_dir)
        self.out_dir = self.real.out_dir
        self.calls: list[set] = []
        self.fail_next = False

    def build_all(self):
        return self.real.build_all()

    def rebuild(self, changed: set, early=None):
        self.calls.append(set(changed))
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("template exploded")
        return self.real.rebuild(changed)  # no early pages: tabs are told once, when the rebuild ends


class Live:
    """A running LiveSite + BoardServer in this process, with the terminal lines captured."""

    def __init__(self, board_root: Path):
        from mdboard.serve.http import BoardServer
        from mdboard.serve.live import make_live_site
        from mdboard.core.store import Board

        self.lines: list[str] = []
        board = Board.open(str(board_root))
        out = board_root / "_site"
        self.builder = SpyBuilder(board, out)
        self.site = make_live_site(board, out, self.lines.append, self.builder)
        self.server = BoardServer(self.site, "127.0.0.1", 0)
        self.site.start()
        self.server.start()
        self.url = self.server.url

    def stop(self):
        self.server.stop()
        self.site.stop()

    def page(self, path: str = "cards/SKU-0001.html") -> str:
        status, body = fetch(self.url + path)
        assert status == 200, body
        return body

    def wait_rebuilds(self, count: int) -> None:
        """Wait until `count` rebuilds have finished since the start."""
        wait_until(lambda: self.site.rebuilds >= count, f"{count} finished rebuild(s)")

    def rebuild_lines(self) -> list[str]:
        return [line for line in self.lines if line.startswith("已更新")]


@pytest.fixture
def live(board, cli):
    new_card(cli, "蓝牙耳机 上新")
    running = Live(board)
    yield running
    running.stop()


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
