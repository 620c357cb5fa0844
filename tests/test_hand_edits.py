"""Issue 13 item 2: hand edits git has not recorded are never committed unchecked.

A card edited, made, moved or deleted by hand (in an editor or a file manager, not
committed) makes `set`, `move`, `assign`, `tick`, `note` and `edit` refuse with a line
saying what to do; `mdboard save [ID...]` checks such edits and commits them as the
acting person, in one commit, or refuses and commits nothing.
"""

from __future__ import annotations

import shutil

import pytest

from conftest import git

SKU = "sku/planning/SKU-0001.md"
CMP = "campaign/planned/CMP-0001.md"


@pytest.fixture
def shop(board, cli):
    """Two SKUs and a campaign that links to SKU-0002, all committed."""
    for args in (["new", "sku", "蓝牙耳机", "--owner", "wangli"], ["new", "sku", "充电宝", "--owner", "zhaomin"],
                 ["new", "campaign", "双12 大促", "--owner", "wangli", "--set", "platform=tmall",
                  "--set", "skus=SKU-0002"]):
        result = cli(*args)
        assert result.exit_code == 0, result.output
    return board


def hand_edit(root, rel, old, new):
    path = root / rel
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), "utf-8")
    return path


def untouched(root):
    """What a refused command must leave exactly as it was."""
    return {"head": git(root, "rev-parse", "HEAD"), "status": git(root, "status", "--porcelain"),
            "index": git(root, "ls-files", "-s"),
            "files": {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.glob("*/*/*.md"))}}


def refused(cli, root, args, *fragments):
    before = untouched(root)
    result = cli(*args)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and "pathspec" not in result.output
    for fragment in fragments:
        assert fragment in result.output, result.output
    assert untouched(root) == before
    return result.output


# --- other commands refuse ---------------------------------------------------------------------

def test_set_refuses_to_commit_a_hand_edit_it_did_not_check(shop, cli):
    """The issue's case: a bad date typed by hand, then `set` of another field."""
    hand_edit(shop, CMP, "platform: tmall", "platform: tmall\nsignup_end: 2026/12/8")
    out = refused(cli, shop, ["set", "CMP-0001", "tags=年货"])
    assert out == ("错误：campaign/planned/CMP-0001.md: 有还没提交的手工修改（运行 mdboard save CMP-0001 校验并以你的名义"
                   "提交；不要这些修改就运行 git restore --staged --worktree campaign/planned/CMP-0001.md） — 没有做任何修改："
                   "mdboard 不会把没有校验过的手工修改一起提交\n")
    assert "2026/12/8" not in git(shop, "show", f"HEAD:{CMP}")


@pytest.mark.parametrize("args", [["move", "SKU-0001", "shooting"], ["assign", "SKU-0001", "zhaomin"],
                                  ["set", "SKU-0001", "price=99"], ["tick", "SKU-0001", "主图"],
                                  ["note", "SKU-0001", "样品到了"]])
def test_every_changing_command_refuses_a_hand_edit(shop, cli, args):
    hand_edit(shop, SKU, "owner: wangli", "owner: 王力")  # a mistyped owner, not saved
    refused(cli, shop, args, "有还没提交的手工修改", "mdboard save SKU-0001")


def test_a_staged_but_uncommitted_edit_counts_as_a_hand_edit(shop, cli):
    hand_edit(shop, SKU, "owner: wangli", "owner: 王力")
    git(shop, "add", SKU)
    refused(cli, shop, ["move", "SKU-0001", "shooting"], "有还没提交的手工修改")


def test_edit_refuses_before_the_editor_opens(shop, cli, tmp_path, monkeypatch):
    marker = tmp_path / "editor-ran"
    editor = tmp_path / "editor.sh"
    editor.write_text(f"#!/bin/sh\ntouch {marker}\n", "utf-8")
    editor.chmod(0o755)
    monkeypatch.setenv("EDITOR", str(editor))
    hand_edit(shop, SKU, "owner: wangli", "owner: 王力")
    refused(cli, shop, ["edit", "SKU-0001"], "有还没提交的手工修改")
    assert not marker.exists()


@pytest.mark.parametrize("args", [["move", "SKU-0009", "shooting"], ["set", "SKU-0009", "price=5"]])
def test_a_hand_made_card_git_does_not_know_gets_a_message_not_a_pathspec_error(shop, cli, args):
    shutil.copy(shop / SKU, shop / "sku/planning/SKU-0009.md")
    out = refused(cli, shop, args)
    assert out == ("错误：sku/planning/SKU-0009.md: 是手工新建或手工移动的，git 还没有记录它（运行 mdboard save SKU-0009 "
                   "校验并以你的名义提交） — 没有做任何修改：mdboard 不会把没有校验过的手工修改一起提交\n")


def test_hand_edits_to_another_card_do_not_block(shop, cli):
    hand_edit(shop, "sku/planning/SKU-0002.md", "owner: zhaomin", "owner: 王力")
    result = cli("set", "SKU-0001", "price=99")
    assert result.exit_code == 0, result.output
    assert git(shop, "show", "--name-only", "--format=", "HEAD") == SKU
    assert git(shop, "status", "--porcelain") == "M sku/planning/SKU-0002.md"


def test_without_commits_hand_edits_are_not_in_the_way(shop, cli):
    """--no-commit writes files only: there is no commit to sweep anything into."""
    hand_edit(shop, SKU, "owner: wangli", "owner: wangli\ncategory: 耳机")
    result = cli("--no-commit", "set", "SKU-0001", "price=99")
    assert result.exit_code == 0, result.output
    text = (shop / SKU).read_text("utf-8")
    assert "category: 耳机" in text and "price: 99" in text


# --- save ------------------------------------------------------------------------------------

def test_save_commits_a_valid_hand_edit_as_the_acting_person(shop, cli):
    hand_edit(shop, SKU, "owner: wangli", "owner: wangli\ncategory: 耳机")
    result = cli("--as", "zhaomin", "save", "SKU-0001")
    assert result.exit_code == 0, result.output
    sha = git(shop, "rev-parse", "HEAD")
    assert result.output == f"已保存 SKU-0001：蓝牙耳机（手工修改）  [{sha[:8]}]\n"
    assert git(shop, "log", "-1", "--format=%an <%ae>%n%B") == \
        "赵敏 <zhaomin@example.com>\nsave SKU-0001: 蓝牙耳机\n\nAction: save\nCard: SKU-0001"
    assert git(shop, "show", "--name-only", "--format=", "HEAD") == SKU
    assert git(shop, "status", "--porcelain") == ""
    assert cli("set", "SKU-0001", "price=99").exit_code == 0  # nothing left in the way


def test_save_refuses_an_invalid_hand_edit_and_commits_nothing(shop, cli):
    hand_edit(shop, CMP, "platform: tmall", "platform: tmall\nsignup_end: 2026/12/8")
    out = refused(cli, shop, ["save", "CMP-0001"])
    assert out == "错误：campaign/planned/CMP-0001.md:signup_end: 日期「2026/12/8」格式不对（写成 2026-12-08） — 没有保存任何修改\n"


def test_save_without_ids_saves_every_hand_edit_in_one_commit_or_none(shop, cli):
    hand_edit(shop, SKU, "owner: wangli", "owner: wangli\ncategory: 耳机")
    hand_edit(shop, "sku/planning/SKU-0002.md", "owner: zhaomin", "owner: zhaomin\ncategory: 配件")
    made = (shop / SKU).read_text("utf-8").replace("蓝牙耳机", "手机壳")
    (shop / "sku/planning/SKU-0003.md").write_text(made, "utf-8")
    bad = hand_edit(shop, CMP, "platform: tmall", "platform: 淘宝")
    refused(cli, shop, ["save"], "campaign/planned/CMP-0001.md:platform:", "没有保存任何修改")

    bad.write_text(bad.read_text("utf-8").replace("platform: 淘宝", "platform: tmall"), "utf-8")
    head = git(shop, "rev-parse", "HEAD")
    result = cli("save")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"已保存 SKU-0001：蓝牙耳机（手工修改）  [{git(shop, 'rev-parse', 'HEAD')[:8]}]",
        f"已保存 SKU-0002：充电宝（手工修改）  [{git(shop, 'rev-parse', 'HEAD')[:8]}]",
        f"已保存 SKU-0003：手机壳（手工新建，sku/planning/SKU-0003.md）  [{git(shop, 'rev-parse', 'HEAD')[:8]}]"]
    assert git(shop, "rev-list", "--count", f"{head}..HEAD") == "1"
    assert git(shop, "log", "-1", "--format=%B") == \
        "save SKU-0001, SKU-0002, SKU-0003\n\nAction: save\nCard: SKU-0001\nCard: SKU-0002\nCard: SKU-0003"
    assert git(shop, "status", "--porcelain") == ""
    assert cli("check").exit_code == 0


def test_save_with_nothing_to_save_says_so(shop, cli):
    head = git(shop, "rev-parse", "HEAD")
    result = cli("save")
    assert (result.exit_code, result.output) == (0, "没有需要保存的手工修改\n")
    result = cli("save", "SKU-0001")
    assert (result.exit_code, result.output) == (0, "SKU-0001 没有未保存的手工修改\n")
    assert git(shop, "rev-parse", "HEAD") == head
    assert cli("save", "SKU-0042").exit_code == 1


def test_save_refuses_without_commits(shop, cli):
    hand_edit(shop, SKU, "owner: wangli", "owner: wangli\ncategory: 耳机")
    refused(cli, shop, ["--no-commit", "save"], "mdboard save 会把手工修改提交到 git")


def test_a_problem_the_card_already_had_does_not_block_saving_another_edit(shop, cli):
    hand_edit(shop, SKU, "owner: wangli", "owner: wangli\ndue: 2026/12/8")
    git(shop, "commit", "-qam", "bad date committed by hand")
    hand_edit(shop, SKU, "owner: wangli", "owner: wangli\ncategory: 耳机")
    result = cli("save", "SKU-0001")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("how", ["mv", "git mv"])
def test_a_card_moved_by_hand_is_saved_as_a_move(shop, cli, how):
    new = "sku/shooting/SKU-0001.md"
    (shop / "sku/shooting").mkdir(exist_ok=True)
    if how == "mv":
        (shop / SKU).rename(shop / new)
    else:
        git(shop, "mv", SKU, new)
    refused(cli, shop, ["set", "SKU-0001", "price=9"], "是手工新建或手工移动的")
    result = cli("save", "SKU-0001")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("已保存 SKU-0001：蓝牙耳机（手工移动：sku/planning/SKU-0001.md → "
                                    "sku/shooting/SKU-0001.md）")
    assert git(shop, "show", "--name-status", "-M", "--format=", "HEAD") == f"R100\t{SKU}\t{new}"
    assert git(shop, "status", "--porcelain") == ""
    history = cli("history", "SKU-0001")
    assert "拍摄中" in history.output, history.output


def test_a_card_deleted_by_hand_is_saved_as_a_deletion(shop, cli):
    (shop / SKU).unlink()
    result = cli("save", "SKU-0001")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("已保存 SKU-0001：蓝牙耳机（手工删除 sku/planning/SKU-0001.md）")
    assert git(shop, "show", "--name-status", "--format=", "HEAD") == f"D\t{SKU}"
    assert git(shop, "status", "--porcelain") == ""


def test_deleting_a_card_others_link_to_is_refused(shop, cli):
    (shop / "sku/planning/SKU-0002.md").unlink()
    out = refused(cli, shop, ["save"])
    assert out.startswith("错误：campaign/planned/CMP-0001.md:skus: ")
    assert "SKU-0002" in out and out.endswith(" — 没有保存任何修改\n")


def test_a_hand_made_copy_with_the_same_id_is_refused(shop, cli):
    (shop / "sku/shooting").mkdir(exist_ok=True)
    shutil.copy(shop / SKU, shop / "sku/shooting/SKU-0001.md")
    refused(cli, shop, ["save"], "编号 SKU-0001 有多个文件", "sku/planning/SKU-0001.md", "sku/shooting/SKU-0001.md")
    refused(cli, shop, ["move", "SKU-0001", "shooting"], "编号 SKU-0001 有多个文件")


def test_an_import_that_updates_a_hand_edited_card_is_refused_too(shop, cli):
    """The refusal lives where every change is committed, so `import` cannot sweep hand edits in either."""
    hand_edit(shop, SKU, "owner: wangli", "owner: wangli\ncategory: 手改的类目")
    sheet = shop.parent / "sheet.csv"
    sheet.write_text("编号,标题,负责人,价格\nSKU-0001,蓝牙耳机,wangli,199\n", "utf-8")
    out = refused(cli, shop, ["import", "csv", str(sheet), "--type", "sku", "--apply"])
    assert "sku/planning/SKU-0001.md: 有还没提交的手工修改（运行 mdboard save SKU-0001" in out


def test_an_edit_staged_and_then_undone_in_the_file_is_no_hand_edit(shop, cli):
    """What counts is the file against HEAD, the same for the refusal and for `save`."""
    path = hand_edit(shop, SKU, "owner: wangli", "owner: 王力")
    git(shop, "add", SKU)
    hand_edit(shop, SKU, "owner: 王力", "owner: wangli")
    assert cli("save").output == "没有需要保存的手工修改\n"
    result = cli("set", "SKU-0001", "price=99")
    assert result.exit_code == 0, result.output
    assert git(shop, "status", "--porcelain") == ""
    assert "price: 99" in git(shop, "show", f"HEAD:{SKU}") and path.read_text("utf-8").count("owner: wangli") == 1
