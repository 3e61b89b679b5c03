"""Several trials per instance: ``run --trials T`` is T ordinary runs, and ``report`` shows their spread.

A single run of a sampling policy is one draw: its score moves with the seed. Trial t (1-based) is a
complete run in ``OUT/trial-t`` with base seed ``seed + t - 1`` -- so every trial resumes, reports and
submits like any run -- and ``OUT/trials.json`` says how many there are. The spread is over trials: per
task, the mean of the trials' rates, their standard deviation (between trials, not the standard error
within one) and their range.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from tabulate import tabulate

from . import harness, report
from . import tasks as task_table
from .manifest import RunConfig
from .records import read_records

TRIALS = "trials.json"
_TRIAL = re.compile(r"^trial-(\d+)$")


def trial_dir(out: Path, trial: int) -> Path:
    return Path(out) / f"trial-{trial}"


def is_trials(out: Path) -> bool:
    return (Path(out) / TRIALS).is_file()


def trial_dirs(out: Path) -> list[Path]:
    """The trials' run directories, in trial order."""
    found = [(int(m.group(1)), p) for p in Path(out).iterdir() if p.is_dir() and (m := _TRIAL.match(p.name))]
    return [p for _, p in sorted(found)]


def run(config: RunConfig, out: Path, trials: int, **options: Any) -> list[harness.RunSummary]:
    """Run ``trials`` trials of ``config`` (each resumable on its own); their summaries."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / TRIALS).write_text(json.dumps({"trials": trials, "seeds": [config.seed + t for t in range(trials)]}) + "\n")
    return [harness.run(replace(config, seed=config.seed + t), trial_dir(out, t + 1), **options) for t in range(trials)]


def _stats(values: Sequence[float]) -> tuple[float, float, float, float]:
    mean = math.fsum(values) / len(values)
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (len(values) - 1)) if len(values) > 1 else 0.0
    return mean, sd, min(values), max(values)


def spread(out: Path) -> dict[str, dict[str, Any]]:
    """Per task: trials, episodes per trial, and (mean, sd, min, max) of success and progress over trials."""
    per_trial = [{s.task: s for s in report.score(read_records(d))} for d in trial_dirs(out)]
    found: dict[str, dict[str, Any]] = {}
    for spec in task_table.specs():
        scores = [t[spec.name] for t in per_trial if spec.name in t]
        if not scores:
            continue
        row: dict[str, Any] = {"trials": len(scores), "episodes": [s.n for s in scores]}
        row["success"] = _stats([s.success.mean for s in scores])
        progress = [s.progress.mean for s in scores if s.progress is not None]
        row["progress"] = _stats(progress) if len(progress) == len(scores) else None
        row["headline"] = spec.headline
        found[spec.name] = row
    return found


def table(out: Path, fmt: str = "github") -> str:
    rows = []
    for task, row in spread(out).items():
        cells = []
        for metric in ("success", "progress"):
            value = row[metric]
            mark = " *" if metric == row["headline"] else ""
            cells.append(
                "n/a"
                if value is None
                else f"{100 * value[0]:.1f} ± {100 * value[1]:.1f} ({100 * value[2]:.1f}–{100 * value[3]:.1f}){mark}"
            )
        episodes = sorted(set(row["episodes"]))
        rows.append([task, row["trials"], "/".join(map(str, episodes)), *cells])
    headers = ["task", "trials", "episodes a trial", "success %", "progress %"]
    text = tabulate(rows, headers, tablefmt=report.FORMATS[fmt], disable_numparse=True)
    return (
        f"{text}\n\nmean ± standard deviation over trials (min–max); * = the task's headline metric; each trial "
        "is a run in trial-N/ (agentrm-bench report DIR/trial-N for its own tables)"
    )
