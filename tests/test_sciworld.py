"""ScienceWorld on its real simulator: the evaluation sets, the observation/progress rules, determinism of
replays, crash handling, and (slow) the gold path completing every problem of ``test`` and ``test-eto``."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest

import agentrm_bench  # noqa: F401  (registers the ids)
from agentrm_bench import data, harness
from agentrm_bench.envs.sciworld import rules, sets, sim
from agentrm_bench.envs.sciworld.env import ScienceWorldEnv, SubgoalTracker
from agentrm_bench.executors import worker
from agentrm_bench.manifest import RunConfig
from agentrm_bench.policies import ExpertPolicy
from agentrm_bench.records import RecordStore

from .conftest import data_file


# ----------------------------------------------------------------- the sets (no JVM)
def test_split_sizes_and_limits_without_starting_a_jvm():
    sizes = {}
    for split in ("test", "test-eto", "dev"):
        env = ScienceWorldEnv(split=split)
        sizes[split] = env.num_instances
        assert not env.simulator.running  # counting instances must not start Java
    assert sizes == {"test": 90, "test-eto": 211, "dev": 194}
    test = sets.instances("test")
    assert {i.max_turns for i in test} == {30}
    assert {i.simplifications for i in test} == {sets.AGENTBOARD_SIMPLIFICATIONS}
    assert {i.simplifications for i in sets.instances("test-eto")} == {"easy"}
    with pytest.raises(ValueError, match="unknown split"):
        ScienceWorldEnv(split="train")


def test_agentboard_problems_match_the_annotation_file():
    path = data_file("sciworld", sets.AGENTBOARD_FILE)
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(r["additional_info"]["env_name"], r["additional_info"]["var"]) for r in rows] == [
        (i.task, i.variation) for i in sets.instances("test")
    ]
    annotations = sets.agentboard_annotations()
    assert len(annotations) == 90 and all(a.subgoals for a in annotations)
    assert annotations[0].goal == rows[0]["goal"]


def test_eto_sets_and_limits_match_etos_files():
    to_sw = sets.scienceworld_name
    test = json.loads(data_file("sciworld", "eto/test_indices.json").read_text())
    assert [(to_sw(name), var) for name, var in test] == [(i.task, i.variation) for i in sets.instances("test-eto")]
    dev = json.loads(data_file("sciworld", "eto/dev_indices.json").read_text())
    ours = [(i.task, i.variation) for i in sets.instances("dev")]
    assert sorted((to_sw(name), var) for name, var in dev) == sorted(ours) and len(ours) == len(set(ours))
    limits = json.loads(data_file("sciworld", "eto/max_steps.json").read_text())
    assert limits == sets.ETO_MAX_STEPS
    eto_limit = {to_sw(name): steps for name, steps in limits.items()}
    assert all(i.max_turns == eto_limit[i.task] for i in sets.instances("test-eto") + sets.instances("dev"))


def test_eto_names_resolve_as_scienceworld_resolves_them():
    utils = pytest.importorskip("scienceworld.utils")
    names = json.loads(data_file("sciworld", "eto/max_steps.json").read_text())
    for name in names:
        assert sets.scienceworld_name(name) == utils.infer_task(name)


def test_subgoal_tracker_is_agentboards_rate():
    tracker = SubgoalTracker(("You move to the kitchen.", r"measures a temperature of (-?\d+) degrees", "focus on"))
    assert tracker.update("You move to the hallway.") == 0.0
    assert tracker.update("the thermometer measures a temperature of -12 degrees celsius") == pytest.approx(1 / 3)
    assert tracker.update("You move to the kitchen.") == pytest.approx(2 / 3)
    assert tracker.update("You move to the hallway.") == pytest.approx(2 / 3)  # a running maximum
    assert tracker.update("You focus on the orange.") == 1.0


def test_each_split_follows_its_upstream_loop():
    """AgentBoard's loop (agentboard/environment/scienceworld_env.py, tasks/scienceworld.py) for ``test``:
    it answers "check valid actions" itself, lists valid actions again after every turn (its grounding
    check), ends with success when every subgoal is found and plays on after the simulator's completion
    or failure. ETO's (eval_agent/envs/sciworld_env.py) for its sets: the wrapper's done ends it."""
    assert rules.rules_for("test") is rules.AGENTBOARD
    assert rules.rules_for("test-eto") is rules.rules_for("dev") is rules.ETO
    agentboard, eto = rules.AGENTBOARD, rules.ETO
    assert agentboard.answers_check_valid_actions and agentboard.lists_valid_actions_after_turn
    assert agentboard.success_by_subgoals and not agentboard.ends_on_failure
    assert not (eto.answers_check_valid_actions or eto.lists_valid_actions_after_turn or eto.success_by_subgoals)
    assert eto.ends_on_failure


def test_check_valid_actions_reply_is_agentboards():
    """get_action_space(abstract=True): the templates less any holding "reset", then the command itself."""
    reply = rules.check_valid_actions_reply(["open OBJ", "reset task", "go OBJ", "look around"])
    assert reply == "Choose an action from these valid actions: open OBJ, go OBJ, look around, check valid actions"


def test_another_scienceworld_release_is_refused(monkeypatch):
    pytest.importorskip("scienceworld", reason="scienceworld is not installed (pip install 'agentrm-bench[sciworld]')")
    monkeypatch.setattr(sim, "installed_version", lambda: "1.2.3")
    with pytest.raises(sim.SimulatorVersionError, match=r"scienceworld 1\.2\.3 is installed.*ran 1\.1\.3.*pip install"):
        sim.Simulator().load("boil", 0, "")


def test_missing_annotations_give_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path))
    sets.agentboard_annotations.cache_clear()
    try:
        with pytest.raises(data.DataMissingError, match="agentrm-bench data fetch sciworld"):
            sets.agentboard_annotations()
    finally:
        sets.agentboard_annotations.cache_clear()


# ----------------------------------------------------------------- on the simulator (one JVM for the module)
@pytest.fixture(scope="module")
def env():
    pytest.importorskip("scienceworld")
    environment = ScienceWorldEnv(split="test")
    yield environment
    environment.close()


def use_split(env: ScienceWorldEnv, split: str, max_turns: int | None = None) -> ScienceWorldEnv:
    """Another split on the same JVM (starting one per test would cost seconds each)."""
    other = ScienceWorldEnv(split=split, max_turns=max_turns)
    other.simulator = env.simulator
    return other


def eto_index(task: str, variation: int) -> int:
    return [(i.task, i.variation) for i in sets.instances("test-eto")].index((task, variation))


def test_agentboard_first_observation_and_progress(env):
    data_file("sciworld", sets.AGENTBOARD_FILE)
    obs, info = env.reset(options={"index": 0})
    goal = sets.agentboard_annotations()[0].goal
    assert info["goal"] == goal and obs.startswith(f"Task Description:\n{goal}\n\nThis room is called the workshop.")
    assert "In your inventory, you see:" in obs
    assert env.max_turns == 30 and info["progress"] == 0.0
    assert "reset task" not in info["admissible_actions"] and "look around" in info["admissible_actions"]
    assert info["admissible_actions"][-1] == "check valid actions"  # AgentBoard lists its own command
    obs, _, _, _, info = env.step("go to hallway")
    assert obs == "You move to the hallway." and info["valid_action"] and info["progress"] == 0.0
    obs, _, _, _, info = env.step("go to greenhouse")
    obs, reward, _, _, info = env.step("  go to outside  ")  # the first of two subgoals
    assert obs == "You move to the outside." and reward == 0.5 and info["progress"] == 0.5


def test_wrong_focus_fails_the_task_but_agentboard_plays_on(env):
    env.reset(options={"index": 0})
    _, _, terminated, _, info = env.step("focus on orange")
    assert info["task_failed"] and info["score"] == -100 and not terminated and not info["success"]
    eto = use_split(env, "test-eto")
    eto.reset(options={"index": eto_index("lifespan-longest-lived", 93)})
    assert eto.max_turns == 10  # ETO's limit for this task
    _, reward, terminated, _, info = eto.step("focus on agent")
    assert terminated and info["task_failed"] and not info["success"] and reward == 0.0


def test_agentboard_ends_on_its_subgoals_not_on_the_simulators_completion(env):
    """AgentBoard's _check_is_done: done (and success) only when every subgoal is found; its loop ignores the
    simulator's done. use-thermometer 7's fourth subgoal (",You move to the living room") can never match,
    so the completed task plays on to the turn limit without success."""
    data_file("sciworld", sets.AGENTBOARD_FILE)
    env.reset(options={"index": 17})
    completed_at, terminated, truncated = None, False, False
    while not (terminated or truncated):
        _, _, terminated, truncated, info = env.step(env.expert_action())
        if info["task_completed"] and completed_at is None:
            completed_at = env.turns
    assert completed_at is not None and completed_at < 30 and truncated and env.turns == 30
    assert not info["success"] and info["progress"] == pytest.approx(0.8)


def test_eto_first_observation_and_score_progress(env):
    eto = use_split(env, "test-eto")
    index = eto_index("lifespan-longest-lived", 94)
    obs, info = eto.reset(options={"index": index})
    assert obs.startswith("Task Description:\nYour task is to find the animal with the longest life span.")
    assert obs == "Task Description:\n" + info["goal"] and eto.max_turns == 10
    total, terminated, truncated = 0.0, False, False
    while not (terminated or truncated):
        _, reward, terminated, truncated, info = eto.step(eto.expert_action())
        total += reward
    assert info["success"] and info["score"] == 100 and info["progress"] == 1.0 == pytest.approx(total)
    assert eto.turns <= 10


def test_user_max_turns_overrides_the_upstream_limit(env):
    eto = use_split(env, "test-eto", max_turns=3)
    eto.reset(options={"index": 0})
    assert eto.max_turns == 3


def test_invalid_text_is_answered_by_the_simulator(env):
    _, info = env.reset(options={"index": 1})
    before = info["admissible_actions"]
    for text in ("", "dance wildly", "x" * 100_000, "移动🙂", "\x00\x1b[31m"):
        obs, reward, terminated, truncated, info = env.step(text)
        assert obs == "No known action matches that input." and not info["valid_action"] and reward == 0.0
        assert info["admissible_actions"] == before and not (terminated or truncated)


def test_replay_in_a_fresh_jvm_gives_identical_observations(env):
    """Bees wander in the greenhouse: with unpinned hash codes these observations differed run to run."""
    index = 9  # measure-melting-point-known-substance 5: its gold path passes the greenhouse and waits
    env.reset(options={"index": index})
    first = []
    for _ in range(12):
        first.append(env.step(env.expert_action()))
    other = ScienceWorldEnv(split="test")
    try:
        other.reset(options={"index": index})
        second = [other.step(action) for action in env._actions]
    finally:
        other.close()
    assert [s[0] for s in first] == [s[0] for s in second]
    assert first == second


def test_gold_paths_are_cached_on_disk_for_other_processes(env, tmp_path, monkeypatch):
    """A second environment (another JVM, as in another worker or run) finds the checked gold path on disk:
    it neither generates nor checks it again, and plays the same episode."""
    from agentrm_bench.envs.sciworld import gold_cache

    monkeypatch.setenv(gold_cache.VARIABLE, str(tmp_path))
    index = 3
    env._gold.clear()
    env.reset(options={"index": index})
    first = [env.expert_action()]
    first_run = [env.step(first[0])]
    [entry] = (tmp_path / gold_cache.GOLD).iterdir()
    other = ScienceWorldEnv(split="test")
    generated = []
    load = other.simulator.load
    other.simulator.load = lambda *args: generated.append(args) or load(*args)
    try:
        other.reset(options={"index": index})
        assert other.expert_action() == first[0]
        assert other.step(first[0]) == first_run[0]
        assert all(not (args[3:] and args[3]) for args in generated)  # no load asked for a gold path
        assert other._gold[other.instance(index)] == env._gold[env.instance(index)]
    finally:
        other.close()
    entry.write_bytes(b"damaged")  # an entry that cannot be read is recomputed and rewritten
    env._gold.clear()
    env.reset(options={"index": index})
    assert env.expert_action() == first[0] and entry.read_bytes() != b"damaged"


def test_restore_replays_the_prefix(env):
    env.reset(options={"index": 19})  # identify-life-stages-1 6: outside, among wandering animals
    for _ in range(6):
        observation = env.step(env.expert_action())[0]
    state = env.snapshot()
    later = [env.step(env.expert_action()) for _ in range(5)]
    obs, info = env.restore(state)
    assert info["turn"] == 6 and obs == observation
    again = [env.step(env.expert_action()) for _ in range(5)]
    assert again == later


def _replaying(snapshot):
    """The same snapshot without its saved state: restoring it replays the actions."""
    return type(snapshot)(snapshot.index, snapshot.reset_seed, snapshot.actions, None, snapshot.bookkeeping)


@pytest.mark.parametrize("index", [1, 19])  # 1: a bee hive (bees born and moved); 19: wandering animals
def test_saved_states_answer_as_a_replay_does(env, index):
    """Every state of a random walk, restored from the JVM in a shuffled order (with steps between),
    gives the observation, info and next step a replaying environment gives."""
    import random

    from agentrm_bench.envs.sciworld import states

    if states.class_path() is None:
        pytest.skip(f"saved states unavailable: {states.unavailable_reason()}")
    replaying = ScienceWorldEnv(split="test")
    try:
        rng = random.Random(index)
        obs, info = env.reset(options={"index": index})
        snapshots = [(env.snapshot(), obs)]
        for _ in range(12):
            obs, _, terminated, truncated, info = env.step(rng.choice(info["admissible_actions"]))
            snapshots.append((env.snapshot(), obs))
            if terminated or truncated:
                break
        assert all(s.native is not None for s, _ in snapshots)
        rng.shuffle(snapshots)
        for snapshot, observation in snapshots:
            restored = env.restore(snapshot)
            assert restored == replaying.restore(_replaying(snapshot)) and restored[0] == observation
            action = rng.choice(restored[1]["admissible_actions"])
            assert env.step(action) == replaying.step(action)
    finally:
        replaying.close()


def test_a_saved_state_of_another_jvm_is_replayed(env):
    env.reset(options={"index": 2})
    env.step(env.expert_action())
    snapshot = env.snapshot()
    other = ScienceWorldEnv(split="test")
    try:
        obs, info = other.restore(snapshot)  # not its JVM's: replayed
        assert obs == snapshot.bookkeeping[4] and info["turn"] == 1
        assert other.step("look around") == env.step("look around")
    finally:
        other.close()


def test_killed_jvm_raises_then_the_next_reset_starts_a_fresh_one(env):
    from agentrm_bench.envs.sciworld.sim import SimulatorError

    env.reset(options={"index": 2})
    env.step(env.expert_action())
    starts = env.simulator.starts
    os.kill(env.simulator.pid, signal.SIGKILL)
    time.sleep(0.2)
    with pytest.raises(SimulatorError, match="JVM exited"):
        env.step(env.expert_action())
    assert not env.simulator.running
    obs, info = env.reset(options={"index": 2})
    assert env.simulator.starts == starts + 1 and obs.startswith("Task Description:")
    terminated = truncated = False
    while not (terminated or truncated):
        _, _, terminated, truncated, info = env.step(env.expert_action())
    assert info["success"]


class JvmKiller(ExpertPolicy):
    """The expert, except that on instance 1 it kills the simulator's JVM at turn 2 while ``marker`` exists."""

    def __init__(self, marker: str = "") -> None:
        self.marker = marker
        self.index = -1

    def settings(self) -> dict:
        return {"marker": self.marker}

    def begin(self, *, task: str, index: int, seed: int) -> None:
        self.index = index

    def act(self, env, observation, info):
        if self.index == 1 and info["turn"] == 2 and os.path.exists(self.marker):
            os.remove(self.marker)
            os.kill(env.unwrapped.simulator.pid, signal.SIGKILL)
            time.sleep(0.2)
        return super().act(env, observation, info)


def test_a_jvm_crash_is_an_error_record_that_a_rerun_retries(tmp_path):
    pytest.importorskip("scienceworld")
    marker = tmp_path / "kill-once"
    marker.touch()
    config = RunConfig(
        policy="tests.test_sciworld:JvmKiller", policy_settings={"marker": str(marker)}, tasks=("sciworld",), limit=2
    )
    try:
        summary = harness.run(config, tmp_path / "run", workers=0, show_progress=False)
        assert (summary.finished, summary.errors, summary.success) == (1, 1, 1)
        error = RecordStore(tmp_path / "run").errors()[0]
        assert error.index == 1 and "SimulatorError" in error.error and error.progress == 0.0
        summary = harness.run(config, tmp_path / "run", workers=0, show_progress=False)
        assert (summary.finished, summary.errors, summary.success) == (2, 0, 2)
    finally:
        worker.close_envs()


# ----------------------------------------------------------------- the gold path solves every problem (slow)
def expert_shard(split: str, indices: list[int]) -> list[dict]:
    """Play the expert on ``indices`` with an ample turn budget (in a worker process: its own JVM), until the
    simulator reports the task completed or the episode ends. Solved = the simulator's completion, or on
    ``test`` AgentBoard's success (every subgoal matched), which ends an episode of its own accord: five gold
    paths (rows 21, 22, 23, 33, 35) match every subgoal before the simulator reports completion."""
    env = ScienceWorldEnv(split=split, max_turns=1000)
    results = []
    try:
        for index in indices:
            _, info = env.reset(options={"index": index})
            terminated = truncated = False
            while not (terminated or truncated or info.get("task_completed")):
                _, _, terminated, truncated, info = env.step(env.expert_action())
            solved = info["task_completed"] or (split == "test" and info["success"])
            results.append({"index": index, "success": solved, "turns": env.turns})
    finally:
        env.close()
    return results


def expert_over(split: str, indices: list[int], workers: int = 2) -> list[dict]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    shards = [indices[k::workers] for k in range(workers)]
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        parts = pool.map(expert_shard, [split] * workers, shards)
    return sorted((r for part in parts for r in part), key=lambda r: r["index"])


# CI time: all 90 `test` problems, and every third `test-eto` problem (71 of 211, all 24 task types);
# AGENTRM_SCIWORLD_FULL=1 plays all 211 (measured here: 515 s with two workers on a loaded machine).
ETO_STRIDE = 1 if os.environ.get("AGENTRM_SCIWORLD_FULL") == "1" else 3


@pytest.mark.slow
@pytest.mark.parametrize("split", ["test", "test-eto"])
def test_the_gold_path_completes_every_problem(split):
    """Every problem is solvable here. With an ample turn budget: many gold paths are longer than the
    upstream budgets (about 12 of 90 exceed AgentBoard's 30 turns, about 56 of 211 ETO's limits)."""
    pytest.importorskip("scienceworld")
    problems = sets.instances(split)
    indices = list(range(0, len(problems), ETO_STRIDE if split == "test-eto" else 1))
    assert {problems[k].task for k in indices} == {p.task for p in problems}
    results = expert_over(split, indices)
    assert [r["index"] for r in results if not r["success"]] == []
    over = [r["index"] for r in results if r["turns"] > problems[r["index"]].max_turns]
    print(f"{split}: {len(over)} of {len(indices)} gold paths exceed the upstream turn limit: {over}")
