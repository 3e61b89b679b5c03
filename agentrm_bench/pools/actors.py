"""Who proposes the steps of a pool: a step-by-step policy, or a model policy's LLM and prompt.

A pool build needs three things of its pinned policy, from *any* state (not only from the start of an
episode, as :meth:`Policy.play_episode` offers): the next step (candidates and rollouts), and K distinct
next steps (the siblings of a sampled state). :class:`PolicyActor` gets them from a policy's
:meth:`~agentrm_bench.policies.Policy.act` with the environment put in that state; :class:`ModelActor`
from the LLM and the ReAct prompt of a model policy (``greedy``, ``best-of-n``, ...), sampling at the
policy's temperature with seeds fixed by the sample's place in the build, so a rebuild samples the same.

Siblings are the candidate's own step first, then other *distinct* actions: where the policy lists its
choices (``choices(env, info, earlier)``, preferred first -- the noisy expert: the expert's action, then
the admissible others), its preferred one and a seeded draw of the rest; else distinct draws of the
policy, at most ``DRAWS_PER_SIBLING`` per sibling wanted.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from ..policies import Policy
from ..prompts.trajectory import Step
from ..search.run import EpisodeRun, Sampling, sample_seed
from .walk import State, Walker

DRAWS_PER_SIBLING = 4


class Actor(ABC):
    """Proposes steps for one instance; ``tokens`` counts what a model generated for it."""

    tokens: int = 0

    @abstractmethod
    def begin(self, seed: int) -> None:
        """Start an episode (a candidate, or a rollout from a state) seeded by ``seed``."""

    @abstractmethod
    async def next_step(self, walker: Walker, state: State, place: tuple[int, ...]) -> Step:
        """The step the policy takes in ``state``; ``place`` fixes the sample's seed in the build."""

    @abstractmethod
    async def siblings(self, walker: Walker, state: State, taken: Step, k: int, place: tuple[int, ...]) -> list[Step]:
        """``taken`` and up to ``k - 1`` other distinct next steps in ``state``."""


def _distinct(taken: Step, proposals: list[Step], k: int) -> list[Step]:
    chosen, seen = [taken], {taken.action.strip().lower()}
    for step in proposals:
        key = step.action.strip().lower()
        if key not in seen and len(chosen) < k:
            seen.add(key)
            chosen.append(step)
    return chosen


class PolicyActor(Actor):
    """A step-by-step policy (``act``): the expert, the noisy expert, random, a plug-in's."""

    def __init__(self, policy: Policy, task: str, index: int, seed: int):
        self.policy = policy
        self.task = task
        self.index = index
        self.seed = seed

    def begin(self, seed: int) -> None:
        self.policy.begin(task=self.task, index=self.index, seed=seed)

    async def next_step(self, walker: Walker, state: State, place: tuple[int, ...]) -> Step:
        walker.goto(state)
        return Step("", str(self.policy.act(walker.env, state.observation, state.info)), "")

    async def siblings(self, walker: Walker, state: State, taken: Step, k: int, place: tuple[int, ...]) -> list[Step]:
        walker.goto(state)
        named = getattr(self.policy, "choices", None)
        if callable(named):  # the policy lists its choices, preferred first: that one, then a seeded draw
            preferred, *others = [str(a) for a in named(walker.env, state.info, state.trajectory.actions)]
            rng = np.random.default_rng(sample_seed(self.seed, *place))
            picked = [others[int(i)] for i in rng.permutation(len(others))]
            return _distinct(taken, [Step("", a, "") for a in (preferred, *picked)], k)
        self.begin(sample_seed(self.seed, *place))
        draws = []
        for _ in range(DRAWS_PER_SIBLING * max(0, k - 1)):
            draws.append(Step("", str(self.policy.act(walker.env, state.observation, state.info)), ""))
            if len(_distinct(taken, draws, k)) == k:
                break
        return _distinct(taken, draws, k)


class ModelActor(Actor):
    """A model policy's LLM and prompt (a :class:`~agentrm_bench.search.policy.SearchPolicy`)."""

    def __init__(self, policy: Any, walker: Walker, task: str, index: int, seed: int):
        self.policy = policy
        self.temperature = float(policy.temperature)
        self.run = EpisodeRun(
            env=walker.env,
            task=task,
            index=index,
            seed=seed,
            llm=policy.llm,
            prompter=policy.prompter(task),
            sampling=Sampling(policy.temperature, policy.max_tokens),
        )

    @property
    def tokens(self) -> int:  # type: ignore[override]
        return self.run.tokens

    def begin(self, seed: int) -> None:
        return None  # every sample's seed comes from its place in the build

    async def next_step(self, walker: Walker, state: State, place: tuple[int, ...]) -> Step:
        [[(parsed, _)]] = await self.run.propose([state.node()], 1, self.temperature, [place])
        return Step(parsed.thought, parsed.action, "")

    async def siblings(self, walker: Walker, state: State, taken: Step, k: int, place: tuple[int, ...]) -> list[Step]:
        wanted = DRAWS_PER_SIBLING * max(0, k - 1)
        if not wanted:
            return [taken]
        [row] = await self.run.propose([state.node()], wanted, self.temperature, [place])
        return _distinct(taken, [Step(p.thought, p.action, "") for p, _ in row], k)


def is_model_policy(policy: Policy) -> bool:
    """A policy that proposes with an LLM and a prompt (the registered LLM policies and their kin)."""
    from ..search.policy import SearchPolicy

    return isinstance(policy, SearchPolicy)
