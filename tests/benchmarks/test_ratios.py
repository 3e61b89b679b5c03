"""The regression checks CI runs: each of our paths against its floor, as a ratio measured in this run.

Run them with ``pytest tests/benchmarks/test_ratios.py --benchmark-only`` (about a minute); each prints
one verdict line at the end. Limits are the measured ratio with room for noise on a loaded 2-core
machine, so they catch a regression (a per-step copy, a sync per record) on any machine.
"""

from __future__ import annotations

import contextlib
import io

import gymnasium as gym
import pytest

import agentrm_bench  # noqa: F401
from agentrm_bench import harness, tasks
from agentrm_bench.manifest import RunConfig
from agentrm_bench.policies import NoopPolicy

from .ratios import check, measure

BABYAI_INSTANCES = range(0, 112, 8)  # 14 instances, two seeds of every other level


def test_harness_in_process_against_a_plain_loop(benchmark, tmp_path_factory):
    """What the harness adds per episode (records, manifest, progress, scores) over reset + step."""
    env = gym.make("agentrm/BabyAI-v0")
    policy = NoopPolicy()
    limit = 112

    def plain():
        for index in range(limit):
            obs, info = env.reset(seed=index, options={"index": index})
            done = False
            while not done:
                obs, _, terminated, truncated, info = env.step(policy.act(env, obs, info))
                done = terminated or truncated

    def ours():
        out = tmp_path_factory.mktemp("run")
        harness.run(RunConfig(policy="noop", tasks=("babyai",), limit=limit), out, workers=0, show_progress=False)

    check(benchmark, measure("harness in process / plain loop (112 BabyAI no-op episodes)", ours, plain, 1.5, 5))


def _babyai_episodes():
    """Expert text actions per instance, and the minigrid primitives those actions ran."""
    env = gym.make("agentrm/BabyAI-v0").unwrapped
    episodes = []
    for index in BABYAI_INSTANCES:
        env.reset(seed=0, options={"index": index})
        primitives: list[int] = []
        actions, done = [], False
        while not done:
            actions.append(env.expert_action())  # planned first: the expert steps copies of the level
            level_step = env.level.step

            def recording(action, _step=level_step, _out=primitives):  # noqa: ANN001, ANN202
                _out.append(int(action))
                return _step(action)

            env.level.step = recording
            _, _, terminated, truncated, _ = env.step(actions[-1])
            del env.level.step
            done = terminated or truncated
        episodes.append((index, actions, primitives))
    return env, episodes


def test_babyai_step_against_raw_minigrid(benchmark):
    """Our text step (command parsing, text rendering, progress) against minigrid stepping the same primitives."""
    env, episodes = _babyai_episodes()
    from agentrm_bench.envs.babyai import levels

    raw = {index: levels.build(levels.instance(index).level) for index, _, _ in episodes}

    def ours():
        for index, actions, _ in episodes:
            env.reset(seed=0, options={"index": index})
            for action in actions:
                env.step(action)

    def floor():
        for index, _, primitives in episodes:
            level = raw[index]
            with contextlib.redirect_stdout(io.StringIO()):
                level.reset(seed=levels.instance(index).seed)
            for primitive in primitives:
                level.step(primitive)

    check(benchmark, measure("BabyAI env step / raw minigrid step (14 expert episodes)", ours, floor, 3.0, 5))


def test_tool_operation_through_the_local_sandbox_against_in_process(benchmark):
    """The sandbox's socket round trips against the same service in this process (expert on 4 rows)."""
    spec = tasks.get("tool-operation")
    if not tasks.runnable(spec):
        pytest.skip(f"tool-operation: {tasks.availability(spec)[1]}")
    rows = (0, 1, 20, 21)
    local = gym.make(spec.id, sandbox="local").unwrapped
    inproc = gym.make(spec.id, sandbox=None).unwrapped
    plans = {}
    for index in rows:
        inproc.reset(options={"index": index})
        actions, done = [], False
        while not done:
            actions.append(inproc.expert_action())
            *_, terminated, truncated, _ = inproc.step(actions[-1])
            done = terminated or truncated
        plans[index] = actions

    def play(env):  # noqa: ANN001, ANN202
        def episodes():
            for index, actions in plans.items():
                env.reset(options={"index": index})
                for action in actions:
                    env.step(action)

        return episodes

    try:
        ratio = measure(
            "Tool-Operation step via local sandbox / in process (expert, 4 rows)", play(local), play(inproc), 6.0, 5
        )
    finally:
        local.close()
        inproc.close()
    check(benchmark, ratio)
