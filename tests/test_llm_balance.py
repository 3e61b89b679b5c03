"""``openai:URL1,URL2``: requests shared among servers of one model (e.g. a vLLM server per node)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from agentrm_bench.llm import LLMError, ModelSpecError, check_spec, make_llm

pytest.importorskip("openai")

ASK = [{"role": "user", "content": "Where do you go?"}]
REPLY = {"choices": [{"index": 0, "message": {"content": "Action: move up"}, "finish_reason": "stop"}]}


class Counting(BaseHTTPRequestHandler):
    """Answers every chat request after ``server.delay`` seconds and counts it."""

    def do_GET(self):  # noqa: N802
        self._send(json.dumps({"data": [{"id": "tiny"}]}).encode())

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        time.sleep(self.server.delay)
        with self.server.lock:
            self.server.hits += 1
        self._send(json.dumps(REPLY).encode())

    def _send(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def servers():
    started = []
    for delay in (0.05, 0.05):
        server = ThreadingHTTPServer(("127.0.0.1", 0), Counting)
        server.delay, server.hits, server.lock = delay, 0, threading.Lock()
        threading.Thread(target=server.serve_forever, daemon=True).start()
        started.append(server)
    yield started
    for server in started:
        server.shutdown()


def test_requests_are_shared_among_the_servers(servers):
    urls = ",".join(f"http://127.0.0.1:{s.server_port}/v1" for s in servers)
    llm = make_llm(f"openai:{urls}", max_retries=0)
    out = llm.generate([ASK] * 16, max_tokens=4)
    assert [row[0].text for row in out] == ["Action: move up"] * 16
    assert [s.hits for s in servers] == [8, 8]  # fewest in flight first: an even split of one burst
    assert llm.settings()["url"] == urls


def test_one_server_down_is_named_in_the_error(servers):
    alive = f"http://127.0.0.1:{servers[0].server_port}/v1"
    llm = make_llm(f"openai:{alive},http://127.0.0.1:9/v1", max_retries=0)
    with pytest.raises(LLMError, match="127.0.0.1:9/v1"):
        llm.generate([ASK] * 4, max_tokens=4)


def test_every_url_of_a_spec_is_checked():
    with pytest.raises(ModelSpecError, match="ftp://x"):
        check_spec("openai:http://127.0.0.1:8000/v1,ftp://x")
