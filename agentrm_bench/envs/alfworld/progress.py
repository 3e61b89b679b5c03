"""ALFWorld progress rate: OUR subgoal definition, read from each game's PDDL goal and task type.

AgentBoard scores ALFWorld progress with hand-annotated subgoals that are not public here, so this
module defines its own, labelled as ours wherever it is reported. Each task type has an ordered list
of milestones; a milestone is a condition on the engine's current PDDL facts (never on the text), and
the last one is the game's own goal (the engine's ``won``). The progress of a state is the index of
the furthest milestone whose condition holds in it, divided by the number of milestones; the
environment keeps the running maximum over the episode, so a milestone once reached stays counted.

"O" is the goal's object type, "R" its receptacle type, "L" the light of an examine task. An object
is *found* when the agent stands at the location of the receptacle holding it and that receptacle is
open or cannot be closed (this is exactly when the engine's text shows it), or when the agent holds
it.

| task type | milestones |
| --- | --- |
| put      | O found; O picked up; O in R |
| clean    | O found; O picked up; an O is clean; a clean O in R |
| heat     | O found; O picked up; an O is hot; a hot O in R |
| cool     | O found; O picked up; an O is cool; a cool O in R |
| examine  | O found; O picked up; at an L while holding O; L switched on while holding O |
| puttwo   | O found; O picked up; one O in R; a second O picked up while one is in R; two O in R |
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

Fact = tuple[str, ...]  # (predicate, argument, ...) with the engine's PDDL object names

# The predicates the milestones read; the engine process sends only these.
PREDICATES = frozenset(
    {
        "atlocation",
        "receptacleatlocation",
        "inreceptacle",
        "openable",
        "opened",
        "holds",
        "objecttype",
        "receptacletype",
        "isclean",
        "ishot",
        "iscool",
    }
)
TRANSFORMS = {"clean": "isclean", "heat": "ishot", "cool": "iscool"}
MILESTONES: dict[str, tuple[str, ...]] = {
    "put": ("O found", "O picked up", "O in R"),
    "clean": ("O found", "O picked up", "an O is clean", "a clean O in R"),
    "heat": ("O found", "O picked up", "an O is hot", "a hot O in R"),
    "cool": ("O found", "O picked up", "an O is cool", "a cool O in R"),
    "examine": ("O found", "O picked up", "at an L while holding O", "L switched on while holding O"),
    "puttwo": ("O found", "O picked up", "one O in R", "a second O picked up while one is in R", "two O in R"),
}


@dataclass(frozen=True)
class Goal:
    """What a game asks, as read from its PDDL ``:goal`` (names lower-cased, as the engine's facts are)."""

    kind: str  # one of MILESTONES (ETO's short task-type names)
    obj: str  # object type, e.g. "appletype"
    recep: str | None  # receptacle type, e.g. "garbagecantype" (None for examine)
    light: str | None = None  # the lamp type of an examine task

    @property
    def milestones(self) -> tuple[str, ...]:
        return MILESTONES[self.kind]


def parse_goal(pddl_problem: str) -> Goal:
    """Read the task type and the object/receptacle/light types from a game's PDDL problem."""
    start = pddl_problem.lower().find("(:goal")
    if start < 0:
        raise ValueError("the PDDL problem has no (:goal ...) section")
    goal = " ".join(pddl_problem[start:].lower().split())
    objects = re.findall(r"\(objecttype \?(\w+) (\w+)\)", goal)
    receptacles = {t for _, t in re.findall(r"\(receptacletype \?(\w+) (\w+)\)", goal)}
    if not objects or len(receptacles) > 1:
        raise ValueError(f"unexpected ALFWorld goal: {goal[:300]}")
    recep = next(iter(receptacles), None)
    if "(istoggled " in goal:
        lights = set(re.findall(r"\(toggleable \?(\w+)\)", goal))
        light = next(t for var, t in objects if var in lights)
        obj = next(t for var, t in objects if var not in lights)
        return Goal("examine", obj, None, light)
    if recep is None:
        raise ValueError(f"unexpected ALFWorld goal without a receptacle: {goal[:300]}")
    for kind, predicate in TRANSFORMS.items():
        if f"({predicate} " in goal:
            return Goal(kind, objects[0][1], recep)
    distinct_objects = {var for var, _ in objects}
    return Goal("puttwo" if len(distinct_objects) == 2 else "put", objects[0][1], recep)


class _World:
    """Indexes one state's facts for the milestone conditions."""

    def __init__(self, facts: Iterable[Fact]):
        self.by_predicate: dict[str, set[tuple[str, ...]]] = {}
        for fact in facts:
            self.by_predicate.setdefault(fact[0].lower(), set()).add(tuple(a.lower() for a in fact[1:]))

    def args(self, predicate: str) -> set[tuple[str, ...]]:
        return self.by_predicate.get(predicate, set())

    def of_type(self, predicate: str, type_name: str) -> set[str]:
        return {name for name, t in self.args(predicate) if t == type_name}

    def held(self) -> set[str]:
        return {obj for _, obj in self.args("holds")}

    def here(self) -> set[str]:
        """Receptacles at the agent's location."""
        locations = {loc for _, loc in self.args("atlocation")}
        return {r for r, loc in self.args("receptacleatlocation") if loc in locations}

    def visible(self) -> set[str]:
        """Objects the engine's text shows: in an open (or never-closed) receptacle where the agent is."""
        openable = {r for (r,) in self.args("openable")}
        opened = {r for (r,) in self.args("opened")}
        shown = {r for r in self.here() if r not in openable or r in opened}
        return {obj for obj, r in self.args("inreceptacle") if r in shown}

    def near(self) -> set[str]:
        """Objects in any receptacle where the agent is (the examine goal's own notion of "at the lamp")."""
        here = self.here()
        return {obj for obj, r in self.args("inreceptacle") if r in here}

    def placed(self, objects: set[str], receptacles: set[str]) -> set[str]:
        return {obj for obj, r in self.args("inreceptacle") if obj in objects and r in receptacles}


def milestone(goal: Goal, facts: Iterable[Fact], won: bool) -> int:
    """The furthest milestone (1-based; 0 = none) whose condition holds in this state."""
    count = len(goal.milestones)
    if won:
        return count
    world = _World(facts)
    targets = world.of_type("objecttype", goal.obj)
    held = world.held() & targets
    reached = 0
    if targets & (world.visible() | world.held()):
        reached = 1
    if held:
        reached = 2
    if goal.kind in TRANSFORMS:
        if targets & {o for (o,) in world.args(TRANSFORMS[goal.kind])}:
            reached = 3
    elif goal.kind == "examine":
        if held and world.of_type("objecttype", goal.light or "") & world.near():
            reached = 3
    elif goal.kind == "puttwo":
        placed = world.placed(targets, world.of_type("receptacletype", goal.recep or ""))
        if placed:
            reached = 3
        if placed and held - placed:
            reached = 4
    return reached


def progress(goal: Goal, facts: Iterable[Fact], won: bool) -> float:
    """This state's progress rate under our milestone definition, in [0, 1]."""
    return milestone(goal, facts, won) / len(goal.milestones)
