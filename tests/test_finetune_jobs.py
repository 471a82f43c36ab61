"""The fine-tuning job client against the loopback fake of the API, through the real SDK."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from finetune_data import clean_example, write_lines
from openai import AsyncOpenAI
from openai_fake_api import FakeOpenAI, serve

from agentkit import Agent
from agentkit.exceptions import UserError
from agentkit.finetune import jobs
from agentkit.testing import ScriptedModel, reply


@pytest.fixture
async def fake() -> AsyncIterator[tuple[FakeOpenAI, AsyncOpenAI]]:
    state = FakeOpenAI(answer=lambda body: {})
    with serve(state) as base_url:
        async with AsyncOpenAI(
            api_key="sk-fake-key-for-loopback", base_url=base_url, max_retries=0
        ) as client:
            yield state, client


async def test_start_watch_checkpoints_and_loss_curve(fake: Any, tmp_path: Path) -> None:
    state, client = fake
    train = write_lines(tmp_path / "train.jsonl", [clean_example(f"c{i}") for i in range(10)])
    job = await jobs.start(
        train,
        model="gpt-4o-mini-2024-07-18",
        n_epochs=3,
        learning_rate_multiplier=0.5,
        seed=7,
        suffix="weather",
        client=client,
    )
    assert job.status == "validating_files" and not job.done
    create = next(body for method, path, body in state.requests if path == "/fine_tuning/jobs")
    assert "hyperparameters" not in create
    assert create["method"] == {
        "type": "supervised",
        "supervised": {
            "hyperparameters": {"n_epochs": 3, "batch_size": "auto", "learning_rate_multiplier": 0.5}
        },
    }
    assert create["seed"] == 7 and create["suffix"] == "weather"
    assert state.files[create["training_file"]]["purpose"] == "fine-tune"
    seen: list[str] = []
    final = await jobs.watch(job.id, interval=0, on_update=lambda j: seen.append(j.status), client=client)
    assert seen == ["queued", "running", "running", "succeeded"]
    assert final.fine_tuned_model == "ft:gpt-4o-mini-2024-07-18:fake:weather:abc123"
    assert [m["train_loss"] for m in final.metrics] == [2.0, 1.0]
    assert final.events[0]["message"] == "Validating training file"  # oldest first
    assert final.checkpoints[0]["step_number"] == 2
    jobs.write_loss_curve(final, tmp_path / "loss.png")
    assert (tmp_path / "loss.png").read_bytes()[:4] == b"\x89PNG"
    # The new model is used as is.
    assert final.fine_tuned_model is not None
    model = ScriptedModel([reply("Hi.")])
    with model.install():
        result = await Agent(final.fine_tuned_model).run("hello")
    assert result.output == "Hi." and model.requests[0]["model"] == final.fine_tuned_model


async def test_dpo_continue_from_a_fine_tuned_model_and_file_ids(fake: Any, tmp_path: Path) -> None:
    state, client = fake
    file_id = await jobs.upload(write_lines(tmp_path / "pairs.jsonl", [{"x": 1}]), client=client)
    job = await jobs.start(file_id, model="ft:gpt-4o-mini:acme::1", method="dpo", beta=0.1, client=client)
    body = state.requests[-1][2]
    assert body["training_file"] == file_id and body["model"] == "ft:gpt-4o-mini:acme::1"
    assert body["method"]["type"] == "dpo" and body["method"]["dpo"]["hyperparameters"]["beta"] == 0.1
    cancelled = await jobs.cancel(job.id, client=client)
    assert cancelled.status == "cancelled" and cancelled.done


async def test_unknown_statuses_are_kept_as_strings(fake: Any, tmp_path: Path) -> None:
    state, client = fake
    job = await jobs.start(write_lines(tmp_path / "t.jsonl", [{}]), model="gpt-4o-mini", client=client)
    state.pause_jobs = True
    state.jobs[job.id]["status"] = "running"
    current = await jobs.status(job.id, client=client)
    assert current.status == "paused" and not current.done


async def test_errors(fake: Any, tmp_path: Path) -> None:
    import openai

    _, client = fake
    with pytest.raises(UserError, match="beta"):
        await jobs.start("file-1", model="m", beta=0.1, client=client)
    with pytest.raises(UserError, match="No such file"):
        await jobs.upload(tmp_path / "missing.jsonl", client=client)
    with pytest.raises(openai.BadRequestError, match="invalid training_file"):
        await jobs.start("file-404", model="gpt-4o-mini", client=client)
    with pytest.raises(UserError, match="no metrics"):
        jobs.write_loss_curve(jobs.JobStatus("ftjob-1", "queued", "m"), tmp_path / "x.png")


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"model": "gpt-5"}, "'gpt-5' cannot be fine-tuned"),
        ({"n_epochs": 0}, "n_epochs must be 'auto' or a positive integer, not 0"),
        ({"batch_size": 2.5}, "batch_size must be 'auto' or a positive integer"),
        ({"learning_rate_multiplier": -0.1}, "learning_rate_multiplier must be 'auto' or a positive"),
        ({"method": "dpo", "beta": 0}, "beta must be 'auto' or a positive number"),
    ],
)
async def test_bad_models_and_hyperparameters_are_refused_before_any_upload(
    fake: Any, tmp_path: Path, options: dict[str, Any], match: str
) -> None:
    state, client = fake
    path = write_lines(tmp_path / "train.jsonl", [clean_example(f"c{i}") for i in range(10)])
    with pytest.raises(UserError, match=match):
        await jobs.start(path, **{"model": "gpt-4o-mini", **options}, client=client)
    assert state.jobs == {} and state.files == {}


async def test_watch_refuses_a_negative_interval(fake: Any) -> None:
    _, client = fake
    with pytest.raises(UserError, match="interval must be a number of seconds >= 0"):
        await jobs.watch("ftjob-1", interval=-1, client=client)
