"""Site pages that come from other features: the calendar feeds (and, with git history,
the report and standup pages)."""

from __future__ import annotations

from typing import Callable

from .store import Board


def extras(data, board: Board) -> dict[str, Callable]:
    """Optional pages by name: `calendar` (person key or None -> .ics bytes)."""
    out: dict[str, Callable] = {}
    from .calendar import board_calendar

    out["calendar"] = lambda person: board_calendar(board, person)
    return out
