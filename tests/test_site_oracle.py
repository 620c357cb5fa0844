"""The oracle for the incremental builder: after any sequence of card edits (titles,
owners, due dates, bodies), adds, moves, deletes, commits and config changes, the site
rebuilt step by step (as `serve` does, one `rebuild(changed paths)` per change, or as
`mdboard build` does, a new builder in a new process that knows only what the last
build left on disk) is byte for byte the site a fresh full build writes into another
folder.

Hypothesis draws the sequences. The default run checks a fixed set of sequences
(derandomized, so CI is reproducible); the `slow` run draws 200 new ones.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from conftest import REPO, git
from mdboard.core.store import Board
from mdboard.site.builder import SiteBuilder

KEEP = ["sku/listed/SKU-0001.md", "sku/listed/SKU-0003.md", "sku/review/SKU-0006.md", "sku/content/SKU-0009.md",
        "sku/planning/SKU-0015.md", "campaign/finished/CMP-0001.md", "campaign/live/CMP-0002.md",
        "asset/live/MAT-0001.md", "asset/making/MAT-0007.md", "issue/new/AS-0001.md", "issue/resolved/AS-0007.md"]
TITLES = ["蓝牙耳机", "双12 大促", "Phone case", "退货未到", "新品 <b>粗体</b>", "主图 & 详情页"]
PEOPLE = ["wangli", "zhaomin", "chenjing", "liuyang", "sunli"]
_TEMPLATE: list[Path] = []


def template(factory) -> Path:
    """A small copy of the demo board (a few cards of every type) in its own repository, made once."""
    if not _TEMPLATE:
        root = factory.mktemp("oracle") / "board"
        root.mkdir()
        shutil.copyfile(REPO / "mdboard/domain/demo_board" / "mdboard.yaml", root / "mdboard.yaml")
        for rel in KEEP:
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(REPO / "mdboard/domain/demo_board" / rel, root / rel)
        git(root, "init", "-q")
        git(root, "add", "-A")
        git(root, "commit", "-qm", "oracle board")
        _TEMPLATE.append(root)
    return _TEMPLATE[0]


def cards(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.glob("*/*/*.md"))


def states(root: Path, type_key: str) -> list[str]:
    return sorted(p.name for p in (root / type_key).iterdir() if p.is_dir())


def set_line(text: str, key: str, value: str | None) -> str:
    """The card text with front-matter `key` set to `value` (None removes it)."""
    head, sep, body = text.partition("\n---\n")
    lines = [line for line in head.split("\n") if not line.startswith(f"{key}:")]
    if value is not None:
        lines.insert(2, f"{key}: {value}")
    return "\n".join(lines) + sep + body


# --- one change, and the paths a watcher would report ------------------------------------------

def apply(root: Path, op: tuple) -> list[set[str]]:
    """Make one change; the changed paths of each rebuild it asks for, in order."""
    kind = op[0]
    if kind == "break":  # broken mid-edit, then saved again: a broken card keeps its last good
        present = cards(root)  # pages while it is broken (by design), so the site is compared after
        if present:
            path = root / present[op[1] % len(present)]
            text = path.read_text("utf-8")
            path.write_text("---\ntitle: [没有闭合\n---\n", "utf-8")
            rel = path.relative_to(root).as_posix()
            return [{rel}, _restore(path, text, rel)]
    return [change(root, op)]


def _restore(path: Path, text: str, rel: str) -> set[str]:
    path.write_text(text, "utf-8")
    return {rel}


def change(root: Path, op: tuple) -> set[str]:
    kind, pick, choice = op
    present = cards(root)
    if not present and kind not in ("add", "config", "commit") or kind == "break":
        kind = "add"
    rel = present[pick % len(present)] if present else ""
    path = root / rel
    if kind == "title":
        path.write_text(set_line(path.read_text("utf-8"), "title", TITLES[choice % len(TITLES)]), "utf-8")
    elif kind == "owner":
        path.write_text(set_line(path.read_text("utf-8"), "owner", PEOPLE[choice % len(PEOPLE)]), "utf-8")
    elif kind == "due":
        value = None if choice % 4 == 0 else f"2026-{11 + choice % 2:02d}-{1 + choice % 28:02d}"
        path.write_text(set_line(path.read_text("utf-8"), "due", value), "utf-8")
    elif kind == "body":
        path.write_text(path.read_text("utf-8") + f"\n补充说明 {choice}：**加粗** [链接](https://example.com/{choice})\n",
                        "utf-8")
    elif kind == "move":
        type_key, state, name = rel.split("/")
        others = [s for s in states(root, type_key) if s != state] or [state]
        target = Path(type_key) / others[choice % len(others)] / name
        path.rename(root / target)
        return {rel, target.as_posix()}
    elif kind == "delete":
        path.unlink()
    elif kind == "add":
        type_key = ["sku", "campaign", "asset", "issue"][choice % 4]
        prefix = {"sku": "SKU", "campaign": "CMP", "asset": "MAT", "issue": "AS"}[type_key]
        used = [int(m.group(1)) for p in cards(root) if (m := re.search(rf"/{prefix}-(\d+)\.md$", p))]
        rel = f"{type_key}/{states(root, type_key)[0]}/{prefix}-{max(used, default=0) + 1:04d}.md"
        (root / rel).write_text(f"---\ntitle: {TITLES[choice % len(TITLES)]}\nowner: {PEOPLE[choice % len(PEOPLE)]}\n"
                                f"---\n\n新卡片 {choice}\n", "utf-8")
    elif kind == "config":
        cfg = root / "mdboard.yaml"
        text = cfg.read_text("utf-8")
        if choice % 3 == 0:
            text = re.sub(r"^title: .*$", f"title: 店铺看板 {choice}", text, count=1, flags=re.M)
        elif choice % 3 == 1:
            text = text.replace("label: 规划中", "label: 计划中") if "label: 规划中" in text else \
                text.replace("label: 计划中", "label: 规划中")
        else:
            text = text.replace("name: 王丽", "name: 王丽丽") if "name: 王丽\n" in text or "name: 王丽," in text \
                else text.replace("name: 王丽丽", "name: 王丽")
        cfg.write_text(text, "utf-8")
        return {"mdboard.yaml"}
    elif kind == "commit":
        git(root, "add", "-A")
        git(root, "commit", "-q", "--allow-empty", "-m", f"edit {choice}")
        return set()
    return {rel}


def site_files(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def check_sequence(factory, ops: list[tuple]) -> None:
    work = factory.mktemp("seq")
    root = work / "board"
    shutil.copytree(template(factory), root, symlinks=True)
    builder = SiteBuilder(Board(root), work / "incremental")
    builder.build_all()
    for op in ops:
        if op[0] == "process":  # an edit, then `mdboard build` in a new process: what it knows is on disk
            change(root, (IN_NEW_PROCESS[op[2] % len(IN_NEW_PROCESS)], op[1], op[2] // len(IN_NEW_PROCESS)))
            builder = SiteBuilder(Board(root), work / "incremental")
            builder.build_all()
            continue
        for changed in apply(root, op):
            builder.rebuild(changed)
    fresh = work / "fresh"
    shutil.copytree(root, fresh, ignore=shutil.ignore_patterns("mdboard"))  # no private caches (under .git)
    SiteBuilder(Board(fresh), work / "full").build_all(force=True)
    got, want = site_files(work / "incremental"), site_files(work / "full")
    assert sorted(got) == sorted(want), ops
    different = [name for name in want if got[name] != want[name]]
    assert different == [], (ops, different[:5])


IN_NEW_PROCESS = ["title", "owner", "due", "body", "move", "commit", "add"]
OPS = st.tuples(st.sampled_from(["title", "owner", "due", "body", "break", "move", "delete", "add", "config",
                                 "commit", "process"]),
                st.integers(0, 50), st.integers(0, 50))
SEQUENCES = st.lists(OPS, min_size=1, max_size=6)


@settings(max_examples=25, derandomize=True, deadline=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(ops=SEQUENCES)
# titles changed alone, where lists are the last build's files with tiles and events swapped
# (`site.swaps`): in a new process after one (whose caches are on disk), after a rebuild in
# this process (whose caches are not), after other edits, and several in a row
@example(ops=[("process", 1, 0), ("process", 1, 7), ("process", 4, 14)])
@example(ops=[("title", 2, 1), ("process", 2, 7), ("title", 2, 3), ("process", 5, 21)])
@example(ops=[("owner", 3, 2), ("process", 3, 7), ("due", 3, 4), ("title", 3, 5), ("process", 0, 28)])
def test_incremental_site_equals_a_full_build(tmp_path_factory, ops):
    check_sequence(tmp_path_factory, ops)


@pytest.mark.slow
@settings(max_examples=200, deadline=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(ops=SEQUENCES)
def test_incremental_site_equals_a_full_build_over_200_random_sequences(tmp_path_factory, ops):
    check_sequence(tmp_path_factory, ops)
