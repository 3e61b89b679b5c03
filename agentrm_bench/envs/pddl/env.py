"""PDDL: AgentBoard's 60 planning problems (gripper, blockworld, barman, tyreworld) as a text game.

The problems are AgentBoard's own files (through the data layer), parsed and grounded with
unified-planning (see :mod:`.pddl_problems` for why that library); the texts follow AgentBoard's
environment (see :mod:`.pddl_text`). The rules of a step, as upstream:

- a text containing "check" lists the valid actions; a text containing "look around" shows the
  whole state (upstream offers it in barman and tyreworld, and answers it in every domain);
- otherwise the text is read as an operator and its objects. Unreadable, not applicable, or
  applicable but changing nothing: the state stays and the answer says the action is not valid;
- a valid action shows the new state: all of it in gripper and blockworld, only the atoms that
  became true in barman and tyreworld; " The goal is satisfied." is appended once every goal atom holds.

Progress is the fraction of goal atoms true in the current state, measured after each valid action
as upstream does (the base class keeps the running maximum); success is all of them. A state is a
set of atoms, so snapshots are native.

Differences from upstream, on purpose: the valid-action list and the "look around" text are
sorted (upstream prints them in Python set order, which changes from run to run); the first
observation holds the goal sentence, a newline, then the initial state (upstream hands an agent
the two separately).
"""

from __future__ import annotations

from typing import Any

from ...env import Outcome, TextEnv
from . import SPEC, problems, text
from .problems import Atom, GroundAction, GroundProblem

# Domains whose observations show only the atoms that became true, and which offer "look around".
DIFF_DOMAINS = frozenset({"barman", "tyreworld"})
MAX_TURNS = 30  # AgentBoard's run configuration (max_num_steps)


class PDDLEnv(TextEnv):
    """Reach every goal atom of a PDDL problem; progress is the fraction of goal atoms that hold."""

    task_spec = SPEC

    def __init__(self, split: str = "test", max_turns: int | None = None, render_mode: str | None = None):
        super().__init__(split=split, max_turns=max_turns, render_mode=render_mode)
        self._problem: GroundProblem | None = None
        self._state: frozenset[Atom] = frozenset()
        self._valid_cache: dict[frozenset[Atom], list[GroundAction]] = {}
        self._difficulties: list[str] | None = None
        self._expert_plan: Any = None  # the plan an expert episode follows (expert.Following)

    # ----------------------------------------------------------------- facts of the instance
    @property
    def num_instances(self) -> int:
        return len(problems.INSTANCES)

    @property
    def problem(self) -> GroundProblem:
        if self._problem is None:
            raise RuntimeError("Call reset() first.")
        return self._problem

    @property
    def domain(self) -> str:
        return self.problem.domain

    def _instance_info(self) -> dict[str, Any]:
        # The domain picks AgentRM's per-domain reward-model instruction (prm_pddl_<domain>).
        return {"domain": self.domain} if self._problem is not None else {}

    @property
    def state(self) -> frozenset[Atom]:
        return self._state

    @property
    def difficulty(self) -> str | None:
        """AgentBoard's easy/hard label of the current row (None without ``test.jsonl``)."""
        if self._difficulties is None:
            self._difficulties = problems.difficulties() or []
        return self._difficulties[self._index] if self._index is not None and self._difficulties else None

    # ----------------------------------------------------------------- rules
    def goal_fraction(self, state: frozenset[Atom] | None = None) -> float:
        goal = self.problem.goal
        state = self._state if state is None else state
        return sum(atom in state for atom in goal) / len(goal)

    def valid_actions(self, state: frozenset[Atom] | None = None) -> list[GroundAction]:
        """The groundings applicable in ``state``, in the order of their sentences.

        As upstream (pddlgym lists Fast Downward's groundings minus those naming one object twice),
        groundings that repeat an object are left out; such an action can still be typed and is
        then judged by its effect like any other.
        """
        state = self._state if state is None else state
        cached = self._valid_cache.get(state)
        if cached is None:
            found = [
                a for a in self.problem.actions.values() if len(set(a.args)) == len(a.args) and a.applicable(state)
            ]
            cached = sorted(found, key=lambda a: text.action_text(a.operator, a.args))
            if len(self._valid_cache) > 1024:
                self._valid_cache.clear()
            self._valid_cache[state] = cached
        return cached

    def _commands(self) -> list[str]:
        return [text.CHECK_ACTIONS, text.LOOK_AROUND] if self.domain in DIFF_DOMAINS else [text.CHECK_ACTIONS]

    def judge(self, action: str) -> tuple[str, GroundAction | None, frozenset[Atom] | None]:
        """How a text is answered: ("check" | "look" | "unreadable" | "no effect" | "act", grounding, new state)."""
        lowered = action.lower()
        if "check" in lowered:
            return "check", None, None
        if text.LOOK_AROUND in lowered:
            return "look", None, None
        arity = {a.operator: len(a.args) for a in self.valid_actions()}
        parsed = text.read_action(action, arity, self.problem.objects)
        if parsed is None:
            return "unreadable", None, None
        grounding = self.problem.actions.get(parsed)
        if grounding is None or not grounding.applicable(self._state):
            return "no effect", grounding, None
        new = grounding.apply(self._state)
        return ("no effect" if new == self._state else "act"), grounding, new

    def canonical_action(self, action: str) -> str | None:
        """The admissible action a text is taken as, or None when the step would not be valid.

        Upstream reads action texts leniently (case, extra words and punctuation do not matter), so
        many texts outside ``admissible_actions`` are valid; this says which one each stands for.
        """
        kind, grounding, _ = self.judge(action)
        if kind == "check":
            return text.CHECK_ACTIONS
        if kind == "look":
            return text.LOOK_AROUND
        if kind == "act" and grounding is not None:
            return text.action_text(grounding.operator, grounding.args).strip()
        return None

    # ----------------------------------------------------------------- TextEnv hooks
    def _start(self, index: int) -> tuple[str, str]:
        self._problem = problems.load(index)
        self._valid_cache = {}
        self._expert_plan = None
        self._state = self._problem.init
        goal = text.goal_text(self._problem.goal)
        return f"{goal}\n{text.state_text(self._state)}", goal

    def _act(self, action: str) -> Outcome:
        # As upstream, progress is re-measured only after an action that changed the state (so goal atoms
        # true from the start count from the first valid action on); other answers keep it as it was.
        progress = self.progress or 0.0
        kind, _, new = self.judge(action)
        if kind == "check":
            listing = [text.action_text(a.operator, a.args) for a in self.valid_actions()] + self._commands()
            return Outcome(text.valid_actions_text(listing), True, progress)
        if kind == "look":
            return Outcome(text.state_text(self._state), True, progress)
        if kind == "unreadable":
            return Outcome(text.UNREADABLE, False, progress)
        if kind == "no effect" or new is None:
            return Outcome(text.NO_EFFECT, False, progress)
        shown = new - self._state if self.domain in DIFF_DOMAINS else new
        self._state = new
        success = all(atom in new for atom in self.problem.goal)
        observation = text.state_text(shown) + (text.GOAL_REACHED if success else "")
        return Outcome(observation, True, self.goal_fraction(), success=success)

    def _admissible_actions(self) -> list[str] | None:
        if self._problem is None:
            return None
        sentences = [text.action_text(a.operator, a.args).strip() for a in self.valid_actions()]
        return sentences + self._commands()

    def _native_state(self) -> Any:
        return tuple(sorted(self._state))

    def _load_native_state(self, state: Any) -> None:
        self._state = frozenset(tuple(atom) for atom in state)
        self._expert_plan = None  # a restored state plans from itself, whatever was followed before

    def expert_action(self) -> str:
        """The next step of a Fast Downward plan from the current state (needs the ``pddl-expert`` extra)."""
        if self._success:
            return text.CHECK_ACTIONS  # the episode is over; the base class answers any action
        from .expert import next_action

        budget = max(1, self.max_turns - self.turns)
        grounding, self._expert_plan = next_action(self._index, self.problem, self._state, budget, self._expert_plan)
        return text.action_text(grounding.operator, grounding.args)
