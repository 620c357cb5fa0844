"""`mdboard notify`: the morning digest, sent to the team's group chats.

One message per robot per run (split only when a platform's size limit demands):
what is overdue and whose it is, what is due today, the new after-sales cases, what
is stuck, what moved since the last working day, and with `person_lists` each
person's own cards. The content comes from `compute_standup` and `views.mine`, so
"overdue" and "due today" mean here what they mean in `standup`, `mine` and on the
site. Owners are @-mentioned through the ids in the roster (mdboard.yaml `people`).

Composing (`plan`) is pure; sending (`send`) posts through `webhook.Delivery`.
`notify` does both and is the one function the CLI and the team web board call.
Webhook addresses and secrets come from environment variables named in the
config, never from the repository, and no message or error shows them.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import quote

from mdboard.core.config import RobotConfig
from mdboard.core.errors import MdboardError, parenthesized
from mdboard.core.i18n import t
from mdboard.core.store import Board
from mdboard.domain.robots import PLATFORMS, Line, Outcome, Span, shorten
from mdboard.domain.views import Due, countdown, mine, state_label
from mdboard.domain.webhook import Delivery

SECTION_LIMIT = 12  # lines per section; "还有 N 张" after
TITLE_LIMIT = 80  # characters of a card title in a line
EVENT_LIMIT = 120  # characters of one history line
CI_SECRETS = "MDBOARD_CI_SECRETS"  # a JSON object of secrets (GitHub: toJSON(secrets))


@dataclass
class Outgoing:
    """What one robot gets this run: its payloads (JSON bodies before signing)."""

    robot: RobotConfig
    payloads: list[dict]


@dataclass
class RobotReport:
    """How sending to one robot went."""

    robot: str
    platform: str
    messages: int
    sent: int = 0
    attempts: int = 0
    error: str = ""


@dataclass
class NotifyReport:
    """What a run planned and (unless a dry run) delivered, per robot."""

    planned: list[Outgoing]
    robots: list[RobotReport] = field(default_factory=list)
    dry_run: bool = False

    @property
    def failed(self) -> list[RobotReport]:
        return [r for r in self.robots if r.error]


# --- composing ---------------------------------------------------------------------------

def card_url(site_url: str, card_id: str) -> str:
    """The card's page on the published site (`<site_url>/cards/<ID>.html`)."""
    return f"{site_url.rstrip('/')}/cards/{quote(card_id)}.html"



def _card_line(board: Board, card_id: str, title, owner, state_label: str, due, mention: bool) -> Line:
    """`SKU-0042 蓝牙耳机 · 王丽 @… · 待审核 · 逾期 2 天`, the ID linking to the card's page."""
    cfg = board.config
    link = card_url(cfg.site_url, card_id) if cfg.site_url else ""
    spans = [Span(card_id, link=link), Span(" " + shorten(str(title or ""), TITLE_LIMIT))]
    if isinstance(owner, str) and owner:
        spans += [Span(" · "), Span(cfg.person_name(owner), person=owner if mention else "")]
    spans.append(Span(" · " + state_label))
    if due is not None:
        spans.append(Span(" · " + countdown(due)))
    return Line(spans, item=True)


def _json_line(board: Board, data: dict, mention: bool) -> Line:
    """A card line from the standup's JSON form of a card."""
    status = data.get("due_status")
    due = Due(status["value"], status["label"], status["days"], status["overdue"]) if status else None
    return _card_line(board, data["id"], data.get("title"), data.get("owner"),
                      str(data.get("state_label") or data.get("state") or ""), due, mention)


def _heading(title: str, count: int | None = None) -> Line:
    return Line([Span(title if count is None else parenthesized(title, str(count)), bold=True)])


def _more(total: int, shown: int) -> list[Line]:
    return [Line([Span(t("history.standup_more", n=total - shown))], item=True)] if total > shown else []


def _card_section(board: Board, title: str, cards: list[dict], mention: bool) -> list[Line]:
    if not cards:
        return []
    shown = [_json_line(board, c, mention) for c in cards[:SECTION_LIMIT]]
    return [_heading(title, len(cards))] + shown + _more(len(cards), len(shown))


def _blocked_section(board: Board, data: dict) -> list[Line]:
    lines = [Line([Span(w["text"])], item=True) for w in data.get("over_wip", [])]
    for entry in data["blocked"]:
        line = _json_line(board, entry["card"], mention=False)
        line.spans.append(Span(" — " + "；".join(entry["reasons"])))
        lines.append(line)
    if not lines:
        return []
    shown = lines[:SECTION_LIMIT]
    return [_heading(t("history.standup_blocked"), len(lines))] + shown + _more(len(lines), len(shown))


def _moved_section(data: dict) -> list[Line]:
    lines = []
    for group in data["moved"]:
        events = group["events"]
        lines += [Line([Span(shorten(e["text"], EVENT_LIMIT))], item=True) for e in events[:SECTION_LIMIT]]
        lines += _more(len(events), min(len(events), SECTION_LIMIT))
    return [_heading(t("notify.section_moved"))] + lines if lines else []


def _sections(board: Board, data: dict) -> dict[str, list[Line]]:
    """Each digest section's lines (empty when there is nothing to say)."""
    return {"overdue": _card_section(board, t("history.standup_overdue"), data["overdue"], mention=True),
            "due_today": _card_section(board, t("history.standup_due_today"), data["due_today"], mention=True),
            "new_issues": _card_section(board, t("history.standup_new_issues"), data["new_issues"], mention=False),
            "blocked": _blocked_section(board, data),
            "moved": _moved_section(data)}


def _person_lines(board: Board) -> list[Line]:
    """Per roster person with cards overdue, due today or this week: a count line, then the cards."""
    cfg = board.config
    cards = board.cards()
    lines = []
    for key in cfg.people:
        groups = mine(cfg, cards, key)
        picked = groups["overdue"] + groups["today"] + groups["week"]
        if not picked:
            continue
        counts = " · ".join(t(f"notify.count_{g}", n=len(groups[g])) for g in ("overdue", "today", "week") if groups[g])
        lines.append(Line([Span(cfg.person_name(key), person=key), Span(t("notify.person_counts", counts=counts))]))
        shown = picked[:SECTION_LIMIT]
        lines += [_card_line(board, c.id, c.title, None, state_label(board, c), due, mention=False) for c, due in shown]
        lines += _more(len(picked), len(shown))
    return [_heading(t("notify.section_people"))] + lines if lines else []


def _header(board: Board, keyword: str) -> str:
    from babel.dates import format_skeleton

    from mdboard.core import dates

    cfg = board.config
    day = format_skeleton("MMMEd", dates.now(cfg.timezone), locale=cfg.language.replace("-", "_"))
    header = t("notify.header", title=cfg.title, day=day)
    return header if not keyword or keyword in header else t("notify.header_keyword", header=header, keyword=keyword)


def select_robots(board: Board, names: list[str] | tuple[str, ...] | None = None) -> list[RobotConfig]:
    """The configured robots, or the ones named (an unknown name is an error with a suggestion)."""
    robots = board.config.notify.robots
    if not names:
        return list(robots.values())
    from mdboard.core.text import suggest

    unknown = [n for n in names if n not in robots]
    if unknown:
        raise MdboardError(parenthesized(t("notify.unknown_robot", name=unknown[0]), suggest(unknown[0], robots)))
    return [robots[n] for n in dict.fromkeys(names)]


def plan(board: Board, robots: list[str] | tuple[str, ...] | None = None, person_lists: bool = False,
         history=None) -> list[Outgoing]:
    """Each chosen robot's message(s), composed and packed under its platform's size limit."""
    from mdboard.domain.standup import compute_standup
    from mdboard.git.history import load_history

    chosen = select_robots(board, robots)
    if not chosen:
        return []
    cfg = board.config
    sections = _sections(board, compute_standup(board, history if history is not None else load_history(board)))
    people = _person_lines(board) if person_lists else []
    footer = [Line([Span(t("notify.open_board"), link=cfg.site_url)])] if cfg.site_url else []
    planned = []
    for robot in chosen:
        lines = [line for name in robot.sections for line in sections.get(name, [])] + people
        lines = (lines or [Line([Span(t("notify.all_clear"))])]) + footer
        platform = PLATFORMS[robot.platform](cfg.people, cfg.language)
        planned.append(Outgoing(robot, platform.pack(_header(board, robot.keyword), lines)))
    return planned


# --- sending -----------------------------------------------------------------------------

def lookup_secret(name: str, env) -> str:
    """An environment variable, else the same name in MDBOARD_CI_SECRETS (a JSON object)."""
    value = (env.get(name) or "").strip()
    if value or not env.get(CI_SECRETS):
        return value
    try:
        secrets = json.loads(env[CI_SECRETS])
    except ValueError:
        return ""
    found = secrets.get(name) if isinstance(secrets, dict) else None
    return found.strip() if isinstance(found, str) else ""


def _refusal(robot: RobotConfig, outcome: Outcome, attempts: int) -> str:
    """Why a robot did not take the message, and what to change, in the board's language."""
    platform = t(f"notify.platform_{robot.platform}")
    if outcome.status == "retry":
        return t("notify.gave_up", robot=robot.key, platform=platform, attempts=attempts, detail=outcome.detail)
    return t(f"notify.refused_{outcome.reason}", robot=robot.key, platform=platform, detail=outcome.detail,
             webhook_env=robot.webhook_env, secret_env=robot.secret_env)


def send(board: Board, planned: list[Outgoing], env=None, delivery: Delivery | None = None) -> list[RobotReport]:
    """Post every planned message; a robot that refuses stops its own sending, not the others'."""
    env = os.environ if env is None else env
    delivery = delivery or Delivery()
    cfg = board.config
    reports = []
    for out in planned:
        robot = out.robot
        report = RobotReport(robot.key, robot.platform, len(out.payloads))
        reports.append(report)
        url = lookup_secret(robot.webhook_env, env)
        if not url:
            report.error = t("notify.no_webhook", robot=robot.key, env=robot.webhook_env)
            continue
        if not url.startswith(("https://", "http://")):
            report.error = t("notify.bad_webhook", robot=robot.key, env=robot.webhook_env)
            continue
        secret = lookup_secret(robot.secret_env, env)
        platform = PLATFORMS[robot.platform](cfg.people, cfg.language)
        for payload in out.payloads:
            def build(payload=payload):
                if not secret:
                    return url, payload
                return platform.sign(url, payload, secret, int(time.time() * 1000))

            outcome, attempts = delivery.send(robot.key, build, platform.outcome)
            report.attempts += attempts
            if outcome.status != "ok":
                report.error = _refusal(robot, outcome, attempts)
                break
            report.sent += 1
    return reports


def notify(board: Board, robots: list[str] | tuple[str, ...] | None = None, person_lists: bool = False,
           dry_run: bool = False, env=None, delivery: Delivery | None = None, history=None) -> NotifyReport:
    """Compose the digest for each robot and, unless `dry_run`, send it.

    The one entry point for the CLI (`mdboard notify`) and the team web board's
    scheduled send. Never raises for a robot that refuses: the report says which
    and why (`report.failed`); raises MdboardError only for a bad robot name.
    """
    planned = plan(board, robots, person_lists, history)
    report = NotifyReport(planned, dry_run=dry_run)
    if dry_run:
        report.robots = [RobotReport(o.robot.key, o.robot.platform, len(o.payloads)) for o in planned]
    else:
        report.robots = send(board, planned, env, delivery)
    return report


# --- the schedule ------------------------------------------------------------------------

def utc_cron(clock: str, days: tuple[int, ...], tz: str, on=None) -> str:
    """A 5-field cron line in UTC for `clock` ("08:50") on `days` (0 = Monday) in timezone `tz`.

    GitHub's and Gitea's schedules run in UTC; the day list shifts when the
    conversion crosses midnight (08:00 in Asia/Shanghai is 00:00 UTC the same day,
    07:00 is 23:00 UTC the day before). `on` is the date whose UTC offset is used
    (today by default): a timezone with summer time needs the line changed twice a year.
    """
    from datetime import date, time as day_time, timezone

    from mdboard.core import dates

    hour, minute = (int(x) for x in clock.split(":"))
    day = on or date.today()
    local = datetime.combine(day, day_time(hour, minute), tzinfo=dates.zone(tz))
    moment = local.astimezone(timezone.utc)
    shift = (moment.date() - local.date()).days
    cron_days = sorted({(d + shift + 1) % 7 for d in days})  # cron: 0 = Sunday
    return f"{moment.minute} {moment.hour} * * {_cron_list(cron_days)}"


def local_cron(clock: str, days: tuple[int, ...]) -> str:
    """The same schedule in the board's own time (GitLab's schedules take a timezone)."""
    hour, minute = (int(x) for x in clock.split(":"))
    return f"{minute} {hour} * * {_cron_list(sorted({(d + 1) % 7 for d in days}))}"


def _cron_list(values: list[int]) -> str:
    """[1, 2, 3, 4, 5] -> "1-5"; [0, 6] -> "0,6"."""
    runs, start = [], None
    for i, value in enumerate(values):
        if start is None:
            start = value
        if i + 1 == len(values) or values[i + 1] != value + 1:
            runs.append(str(start) if start == value else f"{start}-{value}")
            start = None
    return ",".join(runs) or "*"
