"""ALFWorld on its upstream engine: game lists, AgentBoard's and ETO's rules, our progress milestones, the
planner expert, the engine process dying mid-episode, and (slow) the expert on every test game."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import signal
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import agentrm_bench  # noqa: F401  (registers the ids)
from agentrm_bench import data, harness, tasks
from agentrm_bench.envs.alfworld import conventions
from agentrm_bench.envs.alfworld import games as alfworld_games
from agentrm_bench.envs.alfworld import progress as alfworld_progress
from agentrm_bench.envs.alfworld.env import ALFWorldEnv, first_observation, goal_text, later_observation
from agentrm_bench.manifest import RunConfig
from agentrm_bench.policies import ExpertPolicy
from agentrm_bench.records import RecordStore

from .conftest import data_file

ENV_ID = "agentrm/ALFWorld-v0"
# ETO's short names of ALFWorld's six task types, by game-folder prefix.
KIND_OF_FOLDER = {
    "pick_and_place_simple": "put",
    "look_at_obj_in_light": "examine",
    "pick_clean_then_place_in_recep": "clean",
    "pick_heat_then_place_in_recep": "heat",
    "pick_cool_then_place_in_recep": "cool",
    "pick_two_obj_and_place": "puttwo",
}


def needs_engine():
    pytest.importorskip(
        "alfworld", reason="the ALFWorld engine is not installed: pip install 'agentrm-bench[alfworld]'"
    )
    pytest.importorskip("textworld")


def game_file(split: str, index: int) -> Path:
    return data_file("alfworld", alfworld_games.game_path(split, alfworld_games.games(split)[index][0]))


# ---------------------------------------------------------------------- games and data layer (no engine)
def test_splits_are_etos_test_and_dev_sets():
    """test (AgentBoard's rules) and test-eto (ETO's) are the same 134 games in ETO's order; dev is ETO's dev."""
    test, dev = alfworld_games.games("test"), alfworld_games.games("dev")
    assert alfworld_games.games("test-eto") == test
    assert (len(test), len(dev)) == (134, 140)
    assert len({g for g, _ in test}) == 134 and len({g for g, _ in dev}) == 140
    assert test[0][0] == "pick_heat_then_place_in_recep-Apple-None-GarbageCan-10/trial_T20190908_145143_820541"
    assert all(re.fullmatch(r"[0-9a-f]{64}", digest) for _, digest in test + dev)
    with pytest.raises(ValueError, match="unknown split"):
        alfworld_games.games("train")
    assert ALFWorldEnv(split="dev").num_instances == 140  # no engine needed to count
    # Turn budgets: AgentBoard's max_num_steps (eval_configs/main_results_all_tasks.yaml), ETO's max_steps.
    assert [ALFWorldEnv(split=s).max_turns for s in ("test", "test-eto", "dev")] == [30, 40, 40]
    assert ALFWorldEnv(split="test-eto", max_turns=7).max_turns == 7
    assert tasks.get("alfworld").sizes == {"test": 134, "test-eto": 134, "dev": 140}
    with pytest.raises(ValueError, match="unknown split"):
        ALFWorldEnv(split="train")


def test_catalogue_declares_every_game_file_with_its_hash():
    files = tasks.data_set("alfworld").files
    assert len(files) == 274
    assert all(f.url == alfworld_games.TW_PDDL_ARCHIVE and f.member == f.path and f.sha256 for f in files)
    first = game_file("test", 0)  # skips when the shared data is absent
    assert data.sha256_of(first) == alfworld_games.games("test")[0][1]
    assert data.missing(tasks.data_set("alfworld")) == []
    for declared in files:
        assert data.sha256_of(data.path(tasks.data_set("alfworld"), declared.path)) == declared.sha256, declared.path


def test_eto_order_file_matches_when_present():
    listed = data_file("alfworld", "splits/eto_gamefile_id.txt").read_text().split()
    assert listed == [g for g, _ in alfworld_games.games("test")]


def test_goal_parsing_and_no_milestone_at_the_start_of_any_game():
    """Every game's PDDL goal gives the task type of its folder, and its initial facts reach no milestone."""
    game_file("test", 0)
    counts: dict[tuple[str, str], int] = {}
    for split in ("test", "dev"):
        for game, _ in alfworld_games.games(split):
            problem = json.loads(
                data.path(tasks.data_set("alfworld"), alfworld_games.game_path(split, game)).read_text()
            )["pddl_problem"]
            goal = alfworld_progress.parse_goal(problem)
            assert goal.kind == KIND_OF_FOLDER[game.split("-")[0]], game
            assert goal.obj.endswith("type") and (goal.recep or goal.light or "").endswith("type")
            init = problem[problem.find("(:init") : problem.find("(:goal")]
            facts = [tuple(m.lower().split()) for m in re.findall(r"\(([A-Za-z]\w*(?: \w+)+)\)", init)]
            assert alfworld_progress.milestone(goal, facts, won=False) == 0, game
            counts[(split, goal.kind)] = counts.get((split, goal.kind), 0) + 1
    test_counts = {kind: n for (split, kind), n in counts.items() if split == "test"}
    assert test_counts == {"clean": 31, "put": 24, "heat": 23, "cool": 21, "examine": 18, "puttwo": 17}


# ---------------------------------------------------------------------- text and milestones (no engine)
def test_observation_text_as_eto_shows_it():
    intro = (
        "-= Welcome to TextWorld, ALFRED! =-\n\nYou are in the middle of a room. Looking quickly around you, "
        "you see a desk 1, and a shelf 1.\n\nYour task is to: put some pen on desk."
    )
    assert first_observation(intro) == (
        "You are in the middle of a room. Looking quickly around you, you see a desk 1, and a shelf 1.\n"
        "Your task is to: put some pen on desk."
    )
    assert goal_text(intro) == "put some pen on desk."
    assert (
        later_observation("You arrive at loc 12. On the desk 1, you see a pen 2.") == "On the desk 1, you see a pen 2."
    )
    assert later_observation("You pick up the pen 2 from the desk 1.") == "You pick up the pen 2 from the desk 1."
    with pytest.raises(ValueError, match="Your task is to"):
        goal_text("no task here")


PUTTWO_GOAL = alfworld_progress.Goal("puttwo", "cdtype", "safetype")
ROOM = [
    ("atlocation", "agent1", "loc_start"),
    ("receptacleatlocation", "safe1", "loc_safe"),
    ("receptacleatlocation", "desk1", "loc_desk"),
    ("openable", "safe1"),
    ("receptacletype", "safe1", "safetype"),
    ("receptacletype", "desk1", "desktype"),
    ("objecttype", "cd1", "cdtype"),
    ("objecttype", "cd2", "cdtype"),
    ("objecttype", "lamp1", "desklamptype"),
]


def state(*changes: tuple[str, ...], at: str = "loc_start") -> list[tuple[str, ...]]:
    facts = [f for f in ROOM if f[0] != "atlocation"] + [("atlocation", "agent1", at)]
    return facts + list(changes)


def test_agentboard_reads_a_command_as_its_task_and_environment_do():
    """agentboard/tasks/alfworld.py parseAction, then alfworld_env.py step's own trailing-period cut."""
    read = conventions.agentboard_command
    assert read("  put apple 3 in garbagecan 1 ") == "put apple 3 in/on garbagecan 1"
    assert read("put apple 3 on countertop 1") == "put apple 3 in/on countertop 1"
    assert read("put apple 3 in/on garbagecan 1") == "put apple 3 in/on garbagecan 1"  # the grammar's own form
    assert read("take apple 3 from diningtable 1.") == "take apple 3 from diningtable 1"
    assert read("look..") == "look" and read("check valid actions.") == "check valid actions"
    assert read("go to in 1") == "go to in 1"  # only a text with "put" is rewritten
    assert read("think: I should put it in the fridge") == "think: I should put it in/on the fridge"
    assert conventions.agentboard_action_space(["go to desk 1", "look"]) == [
        "go to desk 1",
        "look",
        "check valid actions",
    ]
    assert conventions.agentboard_action_space(["go to desk 1"]) == ["go to desk 1", "look", "check valid actions"]


def test_puttwo_milestones_follow_the_objects():
    def reached(facts, won=False):
        return alfworld_progress.milestone(PUTTWO_GOAL, facts, won)

    on_desk = [("inreceptacle", "cd1", "desk1"), ("inreceptacle", "cd2", "desk1")]
    assert reached(state(*on_desk)) == 0  # nothing is shown from the middle of the room
    assert reached(state(*on_desk, at="loc_desk")) == 1  # found
    assert reached(state(on_desk[1], ("holds", "agent1", "cd1"), at="loc_desk")) == 2  # picked up
    placed = ("inreceptacle", "cd1", "safe1")
    assert reached(state(placed, on_desk[1], ("opened", "safe1"), at="loc_safe")) == 3  # one in the safe
    assert reached(state(placed, ("holds", "agent1", "cd2"), at="loc_desk")) == 4  # the second one picked up
    assert reached(state(), won=True) == 5
    assert alfworld_progress.progress(PUTTWO_GOAL, state(("holds", "agent1", "cd2")), False) == pytest.approx(0.4)


def test_an_object_in_a_closed_receptacle_is_not_found():
    put = alfworld_progress.Goal("put", "cdtype", "desktype")
    in_safe = ("inreceptacle", "cd1", "safe1")
    assert alfworld_progress.milestone(put, state(in_safe, at="loc_safe"), False) == 0
    assert alfworld_progress.milestone(put, state(in_safe, ("opened", "safe1"), at="loc_safe"), False) == 1


def test_examine_and_transform_milestones():
    examine = alfworld_progress.Goal("examine", "cdtype", None, "desklamptype")
    lamp = ("inreceptacle", "lamp1", "desk1")
    assert alfworld_progress.milestone(examine, state(lamp, ("holds", "agent1", "cd1")), False) == 2
    assert alfworld_progress.milestone(examine, state(lamp, ("holds", "agent1", "cd1"), at="loc_desk"), False) == 3
    assert alfworld_progress.milestone(examine, state(lamp, at="loc_desk"), False) == 0  # a lamp, but no CD
    cool = alfworld_progress.Goal("cool", "cdtype", "desktype")
    assert alfworld_progress.milestone(cool, state(("iscool", "cd2")), False) == 3
    assert alfworld_progress.milestone(cool, state(("iscool", "lamp1")), False) == 0  # not the goal's object


def test_goal_parser_rejects_what_it_does_not_know():
    with pytest.raises(ValueError, match="no \\(:goal"):
        alfworld_progress.parse_goal("(define (problem p) (:init))")
    with pytest.raises(ValueError, match="unexpected ALFWorld goal"):
        alfworld_progress.parse_goal("(:goal (and (holds ?a ?o)))")


# ---------------------------------------------------------------------- on the engine
@pytest.fixture(scope="module")
def env():
    needs_engine()
    game_file("test", 0)
    environment = gym.make(ENV_ID).unwrapped
    yield environment
    environment.close()


def test_first_observation_goal_and_admissible_commands(env):
    obs, info = env.reset(options={"index": 0})
    assert obs.startswith("You are in the middle of a room. Looking quickly around you, you see a cabinet 6, ")
    assert obs.endswith(".\nYour task is to: heat some apple and put it in garbagecan.")
    assert info["goal"] == "heat some apple and put it in garbagecan."
    assert {"look", "inventory", "go to sinkbasin 1", "go to microwave 1"} <= set(info["admissible_actions"])
    assert info["progress"] == 0.0 and env.milestone == 0 and env.task_goal.kind == "heat"


def test_text_that_is_not_a_command_is_answered_as_the_engine_answers_it(env):
    _, info = env.reset(options={"index": 0})
    before = env.engine.step("look")  # warm the engine on this exact state first
    env.reset(options={"index": 0})
    for text in ("go to the sinkbasin", "Go to sinkbasin 1", "take apple", "🙂", ""):
        obs, reward, terminated, truncated, step_info = env.step(text)
        assert (obs, reward, step_info["valid_action"]) == ("Nothing happens.", 0.0, False)
        assert step_info["admissible_actions"] == info["admissible_actions"]
        # The engine itself, asked the same thing, says the same and changes nothing.
        answer = env.engine.step(text)
        assert answer.feedback == "Nothing happens."  # AgentBoard's list adds its "check valid actions":
        assert conventions.agentboard_action_space(answer.admissible) == info["admissible_actions"]
    assert env.engine.step("look").facts == before.facts
    obs, *_, step_info = env.step("  go to sinkbasin 1\n")  # the engine strips the text, so do we
    assert step_info["valid_action"] and obs.startswith("On the sinkbasin 1, you see")


def test_agentboard_answers_look_and_check_valid_actions_itself(env):
    """The test split plays AgentBoard's alfworld_env.py: "check valid actions" never reaches the engine,
    "look" shows the last "go to" / "open" answer (first the room line), "put X in Y" is rewritten."""
    obs, info = env.reset(options={"index": 0})
    room = obs.split("\n")[0]
    assert env.convention == "agentboard" and info["admissible_actions"][-1] == "check valid actions"
    obs, _, _, _, step_info = env.step("look")
    assert obs == room and step_info["valid_action"]
    engine_steps = []
    env.engine.step = lambda command, real=env.engine.step: engine_steps.append(command) or real(command)
    obs, reward, terminated, _, step_info = env.step("check valid actions")
    expected = ", ".join(step_info["admissible_actions"])
    assert obs == "Choose an action from these valid actions: " + expected and obs.endswith(
        ", look, check valid actions"
    )
    assert engine_steps == [] and step_info["valid_action"] and (reward, terminated) == (0.0, False)
    obs, *_ = env.step("go to sinkbasin 1.")
    assert obs.startswith("On the sinkbasin 1, you see") and engine_steps == ["go to sinkbasin 1"]
    assert env.step("inventory")[0] == "You are not carrying anything."
    assert env.step("look")[0] == obs  # not the engine's own "You are facing the sinkbasin 1. ..."
    assert (
        env.step("think: the apple is here")[0] == "Nothing happens."
    )  # no think action upstream: the engine's answer
    env.step("take apple 3 from sinkbasin 1")
    env.step("go to garbagecan 1")
    env.step("go to microwave 1")
    assert env.step("look")[0] == "The microwave 1 is closed."
    env.step("heat apple 3 with microwave 1")
    env.step("go to garbagecan 1")
    obs, reward, terminated, _, step_info = env.step("put apple 3 in garbagecan 1")
    assert obs == "You put the apple 3 in/on the garbagecan 1." and terminated and step_info["success"]


def test_eto_sends_every_text_to_the_engine():
    """test-eto plays ETO's alfworld_env.py: no special command, the text as the engine reads it; 40 turns."""
    needs_engine()
    game_file("test-eto", 0)
    env = ALFWorldEnv(split="test-eto")
    try:
        obs, info = env.reset(options={"index": 0})
        assert env.max_turns == 40 and "check valid actions" not in info["admissible_actions"]
        for text in ("check valid actions", "go to sinkbasin 1.", "put apple 3 in garbagecan 1", "think: hm"):
            obs, _, _, _, step_info = env.step(text)
            assert (obs, step_info["valid_action"]) == ("Nothing happens.", False), text
        env.step("go to sinkbasin 1")
        obs, *_ = env.step("look")
        assert obs.startswith("You are facing the sinkbasin 1.")  # the engine's own description
    finally:
        env.close()


def test_planner_is_alfworlds_planner_expert(env):
    """Our on-demand plan is what alfworld's AlfredExpert(expert_type="planner") puts in expert_plan."""
    import textworld
    from alfworld.agents.environment.alfred_tw_env import AlfredDemangler, AlfredExpert, AlfredInfos

    env.reset(options={"index": 0})
    ours = env.engine.plan()
    infos = textworld.EnvInfos(won=True, admissible_commands=True, extras=["gamefile", "expert_plan"])
    wrappers = [AlfredDemangler(shuffle=False), AlfredInfos, AlfredExpert(expert_type="planner")]
    upstream = textworld.start(str(game_file("test", 0)), infos, wrappers=wrappers)
    try:
        assert upstream.reset()["extra.expert_plan"] == ours
    finally:
        upstream.close()
    assert ours == [
        "go to sinkbasin 1",
        "take apple 3 from sinkbasin 1",
        "go to microwave 1",
        "heat apple 3 with microwave 1",
        "go to garbagecan 1",
        "put apple 3 in/on garbagecan 1",
    ]


def test_expert_episode_progress_and_wording(env):
    obs, info = env.reset(options={"index": 0})
    seen, progress = [], [0.0]
    terminated = truncated = False
    while not (terminated or truncated):
        obs, reward, terminated, truncated, info = env.step(env.expert_action())
        seen.append(obs)
        progress.append(info["progress"])
    assert info["success"] and terminated and env.turns == 6
    assert progress == [0.0, 0.25, 0.5, 0.5, 0.75, 0.75, 1.0]
    assert seen[0].startswith("On the sinkbasin 1, you see") and "You arrive" not in seen[0]
    assert seen[-1] == "You put the apple 3 in/on the garbagecan 1."


def test_engine_that_dies_mid_episode_raises_and_the_next_reset_recovers(env):
    env.reset(options={"index": 0})
    env.step(env.expert_action())
    os.kill(env.engine.pid, signal.SIGKILL)
    with pytest.raises(Exception, match="died"):
        env.step("go to microwave 1")
    obs, info = env.reset(options={"index": 0})
    assert info["progress"] == 0.0 and env.engine.pid is not None


def _walk(env, index: int, steps: int, seed: int) -> list[str]:
    """Admissible commands chosen at random (no "check valid actions"), as a search's samples would be."""
    rng = np.random.default_rng(seed)
    _, info = env.reset(options={"index": index})
    actions = []
    for _ in range(steps):
        choices = [a for a in info["admissible_actions"] if a != conventions.CHECK_VALID_ACTIONS]
        actions.append(choices[int(rng.integers(len(choices)))])
        *_, terminated, truncated, info = env.step(actions[-1])
        if terminated or truncated:
            break
    return actions


@pytest.mark.parametrize("split", ["test", "test-eto"])
def test_engine_snapshots_answer_as_a_replay_does(split, monkeypatch):
    """Branching by the engine's own states (Fast Downward's registry) gives what replaying the prefix gives:
    restore every state of two random walks in a shuffled order (resets of the game in between) and
    compare each restored state and the step taken there, the planner's plan included, with an env that
    replays."""
    needs_engine()
    from agentrm_bench.envs.alfworld import cache

    monkeypatch.setenv(cache.VARIABLE, "off")  # the planner itself, not the plan cache, must agree
    indices = (0, 5) if split == "test" else (7,)
    for index in indices:
        game_file(split, index)
    native, replaying = ALFWorldEnv(split=split), ALFWorldEnv(split=split)
    monkeypatch.setattr(replaying, "_native_state", lambda: None)
    loaded = []
    load = native._load_native_state
    monkeypatch.setattr(native, "_load_native_state", lambda state: loaded.append(load(state)) or loaded[-1])
    try:
        for index in indices:
            walk = _walk(native, index, 12, seed=index) + _walk(native, index, 12, seed=index + 1)
            native.reset(options={"index": index})
            saved = []
            for action in walk[:12]:
                saved.append(native.snapshot())
                native.step(action)
            assert all(s.native is not None for s in saved)
            rng = np.random.default_rng(index)
            for k in rng.permutation(len(saved)):
                snapshot = saved[k]
                if k % 4 == 0:
                    native.reset(options={"index": index})  # a reset keeps the game's saved states
                got = native.restore(snapshot)
                expected = replaying.restore(dataclasses.replace(snapshot, native=None))
                assert got == expected
                assert native.expert_action() == replaying.expert_action()
                action = walk[12 + k] if 12 + k < len(walk) else walk[k]
                assert native.step(action) == replaying.step(action)
        assert loaded and all(loaded)  # every restore was the engine's own, none a replay
    finally:
        native.close()
        replaying.close()


def test_a_snapshot_from_another_engine_is_replayed(env):
    """A snapshot holds the engine process's token; another env (or a restarted engine) replays it."""
    env.reset(options={"index": 0})
    for action in ("go to sinkbasin 1", "go to microwave 1"):
        env.step(action)
    snapshot = env.snapshot()
    other = ALFWorldEnv(split="test")
    try:
        assert other.restore(snapshot) == env.restore(snapshot)
        assert other.turns == 2
        os.kill(env.engine.pid, signal.SIGKILL)
        with pytest.raises(Exception, match="died"):
            env.step("look")
        obs, info = env.restore(snapshot)  # a fresh engine: the token is stale, so the prefix is replayed
        assert (obs, info) == other.restore(snapshot) and env.turns == 2
    finally:
        other.close()


def test_engine_timeout_kills_a_hung_engine():
    needs_engine()
    game_file("test", 0)
    from agentrm_bench.envs.alfworld.engine import Engine, EngineError

    engine = Engine(timeout_s=0.01)
    with pytest.raises(EngineError, match="no answer"):
        engine.start(str(game_file("test", 0)))  # a load takes seconds
    assert engine.pid is None
    engine.close()


def test_dev_split_game_is_solved_by_the_expert():
    needs_engine()
    game_file("dev", 0)
    env = gym.make(ENV_ID, split="dev")
    try:
        obs, info = env.reset(options={"index": 0})
        assert obs.endswith("Your task is to: look at alarmclock under the desklamp.")
        terminated = truncated = False
        while not (terminated or truncated):
            obs, _, terminated, truncated, info = env.step(env.unwrapped.expert_action())
        assert info["success"] and info["progress"] == 1.0 and env.unwrapped.game_id.startswith("look_at_obj")
    finally:
        env.close()


class KillsTheEngineOnce(ExpertPolicy):
    """The expert, except that in the first episode ever it kills the engine process at turn 2."""

    killed = False

    def act(self, env, observation, info):
        if info["turn"] == 2 and not KillsTheEngineOnce.killed:
            KillsTheEngineOnce.killed = True
            os.kill(env.unwrapped.engine.pid, signal.SIGKILL)
        return super().act(env, observation, info)


def test_dead_engine_is_an_error_record_that_a_rerun_retries(tmp_path):
    needs_engine()
    game_file("test", 0)
    config = RunConfig(policy=f"{__name__}:KillsTheEngineOnce", tasks=("alfworld",), limit=1)
    first = harness.run(config, tmp_path, workers=0, show_progress=False)
    assert (first.finished, first.errors) == (0, 1)
    [error] = RecordStore(tmp_path).errors()
    assert "died" in error.error and not error.success
    second = harness.run(config, tmp_path, workers=0, show_progress=False)
    assert (second.finished, second.errors, second.success) == (1, 0, 1)


# ---------------------------------------------------------------------- slow: the expert on every test game
@pytest.mark.slow
def test_expert_solves_every_test_game(tmp_path):
    """The planner expert through the harness with two workers: all 134 unseen games, 100% success."""
    needs_engine()
    game_file("test", 0)
    start = time.perf_counter()
    summary = harness.run(RunConfig(policy="expert", tasks=("alfworld",)), tmp_path, workers=2, show_progress=False)
    elapsed = time.perf_counter() - start
    records = sorted(RecordStore(tmp_path).finished().values(), key=lambda r: r.index)
    failed = [f"{r.index}: {r.turns} turns, progress {r.progress}" for r in records if not r.success]
    assert summary.errors == 0, [r.error for r in RecordStore(tmp_path).errors()]
    assert (summary.finished, failed) == (134, []), f"{elapsed:.0f} s"
    assert all(r.progress == 1.0 and r.turns <= 40 for r in records)
    print(f"alfworld expert: 134/134 in {elapsed:.0f} s with 2 workers")
