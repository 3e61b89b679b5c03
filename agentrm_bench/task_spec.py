"""The task spec: one keyword-only object per task, declared beside the task's code.

Everything the project says about a task -- its gym id, the table row (group, category, headline
metric, split sizes, turn budget), what it needs to run (modules, pip extra, upstream data), where its
service runs, the prompt pieces and AgentRM's reward-model instruction -- is read from this one object.
The task table (:mod:`agentrm_bench.tasks`) only collects specs; the environment class takes its name,
splits and turn budget from it (``TextEnv.spec_``), so the two cannot disagree. A spec must be cheap to
import: it names the environment class as ``"module:Class"`` and never imports the engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .data import TaskData

HELD_IN = "held-in"
HELD_OUT = "held-out"
GROUPS = (HELD_IN, HELD_OUT)
HEADLINES = ("success", "progress")
SANDBOXES = ("in-process", "server")


@dataclass(frozen=True, kw_only=True)
class TaskSpec:
    """A task's facts. Only ``id``, ``name``, ``group``, ``category``, ``headline``, ``sizes``,
    ``max_turns`` and ``entry_point`` are required; the rest describe what a task needs or offers."""

    id: str  # the gym id, "agentrm/<Task>-v<version>"
    name: str  # the short name used by --tasks, records and tables
    group: str  # held-in or held-out: the leaderboard table the task counts in
    category: str  # web, embodied, text game, tools, ...
    headline: str  # the metric the paper reports for this task: "success" or "progress"
    sizes: Mapping[str, int]  # instance split -> number of instances; "test" is the table's split
    max_turns: int  # the turn budget of the test split
    entry_point: str  # "module:Class" of the TextEnv subclass, imported only when the task is made
    sandbox: str = "in-process"  # "server": the task's service runs behind the sandbox protocol
    image: str | None = None  # the task's own Docker image folder (holding a Dockerfile), for docker sandboxes
    version: str = "0"
    requires: tuple[str, ...] = ()  # importable modules the task needs
    extra: str | None = None  # the pip extra of agentrm-bench that brings ``requires``
    expert_requires: tuple[str, ...] = ()  # modules only the expert needs (e.g. a planner)
    expert_extra: str | None = None
    # Upstream files, fetched by ``agentrm-bench data fetch``; the first set is the task's own.
    data: tuple[TaskData, ...] = ()
    # "module:function" -> (all instances have their data here, note): for tasks whose instances need
    # more than the declared files decide (e.g. recorded API responses); None: the declared files decide.
    data_check: str | None = None
    metric_note: str | None = None  # said under every table showing the task when its metric is ours
    prompt: str | None = None  # module with INSTRUCTION (and the in-context example's pieces), or None: generic
    # AgentRM's reward-model instruction: the data set holding it and the file stem ("{domain}" is filled
    # from the episode's info, e.g. PDDL's domain); None when upstream has none for this task.
    rm_prompts: TaskData | None = None
    rm_template: str | None = None
    goal_in_observation: bool = False  # the first observation states the goal in upstream's words
    pending_issue: int | None = None  # not built yet: the issue that brings it
    notes: Mapping[str, str] = field(default_factory=dict)  # free-form facts shown by `agentrm-bench tasks`

    def __post_init__(self) -> None:
        problems = []
        if self.group not in GROUPS:
            problems.append(f"group must be one of {GROUPS}, got {self.group!r}")
        if self.headline not in HEADLINES:
            problems.append(f"headline must be one of {HEADLINES}, got {self.headline!r}")
        if self.sandbox not in SANDBOXES:
            problems.append(f"sandbox must be one of {SANDBOXES}, got {self.sandbox!r}")
        if "test" not in self.sizes or any(not isinstance(n, int) or n < 0 for n in self.sizes.values()):
            problems.append(f"sizes must map 'test' (and other splits) to counts, got {dict(self.sizes)!r}")
        if not isinstance(self.max_turns, int) or self.max_turns < 1:
            problems.append(f"max_turns must be a positive int, got {self.max_turns!r}")
        if ":" not in self.entry_point:
            problems.append(f"entry_point must be 'module:Class', got {self.entry_point!r}")
        if (self.rm_prompts is None) != (self.rm_template is None):
            problems.append("rm_prompts and rm_template go together")
        if problems:
            raise ValueError(f"task spec {self.name or self.id!r}: " + "; ".join(problems))

    @property
    def test_size(self) -> int:
        return self.sizes["test"]

    @property
    def splits(self) -> tuple[str, ...]:
        return tuple(self.sizes)

    @property
    def package(self) -> str:
        """The package (or module) that holds the task's code: where its prompt pieces and example live."""
        return self.entry_point.partition(":")[0].rpartition(".")[0] or self.entry_point.partition(":")[0]
