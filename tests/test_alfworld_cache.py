"""ALFWorld's on-disk caches (plans, translations): keys, atomic entries, damaged entries survived, and
(on the engine) a rerun that plans nothing and plays exactly what the first run played."""

from __future__ import annotations

import zlib
from pathlib import Path

import gymnasium as gym
import pytest

import agentrm_bench  # noqa: F401  (registers the ids)
from agentrm_bench.envs.alfworld import cache
from agentrm_bench.envs.alfworld import games as alfworld_games

from .conftest import expert_steps
from .test_alfworld import ENV_ID, game_file, needs_engine

GAME = alfworld_games.games("test")[0][1]


@pytest.fixture
def cache_root(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "alfworld-cache"
    monkeypatch.setenv(cache.VARIABLE, str(root))
    return root


def entries(root: Path, kind: str) -> list[Path]:
    return sorted((root / kind).glob("*.json.z"))


# ---------------------------------------------------------------------- the store (no engine)
def test_keys_name_the_game_the_state_and_the_planner():
    start = cache.plan_key(GAME, [])
    assert start == cache.plan_key(GAME, ())
    assert len({start, cache.plan_key(GAME, ["look"]), cache.plan_key(GAME[::-1], [])}) == 3
    # Commands are kept apart: ["go to a", "b"] is not ["go to a b"].
    assert cache.plan_key(GAME, ["go to a", "b"]) != cache.plan_key(GAME, ["go to a b"])
    assert cache.translation_key("d", "p", True) != cache.translation_key("d", "p", False)
    version = cache.planner_version()
    assert version.startswith(f"schema {cache.SCHEMA}; ") and "fast-downward-textworld" in version


def test_an_entry_is_read_back_and_the_cache_can_be_moved_or_switched_off(cache_root, monkeypatch):
    key = cache.plan_key(GAME, [])
    assert cache.read_plan(key) is None
    cache.write_plan(key, ["go to sinkbasin 1", "take apple 3 from sinkbasin 1"])
    assert cache.read_plan(key) == ["go to sinkbasin 1", "take apple 3 from sinkbasin 1"]
    assert [p.name for p in entries(cache_root, cache.PLANS)] == [f"{key}.json.z"]
    assert not list((cache_root / cache.PLANS).glob("*.tmp"))  # written aside, then renamed
    cache.write_plan(cache.plan_key(GAME, ["look"]), [])  # "no plan" is not kept
    assert len(entries(cache_root, cache.PLANS)) == 1

    monkeypatch.setenv(cache.VARIABLE, "off")
    assert cache.cache_dir() is None and cache.read_plan(key) is None
    cache.write_plan(cache.plan_key(GAME, ["inventory"]), ["look"])
    assert len(entries(cache_root, cache.PLANS)) == 1
    monkeypatch.delenv(cache.VARIABLE)
    assert cache.cache_dir().parts[-2:] == ("agentrm-bench", "alfworld")  # the user cache


def test_a_damaged_entry_reads_as_missing_and_is_rewritten(cache_root):
    key = cache.plan_key(GAME, [])
    cache.write_plan(key, ["look"])
    [file] = entries(cache_root, cache.PLANS)
    whole = file.read_bytes()
    flipped = bytearray(whole)
    flipped[len(flipped) // 2] ^= 0xFF
    other_key = zlib.compress(b'{"key": "0", "value": ["look"]}')
    not_a_plan = zlib.compress(f'{{"key": "{key}", "value": "look"}}'.encode())
    for damaged in (whole[: len(whole) // 2], bytes(flipped), b"", b"not zlib", other_key, not_a_plan):
        file.write_bytes(damaged)
        assert cache.read_plan(key) is None, damaged
    cache.write_plan(key, ["inventory"])
    assert cache.read_plan(key) == ["inventory"]


def test_an_unwritable_cache_only_costs_time(cache_root):
    cache_root.write_text("a file where the folder should be")
    key = cache.plan_key(GAME, [])
    cache.write_plan(key, ["look"])
    assert cache.read_plan(key) is None


# ---------------------------------------------------------------------- on the engine
def test_a_rerun_plans_nothing_and_plays_what_the_first_run_played(cache_root):
    """The first expert episode fills both caches; a fresh environment (a new engine process) then plays
    the same steps without calling the planner, its games translated from the disk."""
    needs_engine()
    game_file("test", 0)
    first_env = gym.make(ENV_ID).unwrapped
    try:
        first = expert_steps(first_env, 0)
    finally:
        first_env.close()
    assert first[-1][-1]["success"]
    assert len(entries(cache_root, cache.PLANS)) == 1
    assert len(entries(cache_root, cache.TRANSLATIONS)) == 2  # plain and optimised

    env = gym.make(ENV_ID).unwrapped
    try:
        env.engine.plan = lambda: pytest.fail("planned although the plan is cached")
        translations = {p: p.stat().st_mtime_ns for p in entries(cache_root, cache.TRANSLATIONS)}
        assert expert_steps(env, 0) == first
        assert {p: p.stat().st_mtime_ns for p in entries(cache_root, cache.TRANSLATIONS)} == translations
    finally:
        env.close()


def test_damaged_entries_are_survived_and_rewritten(cache_root):
    """Every entry cut short: the engine translates and plans again, plays the same, and repairs them."""
    needs_engine()
    game_file("test", 0)
    env = gym.make(ENV_ID).unwrapped
    key = cache.plan_key(GAME, [])
    try:
        first = expert_steps(env, 0)
        plan = cache.read_plan(key)
        env.engine.close()  # the next reset starts an engine with nothing in memory
        files = entries(cache_root, cache.PLANS) + entries(cache_root, cache.TRANSLATIONS)
        assert len(files) == 3 and len(plan) == len(first) - 1
        for file in files:
            file.write_bytes(file.read_bytes()[:10])
        planned = []
        real_plan = env.engine.plan
        env.engine.plan = lambda: planned.append(1) or real_plan()
        assert expert_steps(env, 0) == first
        assert planned == [1]
    finally:
        env.close()
    assert cache.read_plan(key) == plan
    for file in entries(cache_root, cache.TRANSLATIONS):
        assert isinstance(cache.read(cache.TRANSLATIONS, file.name.split(".")[0], lambda value: True), str)
