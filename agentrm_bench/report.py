"""Scores from records: success and progress rates with standard errors, held-in and held-out tables.

Rates are means over episodes; the standard error is the sample standard deviation over sqrt(n)
(0 for a single episode). The headline metric of each task -- the one the paper's table reports -- is
marked with ``*``. Split averages are unweighted means over the tasks present, as papers average them.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tabulate import tabulate

from . import tasks as task_table
from .episode import EpisodeRecord

FORMATS = {"github": "github", "markdown": "pipe", "latex": "latex_booktabs"}


@dataclass(frozen=True)
class Rate:
    mean: float
    stderr: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Rate:
        n = len(values)
        mean = sum(values) / n
        if n < 2:
            return cls(mean, 0.0)
        variance = sum((v - mean) ** 2 for v in values) / (n - 1)
        return cls(mean, math.sqrt(variance / n))

    def cell(self, marked: bool = False) -> str:
        text = f"{100 * self.mean:.1f} ± {100 * self.stderr:.1f}"
        return text + " *" if marked else text


@dataclass(frozen=True)
class TaskScore:
    task: str
    n: int
    success: Rate
    progress: Rate | None  # None when the task could not measure progress

    def to_json(self) -> dict[str, float | int | None]:
        return {
            "n": self.n,
            "success": self.success.mean,
            "success_stderr": self.success.stderr,
            "progress": self.progress.mean if self.progress else None,
            "progress_stderr": self.progress.stderr if self.progress else None,
        }

    @property
    def headline(self) -> Rate | None:
        metric = task_table.get(self.task).headline
        return self.success if metric == "success" else self.progress


def score(records: Iterable[EpisodeRecord]) -> list[TaskScore]:
    """One score per task present, in task-table order."""
    by_task: dict[str, list[EpisodeRecord]] = defaultdict(list)
    for record in records:
        if record.error is None:
            by_task[record.task].append(record)
    scores = []
    for spec in task_table.specs():
        rows = by_task.get(spec.name)
        if not rows:
            continue
        progress_values = [r.progress for r in rows]
        progress = None
        if all(p is not None for p in progress_values):
            progress = Rate.of([float(p) for p in progress_values])
        scores.append(TaskScore(spec.name, len(rows), Rate.of([float(r.success) for r in rows]), progress))
    return scores


def tables(scores: Sequence[TaskScore], fmt: str = "github") -> str:
    """The held-in and held-out tables, each followed by its average row."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    sections = []
    for split in (task_table.HELD_IN, task_table.HELD_OUT):
        rows = [s for s in scores if task_table.get(s.task).group == split]
        if not rows:
            continue
        body = []
        for s in rows:
            metric = task_table.get(s.task).headline
            body.append(
                [
                    s.task,
                    s.n,
                    s.success.cell(metric == "success"),
                    s.progress.cell(metric == "progress") if s.progress else "n/a",
                ]
            )
        body.append(
            [
                "average",
                sum(s.n for s in rows),
                _average([s.success for s in rows]),
                _average([s.progress for s in rows]),
            ]
        )
        headline = _average([s.headline for s in rows])
        table = tabulate(
            body, headers=["task", "n", "success %", "progress %"], tablefmt=FORMATS[fmt], disable_numparse=True
        )
        sections.append(f"{split} (headline average: {headline})\n\n{table}")
    if not sections:
        return "no finished episodes"
    sections.append("* = the task's headline metric; values are % ± standard error over episodes")
    notes = [task_table.get(s.task).metric_note for s in scores]
    sections.extend(note for note in notes if note)
    return "\n\n".join(sections)


def _average(rates: Sequence[Rate | None]) -> str:
    if not rates or any(r is None for r in rates):
        return "n/a"
    return f"{100 * sum(r.mean for r in rates) / len(rates):.1f}"  # type: ignore[union-attr]
