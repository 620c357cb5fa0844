"""`mdboard mcp`: the board's verbs as tools for an AI assistant (MCP, stdio transport).

An assistant reads and changes the board through the same library calls as the
CLI: `ls` (filters and text search), `show`, `mine`, `standup`, `check`, `new`,
`move`, `set`, `assign` and `note`. The same rules apply and the same commits are
written, authored by the person the server acts as (`--as`, else the git user
matched to the roster). A refused change comes back as a tool error whose text is
the CLI's message, naming the rule; nothing is written. There is no `force`: an
assistant cannot override a rule (a person can, with `mdboard move --force`).

Each call opens the board afresh, so the tools see edits made meanwhile by people,
`mdboard sync` or an editor. Tool and argument descriptions are in the board's
language. The `mcp` SDK is imported only when `mdboard mcp` runs.
"""

import json  # no `from __future__ import annotations`: the SDK reads the tools' annotations at runtime
from typing import Annotated, Callable

from mdboard.core.errors import MdboardError, os_error_message
from mdboard.core.i18n import t
from mdboard.core.store import Board

SERVER_NAME = "mdboard"


class Tools:
    """The tool functions, bound to one board folder and one acting person."""

    def __init__(self, board_path, as_person, no_commit: bool = False):
        self.board_path = board_path
        self.no_commit = no_commit
        board = self.board()
        from mdboard.domain.ops import resolve_actor

        self.actor = resolve_actor(board, as_person)  # an unknown --as stops the server before it starts

    def board(self) -> Board:
        return Board.open(self.board_path)

    # --- reading ----------------------------------------------------------------------------

    def ls(self, type=None, state=None, owner=None, platform=None, tag=None, due_before=None, overdue=False,
           text=None) -> dict:
        from mdboard.domain.views import build_filter, card_json, select

        board = self.board()
        flt = build_filter(board, type=type, state=state, owner=owner, platform=platform, tag=tag,
                                  due_before=due_before, overdue=overdue, text=text)
        cards = select(board.config, board.cards(), flt)
        return {"count": len(cards), "cards": [card_json(board, c, brief=True) for c in cards]}

    def show(self, card_id: str) -> dict:
        from mdboard.domain.views import card_json

        board = self.board()
        return card_json(board, board.find(card_id))

    def mine(self, person: str | None = None) -> dict:
        from mdboard.domain.views import mine, mine_json

        board = self.board()
        from mdboard.core import names

        key = names.person(board.config, person).key if person else self.actor.person
        if key is None:
            raise MdboardError(t("mcp.who_is_mine"))
        return mine_json(board, key, mine(board.config, board.cards(), key))

    def standup(self, since: str | None = None) -> dict:
        from mdboard.domain.standup import compute_standup
        from mdboard.git.history import load_history, parse_moment

        board = self.board()
        moment = parse_moment(since, board.config.timezone) if since else None
        return compute_standup(board, load_history(board), moment)

    def check(self) -> dict:
        from mdboard.core.workflow import check_board

        board = self.board()
        problems = check_board(board)
        errors = [p for p in problems if p.level == "error"]
        return {"cards": len(board.cards()), "errors": len(errors), "warnings": len(problems) - len(errors),
                "problems": [p.to_dict() | {"line": p.line()} for p in problems]}

    # --- changing ---------------------------------------------------------------------------

    def _done(self, board: Board, result) -> dict:
        from mdboard.domain.views import card_json

        return {"card": card_json(board, result.card, brief=True), "commit": result.commit, "note": result.note}

    def new(self, type: str, title: str, owner=None, due=None, fields: dict | None = None) -> dict:
        from mdboard.domain.ops import new_card

        board = self.board()
        sets = tuple(f"{k}={v}" for k, v in (fields or {}).items())
        return self._done(board, new_card(board, type, title, owner, due, sets, self.actor, self.no_commit))

    def move(self, card_id: str, state: str, reason: str = "") -> dict:
        from mdboard.domain.ops import move_card

        board = self.board()
        return self._done(board, move_card(board, card_id, state, self.actor, False, reason, self.no_commit))

    def set(self, card_id: str, fields: dict) -> dict:
        from mdboard.domain.ops import set_fields

        board = self.board()
        pairs = [f"{k}={'' if v is None else v}" for k, v in fields.items()]
        return self._done(board, set_fields(board, card_id, pairs, self.actor, self.no_commit))

    def assign(self, card_id: str, person: str) -> dict:
        from mdboard.domain.ops import assign

        board = self.board()
        return self._done(board, assign(board, card_id, person, self.actor, self.no_commit))

    def note(self, card_id: str, text: str) -> dict:
        from mdboard.domain.ops import add_note

        board = self.board()
        return self._done(board, add_note(board, card_id, text, self.actor, self.no_commit))


def _result(call: Callable[[], dict]):
    """Run one tool; an MdboardError (a refused move, a bad value) becomes a tool error with the CLI's text."""
    from mcp.types import CallToolResult, TextContent

    try:
        data = call()
    except MdboardError as exc:
        problems = [p.to_dict() for p in exc.problems]
        return CallToolResult(content=[TextContent(type="text", text=str(exc))], is_error=True,
                              structured_content={"error": exc.message, "problems": problems})
    except OSError as exc:
        text = os_error_message(exc)
        return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)
    text = json.dumps(data, ensure_ascii=False, indent=1, default=str)
    return CallToolResult(content=[TextContent(type="text", text=text)],
                          structured_content=json.loads(text))


def build_server(tools: Tools):
    """An MCPServer whose tools call `tools`; descriptions in the board's language."""
    from mcp.server import MCPServer
    from mcp.types import CallToolResult, ToolAnnotations
    from pydantic import Field

    def arg(key: str):
        return Field(description=t(f"mcp.arg_{key}"))

    OptStr = str | None

    def ls(type: Annotated[OptStr, arg("type")] = None, state: Annotated[OptStr, arg("state")] = None,
           owner: Annotated[OptStr, arg("owner")] = None, platform: Annotated[OptStr, arg("platform")] = None,
           tag: Annotated[OptStr, arg("tag")] = None, due_before: Annotated[OptStr, arg("due_before")] = None,
           overdue: Annotated[bool, arg("overdue")] = False,
           text: Annotated[OptStr, arg("text")] = None) -> CallToolResult:
        return _result(lambda: tools.ls(type, state, owner, platform, tag, due_before, overdue, text))

    def show(card_id: Annotated[str, arg("card_id")]) -> CallToolResult:
        return _result(lambda: tools.show(card_id))

    def mine(person: Annotated[OptStr, arg("person")] = None) -> CallToolResult:
        return _result(lambda: tools.mine(person))

    def standup(since: Annotated[OptStr, arg("since")] = None) -> CallToolResult:
        return _result(lambda: tools.standup(since))

    def check() -> CallToolResult:
        return _result(tools.check)

    def new(type: Annotated[str, arg("new_type")], title: Annotated[str, arg("title")],
            owner: Annotated[OptStr, arg("new_owner")] = None, due: Annotated[OptStr, arg("due")] = None,
            fields: Annotated[dict[str, str] | None, arg("fields")] = None) -> CallToolResult:
        return _result(lambda: tools.new(type, title, owner, due, fields))

    def move(card_id: Annotated[str, arg("card_id")], state: Annotated[str, arg("to_state")],
             reason: Annotated[str, arg("reason")] = "") -> CallToolResult:
        return _result(lambda: tools.move(card_id, state, reason))

    def set_(card_id: Annotated[str, arg("card_id")],
             fields: Annotated[dict[str, str | None], arg("set_fields")]) -> CallToolResult:
        return _result(lambda: tools.set(card_id, fields))

    def assign(card_id: Annotated[str, arg("card_id")], person: Annotated[str, arg("assignee")]) -> CallToolResult:
        return _result(lambda: tools.assign(card_id, person))

    def note(card_id: Annotated[str, arg("card_id")], text: Annotated[str, arg("note")]) -> CallToolResult:
        return _result(lambda: tools.note(card_id, text))

    from mdboard.domain import ops

    board = tools.board()
    server = MCPServer(SERVER_NAME, instructions=t("mcp.instructions", title=board.config.title,
                                                   who=tools.actor.name), log_level="WARNING")
    reading = (("ls", ls), ("show", show), ("mine", mine), ("standup", standup), ("check", check))
    changing = (("new", new), ("move", move), ("set", set_), ("assign", assign)) + \
        ((("note", note),) if hasattr(ops, "add_note") else ())  # `note` once the library has it
    for name, fn in reading:
        server.add_tool(fn, name=name, description=t(f"mcp.tool_{name}"),
                        annotations=ToolAnnotations(read_only_hint=True))
    for name, fn in changing:
        server.add_tool(fn, name=name, description=t(f"mcp.tool_{name}"),
                        annotations=ToolAnnotations(read_only_hint=False, destructive_hint=False))
    return server


def serve_stdio(board_path: str | None, as_person: str | None, no_commit: bool = False) -> None:
    """Run the MCP server on stdin/stdout until the client closes it."""
    build_server(Tools(board_path, as_person, no_commit)).run("stdio")
