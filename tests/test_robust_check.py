"""Issue 13 items 7 and 16: what `check` says about states over their limit, merges left
half done, text that looks different from what it is, a roster that credits one email to
two people, and a symlinked mdboard.yaml."""

from __future__ import annotations

import os
import shutil

from conftest import git


def _limit_shooting(board, wip: int) -> None:
    cfg = board / "mdboard.yaml"
    cfg.write_text(cfg.read_text("utf-8").replace("{key: shooting, label: 拍摄中, wip: 6}",
                                                  f"{{key: shooting, label: 拍摄中, wip: {wip}}}"), "utf-8")


def test_a_state_over_its_limit_gives_one_warning_in_config_order(cli, board):
    _limit_shooting(board, 2)
    for n in range(3):
        assert cli("new", "sku", f"耳机{n}", "--owner", "wangli").exit_code == 0
    for n in range(2):
        assert cli("new", "asset", f"海报{n}", "--owner", "zhaomin", "--set", "kind=海报").exit_code == 0
    cfg = board / "mdboard.yaml"
    cfg.write_text(cfg.read_text("utf-8").replace("{key: making, label: 制作中, wip: 4}",
                                                  "{key: making, label: 制作中, wip: 1}"), "utf-8")
    for card in ("SKU-0001", "SKU-0002", "SKU-0003"):  # as two clones' syncs can leave it: past the limit
        git(board, "mv", f"sku/planning/{card}.md", f"sku/shooting/{card}.md")
    for card in ("MAT-0001", "MAT-0002"):
        git(board, "mv", f"asset/todo/{card}.md", f"asset/making/{card}.md")
    expected = ("提醒：sku/shooting: 「拍摄中」有 3 张卡片，超过 WIP 上限 2（先完成该列的卡片，再拉入新卡片）\n"
                "提醒：asset/making: 「制作中」有 2 张卡片，超过 WIP 上限 1（先完成该列的卡片，再拉入新卡片）\n")
    for _ in range(3):
        proc = cli.proc("check")
        assert proc.returncode == 0 and proc.stdout == expected, proc.stdout
    one = cli.proc("check", "sku/shooting/SKU-0002.md")
    assert one.stdout == expected.splitlines(keepends=True)[0], one.stdout


def test_conflict_markers_left_in_a_card_are_reported(cli, board):
    assert cli("new", "sku", "耳机", "--owner", "wangli").exit_code == 0
    path = board / "sku/planning/SKU-0001.md"
    text = path.read_text("utf-8")
    path.write_text(text + "\n<<<<<<< HEAD\n主图用白底\n=======\n主图用场景图\n>>>>>>> origin/main\n", "utf-8")
    check = cli("check")
    assert check.exit_code == 1
    line = text.count("\n") + 2
    assert (f"sku/planning/SKU-0001.md: 文件里留有合并冲突标记（第 {line} 行起的 <<<<<<< ======= >>>>>>>），两个版本都还在"
            "（打开文件，留下要的内容，删掉 <<<<<<<、=======、>>>>>>> 这几行，再保存）") in check.output
    path.write_text(text + "\n标题\n=======\n\n正文\n", "utf-8")  # a Markdown heading underline alone is fine
    assert cli("check").exit_code == 0


def test_conflict_markers_in_the_front_matter_are_named_too(cli, board):
    assert cli("new", "sku", "耳机", "--owner", "wangli").exit_code == 0
    path = board / "sku/planning/SKU-0001.md"
    path.write_text(path.read_text("utf-8").replace("owner: wangli\n", "<<<<<<< HEAD\nowner: wangli\n=======\n"
                                                    "owner: zhaomin\n>>>>>>> theirs\n"), "utf-8")
    check = cli("check")
    assert check.exit_code == 1
    assert "sku/planning/SKU-0001.md: 文件里留有合并冲突标记（第 3 行起的" in check.output


def test_invisible_characters_in_a_title_are_reported_and_refused(cli, board):
    assert cli("new", "sku", "耳机", "--owner", "wangli").exit_code == 0
    path = board / "sku/planning/SKU-0001.md"
    for title in ("蓝牙\u202e机耳", "蓝牙\u200b耳机", "蓝牙\u2066耳机"):
        path.write_text(f"---\ntitle: \"{title}\"\nowner: wangli\n---\n", "utf-8")
        check = cli("check")
        assert check.exit_code == 1
        assert ("sku/planning/SKU-0001.md:title: 含有看不见的字符（例如从右到左覆盖 U+202E、零宽空格），"
                "文字看起来会和实际不同，显示时会被替换为 �（删除这些不可见字符，只写普通文字）") in check.output
        assert "\u202e" not in cli.proc("ls").stdout and "蓝牙\ufffd" in cli.proc("ls").stdout
    path.write_text("---\ntitle: 程序员 👩\u200d💻 贴纸\nowner: wangli\n---\n", "utf-8")  # an emoji sequence is text
    assert cli("check").exit_code == 0
    refused = cli.proc("set", "SKU-0001", "title=新\u202e品")
    assert refused.returncode == 1 and "含有看不见的字符" in refused.stderr


def test_two_people_sharing_one_email_are_reported(cli, board):
    cfg = board / "mdboard.yaml"
    cfg.write_text(cfg.read_text("utf-8").replace("email: [zhaomin@example.com]", "email: [WangLi@example.com]"),
                   "utf-8")
    check = cli("check")
    assert check.exit_code == 1
    assert ("mdboard.yaml:people.zhaomin.email: 邮箱 WangLi@example.com 也写在「王丽」名下，"
            "这个邮箱的提交会都算成「王丽」的（每个邮箱只写在一个人名下）") in check.output


def test_a_symlinked_config_is_refused_like_a_symlinked_card(cli, board, tmp_path):
    outside = tmp_path / "elsewhere.yaml"
    shutil.move(board / "mdboard.yaml", outside)
    os.symlink(outside, board / "mdboard.yaml")
    for args in (["check"], ["ls"], ["build"]):
        proc = cli.proc(*args)
        assert proc.returncode == 1, (args, proc.stdout)
        assert proc.stderr == ("错误：mdboard.yaml: mdboard.yaml 是一个符号链接，mdboard 不会跟随它（和卡片一样）"
                               "（删除这个链接，把它指向的文件复制过来，命名为 mdboard.yaml） — mdboard.yaml 有错误，请修正后再试\n"), \
            proc.stderr


def test_a_roster_of_2800_people_is_read(cli, board):
    """The limit on values in YAML is per kind of file: a card's front matter keeps 20,000,
    mdboard.yaml may hold a roster of thousands (it was refused as an alias bomb)."""
    cfg = board / "mdboard.yaml"
    people = "".join(f"  p{i:04d}: {{name: 员工{i}, email: [p{i}@example.com], roles: [运营, 客服]}}\n"
                     for i in range(2800))
    cfg.write_text(cfg.read_text("utf-8").replace("\npeople:\n", "\npeople:\n" + people, 1), "utf-8")
    assert cli("check").exit_code == 0
    assert cli("new", "sku", "耳机", "--owner", "p2799").exit_code == 0
    assert "员工2799 的卡片" in cli("mine", "p2799").output


def test_too_many_values_in_a_card_are_named_for_what_they_are(cli, board):
    assert cli("new", "sku", "耳机", "--owner", "wangli").exit_code == 0
    path = board / "sku/planning/SKU-0001.md"
    tags = "".join(f"  - t{i}\n" for i in range(20_001))
    path.write_text(path.read_text("utf-8").replace("owner: wangli\n", f"owner: wangli\ntags:\n{tags}"), "utf-8")
    check = cli("check")
    assert check.exit_code == 1
    assert ("sku/planning/SKU-0001.md: 值太多：超过 20000 个，mdboard 不读这么大的 YAML（用编辑器修正这个文件）"
            in check.output), check.output
