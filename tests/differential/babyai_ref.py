"""AgentBoard's BabyAI wrapper over the raw minigrid level, re-implemented from its file.

Source: hkust-nlp/AgentBoard @ bb7255e2, ``agentboard/environment/babyai_env.py`` (``postprocess_obs``:
the description, the action table and its error messages; ``find_path``; ``check_action_is_valid``,
``step``, ``update``, ``update_info``, ``update_reward``, ``match_style``, ``reset``) and
``agentboard/tasks/babyai.py`` (success is the ``done`` the environment returns). The level runs with
its own step limit, as upstream's did (only the reward's size depends on it, and AgentBoard scores with
subgoals, not with that reward). Which level and seed a row is, and how the one retired level id is
rebuilt, are facts taken from ``agentrm_bench.envs.babyai.levels``.
"""

from __future__ import annotations

import contextlib
import io
from typing import Any

import numpy as np

from .common import RefStep

VEC = [np.array((1, 0)), np.array((0, 1)), np.array((-1, 0)), np.array((0, -1))]
BLOCKING_WORDS = ("wall", "box", "lava", "ball", "key")
NOT_RECOGNIZED = "The action is not recognized. Please check valid actions."
COMPLETED = "\n The task is completed."


def _blocking(name: str) -> bool:
    return any(word in name for word in BLOCKING_WORDS)


class AgentBoardBabyAI:
    def __init__(self, subgoals: list[list[str]] | None):
        self.subgoals = subgoals
        self.built: dict[str, Any] = {}

    # ------------------------------------------------------------------ reset
    def reset(self, index: int) -> str:
        from agentrm_bench.envs.babyai import levels

        instance = levels.instance(index)
        key = instance.level.upstream_id
        if key not in self.built:
            self.built[key] = levels.build(instance.level)
        self.env = self.built[key]
        with contextlib.redirect_stdout(io.StringIO()):
            obs, _ = self.env.reset(seed=instance.seed)
        self.patterns = list(self.subgoals[index]) if self.subgoals is not None else None
        self.total = len(self.patterns) if self.patterns is not None else 0
        description, self.actions, self.errors = self.describe(obs)
        self.last_image = obs["image"]
        self.reward, self.points, self.done = 0.0, 0, False
        return description

    # ------------------------------------------------------------------ the text of a state
    def describe(self, obs: dict) -> tuple[str, dict[str, list[int]], dict[str, str]]:
        from minigrid.core.constants import IDX_TO_COLOR, IDX_TO_OBJECT

        env = self.env
        size = env.agent_view_size
        pos = env.agent_pos
        fwd, right = env.dir_vec, env.right_vec
        corner = pos + fwd * (size - 1) - right * (size // 2)
        far = corner + size * (-fwd + right)
        xs = range(far[0], corner[0] + 1) if far[0] < corner[0] else range(corner[0], far[0])
        ys = range(far[1], corner[1] + 1) if far[1] < corner[1] else range(corner[1], far[1])
        image, heading = obs["image"], obs["direction"]
        door_states = {0: "open", 1: "closed", 2: "locked"}

        things: list[dict] = []
        barriers: list[dict] = []
        for j in range(size):
            for i in range(size):
                x, y = corner - fwd * j + right * i
                dist = abs(pos[0] - x) + abs(pos[1] - y)
                if x < 0 or y < 0 or dist == 0:
                    continue
                kind = IDX_TO_OBJECT[image[i, j, 0]]
                color = IDX_TO_COLOR[image[i, j, 1]]
                if kind in ("door", "key", "ball", "box", "goal", "lava", "wall"):
                    name = f"{color} {door_states[image[i, j, 2]]} door" if kind == "door" else f"{color} {kind}"
                    things.append({"name": name, "pos": (x, y), "dist": dist})
                if kind in ("box", "wall"):
                    rel = (x - pos[0], y - pos[1])
                    if VEC[heading][0] * rel[1] - VEC[heading][1] * rel[0] == 0:  # np.cross of 2-vectors
                        barriers.append({"name": kind, "pos": (x, y), "dist": np.dot(VEC[heading], rel)})
        things.sort(key=lambda t: t["dist"])

        def where(cell: tuple) -> str:
            rel = (cell[0] - pos[0], cell[1] - pos[1])
            ahead, side = np.dot(VEC[heading], rel), np.dot(VEC[(heading + 1) % 4], rel)
            if side == 0:
                return f"right in front of you {int(ahead)} steps away. "
            if side > 0:
                return f"{int(ahead)} steps in front of you and {int(side)} steps to your right. "
            return f"{int(ahead)} steps in front of you and {int(-side)} steps to your left. "

        if things:
            text = "In front of you in this room, you can see several objects: "
            seen: dict[str, int] = {}
            for t in things:
                if "wall" in t["name"]:
                    continue
                seen[t["name"]] = seen.get(t["name"], 0) + 1
                text += f"There is a {t['name']} {seen[t['name']]} {where(t['pos'])} "
        else:
            text = "You cannot see any objects within sight."
        text += "The room has walls around you. "
        if barriers:
            barriers.sort(key=lambda b: b["dist"])
            text += f"You are facing a {barriers[0]['name']} {barriers[0]['dist']} steps away. "
        carrying = env.carrying
        text += (
            f"You are carrying a {carrying.color} {carrying.type}." if carrying is not None
            else "You are not carrying anything."
        )  # fmt: skip

        def path(goal: tuple, onto: bool) -> list[int] | None:
            return self.find_path(tuple(pos), goal, things + barriers, heading, xs, ys, onto)

        actions: dict[str, list[int]] = {"turn left": [0], "turn right": [1]}
        errors: dict[str, str] = {}
        if not barriers or barriers[0]["dist"] > 1:
            actions["move forward"] = [2]
        else:
            errors["move forward"] = "There is a barrier in front of you, you can't move forward."
        if carrying is None:
            count: dict[str, int] = {}
            for t in things:
                if any(word in t["name"] for word in ("wall", "door", "goal")):
                    continue
                steps = path(t["pos"], False)
                first = f"pickup {t['name']} 1"
                if steps is not None:
                    count[t["name"]] = 1 if first not in actions else count[t["name"]] + 1
                    actions[f"pickup {t['name']} {count[t['name']]}"] = steps + [3]
                else:
                    n = 1 if first not in actions else count[t["name"]] + 1
                    errors[f"pickup {t['name']} {n}"] = (
                        f"You cannot pickup {t['name']} {n}, as there is no path leading to it."
                    )
            errors["drop"] = "You cannot drop the object, as you are not carrying anything."
        else:
            ahead = tuple(pos + VEC[heading])
            if any(t["pos"] == ahead and _blocking(t["name"]) for t in things):
                errors["drop"] = "You cannot drop the object, as there is already an object in front of you."
            else:
                actions["drop"] = [4]
        doors: dict[str, int] = {}
        for t in things:
            name = t["name"]
            if "door" in name:
                doors[name] = doors.get(name, 0) + 1
            if "open door" in name:
                label = f"{name} {doors[name]}"
                steps = path(t["pos"], True)
                if steps is not None:
                    actions[f"go through {label}"] = steps
                else:
                    errors[f"go through {label}"] = f"You cannot go through {label}, as there is no path leading to it."
            if "closed door" in name:
                self._toggle(actions, errors, t, doors, path)
                label = f"{name} {doors[name]}"
                errors[f"go through {label}"] = (
                    f"You cannot go through {label}, as it is closed. You should toggle it first."
                )
            if "locked door" in name:
                label = f"toggle and go through {name} {doors[name]}"
                if carrying is None or carrying.type != "key":
                    errors[label] = (
                        f"You cannot toggle and go through {name} {doors[name]}, as you are not carrying a key."
                    )
                    continue
                if carrying.color != name.split(" ")[0]:
                    errors[label] = (
                        f"You cannot toggle and go through {name} {doors[name]}, as the color of the key you are "
                        "carrying does not match the color of door."
                    )
                    continue
                self._toggle(actions, errors, t, doors, path)
        for t in things:
            if "goal" in t["name"]:
                steps = path(t["pos"], True)
                if steps is not None:
                    actions["go to goal"] = steps
                else:
                    errors["go to goal"] = "You cannot go to the goal, as there is no path leading to it."
        count = {}
        for t in things:
            if "wall" in t["name"] or "goal" in t["name"]:
                continue
            steps = path(t["pos"], False)
            first = f"go to {t['name']} 1"
            n = 1 if first not in actions else count[t["name"]] + 1
            if steps is not None:
                count[t["name"]] = n
                actions[f"go to {t['name']} {n}"] = steps
            else:
                errors[f"go to {t['name']} {n}"] = (
                    f"You cannot go to {t['name']} {n}, as there is no path leading to it."
                )
        actions["check available actions"] = []
        return text, actions, errors

    @staticmethod
    def _toggle(actions: dict, errors: dict, thing: dict, doors: dict, path: Any) -> None:
        name = thing["name"]
        label = f"toggle and go through {name} {doors[name]}"
        steps = path(thing["pos"], False)
        if steps is not None:
            actions[label] = steps + [5, 2]
        else:  # upstream prints its whole counter table here
            errors[label] = f"You cannot toggle and go through {name} {doors}, as there is no path leading to it."
        if steps == []:
            actions["toggle"] = [5]

    @staticmethod
    def find_path(start: tuple, goal: tuple, things: list[dict], heading: int, xs: range, ys: range,
                  onto: bool) -> list[int] | None:  # fmt: skip
        """Breadth-first over (cell, heading); a state is marked when taken off the queue, and its recorded
        predecessor is the last one that queued it (upstream's ``graph`` dict, overwritten)."""
        queue = [(start, heading)]
        taken: set = set()
        came: dict = {}
        while queue:
            cell, d = queue.pop(0)
            taken.add((cell, d))
            reached = (cell[0] == goal[0] and cell[1] == goal[1]) if onto else (
                goal[0] - cell[0] == VEC[d][0] and goal[1] - cell[1] == VEC[d][1]
            )  # fmt: skip
            if reached:
                steps = []
                while (cell, d) != (start, heading):
                    (cell, d), action = came[(cell, d)]
                    steps.append(action)
                return steps[::-1]
            for action in (2, 0, 1):
                new_cell, new_d = cell, d
                if action == 0:
                    new_d = (d - 1) % 4
                elif action == 1:
                    new_d = (d + 1) % 4
                else:
                    new_cell = tuple(np.array(cell) + VEC[d])
                blocked = False
                for thing in things:  # upstream's checks sit inside this loop
                    if new_cell[0] not in xs or new_cell[1] not in ys or (new_cell, new_d) in taken:
                        blocked = True
                        break
                    if thing["pos"] == new_cell and _blocking(thing["name"]):
                        blocked = True
                        break
                if not blocked:
                    queue.append((new_cell, new_d))
                    came[(new_cell, new_d)] = ((cell, d), action)
        return None

    # ------------------------------------------------------------------ a step
    def _matches(self, observation: str, pattern: str) -> bool:
        pattern = pattern.strip()
        token = "**" if "**" in pattern else "*"
        pieces = [piece.strip(".") for piece in pattern.strip().split(token)]
        return any(all(piece in sentence for piece in pieces) for sentence in observation.split("."))

    def _score(self, observation: str) -> None:
        for pattern in self.patterns:
            if self._matches(observation, pattern):
                self.points += 1
                self.reward = max(self.reward, self.points / self.total)
                self.patterns.remove(pattern)
                break

    def _answer(self, text: str, simulator: bool) -> RefStep:
        return RefStep(text, self.done, self.done, self.reward if self.patterns is not None else None, simulator)

    def step(self, text: str) -> RefStep:
        action = text.lower().strip()
        if "check" in action:
            return self._answer("You can take the following actions: " + ", ".join(self.actions), False)
        if action == "":
            return self._answer("No change in state.", False)
        if action not in self.actions:
            return self._answer(self.errors.get(action, NOT_RECOGNIZED), False)
        primitives = self.actions[action]
        if not primitives:
            return self._answer("No change in state.", False)
        for primitive in primitives:
            obs, reward, done, _, _ = self.env.step(primitive)
            if (obs["image"] != self.last_image).sum() == 0:
                break
            self.last_image = obs["image"]
        self.done = done
        description, self.actions, self.errors = self.describe(obs)
        if self.done:
            description += COMPLETED
        if self.patterns is not None:
            self._score(description)
        else:
            self.reward = reward
        if self.done and self.reward <= 0.5:
            self.done = False
        if self.reward == 1 and not self.done:
            self.done = True
            description += COMPLETED
        self.last_image = obs["image"]
        return self._answer(description, True)
