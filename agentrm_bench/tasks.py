"""THE task table: the nine tasks, their fixed ids, and whether each can run here.

Everything that lists, selects or builds a task reads this table, so the ids and short names of
DESIGN.md live in exactly one place. Gymnasium ids all point at :func:`make_env`, which checks that a
task is available before importing its module: a task that is not built yet, or whose optional
dependency is missing, fails with one sentence saying why and what to do, not with an ImportError
from deep inside.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from typing import Any

from . import data

HELD_IN = "held-in"
HELD_OUT = "held-out"


@dataclass(frozen=True)
class TaskSpec:
    id: str
    name: str
    split: str
    category: str
    headline: str  # "success" or "progress": the metric the paper's table reports for this task
    test_size: int
    max_turns: int
    entry_point: str  # "module:Class", imported only when the task is made
    sandbox: str  # "in-process", or "server" for tasks run behind the sandbox protocol
    version: str = "0"
    requires: tuple[str, ...] = ()  # importable modules the task needs
    extra: str | None = None  # the pip extra that brings ``requires``
    pending_issue: int | None = None  # not built yet: the issue that brings it
    # "module:function" -> (all instances have their data here, note): for tasks whose instances need
    # more data than the declared files (e.g. recorded API responses); None: the declared files decide.
    data_check: str | None = None
    # Said under every table that shows the task, when its metric is not the upstream one.
    metric_note: str | None = None


TASKS: tuple[TaskSpec, ...] = (
    TaskSpec(
        "agentrm/WebShop-v0",
        "webshop",
        HELD_IN,
        "web",
        "progress",
        500,
        10,
        "agentrm_bench.envs.webshop.env:WebShopEnv",
        "server",
        requires=("bm25s", "Stemmer", "thefuzz", "spacy"),
        extra="webshop",
        data_check="agentrm_bench.envs.webshop.catalogue:data_availability",
    ),
    TaskSpec(
        "agentrm/ALFWorld-v0",
        "alfworld",
        HELD_IN,
        "embodied",
        "success",
        134,
        40,
        "agentrm_bench.envs.alfworld.env:ALFWorldEnv",
        "in-process",
        requires=("alfworld", "textworld"),
        extra="alfworld",
        metric_note="alfworld progress: our milestones from each game's PDDL goal (envs/alfworld/PROVENANCE.md)",
    ),
    TaskSpec(
        "agentrm/ScienceWorld-v0",
        "sciworld",
        HELD_IN,
        "embodied",
        "progress",
        90,
        30,
        "agentrm_bench.envs.sciworld.env:ScienceWorldEnv",
        "in-process",
        requires=("scienceworld",),
        extra="sciworld",
    ),
    TaskSpec(
        "agentrm/BabyAI-v0",
        "babyai",
        HELD_OUT,
        "embodied",
        "progress",
        112,
        30,
        "agentrm_bench.envs.babyai.env:BabyAIEnv",
        "in-process",
        requires=("minigrid",),
    ),
    TaskSpec(
        "agentrm/Jericho-v0",
        "jericho",
        HELD_OUT,
        "text game",
        "progress",
        20,
        30,
        "agentrm_bench.envs.jericho.env:JerichoEnv",
        "in-process",
        requires=("jericho",),
        extra="jericho",
        metric_note="jericho progress: our subgoals from each game's walkthrough (envs/jericho/PROVENANCE.md)",
    ),
    TaskSpec(
        "agentrm/PDDL-v0",
        "pddl",
        HELD_OUT,
        "text game",
        "progress",
        60,
        30,
        "agentrm_bench.envs.pddl.env:PDDLEnv",
        "in-process",
        requires=("unified_planning",),
        extra="pddl",
        data_check="agentrm_bench.envs.pddl.problems:data_availability",
    ),
    TaskSpec(
        "agentrm/ToolQuery-v0",
        "tool-query",
        HELD_OUT,
        "tools",
        "progress",
        60,
        30,
        "agentrm_bench.envs.tool_query.env:ToolQueryEnv",
        "server",  # toolset services behind the sandbox (default a local subprocess; sandbox=None: in-process)
        requires=("networkx", "requests", "geopy"),
        extra="tool-query",
        data_check="agentrm_bench.envs.tool_query.env:data_availability",
    ),
    TaskSpec(
        "agentrm/ToolOperation-v0",
        "tool-operation",
        HELD_OUT,
        "tools",
        "progress",
        40,
        30,
        "agentrm_bench.envs.tool_operation.env:ToolOperationEnv",
        "server",  # toolset services behind the sandbox (default a local subprocess; sandbox=None: in-process)
        requires=("openpyxl", "formulas", "regex"),
        extra="tool-operation",
    ),
    TaskSpec(
        "agentrm/Maze-v0",
        "maze",
        HELD_OUT,
        "text game",
        "success",
        25,
        50,
        "agentrm_bench.envs.maze.env:MazeEnv",
        "in-process",
    ),
)

GROUPS = {"all": None, HELD_IN: HELD_IN, HELD_OUT: HELD_OUT}


class TaskUnavailableError(RuntimeError):
    """The task cannot be built here; the message says why and what to do."""


class UnknownTaskError(ValueError):
    pass


def get(name_or_id: str) -> TaskSpec:
    """Look a task up by short name (``maze``) or gym id (``agentrm/Maze-v0``)."""
    for spec in TASKS:
        if name_or_id in (spec.name, spec.id):
            return spec
    known = ", ".join(spec.name for spec in TASKS)
    raise UnknownTaskError(f"unknown task {name_or_id!r}; known tasks: {known} (or all, held-in, held-out)")


def select(selection: str) -> list[TaskSpec]:
    """``--tasks`` syntax: comma-separated short names or ids, or all / held-in / held-out."""
    chosen: list[TaskSpec] = []
    for part in (p.strip() for p in selection.split(",")):
        if not part:
            continue
        if part in GROUPS:
            group = GROUPS[part]
            picked = [s for s in TASKS if group is None or s.split == group]
        else:
            picked = [get(part)]
        chosen.extend(s for s in picked if s not in chosen)
    if not chosen:
        raise UnknownTaskError(f"no task selected by {selection!r}")
    return chosen


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
    declared = data.CATALOGUE.get(spec.name)
    if declared is not None and data.missing(spec.name):
        if declared.required:
            return False, f"data absent (agentrm-bench data fetch {spec.name})"
        return True, f"annotations absent, progress unavailable (agentrm-bench data fetch {spec.name})"
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


def make_env(task: str, **kwargs: Any):
    """Gymnasium entry point of every id (the id's ``kwargs`` carry ``task``)."""
    return env_class(get(task))(**kwargs)


def register_all() -> None:
    import gymnasium as gym

    for spec in TASKS:
        if spec.id not in gym.registry:
            gym.register(spec.id, entry_point="agentrm_bench.tasks:make_env", kwargs={"task": spec.name})
