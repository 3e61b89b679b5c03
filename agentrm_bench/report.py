"""Scores from records: success and progress rates with standard errors, held-in and held-out tables.

Rates are means over episodes; the standard error is the sample standard deviation over sqrt(n)
(0 for a single episode). The headline metric of each task -- the one the paper's table reports -- is
marked with ``*``. Split averages are unweighted means over the tasks present, as papers average them.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tabulate import tabulate

from . import manifest as manifest_mod
from . import tasks as task_table
from .episode import EpisodeRecord
from .records import RecordStore

FORMATS = {"github": "github", "markdown": "pipe", "latex": "latex_booktabs"}


@dataclass(frozen=True)
class Rate:
    mean: float
    stderr: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Rate:
        """Mean and standard error; exactly rounded sums (``math.fsum``), so the order in which records
        come (run order, a submission's sorted file) never changes a digit of a score."""
        n = len(values)
        mean = math.fsum(values) / n
        if n < 2:
            return cls(mean, 0.0)
        variance = math.fsum((v - mean) ** 2 for v in values) / (n - 1)
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


@dataclass(frozen=True)
class Coverage:
    """What a run set out to cover, so that a report can say what its scores do not.

    ``planned``: episodes per task in the run's plan; ``full``: the size of the task's split (what a score
    comparable with others covers); ``errored``: episodes whose last outcome is an error; ``notes``: why a
    task may not measure progress (the data note pinned in the run's manifest).
    """

    planned: Mapping[str, int] = field(default_factory=dict)
    full: Mapping[str, int] = field(default_factory=dict)
    errored: Mapping[str, int] = field(default_factory=dict)
    notes: Mapping[str, str] = field(default_factory=dict)

    def missing(self, task: str, n: int) -> str | None:
        """What ``task``'s row lacks to cover its whole split (e.g. ``2/112, 3 errored``), or None."""
        full = self.full.get(task, n)
        parts = [f"{n}/{full}"] if n < full else []
        if self.errored.get(task):
            parts.append(f"{self.errored[task]} errored")
        return ", ".join(parts) or None


def coverage(run_dir: Path) -> Coverage:
    """The coverage of a run directory: its manifest's plan, its records and its errors."""
    pinned = manifest_mod.read(run_dir)
    config = pinned.get("config", {})
    split, limit, subset = config.get("split", "test"), config.get("limit"), config.get("subset")
    planned, full, notes = {}, {}, {}
    for name in config.get("tasks", []):
        spec = task_table.get(name)
        full[name] = spec.sizes.get(split, 0)
        if subset:  # a declared subset is the whole of what such a run covers (and is labelled as such)
            full[name] = min(full[name], subset)
        planned[name] = min(full[name], limit) if limit else full[name]
        notes[name] = (pinned.get("data") or {}).get(name, {}).get("note", "")
    store = RecordStore(run_dir)
    finished = store.finished()
    errored: dict[str, int] = defaultdict(int)
    for key in {r.key for r in store.errors()} - finished.keys():
        errored[key[0]] += 1
    return Coverage(planned, full, dict(errored), notes)


def tables(scores: Sequence[TaskScore], fmt: str = "github", cover: Coverage | None = None) -> str:
    """The held-in and held-out tables, each with its average row, saying what they do not cover.

    Every task of a split is listed (``not run`` when the run did not include it); a split average --
    the headline -- is given only when every task of the split covered its whole split without errors,
    because an average over part of a split does not compare with a full one. Every ``n/a`` says why.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    cover = cover or Coverage()
    by_task = {s.task: s for s in scores}
    sections = []
    for group in (task_table.HELD_IN, task_table.HELD_OUT):
        names = [s.name for s in task_table.table(group)]
        names += [s.task for s in scores if s.task not in names and task_table.get(s.task).group == group]
        body, gaps = [], []
        for name in names:
            row, gap = _row(name, by_task.get(name), cover)
            body.append(row)
            if gap:
                gaps.append(gap)
        ran = [by_task[n] for n in names if n in by_task]
        if gaps:
            why = f"n/a (incomplete: {'; '.join(gaps)})"
            body.append(["average", str(sum(s.n for s in ran)), "n/a", "n/a"])
            title = f"{group} (headline average: {why})"
        else:
            body.append(
                [
                    "average",
                    str(sum(s.n for s in ran)),
                    _average([s.success for s in ran]),
                    _average([s.progress for s in ran], [s.task for s in ran], cover),
                ]
            )
            title = f"{group} (headline average: {_average([s.headline for s in ran], [s.task for s in ran], cover)})"
        headers = ["task", "n", "success %", "progress %"]
        sections.append(f"{title}\n\n{_tabulate(body, headers, fmt)}")
    sections.append("* = the task's headline metric; values are % ± standard error over episodes")
    notes = [task_table.get(s.task).metric_note for s in scores]
    sections.extend(note for note in notes if note)
    text = "\n\n".join(sections)
    if fmt == "latex":
        text = _latex_document(text)
    return text


def _row(name: str, score: TaskScore | None, cover: Coverage) -> tuple[list[str], str | None]:
    """A task's table row, and what it lacks for a comparable split average (None: nothing)."""
    if score is None:
        errored = cover.errored.get(name, 0)
        if not errored:
            return [name, "0", "not run", "not run"], f"{name} not run"
        n = f"0/{cover.full.get(name, errored)}, {errored} errored"
        return [name, n, "n/a (every episode errored)", "n/a (every episode errored)"], f"{name} {n} episodes"
    metric = task_table.get(name).headline
    missing = cover.missing(name, score.n)
    n = missing or str(score.n)
    if score.progress is not None:
        progress = score.progress.cell(metric == "progress")
    else:
        progress = f"n/a ({_progress_note(name, cover)})"
    row = [name, n, score.success.cell(metric == "success"), progress]
    gap = f"{name} {missing} episodes" if missing else None
    if gap is None and metric == "progress" and score.progress is None:
        gap = f"{name} has no progress"
    return row, gap


def _progress_note(task: str, cover: Coverage) -> str:
    note = cover.notes.get(task, "")
    if note and note != "ready":
        return note
    return "the task reported no progress for these episodes"


def _average(rates: Sequence[Rate | None], tasks: Sequence[str] = (), cover: Coverage | None = None) -> str:
    if not rates:
        return "n/a (no task ran)"
    missing = [t for t, r in zip(tasks, rates, strict=False) if r is None]
    if any(r is None for r in rates):
        return f"n/a (no progress: {', '.join(missing)})" if missing else "n/a"
    return f"{100 * sum(r.mean for r in rates) / len(rates):.1f}"  # type: ignore[union-attr]


def _tabulate(body: list[list[str]], headers: list[str], fmt: str) -> str:
    if fmt != "latex":
        return tabulate(body, headers=headers, tablefmt=FORMATS[fmt], disable_numparse=True)
    marked = [[cell.replace("±", "PLUSMINUS") for cell in row] for row in body]
    text = tabulate(marked, headers=headers, tablefmt=FORMATS[fmt], disable_numparse=True)
    return text.replace("PLUSMINUS", "$\\pm$")


def _latex_document(text: str) -> str:
    """Plain-text lines become LaTeX comments, so the output compiles as is (with booktabs)."""
    text = text.replace("±", "+-")  # in the comments; the tables already say $\\pm$
    out = ["% agentrm-bench report; needs \\usepackage{booktabs}"]
    in_table = False
    for line in text.splitlines():
        if line.startswith("\\begin{tabular}"):
            in_table = True
        if in_table or not line.strip():
            out.append(line)
        else:
            out.append("% " + line)
        if line.startswith("\\end{tabular}"):
            in_table = False
    return "\n".join(out)
