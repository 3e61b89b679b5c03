"""``agentrm-bench pool build``: playing a pool, one instance per episode of an ordinary run.

The build *is* a harness run whose policy is :class:`PoolBuilder`: the builder plays the whole pool line
of one instance (N candidates, then S sampled states x K siblings x R rollouts) and hands it back in the
episode record's ``extra["pool"]``. So a build resumes like a run (rerun the same command: finished
instances are kept, errored ones retried, another configuration is refused), runs on worker processes or
Ray like a run, and only when every planned instance is finished is the pool file written -- the same
lines in the same order whichever way they were played, hence the same digest.

Seeds: every instance starts from its episode seed; candidate ``c`` is seeded by ``(seed, c)``, the
state sample by ``(seed, STATES)``, the siblings of state ``s`` by ``(seed, SIBLINGS, s)``, rollout ``r``
of sibling ``j`` by ``(seed, ROLLOUTS, s, j, r)``: a rebuild plays the same pool.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from .. import harness, policies
from .. import manifest as manifest_mod
from .. import tasks as task_table
from ..episode import EpisodeRecord
from ..llm.base import run_sync
from ..manifest import RunConfig
from ..policies import Policy, PolicyConfigError
from ..prompts.trajectory import Step
from ..records import read_records
from ..search.run import sample_seed
from .actors import Actor, ModelActor, PolicyActor, is_model_policy
from .format import Candidate, Instance, PoolError, Sibling, State, encode
from .walk import State as WalkState
from .walk import Walker, public

BUILDER = "agentrm_bench.pools.build:PoolBuilder"
STATES, SIBLINGS, ROLLOUTS = 1 << 20, 1 << 21, 1 << 22  # seed places, apart from candidate numbers


def _count(name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise PolicyConfigError(f"pool build: {name} must be an integer >= {minimum}, got {value!r}")
    return value


class PoolBuilder(Policy):
    """Plays the pool line of one instance per episode (see the module docstring).

    ``vary`` gives candidate ``c`` the setting ``vary[key][c % len]`` on top of ``policy_settings``: a
    noisy-expert pool of several epsilons is ``vary={"epsilon": [0.2, 0.4, 0.6, 0.8]}``. ``sample`` is
    recorded only: the driver picks the instances, and a resume with another selection is refused.
    """

    def __init__(
        self,
        policy: str,
        policy_settings: dict[str, Any] | None = None,
        n: int = 8,
        states: int = 2,
        siblings: int = 4,
        rollouts: int = 2,
        vary: dict[str, list[Any]] | None = None,
        sample: int | dict[str, int] | None = None,
    ):
        self.policy_name = policy
        self.policy_settings = dict(policy_settings or {})
        self.n = _count("n", n)
        self.states = _count("states", states, 0)
        self.siblings = _count("siblings", siblings)
        self.rollouts = _count("rollouts", rollouts)
        self.vary = {str(k): list(v) if isinstance(v, list | tuple) else [v] for k, v in (vary or {}).items()}
        if any(not v for v in self.vary.values()):
            raise PolicyConfigError("pool build: every varied setting needs at least one value")
        self.sample = sample
        self.base = policies.create(policy, **self.policy_settings)
        self.model = is_model_policy(self.base)
        if self.model and self.n > 1 and float(getattr(self.base, "temperature", 0.0)) == 0.0:
            raise PolicyConfigError("pool build: N > 1 model candidates need a temperature above 0 (else all equal)")
        self._variants: dict[str, Policy] = {}
        for c in range(self.n):
            self.variant(c)  # every candidate's settings are checked before anything runs
        self.in_process = self.base.in_process
        self.in_flight = self.base.in_flight

    def candidate_settings(self, c: int) -> dict[str, Any]:
        return {key: values[c % len(values)] for key, values in sorted(self.vary.items())}

    def variant(self, c: int) -> Policy:
        own = self.candidate_settings(c)
        key = json.dumps(own, sort_keys=True)
        if key not in self._variants:
            settings = {**self.policy_settings, **own}
            self._variants[key] = policies.create(self.policy_name, **settings) if own else self.base
        return self._variants[key]

    def settings(self) -> dict[str, Any]:
        identity = None
        if self.model:  # which weights played the candidates (hashed, never loaded)
            weights = self.base.llm.weights()
            identity = weights.to_json() if weights is not None else None
        return {
            "policy": self.policy_name,
            "model_weights": identity,
            "policy_settings": self.policy_settings,
            "resolved": self.base.settings(),
            "n": self.n,
            "states": self.states,
            "siblings": self.siblings,
            "rollouts": self.rollouts,
            "vary": self.vary,
            "sample": self.sample,
            "model_policy": self.model,  # candidates of a language model; else the pool is synthetic
        }

    def actor(self, c: int, walker: Walker, task: str, index: int, seed: int) -> Actor:
        policy = self.variant(c)
        if self.model:
            if policy is not self.base:
                policy._llm = self.base.llm  # one model in memory, whatever varies across candidates
            return ModelActor(policy, walker, task, index, seed)
        return PolicyActor(policy, task, index, seed)

    def play_episode(self, env: gym.Env, record: EpisodeRecord) -> None:
        run_sync(self.aplay_episode(env, record))

    async def aplay_episode(self, env: gym.Env, record: EpisodeRecord) -> None:
        walker = Walker(env, record.task)
        instance, tokens = await self.build_instance(walker, record.task, record.index, record.seed)
        first = instance.candidates[0]
        record.goal = instance.goal
        record.actions = [s.action for s in first.steps]
        record.observations = [instance.first_observation, *(s.observation for s in first.steps)]
        record.valid_actions = [True] * len(first.steps)
        record.progress, record.success = first.outcome.progress, first.outcome.success
        record.terminated, record.truncated = first.terminated, first.truncated
        record.tokens = tokens
        record.extra = {"pool": instance.to_json(), "env_steps": walker.steps, "restores": walker.restores}

    async def build_instance(self, walker: Walker, task: str, index: int, seed: int) -> tuple[Instance, int]:
        root = walker.reset(index, seed)
        actors = [self.actor(c, walker, task, index, seed) for c in range(self.n)]
        paths: list[list[WalkState]] = []
        candidates = []
        for c, actor in enumerate(actors):
            before = actor.tokens
            path = await self._play(walker, actor, root, sample_seed(seed, c), (c,))
            paths.append(path)
            end = path[-1]
            candidates.append(
                Candidate(
                    steps=end.trajectory.steps,
                    outcome=end.outcome,
                    terminated=end.terminated,
                    truncated=end.truncated,
                    settings=self.candidate_settings(c),
                    tokens=actor.tokens - before,
                )
            )
        states = []
        for s, (c, depth) in enumerate(self._sample_states(paths, seed)):
            states.append(await self._state(walker, actors[c], paths[c], c, depth, seed, s))
        instance = Instance(
            task=task,
            index=index,
            seed=seed,
            goal=root.trajectory.goal,
            first_observation=root.observation,
            info=public(root.info),
            candidates=tuple(candidates),
            states=tuple(states),
        )
        return instance, sum(a.tokens for a in {id(a): a for a in actors}.values())

    async def _play(
        self, walker: Walker, actor: Actor, start: WalkState, seed: int, place: tuple[int, ...]
    ) -> list[WalkState]:
        """From ``start`` to the end of the episode; every state on the way."""
        actor.begin(seed)
        path = [start]
        while not path[-1].done:
            step = await actor.next_step(walker, path[-1], (*place, path[-1].depth))
            path.append(walker.step(path[-1], step))
        return path

    def _sample_states(self, paths: list[list[WalkState]], seed: int) -> list[tuple[int, int]]:
        """``states`` (candidate, depth) pairs drawn without replacement among the states a candidate
        acted in, seeded; in candidate and depth order."""
        pairs = [(c, d) for c, path in enumerate(paths) for d in range(len(path) - 1)]
        if not pairs or not self.states:
            return []
        rng = np.random.default_rng(sample_seed(seed, STATES))
        picked = rng.choice(len(pairs), size=min(self.states, len(pairs)), replace=False)
        return [pairs[int(p)] for p in sorted(picked)]

    async def _state(
        self, walker: Walker, actor: Actor, path: list[WalkState], c: int, depth: int, seed: int, s: int
    ) -> State:
        here, taken = path[depth], path[depth + 1]
        own = taken.trajectory.steps[-1]
        steps = await actor.siblings(walker, here, Step(own.thought, own.action, ""), self.siblings, (SIBLINGS, s))
        siblings = []
        for j, step in enumerate(steps):
            child = taken if j == 0 else walker.step(here, step)  # the candidate's own step is already played
            rollouts = []
            if not child.done:
                for r in range(self.rollouts):
                    place = (ROLLOUTS, s, j, r)
                    path = await self._play(walker, actor, child, sample_seed(seed, *place), place)
                    rollouts.append(path[-1].outcome)
            siblings.append(Sibling(child.trajectory.steps[-1], child.outcome, child.done, tuple(rollouts)))
        return State(c, depth, tuple(siblings))


@dataclass(frozen=True)
class BuildConfig:
    """Everything that decides a pool's content: what a descriptor keeps to rebuild it."""

    policy: str
    policy_settings: dict[str, Any] = field(default_factory=dict)
    tasks: tuple[str, ...] = ()
    n: int = 8
    states: int = 2
    siblings: int = 4
    rollouts: int = 2
    vary: dict[str, list[Any]] = field(default_factory=dict)
    split: str = "test"
    seed: int = 0
    limit: int | None = None
    sample: int | dict[str, int] | None = None  # instances per task (one count, or one per task), seeded
    max_turns: int | None = None

    def run_config(self) -> RunConfig:
        builder = {
            "policy": self.policy,
            "policy_settings": self.policy_settings,
            "n": self.n,
            "states": self.states,
            "siblings": self.siblings,
            "rollouts": self.rollouts,
            "vary": self.vary,
            "sample": self.sample,
        }
        return RunConfig(
            policy=BUILDER,
            policy_settings=builder,
            tasks=self.tasks,
            split=self.split,
            limit=self.limit,
            seed=self.seed,
            max_turns=self.max_turns,
        )

    def to_json(self) -> dict[str, Any]:
        row = asdict(self)
        row["tasks"] = list(self.tasks)
        return row

    @classmethod
    def from_json(cls, row: dict[str, Any]) -> BuildConfig:
        return cls(**{**row, "tasks": tuple(row["tasks"])})


def selection(config: BuildConfig) -> list[tuple[str, int]] | None:
    """The instances a ``sample`` build covers (per task, seeded by the build seed and the task name);
    None when the build covers the plan as is (all instances, or the first ``limit``)."""
    if config.sample is None:
        return None
    chosen = []
    for task, count in _instances(config).items():
        rng = np.random.default_rng([config.seed & 0xFFFFFFFF, zlib.crc32(task.encode())])
        wanted = config.sample.get(task) if isinstance(config.sample, dict) else config.sample
        if wanted is None:
            raise PoolError(f"--sample names no count for {task} (give one count, or TASK=COUNT for every task)")
        size = min(wanted, count)
        chosen += [(task, int(i)) for i in sorted(rng.choice(count, size=size, replace=False))]
    return chosen


def _instances(config: BuildConfig) -> dict[str, int]:
    counts: dict[str, int] = {}
    for task, _ in harness.plan(config.run_config()):
        counts[task] = counts.get(task, 0) + 1
    return counts


@dataclass
class Built:
    blob: bytes
    sha256: str
    header: dict[str, Any]
    summary: harness.RunSummary


def build(
    config: BuildConfig,
    out: Path,
    *,
    workers: int | None = None,
    show_progress: bool = True,
    executor: str = "local",
    ray_address: str | None = None,
) -> Built | harness.RunSummary:
    """Play every instance not yet finished in ``out``; when all are, the pool (bytes, digest, header).

    Returns the run summary alone while instances remain errored (rerun to retry them).
    """
    run = config.run_config()
    only = selection(config)
    summary = harness.run(
        run, out, workers=workers, show_progress=show_progress, only=only, executor=executor, ray_address=ray_address
    )
    if summary.errors or summary.finished < summary.total:
        return summary
    wanted = set(only) if only is not None else set(harness.plan(run))
    records = [r for r in read_records(out) if r.key in wanted]
    instances = [Instance.from_json(r.extra["pool"]) for r in records]
    header = pool_header(config, manifest_mod.read(out), instances)
    blob, digest = encode(header, instances)
    return Built(blob, digest, header, summary)


def pool_header(config: BuildConfig, manifest: dict[str, Any], instances: list[Instance]) -> dict[str, Any]:
    """The pool's first line: how it was built, from the build's own manifest.

    Only what decides the content is in it (not the harness version, which the descriptor records), so
    a rebuild by a later harness with the same tasks, data and policy names the same digest.
    """
    if not instances:
        raise PoolError("the build covers no instance: nothing to freeze")
    builder = manifest.get("policy_settings", {})
    resolved = builder.get("resolved", {})
    counts: dict[str, int] = {}
    for instance in instances:
        counts[instance.task] = counts.get(instance.task, 0) + 1
    epsilon = None
    if config.policy == "noisy-expert":
        epsilon = list(config.vary.get("epsilon") or [resolved.get("epsilon")])
    return {
        "synthetic": not builder.get("model_policy", False),
        "policy": {
            "name": config.policy,
            "settings": config.policy_settings,
            "resolved": resolved,
            "model_weights": builder.get("model_weights"),
        },
        "epsilon": epsilon,
        "build": config.to_json(),
        "n": config.n,
        "tasks": {task: counts[task] for task in config.tasks if task in counts},
        "task_versions": {task: task_table.get(task).version for task in config.tasks},
        "data": manifest.get("data", {}),
    }
