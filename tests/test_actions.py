"""The actions API the CLI and the team web board share (plan/OPS_API.md).

Card versions and `Expect` (no lost update), `CardChanged` with per-field detail, and
the verbs `tick` and `note` — through the CLI and through `mdboard.domain.ops` directly, as
the web board calls them, including processes racing on one card.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap

import pytest

from conftest import git
from mdboard.core import i18n
from mdboard.core.errors import CardChanged, CardNotFound
from mdboard.core.store import Board
from mdboard.domain import ops

SKU = "sku/planning/SKU-0001.md"


@pytest.fixture
def shop(board, cli):
    result = cli("new", "sku", "蓝牙耳机", "--owner", "wangli", "--set", "price=99")
    assert result.exit_code == 0, result.output
    return board


def opened(root):
    """The board as a fresh process (a web request) sees it."""
    board = Board.open(str(root))
    return board


def version(root, rel=SKU):
    return hashlib.sha256((root / rel).read_bytes()).hexdigest()[:16]


def subjects(root, since):
    return git(root, "log", "--format=%s", f"{since}..HEAD").splitlines()


# --- versions ------------------------------------------------------------------------------

def test_show_json_carries_the_version_of_the_cards_bytes(shop, cli):
    shown = json.loads(cli("show", "SKU-0001", "--json").output)
    assert shown["version"] == version(shop) == ops.version_of(opened(shop), opened(shop).find("SKU-0001"))
    assert cli("set", "SKU-0001", "category=耳机").exit_code == 0
    again = json.loads(cli("show", "SKU-0001", "--json").output)
    assert again["version"] == version(shop) != shown["version"]


# --- set / assign with expect --------------------------------------------------------------

def test_a_form_on_an_unchanged_card_applies(shop):
    board = opened(shop)
    result = ops.set_fields(board, "SKU-0001", ["price=120"], expect=ops.Expect(version(shop), {"price": 99}))
    assert result.commit and "price: 120" in (shop / SKU).read_text("utf-8")


def test_a_stale_form_on_another_field_keeps_both_edits(shop, cli):
    seen = version(shop)
    assert cli("--as", "zhaomin", "set", "SKU-0001", "category=耳机").exit_code == 0
    board = opened(shop)
    ops.set_fields(board, "SKU-0001", ["price=120"], expect=ops.Expect(seen, {"price": 99}))
    text = (shop / SKU).read_text("utf-8")
    assert "category: 耳机" in text and "price: 120" in text


def test_a_stale_form_on_the_same_field_is_refused_with_each_clash(shop, cli):
    seen = version(shop)
    assert cli("--as", "zhaomin", "set", "SKU-0001", "price=199", "owner=zhaomin").exit_code == 0
    head, before = git(shop, "rev-parse", "HEAD"), (shop / SKU).read_bytes()
    board = opened(shop)
    with pytest.raises(CardChanged) as caught:
        ops.set_fields(board, "SKU-0001", ["price=120", "owner=chenjing"],
                       expect=ops.Expect(seen, {"price": 99, "owner": "wangli"}))
    exc = caught.value
    assert [(c.key, c.label, c.then, c.now, c.asked) for c in exc.clashes] == [
        ("price", "价格", 99, 199, 120), ("owner", "负责人", "wangli", "zhaomin", "chenjing")]
    assert (exc.card_id, exc.state, exc.changed_by) == ("SKU-0001", "planning", "赵敏")
    assert str(exc) == (
        "sku/planning/SKU-0001.md:price: 现在是「¥199」（你打开时是「¥99」，你要改成「¥120」）\n"
        "sku/planning/SKU-0001.md:owner: 现在是「赵敏」（你打开时是「王丽」，你要改成「陈静」） — SKU-0001 在你打开之后"
        "被赵敏修改过：没有保存任何修改，你填写的内容还在，请核对后再提交")
    assert git(shop, "rev-parse", "HEAD") == head and (shop / SKU).read_bytes() == before


def test_the_clash_message_speaks_the_boards_language(tmp_path, cli):
    from conftest import Cli

    root = tmp_path / "en"
    assert cli("init", str(root), "--lang", "en").exit_code == 0
    en = Cli(root)
    assert en("--as", "me", "new", "sku", "Earbuds", "--owner", "me", "--set", "price=99").exit_code == 0
    seen = version(root)
    assert en("--as", "me", "set", "SKU-0001", "price=199").exit_code == 0
    with pytest.raises(CardChanged) as caught:
        ops.set_fields(opened(root), "SKU-0001", ["price=120"], ops.resolve_actor(opened(root), "me"),
                       expect=ops.Expect(seen, {"price": 99}))
    assert str(caught.value).startswith("sku/planning/SKU-0001.md:price: is now '¥199' (it was '¥99' when you opened it;"
                                        " you asked for '¥120') — SKU-0001 was changed by ")
    i18n.set_language(None)


def test_the_same_value_set_twice_is_no_clash(shop, cli):
    seen = version(shop)
    assert cli("set", "SKU-0001", "price=120").exit_code == 0
    result = ops.set_fields(opened(shop), "SKU-0001", ["price=120"], expect=ops.Expect(seen, {"price": 99}))
    assert result.commit is None  # nothing left to change


def test_a_stale_version_without_fields_is_refused(shop, cli):
    seen = version(shop)
    assert cli("set", "SKU-0001", "category=耳机").exit_code == 0
    with pytest.raises(CardChanged):
        ops.assign(opened(shop), "SKU-0001", "zhaomin", expect=ops.Expect(seen))


def test_a_card_deleted_meanwhile_is_not_found(shop):
    git(shop, "rm", "-q", SKU)
    git(shop, "commit", "-qm", "gone")
    with pytest.raises(CardNotFound):
        ops.set_fields(opened(shop), "SKU-0001", ["price=1"], expect=ops.Expect("0" * 16))


# --- move with expect ----------------------------------------------------------------------

def test_a_drag_from_a_state_the_card_has_left_is_refused(shop, cli):
    assert cli("--as", "zhaomin", "move", "SKU-0001", "shooting").exit_code == 0
    head = git(shop, "rev-parse", "HEAD")
    with pytest.raises(CardChanged) as caught:
        ops.move_card(opened(shop), "SKU-0001", "content", expect=ops.Expect(state="planning"))
    assert str(caught.value) == "SKU-0001 已经被赵敏移到「拍摄中」（你拖动时它在「规划中」），这次没有移动"
    assert caught.value.state == "shooting"
    assert git(shop, "rev-parse", "HEAD") == head


def test_a_drag_still_applies_after_an_edit_to_the_content(shop, cli):
    seen = version(shop)
    assert cli("set", "SKU-0001", "category=耳机").exit_code == 0
    result = ops.move_card(opened(shop), "SKU-0001", "shooting", expect=ops.Expect(seen, state="planning"))
    assert result.card.path == "sku/shooting/SKU-0001.md"


RACE = textwrap.dedent("""
    import sys
    from mdboard.core.errors import MdboardError
    from mdboard.core.store import Board
    from mdboard.domain import ops
    board = Board.open(sys.argv[1])
    kind, arg, seen = sys.argv[2], sys.argv[3], sys.argv[4]
    try:
        if kind == "move":
            ops.move_card(board, "SKU-0001", arg, expect=ops.Expect(seen, state="planning"))
        else:
            key, _, value = arg.partition("=")
            ops.set_fields(board, "SKU-0001", [arg], expect=ops.Expect(seen, {key: {"price": 99}.get(key)}))
    except MdboardError as exc:
        print(str(exc))
        sys.exit(1)
""")


def race(root, *jobs):
    """Start one process per (kind, arg) at once, all with the version seen now; their outcomes."""
    seen = version(root)
    env = {**os.environ, "MDBOARD_LOCK_TIMEOUT": "120"}
    procs = [subprocess.Popen([sys.executable, "-c", RACE, str(root), kind, arg, seen], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for kind, arg in jobs]
    return [(p.wait(), p.stdout.read(), p.stderr.read()) for p in procs]


def test_two_people_dragging_one_card_at_once_make_exactly_one_move(shop):
    head = git(shop, "rev-parse", "HEAD")
    outcomes = race(shop, ("move", "shooting"), ("move", "content"))
    assert sorted(code for code, _, _ in outcomes) == [0, 1], outcomes
    loser = next(out for code, out, _ in outcomes if code == 1)
    assert loser.startswith("SKU-0001 已经被王丽移到「") and "（你拖动时它在「规划中」），这次没有移动" in loser
    assert len(subjects(shop, head)) == 1
    assert git(shop, "status", "--porcelain") == ""
    assert len(list(shop.glob("sku/*/SKU-0001.md"))) == 1


def test_two_people_setting_different_fields_at_once_both_keep_theirs(shop):
    head = git(shop, "rev-parse", "HEAD")
    outcomes = race(shop, ("set", "price=150"), ("set", "category=耳机"))
    assert [code for code, _, _ in outcomes] == [0, 0], outcomes
    text = (shop / SKU).read_text("utf-8")
    assert "price: 150" in text and "category: 耳机" in text
    assert sorted(subjects(shop, head)) == ["set SKU-0001: category=耳机", "set SKU-0001: price=150"]
    assert git(shop, "status", "--porcelain") == ""


def test_two_cli_moves_of_one_card_at_once_commit_once(shop, cli):
    head = git(shop, "rev-parse", "HEAD")
    env = {**os.environ, "MDBOARD_LOCK_TIMEOUT": "120"}
    exe = os.path.join(os.path.dirname(sys.executable), "mdboard")
    procs = [subprocess.Popen([exe, "move", "SKU-0001", "shooting"], cwd=shop, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outcomes = sorted((p.wait(), p.stdout.read(), p.stderr.read()) for p in procs)
    assert [code for code, _, _ in outcomes] == [0, 1], outcomes
    assert outcomes[1][2] == "错误：sku/shooting/SKU-0001.md: 卡片已在「拍摄中」 — SKU-0001 没有移动\n"
    assert subjects(shop, head) == ["move SKU-0001: 规划中 → 拍摄中"]


# --- tick --------------------------------------------------------------------------------------

def test_tick_changes_only_the_items_line_and_says_what_it_did(shop, cli):
    before = (shop / SKU).read_bytes()
    result = cli("--as", "zhaomin", "tick", "SKU-0001", "主图")
    assert result.exit_code == 0, result.output
    assert result.output == f"已勾选 SKU-0001：主图  [{git(shop, 'rev-parse', 'HEAD')[:8]}]\n"
    after = (shop / SKU).read_bytes()
    assert after == before.replace(b"- [ ] \xe4\xb8\xbb\xe5\x9b\xbe", "- [x] 主图".encode())
    assert git(shop, "log", "-1", "--format=%an%n%B") == \
        "赵敏\ntick SKU-0001: 主图\n\nCard: SKU-0001\nAction: tick\nItem: 主图"
    assert git(shop, "status", "--porcelain") == ""
    undo = cli("tick", "--undo", "SKU-0001", "主图")
    assert undo.exit_code == 0 and undo.output.startswith("已取消勾选 SKU-0001：主图")
    assert (shop / SKU).read_bytes() == before
    assert git(shop, "log", "-1", "--format=%s") == "untick SKU-0001: 主图"


def test_tick_finds_an_item_by_number_or_unique_beginning(shop, cli):
    assert cli("tick", "SKU-0001", "3").output.startswith("已勾选 SKU-0001：详情页")
    assert cli("tick", "SKU-0001", "价格").output.startswith("已勾选 SKU-0001：价格审核")
    assert [done for done, _ in opened(shop).find("SKU-0001").checklist] == [False, False, True, False, True]


def test_tick_of_an_item_already_ticked_changes_nothing(shop, cli):
    assert cli("tick", "SKU-0001", "拍摄").exit_code == 0
    head = git(shop, "rev-parse", "HEAD")
    result = cli("tick", "SKU-0001", "拍摄")
    assert (result.exit_code, result.output) == (0, "没有变化：「拍摄」已经勾选了\n")
    assert git(shop, "rev-parse", "HEAD") == head


def test_tick_of_an_unknown_or_ambiguous_item_is_refused(shop, cli):
    text = (shop / SKU).read_text("utf-8").replace("- [ ] 文案", "- [ ] 文案\n- [ ] 文案审核")
    (shop / SKU).write_text(text, "utf-8")
    git(shop, "commit", "-qam", "another item")
    head = git(shop, "rev-parse", "HEAD")
    result = cli("tick", "SKU-0001", "白底图")
    assert (result.exit_code, result.output) == (1, "错误：SKU-0001 的清单里没有「白底图」（清单里有：拍摄、主图、详情页、"
                                                    "文案、文案审核、价格审核）\n")
    result = cli("tick", "SKU-0001", "文案审")
    assert result.exit_code == 0
    result = cli("tick", "SKU-0001", "文")
    assert result.output == "错误：SKU-0001 的清单里有多项以「文」开头：文案、文案审核（写出完整的文字，或用序号 1 到 6）\n"
    assert len(subjects(shop, head)) == 1


def test_tick_picks_one_of_several_items_with_the_same_text(shop):
    text = (shop / SKU).read_text("utf-8").replace("- [ ] 价格审核", "- [ ] 主图\n- [ ] 价格审核")
    (shop / SKU).write_text(text, "utf-8")
    git(shop, "commit", "-qam", "two 主图")
    ops.tick(opened(shop), "SKU-0001", "主图", occurrence=2)
    assert [d for d, x in opened(shop).find("SKU-0001").checklist if x == "主图"] == [False, True]


def test_a_stale_tick_applies_unless_its_item_is_gone(shop, cli):
    seen = version(shop)
    assert cli("set", "SKU-0001", "category=耳机").exit_code == 0
    ops.tick(opened(shop), "SKU-0001", "主图", expect=ops.Expect(seen))
    assert (True, "主图") in opened(shop).find("SKU-0001").checklist
    seen = version(shop)
    text = (shop / SKU).read_text("utf-8").replace("- [ ] 详情页\n", "")
    (shop / SKU).write_text(text, "utf-8")
    git(shop, "commit", "-qam", "详情页 not needed")
    with pytest.raises(CardChanged) as caught:
        ops.tick(opened(shop), "SKU-0001", "详情页", expect=ops.Expect(seen))
    assert str(caught.value).startswith("sku/planning/SKU-0001.md:checklist: 清单里已经没有「详情页」了")


def test_tick_on_a_card_without_checklist_says_what_a_checklist_is(shop, cli):
    assert cli("new", "issue", "少件", "--owner", "sunli", "--due", "2026-12-01 18:00", "--set", "platform=tmall",
               "--set", "order_no=1", "--set", "problem=少件错发").exit_code == 0
    result = cli("tick", "AS-0001", "1")
    assert result.output == "错误：AS-0001 没有清单（清单是正文里 - [ ] 开头的行，例如「- [ ] 主图」）\n"


# --- note --------------------------------------------------------------------------------------

def test_note_appends_a_signed_line_under_a_notes_heading(shop, cli):
    before = (shop / SKU).read_text("utf-8")
    result = cli("--as", "zhaomin", "note", "SKU-0001", "样品到了，\n明天拍")
    assert result.exit_code == 0, result.output
    after = (shop / SKU).read_text("utf-8")
    assert after == before + "\n## 备注\n\n- 2026-11-25 09:00 赵敏：样品到了， 明天拍\n"
    assert git(shop, "log", "-1", "--format=%an%n%B") == \
        "赵敏\nnote SKU-0001: 样品到了， 明天拍\n\nCard: SKU-0001\nAction: note"
    assert cli("note", "SKU-0001", "客户已回复").exit_code == 0
    assert (shop / SKU).read_text("utf-8") == after + "- 2026-11-25 09:00 王丽：客户已回复\n"
    diff = git(shop, "diff", "HEAD~1", "HEAD", "--", SKU)
    assert [line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")] == \
        ["+- 2026-11-25 09:00 王丽：客户已回复"]


def test_a_note_goes_at_the_end_of_a_notes_section_in_the_middle(shop, cli):
    text = (shop / SKU).read_text("utf-8").replace("## 上新清单", "## 备注\n\n- 早先的备注\n\n## 上新清单")
    (shop / SKU).write_text(text, "utf-8")
    git(shop, "commit", "-qam", "notes first")
    assert cli("note", "SKU-0001", "第二条").exit_code == 0
    assert "## 备注\n\n- 早先的备注\n- 2026-11-25 09:00 王丽：第二条\n\n## 上新清单" in (shop / SKU).read_text("utf-8")
    assert opened(shop).find("SKU-0001").checklist == [(False, x) for x in ("拍摄", "主图", "详情页", "文案", "价格审核")]


def test_a_note_keeps_windows_line_endings(shop, cli):
    data = (shop / SKU).read_bytes().replace(b"\n", b"\r\n")
    (shop / SKU).write_bytes(data)
    git(shop, "commit", "-qam", "crlf")
    assert cli("note", "SKU-0001", "好").exit_code == 0
    assert (shop / SKU).read_bytes() == data + "\r\n## 备注\r\n\r\n- 2026-11-25 09:00 王丽：好\r\n".encode()


def test_an_empty_note_or_one_with_control_characters_is_refused(shop, cli):
    head = git(shop, "rev-parse", "HEAD")
    assert cli("note", "SKU-0001", "  \n ").output == "错误：备注不能为空\n"
    assert cli("note", "SKU-0001", "a\x1b[2Jb").output.startswith("错误：备注里有控制字符")
    assert git(shop, "rev-parse", "HEAD") == head


def test_a_note_on_an_english_board(tmp_path, cli):
    from conftest import Cli

    root = tmp_path / "en"
    assert cli("init", str(root), "--lang", "en").exit_code == 0
    en = Cli(root)
    assert en("--as", "me", "new", "sku", "Earbuds", "--owner", "me").exit_code == 0
    result = en("--as", "me", "note", "SKU-0001", "samples arrived")
    assert result.exit_code == 0, result.output
    assert (root / SKU).read_text("utf-8").endswith("\n## Notes\n\n- 2026-11-25 09:00 Me: samples arrived\n")


def test_new_verbs_have_help_in_both_languages(cli, monkeypatch):
    for command in ("tick", "note", "save"):
        zh = cli(command, "--help")
        assert zh.exit_code == 0 and "提交" in zh.output
    monkeypatch.setenv("MDBOARD_LANG", "en")
    i18n.set_language(None)
    from mdboard.core.i18n import t_in

    for key in ("cli.help_tick", "cli.help_note", "cli.help_save"):
        assert t_in("en", key) != key and "commit" in t_in("en", key)


def test_tick_and_note_outside_a_repository_say_what_they_did_and_that_nothing_was_committed(shop, cli):
    import shutil

    shutil.rmtree(shop / ".git")
    result = cli("tick", "SKU-0001", "主图")
    assert (result.exit_code, result.output) == (0, "已勾选 SKU-0001：主图\n注意：看板不在 git 仓库中，修改没有提交"
                                                    "（运行 git init 开启记录）\n")
    result = cli("note", "SKU-0001", "好")
    assert result.exit_code == 0 and result.output.startswith("已添加备注 SKU-0001：蓝牙耳机\n注意：")
    assert "- [x] 主图" in (shop / SKU).read_text("utf-8") and "## 备注" in (shop / SKU).read_text("utf-8")
