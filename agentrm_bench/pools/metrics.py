"""What a reward model's scores on a pool are worth: Best-of-k with its bounds, step-level accuracy.

Best-of-k is an *expectation over every k-subset* of an instance's N candidates, computed exactly, not
sampled: the reward model picks the highest-scored candidate of a uniformly drawn k-subset, ties broken
uniformly. If the candidates' distinct scores are sorted and ``below`` candidates score lower than a
tied group G, the subset's best is in G with probability (C(below + |G|, k) - C(below, k)) / C(N, k),
and then (by symmetry) it is any member of G with equal chance. With the outcome as the score this is
oracle@k (the best any reward model can do); with equal scores it is random@k, the mean outcome, the
same for every k -- a reward model that cannot tell candidates apart scores exactly that.

Step level, at each sampled state the siblings' Monte Carlo values are the truth: *best-of-siblings*
credits the share of the reward model's top-scored siblings that have the highest value; *pairwise*
counts, over sibling pairs of different value, the pairs the reward model orders the same way (a tie
counts a half). States whose siblings all have the same value say nothing and are left out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from .. import tasks as task_table
from .format import Instance, Pool

EQUAL = 1e-9  # values closer than this are the same value


def ks(n: int) -> list[int]:
    """1, 2, 4, ... up to n, and n itself."""
    out = [1]
    while out[-1] * 2 <= n:
        out.append(out[-1] * 2)
    return out if out[-1] == n else [*out, n]


def expected_best(scores: Sequence[float], values: Sequence[float], k: int) -> float:
    """The expected value of the top-scored candidate of a uniform k-subset (ties uniform); exact."""
    n = len(scores)
    if not 1 <= k <= n or len(values) != n:
        raise ValueError(f"k must be in [1, {n}] with one value per score, got k={k}, {len(values)} values")
    levels: dict[float, list[float]] = {}
    for score, value in zip(scores, values, strict=True):
        levels.setdefault(float(score), []).append(float(value))
    total, below, subsets = 0.0, 0, math.comb(n, k)
    for score in sorted(levels):
        group = levels[score]
        chance = (math.comb(below + len(group), k) - math.comb(below, k)) / subsets
        total += chance * math.fsum(group) / len(group)
        below += len(group)
    return total


def step_credit(scores: Sequence[float], values: Sequence[float]) -> tuple[float, float, int] | None:
    """(best-of-siblings credit, pairwise credit, pairs) at one state; None when it says nothing."""
    if len(values) < 2 or max(values) - min(values) <= EQUAL:
        return None
    top = max(scores)
    chosen = [v for s, v in zip(scores, values, strict=True) if s == top]
    best = sum(v >= max(values) - EQUAL for v in chosen) / len(chosen)
    credit, pairs = 0.0, 0
    for a in range(len(values)):
        for b in range(a + 1, len(values)):
            if abs(values[a] - values[b]) <= EQUAL:
                continue
            pairs += 1
            if scores[a] == scores[b]:
                credit += 0.5
            elif (scores[a] > scores[b]) == (values[a] > values[b]):
                credit += 1.0
    return best, credit, pairs


def metric_of(task: str) -> str:
    return task_table.get(task).headline


def instance_bok(instance: Instance, scores: Sequence[float], metric: str, n: int) -> dict[str, Any] | None:
    """Best-of-k, random and oracle@k of one instance under ``metric``; None when the outcomes lack it."""
    values = [c.outcome.value(metric) for c in instance.candidates]
    if any(v is None for v in values):
        return None
    known = [float(v) for v in values]  # type: ignore[arg-type]
    return {
        "rm": {k: expected_best(scores, known, k) for k in ks(n)},
        "oracle": {k: expected_best(known, known, k) for k in ks(n)},
        "random": math.fsum(known) / len(known),
    }


def task_metrics(pool: Pool, scores: dict[tuple[str, int], dict[str, Any]]) -> dict[str, Any]:
    """Per task: instances, Best-of-k / oracle@k / random for success and progress, step-level accuracy.

    ``scores`` maps (task, index) to ``{"candidates": [...], "states": [[...], ...]}`` (one score per
    candidate, per sibling). Keys of k are strings, as JSON keeps them.
    """
    out: dict[str, Any] = {}
    for task in pool.tasks():
        rows = [i for i in pool.instances if i.task == task]
        entry: dict[str, Any] = {"n": len(rows), "headline": metric_of(task)}
        for metric in ("success", "progress"):
            per = [instance_bok(i, scores[i.key]["candidates"], metric, pool.n) for i in rows]
            if any(p is None for p in per):
                entry[metric] = None
                continue
            entry[metric] = {
                "best_of_k": {str(k): _mean([p["rm"][k] for p in per]) for k in ks(pool.n)},  # type: ignore[index]
                "oracle_at_k": {str(k): _mean([p["oracle"][k] for p in per]) for k in ks(pool.n)},  # type: ignore[index]
                "random": _mean([p["random"] for p in per]),  # type: ignore[index]
            }
        entry["step"] = _step(rows, scores, entry["headline"])
        out[task] = entry
    return out


def _step(rows: list[Instance], scores: dict[tuple[str, int], dict[str, Any]], metric: str) -> dict[str, Any]:
    best, credit, pairs, states, informative = [], 0.0, 0, 0, 0
    for instance in rows:
        for state, row in zip(instance.states, scores[instance.key]["states"], strict=True):
            states += 1
            values = [s.value(metric) for s in state.siblings]
            if any(v is None for v in values):
                continue
            found = step_credit(row, values)  # type: ignore[arg-type]
            if found is None:
                continue
            informative += 1
            best.append(found[0])
            credit += found[1]
            pairs += found[2]
    return {
        "states": states,
        "informative": informative,
        "best_of_siblings": _mean(best) if best else None,
        "pairwise": credit / pairs if pairs else None,
        "pairs": pairs,
    }


def _mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values)


def headline(entry: dict[str, Any], what: str, k: int | None = None) -> float | None:
    """A task entry's headline value: ``what`` is best_of_k / oracle_at_k (at ``k``) or random."""
    cell = entry.get(entry["headline"])
    if cell is None:
        return None
    return cell[what] if what == "random" else cell[what][str(k)]


def split_averages(metrics: dict[str, Any], n: int) -> dict[str, Any]:
    """Unweighted means over the tasks present of each split: Best-of-N, oracle@N, random (headline) and
    the step accuracies, with how many tasks each covers."""
    out: dict[str, Any] = {}
    for split in (task_table.HELD_IN, task_table.HELD_OUT, "all"):
        names = [t for t in metrics if split == "all" or task_table.get(t).group == split]
        cell: dict[str, Any] = {"tasks": len(names)}
        wanted = (("best_of_n", "best_of_k", n), ("oracle_at_n", "oracle_at_k", n), ("random", "random", None))
        for key, what, k in wanted:
            values = [headline(metrics[t], what, k) for t in names]
            present = [v for v in values if v is not None]
            cell[key] = _mean(present) if present else None
        for key in ("best_of_siblings", "pairwise"):
            present = [metrics[t]["step"][key] for t in names if metrics[t]["step"][key] is not None]
            cell[key] = _mean(present) if present else None
        out[split] = cell
    return out
