"""A policy for the interruption tests: random, but slow enough that a run can be killed half-way."""

from __future__ import annotations

import time
from typing import Any

from agentrm_bench.policies import RandomPolicy


class SlowRandomPolicy(RandomPolicy):
    def __init__(self, delay: float = 0.05) -> None:
        super().__init__()
        self.delay = delay

    def settings(self) -> dict[str, Any]:
        return {"delay": self.delay}

    def act(self, env, observation, info):
        time.sleep(self.delay)
        return super().act(env, observation, info)


class FlakyPolicy(RandomPolicy):
    """Crashes on instance 1 when the marker file exists, to exercise error records and retries."""

    def __init__(self, marker: str = "") -> None:
        super().__init__()
        self.marker = marker

    def settings(self) -> dict[str, Any]:
        return {"marker": self.marker}

    def begin(self, *, task: str, index: int, seed: int) -> None:
        import os

        super().begin(task=task, index=index, seed=seed)
        if index == 1 and self.marker and os.path.exists(self.marker):
            raise RuntimeError("simulated simulator crash")


class DiesOncePolicy(RandomPolicy):
    """Kills its own process in the middle of instance 1 once (a worker lost mid-episode), then plays on.

    The marker file is created before the kill, so the retried episode on a fresh worker plays through.
    """

    def __init__(self, marker: str = "") -> None:
        super().__init__()
        self.marker = marker

    def settings(self) -> dict[str, Any]:
        return {"marker": self.marker}

    def act(self, env, observation, info):
        import os
        import signal

        if info.get("turn") == 2 and info.get("index") == 1 and self.marker and not os.path.exists(self.marker):
            with open(self.marker, "w") as handle:
                handle.write(str(os.getpid()))
            os.kill(os.getpid(), signal.SIGKILL)
        return super().act(env, observation, info)
