"""Helpers for the tests against a real model server: what the server says it holds, and runs against it.

vLLM's Prometheus endpoint (``/metrics`` beside ``/v1``) counts the requests it is decoding
(``vllm:num_requests_running``) and those queued behind them (``vllm:num_requests_waiting``): the load as
the server sees it, whatever the client believes it sent.
"""

from __future__ import annotations

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


def metrics_url(url: str) -> str:
    return url.rstrip("/").removesuffix("/v1") + "/metrics"


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


@dataclass
class Sampler:
    """Polls the server's gauges every ``period`` seconds in a thread, while a run is in progress."""

    url: str
    period: float = 0.25
    samples: list[tuple[float, float]] = field(default_factory=list)
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
                self.samples.append(counts)

    def busy(self) -> list[tuple[float, float]]:
        """The samples with something at the server (between the run's model calls and its end)."""
        return [s for s in self.samples if s[0] + s[1] > 0]

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
        return (
            f"{self.finished} episodes in {self.seconds:.1f} s, {self.tokens_per_second:.1f} tokens/s; at the server: "
            f"median {self.sampler.median_running():.0f} running, {self.sampler.median_at_server():.0f} running or "
            f"waiting, peak {peak:.0f} running ({len(busy)} samples)"
        )


def play_against(url: str, out: Path, config: RunConfig, in_flight: int) -> Played:
    """Run ``config`` in this process with ``in_flight`` episodes at once, watching the server."""
    with Sampler(url) as sampler:
        started = time.perf_counter()
        summary = harness.run(config, out, workers=0, in_flight=in_flight, show_progress=False)
        seconds = time.perf_counter() - started
    tokens = sum(r.tokens for r in read_records(out))
    return Played(seconds, tokens, summary.finished, summary.errors, sampler)
