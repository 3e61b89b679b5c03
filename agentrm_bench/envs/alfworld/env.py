"""ALFWorld (text only) on its upstream engine, under AgentBoard's rules (``test``) or ETO's (``test-eto``, ``dev``).

The game files are ALFWorld's ``json_2.1.1`` games through the data layer (``test`` and ``test-eto``:
the 134 ``valid_unseen`` games in ETO's order; ``dev``: the 140 ``valid_seen`` games). Each file carries
its own PDDL domain and text grammar, which the engine uses as is: that grammar gives the ETO/ReAct
wording ("put X in/on Y"), where the newer grammar bundled with alfworld 0.4 would not.

What a text does depends on the split's convention (:mod:`.conventions`): under AgentBoard's (``test``,
the one the nine-task table ran) the wrapper rewrites "put X in Y", answers "check valid actions" itself
and answers "look" with the last location it showed; under ETO's the text goes to the engine as it is.
In both, the first observation is the engine's intro without its welcome banner ("You are in the middle
of a room. Looking quickly around you, you see ...\nYour task is to: ..."), later observations drop the
"You arrive at loc N. " prefix, and success is the engine's ``won``. The progress rate is OUR milestone
definition (:mod:`.progress`), not AgentBoard's annotations. The expert is the engine's Fast Downward
planner, its plans cached on disk (:mod:`.cache`). Snapshots are the engine's own (Fast Downward's state
registry, :class:`.engine._Server`): restoring one costs about one step, not a replay of the prefix; a
snapshot restored in another process, or after the engine restarted, is replayed instead.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import gymnasium as gym

from ... import data
from ...env import Outcome, TextEnv
from . import SPEC, conventions
from . import cache as plan_cache
from . import games as alfworld_games
from .conventions import AGENTBOARD, first_observation, later_observation
from .engine import DEFAULT_TIMEOUT_S, Engine, EngineState, SavedToken
from .progress import Goal, milestone, parse_goal
from .upstream import FILES

NOTHING_HAPPENS = "Nothing happens."  # the engine's answer to any text that is not one of its commands
TASK_PREFIX = "Your task is to: "
ARRIVAL_PREFIX = conventions.ARRIVAL_PREFIX

__all__ = ["ALFWorldEnv", "first_observation", "goal_text", "later_observation"]


def goal_text(feedback: str) -> str:
    """The task sentence of the intro ("heat some apple and put it in garbagecan.")."""
    for line in feedback.splitlines():
        if line.startswith(TASK_PREFIX):
            return line[len(TASK_PREFIX) :].strip()
    raise ValueError(f"the game's intro has no {TASK_PREFIX!r} line: {feedback[:200]!r}")


class ALFWorldEnv(TextEnv):
    """One ALFWorld household game per instance; success (the engine's ``won``) is the headline metric.

    ``max_turns`` defaults to the split's upstream budget: 30 under AgentBoard's rules, 40 under ETO's.
    """

    task_spec = SPEC
    cheap_snapshots = True  # the engine's own states: ~1 ms to save or restore, ~40 ms a step

    def __init__(
        self,
        split: str = "test",
        max_turns: int | None = None,
        render_mode: str | None = None,
        engine_timeout_s: float = DEFAULT_TIMEOUT_S,
    ):
        super().__init__(split=split, max_turns=max_turns, render_mode=render_mode)
        self.convention = conventions.SPLIT_CONVENTIONS[split]
        if max_turns is None:
            self.max_turns = conventions.MAX_TURNS[self.convention]
        self._games = alfworld_games.games(split)
        self._room = ""  # AgentBoard: the room line of the intro, its answer to "look" before any move
        self._location = ""  # AgentBoard: the last feedback of a "go to" / "open" that did something
        self._engine = Engine(engine_timeout_s)
        self._state: EngineState | None = None
        self._task_goal: Goal | None = None
        self._milestone = 0
        self._plan: list[str] = []
        self._engine_commands: list[str] = []  # since the reset: with the game, they name the engine's state
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
        self._plan, self._engine_commands = [], []
        self._state = self._engine.start(str(path))
        self._milestone = milestone(self._task_goal, self._state.facts, self._state.won)
        self._room = self._location = conventions.room_line(self._state.feedback)
        return first_observation(self._state.feedback), goal_text(self._state.feedback)

    def _act(self, action: str) -> Outcome:
        if self.convention == AGENTBOARD:
            return self._act_agentboard(action)
        feedback, valid = self._command(action)
        return self._outcome(later_observation(feedback), valid)

    def _act_agentboard(self, action: str) -> Outcome:
        """AgentBoard's step: its rewrite of the text, its two special commands, then the engine."""
        assert self._state is not None
        command = conventions.agentboard_command(action)
        if command == conventions.CHECK_VALID_ACTIONS:  # answered by the wrapper; the engine is not asked
            return self._outcome(conventions.valid_actions_text(self._state.admissible), True)
        feedback, valid = self._command(command)
        if command == conventions.LOOK:
            return self._outcome(later_observation(self._location), valid)
        if conventions.keeps_for_look(command, feedback):
            self._location = feedback
        return self._outcome(later_observation(feedback), valid)

    def _command(self, text: str) -> tuple[str, bool]:
        """Send ``text`` to the engine; (its feedback, whether it was one of the engine's commands)."""
        state = self._state
        assert state is not None
        command = text.strip()
        if command not in state.admissible:
            # The engine would answer exactly this and leave its state untouched (PddlEnv.step matches
            # the stripped text against its commands); answering here saves a round trip of ~0.1 s.
            return NOTHING_HAPPENS, False
        self._state = state = self._engine.step(command)
        self._engine_commands.append(command)
        if self._plan and self._plan[0] == command:
            self._plan.pop(0)  # the rest of an optimal plan is an optimal plan from the state it leads to
        elif command != conventions.LOOK:  # looking changes nothing the plan depends on
            self._plan = []
        assert self._task_goal is not None
        self._milestone = milestone(self._task_goal, state.facts, state.won)
        return state.feedback, True

    def _outcome(self, observation: str, valid: bool) -> Outcome:
        state, goal = self._state, self._task_goal
        assert state is not None and goal is not None
        return Outcome(observation, valid, self._milestone / len(goal.milestones), state.won)

    def _native_state(self) -> Any:
        """The engine's token for this state and what this wrapper keeps beside it."""
        if self._state is None:
            return None
        token = self._engine.save()
        return (
            token,
            self._state,
            self._milestone,
            tuple(self._plan),
            tuple(self._engine_commands),
            self._room,
            self._location,
        )

    def _load_native_state(self, state: Any) -> bool:
        token, expected, milestone_, plan, commands, room, location = state
        assert isinstance(token, SavedToken)
        restored = self._engine.restore(token)
        if restored is None:
            return False  # not this engine's (another process, or it restarted): replay
        if not _same_state(restored, expected):  # what the engine says now must be what it said then
            raise RuntimeError(f"alfworld: the engine restored a state other than the one saved ({token})")
        self._state, self._milestone = restored, milestone_
        self._plan, self._engine_commands = list(plan), list(commands)
        self._room, self._location = room, location
        return True

    def _admissible_actions(self) -> list[str] | None:
        if self._state is None:
            return None
        if self.convention == AGENTBOARD:
            return conventions.agentboard_action_space(self._state.admissible)
        return list(self._state.admissible)

    def _instance_info(self) -> dict[str, Any]:
        return {"game": self.game_id} if self._index is not None else {}

    def canonical_action(self, action: str) -> str | None:
        """The command a text stands for under this split's convention, or None when the step is not valid."""
        if self._state is None:
            return None
        command = action.strip()
        if self.convention == AGENTBOARD:
            command = conventions.agentboard_command(action).strip()
            if command == conventions.CHECK_VALID_ACTIONS:
                return command
        return command if command in self._state.admissible else None

    def expert_action(self) -> str:
        """The next command of the engine's Fast Downward planner from the current state."""
        if self._state is None:
            raise gym.error.ResetNeeded("Call reset() before expert_action().")
        if not self._plan:
            self._plan = self._planned()
        if not self._plan:
            raise RuntimeError(f"alfworld: the planner found no plan for game {self.game_id} at turn {self.turns}")
        return self._plan[0]

    def _planned(self) -> list[str]:
        """The planner's plan from the current state: from the plan cache when this game was planned from
        this state before (by any process or run on this machine), else from the engine, then cached."""
        assert self._index is not None
        key = plan_cache.plan_key(self._games[self._index][1], self._engine_commands)
        plan = plan_cache.read_plan(key)
        if plan is None:
            plan = self._engine.plan()
            plan_cache.write_plan(key, plan)
        return plan

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


def _same_state(a: EngineState, b: EngineState) -> bool:
    """Equal engine reports; the facts compared as a set (their listing order follows Python's set layout)."""
    return (a.feedback, a.admissible, a.won) == (b.feedback, b.admissible, b.won) and set(a.facts) == set(b.facts)
