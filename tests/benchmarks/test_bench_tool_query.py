"""Tool-Query speed (pytest-benchmark; run with --benchmark-only): tool call latency per toolset.

Measured on the synthetic fixtures (tests/fixtures/tool-query): a tool call through ``env.step``
(parse, dispatch, progress matching) for an in-process networkx lookup (academia) and for cassette
replay (weather, movie); the expert's whole episode; snapshot + restore. Live API latency (network) and
the real DBLP graph's load time cannot be measured here.
"""

from __future__ import annotations

import json

import pytest

pytest.importorskip("networkx")
pytest.importorskip("geopy")

from agentrm_bench.envs.tool_query.env import ToolQueryEnv  # noqa: E402

from ..test_tool_query import CASSETTES, FIXTURES, ROWS, build_graph_files  # noqa: E402

CALLS = {
    "academia": (1006, "neighbourCheck", {"graph": "AuthorNet", "node": "Ada Quill"}),
    "weather": (
        2001,
        "get_historical_temp",
        {"latitude": 10.5, "longitude": 20.25, "start_date": "2023-03-09", "end_date": "2023-03-09"},
    ),
    "movie": (3001, "get_movie_crew", {"movie_id": 900001}),
}


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> ToolQueryEnv:
    graph = build_graph_files(FIXTURES / "academia_graph.json", tmp_path_factory.mktemp("academia") / "raw")
    return ToolQueryEnv(rows=ROWS, academia_dir=graph, cassette_dir=CASSETTES, allow_synthetic=True, max_turns=10**9)


def index_of(env: ToolQueryEnv, row_id: int) -> int:
    return next(i for i in range(env.num_instances) if env.row(i).id == row_id)


@pytest.mark.parametrize("toolset", list(CALLS))
def test_tool_call_latency(benchmark, env, toolset):
    """One tool call through env.step; a fresh episode every 30 calls (the task's turn limit)."""
    benchmark.group = "tool-query: tool call via env.step"
    row_id, tool, args = CALLS[toolset]
    index = index_of(env, row_id)
    action = f"Action: {tool} with Action Input: {json.dumps(args)}"
    env.reset(options={"index": index})
    if toolset == "academia":
        env.step("Action: loadAuthorNet with Action Input: {}")
    state = {"turns": 0}

    def call():
        obs, *_ = env.step(action)
        state["turns"] += 1
        if state["turns"] >= 30:
            state["turns"] = 0
            env.reset(options={"index": index})
            if toolset == "academia":
                env.step("Action: loadAuthorNet with Action Input: {}")
        return obs

    assert not benchmark(call).startswith("ERROR")


def test_expert_episodes_all_fixture_rows(benchmark, env):
    """The expert over all 13 fixture rows (reset + every step)."""
    benchmark.group = "tool-query: expert"

    def run():
        solved = 0
        for index in range(env.num_instances):
            env.reset(options={"index": index})
            terminated = truncated = False
            while not (terminated or truncated):
                _, _, terminated, truncated, info = env.step(env.expert_action())
            solved += info["success"]
        return solved

    assert benchmark(run) == env.num_instances


def test_snapshot_restore(benchmark, env):
    benchmark.group = "tool-query: branching"
    env.reset(options={"index": index_of(env, 1002)})
    for _ in range(6):
        env.step(env.expert_action())

    def branch():
        return env.restore(env.snapshot())

    assert benchmark(branch)[1]["turn"] == 6
