"""Helpers for the tests against a real model server: what the server says it holds, and runs against it.

Two counts, both the server's own, whatever the client believes it sent:

- ``/load`` (vLLM started with ``--enable-server-load-tracking``, as ``.ci/llm-server`` does): the requests
  the server holds, from the moment its HTTP front end accepts one until its answer is sent. This is what
  the load tests require: a client that fails to keep its episodes' requests in flight (an event loop
  blocked by environment steps, a batch barrier) shows here.
- ``/metrics``: the requests its engine is decoding (``vllm:num_requests_running``) and those queued
  behind them (``vllm:num_requests_waiting``). Reported, not required: on two cores the engine's two
  threads and the front end (chat template, tokenizing, detokenizing) share the CPU, and how many requests
  sit in the front end rather than the engine at any moment is the server's own scheduling. A CI run
  measured a median of 20 running while the client kept 64 in flight throughout.
"""

from __future__ import annotations

import json
import math
import re
import statistics
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from agentrm_bench import harness
from agentrm_bench.manifest import RunConfig
from agentrm_bench.records import read_records

_GAUGE = re.compile(r"^vllm:(num_requests_running|num_requests_waiting)\{[^}]*\}\s+([0-9.eE+-]+)$", re.M)


def _server_root(url: str) -> str:
    return url.rstrip("/").removesuffix("/v1")


def metrics_url(url: str) -> str:
    return _server_root(url) + "/metrics"


def server_counts(url: str) -> tuple[float, float] | None:
    """(running, waiting) requests at a vLLM server, or None where the server publishes no such gauges."""
    try:
        with urllib.request.urlopen(metrics_url(url), timeout=5) as answer:
            text = answer.read().decode()
    except OSError:
        return None
    values: dict[str, float] = {}
    for name, value in _GAUGE.findall(text):
        values[name] = values.get(name, 0.0) + float(value)
    if "num_requests_running" not in values:
        return None
    return values["num_requests_running"], values.get("num_requests_waiting", 0.0)


def server_load(url: str) -> float | None:
    """Requests the server holds (vLLM's ``/load`` with load tracking on), or None where it does not count them."""
    try:
        with urllib.request.urlopen(_server_root(url) + "/load", timeout=5) as answer:
            value = json.loads(answer.read().decode()).get("server_load")
    except (OSError, ValueError):
        return None
    return float(value) if isinstance(value, int | float) else None


@dataclass
class Sampler:
    """Polls the server's counts every ``period`` seconds in a thread, while a run is in progress: each sample
    is (running in the engine, waiting in the engine, held by the server; NaN where it does not count)."""

    url: str
    period: float = 0.25
    samples: list[tuple[float, float, float]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def __enter__(self) -> Sampler:
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _poll(self) -> None:
        while not self._stop.wait(self.period):
            counts = server_counts(self.url)
            if counts is not None:
                held = server_load(self.url)
                self.samples.append((*counts, math.nan if held is None else held))

    def busy(self) -> list[tuple[float, float, float]]:
        """The samples with something at the server (between the run's model calls and its end)."""
        return [s for s in self.samples if s[0] + s[1] > 0 or s[2] > 0]

    def counts_held(self) -> bool:
        """Whether the server counted held requests: ``/load`` answers 0 without load tracking, so a server
        that never reported one while its engine was decoding does not count them."""
        return any(s[2] > 0 for s in self.samples)

    def median_held(self) -> float:
        """Median requests the server held (NaN where it does not count them)."""
        if not self.counts_held():
            return math.nan
        busy = self.busy()
        return statistics.median(s[2] for s in busy) if busy else 0.0

    def median_running(self) -> float:
        busy = self.busy()
        return statistics.median(s[0] for s in busy) if busy else 0.0

    def median_at_server(self) -> float:
        busy = self.busy()
        return statistics.median(s[0] + s[1] for s in busy) if busy else 0.0


@dataclass
class Played:
    seconds: float
    tokens: int
    finished: int
    errors: int
    sampler: Sampler

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds

    def describe(self) -> str:
        busy = self.sampler.busy()
        peak = max((s[0] for s in busy), default=0)
        held = f"median {self.sampler.median_held():.0f} held, " if self.sampler.counts_held() else ""
        return (
            f"{self.finished} episodes in {self.seconds:.1f} s, {self.tokens_per_second:.1f} tokens/s; at the server: "
            f"{held}in its engine median {self.sampler.median_running():.0f} running, "
            f"{self.sampler.median_at_server():.0f} running or waiting, peak {peak:.0f} running ({len(busy)} samples)"
        )


def play_against(url: str, out: Path, config: RunConfig, in_flight: int) -> Played:
    """Run ``config`` in this process with ``in_flight`` episodes at once, watching the server."""
    with Sampler(url) as sampler:
        started = time.perf_counter()
        summary = harness.run(config, out, workers=0, in_flight=in_flight, show_progress=False)
        seconds = time.perf_counter() - started
    tokens = sum(r.tokens for r in read_records(out))
    return Played(seconds, tokens, summary.finished, summary.errors, sampler)
