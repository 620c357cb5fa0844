"""Private caches: what a shared folder or an unpacked archive brings in `.git/mdboard/`
is never run and never believed; only what this user's mdboard wrote on this computer
is loaded (see `mdboard.cache`)."""

from __future__ import annotations

import os
import pickle
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from mdboard.core import cache

from conftest import git, written_a_while_ago

COMMANDS = [("ls",), ("check",), ("build",), ("history", "SKU-0001"), ("report",), ("mine", "wangli")]


class Payload:
    """A pickle that creates `marker` when it is unpickled (what an attacker would plant)."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, "w")


def _cards(cli) -> None:
    for args in (("new", "sku", "耳机", "--owner", "wangli"), ("new", "sku", "充电器", "--owner", "zhaomin"),
                 ("move", "SKU-0001", "shooting"), ("new", "campaign", "双12", "--owner", "wangli",
                                                     "--set", "platform=tmall", "--set", "skus=SKU-0001")):
        assert cli(*args).exit_code == 0


def _run_everything(cli, env: dict | None = None, marker: Path | None = None) -> None:
    """Every command that reads a cache, as the real program; each must work (and run nothing)."""
    for args in COMMANDS:
        result = cli.proc(*args, env=env)
        assert result.returncode == 0, (args, result.stderr)
        if args[0] == "ls":
            assert "耳机" in result.stdout and "充电器" in result.stdout
        assert marker is None or not marker.exists(), f"`mdboard {' '.join(args)}` ran a planted cache"


def _cache_files(board: Path) -> list[Path]:
    files = [p for p in (board / ".git" / "mdboard").rglob("*") if p.is_file() and p.name != "lock"]
    assert len(files) >= 8, files  # parse, config, check, history, site manifest, render, rows, templates
    return files


def test_planted_pickles_run_nothing(board, cli, tmp_path):
    """Every private file replaced by a pickle that would create a file (and jinja's compiled
    template format too, with the names jinja's own file cache uses): nothing runs, every
    command works, from scratch."""
    from jinja2.bccache import bc_magic

    _cards(cli)
    _run_everything(cli)
    marker = tmp_path / "ran"
    evil = pickle.dumps(Payload(marker))
    state = board / ".git" / "mdboard"
    planted = _cache_files(board) + [state / name for name in (
        "parse-cache.pickle", "parse-cache-recent.pickle", "config-cache.pickle", "check-cache.pickle",
        "history-cache.pickle", "site/dates.pickle")]
    for path in planted:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(bc_magic + evil if path.parent.name == "templates" else evil)
    for name in list(os.listdir(state / "site" / "templates")):
        (state / "site" / "templates" / f"__jinja2_{name}").write_bytes(bc_magic + evil)
    (board / "mdboard.yaml").write_text((board / "mdboard.yaml").read_text("utf-8") + "\n", "utf-8")  # pages made again
    _run_everything(cli, marker=marker)


def _seal_as(monkeypatch, home: Path, marker: Path) -> None:
    """Make this process write caches as another computer's mdboard would, each part being a
    payload: correctly made and sealed, but with that computer's key."""
    monkeypatch.setenv("HOME", str(home))
    evil = pickle.dumps(Payload(marker))
    monkeypatch.setattr(cache, "dumps", lambda obj, protocol: evil)


def _key_id() -> str:
    """The fingerprint this process's key gives cache file names (`parse.<id>.cache`)."""
    return cache._mine(Path("x.cache"), cache._key()).suffixes[0][1:]


def test_caches_sealed_on_another_computer_run_nothing(board, cli, tmp_path, monkeypatch):
    """Caches made and sealed by another computer's mdboard, each part a payload, and given this
    user's file names (which anyone who can see the folder can read off)."""
    _cards(cli)
    victim_home, victim_id = os.environ["HOME"], _key_id()
    _run_everything(cli)
    attacker = tmp_path / "attacker"
    marker = tmp_path / "ran"
    with monkeypatch.context() as patch:
        _seal_as(patch, attacker, marker)
        attacker_id = _key_id()
        for args in COMMANDS:
            assert cli(*args).exit_code == 0, args
    assert (attacker / ".cache" / "mdboard" / "key").exists() and attacker_id != victim_id
    sealed = [p for p in _cache_files(board) if f".{attacker_id}." in p.name]
    assert len(sealed) >= 8
    for path in sealed:
        (path.parent / path.name.replace(f".{attacker_id}.", f".{victim_id}.")).write_bytes(path.read_bytes())
    # the control: with the key they were sealed with, these files do run their payload
    marker.unlink(missing_ok=True)
    assert cli.proc("ls", env={"HOME": str(attacker)}).returncode == 0
    assert marker.exists()
    marker.unlink()
    _run_everything(cli, env={"HOME": victim_home}, marker=marker)


def test_people_sharing_a_folder_keep_their_own_caches(board, cli, tmp_path):
    """Two people (or one person's two computers) using one board folder: each one's caches
    stay valid while the other works, instead of each command throwing the other's away."""
    _cards(cli)
    written_a_while_ago(board)
    other = {"HOME": str(tmp_path / "other")}
    for env in ({}, other, {}, other):
        assert cli.proc("ls", env=env).returncode == 0
    parse = sorted(p.name for p in (board / ".git" / "mdboard").glob("parse.*.cache"))
    assert len(parse) == 2
    stamps = {p: p.stat().st_mtime_ns for p in (board / ".git" / "mdboard").glob("*.cache")}
    for env in ({}, other):
        assert cli.proc("ls", env=env).returncode == 0
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps  # warm for both: nothing rewritten


def test_the_key_is_private_and_outside_the_board(board, cli):
    assert cli.proc("ls").returncode == 0
    key = Path(os.environ["HOME"]) / ".cache" / "mdboard" / "key"
    assert key.stat().st_size == 32
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(key.parent.stat().st_mode) & 0o077 == 0
    assert not [p for p in board.rglob("*") if p.name == "key"]
    assert git(board, "status", "--porcelain") == ""


def test_a_key_others_can_read_is_replaced(board, cli):
    assert cli.proc("ls").returncode == 0
    key = Path(os.environ["HOME"]) / ".cache" / "mdboard" / "key"
    old = key.read_bytes()
    key.chmod(0o644)
    assert cli.proc("ls").returncode == 0
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and key.read_bytes() != old


def test_xdg_cache_home_holds_the_key(board, cli, tmp_path):
    assert cli.proc("ls", env={"XDG_CACHE_HOME": str(tmp_path / "xdg")}).returncode == 0
    assert (tmp_path / "xdg" / "mdboard" / "key").stat().st_size == 32


def test_without_a_key_mdboard_works_and_keeps_no_cache(board, cli, tmp_path):
    """A cache folder that cannot be made (here a file is in the way): every command still works."""
    blocked = tmp_path / "blocked"
    blocked.write_text("", "utf-8")
    _cards(cli)
    env = {"XDG_CACHE_HOME": str(blocked)}
    for path in (board / ".git" / "mdboard").rglob("*.cache"):
        path.unlink()
    _run_everything(cli, env=env)
    assert not list((board / ".git" / "mdboard").rglob("*.cache"))


def test_processes_making_the_key_at_once_agree(tmp_path):
    code = "from mdboard.core import cache; print(cache._key().hex())"
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True)
             for _ in range(6)]
    keys = {p.communicate()[0].strip() for p in procs}
    assert keys == {(tmp_path / "mdboard" / "key").read_bytes().hex()}
    assert not list((tmp_path / "mdboard").glob(".key.*"))


# --- the file format ---------------------------------------------------------------------------

@pytest.fixture
def saved(tmp_path) -> Path:
    path = tmp_path / "state" / "x.cache"
    assert cache.save(path, "parse", (7, "zh-CN"), {"a": (1, "二")}, [b"packed"])
    return path


def on_disk(path: Path) -> Path:
    """This user's file for cache `path` (the key's fingerprint in its name)."""
    mine = cache._mine(path, cache._key())
    assert mine.exists() and mine.name.startswith(f"{path.stem}.") and mine.name != path.name
    return mine


def test_parts_read_back(saved):
    assert cache.load(saved, "parse", (7, "zh-CN")) == {"a": (1, "二")}
    assert cache.load(saved, "parse", (7, "zh-CN"), 1) == [b"packed"]
    assert cache.load(saved, "parse", (7, "zh-CN"), 2) is None


def test_another_kind_or_version_reads_as_nothing(saved):
    assert cache.load(saved, "config", (7, "zh-CN")) is None
    assert cache.load(saved, "parse", (7, "en")) is None
    assert cache.load(saved, "parse", (8, "zh-CN")) is None


@pytest.mark.parametrize("damage, part", [("cut", 1), ("flip", 1), ("swap", 0), ("swap", 1), ("huge", 0),
                                         ("huge", 1), ("empty", 0)])
def test_a_damaged_part_reads_as_nothing(saved, damage, part):
    """Each part is judged on its own (the parse cache reads one of two)."""
    data = bytearray(on_disk(saved).read_bytes())
    head = len(cache.MAGIC) + 2
    if damage == "cut":
        data = data[:-3]
    elif damage == "flip":
        data[-1] ^= 1
    elif damage == "swap":  # part 1's length and MAC given to part 0
        entry = cache.MAC_BYTES + 8
        data[head:head + 2 * entry] = data[head + entry:head + 2 * entry] + data[head:head + entry]
    elif damage == "huge":
        data[head:head + 8] = (2 ** 62).to_bytes(8, "little")
    else:
        data = b""
    on_disk(saved).write_bytes(bytes(data))
    assert cache.load(saved, "parse", (7, "zh-CN"), part) is None


def test_another_computers_file_reads_as_nothing(saved, monkeypatch, tmp_path):
    mine = on_disk(saved)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "elsewhere"))
    assert cache.load(saved, "parse", (7, "zh-CN")) is None
    assert cache.save(saved, "parse", (7, "zh-CN"), {"b": 2})
    assert cache.load(saved, "parse", (7, "zh-CN")) == {"b": 2}
    theirs = on_disk(saved)
    assert theirs != mine
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache.load(saved, "parse", (7, "zh-CN")) == {"a": (1, "二")}  # each keeps their own
    mine.write_bytes(theirs.read_bytes())  # given this user's name: still not believed
    assert cache.load(saved, "parse", (7, "zh-CN")) is None


def test_a_cache_that_cannot_be_written_is_not_an_error(tmp_path):
    (tmp_path / "file").write_text("", "utf-8")
    assert cache.save(tmp_path / "file" / "x.cache", "parse", 1, {}) is False


def test_a_rewritten_parse_cache_forgets_its_recent_file(board, cli, monkeypatch):
    """The small file of recently parsed cards is this user's too: it goes when the base is rewritten."""
    from mdboard.core import store

    monkeypatch.setattr(store, "SAVE_AFTER_MISSES", 2)
    for title in ("耳机", "充电器", "数据线"):
        assert cli("new", "sku", title, "--owner", "wangli").exit_code == 0
    state = board / ".git" / "mdboard"
    written_a_while_ago(board)  # else the first listing keeps them unstamped, to be read again

    def touch(card_id: str) -> None:
        path = next(board.glob(f"sku/*/{card_id}.md"))
        stat = path.stat()
        path.write_text(path.read_text("utf-8") + "\n补充\n", "utf-8")
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
        store.Board.open(str(board)).cards()

    store.Board.open(str(board)).cards()
    assert len(list(state.glob("parse.*.cache"))) == 1 and not list(state.glob("parse-recent.*.cache"))
    touch("SKU-0001")
    assert len(list(state.glob("parse-recent.*.cache"))) == 1
    touch("SKU-0002")  # two cards parsed since the base: the base is written again
    assert not list(state.glob("parse-recent.*.cache"))
    assert len(list(state.glob("parse.*.cache"))) == 1
