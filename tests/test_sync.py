"""`mdboard sync`: a bare remote and two or three clones on this machine, no network.

Each scenario ends with every piece of work present exactly once, the same
history on every clone, and `mdboard check` clean everywhere.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import Cli, copy_board, git, make_template
from mdboard.core.store import Board
from mdboard.git import sync as sync_module
from test_history import at  # noqa: F401  (fixture: the date of the next commits)

PEOPLE = {"a": ("王丽", "wangli@example.com"), "b": ("赵敏", "zhaomin@example.com"),
          "c": ("陈静", "chenjing@example.com")}


class Team:
    """A bare remote plus clones; clone "a" is the board the remote was made from."""

    def __init__(self, tmp_path: Path, board: Path):
        self.tmp = tmp_path
        self.remote = tmp_path / "remote.git"
        git(tmp_path, "init", "-q", "--bare", str(self.remote))
        git(board, "remote", "add", "origin", str(self.remote))
        self.clones = {"a": Cli(board)}
        first = self.clones["a"]("sync")
        assert first.exit_code == 0, first.output
        assert "首次推送：发送了 2 个提交；origin/main 现在是团队共享的看板。" in first.output

    @classmethod
    def copied(cls, tmp_path: Path, clones: dict[str, Path]) -> "Team":
        """A team copied from another folder (its remote at tmp_path/remote.git), not made again."""
        team = cls.__new__(cls)
        team.tmp, team.remote = tmp_path, tmp_path / "remote.git"
        team.clones = {name: Cli(root) for name, root in clones.items()}
        return team

    def clone(self, name: str) -> Cli:
        root = self.tmp / name
        git(self.tmp, "clone", "-q", str(self.remote), str(root))
        git(root, "config", "user.name", PEOPLE[name][0])
        git(root, "config", "user.email", PEOPLE[name][1])
        self.clones[name] = Cli(root)
        return self.clones[name]

    def remote_head(self) -> str:
        return git(self.remote, "rev-parse", "main")

    def settle(self) -> None:
        """Sync every clone twice (everyone gets everything), then check they agree and are valid."""
        for _ in range(2):
            for cli in self.clones.values():
                result = cli("sync")
                assert result.exit_code == 0, result.output
        head = self.remote_head()
        for name, cli in self.clones.items():
            assert git(cli.root, "rev-parse", "HEAD") == head, name
            assert git(cli.root, "status", "--porcelain") == "", name
            check = cli("check")
            assert check.exit_code == 0, (name, check.output)
            assert "0 个错误" in check.output


def ok(result):
    assert result.exit_code == 0, result.output
    return result


def cards(root: Path) -> dict[str, tuple[str, str]]:
    """ID -> (state, title) of every card on a clone; fails on a duplicate ID."""
    found = {}
    for card in Board(root).cards():
        assert card.id not in found, f"{card.id} twice"
        found[card.id] = (card.state, card.title)
    return found


def offline(team: Team, a_does: list[list[str]], b_does: list[list[str]]):
    """a and b each change the board offline, a syncs first; returns b's sync result.

    `team.before` keeps b's commit and index and the remote's head from just before b's sync.
    """
    a, b = team.clones["a"], team.clones["b"]
    for args in a_does:
        ok(a(*args))
    for args in b_does:
        ok(b(*args))
    ok(a("sync"))
    team.before = (_before(b), team.remote_head())
    return b("sync")


def trailers(root: Path, rev: str) -> str:
    return git(root, "log", "-1", "--format=%(trailers:only,unfold)", rev)


@pytest.fixture
def team(tmp_path, board) -> Team:
    return Team(tmp_path, board)


def make_shared(tmp: Path, board: Path) -> Team:
    """Two clones sharing SKU-0001 and SKU-0002 (planning), both owned by 王丽."""
    team = Team(tmp, board)
    a = team.clones["a"]
    ok(a("new", "sku", "连衣裙", "--owner", "wangli"))
    ok(a("new", "sku", "T恤", "--owner", "wangli"))
    ok(a("sync"))
    team.clone("b")
    return team


SHARED = ("board", "remote.git", "b")  # clone a (the `board` fixture's place), the remote, clone b


@pytest.fixture(scope="session")
def shared_template(tmp_path_factory, board_template) -> Path:
    """`make_shared` once per worker; the folder holding its remote and clones (`shared` copies them)."""
    def make(root, mp):
        make_shared(root.parent, copy_board(board_template, root))
    return make_template(tmp_path_factory, "shared", make).parent


@pytest.fixture
def shared(tmp_path, board, shared_template) -> Team:
    """`make_shared` in this test's folder: a copy of the worker's, the clones pointing at the copied remote."""
    shutil.rmtree(board)
    for name in SHARED:
        shutil.copytree(shared_template / name, tmp_path / name, symlinks=True)
    for clone in ("board", "b"):
        for name in ("config", "FETCH_HEAD"):
            path = tmp_path / clone / ".git" / name
            if path.exists():
                path.write_text(path.read_text("utf-8").replace(str(shared_template), str(tmp_path)), "utf-8")
    return Team.copied(tmp_path, {"a": board, "b": tmp_path / "b"})


# --- ID collisions ----------------------------------------------------------------------------

def test_offline_id_collisions_renumber_the_unpushed_cards_and_rewrite_their_links(team):
    a, b, c = team.clones["a"], team.clone("b"), team.clone("c")
    ok(a("new", "sku", "王丽的新品", "--owner", "wangli"))
    ok(b("new", "sku", "赵敏的新品", "--owner", "zhaomin"))
    ok(b("new", "campaign", "双十二", "--owner", "zhaomin", "--set", "platform=douyin", "--set", "skus=SKU-0001"))
    ok(c("new", "sku", "陈静的新品", "--owner", "chenjing"))
    ok(c("new", "asset", "主图", "--owner", "chenjing", "--set", "kind=主图", "--set", "skus=SKU-0001"))

    ok(a("sync"))
    out_b = ok(b("sync")).output
    assert "你新建的卡片 SKU-0001 改号为 SKU-0002：同事先建了 SKU-0001。" in out_b
    assert "CMP-0001 中的链接已改为指向 SKU-0002" in out_b
    assert "SKU-0001 王丽的新品：新建，在「规划中」（王丽）" in out_b
    out_c = ok(c("sync")).output
    assert "你新建的卡片 SKU-0001 改号为 SKU-0003" in out_c
    assert "MAT-0001 中的链接已改为指向 SKU-0003" in out_c
    team.settle()

    for cli in team.clones.values():
        found = cards(cli.root)
        assert {k: v[1] for k, v in found.items()} == {
            "SKU-0001": "王丽的新品", "SKU-0002": "赵敏的新品", "SKU-0003": "陈静的新品",
            "CMP-0001": "双十二", "MAT-0001": "主图"}
        board = Board(cli.root)
        assert board.get("CMP-0001").meta["skus"] == ["SKU-0002"]
        assert board.get("MAT-0001").meta["skus"] == ["SKU-0003"]

    root = team.clones["a"].root
    log = git(root, "log", "--format=%H %s")
    renumbers = [line.split(" ", 1) for line in log.splitlines() if " renumber " in f" {line.split(' ', 1)[1]}"]
    assert [s for _, s in renumbers] == ["renumber SKU-0001 → SKU-0003", "renumber SKU-0001 → SKU-0002"]
    sha = renumbers[1][0]
    assert trailers(root, sha).splitlines() == [
        "Card: SKU-0002", "Action: renumber", "From-Id: SKU-0001", "To-Id: SKU-0002", "Relinked: CMP-0001"]
    assert git(root, "show", "--format=", "--name-status", sha).splitlines() == [
        "M\tcampaign/planned/CMP-0001.md", "R100\tsku/planning/SKU-0001.md\tsku/planning/SKU-0002.md"]
    diff = git(root, "show", "--format=", "-U0", sha, "--", "campaign/planned/CMP-0001.md")
    assert [l for l in diff.splitlines() if l[:1] in "+-" and l[:3] not in ("+++", "---")] == [
        "-skus: [SKU-0001]", "+skus: [SKU-0002]"]
    assert git(team.remote, "log", "--format=%s").count("new SKU-0001") == 3  # every creation kept once


def test_a_renumbered_card_is_also_renamed_where_the_local_cards_text_names_it(team):
    a, b = team.clones["a"], team.clone("b")
    ok(a("new", "sku", "王丽的新品", "--owner", "wangli"))
    ok(b("new", "sku", "赵敏的新品", "--owner", "zhaomin"))
    ok(b("new", "campaign", "双十二", "--owner", "zhaomin", "--set", "platform=douyin"))
    campaign = b.root / "campaign/planned/CMP-0001.md"
    campaign.write_text(campaign.read_text("utf-8") + "\n主推SKU-0001，搭配 SKU-00012;详见 [SKU-0001](SKU-0001.html)。\n",
                        "utf-8")
    sku = b.root / "sku/planning/SKU-0001.md"
    sku.write_text(sku.read_text("utf-8") + "\nSKU-0001 的主图下周拍。\n", "utf-8")
    git(b.root, "commit", "-qam", "备注")
    ok(a("sync"))
    out = ok(b("sync")).output
    assert "你新建的卡片 SKU-0001 改号为 SKU-0002" in out
    assert "CMP-0001 中的链接已改为指向 SKU-0002" in out
    text = (b.root / "campaign/planned/CMP-0001.md").read_text("utf-8")
    assert "主推SKU-0002，搭配 SKU-00012;详见 [SKU-0002](SKU-0002.html)。" in text
    assert "SKU-0002 的主图下周拍。" in (b.root / "sku/planning/SKU-0002.md").read_text("utf-8")
    assert "SKU-0002" not in (b.root / "sku/planning/SKU-0001.md").read_text("utf-8")  # 王丽's card: untouched
    team.settle()


def test_a_collision_with_a_card_already_renumbered_elsewhere_takes_the_next_free_id(team):
    a, b = team.clones["a"], team.clone("b")
    ok(a("new", "sku", "一", "--owner", "wangli"))
    ok(a("new", "sku", "二", "--owner", "wangli"))
    ok(b("new", "sku", "赵敏一", "--owner", "zhaomin"))
    ok(a("sync"))
    out = ok(b("sync")).output
    assert "你新建的卡片 SKU-0001 改号为 SKU-0003" in out
    team.settle()
    assert {k: v[1] for k, v in cards(a.root).items()} == {"SKU-0001": "一", "SKU-0002": "二", "SKU-0003": "赵敏一"}


# --- moves and edits --------------------------------------------------------------------------

def test_moves_of_different_cards_rebase_into_one_straight_history(shared):
    a = shared.clones["a"]
    out = ok(offline(shared, [["move", "SKU-0001", "shooting"]], [["move", "SKU-0002", "content"]])).output
    assert "来自团队的变化（1 张卡片）：\n  SKU-0001 连衣裙：规划中 → 拍摄中（王丽）" in out
    assert "发送了 1 个提交。" in out
    shared.settle()
    for cli in shared.clones.values():
        assert cards(cli.root) == {"SKU-0001": ("shooting", "连衣裙"), "SKU-0002": ("content", "T恤")}
        assert git(cli.root, "rev-list", "--merges", "HEAD") == ""
    subjects = git(a.root, "log", "-2", "--format=%s").splitlines()
    assert subjects == ["move SKU-0002: 规划中 → 文案详情", "move SKU-0001: 规划中 → 拍摄中"]


def test_edits_to_different_fields_of_one_card_merge_field_by_field(shared):
    a = shared.clones["a"]
    out = ok(offline(shared, [["set", "SKU-0001", "price=99", "due=2026-12-01"]],
                     [["set", "SKU-0001", "category=女装", "owner=zhaomin"], ["move", "SKU-0001", "shooting"]])).output
    assert "已逐字段合并两边对 SKU-0001 的修改。" in out
    assert "  SKU-0001 连衣裙：修改了 价格、截止日期（王丽）\n" in out
    shared.settle()
    for cli in shared.clones.values():
        text = (cli.root / "sku/shooting/SKU-0001.md").read_text("utf-8")
        assert text.startswith("---\ntitle: 连衣裙\nowner: zhaomin\nprice: 99\ndue: 2026-12-01\ncategory: 女装\n---\n\n## 上新清单")
        assert not (cli.root / "sku/planning/SKU-0001.md").exists()
    assert git(a.root, "rev-list", "--merges", "HEAD") == ""


def test_a_move_and_an_edit_of_one_card_both_survive(shared):
    a, b = shared.clones["a"], shared.clones["b"]
    ok(offline(shared, [["move", "SKU-0001", "shooting"]], [["set", "SKU-0001", "price=88"]]))
    shared.settle()
    assert Board(b.root).get("SKU-0001").path == "sku/shooting/SKU-0001.md"
    assert Board(a.root).get("SKU-0001").meta["price"] == 88


def _before(cli) -> tuple[str, str]:
    return git(cli.root, "rev-parse", "HEAD"), git(cli.root, "ls-files", "-s")


def _assert_untouched(cli, team):
    """The clone is exactly as before the sync: same commit, same index, clean tree, nothing pushed."""
    before, remote_head = team.before
    assert _before(cli) == before
    assert git(cli.root, "status", "--porcelain") == ""
    gd = cli.root / ".git"
    assert not (gd / "rebase-merge").exists() and not (gd / "MERGE_HEAD").exists()
    assert team.remote_head() == remote_head
    assert ok(cli("check")).exit_code == 0


@pytest.mark.parametrize("side", ["theirs", "ours"])
def test_one_card_moved_two_ways_stops_cleanly_then_a_side_is_picked(shared, side):
    a, b = shared.clones["a"], shared.clones["b"]
    result = offline(shared, [["move", "SKU-0001", "shooting"]], [["move", "SKU-0001", "content"]])
    assert result.exit_code == 1
    assert result.output == (
        "错误：同步已停止：你和同事把同一处改成了不同的样子。\n"
        "SKU-0001 连衣裙：你把它移到了「文案详情」，王丽把它移到了「拍摄中」。\n"
        "什么都没有改变：本机和同步前完全一样，也没有推送任何内容。\n"
        "选一边后再同步：\n"
        "  mdboard sync --ours SKU-0001     保留你的修改\n"
        "  mdboard sync --theirs SKU-0001   保留远程（同事）的修改\n")
    _assert_untouched(b, shared)
    assert (b.root / "sku/content/SKU-0001.md").exists()

    ok(b("sync", f"--{side}", "SKU-0001"))
    shared.settle()
    state = "shooting" if side == "theirs" else "content"
    for cli in shared.clones.values():
        assert cards(cli.root)["SKU-0001"] == (state, "连衣裙")
    moves = git(a.root, "log", "--format=%s", "--", "sku").count("move SKU-0001")
    assert moves == (1 if side == "theirs" else 2)


def test_one_field_set_two_ways_stops_with_both_values_then_ours_wins(shared):
    a, b = shared.clones["a"], shared.clones["b"]
    result = offline(shared, [["set", "SKU-0001", "price=99", "category=女装"]],
                     [["set", "SKU-0001", "price=129", "due=2026-12-03"]])
    assert result.exit_code == 1
    assert "SKU-0001 连衣裙：字段 价格（price）——你改成了 ¥129，王丽改成了 ¥99。" in result.output
    assert "mdboard sync --ours SKU-0001" in result.output
    _assert_untouched(b, shared)

    out = ok(b("sync", "--ours", "SKU-0001")).output
    assert "SKU-0001：两边改了同一处的地方，按你的选择保留了一边。" in out
    shared.settle()
    meta = Board(a.root).get("SKU-0001").meta
    assert (meta["price"], meta["category"], meta["due"]) == (129, "女装", "2026-12-03")


def test_a_combination_that_breaks_a_rule_is_not_pushed_until_fixed(team):
    a = team.clones["a"]
    ok(a("new", "campaign", "年货节", "--owner", "wangli", "--set", "platform=tmall"))
    ok(a("sync"))
    b = team.clone("b")
    ok(a("set", "CMP-0001", "signup_end=2026-12-10"))
    ok(b("set", "CMP-0001", "materials_due=2026-12-05"))
    ok(a("sync"))
    remote_head = team.remote_head()
    result = b("sync")
    assert result.exit_code == 1
    assert "没有推送：和远程合并后，下面这些卡片有问题：\ncampaign/planned/CMP-0001.md:materials_due:" in result.output
    assert team.remote_head() == remote_head
    ok(b("set", "CMP-0001", "materials_due=2026-12-12"))
    ok(b("sync"))
    team.settle()
    meta = Board(a.root).get("CMP-0001").meta
    assert (meta["signup_end"], meta["materials_due"]) == ("2026-12-10", "2026-12-12")


# --- a push race --------------------------------------------------------------------------------

def test_when_the_remote_moves_between_fetch_and_push_sync_integrates_again(shared, monkeypatch):
    a, b = shared.clones["a"], shared.clones["b"]
    ok(a("new", "sku", "抢先的卡片", "--owner", "wangli"))  # committed on a, pushed just before b's push
    ok(b("move", "SKU-0002", "shooting"))
    marker = shared.tmp / "raced"
    real_run_git = sync_module.run_git

    def racing_run_git(cwd, *args, **kw):
        """a pushes first, right before b's first push (mdboard runs no hook, so no pre-push hook can)."""
        if "push" in args and not marker.exists():
            marker.touch()
            git(a.root, "push", "-q", "origin", "main")
        return real_run_git(cwd, *args, **kw)

    monkeypatch.setattr(sync_module, "run_git", racing_run_git)
    out = ok(b("sync")).output
    assert marker.exists()
    assert "（同步期间远程有变化，共尝试了 2 次）" in out
    assert "SKU-0003 抢先的卡片：新建，在「规划中」（王丽）" in out
    shared.settle()
    for cli in shared.clones.values():
        assert cards(cli.root) == {"SKU-0001": ("planning", "连衣裙"), "SKU-0002": ("shooting", "T恤"),
                                   "SKU-0003": ("planning", "抢先的卡片")}
    assert git(a.root, "log", "--format=%s").splitlines()[:2] == ["move SKU-0002: 规划中 → 拍摄中",
                                                                  "new SKU-0003: 抢先的卡片"]


# --- clear refusals -----------------------------------------------------------------------------

def test_no_remote(cli):
    result = cli("sync")
    assert result.exit_code == 1
    assert result.output == ("错误：这个看板还没有远程仓库，没有可以同步的对象。先添加团队共享的仓库："
                             "git remote add origin 地址（见 docs/teams.md），再运行 mdboard sync\n")


def test_not_a_repository(tmp_path):
    root = tmp_path / "loose"
    proc = Cli(tmp_path).proc("--no-commit", "init", str(root))
    assert proc.returncode == 0, proc.stderr
    proc = Cli(root).proc("sync")
    assert proc.returncode == 1
    assert proc.stderr == (f"错误：{root} 不在 git 仓库里，无法共享。先在那里运行 git init"
                           "（或用 git clone 地址 克隆团队的看板），再运行 mdboard sync\n")
    assert "Traceback" not in proc.stderr


def test_unreachable_remote(cli, board, tmp_path):
    git(board, "remote", "add", "origin", str(tmp_path / "nowhere.git"))
    proc = cli.proc("sync")
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"错误：连不上远程 origin（{tmp_path / 'nowhere.git'}）：")
    assert "请检查网络、地址（git remote -v）和访问权限" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_uncommitted_card_changes_are_named_and_nothing_happens(shared):
    b = shared.clones["b"]
    path = b.root / "sku/planning/SKU-0001.md"
    path.write_text(path.read_text("utf-8").replace("连衣裙", "长裙"), "utf-8")
    (b.root / "sku/planning/SKU-0009.md").write_text("---\ntitle: 手写\nowner: zhaomin\n---\n", "utf-8")
    before = git(b.root, "rev-parse", "HEAD")
    result = b("sync")
    assert result.exit_code == 1
    assert result.output == (
        "错误：这些文件有尚未提交的修改，无法开始同步：\n"
        "  sku/planning/SKU-0001.md\n  sku/planning/SKU-0009.md\n"
        "请先提交（先检查：mdboard check；再 git add sku/planning/SKU-0001.md … && git commit -m \"改了什么\"），"
        "或用 git restore sku/planning/SKU-0001.md … 放弃这些修改；然后再运行 mdboard sync。\n")
    assert git(b.root, "rev-parse", "HEAD") == before
    assert "长裙" in path.read_text("utf-8")


def test_json_report_and_english(shared):
    a, b = shared.clones["a"], shared.clones["b"]
    cfg = a.root / "mdboard.yaml"
    cfg.write_text(cfg.read_text("utf-8").replace("language: zh-CN", "language: en"), "utf-8")
    git(a.root, "commit", "-qam", "English please")
    ok(a("move", "SKU-0001", "shooting"))
    ok(a("sync"))
    result = ok(b("sync", "--json"))
    import json

    data = json.loads(result.output)
    assert data["pushed"] == 0 and data["remote"] == "origin" and data["branch"] == "main"
    assert [(e["id"], e["moved"], e["who"]) for e in data["incoming"]] == [("SKU-0001", ["planning", "shooting"], ["王丽"])]
    out = ok(a("sync")).output
    assert out == "Synced with origin/main.\nNothing new from your team.\nNothing to send.\n"


def test_sync_as_a_real_process(shared):
    a, b = shared.clones["a"], shared.clones["b"]
    ok(a("move", "SKU-0001", "shooting"))
    ok(a("sync"))
    proc = b.proc("sync")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["已与 origin/main 同步。", "来自团队的变化（1 张卡片）：",
                                        "  SKU-0001 连衣裙：规划中 → 拍摄中（王丽）", "没有需要发送的内容。"]


def test_a_remote_with_another_history_is_refused(team, tmp_path):
    other = tmp_path / "other"
    assert Cli(tmp_path).proc("init", str(other), "--title", "另一个看板").returncode == 0
    git(other, "remote", "add", "origin", str(team.remote))
    proc = Cli(other).proc("sync")
    assert proc.returncode == 1
    assert proc.stderr.startswith("错误：远程仓库里是另一段历史：这个看板不是从它克隆来的。")
    assert git(other, "log", "--format=%s") == "init: mdboard board"


def test_a_conflict_during_a_renumbering_sync_also_undoes_the_renumbering(shared):
    a, b = shared.clones["a"], shared.clones["b"]
    result = offline(shared, [["new", "sku", "王丽的", "--owner", "wangli"], ["move", "SKU-0001", "shooting"]],
                     [["new", "sku", "赵敏的", "--owner", "zhaomin"], ["move", "SKU-0001", "content"]])
    assert result.exit_code == 1
    assert "SKU-0001 连衣裙：你把它移到了「文案详情」，王丽把它移到了「拍摄中」。" in result.output
    _assert_untouched(b, shared)
    assert "renumber" not in git(b.root, "log", "--format=%s")

    out = ok(b("sync", "--theirs", "SKU-0001")).output
    assert "你新建的卡片 SKU-0003 改号为 SKU-0004" in out
    shared.settle()
    for cli in shared.clones.values():
        assert cards(cli.root) == {"SKU-0001": ("shooting", "连衣裙"), "SKU-0002": ("planning", "T恤"),
                                   "SKU-0003": ("planning", "王丽的"), "SKU-0004": ("planning", "赵敏的")}
    assert git(a.root, "log", "-1", "--format=%s", "HEAD^2") == "move SKU-0001: 规划中 → 拍摄中"
    assert git(a.root, "log", "-1", "--format=%s") == "sync: merge origin/main"


# --- picking a side settles only what clashed ---------------------------------------------------

def hand_edit(cli, path: str, *replacements: tuple[str, str], append: str = "", message: str = "手改") -> None:
    """Edit a card file by hand and commit it with plain git."""
    file = cli.root / path
    text = file.read_text("utf-8")
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new)
    file.write_text(text + append, "utf-8")
    git(cli.root, "commit", "-qam", message)


@pytest.mark.parametrize("side,collide", [("ours", False), ("theirs", False), ("ours", True), ("theirs", True)])
def test_picking_a_side_keeps_the_other_sides_edits_that_did_not_clash(shared, side, collide):
    """Issue 13.3: A ticks 拍摄 and adds a line at the end, B ticks 主图 and adds another line
    there. B's sync stops on the two new lines; `--ours`/`--theirs` keeps both ticks and both lines.
    With `collide` both also created a card offline, so sync merges (and renumbers) instead of
    rebasing, and the picked side is a commit of its own."""
    a, b = shared.clones["a"], shared.clones["b"]
    path = "sku/planning/SKU-0001.md"
    hand_edit(a, path, ("- [ ] 拍摄", "- [x] 拍摄"), append="王丽：样品周三到\n")
    hand_edit(b, path, ("- [ ] 主图", "- [x] 主图"), append="赵敏：主图用白底\n")
    if collide:
        ok(a("new", "sku", "王丽的新品", "--owner", "wangli"))
        ok(b("new", "sku", "赵敏的新品", "--owner", "zhaomin"))
    ok(a("sync"))
    stopped = b("sync")
    assert stopped.exit_code == 1
    assert "SKU-0001 连衣裙：你和王丽都改了字段下面正文的同一处。" in stopped.output
    out = ok(b("sync", f"--{side}", "SKU-0001")).output
    assert "SKU-0001：两边改了同一处的地方，按你的选择保留了一边。" in out
    shared.settle()
    for cli in shared.clones.values():
        text = (cli.root / path).read_text("utf-8")
        assert "- [x] 拍摄\n- [x] 主图\n" in text
        assert text.endswith("王丽：样品周三到\n赵敏：主图用白底\n")
        if collide:
            assert {k: v[1] for k, v in cards(cli.root).items() if k in ("SKU-0003", "SKU-0004")} == {
                "SKU-0003": "王丽的新品", "SKU-0004": "赵敏的新品"}


def test_edits_next_to_each_other_merge_without_stopping(shared):
    a, b = shared.clones["a"], shared.clones["b"]
    path = "sku/planning/SKU-0001.md"
    hand_edit(a, path, ("- [ ] 拍摄", "- [x] 拍摄"), append="王丽：样品周三到\n")
    hand_edit(b, path, ("- [ ] 主图", "- [x] 主图"))
    ok(a("sync"))
    assert "已逐字段合并两边对 SKU-0001 的修改。" in ok(b("sync")).output
    shared.settle()
    text = (a.root / path).read_text("utf-8")
    assert "- [x] 拍摄\n- [x] 主图\n" in text and text.endswith("王丽：样品周三到\n")


def test_the_same_line_written_two_ways_takes_the_picked_side(shared):
    a, b = shared.clones["a"], shared.clones["b"]
    path = "sku/planning/SKU-0001.md"
    hand_edit(a, path, ("## 上新清单", "## 上新清单（王丽）"), ("- [ ] 拍摄", "- [x] 拍摄"))
    hand_edit(b, path, ("## 上新清单", "## 上新清单（赵敏）"), ("- [ ] 详情页", "- [x] 详情页"))
    ok(a("sync"))
    assert b("sync").exit_code == 1
    ok(b("sync", "--theirs", "SKU-0001"))
    shared.settle()
    text = (b.root / path).read_text("utf-8")
    assert "## 上新清单（王丽）" in text and "赵敏）" not in text
    assert "- [x] 拍摄" in text and "- [x] 详情页" in text


# --- a WIP limit that only the two sides together break ---------------------------------------------

def test_sync_says_when_both_sides_together_fill_a_state_beyond_its_wip_limit(team):
    """Issue 13.7: each clone moves one card into 拍摄中 (limit 6), which held 5; sync says so."""
    a = team.clones["a"]
    for n in range(1, 8):
        ok(a("new", "sku", f"款式{n}", "--owner", "wangli"))
    for n in range(1, 6):
        ok(a("move", f"SKU-000{n}", "shooting"))
    ok(a("sync"))
    b = team.clone("b")
    ok(a("move", "SKU-0006", "shooting"))
    ok(b("move", "SKU-0007", "shooting"))
    assert "WIP" not in ok(a("sync")).output
    warning = ("注意：同步后，上新「拍摄中」有 7 张卡片，超过了 WIP 上限 6（本机和远程各自移入的卡片合到了一起）。"
               "请和团队商量先完成哪张，或用 mdboard move 把一张移回去。")
    out = ok(b("sync")).output
    assert out.endswith("发送了 1 个提交。\n" + warning + "\n")
    assert warning in ok(a("sync")).output
    assert "WIP" not in ok(a("sync")).output  # said once, when it happened
    import json

    ok(b("move", "SKU-0007", "planning"))
    data = json.loads(ok(b("sync", "--json")).output)
    assert data["over_wip"] == []
    team.settle()


# --- archived cards (issue 19) are cards too ---------------------------------------------------

@pytest.mark.parametrize("archiver,collide", [("a", False), ("b", False), ("a", True), ("b", True)])
def test_a_card_archived_on_one_side_and_edited_on_the_other_is_one_card_with_the_edit(team, at, archiver,
                                                                                       collide):
    """`archive` files a finished card under its state's year folder; a teammate who edited
    the card meanwhile (it is done, but notes still come in) does not lose the edit, and the
    card does not come back beside its archived copy."""
    a = team.clones["a"]
    at("2026-01-10T10:00:00+08:00")
    ok(a("new", "asset", "主图", "--owner", "wangli", "--set", "kind=主图"))
    ok(a("move", "MAT-0001", "live"))
    ok(a("sync"))
    b = team.clone("b")
    editor = b if archiver == "a" else a
    at("2026-03-02T10:00:00+08:00")
    assert "MAT-0001" in ok(team.clones[archiver]("archive", "--days", "30")).output
    ok(editor("assign", "MAT-0001", "zhaomin"))
    hand_edit(editor, "asset/live/MAT-0001.md", append="终稿已发给运营\n")
    if collide:
        ok(a("new", "sku", "王丽的新品", "--owner", "wangli"))
        ok(b("new", "sku", "赵敏的新品", "--owner", "zhaomin"))
    ok(a("sync"))
    out = ok(b("sync")).output
    assert "错误" not in out and "MAT-0001 MAT-0001" not in out
    if archiver == "b":  # what came in for b: a's edit of the card b has archived, under its title
        assert "  MAT-0001 主图：" in out
    team.settle()
    for cli in team.clones.values():
        board = Board(cli.root)
        archived = [c for c in board.archived_cards() if c.id == "MAT-0001"]
        assert len(archived) == 1 and "MAT-0001" not in {c.id for c in board.cards()}
        assert archived[0].meta["owner"] == "zhaomin"
        assert board.read_text(archived[0]).endswith("终稿已发给运营\n")
