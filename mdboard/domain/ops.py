"""The actions that change cards: new, set, assign, move, edit.

Each one reads the board, builds the new text, validates it against the whole
board, and only then writes and commits through `git_changes.apply_change`. A refused
change raises ValidationFailed and leaves nothing written and nothing committed.
"""

from __future__ import annotations

from dataclasses import dataclass

from mdboard.core import cardfile
from mdboard.git import changes as git_changes
from mdboard.core.config import CardType
from mdboard.core.errors import MdboardError, Problem, ValidationFailed, parenthesized
from mdboard.core.fields import BadValue, parse_input
from mdboard.core.text import suggest
from mdboard.core.i18n import t
from mdboard.core.store import Board, Card
from mdboard.core.workflow import check_card, move_problems


@dataclass
class Actor:
    """Who is acting: a roster person key (if known) and the git author identity."""

    person: str | None
    name: str
    email: str

    @property
    def author(self) -> tuple[str, str] | None:
        return (self.name, self.email) if self.email else None


@dataclass
class Result:
    """What an action did, for the CLI to report."""

    card: Card
    commit: str | None
    note: str = ""


def resolve_actor(board: Board, as_person: str | None = None) -> Actor:
    """`--as PERSON` if given, else the git user matched against the roster."""
    cfg = board.config
    if as_person:
        person = cfg.find_person(as_person)
        if person is None:
            raise MdboardError(parenthesized(t("ops.unknown_actor", value=as_person),
                                         suggest(as_person, list(cfg.people))))
        return Actor(person.key, person.name, person.emails[0] if person.emails else f"{person.key}@mdboard.invalid")
    name, email = git_changes.user_identity(board)
    person = cfg.person_by_email(email) if email else None
    if person:
        return Actor(person.key, person.name, email)
    return Actor(None, name, email)


def parse_assignments(board: Board, ctype: CardType, pairs: list[str], path: str) -> dict:
    """`key=value` strings -> {key: value}; every bad one is reported at once."""
    values, problems = {}, []
    for pair in pairs:
        key, sep, text = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            problems.append(Problem(path, pair, t("ops.bad_assignment"), t("ops.hint_assignment")))
            continue
        fd = ctype.fields.get(key)
        if fd is None:
            problems.append(Problem(path, key, t("ops.unknown_field", type=ctype.label),
                                    suggest(key, ctype.fields)))
            continue
        try:
            values[key] = parse_input(fd, text, board.config)
        except BadValue as exc:
            problems.append(Problem(path, key, exc.message, exc.hint))
    if problems:
        raise ValidationFailed(t("ops.nothing_changed"), problems)
    return values


def _new_problems(board: Board, before: Card | None, after: Card) -> list[Problem]:
    """Errors the change would add (problems the card already had do not block it)."""
    ids = board.id_types()
    ids[after.id] = after.type
    old = {p.line() for p in check_card(board, before, ids)} if before else set()
    return [p for p in check_card(board, after, ids) if p.level == "error" and p.line() not in old]


def _commit(board: Board, change: git_changes.Change, no_commit: bool) -> tuple[str | None, str]:
    commit = git_changes.commits_enabled(board, no_commit)
    note = "" if commit or no_commit or not board.config.commit else t("ops.not_a_repo")
    return git_changes.apply_change(board, change, commit=commit), note


def _trailers(card_id: str, action: str, *extra: tuple[str, str]) -> list[tuple[str, str]]:
    return [("Card", card_id), ("Action", action), *extra]


def new_card(board: Board, type_text: str, title: str, owner: str | None = None, due: str | None = None,
             sets: tuple[str, ...] = (), actor: Actor | None = None, no_commit: bool = False,
             body: str | None = None) -> Result:
    """Create a card in its type's first state with the next free ID."""
    ctype = board.config.find_type(type_text)
    actor = actor or resolve_actor(board)
    pairs = [f"title={title}"] + ([f"owner={owner}"] if owner else []) + ([f"due={due}"] if due else []) + list(sets)
    with git_changes.board_lock(board):
        board.invalidate()
        card_id = board.next_id(ctype)
        state = ctype.first_state.key
        rel = f"{ctype.key}/{state}/{card_id}.md"
        values = parse_assignments(board, ctype, pairs, rel)
        values["title"] = str(title).strip()
        meta = {k: values[k] for k in ctype.fields if values.get(k) is not None}
        text = cardfile.new_card_text(meta, body if body is not None else ctype.template)
        parsed = cardfile.parse(text)
        card = Card(card_id, ctype.key, state, rel, parsed.meta, parsed.checklist)
        problems = _new_problems(board, None, card)
        if problems:
            raise ValidationFailed(t("ops.nothing_changed"), problems)
        change = git_changes.Change({rel: text}, f"new {card_id}: {card.title}",
                               _trailers(card_id, "new", ("Type", ctype.key), ("To", state)), actor.author)
        sha, note = _commit(board, change, no_commit)
    return Result(card, sha, note)


def set_fields(board: Board, card_id: str, pairs: list[str], actor: Actor | None = None,
               no_commit: bool = False, action: str = "set") -> Result:
    """Set (or clear, with `key=`) front matter keys, changing only their lines."""
    actor = actor or resolve_actor(board)
    with git_changes.board_lock(board):
        board.invalidate()
        card = board.find(card_id)
        _refuse_broken(card)
        ctype = board.type_of(card)
        values = parse_assignments(board, ctype, pairs, card.path)
        text = board.read_text(card)
        new_text = text
        for key, value in values.items():
            new_text = cardfile.set_field(new_text, key, value)
        parsed = cardfile.parse(new_text)
        after = Card(card.id, card.type, card.state, card.path, parsed.meta, parsed.checklist)
        problems = _new_problems(board, card, after)
        if problems:
            raise ValidationFailed(t("ops.nothing_changed"), problems)
        if new_text == text:
            return Result(card, None, t("ops.unchanged"))
        shown = ", ".join(f"{k}={'' if v is None else cardfile.render_value(v)}" for k, v in values.items())
        extra = [("Set", f"{k}={'' if v is None else cardfile.render_value(v)}") for k, v in values.items()]
        change = git_changes.Change({card.path: new_text}, f"{action} {card.id}: {shown}",
                               _trailers(card.id, action, *extra), actor.author)
        sha, note = _commit(board, change, no_commit)
    return Result(after, sha, note)


def assign(board: Board, card_id: str, person: str, actor: Actor | None = None, no_commit: bool = False) -> Result:
    return set_fields(board, card_id, [f"owner={person}"], actor, no_commit, action="assign")


def move_card(board: Board, card_id: str, state_text: str, actor: Actor | None = None, force: bool = False,
              reason: str = "", no_commit: bool = False) -> Result:
    """Move a card to another state folder after checking the workflow's rules."""
    actor = actor or resolve_actor(board)
    if force and not reason.strip():
        raise MdboardError(t("ops.force_needs_reason"))
    with git_changes.board_lock(board):
        board.invalidate()
        card = board.find(card_id)
        _refuse_broken(card)
        ctype = board.type_of(card)
        target = ctype.find_state(state_text)
        problems = move_problems(board, card, target, actor.person)
        hard = [p for p in problems if ctype.state(target) is None or target == card.state]
        if hard or (problems and not force):
            message = t("ops.not_moved", id=card.id)
            if not hard:
                message = t("ops.not_moved_force", moved=message, hint=t("ops.force_hint"))
            raise ValidationFailed(message, problems)
        new_rel = f"{card.type}/{target}/{card.id}.md"
        src = ctype.state(card.state)
        src_label = src.label if src else card.state
        trailers = _trailers(card.id, "move", ("From", card.state), ("To", target))
        if force:
            trailers += [("Forced", reason)] + [("Overrode", p.message) for p in problems]
        text = board.read_text(card)
        change = git_changes.Change({card.path: None, new_rel: text},
                               f"move {card.id}: {src_label} → {ctype.state(target).label}", trailers,
                               actor.author, renames={new_rel: card.path})
        sha, note = _commit(board, change, no_commit)
    moved = Card(card.id, card.type, target, new_rel, card.meta, card.checklist)
    return Result(moved, sha, note)


def edit_text(board: Board, card_id: str, new_text: str, original: str, actor: Actor | None = None,
              no_commit: bool = False) -> Result:
    """Replace a card's text with what the user edited, if it is still valid."""
    actor = actor or resolve_actor(board)
    with git_changes.board_lock(board):
        board.invalidate()
        card = board.find(card_id)
        if board.read_text(card) != original:
            raise MdboardError(t("ops.changed_meanwhile", path=card.path))
        try:
            parsed = cardfile.parse(new_text)
        except MdboardError as exc:
            raise ValidationFailed(t("ops.nothing_changed"), [Problem(card.path, "", exc.message, t("check.hint_fix_syntax"))])
        after = Card(card.id, card.type, card.state, card.path, parsed.meta, parsed.checklist)
        problems = _new_problems(board, card, after)
        if problems:
            raise ValidationFailed(t("ops.nothing_changed"), problems)
        if new_text == original:
            return Result(card, None, t("ops.unchanged"))
        change = git_changes.Change({card.path: new_text}, f"edit {card.id}: {after.title}",
                               _trailers(card.id, "edit"), actor.author)
        sha, note = _commit(board, change, no_commit)
    return Result(after, sha, note)


def _refuse_broken(card: Card) -> None:
    if card.error:
        raise MdboardError(parenthesized(f"{card.path}: {card.error}", t("ops.fix_by_hand")))
