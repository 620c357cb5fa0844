"""A change finds its card, and counts a state's cards for WIP limits, without listing the
whole board; what it finds is what the full listing (`Board.names`) finds."""

from __future__ import annotations

from conftest import Cli
from mdboard.core.store import Board


def listed_paths(root, card_id: str) -> list[tuple[str, str, str]]:
    board = Board(root)
    return [(tk, st, f"{tk}/{st}/{cid}.md" if st else f"{tk}/{cid}.md") for tk, st, cid in board.names()
            if cid == card_id]


def test_paths_of_finds_what_the_listing_finds(board):
    cli = Cli(board)
    for title in ("数据线", "充电宝", "耳机"):
        cli.ok("new", "sku", title, "--owner", "wangli")
    cli.ok("move", "SKU-0002", "shooting")
    # by hand: a copy in another state, a loose file, a folder no state claims, a folder named like a card
    (board / "sku/review").mkdir(exist_ok=True)
    (board / "sku/review/SKU-0001.md").write_bytes((board / "sku/planning/SKU-0001.md").read_bytes())
    (board / "sku/SKU-0003.md").write_bytes((board / "sku/planning/SKU-0003.md").read_bytes())
    (board / "sku/旧的").mkdir()
    (board / "sku/旧的/SKU-0003.md").write_text("---\ntitle: x\n---\n", "utf-8")
    (board / "sku/.hidden").mkdir()
    (board / "sku/.hidden/SKU-0002.md").write_text("---\ntitle: x\n---\n", "utf-8")
    for card_id in ("SKU-0001", "SKU-0002", "SKU-0003", "SKU-0009", "AS-0001"):
        assert sorted(Board(board).paths_of(card_id)) == sorted(listed_paths(board, card_id)), card_id
    assert len(Board(board).paths_of("SKU-0001")) == 2


def test_a_change_to_a_card_with_two_files_is_refused(board):
    cli = Cli(board)
    cli.ok("new", "sku", "数据线", "--owner", "wangli")
    (board / "sku/review").mkdir(exist_ok=True)
    (board / "sku/review/SKU-0001.md").write_bytes((board / "sku/planning/SKU-0001.md").read_bytes())
    result = cli("set", "SKU-0001", "price=9")
    assert result.exit_code == 1 and "sku/planning/SKU-0001.md" in result.output \
        and "sku/review/SKU-0001.md" in result.output, result.output


def test_count_in_one_folder_is_the_listings_count(board):
    cli = Cli(board)
    for title in ("数据线", "充电宝", "耳机"):
        cli.ok("new", "sku", title, "--owner", "wangli")
    cli.ok("move", "SKU-0002", "shooting")
    (board / "sku/planning/notes.txt").write_text("x", "utf-8")
    (board / "sku/planning/SKU-0009.MD").write_text("x", "utf-8")
    listed = Board(board)
    listed.names()
    for state in ("planning", "shooting", "review", "nowhere"):
        assert Board(board).count_in("sku", state) == listed.count_in("sku", state), state
    assert Board(board).count_in("sku", "planning") == 2
