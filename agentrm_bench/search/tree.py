"""Search nodes and branching: executing actions on saved states of one environment.

A :class:`Node` is a state reached by a sequence of actions: its snapshot (the environment contract in
docs/architecture.md), the trajectory that led there, and the per-step data the episode record needs.
:class:`Branches` steps any node: it restores the node's snapshot unless the environment already sits
in that state, so a greedy episode never restores and a search restores only when it switches branches.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import gymnasium as gym

from ..prompts.trajectory import Step, Trajectory


@dataclass(frozen=True)
class Node:
    trajectory: Trajectory
    snapshot: Any
    observations: tuple[str, ...]  # the reset observation first
    rewards: tuple[float, ...] = ()
    valid_actions: tuple[bool, ...] = ()
    admissible: tuple[str, ...] | None = None
    terminated: bool = False
    truncated: bool = False
    score: float | None = None
    uid: int = 0
    notes: tuple[str, ...] = field(default=(), compare=False)

    @property
    def done(self) -> bool:
        return self.terminated or self.truncated

    @property
    def depth(self) -> int:
        return len(self.trajectory.steps)


class Branches:
    """Steps nodes of one environment, restoring snapshots only when switching branches."""

    def __init__(self, env: gym.Env, task: str):
        self.env = env
        self.task = task
        self._at: int | None = None  # uid of the node the environment is in
        self._next_uid = 0
        self.restores = 0
        self.steps = 0

    def _uid(self) -> int:
        self._next_uid += 1
        return self._next_uid

    def reset(self, index: int, seed: int) -> Node:
        observation, info = self.env.reset(seed=seed, options={"index": index})
        node = Node(
            trajectory=Trajectory(self.task, str(info.get("goal", "")), observation, info=_public(info)),
            snapshot=self.env.unwrapped.snapshot(),
            observations=(observation,),
            admissible=_admissible(info),
            uid=self._uid(),
        )
        self._at = node.uid
        return node

    def step(self, node: Node, thought: str, action: str, response: str = "") -> Node:
        if node.done:
            return node
        if self._at != node.uid:
            self.env.unwrapped.restore(node.snapshot)
            self.restores += 1
        observation, reward, terminated, truncated, info = self.env.step(action)
        self.steps += 1
        trajectory = node.trajectory.extend(
            Step(thought, action, observation, response),
            progress=info.get("progress"),
            success=bool(info.get("success", False)),
            done=bool(terminated or truncated),
            info=_public(info),
        )
        child = replace(
            node,
            trajectory=trajectory,
            snapshot=self.env.unwrapped.snapshot(),
            observations=(*node.observations, observation),
            rewards=(*node.rewards, float(reward)),
            valid_actions=(*node.valid_actions, bool(info.get("valid_action", True))),
            admissible=_admissible(info),
            terminated=bool(terminated),
            truncated=bool(truncated),
            score=None,
            uid=self._uid(),
        )
        self._at = child.uid
        return child


def _admissible(info: dict[str, Any]) -> tuple[str, ...] | None:
    actions = info.get("admissible_actions")
    return tuple(str(a) for a in actions) if actions else None


def _public(info: dict[str, Any]) -> dict[str, Any]:
    """The info a reward model may use besides the text (e.g. a PDDL domain), without progress."""
    return {k: v for k, v in info.items() if k in ("domain", "subtask", "turn")}
