"""Machine-independent speed checks: ours against a floor measured in the same run, as a ratio.

An absolute time says more about the machine (and whatever else runs on it) than about the code; the
ratio of our path to its floor -- the plain loop without the harness, the raw engine without our
wrapper, the service in process without the sandbox -- measured side by side, in alternating rounds,
moves much less with load. Each check asserts a limit and leaves one verdict line for the summary
(``tests/benchmarks/conftest.py`` prints them at the end of the run).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

VERDICTS: list[str] = []


@dataclass(frozen=True)
class Ratio:
    name: str
    ours: float  # median seconds of one round of our path
    floor: float  # median seconds of one round of the floor
    limit: float

    @property
    def value(self) -> float:
        return self.ours / self.floor

    def verdict(self) -> str:
        status = "ok" if self.value <= self.limit else "FAIL"
        return (
            f"{status:4} {self.name}: {self.value:.2f}x (limit {self.limit:.2f}x; "
            f"{self.ours * 1e3:.2f} ms vs {self.floor * 1e3:.2f} ms per round)"
        )


def measure(
    name: str,
    ours: Callable[[], object],
    floor: Callable[[], object],
    limit: float,
    rounds: int = 7,
    warm_up: bool = True,
    clock: Callable[[], float] = time.perf_counter,
    confirm: bool = True,
) -> Ratio:
    """Time ``ours`` and ``floor`` in alternating rounds (after one warm-up each, unless ``warm_up`` is
    False: then the caller has prepared both); medians, then the ratio.

    ``clock`` is wall time by default. Where both paths run entirely in this process (no child, no
    server), ``time.process_time`` leaves out the time other jobs take the cores away: on a loaded
    2-core machine it turns a ratio that wanders over 0.8-1.5x into one within a few percent.

    A ratio over its limit is measured once more (``confirm``) and the second measurement decides; the
    first stays in the verdict's name. A regression is over the limit twice; a burst of whatever shares
    the machine rarely is (once in CI: Jericho 1.26x against 1.02-1.08x in every other run, CPU time)."""
    ratio = _ratio(name, ours, floor, limit, rounds, warm_up, clock)
    if confirm and ratio.value > limit:
        ratio = _ratio(f"{name}, remeasured after {ratio.value:.2f}x", ours, floor, limit, rounds, False, clock)
    return ratio


def _ratio(name, ours, floor, limit, rounds, warm_up, clock) -> Ratio:  # noqa: ANN001 - measure's own
    if warm_up:
        ours(), floor()
    ours_times, floor_times = [], []
    for i in range(rounds):
        order = ((ours, ours_times), (floor, floor_times)) if i % 2 == 0 else ((floor, floor_times), (ours, ours_times))
        for function, times in order:
            started = clock()
            function()
            times.append(clock() - started)
    return Ratio(name, statistics.median(ours_times), statistics.median(floor_times), limit)


def check(benchmark, ratio: Ratio) -> None:  # noqa: ANN001 - pytest-benchmark's fixture
    """Record ``ratio`` (in the benchmark's extra_info and the summary) and assert its limit."""
    benchmark.extra_info.update(ratio=ratio.value, ours_s=ratio.ours, floor_s=ratio.floor, limit=ratio.limit)
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)  # the timing is ours; this marks the test as a benchmark
    VERDICTS.append(ratio.verdict())
    assert ratio.value <= ratio.limit, ratio.verdict()
