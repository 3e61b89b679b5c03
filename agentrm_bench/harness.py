"""Runs (policy x task x instance) episodes: the plan, the manifest, records, resume, progress bar, scores.

Only the driver writes to the run directory. Where and how the episodes are played (this process, a
pool of worker processes, episodes in flight, Ray) is :mod:`agentrm_bench.executors`' business: the
harness asks it for a route and consumes the records it yields. An episode that raises comes back as
an error record (retried on the next run, never scored).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path

import gymnasium as gym
from tqdm import tqdm

from . import executors, report
from . import manifest as manifest_mod
from . import tasks as task_table
from .episode import EpisodeRecord
from .manifest import RunConfig
from .records import RecordStore

SCORES = "scores.json"


@dataclass
class RunSummary:
    total: int
    finished: int
    errors: int
    skipped: int  # finished in an earlier run and not redone
    success: int


def plan(config: RunConfig) -> list[tuple[str, int]]:
    """The (task, index) pairs a configuration covers, in table order."""
    episodes = []
    for name in config.tasks:
        spec = task_table.get(name)
        env = gym.make(spec.id, **config.env_kwargs())
        count = env.unwrapped.num_instances
        env.close()
        indices = list(range(count))
        if config.subset is not None:
            indices = manifest_mod.subset_indices(name, count, config.subset)
        if config.limit is not None:
            indices = indices[: config.limit]
        episodes.extend((name, index) for index in indices)
    return episodes


def preflight(config: RunConfig, policy: object) -> None:
    """Refuse a run that cannot finish, naming every missing piece at once (before anything is written).

    A task must be installed, have the data every instance needs, and -- for the expert -- have what
    its expert needs (e.g. PDDL's planner, a separate extra). Starting such a run would only write
    error records whose advice ("rerun to retry") cannot help.
    """
    problems = []
    for name in config.tasks:
        spec = task_table.get(name)
        ok, reason = task_table.availability(spec)
        if ok:
            ok, reason = task_table.evaluable(spec)
        if not ok:
            problems.append(f"{name}: {reason}")
        if getattr(policy, "needs_expert", False):
            ok, reason = task_table.expert_availability(spec)
            if not ok:
                problems.append(f"{name}'s expert: {reason}")
    lacking = [n for n in config.tasks if config.split not in task_table.get(n).splits]
    problems += [f"{n}: has no split {config.split!r} ({', '.join(task_table.get(n).splits)})" for n in lacking]
    if problems:
        raise task_table.TaskUnavailableError(f"cannot start: {'; '.join(problems)}")


def run(
    config: RunConfig,
    out_dir: Path,
    workers: int | None = None,
    show_progress: bool = True,
    only: Collection[tuple[str, int]] | None = None,
    in_flight: int | None = None,
    executor: str = "local",
    ray_address: str | None = None,
) -> RunSummary:
    """Run every episode of ``config`` not yet finished in ``out_dir``.

    ``workers=0`` runs episodes in this process (for debugging and overhead measurements). ``only``
    restricts the run to some (task, index) episodes of the plan (a seeded sample, for verification).
    ``in_flight`` episodes run concurrently in each process so that their model calls batch together
    (default: the policy's own ``in_flight``; 1 for policies without a model). Model policies
    (``policy.in_process``) run in this process unless ``workers`` says otherwise: one model in memory.
    ``executor="ray"`` runs the episodes as Ray tasks (on the cluster at ``ray_address``, or a local one);
    only this process writes records either way, so resume and reports do not depend on the executor.
    After the run, ``scores.json`` holds the scores recomputed from all finished records: the run's claim,
    which ``submit`` checks against the records. Which way the episodes run is said in one line on stderr
    with the progress bar (see :mod:`agentrm_bench.executors` for the five ways).
    """
    policy = executors.new_policy(config)  # episodes played in this process reuse it
    preflight(config, policy)
    route = executors.route(executor, workers, in_flight, policy)
    for note in route.prepare(config, policy, ray_address):  # before anything is written
        print(f"note: {note}", file=sys.stderr)
    versions = {name: task_table.get(name).version for name in config.tasks}
    manifest = manifest_mod.build(config, versions, policy.settings())
    episodes = plan(config)
    if only is not None:
        episodes = [e for e in episodes if e in set(only)]
    manifest_mod.check_or_write(out_dir, manifest)

    store = RecordStore(out_dir)
    finished = store.finished()
    todo = [e for e in episodes if e not in finished]
    wanted = set(episodes)
    success = sum(r.success for k, r in finished.items() if k in wanted)
    already = len(wanted & finished.keys())
    summary = RunSummary(len(episodes), already, 0, already, success)

    if show_progress:
        print(route.describe(), file=sys.stderr)
    bar = tqdm(
        total=len(episodes),
        initial=summary.finished,
        desc=config.policy,
        unit="ep",
        disable=not show_progress,
        dynamic_ncols=True,
    )
    records = route.execute(config, todo)
    seen: set[tuple[str, int]] = set()  # an executor may retry an errored episode within the run
    errored: set[tuple[str, int]] = set()
    try:
        for record in records:
            store.append(record)
            if record.error:
                errored.add(record.key)
                bar.write(f"error in {record.task}[{record.index}]: {record.error.strip().splitlines()[-1]}")
            else:
                errored.discard(record.key)
                summary.finished += 1
                summary.success += record.success
            summary.errors = len(errored)
            if record.key not in seen:
                seen.add(record.key)
                bar.update(1)
            done = max(summary.finished, 1)
            bar.set_postfix(success=f"{summary.success / done:.1%}", errors=summary.errors, refresh=False)
    finally:
        bar.close()
        store.sync()
        write_scores(out_dir, store.finished().values())
    return summary


def write_scores(out_dir: Path, records: Iterable[EpisodeRecord]) -> None:
    """Write ``scores.json`` (per-task rates from the finished records) atomically."""
    payload = {s.task: s.to_json() for s in report.score(records)}
    temporary = Path(out_dir) / (SCORES + ".tmp")
    temporary.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")
    os.replace(temporary, Path(out_dir) / SCORES)


def summary_line(summary: RunSummary) -> str:
    parts = [f"{summary.finished}/{summary.total} episodes finished"]
    if summary.skipped:
        parts.append(f"{summary.skipped} from an earlier run")
    if summary.errors:
        parts.append(f"{summary.errors} errored (rerun the same command to retry them)")
    if summary.finished:
        parts.append(f"success {summary.success / summary.finished:.1%}")
    return "; ".join(parts)
