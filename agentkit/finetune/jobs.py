"""A thin client for OpenAI fine-tuning jobs: upload, start, status, checkpoints, cancel.

Optional and short-lived by design: OpenAI stops new self-serve fine-tuning jobs on 2027-01-06,
and the base snapshots shut down in 2027-01 (as agentkit issue 16 states OpenAI's notice; not
re-checked here). The dataset tools of ``agentkit.finetune`` do not depend on this module.

Jobs are created with the ``method`` parameter (``{"type": "supervised", "supervised":
{"hyperparameters": {...}}}`` or the same for ``dpo``), never the deprecated top-level
``hyperparameters``. Statuses are open strings: ``validating_files``, ``queued``, ``running``,
``paused``, ``succeeded``, ``failed``, ``cancelled`` today, and whatever the API adds later.
A finished job's ``fine_tuned_model`` works directly as ``Agent(model=...)``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ..exceptions import UserError
from ._estimate import require_fine_tunable

if TYPE_CHECKING:
    from openai import AsyncOpenAI

__all__ = ["FINAL_STATUSES", "JobStatus", "cancel", "start", "status", "upload", "watch", "write_loss_curve"]

FINAL_STATUSES = frozenset({"succeeded", "failed", "cancelled"})
"""Statuses after which a job no longer changes."""


@dataclass
class JobStatus:
    """A job as last seen, with its events, metrics and checkpoints."""

    id: str
    """``ftjob-...``."""
    status: str
    """An open string; see the module docstring."""
    model: str
    """The base (or already fine-tuned) model."""
    fine_tuned_model: str | None = None
    """The new model's name once the job succeeded."""
    trained_tokens: int | None = None
    """Billable tokens processed, once finished."""
    error: str | None = None
    """``code: message`` of a failed job."""
    events: list[dict[str, Any]] = field(default_factory=list)
    """Events oldest first: ``{"created_at", "level", "message", "type", "data"}``."""
    metrics: list[dict[str, Any]] = field(default_factory=list)
    """The ``data`` of ``metrics`` events, oldest first: ``step``, ``train_loss``,
    ``train_mean_token_accuracy``, ``valid_loss``, ``valid_mean_token_accuracy``, ``total_steps``."""
    checkpoints: list[dict[str, Any]] = field(default_factory=list)
    """``{"fine_tuned_model_checkpoint", "step_number", "metrics"}``, by step."""

    @property
    def done(self) -> bool:
        """The job reached a final status."""
        return self.status in FINAL_STATUSES


@asynccontextmanager
async def _client(client: AsyncOpenAI | None) -> AsyncIterator[AsyncOpenAI]:
    """The given client, or one built from the environment and closed afterwards."""
    if client is not None:
        yield client
        return
    from openai import AsyncOpenAI

    async with AsyncOpenAI() as own:
        yield own


async def upload(path: str | os.PathLike[str], *, client: AsyncOpenAI | None = None) -> str:
    """Upload a training or validation file with ``purpose="fine-tune"``; return its file id.

    Raises:
        UserError: The file does not exist.
    """
    file = Path(path)
    if not file.is_file():
        raise UserError(f"No such file: {file}")
    async with _client(client) as api:
        uploaded = await api.files.create(file=(file.name, file.read_bytes()), purpose="fine-tune")
    return str(uploaded.id)


async def start(
    training_file: str | os.PathLike[str],
    *,
    model: str,
    validation_file: str | os.PathLike[str] | None = None,
    method: Literal["supervised", "dpo"] = "supervised",
    n_epochs: int | Literal["auto"] = "auto",
    batch_size: int | Literal["auto"] = "auto",
    learning_rate_multiplier: float | Literal["auto"] = "auto",
    beta: float | Literal["auto"] | None = None,
    seed: int | None = None,
    suffix: str | None = None,
    client: AsyncOpenAI | None = None,
) -> JobStatus:
    """Create a fine-tuning job; local paths are uploaded first, ``file-...`` ids used as they are.

    Args:
        training_file: A JSONL path or an uploaded file id.
        model: The base model, or an ``ft:...`` model to continue training.
        validation_file: A JSONL path or file id.
        method: ``"supervised"`` or ``"dpo"`` (preference pairs).
        n_epochs: Epochs, or ``"auto"`` (see :func:`agentkit.finetune.default_epochs`).
        batch_size: Examples per batch, or ``"auto"``.
        learning_rate_multiplier: Scale of the learning rate, or ``"auto"``.
        beta: DPO only: the penalty weight between policy and reference model.
        seed: For reproducible jobs.
        suffix: Up to 64 characters added to the fine-tuned model's name.

    Raises:
        UserError: ``beta`` with the supervised method, an unknown method, a hyperparameter that
            is neither ``"auto"`` nor a positive number (an integer for ``n_epochs`` and
            ``batch_size``), or a model the table knows cannot be fine-tuned (nothing is uploaded).
    """
    if method not in ("supervised", "dpo"):
        raise UserError(f"method must be 'supervised' or 'dpo', not {method!r}.")
    require_fine_tunable(model)
    _check_hyperparameter("n_epochs", n_epochs, integer=True)
    _check_hyperparameter("batch_size", batch_size, integer=True)
    _check_hyperparameter("learning_rate_multiplier", learning_rate_multiplier, integer=False)
    if beta is not None:
        _check_hyperparameter("beta", beta, integer=False)
    if beta is not None and method != "dpo":
        raise UserError("beta is a DPO hyperparameter; pass method='dpo'.")
    hyper: dict[str, Any] = {
        "n_epochs": n_epochs,
        "batch_size": batch_size,
        "learning_rate_multiplier": learning_rate_multiplier,
    }
    if beta is not None:
        hyper["beta"] = beta
    async with _client(client) as api:
        return await _create(api, training_file, model, validation_file, method, hyper, seed, suffix)


def _check_hyperparameter(name: str, value: Any, *, integer: bool) -> None:
    if value == "auto":
        return
    number = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not number or not value > 0:
        what = "a positive integer" if integer else "a positive number"
        raise UserError(f"{name} must be 'auto' or {what}, not {value!r}.")


async def _create(
    api: AsyncOpenAI,
    training_file: str | os.PathLike[str],
    model: str,
    validation_file: str | os.PathLike[str] | None,
    method: str,
    hyper: dict[str, Any],
    seed: int | None,
    suffix: str | None,
) -> JobStatus:
    async def file_id(value: str | os.PathLike[str]) -> str:
        text = os.fspath(value)
        return (
            text if text.startswith("file-") and not Path(text).exists() else await upload(text, client=api)
        )

    params: dict[str, Any] = {
        "model": model,
        "training_file": await file_id(training_file),
        "method": {"type": method, method: {"hyperparameters": hyper}},
    }
    if validation_file is not None:
        params["validation_file"] = await file_id(validation_file)
    if seed is not None:
        params["seed"] = seed
    if suffix is not None:
        params["suffix"] = suffix
    job = await api.fine_tuning.jobs.create(**params)
    return _job(job)


def _job(job: Any) -> JobStatus:
    error = getattr(job, "error", None)
    message = f"{error.code}: {error.message}" if error is not None and getattr(error, "code", None) else None
    return JobStatus(
        str(job.id), str(job.status), str(job.model), job.fine_tuned_model, job.trained_tokens, message
    )


async def status(job_id: str, *, client: AsyncOpenAI | None = None) -> JobStatus:
    """Fetch a job with all its events (paged), its metrics and its checkpoints."""
    async with _client(client) as api:
        return await _status(api, job_id)


async def _status(api: AsyncOpenAI, job_id: str) -> JobStatus:
    result = _job(await api.fine_tuning.jobs.retrieve(job_id))
    events = [e async for e in api.fine_tuning.jobs.list_events(job_id, limit=100)]
    events.sort(key=lambda e: (e.created_at, e.id))
    for e in events:
        data = e.data if isinstance(e.data, dict) else None
        result.events.append(
            {"created_at": e.created_at, "level": e.level, "message": e.message, "type": e.type, "data": data}
        )
        if e.type == "metrics" and data is not None:
            result.metrics.append(dict(data))
    async for c in api.fine_tuning.jobs.checkpoints.list(job_id, limit=100):
        result.checkpoints.append(
            {
                "fine_tuned_model_checkpoint": c.fine_tuned_model_checkpoint,
                "step_number": c.step_number,
                "metrics": c.metrics.model_dump(exclude_none=True),
            }
        )
    result.checkpoints.sort(key=lambda c: c["step_number"])
    return result


async def watch(
    job_id: str,
    *,
    interval: float = 30.0,
    on_update: Callable[[JobStatus], None] | None = None,
    client: AsyncOpenAI | None = None,
) -> JobStatus:
    """Poll a job until it reaches a final status, calling ``on_update`` after every poll.

    Raises:
        UserError: ``interval`` (seconds between polls) is negative.
    """
    if isinstance(interval, bool) or not isinstance(interval, (int, float)) or not interval >= 0:
        raise UserError(f"interval must be a number of seconds >= 0, not {interval!r}.")
    async with _client(client) as api:
        while True:
            current = await _status(api, job_id)
            if on_update is not None:
                on_update(current)
            if current.done:
                return current
            await asyncio.sleep(interval)


async def cancel(job_id: str, *, client: AsyncOpenAI | None = None) -> JobStatus:
    """Cancel a job; return it as the API answered."""
    async with _client(client) as api:
        return _job(await api.fine_tuning.jobs.cancel(job_id))


def write_loss_curve(job: JobStatus, path: str | os.PathLike[str]) -> None:
    """Write the training (and validation) loss by step as a PNG (needs the ``charts`` extra).

    Raises:
        UserError: The job has no metrics yet, or matplotlib is not installed.
    """
    points = [m for m in job.metrics if "step" in m]
    if not points:
        raise UserError(f"Job {job.id} has no metrics yet.")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise UserError("Charts need matplotlib: pip install 'agentkit-openai[charts]'") from exc
    fig, ax = plt.subplots(figsize=(8, 4))
    for key, label in (("train_loss", "training loss"), ("valid_loss", "validation loss")):
        series = [(m["step"], m[key]) for m in points if m.get(key) is not None]
        if series:
            ax.plot([s for s, _ in series], [v for _, v in series], label=label)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(f"{job.id} ({job.status})")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)
