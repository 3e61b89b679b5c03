"""Speed of the environments and of the harness (pytest-benchmark; run with --benchmark-only).

Targets (the Foundation issue): a Maze step under 1 ms, a BabyAI step under 5 ms, and the
harness adding under 10% per step over calling the environment directly.
"""

from __future__ import annotations

import itertools

import gymnasium as gym
import pytest

import agentrm_bench  # noqa: F401
from agentrm_bench import harness
from agentrm_bench.manifest import RunConfig
from agentrm_bench.policies import ExpertPolicy, NoopPolicy

from ..conftest import available_ids


def stepper(env_id: str):
    """A callable doing one step, cycling through admissible actions and instances."""
    env = gym.make(env_id, max_turns=10**9).unwrapped
    instances = itertools.cycle(range(env.num_instances))
    _, info = env.reset(seed=0, options={"index": next(instances)})
    actions = itertools.cycle(info.get("admissible_actions") or ["look"])
    state = {"turns": 0}

    def step():
        nonlocal actions
        _, _, terminated, truncated, info = env.step(next(actions))
        state["turns"] += 1
        if terminated or truncated or state["turns"] >= 30:
            state["turns"] = 0
            _, info = env.reset(seed=0, options={"index": next(instances)})
            actions = itertools.cycle(info.get("admissible_actions") or ["look"])

    return step


@pytest.mark.parametrize("env_id", [i for i in available_ids() if i in ("agentrm/Maze-v0", "agentrm/BabyAI-v0")])
def test_env_step(benchmark, env_id):
    benchmark.group = "env step"
    benchmark(stepper(env_id))


def direct_noop_loop(limit: int) -> None:
    """What the harness does per episode, without the harness: reset, then step a fixed action."""
    env = gym.make("agentrm/BabyAI-v0")
    policy = NoopPolicy()
    for index in range(limit):
        obs, info = env.reset(seed=index, options={"index": index})
        done = False
        while not done:
            obs, _, terminated, truncated, info = env.step(policy.act(env, obs, info))
            done = terminated or truncated


@pytest.mark.parametrize("mode", ["direct", "harness-0-workers", "harness-2-workers"])
def test_harness_overhead_noop_babyai(benchmark, tmp_path_factory, mode):
    """All 112 BabyAI instances x 30 no-op steps: directly, through the harness in-process, at 2 workers."""
    benchmark.group = "harness overhead (112 BabyAI episodes x 30 no-op steps)"
    if mode == "direct":
        benchmark.pedantic(direct_noop_loop, args=(112,), rounds=3, iterations=1)
        return
    workers = int(mode.split("-")[1])

    def run_once():
        out = tmp_path_factory.mktemp("run")
        harness.run(RunConfig(policy="noop", tasks=("babyai",)), out, workers=workers, show_progress=False)

    benchmark.pedantic(run_once, rounds=3, iterations=1)


def test_expert_babyai_episodes(benchmark):
    """Expert episodes per second on BabyAI: 28 episodes (the first seed of each level)."""
    benchmark.group = "expert"
    env = gym.make("agentrm/BabyAI-v0")
    expert = ExpertPolicy()

    def episodes():
        for index in range(0, 112, 4):
            obs, info = env.reset(seed=index, options={"index": index})
            done = False
            while not done:
                obs, _, terminated, truncated, info = env.step(expert.act(env, obs, info))
                done = terminated or truncated

    benchmark.pedantic(episodes, rounds=3, iterations=1)
