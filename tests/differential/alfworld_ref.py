"""ALFWorld's two upstream wrappers over the raw TextWorld engine, re-implemented from their files.

The engine is built as alfworld's ``AlfredTWEnv.init_env`` builds it for evaluation: TextWorld with
alfworld's ``AlfredDemangler`` (no shuffling) and ``AlfredInfos``, asking for ``won`` and the admissible
commands (``textworld.start`` here instead of the gym batch layer, which only picks the game).

AgentBoard (split ``test``): ``agentboard/tasks/alfworld.py`` (``parseAction``, the loop that calls
``get_action_space`` before each step) and ``agentboard/environment/alfworld/alfworld_env.py``
(``reset``, ``step``, ``_process_ob``). ETO (``test-eto``): ``eval_agent/envs/alfworld_env.py``
(``conduct_action``, ``process_ob``) and ``eval_agent/tasks/alfworld.py`` (the first observation).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .common import RefStep


def _start(path: Path) -> Any:
    import textworld
    from alfworld.agents.environment.alfred_tw_env import AlfredDemangler, AlfredInfos

    infos = textworld.EnvInfos(won=True, admissible_commands=True, extras=["gamefile"])
    return textworld.start(str(path), infos, wrappers=[AlfredDemangler(shuffle=False), AlfredInfos])


def _drop_arrival(ob: str) -> str:
    return ob[ob.find(". ") + 2 :] if ob.startswith("You arrive at loc ") else ob


class _Engine:
    """One TextWorld environment per game file, kept while the same game is replayed."""

    def __init__(self, game_file: Any):
        self._game_file = game_file
        self._path: Path | None = None
        self._env: Any = None

    def reset(self, index: int) -> dict:
        path = self._game_file(index)
        if path != self._path:
            if self._env is not None:
                self._env.close()
            self._env, self._path = _start(path), path
        return self._env.reset()

    def step(self, command: str) -> tuple[dict, bool]:
        state, _, done = self._env.step(command)
        return state, bool(done)

    def close(self) -> None:
        if self._env is not None:
            self._env.close()
            self._env = self._path = None


class AgentBoardALFWorld:
    def __init__(self, game_file: Any):
        self.engine = _Engine(game_file)

    def reset(self, index: int) -> str:
        state = self.engine.reset(index)
        ob = state["feedback"]
        self.valid_actions = list(state["admissible_commands"])
        self.init_obs = ("\n".join(ob.split("\n\n")[1:])).split("\n")[0]
        self.env_ob = self.init_obs
        self.isdone = False
        return "\n".join(ob.split("\n\n")[1:])  # what the task hands on (its first line, then its goal line)

    def step(self, text: str) -> RefStep:
        # The task's parseAction.
        action = text.strip()
        if "put" in action:
            if " in " in action:
                action = action.replace(" in ", " in/on ")
            elif " on " in action:
                action = action.replace(" on ", " in/on ")
        if action.endswith("."):
            action = action[:-1].strip()
        # The task asks get_action_space() before every step: it appends to the environment's list.
        if "look" not in self.valid_actions:
            self.valid_actions.append("look")
        if "check valid actions" not in self.valid_actions:
            self.valid_actions.append("check valid actions")
        # The environment's step.
        if action.endswith("."):
            action = action[:-1]
        done, simulator, state = self.isdone, True, None
        if action == "look":
            state, done = self.engine.step(action)
            observation = self.env_ob
        elif action == "check valid actions":
            observation = "Choose an action from these valid actions: " + ", ".join(self.valid_actions)
            simulator = False
        else:
            state, done = self.engine.step(action)
            observation = state["feedback"]
        if ("go to" in action or "open" in action) and "Nothing happens" not in observation:
            self.env_ob = observation
        if state is not None:
            self.valid_actions = list(state["admissible_commands"])
        self.isdone = done
        return RefStep(_drop_arrival(observation), done, done, None, simulator)

    def close(self) -> None:
        self.engine.close()


class ETOALFWorld:
    def __init__(self, game_file: Any):
        self.engine = _Engine(game_file)

    def reset(self, index: int) -> str:
        state = self.engine.reset(index)
        return "\n".join(state["feedback"].split("\n\n")[1:])

    def step(self, text: str) -> RefStep:
        state, done = self.engine.step(text)
        return RefStep(_drop_arrival(state["feedback"]), done, done, None, True)  # ETO: done is success

    def close(self) -> None:
        self.engine.close()
