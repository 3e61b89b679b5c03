"""One episode's record, and the loop that plays it.

The record is the unit of everything downstream (resume, report, leaderboard), so its fields are
fixed here (docs/architecture.md, "Record") and written as one JSON line per episode.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import gymnasium as gym

    from .policies import Policy


@dataclass
class EpisodeRecord:
    policy: str
    task: str
    index: int
    seed: int
    goal: str = ""
    actions: list[str] = field(default_factory=list)
    observations: list[str] = field(default_factory=list)  # the first one is the reset observation
    rewards: list[float] = field(default_factory=list)
    valid_actions: list[bool] = field(default_factory=list)
    progress: float | None = 0.0
    success: bool = False
    terminated: bool = False
    truncated: bool = False
    turns: int = 0
    tokens: int = 0
    wall_time: float = 0.0
    error: str | None = None
    # Optional, per strategy: search data (Best-of-N candidates and oracle@N, beam candidates), the
    # model's raw replies, notes such as a truncated history. Absent from older records.
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, int]:
        return (self.task, self.index)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, row: dict[str, Any]) -> EpisodeRecord:
        known = {k: v for k, v in row.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def play(policy: Policy, env: gym.Env, *, policy_name: str, task: str, index: int, seed: int) -> EpisodeRecord:
    """Run one episode of ``policy`` on ``env`` (instance ``index``) to its end.

    The policy plays the episode (:meth:`Policy.play_episode`: by default one :meth:`Policy.act` per
    step; a search strategy may branch and sample many trajectories) and fills the record with the
    trajectory it chose; this function adds what is the same for every policy.
    """
    started = time.perf_counter()
    record = EpisodeRecord(policy=policy_name, task=task, index=index, seed=seed)
    policy.begin(task=task, index=index, seed=seed)
    policy.play_episode(env, record)
    record.turns = len(record.actions)
    record.wall_time = time.perf_counter() - started
    return record


async def aplay(policy: Policy, env: gym.Env, *, policy_name: str, task: str, index: int, seed: int) -> EpisodeRecord:
    """:func:`play` as a coroutine, for episodes kept in flight together (harness ``in_flight``)."""
    started = time.perf_counter()
    record = EpisodeRecord(policy=policy_name, task=task, index=index, seed=seed)
    policy.begin(task=task, index=index, seed=seed)
    await policy.aplay_episode(env, record)
    record.turns = len(record.actions)
    record.wall_time = time.perf_counter() - started
    return record


def act_loop(policy: Policy, env: gym.Env, record: EpisodeRecord) -> None:
    """The default episode: reset, then one :meth:`Policy.act` per step until the episode ends."""
    observation, info = env.reset(seed=record.seed, options={"index": record.index})
    record.goal = info.get("goal", "")
    record.observations.append(observation)
    terminated = truncated = False
    while not (terminated or truncated):
        action = policy.act(env, observation, info)
        observation, reward, terminated, truncated, info = env.step(action)
        record.actions.append(action)
        record.observations.append(observation)
        record.rewards.append(float(reward))
        record.valid_actions.append(bool(info.get("valid_action", True)))
    record.progress = info.get("progress")
    record.success = bool(info.get("success", False))
    record.terminated, record.truncated = bool(terminated), bool(truncated)
    record.tokens = policy.tokens_used()
