"""The board's rules: what makes a card valid and what a move must satisfy.

Everything here returns `Problem`s and never raises for a user's mistake: `check`
prints them all, `new`/`set`/`move` refuse a change that would add one.
"""

from __future__ import annotations

import re

from mdboard.core import dates
from mdboard.core.config import CONFIG_NAME, BoardConfig, CardType, StateDef
from mdboard.core.errors import MdboardError, Problem
from mdboard.core.text import ID_RE, suggest
from mdboard.core.fields import check_value
from mdboard.core.i18n import join_list, t
from mdboard.core.store import SYNC_JOURNAL, Board, Card, is_archived_path

# Keys any card may carry besides its type's fields: `id` (its own ID, when written out) and
# `plan` (the plan that made it, see domain/plans.py). `check --strict` does not flag them.
BUILT_IN_KEYS = ("id", "plan")


def check_board(board: Board, strict: bool = False, paths: list[str] | None = None,
                archived: bool = False) -> list[Problem]:
    """Every problem on the board (or only in `paths`, still judged against the whole board).

    Archived cards are checked only when asked (`archived`), but links into the archive
    are good either way."""
    cards = board.cards(archived=archived)
    ids = {**board.id_types(), **{c.id: c.type for c in cards}}
    problems = config_problems(board.config) + duplicate_ids(cards) + board.scan_problems()
    selected = cards if paths is None else [c for c in cards if c.path in set(paths)]
    memo = _CheckMemo(board, strict)
    for card in selected:
        problems += memo.own_problems(card) + link_problems(board, card, ids)
    memo.save(keep={c.path for c in cards})
    if paths is not None:
        wanted = set(paths)
        problems = [p for p in problems if p.path in wanted]
    return problems + wip_problems(board, cards, selected)


def check_card(board: Board, card: Card, ids: dict | None = None, strict: bool = False) -> list[Problem]:
    """Problems of one card: syntax, name, folder, fields, dates, and (given `ids`) links."""
    out = own_problems(board, card, strict)
    return out + link_problems(board, card, ids) if ids is not None else out


def own_problems(board: Board, card: Card, strict: bool = False) -> list[Problem]:
    """The problems a card has on its own: everything but whether its links lead somewhere."""
    cfg = board.config
    ctype = cfg.types[card.type]
    out: list[Problem] = placement_problems(cfg, card)
    add = lambda field, msg, hint="", level="error": out.append(Problem(card.path, field, msg, hint, level))
    out += conflict_problems(board, card)
    if card.error:
        add("", card.error, t("check.hint_fix_syntax"))
        return out
    for key, value in card.meta.items():
        fd = ctype.fields.get(key)
        if fd is None:
            if key == "id" and value != card.id:
                add("id", t("check.id_mismatch", value=value, id=card.id), t("check.hint_id_mismatch"))
            elif strict and key not in BUILT_IN_KEYS:
                add(key, t("check.unknown_field", type=ctype.label), suggest(key, ctype.fields), "warning")
            continue
        if value is None or value == "" or value == []:
            continue
        problem = check_value(fd, value, cfg)
        if problem:
            add(key, *problem)
    for fd in ctype.fields.values():
        if fd.required and _is_empty(card.meta.get(fd.key)):
            add(fd.key, t("check.missing_required", label=fd.label),
                t("check.hint_set", id=card.id, key=fd.key))
    out += _date_order(card, ctype, cfg)
    return out


def placement_problems(cfg: BoardConfig, card: Card) -> list[Problem]:
    """Why the board cannot place a card: its file name is not an ID of its type, or its
    folder is not one of the type's states. `check` and the site both report these."""
    ctype = cfg.types[card.type]
    out = []
    m = ID_RE.match(card.id)
    if not m or m.group(1) != ctype.prefix:
        out.append(Problem(card.path, "", t("check.bad_file_name", name=card.id + ".md", type=ctype.label),
                           t("check.hint_file_name", example=f"{ctype.prefix}-0001.md")))
    if ctype.state(card.state) is None:
        out.append(Problem(card.path, "", t("check.unknown_folder", folder=card.state or ctype.key, type=ctype.label),
                           t("check.hint_folder", type=ctype.key, states=", ".join(s.key for s in ctype.states))))
    return out


_CONFLICT_START = re.compile(r"^<{7}(?: |$)", re.M)
_CONFLICT_END = re.compile(r"^>{7}(?: |$)", re.M)


def conflict_problems(board: Board, card: Card) -> list[Problem]:
    """A merge left half done: git's conflict markers (`<<<<<<<`, `=======`, `>>>>>>>`)
    still in the card's text, both versions of the clashing lines side by side."""
    try:
        text = board.read_text(card)
    except (MdboardError, OSError):
        return []  # a file that cannot be read is reported as such
    start = _CONFLICT_START.search(text)
    if start is None or not _CONFLICT_END.search(text, start.end()):
        return []
    line = text.count("\n", 0, start.start()) + 1
    # left by a sync that was cut short: the next sync puts the file back and merges again
    hint = "check.hint_conflict_sync" if (board.state_dir / SYNC_JOURNAL).exists() else "check.hint_conflict_markers"
    return [Problem(card.path, "", t("check.conflict_markers", line=line), t(hint))]


def config_problems(cfg: BoardConfig) -> list[Problem]:
    """What is wrong in mdboard.yaml without stopping the board: two people sharing one
    email (every commit from it would be credited to the first of them)."""
    owner: dict[str, str] = {}
    out = []
    for person in cfg.people.values():
        for email in person.emails:
            key = email.strip().lower()
            if key in owner and owner[key] != person.key:
                out.append(Problem(CONFIG_NAME, f"people.{person.key}.email", t(
                    "check.shared_email", email=email, other=cfg.people[owner[key]].name), t("check.hint_shared_email")))
            owner.setdefault(key, person.key)
    return out


def link_problems(board: Board, card: Card, ids: dict) -> list[Problem]:
    """Links (well formed ones) that lead to no card, or to a card of the wrong type: one per field."""
    cfg = board.config
    ctype = cfg.types[card.type]
    out = []
    for fd in ctype.fields.values():
        if fd.type not in ("link", "links") or card.error:
            continue
        value = card.meta.get(fd.key)
        targets = value if isinstance(value, list) else [value] if value else []
        if check_value(fd, value, cfg) if targets else True:
            continue  # missing, or malformed: own_problems reports it
        for target in targets:
            if target not in ids:
                out.append(Problem(card.path, fd.key, t("fields.broken_link", value=target), t("fields.hint_broken_link")))
                break
            if ids[target] != fd.to:
                out.append(Problem(card.path, fd.key, t("check.link_wrong_type", value=target,
                                                        type=cfg.types[fd.to].label), t("check.hint_link_type")))
                break
    return out


class _CheckMemo:
    """Each card's own problems, remembered by the card's stamp.

    They depend only on the card's bytes, the config, the language and --strict,
    so a warm `check` judges only the cards that changed (links are looked up
    again every time: they depend on the other cards).
    """

    VERSION = 3

    def __init__(self, board: Board, strict: bool):
        from mdboard.core import cache
        from mdboard.core.i18n import get_language

        self.board = board
        self.strict = strict
        self.path = board.state_dir / "check.cache"
        try:
            # 3: Problem moved to mdboard.core.errors; 4: conflict markers, invisible characters
            self.token = (4, get_language(), strict, board.config_stamp())
        except OSError:
            self.token = None
        self.entries: dict = {}
        self.changed = False
        data = cache.load(self.path, "check", self.VERSION)
        if isinstance(data, dict) and data.get("token") == self.token:
            self.entries = data["entries"]

    def own_problems(self, card: Card) -> list[Problem]:
        hit = self.entries.get(card.path)
        if hit is not None and card.stamp is not None and hit[0] == card.stamp:
            return list(hit[1])
        problems = own_problems(self.board, card, self.strict)
        if card.stamp is not None:
            self.entries[card.path] = (card.stamp, problems)
            self.changed = True
        return list(problems)

    def save(self, keep: set[str]) -> None:
        """Write the memo back if anything was judged anew (cards no longer on the board dropped)."""
        if not self.changed or self.token is None:
            return
        from mdboard.core import cache

        self.entries = {path: entry for path, entry in self.entries.items() if path in keep}
        cache.save(self.path, "check", self.VERSION, {"token": self.token, "entries": self.entries})


def _is_empty(value) -> bool:
    return value is None or value == "" or value == [] or value is False


def _date_order(card: Card, ctype: CardType, cfg: BoardConfig) -> list[Problem]:
    out = []
    for rule in ctype.date_order:
        a = dates.when(card.meta.get(rule.left), cfg.timezone) if card.meta.get(rule.left) else None
        b = dates.when(card.meta.get(rule.right), cfg.timezone) if card.meta.get(rule.right) else None
        if a is None or b is None:
            continue
        ok = a < b if rule.op == "<" else a <= b
        if not ok:
            left, right = ctype.fields[rule.left].label, ctype.fields[rule.right].label
            out.append(Problem(card.path, rule.right, t(
                "check.date_order", left=left, right=right, lv=card.meta[rule.left], rv=card.meta[rule.right],
                op=rule.op), t("check.hint_date_order", left=rule.left, right=rule.right)))
    return out


def duplicate_ids(cards: list[Card]) -> list[Problem]:
    seen: dict[str, Card] = {}
    out = []
    for card in cards:
        if card.id in seen:
            other = seen[card.id]
            out.append(Problem(card.path, "", t("check.duplicate_id", id=card.id, other=other.path),
                               t("check.hint_duplicate_id")))
        else:
            seen[card.id] = card
    return out


def wip_problems(board: Board, cards: list[Card], selected: list[Card] | None = None) -> list[Problem]:
    """One warning per state holding more cards than its WIP limit, on the state's folder,
    in the order of the config (types, then states). With `selected`, only the states
    those cards are in."""
    counts: dict[tuple[str, str], int] = {}
    for card in cards:
        if not is_archived_path(card.path):  # archived cards hold no place in a state's limit
            counts[(card.type, card.state)] = counts.get((card.type, card.state), 0) + 1
    wanted = None if selected is None else {(c.type, c.state) for c in selected}
    out = []
    for ctype in board.config.types.values():
        for state in ctype.states:
            count = counts.get((ctype.key, state.key), 0)
            if state.wip and count > state.wip and (wanted is None or (ctype.key, state.key) in wanted):
                out.append(Problem(f"{ctype.key}/{state.key}", "", t("check.over_wip", state=state.label, count=count,
                                                                        wip=state.wip), t("check.hint_over_wip"), "warning"))
    return out


def move_problems(board: Board, card: Card, target: str, actor: str | None) -> list[Problem]:
    """Why `card` may not move to `target`: transition, requirements, roles, WIP limit."""
    ctype = board.config.types[card.type]
    state = ctype.state(target)
    add = []
    if state is None:
        return [Problem(card.path, "", t("move.unknown_state", state=target, type=ctype.label),
                        suggest(target, [s.key for s in ctype.states]))]
    if target == card.state:
        return [Problem(card.path, "", t("move.already", state=state.label), "")]
    if card.state in [s.key for s in ctype.states] and target not in ctype.allowed_targets(card.state):
        allowed = ctype.allowed_targets(card.state)
        add.append(Problem(card.path, "", t("move.not_allowed", src=ctype.state_label(card.state), dst=state.label),
                           t("move.hint_allowed", states=", ".join(allowed) or "-")))
    add += requirement_problems(board, card, state, actor)
    count = board.count_in(card.type, target)
    if state.wip and count + 1 > state.wip:
        add.append(Problem(card.path, "", t("move.wip_full", state=state.label, count=count, wip=state.wip),
                           t("move.hint_wip")))
    return add


def requirement_problems(board: Board, card: Card, state: StateDef, actor: str | None) -> list[Problem]:
    """The target state's entry requirements that the card (or the actor) does not meet."""
    cfg = board.config
    ctype = cfg.types[card.type]
    out = []
    for key in state.requires:
        if _is_empty(card.meta.get(key)):
            fd = ctype.fields.get(key)
            out.append(Problem(card.path, key, t("move.needs_field", label=fd.label if fd else key, state=state.label),
                               t("check.hint_set", id=card.id, key=key)))
    if state.checklist and card.checklist and card.checklist_done < len(card.checklist):
        open_items = [text for done, text in card.checklist if not done]
        out.append(Problem(card.path, "checklist", t("move.checklist_open", state=state.label,
                                                     done=card.checklist_done, total=len(card.checklist)),
                           t("move.hint_checklist", items=join_list(open_items[:5]))))
    if state.roles:
        person = cfg.people.get(actor) if actor else None
        if person is None or not set(person.roles) & set(state.roles):
            who = person.name if person else (actor or t("move.unknown_actor"))
            out.append(Problem(card.path, "", t("move.role_needed", who=who, state=state.label,
                                                 roles=join_list(state.roles)), t("move.hint_role")))
    return out


def blocked_reasons(board: Board, card: Card) -> list[str]:
    """Why a card cannot move on to its next state right now (for standup / site)."""
    ctype = board.config.types[card.type]
    idx = ctype.state_index(card.state)
    if idx < 0 or idx + 1 >= len(ctype.states) or card.state in ctype.done_states():
        return []
    nxt = ctype.states[idx + 1]
    return [p.message for p in requirement_problems(board, card, nxt, None) if p.field != ""]


def next_step(board: Board, card: Card) -> str:
    """What the owner should do next, in a few words."""
    ctype = board.config.types[card.type]
    idx = ctype.state_index(card.state)
    if idx < 0:
        return t("move.fix_folder")
    if card.state in ctype.done_states() or idx + 1 >= len(ctype.states):
        return t("move.done")
    nxt = ctype.states[idx + 1]
    missing = requirement_problems(board, card, nxt, None)
    missing = [p for p in missing if p.field]
    if missing:
        return missing[0].message
    return t("move.next", state=nxt.label)

