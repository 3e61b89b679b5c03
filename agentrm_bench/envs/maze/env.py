"""Maze: the LMRL-Gym "double T" maze as AgentGym serves it and AgentRM evaluates it.

The grid, the goal and the start list are facts of the upstream benchmark (LMRL-Gym's
``double_t_maze`` and AgentGym's 26 start cells, of which game 25 starts on the goal and is rejected
upstream, so the test set is games 0..24). The observation text, the wall-clause order, the exact
"Success"/"Failure" endings, the four verbatim actions and the 50-move budget reproduce AgentGym's
server, so that scores compare with published ones.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from ...env import Outcome, TextEnv
from . import SPEC

# 1 = wall, 0 = free; (row, col) positions, row grows downward.
GRID: tuple[str, ...] = (
    "1111111111111",
    "1000001000001",
    "1110111110111",
    "1110111110111",
    "1110111110111",
    "1110000000111",
    "1111110111111",
    "1111110111111",
    "1111110111111",
    "1111111111111",
)
GOAL = (8, 6)
# AgentGym's start list, in game order (the 26th entry is the goal itself and is not a valid game).
STARTS: tuple[tuple[int, int], ...] = (
    (1, 1),
    (1, 2),
    (1, 3),
    (1, 4),
    (1, 5),
    (1, 7),
    (1, 8),
    (1, 9),
    (1, 10),
    (1, 11),
    (2, 3),
    (3, 3),
    (4, 3),
    (5, 3),
    (5, 4),
    (5, 5),
    (5, 6),
    (6, 6),
    (7, 6),
    (5, 7),
    (5, 8),
    (5, 9),
    (4, 9),
    (3, 9),
    (2, 9),
)
MOVES: dict[str, tuple[int, int]] = {
    "move left": (0, -1),
    "move right": (0, 1),
    "move up": (-1, 0),
    "move down": (1, 0),
}
# Upstream lists neighbouring walls in this order.
WALL_CLAUSES: tuple[tuple[str, tuple[int, int]], ...] = (
    ("to your right", (0, 1)),
    ("to your left", (0, -1)),
    ("above you", (-1, 0)),
    ("below you", (1, 0)),
)
MAX_MOVES = 50
SUCCESS_TEXT = "Success\n"


def is_wall(cell: tuple[int, int]) -> bool:
    row, col = cell
    return GRID[row][col] == "1"


def wall_clause(walls: list[str]) -> str:
    """Upstream's sentence for the neighbouring walls, in the order given."""
    if not walls:
        return "There are no walls near you."
    if len(walls) == 1:
        return f"There is a wall {walls[0]}."
    return f"There are walls {', '.join(walls)}."


def describe(position: tuple[int, int]) -> str:
    """AgentGym's observation for ``position`` (goal shown, current position shown, walls)."""
    walls = [name for name, (dr, dc) in WALL_CLAUSES if is_wall((position[0] + dr, position[1] + dc))]
    return (
        f"The goal is at position {GOAL[0]}, {GOAL[1]}. "
        f"Your current position is at position {position[0]}, {position[1]}. {wall_clause(walls)}"
    )


def shortest_path(start: tuple[int, int]) -> list[str]:
    """Breadth-first search from ``start`` to the goal; the moves of one shortest path."""
    parents: dict[tuple[int, int], tuple[tuple[int, int], str] | None] = {start: None}
    frontier = deque([start])
    while frontier:
        cell = frontier.popleft()
        if cell == GOAL:
            break
        for name, (dr, dc) in MOVES.items():
            nxt = (cell[0] + dr, cell[1] + dc)
            if nxt not in parents and not is_wall(nxt):
                parents[nxt] = (cell, name)
                frontier.append(nxt)
    if GOAL not in parents:
        raise ValueError(f"the goal is unreachable from {start}")
    path: list[str] = []
    cell = GOAL
    while parents[cell] is not None:
        cell, move = parents[cell]  # type: ignore[misc]
        path.append(move)
    return path[::-1]


class MazeEnv(TextEnv):
    """Reach the goal cell in at most 50 moves; success is the metric (progress is 0 or 1)."""

    task_spec = SPEC

    def __init__(self, split: str = "test", max_turns: int | None = None, render_mode: str | None = None):
        super().__init__(split=split, max_turns=max_turns, render_mode=render_mode)
        self._position = STARTS[0]

    @property
    def num_instances(self) -> int:
        return len(STARTS)

    @property
    def position(self) -> tuple[int, int]:
        return self._position

    def _start(self, index: int) -> tuple[str, str]:
        self._position = STARTS[index]
        return describe(self._position), f"reach position {GOAL[0]}, {GOAL[1]}"

    def _act(self, action: str) -> Outcome:
        # Upstream looks the action up verbatim (after appending a newline); we forgive only the
        # surrounding whitespace an LLM's output tends to carry.
        move = MOVES.get(action.strip())
        if move is not None:
            nxt = (self._position[0] + move[0], self._position[1] + move[1])
            if not is_wall(nxt):
                self._position = nxt
        if self._position == GOAL:
            return Outcome(SUCCESS_TEXT, True, 1.0, success=True, extra={"upstream_reward": 1.0})
        return Outcome(describe(self._position), move is not None, 0.0, extra={"upstream_reward": 0.0})

    def _admissible_actions(self) -> list[str]:
        return list(MOVES)

    def _native_state(self) -> Any:
        return self._position

    def _load_native_state(self, state: Any) -> None:
        self._position = tuple(state)

    def expert_action(self) -> str:
        if self._position == GOAL:
            return "move up"  # the episode is over; any action is answered by the base class
        return shortest_path(self._position)[0]
