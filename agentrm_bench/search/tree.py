"""Search nodes and branching: executing actions on saved states of one environment.

A :class:`Node` is a state reached by a sequence of actions: the trajectory that led there, the per-step
data the episode record needs, and where its environment state can be had again. :class:`Branches`
steps any node, moving the environment into that node's state only when it is elsewhere, so a greedy
episode never restores and a search restores only when it switches branches.

Snapshots are taken lazily. A snapshot copies the simulator (BabyAI's level, Jericho's game), often at a
higher cost than a step, and most nodes a search creates are never stepped from again once the
environment has left them (greedy leaves each node forward; beam search keeps W of its W x K children).
So a node keeps no snapshot while it is new: when the search comes back to it, it is re-derived from its
parent's state by stepping its action again (steps are deterministic given the state, the same guarantee
replay-restores rely on) and snapshotted then, since a node that was come back to tends to be come back
to again (a kept beam is expanded K times). Where a task declares its snapshots cheaper than a step
(``TextEnv.cheap_snapshots``: ALFWorld's engine states), every new node is snapshotted once the search
has branched (a greedy episode still takes none). A strategy that will certainly come back to a child after
stepping elsewhere (Best-of-N's chains, stepped in turn) asks for its snapshot at once with ``keep``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import gymnasium as gym

from ..prompts.trajectory import Step, Trajectory


class SavedState:
    """Where a node's environment state can be had again: its snapshot once taken, else its parent's state
    and the action that led from there (the root's: the episode's reset). A node's copies (a scored
    :func:`dataclasses.replace`) share it, so a snapshot taken for one serves them all."""

    __slots__ = ("snapshot", "parent", "action")

    def __init__(self, parent: SavedState | None = None, action: str | None = None, snapshot: Any = None):
        self.snapshot = snapshot
        self.parent = parent  # dropped once the snapshot is taken, so that ancestors can be freed
        self.action = action  # None: the root


@dataclass(frozen=True)
class Node:
    trajectory: Trajectory
    observations: tuple[str, ...]  # the reset observation first
    rewards: tuple[float, ...] = ()
    valid_actions: tuple[bool, ...] = ()
    admissible: tuple[str, ...] | None = None
    terminated: bool = False
    truncated: bool = False
    score: float | None = None
    uid: int = 0
    notes: tuple[str, ...] = field(default=(), compare=False)
    state: SavedState = field(default_factory=SavedState, compare=False, repr=False)

    @property
    def done(self) -> bool:
        return self.terminated or self.truncated

    @property
    def depth(self) -> int:
        return len(self.trajectory.steps)

    @property
    def snapshot(self) -> Any:
        """The node's environment snapshot, or None while it has none (see the module's doc)."""
        return self.state.snapshot


class Branches:
    """Steps nodes of one environment, moving it between branches only when it must (see the module's doc).

    Counters for the episode record: ``steps`` (actions the search took), ``restores`` (snapshots restored,
    and resets to go back to the root), ``replayed`` (steps taken again to re-derive a node), ``snapshots``.
    """

    def __init__(self, env: gym.Env, task: str):
        self.env = env
        self.task = task
        self._at: SavedState | None = None  # the state the environment is in
        self._episode: tuple[int, int] = (0, 0)  # (index, seed): how to go back to the root
        self._next_uid = 0
        self._cheap = bool(getattr(env.unwrapped, "cheap_snapshots", False))
        self.restores = 0
        self.steps = 0
        self.replayed = 0
        self.snapshots = 0

    def _uid(self) -> int:
        self._next_uid += 1
        return self._next_uid

    def reset(self, index: int, seed: int) -> Node:
        self._episode = (index, seed)
        observation, info = self.env.reset(seed=seed, options={"index": index})
        node = Node(
            trajectory=Trajectory(self.task, str(info.get("goal", "")), observation, info=_public(info)),
            observations=(observation,),
            admissible=_admissible(info),
            uid=self._uid(),
        )
        self._at = node.state
        return node

    def step(self, node: Node, thought: str, action: str, response: str = "", keep: bool = False) -> Node:
        """The child reached by ``action`` from ``node``; ``keep``: snapshot it now (the search will come
        back to it after stepping elsewhere)."""
        if node.done:
            return node
        self._go_to(node.state)
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
            observations=(*node.observations, observation),
            rewards=(*node.rewards, float(reward)),
            valid_actions=(*node.valid_actions, bool(info.get("valid_action", True))),
            admissible=_admissible(info),
            terminated=bool(terminated),
            truncated=bool(truncated),
            score=None,
            uid=self._uid(),
            state=SavedState(node.state, action),
        )
        self._at = child.state
        if keep or (self._cheap and self.restores and not child.done):  # cheap: once the search branches
            self._snapshot(child.state)
        return child

    def _go_to(self, state: SavedState) -> None:
        """Put the environment into ``state``: from the nearest state on its path that the environment is
        in or that has a snapshot (or the root, by a reset), stepping the actions from there."""
        if self._at is state:
            return
        path = [state]  # the states to step into, the target first
        while path[-1] is not self._at and path[-1].snapshot is None and path[-1].action is not None:
            assert path[-1].parent is not None  # a state without a snapshot keeps its parent
            path.append(path[-1].parent)
        start = path.pop()
        if start is not self._at:
            if start.snapshot is not None:
                self.env.unwrapped.restore(start.snapshot)
            else:  # the root
                index, seed = self._episode
                self.env.reset(seed=seed, options={"index": index})
            self.restores += 1
        for later in reversed(path):
            self.env.step(later.action)
            self.replayed += 1
        self._at = state
        if path:
            self._snapshot(state)  # a node the search came back to is likely come back to again

    def _snapshot(self, state: SavedState) -> None:
        state.snapshot = self.env.unwrapped.snapshot()
        state.parent = None
        self.snapshots += 1


def _admissible(info: dict[str, Any]) -> tuple[str, ...] | None:
    actions = info.get("admissible_actions")
    return tuple(str(a) for a in actions) if actions else None


def _public(info: dict[str, Any]) -> dict[str, Any]:
    """The info a reward model may use besides the text (e.g. a PDDL domain), without progress."""
    return {k: v for k, v in info.items() if k in ("domain", "subtask", "turn")}
