"""The errors and problems the library reports.

The library never prints and never exits: it raises an `MdboardError` (one
message a user can act on) or returns `Problem`s (validation findings), and the
CLI turns them into output and exit codes.
"""

from __future__ import annotations

from mdboard.core.records import ValueRecord


class Problem(ValueRecord):
    """One finding about a file: where, which field, what is wrong, how to fix it;
    `level` "error" or "warning". A plain record (`core.records`), equal and hashed by
    its fields as the frozen dataclass it was: every command imports it, and making a
    dataclass costs each ~0.5 ms. (No __slots__: caches written before hold its fields as a dict.)"""

    FIELDS = ("path", "field", "message", "hint", "level")

    def __init__(self, path: str, field: str, message: str, hint: str = "", level: str = "error"):
        self.path, self.field, self.message, self.hint, self.level = path, field, message, hint, level

    def __hash__(self):
        return hash((self.path, self.field, self.message, self.hint, self.level))

    def line(self) -> str:
        """The one-line form `path:field: message (hint)` used by `check`."""
        from mdboard.core.text import printable  # values quoted from a card may hold terminal escapes

        where = f"{self.path}:{self.field}" if self.field else self.path
        text = f"{where}: {self.message}"
        return printable(parenthesized(text, self.hint))

    def to_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.FIELDS}


def parenthesized(text: str, note: str) -> str:
    """`text (note)` — a message and its hint, a heading and its count; next to Chinese,
    `text（note）`: full-width parentheses carry their own spacing."""
    if not note:
        return text
    if any(_is_wide(c) for c in (text[-1:], note[:1], note[-1:])):
        return f"{text}（{note}）"
    return f"{text} ({note})"


def os_error_message(exc: OSError) -> str:
    """What a failed read or write says to a person, on the command line and the web alike:
    the file, the system's words, what to do (and that a change cut short is finished by
    the next command, which its journal makes true)."""
    from mdboard.core.i18n import t

    error = exc.strerror or exc
    if not exc.filename:
        return t("cli.os_error_nopath", error=error)
    return t("cli.os_error", path=exc.filename, error=error)


def _is_wide(char: str) -> bool:
    """A CJK character or full-width punctuation mark (「」，：…)."""
    return bool(char) and ("\u4e00" <= char <= "\u9fff" or "\u3000" <= char <= "\u303f"
                           or "\uff00" <= char <= "\uffef")


class MdboardError(Exception):
    """A problem the user can fix; its message says what and how."""

    def __init__(self, message: str, problems: list[Problem] | None = None):
        super().__init__(message)
        self.message = message
        self.problems = problems or []

    def __str__(self) -> str:
        """The problems one per line; the message (what happened) closes the last one."""
        if not self.problems:
            return self.message
        lines = [p.line() for p in self.problems]
        if self.message:
            lines[-1] += f" — {self.message}"
        return "\n".join(lines)


class BoardNotFound(MdboardError):
    """No mdboard.yaml in this folder or any folder above it."""


class ConfigError(MdboardError):
    """mdboard.yaml is broken; `problems` lists each mistake."""


class UsageMistake(MdboardError):
    """Something typed as an option or argument that mdboard cannot read (a date it does not
    understand, a name the board does not have); the CLI exits 2 on it, as on any other
    usage mistake. `what` is the mistake and `hint` what to type instead."""

    def __init__(self, what: str, hint: str = ""):
        super().__init__(parenthesized(what, hint))
        self.what = what
        self.hint = hint


class UnknownName(UsageMistake):
    """A card type, state, person or platform the board does not have; the hint names the
    nearest labels."""


class CardNotFound(MdboardError):
    """No card with that ID."""


class CardChanged(MdboardError):
    """The card changed since the person's form or drag was made, in a way that clashes
    with their change; nothing was written. `clashes` names each clashing field (the
    `domain.ops.Clash` records of the check that found them), `state` is the card's state
    now, `changed_by` who last committed it (when git knows)."""

    def __init__(self, message: str, problems: list[Problem] | None = None, *, card_id: str = "",
                 clashes: list | None = None, state: str = "", changed_by: str = ""):
        super().__init__(message, problems)
        self.card_id = card_id
        self.clashes = clashes or []
        self.state = state
        self.changed_by = changed_by


class UnsavedEdits(MdboardError):
    """The card holds hand edits that git has not recorded; a command will not commit them
    unchecked (`mdboard save` checks and commits them)."""


class CardSyntaxError(MdboardError):
    """A card file cannot be read as front matter + body."""


class ValidationFailed(MdboardError):
    """A change was refused because the card would be invalid; nothing was written."""


class GitError(MdboardError):
    """git refused or failed; the message says what to do."""


class LockBusy(MdboardError):
    """Another mdboard command is changing this board right now."""
