"""Speed of ALFWorld on its upstream engine (pytest-benchmark; run with --benchmark-only).

What is measured: one step with an engine command (a round trip to the engine process, where
TextWorld recomputes the admissible commands through the game's grammar), one step with text that is
not a command (answered without the engine), a reset of the game already loaded (the translation is
memoised), and a reset that loads another game. No targets: the engine is the cost; the numbers go
in agentrm_bench/envs/alfworld/PROVENANCE.md.
"""

from __future__ import annotations

import gymnasium as gym
import pytest

import agentrm_bench  # noqa: F401
from agentrm_bench.envs.alfworld import games as alfworld_games

from ..conftest import data_file

pytest.importorskip("alfworld", reason="the engine is not installed: pip install 'agentrm-bench[alfworld]'")


@pytest.fixture(scope="module")
def env():
    data_file("alfworld", alfworld_games.game_path("test", alfworld_games.games("test")[0][0]))
    environment = gym.make("agentrm/ALFWorld-v0", max_turns=10**9).unwrapped
    yield environment
    environment.close()


def test_step_with_a_command(benchmark, env):
    """Walk between the receptacles of game 0 (every action is an admissible "go to" command)."""
    benchmark.group = "alfworld step"
    _, info = env.reset(options={"index": 0})
    state = {"info": info, "turn": 0}

    def walk():
        moves = [a for a in state["info"]["admissible_actions"] if a.startswith("go to ")]
        state["turn"] += 1
        state["info"] = env.step(moves[state["turn"] % len(moves)])[-1]
        assert state["info"]["valid_action"]

    benchmark.pedantic(walk, rounds=40, iterations=1, warmup_rounds=2)


def test_step_with_text_that_is_not_a_command(benchmark, env):
    benchmark.group = "alfworld step"
    env.reset(options={"index": 0})
    benchmark(env.step, "go to the moon")


def test_reset_same_game(benchmark, env):
    benchmark.group = "alfworld reset"
    env.reset(options={"index": 0})
    benchmark.pedantic(lambda: env.reset(options={"index": 0}), rounds=5, iterations=1)


def test_reset_another_game(benchmark, env):
    """Each round loads a game not loaded before in this process (parse, translate, reset)."""
    benchmark.group = "alfworld reset"
    indices = iter(range(1, 134))
    benchmark.pedantic(lambda: env.reset(options={"index": next(indices)}), rounds=5, iterations=1)


def test_expert_first_plan(benchmark, env):
    """The Fast Downward planner from the start of game 0 (the expert's first action)."""
    benchmark.group = "alfworld expert"

    def fresh_game() -> None:
        env.reset(options={"index": 0})

    benchmark.pedantic(env.engine.plan, setup=fresh_game, rounds=3, iterations=1)
