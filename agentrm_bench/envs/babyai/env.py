"""agentrm/BabyAI-v0: AgentBoard's 112 BabyAI instances on the real minigrid levels, as text.

What an episode looks like, and where each part is decided:

* instances -- 28 levels x 4 seeds, built from facts in code (:mod:`.babyai_levels`), so the task runs
  without its annotation file;
* observations and commands -- AgentBoard's text rendering of the agent's view and its high-level
  commands expanded into primitive actions (:mod:`.babyai_text`); the first observation equals the
  data file's ``init_obs`` on all 112 rows;
* progress -- AgentBoard's subgoal patterns (:mod:`.babyai_progress`), read from the data file's
  ``subgoals``; without that file progress is reported as unavailable (``None``);
* the end of an episode and success -- AgentBoard's rule (``babyai_env.py`` ``update``): after a
  command, the level's verdict at its *last* primitive step decides. When the level reports done there
  (success, or a strict level's "failure"), "\n The task is completed." is appended to the observation;
  then, with progress (subgoals matched, this very observation included) at or below 0.5, the episode
  goes on all the same, and above it the episode ends as a success -- a strict level's failure too.
  Independently, once every subgoal is matched the episode ends as a success, with the same sentence
  appended. Success is "the episode ended" (AgentBoard's task loop counts it so). Without the annotation
  file there is no progress to apply the rule to: the level's own success at the last primitive ends
  the episode as a success.

A command's primitives all run (AgentBoard does not stop when the level reports done half-way: in an
Open level "toggle and go through" opens the door, and the final step into the doorway is what the
level judges, so only "toggle" itself ends such a level), except that the expansion stops at the first
primitive that leaves the agent's view unchanged (a walk blocked by a closed door), as AgentBoard's
does. A command that expands to no primitive at all (e.g. "go to" an object already faced) is answered
"No change in state." and changes nothing. minigrid's own step limit is lifted (AgentBoard ignores it
too): the turn limit of the episode is the only limit.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from typing import Any

import numpy as np

from ... import data
from ...env import Outcome, TextEnv
from . import SPEC, levels
from .progress import SubgoalTracker
from .text import CHECK, NO_CHANGE, NOT_RECOGNIZED, TASK_COMPLETED, Scene, normalize_command, render
from .upstream import FILES

DATA_FILE = "test.jsonl"


class BabyAIEnv(TextEnv):
    """AgentBoard's BabyAI held-out task (``agentrm/BabyAI-v0``)."""

    task_spec = SPEC

    def __init__(self, split: str = "test", max_turns: int | None = None, render_mode: str | None = None):
        super().__init__(split=split, max_turns=max_turns, render_mode=render_mode)
        self._built: dict[int, Any] = {}  # level number -> its minigrid env, reused across resets
        self._rows: list[dict[str, Any]] | None = None
        self._rows_loaded = False
        self._instance: levels.Instance | None = None
        self._level: Any = None  # the running (unwrapped) minigrid level
        self._image: np.ndarray | None = None
        self._scene: Scene | None = None
        self._tracker: SubgoalTracker | None = None
        self._expert: Any = None

    # ----------------------------------------------------------------- TextEnv hooks
    @property
    def num_instances(self) -> int:
        return levels.SPLIT_SIZES[self.split]

    def _start(self, index: int) -> tuple[str, str]:
        self._instance = levels.instance(index, self.split)
        level = self._built.get(self._instance.level.number)
        if level is None:
            level = self._built[self._instance.level.number] = levels.build(self._instance.level)
        with contextlib.redirect_stdout(io.StringIO()):  # minigrid prints its rejection sampling
            obs, _ = level.reset(seed=self._instance.seed)
        level.max_steps = sys.maxsize  # keeps the success reward positive, however long the episode
        self._level = level
        self._image = obs["image"]
        self._scene = render(level, self._image)
        rows = self._annotations() if self.split == "test" else None  # subgoals are annotated for test rows only
        self._tracker = SubgoalTracker(rows[index]["subgoals"]) if rows is not None else None
        if self._expert is not None:
            self._expert.forget()
        return self._scene.text, levels.agent_goal(level.mission)

    def _measures_progress(self) -> bool:
        return self._tracker is not None

    def _act(self, action: str) -> Outcome:
        scene = self._current_scene()
        command = normalize_command(action)
        if "check" in command:  # AgentBoard answers any command mentioning "check" with the listing
            return self._outcome(scene.listing(), valid=True)
        if not command:
            return self._outcome(NO_CHANGE, valid=False)
        primitives = scene.commands.get(command)
        if primitives is None:
            return self._outcome(scene.refusals.get(command, NOT_RECOGNIZED), valid=False)
        if not primitives:  # AgentBoard: an admissible command with nothing to do changes nothing
            return self._outcome(NO_CHANGE, valid=True)
        self._image, status = levels.run_primitives(self._level, self._image, primitives)
        self._scene = render(self._level, self._image)
        level_done = status != "running"
        observation = self._scene.text + (TASK_COMPLETED if level_done else "")
        if self._tracker is None:
            return self._outcome(observation, valid=True, success=status == "success", status=status)
        progress = self._tracker.update(observation)
        done = level_done and progress > 0.5
        if progress == 1 and not done:
            done = True
            observation += TASK_COMPLETED
        return self._outcome(observation, valid=True, success=done, status=status)

    def _admissible_actions(self) -> list[str] | None:
        return list(self._scene.commands) if self._scene is not None else None

    def _native_state(self) -> Any:
        """The level itself (minigrid levels copy and pickle), plus this wrapper's view of it.

        The expert's remaining plan travels along, so that after a restore the expert goes on exactly
        as it would have from that state.
        """
        return {
            "level": self._level,
            "image": self._image,
            "scene": self._scene,
            "tracker": self._tracker,
            "expert": self._expert.remaining() if self._expert is not None else [],
        }

    def _load_native_state(self, state: Any) -> None:
        self._level = state["level"]
        self._image = state["image"]
        self._scene = state["scene"]
        self._tracker = state["tracker"]
        if state["expert"]:
            self._expert_for_level().resume(state["expert"])
        elif self._expert is not None:
            self._expert.forget()

    def expert_action(self) -> str:
        """The next command of the BabyAI expert (:mod:`.babyai_expert`) in the current state."""
        if self._index is None:
            raise RuntimeError("Call reset() before expert_action().")
        return self._expert_for_level().next_action(self)

    def _expert_for_level(self) -> Any:
        if self._expert is None:
            from .expert import BabyAIExpert  # imported on first use: the search is not needed to play

            self._expert = BabyAIExpert()
        return self._expert

    # ----------------------------------------------------------------- read-only views for the expert
    @property
    def level(self) -> Any:
        """The running minigrid level (unwrapped); the expert plans on copies of it."""
        return self._level

    @property
    def scene(self) -> Scene:
        return self._current_scene()

    @property
    def image(self) -> np.ndarray | None:
        return self._image

    @property
    def instance(self) -> levels.Instance | None:
        return self._instance

    # ----------------------------------------------------------------- internals
    def _current_scene(self) -> Scene:
        if self._scene is None:
            raise RuntimeError("Call reset() first.")
        return self._scene

    def _outcome(self, observation: str, valid: bool, success: bool = False, status: str = "running") -> Outcome:
        progress = self._tracker.progress if self._tracker is not None else None
        assert self._instance is not None
        extra = {
            "level": self._instance.level.upstream_id,
            "seed": self._instance.seed,
            "level_status": status,
        }
        return Outcome(observation, valid, progress, success=success, extra=extra)

    def _annotations(self) -> list[dict[str, Any]] | None:
        """The data file's rows, or None when it is absent (progress is then unavailable)."""
        if not self._rows_loaded:
            self._rows = load_rows()
            self._rows_loaded = True
        return self._rows


def load_rows() -> list[dict[str, Any]] | None:
    """The annotation rows, checked against the level table; None when the file is absent."""
    try:
        path = data.path(FILES, DATA_FILE)
    except data.DataMissingError:
        return None
    with open(path, encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    if len(rows) != levels.NUM_INSTANCES:
        raise ValueError(f"{path}: expected {levels.NUM_INSTANCES} rows, found {len(rows)}")
    for index, row in enumerate(rows):
        expected = levels.instance(index).level.upstream_id
        found = row.get("additional_info", {}).get("subtask")
        if found != expected or not isinstance(row.get("subgoals"), list):
            raise ValueError(
                f"{path}: row {index} is {found!r} with subgoals {row.get('subgoals')!r}; "
                f"the level table says {expected!r}"
            )
    return rows


__all__ = ["CHECK", "BabyAIEnv", "load_rows"]
