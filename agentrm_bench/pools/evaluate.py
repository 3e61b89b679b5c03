"""``agentrm-bench rm eval``: a reward model scores a frozen pool, offline, resumably, with its cost.

No environment runs: the pool holds every trajectory. Each instance costs one reward-model call for its
N candidates and one per sampled state for its K siblings -- only the order of scores *within* a call
matters to the metrics, and these are exactly the sets a search compares (a ranking judge ranks the
candidates of one instance together). Scores are appended to ``OUT/scores.jsonl`` one instance per line
(a killed evaluation keeps what it scored; rerunning the same command scores the rest), next to
``OUT/eval.json``, which pins the pool's digest and the reward model's spec, options, settings and
identity: a rerun with another of these is refused rather than mixed.

Cost per instance: calls, trajectories scored, seconds spent in the reward model, and tokens in and out
where the reward model counts them (:meth:`RewardModel.usage`).
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from .. import __version__, rewards
from ..llm.base import run_sync
from ..rewards.base import RewardModel
from .format import Instance, Pool, PoolError
from .metrics import split_averages, task_metrics

EVAL = "eval.json"
SCORES = "scores.jsonl"
METRICS = "metrics.json"
COST_KEYS = ("calls", "trajectories", "seconds", "tokens_in", "tokens_out")
PINNED = ("pool", "rm")  # what must be equal for an evaluation directory to be resumed


class EvalDirectoryError(PoolError):
    """The output directory holds another evaluation (other pool or reward model), or is not one."""


@dataclass
class Evaluation:
    pinned: dict[str, Any]
    scores: dict[tuple[str, int], dict[str, Any]]
    metrics: dict[str, Any]
    averages: dict[str, Any]
    cost: dict[str, float]


def pinned_of(pool: Pool, pool_name: str, spec: str, options: dict[str, Any], rm: RewardModel) -> dict[str, Any]:
    return {
        "pool": {"name": pool_name, "sha256": pool.sha256, "synthetic": pool.synthetic, "n": pool.n},
        "rm": {
            "spec": spec,
            "options": options,
            "settings": rm.settings(),
            "identity": rewards.identify(spec, rm).to_json(),
            "upper_bound": bool(rm.upper_bound),
        },
    }


async def score_instance(rm: RewardModel, instance: Instance) -> dict[str, Any]:
    """The scores of one instance (candidates, then each state's siblings) and what they cost."""
    batches = [[instance.candidate_trajectory(c) for c in range(len(instance.candidates))]]
    for s, state in enumerate(instance.states):
        batches.append([instance.sibling_trajectory(s, j) for j in range(len(state.siblings))])
    before = dict(rm.usage())
    started = time.perf_counter()
    results = [await _scores(rm, batch, instance) for batch in batches]
    seconds = time.perf_counter() - started
    after = rm.usage()
    cost = {
        "calls": len(batches),
        "trajectories": sum(len(b) for b in batches),
        "seconds": round(seconds, 6),
        **{key: int(after.get(key, 0)) - int(before.get(key, 0)) for key in ("tokens_in", "tokens_out")},
    }
    row = {"task": instance.task, "index": instance.index, "candidates": results[0], "states": results[1:]}
    return {**row, "cost": cost}


async def _scores(rm: RewardModel, batch: list[Any], instance: Instance) -> list[float]:
    scores = await rm.ascore(batch)
    if len(scores) != len(batch):
        raise PoolError(f"the reward model gave {len(scores)} scores for {len(batch)} trajectories")
    out = [float(s) for s in scores]
    if not all(math.isfinite(s) for s in out):
        where = f"{instance.task}[{instance.index}]"
        raise PoolError(f"the reward model gave a score that is not a finite number on {where}")
    return out


def evaluate(
    pool: Pool,
    pool_name: str,
    spec: str,
    out: Path,
    options: dict[str, Any] | None = None,
    show_progress: bool = True,
    only: set[tuple[str, int]] | None = None,
) -> Evaluation:
    """Score every instance of ``pool`` not yet scored in ``out``, then the metrics of all of them."""
    options = dict(options or {})
    rm = rewards.make_rm(spec, **options)
    pinned = pinned_of(pool, pool_name, spec, options, rm)
    check_or_write(out, pinned)
    done = read_scores(out)
    todo = [i for i in pool.instances if i.key not in done and (only is None or i.key in only)]
    bar = tqdm(
        total=len(pool.instances),
        initial=len(pool.instances) - len(todo),
        desc="rm eval",
        unit="inst",
        disable=not show_progress,
        dynamic_ncols=True,
    )

    async def score_all() -> None:  # one event loop for the whole evaluation (a model's batcher lives in it)
        try:
            for instance in todo:
                row = await score_instance(rm, instance)
                _append(Path(out) / SCORES, row)
                done[instance.key] = row
                bar.update(1)
        finally:
            bar.close()
            model = getattr(rm, "llm", None)  # a judge's HTTP client belongs to this loop
            if model is not None and hasattr(model, "aclose"):
                await model.aclose()

    run_sync(score_all())
    return summarise(pool, pinned, done, out)


def summarise(pool: Pool, pinned: dict[str, Any], done: dict[tuple[str, int], dict[str, Any]], out: Path) -> Evaluation:
    """The metrics of a complete evaluation (written to ``OUT/metrics.json``); partial ones are refused."""
    missing = [i.key for i in pool.instances if i.key not in done]
    if missing:
        raise PoolError(f"{len(missing)} of {len(pool.instances)} instances not scored yet (first: {missing[0]})")
    check_shapes(pool, done)
    metrics = task_metrics(pool, done)
    averages = split_averages(metrics, pool.n)
    cost = total_cost(done[i.key]["cost"] for i in pool.instances)
    payload = {"pinned": pinned, "metrics": metrics, "averages": averages, "cost": cost, "harness_version": __version__}
    _atomic_write(Path(out) / METRICS, json.dumps(payload, indent=2, sort_keys=True) + "\n")
    return Evaluation(pinned, done, metrics, averages, cost)


def check_shapes(pool: Pool, scores: dict[tuple[str, int], dict[str, Any]]) -> None:
    """One score per candidate and per sibling of each instance, or a :class:`PoolError` naming where not."""
    for instance in pool.instances:
        row = scores.get(instance.key)
        if row is None:
            raise PoolError(f"no scores for {instance.task}[{instance.index}]")
        shape = [len(s.siblings) for s in instance.states]
        if len(row["candidates"]) != len(instance.candidates) or [len(s) for s in row["states"]] != shape:
            raise PoolError(f"the scores of {instance.task}[{instance.index}] do not match the pool's candidates")


def total_cost(costs: Any) -> dict[str, float]:
    total = dict.fromkeys(COST_KEYS, 0.0)
    for cost in costs:
        for key in COST_KEYS:
            total[key] += float(cost.get(key, 0))
    total["seconds"] = round(total["seconds"], 3)
    return {k: (v if k == "seconds" else int(v)) for k, v in total.items()}


def check_or_write(out: Path, pinned: dict[str, Any]) -> None:
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise EvalDirectoryError(f"{out} is a file, not an evaluation directory; give --out a directory")
    path = out / EVAL
    if path.exists():
        existing = json.loads(path.read_text())
        for key in PINNED:
            if existing.get(key) != pinned[key]:
                raise EvalDirectoryError(
                    f"{out} holds an evaluation of another {'pool' if key == 'pool' else 'reward model'} "
                    f"({_differs(existing.get(key), pinned[key])}); use another --out directory"
                )
        return
    out.mkdir(parents=True, exist_ok=True)
    _atomic_write(path, json.dumps({**pinned, "harness_version": __version__}, indent=2, sort_keys=True) + "\n")


def _differs(old: Any, new: Any) -> str:
    if isinstance(old, dict) and isinstance(new, dict):
        keys = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
        return ", ".join(f"{k}: {old.get(k)!r} there, {new.get(k)!r} now" for k in keys)
    return f"{old!r} there, {new!r} now"


def read_pinned(out: Path) -> dict[str, Any]:
    path = Path(out) / EVAL
    if not path.is_file():
        raise EvalDirectoryError(f"{out} is not an evaluation directory (no {EVAL}; made by agentrm-bench rm eval)")
    return json.loads(path.read_text())


def read_scores(out: Path) -> dict[tuple[str, int], dict[str, Any]]:
    """The scored instances of an evaluation; a torn last line (a kill mid-write) is dropped and removed."""
    path = Path(out) / SCORES
    if not path.exists():
        return {}
    raw = path.read_bytes()
    rows, good = {}, 0
    for line in raw.splitlines(keepends=True):
        if not line.endswith(b"\n"):
            break
        row = json.loads(line)
        rows[(row["task"], int(row["index"]))] = row
        good += len(line)
    if good < len(raw):
        with open(path, "r+b") as handle:
            handle.truncate(good)
    return rows


def _append(path: Path, row: dict[str, Any]) -> None:
    line = (json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def _atomic_write(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text)
    os.replace(temporary, path)
