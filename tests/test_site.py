"""`mdboard build`: every page of the demo board, incremental rebuilds, broken cards, safe output."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import Cli, assert_site_is_a_full_build, git
from mdboard.site.builder import SiteBuilder, build_site
from mdboard.site.render import make_markdown, safe_link
from mdboard.core.store import Board


def site_files(out: Path) -> set[str]:
    return {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}


def test_build_writes_every_page_of_the_demo_board(demo_board):
    result = Cli(demo_board)("build")
    assert result.exit_code == 0, result.output
    out = demo_board / "_site"
    assert f"网站已生成：{out}" in result.output
    files = site_files(out)
    board = Board(demo_board)
    cards = board.cards()
    assert len(cards) == 47
    for card in cards:
        assert f"cards/{card.id}.html" in files
    for tk in board.config.types:
        assert f"types/{tk}.html" in files
    for person in board.config.people:
        assert f"people/{person}.html" in files
        assert f"people/{person}.ics" in files
    for page in ("index.html", "people/index.html", "timeline.html", "assets.html", "queue.html", "report.html",
                 "standup.html",
                 "calendar.ics", "static/board.css", "static/board.js"):
        assert page in files
    assert not any(name.endswith(".tmp") for name in files)
    assert 'href="zhaomin.ics"' in (out / "people/zhaomin.html").read_text("utf-8")
    assert 'href="../calendar.ics"' in (out / "people/index.html").read_text("utf-8")
    assert (out / "calendar.ics").read_bytes().startswith(b"BEGIN:VCALENDAR")
    sku = (out / "types/sku.html").read_text("utf-8")
    assert "声迈 S1 Pro 主动降噪真无线蓝牙耳机" in sku
    assert 'href="../cards/SKU-0001.html"' in sku
    assert "规划中" in sku and "逾期 2 天" in sku and "今天到期" in sku


def test_build_is_idempotent_and_says_so_in_json(demo_board):
    cli = Cli(demo_board)
    first = json.loads(cli("build", "--json").output)
    assert first["pages"] == len(first["written"]) > 70
    second = cli.proc("build", "--json")
    assert second.returncode == 0, second.stderr
    report = json.loads(second.stdout)
    assert report["written"] == [] and report["removed"] == [] and report["problems"] == []
    assert report["pages"] == first["pages"]


def test_second_build_after_one_card_changes_rewrites_only_its_pages(demo_board):
    cli = Cli(demo_board)
    cli.proc_ok("build")
    before = {p: p.stat().st_mtime_ns for p in (demo_board / "_site").rglob("*.html")}
    result = cli("set", "SKU-0006", "title=磁吸充电宝 新标题")
    assert result.exit_code == 0, result.output
    report = json.loads(cli.proc("build", "--json").stdout)
    # its page, its type's board, the overview (it is due this week, and recent changes),
    # its owner's page and calendar, the board calendar, the pages of the cards linking to it,
    # and the pages made from git history (a new commit)
    assert sorted(report["written"]) == sorted([
        "cards/SKU-0006.html", "types/sku.html", "index.html", "people/wangli.html", "people/wangli.ics",
        "calendar.ics", "cards/CMP-0003.html", "cards/MAT-0006.html", "cards/MAT-0003.html",
        "report.html", "standup.html"])
    assert "磁吸充电宝 新标题" in (demo_board / "_site/cards/CMP-0003.html").read_text("utf-8")
    untouched = demo_board / "_site/types/campaign.html"
    assert untouched.stat().st_mtime_ns == before[untouched]


def test_editing_only_the_body_rewrites_only_the_cards_page(demo_board):
    cli = Cli(demo_board)
    cli.proc_ok("build")
    card = next(demo_board.glob("sku/*/SKU-0006.md"))
    card.write_text(card.read_text("utf-8") + "\n补充：包装盒改为牛皮纸。\n", "utf-8")
    report = json.loads(cli.proc("build", "--json").stdout)
    assert report["written"] == ["cards/SKU-0006.html"]
    assert "包装盒改为牛皮纸" in (demo_board / "_site/cards/SKU-0006.html").read_text("utf-8")


def test_calendar_feeds_follow_only_what_they_show(demo_board):
    cli = Cli(demo_board)
    cli.proc_ok("build")
    card = next(demo_board.glob("sku/*/SKU-0006.md"))
    text = card.read_text("utf-8")
    card.write_text(text.replace("tags: [", "tags: [新标签, "), "utf-8")
    written = json.loads(cli.proc("build", "--json").stdout)["written"]
    assert not [name for name in written if name.endswith(".ics")]
    card.write_text(text.replace("due: 2026-11-26", "due: 2026-11-30"), "utf-8")
    written = json.loads(cli.proc("build", "--json").stdout)["written"]
    assert sorted(name for name in written if name.endswith(".ics")) == ["calendar.ics", "people/wangli.ics"]
    assert "20261130" in (demo_board / "_site/people/wangli.ics").read_text("utf-8")


def test_rebuild_in_process_after_a_move(demo_board):
    board = Board.open(str(demo_board))
    builder = SiteBuilder(board)
    builder.build_all()
    card = board.get("SKU-0016")
    Cli(demo_board).ok("move", "SKU-0016", "shooting")
    report = builder.rebuild({card.path, "sku/shooting/SKU-0016.md"})
    assert "types/sku.html" in report.written and "cards/SKU-0016.html" in report.written
    assert "types/campaign.html" not in report.written
    page = (demo_board / "_site/types/sku.html").read_text("utf-8")
    shooting = page.split('data-column="shooting"')[1].split('data-column="content"')[0]
    assert "SKU-0016" in shooting


def test_deleted_card_page_is_removed(demo_board):
    build_site(Board.open(str(demo_board)))
    card = next(demo_board.glob("sku/*/SKU-0018.md"))
    card.unlink()
    report = build_site(Board.open(str(demo_board)))
    assert report.removed == ["cards/SKU-0018.html"]
    assert not (demo_board / "_site/cards/SKU-0018.html").exists()


def test_broken_card_keeps_last_good_page_and_is_reported(demo_board):
    cli = Cli(demo_board)
    cli.ok("build")
    page = demo_board / "_site/cards/SKU-0016.html"
    good = page.read_text("utf-8")
    card = next(demo_board.glob("sku/*/SKU-0016.md"))
    card.write_text("---\ntitle: [unclosed\n---\n", "utf-8")
    result = cli.proc("build")
    assert result.returncode == 0, result.stderr
    assert "警告：sku/planning/SKU-0016.md:" in result.stderr
    assert page.read_text("utf-8") == good
    overview = (demo_board / "_site/index.html").read_text("utf-8")
    assert "1 个文件有问题" in overview and "sku/planning/SKU-0016.md" in overview
    sku = (demo_board / "_site/types/sku.html").read_text("utf-8")
    assert "声迈 Type-C 转 3.5mm 耳机转接头" in sku  # its last good tile


def test_broken_card_without_a_good_page_shows_the_problem(board):
    (board / "sku/planning/SKU-0001.md").write_text("---\ntitle: x\nowner: [\n---\nbody\n", "utf-8")
    report = build_site(Board.open(str(board)))
    assert [p.path for p in report.problems] == ["sku/planning/SKU-0001.md"]
    page = (board / "_site/cards/SKU-0001.html").read_text("utf-8")
    assert "这张卡片有问题" in page and "sku/planning/SKU-0001.md" in page


def test_output_folder_may_not_hold_the_board(demo_board, tmp_path):
    cli = Cli(demo_board)
    for target in (".", "..", "sku/out", ".git/site"):
        result = cli.proc("build", "-o", target)
        assert result.returncode == 1, target
        assert result.stderr.startswith("错误：输出文件夹"), result.stderr
        assert "Traceback" not in result.stderr
    assert not (demo_board / "index.html").exists()
    elsewhere = tmp_path / "public"
    result = cli.proc("build", "-o", str(elsewhere))
    assert result.returncode == 0, result.stderr
    assert (elsewhere / "index.html").is_file() and not (demo_board / "_site").exists()


def test_broken_config_is_refused_with_a_message_and_nothing_is_written(cli, board):
    (board / "mdboard.yaml").write_text("title: [unclosed\n", "utf-8")
    result = cli.proc("build")
    assert result.returncode == 1
    assert result.stderr.startswith("错误：") and "mdboard.yaml" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (board / "_site").exists()


def test_english_board_speaks_english(cli, board):
    cfg = board / "mdboard.yaml"
    cfg.write_text(cfg.read_text("utf-8").replace("language: zh-CN", "language: en"), "utf-8")
    git(board, "commit", "-qam", "english")
    cli.ok("new", "sku", "Phone case", "--owner", "wangli", "--due", "2026-11-27")
    result = cli("build")
    assert result.exit_code == 0
    assert result.output.startswith("Site built:")
    page = (board / "_site/types/sku.html").read_text("utf-8")
    assert '<html lang="en">' in page and "2 days left" in page and "Clear filters" in page
    card = (board / "_site/cards/SKU-0001.html").read_text("utf-8")
    assert "Nov 27, 2026" in card


def test_weird_file_names_and_wrong_value_types_do_not_break_the_build(board):
    (board / "sku/planning/测试 卡#1.md").write_text("---\ntitle: 文件名奇怪\nowner: wangli\n---\n", "utf-8")
    (board / "issue/new/AS-0001.md").write_text(
        "---\ntitle: {a: 1}\nowner: [wangli, zhaomin]\ndue: [2026-11-30]\nplatform: {x: y}\n"
        "order_no: 12345\nproblem: [物流]\nsku: [SKU-0001]\nhelpers: wangli\ntags: 标签不是列表\n---\n", "utf-8")
    (board / "campaign/planned/CMP-0001.md").write_text(
        "---\ntitle: 活动\nowner: wangli\nplatform: tmall\nsignup_start: 2026-13-45\nsignup_end: [1]\n"
        "live_start: 2026-11-30\nlive_end: 2026-11-20\nskus: SKU-9999\n---\n", "utf-8")
    report = build_site(Board.open(str(board)))
    # readable cards: `check` judges their values, the site shows them; a file name that is no
    # card ID is listed among the overview's problems, as `check` reports it (issue 13)
    assert [(p.path, p.message) for p in report.problems] == [
        ("sku/planning/测试 卡#1.md", "文件名 测试 卡#1.md 不是「上新」的卡片编号")]
    out = board / "_site"
    assert (out / "cards/测试 卡#1.html").is_file()
    assert 'href="../cards/%E6%B5%8B%E8%AF%95%20%E5%8D%A1%231.html"' in (out / "types/sku.html").read_text("utf-8")
    issue = (out / "cards/AS-0001.html").read_text("utf-8")
    assert "<h1><span class=\"card-id\">AS-0001</span> {&#39;a&#39;: 1}</h1>" in issue
    assert "<td>{&#34;x&#34;: &#34;y&#34;}</td>" in issue  # a mapping where a platform belongs, as text
    assert (out / "queue.html").is_file() and (out / "timeline.html").is_file()


HOSTILE = '"><script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'


def test_hostile_text_is_escaped_everywhere(board):
    card = board / "sku/planning/SKU-0001.md"
    card.write_text(
        "---\n"
        f"title: '{HOSTILE}'\n"
        "owner: wangli\n"
        f"category: \"javascript:alert(1)\"\n"
        f"tags: ['{HOSTILE}', '<!--']\n"
        "---\n"
        f"{HOSTILE}\n\n[click](javascript:alert(1)) [d](data:text/html,<script>alert(1)</script>)\n"
        "<!-- comment --> [ok](https://example.com)\n", "utf-8")
    build_site(Board.open(str(board)))
    for name in ("cards/SKU-0001.html", "types/sku.html", "people/wangli.html"):
        html = (board / "_site" / name).read_text("utf-8")
        assert "<script>window" not in html and "<img src=x" not in html, name
        assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html, name
    page = (board / "_site/cards/SKU-0001.html").read_text("utf-8")
    assert 'href="javascript:' not in page and 'href="data:' not in page
    assert "&lt;!-- comment --&gt;" in page
    assert '<a href="https://example.com" rel="noopener noreferrer">ok</a>' in page


@pytest.mark.parametrize("url, ok", [
    ("https://example.com", True), ("http://a", True), ("mailto:a@b.c", True), ("../x.html", True),
    ("#top", True), ("javascript:alert(1)", False), ("JavaScript:alert(1)", False), (" javascript:x", False),
    ("java\tscript:x", False), ("data:text/html,x", False), ("vbscript:x", False), ("file:///etc/passwd", False),
])
def test_only_safe_link_schemes(url, ok):
    assert safe_link(url) is ok


def test_markdown_escapes_html_and_shows_task_boxes():
    md = make_markdown()
    html = md.render("- [ ] 拍摄\n- [x] 主图\n\n<b>x</b> ![p](https://tracker.example/p.gif)\n")
    assert "☐ 拍摄" in html and "☑ 主图" in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html
    assert "<img" not in html and 'href="https://tracker.example/p.gif"' in html


# --- incremental rebuilds: what a change touches -----------------------------------------------

def test_a_due_time_passing_later_the_same_day_flips_the_card_to_overdue(board, monkeypatch):
    (board / "issue/new/AS-0001.md").write_text(
        "---\ntitle: 退款\nowner: sunli\ndue: 2026-11-25T10:00:00+08:00\n---\n", "utf-8")
    builder = SiteBuilder(Board.open(str(board)))
    builder.build_all()
    tile = lambda: (board / "_site/types/issue.html").read_text("utf-8").split('data-id="AS-0001"')[1]
    assert "今天到期" in tile() and "is-overdue" not in tile().split(">")[0]
    monkeypatch.setenv("MDBOARD_NOW", "2026-11-25T10:30:00+08:00")
    report = builder.rebuild(set())  # nothing changed on disk, but the clock passed the due time
    assert "types/issue.html" in report.written and "cards/AS-0001.html" in report.written
    assert "逾期" in tile()
    assert "is-overdue" in (board / "_site/people/sunli.html").read_text("utf-8")


def test_a_page_deleted_from_the_output_is_made_again(demo_board):
    cli = Cli(demo_board)
    cli.proc_ok("build")
    (demo_board / "_site/cards/SKU-0003.html").unlink()
    (demo_board / "_site/types/campaign.html").unlink()
    report = json.loads(cli.proc("build", "--json").stdout)
    assert sorted(report["written"]) == ["cards/SKU-0003.html", "types/campaign.html"]
    assert "SKU-0003" in (demo_board / "_site/cards/SKU-0003.html").read_text("utf-8")


def test_a_new_link_shows_on_the_linked_cards_page_and_tile(demo_board):
    cli = Cli(demo_board)
    cli.proc_ok("build")
    page = demo_board / "_site/cards/SKU-0018.html"
    assert "CMP-0001" not in page.read_text("utf-8")
    campaign = next(demo_board.glob("campaign/*/CMP-0001.md"))
    text = campaign.read_text("utf-8")
    assert "skus: [" in text
    campaign.write_text(text.replace("skus: [", "skus: [SKU-0018, ", 1), "utf-8")
    report = json.loads(cli.proc("build", "--json").stdout)
    assert {"cards/CMP-0001.html", "cards/SKU-0018.html", "types/sku.html", "types/campaign.html"} <= set(report["written"])
    assert 'href="../cards/CMP-0001.html"' in page.read_text("utf-8")
    tile = (demo_board / "_site/types/sku.html").read_text("utf-8").split('data-id="SKU-0018"')[1].split("</article>")[0]
    assert "CMP-0001" in tile


def test_a_new_commit_updates_the_history_on_the_cards_page(demo_board):
    cli = Cli(demo_board)
    cli.proc_ok("build")
    page = demo_board / "_site/cards/SKU-0003.html"
    assert "标题改" not in page.read_text("utf-8")
    assert cli("set", "SKU-0003", "title=标题改过了").exit_code == 0
    report = json.loads(cli.proc("build", "--json").stdout)
    assert "cards/SKU-0003.html" in report["written"]
    html = page.read_text("utf-8")
    assert "标题改过了" in html.split('id="history-h"')[1]  # the commit is listed in its history
    assert "cards/SKU-0004.html" not in report["written"]  # other cards' history did not change


def test_rebuild_tells_early_once_the_changed_cards_page_and_board_are_written(demo_board):
    board = Board.open(str(demo_board))
    builder = SiteBuilder(board)
    builder.build_all()
    card = next(demo_board.glob("sku/*/SKU-0006.md"))
    card.write_text(card.read_text("utf-8").replace("title: ", "title: 新 ", 1), "utf-8")
    told = []
    report = builder.rebuild({card.relative_to(demo_board).as_posix()}, early=told.append)
    assert told == [["cards/SKU-0006.html", "types/sku.html"]]
    assert set(told[0]) < set(report.written)  # linked cards' pages, people, calendars came after
    assert "cards/CMP-0003.html" in report.written


def test_a_body_edit_in_a_new_process_shows_the_history_kept_from_the_last_build(demo_board):
    cli = Cli(demo_board)
    cli.proc_ok("build")
    page = demo_board / "_site/cards/SKU-0006.html"
    history = page.read_text("utf-8").split('id="history-h"')[1]
    shutil.rmtree(demo_board / "_site")
    cli.proc_ok("build")
    card = next(demo_board.glob("sku/*/SKU-0006.md"))
    card.write_text(card.read_text("utf-8") + "\n补充说明\n", "utf-8")
    assert json.loads(cli.proc("build", "--json").stdout)["written"] == ["cards/SKU-0006.html"]
    html = page.read_text("utf-8")
    assert "补充说明" in html and html.split('id="history-h"')[1] == history


def test_serve_reloads_tabs_once_the_early_pages_are_written_and_again_only_for_more(board):
    from types import SimpleNamespace

    from mdboard.serve.live import LiveSite

    class Builder:
        early_pages = True

        def __init__(self, later):
            self.later = later
            self.seen = []

        def rebuild(self, paths, early=None):
            before = site.version
            early(["cards/SKU-0001.html", "types/sku.html"])
            self.seen.append((before, site.version))
            return SimpleNamespace(written=["cards/SKU-0001.html", "types/sku.html", *self.later], problems=[])

    lines = []
    builder = Builder(later=["index.html"])
    site = LiveSite(Board.open(str(board)), builder, board / "_site", lines.append)
    start = site.version
    site.rebuild({"sku/planning/SKU-0001.md"})
    (before, after_early), = builder.seen
    assert before == start and after_early != start  # told before the rest was made
    assert site.version != after_early  # index.html came later: told again
    builder.later = []
    told = site.version
    site.rebuild({"sku/planning/SKU-0001.md"})
    assert site.version == builder.seen[-1][1] != told  # nothing more: told once


def test_in_process_rebuilds_follow_edits_new_cards_and_deletions(demo_board):
    board = Board.open(str(demo_board))
    builder = SiteBuilder(board)
    builder.build_all()
    out = demo_board / "_site"
    card = next(demo_board.glob("sku/*/SKU-0006.md"))
    rel = card.relative_to(demo_board).as_posix()
    card.write_text(card.read_text("utf-8").replace("title: ", "title: 改名 ", 1), "utf-8")
    report = builder.rebuild({rel})  # an editor's save: only this file is read again
    assert "改名" in (out / "cards/SKU-0006.html").read_text("utf-8")
    assert "改名" in (out / "types/sku.html").read_text("utf-8")
    card.write_text("---\ntitle: [broken\n---\n", "utf-8")
    report = builder.rebuild({rel})
    assert [p.path for p in report.problems] == [rel]
    new = card.with_name("SKU-0999.md")
    new.write_text("---\ntitle: 新来的\nowner: wangli\n---\n", "utf-8")
    report = builder.rebuild({new.relative_to(demo_board).as_posix()})
    assert "cards/SKU-0999.html" in report.written and "新来的" in (out / "types/sku.html").read_text("utf-8")
    new.unlink()
    report = builder.rebuild({new.relative_to(demo_board).as_posix()})
    assert report.removed == ["cards/SKU-0999.html"] and "新来的" not in (out / "types/sku.html").read_text("utf-8")


def test_a_damaged_manifest_means_one_full_build_not_a_failure(demo_board):
    cli = Cli(demo_board)
    cli.proc_ok("build")
    board = Board.open(str(demo_board))
    manifests = list((board.state_dir / "site").glob("*.manifest*.cache"))
    assert manifests
    for path in manifests:
        path.write_bytes(b"not a cache")
    result = cli.proc("build", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["written"] == []  # every page made again, every file already right
    card = next(demo_board.glob("sku/*/SKU-0006.md"))
    card.write_text(card.read_text("utf-8") + "\n又改了\n", "utf-8")
    assert json.loads(cli.proc("build", "--json").stdout)["written"] == ["cards/SKU-0006.html"]


def test_many_small_rebuilds_keep_the_manifest_right(demo_board, monkeypatch):
    from mdboard.site import builder

    monkeypatch.setattr(builder.Manifest, "RECENT_MAX", 2)  # the base is rewritten every few builds
    card = next(demo_board.glob("sku/*/SKU-0006.md"))
    text = card.read_text("utf-8")
    build_site(Board.open(str(demo_board)))
    for i in range(5):
        card.write_text(text + f"\n第 {i} 次\n", "utf-8")
        report = build_site(Board.open(str(demo_board)))  # a new builder each time, as `mdboard build`
        assert report.written == ["cards/SKU-0006.html"], i
        assert f"第 {i} 次" in (demo_board / "_site/cards/SKU-0006.html").read_text("utf-8")
    assert build_site(Board.open(str(demo_board))).written == []


def _render_cache_shards(board_root: Path) -> dict[str, bytes]:
    """The render cache's shard files (name -> bytes) as the builder keeps them."""
    folder = SiteBuilder(Board.open(str(board_root)))._cache().folder  # <the output folder's key>.render/
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def _retitle(card: Path, title: str) -> None:
    text = card.read_text("utf-8")
    head, _, rest = text.partition("\ntitle: ")
    card.write_text(head + f"\ntitle: {title}\n" + rest.partition("\n")[2], "utf-8")


def test_a_title_change_reads_and_writes_only_its_cards_shard_of_the_render_cache(demo_board, monkeypatch):
    """The rendered tiles and calendar events are kept in shards by card ID: `mdboard build`
    after one title changed reads and writes only the card's shard (at 100,000 cards the
    one file of 13 MB cost ~47 ms to read), and removes the one-file cache of earlier
    versions; the next build reads them."""
    from mdboard.core import cache
    from mdboard.site import builder

    card = next(demo_board.glob("sku/*/SKU-0006.md"))
    build_site(Board.open(str(demo_board)))
    legacy = SiteBuilder(Board.open(str(demo_board)))._state_file("render")
    assert cache.save(legacy, "site-render", builder.MANIFEST_VERSION, {"tiles": {}})
    shard = f"{builder.RenderCache(Path()).shard_of('SKU-0006'):02d}"
    read = []
    real = builder._read_state
    monkeypatch.setattr(builder, "_read_state",
                        lambda path, kind: (read.append(path.name) if kind == "site-render" else None) or real(path, kind))
    for title in ("改过的标题", "又改了一次"):
        before = _render_cache_shards(demo_board)
        assert len(before) > 10
        _retitle(card, title)
        read.clear()
        build_site(Board.open(str(demo_board)))  # a new builder each time, as `mdboard build`
        after = _render_cache_shards(demo_board)
        assert read == [f"{shard}.cache"]
        assert sorted(name for name in after if after[name] != before.get(name)) == [
            name for name in after if name.startswith(shard + ".")]
        assert title in (demo_board / "_site/types/sku.html").read_text("utf-8")
        assert title in (demo_board / "_site/calendar.ics").read_text("utf-8")
    assert cache.load(legacy, "site-render", builder.MANIFEST_VERSION) is None
    assert build_site(Board.open(str(demo_board))).written == []


def test_many_title_changes_keep_the_render_cache_right(demo_board, tmp_path):
    """In every build after titles changed - with a shard of the render cache lost now and
    then - the site is the one a full build makes in another folder."""
    card = next(demo_board.glob("sku/*/SKU-0006.md"))
    other = next(demo_board.glob("sku/*/SKU-0009.md"))
    build_site(Board.open(str(demo_board)))
    folder = SiteBuilder(Board.open(str(demo_board)))._cache().folder
    for i in range(5):
        _retitle(card, f"第 {i} 个标题")
        _retitle(other, f"另一个 {i}")
        if i % 2:
            sorted(folder.iterdir())[i].unlink()
        build_site(Board.open(str(demo_board)))
        fresh = tmp_path / f"full{i}"
        SiteBuilder(Board.open(str(demo_board)), fresh).build_all(force=True)
        for rel in ("types/sku.html", "people/wangli.html", "calendar.ics", "index.html"):
            assert (demo_board / "_site" / rel).read_bytes() == (fresh / rel).read_bytes(), (i, rel)


def test_a_front_matter_change_takes_the_body_from_the_page_the_last_build_wrote(demo_board, tmp_path, monkeypatch):
    """A card page whose body did not change (its title, owner or state did) keeps the
    body HTML the last build wrote beside the same body key: no Markdown is rendered (or
    imported), and the page is the one a full build makes. A changed body is rendered."""
    from mdboard.site.render import Renderer

    card = next(demo_board.glob("sku/*/SKU-0006.md"))
    build_site(Board.open(str(demo_board)))
    rendered = []
    real = Renderer.markdown
    monkeypatch.setattr(Renderer, "markdown", lambda self, body: rendered.append(body) or real(self, body))
    _retitle(card, "只改了标题")
    assert "cards/SKU-0006.html" in build_site(Board.open(str(demo_board))).written
    assert rendered == []
    moved = card.parent.parent / "review" / card.name
    card.rename(moved)
    build_site(Board.open(str(demo_board)))
    assert rendered == []
    moved.write_text(moved.read_text("utf-8") + "\n新的一段 **加粗**\n", "utf-8")
    build_site(Board.open(str(demo_board)))
    assert len(rendered) == 1 and "新的一段" in rendered[0]
    fresh = tmp_path / "full"
    SiteBuilder(Board.open(str(demo_board)), fresh).build_all(force=True)
    page = (demo_board / "_site/cards/SKU-0006.html").read_bytes()
    assert page == (fresh / "cards/SKU-0006.html").read_bytes()
    assert "只改了标题" in page.decode("utf-8") and "<strong>加粗</strong>" in page.decode("utf-8")


def test_cards_the_board_cannot_place_are_listed_among_the_overview_problems(demo_board):
    """The site's quick placement test lets through only an ID of the type's prefix with
    ASCII digits, in a folder of the type's states; anything else gets its problem."""
    good = next(demo_board.glob("sku/*/SKU-0006.md")).read_text("utf-8")
    for rel in ("sku/listed/AS-0099.md", "sku/shelved/SKU-0998.md", "sku/listed/SKU-0997x.md"):
        (demo_board / rel).parent.mkdir(exist_ok=True)
        (demo_board / rel).write_text(good, "utf-8")
    build_site(Board.open(str(demo_board)))
    page = (demo_board / "_site/index.html").read_text("utf-8")
    problems = page[page.index('<section class="problems"'):]
    problems = problems[:problems.index("</section>")]
    for rel in ("sku/listed/AS-0099.md", "sku/shelved/SKU-0998.md", "sku/listed/SKU-0997x.md"):
        assert rel in problems, rel
    assert "SKU-0006" not in problems


def test_a_title_change_makes_only_the_views_the_pages_showing_it_need(demo_board, tmp_path, monkeypatch):
    """After a title alone changed, the board-wide figures that do not show titles (the
    report's facts, the due lists, the team's load, the next sales) are read as the last
    build kept them, and the lists that cannot show the card (the queue, the timeline,
    the asset pool for a SKU no asset is grouped under) are not looked at: far fewer card
    views than cards are made. Every page is still the one a full build makes."""
    from mdboard.site import pages

    card = next(demo_board.glob("sku/*/SKU-0006.md"))
    build_site(Board.open(str(demo_board)))
    made = []
    real = pages.card_view
    monkeypatch.setattr(pages, "card_view", lambda cfg, card, *a: made.append(card.id) or real(cfg, card, *a))
    _retitle(card, "标题改了")
    build_site(Board.open(str(demo_board)))
    # a case, an asset and a campaign that neither the SKU's pages, its owner's, nor the
    # overview's lists show: no view of theirs is made (every card's was, to key the queue,
    # the pool, the timeline, the report and the team's load)
    assert "SKU-0006" in made and not {"AS-0010", "MAT-0011", "CMP-0007"} & set(made), made
    assert_site_is_a_full_build(demo_board, tmp_path / "full")


@pytest.mark.parametrize("rel", ["campaign/finished/CMP-0001.md", "issue/new/AS-0001.md", "asset/live/MAT-0001.md"])
def test_a_title_change_reaches_the_lists_that_show_the_card(demo_board, tmp_path, rel):
    """A campaign's title is on the timeline and above its assets in the pool, an
    after-sales case's in the queue, an asset's in the pool: each is made again."""
    build_site(Board.open(str(demo_board)))
    _retitle(demo_board / rel, "新的标题 <b>粗</b>")
    build_site(Board.open(str(demo_board)))
    page = {"campaign": "timeline.html", "issue": "queue.html", "asset": "assets.html"}[rel.split("/")[0]]
    assert "新的标题 &lt;b&gt;粗&lt;/b&gt;" in (demo_board / "_site" / page).read_text("utf-8")
    if rel.startswith("campaign"):
        assert "新的标题 &lt;b&gt;粗&lt;/b&gt;" in (demo_board / "_site/assets.html").read_text("utf-8")
    assert_site_is_a_full_build(demo_board, tmp_path / "full")


def test_a_title_change_swaps_the_cards_tile_and_events_into_the_lists_the_last_build_wrote(demo_board, tmp_path,
                                                                                             monkeypatch):
    """After a title alone changed, the kanban, the owner's page and the calendar feeds are
    the files the last build wrote with the card's tile and events swapped: no view of the
    SKUs only the kanban shows is made (at 100,000 cards every SKU's view cost ~0.1 s) and
    no feed is assembled from every card's events. The pages are those a full build makes."""
    from mdboard.site import pages
    from mdboard.site.feature_pages import Feeds

    card = next(demo_board.glob("sku/*/SKU-0006.md"))
    build_site(Board.open(str(demo_board)))
    made, assembled = [], []
    real = pages.card_view
    monkeypatch.setattr(pages, "card_view", lambda cfg, card, *a: made.append(card.id) or real(cfg, card, *a))
    real_feed = Feeds.__call__
    monkeypatch.setattr(Feeds, "__call__", lambda self, person: assembled.append(person) or real_feed(self, person))
    _retitle(card, "充电宝 <b>新款</b> & 配件")
    written = build_site(Board.open(str(demo_board))).written
    assert {"types/sku.html", "people/wangli.html", "people/wangli.ics", "calendar.ics"} <= set(written)
    title = "充电宝 &lt;b&gt;新款&lt;/b&gt; &amp; 配件"
    for page in ("types/sku.html", "people/wangli.html"):
        assert title in (demo_board / "_site" / page).read_text("utf-8")
    assert "充电宝 <b>新款</b> & 配件" in (demo_board / "_site/calendar.ics").read_text("utf-8")
    # the SKUs planned, listed or being shot are on the kanban only (before: each one's view was made)
    assert not {"SKU-0004", "SKU-0005", "SKU-0015", "SKU-0016", "SKU-0017", "SKU-0018"} & set(made), made
    assert assembled == []
    assert_site_is_a_full_build(demo_board, tmp_path / "full")


def test_a_list_the_last_build_did_not_leave_as_it_wrote_it_is_made_whole(demo_board, tmp_path):
    """A tile or feed is swapped only into the file the last build wrote, and only where the
    old piece is found once: a kanban edited by hand since, render caches older than the
    pages (`serve` keeps its caches in memory) or gone are made whole instead - the site
    is still the one a full build makes."""
    card = next(demo_board.glob("sku/*/SKU-0006.md"))
    build_site(Board.open(str(demo_board)))
    kanban = demo_board / "_site/types/sku.html"
    kanban.write_bytes(kanban.read_bytes().replace(b"</main>", b"<p>hand</p></main>"))
    _retitle(card, "手改以后的标题")
    build_site(Board.open(str(demo_board)))
    assert b"<p>hand</p>" not in kanban.read_bytes()
    assert_site_is_a_full_build(demo_board, tmp_path / "full1")
    # a rebuild in this process (as `serve` makes) keeps the tiles and events it made in memory:
    # those on disk are older than the pages it wrote
    live = SiteBuilder(Board.open(str(demo_board)))
    _retitle(card, "serve 里改的标题")
    live.rebuild({card.relative_to(demo_board).as_posix()})
    _retitle(card, "又在编辑器里改了")
    build_site(Board.open(str(demo_board)))
    assert_site_is_a_full_build(demo_board, tmp_path / "full2")
    shutil.rmtree(SiteBuilder(Board.open(str(demo_board)))._cache().folder)
    _retitle(card, "缓存没了")
    build_site(Board.open(str(demo_board)))
    assert "缓存没了" in kanban.read_text("utf-8")
    assert_site_is_a_full_build(demo_board, tmp_path / "full3")


def test_a_title_change_of_a_card_whose_id_another_card_has_is_on_the_feeds(demo_board, tmp_path):
    """Both cards of one ID have their events in the feeds, the first only on the lists;
    retitling the second changes the feeds (and nothing else) as a full build does."""
    card = next(demo_board.glob("sku/*/SKU-0006.md"))
    (demo_board / "sku/listed/SKU-0006.md").write_text(card.read_text("utf-8").replace("title: ", "title: 又一张 ", 1),
                                                        "utf-8")
    build_site(Board.open(str(demo_board)))
    second = [c for c in Board.open(str(demo_board)).cards() if c.id == "SKU-0006"][1]
    _retitle(demo_board / second.path, "第二张改了名")
    build_site(Board.open(str(demo_board)))
    assert "第二张改了名" in (demo_board / "_site/calendar.ics").read_text("utf-8")
    assert "第二张改了名" not in (demo_board / "_site/types/sku.html").read_text("utf-8")
    assert_site_is_a_full_build(demo_board, tmp_path / "full")


def test_kept_figures_are_made_again_when_a_due_time_passes(demo_board, tmp_path, monkeypatch):
    """What a title change reads as kept is made again by the build that finds a due time
    passed (the case due at 18:00 is overdue at 19:00, though no card changed)."""
    monkeypatch.setenv("MDBOARD_NOW", "2026-11-26T17:00:00+08:00")
    build_site(Board.open(str(demo_board)))
    assert "AS-0001" not in _overdue_list(demo_board)
    monkeypatch.setenv("MDBOARD_NOW", "2026-11-26T19:00:00+08:00")
    _retitle(next(demo_board.glob("sku/*/SKU-0006.md")), "到期以后改的标题")
    build_site(Board.open(str(demo_board)))
    assert "AS-0001" in _overdue_list(demo_board)
    _retitle(next(demo_board.glob("sku/*/SKU-0006.md")), "再改一次")
    build_site(Board.open(str(demo_board)))
    assert "AS-0001" in _overdue_list(demo_board)
    assert_site_is_a_full_build(demo_board, tmp_path / "full")


def _overdue_list(board_root: Path) -> str:
    page = (board_root / "_site/index.html").read_text("utf-8")
    return page[page.index('id="list-overdue"'):page.index('id="list-week"')]


def test_dates_remembered_between_builds_follow_the_board_language(cli, board):
    cli.ok("new", "sku", "手机壳", "--owner", "wangli", "--due", "2026-11-27")
    assert cli("build").exit_code == 0
    page = board / "_site/cards/SKU-0001.html"
    assert "2026年11月27日" in page.read_text("utf-8")
    cfg = board / "mdboard.yaml"
    cfg.write_text(cfg.read_text("utf-8").replace("language: zh-CN", "language: en"), "utf-8")
    assert cli.proc("build").returncode == 0
    html = page.read_text("utf-8")
    assert "Nov 27, 2026" in html and "2026年11月27日" not in html


def test_the_commit_a_build_is_made_at_is_the_one_git_names(tmp_path):
    """The builder reads HEAD from git's files instead of starting git: loose and packed
    branches, a detached HEAD, a linked worktree, and no commit yet all give what
    `git rev-parse HEAD` gives."""
    from mdboard.site.builder import _git_head

    root = tmp_path / "board"
    root.mkdir()
    (root / "mdboard.yaml").write_text("types: {}\n", "utf-8")
    git(root, "init", "-q", "-b", "main")
    assert _git_head(Board(root)) == ""  # no commit yet
    git(root, "add", "-A")
    git(root, "commit", "-qm", "one")
    seen = []

    def same_as_git(folder: Path) -> None:
        head = _git_head(Board(folder))
        assert head == git(folder, "rev-parse", "HEAD").strip()
        seen.append(head)

    same_as_git(root)  # a loose branch
    git(root, "pack-refs", "--all")
    assert not (root / ".git/refs/heads/main").exists()
    same_as_git(root)  # packed
    git(root, "commit", "-q", "--allow-empty", "-m", "two")
    same_as_git(root)  # loose again, ahead of the packed one
    git(root, "checkout", "-q", "--detach", "HEAD~1")
    same_as_git(root)
    git(root, "checkout", "-q", "main")
    git(root, "worktree", "add", "-q", "-b", "other", str(tmp_path / "other"), "HEAD~1")
    same_as_git(tmp_path / "other")
    assert len(set(seen)) == 2


def test_a_title_change_fills_the_kept_report_and_standup_without_reading_history(shop, monkeypatch, tmp_path):
    """The report and standup name cards by title; after a title changes (no commit) a new
    process's build puts the new titles into the pages kept from the last build - no git
    history is read - and writes the bytes a full build writes."""
    import mdboard.git.history

    SiteBuilder(Board(shop)).build_all()
    out = shop / "_site"
    assert "SKU-0002 蓝牙耳机:" in (out / "report.html").read_text("utf-8")  # a dot of the scatter
    assert "智能手表" in (out / "standup.html").read_text("utf-8")  # SKU-0004 is overdue
    for path, old, new in (("sku/listed/SKU-0002.md", "蓝牙耳机", "蓝牙耳机 <新款> & 配件"),
                           ("sku/shooting/SKU-0004.md", "智能手表", "智能手表 Pro")):
        card = shop / path
        card.write_text(card.read_text("utf-8").replace(f"title: {old}", f"title: {new}", 1), "utf-8")

    def no_history(board):
        raise AssertionError("the git history was read")

    with monkeypatch.context() as patched:
        patched.setattr(mdboard.git.history, "load_history", no_history)
        written = SiteBuilder(Board(shop)).build_all().written
    assert {"report.html", "standup.html", "cards/SKU-0002.html", "types/sku.html"} <= set(written)
    assert "SKU-0002 蓝牙耳机 &lt;新款&gt; &amp; 配件:" in (out / "report.html").read_text("utf-8")
    assert "智能手表 Pro" in (out / "standup.html").read_text("utf-8")
    fresh = tmp_path / "fresh"
    shutil.copytree(shop, fresh, ignore=shutil.ignore_patterns("mdboard", "_site"))  # no private state
    SiteBuilder(Board(fresh), tmp_path / "full").build_all(force=True)
    for page in ("report.html", "standup.html", "index.html", "types/sku.html"):
        got, want = (out / page).read_bytes(), (tmp_path / "full" / page).read_bytes()
        at = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), None)
        assert got == want, (page, got[at - 300:at + 200].decode("utf-8", "replace"), want[at - 300:at + 200].decode("utf-8", "replace"))


def _same_as_a_full_build(root: Path, tmp_path: Path, pages: tuple[str, ...]) -> None:
    """These pages of `root`'s site are byte for byte what a full build of a copy writes."""
    fresh = tmp_path / f"fresh-{len(list(tmp_path.iterdir()))}"
    shutil.copytree(root, fresh, ignore=shutil.ignore_patterns("mdboard", "_site"))  # no private state
    SiteBuilder(Board(fresh), fresh / "_full").build_all(force=True)
    for page in pages:
        assert (root / "_site" / page).read_bytes() == (fresh / "_full" / page).read_bytes(), page


def test_a_commit_that_moves_no_card_fills_the_kept_report_and_standup_instead_of_working_them_out(
        shop, monkeypatch, tmp_path):
    """The report's figures come from each card's way through its states, the standup's
    from the events it reads out (moves, ticks, owners, due dates): after a commit that only
    adds a note, a rebuild (as serve makes it) fills the kept report with the new count of
    changes and keeps the standup; after a move both are worked out again. Each time as a
    full build writes them."""
    import mdboard.domain.report
    import mdboard.domain.standup

    made = []
    for module, name in ((mdboard.domain.report, "compute_report"), (mdboard.domain.standup, "compute_standup")):
        monkeypatch.setattr(module, name, lambda *a, _f=getattr(module, name), _n=name, **k: made.append(_n) or _f(*a, **k))
    builder = SiteBuilder(Board(shop))
    builder.build_all()
    assert sorted(made) == ["compute_report", "compute_standup"]
    lead = (shop / "_site" / "report.html").read_text("utf-8").split('<p class="lead">')[1].split("</p>")[0]
    count = int(lead.split("git 历史中的 ")[1].split(" 条")[0])
    card = shop / "sku" / "listed" / "SKU-0002.md"
    card.write_text(card.read_text("utf-8") + "\n## 备注\n\n- 王丽：主图已改\n", "utf-8")
    git(shop, "commit", "-q", "-am", "SKU-0002: 备注")
    made.clear()
    report = builder.rebuild({"sku/listed/SKU-0002.md"})
    assert made == [], "worked out again after a note"
    assert "report.html" in report.written
    assert f"git 历史中的 {count + 1} 条变更" in (shop / "_site" / "report.html").read_text("utf-8")
    _same_as_a_full_build(shop, tmp_path, ("report.html", "standup.html", "index.html"))

    git(shop, "mv", "sku/listed/SKU-0002.md", "sku/review/SKU-0002.md")
    git(shop, "commit", "-q", "-m", "SKU-0002: 移到 review")
    made.clear()
    builder.rebuild({"sku/listed/SKU-0002.md", "sku/review/SKU-0002.md"})
    assert sorted(made) == ["compute_report", "compute_standup"]
    assert f"git 历史中的 {count + 2} 条变更" in (shop / "_site" / "report.html").read_text("utf-8")
    _same_as_a_full_build(shop, tmp_path, ("report.html", "standup.html", "index.html", "types/sku.html"))


def test_after_a_commit_only_the_cards_it_touches_are_hashed_again(shop, monkeypatch, tmp_path):
    """Each card page's key holds a hash of the card's commits. After new commits of the same
    history, the hashes are the last build's with only the new rows chained on - the same
    hashes a build that knows nothing works out from every row."""
    from mdboard.git.history import History

    builder = SiteBuilder(Board(shop))
    builder.build_all()
    before = dict(builder.last.history["cards"])
    asked = []
    after = History.commits_after
    monkeypatch.setattr(History, "commits_after", lambda self, n: asked.append(n) or after(self, n))
    for message in ("备注", "再备注"):
        card = shop / "sku" / "listed" / "SKU-0002.md"
        card.write_text(card.read_text("utf-8") + f"\n{message}\n", "utf-8")
        git(shop, "commit", "-q", "-am", f"SKU-0002: {message}")
    builder.rebuild({"sku/listed/SKU-0002.md"})
    assert len(asked) == 1 and asked[0] > 0, asked  # only the rows after the last build's
    now = builder.last.history["cards"]
    assert {cid for cid in now if now[cid] != before.get(cid)} == {"SKU-0002"}
    asked.clear()
    fresh = tmp_path / "fresh"
    shutil.copytree(shop, fresh, ignore=shutil.ignore_patterns("mdboard", "_site"))  # no private state
    other = SiteBuilder(Board(fresh))
    other.build_all()
    assert asked == [0]  # every row
    assert other.last.history["cards"] == now


def test_a_title_change_reads_no_other_title_for_the_kept_report_and_standup(shop, tmp_path, monkeypatch):
    """The report and standup keys of a build after titles alone changed are the last
    build's keys with the changed cards' titles hashed in: no other card's title is read
    for them (at 100,000 cards they name ~7,000 cards). A card they name keeps its title on
    them; the pages are the ones a full build makes."""
    from mdboard.core.store import Card

    SiteBuilder(Board(shop)).build_all()
    out = shop / "_site"
    assert "SKU-0002 蓝牙耳机:" in (out / "report.html").read_text("utf-8")  # a dot of the scatter
    read = []
    real = Card.title
    monkeypatch.setattr(Card, "title", property(lambda card: read.append(card.id) or real.fget(card)))
    card = next(shop.glob("sku/*/SKU-0005.md"))
    card.write_text(card.read_text("utf-8").replace("title: ", "title: 新款 ", 1), "utf-8")
    SiteBuilder(Board(shop)).build_all()
    assert "SKU-0005" in read and "SKU-0002" not in read, read
    assert "SKU-0002 蓝牙耳机:" in (out / "report.html").read_text("utf-8")
    fresh = tmp_path / "fresh"
    shutil.copytree(shop, fresh, ignore=shutil.ignore_patterns("mdboard", "_site"))  # no private state
    SiteBuilder(Board(fresh), tmp_path / "full").build_all(force=True)
    for page in ("report.html", "standup.html", "index.html", "types/sku.html", "cards/SKU-0005.html"):
        assert (out / page).read_bytes() == (tmp_path / "full" / page).read_bytes(), page
