"""Speed of the Jericho environment (pytest-benchmark; run with --benchmark-only).

What matters for search over a text game: one step of the real interpreter, a snapshot/restore
round trip (beam search branches on it), and "check valid actions" once cached.
"""

from __future__ import annotations

import itertools

import pytest

pytest.importorskip("jericho", reason="needs the jericho extra: pip install 'agentrm-bench[jericho]'")

from agentrm_bench.envs.jericho import games as jg  # noqa: E402

from ..conftest import data_file  # noqa: E402


@pytest.fixture
def env():
    data_file("jericho", jg.GOALS_FILE)
    from agentrm_bench.envs.jericho.env import JerichoEnv

    environment = JerichoEnv(max_turns=10**9)
    yield environment
    environment.close()


def test_jericho_step(benchmark, env):
    """One env.step on the expert path, cycling through the 20 games (resets happen between paths)."""
    games = itertools.cycle(range(env.num_instances))
    env.reset(options={"index": next(games)})

    def step():
        _, _, terminated, truncated, _ = env.step(env.expert_action())
        if terminated or truncated:
            env.reset(options={"index": next(games)})

    benchmark.group = "jericho"
    benchmark(step)


def test_jericho_snapshot_restore(benchmark, env):
    env.reset(options={"index": 11})
    for action in env.expert_path[:10]:
        env.step(action)
    state = env.snapshot()
    benchmark.group = "jericho"
    benchmark(lambda: env.restore(state))


def test_jericho_check_valid_actions_cached(benchmark, env):
    env.reset(options={"index": 11})
    env.step("check valid actions")  # fills the cache for this state
    benchmark.group = "jericho"
    benchmark(lambda: env.step("check valid actions"))
