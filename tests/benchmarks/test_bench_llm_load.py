"""64 episodes in flight against a real model server: what the server holds, and tokens/s against 8 in flight.

The greedy and the beam policy play 64 BabyAI episodes at once in one process (the harness's
``--in-flight 64``) against ``AGENTRM_TEST_SERVER_URL_WIDE``, a vLLM server that decodes up to 64
sequences together (``.ci/llm-server start --name wide --parallel 64``). The server's own count
(``/load``, see :mod:`tests.server_load`) gives the requests it holds while the run goes on: 64 episodes
must keep at least 32 of them there, or the client (the event loop, the episodes' own environment
steps, a batch barrier) is the bottleneck. How many of those its engine decodes at a moment
(``/metrics``) is reported beside it. The same greedy episodes with 8 in flight are the floor of the tokens/s ratio.
Run with ``pytest -m server tests/benchmarks/test_bench_llm_load.py --benchmark-only -s``.
"""

from __future__ import annotations

import pytest

from agentrm_bench.manifest import RunConfig

from ..conftest import server_at
from ..server_load import Played, play_against, server_counts
from .ratios import VERDICTS

pytest.importorskip("openai")

WIDE = "AGENTRM_TEST_SERVER_URL_WIDE"
START = ".ci/llm-server start --name wide --parallel 64"
EPISODES = 64
TURNS = 3  # beam search: W x K requests per episode and turn keep the server full for minutes already
GREEDY_TURNS = 6  # greedy: one request per turn; with 3 turns the ramp up and the stragglers were ~half the run
# (a CI run under load measured a median of 29 running with 3 turns)


def config(url: str, policy: str, turns: int = TURNS, **settings) -> RunConfig:  # noqa: ANN003
    # A short prompt (no in-context example) and short replies: the load, not the model, is measured.
    settings = {"model": f"openai:{url}", "max_tokens": 24, "example": False, **settings}
    return RunConfig(policy=policy, policy_settings=settings, tasks=("babyai",), limit=EPISODES, max_turns=turns)


def wide_server() -> str:
    url = server_at(WIDE, START)
    if server_counts(url) is None:
        pytest.skip(f"the server at {url} publishes no vllm:num_requests_running gauge at /metrics")
    return url


def assert_server_holds_32(played: Played) -> None:
    """At least 32 requests at the server (median over the run): those it holds, where it counts them
    (``.ci/llm-server``'s servers do), else those its engine decodes."""
    sampler = played.sampler
    median = sampler.median_held() if sampler.counts_held() else sampler.median_running()
    assert median >= 32, played.describe()


@pytest.mark.server
def test_64_greedy_episodes_in_flight_keep_32_requests_running(benchmark, tmp_path):
    url = wide_server()
    greedy = config(url, "greedy", turns=GREEDY_TURNS)
    eight = play_against(url, tmp_path / "eight", greedy, in_flight=8)
    wide = play_against(url, tmp_path / "wide", greedy, in_flight=EPISODES)
    ratio = wide.tokens_per_second / eight.tokens_per_second
    benchmark.extra_info.update(
        held_median=wide.sampler.median_held(),
        running_median=wide.sampler.median_running(),
        at_server_median=wide.sampler.median_at_server(),
        tokens_per_s_64=wide.tokens_per_second,
        tokens_per_s_8=eight.tokens_per_second,
        ratio=ratio,
    )
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)
    VERDICTS.append(f"greedy, 64 in flight: {wide.describe()}")
    VERDICTS.append(f"greedy, 8 in flight: {eight.describe()}")
    VERDICTS.append(f"tokens/s, 64 in flight / 8 in flight: {ratio:.2f}x")
    assert wide.finished == eight.finished == EPISODES and wide.errors == eight.errors == 0
    assert_server_holds_32(wide)
    assert ratio >= 1.0, "64 episodes in flight must not decode slower than 8"


@pytest.mark.server
def test_64_beam_episodes_in_flight_keep_32_requests_running(benchmark, tmp_path):
    url = wide_server()
    beam = config(url, "beam", rm="oracle", beam_width=2, expansions=3)
    played = play_against(url, tmp_path / "beam", beam, in_flight=EPISODES)
    benchmark.extra_info.update(
        held_median=played.sampler.median_held(),
        running_median=played.sampler.median_running(),
        tokens_per_s=played.tokens_per_second,
    )
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)
    VERDICTS.append(f"beam (2 x 3), 64 in flight: {played.describe()}")
    assert played.finished == EPISODES and played.errors == 0
    assert_server_holds_32(played)
