"""The facts behind the BabyAI test set, kept in code so that BabyAI runs without the annotation file.

AgentBoard's BabyAI test set is 28 levels x 4 seeds = 112 rows. Which level and seed a row is follows
from AgentBoard's run configuration (levels 1..21, 24, 25, 27..29, 31, 32 of its level table; four
environments per level; base seed 1234), so the instances themselves need no data file. The file
(``test.jsonl``) only adds the subgoal patterns that progress is scored with.

One level needs care: AgentBoard ran minigrid 2.3.0, where ``BabyAI-GoToObjS6-v0`` meant a 4x4 room.
minigrid 3.x retired that id, so it is rebuilt here as ``BabyAI-GoToObj-v0`` with ``room_size=4``
(the newer ``-v1`` id uses a 6x6 room and generates different layouts).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

BASE_SEED = 1234
SEEDS_PER_LEVEL = 4
SEEDS: tuple[int, ...] = tuple(BASE_SEED + k for k in range(SEEDS_PER_LEVEL))


@dataclass(frozen=True)
class Level:
    """One BabyAI level as AgentBoard names it, and how to build it with today's minigrid."""

    number: int  # the key of AgentBoard's level table
    upstream_id: str  # the gym id AgentBoard used (and the data file's ``subtask``)
    build_id: str  # the gym id to build here
    build_kwargs: dict[str, Any] = field(default_factory=dict)


def _same(number: int, name: str) -> Level:
    gym_id = f"BabyAI-{name}-v0"
    return Level(number, gym_id, gym_id)


LEVELS: tuple[Level, ...] = (
    _same(1, "GoToRedBallGrey"),
    _same(2, "GoToRedBall"),
    _same(3, "GoToRedBallNoDists"),
    Level(4, "BabyAI-GoToObjS6-v0", "BabyAI-GoToObj-v0", {"room_size": 4}),
    _same(5, "GoToLocalS8N7"),
    _same(6, "GoToObjMazeS7"),
    _same(7, "GoToImpUnlock"),
    _same(8, "GoToSeqS5R2"),
    _same(9, "GoToRedBlueBall"),
    _same(10, "GoToDoor"),
    _same(11, "GoToObjDoor"),
    _same(12, "Open"),
    _same(13, "OpenRedDoor"),
    _same(14, "OpenDoorLoc"),
    _same(15, "OpenRedBlueDoorsDebug"),
    _same(16, "OpenDoorsOrderN4Debug"),
    _same(17, "Pickup"),
    _same(18, "UnblockPickup"),
    _same(19, "PickupLoc"),
    _same(20, "PickupDistDebug"),
    _same(21, "PickupAbove"),
    _same(24, "Unlock"),
    _same(25, "UnlockLocalDist"),
    _same(27, "UnlockPickupDist"),
    _same(28, "BlockedUnlockPickup"),
    _same(29, "UnlockToUnlock"),
    _same(31, "FindObjS7"),
    _same(32, "KeyCorridorS6R3"),
)

NUM_INSTANCES = len(LEVELS) * SEEDS_PER_LEVEL

# A training pool (not AgentBoard's): every level with seeds from a range far from the test seeds, so
# that fine-tuning data never comes from a test instance. Rows cycle through the levels (row k is level
# k mod 28), so the first N rows of the split are a balanced sample of all levels.
TRAIN_BASE_SEED = 100_000
TRAIN_SEEDS_PER_LEVEL = 64
NUM_TRAIN_INSTANCES = len(LEVELS) * TRAIN_SEEDS_PER_LEVEL
SPLIT_SIZES = {"test": NUM_INSTANCES, "train": NUM_TRAIN_INSTANCES}


@dataclass(frozen=True)
class Instance:
    """Row ``index`` of the test set: a level and the seed its environment is reset with."""

    index: int
    level: Level
    seed: int


def instance(index: int, split: str = "test") -> Instance:
    """Row ``index`` -> (level, seed): test rows run level by level, four seeds each, as AgentBoard lists
    them; train rows cycle through the levels with seeds from ``TRAIN_BASE_SEED`` on."""
    size = SPLIT_SIZES.get(split)
    if size is None:
        raise ValueError(f"BabyAI has splits {list(SPLIT_SIZES)}, got {split!r}")
    if not 0 <= index < size:
        raise IndexError(f"BabyAI's {split} split has {size} instances, got index {index}")
    if split == "train":
        return Instance(index, LEVELS[index % len(LEVELS)], TRAIN_BASE_SEED + index // len(LEVELS))
    return Instance(index, LEVELS[index // SEEDS_PER_LEVEL], BASE_SEED + index % SEEDS_PER_LEVEL)


def build(level: Level) -> Any:
    """A fresh minigrid level environment (the unwrapped one: grid helpers are not forwarded by wrappers).

    Not yet reset; call ``reset(seed=...)`` on it.
    """
    import gymnasium as gym
    import minigrid  # noqa: F401  (registers the BabyAI ids)

    return gym.make(level.build_id, **level.build_kwargs).unwrapped


def agent_goal(mission: str) -> str:
    """The goal text the agent is shown: AgentBoard rewrites "then" and "after you" as "and"."""
    return mission.replace("then", "and").replace("after you", "and")


def run_primitives(level: Any, image: np.ndarray, primitives: tuple[int, ...]) -> tuple[np.ndarray, str]:
    """Step ``level`` through a command's ``primitives``, starting from the agent view ``image``.

    Returns the last view and the level's verdict at the last primitive stepped, as AgentBoard reads
    it: "success" (done with a reward), "failure" (done without) or "running". Every primitive runs,
    whatever the level said half-way, except that the expansion stops after a primitive that leaves the
    view unchanged, as AgentBoard's does.
    """
    status = "running"
    for primitive in primitives:
        obs, reward, terminated, _, _ = level.step(primitive)
        unchanged = obs["image"].tobytes() == image.tobytes()  # same shape and dtype: np.array_equal, 15x faster
        image = obs["image"]
        status = ("success" if reward > 0 else "failure") if terminated else "running"
        if unchanged:
            break
    return image, status
