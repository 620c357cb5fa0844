"""A change is committed from the trees that hold its paths (mdboard.git.commit), and the
result is what `git commit --only` made: the same commit (tree, parent, author, committer,
message), the same index, the same work tree, the user's other staged work left staged."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from conftest import Cli, git


def snapshot(root) -> dict:
    """Everything a commit leaves behind: the commit itself, the index, the status, the reflog."""
    return {"head": git(root, "rev-parse", "HEAD"), "commit": git(root, "cat-file", "-p", "HEAD"),
            "index": git(root, "ls-files", "-s"), "status": git(root, "status", "--porcelain"),
            "staged": git(root, "diff", "--cached", "--name-status"),
            "reflog": git(root, "reflog", "-1", "--format=%gs")}


STEPS = [("new", "sku", "数据线", "--owner", "liuyang", "--set", "price=19"),
         ("set", "SKU-0001", "price=29", "platforms=douyin"),
         ("move", "SKU-0001", "shooting"),
         ("assign", "SKU-0001", "zhaomin"),
         ("note", "SKU-0001", "主图已拍"),
         ("new", "issue", "物流破损", "--owner", "sunli", "--set", "platform=tmall", "--set", "problem=物流",
          "--set", "order_no=A1", "--due", "2026-11-26 10:00"),
         ("move", "SKU-0001", "content"),
         ("new", "sku", "充电宝", "--owner", "chenjing")]


@pytest.fixture
def built(monkeypatch) -> list:
    """What each PathCommit.build returned (None: `git commit` made the commit), in order."""
    from mdboard.git.commit import PathCommit

    out, real = [], PathCommit.build

    def build(self, *args, **kw):
        out.append(real(self, *args, **kw))
        return out[-1]

    monkeypatch.setattr(PathCommit, "build", build)
    return out


def twins(board, tmp_path) -> tuple[Cli, Cli]:
    """The board's repository twice: `fast` as it is, `porcelain` set up so that mdboard
    commits through `git commit` (a configured message clean-up it leaves to git)."""
    other = tmp_path / "porcelain"
    shutil.copytree(board, other, symlinks=True)
    git(other, "config", "commit.cleanup", "whitespace")  # git's own default for -F: same messages
    return Cli(board), Cli(other)


def set_note_move_as_twins(board, tmp_path, built) -> Cli:
    """set, note and move SKU-0001 on both twins: the same files and commits, each written
    by this path (`built`: its commit ids, None where git commit made it); the fast twin."""
    fast, porcelain = twins(board, tmp_path)
    built.clear()
    for step in [("set", "SKU-0001", "price=29"), ("note", "SKU-0001", "主图已拍"), ("move", "SKU-0001", "shooting")]:
        for cli in (fast, porcelain):
            cli.ok("--as", "wangli", *step)
        assert snapshot(fast.root) == snapshot(porcelain.root), step
        assert built[-2] == git(fast.root, "rev-parse", "HEAD") and built[-1] is None
    return fast


def test_each_change_commits_what_git_commit_only_commits(board, tmp_path, monkeypatch, built):
    monkeypatch.setenv("GIT_AUTHOR_DATE", "2026-11-25T09:00:00+08:00")
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2026-11-25T09:00:00+08:00")
    fast, porcelain = twins(board, tmp_path)
    for cli in (fast, porcelain):  # the user's own work in progress, staged and not
        (cli.root / "备忘.txt").write_text("周五盘点\n", "utf-8")
        git(cli.root, "add", "备忘.txt")
        (cli.root / "草稿.txt").write_text("未跟踪\n", "utf-8")
    for step in STEPS:
        for cli in (fast, porcelain):
            cli.ok("--as", "wangli", *step)
        assert snapshot(fast.root) == snapshot(porcelain.root), step
        assert built[-2] == git(fast.root, "rev-parse", "HEAD") and built[-1] is None  # each its own way
    assert git(fast.root, "-c", "core.quotepath=false", "diff", "--cached", "--name-only") == "备忘.txt"
    assert "备忘.txt" not in git(fast.root, "-c", "core.quotepath=false", "log", "--name-only", "--format=")
    fsck = subprocess.run(["git", "fsck", "--strict", "--no-progress"], cwd=fast.root, capture_output=True, text=True)
    assert fsck.returncode == 0, fsck.stdout + fsck.stderr


def test_a_board_in_a_folder_of_a_larger_repository(tmp_path, monkeypatch, built):
    """The card paths sit under the board's folder in the repository's trees."""
    monkeypatch.setenv("GIT_AUTHOR_DATE", "2026-11-25T09:00:00+08:00")
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2026-11-25T09:00:00+08:00")
    top = tmp_path / "shop"
    top.mkdir()
    git(top, "init", "-q")
    (top / "README.md").write_text("店铺\n", "utf-8")
    git(top, "add", "README.md")
    git(top, "commit", "-qm", "start")
    (top / "运营/看板").mkdir(parents=True)
    Cli(top).ok("init", "运营/看板")  # committed in the shop's repository
    assert git(top, "status", "--porcelain") == ""
    other = tmp_path / "porcelain"
    shutil.copytree(top, other, symlinks=True)
    git(other, "config", "commit.cleanup", "whitespace")
    fast, porcelain = Cli(top / "运营/看板"), Cli(other / "运营/看板")
    for step in [("new", "sku", "数据线", "--owner", "me"), ("set", "SKU-0001", "price=29"),
                 ("move", "SKU-0001", "shooting"),
                 ("new", "sku", "充电宝", "--owner", "me")]:
        for cli in (fast, porcelain):
            cli.ok(*step)
        assert snapshot(top) == snapshot(other), step
        assert built[-2] == git(top, "rev-parse", "HEAD") and built[-1] is None
    assert git(top, "ls-tree", "--name-only", "-z", "HEAD").strip("\0").split("\0") == ["README.md", "运营"]
    assert git(top, "show", "HEAD:运营/看板/sku/shooting/SKU-0001.md").startswith("---\n")


def test_the_commit_keeps_git_identity_and_the_environment_dates(board, monkeypatch):
    """The author is who acts (--as), the committer git's own user, dates as git takes them."""
    monkeypatch.setenv("GIT_AUTHOR_DATE", "2026-11-20T10:00:00+08:00")
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2026-11-20T11:00:00+08:00")
    Cli(board).ok("--as", "zhaomin", "new", "sku", "智能手表", "--owner", "zhaomin")
    out = git(board, "log", "-1", "--format=%an <%ae>|%cn <%ce>|%aI|%cI|%s|%(trailers:only,unfold)")
    author, committer, adate, cdate, subject, trailers = out.split("|")
    assert author.endswith("<zhaomin@example.com>") and committer == "王丽 <wangli@example.com>"
    assert (adate, cdate) == ("2026-11-20T10:00:00+08:00", "2026-11-20T11:00:00+08:00")
    assert subject == "new SKU-0001: 智能手表"
    assert trailers.split("\n")[:2] == ["Card: SKU-0001", "Action: new"]
    assert git(board, "reflog", "-1", "--format=%gs") == "commit: new SKU-0001: 智能手表"
    assert git(board, "status", "--porcelain") == ""


def somebody_commits_first(board, monkeypatch) -> None:
    """From now on somebody commits (with git) right before mdboard moves the branch."""
    from mdboard.git import changes

    real = changes.GitRepo.run

    def run(self, *args, **kw):
        if args and args[0] == "update-ref":
            (board / "别人.txt").write_text("x\n", "utf-8")
            subprocess.run(["git", "add", "别人.txt"], cwd=board, check=True)
            subprocess.run(["git", "commit", "-qm", "别人的提交", "--", "别人.txt"], cwd=board, check=True)
        return real(self, *args, **kw)

    monkeypatch.setattr(changes.GitRepo, "run", run)


def test_a_branch_moved_meanwhile_is_never_overwritten(board, monkeypatch):
    """update-ref names the commit the change was built on: a HEAD that moved in between
    refuses the change, and the files and index are put back."""
    cli = Cli(board)
    cli.ok("new", "sku", "数据线", "--owner", "liuyang")
    somebody_commits_first(board, monkeypatch)
    before = (board / "sku/planning/SKU-0001.md").read_text("utf-8")
    result = cli("set", "SKU-0001", "price=39")
    assert result.exit_code == 1, result.output
    assert git(board, "log", "-1", "--format=%s") == "别人的提交"
    assert (board / "sku/planning/SKU-0001.md").read_text("utf-8") == before
    assert git(board, "status", "--porcelain") == ""


def test_git_packs_loose_objects_when_its_limit_is_passed(board):
    """As `git commit` runs `git maintenance run --auto`, so does a change past gc.auto:
    git's gc packs the repository's objects."""
    git(board, "config", "gc.auto", "1")
    git(board, "config", "gc.autoDetach", "false")
    packs = board / ".git/objects/pack"
    assert list(packs.glob("*.pack")) == []
    blobs = board.parent / "blobs"
    blobs.mkdir()
    n = 0
    while len(list((board / ".git/objects/17").glob("*"))) < 2:  # git's estimate: objects/17 times 256
        paths = []
        for _ in range(200):
            n += 1
            (blobs / str(n)).write_text(str(n), "utf-8")
            paths.append(str(blobs / str(n)))
        subprocess.run(["git", "hash-object", "-w", "--stdin-paths"], cwd=board, input="\n".join(paths), text=True,
                       check=True, capture_output=True)
    Cli(board).ok("new", "sku", "数据线", "--owner", "liuyang")
    assert list(packs.glob("*.pack")) != []
    assert git(board, "status", "--porcelain") == ""


def git_commands(monkeypatch) -> list[str]:
    """The git commands mdboard runs from now on, by name."""
    from mdboard.git import runner

    seen, real = [], runner.run_git

    def run_git(cwd, *args, **kw):
        seen.append(args[runner._subcommand(args)])
        return real(cwd, *args, **kw)

    monkeypatch.setattr(runner, "run_git", run_git)
    return seen


def new_trees(root) -> list[str]:
    """The trees HEAD's commit has that its parent's has not (the root tree and the changed folders)."""
    def trees(rev):
        return {line.split()[2] for line in git(root, "ls-tree", "-r", "-t", rev).splitlines() if line.split()[1] == "tree"} \
            | {git(root, "rev-parse", rev + "^{tree}")}
    return sorted(trees("HEAD") - trees("HEAD~1"))


def test_the_new_trees_are_stored_as_git_stores_loose_objects_without_starting_git(board, monkeypatch):
    """The trees a change makes are written here (git mktree cost a team action ~8 ms of
    CPU): loose, read-only, read back by git, checked by fsck; moving a card back writes
    none again (the same trees exist)."""
    cli = Cli(board)
    cli.ok("new", "sku", "数据线", "--owner", "liuyang")
    seen = git_commands(monkeypatch)
    cli.ok("move", "SKU-0001", "shooting")
    assert "mktree" not in seen and "commit" not in seen
    trees = new_trees(board)
    assert len(trees) == 2  # the root and sku/ (shooting/ now holds what planning/ held: that tree exists)
    for oid in trees:
        path = board / ".git/objects" / oid[:2] / oid[2:]
        assert path.is_file() and path.stat().st_mode & 0o222 == 0
        assert git(board, "cat-file", "-t", oid) == "tree"
    assert subprocess.run(["git", "fsck", "--strict", "--no-dangling"], cwd=board, capture_output=True,
                          text=True).returncode == 0
    assert list((board / ".git/objects").glob("*/tmp_obj_*")) == []
    cli.ok("move", "SKU-0001", "planning")
    assert git(board, "rev-parse", "HEAD^{tree}") == git(board, "rev-parse", "HEAD~2^{tree}")
    assert git(board, "status", "--porcelain") == ""


@pytest.mark.parametrize("setting", [("core.sharedRepository", "group"), ("core.fsyncObjectFiles", "true")])
def test_where_git_writes_objects_its_own_way_mktree_writes_the_trees(board, monkeypatch, setting):
    """Shared permissions or fsync asked for: git itself (mktree) writes the trees."""
    git(board, "config", *setting)
    cli = Cli(board)
    cli.ok("new", "sku", "数据线", "--owner", "liuyang")
    seen = git_commands(monkeypatch)
    cli.ok("move", "SKU-0001", "shooting")
    assert "mktree" in seen
    assert git(board, "log", "-1", "--format=%s") == "move SKU-0001: 规划中 → 拍摄中"
    assert git(board, "status", "--porcelain") == ""


@pytest.mark.parametrize("setting", [("commit.cleanup", "verbatim"), ("core.commentChar", "%")])
def test_settings_only_git_commit_honours_still_commit(board, setting, built):
    """Where the repository asks git commit for something this path does not do, git commit runs."""
    git(board, "config", *setting)
    cli = Cli(board)
    cli.ok("new", "sku", "数据线", "--owner", "liuyang")
    assert built == [None]
    assert git(board, "log", "-1", "--format=%s") == "new SKU-0001: 数据线"
    assert git(board, "status", "--porcelain") == ""


def test_stripspace_is_git_stripspace():
    from mdboard.git.commit import stripspace

    for text in ["a\n\nB: \n", "\n\na  \n\n\n\nb\n\n", "x", "", "a\n \n\t\nb: c\t\n"]:
        want = subprocess.run(["git", "stripspace"], input=text, capture_output=True, text=True).stdout
        assert stripspace(text) == want, text


def test_a_folder_holding_a_name_that_is_not_utf8_still_commits(board, built):
    """A file git stores under a name in other bytes, beside the card: git commit keeps it."""
    import os

    cli = Cli(board)
    cli.ok("new", "sku", "数据线", "--owner", "liuyang")
    fd = os.open(os.fsencode(board / "sku/planning") + b"/\xb1\xb8\xcd\xfc.txt", os.O_WRONLY | os.O_CREAT, 0o644)
    os.write(fd, b"gbk\n")
    os.close(fd)
    git(board, "add", "-A")
    git(board, "commit", "-qm", "a GBK name")
    built.clear()
    cli.ok("set", "SKU-0001", "price=29")
    assert built == [None]
    assert git(board, "log", "-1", "--format=%s") == "set SKU-0001: price=29"
    assert git(board, "status", "--porcelain") == ""


def test_a_card_git_records_as_executable_keeps_its_mode_where_file_modes_are_not_trusted(board, tmp_path,
                                                                                          monkeypatch, built):
    """With core.fileMode=false git keeps the mode it has for a file (a card recorded as
    100755 from another computer stays 100755), as `git commit` does; a moved card is new
    to its folder and gets 100644, as in git."""
    monkeypatch.setenv("GIT_AUTHOR_DATE", "2026-11-25T09:00:00+08:00")
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2026-11-25T09:00:00+08:00")
    Cli(board).ok("new", "sku", "数据线", "--owner", "liuyang")
    git(board, "update-index", "--chmod=+x", "sku/planning/SKU-0001.md")
    git(board, "commit", "-qm", "recorded as executable elsewhere")
    git(board, "config", "core.fileMode", "false")
    fast = set_note_move_as_twins(board, tmp_path, built)
    assert git(fast.root, "ls-tree", "HEAD~1", "sku/planning/SKU-0001.md").startswith("100755 ")
    assert git(fast.root, "status", "--porcelain") == ""


def test_a_change_reads_its_trees_before_writing_and_asks_git_no_status(board, monkeypatch):
    """Where a file's blob is its bytes (no attributes, no autocrlf), the trees are read
    once, before anything is written; they tell whether the card holds a hand edit, and
    the blobs are made here: no `git status` (~10 ms of CPU a team action at 10,000
    cards), no second `cat-file`."""
    cli = Cli(board)
    cli.ok("new", "sku", "数据线", "--owner", "liuyang")
    seen = git_commands(monkeypatch)
    cli.ok("move", "SKU-0001", "shooting")
    assert seen == ["cat-file", "update-index", "update-ref"]
    blob = git(board, "rev-parse", "HEAD:sku/shooting/SKU-0001.md")
    assert git(board, "hash-object", "sku/shooting/SKU-0001.md") == blob
    assert git(board, "status", "--porcelain") == ""
    path = board / "sku/shooting/SKU-0001.md"
    path.write_text(path.read_text("utf-8") + "\n手改\n", "utf-8")
    seen.clear()
    refused = cli("move", "SKU-0001", "planning")
    assert refused.exit_code != 0 and "mdboard save SKU-0001" in refused.output
    assert "status" in seen  # git says what the hand edit is
    assert git(board, "log", "-1", "--format=%s") == "move SKU-0001: 规划中 → 拍摄中"


@pytest.mark.parametrize("where", ["board", "info", "crlf"])
def test_where_attributes_or_line_endings_may_apply_git_makes_the_blobs(board, tmp_path, monkeypatch, built, where):
    """A `.gitattributes` (text=auto), the repository's info/attributes, or core.autocrlf:
    git would store a CRLF card with LF line endings, so git makes the blobs (update-index)
    and tells hand edits (status), and the commits are still what `git commit` makes."""
    monkeypatch.setenv("GIT_AUTHOR_DATE", "2026-11-25T09:00:00+08:00")
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2026-11-25T09:00:00+08:00")
    Cli(board).ok("new", "sku", "数据线", "--owner", "liuyang")
    if where == "board":
        (board / ".gitattributes").write_text("*.md text=auto\n", "utf-8")
        git(board, "add", ".gitattributes")
    elif where == "info":
        (board / ".git/info").mkdir(exist_ok=True)
        (board / ".git/info/attributes").write_text("*.md text=auto\n", "utf-8")
    else:
        git(board, "config", "core.autocrlf", "input")
    card = board / "sku/planning/SKU-0001.md"
    card.write_bytes(card.read_bytes().replace(b"\n", b"\r\n"))  # a card written on Windows
    git(board, "add", "-A")
    git(board, "commit", "-q", "--allow-empty", "-m", "CRLF")
    fast = set_note_move_as_twins(board, tmp_path, built)
    assert b"\r" not in subprocess.run(["git", "show", "HEAD:sku/shooting/SKU-0001.md"], cwd=fast.root,
                                       capture_output=True, check=True).stdout
    assert b"\r\n" in (fast.root / "sku/shooting/SKU-0001.md").read_bytes()


def test_the_commit_object_written_here_is_the_one_git_writes_now_in_the_local_zone(board, monkeypatch):
    """No dates in the environment: the commit is dated now in the local time zone, written
    here (no `git commit-tree`), and git writing a commit of the same tree, parent, people
    and dates names the very same object."""
    import time

    monkeypatch.delenv("GIT_AUTHOR_DATE", raising=False)
    monkeypatch.delenv("GIT_COMMITTER_DATE", raising=False)
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    try:
        cli = Cli(board)
        cli.ok("new", "sku", "数据线", "--owner", "liuyang")
        seen = git_commands(monkeypatch)
        began = int(time.time())
        cli.ok("--as", "zhaomin", "move", "SKU-0001", "shooting")
        ended = int(time.time())
    finally:
        monkeypatch.undo()
        time.tzset()
    assert "commit-tree" not in seen
    fields = git(board, "log", "-1", "--format=%T|%P|%an|%ae|%ad|%cn|%ce|%cd", "--date=raw").split("|")
    tree, parent, aname, aemail, adate, cname, cemail, cdate = fields
    assert adate.endswith(" +0530") and cdate == adate and began <= int(adate.split()[0]) <= ended
    env = {"GIT_AUTHOR_NAME": aname, "GIT_AUTHOR_EMAIL": aemail, "GIT_AUTHOR_DATE": adate,
           "GIT_COMMITTER_NAME": cname, "GIT_COMMITTER_EMAIL": cemail, "GIT_COMMITTER_DATE": cdate}
    message = subprocess.run(["git", "log", "-1", "--format=%B"], cwd=board, capture_output=True, text=True).stdout
    again = subprocess.run(["git", "commit-tree", tree, "-p", parent], cwd=board, input=message[:-1],
                           capture_output=True, text=True, env={**__import__("os").environ, **env}, check=True)
    assert again.stdout.strip() == git(board, "rev-parse", "HEAD")
    assert (aname, cname) == ("赵敏", "王丽")


def test_a_name_git_would_clean_is_left_to_git(board, monkeypatch):
    """git strips `.` and the like from either end of a name: where the configured name has
    them, `git commit-tree` writes the commit, as git would have it."""
    cli = Cli(board)
    cli.ok("new", "sku", "数据线", "--owner", "liuyang")
    git(board, "config", "user.name", "王丽.")
    seen = git_commands(monkeypatch)
    cli.ok("move", "SKU-0001", "shooting")
    assert "commit-tree" in seen
    assert git(board, "log", "-1", "--format=%cn") == "王丽"
    assert git(board, "status", "--porcelain") == ""


def batch_of(root):
    """`changes.batched` on the board at `root` (the CLI run meanwhile on this thread joins it)."""
    from mdboard.core.store import Board
    from mdboard.git import changes

    return changes.batched(Board.open(str(root)))


def test_a_batch_records_each_change_as_the_commit_git_commit_makes(board, tmp_path, monkeypatch, built):
    """Changes made in one batch (the team board's writer, with several actions waiting) are
    each their own commit, chained, each the very commit `git commit --only` makes of it one
    by one; the index and the branch are moved once, with git's status clean after; the
    user's staged work stays staged and out of the commits."""
    monkeypatch.setenv("GIT_AUTHOR_DATE", "2026-11-25T09:00:00+08:00")
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2026-11-25T09:00:00+08:00")
    fast, porcelain = twins(board, tmp_path)
    for cli in (fast, porcelain):
        (cli.root / "备忘.txt").write_text("周五盘点\n", "utf-8")
        git(cli.root, "add", "备忘.txt")
    for step in STEPS:
        porcelain.ok("--as", "wangli", *step)
    seen = git_commands(monkeypatch)
    with batch_of(fast.root) as batch:
        for step in STEPS:
            fast.ok("--as", "wangli", *step)
        assert "update-ref" not in seen and (fast.root / ".git/mdboard/batch-journal.jsonl").exists()
    assert seen.count("update-ref") == 1 and seen.count("update-index") == 1 and "commit-tree" not in seen
    # the trees are read once for the SKUs, once for the after-sales case's folders: the other
    # changes find the pending tip's trees in memory
    assert seen.count("cat-file") == 2
    assert batch.lost == {}
    log = ["log", "--format=%H %an %s"]
    assert git(fast.root, *log) == git(porcelain.root, *log)
    assert snapshot(fast.root) == snapshot(porcelain.root)
    assert git(fast.root, "diff", "--cached", "--name-only") != ""  # 备忘.txt still staged
    fsck = subprocess.run(["git", "fsck", "--strict", "--no-progress"], cwd=fast.root, capture_output=True, text=True)
    assert fsck.returncode == 0, fsck.stdout + fsck.stderr
    assert not (fast.root / ".git/mdboard/batch-journal.jsonl").exists()


def actor(key: str, name: str):
    from mdboard.domain.ops import Actor

    return Actor(key, name, f"{key}@example.com")


def test_in_a_batch_a_refused_action_leaves_the_others_and_a_clash_sees_the_pending_tip(board):
    """A refused action (a rule, a stale version) writes nothing and the batch's other
    changes are committed as they are; a version check sees what an earlier action of the
    same batch did, and the refusal names its author, though its commit is not on the
    branch yet."""
    from mdboard.core.errors import CardChanged, ValidationFailed
    from mdboard.core.store import Board
    from mdboard.domain import ops
    from mdboard.git import changes

    cli = Cli(board)
    cli.ok("new", "sku", "数据线", "--owner", "liuyang")
    cli.ok("new", "sku", "充电宝", "--owner", "liuyang")
    board_ = Board.open(str(board))
    seen = ops.version_of(board_, board_.find("SKU-0001"))
    with changes.batched(board_) as batch:
        ops.set_fields(board_, "SKU-0001", ["price=29"], actor("zhaomin", "赵敏"), expect=ops.Expect(version=seen))
        with pytest.raises(ValidationFailed):
            ops.move_card(board_, "SKU-0002", "review", actor("wangli", "王丽"))  # no price, no platforms
        with pytest.raises(CardChanged) as clash:
            ops.set_fields(board_, "SKU-0001", ["price=39"], actor("chenjing", "陈静"), expect=ops.Expect(version=seen))
        ops.move_card(board_, "SKU-0002", "shooting", actor("wangli", "王丽"))
    assert clash.value.changed_by == "赵敏"
    assert batch.lost == {}
    assert git(board, "log", "-3", "--format=%an|%s").split("\n") == [
        "王丽|move SKU-0002: 规划中 → 拍摄中", "赵敏|set SKU-0001: price=29", "王丽|new SKU-0002: 充电宝"]
    assert "price: 29" in (board / "sku/planning/SKU-0001.md").read_text("utf-8")
    assert git(board, "status", "--porcelain") == ""


def test_a_batch_whose_branch_moved_meanwhile_puts_every_change_back(board, monkeypatch):
    """update-ref names the commit the batch was built on: a HEAD that moved in between
    refuses the batch; each change's files and index entries are put back and its commit
    is `lost`, with git's words."""
    from mdboard.core.store import Board
    from mdboard.domain import ops
    from mdboard.git import changes

    cli = Cli(board)
    cli.ok("new", "sku", "数据线", "--owner", "liuyang")
    before = (board / "sku/planning/SKU-0001.md").read_text("utf-8")
    somebody_commits_first(board, monkeypatch)
    board_ = Board.open(str(board))
    with changes.batched(board_) as batch:
        one = ops.set_fields(board_, "SKU-0001", ["price=29"], actor("zhaomin", "赵敏"))
        two = ops.move_card(board_, "SKU-0001", "shooting", actor("wangli", "王丽"))
    assert set(batch.lost) == {one.commit, two.commit}
    assert git(board, "log", "-1", "--format=%s") == "别人的提交"
    assert (board / "sku/planning/SKU-0001.md").read_text("utf-8") == before
    assert not (board / "sku/shooting/SKU-0001.md").exists()
    assert git(board, "status", "--porcelain") == ""


def test_a_committer_name_git_keeps_in_other_bytes_than_utf8_is_written_by_git(board, monkeypatch):
    """A name configured in other bytes than UTF-8 (GBK, Latin-1) cannot be written into a
    commit object here: `git commit-tree` writes it, as `git commit` would, and the action
    is committed - not stopped half done with the board locked by its journal."""
    from mdboard.core.store import Board
    from mdboard.domain import ops
    from mdboard.git import changes

    for key in ("GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(key, raising=False)
    cli = Cli(board)
    cli.ok("new", "sku", "数据线", "--owner", "liuyang")
    with open(board / ".git" / "config", "ab") as fh:
        fh.write(b"[user]\n\tname = Jos\xe9\n\temail = jose@example.com\n")
    seen = git_commands(monkeypatch)
    board_ = Board.open(str(board))
    with changes.batched(board_) as batch:
        done = ops.set_fields(board_, "SKU-0001", ["price=29"], actor("zhaomin", "赵敏"))
    assert batch.lost == {} and done.commit
    assert "commit-tree" in seen
    assert git(board, "log", "-1", "--format=%an|%s") == "赵敏|set SKU-0001: price=29"
    raw = subprocess.run(["git", "cat-file", "commit", "HEAD"], cwd=board, capture_output=True).stdout
    assert "committer José <jose@example.com>" in raw.decode("utf-8")  # as git writes it
    assert git(board, "status", "--porcelain") == ""
    assert not changes.batch_journal(board_).exists()


def test_an_action_stopped_by_any_error_in_a_batch_is_put_back_and_the_next_goes_on(board, monkeypatch):
    """Whatever stops an action while its commit is made (here an error no git or disk
    failure names), its files are put back and the journal notes it undone: the batch's
    next action is committed, the journal goes, and the next command finds nothing to
    recover."""
    from mdboard.core.store import Board
    from mdboard.domain import ops
    from mdboard.git import changes, commit

    cli = Cli(board)
    cli.ok("new", "sku", "数据线", "--owner", "liuyang")
    before = (board / "sku/planning/SKU-0001.md").read_text("utf-8")
    make, calls = commit.PathCommit.make, []

    def once_broken(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("stopped")
        return make(self, *args, **kwargs)

    monkeypatch.setattr(commit.PathCommit, "make", once_broken)
    board_ = Board.open(str(board))
    with changes.batched(board_) as batch:
        with pytest.raises(RuntimeError):
            ops.set_fields(board_, "SKU-0001", ["price=29"], actor("zhaomin", "赵敏"))
        assert (board / "sku/planning/SKU-0001.md").read_text("utf-8") == before
        ops.move_card(board_, "SKU-0001", "shooting", actor("wangli", "王丽"))
    monkeypatch.undo()
    assert batch.lost == {}
    assert git(board, "log", "-2", "--format=%an|%s").split("\n") == [
        "王丽|move SKU-0001: 规划中 → 拍摄中", "王丽|new SKU-0001: 数据线"]
    assert "price: 29" not in (board / "sku/shooting/SKU-0001.md").read_text("utf-8")
    assert git(board, "status", "--porcelain") == ""
    assert not changes.batch_journal(board_).exists()
    cli.ok("set", "SKU-0001", "price=39")
    assert git(board, "status", "--porcelain") == ""


def test_an_undone_action_alone_leaves_no_journal(board, monkeypatch):
    """A batch whose only action was stopped and put back ends with no journal left behind."""
    from mdboard.core.store import Board
    from mdboard.domain import ops
    from mdboard.git import changes, commit

    cli = Cli(board)
    cli.ok("new", "sku", "数据线", "--owner", "liuyang")

    def broken(self, *args, **kwargs):
        raise RuntimeError("stopped")

    monkeypatch.setattr(commit.PathCommit, "make", broken)
    board_ = Board.open(str(board))
    with changes.batched(board_):
        with pytest.raises(RuntimeError):
            ops.set_fields(board_, "SKU-0001", ["price=29"], actor("zhaomin", "赵敏"))
    monkeypatch.undo()
    assert not changes.batch_journal(board_).exists()
    assert git(board, "status", "--porcelain") == ""
    cli.ok("set", "SKU-0001", "price=39")


@pytest.mark.parametrize("raw,kept", [("1700000000 +0800", True), ("1700000000 -0000", False),
                                      ("1700000000 +0060", False), ("99 +0100", False)])
def test_a_raw_date_git_would_read_or_write_otherwise_is_left_to_git(raw, kept):
    """git writes -0000 as +0000, folds minutes past 59 and reads a small number as another
    form of date: such a GIT_*_DATE is git's to write (None), the plain ones are read here."""
    from mdboard.git.commit import _date

    assert (_date(raw) == raw) if kept else (_date(raw) is None)
