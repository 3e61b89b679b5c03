"""The environment contract shared by every task.

A task implements four small hooks (``num_instances``, ``_start``, ``_act``, and optionally
``_admissible_actions`` / native snapshots); this base class owns everything the harness and the
search strategies rely on being identical across tasks: the ``info`` keys, reward as the increase of
the running-max progress, termination vs truncation, tolerance of any action text, and branching by
snapshot/restore.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, ClassVar

import gymnasium as gym

from .task_spec import TaskSpec
from .text_space import UnicodeText

EPISODE_OVER = "The episode is over. Call reset() to start a new one."
MAX_ACTION_CHARS = 100_000


@dataclass
class Outcome:
    """What a task reports after one action.

    ``progress`` is the task's progress rate in [0, 1] *for this state*; the base class keeps the
    running maximum. ``None`` means the task cannot measure progress here (e.g. its annotations are
    missing), which is reported as unavailable instead of guessed.
    """

    observation: str
    valid_action: bool
    progress: float | None
    success: bool = False
    failed: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Snapshot:
    """A branch point: enough to come back to this exact state (picklable, for worker processes)."""

    index: int
    reset_seed: int | None
    actions: tuple[str, ...]
    native: Any = None
    bookkeeping: tuple[Any, ...] = ()


# What a snapshot keeps of the wrapper's own state beside the simulator's (restored as saved).
_BOOKKEEPING = ("_progress", "_success", "_terminated", "_truncated", "_last_observation", "_goal", "_last_info")


class TextEnv(gym.Env[str, str]):
    """Base class of every agentrm-bench task.

    A task class sets ``task_spec`` (its :class:`TaskSpec`); its name, splits and turn budget are read
    from there, so the table and the environment cannot disagree.
    """

    task_spec: ClassVar[TaskSpec | None] = None
    task: ClassVar[str] = ""
    splits: ClassVar[tuple[str, ...]] = ("test",)
    default_max_turns: ClassVar[int] = 30
    # A search snapshots every node it creates when this is True, instead of re-deriving a node it comes
    # back to by stepping its parent again: right where a snapshot costs far less than a step (ALFWorld's
    # engine states: ~1 ms against ~40 ms a step), wrong where it costs more (BabyAI copies its level).
    cheap_snapshots: ClassVar[bool] = False
    # Its native state is the whole simulator state, so a restore to the instance already loaded needs no
    # reset first (ScienceWorld: a reset reloads the problem, several steps' worth of time).
    restores_in_place: ClassVar[bool] = False
    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi"], "render_fps": 1}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        spec = cls.__dict__.get("task_spec")
        if spec is not None:
            cls.task, cls.splits, cls.default_max_turns = spec.name, spec.splits, spec.max_turns

    def __init__(self, split: str = "test", max_turns: int | None = None, render_mode: str | None = None):
        if split not in self.splits:
            raise ValueError(f"{self.task}: unknown split {split!r}; this task has {list(self.splits)}")
        if max_turns is not None and (not isinstance(max_turns, int) or max_turns < 1):
            raise ValueError(f"max_turns must be a positive integer, got {max_turns!r}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']}, got {render_mode!r}")
        self.split = split
        self.max_turns = max_turns or self.default_max_turns
        self.render_mode = render_mode
        self.observation_space = UnicodeText()
        self.action_space = UnicodeText()
        self._index: int | None = None
        self._reset_seed: int | None = None
        self._goal = ""
        self._last_info: dict[str, Any] = {}
        self._actions: list[str] = []
        self._progress: float | None = 0.0
        self._success = False
        self._terminated = False
        self._truncated = False
        self._last_observation = ""

    # ----------------------------------------------------------------- hooks a task implements
    @property
    def num_instances(self) -> int:
        raise NotImplementedError

    def _start(self, index: int) -> tuple[str, str]:
        """Begin instance ``index`` of ``self.split``; return (first observation, goal)."""
        raise NotImplementedError

    def _act(self, action: str) -> Outcome:
        """Apply one action (any text) and report the outcome. Must not raise on bad text."""
        raise NotImplementedError

    def _admissible_actions(self) -> list[str] | None:
        """The actions the task accepts in the current state, where the task defines them."""
        return None

    def _measures_progress(self) -> bool:
        """False when the task cannot score progress for this split (reported as ``None``)."""
        return True

    def _native_state(self) -> Any:
        """The simulator state, if it can be copied; ``None`` makes snapshots replay actions."""
        return None

    def _load_native_state(self, state: Any) -> bool | None:
        """Put the simulator into ``state`` (after a reset to its instance, or in the same instance where
        ``restores_in_place``). Return False when the state
        cannot be had here any more (it lives in a simulator process this environment no longer has):
        :meth:`restore` then replays the snapshot's actions instead."""
        raise NotImplementedError

    def expert_action(self) -> str:
        """The next action of the task's expert (planner, gold path, solver) in the current state."""
        raise NotImplementedError(f"{self.task} has no expert")

    # ----------------------------------------------------------------- the Gymnasium API
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict]:
        super().reset(seed=seed)
        index = (options or {}).get("index")
        if index is None:
            index = int(self.np_random.integers(self.num_instances))
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < self.num_instances:
            raise ValueError(
                f"{self.task}: options['index'] must be an int in [0, {self.num_instances}) "
                f"for split {self.split!r}, got {index!r}"
            )
        self._index = index
        self._reset_seed = seed
        self._actions = []
        self._success = False
        self._terminated = self._truncated = False
        observation, self._goal = self._start(index)
        self._progress = 0.0 if self._measures_progress() else None
        self._last_observation = observation
        self._last_info = self._info(valid_action=True)
        return observation, dict(self._last_info)

    def step(self, action: str) -> tuple[str, float, bool, bool, dict]:
        if self._index is None:
            raise gym.error.ResetNeeded("Call reset() before step().")
        if self._terminated or self._truncated:
            info = self._info(valid_action=False)
            return EPISODE_OVER, 0.0, self._terminated, self._truncated, info
        action = _as_text(action)
        outcome = self._act(action)
        self._actions.append(action)
        reward = self._update_progress(outcome.progress)
        self._success = self._success or outcome.success
        self._terminated = outcome.success or outcome.failed
        self._truncated = not self._terminated and len(self._actions) >= self.max_turns
        self._last_observation = outcome.observation
        info = self._last_info = self._info(valid_action=outcome.valid_action, **outcome.extra)
        return outcome.observation, reward, self._terminated, self._truncated, dict(info)

    def render(self) -> str | None:
        return self._last_observation if self.render_mode == "ansi" else None

    # ----------------------------------------------------------------- branching
    def snapshot(self) -> Snapshot:
        """Capture the current state so that :meth:`restore` can branch from it later."""
        if self._index is None:
            raise gym.error.ResetNeeded("Call reset() before snapshot().")
        native = self._native_state()
        bookkeeping = tuple(getattr(self, name) for name in _BOOKKEEPING)
        return Snapshot(self._index, self._reset_seed, tuple(self._actions), copy.deepcopy(native), bookkeeping)

    def restore(self, snapshot: Snapshot) -> tuple[str, dict]:
        """Return to ``snapshot``; gives the observation and info of that state."""
        in_place = self.restores_in_place and snapshot.native is not None and snapshot.index == self._index
        if in_place and self._load_native_state(copy.deepcopy(snapshot.native)) is not False:
            gym.Env.reset(self, seed=snapshot.reset_seed)  # what reset() would have done to np_random
            self._reset_seed = snapshot.reset_seed
            return self._restored(snapshot)
        observation, info = self.reset(seed=snapshot.reset_seed, options={"index": snapshot.index})
        if snapshot.native is None or self._load_native_state(copy.deepcopy(snapshot.native)) is False:
            for action in snapshot.actions:
                observation, _, _, _, info = self.step(action)
            return observation, info
        return self._restored(snapshot)

    def _restored(self, snapshot: Snapshot) -> tuple[str, dict]:
        self._actions = list(snapshot.actions)
        for name, value in zip(_BOOKKEEPING, snapshot.bookkeeping, strict=True):
            setattr(self, name, value)
        return self._last_observation, copy.deepcopy(self._last_info)  # the info its last step gave

    # ----------------------------------------------------------------- properties
    @property
    def index(self) -> int | None:
        return self._index

    @property
    def goal(self) -> str:
        return self._goal

    @property
    def turns(self) -> int:
        return len(self._actions)

    @property
    def progress(self) -> float | None:
        return self._progress

    @property
    def success(self) -> bool:
        return self._success

    # ----------------------------------------------------------------- internals
    def _update_progress(self, progress: float | None) -> float:
        if progress is None:
            self._progress = None
            return 0.0
        previous = self._progress or 0.0
        self._progress = max(previous, min(1.0, float(progress)))
        return self._progress - previous

    def _info(self, valid_action: bool, **extra: Any) -> dict[str, Any]:
        info: dict[str, Any] = {
            "task": self.task,
            "index": self._index,
            "goal": self._goal,
            "progress": self._progress,
            "success": self._success,
            "valid_action": valid_action,
            "turn": len(self._actions),
        }
        admissible = self._admissible_actions()
        if admissible is not None:
            info["admissible_actions"] = admissible
        info.update(self._instance_info())
        info.update(extra)
        return info

    def _instance_info(self) -> dict[str, Any]:
        """Task-specific keys that describe the instance (e.g. PDDL's domain), in every step's info."""
        return {}


def _as_text(action: Any) -> str:
    """Whatever a policy sent becomes text the task can answer (bytes decoded, long text capped)."""
    if isinstance(action, bytes):
        action = action.decode("utf-8", errors="replace")
    elif not isinstance(action, str):
        action = str(action)
    return action[:MAX_ACTION_CHARS]
