"""The environment contract (docs/architecture.md), checked on every available task id."""

from __future__ import annotations

import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import agentrm_bench  # noqa: F401  (registers the ids)
from agentrm_bench import tasks
from agentrm_bench.env import EPISODE_OVER

from .conftest import available_ids

IDS = available_ids()
REQUIRED_INFO = {"task", "index", "goal", "progress", "success", "valid_action"}


def fuzz_actions(rng: np.random.Generator, admissible: list[str], count: int) -> list[str]:
    """Empty, huge, control-character, non-ASCII and near-miss action texts."""
    fixed = ["", " ", "\n", "\x00\x01\x1b[31m", "🙂🙃" * 50, "移动", "x" * 100_000, "\t\r\n" * 10]
    out = list(fixed)
    while len(out) < count:
        base = admissible[int(rng.integers(len(admissible)))] if admissible else "look"
        kind = int(rng.integers(6))
        if kind == 0:
            out.append(base[:-1])  # truncated word
        elif kind == 1:
            out.append(base + "x")
        elif kind == 2:
            out.append(base.upper())
        elif kind == 3:
            out.append(base + " " + str(int(rng.integers(1000))))
        elif kind == 4:
            out.append("".join(chr(int(c)) for c in rng.integers(0, 0x2FFF, size=int(rng.integers(1, 40)))))
        else:
            out.append(base.replace(" ", "  "))
    return out[:count]


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def test_nine_tasks_with_fixed_ids():
    assert [s.id for s in tasks.specs()] == [
        "agentrm/WebShop-v0",
        "agentrm/ALFWorld-v0",
        "agentrm/ScienceWorld-v0",
        "agentrm/BabyAI-v0",
        "agentrm/Jericho-v0",
        "agentrm/PDDL-v0",
        "agentrm/ToolQuery-v0",
        "agentrm/ToolOperation-v0",
        "agentrm/Maze-v0",
    ]
    assert [s.name for s in tasks.select("held-in")] == ["webshop", "alfworld", "sciworld"]
    assert len(tasks.select("held-out")) == 6
    assert [s.name for s in tasks.select("maze,babyai,maze")] == ["maze", "babyai"]


@pytest.mark.parametrize("spec", tasks.specs(), ids=lambda s: s.name)
def test_every_spec_agrees_with_its_environment(spec):
    """The spec is the task's one source of facts: the env class reads it, and every split has its size."""
    if not tasks.runnable(spec):
        pytest.skip(f"{spec.name}: {tasks.availability(spec)[1]}")
    cls = tasks.env_class(spec)
    assert (cls.task, cls.splits, cls.default_max_turns) == (spec.name, spec.splits, spec.max_turns)
    assert cls.task_spec is spec and spec.id in gym.registry
    for split, size in spec.sizes.items():
        env = gym.make(spec.id, split=split)
        try:
            assert env.unwrapped.num_instances == size, split
            assert env.unwrapped.max_turns == spec.max_turns or split != "test"
        finally:
            env.close()


def test_maze_and_babyai_are_available():
    assert "agentrm/Maze-v0" in IDS and "agentrm/BabyAI-v0" in IDS


@pytest.mark.parametrize("spec", [s for s in tasks.specs() if s.pending_issue], ids=lambda s: s.name)
def test_unbuilt_task_gives_a_clear_error(spec):
    with pytest.raises(tasks.TaskUnavailableError, match=rf"issue #{spec.pending_issue}"):
        gym.make(spec.id)


def test_unknown_task_name():
    with pytest.raises(tasks.UnknownTaskError, match="known tasks: webshop"):
        tasks.select("maze,mazee")


@pytest.mark.parametrize("env_id", IDS)
def test_check_env(env_id):
    env = gym.make(env_id)
    check_env(env.unwrapped, skip_render_check=True)


@pytest.mark.parametrize("env_id", IDS)
def test_info_keys_and_rewards_sum_to_progress(env_id):
    env = gym.make(env_id)
    obs, info = env.reset(seed=3, options={"index": 0})
    assert isinstance(obs, str) and obs
    assert REQUIRED_INFO <= info.keys()
    assert info["index"] == 0 and info["progress"] in (0.0, None)
    total, terminated, truncated = 0.0, False, False
    while not (terminated or truncated):
        obs, reward, terminated, truncated, info = env.step(env.unwrapped.expert_action())
        total += reward
        assert REQUIRED_INFO <= info.keys()
    assert info["success"] and terminated and not truncated
    if info["progress"] is not None:
        assert total == pytest.approx(info["progress"]) and info["progress"] == 1.0
    obs, reward, terminated, _, info = env.step("anything")
    assert obs == EPISODE_OVER and reward == 0.0 and terminated and info["valid_action"] is False


@pytest.mark.parametrize("env_id", IDS)
def test_reset_index_out_of_range_is_a_clear_error(env_id):
    env = gym.make(env_id)
    n = env.unwrapped.num_instances
    for bad in (-1, n, "3", 1.5):
        with pytest.raises(ValueError, match="options\\['index'\\]"):
            env.reset(options={"index": bad})


@pytest.mark.parametrize("env_id", IDS)
def test_fuzzed_actions_never_raise(env_id):
    env = gym.make(env_id, max_turns=10_000)
    rng = np.random.default_rng(0)
    _, info = env.reset(seed=0, options={"index": 1})
    admissible = info.get("admissible_actions") or []
    allowed = {_norm(a) for a in admissible}
    reader = getattr(env.unwrapped, "canonical_action", None)  # a task's own (lenient) reading of a text
    for action in fuzz_actions(rng, admissible, 1000):
        reading = reader(action) if reader is not None else None
        obs, reward, terminated, truncated, info = env.step(action)
        assert isinstance(obs, str)
        # Tasks read commands case-insensitively, and "check ..." asks for the action list (AgentBoard):
        # only text that matches no admissible action in any such reading must be flagged invalid.
        if reader is not None:
            # the task says which action a text stands for; a step is valid exactly when it names one
            assert info["valid_action"] is (reading is not None), action
        elif action.strip() and _norm(action) not in allowed and "check" not in action.lower():
            assert info["valid_action"] is False, action
        if terminated or truncated:
            env.reset(seed=0, options={"index": 1})
    # still usable: the expert solves the instance after all that
    env.reset(seed=0, options={"index": 1})
    terminated = truncated = False
    while not (terminated or truncated):
        _, _, terminated, truncated, info = env.step(env.unwrapped.expert_action())
    assert info["success"]


@pytest.mark.parametrize("env_id", IDS)
@pytest.mark.parametrize("native", [True, False], ids=["native", "replay"])
def test_snapshot_restore_replays_identically(env_id, native, monkeypatch):
    env = gym.make(env_id).unwrapped
    if not native:
        monkeypatch.setattr(env, "_native_state", lambda: None)
    rng = np.random.default_rng(1)
    last = env.num_instances - 1  # the longest instances: the episode is still running after 3 steps
    obs, info = env.reset(seed=5, options={"index": last})
    for _ in range(3):
        obs, *_, info = env.step(env.expert_action())
    state = env.snapshot()
    actions, first = [], []
    for _ in range(4):
        choices = info.get("admissible_actions") or [env.expert_action()]
        actions.append(choices[int(rng.integers(len(choices)))])
        step = env.step(actions[-1])
        info = step[-1]
        first.append(step)
    restored_obs, restored_info = env.restore(state)
    assert restored_obs == obs and restored_info["turn"] == 3
    second = [env.step(a) for a in actions]
    assert first == second


def test_module_colon_id_form_imports_the_package():
    code = "import gymnasium as gym; env = gym.make('agentrm_bench:agentrm/Maze-v0'); print(env.reset()[0])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("The goal is at position 8, 6.")
