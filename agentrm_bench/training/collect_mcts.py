"""``agentrm-bench collect mcts``: MCTS-labelled states of non-test instances (see :mod:`.mcts`).

Output folder:

- ``trees/<task>-<index>.json`` -- one search tree per instance (every node: parent, depth, action,
  observation, visits, value; the rollouts with their outcomes), written atomically;
- ``instances.jsonl`` -- one line per finished instance (the resume point; its cost: nodes, model
  tokens, environment steps, seconds);
- ``values.jsonl`` -- the flat table: per visited node below the root, its partial trajectory and value
  (what ``train rm --kind explicit`` regresses on);
- ``outcomes.jsonl`` -- every rollout as a complete trajectory with its success and progress (what
  ``train rm --kind implicit`` learns from);
- ``manifest.json`` -- the settings, the model's identity and, when done, counts, digests and nodes/s.

``--executor ray`` searches instances as Ray tasks (each worker loads the model once; serve a large
one and pass ``--model openai:URL``); only this process writes, so resume is the same.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from tqdm import tqdm

from .. import tasks
from ..executors.worker import episode_seed
from . import artifacts, chat_format, pools
from .mcts import Search, Settings

INSTANCES = "instances.jsonl"
VALUES = "values.jsonl"
OUTCOMES = "outcomes.jsonl"
TREES = "trees"


def collect(
    model: str,
    task_names: Sequence[str],
    out: Path,
    *,
    split: str | None = None,
    limit: int | None = None,
    skip: int = 0,
    settings: Settings | None = None,
    history: int | None = chat_format.DEFAULT_HISTORY,
    max_turns: int | None = None,
    seed: int = 0,
    executor: str = "local",
    ray_address: str | None = None,
    show_progress: bool = True,
) -> dict[str, Any]:
    from ..llm import check_spec
    from ..llm.base import ModelSpecError

    settings = settings or Settings()
    specs = [tasks.get(name) for name in task_names]
    for spec in specs:
        ok, reason = tasks.availability(spec)
        if not ok:
            raise tasks.TaskUnavailableError(f"{spec.name} is not available: {reason}")
        pools.check_split(spec.name, split or pools.default_split(spec.name))
    try:
        check_spec(model)
    except ModelSpecError as exc:
        raise artifacts.TrainingError(str(exc)) from None
    job = {
        "model": model,
        "history": history,
        "max_turns": max_turns,
        "seed": seed,
        "search": settings.to_json(),
    }
    identity = {"tasks": [s.name for s in specs], "split": split, "limit": limit, "skip": skip, **job}
    inputs = {"model": _model_folder(model)} if _model_folder(model) else None
    artifacts.start(out, "collect mcts", identity, inputs=inputs)
    rows = artifacts.Rows(out / INSTANCES)
    done = {(r["task"], r["index"]) for r in rows.read()}
    plan = []
    for spec in specs:
        chosen = split or pools.default_split(spec.name)
        stop = spec.sizes[chosen] if limit is None else min(spec.sizes[chosen], skip + limit)
        # rows of the pool that are also test instances (ScienceWorld has two) are never played
        plan.extend(
            (spec.name, chosen, i) for i in range(skip, stop) if not pools.is_test_instance(spec.name, chosen, i)
        )
    todo = [p for p in plan if (p[0], p[2]) not in done]
    for task, chosen, index in todo:
        if pools.is_test_instance(task, chosen, index):
            raise artifacts.TrainingError(f"{task} {chosen}[{index}] is a test instance")
    bar = tqdm(total=len(plan), initial=len(plan) - len(todo), desc="mcts", unit="inst", disable=not show_progress)
    results = _ray(job, todo, ray_address) if executor == "ray" else _local(job, todo)
    try:
        for tree, summary in results:
            artifacts.write_json(out / TREES / f"{summary['task']}-{summary['index']}.json", tree)
            rows.append(summary)
            bar.update(1)
            bar.set_postfix(nodes=summary["nodes"], refresh=False)
    finally:
        bar.close()
    return finalize(out)


def _model_folder(model: str) -> str | None:
    if model.startswith("hf:"):
        return model[3:]
    return None


# ------------------------------------------------------------------------------ executors
_CACHE: dict[str, Any] = {}  # per process: the model and the environments, built once


def search_instance(job: dict[str, Any], task: str, split: str, index: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Search one instance (in this process); the tree and the instance's summary line."""
    import gymnasium as gym

    from ..llm import make_llm
    from ..llm.base import run_sync

    if _CACHE.get("model_spec") != job["model"]:
        _CACHE.clear()
        _CACHE["model_spec"] = job["model"]
        _CACHE["llm"] = make_llm(job["model"])
    key = f"env:{task}:{split}"
    if key not in _CACHE:
        _CACHE[key] = gym.make(
            tasks.get(task).id, split=split, **({"max_turns": job["max_turns"]} if job["max_turns"] else {})
        )
    settings = Settings(**job["search"])
    seed = episode_seed(job["seed"], task, index)
    search = Search(_CACHE[key], task, index, seed, _CACHE["llm"], chat_format.prompter(task, job["history"]), settings)
    started, cpu_started = time.perf_counter(), time.process_time()
    tree = run_sync(search.search())
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    summary = {
        "task": task,
        "split": split,
        "index": index,
        "identity": list(pools.identity(task, split, index)),
        "nodes": len(tree.nodes),
        "rollouts": len(tree.rollouts),
        "root_value": tree.nodes[0].value,
        "tokens": search.tokens,
        "env_steps": search.env_steps,
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu_seconds, 3),
    }
    return tree.to_json(settings), summary


def _local(job: dict[str, Any], todo: list[tuple[str, str, int]]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    for task, split, index in todo:
        yield search_instance(job, task, split, index)


def _ray(
    job: dict[str, Any], todo: list[tuple[str, str, int]], address: str | None
) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    from ..executors.ray import connect

    ray = connect(address)
    remote = ray.remote(max_retries=1)(search_instance)
    pending = [remote.remote(job, task, split, index) for task, split, index in todo]
    try:
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            yield ray.get(ready[0])
    finally:
        for ref in pending:
            ray.cancel(ref, force=True)


# ------------------------------------------------------------------------------ the tables
def finalize(out: Path) -> dict[str, Any]:
    """Rewrite ``values.jsonl`` and ``outcomes.jsonl`` from the trees; record counts, digests and costs."""
    summaries = artifacts.Rows(out / INSTANCES).read()
    values: list[dict[str, Any]] = []
    outcomes: list[dict[str, Any]] = []
    for summary in sorted(summaries, key=lambda r: (r["task"], r["index"])):
        tree = _read_tree(out / TREES / f"{summary['task']}-{summary['index']}.json")
        values.extend(value_rows(tree))
        outcomes.extend(outcome_rows(tree))
    artifacts.write_jsonl(out / VALUES, values)
    artifacts.write_jsonl(out / OUTCOMES, outcomes)
    seconds = sum(s["seconds"] for s in summaries)
    nodes = sum(s["nodes"] for s in summaries)
    outputs = {
        "instances": len(summaries),
        "nodes": nodes,
        "value_rows": len(values),
        "outcome_rows": len(outcomes),
        "outcome_success_rate": round(sum(o["success"] for o in outcomes) / len(outcomes), 4) if outcomes else None,
        "tokens": sum(s["tokens"] for s in summaries),
        "env_steps": sum(s["env_steps"] for s in summaries),
        "search_seconds": round(seconds, 1),
        "nodes_per_s": round(nodes / seconds, 3) if seconds else None,
        "nodes_per_cpu_s": round(nodes / cpu, 3) if (cpu := sum(s.get("cpu_seconds", 0) for s in summaries)) else None,
        "tokens_per_s": round(sum(s["tokens"] for s in summaries) / seconds, 2) if seconds else None,
        "values_digest": artifacts.file_digest(out / VALUES),
        "outcomes_digest": artifacts.file_digest(out / OUTCOMES),
    }
    artifacts.finish(out, outputs)
    return outputs


def _read_tree(path: Path) -> dict[str, Any]:
    import json

    return json.loads(path.read_text())


def partial_steps(tree: dict[str, Any], node_id: int) -> list[dict[str, Any]]:
    """The steps from the root to ``node_id``."""
    nodes = tree["nodes"]
    steps = []
    node = nodes[node_id]
    while node["parent"] is not None:
        steps.append({"thought": node["thought"] or "", "action": node["action"], "observation": node["observation"]})
        node = nodes[node["parent"]]
    return steps[::-1]


def _head(tree: dict[str, Any]) -> dict[str, Any]:
    return {
        "task": tree["task"],
        "index": tree["index"],
        "goal": tree["goal"],
        "first_observation": tree["first_observation"],
        "info": tree.get("info", {}),
    }


def value_rows(tree: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for node in tree["nodes"]:
        if node["parent"] is None or not node["visits"]:
            continue
        rows.append(
            {
                **_head(tree),
                "node": node["id"],
                "depth": node["depth"],
                "visits": node["visits"],
                "value": node["value"],
                "return": tree["return"],
                "steps": partial_steps(tree, node["id"]),
            }
        )
    return rows


def outcome_rows(tree: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for k, rollout in enumerate(tree["rollouts"]):
        rows.append(
            {
                **_head(tree),
                "rollout": k,
                "steps": rollout["steps"],
                "success": bool(rollout["success"]),
                "progress": rollout["progress"],
            }
        )
    return rows


__all__ = ["Settings", "asdict", "collect", "finalize", "search_instance"]
