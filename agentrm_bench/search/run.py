"""One episode of a model-driven policy: prompting, sampling, stepping, scoring, and the record.

:class:`EpisodeRun` is what every strategy works with. It owns the per-episode counters (tokens,
notes) -- kept per episode, not per policy, because several episodes share one policy object when
they run concurrently -- and derives every sample's seed from the episode seed and the sample's place
in the search, so results do not depend on what else was in flight.

It also keeps the episode's cost, written to ``record.extra["cost"]``: prompt tokens (the backend's
count, or its estimate) and generated tokens, seconds waiting for the model (overlapping with other
episodes' waits when several are in flight), and the reward model's calls, trajectories and seconds.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..llm.base import LLM, Generation
from ..prompts.react import STOP, Parsed, ReActPrompter, parse_action
from ..prompts.trajectory import Trajectory
from .tree import Branches, Node

if TYPE_CHECKING:
    import gymnasium as gym

    from ..episode import EpisodeRecord
    from ..rewards.base import RewardModel


def sample_seed(episode_seed: int, *place: int) -> int:
    """A seed for one sample, fixed by the episode seed and the sample's place in the search."""
    return int(np.random.SeedSequence([episode_seed & 0xFFFFFFFF, *place]).generate_state(1)[0] & 0x7FFFFFFF)


@dataclass
class Sampling:
    temperature: float = 0.0
    max_tokens: int = 128


@dataclass
class EpisodeRun:
    env: gym.Env
    task: str
    index: int
    seed: int
    llm: LLM
    prompter: ReActPrompter
    sampling: Sampling
    rm: RewardModel | None = None
    tokens: int = 0
    tokens_in: int = 0
    model_seconds: float = 0.0
    rm_calls: int = 0
    rm_trajectories: int = 0
    rm_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    malformed: int = 0
    branches: Branches = field(init=False)

    def __post_init__(self) -> None:
        self.branches = Branches(self.env, self.task)

    def reset(self) -> Node:
        return self.branches.reset(self.index, self.seed)

    def _messages(self, node: Node) -> list[dict[str, str]]:
        budget = self.llm.context_length - self.sampling.max_tokens
        messages, note = self.prompter.messages(node.trajectory, node.admissible)
        # A token is at least one character, so only a long conversation needs exact counting.
        if sum(len(m["content"]) for m in messages) > budget:
            messages, note = self.prompter.messages(node.trajectory, node.admissible, budget, self.llm.count_tokens)
        if note and note not in self.notes:
            self.notes.append(note)
        return messages

    async def propose(
        self, nodes: Sequence[Node], n: int, temperature: float, places: Sequence[tuple[int, ...]]
    ) -> list[list[tuple[Parsed, Generation]]]:
        """``n`` sampled steps for each node (one batched model call)."""
        batch = [self._messages(node) for node in nodes]
        seeds = [sample_seed(self.seed, *place) for place in places]
        self.tokens_in += sum(self.llm.count_tokens(messages) for messages in batch)
        started = time.perf_counter()
        replies = await self.llm.agenerate(
            batch, n=n, temperature=temperature, max_tokens=self.sampling.max_tokens, stop=STOP, seeds=seeds
        )
        self.model_seconds += time.perf_counter() - started
        out = []
        for node, row in zip(nodes, replies, strict=True):
            parsed_row = []
            for generation in row:
                self.tokens += generation.tokens
                parsed = parse_action(generation.text, node.admissible)
                self.malformed += not parsed.well_formed
                parsed_row.append((parsed, generation))
            out.append(parsed_row)
        return out

    def step(self, node: Node, parsed: Parsed, generation: Generation, keep: bool = False) -> Node:
        """The child of ``node`` by the parsed action. ``keep``: the search will come back to the child after
        stepping elsewhere, so its snapshot is taken at once (otherwise when it is first come back to)."""
        return self.branches.step(node, parsed.thought, parsed.action, generation.text, keep=keep)

    async def score(self, trajectories: Sequence[Trajectory]) -> list[float]:
        if self.rm is None:
            raise RuntimeError("this strategy needs a reward model")
        if not trajectories:
            return []
        started = time.perf_counter()
        scores = [float(s) for s in await self.rm.ascore(list(trajectories))]
        self.rm_seconds += time.perf_counter() - started
        self.rm_calls += 1
        self.rm_trajectories += len(trajectories)
        return scores

    def cost(self) -> dict[str, Any]:
        """What the episode cost: tokens in and out, model seconds, reward-model calls and seconds."""
        return {
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens,
            "model_seconds": round(self.model_seconds, 4),
            "rm_calls": self.rm_calls,
            "rm_trajectories": self.rm_trajectories,
            "rm_seconds": round(self.rm_seconds, 4),
        }

    def fill(self, record: EpisodeRecord, node: Node, search: dict[str, Any]) -> None:
        """Write the chosen trajectory and the strategy's data into the episode record."""
        trajectory = node.trajectory
        record.goal = trajectory.goal
        record.actions = [s.action for s in trajectory.steps]
        record.observations = list(node.observations)
        record.rewards = list(node.rewards)
        record.valid_actions = list(node.valid_actions)
        record.progress = trajectory.progress
        record.success = trajectory.success
        record.terminated, record.truncated = node.terminated, node.truncated
        record.tokens = self.tokens
        record.extra = {
            **search,
            "responses": [s.response for s in trajectory.steps],
            "malformed_replies": self.malformed,
            "env_steps": self.branches.steps,
            "restores": self.branches.restores,
            "replayed_steps": self.branches.replayed,
            "snapshots": self.branches.snapshots,
            "cost": self.cost(),
            **({"notes": self.notes} if self.notes else {}),
        }
