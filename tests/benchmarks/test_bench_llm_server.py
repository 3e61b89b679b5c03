"""Requests in flight and tokens/s of the ``openai:URL`` backend against a real local server.

Eight first-turn Maze prompts (the greedy policy's own ReAct prompt, one per Maze instance), 32 new tokens
each, greedy decoding, sent two ways through the same backend: all eight concurrently (what the harness
does with episodes in flight) and one request at a time (``concurrency=1``). A server that batches turns
the concurrency into tokens/s.

Needs ``AGENTRM_TEST_SERVER_URL`` (``.ci/llm-server start`` prints one: vLLM's CPU server on the embedded
SmolLM2-135M, decoding up to 8 sequences together); ``AGENTRM_TEST_SERVER_URL_1SLOT`` optionally names a
second server that decodes one sequence at a time (``.ci/llm-server start --name one-slot --parallel 1``),
which separates the server's batching from the client's concurrency. Run with
``pytest tests/benchmarks/test_bench_llm_server.py -m server --benchmark-only -s``; tokens/s and requests in
flight are printed and saved in each benchmark's ``extra_info``, with the slot count where the server
tells it (llama.cpp's /props; vLLM does not).
"""

from __future__ import annotations

import json
import urllib.request

import gymnasium as gym
import pytest

import agentrm_bench  # noqa: F401
from agentrm_bench.llm import make_llm
from agentrm_bench.prompts.react import ReActPrompter
from agentrm_bench.prompts.trajectory import Trajectory

from ..conftest import server_at

pytest.importorskip("openai")

PROMPTS = 8
MAX_TOKENS = 32
ROUNDS = 2
START_ONE_SLOT = ".ci/llm-server start --name one-slot --parallel 1"
SERVERS = {"AGENTRM_TEST_SERVER_URL": "server", "AGENTRM_TEST_SERVER_URL_1SLOT": "one-slot server"}
START = {"AGENTRM_TEST_SERVER_URL": ".ci/llm-server start", "AGENTRM_TEST_SERVER_URL_1SLOT": START_ONE_SLOT}


def maze_prompts(count: int) -> list[list[dict[str, str]]]:
    """The first-turn conversation the greedy policy sends for Maze instances 0..count-1."""
    prompter = ReActPrompter("maze")
    env = gym.make("agentrm/Maze-v0")
    prompts = []
    for index in range(count):
        observation, info = env.reset(seed=0, options={"index": index})
        messages, _ = prompter.messages(Trajectory("maze", info["goal"], observation))
        prompts.append(messages)
    return prompts


def slots(url: str) -> int | None:
    """llama.cpp's server tells its parallel slots at /props; other servers (vLLM) do not say."""
    try:
        with urllib.request.urlopen(url.rstrip("/").removesuffix("/v1") + "/props", timeout=5) as answer:
            return json.load(answer).get("total_slots")
    except (OSError, ValueError):
        return None


@pytest.mark.server
@pytest.mark.parametrize("variable", list(SERVERS))
@pytest.mark.parametrize("mode", ["concurrent", "one-at-a-time"])
def test_openai_backend_tokens_per_second(benchmark, variable, mode):
    url = server_at(variable, START[variable])
    prompts = maze_prompts(PROMPTS)
    llm = make_llm(f"openai:{url}", concurrency=PROMPTS if mode == "concurrent" else 1)
    # Outside the timing: the model name, warm connections, and the prompts in the server's prefix cache
    # (every mode then times decoding and the few uncached prompt tokens, whichever mode runs first).
    llm.generate(prompts, temperature=0.0, max_tokens=1)
    llm.completion_tokens = llm.requests = llm.max_in_flight = 0
    texts: list[str] = []

    def run() -> None:
        rows = llm.generate(prompts, temperature=0.0, max_tokens=MAX_TOKENS)
        texts.extend(g.text for row in rows for g in row)

    benchmark.group = f"openai backend, {PROMPTS} Maze prompts x {MAX_TOKENS} tokens"
    benchmark.pedantic(run, rounds=ROUNDS, iterations=1)
    seconds = benchmark.stats.stats.total
    info = {
        "server": SERVERS[variable],
        "slots": slots(url),
        "max_in_flight": llm.max_in_flight,
        "requests": llm.requests,
        "completion_tokens": llm.completion_tokens,
        "tokens_per_s": round(llm.completion_tokens / seconds, 2),
    }
    benchmark.extra_info.update(info)
    print(f"\n{mode}: {json.dumps(info)}")
    assert llm.requests == PROMPTS * ROUNDS and len(texts) == PROMPTS * ROUNDS and llm.completion_tokens > 0
    assert llm.max_in_flight == (PROMPTS if mode == "concurrent" else 1)
