"""Labels are words people use (issue 15 point 4): every option and argument naming a card
type, state, platform or person takes the label people see as well as the key; a word the
board does not know is a usage mistake (exit 2) naming the nearest labels, never an empty
listing. Run through the real CLI on the demo board and on a fresh board in git."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import Cli, git


def ids(output: str) -> list[str]:
    return [line.split("\t")[0] for line in output.splitlines()[1:]]


def in_folder(board: Path, *parts: str) -> list[str]:
    return sorted(p.stem for p in board.joinpath(*parts).glob("*.md"))


def test_ls_state_by_its_label_lists_the_cards_in_that_state(demo_board):
    cli = Cli(demo_board)
    by_label = cli("ls", "--state", "拍摄中")
    assert by_label.exit_code == 0
    assert sorted(ids(by_label.output)) == in_folder(demo_board, "sku", "shooting") != []
    assert cli("ls", "--state", "shooting").output == by_label.output


def test_a_label_shared_by_two_types_lists_both_and_a_type_narrows_it(demo_board):
    cli = Cli(demo_board)
    both = sorted(ids(cli("ls", "--state", "live").output))
    assert both == sorted(in_folder(demo_board, "campaign", "live") + in_folder(demo_board, "asset", "live"))
    assert sorted(ids(cli("ls", "--type", "活动提报", "--state", "活动中").output)) == in_folder(demo_board, "campaign",
                                                                                                "live")


def test_an_unknown_state_is_exit_2_with_the_nearest_label(demo_board):
    cli = Cli(demo_board)
    result = cli("ls", "--state", "拍摄")
    assert (result.exit_code, result.output) == (2, "错误：没有状态「拍摄」（是不是「拍摄中」？）\n")
    result = cli("ls", "--state", "不存在")
    assert result.exit_code == 2 and result.output.startswith("错误：没有状态「不存在」（可选：规划中、拍摄中、")
    result = cli("ls", "--type", "上新", "--state", "活动中")
    assert result.exit_code == 2 and "可选：规划中、拍摄中、文案详情、待审核、已上架" in result.output


def test_platform_type_and_person_filters_take_labels_and_names(demo_board):
    cli = Cli(demo_board)
    for key, label in (("douyin", "抖音"), ("tmall", "天猫")):
        assert cli("ls", "--platform", label).output == cli("ls", "--platform", key).output
    assert cli("ls", "--type", "售后").output == cli("ls", "--type", "issue").output == cli("ls", "--type", "AS").output
    assert cli("ls", "--owner", "王丽").output == cli("ls", "--owner", "wangli").output
    assert ids(cli("ls", "--owner", "王丽").output)
    wrong = cli("ls", "--platform", "淘宝")
    assert wrong.exit_code == 2 and wrong.output == "错误：没有平台「淘宝」（可选：抖音、天猫、拼多多、京东）\n"
    wrong = cli("ls", "--type", "上架")
    assert wrong.exit_code == 2 and "上新" in wrong.output
    wrong = cli("ls", "--owner", "王力")
    assert (wrong.exit_code, wrong.output) == (2, "错误：名单里没有「王力」（是不是「王丽」？）\n")


def test_move_assign_new_and_mine_take_what_people_see(cli, board):
    assert cli("new", "上新", "蓝牙耳机", "--owner", "王丽").exit_code == 0
    assert cli("move", "SKU-0001", "拍摄中").exit_code == 0
    assert (board / "sku/shooting/SKU-0001.md").exists()
    assert cli("assign", "SKU-0001", "赵敏").exit_code == 0
    assert "owner: zhaomin\n" in (board / "sku/shooting/SKU-0001.md").read_text("utf-8")
    assert json.loads(cli("mine", "赵敏", "--json").output)["person"] == "zhaomin"
    head = git(board, "rev-parse", "HEAD")
    wrong = cli("move", "SKU-0001", "拍好了")
    assert wrong.exit_code == 2 and wrong.output.startswith("错误：")
    assert "规划中" in wrong.output and "shooting" not in wrong.output
    wrong = cli("assign", "SKU-0001", "赵明")  # a value refused for its field: exit 1, as set does
    assert wrong.exit_code == 1 and "owner: 名单里没有「赵明」（是不是「赵敏」？）" in wrong.output
    assert git(board, "rev-parse", "HEAD") == head


def test_report_export_and_history_filters_take_labels(cli, board):
    assert cli("new", "sku", "蓝牙耳机", "--owner", "王丽", "--set", "platforms=抖音").exit_code == 0
    assert "SKU-0001" in cli("export", "csv", "--state", "规划中", "--platform", "抖音").output
    assert cli("export", "csv", "--state", "已上架").output.count("\n") == 1  # the header row only
    assert cli("export", "csv", "--state", "已上").exit_code == 2
    assert cli("report", "--type", "上新").exit_code == 0
    assert "SKU-0001" in cli("log", "--who", "王丽").output
    wrong = cli("log", "--who", "王力")
    assert (wrong.exit_code, wrong.output) == (2, "错误：名单里没有「王力」（是不是「王丽」？）\n")


def test_an_english_board_names_its_labels_in_english(tmp_path):
    root = tmp_path / "shop"
    assert Cli(tmp_path)("init", str(root), "--lang", "en").exit_code == 0
    cli = Cli(root)
    assert cli("new", "SKU launch", "Earbuds", "--owner", "Me").exit_code == 0
    assert ids(cli("ls", "--state", "Planning").output) == ["SKU-0001"]
    wrong = cli("ls", "--state", "Shoting")
    assert (wrong.exit_code, wrong.output) == (2, "Error: no state 'Shoting' (did you mean 'Shooting'?)\n")


def test_an_enum_value_not_offered_names_the_options_as_people_read_them(cli, board):
    assert cli("new", "issue", "快递破损", "--owner", "孙丽", "--due", "明天", "--set", "platform=抖音",
               "--set", "order_no=DY1", "--set", "problem=物流").exit_code == 0
    wrong = cli("set", "AS-0001", "problem=快递丢了")
    assert wrong.exit_code == 1
    assert "「快递丢了」不在可选项中（可选：退换货、物流、质量、少件错发、价格、其他）" in wrong.output, wrong.output
    assert "是不是「质量」" in cli("set", "AS-0001", "problem=质里").output


def test_a_new_teammate_is_named_with_the_command_that_adds_them(tmp_path):
    root = tmp_path / "shop"
    assert Cli(tmp_path)("init", str(root)).exit_code == 0
    cli = Cli(root)
    refused = cli("new", "sku", "耳机", "--owner", "王丽")
    assert refused.exit_code == 1
    assert "名单里没有「王丽」（可选：我；新同事先运行 mdboard person add 王丽 加入成员名单）" in refused.output
    assert cli("person", "add", "王丽", "--email", "wangli@example.com").exit_code == 0
    assert cli("new", "sku", "耳机", "--owner", "王丽").exit_code == 0


# --- the next free ID ----------------------------------------------------------------------

def _next_id_by_pattern(prefix: str, ids) -> str:
    """The next free ID as it was told with ID_RE, one match an ID."""
    from mdboard.core.text import ID_RE

    highest = 0
    for card_id in ids:
        m = ID_RE.match(card_id)
        if m and m.group(1) == prefix:
            highest = max(highest, int(m.group(2)))
    return f"{prefix}-{highest + 1:04d}"


ID_LIKE = st.builds(lambda p, sep, n: p + sep + n, st.sampled_from(["SKU", "SK", "SKUX", "AS", "sku", "S1", ""]),
                    st.sampled_from(["-", "--", "_", ""]),
                    st.text(st.sampled_from(list("0123456789") + ["٣", "²", "７", "a", " ", "\n", "-"]), max_size=6))


@settings(max_examples=500, deadline=None)
@given(st.lists(ID_LIKE, max_size=30), st.sampled_from(["SKU", "AS", "S1"]))
def test_the_next_free_id_is_told_without_a_pattern_as_with_it(ids, prefix):
    """`new` looks at every ID in use (~40,000 at 100,000 cards): string tests, not ID_RE."""
    from mdboard.core.text import next_id

    assert next_id(prefix, ids) == _next_id_by_pattern(prefix, ids)


def test_the_next_free_id_counts_archived_ids_and_leading_zeros():
    from mdboard.core.text import next_id

    assert next_id("SKU", ["SKU-0009", "SKU-0012", "AS-9999", "SKU-12a", "SKU-٣٣", "SKU-"]) == "SKU-0013"
    assert next_id("SKU", ["SKU-9999", "SKU-10000"]) == "SKU-10001" and next_id("SKU", []) == "SKU-0001"
