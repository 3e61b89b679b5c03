"""BabyAI as text, the way AgentBoard shows it: what the agent sees, and the high-level actions it may take.

The agent of a BabyAI level sees a 7x7 square in front of it (``obs["image"]``). AgentBoard turns that
view into sentences -- every door, key, ball, box, goal and lava it can see, nearest first (Manhattan
distance; ties keep the view's far-to-near, left-to-right order), numbered per name, with its position
relative to the agent; the nearest wall or box straight ahead; what the agent carries -- and offers
high-level commands that it expands into MiniGrid's primitive actions:

====================================  ==========================================================
``turn left`` / ``turn right``        one primitive turn
``move forward``                      one step, unless a wall or box is right in front
``pickup <obj> <n>``                  walk next to a visible key / ball / box, face it, pick it up
``drop``                              put the carried object down in front
``go to <obj> <n>``                   walk next to a visible object or door and face it
``go through <color> open door <n>``  walk into the doorway of a visible open door
``toggle and go through <door> <n>``  walk to a closed door (or a locked one, carrying its key),
                                      open it, step into the doorway
``toggle``                            open the closed / locked door right in front
``go to goal``                        walk onto a visible goal square
``check available actions``           list the commands above that apply now
====================================  ==========================================================

Walks are planned by a breadth-first search over (cell, heading) inside the agent's view rectangle,
where walls, keys, balls, boxes and lava block and everything else -- doors included, and cells the
agent cannot see -- counts as free. A walk may therefore stop early (at a closed door, at a wall it
could not see); the expansion stops at the first primitive that leaves the view unchanged, as
AgentBoard's does. The search reproduces AgentBoard's own queue discipline (states are marked when
taken off the queue, and a state's recorded predecessor is the last one that queued it), because that
decides which of several equally short walks is taken, and so where a walk that is cut short ends.

An object is only offered when a walk to it exists, and the numbers in the commands count only the
objects a walk reaches (as in AgentBoard), so they can differ from the numbers in the description when
an object of the same name is out of reach. Feedback texts are AgentBoard's word for word, including
its slip for a closed or locked door out of reach for "toggle and go through": the door is named with
AgentBoard's counter table of the doors seen so far ("... red closed door {'red closed door': 1}, as
there is no path leading to it.").

A command is read as AgentBoard reads it: lower-cased and stripped, nothing else. In particular "pick
up <obj> <n>" -- the spelling of AgentBoard's (and AgentRM's) prompt -- is not a command of its action
table ("pickup"), so it is answered "The action is not recognized. Please check valid actions.", as
upstream answered it.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np

LEFT, RIGHT, FORWARD, PICKUP, DROP, TOGGLE = 0, 1, 2, 3, 4, 5
HEADINGS = ((1, 0), (0, 1), (-1, 0), (0, -1))  # minigrid's agent_dir 0..3: east, south, west, north

_KINDS = {2: "wall", 4: "door", 5: "key", 6: "ball", 7: "box", 8: "goal", 9: "lava"}
_NAMED_KIND = re.compile(b"[" + b"".join(re.escape(bytes([kind])) for kind in _KINDS) + b"]")  # a byte it names
_COLORS = ("red", "green", "blue", "purple", "yellow", "grey")
_DOOR_STATES = ("open", "closed", "locked")
_BLOCKING = frozenset({"wall", "box", "lava", "ball", "key"})
_CARRYABLE = frozenset({"key", "ball", "box", "lava"})  # what AgentBoard offers to pick up

CHECK = "check available actions"
NOT_RECOGNIZED = "The action is not recognized. Please check valid actions."
NO_CHANGE = "No change in state."
TASK_COMPLETED = "\n The task is completed."


class Seen(NamedTuple):
    """One thing in the agent's view (a named tuple: a render makes a dozen, mostly walls)."""

    kind: str  # minigrid object type
    color: str
    name: str  # "red ball", "green locked door", "grey wall"
    pos: tuple[int, int]  # absolute grid position
    distance: int  # Manhattan distance to the agent


@dataclass
class Scene:
    """What the agent is told about one state, and the commands it can give there.

    ``commands`` maps each admissible command (in AgentBoard's listing order) to its primitive
    actions; ``refusals`` maps commands that are understood but impossible here to the reason given.
    """

    text: str
    commands: dict[str, tuple[int, ...]] = field(default_factory=dict)
    refusals: dict[str, str] = field(default_factory=dict)
    targets: dict[str, tuple[int, int]] = field(default_factory=dict)  # command -> the cell it aims at

    def listing(self) -> str:
        return "You can take the following actions: " + ", ".join(self.commands)


def normalize_command(action: str) -> str:
    """As AgentBoard's ``step`` reads a command: lower-cased and stripped (inner spacing must match)."""
    return action.lower().strip()


def render(env: Any, image: np.ndarray) -> Scene:
    """Describe the state of the (unwrapped) minigrid ``env`` whose agent view is ``image``."""
    pos = (int(env.agent_pos[0]), int(env.agent_pos[1]))
    heading = int(env.agent_dir)
    view = _View(pos, heading, int(env.agent_view_size))
    seen, walls, barriers = view.read(image)
    carrying = env.carrying

    if seen or walls:  # AgentBoard's list counts walls, though it names none of them
        parts = ["In front of you in this room, you can see several objects: "]
        counts: dict[str, int] = {}
        for thing in seen:
            counts[thing.name] = counts.get(thing.name, 0) + 1
            parts.append(f"There is a {thing.name} {counts[thing.name]} {view.where(thing.pos)}  ")
        text = "".join(parts)
    else:
        text = "You cannot see any objects within sight."
    text += "The room has walls around you. "
    if barriers:
        kind, distance = barriers[0]
        text += f"You are facing a {kind} {distance} steps away. "
    if carrying is not None:
        text += f"You are carrying a {carrying.color} {carrying.type}."
    else:
        text += "You are not carrying anything."

    scene = Scene(text)
    _fill_commands(scene, view, seen, walls, barriers, carrying)
    return scene


class _View:
    """Geometry of the agent's 7x7 view: absolute cells, relative positions, and the search rectangle."""

    def __init__(self, pos: tuple[int, int], heading: int, size: int):
        self.pos, self.heading, self.size = pos, heading, size
        self.fwd = HEADINGS[heading]
        self.right = HEADINGS[(heading + 1) % 4]
        fx, fy = self.fwd
        rx, ry = self.right
        self.top = (pos[0] + fx * (size - 1) - rx * (size // 2), pos[1] + fy * (size - 1) - ry * (size // 2))
        # The rectangle walks are planned in. AgentBoard derives it from the view's far corner and
        # the opposite corner one step beyond the view, which for some headings adds a row or column
        # behind or beside the view; the same rule is kept so that the same walks exist.
        self.xs = self._span(self.top[0], self.top[0] + size * (rx - fx))
        self.ys = self._span(self.top[1], self.top[1] + size * (ry - fy))

    @staticmethod
    def _span(corner: int, border: int) -> range:
        return range(border, corner + 1) if border < corner else range(corner, border)

    def cell(self, i: int, j: int) -> tuple[int, int]:
        """Absolute position of view cell (i, j): column i from the left, row j from the far edge."""
        return (
            self.top[0] - self.fwd[0] * j + self.right[0] * i,
            self.top[1] - self.fwd[1] * j + self.right[1] * i,
        )

    def relative(self, cell: tuple[int, int]) -> tuple[int, int]:
        """(steps ahead, steps to the right) of ``cell``."""
        dx, dy = cell[0] - self.pos[0], cell[1] - self.pos[1]
        return dx * self.fwd[0] + dy * self.fwd[1], dx * self.right[0] + dy * self.right[1]

    def where(self, cell: tuple[int, int]) -> str:
        ahead, right = self.relative(cell)
        if right == 0:
            return f"right in front of you {ahead} steps away."
        side = "right" if right > 0 else "left"
        return f"{ahead} steps in front of you and {abs(right)} steps to your {side}."

    def read(self, image: np.ndarray) -> tuple[list[Seen], list[tuple[int, int]], list[tuple[str, int]]]:
        """The things in view but walls, nearest first; the walls' cells; the walls and boxes straight
        ahead (nearest first). Walls are most of what is in view, and only their cells matter."""
        seen: list[Seen] = []
        walls: list[tuple[int, int]] = []
        barriers: list[tuple[str, int]] = []
        # The view row by row (j, then i) as bytes, and the cells holding something _KINDS names found
        # by a regular expression: most cells are empty floor or unseen, and a Python loop over all 49
        # cost as much as the rest of the render.
        rows = np.ascontiguousarray(image.transpose(1, 0, 2), dtype=np.uint8).tobytes()
        (px, py), (tx, ty), (fx, fy), (rx, ry) = self.pos, self.top, self.fwd, self.right
        middle = self.size // 2
        for found in _NAMED_KIND.finditer(rows[0::3]):
            j, i = divmod(found.start(), self.size)
            at = 3 * found.start()
            kind, color_idx, state_idx = _KINDS[rows[at]], rows[at + 1], rows[at + 2]
            x, y = tx - fx * j + rx * i, ty - fy * j + ry * i  # self.cell(i, j)
            if x < 0 or y < 0 or (x == px and y == py):  # the agent's own cell shows what it carries
                continue
            if (kind == "wall" or kind == "box") and i == middle:  # straight ahead: self.relative(x, y)
                barriers.append((kind, self.size - 1 - j))  # is (size - 1 - j, i - size // 2)
            if kind == "wall":
                walls.append((x, y))
                continue
            color = _COLORS[color_idx]
            name = f"{color} {_DOOR_STATES[state_idx]} door" if kind == "door" else f"{color} {kind}"
            seen.append(Seen(kind, color, name, (x, y), abs(x - px) + abs(y - py)))
        seen.sort(key=lambda thing: thing.distance)  # stable: ties stay far-to-near, left-to-right
        barriers.sort(key=lambda barrier: barrier[1])
        return seen, walls, barriers


def _fill_commands(
    scene: Scene,
    view: _View,
    seen: list[Seen],
    walls: list[tuple[int, int]],
    barriers: list[tuple[str, int]],
    carrying: Any,
) -> None:
    """AgentBoard's action table for this view, in its order, with its refusal messages."""
    commands, refusals, targets = scene.commands, scene.refusals, scene.targets
    blocked = frozenset(walls).union(thing.pos for thing in seen if thing.kind in _BLOCKING)
    # Every walk the table below may ask for, planned in one search: "go to" (next to) anything but walls
    # and the goal, which with doors and the goal is also what "pickup" and "toggle" need; onto open
    # doors and the goal for "go through" and "go to goal".
    wanted = {(thing.pos, False) for thing in seen if thing.kind != "goal"}
    wanted |= {(thing.pos, True) for thing in seen if thing.kind == "goal" or thing.name.endswith(" open door")}
    walks = plan_walks(view.pos, view.heading, wanted, blocked, view.xs, view.ys)

    def walk(target: tuple[int, int], onto: bool) -> list[int] | None:
        if (target, onto) not in wanted:  # not foreseen above: plan it on its own
            return plan_walk(view.pos, view.heading, target, blocked, view.xs, view.ys, onto)
        return walks.get((target, onto))

    def numbered(prefix: str, things: list[Seen], ending: tuple[int, ...], refusal: str) -> None:
        """Commands "<prefix> <name> <n>", numbered over the reachable things of each name."""
        counts: dict[str, int] = {}
        for thing in things:
            path = walk(thing.pos, onto=False)
            label = f"{prefix} {thing.name} {counts.get(thing.name, 0) + 1}"
            if path is None:
                refusals.setdefault(label, refusal.format(label=label[len(prefix) + 1 :]))
                continue
            counts[thing.name] = counts.get(thing.name, 0) + 1
            commands[label] = (*path, *ending)
            targets[label] = thing.pos

    commands["turn left"] = (LEFT,)
    commands["turn right"] = (RIGHT,)
    if not barriers or barriers[0][1] > 1:
        commands["move forward"] = (FORWARD,)
    else:
        refusals["move forward"] = "There is a barrier in front of you, you can't move forward."

    if carrying is None:
        items = [thing for thing in seen if thing.kind in _CARRYABLE]
        numbered("pickup", items, (PICKUP,), "You cannot pickup {label}, as there is no path leading to it.")
        refusals["drop"] = "You cannot drop the object, as you are not carrying anything."
    else:
        front = (view.pos[0] + view.fwd[0], view.pos[1] + view.fwd[1])
        if front in blocked:
            refusals["drop"] = "You cannot drop the object, as there is already an object in front of you."
        else:
            commands["drop"] = (DROP,)
            targets["drop"] = front

    door_counts: dict[str, int] = {}
    for thing in seen:
        if thing.kind != "door":
            continue
        door_counts[thing.name] = door_counts.get(thing.name, 0) + 1
        label = f"{thing.name} {door_counts[thing.name]}"
        state = thing.name.split()[1]
        if state == "open":
            path = walk(thing.pos, onto=True)
            if path is None:
                refusals[f"go through {label}"] = f"You cannot go through {label}, as there is no path leading to it."
            else:
                commands[f"go through {label}"] = tuple(path)
                targets[f"go through {label}"] = thing.pos
            continue
        if state == "locked":
            if carrying is None or carrying.type != "key":
                refusals[f"toggle and go through {label}"] = (
                    f"You cannot toggle and go through {label}, as you are not carrying a key."
                )
                continue
            if carrying.color != thing.color:
                refusals[f"toggle and go through {label}"] = (
                    f"You cannot toggle and go through {label}, as the color of the key you are carrying "
                    "does not match the color of door."
                )
                continue
        path = walk(thing.pos, onto=False)
        if path is None:  # AgentBoard names the door by its counter table here, not by its number
            refusals[f"toggle and go through {label}"] = (
                f"You cannot toggle and go through {thing.name} {door_counts}, as there is no path leading to it."
            )
        else:
            commands[f"toggle and go through {label}"] = (*path, TOGGLE, FORWARD)
            targets[f"toggle and go through {label}"] = thing.pos
            if not path:
                commands["toggle"] = (TOGGLE,)
                targets["toggle"] = thing.pos
        if state == "closed":
            refusals[f"go through {label}"] = (
                f"You cannot go through {label}, as it is closed. You should toggle it first."
            )

    for thing in seen:
        if thing.kind == "goal":
            path = walk(thing.pos, onto=True)
            if path is None:
                refusals["go to goal"] = "You cannot go to the goal, as there is no path leading to it."
            else:
                commands["go to goal"] = tuple(path)
                targets["go to goal"] = thing.pos

    destinations = [thing for thing in seen if thing.kind != "goal"]
    numbered("go to", destinations, (), "You cannot go to {label}, as there is no path leading to it.")
    commands[CHECK] = ()


def plan_walk(
    start: tuple[int, int],
    heading: int,
    target: tuple[int, int],
    blocked: frozenset[tuple[int, int]],
    xs: range,
    ys: range,
    onto: bool,
) -> list[int] | None:
    """Primitive turns and steps that bring the agent onto ``target`` (``onto``) or next to it, facing it.

    Breadth-first over (cell, heading), trying forward, left, right in that order. A state is marked
    done when it is taken off the queue, not when it is queued, so a state may be queued several times
    and its predecessor is the last state that queued it; this is AgentBoard's discipline, kept because
    it decides which of several equally short (or, rarely, a longer) walk is returned.
    """
    return plan_walks(start, heading, {(target, onto)}, blocked, xs, ys).get((target, onto))


Walk = tuple[tuple[int, int], bool]  # (target cell, onto it rather than next to it)


def plan_walks(
    start: tuple[int, int],
    heading: int,
    wanted: set[Walk],
    blocked: frozenset[tuple[int, int]],
    xs: range,
    ys: range,
) -> dict[Walk, list[int]]:
    """:func:`plan_walk` for several walks from one state, in one search; unreachable ones are left out.

    The search's course does not depend on its target (the target only decides when it stops), so
    one search serves every walk: each is read off when the state that would have ended its own search
    is taken off the queue, before later states overwrite predecessors. A render asks for 3-4 walks,
    most of which would each have searched the whole view.
    """
    # States are numbered (cell of the rectangle, heading) -> cell * 4 + heading, with flat arrays for
    # "done" and the predecessors: the same search as with tuples and dicts, at a third of the cost.
    # The agent's own cell is always inside the rectangle (it is in the view).
    assert xs.step == ys.step == 1, (xs, ys)
    x0, y0, width, height = xs.start, ys.start, len(xs), len(ys)
    forward, left, right = _moves(width, height)
    free = bytearray(b"\x01") * (width * height)
    for x, y in blocked:
        if 0 <= x - x0 < width and 0 <= y - y0 < height:
            free[(x - x0) * height + y - y0] = 0
    # The states whose taking off the queue ends a wanted walk: onto the target, or next to it facing it.
    ends: dict[int, list[Walk]] = {}
    for walk in wanted:
        (x, y), onto = walk
        for d, (fx, fy) in enumerate(HEADINGS):
            cx, cy = (x - x0, y - y0) if onto else (x - fx - x0, y - fy - y0)
            if 0 <= cx < width and 0 <= cy < height:
                ends.setdefault((cx * height + cy) * 4 + d, []).append(walk)
    x, y = start
    assert 0 <= x - x0 < width and 0 <= y - y0 < height, (start, xs, ys)
    origin = ((x - x0) * height + y - y0) * 4 + heading
    done = bytearray(len(forward))
    came_from = [0] * len(forward)  # predecessor * 8 + the action from it (the last state to queue it)
    queue = deque([origin])
    pending = set(wanted)
    walks: dict[Walk, list[int]] = {}
    while queue and pending:
        state = queue.popleft()
        done[state] = 1
        if state in ends:
            for walk in ends[state]:
                if walk in pending:
                    pending.remove(walk)
                    path, step = [], state
                    while step != origin:
                        step, action = divmod(came_from[step], 8)
                        path.append(action)
                    walks[walk] = path[::-1]
        nxt = forward[state]
        if nxt >= 0 and not done[nxt] and free[nxt >> 2]:
            queue.append(nxt)
            came_from[nxt] = state * 8 + FORWARD
        if free[state >> 2]:
            nxt = left[state]
            if not done[nxt]:
                queue.append(nxt)
                came_from[nxt] = state * 8 + LEFT
            nxt = right[state]
            if not done[nxt]:
                queue.append(nxt)
                came_from[nxt] = state * 8 + RIGHT
    return walks


@lru_cache(maxsize=16)
def _moves(width: int, height: int) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """For each state of a width x height rectangle: the state a step forward leads to (-1 when it
    leaves the rectangle), and the states a left and a right turn lead to."""
    forward, left, right = [], [], []
    for cell in range(width * height):
        x, y = divmod(cell, height)
        for d, (fx, fy) in enumerate(HEADINGS):
            inside = 0 <= x + fx < width and 0 <= y + fy < height
            forward.append(((x + fx) * height + y + fy) * 4 + d if inside else -1)
            left.append(cell * 4 + (d - 1) % 4)
            right.append(cell * 4 + (d + 1) % 4)
    return tuple(forward), tuple(left), tuple(right)
