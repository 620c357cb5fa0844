"""Issue 9: bad and hostile card files — a clear message, no traceback, nothing lost or executed.

Each case of `tests/corpus/cases.yaml` (cards:) puts one file on a board that also
holds a good card, commits it, and runs the commands a team would run:

* `check` (CliRunner with catch_exceptions=False, and the real console script)
  prints the expected `path:field: message` line and exits 1 — or exits 0 for the
  files that are fine (BOM, CRLF, tabs in values, ...);
* `ls`, `mine`, `show`, `check --json` and, when the site exists, `build` keep
  working for the rest of the board (the site renders the good card and flags the bad);
  cases marked `everywhere` also go through the exports, `standup` and `report`;
* `set`, `assign` and `move` on the bad card either refuse and change nothing, or
  do their job with one commit and a clean work tree — and always refuse on a file
  that cannot be read as a card;
* nothing is written outside the board, and YAML tags never run.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import yaml

from conftest import CORPUS, Cli, expect_lines, git, git_state, tree, with_roster

CASES = yaml.safe_load((CORPUS / "cases.yaml").read_text("utf-8"))
CARD_CASES = CASES["cards"]
DEFAULT_AT = "sku/planning/SKU-0101.md"
GOOD = "sku/planning/SKU-0001.md"
_TEMPLATE: list[Path] = []


# --- a fresh board per case ------------------------------------------------------------

@pytest.fixture
def fresh(tmp_path, tmp_path_factory) -> Path:
    """A committed default board with the test team and one good card, copied for this test."""
    if not _TEMPLATE:
        root = tmp_path_factory.mktemp("template") / "board"
        assert Cli(root.parent).proc("init", str(root)).returncode == 0
        cfg = root / "mdboard.yaml"
        cfg.write_text(with_roster(cfg.read_text("utf-8")), "utf-8")
        shutil.copyfile(CORPUS / "cards" / "good_sku.md", root / GOOD)
        git(root, "add", "-A")
        git(root, "commit", "-qm", "roster and a good card")
        _TEMPLATE.append(root)
    root = tmp_path / "board"
    shutil.copytree(_TEMPLATE[0], root, symlinks=True)
    shutil.rmtree(root / ".git" / "mdboard", ignore_errors=True)  # caches name the template's paths
    return root


def place(case: dict, root: Path, outside: Path) -> list[str]:
    """Put the case's files on the board; returns the board paths it made."""
    at = case.get("at", DEFAULT_AT)
    outside.mkdir(exist_ok=True)
    make = case.get("make")
    if make == "huge":
        text = (CORPUS / "cards" / "good_sku.md").read_text("utf-8") + "x" * (10 * 1024 * 1024)
        (root / at).write_text(text, "utf-8")
    elif make == "symlink_card":
        (outside / "secret.md").write_text("---\ntitle: 别人的文件\nowner: wangli\n---\n", "utf-8")
        os.symlink(outside / "secret.md", root / at)
    elif make == "symlink_state_folder":
        (outside / "archive").mkdir()
        shutil.copyfile(CORPUS / "cards" / "good_sku.md", outside / "archive" / "SKU-0102.md")
        os.symlink(outside / "archive", root / "sku" / "archive")
        return ["sku/archive"]
    elif make == "symlink_type_folder":
        shutil.move(root / "asset", outside / "asset")
        os.symlink(outside / "asset", root / "asset")
        return ["asset"]
    else:
        (root / at).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(CORPUS / case.get("file", f"cards/{case['case']}.md"), root / at)
    for rel, src in (case.get("also") or {}).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(CORPUS / src, root / rel)
    return [at, *(case.get("also") or {})]


def run(cli: Cli, *args: str) -> tuple[int, str]:
    """CliRunner, exceptions not caught: a crash fails the test with its traceback."""
    result = cli(*args)
    assert "Traceback" not in result.output, result.output
    return result.exit_code, result.output


def card_id_of(at: str) -> str:
    return Path(at).stem


def refused_or_done(cli: Cli, root: Path, args: list[str], must_refuse: bool) -> None:
    """A changing command either refuses with nothing changed, or commits and leaves the tree clean."""
    before_state, before_files = git_state(root), tree(root, root / ".git")
    code, out = run(cli, *args)
    assert code in (0, 1), out
    if code == 1 or must_refuse:
        assert code == 1, (args, out)
        assert out.startswith("错误："), out
        assert git_state(root) == before_state
        assert {k: v for k, v in tree(root, root / ".git").items() if not k.startswith("_site")} == \
            {k: v for k, v in before_files.items() if not k.startswith("_site")}
    else:
        head, status = git_state(root)
        assert head != before_state[0] and status == "", (args, out, status)


# --- the corpus ----------------------------------------------------------------------------

@pytest.mark.parametrize("case", CARD_CASES, ids=[c["case"] for c in CARD_CASES])
def test_card_case(case, fresh, tmp_path):
    root, cli, outside = fresh, Cli(fresh), tmp_path / "outside"
    made = place(case, root, outside)
    git(root, "add", "-A")
    git(root, "commit", "-qm", f"corpus: {case['case']}")
    before_outside = tree(tmp_path, root)
    accept = case.get("accept", False)

    code, out = run(cli, "check")
    assert code == (0 if accept else 1), out
    proc = cli.proc("check")
    assert proc.returncode == code and "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    if not accept:
        expect_lines(out, case["expect"])
        expect_lines(proc.stdout, case["expect"])
        problems = json.loads(run(cli, "check", "--json")[1].split("\n检查了")[0])
        paths = {p["path"] + (":" + p["field"] if p["field"] else "") for p in problems}
        assert all(any(w in paths for w in (where if isinstance(where, list) else [where]))
                   for where, _ in case["expect"]), paths

    for args in (["ls"], ["ls", "--json"], ["mine", "wangli"], ["show", "SKU-0001"], ["check", "--strict"]):
        code, out = run(cli, *args)
        assert code in (0, 1) and not out.startswith("错误："), (args, out)
        assert args != ["ls"] or "蓝牙耳机" in out, out  # the good card is still listed
    if case.get("everywhere"):
        for args in (["export", "csv"], ["export", "json"], ["export", "ics"], ["standup"], ["report"]):
            code, out = run(cli, *args)
            assert code == 0, (args, out)

    code, out = run(cli, "build")
    assert code == 0, out
    assert (root / "_site" / "cards" / "SKU-0001.html").exists()
    if case.get("broken"):
        assert made[0] in out, out

    at = made[0]
    if Path(at).suffix == ".md" and Path(at).stem.startswith("SKU-"):
        card = card_id_of(at)
        assert run(cli, "show", card)[0] in (0, 1)
        broken = case.get("broken", False)
        refused_or_done(cli, root, ["set", card, "price=5"], broken)
        refused_or_done(cli, root, ["assign", card, "zhaomin"], broken)
        refused_or_done(cli, root, ["move", card, "shooting", "--force", "--reason", "测试"], broken)

    assert tree(tmp_path, root) == before_outside
    assert not list(tmp_path.rglob("pwned-by-card.txt")) and not Path("pwned-by-card.txt").exists()


def test_the_corpus_is_big_enough_and_complete():
    files = {p.name for p in (CORPUS / "cards").iterdir()}
    named = {Path(c.get("file", f"cards/{c['case']}.md")).name for c in CARD_CASES if "make" not in c}
    assert named - files == set()
    assert files - named == set(), "every corpus file is used by a case"
    assert len(CARD_CASES) + len(CASES["configs"]) >= 40
    for case in CARD_CASES:
        assert case.get("accept") or case.get("expect"), case


# --- accepted oddities round-trip exactly ----------------------------------------------------

@pytest.mark.parametrize("name", ["bom", "crlf", "bom_crlf", "cr_only", "tab_in_value", "spaces_around"])
def test_accepted_files_keep_every_byte_through_set(fresh, name):
    root, cli = fresh, Cli(fresh)
    data = (CORPUS / "cards" / f"{name}.md").read_bytes()
    (root / DEFAULT_AT).write_bytes(data)
    git(root, "add", "-A")
    git(root, "commit", "-qm", name)
    result = cli("set", "SKU-0101", "price=5", "category=耳机")
    assert result.exit_code == 0, result.output
    after = (root / DEFAULT_AT).read_bytes()
    newline = b"\r\n" if b"\r\n" in data else (b"\r" if b"\n" not in data else b"\n")
    added = b"price: 5" + newline + b"category: " + "耳机".encode() + newline
    assert after.replace(added, b"", 1) == data
    assert after.startswith(b"\xef\xbb\xbf") == data.startswith(b"\xef\xbb\xbf")
    assert git(root, "status", "--porcelain") == ""
    assert cli("move", "SKU-0101", "shooting").exit_code == 0
    assert (root / "sku/shooting/SKU-0101.md").read_bytes() == after


def test_a_board_folder_with_spaces_and_chinese_works(tmp_path):
    root = tmp_path / "我的 店铺" / "运营 看板"
    cli = Cli(tmp_path)
    assert cli.proc("init", str(root)).returncode == 0
    cli = Cli(root)
    for args in (["new", "sku", "蓝牙耳机 Pro", "--owner", "me"], ["set", "SKU-0001", "price=99"],
                 ["move", "SKU-0001", "shooting"], ["check"]):
        proc = cli.proc(*args)
        assert proc.returncode == 0, (args, proc.stderr)
    assert git(root, "status", "--porcelain") == ""
    assert git(root, "log", "-1", "--format=%s") == "move SKU-0001: 规划中 → 拍摄中"


# --- hostile content -----------------------------------------------------------------------

def test_yaml_tags_never_run(fresh, tmp_path):
    """The tag would write a file if it were ever constructed: check, ls, show, build, set."""
    root, cli = fresh, Cli(fresh)
    shutil.copyfile(CORPUS / "cards" / "python_tag.md", root / DEFAULT_AT)
    cfg = root / "mdboard.yaml"
    for args in (["check"], ["ls"], ["show", "SKU-0101"], ["set", "SKU-0101", "price=1"], ["check", "--json"]):
        cli.proc(*args)
        cli(*args)
    cli("build")
    cfg.write_bytes((CORPUS / "config" / "python_tag.yaml").read_bytes())
    cli.proc("check")
    cli("ls")
    assert not list(tmp_path.rglob("pwned-by-*.txt"))
    assert not list(Path.cwd().glob("pwned-by-*.txt"))


def test_escape_sequences_never_reach_the_terminal(fresh):
    """A title with ESC sequences (retitle, recolour) is shown with U+FFFD in their place."""
    root, cli = fresh, Cli(fresh)
    shutil.copyfile(CORPUS / "cards" / "escape_sequences.md", root / DEFAULT_AT)
    for args in (["ls"], ["show", "SKU-0101"], ["mine", "wangli"], ["check"]):
        proc = cli.proc(*args)
        assert "\x1b" not in proc.stdout + proc.stderr and "\x07" not in proc.stdout + proc.stderr, args
    assert "\ufffd]0;pwned\ufffd\ufffd[31m红色标题" in cli.proc("ls").stdout
    refused = cli.proc("set", "SKU-0001", "title=\x1b[2J清屏")
    assert refused.returncode == 1 and "含有控制字符" in refused.stderr


def test_symlinked_type_folder_is_never_written_through(fresh, tmp_path):
    root, cli, outside = fresh, Cli(fresh), tmp_path / "outside"
    place({"case": "t", "make": "symlink_type_folder"}, root, outside)
    before = tree(outside)
    for proc in (cli.proc("new", "asset", "海报", "--owner", "zhaomin", "--set", "kind=海报"),):
        assert proc.returncode == 1 and "会写到看板文件夹之外" in proc.stderr, proc.stderr
    code, out = run(cli, "new", "asset", "海报", "--owner", "zhaomin", "--set", "kind=海报")
    assert code == 1 and "asset/todo/MAT-0001.md 会写到看板文件夹之外" in out
    assert tree(outside) == before


def test_symlinked_card_is_not_followed_by_any_command(fresh, tmp_path):
    root, cli, outside = fresh, Cli(fresh), tmp_path / "outside"
    place({"case": "s", "make": "symlink_card"}, root, outside)
    secret = (outside / "secret.md").read_bytes()
    assert "别人的文件" not in cli.proc("show", "SKU-0101").stdout
    assert "别人的文件" not in cli.proc("ls", "--json").stdout
    for args in (["set", "SKU-0101", "price=1"], ["move", "SKU-0101", "shooting"], ["assign", "SKU-0101", "zhaomin"]):
        proc = cli.proc(*args)
        assert proc.returncode == 1 and "符号链接" in proc.stderr, (args, proc.stderr)
    assert (outside / "secret.md").read_bytes() == secret and (root / DEFAULT_AT).is_symlink()


# --- IDs that try to leave the board -----------------------------------------------------------

HOSTILE_IDS = ["../../etc/passwd", "/etc/passwd", "SKU-0001/../../../etc/passwd", "..\\..\\windows\\win.ini",
               "sku/planning/SKU-0001", "SKU-0001.md", "SKU-0001\x00", "%2e%2e%2fetc", "~root", "SKU--1"]
ID_COMMANDS = [["show", "{id}"], ["set", "{id}", "price=1"], ["assign", "{id}", "zhaomin"],
               ["move", "{id}", "shooting"], ["edit", "{id}"], ["history", "{id}"]]


@pytest.mark.parametrize("command", ID_COMMANDS, ids=[c[0] for c in ID_COMMANDS])
def test_ids_that_are_paths_are_refused_by_every_command(fresh, tmp_path, command):
    root, cli = fresh, Cli(fresh)
    before, before_outside = git_state(root), tree(tmp_path, root)
    for hostile in HOSTILE_IDS:
        args = [a.replace("{id}", hostile) for a in command]
        code, out = run(cli, *args)
        assert code == 1 and out.startswith("错误：") and "不是卡片编号" in out, (args, out)
    proc = cli.proc(*[a.replace("{id}", HOSTILE_IDS[0]) for a in command], env={"EDITOR": "false"})
    assert proc.returncode == 1 and proc.stderr == "错误：「../../etc/passwd」不是卡片编号\n", proc.stderr
    assert git_state(root) == before
    assert tree(tmp_path, root) == before_outside


def test_a_title_cannot_forge_commit_trailers(fresh):
    """A title with line breaks stays one subject line; history tools see only the real trailers."""
    root, cli = fresh, Cli(fresh)
    result = cli("new", "sku", "耳机\n\nCard: SKU-9999\nAction: move", "--owner", "wangli")
    assert result.exit_code == 0, result.output
    message = git(root, "log", "-1", "--format=%B")
    assert message.splitlines()[0] == "new SKU-0002: 耳机 Card: SKU-9999 Action: move"
    trailers = git(root, "log", "-1", "--format=%(trailers:only,unfold)")
    assert trailers.splitlines() == ["Card: SKU-0002", "Action: new", "Type: sku", "To: planning"]
    assert Cli(root)("show", "SKU-0002").output.splitlines()[0] == "SKU-0002  耳机  Card: SKU-9999 Action: move"
