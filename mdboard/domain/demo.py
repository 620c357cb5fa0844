"""`mdboard demo`: the bundled demo board as a living repository, its site built and served.

The demo board (`mdboard/domain/demo_board/`, shipped inside the package) is a snapshot of a shop's work on
2026-11-25. The demo copies it into a fresh folder with every date moved so that
2026-11-25 becomes today, then writes a believable history behind it: each card
created by the right person on its own day, moved through its states by the people
whose job that step is, fields set when they became known, owners handed over,
checklist items ticked in plain git commits (as someone working in an editor would).
The commits go in through one `git fast-import` process (about 200 commits in well
under a second); the last commit's tree is exactly the date-shifted demo board.
"""

from __future__ import annotations

import random
import re
import shutil
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from mdboard.core import dates
from mdboard.core.errors import MdboardError
from mdboard.core.i18n import t

REFERENCE_DAY = date(2026, 11, 25)  # the day the demo board describes
MARKER = "mdboard-demo"  # a file in .git that says the folder is a demo we may refresh
SEED = 20261125
_ISO_DAY = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
_SHORT_DAY = re.compile(r"(?<![\d\-./])(\d{2})-(\d{2})(?![\d\-])")
# Who does a checklist item, by a word in it (the role of the person to ask).
ITEM_ROLES = (("拍摄", "美工"), ("主图", "美工"), ("详情", "美工"), ("视频", "美工"), ("文案", "文案"),
              ("价格", "运营"), ("库存", "仓库"), ("质检", "仓库"), ("发货", "仓库"), ("退款", "客服"))
# Who moves a card into a state, by the state's key (a role), else the card's owner.
STATE_ROLES = {"shooting": "美工", "content": "文案", "listed": "运营", "ready": "运营"}


def demo_source() -> Path:
    """The bundled demo board (package data, so an installed wheel carries it too)."""
    from mdboard.core.fsutil import package_folder

    return package_folder("mdboard.domain", "demo_board")


# --- dates ---------------------------------------------------------------------------

def shift_text(text: str, days: int) -> str:
    """Move every date in a card by `days`: ISO dates everywhere, `MM-DD` in the body."""
    if days == 0:
        return text

    def iso(m):
        try:
            day = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return m.group(0)
        return (day + timedelta(days=days)).isoformat()

    def short(m):
        try:
            day = date(REFERENCE_DAY.year, int(m.group(1)), int(m.group(2)))
        except ValueError:
            return m.group(0)
        moved = day + timedelta(days=days)
        return f"{moved.month:02d}-{moved.day:02d}"

    text = _ISO_DAY.sub(iso, text)
    head, sep, body = _split_front_matter(text)
    return head + sep + _SHORT_DAY.sub(short, body)


def _split_front_matter(text: str) -> tuple[str, str, str]:
    """(front matter with its opening fence, closing fence line, body)."""
    m = re.search(r"\n(---|\.\.\.)[ \t]*\r?\n", text[3:])
    if not text.startswith("---") or m is None:
        return "", "", text
    end = 3 + m.end()
    return text[:3 + m.start()], text[3 + m.start():end], text[end:]


# --- the plan: what happened to each card, and when ------------------------------------

@dataclass
class Step:
    """One commit: a card created, moved, changed or ticked, by someone, at a time."""

    when: datetime
    who: str  # person key
    kind: str  # new / move / set / assign / tick
    card: str
    state: str | None = None  # new, move: the state entered
    key: str | None = None  # set / assign: the field
    value: object = None  # set / assign: the value after
    before: object = None  # set / assign: the value before
    items: list = field(default_factory=list)  # tick: checklist indexes
    text: str = ""  # the card's text after this step (filled in later)


class Planner:
    """Invents a plausible history for each card of the demo board, relative to `now`."""

    def __init__(self, board, now: datetime):
        self.board = board
        self.cfg = board.config
        self.now = now
        self.rnd = random.Random(SEED)
        self.by_role: dict[str, list[str]] = {}
        for key, person in self.cfg.people.items():
            for role in person.roles:
                self.by_role.setdefault(role, []).append(key)

    def person(self, role: str | None, fallback: str) -> str:
        people = self.by_role.get(role or "", [])
        return fallback if not people or fallback in people else self.rnd.choice(people)

    def at(self, day: date, hour: float | None = None) -> datetime:
        """A moment in working hours on `day` (never later than shortly before now)."""
        hour = hour if hour is not None else self.rnd.uniform(9.3, 19.5)
        moment = datetime(day.year, day.month, day.day, tzinfo=self.now.tzinfo) + timedelta(hours=hour)
        return min(moment, self.now - timedelta(minutes=self.rnd.randint(15, 90)))

    def within(self, lo: datetime, hi: datetime) -> datetime:
        """A moment between lo and hi, in working hours when there is one."""
        hi = min(hi, self.now - timedelta(minutes=5))
        if hi <= lo:
            return lo + timedelta(minutes=1)
        for _ in range(12):
            moment = lo + (hi - lo) * self.rnd.uniform(0.1, 0.9)
            if 9 <= moment.hour < 21:
                return moment
        return lo + (hi - lo) / 2

    def day_of(self, value) -> date | None:
        moment = dates.when(value, self.cfg.timezone) if value else None
        return moment.date() if moment else None

    def plan(self, card, index: int) -> list[Step]:
        """Every step of one card, oldest first, ending in its current state and text."""
        ctype = self.cfg.types[card.type]
        path = [s.key for s in ctype.states[:ctype.state_index(card.state) + 1]]
        times = self.state_times(card, ctype, path)
        owner = card.owner or self.person("运营", next(iter(self.cfg.people)))
        creator = owner if card.type == "issue" else self.person("运营", owner)
        steps = [Step(times[0], creator, "new", card.id, state=path[0])]
        for state, when in zip(path[1:], times[1:]):
            steps.append(Step(when, self.person(STATE_ROLES.get(state), owner), "move", card.id, state=state))
        stays = list(zip(path, times, times[1:] + [self.now - timedelta(minutes=10)]))
        steps += self.field_steps(card, ctype, path, times, creator, owner, index)
        steps += self.tick_steps(card, ctype, stays, owner)
        steps.sort(key=lambda s: s.when)
        steps.insert(0, steps.pop(next(i for i, s in enumerate(steps) if s.kind == "new")))
        return steps

    def state_times(self, card, ctype, path: list[str]) -> list[datetime]:
        """When the card was created and entered each state of its path, increasing."""
        done = card.state in ctype.done_states()
        anchors = self.anchors(card, path)
        end_day = anchors.get(len(path) - 1)
        if end_day is None:
            end_day = self.finish_day(card, done)
        last = self.at(end_day)
        span = {"issue": 2.5, "campaign": 12, "asset": 6}.get(card.type, 10) * self.rnd.uniform(0.7, 1.3)
        first_day = anchors.get(0) or (last - timedelta(days=span * (len(path) / 5 + 0.4))).date()
        times = [self.at(first_day)]
        for i in range(1, len(path)):
            day = anchors.get(i)
            if day is None:
                share = i / (len(path) - 1) if len(path) > 1 else 1
                day = (times[0] + (last - times[0]) * share * self.rnd.uniform(0.85, 1.0)).date()
            times.append(self.at(day) if i < len(path) - 1 else last)
        for i in range(1, len(times)):  # each step at least 20 minutes after the one before
            times[i] = max(times[i], times[i - 1] + timedelta(minutes=20))
        limit = self.now - timedelta(minutes=10)
        for i in range(len(times) - 1, -1, -1):  # and none in the future
            times[i] = min(times[i], limit)
            limit = times[i] - timedelta(minutes=20)
        return times

    def anchors(self, card, path: list[str]) -> dict[int, date]:
        """Days the card's own dates imply: a campaign enters each stage when its milestone comes,
        an after-sales case is opened a day or three before its due time and resolved by then."""
        if card.type == "issue":
            return self.issue_anchors(card, path)
        if card.type != "campaign":
            return {}
        meta, out = card.meta, {}
        days = {"signed_up": meta.get("signup_start"), "materials": meta.get("signup_end"),
                "in_review": meta.get("materials_due"), "live": meta.get("live_start")}
        for i, state in enumerate(path):
            day = self.day_of(days.get(state))
            if state == "finished" and self.day_of(meta.get("live_end")):
                day = self.day_of(meta.get("live_end")) + timedelta(days=1)
            if day is not None and day <= self.now.date():
                out[i] = day
        if path and self.day_of(meta.get("signup_start")):
            out[0] = self.day_of(meta.get("signup_start")) - timedelta(days=self.rnd.randint(2, 6))
        return out

    def issue_anchors(self, card, path: list[str]) -> dict[int, date]:
        due = self.day_of(card.meta.get("due"))
        if due is None:
            return {}
        today = self.now.date()
        out = {0: min(today, due - timedelta(days=self.rnd.choice([1, 1, 2, 3])))}
        for i, state in enumerate(path[1:], start=1):
            if state == "resolved":
                out[i] = min(today, due - timedelta(days=self.rnd.choice([0, 0, 1])))
            elif state == "archived":
                out[i] = min(today, due + timedelta(days=self.rnd.randint(1, 3)))
        return out

    def finish_day(self, card, done: bool) -> date:
        """The day a card reached its current state."""
        today = self.now.date()
        due = self.day_of(card.meta.get("due"))
        if done and due is not None and due <= today:
            late = self.rnd.random() < 0.25
            day = due + timedelta(days=1) if late else due - timedelta(days=self.rnd.randint(0, 2))
        elif done:
            day = today - timedelta(days=self.rnd.randint(8, 25))
        elif card.type == "issue" and due is not None:
            day = min(today, due - timedelta(days=self.rnd.randint(0, 1)))
        else:
            day = today - timedelta(days=self.rnd.choice([0, 1, 1, 1, 2, 3, 4, 6]))
        return min(day, today)

    def field_steps(self, card, ctype, path, times, creator, owner, index) -> list[Step]:
        """Fields set just before the state that needs them; some owners and dues changed on the way."""
        steps = []
        for i, state in enumerate(path[1:], start=1):
            for key in ctype.state(state).requires:
                if key in card.meta and key not in ("owner", "title") and not any(s.key == key for s in steps):
                    when = self.within(times[i - 1], times[i])
                    who = self.person("运营" if key.startswith("price") else None, owner)
                    steps.append(Step(when, who, "set", card.id, key=key, value=card.meta[key]))
        later = self.within(times[0], times[1] if len(times) > 1 else self.now)
        if index % 4 == 2 and creator != owner:
            steps.append(Step(self.within(times[0], times[0] + timedelta(hours=4)), creator, "assign", card.id, key="owner",
                              value=owner, before=creator))
        due = card.meta.get("due")
        if index % 5 == 3 and isinstance(due, str) and dates.parse_date(due):
            earlier = (dates.parse_date(due) - timedelta(days=self.rnd.randint(2, 4))).isoformat()
            steps.append(Step(later, creator, "set", card.id, key="due", value=due, before=earlier))
        return [s for s in steps if times[0] < s.when < self.now]

    def tick_steps(self, card, ctype, stays: list, owner: str) -> list[Step]:
        """The card's ticked checklist items, one or two per plain git commit, by the right people,
        while the card sits in the state where that work is done."""
        role_of = lambda i: next((r for word, r in ITEM_ROLES if word in card.checklist[i][1]), None)
        done = [i for i, (ok, _) in enumerate(card.checklist) if ok]
        steps = []
        while done:
            role = role_of(done[0])
            group = [i for i in done[:self.rnd.choice([1, 2])] if role_of(i) == role]
            done = done[len(group):]
            _, lo, hi = self.stay_for(ctype, stays, role)
            steps.append(Step(self.within(lo, hi), self.person(role, owner), "tick", card.id, items=group))
        steps.sort(key=lambda s: s.when)
        for a, b in zip(steps, steps[1:]):  # keep the items in order
            if b.when <= a.when:
                b.when = a.when + timedelta(minutes=5)
        return [s for s in steps if s.when < self.now]

    def stay_for(self, ctype, stays: list, role: str | None):
        """The stay (state, start, end) in which a person of `role` does their part of the card."""
        done = ctype.done_states()
        for i, (state, start, end) in enumerate(stays):
            if role and STATE_ROLES.get(state) == role:
                return stays[i - 1] if state in done and i > 0 else stays[i]
        return stays[0][0], stays[0][1], stays[-1][2] if len(stays) == 1 else stays[-1][1]


# --- texts and commits -------------------------------------------------------------------

def card_texts(final: str, steps: list[Step]) -> None:
    """Fill each step's text by undoing the steps backwards from the card's final text."""
    from mdboard.core.cardfile import set_checklist_item, set_field

    text = final
    for step in reversed(steps):
        step.text = text
        if step.kind in ("set", "assign"):
            text = set_field(text, step.key, step.before)
        elif step.kind == "tick":
            for i in step.items:
                text = set_checklist_item(text, i, False)


def commit_message(step: Step, card, ctype, previous_state: str | None) -> str:
    """The message mdboard (or a person, for ticks) would have written for this step."""
    from mdboard.core.cardfile import render_value
    from mdboard.git.changes import Change

    trailers = [("Card", card.id)]
    if step.kind == "new":
        subject = f"new {card.id}: {card.title}"
        trailers += [("Action", "new"), ("Type", card.type), ("To", step.state)]
    elif step.kind == "move":
        subject = f"move {card.id}: {ctype.state(previous_state).label} → {ctype.state(step.state).label}"
        trailers += [("Action", "move"), ("From", previous_state), ("To", step.state)]
    elif step.kind in ("set", "assign"):
        pair = f"{step.key}={render_value(step.value)}"
        subject = f"{step.kind} {card.id}: {pair}"
        trailers += [("Action", step.kind), ("Set", pair)]
    else:
        items = "、".join(card.checklist[i][1] for i in step.items)
        return f"{card.id} {items} 完成\n"
    return Change({}, subject, trailers).message()


def fast_import_stream(board, files: dict[str, str], steps: list[Step], start: datetime) -> bytes:
    """The whole history as one `git fast-import` stream on refs/heads/main."""
    cfg = board.config
    cards = board.by_id()
    out: list[bytes] = []
    first = cfg.people[next(iter(cfg.people))]
    out.append(_commit_header(first, start, "init: mdboard board\n\nAction: init\n"))
    for rel, text in files.items():
        out.append(_inline(rel, text))
    where: dict[str, str] = {}
    for step in steps:
        card = cards[step.card]
        ctype = cfg.types[card.type]
        person = cfg.people[step.who]
        previous = where.get(card.id)
        out.append(_commit_header(person, step.when, commit_message(step, card, ctype,
                                                                     previous and previous.split("/")[1])))
        if step.kind == "move":
            new = f"{card.type}/{step.state}/{card.id}.md"
            out.append(f"R {previous} {new}\n".encode())
            where[card.id] = new
        else:
            where.setdefault(card.id, f"{card.type}/{step.state}/{card.id}.md")
            out.append(_inline(where[card.id], step.text))
        out.append(b"\n")
    return b"".join(out)


def _commit_header(person, when: datetime, message: str) -> bytes:
    email = person.emails[0] if person.emails else f"{person.key}@mdboard.invalid"
    stamp = f"{int(when.timestamp())} {when.strftime('%z')}"
    data = message.encode("utf-8")
    ident = f"{person.name} <{email}> {stamp}"
    return (f"commit refs/heads/main\nauthor {ident}\ncommitter {ident}\ndata {len(data)}\n").encode() + data + b"\n"


def _inline(rel: str, text: str) -> bytes:
    data = text.encode("utf-8")
    return f"M 100644 inline {rel}\ndata {len(data)}\n".encode() + data + b"\n"


# --- making the demo -------------------------------------------------------------------

@dataclass
class DemoResult:
    root: Path
    commits: int
    people: int
    days: int


def make_demo(target: Path, source: Path | None = None) -> DemoResult:
    """Create (or refresh) the demo repository at `target`; returns what it made."""
    from mdboard.core.store import Board

    source = source or demo_source()
    if not (source / "mdboard.yaml").is_file():
        raise MdboardError(t("history.demo_missing", path=source))
    target = Path(target).resolve()
    _clear(target)
    target.mkdir(parents=True, exist_ok=True)
    _git(target, ["init", "-q", "-b", "main"])
    files = _shifted_copy(source, target)
    board = Board(target)
    tz = board.config.timezone
    now = dates.now(tz)
    planner = Planner(board, now)
    steps = []
    for index, card in enumerate(sorted(board.cards(), key=lambda c: (c.type, c.id))):
        card_steps = planner.plan(card, index)
        card_texts(files.pop(card.path), card_steps)
        steps += card_steps
    steps.sort(key=lambda s: s.when)
    start = min(s.when for s in steps) - timedelta(hours=2)
    _git_import(target, fast_import_stream(board, files, steps, start))
    (board.git_dir / MARKER).write_text("mdboard demo\n", "utf-8")
    return DemoResult(target, len(steps) + 1, len({s.who for s in steps}), (now.date() - start.date()).days)


def _clear(target: Path) -> None:
    """Empty the demo folder: only an empty folder or an earlier demo may be replaced."""
    if not target.exists():
        return
    if not target.is_dir():
        raise MdboardError(t("history.demo_not_folder", path=target))
    if any(target.iterdir()):
        if not (target / ".git" / MARKER).is_file():
            raise MdboardError(t("history.demo_not_empty", path=target))
        shutil.rmtree(target)


def _shifted_copy(source: Path, target: Path) -> dict[str, str]:
    """Read the demo board with its dates moved to today (the cards' and the sale calendar's);
    returns path -> text (nothing written yet)."""
    days = (dates.today(_timezone(source)) - REFERENCE_DAY).days
    files = {}
    for path in sorted(source.rglob("*")):
        if path.is_file() and not any(part.startswith(("_site", ".mdboard")) for part in path.relative_to(source).parts):
            rel = path.relative_to(source).as_posix()
            text = path.read_text("utf-8")
            files[rel] = shift_text(text, days) if rel.endswith(".md") or rel.startswith("sales/") else text
    for rel, text in files.items():  # the board must be readable to plan; git writes it again
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        (target / rel).write_text(text, "utf-8")
    return files


def _timezone(source: Path) -> str:
    from mdboard.core.config import load_config

    return load_config(source).timezone


def _git_import(root: Path, stream: bytes) -> None:
    """Fast-import the history and check the work tree out."""
    _git(root, ["fast-import", "--quiet"], stream)
    _git(root, ["reset", "-q", "--hard", "main"])


def _git(root: Path, args: list[str], data: bytes | None = None) -> None:
    from mdboard.git.changes import GitRepo

    GitRepo(root).run(*args, input=data)
