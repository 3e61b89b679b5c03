"""Frozen candidate pools: the noisy expert, building (resumable, reproducible, content-addressed), the
file format and its digests, named pools and their rebuild, and the exact Best-of-k / step metrics."""

from __future__ import annotations

import gzip
import itertools
import json
import math
import shutil

import gymnasium as gym
import pytest

from agentrm_bench import policies, tasks
from agentrm_bench.cli import main
from agentrm_bench.pools import store
from agentrm_bench.pools.build import BuildConfig, build, selection
from agentrm_bench.pools.format import PoolError, decode, encode, read
from agentrm_bench.pools.metrics import expected_best, ks, step_credit

from . import pool_fixtures

maze_pool = pool_fixtures.maze_pool  # a fixture
CONFIG, EPSILONS = pool_fixtures.CONFIG, pool_fixtures.EPSILONS


# ---------------------------------------------------------------------- the noisy expert
def _play(policy, env, index, seed):
    policy.begin(task="maze", index=index, seed=seed)
    observation, info = env.reset(seed=seed, options={"index": index})
    actions, done = [], False
    while not done:
        expert = env.unwrapped.expert_action()
        action = policy.act(env, observation, info)
        actions.append((action, expert))
        observation, _, terminated, truncated, info = env.step(action)
        done = terminated or truncated
    return actions, info


def test_noisy_expert_is_the_expert_at_epsilon_zero_and_never_at_one():
    env = gym.make(tasks.get("maze").id)
    steps, info = _play(policies.create("noisy-expert", epsilon=0.0), env, 3, seed=1)
    assert all(action == expert for action, expert in steps) and info["success"]
    steps, _ = _play(policies.create("noisy-expert", epsilon=1.0), env, 3, seed=1)
    assert all(action != expert for action, expert in steps)  # maze lists its moves: there is always another


def test_noisy_expert_is_seeded_and_checks_epsilon():
    env = gym.make(tasks.get("maze").id)
    first = _play(policies.create("noisy-expert", epsilon=0.5), env, 2, seed=7)[0]
    again = _play(policies.create("noisy-expert", epsilon=0.5), env, 2, seed=7)[0]
    other = _play(policies.create("noisy-expert", epsilon=0.5), env, 2, seed=8)[0]
    assert first == again and first != other
    for bad in (-0.1, 1.5, "a", True):
        with pytest.raises(policies.PolicyConfigError, match="epsilon"):
            policies.create("noisy-expert", epsilon=bad)


def test_noisy_expert_without_admissible_actions_repeats_earlier_ones():
    policy = policies.create("noisy-expert", epsilon=1.0)
    assert policy.alternatives("open door", {}, ["north", "open door", "north"]) == ["north"]
    assert policy.alternatives("open door", {}, []) == []  # nothing else known: acts as the expert
    assert policy.alternatives("b", {"admissible_actions": ["a", "b", "c"]}, ["x"]) == ["a", "c"]


# ---------------------------------------------------------------------- building
def test_a_pool_holds_candidates_states_siblings_and_values(maze_pool):
    _, built = maze_pool
    header, instances, digest = decode(built.blob)
    assert digest == built.sha256 and header["synthetic"] is True and header["epsilon"] == EPSILONS
    assert header["tasks"] == {"maze": 4} and header["n"] == 4 and header["build"] == CONFIG.to_json()
    assert [i.index for i in instances] == [0, 1, 2, 3]
    for instance in instances:
        assert [c.settings["epsilon"] for c in instance.candidates] == [0.2, 0.8, 0.2, 0.8]
        assert len(instance.states) == 2
        for s, state in enumerate(instance.states):
            candidate = instance.candidates[state.candidate]
            assert state.depth < len(candidate.steps)
            first = state.siblings[0]
            assert first.step == candidate.steps[state.depth]  # the candidate's own step comes first
            actions = [b.step.action for b in state.siblings]
            assert len(set(actions)) == len(actions) == 3  # distinct: maze has four moves
            for j, sibling in enumerate(state.siblings):
                partial = instance.sibling_trajectory(s, j)
                assert partial.steps[: state.depth] == candidate.steps[: state.depth]
                assert partial.steps[-1] == sibling.step and partial.info["turn"] == state.depth + 1
                assert len(sibling.rollouts) == (0 if sibling.done else 2)
                values = [float(o.success) for o in sibling.rollouts] or [float(sibling.reached.success)]
                assert sibling.value("success") == sum(values) / len(values)
        full = instance.candidate_trajectory(0)
        assert full.done and full.success == instance.candidates[0].outcome.success


def test_a_rebuild_names_the_same_digest_and_a_resume_keeps_finished_instances(maze_pool, tmp_path):
    root, built = maze_pool
    shutil.copytree(root / "build", tmp_path / "build")
    lines = (tmp_path / "build" / "records.jsonl").read_text().splitlines(keepends=True)
    (tmp_path / "build" / "records.jsonl").write_text("".join(lines[:2]) + lines[2][:40])  # killed mid-write
    again = build(CONFIG, tmp_path / "build", workers=0, show_progress=False)
    assert again.sha256 == built.sha256 and again.blob == built.blob
    assert again.summary.skipped == 2
    fresh = build(CONFIG, tmp_path / "fresh", workers=1, show_progress=False)  # in a worker process
    assert fresh.sha256 == built.sha256


def test_a_build_of_another_configuration_is_refused_in_the_same_directory(maze_pool):
    root, _ = maze_pool
    other = BuildConfig(**{**CONFIG.to_json(), "tasks": ("maze",), "n": 2})
    with pytest.raises(Exception, match="holds a run with a different config"):
        build(other, root / "build", workers=0, show_progress=False)


def test_sample_selects_seeded_instances_per_task():
    config = BuildConfig(policy="noisy-expert", tasks=("maze", "babyai"), sample={"maze": 3, "babyai": 2}, seed=5)
    chosen = selection(config)
    assert [t for t, _ in chosen] == ["maze"] * 3 + ["babyai"] * 2 and selection(config) == chosen
    reseeded = BuildConfig(**{**config.to_json(), "tasks": config.tasks, "seed": 6})
    assert len(set(chosen)) == 5 and selection(reseeded) != chosen
    assert selection(BuildConfig(policy="noisy-expert", tasks=("maze",))) is None  # no sample: the plan as is
    with pytest.raises(PoolError, match="no count for babyai"):
        selection(BuildConfig(policy="noisy-expert", tasks=("maze", "babyai"), sample={"maze": 3}))


def test_model_policy_candidates_come_from_its_model_and_carry_their_tokens(tmp_path):
    config = BuildConfig(policy="tests.scripted_policies:SeededGreedy", tasks=("maze",), n=3, states=1, limit=2)
    built = build(config, tmp_path / "b", workers=0, show_progress=False)
    header, instances, _ = decode(built.blob)
    assert header["synthetic"] is False and header["epsilon"] is None
    assert header["policy"]["resolved"]["model"] == "scripted"
    for instance in instances:
        assert all(c.tokens > 0 and c.steps[0].thought.startswith("I pick") for c in instance.candidates)
        assert len({tuple(s.action for s in c.steps) for c in instance.candidates}) > 1  # seeded samples differ


def test_model_candidates_need_a_temperature(tmp_path):
    config = BuildConfig(policy="greedy", policy_settings={"model": "scripted"}, tasks=("maze",), n=2, limit=1)
    with pytest.raises(Exception, match="temperature above 0"):
        build(config, tmp_path / "b", workers=0, show_progress=False)


# ---------------------------------------------------------------------- the file and its name
def test_digest_is_of_the_content_and_a_changed_pool_is_refused(maze_pool, tmp_path):
    root, built = maze_pool
    header, instances, digest = decode(built.blob)
    raw = gzip.decompress(built.blob)
    recompressed = gzip.compress(raw, compresslevel=1)  # other bytes on disk, the same pool
    assert recompressed != built.blob and decode(recompressed)[2] == digest
    assert encode({k: v for k, v in header.items() if k not in ("format", "version")}, reversed(instances))[1] == digest
    path = tmp_path / "x.pool.jsonl.gz"
    path.write_bytes(gzip.compress(raw.replace(b'"success":true', b'"success":false', 1)))
    with pytest.raises(PoolError, match="not the"):
        read(path, sha256=digest)
    (tmp_path / "bad.pool.jsonl.gz").write_bytes(b"not gzip")
    with pytest.raises(PoolError, match="not a gzipped"):
        read(tmp_path / "bad.pool.jsonl.gz")


def test_named_pools_are_read_through_their_descriptor(maze_pool, tmp_path):
    root, built = maze_pool
    pools = tmp_path / "pools"
    shutil.copytree(root / "pools", pools)
    pool = store.open_pool("tiny", pools)
    assert pool.sha256 == built.sha256 and pool.tasks() == ["maze"]
    assert store.open_pool(str(pools / "tiny.pool.jsonl.gz")).sha256 == built.sha256  # by path, checked too
    descriptor = json.loads((pools / "tiny.json").read_text())
    assert descriptor["committed"] and descriptor["command"].startswith("agentrm-bench pool build --policy noisy")
    with pytest.raises(PoolError, match="known: tiny"):
        store.open_pool("nope", pools)
    other = BuildConfig(**{**CONFIG.to_json(), "tasks": ("maze",), "limit": 1})
    with pytest.raises(PoolError, match="names another pool"):
        store.install(pools, "tiny", b"x", "0" * 64, built.header, other, replace=False)
    (pools / "tiny.pool.jsonl.gz").unlink()
    with pytest.raises(PoolError, match="pool rebuild tiny"):
        store.open_pool("tiny", pools)


def test_pool_rebuild_installs_only_the_named_digest(maze_pool, tmp_path, capsys):
    root, built = maze_pool
    pools = tmp_path / "pools"
    shutil.copytree(root / "pools", pools)
    (pools / "tiny.pool.jsonl.gz").unlink()
    assert main(["pool", "rebuild", "tiny", "--pools", str(pools), "--workers", "0", "--no-progress"]) == 0
    assert store.open_pool("tiny", pools).sha256 == built.sha256
    descriptor = json.loads((pools / "tiny.json").read_text())
    (pools / "tiny.json").write_text(json.dumps({**descriptor, "sha256": "1" * 64}))
    (pools / "tiny.pool.jsonl.gz").unlink()
    assert main(["pool", "rebuild", "tiny", "--pools", str(pools), "--workers", "0", "--no-progress"]) == 1
    assert "NOT installed" in capsys.readouterr().err and not (pools / "tiny.pool.jsonl.gz").exists()


def test_pool_build_command_and_its_usage_errors(tmp_path, capsys):
    argv = ["pool", "build", "--policy", "noisy-expert", "--epsilon", "0.3,0.6", "-n", "2", "--tasks", "maze"]
    argv += ["--limit", "2", "--states", "1", "--out", str(tmp_path / "b"), "--workers", "0", "--no-progress"]
    assert main([*argv, "--name", "two", "--pools", str(tmp_path / "pools")]) == 0
    out = capsys.readouterr().out
    assert "synthetic; N=2; instances: maze 2" in out and "installed as two" in out
    assert main(["pool", "list", "--pools", str(tmp_path / "pools")]) == 0
    assert "| two " in capsys.readouterr().out
    for extra, message in (
        (["--epsilon", "0.1", "--policy", "expert"], "--epsilon is for --policy noisy-expert"),
        (["--sample", "maze=x"], "--sample takes"),
        (["--sample", "2", "--limit", "1"], "not both"),
        (["--name", "bad name"], "pool name"),
        (["--tasks", "nosuch"], "nosuch"),
        (["--policy-arg", "epsilon=7"], "epsilon must be"),
    ):
        base = ["pool", "build", "--policy", "noisy-expert", "--tasks", "maze", "--out", str(tmp_path / "z")]
        assert main([*base, *extra]) == 2, extra
        assert message in capsys.readouterr().err
    assert not (tmp_path / "z").exists()  # refused before anything was written


# ---------------------------------------------------------------------- metrics
def _brute_force(scores, values, k):
    """Best-of-k by enumerating every k-subset, ties split evenly among the tied best."""
    total = 0.0
    subsets = list(itertools.combinations(range(len(scores)), k))
    for subset in subsets:
        top = max(scores[i] for i in subset)
        tied = [values[i] for i in subset if scores[i] == top]
        total += sum(tied) / len(tied)
    return total / len(subsets)


@pytest.mark.parametrize(
    "scores, values",
    [
        ([3, 1, 2, 0, 5], [0, 1, 0.5, 1, 0]),
        ([1, 1, 1, 1], [1, 0, 0, 1]),
        ([2, 2, 1, 3, 3, 0], [0.1, 0.9, 0.4, 0.0, 1.0, 0.7]),
        ([0.5], [1.0]),
    ],
)
def test_best_of_k_is_the_exact_expectation_over_subsets(scores, values):
    for k in range(1, len(scores) + 1):
        assert math.isclose(expected_best(scores, values, k), _brute_force(scores, values, k), abs_tol=1e-12)


def test_bounds_random_is_flat_and_oracle_is_the_best():
    values = [0.0, 1.0, 0.25, 0.5]
    mean = sum(values) / 4
    for k in range(1, 5):
        assert math.isclose(expected_best([7] * 4, values, k), mean)  # no preference: random@k
    assert expected_best(values, values, 4) == 1.0 and math.isclose(expected_best(values, values, 1), mean)
    assert ks(8) == [1, 2, 4, 8] and ks(6) == [1, 2, 4, 6] and ks(1) == [1]
    with pytest.raises(ValueError):
        expected_best([1, 2], [1, 2], 3)


def test_step_credit():
    assert step_credit([1, 2, 3], [0.0, 0.5, 1.0]) == (1.0, 3.0, 3)  # ordered exactly like the values
    assert step_credit([3, 2, 1], [0.0, 0.5, 1.0]) == (0.0, 0.0, 3)
    assert step_credit([1, 1], [0.0, 1.0]) == (0.5, 0.5, 1)  # a tie is half right
    assert step_credit([1, 2], [1.0, 1.0]) is None  # equal values say nothing
    assert step_credit([5, 5, 0], [1.0, 0.0, 1.0]) == (0.5, 0.5, 2)  # a tie, then a wrong order
