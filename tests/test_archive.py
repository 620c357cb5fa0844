"""`mdboard archive`: finished cards older than N days go into a year folder inside their
state's folder; listings and checks skip them unless asked, links and IDs stay good, history
reads on, and the move is one commit by the acting person (real git repositories)."""

from __future__ import annotations

import json
import os
import time

from conftest import git
from mdboard.core.store import Board


def test_archive_moves_old_finished_cards_into_their_states_year_folder(shop, cli):
    result = cli.ok("--as", "sunli", "archive", "--days", "2")
    assert result.output.splitlines() == [
        "SKU-0002  sku/listed/SKU-0002.md → sku/listed/2026/SKU-0002.md",
        "AS-0001  issue/archived/AS-0001.md → issue/archived/2026/AS-0001.md",
        "已归档 2 张卡片（1 次提交）",
    ]
    assert (shop / "sku/listed/2026/SKU-0002.md").is_file()
    assert (shop / "issue/archived/2026/AS-0001.md").is_file()
    assert (shop / "sku/listed/SKU-0003.md").is_file()  # finished 11-23 10:00: less than 2 days ago
    assert not (shop / "sku/listed/SKU-0002.md").exists()
    assert git(shop, "status", "--porcelain") == ""
    assert git(shop, "log", "-1", "--format=%an%n%B").splitlines() == [
        "孙丽", "归档 2 张完成超过 2 天的卡片", "", "Action: archive", "Days: 2"]
    assert git(shop, "show", "--name-status", "-M", "--format=", "HEAD").splitlines() == [
        "R100\tissue/archived/AS-0001.md\tissue/archived/2026/AS-0001.md",
        "R100\tsku/listed/SKU-0002.md\tsku/listed/2026/SKU-0002.md"]


def test_listings_and_check_skip_archived_cards_unless_asked(shop, cli):
    cli.ok("archive", "--days", "2")
    listed = json.loads(cli.ok("ls", "--json").output)
    assert {c["id"] for c in listed} == {"SKU-0001", "SKU-0003", "SKU-0004", "SKU-0005", "AS-0002", "AS-0003"}
    everything = json.loads(cli.ok("ls", "--json", "--archived").output)
    archived = {c["id"]: c for c in everything}
    assert set(archived) == {c["id"] for c in listed} | {"SKU-0002", "AS-0001"}
    assert archived["AS-0001"]["state"] == "archived"
    assert archived["AS-0001"]["path"] == "issue/archived/2026/AS-0001.md"
    # an archived card broken by hand is only reported when the archive is checked too
    card = shop / "sku/listed/2026/SKU-0002.md"
    card.write_text(card.read_text("utf-8").replace("owner: zhaomin", "owner: nobody"), "utf-8")
    assert cli("check").exit_code == 0
    result = cli("check", "--archived")
    assert result.exit_code == 1
    assert "sku/listed/2026/SKU-0002.md:owner:" in result.output


def test_an_archived_card_keeps_its_id_its_links_and_its_history(shop, cli):
    cli.ok("archive", "--days", "2")
    # its ID is never given again, links to it stay good, show and history find it
    created = cli.ok("new", "sku", "新品", "--owner", "wangli").output
    assert "SKU-0006" in created
    cli.ok("set", "AS-0003", "sku=SKU-0002")
    assert cli("check").exit_code == 0
    assert "蓝牙耳机" in cli.ok("show", "SKU-0002").output
    history = cli.ok("history", "AS-0001").output
    assert "跟进中" in history and "已归档" in history
    # reopened: it leaves the archive for an open state
    cli.ok("--as", "sunli", "move", "AS-0001", "following")
    assert (shop / "issue/following/AS-0001.md").is_file()
    assert not (shop / "issue/archived/2026/AS-0001.md").exists()
    assert git(shop, "status", "--porcelain") == ""


def test_the_year_folder_is_the_year_the_card_was_finished(board, cli, monkeypatch):
    monkeypatch.setenv("GIT_AUTHOR_DATE", "2025-12-30T10:00:00+08:00")
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2025-12-30T10:00:00+08:00")
    cli.ok("new", "issue", "物流破损", "--owner", "sunli", "--set", "platform=tmall", "--set", "problem=物流",
           "--set", "order_no=A1", "--set", "resolution=补发", "--due", "2025-12-31 18:00")
    cli.ok("move", "AS-0001", "resolved")
    cli.ok("move", "AS-0001", "archived")
    monkeypatch.setenv("GIT_AUTHOR_DATE", "2026-11-20T10:00:00+08:00")
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2026-11-20T10:00:00+08:00")
    cli.ok("new", "issue", "少发配件", "--owner", "sunli", "--set", "platform=tmall", "--set", "problem=物流",
           "--set", "order_no=A2", "--set", "resolution=补发", "--due", "2026-11-21 18:00")
    cli.ok("move", "AS-0002", "resolved")
    cli.ok("move", "AS-0002", "archived")
    assert cli.ok("archive").output.splitlines() == [  # 30 days by default: AS-0002 is 5 days old
        "AS-0001  issue/archived/AS-0001.md → issue/archived/2025/AS-0001.md", "已归档 1 张卡片（1 次提交）"]
    assert cli.ok("archive", "--days", "0").output.splitlines()[0] == (
        "AS-0002  issue/archived/AS-0002.md → issue/archived/2026/AS-0002.md")


def test_a_dry_run_changes_nothing_and_nothing_to_do_says_so(shop, cli):
    head = git(shop, "rev-parse", "HEAD")
    result = cli.ok("archive", "--days", "2", "--dry-run")
    assert result.output.splitlines()[-1] == "会归档 2 张完成超过 2 天的卡片（试运行，什么都没改）"
    assert git(shop, "rev-parse", "HEAD") == head and git(shop, "status", "--porcelain") == ""
    assert cli.ok("archive", "--days", "100").output == "没有完成超过 100 天、还没归档的卡片\n"
    assert git(shop, "rev-parse", "HEAD") == head
    bad = cli("archive", "--days", "-1")
    assert bad.exit_code == 2 and git(shop, "rev-parse", "HEAD") == head


def test_a_warm_scan_does_not_list_the_archive(shop, cli, monkeypatch):
    """`ls`, `mine`, `check` never enter an archive folder: a file there that is no card at
    all (a `.MD` file) is only seen when the archive is asked for."""
    cli.ok("archive", "--days", "2")
    (shop / "issue/archived/2026/AS-0099.MD").write_text("---\ntitle: x\n---\n", "utf-8")
    board = Board(shop)
    assert "AS-0001" not in {c.id for c in board.cards()}
    assert board.scan_problems() == []
    assert {c.id for c in board.cards(archived=True)} >= {"AS-0001", "SKU-0002"}
    assert [p.path for p in board.scan_problems()] == ["issue/archived/2026/AS-0099.MD"]


def test_a_scanned_board_finds_the_same_archive_folders_as_a_fresh_one(shop, cli):
    """The scan keeps the year folders it meets in the done states' folders, so finding the
    archive needs no second listing; what it finds is what a listing of its own finds
    (a year-named file or a folder named like no year is no archive folder)."""
    cli.ok("archive", "--days", "2")
    (shop / "sku/listed/2025").write_text("not a folder", "utf-8")
    (shop / "issue/archived/20x6").mkdir()
    (shop / "issue/archived/2024").mkdir()
    (shop / "issue/archived/2024/AS-0077.md").write_text("---\ntitle: x\n---\n", "utf-8")
    scanned = Board(shop)
    scanned.cards()
    listed = scanned.archive_folders()
    assert list(listed) == ["sku/listed/2026", "issue/archived/2024", "issue/archived/2026"]
    assert listed == Board(shop).archive_folders()
    assert scanned.id_types() == Board(shop).id_types()
    named = Board(shop)
    named.names()
    assert named.archive_folders() == listed


def test_the_site_lists_archived_cards_by_type_and_year_and_links_lead_there(shop, cli):
    cli.ok("archive", "--days", "2")
    cli.ok("set", "AS-0003", "sku=SKU-0002")
    cli.ok("build")
    site = shop / "_site"
    assert not (site / "cards/SKU-0002.html").exists()  # archived cards get no page of their own
    overview = (site / "archive/index.html").read_text("utf-8")
    assert '<a href="sku-2026-1.html">2026</a>' in overview and '<a href="issue-2026-1.html">2026</a>' in overview
    page = (site / "archive/sku-2026-1.html").read_text("utf-8")
    assert ('<tr id="SKU-0002"><td><span class="card-id">SKU-0002</span> 蓝牙耳机</td>'
            '<td><span class="state-badge">已上架</span></td><td>赵敏</td></tr>') in page
    card = (site / "cards/AS-0003.html").read_text("utf-8")
    assert 'href="../archive/sku-2026-1.html#SKU-0002"' in card
    assert 'href="../archive/index.html"' in card  # the navigation leads to the archive
    # the kanban tile of a card linking to an archived one leads to its row too, not struck out
    kanban = (site / "types/issue.html").read_text("utf-8")
    tile = kanban[kanban.index('<span class="card-id">AS-0003</span>'):]
    tile = tile[:tile.index("</article>")]
    assert ('<a href="../archive/sku-2026-1.html#SKU-0002" class="archived" title="已归档">SKU-0002</a>') in tile
    assert 'class="missing"' not in tile
    # a card taken out of the archive has its page again, and leaves the archive's page
    cli.ok("--as", "sunli", "move", "AS-0001", "following")
    cli.ok("build")
    assert (site / "cards/AS-0001.html").is_file()
    assert not (site / "archive/issue-2026-1.html").exists()


def test_the_sites_manifest_keeps_the_commit_hashes_of_open_cards_only(shop, cli):
    """Only open cards have pages, so only their commits' hashes are kept for the next build
    (at 10,000 cards the archived ones' were nine tenths of what every build read). A card
    back from the archive has its page again, and its next commits show on it."""
    from mdboard.site.builder import SiteBuilder

    cli.ok("archive", "--days", "2")
    builder = SiteBuilder(Board(shop))
    builder.build_all()
    open_ids = {c["id"] for c in json.loads(cli.ok("ls", "--json").output)}
    assert set(builder.last.history["cards"]) == open_ids
    assert not {"SKU-0002", "AS-0001"} & set(builder.last.history["cards"])
    cli.ok("--as", "sunli", "move", "AS-0001", "following")
    cli.ok("build")
    cli.ok("--as", "sunli", "move", "AS-0001", "resolved")
    cli.ok("build")
    page = (shop / "_site/cards/AS-0001.html").read_text("utf-8")
    assert page.count("孙丽") >= 2 and "已解决" in page


def test_a_card_archived_by_hand_is_saved_as_a_move_and_edited_by_hand_too(shop, cli):
    """`mv` into the year folder, then `mdboard save`: a move git records as a rename (not a
    deleted card), and a hand edit of an archived card is saved like any other."""
    (shop / "issue/archived/2026").mkdir()
    (shop / "issue/archived/AS-0001.md").rename(shop / "issue/archived/2026/AS-0001.md")
    cli.ok("--as", "sunli", "save", "AS-0001")
    assert git(shop, "show", "--name-status", "-M", "--format=", "HEAD").splitlines() == [
        "R100\tissue/archived/AS-0001.md\tissue/archived/2026/AS-0001.md"]
    card = shop / "issue/archived/2026/AS-0001.md"
    card.write_text(card.read_text("utf-8").replace("resolution: 补发", "resolution: 补发并致歉"), "utf-8")
    cli.ok("--as", "sunli", "save", "AS-0001")
    assert git(shop, "status", "--porcelain") == ""
    assert "resolution: 补发并致歉" in git(shop, "show", "HEAD:issue/archived/2026/AS-0001.md")


def _set_archive(board, text: str) -> None:
    """Append an `archive:` section to the board's mdboard.yaml and commit it."""
    cfg = board / "mdboard.yaml"
    cfg.write_text(cfg.read_text("utf-8") + "\narchive:\n" + text, "utf-8")
    git(board, "commit", "-q", "-am", "archive setting")


def test_the_archive_age_is_a_board_setting_and_days_overrides_it(shop, cli):
    _set_archive(shop, "  days: 2\n")
    head = git(shop, "rev-parse", "HEAD")
    assert cli.ok("archive", "--days", "100").output == "没有完成超过 100 天、还没归档的卡片\n"
    assert git(shop, "rev-parse", "HEAD") == head
    result = cli.ok("--as", "sunli", "archive")  # archive.days: 2, as --days 2 above
    assert result.output.splitlines()[-1] == "已归档 2 张卡片（1 次提交）"
    assert (shop / "sku/listed/2026/SKU-0002.md").is_file() and (shop / "sku/listed/SKU-0003.md").is_file()
    assert git(shop, "log", "-1", "--format=%s%n%b").splitlines()[:3] == [
        "归档 2 张完成超过 2 天的卡片", "Action: archive", "Days: 2"]


def test_the_archive_age_defaults_to_30_days(shop, cli):
    assert cli.ok("archive", "--dry-run").output == "没有完成超过 30 天、还没归档的卡片\n"
    _set_archive(shop, "  days:\n")  # nothing after the colon: the default
    assert cli.ok("archive", "--dry-run").output == "没有完成超过 30 天、还没归档的卡片\n"


def test_a_bad_archive_age_names_the_file_the_field_and_the_fix(shop, cli):
    head = git(shop, "rev-parse", "HEAD")
    for value, shown in (("-3", "-3"), ("三十", "三十"), ("2.5", "2.5"), ("true", "true")):
        cfg = shop / "mdboard.yaml"
        cfg.write_text(cfg.read_text("utf-8").split("\narchive:\n")[0] + f"\narchive:\n  days: {value}\n", "utf-8")
        result = cli("archive")
        assert result.exit_code != 0 and "Traceback" not in result.output, result.output
        assert f"mdboard.yaml:archive.days: 归档天数「{shown}」应为 0 或正整数" in result.output, result.output
        assert "days: 30" in result.output  # how to write it
        assert git(shop, "rev-parse", "HEAD") == head and (shop / "sku/listed/SKU-0002.md").is_file()
    cfg.write_text(cfg.read_text("utf-8").replace("language: zh-CN", "language: en"), "utf-8")
    result = cli("archive", "--days", "2")
    assert result.exit_code != 0
    assert "mdboard.yaml:archive.days: archive days 'true' should be a whole number, 0 or more" in result.output, \
        result.output
    assert "days: 30" in result.output and git(shop, "rev-parse", "HEAD") == head
    cfg.write_text(cfg.read_text("utf-8").replace("\narchive:\n  days: true\n", "\narchive:\n  dayz: 2\n"), "utf-8")
    result = cli("archive")
    assert result.exit_code != 0 and "mdboard.yaml:archive.dayz:" in result.output and "days" in result.output


def test_the_config_schema_declares_the_archive_age(shop):
    """Editors underline what `check` refuses: the JSON Schema comes from the same declaration."""
    import jsonschema

    from mdboard.core.cardfile import load_yaml
    from mdboard.domain.schema import config_schema

    validator = jsonschema.Draft202012Validator(config_schema())
    data = load_yaml((shop / "mdboard.yaml").read_text("utf-8"))
    found = lambda: sorted(f"{'.'.join(map(str, e.absolute_path))}: {e.validator}" for e in validator.iter_errors(data))
    data["archive"] = {"days": 45}
    assert found() == []
    data["archive"] = {"days": -3}
    assert found() == ["archive.days: minimum"]
    data["archive"] = {"dayz": 3}
    assert found() == ["archive: additionalProperties"]


def test_a_card_archived_in_the_tick_the_archive_was_listed_in_keeps_its_id_to_itself(shop, cli):
    """The archive's IDs are cached by each year folder's mtime; a card put there in the
    tick the folder was listed in (the mtime unchanged) is still seen: a new card never
    takes its ID."""
    year = shop / "issue/archived/2026"
    year.mkdir()
    (shop / "issue/archived/AS-0001.md").rename(year / "AS-0001.md")
    cli.ok("--as", "sunli", "save", "AS-0001")
    moment = time.time_ns() + 3_000_000_000  # a time the clock has not passed: this very tick
    os.utime(year, ns=(moment, moment))
    issue = ["--set", "platform=tmall", "--set", "problem=物流", "--set", "order_no=A9", "--owner", "sunli",
             "--due", "2026-12-26 10:00"]
    cli.ok("--as", "sunli", "new", "issue", "漏发", *issue)  # AS-0004; the archive's IDs are cached
    (year / "AS-0005.md").write_text((year / "AS-0001.md").read_text("utf-8"), "utf-8")
    os.utime(year, ns=(moment, moment))  # the same tick
    git(shop, "add", "-A")
    git(shop, "commit", "-q", "-m", "归档 AS-0005")
    assert "AS-0006" in cli.ok("--as", "sunli", "new", "issue", "错发", *issue).output
    assert sorted(p.name for p in shop.glob("issue/**/AS-0005.md")) == ["AS-0005.md"]


def test_a_few_links_to_archived_cards_are_found_without_indexing_the_whole_archive(shop, cli, tmp_path,
                                                                                  monkeypatch):
    """A page linking to an archived card finds it in the archive folders' lists: a rebuild
    after the linking card's title changed indexes no archive (at 100,000 cards, 90,000
    archived ones: ~60 ms). Found one by one or from the index, every card - in any
    state's folder, any year, an ID archived twice, none - leads to the same row."""
    from conftest import assert_site_is_a_full_build
    from mdboard.site import archive_pages
    from mdboard.site.archive_pages import ArchiveIndex

    cli.ok("archive", "--days", "2")
    cli.ok("set", "AS-0003", "sku=SKU-0002")
    card = (shop / "sku/listed/2026/SKU-0002.md").read_text("utf-8")
    for rel in ("sku/listed/2025/SKU-0101.md", "sku/listed/2025/SKU-0102.md", "sku/listed/2026/SKU-0103.md",
                "issue/archived/2025/AS-0002.md",  # open too
                "issue/archived/2026/AS-0101.md", "issue/archived/2025/AS-0101.md"):  # archived twice
        (shop / rel).parent.mkdir(parents=True, exist_ok=True)
        (shop / rel).write_text(card, "utf-8")
    cli.ok("build")
    asked = ["SKU-0002", "SKU-0101", "SKU-0102", "SKU-0103", "AS-0001", "AS-0002", "AS-0101", "AS-0003", "SKU-9999"]
    one_by_one = ArchiveIndex(Board(shop))
    found = [one_by_one.href(card_id) for card_id in asked]
    assert one_by_one._where is None  # nothing indexed
    with monkeypatch.context() as patched:
        patched.setattr(archive_pages, "LOOKUPS_BEFORE_INDEX", 0)
        indexed = ArchiveIndex(Board(shop))
        assert [indexed.href(card_id) for card_id in asked] == found
        assert indexed._where is not None
    assert found[0] == "archive/sku-2026-1.html#SKU-0002" and found[-2:] == [None, None]
    assert found[6] == "archive/issue-2025-1.html#AS-0101"  # the first year's, as the archive's page lists it

    listings = []
    real = ArchiveIndex.ids
    monkeypatch.setattr(ArchiveIndex, "ids", lambda self, *key: listings.append(key) or real(self, *key))
    path = shop / "issue/new/AS-0003.md"
    path.write_text(path.read_text("utf-8").replace("title: 退货未到", "title: 退货还没到"), "utf-8")
    cli.ok("build")
    assert listings == []
    assert 'href="../archive/sku-2026-1.html#SKU-0002"' in (shop / "_site/cards/AS-0003.html").read_text("utf-8")
    assert "退货还没到" in (shop / "_site/types/issue.html").read_text("utf-8")
    assert_site_is_a_full_build(shop, tmp_path / "full")
