"""The pre-commit hook: hand edits are checked by `git commit`, judged on what is staged."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import yaml

from conftest import REPO, Cli, git
from mdboard.domain.init import write_ci

CARD = "sku/planning/SKU-0001.md"


def commit(root: Path, message: str = "hand edit") -> subprocess.CompletedProcess:
    """`git commit` as a person would run it (hooks on)."""
    return subprocess.run(["git", "commit", "-qm", message], cwd=root, capture_output=True, text=True)


def edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new), "utf-8")


def refused(root: Path, rel: str, old: str, new: str) -> str:
    """Hand-edit a file, stage it, try to commit: the commit must be refused; returns git's stderr."""
    edit(root, rel, old, new)
    git(root, "add", rel)
    head = git(root, "rev-parse", "HEAD")
    proc = commit(root)
    assert proc.returncode != 0
    assert git(root, "rev-parse", "HEAD") == head
    return proc.stderr


def installed(cli) -> Path:
    result = cli("hooks", "install")
    assert result.exit_code == 0, result.output
    hook = cli.root / ".git/hooks/pre-commit"
    assert result.output == f"已安装 pre-commit 钩子：{hook}\n"
    return hook


def test_the_hook_refuses_an_invalid_hand_edit_and_lets_a_valid_one_through(cli, board):
    assert cli("new", "sku", "连衣裙", "--owner", "wangli").exit_code == 0
    hook = installed(cli)
    lines = hook.read_text("utf-8").splitlines()
    assert lines[0] == "#!/bin/sh" and lines[-1].endswith(" hooks pre-commit") and len(lines) == 3
    assert os.access(hook, os.X_OK)
    stderr = refused(board, CARD, "owner: wangli", "owner: 王五")
    assert stderr == (f"错误：{CARD}:owner: 名单里没有「王五」（是不是「王丽」？） — 提交被拒绝：下面这些暂存的卡片有问题。"
                           "修正后重新 git add（或用 git commit --no-verify 跳过这一次检查）\n")

    edit(board, CARD, "owner: 王五", "owner: zhaomin")
    git(board, "add", CARD)
    proc = commit(board)
    assert proc.returncode == 0, proc.stderr
    assert git(board, "show", "HEAD:" + CARD).count("owner: zhaomin") == 1


def test_only_the_staged_content_is_judged(cli, board):
    assert cli("new", "sku", "连衣裙", "--owner", "wangli").exit_code == 0
    installed(cli)
    edit(board, CARD, "title: 连衣裙", "title: 长款连衣裙")
    git(board, "add", CARD)
    edit(board, CARD, "owner: wangli", "owner: nobody")  # broken, but not staged
    proc = commit(board)
    assert proc.returncode == 0, proc.stderr
    assert "title: 长款连衣裙\nowner: wangli" in git(board, "show", "HEAD:" + CARD)

    git(board, "add", CARD)  # now the broken owner is staged
    edit(board, CARD, "owner: nobody", "owner: wangli")  # fixed only in the work tree
    proc = commit(board)
    assert proc.returncode != 0
    assert f"{CARD}:owner:" in proc.stderr


def test_a_staged_broken_config_and_a_duplicate_id_are_refused(cli, board):
    assert cli("new", "sku", "连衣裙", "--owner", "wangli").exit_code == 0
    installed(cli)
    stderr = refused(board, "mdboard.yaml", "timezone: Asia/Shanghai", "timezone: Mars/Olympus")
    assert stderr.startswith("错误：mdboard.yaml:timezone: 时区「Mars/Olympus」不存在")
    git(board, "checkout", "HEAD", "--", "mdboard.yaml")

    copy = board / "sku/shooting/SKU-0001.md"
    copy.write_text((board / CARD).read_text("utf-8"), "utf-8")
    git(board, "add", str(copy))
    proc = commit(board)
    assert proc.returncode != 0
    assert "sku/shooting/SKU-0001.md: 编号 SKU-0001 与 sku/planning/SKU-0001.md 重复" in proc.stderr


def test_a_config_change_that_breaks_existing_cards_is_refused(cli, board):
    assert cli("new", "sku", "连衣裙", "--owner", "zhaomin").exit_code == 0
    installed(cli)
    stderr = refused(board, "mdboard.yaml", "  zhaomin: {name: 赵敏, email: [zhaomin@example.com], roles: [美工]}\n", "")
    assert stderr.startswith(f"错误：{CARD}:owner: 名单里没有「zhaomin」")


def test_a_board_in_a_subfolder_is_found_and_paths_are_shown_from_the_top(tmp_path):
    top = tmp_path / "shop"
    git(tmp_path, "init", "-q", str(top))
    assert Cli(top).proc("init", "board").returncode == 0
    sub = Cli(top / "board")
    assert sub.proc("--as", "me", "new", "sku", "测试", "--owner", "me").returncode == 0
    assert sub("hooks", "install").exit_code == 0
    stderr = refused(top, "board/" + CARD, "owner: me", "owner: ghost")
    assert stderr.startswith("错误：board/sku/planning/SKU-0001.md:owner: 名单里没有「ghost」")
    (top / "notes.md").write_text("# not a card\n", "utf-8")
    git(top, "reset", "-q", "--", "board/" + CARD)
    git(top, "add", "notes.md")
    proc = commit(top)
    assert proc.returncode == 0, proc.stderr


def test_pre_commit_with_file_arguments_checks_only_those(cli, board):
    assert cli("new", "sku", "甲", "--owner", "wangli").exit_code == 0
    assert cli("new", "sku", "乙", "--owner", "wangli").exit_code == 0
    edit(board, "sku/planning/SKU-0002.md", "owner: wangli", "owner: ghost")
    git(board, "add", "sku/planning/SKU-0002.md")
    assert cli("hooks", "pre-commit", CARD).exit_code == 0
    result = cli("hooks", "pre-commit", "sku/planning/SKU-0002.md")
    assert result.exit_code == 1
    assert "sku/planning/SKU-0002.md:owner:" in result.output


def test_a_foreign_hook_is_left_alone_unless_forced(cli, board):
    hook = board / ".git/hooks/pre-commit"
    hook.write_text("#!/bin/sh\necho lint\n", "utf-8")
    result = cli("hooks", "install")
    assert result.exit_code == 1
    assert result.output == (f"错误：{hook} 已存在，且不是 mdboard 写的，所以没有改动它。可以在里面加一行"
                             "「mdboard hooks pre-commit」，或运行 mdboard hooks install --force 替换它（原文件会备份）\n")
    assert hook.read_text("utf-8") == "#!/bin/sh\necho lint\n"
    assert cli("hooks", "uninstall").output == f"错误：{hook} 不是 mdboard 写的，所以没有改动它\n"

    result = cli("hooks", "install", "--force")
    assert result.exit_code == 0
    backup = hook.with_name("pre-commit.before-mdboard")
    assert result.output.startswith(f"原来的钩子已保存为 {backup}\n")
    assert "hooks pre-commit" in hook.read_text("utf-8")
    assert cli("hooks", "install").exit_code == 0  # ours: installing again is fine

    result = cli("hooks", "uninstall")
    assert result.output == f"已删除 pre-commit 钩子：{hook}\n"
    assert hook.read_text("utf-8") == "#!/bin/sh\necho lint\n"  # the old one is back
    assert not backup.exists()
    assert cli("hooks", "uninstall").exit_code == 1


def test_pre_commit_framework_manifest():
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text("utf-8"))
    (hook,) = hooks
    assert hook["id"] == "mdboard-check"
    assert hook["entry"] == "mdboard hooks pre-commit"
    assert hook["language"] == "python"
    import re

    pattern = re.compile(hook["files"])
    assert pattern.search("sku/planning/SKU-0001.md") and pattern.search("board/mdboard.yaml")
    assert not pattern.search("README.txt")


# --- CI workflows -------------------------------------------------------------------------------

def test_github_workflow_checks_builds_and_publishes(board):
    assert write_ci(board, "github") == [".github/workflows/mdboard.yml"]
    text = (board / ".github/workflows/mdboard.yml").read_text("utf-8")
    assert "# 请修改下面的 MDBOARD_INSTALL" in text
    flow = yaml.safe_load(text)
    assert "push" in flow[True]  # YAML 1.1 reads the key `on` as true
    steps = flow["jobs"]["check"]["steps"]
    runs = [s.get("run") for s in steps]
    assert 'pip install "$MDBOARD_INSTALL"' in runs
    assert 'mdboard --board "." check' in runs and 'mdboard --board "." build' in runs
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-pages-artifact"))
    assert upload["with"]["path"] == "_site"
    publish = flow["jobs"]["publish"]
    assert publish["needs"] == "check" and publish["permissions"] == {"pages": "write", "id-token": "write"}
    assert publish["steps"][0]["uses"].startswith("actions/deploy-pages")
    assert flow["env"]["MDBOARD_INSTALL"].startswith("git+https://")


def test_gitlab_pipeline_for_a_board_in_a_subfolder(tmp_path):
    top = tmp_path / "shop"
    git(tmp_path, "init", "-q", str(top))
    (top / "ops").mkdir()
    assert write_ci(top / "ops", "gitlab") == ["../.gitlab-ci.yml"]
    flow = yaml.safe_load((top / ".gitlab-ci.yml").read_text("utf-8"))
    assert flow["check"]["script"][-1] == 'mdboard --board "ops" check'
    pages = flow["pages"]
    assert pages["script"][1:] == ['mdboard --board "ops" check', 'mdboard --board "ops" build',
                                   'rm -rf public && cp -r "ops/_site" public']
    assert pages["artifacts"]["paths"] == ["public"]
    assert pages["rules"] == [{"if": "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"}]


def test_init_with_ci_commits_the_workflow(tmp_path):
    root = tmp_path / "new"
    proc = Cli(tmp_path).proc("init", str(root), "--ci", "github")
    assert proc.returncode == 0, proc.stderr
    assert ".github/workflows/mdboard.yml" in git(root, "show", "--name-only", "--format=", "HEAD").splitlines()
    assert git(root, "status", "--porcelain") == ""


def test_hooks_ci_writes_the_workflow_for_an_existing_board(cli, board):
    result = cli("hooks", "ci", "gitlab")
    assert result.exit_code == 0
    assert result.output.startswith("已写入 .gitlab-ci.yml\n")
    (board / ".gitlab-ci.yml").write_text("stages: [lint]\n", "utf-8")
    result = cli("hooks", "ci", "gitlab")
    assert result.exit_code == 1
    assert "已存在且内容不同，没有覆盖" in result.output
