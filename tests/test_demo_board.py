"""The bundled demo board (`board/`): a believable shop that passes `mdboard check`.

The board is copied into tmp_path and committed in its own repository before any
command runs, so the parse cache and any writes stay out of the project's repo.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import REPO, Cli, copy_demo, git
from mdboard.core import cardfile
from mdboard.core.store import Board
from mdboard.domain.views import card_due, due_group

ROLES = {"运营", "美工", "文案", "投手", "客服", "仓库"}


@pytest.fixture(scope="module")
def demo_copy(tmp_path_factory) -> Path:
    """The demo board copied once into its own git repository (read-only tests share it)."""
    return copy_demo(tmp_path_factory.mktemp("demo") / "board")


@pytest.fixture
def demo(demo_copy) -> Board:
    return Board(demo_copy)


@pytest.fixture
def demo_cli(demo_copy) -> Cli:
    return Cli(demo_copy)


def test_check_passes_strict_through_clirunner(demo_cli, demo):
    for args in (["check"], ["check", "--strict"]):
        result = demo_cli(*args)
        assert result.exit_code == 0, result.output
        assert result.stdout == ""  # no problem lines at all, not even warnings
        assert result.stderr.strip() == f"检查了 {len(demo.cards())} 张卡片：0 个错误，0 个提醒"


def test_check_passes_strict_as_subprocess(demo_cli):
    proc = demo_cli.proc("check", "--strict", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == []


def test_check_from_outside_with_board_option(demo_copy, tmp_path):
    proc = Cli(tmp_path).proc("--board", str(demo_copy), "check", "--strict")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert "0 个错误，0 个提醒" in proc.stderr


def test_config_is_the_shop_with_a_full_team(demo):
    cfg = demo.config
    assert cfg.title == "声迈数码旗舰店 运营看板"
    assert (cfg.language, cfg.timezone) == ("zh-CN", "Asia/Shanghai")
    assert set(cfg.platforms) == {"douyin", "tmall", "pdd", "jd"}
    assert len(cfg.people) >= 7
    roles = [role for p in cfg.people.values() for role in p.roles]
    assert ROLES <= set(roles)
    assert roles.count("运营") >= 2
    for key, person in cfg.people.items():
        assert person.emails == [f"{key}@shengmai.example"]
        assert person.name != key  # a Chinese name, not the pinyin key
    listed = cfg.types["sku"].state("listed")
    assert listed.roles == ["运营"] and listed.checklist and listed.done


def test_config_keeps_the_default_types(demo):
    from mdboard.core.cardfile import load_yaml
    from mdboard.core.config import parse_config
    from mdboard.domain.init import skeleton_config

    default = parse_config(load_yaml(skeleton_config("zh-CN")))
    for key, ctype in default.types.items():
        mine = demo.config.types[key]
        assert [s.key for s in mine.states] == [s.key for s in ctype.states]
        assert [(s.wip, s.requires, s.checklist, s.roles, s.done) for s in mine.states] == [
            (s.wip, s.requires, s.checklist, s.roles, s.done) for s in ctype.states]
        assert {k: f.type for k, f in mine.fields.items()} == {k: f.type for k, f in ctype.fields.items()}
        assert mine.transitions == ctype.transitions
        assert [r.text() for r in mine.date_order] == [r.text() for r in ctype.date_order]


def test_enough_cards_of_each_type(demo):
    count = {}
    for card in demo.cards():
        count[card.type] = count.get(card.type, 0) + 1
    assert count["sku"] >= 15
    assert count["campaign"] >= 4
    assert count["issue"] >= 10
    assert count["asset"] >= 12
    platforms = {c.meta["platform"] for c in demo.cards() if c.type == "campaign"}
    assert len(platforms) >= 3


def test_every_state_of_every_type_is_in_use(demo):
    used = {(c.type, c.state) for c in demo.cards()}
    for ctype in demo.config.types.values():
        for state in ctype.states:
            assert (ctype.key, state.key) in used, f"{ctype.key}/{state.key} is empty"


def test_no_state_is_over_its_wip_limit(demo):
    for ctype in demo.config.types.values():
        for state in ctype.states:
            if state.wip:
                n = sum(1 for c in demo.cards() if (c.type, c.state) == (ctype.key, state.key))
                assert n <= state.wip, f"{ctype.key}/{state.key}: {n} > {state.wip}"


def test_every_link_resolves_to_a_card_of_the_right_type(demo):
    types = {c.id: c.type for c in demo.cards()}
    links = 0
    for card in demo.cards():
        for key, fd in demo.config.types[card.type].fields.items():
            if fd.type not in ("link", "links") or key not in card.meta:
                continue
            value = card.meta[key]
            for target in value if isinstance(value, list) else [value]:
                assert types.get(target) == fd.to, f"{card.path}:{key}: {target}"
                links += 1
    assert links >= 40
    kinds = {(c.type, k) for c in demo.cards() for k in ("skus", "campaign", "sku") if c.meta.get(k)}
    assert {("campaign", "skus"), ("asset", "campaign"), ("asset", "skus"), ("issue", "sku")} <= kinds


def test_some_but_not_all_checklists_are_complete(demo):
    with_list = [c for c in demo.cards() if c.checklist]
    complete = [c for c in with_list if c.checklist_done == len(c.checklist)]
    assert 0 < len(complete) < len(with_list)
    assert any(0 < c.checklist_done < len(c.checklist) for c in with_list)


def test_listed_skus_could_have_been_moved_there(demo):
    listed = [c for c in demo.cards() if (c.type, c.state) == ("sku", "listed")]
    assert listed
    for card in listed:
        assert card.checklist and card.checklist_done == len(card.checklist), card.path
        assert card.meta["price"] > 0 and card.meta["price_approved"] is True, card.path
    for card in demo.cards():
        if (card.type, card.state) == ("sku", "review"):
            assert card.meta.get("price") and card.meta.get("platforms"), card.path


def test_resolved_and_archived_issues_say_how(demo):
    done = [c for c in demo.cards() if c.type == "issue" and c.state in ("resolved", "archived")]
    assert done and all(c.meta.get("resolution") for c in done)


def test_deadlines_are_a_realistic_mix_around_today(demo):
    """With today fixed at 2026-11-25: some overdue, some today, some this week, some later."""
    groups = {}
    for card in demo.cards():
        group = due_group(card_due(demo.config, card))
        groups[group] = groups.get(group, 0) + 1
    assert groups.get("overdue", 0) >= 3
    assert groups.get("today", 0) >= 2
    assert groups.get("week", 0) >= 5
    assert groups.get("later", 0) >= 3
    assert groups["overdue"] < len(demo.cards()) // 4


def test_issue_due_is_a_datetime(demo):
    for card in demo.cards():
        if card.type == "issue":
            assert len(str(card.meta["due"])) == len("2026-11-26 18:00"), card.path


def test_cards_are_written_the_way_mdboard_writes_them(demo):
    """Key order title, owner, due, then the rest (a plan's card ends with its `plan:` key, as
    `mdboard plan` writes it); values rendered exactly like `mdboard new`."""
    planned = 0
    for card in demo.cards():
        text = demo.read_text(card)
        parsed = cardfile.parse(text)
        keys = list(parsed.meta)
        assert keys[:2] == ["title", "owner"], card.path
        if "due" in keys:
            assert keys[2] == "due", card.path
        if "plan" in keys:
            assert keys[-1] == "plan", card.path
            keys, planned = keys[:-1], planned + 1
        field_order = list(demo.config.types[card.type].fields)
        assert keys == [k for k in field_order if k in keys], card.path
        assert cardfile.new_card_text(parsed.meta, parsed.body) == text, card.path
    assert planned == 6  # 双11 2026 (CMP-0001, MAT-0001) and 双12 2026 (CMP-0003 and three assets)


def test_board_files_are_config_gitignore_cards_playbooks_and_sales(demo_copy):
    files = set(git(demo_copy, "ls-files").splitlines())
    cards = {f for f in files if f.count("/") == 2 and f.endswith(".md")}
    assert files - cards == {".gitignore", "mdboard.yaml", "playbooks/double11.yaml", "playbooks/618.yaml",
                             "playbooks/double12.yaml", "sales/2026.yaml", "sales/2027.yaml"}
    assert "/_site/" in (demo_copy / ".gitignore").read_text("utf-8")


def test_the_demo_has_the_default_playbooks_and_a_plan_in_progress(demo_copy):
    """`make demo` shows the feature: the playbooks `mdboard init` writes, a sale calendar, and
    the 双12 plan whose campaign is in review."""
    for name in ("double11.yaml", "618.yaml"):
        shipped = REPO / "mdboard/domain/skeleton/playbooks/zh-CN" / name
        assert (demo_copy / "playbooks" / name).read_bytes() == shipped.read_bytes()
    out = Cli(demo_copy).ok("sales", "--json").stdout
    rows = {f"{r['key']}-{r['year']}": r for r in json.loads(out)}
    assert rows["double12-2026"]["plans"] == [{"plan": "double12-2026", "card": "CMP-0003", "cards": 4}]


def test_a_lead_can_list_a_sku_in_the_demo(demo_copy, tmp_path):
    """The demo is a working board: the roster's 运营 may move a SKU to 已上架, others may not."""
    root = tmp_path / "board"
    shutil.copytree(demo_copy, root)
    cli = Cli(root)
    sku = "SKU-0006"
    path = root / "sku" / "review" / f"{sku}.md"
    path.write_text(path.read_text("utf-8").replace("- [ ]", "- [x]"), "utf-8")
    git(root, "commit", "-qam", "checklist done")
    approved = cli("--as", "wangli", "set", sku, "price_approved=true")
    assert approved.exit_code == 0, approved.output
    no = cli("--as", "zhaomin", "move", sku, "已上架")
    assert no.exit_code == 1
    assert "赵敏" in no.output and "运营" in no.output
    yes = cli("--as", "王丽", "move", sku, "已上架")
    assert yes.exit_code == 0, yes.output
    assert (root / "sku" / "listed" / f"{sku}.md").exists()
    assert git(root, "log", "-1", "--format=%an <%ae>") == "王丽 <wangli@shengmai.example>"
    assert demo_copy.joinpath("sku", "review", f"{sku}.md").exists()  # the shared copy is untouched


# --- the full example in docs/format.md ------------------------------------------------

FORMAT_DOC = REPO / "docs" / "format.md"


def doc_example_files() -> dict[str, str]:
    """The files of the format doc's full example: `<!-- file: PATH -->` then a fenced block."""
    import re

    text = FORMAT_DOC.read_text("utf-8")
    found = re.findall(r"<!-- file: (\S+) -->\n```\w*\n(.*?)\n```\n", text, re.S)
    return {path: body + "\n" for path, body in found}


def write_example(root: Path, files: dict[str, str]) -> None:
    root.mkdir()
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, "utf-8")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "example")


def test_format_doc_example_is_a_valid_board(tmp_path):
    files = doc_example_files()
    assert sorted(files) == ["asset/todo/MAT-0001.md", "campaign/signed_up/CMP-0001.md",
                             "issue/following/AS-0001.md", "mdboard.yaml", "sku/shooting/SKU-0001.md"]
    root = tmp_path / "example"
    write_example(root, files)
    cli = Cli(root)
    result = cli("check", "--strict")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert result.stderr.strip() == "检查了 4 张卡片：0 个错误，0 个提醒"
    used = {f.type for ct in Board(root).config.types.values() for f in ct.fields.values()}
    from mdboard.core.config import FIELD_TYPES

    assert used == set(FIELD_TYPES)  # the example shows every field type


def test_format_doc_sku_is_what_the_documented_commands_write(tmp_path):
    """The doc's SKU front matter is exactly what its `mdboard new` + `move` produce."""
    files = doc_example_files()
    root = tmp_path / "example"
    write_example(root, {"mdboard.yaml": files["mdboard.yaml"]})
    cli = Cli(root)
    made = cli("new", "sku", "蓝牙耳机 Pro 上新", "--owner", "王丽", "--due", "+7", "--set", "platforms=抖音,天猫",
               "--set", "price=¥199", "--set", "stock=1,200", "--set", "category=耳机", "--set", "tags=新品、主推")
    assert made.exit_code == 0, made.output
    moved = cli("move", "SKU-0001", "shooting")
    assert moved.exit_code == 0, moved.output
    written = (root / "sku" / "shooting" / "SKU-0001.md").read_text("utf-8")
    documented = files["sku/shooting/SKU-0001.md"]
    front = lambda text: text.split("\n---\n", 1)[0]
    assert front(written) == front(documented)
    assert documented.replace("- [x] 主图", "- [ ] 主图").startswith(written)  # then notes added by hand
