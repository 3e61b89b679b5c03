"""``measure``'s own rules, on a clock the test advances (no timing): a ratio over its limit is measured
again and the second measurement decides."""

from __future__ import annotations

import pytest

from .ratios import measure


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _paths(clock: FakeClock, ours_seconds: list[float]):  # noqa: ANN202
    """``ours`` takes the next of ``ours_seconds`` on each call, the floor always 1 s."""
    costs = iter(ours_seconds)

    def ours() -> None:
        clock.now += next(costs)

    def floor() -> None:
        clock.now += 1.0

    return ours, floor


def test_a_burst_over_the_limit_is_remeasured_and_the_second_measurement_decides():
    clock = FakeClock()
    ours, floor = _paths(clock, [1.3, 1.3, 1.3, 1.05, 1.05, 1.05])
    ratio = measure("step", ours, floor, 1.25, rounds=3, warm_up=False, clock=clock)
    assert ratio.value == pytest.approx(1.05)
    assert ratio.name == "step, remeasured after 1.30x"
    assert ratio.verdict().startswith("ok ")


def test_a_regression_fails_both_measurements():
    clock = FakeClock()
    ours, floor = _paths(clock, [1.3] * 6)
    ratio = measure("step", ours, floor, 1.25, rounds=3, warm_up=False, clock=clock)
    assert (ratio.value, ratio.name) == (pytest.approx(1.3), "step, remeasured after 1.30x")
    assert ratio.verdict().startswith("FAIL")


def test_a_ratio_within_its_limit_is_measured_once_and_without_confirm_never_twice():
    clock = FakeClock()
    ours, floor = _paths(clock, [1.1] * 3)  # a fourth call would raise StopIteration
    assert measure("step", ours, floor, 1.25, rounds=3, warm_up=False, clock=clock).name == "step"
    ours, floor = _paths(clock, [1.3] * 3)
    ratio = measure("step", ours, floor, 1.25, rounds=3, warm_up=False, clock=clock, confirm=False)
    assert (ratio.value, ratio.name) == (pytest.approx(1.3), "step")
