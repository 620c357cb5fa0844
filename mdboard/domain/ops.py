"""The actions that change cards: new, set, assign, move, edit, tick, note, save.

The CLI and the team web board call these same functions, so an action reads the
same, is refused for the same reasons and writes the same commit wherever it comes
from. Each one, under the board lock, reads the card as it is on disk right then,
builds the new text, validates it against the whole board, and only then writes and
commits through `git_changes.apply_change`. A refused change raises an `MdboardError`
(`ValidationFailed`, `CardChanged`, `UnsavedEdits`, `CardNotFound` ...) and leaves
nothing written and nothing committed.

No lost update: a form or a drag carries the card's version (`version_of`) and what
the person saw (`Expect`). A change whose card moved on meanwhile is applied on top
of the current text when the two do not clash, and refused with `CardChanged` when
they do.

Hand edits: a card whose file differs from git's HEAD (edited, made or moved by hand
and not committed) is never swept into another action's commit unchecked; the action
is refused with `UnsavedEdits` and `save` checks and commits such edits.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from mdboard.core import cardfile
from mdboard.core.config import CardType
from mdboard.core.digest import sha256
from mdboard.core import names
from mdboard.core.errors import (CardChanged, MdboardError, Problem, UnknownName, ValidationFailed,
                                 parenthesized)
from mdboard.core.fields import BadValue, display, parse_input
from mdboard.core.i18n import join_list, t
from mdboard.core.records import Record, ValueRecord
from mdboard.core.store import Board, Card, card_path_parts, check_id
from mdboard.core.text import has_control_chars, suggest, suggest_label
from mdboard.core.workflow import check_card, link_problems, move_problems
from mdboard.git import changes as git_changes

# The records below are plain classes (`core.records`): each command is a new process, and a
# dataclass costs it ~0.5 ms to make at import.


class Actor(Record):
    """Who is acting: a roster person key (if known) and the git author identity."""

    FIELDS = ("person", "name", "email")

    def __init__(self, person: str | None, name: str, email: str):
        self.person, self.name, self.email = person, name, email

    @property
    def author(self) -> tuple[str, str] | None:
        return (self.name, self.email) if self.email else None


class Result(Record):
    """What an action did, for the CLI (or the web board) to report.

    `item`: the checklist item a tick changed (or found already in the asked state);
    `changed` False: the card already was as asked, nothing written (`note` says so);
    `understood`: "截止日期：2026-12-01（周二）" for each date typed in another form."""

    FIELDS = ("card", "commit", "note", "item", "changed", "understood")

    def __init__(self, card: Card, commit: str | None, note: str = "", item: str = "", changed: bool = True,
                 understood: list[str] | None = None):
        self.card, self.commit, self.note, self.item, self.changed = card, commit, note, item, changed
        self.understood = [] if understood is None else understood


class Expect(Record):
    """What the person saw when their form or drag was made (the web board sends it).

    `version`: the card's `version_of` then; the same version now means nothing
    happened meanwhile. Otherwise each action judges whether the two changes clash:
    `fields` (set/assign) holds {key: value as stored then} for the keys being set
    (a key left out counts as empty then); `state` (move) is the state the card was
    dragged from. Checked under the board lock, against the card on disk right then.
    """

    FIELDS = ("version", "fields", "state")

    def __init__(self, version: str | None = None, fields: dict | None = None, state: str | None = None):
        self.version, self.fields, self.state = version, fields, state


def card_version(data: bytes | str) -> str:
    """A short, stable fingerprint of a card file's bytes: equal bytes, equal version."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return sha256(data).hexdigest()[:16]


def version_of(board: Board, card: Card) -> str:
    """The version of a card as it is on disk now (what a form or drag carries as `Expect.version`)."""
    from mdboard.core.store import read_card_bytes

    return card_version(read_card_bytes(board.path_of(card)))


def resolve_actor(board: Board, as_person: str | None = None) -> Actor:
    """`--as PERSON` if given, else the git user matched against the roster."""
    cfg = board.config
    if as_person:
        person = cfg.find_person(as_person)
        if person is None:
            raise UnknownName(t("ops.unknown_actor", value=as_person),
                              suggest_label(as_person, {k: p.name for k, p in cfg.people.items()}))
        return Actor(person.key, person.name, person.emails[0] if person.emails else f"{person.key}@mdboard.invalid")
    name, email = git_changes.user_identity(board)
    person = cfg.person_by_email(email) if email else None
    if person:
        return Actor(person.key, person.name, email)
    return Actor(None, name, email)


def person_key(board: Board, person: str | None, as_person: str | None = None) -> str:
    """Whose cards to show (`mine [PERSON]`): PERSON (a key, name or email of the roster),
    else who is acting, worked out by `resolve_actor` with its rules; a roster key."""
    cfg = board.config
    if person:
        return names.person(cfg, person).key
    actor = resolve_actor(board, as_person)
    if actor.person is None:
        raise MdboardError(t("cli.who_are_you", email=actor.email or "-"))
    return actor.person


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


def understood_dates(board: Board, ctype: CardType, pairs: list[str], values: dict) -> list[str]:
    """`截止日期：2026-12-01（周二）` for each date typed in another form than the card stores
    (`12月1日`, `明天`, `+3`): the day mdboard understood, said back to the person."""
    from mdboard.core import dates

    said = []
    for pair in pairs:
        key, _, text = pair.partition("=")
        fd, value = ctype.fields.get(key.strip()), values.get(key.strip())
        if fd is None or fd.type not in ("date", "datetime") or value is None or str(value) == text.strip():
            continue
        understood = dates.understand(str(value), board.config.timezone)
        if understood is not None:
            said.append(t("ops.understood", label=fd.label, value=dates.said_back(understood)))
    return said


def _new_problems(board: Board, before: Card | None, after: Card, ids: dict | None = None) -> list[Problem]:
    """Errors the change would add (problems the card already had do not block it).

    Problems are compared without their path, so a card saved after a hand move keeps
    the problems it had in its old folder without them counting as new.
    """
    if ids is None:
        ids = _BoardIds(board, {after.id: after.type})
    old = {(p.field, p.message) for p in check_card(board, before, ids)} if before else set()
    return [p for p in check_card(board, after, ids) if p.level == "error" and (p.field, p.message) not in old]


def _refuse_if_invalid(board: Board, before: Card | None, after: Card) -> None:
    problems = _new_problems(board, before, after)
    if problems:
        raise ValidationFailed(t("ops.nothing_changed"), problems)


def _commit(board: Board, change: git_changes.Change, no_commit: bool) -> tuple[str | None, str]:
    commit = git_changes.commits_enabled(board, no_commit)
    note = "" if commit or no_commit or not board.config.commit else t("ops.not_a_repo")
    return git_changes.apply_change(board, change, commit=commit), note


def _trailers(card_id: str, action: str, *extra: tuple[str, str]) -> list[tuple[str, str]]:
    return [("Card", card_id), ("Action", action), *extra]


def _reparsed(card: Card, text: str) -> Card:
    """The card as it would be with `text`."""
    parsed = cardfile.parse(text)
    return Card(card.id, card.type, card.state, card.path, parsed.meta, parsed.checklist)


# --- the card an action changes ----------------------------------------------------------

def _card_to_change(board: Board, card_id: str, broken_ok: bool = False, cached: bool = False) -> Card:
    """The card with this ID as it is on disk now, if an action may change it.

    Called under the board lock. Refused: no such card (CardNotFound), two files
    with this ID (which would the action mean?), a file that cannot be read. Hand
    edits git has not recorded are refused when the change is applied
    (`git_changes.apply_change`: no caller may commit them unchecked). `cached`: read
    through the parse cache if it holds the file as it is now (`Board.read_card`), for
    an action that does not parse a new text of the card (a move) or that hands the
    cached mapping to `cardfile.set_field`, which trusts it only where the text's own
    lines carry the same keys (a set).
    """
    board.invalidate()
    found = board.paths_of(check_id(card_id))  # a few stats, not a listing of the whole board
    card = board.find(card_id) if not found else board.read_card(*found[0], cached=cached)
    _refuse_duplicate(card, [rel for _, _, rel in found])
    if not broken_ok:  # `edit` is how a broken card is mended
        _refuse_broken(card)
    return card


def _refuse_duplicate(card: Card, paths: list[str]) -> None:
    """Two files with one ID (outside the archive): which would the action mean?"""
    if len(paths) > 1:
        raise MdboardError(parenthesized(t("ops.duplicate", id=card.id, paths=", ".join(paths)),
                                         t("git.hint_path_taken")))


class _BoardIds(Mapping):
    """card ID -> type key of every card (`Board.id_types`, plus the card being changed),
    listed on first use: judging a card without links never lists the whole board."""

    def __init__(self, board: Board, extra: dict[str, str]):
        self._board, self._extra, self._ids = board, extra, None

    def _all(self) -> dict[str, str]:
        if self._ids is None:
            self._ids = {**self._board.id_types(), **self._extra}
        return self._ids

    def __getitem__(self, key):
        return self._all()[key]

    def __iter__(self):
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


def _refuse_broken(card: Card) -> None:
    if card.error:
        raise MdboardError(parenthesized(f"{card.path}: {card.error}", t("ops.fix_by_hand")))


def refuse_unsaved(board: Board, card_id: str, no_commit: bool = False) -> None:
    """UnsavedEdits if the card holds hand edits git has not recorded: what an action on
    it would refuse. For `edit` before the editor opens (no typing lost), and for the web
    board before it offers a form."""
    card = board.find(card_id)
    if git_changes.commits_enabled(board, no_commit):
        git_changes.refuse_unsaved(board, [card.path])


def _changed_by(board: Board, card: Card) -> str:
    """Who last committed the card's file, or "" (no repository, nothing committed)."""
    if board.git_dir is None:
        return ""
    start = git_changes.pending_tip(board) or "HEAD"  # a batch's commits are not on the branch yet
    return git_changes.GitRepo.of(board).run("--literal-pathspecs", "log", "-1", "--format=%an", start, "--",
                                             card.path, check=False)


def _changed(card: Card, board: Board, problems: list[Problem] | None = None, **details) -> CardChanged:
    """CardChanged for `card`: the message names who changed it when git knows."""
    who = _changed_by(board, card)
    message = t("ops.changed_by", id=card.id, who=who) if who else t("ops.changed", id=card.id)
    return CardChanged(message, problems, card_id=card.id, changed_by=who, **details)


# --- new ------------------------------------------------------------------------------------

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
        parsed = cardfile.parse_new(text, meta)
        card = Card(card_id, ctype.key, state, rel, parsed.meta, parsed.checklist)
        _refuse_if_invalid(board, None, card)
        change = git_changes.Change({rel: text}, f"new {card_id}: {card.title}",
                               _trailers(card_id, "new", ("Type", ctype.key), ("To", state)), actor.author,
                               creates=[rel])
        sha, note = _commit(board, change, no_commit)
    return Result(card, sha, note, understood=understood_dates(board, ctype, pairs, values))


# --- set / assign ------------------------------------------------------------------------

def set_fields(board: Board, card_id: str, pairs: list[str], actor: Actor | None = None,
               no_commit: bool = False, action: str = "set", expect: Expect | None = None) -> Result:
    """Set (or clear, with `key=`) front matter keys, changing only their lines.

    With `expect` from an older version of the card, the keys being set must still
    hold the values the person saw (`expect.fields`); then the change is applied on
    top of the current text and the other person's edits stay. Otherwise CardChanged,
    naming each clashing field.
    """
    actor = actor or resolve_actor(board)
    with git_changes.board_lock(board):
        card = _card_to_change(board, card_id, cached=True)
        ctype = board.type_of(card)
        values = parse_assignments(board, ctype, pairs, card.path)
        text = board.read_text(card)
        _check_fields_expect(board, card, text, values, expect)
        new_text, meta = text, dict(card.meta)
        for key, value in values.items():  # `meta`: what `new_text`'s front matter holds (set_field checks it)
            new_text = cardfile.set_field(new_text, key, value, known=meta)
            if value is None:
                meta.pop(key, None)
            else:
                meta[key] = value
        after = Card(card.id, card.type, card.state, card.path, meta, list(card.checklist))
        _refuse_if_invalid(board, card, after)
        if new_text == text:
            return Result(card, None, t("ops.unchanged"), changed=False)
        shown = ", ".join(f"{k}={'' if v is None else cardfile.render_value(v)}" for k, v in values.items())
        extra = [("Set", f"{k}={'' if v is None else cardfile.render_value(v)}") for k, v in values.items()]
        change = git_changes.Change({card.path: new_text}, f"{action} {card.id}: {shown}",
                               _trailers(card.id, action, *extra), actor.author)
        sha, note = _commit(board, change, no_commit)
    return Result(after, sha, note, understood=understood_dates(board, ctype, pairs, values))


def _check_fields_expect(board: Board, card: Card, text: str, values: dict, expect: Expect | None) -> None:
    """CardChanged if a key being set changed since the person's form was made (to a value
    other than the one they ask for). A card that did not change at all is never refused."""
    if expect is None or expect.version is None and expect.fields is None:
        return
    if expect.version is not None and expect.version == card_version(text):
        return
    if expect.fields is None:
        raise _changed(card, board)
    ctype = board.type_of(card)
    clashes = []
    for key, asked in values.items():
        then, now = expect.fields.get(key), card.meta.get(key)
        if not _same(then, now) and not _same(now, asked):
            fd = ctype.fields.get(key)
            clashes.append(Clash(key, fd.label if fd else key, then, now, asked))
    if clashes:
        problems = [Problem(card.path, c.key, t("ops.clash", now=_shown(board, card, c.key, c.now),
                                                 then=_shown(board, card, c.key, c.then),
                                                 asked=_shown(board, card, c.key, c.asked))) for c in clashes]
        raise _changed(card, board, problems, clashes=clashes, state=card.state)


class Clash(ValueRecord):
    """One field that changed on the card since a person's form was made, to another value
    than the one they asked for: its value then, now, and the value asked for (carried by
    `CardChanged.clashes`)."""

    FIELDS = ("key", "label", "then", "now", "asked")

    def __init__(self, key: str, label: str, then: object, now: object, asked: object):
        self.key, self.label, self.then, self.now, self.asked = key, label, then, now, asked


def _same(a, b) -> bool:
    """Equal values, counting a missing key, null, "" and [] as the same (empty)."""
    empty = (None, "", [])
    return (a in empty and b in empty) or a == b


def _shown(board: Board, card: Card, key: str, value) -> str:
    """A value as people read it (labels, names), or "empty"."""
    if value in (None, "", []):
        return t("ops.empty_value")
    fd = board.type_of(card).fields.get(key)
    return display(fd, value, board.config) if fd else str(value)


def assign(board: Board, card_id: str, person: str, actor: Actor | None = None, no_commit: bool = False,
           expect: Expect | None = None) -> Result:
    """Make `person` (key, name or email) the card's owner (a `set` of `owner`, recorded as `assign`)."""
    return set_fields(board, card_id, [f"owner={person}"], actor, no_commit, action="assign", expect=expect)


# --- move -----------------------------------------------------------------------------------

def move_card(board: Board, card_id: str, state_text: str, actor: Actor | None = None, force: bool = False,
              reason: str = "", no_commit: bool = False, expect: Expect | None = None) -> Result:
    """Move a card to another state folder after checking the workflow's rules.

    With `expect.state` (the state the card was dragged from): a card that is no
    longer there is not moved (CardChanged), so two people dragging the same card at
    once make exactly one move. Edits to the card's content meanwhile do not clash.
    """
    actor = actor or resolve_actor(board)
    if force and not reason.strip():
        raise MdboardError(t("ops.force_needs_reason"))
    with git_changes.board_lock(board):
        card = _card_to_change(board, card_id, cached=True)
        ctype = board.type_of(card)
        _check_move_expect(board, card, expect)
        target = names.state(ctype, state_text)
        problems = move_problems(board, card, target, actor.person)
        hard = [p for p in problems if ctype.state(target) is None or target == card.state]
        if hard or (problems and not force):
            message = t("ops.not_moved", id=card.id)
            if not hard:
                message = t("ops.not_moved_force", moved=message, hint=t("ops.force_hint"))
            raise ValidationFailed(message, problems)
        new_rel = f"{card.type}/{target}/{card.id}.md"
        trailers = _trailers(card.id, "move", ("From", card.state), ("To", target))
        if force:
            trailers += [("Forced", reason)] + [("Overrode", p.message) for p in problems]
        text = board.read_text(card)
        change = git_changes.Change({card.path: None, new_rel: text},
                               f"move {card.id}: {ctype.state_label(card.state)} → {ctype.state_label(target)}", trailers,
                               actor.author, renames={new_rel: card.path})
        sha, note = _commit(board, change, no_commit)
    moved = Card(card.id, card.type, target, new_rel, card.meta, card.checklist)
    return Result(moved, sha, note)


def _check_move_expect(board: Board, card: Card, expect: Expect | None) -> None:
    """CardChanged if the card left the state it was dragged from (or, without a state,
    if it changed at all since `expect.version`)."""
    if expect is None:
        return
    if expect.state is not None:
        if card.state == expect.state:
            return
        ctype = board.type_of(card)
        who = _changed_by(board, card)
        key = "ops.moved_meanwhile_by" if who else "ops.moved_meanwhile"
        raise CardChanged(t(key, id=card.id, who=who, now=ctype.state_label(card.state),
                            then=ctype.state_label(expect.state)),
                          card_id=card.id, state=card.state, changed_by=who)
    if expect.version is not None and expect.version != version_of(board, card):
        raise _changed(card, board, state=card.state)


# --- edit -----------------------------------------------------------------------------------

def edit_text(board: Board, card_id: str, new_text: str, original: str, actor: Actor | None = None,
              no_commit: bool = False) -> Result:
    """Replace a card's text with what the user edited, if it is still valid.

    `original` is the text the editor was opened with: a card that changed since is
    not overwritten (CardChanged).
    """
    actor = actor or resolve_actor(board)
    with git_changes.board_lock(board):
        card = _card_to_change(board, card_id, broken_ok=True)
        if board.read_text(card) != original:
            raise CardChanged(t("ops.changed_meanwhile", path=card.path), card_id=card.id, state=card.state)
        try:
            after = _reparsed(card, new_text)
        except MdboardError as exc:
            raise ValidationFailed(t("ops.nothing_changed"), [Problem(card.path, "", exc.message, t("check.hint_fix_syntax"))])
        _refuse_if_invalid(board, card, after)
        if new_text == original:
            return Result(card, None, t("ops.unchanged"), changed=False)
        change = git_changes.Change({card.path: new_text}, f"edit {card.id}: {after.title}",
                               _trailers(card.id, "edit"), actor.author)
        sha, note = _commit(board, change, no_commit)
    return Result(after, sha, note)


# --- tick -----------------------------------------------------------------------------------

def tick(board: Board, card_id: str, item: str | int, done: bool = True, actor: Actor | None = None,
         expect: Expect | None = None, no_commit: bool = False, occurrence: int = 1) -> Result:
    """Tick (or, with done=False, untick) one checklist item, changing only its line.

    `item` is the item's text (`occurrence`: which of several items with that same
    text, from 1), a unique beginning of it, or its number in the checklist (from 1).
    An item already in the asked state is left alone (a note says so, no commit).
    Edits made to the card meanwhile never block a tick; an item that is gone is
    refused (CardChanged when `expect` shows the card changed since the form was made).
    """
    actor = actor or resolve_actor(board)
    with git_changes.board_lock(board):
        card = _card_to_change(board, card_id)
        text = board.read_text(card)
        changed = expect is not None and expect.version is not None and expect.version != card_version(text)
        index = _find_item(board, card, item, occurrence, changed)
        was_done, label = card.checklist[index]
        if was_done == done:
            return Result(card, None, t("ops.already_ticked" if done else "ops.already_unticked", item=label), label,
                          changed=False)
        new_text = cardfile.set_checklist_item(text, index, done)
        after = _reparsed(card, new_text)
        expected = list(card.checklist)
        expected[index] = (done, label)
        if after.checklist != expected or after.meta != card.meta:
            raise MdboardError(parenthesized(t("ops.cannot_tick", path=card.path, item=label), t("ops.fix_by_hand")))
        _refuse_if_invalid(board, card, after)
        action = "tick" if done else "untick"
        change = git_changes.Change({card.path: new_text}, f"{action} {card.id}: {label}",
                               _trailers(card.id, action, ("Item", label)), actor.author)
        sha, note = _commit(board, change, no_commit)
    return Result(after, sha, note, label)


def _find_item(board: Board, card: Card, item: str | int, occurrence: int, changed: bool) -> int:
    """The index of the checklist item meant by `item` (see `tick`)."""
    texts = [text for _, text in card.checklist]
    wanted = str(item).strip()
    exact = [i for i, text in enumerate(texts) if text == wanted]
    if not isinstance(item, int) and len(exact) >= max(occurrence, 1):
        return exact[max(occurrence, 1) - 1]
    if wanted.isdigit() and 1 <= int(wanted) <= len(texts):
        return int(wanted) - 1
    starts = [i for i, text in enumerate(texts) if text.casefold().startswith(wanted.casefold())] if wanted else []
    if len(starts) == 1:
        return starts[0]
    if changed:
        raise _changed(card, board, [Problem(card.path, "checklist", t("ops.item_gone", item=wanted))],
                       state=card.state)
    if len(starts) > 1:
        raise MdboardError(parenthesized(t("ops.ambiguous_item", id=card.id, item=wanted,
                                           items=join_list(texts[i] for i in starts)),
                                         t("ops.hint_item", n=len(texts))))
    if not texts:
        raise MdboardError(parenthesized(t("ops.no_checklist", id=card.id), t("ops.hint_no_checklist")))
    raise MdboardError(parenthesized(t("ops.no_item", id=card.id, item=wanted),
                                     t("ops.hint_items", items=join_list(texts))))


# --- note -----------------------------------------------------------------------------------

_HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t#]*$")


def add_note(board: Board, card_id: str, text: str, actor: Actor | None = None, no_commit: bool = False) -> Result:
    """Append a note to the card's body, signed with the author's name and the time.

    The note goes under the notes heading in the board's language ("## 备注",
    "## Notes"), which is added at the end of the body if the card has none; only
    the added lines change. A note is one line: line breaks become spaces. Appending
    never clashes with other edits, so a note always applies.
    """
    from mdboard.core import dates

    actor = actor or resolve_actor(board)
    words = " ".join(str(text).split())
    if not words:
        raise MdboardError(t("ops.empty_note"))
    if has_control_chars(words):
        raise MdboardError(parenthesized(t("ops.note_control"), t("text.hint_control_chars")))
    when = dates.now(board.config.timezone).strftime("%Y-%m-%d %H:%M")
    name = actor.name or actor.person or actor.email
    line = "- " + t("ops.note_line", time=when, name=" ".join(name.split()), text=words)
    with git_changes.board_lock(board):
        card = _card_to_change(board, card_id)
        old = board.read_text(card)
        new_text = _with_note(old, line, t("ops.notes_heading"))
        after = _reparsed(card, new_text)
        if after.meta != card.meta or after.checklist != card.checklist:
            raise MdboardError(parenthesized(t("ops.cannot_note", path=card.path), t("ops.fix_by_hand")))
        _refuse_if_invalid(board, card, after)
        short = words if len(words) <= 30 else words[:30] + "…"
        change = git_changes.Change({card.path: new_text}, f"note {card.id}: {short}", _trailers(card.id, "note"),
                               actor.author)
        sha, note = _commit(board, change, no_commit)
    return Result(after, sha, note)


def _with_note(text: str, line: str, heading: str) -> str:
    """`text` with `line` added at the end of the notes section (made at the end if missing)."""
    lay = cardfile.layout(text)
    nl = lay.newline
    lines = list(lay.lines)
    start, level = None, 0
    for i in range(lay.fm_end + 1, len(lines)):
        m = _HEADING.match(lines[i].rstrip("\r\n"))
        if m and start is None and m.group(2).strip() == heading:
            start, level = i, len(m.group(1))
        elif m and start is not None and len(m.group(1)) <= level:
            end = i
            break
    else:
        end = len(lines)
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += nl
    if start is None:
        blank = [] if len(lines) <= lay.fm_end + 1 or not lines[-1].strip() else [nl]
        return lay.bom + "".join(lines + blank + [f"## {heading}{nl}", nl, line + nl])
    last = end
    while last > start + 1 and not lines[last - 1].strip():
        last -= 1
    added = [nl, line + nl] if last == start + 1 else [line + nl]
    if end < len(lines) and last == end:
        added.append(nl)
    return lay.bom + "".join(lines[:last] + added + lines[last:])


# --- save -----------------------------------------------------------------------------------

class Saved(Record):
    """One card a `save` committed, and what had been done to it by hand."""

    FIELDS = ("card_id", "title", "kind", "path", "old_path")

    def __init__(self, card_id: str, title: str, kind: str, path: str, old_path: str = ""):
        """`kind`: "edited", "new", "moved" or "deleted"; `path`: where the card is now ("" when
        deleted); `old_path`: where git had it ("" when new)."""
        self.card_id, self.title, self.kind, self.path, self.old_path = card_id, title, kind, path, old_path


class SaveResult(Record):
    """What `save` committed (nothing: an empty list and a note)."""

    FIELDS = ("saved", "commit", "note")

    def __init__(self, saved: list[Saved] | None = None, commit: str | None = None, note: str = ""):
        self.saved = [] if saved is None else saved
        self.commit, self.note = commit, note


def save(board: Board, card_ids: list[str] | tuple[str, ...] = (), actor: Actor | None = None,
         no_commit: bool = False) -> SaveResult:
    """Check the hand edits of the given cards (all cards with hand edits when none is
    given) and commit them as the acting person, in one commit.

    A hand edit is a card file that differs from git's HEAD: edited, made, moved (with
    `git mv` or a plain move) or deleted by hand. Each is judged as `check` judges a
    card; a problem the card already had in HEAD does not block it, a new one refuses
    the whole save (nothing committed). A deleted card must not leave links to it.
    """
    if not git_changes.commits_enabled(board, no_commit):
        raise MdboardError(t("ops.save_needs_git"))
    actor = actor or resolve_actor(board)
    with git_changes.board_lock(board):
        board.invalidate()
        changes = _hand_changes(board)
        wanted = [_wanted_id(board, changes, raw) for raw in card_ids] if card_ids else sorted(changes)
        missing = [cid for cid in wanted if cid not in changes]
        plan = [_plan_save(board, cid, *changes[cid]) for cid in dict.fromkeys(wanted) if cid in changes]
        skipped = "".join(t("ops.not_edited", id=cid) + "\n" for cid in missing).rstrip("\n")
        if not plan:
            return SaveResult([], None, skipped or t("ops.nothing_to_save"))
        _check_save(board, plan)
        change = _save_change(board, plan, actor)
        sha = git_changes.apply_change(board, change, commit=True)
    return SaveResult([item.saved for item in plan], sha, skipped)


def _wanted_id(board: Board, changes: dict, raw: str) -> str:
    """A card ID given to `save`: a card on the board or one deleted by hand."""
    from mdboard.core.store import check_id

    card_id = check_id(raw)
    if card_id not in changes and card_id not in board.id_types():
        board.get(card_id)  # CardNotFound with a suggestion
    return card_id


def _hand_changes(board: Board) -> dict[str, tuple[list[str], list[str]]]:
    """card ID -> (the paths of its files now, the paths git has that are gone), for every
    card whose file differs from HEAD, is unknown to git, or was deleted."""
    repo = git_changes.GitRepo.of(board)
    folders = list(board.config.types)
    diff = repo.run("--literal-pathspecs", "diff", "HEAD", "--name-status", "-z", "--no-renames", "--relative",
                    "--", *folders, check=False).split("\0")
    changed = [(diff[i], diff[i + 1]) for i in range(0, len(diff) - 1, 2)]
    others = repo.run("--literal-pathspecs", "ls-files", "-z", "--others", "--exclude-standard", "--", *folders)
    changed += [("?", path) for path in others.split("\0") if path]
    gone: dict[str, list[str]] = {}
    for status, path in changed:
        card_id = _card_id_of(board, path)
        if card_id is not None:
            gone.setdefault(card_id, []).extend([path] if status == "D" else [])
    # every file with the ID, changed or not: an unchanged copy beside a changed one is a duplicate
    files = {}
    for tk, st, cid in board.names():
        if cid in gone:
            files.setdefault(cid, []).append(f"{tk}/{st}/{cid}.md" if st else f"{tk}/{cid}.md")
    for _, _, cid, rel in board.archived_names():  # archived by hand (moved into a year folder)
        if cid in gone:
            files.setdefault(cid, []).append(rel)
    return {cid: (files.get(cid, []), paths) for cid, paths in gone.items()}


def _card_id_of(board: Board, path: str) -> str | None:
    """The card ID of a board-relative path that names a card file, else None."""
    parts = card_path_parts(path)  # archived cards' paths too
    if parts is None or parts[0] not in board.config.types:
        return None
    return parts[2]


class _SavePlan(Record):
    """One card's hand edits: what is saved, the card as git has it, the card now, the
    paths git has that are gone."""

    FIELDS = ("saved", "before", "after", "gone")

    def __init__(self, saved: Saved, before: Card | None, after: Card | None, gone: list[str]):
        self.saved, self.before, self.after, self.gone = saved, before, after, gone


def _plan_save(board: Board, card_id: str, now: list[str], gone: list[str]) -> _SavePlan:
    """What saving one card's hand edits means (an edit, a new card, a move, a deletion)."""
    if len(now) > 1:
        raise MdboardError(parenthesized(t("ops.duplicate", id=card_id, paths=", ".join(now)),
                                         t("git.hint_path_taken")))
    repo = git_changes.GitRepo.of(board)
    head_paths = gone + [p for p in now if _in_head(repo, p)]
    before = _head_card(board, repo, head_paths[0]) if head_paths else None
    after = board.find(card_id) if now else None
    if after is None:
        kind = "deleted"
    elif not head_paths:
        kind = "new"
    elif after.path in head_paths:
        kind = "edited"
    else:
        kind = "moved"
    shown = after or before
    saved = Saved(card_id, shown.title if shown else card_id, kind, after.path if after else "",
                  head_paths[0] if head_paths else "")
    return _SavePlan(saved, before, after, gone)


def _in_head(repo: git_changes.GitRepo, rel: str) -> bool:
    """Whether git's HEAD has a file at board-relative `rel`."""
    return bool(repo.run("--literal-pathspecs", "ls-tree", "--name-only", "HEAD", "--", rel, check=False))


def _head_card(board: Board, repo: git_changes.GitRepo, rel: str) -> Card | None:
    """The card at `rel` as git's HEAD has it (None if it cannot be read there)."""
    type_key, state, card_id = card_path_parts(rel) or (rel.split("/")[0], "", rel.rsplit("/", 1)[-1][:-3])
    try:
        parsed = cardfile.parse(repo.run("cat-file", "-p", f"HEAD:./{rel}") + "\n")
    except MdboardError:
        return None
    return Card(card_id, type_key, state, rel, parsed.meta, parsed.checklist)


def _check_save(board: Board, plan: list[_SavePlan]) -> None:
    """ValidationFailed listing every new problem the saved hand edits bring."""
    ids = board.id_types()
    problems = []
    for item in plan:
        if item.after is not None:
            problems += _new_problems(board, item.before, item.after, ids)
    deleted = {item.saved.card_id for item in plan if item.after is None}
    if deleted:
        problems += _links_to(board, deleted, ids)
    if problems:
        raise ValidationFailed(t("ops.nothing_saved"), problems)


def _links_to(board: Board, deleted: set[str], ids: dict) -> list[Problem]:
    """Link problems of the cards that link to a card deleted by hand."""
    out = []
    for card in board.cards():
        values = [card.meta.get(fd.key) for fd in board.type_of(card).fields.values() if fd.type in ("link", "links")]
        named = {v for value in values for v in (value if isinstance(value, list) else [value])}
        if named & deleted:
            out += link_problems(board, card, ids)
    return out


def _save_change(board: Board, plan: list[_SavePlan], actor: Actor) -> git_changes.Change:
    """One commit holding every saved card's paths, as the files are on disk now."""
    files: dict[str, str | None] = {}
    for item in plan:
        if item.after is not None:
            files[item.after.path] = board.read_text(item.after)
        for rel in item.gone:
            files[rel] = None
    first = plan[0].saved
    if len(plan) == 1:
        subject = f"save {first.card_id}: {first.title}"
    else:
        ids = [item.saved.card_id for item in plan]
        subject = "save " + ", ".join(ids[:5]) + (f" (+{len(ids) - 5})" if len(ids) > 5 else "")
    trailers = [("Action", "save")] + [("Card", item.saved.card_id) for item in plan]
    return git_changes.Change(files, subject, trailers, actor.author, hand_edits=True)
