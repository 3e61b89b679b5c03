"""``agentrm-bench plot best-of-k``: Best-of-k curves of reward models on a pool, between their bounds.

One panel per task and one for the average over tasks; each evaluation directory (``rm eval --out``) is
one curve, and each pool its two bounds: oracle@k (dashed: the best candidate of the k) and random (dotted,
flat: the mean candidate). The values are exact expectations over k-subsets (:mod:`.metrics`), so there
are no error bars to draw for the choice of subsets.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..plot import PlotError, grid, save_grid
from .evaluate import METRICS
from .format import PoolError


def _load(run: Path) -> dict[str, Any]:
    path = Path(run) / METRICS
    if not path.is_file():
        raise PoolError(f"{run} has no {METRICS}: not a finished evaluation (agentrm-bench rm eval --out {run})")
    return json.loads(path.read_text())


def curves(runs: Sequence[Path], metric: str = "headline") -> dict[str, dict[str, dict[int, float]]]:
    """panel -> label -> k -> value; the ``average`` panel is the mean over the tasks of each curve."""
    panels: dict[str, dict[str, dict[int, float]]] = {}
    found_all = [(run, _load(run)) for run in runs]
    several_pools = len({found["pinned"]["pool"]["sha256"] for _, found in found_all}) > 1
    used: set[str] = set()
    for run, found in found_all:
        pool = found["pinned"]["pool"]
        rm = found["pinned"]["rm"]
        label = rm["identity"]["name"] + (" [oracle]" if rm.get("upper_bound") else "")
        if label in used:  # two evaluations of the same kind: tell them apart by their folders
            label = f"{label} ({Path(run).name})"
        used.add(label)
        tag = f" ({pool['name']})" if several_pools else ""
        for task, entry in found["metrics"].items():
            cell = entry.get(entry["headline"] if metric == "headline" else metric)
            if cell is None:
                continue
            panel = panels.setdefault(task, {})
            panel[label] = {int(k): v for k, v in cell["best_of_k"].items()}
            panel[f"oracle@k{tag}"] = {int(k): v for k, v in cell["oracle_at_k"].items()}
            panel[f"random{tag}"] = {int(k): cell["random"] for k in cell["best_of_k"]}
    if not panels:
        raise PoolError("the evaluations hold no Best-of-k values for that metric")
    average: dict[str, dict[int, float]] = {}
    for label in {lab for p in panels.values() for lab in p}:
        xs = sorted({k for p in panels.values() for k in p.get(label, {})})
        average[label] = {}
        for k in xs:
            values = [p[label][k] for p in panels.values() if k in p.get(label, {})]
            average[label][k] = sum(values) / len(values)
    panels["average"] = average
    return panels


def best_of_k(runs: Sequence[Path], out: Path, metric: str = "headline") -> list[Path]:
    """Draw the figure; returns the PNG and SVG paths written."""
    panels = curves(runs, metric)
    names = list(panels)
    try:
        fig, axes = grid(len(names))
    except PlotError as exc:
        raise PoolError(str(exc)) from None
    for ax, name in zip(axes.flat, names, strict=False):
        for label, points in sorted(panels[name].items()):
            xs = sorted(points)
            style: dict[str, Any] = {"marker": "o"}
            if label.startswith("oracle@k"):
                style = {"linestyle": "--", "color": "grey"}
            elif label.startswith("random"):
                style = {"linestyle": ":", "color": "black"}
            ax.plot(xs, [points[x] for x in xs], label=label, **style)
        ax.set_xscale("log", base=2)
        ax.set_title(name)
        ax.set_xlabel("k (candidates the reward model chooses among)")
        ax.set_ylabel(metric if metric != "headline" else "headline metric")
        ax.set_ylim(-0.05, 1.05)
        ax.grid(alpha=0.3)
    title = "Best-of-k on a frozen pool (oracle@k and random are bounds, not reward models)"
    return save_grid(fig, axes, len(names), title, out)
