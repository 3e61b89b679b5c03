"""Where and how a run's episodes are played: the one place that says which path a command takes.

:func:`route` turns the run's flags (``--executor``, ``--workers``, ``--in-flight``) and the policy's own
defaults into a :class:`Route`, one of five ways an episode runs:

==================  ========  =========  ======================================  =======================================
way                 executor  workers    where the episodes are played           what is cached, and where
==================  ========  =========  ======================================  =======================================
``here``            local     0          this process, one after another         envs and policy in this process
                                                                                 (:mod:`.worker`), kept after the run
``here-in-flight``  local     0          this process, E at once as coroutines   policy in this process; envs made for
                                         (their model calls batch together)      the run, closed at its end
``pool``            local     N >= 1     N worker processes, one episode per     envs and policy in each worker process,
                                         job, 2N jobs queued; a dead worker's    for the run (the pool is per run)
                                         episodes are retried on a new pool
``pool-in-flight``  local     N >= 1     N worker processes, a chunk of E        policy in each worker process, for the
                                         episodes per job, played as coroutines  run; envs made for each chunk
                                         (a dead worker stops the run: rerun)
``ray``             ray       (ignored)  Ray tasks of E episodes each, in Ray    as ``here`` / ``here-in-flight``, in
                                         workers; a failed task's episodes are   each Ray worker, which Ray keeps
                                         submitted again                         across tasks and runs
==================  ========  =========  ======================================  =======================================

E is ``in_flight``: the flag, else the policy's ``in_flight`` (1 for policies without a model). N is
``workers``: the flag, else 0 for a policy that runs in process (``policy.in_process``: one model in
memory), else the number of cores. A lost episode is tried up to ``worker.ATTEMPTS`` times in a run; an
episode that raises is an error record, retried by the next run. Whatever the way, every episode ends in :mod:`.worker`
(:func:`.worker.play_episode`, :func:`.worker.play_chunk`), and only the driver writes records.

Start-up is paid once: pool workers are forked from a forkserver that imported the run's modules
(:mod:`.processes`), Ray workers import them as they start (:mod:`.preload`); the imports overlap with the
driver's planning. Workers (pool, Ray) take episodes longest-expected-first, from the wall times earlier
runs recorded (:mod:`.schedule`).

Executors never import the harness; the harness calls :func:`route`, :meth:`Route.prepare` and
:meth:`Route.execute` and holds no execution code itself.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

from ..episode import EpisodeRecord
from ..manifest import RunConfig
from ..policies import Policy
from . import local, processes, schedule
from .worker import new_policy, play_chunk

__all__ = ["EXECUTORS", "WAYS", "Route", "new_policy", "play_chunk", "route"]

EXECUTORS = ("local", "ray")
WAYS = ("here", "here-in-flight", "pool", "pool-in-flight", "ray")


@dataclass(frozen=True)
class Route:
    """The way a run's episodes are played (see the module's table)."""

    way: str
    workers: int  # processes on this machine for the pool ways; 0 otherwise
    in_flight: int  # episodes played at once per process (per Ray task); 1 = one after another

    def describe(self) -> str:
        """One line for the user, e.g. ``episodes: 4 worker processes, 8 in flight each``."""
        at_once = "one at a time" if self.in_flight == 1 else f"{self.in_flight} in flight"
        if self.way == "ray":
            return f"episodes: Ray tasks, {at_once} each"
        if self.way.startswith("pool"):
            return f"episodes: {self.workers} worker processes, {at_once} each"
        return f"episodes: in this process, {at_once}"

    def prepare(self, config: RunConfig, policy: Policy, ray_address: str | None = None) -> list[str]:
        """Whatever can refuse the run before anything is written; returns notes for the user.

        For Ray: join the cluster (a bad address leaves no run behind) and check that its nodes can host
        the run's sandboxes. For a pool: start the forkserver its workers are forked from, so that its
        imports overlap with the driver's own start-up (:mod:`.processes`).
        """
        if self.way.startswith("pool"):
            processes.start_forkserver(processes.modules_for(config))
        if self.way != "ray":
            return []
        from . import ray as ray_tasks

        ray_tasks.check_nodes(ray_tasks.connect(ray_address, preload=processes.modules_for(config)), config)
        return ray_tasks.placement_notes(policy)

    def execute(self, config: RunConfig, todo: list[tuple[str, int]]) -> Iterator[EpisodeRecord]:
        """Play ``todo`` this way; yield each record (error records included) as it comes back.

        Workers (pool, Ray) take the episodes longest-expected-first; in this process they run in the
        plan's order. Either way the finished episodes' wall times go to the cost book that orders the
        next run (:mod:`.schedule`).
        """
        if not todo:
            return
        if self.way not in ("here", "here-in-flight"):
            todo = schedule.longest_first(config, todo)
        costs = []
        try:
            for record in self._play(config, todo):
                cost = schedule.cost(record)
                if cost is not None:
                    costs.append(cost)
                yield record
        finally:
            schedule.remember(config, costs)

    def _play(self, config: RunConfig, todo: list[tuple[str, int]]) -> Iterator[EpisodeRecord]:
        if self.way == "ray":
            from . import ray as ray_tasks

            yield from ray_tasks.execute(config, todo, self.in_flight)
        elif self.way == "pool":
            yield from local.run_in_pool(config, todo, self.workers)
        elif self.way == "pool-in-flight":
            yield from local.run_chunks_in_pool(config, todo, self.workers, self.in_flight)
        else:
            yield from local.run_here(config, todo, self.in_flight)


def route(executor: str, workers: int | None, in_flight: int | None, policy: Policy) -> Route:
    """The way episodes run for these flags (``None``: not given) and this policy; the table above."""
    if executor not in EXECUTORS:
        raise ValueError(f"unknown executor {executor!r}; choose one of {', '.join(EXECUTORS)}")
    at_once = max(1, policy.in_flight if in_flight is None else in_flight)
    if executor == "ray":
        return Route("ray", 0, at_once)
    if workers is None:
        workers = 0 if policy.in_process else os.cpu_count() or 1
    if workers == 0:
        return Route("here" if at_once == 1 else "here-in-flight", 0, at_once)
    return Route("pool" if at_once == 1 else "pool-in-flight", workers, at_once)
