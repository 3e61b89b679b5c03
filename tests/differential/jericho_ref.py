"""AgentBoard's Jericho wrapper over jericho's raw ``FrotzEnv``, re-implemented from its files.

Source: hkust-nlp/AgentBoard @ bb7255e2, ``agentboard/tasks/jericho.py`` (``parse_action``: the cut to the
first comma, the first period and 20 words; success is ``env.won`` when the episode is done) and
``agentboard/environment/jericho_env.py`` (``validate_check_valid_actions``, ``step``, ``clean_up_text``,
``update``, ``update_reward``, ``match_style``; the special action's listing is ``get_valid_actions()``
with its default arguments plus "check valid actions"). The hand-written first observation, the story
files and the subgoal snippets are facts taken from ``agentrm_bench.envs.jericho.games`` (AgentBoard's
own snippets are not public; ours are scored with its rule).
"""

from __future__ import annotations

import re
import warnings
from typing import Any

from .common import RefStep


class AgentBoardJericho:
    def __init__(self) -> None:
        self.frotz: Any = None
        self.loaded: str | None = None

    def reset(self, index: int) -> str:
        from jericho import FrotzEnv

        from agentrm_bench.envs.jericho import games

        game = games.games()[index]
        if self.loaded != game.name:
            if self.frotz is not None:
                self.frotz.close()
            self.frotz, self.loaded = FrotzEnv(str(games.story_path(game.name))), game.name
        self.frotz.reset()
        self.patterns = list(game.snippets)
        self.total = len(self.patterns)
        self.reward, self.points, self.done, self.won = 0.0, 0, False, False
        return game.first_observation

    @staticmethod
    def cut(action: str) -> str:
        action = action.split(",")[0]
        action = action.split(".")[0]
        return " ".join(action.split(" ")[:20])

    @staticmethod
    def clean(observation: str) -> str:
        text = re.sub(r"\n", " ", observation)
        text = re.sub(r" {2,}", " ", text)
        return re.sub(r"\[Your score .*?\]", "", text)

    @staticmethod
    def _matches(observation: str, pattern: str) -> bool:
        observation = re.sub(r"[^a-zA-Z0-9\s]", "", observation)
        pattern = re.sub(r"[^a-zA-Z0-9\s]", "", pattern)
        return pattern in observation

    def step(self, text: str) -> RefStep:
        action = self.cut(text)
        lowered = action.strip().lower()
        if "check" in lowered and "action" in lowered:
            listing = self.frotz.get_valid_actions() + ["check valid actions"]
            observation = "You can take the following actions: " + ", ".join(listing)
            return RefStep(observation, self.done, self.won and self.done, self.reward, False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            observation, _, done, _ = self.frotz.step(action)
        observation = self.clean(observation)
        for pattern in self.patterns:
            if self._matches(observation, pattern):
                self.points += 1
                self.reward = max(self.reward, self.points / self.total)
                self.patterns.remove(pattern)
                break
        self.done = (self.reward == 1) | bool(done)
        self.won = self.reward == 1
        return RefStep(observation, self.done, self.won and self.done, self.reward, True)

    def close(self) -> None:
        if self.frotz is not None:
            self.frotz.close()
            self.frotz = self.loaded = None
