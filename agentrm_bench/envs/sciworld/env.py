"""ScienceWorld on its real simulator (scienceworld 1.1.3's JVM), as AgentBoard and ETO play it.

Splits and their rules (see :mod:`.sets` for the problems, :mod:`.rules` for the loops):

- ``test`` (AgentBoard's 90 problems, the default): the first observation is the goal as AgentBoard
  words it, then what AgentBoard shows first (the room after ``look around``, then the inventory).
  Played as AgentBoard's loop plays it: ``check valid actions`` is answered with the action templates
  without touching the simulator, and the valid actions are listed a second time after every turn.
  Progress is AgentBoard's rate: each annotated subgoal is a regular expression searched in every
  step observation; the fraction found so far is the progress. Success is every subgoal found, which
  ends the episode; the simulator's completion or failure does not (``info["score"]``,
  ``info["task_completed"]`` and ``info["task_failed"]`` report them). At most 30 turns.
- ``test-eto`` / ``dev`` (ETO's sets): the first observation is the simulator's task description, as
  ETO's agent sees it; progress is the simulator's own score / 100 (ETO's reward); the episode ends
  when the simulator reports the task completed (success) or failed, or at ETO's per-task turn limit.

An observation after an action is the simulator's reply, unchanged (or the loop's own, above).
``admissible_actions`` is the simulator's list of valid action-object combinations, less ``reset
task`` (resetting is ``reset()``'s job), plus ``check valid actions`` on ``test``; an action outside
that list is marked invalid but still sent to the simulator, which answers it in its own words. The
expert plays the simulator's gold path for the variation (checked to complete; see
:meth:`ScienceWorldEnv._gold_path`).

Branching restores the simulator's own state, saved inside its JVM (:mod:`.states`: a deep copy of the
simulator's object graph, a few milliseconds against ~70 ms a step), without a reset when the instance
is the one loaded. Where that is unavailable (no ``javac``, a snapshot from another JVM, a state no
longer kept) the action prefix is replayed: with the JVM's hash codes pinned (see :mod:`.sim`) a replay
gives identical observations.
"""

from __future__ import annotations

import contextlib
import re
from typing import Any

from ... import data
from ...env import Outcome, TextEnv
from . import SPEC, gold_cache, rules, sets
from .sim import Simulator, SimulatorActionError, Step

TASK_HEADER = "Task Description:\n"
HIDDEN_ACTIONS = frozenset({"reset task"})


class SubgoalTracker:
    """AgentBoard's progress rate: which annotated patterns have been seen in a step observation."""

    def __init__(self, patterns: tuple[str, ...]):
        self.patterns = tuple(re.compile(p) for p in patterns)
        self.seen = [False] * len(self.patterns)

    def update(self, observation: str) -> float:
        for k, pattern in enumerate(self.patterns):
            if not self.seen[k] and pattern.search(observation):
                self.seen[k] = True
        return self.progress

    @property
    def progress(self) -> float:
        return sum(self.seen) / len(self.seen) if self.seen else 0.0

    @property
    def complete(self) -> bool:
        """Every pattern found: AgentBoard's success, which ends its episode."""
        return all(self.seen)


class ScienceWorldEnv(TextEnv):
    """One ScienceWorld problem per instance; one JVM per environment object, reused across episodes."""

    task_spec = SPEC
    cheap_snapshots = True  # a saved state: a few ms to save or restore, ~70 ms a step
    restores_in_place = True  # the saved state is all of the simulator's: no reload first

    def __init__(self, split: str = "test", max_turns: int | None = None, render_mode: str | None = None):
        super().__init__(split=split, max_turns=max_turns, render_mode=render_mode)
        self._turn_limit = max_turns  # None: each instance's upstream limit (set in _start)
        self._instances = sets.instances(split)
        self.rules = rules.rules_for(split)
        self.simulator = Simulator()  # the JVM starts on the first reset, not here
        self._instance: sets.Instance | None = None
        self._tracker: SubgoalTracker | None = None
        self._valid: list[str] = []
        self._valid_set: frozenset[str] = frozenset()
        self._score = 0.0  # the simulator's last score
        self._completed = False  # the simulator reports the task completed
        self._gold: dict[sets.Instance, list[str]] = {}
        self.gold_fallbacks: set[sets.Instance] = set()  # instances whose own gold path did not complete

    @property
    def num_instances(self) -> int:
        return len(self._instances)

    def instance(self, index: int) -> sets.Instance:
        """What instance ``index`` of this split loads (task, variation, simplifications, turn limit)."""
        return self._instances[index]

    # ----------------------------------------------------------------- TextEnv hooks
    def _start(self, index: int) -> tuple[str, str]:
        self._instance = instance = self._instances[index]
        if self._turn_limit is None:
            self.max_turns = instance.max_turns
        self._load(instance)
        look = self.simulator.step("look around")  # what the wrapper's reset() shows first
        self._set_valid(look.valid_actions)
        self._score, self._completed = look.score, look.completed
        description = self.simulator.task_description()
        annotation = self._annotation(index)
        self._tracker = SubgoalTracker(annotation.subgoals) if annotation else None
        if self.split != "test":
            return description, _goal_of(description)
        goal = annotation.goal if annotation else _goal_of(description)
        return f"{TASK_HEADER}{goal}\n\n{look.observation}\n{self.simulator.inventory()}", goal

    def _act(self, action: str) -> Outcome:
        command = action.strip()
        try:
            turn = self._turn(command)
        except SimulatorActionError as exc:  # a Java exception on this text; the JVM is still fine
            observation = f"The simulator could not process that action ({exc})."
            return Outcome(observation, False, self._progress, extra=self._extra())
        if not isinstance(turn, Step):  # answered by the loop itself; the simulator did not move
            return Outcome(turn, True, self._progress, extra=self._extra())
        valid = command in self._valid_set
        self._set_valid(turn.valid_actions)
        self._score, self._completed = turn.score, turn.completed
        success, failed = turn.completed, turn.score < 0 and self.rules.ends_on_failure
        if self._tracker is not None:
            progress: float | None = self._tracker.update(turn.observation)
            if self.rules.success_by_subgoals:
                success = self._tracker.complete
        elif self.split == "test":
            progress = None  # annotations absent: AgentBoard's rate cannot be computed
        else:
            progress = turn.score
        return Outcome(turn.observation, valid, progress, success=success, failed=failed, extra=self._extra())

    def _turn(self, command: str) -> Step | str:
        """One turn of the split's upstream loop: the loop's own answer, or the simulator's step.

        Gold-path checks and replays go through here too, so that the simulator sees exactly the calls
        (and so the random draws) of the episode they reproduce.
        """
        if self.rules.answers_check_valid_actions and command == rules.CHECK_VALID_ACTIONS:
            result: Step | str = rules.check_valid_actions_reply(self.simulator.possible_actions())
        else:
            result = self.simulator.step(command)
        if self.rules.lists_valid_actions_after_turn:
            self.simulator.valid_actions_with_templates()
        return result

    def _extra(self) -> dict:
        """The simulator's own verdicts, which on ``test`` are not the episode's (AgentBoard's subgoals are)."""
        score = int(round(100 * self._score))
        return {"score": score, "task_completed": self._completed, "task_failed": self._score < 0}

    def _admissible_actions(self) -> list[str]:
        return list(self._valid)

    def _native_state(self) -> Any:
        """The simulator's saved state and what this wrapper keeps beside it (None: replay)."""
        if self._instance is None:
            return None
        saved = self.simulator.save_state()
        if saved is None:
            return None
        seen = None if self._tracker is None else tuple(self._tracker.seen)
        return (saved, self._instance, self.max_turns, tuple(self._valid), self._score, self._completed, seen)

    def _load_native_state(self, state: Any) -> bool:
        saved, instance, max_turns, valid, score, completed, seen = state
        if not self.simulator.restore_state(saved):
            return False  # another JVM's (a restart, another process) or no longer kept: replay
        self._instance, self.max_turns = instance, max_turns
        self._valid, self._valid_set = list(valid), frozenset(valid)
        self._score, self._completed = score, completed
        if self._tracker is not None and seen is not None:
            self._tracker.seen = list(seen)
        return True

    def _measures_progress(self) -> bool:
        return self.split != "test" or self._tracker is not None

    def expert_action(self) -> str:
        """The next action of the simulator's gold path for this variation (open loop, by turn number)."""
        if self._instance is None:
            raise RuntimeError("Call reset() before expert_action().")
        gold = self._gold.get(self._instance)
        if gold is None:
            gold = self._gold[self._instance] = self._gold_path()
        turn = len(self._actions)
        return gold[turn] if turn < len(gold) else "look around"

    def close(self) -> None:
        self.simulator.close()
        super().close()

    # ----------------------------------------------------------------- internals
    def _load(self, instance: sets.Instance, gold_path: bool = False) -> None:
        self.simulator.load(instance.task, instance.variation, instance.simplifications, gold_path)

    def _set_valid(self, actions: list[str]) -> None:
        """The simulator's valid actions, plus the loop's own command where the loop lists it (AgentBoard's
        get_action_space appends "check valid actions")."""
        self._valid = [a for a in actions if a not in HIDDEN_ACTIONS]
        if self.rules.answers_check_valid_actions:
            self._valid.append(rules.CHECK_VALID_ACTIONS)
        self._valid_set = frozenset(self._valid)

    def _gold_path(self) -> list[str]:
        """The simulator's gold path for this variation, checked to complete the task, then the episode restored.

        The gold path is generated for the instance's own simplifications; the simulator's generator
        occasionally emits a path that does not complete (its choices follow the JVM's history, and
        pollination depends on the random draws of the split's loop), so each path is played once,
        through the split's loop, to check it, and the path generated for the unsimplified world is
        the fallback (its door-opening steps are harmless where doors are open). Generating and
        checking reload the variation, so the turns played so far are replayed afterwards
        (deterministic, see the module docstring). The result is kept for later episodes, and on disk
        for other processes and runs (:mod:`.gold_cache`).
        """
        assert self._instance is not None
        instance = self._instance
        key = gold_cache.key(instance, self.rules)
        cached = gold_cache.read(key)
        if cached is not None:
            gold, fallback = cached
            if fallback:
                self.gold_fallbacks.add(instance)
            return gold
        gold: list[str] = []
        for preset in dict.fromkeys((instance.simplifications, "")):
            self.simulator.load(instance.task, instance.variation, preset, True)
            gold = self.simulator.gold_actions()
            if self._completes(gold):
                if preset != instance.simplifications:
                    self.gold_fallbacks.add(instance)
                break
        self._load(instance)
        self.simulator.step("look around")
        for action in self._actions:
            with contextlib.suppress(SimulatorActionError):  # answered with a message when first played
                self._turn(action.strip())
        gold_cache.write(key, gold, instance in self.gold_fallbacks)
        return gold

    def _completes(self, actions: list[str]) -> bool:
        """Whether ``actions`` complete the task from the instance's initial state."""
        assert self._instance is not None
        self._load(self._instance)
        self.simulator.step("look around")
        for action in actions:
            with contextlib.suppress(SimulatorActionError):
                turn = self._turn(action)
                if isinstance(turn, Step) and turn.completed:
                    return True
        return False

    def _annotation(self, index: int) -> sets.Annotation | None:
        if self.split != "test":
            return None
        try:
            return sets.agentboard_annotations()[index]
        except data.DataMissingError:
            return None


def _goal_of(description: str) -> str:
    """The goal sentence(s) of the simulator's task description, without its header."""
    return description.removeprefix(TASK_HEADER).strip()


__all__ = ["ScienceWorldEnv", "SubgoalTracker"]
