"""An agent that uses the tools of an MCP server.

The server is this same file run with ``--serve``: a small notes server written with the ``mcp``
SDK. The agent starts it as a subprocess over stdio, lists its tools (converted to OpenAI strict
mode where their schemas allow it), and calls them like its own tools.

    OPENAI_API_KEY=sk-... python examples/mcp_server.py    # live
    python examples/mcp_server.py                          # offline: agentkit's scripted model

Needs the mcp extra (``pip install 'agentkit-openai[mcp]'``).
"""

from __future__ import annotations

import asyncio
import os
import sys

from agentkit import Agent, RunResult
from agentkit.mcp import MCPServer

NOTES = {
    "release": "2026-11-20 meeting: the release moves to Friday; Ada writes the announcement.",
    "hiring": "Two backend roles open in January.",
}
QUESTION = "What did we decide about the release?"


def serve() -> None:
    """Run the notes MCP server over stdio (what ``MCPServer.stdio`` starts)."""
    from mcp.server.mcpserver import MCPServer as NotesServer

    notes = NotesServer("notes")

    @notes.tool()
    def search_notes(query: str) -> list[str]:
        """Return the titles of the notes that mention a word."""
        return [title for title, text in NOTES.items() if query.lower() in (title + " " + text).lower()]

    @notes.tool()
    def read_note(title: str) -> str:
        """Return the text of one note."""
        if title not in NOTES:
            raise ValueError(f"no note titled {title!r}; search first")
        return NOTES[title]

    notes.run("stdio")


async def ask() -> RunResult[str]:
    async with MCPServer.stdio(sys.executable, args=[__file__, "--serve"], name="notes") as server:
        tools = await server.list_tools()
        for t in tools:
            print(f"MCP tool {t.name}: strict={t.strict} {list(t.strict_report)}")
        agent = Agent(
            model="gpt-4o-mini", instructions="Answer from the team's notes; search them first.", tools=tools
        )
        if os.environ.get("OPENAI_API_KEY"):
            return await agent.run(QUESTION)
        from agentkit.testing import ScriptedModel, reply, tool_call

        model = ScriptedModel(
            [
                reply(tool_calls=[tool_call("search_notes", {"query": "release"})]),
                reply(tool_calls=[tool_call("read_note", {"title": "release"})]),
                reply("The release moves to Friday, and Ada writes the announcement."),
            ]
        )
        with model.install():
            result: RunResult[str] = await agent.run(QUESTION)
        model.assert_complete()
        return result


def main() -> None:
    if not os.environ.get("OPENAI_API_KEY"):
        print(
            "No OPENAI_API_KEY: replaying canned replies from agentkit's scripted model (no network). "
            "To run it live: OPENAI_API_KEY=sk-... python examples/mcp_server.py"
        )
    result = asyncio.run(ask())
    for message in result.messages:
        if message.get("role") == "tool":
            print(f"tool result: {message['content']}")
    print(result.output)


if __name__ == "__main__":
    serve() if "--serve" in sys.argv else main()
