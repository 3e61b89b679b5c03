"""The 20 Jericho test games: which story file, AgentBoard's goal and first observation, our subgoals.

Three sources meet here:

* facts in code: AgentBoard's game list in its configured order and the file of each game (``.z8`` for
  afflicted and snacktime, ``.z5`` otherwise);
* upstream files through the data layer: the story files (BYU-PCCL z-machine-games, declared in
  its ``upstream.py``) and ``agentboard_jericho_goals.json``, the hand-written goal and first observation
  of each game extracted from AgentBoard's ``environment/jericho_env.py`` (not shipped with this repo);
* our annotation ``agentrm_bench/envs/jericho/subgoals.json`` (written by :mod:`.jericho_subgoals` from the games
  themselves): which walkthrough steps the expert replays and the subgoal snippets progress counts.

AgentBoard's configuration names ``huntdark`` while its goal dictionaries use the key ``darkhunt``, so
its own code path shows "Not written yet." for that game; we use the ``darkhunt`` text, the evident
intent, and keep the key that was found in ``goal_key``.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from ... import data
from .upstream import FILES

TASK = "jericho"
GOALS_FILE = "agentboard_jericho_goals.json"
SUBGOALS = Path(__file__).resolve().parent / "subgoals.json"
# AgentBoard's eval_configs order (one problem per game).
GAMES: tuple[str, ...] = (
    "905",
    "acorncourt",
    "afflicted",
    "balances",
    "dragon",
    "jewel",
    "library",
    "omniquest",
    "reverb",
    "snacktime",
    "zenon",
    "zork1",
    "zork2",
    "zork3",
    "detective",
    "night",
    "pentari",
    "weapon",
    "huntdark",
    "loose",
)
Z8_GAMES = frozenset({"afflicted", "anchor", "snacktime", "partyfoul"})  # AgentBoard's rule for the extension


def story_file_name(game: str) -> str:
    return f"{game}.z8" if game in Z8_GAMES else f"{game}.z5"


def story_path(game: str) -> Path:
    """The local story file of ``game`` (a DataMissingError names the fetch command)."""
    return data.path(FILES, f"games/{story_file_name(game)}")


def walkthrough_sha256(walkthrough: list[str]) -> str:
    """Fingerprint of jericho's walkthrough, so a jericho release that changes it is caught."""
    return hashlib.sha256("/".join(walkthrough).encode()).hexdigest()


@dataclass(frozen=True)
class Subgoal:
    turn: int  # 1-based step of the expert path at which the snippet shows
    snippet: str
    why: str  # "score +N", "goal", or the goal phrase it stands for


@dataclass(frozen=True)
class JerichoGame:
    index: int
    name: str
    goal: str
    first_observation: str
    goal_key: str
    expert_steps: tuple[int, ...]  # 0-based indices into jericho's walkthrough
    subgoals: tuple[Subgoal, ...]
    walkthrough_sha256: str

    @property
    def snippets(self) -> tuple[str, ...]:
        return tuple(s.snippet for s in self.subgoals)


def load_goals(root: Path | None = None) -> list[dict]:
    """AgentBoard's goal and first observation per game, checked against the game order."""
    path = _goals_path(root or data.data_root())
    rows = json.loads(path.read_text(encoding="utf-8"))["games"]
    names = [row["game_name"] for row in rows]
    if names != list(GAMES):
        raise ValueError(f"{path}: games {names} do not match AgentBoard's order {list(GAMES)}")
    return rows


def _goals_path(root: Path) -> Path:
    path = root / TASK / GOALS_FILE
    if not path.is_file():
        raise data.DataMissingError(
            f"jericho: {GOALS_FILE} is not in {path.parent}. It holds the string literals "
            "game_goals and game_init_obs of hkust-nlp/AgentBoard agentboard/environment/jericho_env.py "
            f"(commit bb7255e), one row per game in AgentBoard's order; point {data.ENV_VAR} at a folder "
            "holding it (see agentrm_bench/envs/jericho/PROVENANCE.md)"
        )
    return path


def load_annotation(path: Path = SUBGOALS) -> dict[str, dict]:
    """Our subgoals.json, by game name."""
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing: regenerate it with `python -m agentrm_bench.envs.jericho.subgoals`"
        )
    games = json.loads(path.read_text(encoding="utf-8"))["games"]
    return {row["game"]: row for row in games}


@functools.lru_cache(maxsize=4)
def load_games(data_root: str, annotation: str = str(SUBGOALS)) -> tuple[JerichoGame, ...]:
    """All 20 games, joined from the goal file and our annotation (cached per data folder)."""
    goals = load_goals(Path(data_root))
    notes = load_annotation(Path(annotation))
    games = []
    for index, row in enumerate(goals):
        name = row["game_name"]
        if name not in notes:
            raise ValueError(f"{annotation} has no entry for game {name!r}")
        note = notes[name]
        subgoals = tuple(Subgoal(s["turn"], s["snippet"], s["why"]) for s in note["subgoals"])
        games.append(
            JerichoGame(
                index,
                name,
                row["goal"],
                row["init_obs"],
                row.get("goal_key_in_source", name),
                tuple(note["expert_steps"]),
                subgoals,
                note["walkthrough_sha256"],
            )
        )
    return tuple(games)


def games() -> tuple[JerichoGame, ...]:
    return load_games(str(data.data_root()))
