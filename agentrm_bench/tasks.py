"""The task table: the specs of every task, collected from the task packages (and plug-ins).

Each task declares its :class:`~agentrm_bench.task_spec.TaskSpec` in its own package
(``agentrm_bench/envs/<task>/__init__.py``, ``SPEC``); this module only collects them -- the nine built-in
ones, those registered with :func:`register`, and those of installed packages through the entry-point
group ``agentrm_bench.tasks`` -- so that everything that lists, selects or builds a task reads one table.
Gymnasium ids all point at :func:`make_env`, which checks that a task is available before importing its
environment: a task whose optional dependency or data is missing fails with one sentence saying why and
what to do, not with an ImportError from deep inside.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import warnings
from typing import Any

import gymnasium as gym

from . import data
from .registry import Registry, UnknownPluginError
from .task_spec import HELD_IN, HELD_OUT, TaskSpec

__all__ = ["HELD_IN", "HELD_OUT", "TaskSpec", "TaskUnavailableError", "UnknownTaskError", "get", "select", "specs"]

# The nine tasks in table order (held-in first); each package's SPEC is cheap to import.
BUILTIN = {
    name: f"agentrm_bench.envs.{package}:SPEC"
    for name, package in (
        ("webshop", "webshop"),
        ("alfworld", "alfworld"),
        ("sciworld", "sciworld"),
        ("babyai", "babyai"),
        ("jericho", "jericho"),
        ("pddl", "pddl"),
        ("tool-query", "tool_query"),
        ("tool-operation", "tool_operation"),
        ("maze", "maze"),
    )
}
REGISTRY: Registry[TaskSpec] = Registry("task", "agentrm_bench.tasks", BUILTIN)

GROUPS = {"all": None, HELD_IN: HELD_IN, HELD_OUT: HELD_OUT}


class TaskUnavailableError(RuntimeError):
    """The task cannot be built here; the message says why and what to do."""


class UnknownTaskError(ValueError):
    pass


def register(spec: TaskSpec) -> None:
    """Add a task (e.g. from a notebook); a package ships its task through the ``agentrm_bench.tasks`` group."""
    REGISTRY.register(spec.name, spec)
    _register_gym(spec)


def specs() -> tuple[TaskSpec, ...]:
    """Every task: the built-in nine in table order, then registered and plug-in tasks by name."""
    found: list[TaskSpec] = []
    for name in [*BUILTIN, *(n for n in REGISTRY.names() if n not in BUILTIN)]:
        try:
            spec = REGISTRY.load(name)
        except UnknownPluginError as exc:  # a broken plug-in must not take the nine tasks down with it
            warnings.warn(str(exc), stacklevel=2)
            continue
        if not isinstance(spec, TaskSpec):
            warnings.warn(f"task {name!r} is a {type(spec).__name__}, not a TaskSpec; ignored", stacklevel=2)
            continue
        _register_gym(spec)  # a plug-in installed after `import agentrm_bench` gets its gym id too
        found.append(spec)
    return tuple(found)


def table(group: str | None = None) -> list[TaskSpec]:
    """The leaderboard's tasks (the nine built-in ones), in table order; only ``group``'s when given."""
    return [s for s in specs() if s.name in BUILTIN and group in (None, s.group)]


def get(name_or_id: str) -> TaskSpec:
    """Look a task up by short name (``maze``) or gym id (``agentrm/Maze-v0``)."""
    for spec in specs():
        if name_or_id in (spec.name, spec.id):
            return spec
    known = ", ".join(spec.name for spec in specs())
    raise UnknownTaskError(f"unknown task {name_or_id!r}; known tasks: {known} (or all, held-in, held-out)")


def select(selection: str) -> list[TaskSpec]:
    """``--tasks`` syntax: comma-separated short names or ids, or all / held-in / held-out."""
    chosen: list[TaskSpec] = []
    for part in (p.strip() for p in selection.split(",")):
        if not part:
            continue
        if part in GROUPS:
            group = GROUPS[part]
            picked = table(group)
        else:
            picked = [get(part)]
        chosen.extend(s for s in picked if s not in chosen)
    if not chosen:
        raise UnknownTaskError(f"no task selected by {selection!r}")
    return chosen


def catalogue() -> dict[str, data.TaskData]:
    """Every declared data set by key (``babyai``, ``babyai/agentrm_prompts``, ...), from the task specs."""
    found: dict[str, data.TaskData] = {}
    for spec in specs():
        for files in (*spec.data, *([spec.rm_prompts] if spec.rm_prompts else [])):
            found.setdefault(files.task, files)
    return found


def data_set(key: str) -> data.TaskData:
    """One declared data set, or an error listing the known keys."""
    known = catalogue()
    if key not in known:
        raise UnknownTaskError(f"no upstream data is declared for {key!r}; data sets: {', '.join(sorted(known))}")
    return known[key]


def availability(spec: TaskSpec) -> tuple[bool, str]:
    """(available, reason): whether ``gym.make`` of this task can work on this machine."""
    if spec.pending_issue is not None:
        return False, f"not built yet (issue #{spec.pending_issue})"
    absent = [m for m in spec.requires if importlib.util.find_spec(m) is None]
    if absent:
        install = f"pip install 'agentrm-bench[{spec.extra}]'" if spec.extra else f"pip install {' '.join(absent)}"
        return False, f"needs {', '.join(absent)}: {install}"
    return True, evaluable(spec)[1]


def evaluable(spec: TaskSpec) -> tuple[bool, str]:
    """(every instance can run here, note): an available task may still lack some instances' data."""
    if spec.data_check is not None:
        module, _, function = spec.data_check.partition(":")
        return getattr(importlib.import_module(module), function)()
    if spec.data:
        own = spec.data[0]
        if data.missing(own):
            if own.required:
                return False, f"data absent (agentrm-bench data fetch {own.task})"
            return True, f"annotations absent, progress unavailable (agentrm-bench data fetch {own.task})"
    return True, "ready"


def expert_availability(spec: TaskSpec) -> tuple[bool, str]:
    """Whether the task's expert can run here (some experts need more than the task, e.g. a planner)."""
    # Looked up on the path, not in sys.modules: a package may be hidden there on purpose (PDDL's planner).
    absent = [m for m in spec.expert_requires if importlib.machinery.PathFinder.find_spec(m.partition(".")[0]) is None]
    if absent:
        extra = (
            f"pip install 'agentrm-bench[{spec.expert_extra}]'"
            if spec.expert_extra
            else "pip install " + " ".join(absent)
        )
        return False, f"needs {', '.join(absent)}: {extra}"
    return True, "ready"


def runnable(spec: TaskSpec) -> bool:
    """Available and every instance has its data: what full runs and the generic tests need."""
    return availability(spec)[0] and evaluable(spec)[0]


def env_class(spec: TaskSpec) -> type:
    ok, reason = availability(spec)
    if not ok:
        raise TaskUnavailableError(f"{spec.id} is not available: {reason}")
    module, _, cls = spec.entry_point.partition(":")
    return getattr(importlib.import_module(module), cls)


def make_env(task: str, **kwargs: Any):  # noqa: ANN201 - a TextEnv of the task
    """Gymnasium entry point of every id (the id's ``kwargs`` carry ``task``)."""
    return env_class(get(task))(**kwargs)


def _register_gym(spec: TaskSpec) -> None:
    if spec.id not in gym.registry:
        gym.register(spec.id, entry_point="agentrm_bench.tasks:make_env", kwargs={"task": spec.name})


def register_all() -> None:
    for spec in specs():
        _register_gym(spec)
