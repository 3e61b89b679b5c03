"""What the episodes of a run cost, from their records: tokens in and out, model seconds, reward-model
calls and seconds per episode (model policies write ``record.extra["cost"]``; see search/run.py)."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from tabulate import tabulate

from . import report
from . import tasks as task_table
from .episode import EpisodeRecord

KEYS = ("tokens_in", "tokens_out", "model_seconds", "rm_calls", "rm_trajectories", "rm_seconds")
TIMED = ("model_seconds", "rm_seconds")  # measured, so they differ between two plays of the same episode


def untimed(row: dict[str, Any]) -> dict[str, Any]:
    """A record's JSON without what a clock measured (``wall_time``, the timed costs): two plays of the
    same episode -- in another process, executor or batch -- must give exactly this."""
    row = {k: v for k, v in row.items() if k != "wall_time"}
    extra = row.get("extra") or {}
    if isinstance(extra.get("cost"), dict):
        row["extra"] = {**extra, "cost": {k: v for k, v in extra["cost"].items() if k not in TIMED}}
    return row


def per_episode(records: Iterable[EpisodeRecord]) -> dict[str, dict[str, float]]:
    """Per task (of the records that carry a cost): episodes, and the mean of each cost per episode."""
    costs: dict[str, list[dict[str, float]]] = defaultdict(list)
    for record in records:
        cost = (record.extra or {}).get("cost")
        if record.error is None and isinstance(cost, dict):
            costs[record.task].append(cost)
    out = {}
    for spec in task_table.specs():
        rows = costs.get(spec.name)
        if rows:
            out[spec.name] = {"episodes": len(rows)} | {
                key: math.fsum(float(r.get(key, 0)) for r in rows) / len(rows) for key in KEYS
            }
    return out


def table(records: Iterable[EpisodeRecord], fmt: str = "github") -> str | None:
    """The cost table of a run, or None when no record carries a cost (policies without a model)."""
    found = per_episode(records)
    if not found:
        return None
    rows = [
        [
            task,
            int(c["episodes"]),
            f"{c['tokens_in']:.0f}",
            f"{c['tokens_out']:.0f}",
            f"{c['model_seconds']:.2f}",
            f"{c['rm_calls']:.1f}",
            f"{c['rm_trajectories']:.1f}",
            f"{c['rm_seconds']:.2f}",
        ]
        for task, c in found.items()
    ]
    headers = ["task", "episodes", "tokens in", "tokens out", "model s", "RM calls", "RM trajectories", "RM s"]
    text = tabulate(rows, headers, tablefmt=report.FORMATS[fmt], disable_numparse=True)
    return (
        f"cost per episode (mean)\n\n{text}\n\nmodel s = seconds waiting for the model (overlapping when "
        "episodes run in flight together); tokens in = prompt tokens as the backend counts them"
    )
