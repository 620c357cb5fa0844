"""The parse cache and the check memo never answer with stale results."""

from __future__ import annotations

import os

from conftest import git


def test_check_sees_a_card_edited_after_a_clean_check(board, cli):
    cli("new", "sku", "耳机", "--owner", "wangli")
    assert cli("check").exit_code == 0
    path = board / "sku/planning/SKU-0001.md"
    text = path.read_text("utf-8")
    stat = path.stat()
    path.write_text(text.replace("owner: wangli", "owner: wangxx"), "utf-8")  # same size
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    result = cli("check")
    assert result.exit_code == 1 and "名单里没有「wangxx」" in result.output


def test_check_sees_a_config_change(board, cli):
    cli("new", "sku", "耳机", "--owner", "zhougang")
    assert cli("check").exit_code == 0
    cfg = board / "mdboard.yaml"
    cfg.write_text("\n".join(line for line in cfg.read_text("utf-8").splitlines()
                             if not line.strip().startswith("zhougang:")) + "\n", "utf-8")
    result = cli("check")
    assert result.exit_code == 1 and "名单里没有「zhougang」" in result.output


def test_check_sees_a_link_target_disappear(board, cli):
    cli("new", "sku", "耳机", "--owner", "wangli")
    cli("new", "campaign", "双12", "--owner", "wangli", "--set", "platform=tmall", "--set", "skus=SKU-0001")
    assert cli("check").exit_code == 0
    (board / "sku/planning/SKU-0001.md").unlink()
    result = cli("check")
    assert result.exit_code == 1
    assert "campaign/planned/CMP-0001.md:skus: 链接的卡片 SKU-0001 不存在" in result.output


def test_listing_after_a_change_shows_the_change(board, cli):
    cli("new", "sku", "耳机", "--owner", "wangli")
    assert "王丽" in cli("ls").output
    cli("assign", "SKU-0001", "zhaomin")
    assert "赵敏" in cli("ls").output
    cli("move", "SKU-0001", "shooting")
    assert "拍摄中" in cli("ls").output
    assert git(board, "status", "--porcelain") == ""
