"""History from the git log: exact timelines of mdboard commits and hand commits, the cache."""

from __future__ import annotations

import pytest

from mdboard.git.history import clear_cache, describe, load_history
from mdboard.core.store import Board

from conftest import git


@pytest.fixture
def at(monkeypatch):
    """Set the author and committer date of the next commits."""

    def set_time(moment: str) -> None:
        monkeypatch.setenv("GIT_AUTHOR_DATE", moment)
        monkeypatch.setenv("GIT_COMMITTER_DATE", moment)

    return set_time


def run(cli, *args):
    result = cli(*args)
    assert result.exit_code == 0, result.output
    return result


def hand_commit(root, message, author="赵敏 <zhaomin@example.com>"):
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message, f"--author={author}")


def lines(board_root):
    board = Board.open(str(board_root))
    return [describe(e, board) for e in load_history(board).events]


def test_mdboard_commits_make_an_exact_timeline(board, cli, at):
    at("2026-11-16T10:00:00+08:00")
    run(cli, "--as", "wangli", "new", "sku", "蓝牙耳机", "--owner", "zhaomin", "--due", "2026-11-30")
    at("2026-11-17T11:30:00+08:00")
    run(cli, "--as", "zhaomin", "move", "SKU-0001", "shooting")
    at("2026-11-18T09:15:00+08:00")
    run(cli, "--as", "wangli", "assign", "SKU-0001", "chenjing")
    at("2026-11-18T09:20:00+08:00")
    run(cli, "--as", "chenjing", "set", "SKU-0001", "price=199", "platforms=douyin,tmall")
    history = load_history(Board.open(str(board)))
    events = history.for_card("SKU-0001")
    assert [(e.action, e.person, e.time.isoformat(), e.from_state, e.to_state, e.field, e.old, e.new)
            for e in events] == [
        ("created", "wangli", "2026-11-16T10:00:00+08:00", None, "planning", None, None, "蓝牙耳机"),
        ("moved", "zhaomin", "2026-11-17T11:30:00+08:00", "planning", "shooting", None, None, None),
        ("field", "wangli", "2026-11-18T09:15:00+08:00", None, None, "owner", "zhaomin", "chenjing"),
        ("field", "chenjing", "2026-11-18T09:20:00+08:00", None, None, "price", None, "199"),
        ("field", "chenjing", "2026-11-18T09:20:00+08:00", None, None, "platforms", None, "[douyin, tmall]"),
    ]
    assert lines(board) == [
        "王丽 新建了 SKU-0001「蓝牙耳机」",
        "赵敏 把 SKU-0001 从「规划中」移到「拍摄中」",
        "王丽 把 SKU-0001 从 赵敏 转给 陈静",
        "陈静 把 SKU-0001 的价格设为 ¥199",
        "陈静 把 SKU-0001 的平台设为 抖音、天猫",
    ]
    assert events[1].subject == "move SKU-0001: 规划中 → 拍摄中"
    assert events[1].author == "赵敏" and events[1].email == "zhaomin@example.com"
    assert events[0].type == "sku" and events[3].commit == git(board, "rev-parse", "HEAD")


def test_hand_commits_are_understood(board, cli, at):
    at("2026-11-16T10:00:00+08:00")
    run(cli, "--as", "wangli", "new", "sku", "充电宝", "--owner", "zhaomin")
    path = board / "sku/planning/SKU-0001.md"
    at("2026-11-17T15:00:00+08:00")
    text = path.read_text("utf-8")
    text = text.replace("- [ ] 拍摄", "- [x] 拍摄").replace("- [ ] 主图", "- [x] 主图")
    text = text.replace("owner: zhaomin", "owner: liuyang")
    path.write_text(text, "utf-8")
    hand_commit(board, "拍完了")
    at("2026-11-18T08:00:00+08:00")
    (board / "sku/shooting").mkdir(exist_ok=True)
    git(board, "mv", "sku/planning/SKU-0001.md", "sku/shooting/SKU-0001.md")
    moved = board / "sku/shooting/SKU-0001.md"
    moved.write_text(moved.read_text("utf-8").replace("- [x] 主图", "- [ ] 主图") + "\n备注: 等样品\n", "utf-8")
    hand_commit(board, "挪到拍摄", "Someone Else <else@example.com>")
    at("2026-11-19T08:00:00+08:00")
    git(board, "rm", "-q", "sku/shooting/SKU-0001.md")
    hand_commit(board, "不做了")
    assert lines(board) == [
        "王丽 新建了 SKU-0001「充电宝」",
        "赵敏 把 SKU-0001 从 赵敏 转给 刘洋",
        "赵敏 勾选了 SKU-0001 的「拍摄」",
        "赵敏 勾选了 SKU-0001 的「主图」",
        "Someone Else 把 SKU-0001 从「规划中」移到「拍摄中」",
        "Someone Else 取消勾选 SKU-0001 的「主图」",
        "Someone Else 编辑了 SKU-0001",
        "赵敏 删除了 SKU-0001「充电宝」",
    ]
    events = load_history(Board.open(str(board))).for_card("SKU-0001")
    assert [(e.action, e.person, e.field, e.old, e.new) for e in events[2:4]] == [
        ("checklist", "zhaomin", "拍摄", " ", "x"), ("checklist", "zhaomin", "主图", " ", "x")]
    assert events[4].person is None and events[4].email == "else@example.com"


def test_forced_move_keeps_its_reason(board, cli, at):
    at("2026-11-16T10:00:00+08:00")
    run(cli, "--as", "wangli", "new", "sku", "耳机", "--owner", "wangli")
    at("2026-11-16T11:00:00+08:00")
    run(cli, "--as", "wangli", "move", "SKU-0001", "listed", "--force", "--reason", "老板同意先上")
    assert lines(board)[-1] == "王丽 把 SKU-0001 从「规划中」移到「已上架」（强制：老板同意先上）"


def test_the_second_run_reads_only_new_commits(board, cli, at):
    at("2026-11-16T10:00:00+08:00")
    run(cli, "--as", "wangli", "new", "sku", "A", "--owner", "wangli")
    run(cli, "--as", "wangli", "new", "sku", "B", "--owner", "wangli")
    first = load_history(Board.open(str(board)))
    assert first.rebuilt and first.read_commits == 4  # init, roster, two cards
    again = load_history(Board.open(str(board)))
    assert (again.read_commits, again.rebuilt, len(again.events)) == (0, False, 2)
    at("2026-11-17T10:00:00+08:00")
    run(cli, "--as", "zhaomin", "move", "SKU-0002", "shooting")
    third = load_history(Board.open(str(board)))
    assert (third.read_commits, third.rebuilt) == (1, False)
    assert [(e.card, e.action) for e in third.events] == [("SKU-0001", "created"), ("SKU-0002", "created"),
                                                          ("SKU-0002", "moved")]


def test_rewritten_history_rebuilds_the_cache(board, cli, at):
    at("2026-11-16T10:00:00+08:00")
    for title in ("A", "B", "C"):
        run(cli, "--as", "wangli", "new", "sku", title, "--owner", "wangli")
    assert len(load_history(Board.open(str(board))).events) == 3
    git(board, "reset", "-q", "--hard", "HEAD~2")
    at("2026-11-17T10:00:00+08:00")
    run(cli, "--as", "liuyang", "new", "campaign", "双12", "--owner", "liuyang", "--set", "platform=tmall")
    history = load_history(Board.open(str(board)))
    assert history.rebuilt
    assert [(e.card, e.person) for e in history.events] == [("SKU-0001", "wangli"), ("CMP-0001", "liuyang")]
    # amend: the last commit is replaced
    git(board, "commit", "-q", "--amend", "-m", "new CMP-0001: 双12 (amended)")
    history = load_history(Board.open(str(board)))
    assert history.rebuilt and history.events[-1].subject == "new CMP-0001: 双12 (amended)"


def test_a_board_outside_git_has_no_history(tmp_path, cli):
    result = cli("--no-commit", "init", str(tmp_path / "plain"))
    assert result.exit_code == 0
    board = Board.open(str(tmp_path / "plain"))
    history = load_history(board)
    assert history.events == [] and history.recent() == []


def test_a_board_in_a_subfolder_of_the_repository(tmp_path, cli, at):
    repo = tmp_path / "shop"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "README.md").write_text("code\n", "utf-8")
    git(repo, "add", "README.md")
    git(repo, "commit", "-q", "-m", "code")
    at("2026-11-16T10:00:00+08:00")
    assert cli("init", str(repo / "运营 看板")).exit_code == 0
    sub = repo / "运营 看板"
    assert cli("--board", str(sub), "new", "sku", "耳机", "--owner", "me").exit_code == 0
    assert cli("--board", str(sub), "move", "SKU-0001", "shooting").exit_code == 0
    board = Board.open(str(sub))
    history = load_history(board)
    assert [(e.card, e.action, e.to_state) for e in history.events] == [
        ("SKU-0001", "created", "planning"), ("SKU-0001", "moved", "shooting")]
    clear_cache(board)
    assert load_history(board).rebuilt


def test_hand_edits_of_every_shape(board, cli, at):
    """CRLF line endings, block lists, comments, quoted values, a removed key, a new title."""
    at("2026-11-16T10:00:00+08:00")
    run(cli, "--as", "wangli", "new", "sku", "耳机", "--owner", "zhaomin")
    path = board / "sku/planning/SKU-0001.md"
    path.write_bytes(("---\r\ntitle: \"耳机: 新款\"\r\nowner: zhaomin  # 美工\r\nplatforms:\r\n  - douyin\r\n"
                      "category: 数码\r\n---\r\n\r\n- [x] 拍摄\r\n- [ ] 主图\r\n").encode("utf-8"))
    at("2026-11-17T10:00:00+08:00")
    hand_commit(board, "整理格式")
    path.write_bytes(("---\r\ntitle: \"耳机: 新款\"\r\nowner: liuyang  # 投手\r\nplatforms:\r\n  - douyin\r\n"
                      "  - tmall\r\n---\r\n\r\n- [x] 拍摄\r\n- [x] 主图\r\n").encode("utf-8"))
    at("2026-11-18T10:00:00+08:00")
    hand_commit(board, "改负责人和平台")
    events = load_history(Board.open(str(board))).for_card("SKU-0001")
    assert [(e.action, e.field, e.old, e.new) for e in events[1:]] == [
        ("field", "title", "耳机", "耳机: 新款"),
        ("field", "platforms", None, "[douyin]"),
        ("field", "category", None, "数码"),
        ("edited", None, None, None),  # the checklist was rewritten, not ticked
        ("field", "owner", "zhaomin", "liuyang"),
        ("field", "platforms", "[douyin]", "[douyin, tmall]"),
        ("field", "category", "数码", None),
        ("checklist", "主图", " ", "x"),
    ]
    assert lines(board)[1] == "赵敏 把 SKU-0001 的标题从 耳机 改为 耳机: 新款"
    assert lines(board)[-3:-1] == ["赵敏 把 SKU-0001 的平台从 抖音 改为 抖音、天猫", "赵敏 清除了 SKU-0001 的类目"]


def test_merged_branches_count_each_commit_once(board, cli, at):
    at("2026-11-16T10:00:00+08:00")
    run(cli, "--as", "wangli", "new", "sku", "A", "--owner", "wangli")
    git(board, "checkout", "-q", "-b", "side")
    at("2026-11-17T10:00:00+08:00")
    run(cli, "--as", "zhaomin", "move", "SKU-0001", "shooting")
    git(board, "checkout", "-q", "main")
    at("2026-11-17T11:00:00+08:00")
    run(cli, "--as", "liuyang", "new", "campaign", "双12", "--owner", "liuyang", "--set", "platform=tmall")
    assert len(load_history(Board.open(str(board))).events) == 2
    at("2026-11-18T10:00:00+08:00")
    git(board, "merge", "-q", "--no-edit", "side")
    history = load_history(Board.open(str(board)))
    assert not history.rebuilt and history.read_commits == 2  # the side commit and the merge
    assert sorted((e.card, e.action) for e in history.events) == [
        ("CMP-0001", "created"), ("SKU-0001", "created"), ("SKU-0001", "moved")]


def test_a_renumbered_card_keeps_its_timeline(board, cli, at):
    from mdboard.domain.report import tracks

    at("2026-11-16T10:00:00+08:00")
    run(cli, "--as", "wangli", "new", "sku", "耳机", "--owner", "wangli")
    at("2026-11-17T10:00:00+08:00")
    run(cli, "--as", "zhaomin", "move", "SKU-0001", "shooting")
    at("2026-11-18T10:00:00+08:00")
    (board / "sku/content").mkdir(exist_ok=True)
    git(board, "mv", "sku/shooting/SKU-0001.md", "sku/content/SKU-0007.md")
    hand_commit(board, "重新编号")
    history = load_history(Board.open(str(board)))
    assert [(e.card, e.was, e.action, e.from_state, e.to_state) for e in history.for_card("SKU-0007")] == [
        ("SKU-0007", "SKU-0001", "created", None, "planning"), ("SKU-0007", "SKU-0001", "moved", "planning", "shooting"),
        ("SKU-0007", None, "renumbered", "shooting", "content"), ("SKU-0007", None, "moved", "shooting", "content")]
    assert history.for_card("SKU-0001") == []
    assert lines(board)[:3] == ["王丽 新建了 SKU-0007「耳机」（当时编号 SKU-0001）",
                                "赵敏 把 SKU-0007 从「规划中」移到「拍摄中」（当时编号 SKU-0001）",
                                "赵敏 把 SKU-0001 重新编号为 SKU-0007"]
    found = tracks(history)
    assert list(found) == ["SKU-0007"]
    assert [stay[0] for stay in found["SKU-0007"].stays] == ["planning", "shooting", "content"]


def test_git_log_is_parsed_one_commit_at_a_time(board, cli, at):
    """A commit is handed on as soon as the bytes after it arrive: the parser never waits
    for (or holds) the whole `git log` output."""
    import io
    import subprocess

    from mdboard.git.history import _raw_commits, log_args

    at("2026-11-16T10:00:00+08:00")
    for title in ("A", "B", "C"):
        run(cli, "--as", "wangli", "new", "sku", title, "--owner", "wangli")
    out = subprocess.run(["git", *log_args("", None, "HEAD")], cwd=board, capture_output=True, check=True).stdout
    stream = io.BytesIO(out)
    seen = [(commit.subject, stream.tell()) for commit in _raw_commits(stream, block=16)]
    assert [s for s, _ in seen] == git(board, "log", "--format=%s").splitlines()
    assert len(seen) >= 4 and seen[0][1] < seen[1][1] < seen[2][1] < len(out)
    assert [len(c.files) for c in _raw_commits(io.BytesIO(out))][:3] == [1, 1, 1]


def test_a_standup_reads_the_recent_rows_and_an_older_window_reads_them_all(board, cli, at):
    """The cache keeps the last weeks' rows apart: `since` a recent moment loads only those,
    `since` an older one loads every row, and both say what a cold read says."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    for day in ("2026-08-01", "2026-10-01", "2026-11-20", "2026-11-24"):
        at(f"{day}T10:00:00+08:00")
        run(cli, "--as", "wangli", "new", "sku", f"卡 {day}", "--owner", "wangli")
    zone = ZoneInfo("Asia/Shanghai")
    cold = load_history(Board.open(str(board)))
    for start, loads_all in (("2026-11-23", False), ("2026-10-21", False), ("2026-09-01", True)):
        moment = datetime.fromisoformat(start).replace(tzinfo=zone)
        warm = load_history(Board.open(str(board)))
        assert warm.read_commits == 0
        got = [(e.card, e.action, e.time) for e in warm.since(moment)]
        assert got == [(e.card, e.action, e.time) for e in cold.since(moment)] and got
        assert (warm._rows is not None) == loads_all  # 35 days back from 11-24 reach 10-21, not 09-01


def test_card_commits_are_the_commits_of_each_cards_events(board, cli, at):
    """What a card's page depends on, read from the rows without making events."""
    at("2026-11-16T10:00:00+08:00")
    run(cli, "--as", "wangli", "new", "sku", "耳机", "--owner", "zhaomin")
    run(cli, "--as", "wangli", "new", "sku", "充电宝", "--owner", "zhaomin")
    at("2026-11-17T10:00:00+08:00")
    run(cli, "--as", "zhaomin", "move", "SKU-0001", "shooting")
    run(cli, "--as", "zhaomin", "set", "SKU-0002", "price=99")
    history = load_history(Board.open(str(board)))
    commits = history.card_commits()
    assert commits == {card: [e.commit for e in events] for card, events in history.by_card().items()}
    assert [len(commits[c]) for c in ("SKU-0001", "SKU-0002")] == [2, 2]


def test_every_cards_events_come_from_one_pass_over_the_rows(board, cli, at):
    """A build asks for every card's events: the rows are indexed by card once, not read
    through again for each card (a pass per card made a 10,000-card build 2.5x slower);
    each card's events are those the whole list holds for it."""
    at("2026-11-16T10:00:00+08:00")
    for n in range(6):
        run(cli, "--as", "wangli", "new", "sku", f"新品 {n}", "--owner", "zhaomin")
    run(cli, "--as", "zhaomin", "move", "SKU-0002", "shooting")
    run(cli, "--as", "zhaomin", "set", "SKU-0004", "price=99")
    expected = load_history(Board.open(str(board))).by_card()
    history = load_history(Board.open(str(board)))
    passes = []

    class Rows(list):
        def __iter__(self):
            passes.append(1)
            return super().__iter__()

    history._rows = Rows(history.rows)
    got = {card: [(e.commit, e.action, e.to_state) for e in history.for_card(card)] for card in expected}
    assert got == {card: [(e.commit, e.action, e.to_state) for e in events] for card, events in expected.items()}
    assert len(expected) == 6 and len(passes) <= 2, passes
    assert history.for_card("SKU-0099") == []


def _cache_file(root, name):
    """This user's copy of a history cache file (`cache._mine` names it after the key)."""
    from mdboard.core import cache

    return cache._mine(Board.open(str(root)).state_dir / name, cache._key())


def _same_as_cold(root, history):
    """`history` holds the rows (and steps) a read from scratch holds."""
    board = Board.open(str(root))
    clear_cache(board)
    cold = load_history(board)
    assert history.rows == cold.rows and history.steps() == cold.steps()


def test_a_new_commit_rewrites_only_the_tail_of_the_cache(board, cli, at):
    """The base (every row up to the first read's commit) stays as it was written; a new
    commit is read alone and only the small tail file is written again."""
    from mdboard.git.history import CACHE_NAME, TAIL_NAME

    at("2026-11-16T10:00:00+08:00")
    for n in range(3):
        run(cli, "--as", "wangli", "new", "sku", f"新品 {n}", "--owner", "wangli")
    first = load_history(Board.open(str(board)))
    base = _cache_file(board, CACHE_NAME).read_bytes()
    at("2026-11-17T10:00:00+08:00")
    run(cli, "--as", "zhaomin", "move", "SKU-0002", "shooting")
    run(cli, "--as", "zhaomin", "set", "SKU-0003", "price=99")
    history = load_history(Board.open(str(board)))
    assert (history.read_commits, history.rebuilt, history.lineage) == (2, False, first.lineage)
    assert _cache_file(board, CACHE_NAME).read_bytes() == base
    warm = load_history(Board.open(str(board)))
    assert warm.read_commits == 0 and warm.row_count() == len(history.rows) == 5
    assert [(e.card, e.action) for e in warm.events[-2:]] == [("SKU-0002", "moved"), ("SKU-0003", "field")]
    assert [e.subject for e in warm.recent(3)] == [e.subject for e in reversed(history.events[-3:])]
    _same_as_cold(board, warm)
    assert _cache_file(board, TAIL_NAME).exists()


def test_a_long_tail_is_folded_into_a_new_base(board, cli, at, monkeypatch):
    """Past TAIL_ROWS rows after the base, the next read writes a new base holding them all
    (the same lineage: the rows before are still the first rows)."""
    from mdboard.git import history as history_module

    monkeypatch.setattr(history_module, "TAIL_ROWS", 2)
    at("2026-11-16T10:00:00+08:00")
    run(cli, "--as", "wangli", "new", "sku", "A", "--owner", "wangli")
    first = load_history(Board.open(str(board)))
    base = _cache_file(board, history_module.CACHE_NAME).read_bytes()
    for title in ("B", "C"):
        run(cli, "--as", "wangli", "new", "sku", title, "--owner", "wangli")
    grown = load_history(Board.open(str(board)))
    assert _cache_file(board, history_module.CACHE_NAME).read_bytes() == base  # two rows: still the tail
    run(cli, "--as", "wangli", "new", "sku", "D", "--owner", "wangli")
    folded = load_history(Board.open(str(board)))
    assert (folded.read_commits, folded.rebuilt) == (1, False)
    assert folded.lineage == grown.lineage == first.lineage
    assert _cache_file(board, history_module.CACHE_NAME).read_bytes() != base
    warm = load_history(Board.open(str(board)))
    assert warm.read_commits == 0 and warm._parts.head == warm.head and warm.row_count() == 4
    _same_as_cold(board, warm)


def test_commits_rewritten_after_the_base_are_read_again_from_the_base(board, cli, at):
    """A reset or amend of commits made after the base's commit reads only the commits after
    the base again (a new lineage: those rows changed); one that drops the base's commit
    reads everything."""
    at("2026-11-16T10:00:00+08:00")
    run(cli, "--as", "wangli", "new", "sku", "A", "--owner", "wangli")
    first = load_history(Board.open(str(board)))
    for title in ("B", "C"):
        run(cli, "--as", "wangli", "new", "sku", title, "--owner", "wangli")
    load_history(Board.open(str(board)))
    git(board, "reset", "-q", "--hard", "HEAD~1")
    git(board, "commit", "-q", "--amend", "-m", "B (amended)")
    history = load_history(Board.open(str(board)))
    assert (history.read_commits, history.rebuilt) == (1, False) and history.lineage != first.lineage
    assert [e.subject for e in history.events][-1] == "B (amended)" and len(history.events) == 2
    _same_as_cold(board, load_history(Board.open(str(board))))
    git(board, "reset", "-q", "--hard", "HEAD~2")
    assert load_history(Board.open(str(board))).rebuilt


def test_one_cards_history_reads_its_shard_of_the_base_not_every_row(board, cli, at, monkeypatch):
    """`history ID` on a warm cache: the base's rows of that card's shard and the tail's."""
    from mdboard.git import history as history_module

    at("2026-11-16T10:00:00+08:00")
    for n in range(4):
        run(cli, "--as", "wangli", "new", "sku", f"新品 {n}", "--owner", "wangli")
    run(cli, "--as", "zhaomin", "move", "SKU-0002", "shooting")
    cold = load_history(Board.open(str(board)))
    at("2026-11-17T10:00:00+08:00")
    run(cli, "--as", "zhaomin", "move", "SKU-0002", "content")
    expected = load_history(Board.open(str(board))).by_card()
    monkeypatch.setattr(history_module._Base, "rows", lambda *a, **k: pytest.fail("read every row"))
    for card, events in expected.items():
        warm = load_history(Board.open(str(board)))
        assert [(e.commit, e.action, e.to_state) for e in warm.for_card(card)] == [
            (e.commit, e.action, e.to_state) for e in events]
    assert [e.to_state for e in expected["SKU-0002"]] == ["planning", "shooting", "content"]
    assert len(cold.by_card()["SKU-0002"]) == 2


def test_a_renumbering_of_a_card_in_the_base_reads_everything_again(board, cli, at):
    """A new commit that renumbers a card whose rows the base holds: those rows are filed
    under the new ID, so the whole history is read again."""
    at("2026-11-16T10:00:00+08:00")
    run(cli, "--as", "wangli", "new", "sku", "耳机", "--owner", "wangli")
    run(cli, "--as", "wangli", "new", "sku", "充电宝", "--owner", "wangli")
    load_history(Board.open(str(board)))
    git(board, "mv", "sku/planning/SKU-0001.md", "sku/planning/SKU-0009.md")
    hand_commit(board, "重新编号")
    history = load_history(Board.open(str(board)))
    assert history.rebuilt
    assert [(e.action, e.was) for e in history.for_card("SKU-0009")] == [("created", "SKU-0001"), ("renumbered", None)]
    warm = load_history(Board.open(str(board)))
    assert [e.action for e in warm.for_card("SKU-0009")] == ["created", "renumbered"] and warm.for_card("SKU-0001") == []
