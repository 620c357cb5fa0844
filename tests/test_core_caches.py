"""The parse cache and the check memo never answer with stale results."""

from __future__ import annotations

import os
import time

import pytest

from conftest import git, written_a_while_ago
from mdboard.core.errors import CardChanged
from mdboard.core.store import Board
from mdboard.domain import ops


def test_check_sees_a_card_edited_after_a_clean_check(board, cli):
    cli.ok("new", "sku", "耳机", "--owner", "wangli")
    assert cli("check").exit_code == 0
    path = board / "sku/planning/SKU-0001.md"
    text = path.read_text("utf-8")
    stat = path.stat()
    path.write_text(text.replace("owner: wangli", "owner: wangxx"), "utf-8")  # same size
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    result = cli("check")
    assert result.exit_code == 1 and "名单里没有「wangxx」" in result.output


def test_check_sees_a_config_change(board, cli):
    cli.ok("new", "sku", "耳机", "--owner", "zhougang")
    assert cli("check").exit_code == 0
    cfg = board / "mdboard.yaml"
    cfg.write_text("\n".join(line for line in cfg.read_text("utf-8").splitlines()
                             if not line.strip().startswith("zhougang:")) + "\n", "utf-8")
    result = cli("check")
    assert result.exit_code == 1 and "名单里没有「zhougang」" in result.output


def test_check_sees_a_link_target_disappear(board, cli):
    cli.ok("new", "sku", "耳机", "--owner", "wangli")
    cli.ok("new", "campaign", "双12", "--owner", "wangli", "--set", "platform=tmall", "--set", "skus=SKU-0001")
    assert cli("check").exit_code == 0
    (board / "sku/planning/SKU-0001.md").unlink()
    result = cli("check")
    assert result.exit_code == 1
    assert "campaign/planned/CMP-0001.md:skus: 链接的卡片 SKU-0001 不存在" in result.output


def test_listing_after_a_change_shows_the_change(board, cli):
    cli.ok("new", "sku", "耳机", "--owner", "wangli")
    assert "王丽" in cli("ls").output
    cli.ok("assign", "SKU-0001", "zhaomin")
    assert "赵敏" in cli("ls").output
    cli.ok("move", "SKU-0001", "shooting")
    assert "拍摄中" in cli("ls").output
    assert git(board, "status", "--porcelain") == ""


def _touch_later(path, text):
    """Write `text` and move the mtime on, as a second save in the same instant would not."""
    stat = path.stat()
    path.write_text(text, "utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))


def test_a_body_edit_keeps_the_parsed_front_matter_without_reading_yaml(board, cli, monkeypatch):
    from mdboard.core import cardfile
    from mdboard.core.store import Board

    cli.ok("new", "sku", "耳机", "--owner", "wangli")
    assert "耳机" in cli("ls").output  # the parse cache now holds the card
    path = board / "sku/planning/SKU-0001.md"
    _touch_later(path, path.read_text("utf-8") + "\n补充说明:色卡已到。\n- [x] 拍摄\n")

    def no_yaml(*args, **kwargs):
        raise AssertionError("the front matter did not change: no YAML should be read")

    monkeypatch.setattr(cardfile, "load_yaml", no_yaml)
    card = Board.open(str(board)).get("SKU-0001")
    assert card.meta["title"] == "耳机" and card.meta["owner"] == "wangli"
    assert (True, "拍摄") in card.checklist  # the checklist comes from the body: read again


def test_a_front_matter_edit_of_the_same_size_is_read_again(board, cli):
    from mdboard.core.store import Board

    cli.ok("new", "sku", "耳机", "--owner", "wangli")
    assert "王丽" in cli("ls").output
    path = board / "sku/planning/SKU-0001.md"
    _touch_later(path, path.read_text("utf-8").replace("owner: wangli", "owner: zhaomi"))
    assert Board.open(str(board)).get("SKU-0001").meta["owner"] == "zhaomi"
    _touch_later(path, path.read_text("utf-8").replace("owner: zhaomi", "owner: [oops"))
    card = Board.open(str(board)).get("SKU-0001")
    assert card.error and card.meta == {}  # a broken front matter is never covered by the old meta
    _touch_later(path, path.read_text("utf-8").replace("owner: [oops", "owner: wangli"))
    assert Board.open(str(board)).get("SKU-0001").meta["owner"] == "wangli"


def test_lazy_cards_read_the_same_as_parsed_ones(board, cli):
    from mdboard.core.store import Board

    cli.ok("new", "sku", "耳机", "--owner", "wangli", "--set", "tags=[礼盒, 新品]")
    cli.ok("new", "campaign", "双12", "--owner", "wangli", "--set", "platform=tmall", "--set", "skus=SKU-0001")
    cli.ok("new", "sku", "充电器", "--owner", "zhaomin")
    written_a_while_ago(board)  # a card read in the tick it was written in is read again
    # enough cards parsed for the base file (with its packed part) to be written
    assert cli("ls").exit_code == 0
    eager = Board.open(str(board)).cards()
    lazy = Board.open(str(board)).cards(lazy=True)
    assert [c.path for c in lazy] == [c.path for c in eager]
    assert type(lazy[0]).__name__ == "_CachedCard"  # from the packed part, not parsed again
    assert lazy == eager  # meta and checklist unpacked on first read
    assert all(c.meta == e.meta and c.checklist == e.checklist for c, e in zip(lazy, eager))


def test_a_damaged_parse_cache_costs_a_rescan_not_the_command(board, cli):
    cli.ok("new", "sku", "耳机", "--owner", "wangli")
    assert cli("ls").exit_code == 0
    caches = list((board / ".git" / "mdboard").glob("parse*.cache"))
    assert caches
    for path in caches:
        path.write_bytes(path.read_bytes()[:40])  # cut off mid-way
    for args in (("ls",), ("check",), ("build",)):
        result = cli(*args)
        assert result.exit_code == 0, result.output
    assert "耳机" in cli("ls").output


def test_a_move_reads_the_card_from_a_current_parse_cache_without_yaml(board, cli, monkeypatch):
    """A move reads only the card's front matter: from the parse cache when it holds the
    file as it is (the YAML parser costs a command ~25 ms to import)."""
    from mdboard.core import cardfile

    cli.ok("new", "sku", "耳机", "--owner", "wangli")
    assert "耳机" in cli("ls").output  # the parse cache now holds the card

    def no_yaml(*args, **kwargs):
        raise AssertionError("the card did not change since it was cached: no YAML should be read")

    monkeypatch.setattr(cardfile, "load_yaml", no_yaml)
    cli.ok("move", "SKU-0001", "shooting")
    assert git(board, "log", "-1", "--format=%s") == "move SKU-0001: 规划中 → 拍摄中"
    assert git(board, "status", "--porcelain") == ""


def test_a_move_after_a_committed_edit_of_the_same_size_judges_the_card_as_it_is_now(board, cli):
    """The cache's entry is for the file as it was: a file changed since (same size, later
    mtime) is parsed again, so the move is judged by what the card says now."""
    cli.ok("new", "sku", "耳机", "--owner", "wangli", "--set", "price=199", "--set", "platforms=tmall")
    assert "耳机" in cli("ls").output
    path = board / "sku/planning/SKU-0001.md"
    _touch_later(path, path.read_text("utf-8").replace("price: 199", "price:    "))
    cli.ok("--as", "wangli", "save", "SKU-0001")
    result = cli("move", "SKU-0001", "review")
    assert result.exit_code == 1 and "价格" in result.output, result.output
    assert (board / "sku/planning/SKU-0001.md").exists()


def _not_yet_passed(path):
    """Give `path` a time the clock has not passed yet, as a file written in the very tick it
    is read in has (file times move in ticks of a few ms, or whole seconds); the mtime_ns."""
    moment = time.time_ns() + 3_000_000_000
    os.utime(path, ns=(moment, moment))
    return moment


def test_a_same_size_edit_in_the_tick_the_card_was_cached_in_is_never_taken_for_the_cached_one(board, cli):
    """A hand edit (saved) that kept the size and landed in the same file time as the parse
    the cache holds: a form made before it is judged by the card as it is now - its clash
    is named, not written over - and listings show the edit too."""
    cli.ok("new", "sku", "耳机", "--owner", "wangli", "--set", "price=99")
    path = board / "sku/planning/SKU-0001.md"
    seen = ops.card_version(path.read_bytes())
    moment = _not_yet_passed(path)
    assert "耳机" in cli("ls").output  # the parse cache now holds the card (price 99)
    path.write_text(path.read_text("utf-8").replace("price: 99", "price: 98"), "utf-8")  # same size
    os.utime(path, ns=(moment, moment))  # the same tick
    git(board, "commit", "-q", "-am", "价格改为98")
    assert Board.open(str(board)).get("SKU-0001").meta["price"] == 98
    with pytest.raises(CardChanged) as caught:
        ops.set_fields(Board.open(str(board)), "SKU-0001", ["price=120"], expect=ops.Expect(seen, {"price": 99}))
    assert [(c.key, c.then, c.now, c.asked) for c in caught.value.clashes] == [("price", 99, 98, 120)]
    assert "price: 98" in path.read_text("utf-8")


def test_a_roster_edit_of_the_same_size_in_the_tick_the_config_was_cached_in_names_the_right_person(board, cli):
    """The checked config is cached by mdboard.yaml's size and mtime; an edit that kept both
    (a name of as many bytes, in the same tick) is read again: the commit names the person
    as the roster says now."""
    cfg = board / "mdboard.yaml"
    moment = _not_yet_passed(cfg)
    cli.ok("--as", "zhaomin", "new", "sku", "耳机", "--owner", "zhaomin")  # the config cache now holds 赵敏
    cfg.write_text(cfg.read_text("utf-8").replace("{name: 赵敏,", "{name: 赵明,"), "utf-8")  # same size
    os.utime(cfg, ns=(moment, moment))  # the same tick
    git(board, "commit", "-q", "-am", "改名")
    cli.ok("--as", "zhaomin", "new", "sku", "充电器", "--owner", "zhaomin")
    assert git(board, "log", "-1", "--format=%an <%ae>") == "赵明 <zhaomin@example.com>"


def test_a_git_identity_changed_in_the_tick_it_was_read_in_commits_as_the_new_one(board, cli):
    """git's configuration is read once and kept while its files' stamps stay the same (a
    long-running server keeps it for days): a user.name rewritten with as many bytes in the
    tick it was read in is read again, and the next commit names the new committer."""
    config = board / ".git" / "config"
    config.write_text(config.read_text("utf-8") + "[user]\n\tname = 甲乙\n", "utf-8")
    moment = _not_yet_passed(config)
    cli.ok("new", "sku", "耳机", "--owner", "wangli")
    assert git(board, "log", "-1", "--format=%cn") == "甲乙"  # the author is the roster's 王丽
    config.write_text(config.read_text("utf-8").replace("甲乙", "丙丁"), "utf-8")  # same size
    os.utime(config, ns=(moment, moment))  # the same tick
    cli.ok("new", "sku", "充电器", "--owner", "wangli")
    assert git(board, "log", "-1", "--format=%cn") == "丙丁"


def test_check_sees_a_same_size_edit_made_in_the_tick_the_card_was_judged_in(board, cli):
    """`check` remembers each card's problems by the card's stamp; a hand edit that kept the
    size and the file time of the card it judged (saved again in the same tick) is judged
    again: the owner no longer on the roster is named."""
    cli.ok("new", "sku", "耳机", "--owner", "wangli")
    path = board / "sku/planning/SKU-0001.md"
    moment = _not_yet_passed(path)
    assert cli("check").exit_code == 0
    path.write_text(path.read_text("utf-8").replace("owner: wangli", "owner: wangxx"), "utf-8")  # same size
    os.utime(path, ns=(moment, moment))  # the same tick
    result = cli("check")
    assert result.exit_code == 1 and "名单里没有「wangxx」" in result.output, result.output


def test_a_build_shows_a_same_size_edit_made_in_the_tick_the_last_build_read_the_card_in(board, cli):
    """The site builder keeps each card's stamp from the last build and reads again only the
    cards whose stamp changed; a hand edit that kept the size and the file time the last
    build read (saved again in the same tick) is on the next build's page."""
    cli.ok("new", "sku", "耳机", "--owner", "wangli")
    path = board / "sku/planning/SKU-0001.md"
    moment = _not_yet_passed(path)
    cli.ok("build")
    page = board / "_site/cards/SKU-0001.html"
    assert "耳机" in page.read_text("utf-8")
    path.write_text(path.read_text("utf-8").replace("title: 耳机", "title: 话筒"), "utf-8")  # same size
    os.utime(path, ns=(moment, moment))  # the same tick
    cli.ok("build")
    assert "<h1>话筒" in page.read_text("utf-8") or "话筒</h1>" in page.read_text("utf-8")
