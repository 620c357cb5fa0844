"""The team list (`people:` in mdboard.yaml): adding a person, and putting the git user in at `init`.

mdboard.yaml is the team's own file, written by hand and full of comments. Adding a
person writes only that person's lines, at the end of the `people:` block, and then
reads the file again: it must hold exactly what it held before plus that person, or
nothing is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mdboard.core.config import CONFIG_NAME, KEY_RE, Person
from mdboard.core.errors import MdboardError, parenthesized
from mdboard.core.i18n import t
from mdboard.core.store import Board
from mdboard.core.text import has_control_chars

_PEOPLE_LINE = re.compile(r"^people:[ \t]*(?:#.*)?$")
_EMPTY_PEOPLE_LINE = re.compile(r"^people:[ \t]*(?:\{[ \t]*\}|null|~)?[ \t]*(?:#.*)?$")
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+$")


@dataclass
class PersonResult:
    """What `person add` did: the person written and the commit (None: not committed)."""

    person: Person
    commit: str | None


def person_key(name: str, emails: list[str], taken) -> str:
    """A roster key for a new person: the part of their first email before the @, else
    their name, in a-z, 0-9 and _ (a number added when taken); a name with no such
    letters (王丽) and no email gets `person1`, `person2` …"""
    base = ""
    for text in ([emails[0].split("@")[0]] if emails else []) + [name]:
        base = re.sub(r"[^a-z0-9_]+", "_", text.lower()).strip("_")
        if base:
            break
    if base and not base[0].isalpha():
        base = "p" + base
    key, n = base or "person1", 2
    while key in taken:
        key, n = f"{base or 'person'}{n}", n + 1
    return key


def person_lines(person: Person, indent: str, newline: str = "\n") -> list[str]:
    """The person's lines in the team list, in the style `init` writes."""
    from mdboard.core.cardfile import render_key, render_value

    lines = [f"{indent}{render_key(person.key)}:", f"{indent * 2}name: {render_value(person.name)}"]
    if person.emails:
        lines.append(f"{indent * 2}email: {render_value(list(person.emails))}")
    if person.roles:
        lines.append(f"{indent * 2}roles: {render_value(list(person.roles))}")
    return [line + newline for line in lines]


def _block(lines: list[str]) -> tuple[int, int] | None:
    """(index of the `people:` line, index after the block's last indented line), or None."""
    start = next((i for i, line in enumerate(lines) if line.startswith("people:")), None)
    if start is None:
        return None
    if not _EMPTY_PEOPLE_LINE.match(lines[start].rstrip("\r\n")):  # people: {wangli: ...} on one line
        raise MdboardError(parenthesized(t("people.cannot_edit"), t("people.hint_by_hand")))
    end = start + 1
    for j in range(start + 1, len(lines)):
        text = lines[j].rstrip("\r\n")
        if text[:1] in (" ", "\t"):
            if text.strip() and not text.strip().startswith("#"):
                end = j + 1
        elif text.strip():
            break
    return start, end


def _indent(lines: list[str], start: int, end: int) -> str:
    """The indentation of the first person in the block (two spaces when the block is empty)."""
    for line in lines[start + 1:end]:
        m = re.match(r"^([ \t]+)\S", line)
        if m and not line.strip().startswith("#"):
            return m.group(1)
    return "  "


def with_person(text: str, person: Person, replace: bool = False) -> str:
    """mdboard.yaml's text with `person` added at the end of the team list (`replace`: the
    list holds only them). MdboardError when the list is not written as a plain block."""
    from mdboard.core.cardfile import load_yaml, split_lines

    lines = split_lines(text)
    newline = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    span = _block(lines)
    if span is None:
        raise MdboardError(parenthesized(t("people.no_block"), t("people.hint_by_hand")))
    start, end = span
    indent = _indent(lines, start, end)
    added = person_lines(person, indent, newline)
    if replace or not _PEOPLE_LINE.match(lines[start].rstrip("\r\n")):
        lines[start:end] = [f"people:{newline}", *added]
    else:
        if not lines[end - 1].endswith(("\n", "\r")):
            lines[end - 1] += newline
        lines[end:end] = added
    result = "".join(lines)
    before, after = load_yaml(text) or {}, load_yaml(result) or {}
    expected = dict(before)
    entry = {"name": person.name, **({"email": person.emails} if person.emails else {}),
             **({"roles": person.roles} if person.roles else {})}
    expected["people"] = {**({} if replace else dict(before.get("people") or {})), person.key: entry}
    if after != expected:
        raise MdboardError(parenthesized(t("people.cannot_edit"), t("people.hint_by_hand")))
    return result


def check_new_person(board: Board, person: Person) -> None:
    """MdboardError when the person cannot join the team list as given."""
    cfg = board.config
    name = person.name.strip()
    if not name or has_control_chars(name) or "\n" in name:
        raise MdboardError(parenthesized(t("people.bad_name", name=name), t("people.hint_name")))
    if not KEY_RE.match(person.key):
        raise MdboardError(parenthesized(t("people.bad_key", key=person.key), t("people.hint_key")))
    if person.key in cfg.people:
        raise MdboardError(parenthesized(t("people.key_taken", key=person.key, name=cfg.person_name(person.key)),
                                         t("people.hint_key_taken")))
    same = next((p for p in cfg.people.values() if p.name == name), None)
    if same is not None:
        raise MdboardError(parenthesized(t("people.name_taken", name=name, key=same.key), t("people.hint_name_taken")))
    for email in person.emails:
        if not _EMAIL.match(email):
            raise MdboardError(parenthesized(t("people.bad_email", email=email), t("people.hint_email")))
        other = cfg.person_by_email(email)
        if other is not None:
            raise MdboardError(t("people.email_taken", email=email, name=other.name))
    for role in person.roles:
        if not role.strip() or has_control_chars(role):
            raise MdboardError(t("people.bad_role", role=role))


def add_person(board: Board, name: str, key: str | None = None, emails: list[str] | None = None,
               roles: list[str] | None = None, actor=None, no_commit: bool = False) -> PersonResult:
    """Add one person to the team list and commit mdboard.yaml alone (as `actor`)."""
    from mdboard.git import changes as git_changes

    emails = [e.strip() for e in emails or [] if e.strip()]
    roles = [r.strip() for r in roles or [] if r.strip()]
    name = name.strip()
    with git_changes.board_lock(board):
        board.reload_config()  # read the team list as it is on disk now, under the lock
        person = Person(key or person_key(name, emails, board.config.people), name, emails, roles)
        check_new_person(board, person)
        text = (board.root / CONFIG_NAME).read_text("utf-8")
        new_text = with_person(text, person)
        change = git_changes.Change({CONFIG_NAME: new_text}, f"person add {person.key}: {person.name}",
                                    [("Action", "person")], actor.author if actor else None)
        sha = git_changes.apply_change(board, change, git_changes.commits_enabled(board, no_commit))
        board.reload_config()
    return PersonResult(person, sha)
