"""The BabyAI expert: solves an instance through the same text commands an agent has.

Two steps. First a *guide* finds what has to happen in the level, as a list of milestones -- the
world changes on the way to success (a key picked up, a door opened, an object dropped, a part of a
sequence done) and the cell the agent faces when each happens:

* a breadth-first search over the level's own state (copies of the minigrid level, knowing the whole
  grid), where each edge walks to an object and picks it up, opens a door, drops what is carried or,
  for "go to" missions, just faces an object. Only moves that can matter are tried (what the mission
  names, keys that fit a locked door, objects and doors that stand between the agent and somewhere
  new), which keeps the search to a few thousand states on the largest levels. It finds a guide for
  all 112 rows from their first state.
* minigrid's ``BabyAIBot`` as a second opinion when the search runs out of budget (it explores
  instead of knowing the grid, so its guides open more doors, and it loops on UnlockToUnlock when a
  key lies behind another locked door, as on row 100).

Then the milestones are *realized* as text: for each one, a best-first search over the commands the
environment offers in each state (simulated on copies of the level), ordered by the walking distance
to the milestone's cell, until the world reaches that milestone. Commands that would change the world
in any other way are not taken. The result is a command list; the expert hands it out one command
at a time and plans again whenever the state is not the one it expected (someone else acted).

Some states have no way forward in AgentBoard's command set -- e.g. a policy opened the second door
of an ordered pair first: the level wants it opened again later, and no command closes a door. There
the expert answers "check available actions", which changes nothing.
"""

from __future__ import annotations

import copy
import heapq
from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

from .levels import run_primitives
from .text import CHECK, DROP, FORWARD, HEADINGS, LEFT, PICKUP, RIGHT, TOGGLE, Scene, render

_FAR = 10**6


@dataclass(frozen=True)
class Milestone:
    """A world state the guide passes through (``None``: the level's success) and the cell then faced."""

    world: tuple | None
    cell: tuple[int, int]


@dataclass
class _Node:
    level: Any
    image: np.ndarray
    scene: Scene
    status: str = "running"


# ----------------------------------------------------------------------------------- level helpers
def clone_level(level: Any) -> Any:
    """A deep copy of a minigrid level that shares what stepping never changes.

    Walls, the spaces, the random generator (used only to generate a level) and the room layout
    (read, never written, once the level exists) are shared; the grid's other objects, what is carried
    and the mission's checker -- which refers to the objects by identity -- are copied together.
    """
    memo: dict[int, Any] = {
        id(level.observation_space): level.observation_space,
        id(level.action_space): level.action_space,
        id(level.room_grid): level.room_grid,
        id(level._np_random): level._np_random,
    }
    for cell in level.grid.grid:
        if cell is not None and cell.type == "wall":
            memo[id(cell)] = cell
    return copy.deepcopy(level, memo)


def _instruction_progress(instr: Any) -> tuple:
    if hasattr(instr, "instr_a"):
        return (
            getattr(instr, "a_done", None),
            getattr(instr, "b_done", None),
            _instruction_progress(instr.instr_a),
            _instruction_progress(instr.instr_b),
        )
    return ()


def world_key(level: Any) -> tuple:
    """Everything but the agent's pose: objects and door states, what is carried, the mission's progress."""
    objects = tuple(
        (i, cell.type, cell.color, getattr(cell, "is_open", False), getattr(cell, "is_locked", False))
        for i, cell in enumerate(level.grid.grid)
        if cell is not None and cell.type != "wall"
    )
    carrying = (level.carrying.type, level.carrying.color) if level.carrying is not None else None
    return objects, carrying, _instruction_progress(level.instrs)


def pose_key(level: Any) -> tuple[int, int, int]:
    return int(level.agent_pos[0]), int(level.agent_pos[1]), int(level.agent_dir)


def state_key(level: Any) -> tuple:
    return pose_key(level), world_key(level)


def front_cell(level: Any) -> tuple[int, int]:
    x, y, d = pose_key(level)
    return x + HEADINGS[d][0], y + HEADINGS[d][1]


def _passable(level: Any, cell: tuple[int, int]) -> bool:
    if not (0 <= cell[0] < level.width and 0 <= cell[1] < level.height):
        return False
    thing = level.grid.get(*cell)
    return thing is None or thing.can_overlap()


def _mission_objects(instr: Any, found: dict[str, set[int]] | None = None) -> dict[str, set[int]]:
    """Ids of the objects the mission names, per kind of instruction ("GoToInstr", "PickupInstr", ...)."""
    found = {} if found is None else found
    if hasattr(instr, "instr_a"):
        _mission_objects(instr.instr_a, found)
        _mission_objects(instr.instr_b, found)
    elif hasattr(instr, "desc"):
        found.setdefault(type(instr).__name__, set()).update(id(obj) for obj in instr.desc.obj_set)
    return found


# ----------------------------------------------------------------------------------- guides
def bot_milestones(level: Any, max_steps: int = 600, max_searches: int = 4000) -> list[Milestone] | None:
    """Milestones of minigrid's BabyAIBot solving a copy of ``level``; None when it does not succeed."""
    from minigrid.utils.baby_ai_bot import BabyAIBot

    sim = clone_level(level)
    bot = BabyAIBot(sim)
    search = bot._breadth_first_search
    calls = [0]

    def guarded(*args: Any, **kwargs: Any) -> Any:  # the bot can re-plan forever inside one call
        calls[0] += 1
        if calls[0] > max_searches:
            raise RecursionError("BabyAIBot keeps re-planning")
        return search(*args, **kwargs)

    bot._breadth_first_search = guarded
    milestones: list[Milestone] = []
    previous = world_key(sim)
    for _ in range(max_steps):
        try:
            action = bot.replan()
        except Exception:  # the bot asserts, loops or meets a case it does not handle
            return None
        if action == sim.actions.done:
            return None
        _, reward, terminated, _, _ = sim.step(action)
        if terminated and reward > 0:
            milestones.append(Milestone(None, front_cell(sim)))
            return milestones
        now = world_key(sim)
        if now != previous:
            milestones.append(Milestone(now, front_cell(sim)))
            previous = now
    return None


def _walks(level: Any) -> dict[tuple[int, int, int], tuple[tuple[int, int, int], int] | None]:
    """Every pose the agent can walk to (knowing the grid), with the step that first reached it."""
    start = pose_key(level)
    came: dict[tuple[int, int, int], tuple[tuple[int, int, int], int] | None] = {start: None}
    queue = deque([start])
    while queue:
        x, y, d = pose = queue.popleft()
        fx, fy = HEADINGS[d]
        for action, nxt in (
            (FORWARD, (x + fx, y + fy, d)),
            (LEFT, (x, y, (d - 1) % 4)),
            (RIGHT, (x, y, (d + 1) % 4)),
        ):
            if nxt in came or (action == FORWARD and not _passable(level, (nxt[0], nxt[1]))):
                continue
            came[nxt] = (pose, action)
            queue.append(nxt)
    return came


def _path(came: dict, pose: tuple[int, int, int]) -> list[int]:
    steps = []
    while came[pose] is not None:
        pose, action = came[pose]
        steps.append(action)
    return steps[::-1]


def _opens_up(level: Any, cell: tuple[int, int], region: set[tuple[int, int]]) -> bool:
    """Whether ``cell`` (an object or door) stands between the agent's region and somewhere else."""
    for dx, dy in HEADINGS:
        beyond = (cell[0] + dx, cell[1] + dy)
        if beyond in region or not (0 <= beyond[0] < level.width and 0 <= beyond[1] < level.height):
            continue
        thing = level.grid.get(*beyond)
        if thing is None or thing.type != "wall":
            return True
    return False


def _edges(level: Any) -> list[tuple[list[int], tuple[int, int]]]:
    """The walk-then-act moves worth trying from this state: (primitives, cell acted on), nearest first.

    Picked up: what the mission names, keys that fit a locked door, and objects that block the way
    somewhere. Opened: doors the mission names, and doors to somewhere not yet reachable (locked ones
    with their key in hand). Faced: the objects of "go to" instructions. Dropped: what is carried, on
    the nearest free cell and on the nearest one that is not beside a door.
    """
    came = _walks(level)
    region = {(x, y) for x, y, _ in came}
    targets = _mission_objects(level.instrs)
    carrying = level.carrying
    locked_colors = {
        cell.color for cell in level.grid.grid if cell is not None and cell.type == "door" and cell.is_locked
    }
    edges: list[tuple[list[int], tuple[int, int]]] = []
    drops: list[tuple[list[int], tuple[int, int]]] = []
    faced: set[tuple[int, int]] = set()
    for pose in came:  # breadth-first order: nearest first
        cell = (pose[0] + HEADINGS[pose[2]][0], pose[1] + HEADINGS[pose[2]][1])
        if cell in faced or not (0 <= cell[0] < level.width and 0 <= cell[1] < level.height):
            continue
        faced.add(cell)
        thing = level.grid.get(*cell)
        if thing is None:
            if carrying is not None and len(drops) < 2:
                near_door = any(
                    (n := level.grid.get(cell[0] + dx, cell[1] + dy)) is not None and n.type == "door"
                    for dx, dy in HEADINGS
                )
                if not drops or not near_door:
                    drops.append((_path(came, pose) + [DROP], cell))
            continue
        if thing.type == "wall":
            continue
        walk = _path(came, pose)
        if thing.type in ("key", "ball", "box") and carrying is None:
            wanted = id(thing) in targets.get("PickupInstr", ()) or (
                thing.type == "key" and thing.color in locked_colors
            )
            if wanted or _opens_up(level, cell, region):
                edges.append((walk + [PICKUP], cell))
        elif thing.type == "door" and not thing.is_open:
            fits = not thing.is_locked or (
                carrying is not None and carrying.type == "key" and carrying.color == thing.color
            )
            if fits and (id(thing) in targets.get("OpenInstr", ()) or _opens_up(level, cell, region)):
                edges.append((walk + [TOGGLE], cell))
        if id(thing) in targets.get("GoToInstr", ()):
            edges.append((walk, cell))
    return edges + drops


def search_milestones(level: Any, max_nodes: int = 3000) -> list[Milestone] | None:
    """Breadth-first search over the level's own state, one walk-and-act move per edge.

    States that differ only in where the agent stands inside the same reachable area count as one.
    """
    start = clone_level(level)
    frontier: deque[tuple[Any, list[Milestone]]] = deque([(start, [])])
    seen = {(world_key(start), min((x, y) for x, y, _ in _walks(start)))}
    expanded = 0
    while frontier and expanded < max_nodes:
        node, milestones = frontier.popleft()
        expanded += 1
        for primitives, cell in _edges(node):
            child = clone_level(node)
            succeeded = False
            for primitive in primitives:
                _, reward, terminated, _, _ = child.step(primitive)
                if terminated and reward > 0:
                    succeeded = True
                    break
            if succeeded:
                return [*milestones, Milestone(None, cell)]
            world = world_key(child)
            key = (world, min((x, y) for x, y, _ in _walks(child)))
            if key in seen:
                continue
            seen.add(key)
            frontier.append((child, [*milestones, Milestone(world, cell)]))
    return None


# ----------------------------------------------------------------------------------- realization
def _distance_to_face(level: Any, cell: tuple[int, int]) -> dict[tuple[int, int, int], int]:
    """Primitive steps from each pose to one facing ``cell`` (walking through passable cells only)."""
    dist: dict[tuple[int, int, int], int] = {}
    queue: deque[tuple[int, int, int]] = deque()
    for d, (fx, fy) in enumerate(HEADINGS):
        pose = (cell[0] - fx, cell[1] - fy, d)
        if _passable(level, (pose[0], pose[1])):
            dist[pose] = 0
            queue.append(pose)
    while queue:
        x, y, d = pose = queue.popleft()
        fx, fy = HEADINGS[d]
        previous = [(x, y, (d + 1) % 4), (x, y, (d - 1) % 4)]  # turned left / right into this pose
        if _passable(level, (x - fx, y - fy)):
            previous.append((x - fx, y - fy, d))  # stepped forward into it
        for before in previous:
            if before not in dist:
                dist[before] = dist[pose] + 1
                queue.append(before)
    return dist


def _acts(command: str) -> bool:
    return command.startswith(("pickup", "toggle", "drop"))


def _apply(node: _Node, command: str) -> _Node:
    level = clone_level(node.level)
    image, status = run_primitives(level, node.image, node.scene.commands[command])
    return _Node(level, image, render(level, image), status)


def _segment(start: _Node, milestones: list[Milestone], k: int, limit: int):
    """Best-first search from ``start`` to the world of ``milestones[k]`` (or a later one, or success)."""
    here = world_key(start.level)
    later = {m.world: i for i, m in enumerate(milestones) if i >= k and m.world is not None and m.world != here}
    target = milestones[k].cell
    dist = _distance_to_face(start.level, target)
    heap = [(dist.get(pose_key(start.level), _FAR), 0, 0, start, ())]
    seen = {pose_key(start.level)}
    tick = 0
    while heap and limit > 0:
        _, depth, _, node, path = heapq.heappop(heap)
        limit -= 1
        for command in node.scene.commands:
            if command == CHECK or (_acts(command) and node.scene.targets.get(command) != target):
                continue
            child = _apply(node, command)
            steps = (*path, (command, state_key(node.level)))
            if child.status == "success":
                return steps, child, len(milestones)
            world = world_key(child.level)
            if world in later:
                return steps, child, later[world] + 1
            pose = pose_key(child.level)
            if world != here or pose in seen:
                continue
            seen.add(pose)
            tick += 1
            heapq.heappush(heap, (dist.get(pose, _FAR), depth + 1, tick, child, steps))
    return None


def realize(start: _Node, milestones: list[Milestone], limit: int = 400) -> list[tuple[str, tuple]] | None:
    """Text commands (each with the state it is given in) that take ``start`` through the milestones."""
    steps: list[tuple[str, tuple]] = []
    node, k = start, 0
    while k < len(milestones):
        found = _segment(node, milestones, k, limit)
        if found is None:
            return None
        segment, node, k = found
        steps.extend(segment)
        if node.status == "success":
            return steps
    return None


# ----------------------------------------------------------------------------------- the expert
class BabyAIExpert:
    """Hands out a realized plan command by command; plans again when the state is not the expected one."""

    def __init__(self) -> None:
        self._steps: list[tuple[str, tuple]] = []
        self._stuck: tuple | None = None  # the last state no plan was found from

    def forget(self) -> None:
        self._steps = []
        self._stuck = None

    def remaining(self) -> list[tuple[str, tuple]]:
        """The rest of the current plan (for snapshots)."""
        return list(self._steps)

    def resume(self, steps: list[tuple[str, tuple]]) -> None:
        self._steps = list(steps)

    def next_action(self, env: Any) -> str:
        if env.success:
            return CHECK
        current = state_key(env.level)
        if (not self._steps or self._steps[0][1] != current) and current != self._stuck:
            self._steps = plan(env.level, env.image, env.scene, env.max_turns - env.turns) or []
        if not self._steps or self._steps[0][1] != current:
            # No plan from here: e.g. a policy left a door open that the mission still needs opened,
            # and no command closes a door. "check available actions" changes nothing.
            self._stuck = current
            return CHECK
        return self._steps.pop(0)[0]


def plan(level: Any, image: np.ndarray, scene: Scene, turns_left: int) -> list[tuple[str, tuple]] | None:
    """The shortest realized plan from this state among the guides tried (search first, then the bot)."""
    start = _Node(clone_level(level), image, scene)
    best = None
    for guide in (search_milestones, bot_milestones):
        milestones = guide(level)
        steps = realize(start, milestones) if milestones else None
        if steps is not None and (best is None or len(steps) < len(best)):
            best = steps
        if best is not None and len(best) <= turns_left:
            break
    return best
