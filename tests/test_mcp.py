"""`mdboard mcp` driven by the MCP SDK's own client over stdio, as an assistant would.

The server is the installed `mdboard` program in a subprocess; the client lists the
tools, creates a card, moves it, is refused a move that breaks a rule (a tool error
naming the rule, nothing written), and the git history shows the right commits.
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import anyio
from mcp import Client, StdioServerParameters

from conftest import git


def server(root: Path, *args: str) -> StdioServerParameters:
    exe = Path(sys.executable).with_name("mdboard")
    env = {k: os.environ[k] for k in ("GIT_CONFIG_GLOBAL", "GIT_CONFIG_NOSYSTEM", "MDBOARD_NOW", "HOME")}
    return StdioServerParameters(command=str(exe), args=["--board", str(root), *args, "mcp"], env=env, cwd=str(root))


def drive(params: StdioServerParameters, steps):
    """Run `steps(client)` against a server started with `params`; returns what it returns.

    In a thread of its own: the session's Playwright browser keeps an event loop
    running in the main thread.
    """
    async def main():
        async with Client(params) as client:
            return await steps(client)

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(anyio.run, main).result()


def text_of(result) -> str:
    return "".join(c.text for c in result.content)


def test_tools_are_the_board_verbs_described_in_the_board_language(board):
    async def steps(client):
        return (await client.list_tools()).tools

    tools = {t.name: t for t in drive(server(board, "--as", "wangli"), steps)}
    assert sorted(tools) == sorted(["ls", "show", "mine", "standup", "check", "new", "move", "set", "assign"]
                                   + (["note"] if "note" in tools else []))
    assert tools["move"].description.startswith("把卡片移到另一个状态")
    assert tools["new"].input_schema["required"] == ["type", "title"]
    assert tools["move"].input_schema["properties"]["card_id"]["description"] == "卡片编号，例如 SKU-0042"
    assert "force" not in tools["move"].input_schema["properties"]


def test_an_assistant_creates_and_moves_a_card_and_a_refused_move_names_the_rule(board):
    async def steps(client):
        created = await client.call_tool("new", {"type": "上新", "title": "蓝牙耳机 Pro", "owner": "王丽",
                                                 "due": "2026-12-01", "fields": {"platforms": "抖音,天猫"}})
        moved = await client.call_tool("move", {"card_id": "SKU-0001", "state": "拍摄中"})
        refused = await client.call_tool("move", {"card_id": "SKU-0001", "state": "listed"})
        shown = await client.call_tool("show", {"card_id": "SKU-0001"})
        listed = await client.call_tool("ls", {"text": "耳机"})
        return created, moved, refused, shown, listed

    created, moved, refused, shown, listed = drive(server(board, "--as", "wangli"), steps)
    assert not created.is_error, text_of(created)
    assert created.structured_content["card"]["id"] == "SKU-0001"
    assert created.structured_content["card"]["platforms"] == ["douyin", "tmall"]
    assert not moved.is_error and moved.structured_content["card"]["state"] == "shooting"

    assert refused.is_error
    assert "进入「已上架」前必须填写「价格」" in text_of(refused)
    assert "SKU-0001 没有移动" in text_of(refused)
    assert refused.structured_content["problems"][0]["path"] == "sku/shooting/SKU-0001.md"

    assert shown.structured_content["state"] == "shooting" and shown.structured_content["title"] == "蓝牙耳机 Pro"
    assert [c["id"] for c in listed.structured_content["cards"]] == ["SKU-0001"]

    log = git(board, "log", "-3", "--format=%an <%ae>|%s|%(trailers:only,unfold)").split("\n")
    entries = [line for line in log if "|" in line]
    assert entries[0] == "王丽 <wangli@example.com>|move SKU-0001: 规划中 → 拍摄中|Card: SKU-0001"
    assert entries[1].startswith("王丽 <wangli@example.com>|new SKU-0001: 蓝牙耳机 Pro|Card: SKU-0001")
    trailers = git(board, "log", "-1", "--format=%(trailers:only,unfold)")
    assert trailers.splitlines() == ["Card: SKU-0001", "Action: move", "From: planning", "To: shooting"]
    assert git(board, "status", "--porcelain") == ""
    assert git(board, "rev-list", "--count", "HEAD") == "4"  # init, roster, new, move: the refusal wrote nothing


def test_a_person_without_the_role_is_refused_as_on_the_command_line(board, cli):
    assert cli("new", "sku", "充电宝", "--owner", "zhaomin", "--set", "price=99", "--set", "price_approved=true",
               "--set", "platforms=抖音").exit_code == 0
    body = (board / "sku/planning/SKU-0001.md").read_text("utf-8").replace("- [ ]", "- [x]")
    (board / "sku/planning/SKU-0001.md").write_text(body, "utf-8")
    git(board, "commit", "-qam", "清单完成")

    async def steps(client):
        return await client.call_tool("move", {"card_id": "SKU-0001", "state": "已上架"})

    refused = drive(server(board, "--as", "zhaomin"), steps)
    assert refused.is_error
    assert "赵敏 不能把卡片移入「已上架」（需要角色：运营）" in text_of(refused)
    cli_says = cli("--as", "zhaomin", "move", "SKU-0001", "已上架")
    assert cli_says.exit_code == 1 and text_of(refused) in cli_says.stderr


def test_an_unknown_acting_person_stops_the_server_with_the_cli_message(cli):
    result = cli("--as", "nobody", "mcp")
    assert result.exit_code == 2  # a name the board does not know, typed as an option: a usage mistake
    assert "名单里没有「nobody」（--as）" in result.stderr


def test_an_assistant_adds_a_note_as_the_acting_person(board, cli):
    assert cli("new", "issue", "客户说少发了耳机盒", "--owner", "sunli", "--due", "2026-11-26T18:00",
               "--set", "platform=抖音", "--set", "order_no=DY123", "--set", "problem=少件错发").exit_code == 0

    async def steps(client):
        return await client.call_tool("note", {"card_id": "AS-0001", "text": "客户已回复，补发耳机盒"})

    noted = drive(server(board, "--as", "sunli"), steps)
    assert not noted.is_error, text_of(noted)
    assert git(board, "log", "-1", "--format=%an <%ae>|%s") == "孙丽 <sunli@example.com>|note AS-0001: 客户已回复，补发耳机盒"
    assert "客户已回复，补发耳机盒" in (board / "issue/new/AS-0001.md").read_text("utf-8")
