"""Plain record classes for what an action hands back (results, who is acting, a card's layout).

A dataclass is made when its module is imported: its __init__, __repr__ and __eq__ are
written as source and compiled then, ~0.3-1 ms a class, and every `mdboard` command is a
new process that pays for the classes of every module it imports. A record here writes
its __init__ by hand (compiled once into the module's .pyc, nothing at import) and lists
its fields in `FIELDS`, from which repr and (for a `ValueRecord`) == are made.
"""

from __future__ import annotations


class Record:
    """A record whose fields, in order, are `FIELDS`; shown as a dataclass is shown.
    Two records are the same only when they are one object (dataclass `eq=False`)."""

    __slots__ = ()
    FIELDS: tuple[str, ...] = ()

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.FIELDS)
        return f"{type(self).__name__}({shown})"


class ValueRecord(Record):
    """A record equal to another of its class whose fields are equal (dataclass `eq=True`)."""

    __slots__ = ()
    __hash__ = None  # equal by value, and its fields may be lists: not hashable

    def __eq__(self, other):
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in self.FIELDS)
