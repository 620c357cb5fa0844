"""The team list: `mdboard person add` and `mdboard init --me` (and the question init asks
a person at a terminal)."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from pathlib import Path

from conftest import Cli, git, git_state


def test_person_add_writes_only_the_new_persons_lines_and_commits_them(cli, board):
    before = (board / "mdboard.yaml").read_text("utf-8")
    result = cli("person", "add", "李娜", "--role", "客服", "--role", "售后", "--email", "lina@example.com")
    assert result.exit_code == 0, result.output
    commit = git(board, "rev-parse", "HEAD")
    assert result.output == (f"已把李娜加入成员名单（代号 lina）  [{commit[:8]}]\n"
                             "以后可以用「李娜」或「lina」指这个人，例如 mdboard new sku \"新品\" --owner 李娜\n")
    after = (board / "mdboard.yaml").read_text("utf-8")
    added = "  lina:\n    name: 李娜\n    email: [lina@example.com]\n    roles: [客服, 售后]\n"
    anchor = "  zhougang: {name: 周刚, email: [zhougang@example.com], roles: [仓库]}\n"
    assert after == before.replace(anchor, anchor + added, 1)
    assert git(board, "show", "--name-only", "--format=%s%n%an", "HEAD").splitlines() == [
        "person add lina: 李娜", "王丽", "", "mdboard.yaml"]
    assert git(board, "status", "--porcelain") == ""
    assert cli("new", "sku", "耳机", "--owner", "李娜").exit_code == 0
    assert "owner: lina" in (board / "sku/planning/SKU-0001.md").read_text("utf-8")


def test_a_person_without_email_gets_a_key_of_their_own(cli, board):
    assert cli("person", "add", "小周").output.startswith("已把小周加入成员名单（代号 person1）")
    assert cli("person", "add", "小吴").output.startswith("已把小吴加入成员名单（代号 person2）")
    assert cli("person", "add", "Amy Chen", "--key", "amy").output.startswith("已把Amy Chen加入成员名单（代号 amy）")


REFUSALS = [
    (["王丽"], "错误：名单里已经有「王丽」（代号 wangli）（同名的两个人请用不同的称呼区分，例如 王丽（运营）和 王丽（客服））\n"),
    (["李娜", "--email", "lina"], "错误：「lina」不是邮箱地址（写成 名字@公司.com 的样子；这是此人提交 git 时用的邮箱）\n"),
    (["李娜", "--email", "wangli@example.com"], "错误：邮箱 wangli@example.com 已经属于王丽\n"),
    (["李娜", "--key", "wangli"], "错误：成员代号「wangli」已经是王丽的了（用 --key 换一个代号，例如 wangli2）\n"),
    (["李娜", "--key", "Li Na"],
     "错误：成员代号「Li Na」不能用（代号只能用小写英文字母、数字和下划线，以字母开头，例如 wangli）\n"),
    (["  "], "错误：名字「」不能用（名字写成大家平时叫的称呼，例如 王丽）\n"),
]


def test_person_add_refuses_and_changes_nothing(cli, board):
    before = git_state(board), (board / "mdboard.yaml").read_bytes()
    for args, message in REFUSALS:
        result = cli("person", "add", *args)
        assert (result.exit_code, result.output) == (1, message), args
    assert (git_state(board), (board / "mdboard.yaml").read_bytes()) == before


def test_a_team_list_written_in_flow_style_is_left_for_a_person(cli, board):
    cfg = board / "mdboard.yaml"
    text = cfg.read_text("utf-8")
    head, rest = text.split("\npeople:\n", 1)
    people, tail = rest.split("\n\ntypes:\n", 1)
    cfg.write_text(head + "\npeople: {wangli: {name: 王丽, email: [wangli@example.com]}}\n\ntypes:\n" + tail, "utf-8")
    git(board, "commit", "-qam", "flow style")
    before = cfg.read_bytes()
    result = cli("person", "add", "李娜")
    assert result.exit_code == 1
    assert result.output == ("错误：成员名单的写法比较特殊，自动添加会改变别的内容，所以没有改动 mdboard.yaml（请用编辑器打开 "
                             "mdboard.yaml，照着已有成员的样子在 people: 下面加一段，然后运行 mdboard check）\n")
    assert cfg.read_bytes() == before


def test_person_add_in_english(tmp_path):
    root = tmp_path / "shop"
    assert Cli(tmp_path)("init", str(root), "--lang", "en").exit_code == 0
    result = Cli(root)("person", "add", "Wang Li", "--role", "ops")
    assert result.output.splitlines()[0].startswith("added Wang Li to the team list (key wang_li)")
    assert Cli(root)("person", "add", "wang li").output.startswith("added wang li to the team list (key wang_li2)")
    assert Cli(root)("person", "add", "Li", "--key", "wang_li").output == (
        "Error: the person key \"wang_li\" already belongs to Wang Li (choose another one with --key, e.g. wangli2)\n")


# --- init --me -------------------------------------------------------------------------------

def people_block(root: Path) -> list[str]:
    return (root / "mdboard.yaml").read_text("utf-8").split("\npeople:\n")[1].split("\n\n")[0].splitlines()


def test_init_me_puts_the_git_user_in_place_of_the_placeholder(tmp_path):
    root = tmp_path / "shop"
    result = Cli(tmp_path)("init", str(root), "--me")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1] == "已把你（王丽 <wangli@example.com>）加入成员名单，代号 wangli"
    assert people_block(root) == ["  wangli:", "    name: 王丽", "    email: [wangli@example.com]",
                                  "    roles: [运营, 美工, 文案, 客服]"]
    assert Cli(root)("mine").output.startswith("王丽 的卡片")
    assert git(root, "status", "--porcelain") == ""


def test_init_without_a_terminal_keeps_the_placeholder(tmp_path):
    for args in ([], ["--no-me"]):
        root = tmp_path / f"shop{len(args)}"
        proc = Cli(tmp_path).proc("init", str(root), *args, input="")
        assert proc.returncode == 0 and "成员名单" not in proc.stdout
        assert people_block(root) == ["  me:", "    name: 我", "    email: [me@example.com]",
                                      "    roles: [运营, 美工, 文案, 客服]     # 一个人的店什么都做；有了团队再按人分角色"]


def test_init_me_without_a_git_identity_writes_nothing(tmp_path, monkeypatch):
    empty = tmp_path / "gitconfig"
    empty.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))
    root = tmp_path / "shop"
    result = Cli(tmp_path)("init", str(root), "--me")
    assert result.exit_code == 1
    assert result.output.startswith("错误：git 还不知道你是谁，没法把你加入成员名单（先告诉 git 你的名字和邮箱：")
    assert not root.exists()


def at_a_terminal(args: list[str], answer: bytes, cwd: Path) -> str:
    """Run mdboard with a pseudo-terminal as its input and output, answer its question; all it wrote."""
    exe = Path(sys.executable).with_name("mdboard")
    parent, child = pty.openpty()
    proc = subprocess.Popen([str(exe), *args], cwd=cwd, stdin=child, stdout=child, stderr=child, close_fds=True)
    os.close(child)
    seen = b""
    while proc.poll() is None or select.select([parent], [], [], 0)[0]:
        if not select.select([parent], [], [], 10)[0]:
            break
        try:
            chunk = os.read(parent, 4096)
        except OSError:
            break
        seen += chunk
        if b"[Y/n]" in chunk:
            os.write(parent, answer)
    proc.wait(timeout=30)
    os.close(parent)
    assert proc.returncode == 0, seen.decode("utf-8", "replace")
    return seen.decode("utf-8").replace("\r\n", "\n")


def test_init_asks_a_person_at_a_terminal(tmp_path):
    said = at_a_terminal(["init", "yes"], b"\n", tmp_path)
    assert said.startswith("把你自己（git 用户 王丽 <wangli@example.com>）加入成员名单吗？ [Y/n]: ")
    assert people_block(tmp_path / "yes")[0] == "  wangli:"
    said = at_a_terminal(["init", "no", "--lang", "en"], b"n\n", tmp_path)
    assert said.startswith("Put yourself (git user 王丽 <wangli@example.com>) into the team list? [Y/n]: ")
    assert people_block(tmp_path / "no")[0] == "  me:"
