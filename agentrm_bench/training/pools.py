"""Where training data may come from: each task's non-test pool, and the check that it is not test data.

Nothing trained here may see a test instance. Each task that can be trained on names the split it
trains from, and every instance gets an identity comparable with the test instances' -- the upstream
problem it is, not our row number -- so a collector can refuse a test instance even when two splits
are built from the same upstream pool:

- BabyAI: ``train``, our own rows: every AgentBoard level with seeds from 100000 on (AgentBoard's test
  uses seeds 1234-1237). A level with a small room can draw the same layout from two seeds, so the
  identity is the level, its mission, the whole grid and the agent's place: a train row that looks
  exactly like a test row is skipped (and counted).
- ScienceWorld: ``dev``, ETO's dev variations; the identity is (ScienceWorld task, variation), checked
  against AgentBoard's test problems (88 of which are ScienceWorld *train* variations) and ETO's test.
  Two of the 194 are AgentBoard test problems (identify-life-stages-1, variations 6 and 7): they are
  left out of every plan.
- ALFWorld: ``dev``, the ``valid_seen`` games (the test split is ``valid_unseen``); the data layer has
  no ``train`` games, so the seen-rooms validation set is the only non-test pool here.
- WebShop: ``dev``, the goals after the 500 test goals.
The other tasks have no pool besides their test set and cannot be trained on.
"""

from __future__ import annotations

import hashlib
from functools import cache
from typing import Any

from .. import tasks
from .artifacts import TrainingError

POOLS = {"babyai": "train", "sciworld": "dev", "alfworld": "dev", "webshop": "dev"}


def check_split(task: str, split: str) -> None:
    """Refuse a test split, a split the task lacks, and tasks without a non-test pool (one line each)."""
    spec = tasks.get(task)
    if split.startswith("test"):
        raise TrainingError(f"{task}: training data never comes from a test split ({split!r})")
    if split not in spec.splits:
        raise TrainingError(f"{task} has no split {split!r}; its splits: {', '.join(spec.splits)}")
    pool = POOLS.get(spec.name)
    if pool is None:
        raise TrainingError(f"{task} has no instances outside its test set; it cannot be trained on")
    if split != pool:
        raise TrainingError(f"{task} trains from its {pool!r} split, not {split!r}")


def default_split(task: str) -> str:
    pool = POOLS.get(tasks.get(task).name)
    if pool is None:
        raise TrainingError(f"{task} has no instances outside its test set; it cannot be trained on")
    return pool


def identity(task: str, split: str, index: int) -> tuple[Any, ...]:
    """The upstream problem row ``index`` of ``split`` is (comparable across splits; no simulator needed)."""
    name = tasks.get(task).name
    if name == "babyai":
        from ..envs.babyai import levels

        row = levels.instance(index, split)
        return (row.level.upstream_id, row.seed)
    if name == "sciworld":
        from ..envs.sciworld import sets

        row = sets.instances(split)[index]
        return (row.task, row.variation)
    if name == "alfworld":
        from ..envs.alfworld import games

        return tuple(games.games(split)[index])
    return (split, index)  # a task whose splits are disjoint by construction (WebShop's goal ranges)


@cache
def test_identities(task: str) -> frozenset[tuple[Any, ...]]:
    """The identities of every instance of every test split of ``task``."""
    spec = tasks.get(task)
    found: set[tuple[Any, ...]] = set()
    for split, size in spec.sizes.items():
        if split.startswith("test"):
            found.update(identity(task, split, index) for index in range(size))
    return frozenset(found)


def is_test_instance(task: str, split: str, index: int) -> bool:
    return identity(task, split, index) in test_identities(task)


def fingerprint(env: Any) -> str | None:
    """What an agent could tell apart of the state just reset (BabyAI: level, mission, grid, agent);
    None for tasks whose identity already decides."""
    unwrapped = env.unwrapped
    if unwrapped.task != "babyai":
        return None
    level = unwrapped.level
    h = hashlib.sha256()
    h.update(unwrapped.instance.level.upstream_id.encode() + b"\0" + level.mission.encode() + b"\0")
    h.update(level.grid.encode().tobytes())
    h.update(repr((tuple(int(v) for v in level.agent_pos), int(level.agent_dir))).encode())
    return h.hexdigest()


@cache
def test_fingerprints(task: str) -> frozenset[str]:
    """The fingerprints of the test instances' start states (BabyAI: 112 resets, a few seconds)."""
    if tasks.get(task).name != "babyai":
        return frozenset()
    import gymnasium as gym

    env = gym.make(tasks.get(task).id, split="test")
    try:
        found = set()
        for index in range(env.unwrapped.num_instances):
            env.reset(seed=0, options={"index": index})
            found.add(fingerprint(env))
        return frozenset(f for f in found if f is not None)
    finally:
        env.close()
