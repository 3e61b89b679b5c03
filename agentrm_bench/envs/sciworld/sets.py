"""ScienceWorld's evaluation sets: which (task, variation) pairs are played, how, and for how long.

Three splits, all real upstream sets:

- ``test``: AgentBoard's 90 problems, the set of the nine-task table. AgentBoard loads each problem by
  task name and explicit variation number (88 of them are *train* variations of ScienceWorld, 2 are
  dev variations, so they must not go through ScienceWorld's split helpers), with the simplifications
  self-watering flower pots, open containers, open doors and no electrical actions (no teleport), and
  gives an agent at most 30 steps. Its annotations (a rewritten goal and ``subgoals``, regular
  expressions over step observations) come through the data layer; without them the set still runs,
  with the simulator's own goal text and no progress rate.
- ``test-eto``: ETO's 211 unseen test variations (the held-in table of AgentRM), played with
  ScienceWorld's ``easy`` simplification preset (which adds teleporting) and ETO's per-task step limit.
- ``dev``: ETO's 194 dev variations, played the same way.

The pairs and limits below are facts of those upstream sets (``tests/test_sciworld.py`` checks them
against the upstream files when those are present); only the AgentBoard annotations are read from data.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache

from ... import data
from .upstream import FILES

TASK = "sciworld"
AGENTBOARD_FILE = "agentboard/test.jsonl"
AGENTBOARD_SIMPLIFICATIONS = "selfWateringFlowerPots,openContainers,openDoors,noElectricalAction"
AGENTBOARD_MAX_STEPS = 30
ETO_SIMPLIFICATIONS = "easy"

# AgentBoard's 90 problems, in the order of its test.jsonl: runs of (ScienceWorld task, variations).
AGENTBOARD_TEST: tuple[tuple[str, tuple[int, ...]], ...] = (
    ("lifespan-longest-lived", (5, 6, 7)),
    ("lifespan-longest-lived-then-shortest-lived", (5, 6, 7)),
    ("lifespan-shortest-lived", (5, 6, 7)),
    ("measure-melting-point-known-substance", (5, 6, 7)),
    ("measure-melting-point-unknown-substance", (5, 6, 7)),
    ("use-thermometer", (5, 6, 7)),
    ("freeze", (6,)),
    ("identify-life-stages-1", (6, 7)),
    ("chemistry-mix-paint-tertiary-color", (5, 6, 7)),
    ("find-animal", (5, 6, 7)),
    ("find-living-thing", (5, 6, 7)),
    ("find-non-living-thing", (5, 6, 7)),
    ("boil", (5, 6, 7, 8)),
    ("change-the-state-of-matter-of", (5, 6, 7, 8)),
    ("chemistry-mix", (5, 6, 7)),
    ("chemistry-mix-paint-secondary-color", (5, 6, 7)),
    ("use-thermometer", (0, 1, 2)),
    ("lifespan-longest-lived", (0, 1, 2)),
    ("lifespan-longest-lived-then-shortest-lived", (0, 1, 2)),
    ("lifespan-shortest-lived", (0, 1, 2)),
    ("measure-melting-point-known-substance", (0, 1, 2)),
    ("measure-melting-point-unknown-substance", (0, 1, 2)),
    ("identify-life-stages-1", (0, 1, 2)),
    ("find-animal", (20, 21, 22)),
    ("find-living-thing", (20, 21, 22)),
    ("find-non-living-thing", (20, 21, 22)),
    ("lifespan-longest-lived", (20, 21, 22)),
    ("lifespan-longest-lived-then-shortest-lived", (20, 21, 22)),
    ("lifespan-shortest-lived", (20, 21, 22)),
    ("measure-melting-point-known-substance", (20, 21)),
    ("use-thermometer", (21, 22)),
)

# ETO's step limit per task (its max_steps.json), keyed by ETO's task names.
ETO_MAX_STEPS: dict[str, int] = {
    "task-1-boil": 100,
    "task-1-change-the-state-of-matter-of": 80,
    "task-1-freeze": 80,
    "task-1-melt": 80,
    "task-10-measure-melting-point-(known-substance)": 120,
    "task-10-use-thermometer": 30,
    "task-2-power-component": 20,
    "task-2-power-component-(renewable-vs-nonrenewable-energy)": 30,
    "task-2a-test-conductivity": 30,
    "task-2a-test-conductivity-of-unknown-substances": 30,
    "task-3-find-animal": 15,
    "task-3-find-living-thing": 15,
    "task-3-find-non-living-thing": 15,
    "task-3-find-plant": 15,
    "task-4-grow-fruit": 60,
    "task-4-grow-plant": 30,
    "task-5-chemistry-mix": 60,
    "task-5-chemistry-mix-paint-(secondary-color)": 15,
    "task-5-chemistry-mix-paint-(tertiary-color)": 30,
    "task-6-lifespan-(longest-lived)": 10,
    "task-6-lifespan-(longest-lived-then-shortest-lived)": 12,
    "task-6-lifespan-(shortest-lived)": 10,
    "task-7-identify-life-stages-1": 30,
    "task-7-identify-life-stages-2": 30,
}

# ETO's test set: per task, a run of consecutive variations (first, count), in its file's order.
ETO_TEST: tuple[tuple[str, int, int], ...] = (
    ("task-1-boil", 21, 9),
    ("task-1-change-the-state-of-matter-of", 21, 9),
    ("task-1-freeze", 21, 9),
    ("task-1-melt", 21, 9),
    ("task-10-measure-melting-point-(known-substance)", 327, 10),
    ("task-10-use-thermometer", 405, 10),
    ("task-2-power-component", 15, 5),
    ("task-2-power-component-(renewable-vs-nonrenewable-energy)", 15, 5),
    ("task-2a-test-conductivity", 675, 10),
    ("task-2a-test-conductivity-of-unknown-substances", 450, 10),
    ("task-3-find-animal", 225, 10),
    ("task-3-find-living-thing", 225, 10),
    ("task-3-find-non-living-thing", 225, 10),
    ("task-3-find-plant", 225, 10),
    ("task-4-grow-fruit", 93, 10),
    ("task-4-grow-plant", 93, 10),
    ("task-5-chemistry-mix", 24, 8),
    ("task-5-chemistry-mix-paint-(secondary-color)", 27, 9),
    ("task-5-chemistry-mix-paint-(tertiary-color)", 27, 9),
    ("task-6-lifespan-(longest-lived)", 93, 10),
    ("task-6-lifespan-(longest-lived-then-shortest-lived)", 93, 10),
    ("task-6-lifespan-(shortest-lived)", 93, 10),
    ("task-7-identify-life-stages-1", 9, 5),
    ("task-7-identify-life-stages-2", 6, 4),
)

# ETO's dev set, grouped by task (tasks in order of first appearance in its file, variations in file order).
ETO_DEV: dict[str, tuple[int, ...]] = {
    "task-2a-test-conductivity-of-unknown-substances": (418, 413, 352, 313, 386, 448, 389, 409, 394, 376),
    "task-3-find-living-thing": (186, 161, 180, 209, 216, 214, 221, 202, 206, 218),
    "task-10-measure-melting-point-(known-substance)": (326, 280, 287, 286, 281, 300, 253, 299, 292, 325),
    "task-3-find-animal": (193, 218, 159, 211, 173, 221, 213, 216, 188, 176),
    "task-4-grow-plant": (65, 77, 84, 68, 64, 85, 86, 78, 88, 87),
    "task-3-find-plant": (179, 175, 209, 177, 203, 206, 181, 164, 154, 165),
    "task-2a-test-conductivity": (587, 479, 528, 474, 662, 579, 655, 640, 523, 485),
    "task-10-use-thermometer": (384, 385, 314, 378, 360, 364, 284, 285, 358, 291),
    "task-6-lifespan-(shortest-lived)": (69, 87, 91, 84, 76, 80, 82, 70, 85, 71),
    "task-1-melt": (14, 18, 16, 20, 19, 15, 17),
    "task-1-boil": (14, 15, 20, 17, 16, 19),
    "task-5-chemistry-mix-paint-(tertiary-color)": (25, 21, 26, 23, 24, 22, 19, 18, 20),
    "task-2-power-component-(renewable-vs-nonrenewable-energy)": (14, 10, 13),
    "task-4-grow-fruit": (85, 90, 72, 88, 65, 84, 80, 71, 62, 68),
    "task-1-change-the-state-of-matter-of": (14, 16, 17, 18, 15, 19, 20),
    "task-6-lifespan-(longest-lived-then-shortest-lived)": (87, 67, 68, 66, 64, 78, 69, 80, 72, 85),
    "task-6-lifespan-(longest-lived)": (83, 88, 84, 66, 68, 80, 78, 72, 73, 92),
    "task-3-find-non-living-thing": (150, 184, 187, 214, 198, 209, 185, 179, 192, 158),
    "task-7-identify-life-stages-1": (7, 8, 6),
    "task-5-chemistry-mix-paint-(secondary-color)": (25, 20, 18, 22, 26, 23, 19, 21, 24),
    "task-2-power-component": (11, 13, 12),
    "task-5-chemistry-mix": (21, 19, 18, 23, 20, 17, 16, 22),
    "task-7-identify-life-stages-2": (5, 4),
    "task-1-freeze": (19, 15, 18, 16, 17, 14, 20),
}


@dataclass(frozen=True)
class Instance:
    """One evaluation problem: what to load into the simulator and how long an agent may act."""

    task: str  # ScienceWorld's task name
    variation: int
    simplifications: str
    max_turns: int


@dataclass(frozen=True)
class Annotation:
    """AgentBoard's annotation of one problem: its goal wording and its subgoal patterns."""

    goal: str
    subgoals: tuple[str, ...]
    difficulty: str


class AnnotationMismatchError(RuntimeError):
    """The annotation file does not list the problems this module expects, in this order."""


def scienceworld_name(eto_name: str) -> str:
    """ETO's task name (``task-6-lifespan-(longest-lived)``) as ScienceWorld names it (``lifespan-longest-lived``).

    The same rule ScienceWorld applies when it is handed such a name: drop the ``task-<id>-`` prefix
    and the parentheses.
    """
    return re.sub(r"task-(\d|a|b)+-|[()]", "", eto_name)


@cache
def instances(split: str) -> tuple[Instance, ...]:
    """The problems of ``split`` in their upstream order (no data file needed)."""
    if split == "test":
        return tuple(
            Instance(task, variation, AGENTBOARD_SIMPLIFICATIONS, AGENTBOARD_MAX_STEPS)
            for task, variations in AGENTBOARD_TEST
            for variation in variations
        )
    if split == "test-eto":
        pairs = [(name, first + k) for name, first, count in ETO_TEST for k in range(count)]
    elif split == "dev":
        pairs = [(name, variation) for name, variations in ETO_DEV.items() for variation in variations]
    else:
        raise ValueError(f"{TASK}: unknown split {split!r}; this task has ['test', 'test-eto', 'dev']")
    return tuple(
        Instance(scienceworld_name(name), variation, ETO_SIMPLIFICATIONS, ETO_MAX_STEPS[name])
        for name, variation in pairs
    )


@cache
def agentboard_annotations() -> tuple[Annotation, ...]:
    """AgentBoard's annotations of the ``test`` problems, in order.

    Raises :class:`agentrm_bench.data.DataMissingError` (naming the fetch command) when the file is
    absent, and :class:`AnnotationMismatchError` when it does not describe the expected problems.
    """
    path = data.path(FILES, AGENTBOARD_FILE)
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    expected = [(i.task, i.variation) for i in instances("test")]
    found = [(row["additional_info"]["env_name"], int(row["additional_info"]["var"])) for row in rows]
    if found != expected:
        first = next((k for k, pair in enumerate(found) if k >= len(expected) or pair != expected[k]), len(found))
        raise AnnotationMismatchError(
            f"{path} lists {len(found)} ScienceWorld problems that differ from AgentBoard's 90 "
            f"(first difference at row {first})"
        )
    return tuple(Annotation(row["goal"], tuple(row["subgoals"]), row["difficulty"]) for row in rows)
