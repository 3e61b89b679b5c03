"""Walking one environment through the states of a pool build: candidates, siblings, rollouts.

Like :class:`agentrm_bench.search.tree.Branches`, but each state keeps the environment's *whole* info
(a policy that acts step by step reads its admissible actions, and the expert reads the environment
itself), and the environment is restored to a state only when it is not already there -- so a
candidate played start to finish never restores, and a rollout restores once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym

from ..env import Snapshot
from ..prompts.trajectory import Step, Trajectory
from ..search.tree import Node
from .format import Outcome

PUBLIC_INFO = ("domain", "subtask")  # what a reward model may read besides the text (as search.tree keeps)


@dataclass(frozen=True)
class State:
    trajectory: Trajectory
    snapshot: Snapshot
    observation: str
    info: dict[str, Any]
    terminated: bool = False
    truncated: bool = False
    uid: int = 0

    @property
    def done(self) -> bool:
        return self.terminated or self.truncated

    @property
    def depth(self) -> int:
        return len(self.trajectory.steps)

    @property
    def admissible(self) -> tuple[str, ...] | None:
        actions = self.info.get("admissible_actions")
        return tuple(str(a) for a in actions) if actions else None

    @property
    def outcome(self) -> Outcome:
        return Outcome(bool(self.info.get("success", False)), self.info.get("progress"), self.depth)

    def node(self) -> Node:
        """The search-tree node of this state (what a model policy's prompt is built from)."""
        return Node(self.trajectory, self.snapshot, (), admissible=self.admissible, uid=self.uid)


def public(info: dict[str, Any]) -> dict[str, Any]:
    return {k: info[k] for k in PUBLIC_INFO if k in info}


class Walker:
    def __init__(self, env: gym.Env, task: str):
        self.env = env
        self.task = task
        self._at: int | None = None
        self._uids = 0
        self.steps = 0
        self.restores = 0

    def _uid(self) -> int:
        self._uids += 1
        return self._uids

    def reset(self, index: int, seed: int) -> State:
        observation, info = self.env.reset(seed=seed, options={"index": index})
        trajectory = Trajectory(self.task, str(info.get("goal", "")), observation, info=public(info))
        state = State(trajectory, self.env.unwrapped.snapshot(), observation, dict(info), uid=self._uid())
        self._at = state.uid
        return state

    def goto(self, state: State) -> None:
        """Put the environment in ``state`` (a policy about to act reads it)."""
        if self._at != state.uid:
            self.env.unwrapped.restore(state.snapshot)
            self.restores += 1
            self._at = state.uid

    def step(self, state: State, step: Step) -> State:
        if state.done:
            return state
        self.goto(state)
        observation, _, terminated, truncated, info = self.env.step(step.action)
        self.steps += 1
        trajectory = state.trajectory.extend(
            Step(step.thought, step.action, observation),
            progress=info.get("progress"),
            success=bool(info.get("success", False)),
            done=bool(terminated or truncated),
            info=public(info),
        )
        child = State(
            trajectory,
            self.env.unwrapped.snapshot(),
            observation,
            dict(info),
            bool(terminated),
            bool(truncated),
            self._uid(),
        )
        self._at = child.uid
        return child
