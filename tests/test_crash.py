"""SIGKILL a multi-turn agent with parallel tools at many points, resume, and count the damage.

The campaign lives in ``sessions_crash_worker.py`` (run it by hand for other counts or seeds).
``AGENTKIT_CRASH_KILLS`` sets the number of kills (200 by default).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent

MUST_BE_ZERO = [
    "lost_acknowledged_turns",
    "lost_user_messages",
    "duplicated_user_messages",
    "incomplete_conversations",
    "corrupt_databases",
    "orphan_tool_calls_sent",
    "tools_run_before_their_call_was_stored",
    "second_executions_of_non_idempotent_tools",
    "unstable_idempotency_keys",
    "child_errors",
]


def test_sigkill_at_many_points_loses_nothing(tmp_path: Path) -> None:
    kills = int(os.environ.get("AGENTKIT_CRASH_KILLS", "200"))
    proc = subprocess.run(
        [
            sys.executable,
            str(HERE / "sessions_crash_worker.py"),
            "--kills",
            str(kills),
            "--dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    figures = json.loads(proc.stdout.strip().splitlines()[-1])
    errors = (tmp_path / "errors").read_text() if (tmp_path / "errors").exists() else ""
    assert figures["kills"] >= kills
    assert {k: figures[k] for k in MUST_BE_ZERO} == dict.fromkeys(MUST_BE_ZERO, 0), (figures, errors[:3000])
    # The kills did land mid-turn: some calls were re-run or closed as interrupted.
    assert figures["idempotent_reruns"] + figures["interrupted_calls_reported"] > 0
