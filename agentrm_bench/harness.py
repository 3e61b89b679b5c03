"""Runs (policy x task x instance) episodes: worker processes, records, resume, progress bar.

Only the driver writes to the run directory. Workers build each environment and the policy once and
reuse them across episodes; an episode that raises becomes an error record (retried on the next run,
never scored), because a crashing simulator says nothing about the policy.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import traceback
import zlib
from collections import Counter, deque
from collections.abc import Collection, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

import gymnasium as gym
import numpy as np
from tqdm import tqdm

from . import manifest as manifest_mod
from . import policies, report
from . import tasks as task_table
from .episode import EpisodeRecord, play
from .manifest import RunConfig
from .records import RecordStore

SCORES = "scores.json"
EXECUTORS = ("local", "ray")
ATTEMPTS = 3  # tries per episode within one run when its worker process dies; a rerun tries again


@dataclass
class RunSummary:
    total: int
    finished: int
    errors: int
    skipped: int  # finished in an earlier run and not redone
    success: int


def episode_seed(seed: int, task: str, index: int) -> int:
    """A stable per-episode seed, so that a resumed or re-sharded run replays the same episodes."""
    sequence = np.random.SeedSequence([seed, zlib.crc32(task.encode()), index])
    return int(sequence.generate_state(1)[0])


def plan(config: RunConfig) -> list[tuple[str, int]]:
    """The (task, index) pairs a configuration covers, in table order."""
    episodes = []
    for name in config.tasks:
        spec = task_table.get(name)
        env = gym.make(spec.id, **config.env_kwargs())
        count = env.unwrapped.num_instances
        env.close()
        if config.limit is not None:
            count = min(count, config.limit)
        episodes.extend((name, index) for index in range(count))
    return episodes


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
    which ``submit`` checks against the records.
    """
    if executor not in EXECUTORS:
        raise ValueError(f"unknown executor {executor!r}; choose one of {', '.join(EXECUTORS)}")
    for name in config.tasks:
        ok, reason = task_table.availability(task_table.get(name))
        if not ok:
            raise task_table.TaskUnavailableError(f"{name} is not available: {reason}")
    policy = policies.create(config.policy, **config.policy_settings)
    _POLICIES[_policy_key(config)] = policy  # episodes played in this process reuse it
    if workers is None and policy.in_process:
        workers = 0
    if in_flight is None:
        in_flight = policy.in_flight
    if executor == "ray":  # join the cluster before anything is written: a bad address leaves no run behind
        from . import ray_executor

        ray_executor.check_nodes(ray_executor.connect(ray_address), config)
        for note in ray_executor.placement_notes(policy):
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

    bar = tqdm(
        total=len(episodes),
        initial=summary.finished,
        desc=config.policy,
        unit="ep",
        disable=not show_progress,
        dynamic_ncols=True,
    )
    if executor == "ray":
        records = ray_executor.execute(config, todo, in_flight)
    else:
        records = _execute(config, todo, workers, in_flight)
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


def _execute(
    config: RunConfig, todo: list[tuple[str, int]], workers: int | None, in_flight: int = 1
) -> Iterator[EpisodeRecord]:
    if not todo:
        return
    if workers is None:
        workers = os.cpu_count() or 1
    if in_flight > 1:
        yield from _execute_in_flight(config, todo, workers, in_flight)
        return
    if workers == 0:
        for task, index in todo:
            yield _episode(config, task, index)
        return
    yield from _execute_in_pool(config, todo, workers)


def _execute_in_pool(config: RunConfig, todo: list[tuple[str, int]], workers: int) -> Iterator[EpisodeRecord]:
    """Episodes in spawned worker processes, a bounded number in flight (little is in the air on a kill).

    A worker process that dies (killed, out of memory) breaks the whole pool: every episode in flight
    then gets an error record and is queued again on a fresh pool, up to ``ATTEMPTS`` tries in this run.
    """
    context = multiprocessing.get_context("spawn")
    queue = deque(todo)
    attempts: Counter[tuple[str, int]] = Counter()
    while queue:
        pending: dict[Future[EpisodeRecord], tuple[str, int]] = {}
        pool = ProcessPoolExecutor(max_workers=min(workers, len(queue)), mp_context=context)
        lost: list[tuple[str, int]] = []
        try:
            while pending or queue:
                while queue and len(pending) < 2 * workers:
                    key = queue.popleft()
                    attempts[key] += 1
                    pending[pool.submit(_episode, config, *key)] = key
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    key = pending.pop(future)
                    try:
                        yield future.result()
                    except BrokenProcessPool:
                        lost.append(key)
                if lost:  # the pool is unusable: what is still in flight is lost with it
                    lost.extend(pending.values())
                    pending.clear()
                    break
        finally:
            for future in pending:
                future.cancel()
            pool.shutdown(wait=not lost, cancel_futures=True)
        for task, index in lost:
            yield lost_episode(config, task, index, "a worker process died (killed or out of memory) in flight")
        queue.extendleft(reversed([key for key in lost if attempts[key] < ATTEMPTS]))


def lost_episode(config: RunConfig, task: str, index: int, reason: str) -> EpisodeRecord:
    """The error record of an episode whose worker was lost: says why; retried, never scored."""
    return EpisodeRecord(config.policy, task, index, episode_seed(config.seed, task, index), error=reason)


def _execute_in_flight(
    config: RunConfig, todo: list[tuple[str, int]], workers: int, in_flight: int
) -> Iterator[EpisodeRecord]:
    """Episodes run as concurrent coroutines: in this process, or in chunks of ``in_flight`` per worker."""
    from .search.in_flight import run_concurrently

    if workers == 0:
        episodes = [(task, index, episode_seed(config.seed, task, index)) for task, index in todo]
        yield from run_concurrently(_policy(config), config.policy, episodes, _new_env(config), in_flight)
        return
    chunks = [todo[i : i + in_flight] for i in range(0, len(todo), in_flight)]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(chunks)), mp_context=context) as pool:
        futures = [pool.submit(_chunk, config, chunk, in_flight) for chunk in chunks]
        try:
            for future in futures:
                yield from future.result()
        finally:
            for future in futures:
                future.cancel()


def _chunk(config: RunConfig, chunk: list[tuple[str, int]], in_flight: int) -> list[EpisodeRecord]:
    from .search.in_flight import play_chunk

    episodes = [(task, index, episode_seed(config.seed, task, index)) for task, index in chunk]
    return play_chunk(_policy(config), config.policy, episodes, _new_env(config), in_flight)


def _new_env(config: RunConfig):  # noqa: ANN202 - a factory of environments of the run's split
    return lambda task: gym.make(task_table.get(task).id, **config.env_kwargs(task))


def _policy_key(config: RunConfig) -> str:
    return repr((config.policy, sorted(config.policy_settings.items())))


def _policy(config: RunConfig) -> policies.Policy:
    key = _policy_key(config)
    if key not in _POLICIES:
        _POLICIES[key] = policies.create(config.policy, **config.policy_settings)
    return _POLICIES[key]


# Per-process caches: a worker builds each environment and the policy once.
_ENVS: dict[tuple[str, str], gym.Env] = {}
_POLICIES: dict[str, policies.Policy] = {}


def _episode(config: RunConfig, task: str, index: int) -> EpisodeRecord:
    seed = episode_seed(config.seed, task, index)
    try:
        key = (task, config.split)
        if key not in _ENVS:
            _ENVS[key] = gym.make(task_table.get(task).id, **config.env_kwargs(task))
        return play(_policy(config), _ENVS[key], policy_name=config.policy, task=task, index=index, seed=seed)
    except Exception:  # noqa: BLE001 - any crash is recorded and retried, never scored
        error = traceback.format_exc(limit=8)
        crashed = _ENVS.pop((task, config.split), None)  # a crashed simulator is rebuilt for the next episode
        if crashed is not None:
            try:
                crashed.close()  # its server process or container goes now, not at garbage collection
            except Exception:  # noqa: BLE001 - already broken; closing is best effort
                pass
        return EpisodeRecord(config.policy, task, index, seed, error=error)


def summary_line(summary: RunSummary) -> str:
    parts = [f"{summary.finished}/{summary.total} episodes finished"]
    if summary.skipped:
        parts.append(f"{summary.skipped} from an earlier run")
    if summary.errors:
        parts.append(f"{summary.errors} errored (rerun the same command to retry them)")
    if summary.finished:
        parts.append(f"success {summary.success / summary.finished:.1%}")
    return "; ".join(parts)
