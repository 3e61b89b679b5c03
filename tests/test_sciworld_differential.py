"""ScienceWorld against the raw upstream engine: the same actions through our env and through scienceworld's
own wrapper driven by the upstream loops' rules, compared step by step.

The two loops are restated here from upstream's code, independently of ``agentrm_bench.envs.sciworld``:

- AgentBoard (split ``test``), hkust-nlp/AgentBoard @ 2429689d ``agentboard/environment/scienceworld_env.py``
  and ``agentboard/tasks/scienceworld.py``: load with its four simplifications, ``reset()``, first
  observation = the look-around text + "\\n" + the inventory; an action is stripped; "check valid actions"
  is answered from ``getPossibleActions()`` without a simulator step; otherwise ``step()`` and every
  subgoal pattern ``re.search``-ed in the observation; progress = fraction found, done = all found; after
  every turn the loop calls ``getValidActionObjectCombinationsWithTemplates()`` (its grounding check).
- ETO (splits ``test-eto``, ``dev``), Yifan-Song793/ETO @ a2fc5da3 ``eval_agent/envs/sciworld_env.py``,
  ``eval_agent/main.py``, ``eval_agent/utils/replace_sciworld_score.py``: a wrapper with
  ``envStepLimit=200``, load with ``easy`` under ETO's task name, ``reset()``, first observation = the
  task description; the action goes to ``step()`` unstripped; reward = running max of the raw score
  (starting from the first step's); done = the wrapper's done; ETO's ``success`` flag is that done.

Both sides run scienceworld 1.1.3 in JVMs with constant identity hash codes, the one setting they share
(without it neither side is reproducible; see PROVENANCE.md). Played sequences: the expert's gold path,
random admissible actions, and deliberately odd actions (the loop's special command and near misses,
``think:``, ambiguity menus answered with good and bad numbers, empty and very long text, resetting the
task, a wrong focus that fails the task). The fast subset runs by default; the full sweep is ``slow``.
"""

from __future__ import annotations

import json
import os
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from agentrm_bench.envs.sciworld import sets
from agentrm_bench.envs.sciworld.env import ScienceWorldEnv

from .conftest import data_file

UPSTREAM_VERSION = "1.1.3"  # the release AgentBoard and ETO ran (PROVENANCE.md)
CONSTANT_HASH_CODES = "-XX:+UnlockExperimentalVMOptions -XX:hashCode=2"
AGENTBOARD_SIMPLIFICATIONS = "selfWateringFlowerPots,openContainers,openDoors,noElectricalAction"

# Odd actions, each followed by a random admissible one so that the state keeps moving.
ODD_ACTIONS = (
    "check valid actions",
    "think: I should find the target object first.",
    "Thought: I need to look around.",
    "inventory",
    "task",
    "look at substance",
    "1",
    "pick up cup",
    "42",
    "look at substance",
    "",
    "look at substance",
    "0",
    "  look around  ",
    "CHECK VALID ACTIONS",
    "check valid actions please",
    "   check valid actions\n",
    "wait1",
    "-1",
    "1.5",
    "open fridge",
    "close door to hallway",
    "teleport to kitchen",
    "look at door to hallway",
    "移动🙂 \x1b[31m",
    "x" * 3000,
    "reset task",
    "focus on substance",
    "0",
    "check valid actions",
)


# ----------------------------------------------------------------- the raw engine and the upstream loops
def _children() -> set[int]:
    """Process ids of this process's children (to stop the JVM that scienceworld 1.1.3 does not keep)."""
    me, found = str(os.getpid()), set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == me:
            found.add(int(stat.parent.name))
    return found


@pytest.fixture(scope="module")
def raw():
    """scienceworld's own wrapper in a JVM of its own, started as upstream starts it (plus the hash-code option)."""
    scienceworld = pytest.importorskip("scienceworld")
    from scienceworld.version import __version__

    assert __version__ == UPSTREAM_VERSION, f"scienceworld {__version__} installed; upstream ran {UPSTREAM_VERSION}"
    if not Path("/proc").is_dir():
        pytest.skip("needs /proc to stop the raw JVM")
    before = _children()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JAVA_TOOL_OPTIONS", CONSTANT_HASH_CODES)
        wrapper = scienceworld.ScienceWorldEnv("", envStepLimit=30)
    jvms = _children() - before
    yield wrapper
    wrapper._gateway.shutdown()
    for pid in jvms:
        os.kill(pid, 9)


@pytest.fixture(scope="module")
def ours():
    environments: dict[str, ScienceWorldEnv] = {}

    def get(split: str) -> ScienceWorldEnv:
        if split not in environments:
            env = ScienceWorldEnv(split=split)
            if environments:  # one JVM for every split
                env.simulator = next(iter(environments.values())).simulator
            environments[split] = env
        return environments[split]

    yield get
    for env in environments.values():
        env.close()  # closing a shared simulator twice is safe


class AgentBoardLoop:
    """AgentBoard's ScienceWorld wrapper and task loop, on the raw engine (rules in the module docstring)."""

    def __init__(self, raw, task: str, variation: int, subgoals: tuple[str, ...]):
        self.raw, self.subgoals = raw, subgoals
        raw.envStepLimit = 30
        raw.load(task, variation, simplificationStr=AGENTBOARD_SIMPLIFICATIONS)
        observation, info = raw.reset()
        self.first_observation = observation + f"\n{raw.inventory()}"
        self.valid = list(info["valid"])
        self.finished = [0.0] * len(subgoals)
        self.reward, self.done = 0.0, False

    def step(self, action: str) -> tuple[str, float, bool, bool]:
        action = action.strip()
        if action == "check valid actions":
            actions = [a for a in self.raw.getPossibleActions() if "reset" not in a]
            if "check valid actions" not in actions:
                actions.append("check valid actions")
            observation = "Choose an action from these valid actions: " + ", ".join(actions)
        else:
            observation, _, _, info = self.raw.step(action)
            self.valid = list(info["valid"])
            for k, pattern in enumerate(self.subgoals):
                if re.search(pattern, observation):
                    self.finished[k] = 1.0
            self.reward = sum(self.finished) / len(self.finished)
            self.done = sum(self.finished) >= len(self.subgoals)
        self.raw.getValidActionObjectCombinationsWithTemplates()  # the grounding check after every turn
        return observation, self.reward, self.done, self.done  # progress, done, success


class EtoLoop:
    """ETO's ScienceWorld env and loop, on the raw engine (rules in the module docstring)."""

    def __init__(self, raw, eto_task: str, variation: int):
        self.raw = raw
        raw.envStepLimit = 200
        raw.load(eto_task, variation, simplificationStr="easy", generateGoldPath=False)
        _, info = raw.reset()
        self.first_observation = info["taskDesc"]
        self.valid = list(info["valid"])
        self.reward: float | None = None
        self.eto_success = False

    def step(self, action: str) -> tuple[str, float, bool, bool]:
        observation, _, done, info = self.raw.step(action)
        raw_score = self.raw.server.getScore()
        if self.reward is None or raw_score > self.reward:
            self.reward = raw_score
        self.valid = list(info["valid"])
        self.eto_success = bool(done)  # ETO's own flag: any done, failed tasks included
        return observation, max(0.0, self.reward), bool(done), bool(self.raw.server.getCompleted())


# ----------------------------------------------------------------- playing both sides
@dataclass
class Tally:
    steps: int = 0
    agree: int = 0
    episodes: int = 0
    first_differences: list[str] = field(default_factory=list)
    eto_flag_differs: int = 0  # episodes whose ETO success flag (any done) differs from ours (completion)
    eto_negative_reward: int = 0  # steps where ETO's reward was below zero (ours starts at 0)

    def add(self, other: Tally) -> None:
        self.steps += other.steps
        self.agree += other.agree
        self.episodes += other.episodes
        self.first_differences += other.first_differences
        self.eto_flag_differs += other.eto_flag_differs
        self.eto_negative_reward += other.eto_negative_reward


def upstream_loop(raw, split: str, index: int):
    instance = sets.instances(split)[index]
    if split == "test":
        return AgentBoardLoop(raw, instance.task, instance.variation, sets.agentboard_annotations()[index].subgoals)
    rows = json.loads(data_file("sciworld", f"eto/{'test' if split == 'test-eto' else 'dev'}_indices.json").read_text())
    if split == "dev":  # our dev order groups ETO's rows by task; find the row by its pair
        names = {sets.scienceworld_name(name): name for name, _ in rows}
        return EtoLoop(raw, names[instance.task], instance.variation)
    eto_task, variation = rows[index]
    return EtoLoop(raw, eto_task, variation)


def play(env: ScienceWorldEnv, raw, split: str, index: int, kind: str) -> Tally:
    """Play one sequence of ``kind`` (gold, random, odd) on both sides; count the agreeing steps."""
    tally = Tally(episodes=1)
    observation, info = env.reset(options={"index": index})
    upstream = upstream_loop(raw, split, index)
    expected_first = upstream.first_observation
    if split == "test":
        expected_first = f"Task Description:\n{sets.agentboard_annotations()[index].goal}\n\n{expected_first}"
    tally.steps += 1
    tally.agree += observation == expected_first
    if observation != expected_first:
        tally.first_differences.append(f"{split}/{index} {kind}: first observations differ")
    rng = random.Random(f"{split}/{index}/{kind}")
    odd = iter(ODD_ACTIONS)
    for turn in range(env.max_turns):
        if kind == "gold":
            action = env.expert_action()
        elif kind == "odd" and turn % 2 == 0:
            action = next(odd, "look around")
        else:
            action = rng.choice([a for a in upstream.valid if a != "reset task"] or ["look around"])
        got = env.step(action)
        want = upstream.step(action)
        ours_now = (got[0], round(got[4]["progress"], 9), got[2], got[4]["success"])
        theirs = (want[0], round(want[1], 9), want[2], want[3])
        tally.steps += 1
        tally.agree += ours_now == theirs
        if ours_now != theirs and len(tally.first_differences) < 3:
            where = f"{split}/{index} {kind} turn {turn} {action[:40]!r}"
            tally.first_differences.append(f"{where}: {ours_now} != {theirs}")
        if isinstance(upstream, EtoLoop):
            tally.eto_negative_reward += upstream.reward is not None and upstream.reward < 0
        if got[2] or got[3]:
            break
    if isinstance(upstream, EtoLoop):
        tally.eto_flag_differs += upstream.eto_success != env.success
    return tally


def sweep(ours, raw, split: str, indices: list[int], kinds=("gold", "random", "odd")) -> dict[str, Tally]:
    env = ours(split)
    tallies = {kind: Tally() for kind in kinds}
    for index in indices:
        for kind in kinds:
            tallies[kind].add(play(env, raw, split, index, kind))
    return tallies


def report(split: str, tallies: dict[str, Tally]) -> str:
    lines = []
    for kind, t in tallies.items():
        share = t.agree / t.steps if t.steps else 1.0
        extra = ""
        if split != "test":
            extra = f"; ETO's success flag != ours in {t.eto_flag_differs} ep."
            extra += f", its reward < 0 on {t.eto_negative_reward} steps"
        lines.append(f"{split:8} {kind:6} {t.episodes:4} episodes {t.steps:6} steps, {share:8.2%} agree{extra}")
    return "\n".join(lines)


def assert_all_agree(split: str, tallies: dict[str, Tally]) -> None:
    differences = [d for t in tallies.values() for d in t.first_differences]
    assert not differences, report(split, tallies) + "\n" + "\n".join(differences)


# ----------------------------------------------------------------- the tests
def test_first_observation_of_every_agentboard_problem_is_upstreams(ours, raw):
    """All 90: our first observation is AgentBoard's goal, then exactly what AgentBoard's wrapper printed."""
    data_file("sciworld", sets.AGENTBOARD_FILE)
    env = ours("test")
    annotations = sets.agentboard_annotations()
    differ = []
    for index, instance in enumerate(sets.instances("test")):
        observation, _ = env.reset(options={"index": index})
        upstream = AgentBoardLoop(raw, instance.task, instance.variation, annotations[index].subgoals)
        if observation != f"Task Description:\n{annotations[index].goal}\n\n{upstream.first_observation}":
            differ.append(index)
    assert differ == [], f"{len(differ)} of 90 first observations differ from AgentBoard's: {differ}"


def test_agentboard_answers_check_valid_actions_without_the_simulator(ours, raw):
    """AgentBoard's wrapper answers "check valid actions" itself: no simulator step, the turn still counts."""
    data_file("sciworld", sets.AGENTBOARD_FILE)
    env = ours("test")
    env.reset(options={"index": 0})
    moves = env.simulator._call("counting moves", lambda e: e.getNumMoves())
    observation, reward, terminated, _, info = env.step("  check valid actions ")
    assert observation.startswith("Choose an action from these valid actions: ") and "go OBJ" in observation
    assert observation.endswith(", check valid actions") and "reset" not in observation
    assert info["valid_action"] and info["turn"] == 1 and reward == 0.0 and not terminated
    assert env.simulator._call("counting moves", lambda e: e.getNumMoves()) == moves
    eto = ours("test-eto")
    eto.reset(options={"index": 0})
    observation, *_ = eto.step("check valid actions")  # ETO's loop has no such command
    assert observation == "No known action matches that input."


@pytest.mark.parametrize(
    "split,indices",
    [
        ("test", [9, 19, 48]),  # bees in the greenhouse; animals outside; three same-named cups (menus)
        ("test-eto", [172, 154, 86]),  # lifespan; mixing paint (same-named cups); animals outside
    ],
)
def test_steps_agree_with_the_upstream_loop(ours, raw, split, indices):
    data_file("sciworld", sets.AGENTBOARD_FILE if split == "test" else "eto/test_indices.json")
    assert_all_agree(split, sweep(ours, raw, split, indices))


# All 90 `test` problems and every third ETO problem; AGENTRM_SCIWORLD_FULL=1 plays every one, and
# AGENTRM_SWEEP_STRIDE=k every k-th of those (CI's time budget, set by .ci/run).
ETO_STRIDE = 1 if os.environ.get("AGENTRM_SCIWORLD_FULL") == "1" else 3
SWEEP_STRIDE = max(1, int(os.environ.get("AGENTRM_SWEEP_STRIDE", "1")))


@pytest.mark.slow
@pytest.mark.parametrize("split", ["test", "test-eto", "dev"])
def test_full_sweep_agrees_with_the_upstream_loop(ours, raw, split, capsys):
    data_file("sciworld", sets.AGENTBOARD_FILE if split == "test" else "eto/test_indices.json")
    problems = sets.instances(split)
    indices = list(range(0, len(problems), 1 if split == "test" else ETO_STRIDE))[::SWEEP_STRIDE]
    tallies = sweep(ours, raw, split, indices)
    with capsys.disabled():
        print("\n" + report(split, tallies))
    assert_all_agree(split, tallies)
