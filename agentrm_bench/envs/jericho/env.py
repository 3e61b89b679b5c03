"""Jericho: AgentBoard's 20 interactive-fiction games on jericho's real Z-machine interpreter (frotz).

* Instances -- AgentBoard's 20 games in its order; the agent sees AgentBoard's hand-written goal and
  first observation (:mod:`.jericho_games`), while the interpreter starts the real game with
  jericho's walkthrough seed, as AgentBoard's environment does.
* Actions -- cut and cleaned as AgentBoard does (:mod:`.jericho_text`); a cut text holding "check" and
  "action" lists jericho's valid actions for the current state without advancing the game
  (:mod:`.jericho_valid`), as AgentBoard's environment answers it ("look, check valid actions" is cut
  to "look" first, so it looks).
* Progress -- OURS, not AgentBoard's: AgentBoard's per-game subgoal snippets are not public, so each
  game's snippets were written from the game itself (the responses at the score increases along
  jericho's walkthrough up to where AgentBoard's goal is met, see :mod:`.jericho_subgoals`), matched
  with AgentBoard's rule. Success = every snippet matched; the episode also ends when the game does
  (a death or the game's own ending without all snippets is a failure).
* ``valid_action`` -- jericho's own notion: the command changed the game world (objects, attributes
  or the game's tracked memory; a score change or the game ending count too), which is exactly what
  "check valid actions" lists. Looking, examining or asking for the inventory are answered but
  reported as not valid. AgentBoard's flag (no "[!" in the answer) is in ``info["agentboard_valid"]``.
* Expert -- jericho's walkthrough replayed up to the goal (steps the goal does not need removed where
  the prefix would not fit AgentBoard's 30 steps); it reaches the goal on all 20 games.
* Snapshots -- native: jericho's ``get_state``/``set_state`` plus the open snippets. The undo point for
  a game bug that halts the interpreter is taken lazily (the inputs since the start or the last
  restore, replayed only when needed).
"""

from __future__ import annotations

import warnings
from typing import Any

from ...env import Outcome, TextEnv
from . import SPEC
from . import games as games_mod
from . import valid as jericho_valid
from .text import (
    BLOCKED_TEXT,
    CHECK_VALID_ACTIONS,
    VALID_ACTIONS_PREFIX,
    SnippetTracker,
    agentboard_cut,
    clean_observation,
    cut_action,
    is_blocked,
    is_check_valid_actions,
    to_game_input,
)

MAX_STEPS = 30  # AgentBoard's run configuration (run.max_num_steps)
HALTED_TEXT = " [The game stopped on an internal error; the command was undone.]"


def _frotz_class() -> Any:
    from jericho import FrotzEnv

    return FrotzEnv


class JerichoEnv(TextEnv):
    """One of AgentBoard's 20 Jericho games per instance; progress over our subgoal snippets."""

    task_spec = SPEC

    def __init__(self, split: str = "test", max_turns: int | None = None, render_mode: str | None = None):
        super().__init__(split=split, max_turns=max_turns, render_mode=render_mode)
        self._frotz: Any = None
        self._loaded: str | None = None
        self._game: games_mod.JerichoGame | None = None
        self._tracker: SnippetTracker | None = None
        self._expert: list[str] = []
        # The undo point for a halted interpreter, taken lazily: a state to start from (None: the game's
        # start) and the inputs the game took since. A get_state before every step cost 4% of a step.
        self._undo: tuple[Any, list[str]] = (None, [])

    @property
    def num_instances(self) -> int:
        return len(games_mod.GAMES)

    @property
    def game(self) -> games_mod.JerichoGame:
        if self._game is None:
            raise RuntimeError("Call reset() first.")
        return self._game

    @property
    def frotz(self) -> Any:
        """The jericho ``FrotzEnv`` running the current game (for tests and analysis)."""
        return self._frotz

    # ----------------------------------------------------------------- TextEnv hooks
    def _start(self, index: int) -> tuple[str, str]:
        game = games_mod.games()[index]
        self._load(game)
        self._frotz.reset()
        self._undo = (None, [])
        self._game = game
        self._tracker = SnippetTracker(game.snippets)
        return game.first_observation, game.goal

    def _act(self, action: str) -> Outcome:
        tracker = self._tracker
        assert tracker is not None and self._game is not None
        cut = agentboard_cut(action)  # AgentBoard's task cuts the text before its environment sees it
        if is_check_valid_actions(cut):
            listed, cached = jericho_valid.valid_actions(self._frotz, self._game.name)
            text = VALID_ACTIONS_PREFIX + ", ".join([*listed, CHECK_VALID_ACTIONS])
            extra = {"valid_actions_cached": cached, "valid_actions_tagger": jericho_valid.tagger_name()}
            return Outcome(text, True, tracker.progress, extra=extra | {"agentboard_valid": True})
        command = to_game_input(cut)
        if is_blocked(command):
            return Outcome(BLOCKED_TEXT, False, tracker.progress, extra={"agentboard_valid": True})
        frotz = self._frotz
        score_before = frotz.get_score()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            raw, _, done, _ = frotz.step(command)
        observation = clean_observation(raw)
        if frotz._emulator_halted():
            # A game bug (e.g. balances on "offer that great z": "Attempt to address illegal object")
            # stops the Z-machine. The command is undone instead of ending the episode on it.
            self._rewind()
            extra = {"agentboard_valid": True, "score": frotz.get_score(), "game_over": False}
            return Outcome(observation + HALTED_TEXT, False, tracker.progress, extra=extra)
        self._undo[1].append(command)
        changed = bool(frotz._world_changed()) or frotz.get_score() != score_before or done
        tracker.update(observation)
        success = not tracker.open
        extra = {"agentboard_valid": "[!" not in observation, "score": frotz.get_score(), "game_over": bool(done)}
        return Outcome(observation, changed, tracker.progress, success, done and not success, extra)

    def _native_state(self) -> Any:
        if self._tracker is None:
            return None
        return (self._frotz.get_state(), self._tracker.state())

    def _load_native_state(self, state: Any) -> None:
        frotz_state, open_snippets = state
        self._frotz.set_state(frotz_state)
        self._undo = (frotz_state, [])
        assert self._tracker is not None
        self._tracker.load(open_snippets)

    def expert_action(self) -> str:
        """The next walkthrough action of the expert path.

        The expert is a fixed path, not a planner: once an episode has left it, the expert keeps
        offering the first walkthrough action the episode did not take. "check valid actions" does
        not move the game, so it does not move the expert either.
        """
        k = 0
        for action in self._actions:  # stops at the first step off the path: cheap after fuzzing too
            if is_check_valid_actions(agentboard_cut(action)):
                continue
            if k == len(self._expert) or cut_action(action) != self._expert[k]:
                break
            k += 1
        return self._expert[min(k, len(self._expert) - 1)]

    @property
    def expert_path(self) -> list[str]:
        return list(self._expert)

    # ----------------------------------------------------------------- internals
    def _rewind(self) -> None:
        """Bring the halted interpreter back to the state before the last command: from the undo
        point, the inputs since replayed (the Z-machine is deterministic: its random generator is part
        of the state; a test compares the state with one taken before the command)."""
        start, inputs = self._undo
        self._frotz.reset()
        if start is not None:
            self._frotz.set_state(start)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for command in inputs:
                self._frotz.step(command)

    def _load(self, game: games_mod.JerichoGame) -> None:
        """Load ``game``'s story file once (switching games reuses the interpreter)."""
        if self._loaded == game.name:
            return
        path = str(games_mod.story_path(game.name))
        if self._frotz is None:
            self._frotz = _frotz_class()(path)
        else:
            self._frotz.close()
            self._frotz.load(path)
        walkthrough = self._frotz.get_walkthrough()
        if games_mod.walkthrough_sha256(walkthrough) != game.walkthrough_sha256:
            raise RuntimeError(
                f"jericho's walkthrough of {game.name} differs from the one jericho/subgoals.json was "
                "written for (another jericho release?); pin jericho==3.3.1 or regenerate the annotation"
            )
        self._expert = [cut_action(walkthrough[i]) for i in game.expert_steps]
        self._loaded = game.name

    def close(self) -> None:
        if self._frotz is not None:
            self._frotz.close()
            self._frotz = None
            self._loaded = None
        super().close()
