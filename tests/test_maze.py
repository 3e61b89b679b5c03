"""Maze reproduces AgentGym's double-T maze: texts, rules, budget, and the BFS expert."""

from __future__ import annotations

import gymnasium as gym
import pytest

import agentrm_bench  # noqa: F401
from agentrm_bench.envs.maze import env as maze

# BFS lengths for games 0..24 as listed in the upstream notes.
UPSTREAM_SHORTEST = [12, 11, 10, 11, 12, 12, 11, 10, 11, 12, 9, 8, 7, 6, 5, 4, 3, 2, 1, 4, 5, 6, 7, 8, 9]


@pytest.fixture
def env():
    return gym.make("agentrm/Maze-v0")


def test_twenty_five_games_from_the_upstream_start_list(env):
    assert env.unwrapped.num_instances == 25
    assert maze.GOAL not in maze.STARTS
    free = [(r, c) for r, row in enumerate(maze.GRID) for c, v in enumerate(row) if v == "0"]
    assert sorted(free) == sorted([*maze.STARTS, maze.GOAL])


def test_first_observation_matches_upstream_text(env):
    obs, info = env.reset(options={"index": 14})
    assert obs == (
        "The goal is at position 8, 6. Your current position is at position 5, 4. There are walls above you, below you."
    )
    assert info["admissible_actions"] == ["move left", "move right", "move up", "move down"]


@pytest.mark.parametrize(
    ("position", "clause"),
    [
        ((1, 1), "There are walls to your left, above you, below you."),
        ((5, 6), "There is a wall above you."),
        ((1, 3), "There is a wall above you."),
        ((5, 3), "There are walls to your left, below you."),
        ((8, 6), "There are walls to your right, to your left, below you."),
    ],
)
def test_wall_clauses_in_upstream_order(position, clause):
    assert maze.describe(position).endswith(clause)


def test_wall_clause_forms():
    assert maze.wall_clause([]) == "There are no walls near you."
    assert maze.wall_clause(["below you"]) == "There is a wall below you."
    assert maze.wall_clause(["to your right", "above you"]) == "There are walls to your right, above you."


@pytest.mark.parametrize("game", range(25))
def test_bfs_expert_lengths_equal_upstream(game):
    assert len(maze.shortest_path(maze.STARTS[game])) == UPSTREAM_SHORTEST[game]


def test_success_ending_and_upstream_reward(env):
    env.reset(options={"index": 18})  # one step above the goal
    obs, reward, terminated, truncated, info = env.step("move down")
    assert obs == "Success\n" and reward == 1.0 and terminated and not truncated
    assert info["success"] and info["upstream_reward"] == 1.0 and info["progress"] == 1.0


def test_invalid_action_counts_as_a_step_and_keeps_position(env):
    """Upstream gives no 'invalid action' message: AgentGym's lmrlgym server hands the text to LMRL-Gym's
    maze verbatim (agentenv-lmrlgym maze/environment.py), and an unknown move leaves the position and
    answers the plain observation. So do we (the step still counts, and info says it was invalid)."""
    obs0, _ = env.reset(options={"index": 14})
    obs, reward, terminated, truncated, info = env.step("go north")
    assert obs == obs0 and reward == 0.0 and not terminated
    assert info["valid_action"] is False and info["turn"] == 1


def test_wall_bump_is_valid_but_changes_nothing(env):
    obs0, _ = env.reset(options={"index": 14})
    obs, *_, info = env.step("move up")
    assert obs == obs0 and info["valid_action"] is True


def test_fifty_move_budget_truncates(env):
    env.reset(options={"index": 0})
    for turn in range(1, 51):
        obs, reward, terminated, truncated, info = env.step("move left")
        assert not terminated
        assert truncated == (turn == 50)
    assert not info["success"] and info["progress"] == 0.0


def test_expert_solves_every_game_in_the_shortest_number_of_moves(env):
    for game in range(25):
        env.reset(options={"index": game})
        terminated = truncated = False
        while not (terminated or truncated):
            *_, terminated, truncated, info = env.step(env.unwrapped.expert_action())
        assert info["success"] and info["turn"] == UPSTREAM_SHORTEST[game]
