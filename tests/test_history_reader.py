"""The history reader (`git log --raw -z` for paths, `git cat-file --batch` for contents) gives
exactly the rows the whole-file patch reader gave (tests/history_oracle.py), on a generated
board and on a board made of the awkward cases: renames, merges, archive folders, a card moved
back and forth, deleted and made again, renumbered, CRLF, BOM, no front matter, a folded title,
binary and empty card files, names that are not UTF-8, a board in a subfolder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from history_oracle import oracle_rows
from mdboard.git.history import read_rows

from conftest import git, wait_until

REPO = Path(__file__).resolve().parent.parent


def same_rows(root: Path, prefix: str = "", start: str | None = None) -> list[tuple]:
    head = git(root, "rev-parse", "HEAD")
    new = read_rows(root, prefix, start, head)
    assert new == oracle_rows(root, prefix, start, head)
    return new[0]


def commit(root: Path, message: str, when: str, author: str = "赵敏 <zhaomin@example.com>") -> None:
    git(root, "add", "-A")
    subprocess.run(["git", "commit", "-q", "--allow-empty", "-m", message, f"--author={author}"], cwd=root,
                   check=True, env={**__import__("os").environ, "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when})


def card(title: str, owner: str = "wangli", body: str = "- [ ] 拍摄\n- [ ] 主图\n", extra: str = "") -> str:
    return f"---\ntitle: {title}\nowner: {owner}\n{extra}---\n\n{body}"


def write(root: Path, rel: str, text: str | bytes) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))


def move(root: Path, src: str, dst: str) -> None:
    (root / dst).parent.mkdir(parents=True, exist_ok=True)
    git(root, "mv", src, dst)


def test_a_generated_board_reads_the_same(tmp_path, monkeypatch):
    """300 cards, 900 commits of mdboard and hand commits, archive folders: every row the same,
    read whole and read from the middle on, in batches of 2,000 commits (one) or 7 (a card's
    versions read again by the next batch)."""
    out = tmp_path / "gen"
    subprocess.run([sys.executable, str(REPO / "bench" / "generate.py"), "--cards", "300", "--commits", "900",
                    str(out)], check=True, capture_output=True)
    rows = same_rows(out)
    assert {row[8] for row in rows} >= {"created", "moved", "field", "checklist", "edited"}
    assert any(row[10] and row[9] == row[10] for row in rows if row[8] == "moved") is False
    middle = git(out, "rev-list", "--skip=300", "-n", "1", "HEAD")
    assert same_rows(out, start=middle)
    import mdboard.git.history

    monkeypatch.setattr(mdboard.git.history, "BATCH", 7)
    assert same_rows(out) == rows


def test_awkward_histories_read_the_same(board):
    root = board
    t = iter(f"2026-11-{d:02d}T10:{m:02d}:00+08:00" for d in range(10, 28) for m in range(0, 60, 5))
    write(root, "sku/planning/SKU-0101.md", card("耳机"))
    write(root, "sku/planning/SKU-0102.md", card("充电宝", body="正文\n"))
    write(root, "sku/planning/SKU-0103.md", "---\r\ntitle: 线材\r\nowner: wangli\r\n---\r\n\r\n- [ ] 拍摄\r\n")
    write(root, "sku/planning/SKU-0104.md", "\ufeff---\ntitle: >-\n  折叠的\n  标题\nowner: wangli\n---\n正文\n")
    write(root, "sku/planning/SKU-0105.md", "没有 front matter 的卡片\n- [ ] 一项\n")
    write(root, "sku/planning/SKU-0106.md", b"")
    write(root, "notes/\xe6\x97\xa5\xe5\xbf\x97.md".encode().decode("utf-8"), "笔记\n")
    commit(root, "一批", next(t))
    # moved back and forth, unchanged and changed on the way
    for dst in ("shooting", "planning", "shooting"):
        src = next(p for p in (root / "sku").glob("*/SKU-0101.md")).relative_to(root).as_posix()
        move(root, src, f"sku/{dst}/SKU-0101.md")
        commit(root, f"挪到 {dst}", next(t))
    path = root / "sku/shooting/SKU-0101.md"
    path.write_text(path.read_text("utf-8").replace("- [ ] 拍摄", "- [x] 拍摄").replace("耳机", "新耳机"), "utf-8")
    move(root, "sku/shooting/SKU-0101.md", "sku/content/SKU-0101.md")
    commit(root, "拍完了，挪到内容", next(t))
    # CRLF edits, BOM and folded title edits, a card without front matter edited
    write(root, "sku/planning/SKU-0103.md", "---\r\ntitle: 线材 2\r\nowner: zhaomin\r\n---\r\n\r\n- [x] 拍摄\r\n")
    write(root, "sku/planning/SKU-0104.md", "\ufeff---\ntitle: >-\n  折叠的\n  新标题\nowner: wangli\n---\n正文\n")
    write(root, "sku/planning/SKU-0105.md", "没有 front matter 的卡片\n- [x] 一项\n")
    write(root, "sku/planning/SKU-0106.md", card("原来是空的"))
    commit(root, "各种手改", next(t))
    # a binary card file, and one rewritten whole while moved (git cannot pair them: deleted and added)
    write(root, "sku/planning/SKU-0107.md", b"---\ntitle: \x00bin\n---\n")
    git(root, "rm", "-q", "sku/planning/SKU-0102.md")
    write(root, "sku/review/SKU-0102.md", card("完全不同的内容", body="x\n" * 3))
    commit(root, "重写", next(t))
    write(root, "sku/planning/SKU-0107.md", b"---\ntitle: \x00bin2\n---\n")
    commit(root, "二进制", next(t))
    # archived into a year folder, then edited there; deleted; made again under the same ID
    move(root, "sku/content/SKU-0101.md", "sku/listed/SKU-0101.md")
    commit(root, "上架", next(t))
    move(root, "sku/listed/SKU-0101.md", "sku/listed/2026/SKU-0101.md")
    commit(root, "归档", next(t))
    path = root / "sku/listed/2026/SKU-0101.md"
    path.write_text(path.read_text("utf-8") + "补充\n", "utf-8")
    commit(root, "补充归档卡", next(t))
    git(root, "rm", "-q", "sku/planning/SKU-0103.md")
    commit(root, "删除", next(t))
    write(root, "sku/planning/SKU-0103.md", card("又一个线材"))
    commit(root, "同号新建", next(t))
    # a side branch renumbers a card, the main line edits another; merged
    git(root, "checkout", "-q", "-b", "side")
    move(root, "sku/planning/SKU-0104.md", "sku/planning/SKU-0204.md")
    commit(root, "改号", next(t))
    git(root, "checkout", "-q", "-")
    path = root / "sku/planning/SKU-0106.md"
    path.write_text(path.read_text("utf-8").replace("owner: wangli", "owner: liuyang"), "utf-8")
    commit(root, "转给刘洋", next(t))
    subprocess.run(["git", "merge", "-q", "--no-edit", "side"], cwd=root, check=True, capture_output=True)
    rows = same_rows(root)
    actions = {(row[6], row[8]) for row in rows}
    assert {("SKU-0101", "moved"), ("SKU-0101", "checklist"), ("SKU-0102", "moved"), ("SKU-0103", "deleted"),
            ("SKU-0204", "renumbered"), ("SKU-0106", "field"), ("SKU-0105", "checklist")} <= actions
    assert ("SKU-0102", "field", "title") in {(row[6], row[8], row[11]) for row in rows}
    first = git(root, "rev-list", "--max-parents=0", "HEAD").split()[0]
    same_rows(root, start=first)


def test_a_board_in_a_subfolder_and_names_that_are_not_utf8(tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    git(root, "config", "user.name", "t")
    git(root, "config", "user.email", "t@example.com")
    write(root, "shop/sku/planning/SKU-0001.md", card("耳机"))
    write(root, "other/sku/planning/SKU-0009.md", card("别的板"))
    (root / "shop/sku/planning").joinpath(b"\xff\xfe.md".decode("utf-8", "surrogateescape")).write_text("x")
    commit(root, "一", "2026-11-10T10:00:00+08:00")
    move(root, "shop/sku/planning/SKU-0001.md", "shop/sku/review/SKU-0001.md")
    write(root, "shop/sku/planning/SKU-0002.md", card("耳机 2"))
    commit(root, "二", "2026-11-11T10:00:00+08:00")
    rows = same_rows(root, prefix="shop/")
    assert sorted((row[6], row[8], row[10]) for row in rows) == [
        ("SKU-0001", "created", "planning"), ("SKU-0001", "moved", "review"), ("SKU-0002", "created", "planning")]
    # a folder name git quotes in a patch (tab, quote): the patch reader lost the card, -z names keep it
    write(root, "shop/sku/待 审\t\"x\"/SKU-0003.md", card("文件夹名里有空格、制表符和引号"))
    commit(root, "三", "2026-11-12T10:00:00+08:00")
    rows = read_rows(root, "shop/", None, git(root, "rev-parse", "HEAD"))[0]
    assert [(row[6], row[8], row[10], row[13]) for row in rows[3:]] == [
        ("SKU-0003", "created", "待 审\t\"x\"", "文件夹名里有空格、制表符和引号")]


def _open_files_named(part: str) -> list[str]:
    """The files this process holds open whose path holds `part` (Linux: /proc)."""
    found = []
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if part in target:
            found.append(target)
    return found


def test_git_log_runs_ahead_of_the_parser(tmp_path, monkeypatch):
    """git writes its whole log while the parser is still at the first commit: git writes
    into a file the parser reads, so git never waits for the parser (it did, at every full
    pipe, and their times added up), and what the parser then gets is every commit, in git's
    order. A parser that gives up stops git, and the file is gone."""
    from mdboard.git import history

    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    subject = "备注" * 2000  # 12 kB a commit: 300 commits write 3.6 MB, far more than a pipe holds
    CARD = "---\ntitle: x\n---\n"
    stream = [f"commit refs/heads/main\nmark :{n}\ncommitter 赵敏 <zhaomin@example.com> {1_790_000_000 + n} +0800\n"
              f"data {len(f'{n} {subject}'.encode())}\n{n} {subject}\n"
              + (f"from :{n - 1}\n" if n > 1 else "")
              + f"M 100644 inline sku/planning/SKU-{n:04d}.md\ndata {len(CARD)}\n{CARD}\n"
              for n in range(1, 301)]
    subprocess.run(["git", "fast-import", "--quiet"], cwd=root, input="".join(stream).encode(), check=True)
    git(root, "reset", "-q", "--hard", "main")
    started = []
    real = history.stream_git
    monkeypatch.setattr(history, "stream_git", lambda *a, **k: started.append(real(*a, **k)) or started[-1])
    commits = history._log_commits(root, "", None, git(root, "rev-parse", "HEAD"))
    first = next(commits)
    wait_until(lambda: started[0].poll() is not None, "git log to write its whole output", deadline=20)
    assert [name.endswith("(deleted)") for name in _open_files_named("mdboard-log-")] == [True]  # nameless
    rest = list(commits)
    assert started[0].returncode == 0
    assert [first.subject, *(c.subject for c in rest)] == [f"{n} {subject}" for n in range(300, 0, -1)]
    assert [f.new_card for f in first.files] == [("SKU-0300", "sku", "planning")]
    assert not _open_files_named("mdboard-log-")
    # a parser that gives up (an error in a later batch) stops git: no process left writing
    commits = history._log_commits(root, "", None, git(root, "rev-parse", "HEAD~100"))
    assert next(commits).subject == f"200 {subject}"
    commits.close()
    assert started[1].poll() is not None
    assert not _open_files_named("mdboard-log-")
