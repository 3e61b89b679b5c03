"""ALFWorld (text only) on its upstream engine, shown the way ETO and AgentRM show it.

The game files are ALFWorld's ``json_2.1.1`` games through the data layer (``test``: ETO's 134
``valid_unseen`` games in ETO's order; ``dev``: the 140 ``valid_seen`` games). Each file carries its own
PDDL domain and text grammar, which the engine uses as is: that grammar gives the ETO/ReAct wording
("put X in/on Y"), where the newer grammar bundled with alfworld 0.4 would not.

Text, as ETO's evaluation code presents it: the first observation drops TextWorld's welcome banner and
joins the remaining paragraphs with one newline ("You are in the middle of a room. Looking quickly
around you, you see ...\\nYour task is to: ..."); later observations drop the "You arrive at loc N. "
prefix the engine puts before a receptacle's description. Actions are the engine's commands (it strips
surrounding whitespace and matches exactly); ``admissible_actions`` is the engine's list. Success is the
engine's ``won`` (ETO's success and reward); the progress rate is OUR milestone definition
(:mod:`.alfworld_progress`), not AgentBoard's annotations. The expert is the engine's Fast Downward
planner. Snapshots replay the action prefix (the engine's state lives in C++).
"""

from __future__ import annotations

import json
from pathlib import Path

import gymnasium as gym

from ... import data
from ...env import Outcome, TextEnv
from . import SPEC
from . import games as alfworld_games
from .engine import DEFAULT_TIMEOUT_S, Engine, EngineState
from .progress import Goal, milestone, parse_goal
from .upstream import FILES

ETO_MAX_STEPS = 40  # ETO's eval_agent/configs/task/alfworld.json
NOTHING_HAPPENS = "Nothing happens."  # the engine's answer to any text that is not one of its commands
TASK_PREFIX = "Your task is to: "
ARRIVAL_PREFIX = "You arrive at loc "


def first_observation(feedback: str) -> str:
    """The engine's intro without the welcome banner, paragraphs joined by one newline (as ETO shows it)."""
    return "\n".join(feedback.split("\n\n")[1:])


def later_observation(feedback: str) -> str:
    """The engine's feedback without the "You arrive at loc N. " prefix (as ETO shows it)."""
    if feedback.startswith(ARRIVAL_PREFIX):
        return feedback[feedback.find(". ") + 2 :]
    return feedback


def goal_text(feedback: str) -> str:
    """The task sentence of the intro ("heat some apple and put it in garbagecan.")."""
    for line in feedback.splitlines():
        if line.startswith(TASK_PREFIX):
            return line[len(TASK_PREFIX) :].strip()
    raise ValueError(f"the game's intro has no {TASK_PREFIX!r} line: {feedback[:200]!r}")


class ALFWorldEnv(TextEnv):
    """One ALFWorld household game per instance; success (the engine's ``won``) is the headline metric."""

    task_spec = SPEC

    def __init__(
        self,
        split: str = "test",
        max_turns: int | None = None,
        render_mode: str | None = None,
        engine_timeout_s: float = DEFAULT_TIMEOUT_S,
    ):
        super().__init__(split=split, max_turns=max_turns, render_mode=render_mode)
        self._games = alfworld_games.games(split)
        self._engine = Engine(engine_timeout_s)
        self._state: EngineState | None = None
        self._task_goal: Goal | None = None
        self._milestone = 0
        self._plan: list[str] = []
        self._checked: dict[int, tuple[Path, Goal]] = {}

    @property
    def num_instances(self) -> int:
        return len(self._games)

    @property
    def game_id(self) -> str | None:
        """``<task folder>/<trial folder>`` of the current game."""
        return None if self._index is None else self._games[self._index][0]

    @property
    def task_goal(self) -> Goal | None:
        """The current game's goal as read from its PDDL (task type, object, receptacle, light)."""
        return self._task_goal

    @property
    def milestone(self) -> int:
        """How many of our progress milestones the current state has reached (see alfworld_progress)."""
        return self._milestone

    @property
    def engine(self) -> Engine:
        return self._engine

    def _start(self, index: int) -> tuple[str, str]:
        path, self._task_goal = self._game_file(index)
        self._plan = []
        self._state = self._engine.start(str(path))
        self._milestone = milestone(self._task_goal, self._state.facts, self._state.won)
        return first_observation(self._state.feedback), goal_text(self._state.feedback)

    def _act(self, action: str) -> Outcome:
        state, goal = self._state, self._task_goal
        assert state is not None and goal is not None
        command = action.strip()
        if command not in state.admissible:
            # The engine would answer exactly this and leave its state untouched (PddlEnv.step matches
            # the stripped text against its commands); answering here saves a round trip of ~0.1 s.
            return Outcome(NOTHING_HAPPENS, False, self._milestone / len(goal.milestones))
        self._state = state = self._engine.step(command)
        if self._plan and self._plan[0] == command:
            self._plan.pop(0)  # the rest of an optimal plan is an optimal plan from the state it leads to
        else:
            self._plan = []
        self._milestone = milestone(goal, state.facts, state.won)
        return Outcome(later_observation(state.feedback), True, self._milestone / len(goal.milestones), state.won)

    def _admissible_actions(self) -> list[str] | None:
        return None if self._state is None else list(self._state.admissible)

    def expert_action(self) -> str:
        """The next command of the engine's Fast Downward planner from the current state."""
        if self._state is None:
            raise gym.error.ResetNeeded("Call reset() before expert_action().")
        if not self._plan:
            self._plan = self._engine.plan()
        if not self._plan:
            raise RuntimeError(f"alfworld: the planner found no plan for game {self.game_id} at turn {self.turns}")
        return self._plan[0]

    def close(self) -> None:
        self._engine.close()
        super().close()

    def _game_file(self, index: int) -> tuple[Path, Goal]:
        """The verified game file of instance ``index`` and its goal (checked once per process)."""
        if index not in self._checked:
            game, digest = self._games[index]
            path = data.path(FILES, alfworld_games.game_path(self.split, game))
            actual = data.sha256_of(path)
            if actual != digest:
                raise data.DataIntegrityError(
                    f"alfworld: {path} has sha256 {actual}, expected {digest} (the json_2.1.1 game file with "
                    "its own grammar; other releases word the commands differently)"
                )
            with open(path) as handle:
                goal = parse_goal(json.load(handle)["pddl_problem"])
            self._checked[index] = (path, goal)
        return self._checked[index]
