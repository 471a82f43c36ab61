"""``agentkit finetune export|validate|estimate|split|start|status|cancel``."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from ..exceptions import AgentkitError, UserError

_ACTIONS = {
    "export": "write training examples from sessions or cassettes",
    "validate": "check a training file (exit 1 on errors)",
    "estimate": "billable training tokens and cost",
    "split": "seeded train/validation split, grouped by conversation",
    "start": "validate, upload and create a fine-tuning job",
    "status": "show a job's status, events, metrics and checkpoints",
    "cancel": "cancel a job",
}

# What exit status 1 means for each action (``None``: the action never exits 1).
_CHECK_FAILED = {
    "validate": "the file (or the validation file) has errors, e.g. model_not_fine_tunable",
    "start": "the training file has errors (nothing is uploaded)",
    "status": "the job failed",
}


def _epilog(action: str) -> str:
    lines = ["exit status:", "  0  success"]
    if action in _CHECK_FAILED:
        lines.append(f"  1  {_CHECK_FAILED[action]}")
    lines.append(
        "  2  usage or input error (bad arguments, a missing or unreadable file, an unknown model "
        "or one that cannot be fine-tuned, an API error)"
    )
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the ``finetune`` subcommands."""
    actions = parser.add_subparsers(dest="action", required=True)
    sub = {
        name: actions.add_parser(
            name,
            help=text,
            description=text,
            epilog=_epilog(name),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        for name, text in _ACTIONS.items()
    }

    p = sub["export"]
    p.add_argument("cassettes", nargs="*", help="cassette files to read conversations from")
    p.add_argument("--store", help="a session store: sqlite:///path, postgresql://..., redis://...")
    p.add_argument("--session", action="append", default=[], help="a thread id (repeatable; default: all)")
    p.add_argument("--agent", help="module:agent whose instructions and tools go into each example")
    p.add_argument("--successful-only", action="store_true", help="only conversations ending in an answer")
    p.add_argument(
        "--with-tool-calls-only", action="store_true", help="only conversations that called a tool"
    )
    p.add_argument("--no-dedupe", action="store_true", help="keep identical examples")
    p.add_argument("--weights", choices=["failed_attempts", "last"], help="set assistant weights")
    p.add_argument("-o", "--output", required=True, help="the JSONL file to write")

    for name in ("validate", "estimate", "start"):
        sub[name].add_argument("--model", default="gpt-4o-mini", help="the model to fine-tune")
        sub[name].add_argument("--max-tokens", type=int, default=None, help="token limit per example")
    p = sub["validate"]
    p.add_argument("file")
    p.add_argument("--validation-file", help="also check this file, and that no example is in both")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--all", action="store_true", help="list every problem (default: the first 50)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")

    p = sub["estimate"]
    p.add_argument("file")
    p.add_argument("--epochs", type=int, help="default: the API's rule for the number of examples")
    p.add_argument("--json", action="store_true")

    p = sub["split"]
    p.add_argument("file")
    p.add_argument("--train", required=True, help="where to write the training examples")
    p.add_argument("--validation", required=True, help="where to write the validation examples")
    p.add_argument("--fraction", type=float, default=0.8, help="training share, 0.7 to 0.9")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--stratify", action="store_true", help="split each set of used tools separately")

    p = sub["start"]
    p.add_argument("file", help="training JSONL (or an uploaded file-... id)")
    p.add_argument("--validation-file")
    p.add_argument("--method", choices=["supervised", "dpo"], default="supervised")
    p.add_argument("--epochs", default="auto", help="a number or auto")
    p.add_argument("--batch-size", default="auto")
    p.add_argument("--learning-rate-multiplier", default="auto")
    p.add_argument("--beta", default=None, help="DPO only")
    p.add_argument("--seed", type=int)
    p.add_argument("--suffix")

    p = sub["status"]
    p.add_argument("job")
    p.add_argument("--watch", action="store_true", help="poll until the job finishes")
    p.add_argument("--interval", type=float, default=30.0, help="seconds between polls")
    p.add_argument("--loss-png", help="write the loss curve to this PNG")
    p.add_argument("--json", action="store_true")

    sub["cancel"].add_argument("job")


def run(args: argparse.Namespace) -> int:
    """Run one action; 0 ok, 1 a check failed (see ``_CHECK_FAILED``), 2 bad input."""
    from openai import OpenAIError

    try:
        return int(_ACTION_RUNNERS[args.action](args))
    except (AgentkitError, OpenAIError) as exc:
        print(f"agentkit finetune {args.action}: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2


def _limit(args: argparse.Namespace) -> dict[str, Any]:
    return {} if args.max_tokens is None else {"max_tokens": args.max_tokens}


def _validate(args: argparse.Namespace) -> int:
    from ._validate import validate

    report = validate(
        args.file,
        model=args.model,
        validation_file=args.validation_file,
        progress=not args.no_progress and sys.stderr.isatty(),
        **_limit(args),
    )
    print(
        json.dumps(report.to_dict(), indent=2) if args.json else report.format(limit=None if args.all else 50)
    )
    return 0 if report.ok else 1


def _estimate(args: argparse.Namespace) -> int:
    from ._estimate import estimate

    result = estimate(args.file, model=args.model, epochs=args.epochs, **_limit(args))
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
        return 0
    how = "the API's default for this many examples" if result.epochs_defaulted else "given"
    print(f"{result.examples} examples, {result.tokens_per_epoch} billable tokens per epoch")
    print(f"{result.epochs} epochs ({how}): {result.billable_tokens} tokens")
    cost = (
        "unknown (no training price for this model)" if result.cost_usd is None else f"${result.cost_usd:.2f}"
    )
    print(f"estimated cost for {result.model}: {cost}")
    return 0


def _split(args: argparse.Namespace) -> int:
    from ._export import write_jsonl
    from ._split import split

    train, validation = split(args.file, train_fraction=args.fraction, seed=args.seed, stratify=args.stratify)
    write_jsonl(train, args.train)
    write_jsonl(validation, args.validation)
    print(
        f"{len(train)} training examples -> {args.train}, {len(validation)} validation -> {args.validation}"
    )
    return 0


def open_session(store: str, session_id: str) -> Any:
    """A session of the store named by ``store`` (``sqlite:///path``, ``postgresql://``, ``redis://``)."""
    if store.startswith("sqlite:///"):
        from ..sessions import SQLiteSession

        return SQLiteSession(session_id, store[len("sqlite:///") :])
    if store.startswith(("postgresql://", "postgres://")):
        from ..sessions import PostgresSession

        return PostgresSession(session_id, store)
    if store.startswith(("redis://", "rediss://")):
        from ..sessions import RedisSession

        return RedisSession(session_id, store)
    raise AgentkitError(f"--store must start with sqlite:///, postgresql:// or redis://, not {store!r}")


async def _export(args: argparse.Namespace) -> int:
    from ..evals._cli import load_object
    from ._export import export_examples, write_jsonl

    if not args.cassettes and not args.store:
        raise AgentkitError("give cassette files or --store")
    sources: list[Any] = list(args.cassettes)
    opened = []
    try:
        if args.store:
            probe = open_session(args.store, "")
            opened.append(probe)
            for session_id in args.session or await probe.list_sessions():
                opened.append(open_session(args.store, session_id))
                sources.append(opened[-1])
        examples = await export_examples(
            sources,
            agent=load_object(args.agent) if args.agent else None,
            successful_only=args.successful_only,
            with_tool_calls_only=args.with_tool_calls_only,
            dedupe=not args.no_dedupe,
            weights=args.weights,
        )
    finally:
        for session in opened:
            if hasattr(session, "aclose"):
                await session.aclose()
    count = write_jsonl(examples, args.output)
    print(f"{count} examples -> {args.output}")
    return 0


def _number(name: str, value: str | None) -> Any:
    """``"auto"``, ``None`` or the number in ``value`` (jobs.start checks that it is positive)."""
    if value is None or value == "auto":
        return value
    try:
        return float(value) if any(c in value for c in ".eE") else int(value)
    except ValueError:
        raise UserError(f"--{name} must be 'auto' or a number, not {value!r}") from None


async def _start(args: argparse.Namespace) -> int:
    from . import jobs
    from ._estimate import require_fine_tunable
    from ._validate import validate

    require_fine_tunable(args.model)  # a usage error (2) before the file is even read
    if not args.file.startswith("file-"):
        report = validate(args.file, model=args.model, validation_file=args.validation_file, **_limit(args))
        if not report.ok:
            print(report.format(), file=sys.stderr)
            return 1
    job = await jobs.start(
        args.file,
        model=args.model,
        validation_file=args.validation_file,
        method=args.method,
        n_epochs=_number("epochs", args.epochs),
        batch_size=_number("batch-size", args.batch_size),
        learning_rate_multiplier=_number("learning-rate-multiplier", args.learning_rate_multiplier),
        beta=_number("beta", args.beta),
        seed=args.seed,
        suffix=args.suffix,
    )
    print(f"{job.id} {job.status}")
    return 0


def _summary(job: Any) -> str:
    last = job.metrics[-1] if job.metrics else {}
    loss = " ".join(f"{k}={v:.4g}" for k, v in last.items() if k.endswith(("loss", "accuracy")))
    step = f"step {last.get('step', '-')}/{last.get('total_steps', '-')}"
    return f"{job.id} {job.status} {step} {loss}".rstrip()


class _LiveBar:
    """A rich progress bar over training steps, updated at every poll (terminals only)."""

    def __init__(self) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
        self.task = self.bar.add_task("starting", total=None)
        self.bar.start()

    def __call__(self, job: Any) -> None:
        last = job.metrics[-1] if job.metrics else {}
        self.bar.update(
            self.task, description=_summary(job), completed=last.get("step", 0), total=last.get("total_steps")
        )

    def stop(self) -> None:
        self.bar.stop()


async def _status(args: argparse.Namespace) -> int:
    from . import jobs

    if args.watch:
        live = _LiveBar() if sys.stdout.isatty() and not args.json else None
        show = live or (None if args.json else lambda job: print(_summary(job)))
        try:
            job = await jobs.watch(args.job, interval=args.interval, on_update=show)
        finally:
            if live is not None:
                live.stop()
    else:
        job = await jobs.status(args.job)
    if args.json:
        print(json.dumps(job.__dict__, indent=2, default=str))
    else:
        _print_job(job, summary=not args.watch)
    if args.loss_png:
        jobs.write_loss_curve(job, args.loss_png)
    return 1 if job.status == "failed" else 0


def _print_job(job: Any, *, summary: bool) -> None:
    if summary:
        print(_summary(job))
    for event in job.events[-10:]:
        print(f"  [{event['level']}] {event['message']}")
    for c in job.checkpoints:
        print(f"  checkpoint step {c['step_number']}: {c['fine_tuned_model_checkpoint']}")
    if job.fine_tuned_model:
        print(f"fine-tuned model: {job.fine_tuned_model}  (use it as Agent(model=...))")
    if job.error:
        print(f"error: {job.error}")


async def _cancel(args: argparse.Namespace) -> int:
    from . import jobs

    job = await jobs.cancel(args.job)
    print(f"{job.id} {job.status}")
    return 0


_ACTION_RUNNERS: dict[str, Any] = {
    "export": lambda a: asyncio.run(_export(a)),
    "validate": _validate,
    "estimate": _estimate,
    "split": _split,
    "start": lambda a: asyncio.run(_start(a)),
    "status": lambda a: asyncio.run(_status(a)),
    "cancel": lambda a: asyncio.run(_cancel(a)),
}
