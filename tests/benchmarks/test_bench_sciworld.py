"""Speed of ScienceWorld (pytest-benchmark: ``pytest tests/benchmarks/test_bench_sciworld.py --benchmark-only``).

What is measured: the JVM start (once per worker process), a reset (loading a variation in a running
JVM, then ``look around`` and the valid-action list), a step (the simulator's step, its score and
completion flag, and the valid-action list that ``info["admissible_actions"]`` carries), and one
whole expert episode. The numbers measured here are in agentrm_bench/envs/sciworld/PROVENANCE.md.
"""

from __future__ import annotations

import dataclasses
import itertools

import pytest

from agentrm_bench.envs.sciworld import rules
from agentrm_bench.envs.sciworld.env import ScienceWorldEnv
from agentrm_bench.envs.sciworld.sim import Simulator

pytest.importorskip("scienceworld")


@pytest.fixture(scope="module")
def env():
    environment = ScienceWorldEnv(split="test", max_turns=10**9)
    environment.reset(options={"index": 0})
    yield environment
    environment.close()


def test_jvm_start(benchmark):
    benchmark.group = "sciworld"

    def start_and_stop():
        simulator = Simulator()
        simulator.load("boil", 0, "")
        simulator.close()

    benchmark.pedantic(start_and_stop, rounds=2, iterations=1)


def test_reset(benchmark, env):
    """Reset cost over AgentBoard's problems (the JVM already running)."""
    benchmark.group = "sciworld"
    indices = itertools.cycle(range(env.num_instances))
    benchmark.pedantic(lambda: env.reset(options={"index": next(indices)}), rounds=30, iterations=1)


@pytest.mark.parametrize("second_listing", [True, False], ids=["agentboard-loop", "one-listing"])
def test_step(benchmark, env, second_listing):
    """One step, cycling through the gold paths of AgentBoard's first problems (valid actions, changing state).

    AgentBoard's loop lists the valid actions a second time after every turn (its grounding check); the
    ``one-listing`` variant leaves that out (as ETO's loop does), so the pair shows what it costs."""
    benchmark.group = "sciworld"
    env.rules = dataclasses.replace(rules.AGENTBOARD, lists_valid_actions_after_turn=second_listing)
    state = {"index": 0}
    env.reset(options={"index": 0})

    def step():
        _, _, terminated, truncated, _ = env.step(env.expert_action())
        if terminated or truncated:
            state["index"] = (state["index"] + 1) % 12
            env.reset(options={"index": state["index"]})

    try:
        benchmark.pedantic(step, rounds=200, iterations=1, warmup_rounds=5)
    finally:
        env.rules = rules.AGENTBOARD


def test_step_unparsed_text(benchmark, env):
    """Text the simulator cannot parse (still answered through the full step: valid actions listed)."""
    benchmark.group = "sciworld"
    env.reset(options={"index": 0})
    benchmark.pedantic(lambda: env.step("dance wildly"), rounds=200, iterations=1)


def test_expert_episode(benchmark, env):
    """A whole expert episode (gold path already generated) on AgentBoard's problem 9 (20 steps)."""
    benchmark.group = "sciworld"

    def episode():
        env.reset(options={"index": 9})
        terminated = truncated = False
        while not (terminated or truncated):
            _, _, terminated, truncated, _ = env.step(env.expert_action())

    benchmark.pedantic(episode, rounds=3, iterations=1)
