"""After-sales cases are found by what they are (a type worked against the clock: its
`due` is a date and time), not by the key `issue`: a board that renames the type keeps
its after-sales figures in the report, its new cases in the standup and its queue page."""

from __future__ import annotations

import json

from conftest import Cli, git

CASE = ["--set", "platform=tmall", "--set", "problem=物流", "--set", "order_no=A1"]


def renamed(board) -> Cli:
    """The default board with the after-sales type's key `issue` renamed to `case`."""
    cfg = board / "mdboard.yaml"
    text = cfg.read_text("utf-8")
    assert "\n  issue:\n" in text
    cfg.write_text(text.replace("\n  issue:\n", "\n  case:\n"), "utf-8")
    (board / "issue").rename(board / "case")
    git(board, "add", "-A")
    git(board, "commit", "-qm", "售后 is called case here")
    return Cli(board)


def test_a_renamed_after_sales_type_keeps_its_figures(board, monkeypatch):
    cli = renamed(board)
    for moment, args in (("2026-11-24T10:00:00", ["new", "case", "物流破损", "--owner", "sunli", "--due",
                                                 "2026-11-24 18:00", *CASE]),
                         ("2026-11-24T12:00:00", ["set", "AS-0001", "resolution=补发"]),
                         ("2026-11-24T14:00:00", ["move", "AS-0001", "resolved"])):
        monkeypatch.setenv("GIT_AUTHOR_DATE", moment + "+08:00")
        monkeypatch.setenv("GIT_COMMITTER_DATE", moment + "+08:00")
        cli.ok("--as", "sunli", *args)
    monkeypatch.delenv("GIT_AUTHOR_DATE")
    monkeypatch.delenv("GIT_COMMITTER_DATE")

    report = json.loads(cli.ok("report", "--json").output)
    assert report["after_sales"] == {"resolved": 1, "median_hours": 4.0, "p85_hours": 4.0, "within_due": 1,
                                     "with_due": 1, "within_due_share": 1.0}
    standup = json.loads(cli.ok("standup", "--json").output)
    assert [card["id"] for card in standup["new_issues"]] == ["AS-0001"]
    cli.ok("build")
    site = board / "_site"
    assert (site / "queue.html").exists()
    assert "AS-0001" in (site / "queue.html").read_text("utf-8")
    assert 'id="as-h"' in (site / "report.html").read_text("utf-8")  # the after-sales section
