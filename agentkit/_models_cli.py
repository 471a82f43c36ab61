"""``agentkit models``: print the model table (limits, prices, features), optionally against the API."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from typing import Any

from .models import TABLE_DATE, ModelInfo, list_models, model_info


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``agentkit models``."""
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--live",
        action="store_true",
        help="also list what client.models.list() returns and flag the models the table does not know "
        "(needs OPENAI_API_KEY)",
    )


def run(args: argparse.Namespace) -> int:
    """Print the table; exit 2 when ``--live`` has no API key or the API cannot be listed."""
    rows: list[dict[str, Any]] = [_row(info) for info in list_models()]
    if args.live:
        if not os.environ.get("OPENAI_API_KEY"):
            print("agentkit models --live: OPENAI_API_KEY is not set", file=sys.stderr)
            return 2
        import openai

        try:
            served = sorted(model.id for model in openai.OpenAI().models.list())
        except openai.OpenAIError as exc:  # unreachable server, bad key: one line, not a traceback
            print(f"agentkit models --live: error: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 2
        by_name = {row["name"]: row for row in rows}
        for row in rows:
            row["live"] = False
        for model_id in served:
            info = model_info(model_id, default=None)
            if info is None:
                rows.append({"name": model_id, "known": False, "live": True})
            else:  # a snapshot or alias of a known model: its base row is served
                by_name[info.name]["live"] = True
                by_name[info.name].setdefault("served_as", []).append(model_id)
    if args.json:
        print(json.dumps({"table_date": TABLE_DATE.isoformat(), "models": rows}, indent=2))
        return 0
    _print_table(rows, live=args.live)
    return 0


def _row(info: ModelInfo) -> dict[str, Any]:
    row = dataclasses.asdict(info)
    row["shutdown_date"] = info.shutdown_date.isoformat() if info.shutdown_date else None
    row["known"] = True
    return row


_COLUMNS = (
    ("name", "model"),
    ("context_window", "context"),
    ("max_output_tokens", "max out"),
    ("input_price", "in $/1M"),
    ("cached_input_price", "cached $/1M"),
    ("output_price", "out $/1M"),
    ("training_price", "train $/1M"),
    ("encoding", "encoding"),
    ("shutdown_date", "shutdown"),
)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _print_table(rows: list[dict[str, Any]], *, live: bool) -> None:
    title = f"OpenAI models, prices as of {TABLE_DATE.isoformat()} (USD per 1M tokens)"
    columns = [*_COLUMNS, ("supports_tools", "tools"), ("supports_fine_tuning", "fine-tune")]
    if live:
        columns.append(("live", "served"))
    cells = [
        [_cell(row.get(key)) if row.get("known") or key == "name" else "?" for key, _ in columns]
        for row in rows
    ]
    for row, line in zip(rows, cells, strict=True):
        if live and not row.get("known"):
            line[0] += "  (not in the table)"
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        print(title)
        widths = [max(len(h), *(len(line[i]) for line in cells)) for i, (_, h) in enumerate(columns)]
        print("  ".join(h.ljust(w) for (_, h), w in zip(columns, widths, strict=True)))
        for line in cells:
            print("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)))
        return
    table = Table(title=title)
    for _, header in columns:
        left = header in ("model", "encoding", "shutdown")
        table.add_column(header, justify="left" if left else "right", no_wrap=True)
    for line in cells:
        table.add_row(*line)
    # Piped output is not cut to 80 columns.
    Console(width=None if sys.stdout.isatty() else 200).print(table)
