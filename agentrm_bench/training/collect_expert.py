"""``agentrm-bench collect expert``: the tasks' own experts, played on non-test instances, as SFT data.

Output folder:

- ``episodes.jsonl`` -- one line per instance as it finishes: its identity, the expert's trajectory,
  outcome, and the samples it gives (or why it was skipped). The resume point: a rerun plays only what
  is missing; a kill loses at most the instance in flight.
- ``sft.jsonl`` -- the training samples of the successful trajectories (TRL's conversational
  prompt-completion form; ``datasets.load_dataset("json", data_files=...)`` loads it), rewritten
  atomically from ``episodes.jsonl`` at the end of every run.
- ``manifest.json`` -- the settings, and when done the counts and the digest of ``sft.jsonl``.

The expert's thoughts are the task's own example template (:func:`~agentrm_bench.prompts.examples.thought_for`),
the same sentences our in-context examples use.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tqdm import tqdm

from .. import tasks
from ..prompts.examples import thought_for
from ..prompts.trajectory import Step, Trajectory
from . import artifacts, chat_format, pools

EPISODES = "episodes.jsonl"
SFT = "sft.jsonl"


def collect(
    task_names: Sequence[str],
    out: Path,
    *,
    split: str | None = None,
    limit: int | None = None,
    skip: int = 0,
    max_turns: int | None = None,
    history: int | None = chat_format.DEFAULT_HISTORY,
    show_progress: bool = True,
) -> dict[str, Any]:
    """Collect expert trajectories of ``task_names`` (their non-test pools) into ``out``; resumable."""
    specs = [tasks.get(name) for name in task_names]
    for spec in specs:
        ok, reason = tasks.availability(spec)
        if not ok:
            raise tasks.TaskUnavailableError(f"{spec.name} is not available: {reason}")
        pools.check_split(spec.name, split or pools.default_split(spec.name))
    settings = {
        "tasks": [s.name for s in specs],
        "split": split,
        "limit": limit,
        "skip": skip,
        "max_turns": max_turns,
        "history": history,
        "prompt": chat_format.prompter(specs[0].name, history).settings(),
    }
    artifacts.start(out, "collect expert", settings)
    rows = artifacts.Rows(out / EPISODES)
    done = {(r["task"], r["index"]) for r in rows.read()}
    plan = []
    for spec in specs:
        chosen = split or pools.default_split(spec.name)
        size = spec.sizes[chosen]
        stop = size if limit is None else min(size, skip + limit)
        # rows of the pool that are also test instances (ScienceWorld has two) are never played
        plan.extend(
            (spec.name, chosen, i) for i in range(skip, stop) if not pools.is_test_instance(spec.name, chosen, i)
        )
    todo = [p for p in plan if (p[0], p[2]) not in done]
    bar = tqdm(total=len(plan), initial=len(plan) - len(todo), desc="expert", unit="ep", disable=not show_progress)
    envs: dict[tuple[str, str], Any] = {}
    try:
        for task, chosen, index in todo:
            key = (task, chosen)
            if key not in envs:
                import gymnasium as gym

                envs[key] = gym.make(
                    tasks.get(task).id, split=chosen, **({"max_turns": max_turns} if max_turns else {})
                )
            rows.append(play_expert(envs[key], task, chosen, index, history))
            bar.update(1)
    finally:
        bar.close()
        for env in envs.values():
            env.close()
    return finalize(out)


def play_expert(env: Any, task: str, split: str, index: int, history: int | None) -> dict[str, Any]:
    """One instance: the expert's trajectory and its samples, or the reason it is skipped."""
    row: dict[str, Any] = {
        "task": task,
        "split": split,
        "index": index,
        "identity": list(pools.identity(task, split, index)),
    }
    if pools.is_test_instance(task, split, index):  # a pool overlapping a test set is a bug; never train on it
        raise artifacts.TrainingError(f"{task} {split}[{index}] is a test instance {row['identity']}")
    observation, info = env.reset(seed=0, options={"index": index})
    mark = pools.fingerprint(env)
    if mark is not None and mark in pools.test_fingerprints(task):
        return {**row, "skipped": "its start state equals a test instance's", "samples": []}
    goal = str(info.get("goal", ""))
    trajectory = Trajectory(task, goal, observation)
    done = False
    while not done:
        action = env.unwrapped.expert_action()
        thought = thought_for(task, goal, observation, action)
        observation, _, terminated, truncated, info = env.step(action)
        trajectory = trajectory.extend(
            Step(thought, action, observation), progress=info.get("progress"), success=False, done=False, info={}
        )
        done = terminated or truncated
    success = bool(info.get("success"))
    return {
        **row,
        "fingerprint": mark,
        "success": success,
        "progress": info.get("progress"),
        "turns": len(trajectory.steps),
        "trajectory": chat_format.trajectory_to_json(trajectory),
        "samples": chat_format.samples(trajectory, history) if success else [],
    }


def finalize(out: Path) -> dict[str, Any]:
    """Rewrite ``sft.jsonl`` from the finished episodes and record counts and its digest."""
    episodes = artifacts.Rows(out / EPISODES).read()
    samples = []
    for row in sorted(episodes, key=lambda r: (r["task"], r["index"])):
        for step, sample in enumerate(row["samples"]):
            samples.append({**sample, "task": row["task"], "index": row["index"], "step": step})
    artifacts.write_jsonl(out / SFT, samples)
    outputs = {
        "episodes": len(episodes),
        "successful": sum(bool(r.get("success")) for r in episodes),
        "skipped_like_test": sum("skipped" in r for r in episodes),
        "samples": len(samples),
        "sft_digest": artifacts.file_digest(out / SFT),
    }
    artifacts.finish(out, outputs)
    return outputs
