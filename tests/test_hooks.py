"""Per-tool limits, per-run tool selection, lifecycle hooks and the step seam, through the public API."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import pytest

from agentkit import Agent, RunContext, ToolRetry, tool
from agentkit.events import ToolCallResult
from agentkit.exceptions import RunError
from agentkit.hooks import Hooks, ModelRequest, ModelResponse, Step
from agentkit.testing import ScriptedModel, reply, tool_call


async def test_max_concurrency_holds_across_20_concurrent_runs() -> None:
    running = 0
    peak = 0

    @tool(max_concurrency=1)
    async def query(n: int) -> int:
        """Query the rate-limited backend.

        Args:
            n: A number.
        """
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.005)
        running -= 1
        return n * 10

    def answer(request: Any) -> Any:
        messages = request["messages"]
        if messages[-1]["role"] == "user":
            return reply(tool_calls=[tool_call("query", {"n": 1}), tool_call("query", {"n": 2})])
        return reply(",".join(m["content"] for m in messages if m["role"] == "tool"))

    agent = Agent(tools=[query])
    with ScriptedModel(answer).install():
        results = await asyncio.gather(*(agent.run(f"run {i}") for i in range(20)))
    assert peak == 1
    # Results still come back in the model's call order.
    assert {r.output for r in results} == {"10,20"}


@dataclass
class User:
    admin: bool


@tool(enabled=lambda ctx: ctx.deps.admin)
def delete_account(user_id: str) -> str:
    """Delete an account.

    Args:
        user_id: The account.
    """
    return f"deleted {user_id}"


@tool
def whoami(ctx: RunContext[User]) -> str:
    """Say who is asking."""
    return "admin" if ctx.deps.admin else "user"


async def test_disabled_tool_is_not_offered_and_a_call_to_it_is_unknown() -> None:
    agent = Agent(tools=[whoami, delete_account], deps_type=User)
    model = ScriptedModel(
        [
            reply(tool_calls=[tool_call("delete_account", {"user_id": "42"})]),
            reply("I cannot."),
            reply(tool_calls=[tool_call("delete_account", {"user_id": "42"})]),
            reply("Deleted."),
        ]
    )
    with model.install():
        denied = await agent.run("delete 42", deps=User(admin=False))
        allowed = await agent.run("delete 42", deps=User(admin=True))
    offered = [[t["function"]["name"] for t in r["tools"]] for r in model.requests]
    assert offered[0] == ["whoami"] and offered[2] == ["whoami", "delete_account"]
    unknown = denied.messages[2]["content"]
    assert unknown == "Unknown tool 'delete_account'. Available tools: whoami."
    assert allowed.messages[2]["content"] == "deleted 42"


async def test_hooks_see_every_request_and_call_sync_and_async() -> None:
    seen: list[tuple[Any, ...]] = []

    def before_model(ctx: RunContext[Any], request: ModelRequest) -> None:
        seen.append(("before_model", request.turn, request.tools))

    async def after_model(ctx: RunContext[Any], request: ModelRequest, response: ModelResponse) -> None:
        seen.append(
            ("after_model", request.turn, [c.name for c in response.tool_calls], response.usage.input_tokens)
        )

    def before_tool(ctx: RunContext[Any], call: Any) -> None:
        seen.append(("before_tool", call.tool_call_id, ctx.tool_name, ctx.deps))

    async def after_tool(ctx: RunContext[Any], call: Any, outcome: ToolCallResult) -> None:
        seen.append(("after_tool", call.tool_call_id, outcome.content, outcome.is_error))

    def after_run(ctx: RunContext[Any], result: Any, error: BaseException | None) -> None:
        seen.append(("after_run", result.output, error))

    hooks = Hooks(
        before_run=lambda ctx: seen.append(("before_run", ctx.deps)),
        after_run=after_run,
        before_model_request=before_model,
        after_model_request=after_model,
        before_tool_call=before_tool,
        after_tool_call=after_tool,
    )
    agent = Agent(tools=[whoami], hooks=hooks)
    model = ScriptedModel(
        [
            reply(tool_calls=[tool_call("whoami", id="a"), tool_call("nope", id="b")], usage=(7, 1)),
            reply("done", usage=(9, 1)),
        ]
    )
    with model.install():
        await agent.run("who?", deps=User(admin=True))
    assert seen[:3] == [
        ("before_run", User(admin=True)),
        ("before_model", 1, ["whoami"]),
        ("after_model", 1, ["whoami", "nope"], 7),
    ]
    # The two calls run concurrently: each call's before precedes its after.
    calls = seen[3:7]
    assert sorted(calls, key=repr) == sorted(
        [
            ("before_tool", "a", "whoami", User(admin=True)),
            ("before_tool", "b", "nope", User(admin=True)),
            ("after_tool", "a", "admin", False),
            ("after_tool", "b", "Unknown tool 'nope'. Available tools: whoami.", True),
        ],
        key=repr,
    )
    for call_id in "ab":
        order = [e[0] for e in calls if e[1] == call_id]
        assert order == ["before_tool", "after_tool"]
    assert seen[7:] == [
        ("before_model", 2, ["whoami"]),
        ("after_model", 2, [], 9),
        ("after_run", "done", None),
    ]


async def test_a_policy_hook_refuses_a_call_with_tool_retry() -> None:
    ran: list[str] = []

    @tool
    def wire(amount: int) -> str:
        """Wire money.

        Args:
            amount: Euros.
        """
        ran.append("wire")
        return "wired"

    def policy(ctx: RunContext[Any], call: Any) -> None:
        if call.parsed_arguments()["amount"] > 100:
            raise ToolRetry("Policy: amounts over 100 need a manager.")

    agent = Agent(tools=[wire], hooks=[Hooks(before_tool_call=policy)])
    model = ScriptedModel([reply(tool_calls=[tool_call("wire", {"amount": 500})]), reply("Refused.")])
    with model.install():
        result = await agent.run("wire 500")
    assert ran == []
    assert result.messages[2]["content"] == "Policy: amounts over 100 need a manager."


async def test_an_error_in_a_hook_ends_the_run_and_after_run_sees_it() -> None:
    errors: list[BaseException | None] = []

    def broken(ctx: RunContext[Any], request: ModelRequest) -> None:
        raise ValueError("hook bug")

    hooks = Hooks(before_model_request=broken, after_run=lambda ctx, result, error: errors.append(error))
    model = ScriptedModel([reply("never")])
    with model.install(), pytest.raises(RunError, match="hook bug") as caught:
        await Agent(hooks=hooks).run("hi")
    assert isinstance(caught.value.__cause__, ValueError)
    assert caught.value.messages == [{"role": "user", "content": "hi"}]
    assert errors == [caught.value]
    assert model.requests == []


async def test_step_runner_wraps_every_model_request_and_tool_call() -> None:
    steps: list[Step] = []
    recorded: dict[tuple[str, str], Any] = {}

    async def runner(step: Step, run: Any) -> Any:
        # A durable engine's shape: run once, record the value under the step.
        steps.append(step)
        value = await run()
        recorded[(step.kind, step.tool_call_id or str(step.turn))] = value
        return value

    @tool
    async def lookup(key: str) -> str:
        """Look up.

        Args:
            key: The key.
        """
        return f"v-{key}"

    agent = Agent(tools=[lookup], step_runner=runner)
    model = ScriptedModel(
        [reply(tool_calls=[tool_call("lookup", {"key": "k"}, id="c1")]), reply("v-k it is")]
    )
    with model.install():
        result = await agent.run("look up k")
    assert result.output == "v-k it is"
    assert [(s.kind, s.name, s.turn, s.tool_call_id) for s in steps] == [
        ("model_request", "gpt-4o-mini", 1, None),
        ("tool_call", "lookup", 0, "c1"),
        ("model_request", "gpt-4o-mini", 2, None),
    ]
    assert steps[1].idempotency_key and steps[1].run_id == result.run_id
    assert recorded[("tool_call", "c1")] == "v-k"
    assert recorded[("model_request", "2")].text == "v-k it is"


async def test_a_replaying_step_runner_skips_the_work() -> None:
    calls: list[str] = []

    @tool
    def side_effect(x: int) -> int:
        """Do it.

        Args:
            x: X.
        """
        calls.append("ran")
        return x

    async def replay(step: Step, run: Any) -> Any:
        if step.kind == "tool_call":
            return 41  # recorded earlier: the function is not called again
        return await run()

    agent = Agent(tools=[side_effect], step_runner=replay)
    model = ScriptedModel([reply(tool_calls=[tool_call("side_effect", {"x": 1})]), reply("ok")])
    with model.install():
        result = await agent.run("go")
    assert calls == []
    assert result.messages[2]["content"] == "41"


async def test_streamed_request_through_a_step_runner_yields_its_text_once() -> None:
    from agentkit.events import FinalResult, TextDelta

    async def runner(step: Step, run: Any) -> Any:
        return await run()

    model = ScriptedModel([reply("all of it at once")])
    with model.install():
        events = [e async for e in Agent(step_runner=runner).run_stream("hi")]
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["all of it at once"]
    assert isinstance(events[-1], FinalResult) and events[-1].result.output == "all of it at once"
    assert model.requests[0]["stream"] is True


async def test_a_step_runner_may_supply_the_run_id_and_end_the_run_with_a_durable_error() -> None:
    from agentkit.exceptions import DurableReplayError

    @tool
    def lookup(key: str) -> str:
        """Look up.

        Args:
            key: The key.
        """
        return f"v-{key}"

    @dataclass
    class Replayer:
        keys: list[str]

        def run_id(self) -> str:
            return "wf-1"

        async def __call__(self, step: Step, run: Any) -> Any:
            if step.kind == "tool_call":
                assert step.idempotency_key is not None
                self.keys.append(step.idempotency_key)
                raise DurableReplayError("recorded for another call")
            return await run()

    runner = Replayer([])
    agent = Agent(tools=[lookup], step_runner=runner)
    script = [reply(tool_calls=[tool_call("lookup", {"key": "k"}, id="c1")]), reply("done")]
    with ScriptedModel(script).install(), pytest.raises(DurableReplayError) as raised:
        await agent.run("look up k")
    # Not a tool failure for the model to read: the run ends, its transcript attached.
    assert not any(m.get("role") == "tool" for m in raised.value.messages)  # type: ignore[attr-defined]
    with ScriptedModel(script).install(), pytest.raises(DurableReplayError):
        await agent.run("look up k")
    # The same run id (the runner's) gives the same idempotency key on a replay.
    assert len(runner.keys) == 2 and runner.keys[0] == runner.keys[1]
