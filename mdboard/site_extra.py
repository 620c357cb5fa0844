"""Site pages made from other features' results: calendar feeds (`calendar`), the
report (复盘 charts from git history) and the standup digest (晨会)."""

from __future__ import annotations

from typing import Callable

from .site_render import digest
from .store import Board


def extras(data, board: Board) -> dict[str, Callable]:
    """Optional pages by name: `calendar` (person key or None -> .ics bytes), and with
    history `report.html` / `standup.html` ((data, base, nav) -> Page)."""
    from .calendar import board_calendar

    out: dict[str, Callable] = {"calendar": lambda person: board_calendar(board, person)}
    if data.history is not None:
        out["report.html"] = history_page("report", report_context)
        out["standup.html"] = history_page("standup", standup_context)
    return out


def history_page(name: str, context: Callable):
    """A page built from git history and today's board (report, standup): (data, base, nav) -> Page."""
    def page(data, base: str, nav):
        from .site_pages import Page, _lazy

        key = digest(base, name, data.history_key(), data.all_key(), data.today.isoformat())
        return Page(f"{name}.html", key, _lazy(data.renderer, f"{name}.html", "", nav, name, data,
                                               lambda: context(data)))
    return page


def report_context(data) -> dict:
    """compute_report's figures with the chart geometry worked out for each type."""
    from .report import compute_report
    from .site_charts import cumulative_flow_chart, cycle_scatter, state_bars, throughput_chart

    report = compute_report(data.board, data.history.real())
    types = []
    for key, figures in report["types"].items():
        ctype = data.cfg.types[key]
        types.append({"key": key, "label": figures["label"], "f": figures,
                      "flow": cumulative_flow_chart(data, ctype, figures["cumulative_flow"]),
                      "throughput": throughput_chart(data, figures["throughput"]),
                      "scatter": cycle_scatter(data, figures["cycle_points"], figures["cycle_time_days"]),
                      "states": state_bars(figures["time_in_state_days"])})
    has_queue = any(ct.key == "issue" for ct in data.cfg.types.values())
    return {"types": types, "after_sales": report["after_sales"] if has_queue else None,
            "load": report["load"], "events": len(data.history.events)}


def standup_context(data) -> dict:
    """compute_standup's digest with its times as datetimes for the template."""
    from datetime import datetime

    from .standup import compute_standup

    digest_ = compute_standup(data.board, data.history.real())
    digest_["since_time"] = datetime.fromisoformat(digest_["since"])
    for group in digest_["moved"]:
        for event in group["events"]:
            event["when"] = datetime.fromisoformat(event["time"])
    return {"s": digest_}
