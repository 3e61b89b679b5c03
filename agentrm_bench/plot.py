"""``agentrm-bench plot scaling``: score against test-time compute, the paper's scaling analysis.

For Best-of-N runs the curve is computed from the candidates each record keeps: the best-of-k choice
for k = 1..N is the reward model's pick among the first k samples (the samples are independent, so
this is Best-of-k), and oracle@k is the best outcome among them -- the upper bound of any reward model.
Beam runs give one point per run at their beam width; greedy runs a point at 1. One panel per task plus
the average over tasks; error bars are one standard error over episodes (for the average, the root of
the mean of the squared per-task errors divided by the number of tasks).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from . import manifest
from . import tasks as task_table
from .records import read_records


class PlotError(ValueError):
    pass


Series = dict[str, dict[int, list[float]]]
ORACLE_STYLES = {
    "oracle@N": {"linestyle": "--", "color": "grey"},
    "oracle (beam finals)": {"linestyle": ":", "color": "black"},
}  # label -> x -> per-episode values (one task)


def _metric_of(task: str, metric: str) -> str:
    if metric != "headline":
        return metric
    try:
        return task_table.get(task).headline
    except task_table.UnknownTaskError:
        return "success"


def _value(success: bool, progress: float | None, metric: str) -> float | None:
    if metric == "success":
        return float(success)
    return None if progress is None else float(progress)


def collect(runs: Iterable[Path], metric: str = "headline") -> dict[str, Series]:
    """task -> series label -> x -> values, from the records of ``runs``."""
    data: dict[str, Series] = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    for run in runs:
        info = manifest.read(run)
        if not info:
            raise PlotError(f"{run} is not a run directory (no {manifest.MANIFEST})")
        settings = info.get("policy_settings", {})
        strategy = settings.get("strategy") or info.get("config", {}).get("policy", "?")
        rm = settings.get("rm") or "no RM"
        for record in read_records(run):
            m = _metric_of(record.task, metric)
            extra = record.extra or {}
            if strategy == "best-of-n" and "scores" in extra:
                _best_of_k(data[record.task], f"best-of-n ({rm})", extra, m)
            else:
                x = int(settings.get("beam_width", 1)) if strategy == "beam" else 1
                value = _value(record.success, record.progress, m)
                if value is not None:
                    data[record.task][f"{strategy} ({rm})" if strategy == "beam" else strategy][x].append(value)
                if strategy == "beam" and "oracle_success" in extra:
                    oracle = _value(extra["oracle_success"], extra.get("oracle_progress"), m)
                    if oracle is not None:
                        data[record.task]["oracle (beam finals)"][x].append(oracle)
    if not data:
        raise PlotError("the runs hold no finished episodes")
    return data


def _best_of_k(series: Series, label: str, extra: dict[str, Any], metric: str) -> None:
    scores = extra["scores"]
    success = extra["candidate_success"]
    progress = extra["candidate_progress"]
    for k in range(1, len(scores) + 1):
        pick = max(range(k), key=lambda i: (scores[i], -i))
        value = _value(success[pick], progress[pick], metric)
        if value is not None:
            series[label][k].append(value)
        known = [_value(success[i], progress[i], metric) for i in range(k)]
        known = [v for v in known if v is not None]
        if known:
            series["oracle@N"][k].append(max(known))


def mean_se(values: Sequence[float]) -> tuple[float, float]:
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, 0.0
    var = sum((v - mean) ** 2 for v in values) / (len(values) - 1)
    return mean, math.sqrt(var / len(values))


def summarise(data: dict[str, Series]) -> dict[str, dict[str, dict[int, tuple[float, float]]]]:
    """panel -> label -> x -> (mean, se); panel "average" is the mean over tasks having that point."""
    panels: dict[str, dict[str, dict[int, tuple[float, float]]]] = {}
    for task, series in sorted(data.items()):
        panels[task] = {label: {x: mean_se(v) for x, v in sorted(xs.items())} for label, xs in series.items()}
    average: dict[str, dict[int, tuple[float, float]]] = defaultdict(dict)
    labels = {label for panel in panels.values() for label in panel}
    for label in labels:
        xs = {x for panel in panels.values() for x in panel.get(label, {})}
        for x in sorted(xs):
            points = [panel[label][x] for panel in panels.values() if x in panel.get(label, {})]
            mean = sum(p[0] for p in points) / len(points)
            se = math.sqrt(sum(p[1] ** 2 for p in points)) / len(points)
            average[label][x] = (mean, se)
    panels["average"] = dict(average)
    return panels


def scaling(runs: Sequence[Path], out: Path, metric: str = "headline") -> list[Path]:
    """Draw the scaling figure of ``runs``; returns the PNG and SVG paths written."""
    panels = summarise(collect(runs, metric))
    names = list(panels)
    fig, axes = grid(len(names))
    for ax, name in zip(axes.flat, names, strict=False):
        for label, points in sorted(panels[name].items()):
            xs = sorted(points)
            style = ORACLE_STYLES.get(label, {})
            ax.errorbar(
                xs,
                [points[x][0] for x in xs],
                yerr=[points[x][1] for x in xs],
                marker="o",
                capsize=3,
                label=label,
                **style,
            )
        ax.set_title(name)
        ax.set_xlabel("N (best-of-n) / beam width")
        ax.set_ylabel(metric if metric != "headline" else "headline metric")
        ax.set_ylim(-0.05, 1.05)
        ax.grid(alpha=0.3)
    title = "Test-time scaling (oracle curves are upper bounds, not reward models)"
    return save_grid(fig, axes, len(names), title, out)


def grid(panels: int) -> tuple[Any, Any]:
    """A figure of ``panels`` panels, three to a row (matplotlib's Agg backend: no display needed)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise PlotError("plots need matplotlib: pip install 'agentrm-bench[plot]'") from None
    cols = min(3, panels)
    rows = math.ceil(panels / cols)
    return plt.subplots(rows, cols, figsize=(4.2 * cols, 3.4 * rows), squeeze=False)


def save_grid(fig: Any, axes: Any, used: int, title: str, out: Path | str) -> list[Path]:
    """Blank the unused panels, add the legend and title, write OUT.png and OUT.svg; returns their paths."""
    import matplotlib.pyplot as plt

    for ax in list(axes.flat)[used:]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    written = [out.with_suffix(".png"), out.with_suffix(".svg")]
    for path in written:
        fig.savefig(path, dpi=120)
    plt.close(fig)
    return written
