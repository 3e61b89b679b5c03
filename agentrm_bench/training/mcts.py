"""Monte Carlo tree search over environment snapshots, the policy proposing the actions (AgentRM's
exploration), giving each visited state a value: the mean return of the rollouts that went through it.

One simulation: from the root, descend by UCT to a node not yet expanded; expand it -- the policy
samples ``expansions`` replies (distinct actions become children, each executed on the node's snapshot)
-- then play every new child out with the policy to the end of the episode, and add each rollout's
return to the child and to every ancestor. The return is the episode's success (1/0) or its final
progress rate (``return_kind``, recorded with the tree); a terminal child's return is its own outcome.
Model calls are batched: a node's expansions are one call, and the rollouts of its children advance in
lockstep (one call per turn for all of them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from ..llm.base import LLM
from ..prompts.react import ReActPrompter
from ..prompts.trajectory import Trajectory
from ..search.run import EpisodeRun, Sampling
from ..search.tree import Node
from .artifacts import TrainingError

RETURNS = ("success", "progress")


@dataclass(frozen=True)
class Settings:
    simulations: int = 8
    expansions: int = 3
    temperature: float = 1.0  # proposals and rollouts sample: a tree of greedy copies says nothing
    exploration: float = 1.0  # UCT constant
    return_kind: str = "success"
    max_tokens: int = 48

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class TreeNode:
    id: int
    parent: int | None
    state: Node
    visits: int = 0
    value_sum: float = 0.0
    expanded: bool = False
    children: list[int] = field(default_factory=list)

    @property
    def value(self) -> float | None:
        return self.value_sum / self.visits if self.visits else None


@dataclass
class Tree:
    task: str
    index: int
    nodes: list[TreeNode]
    rollouts: list[dict[str, Any]]

    def to_json(self, settings: Settings) -> dict[str, Any]:
        rows = []
        for node in self.nodes:
            state = node.state
            step = state.trajectory.steps[-1] if state.trajectory.steps else None
            rows.append(
                {
                    "id": node.id,
                    "parent": node.parent,
                    "depth": state.depth,
                    "visits": node.visits,
                    "value": node.value,
                    "thought": step.thought if step else None,
                    "action": step.action if step else None,
                    "response": step.response if step else None,
                    "observation": step.observation if step else state.trajectory.first_observation,
                    "terminal": state.done,
                    "success": state.trajectory.success,
                    "progress": state.trajectory.progress,
                    "children": node.children,
                }
            )
        root = self.nodes[0].state.trajectory
        return {
            "task": self.task,
            "index": self.index,
            "goal": root.goal,
            "first_observation": root.first_observation,
            "info": dict(root.info),
            "return": settings.return_kind,
            "settings": settings.to_json(),
            "nodes": rows,
            "rollouts": self.rollouts,
        }


class Search:
    """The search of one instance; ``env`` is a TextEnv made for the training split."""

    def __init__(
        self, env: Any, task: str, index: int, seed: int, llm: LLM, prompter: ReActPrompter, settings: Settings
    ):
        if settings.return_kind not in RETURNS:
            raise ValueError(f"return must be one of {RETURNS}, got {settings.return_kind!r}")
        self.settings = settings
        self.run = EpisodeRun(
            env=env,
            task=task,
            index=index,
            seed=seed,
            llm=llm,
            prompter=prompter,
            sampling=Sampling(settings.temperature, settings.max_tokens),
        )
        self.nodes: list[TreeNode] = []
        self.rollouts: list[dict[str, Any]] = []
        self._calls = 0

    def _add(self, state: Node, parent: int | None) -> TreeNode:
        node = TreeNode(len(self.nodes), parent, state)
        self.nodes.append(node)
        if parent is not None:
            self.nodes[parent].children.append(node.id)
        return node

    def returns(self, state: Node) -> float:
        trajectory = state.trajectory
        if self.settings.return_kind == "success":
            return 1.0 if trajectory.success else 0.0
        if trajectory.progress is None:
            raise TrainingError(f"{self.run.task} reports no progress on this split: use --return success")
        return float(trajectory.progress)

    async def search(self) -> Tree:
        root = self._add(self.run.reset(), None)
        for simulation in range(self.settings.simulations):
            leaf = self._select(root)
            if leaf.state.done:
                self._backup(leaf, [self.returns(leaf.state)])
                continue
            children = await self._expand(leaf, simulation)
            finals = await self._rollout([c.state for c in children], simulation)
            for child, final in zip(children, finals, strict=True):
                value = self.returns(final)
                child.visits += 1
                child.value_sum += value
                self.rollouts.append(_rollout_row(child.id, final, value))
            self._backup(leaf, [self.returns(f) for f in finals])
        return Tree(self.run.task, self.run.index, self.nodes, self.rollouts)

    def _select(self, node: TreeNode) -> TreeNode:
        while node.expanded and node.children and not node.state.done:
            parent = node
            node = self.nodes[max(parent.children, key=lambda c: (self._uct(parent, c), -c))]
        return node

    def _uct(self, parent: TreeNode, child_id: int) -> float:
        """Mean return plus the exploration bonus; an unvisited child first."""
        child = self.nodes[child_id]
        if child.visits == 0:
            return math.inf
        bonus = self.settings.exploration * math.sqrt(math.log(max(1, parent.visits)) / child.visits)
        return (child.value or 0.0) + bonus

    async def _expand(self, leaf: TreeNode, simulation: int) -> list[TreeNode]:
        [row] = await self.run.propose(
            [leaf.state], self.settings.expansions, self.settings.temperature, [(1, leaf.id)]
        )
        leaf.expanded = True
        seen: set[str] = set()
        children = []
        for parsed, generation in row:
            key = " ".join(parsed.action.lower().split())
            if key in seen:  # the same action twice is the same state
                continue
            seen.add(key)
            children.append(self._add(self.run.step(leaf.state, parsed, generation), leaf.id))
        return children

    async def _rollout(self, states: list[Node], simulation: int) -> list[Node]:
        """Play every state to its end with the policy, in lockstep; the final states."""
        current = list(states)
        turn = 0
        while True:
            alive = [k for k, s in enumerate(current) if not s.done]
            if not alive:
                return current
            places = [(2, simulation, k, turn) for k in alive]
            proposals = await self.run.propose([current[k] for k in alive], 1, self.settings.temperature, places)
            for k, [(parsed, generation)] in zip(alive, proposals, strict=True):
                current[k] = self.run.step(current[k], parsed, generation)
            turn += 1

    def _backup(self, leaf: TreeNode, values: list[float]) -> None:
        node: TreeNode | None = leaf
        while node is not None:
            node.visits += len(values)
            node.value_sum += sum(values)
            node = self.nodes[node.parent] if node.parent is not None else None

    @property
    def tokens(self) -> int:
        return self.run.tokens

    @property
    def env_steps(self) -> int:
        return self.run.branches.steps


def _rollout_row(node: int, final: Node, value: float) -> dict[str, Any]:
    trajectory: Trajectory = final.trajectory
    return {
        "from_node": node,
        "steps": [{"thought": s.thought, "action": s.action, "observation": s.observation} for s in trajectory.steps],
        "success": trajectory.success,
        "progress": trajectory.progress,
        "return": value,
    }
