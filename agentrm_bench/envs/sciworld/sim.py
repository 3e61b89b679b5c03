"""One ScienceWorld simulator (a JVM reached through py4j), started lazily, reused, restarted after a crash.

The ``scienceworld`` package runs its Scala simulator in a Java process. Starting one costs a few
seconds and over a gigabyte, so an environment object keeps one JVM for all its episodes and a worker
process keeps one environment; the JVM starts on the first episode, not when the environment is made
(the harness makes environments just to count instances).

Determinism. The simulator seeds its random generator with the variation number on every load, but it
also iterates over hash sets of objects whose order follows the JVM's identity hash codes, which differ
from run to run: bees and other wandering animals then move differently when the same actions are
replayed, and the gold path generator picks different objects. Measured here on AgentBoard's test set
with the default JVM, replaying the same gold path gave different observations on 38 of 63 problems.
Starting the JVM with constant identity hash codes (``-XX:hashCode=2``, an experimental HotSpot flag)
makes every load and every replay identical, whatever the JVM ran before, which the replay-based
snapshots rely on; no slowdown was measurable (see agentrm_bench/envs/sciworld/PROVENANCE.md). (The gold path
*generator* still depends on what the JVM loaded before; the observations of a given action sequence
do not.) Listing the valid actions also advances the simulator's
random generator, so every action goes through the wrapper's ``step()``, which lists them after each
action exactly as AgentBoard's and ETO's loops do.

Crashes. When the JVM dies mid-episode, py4j fails on the next call; that becomes a
:class:`SimulatorError` (so the harness records an error, never a score) and the dead JVM is dropped,
so the next :meth:`Simulator.load` starts a fresh one.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

JVM_OPTIONS = ("-XX:+UnlockExperimentalVMOptions", "-XX:hashCode=2")
_T = TypeVar("_T")


@dataclass(frozen=True)
class Step:
    """What the simulator reports after one action."""

    observation: str
    score: float  # in [0, 1]; negative once the task has failed
    completed: bool  # the task is done (successfully)
    valid_actions: list[str]  # the valid action-object combinations in the new state


class SimulatorError(RuntimeError):
    """The simulator process failed; the episode cannot go on (the next reset starts a new JVM)."""


class SimulatorActionError(SimulatorError):
    """The simulator raised a Java exception on one call; the JVM itself is still running."""


@contextlib.contextmanager
def _java_options(options: tuple[str, ...]) -> Iterator[None]:
    """Hand extra options to the JVM that ``scienceworld`` launches (it takes none itself).

    The JVM reads ``JAVA_TOOL_OPTIONS`` from its environment, which it inherits from this process;
    the variable is restored as soon as the JVM has started.
    """
    previous = os.environ.get("JAVA_TOOL_OPTIONS")
    os.environ["JAVA_TOOL_OPTIONS"] = " ".join(filter(None, [previous, *options]))
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("JAVA_TOOL_OPTIONS", None)
        else:
            os.environ["JAVA_TOOL_OPTIONS"] = previous


class Simulator:
    """A ScienceWorld JVM with the few calls an environment needs, each guarded against a dead JVM."""

    def __init__(self) -> None:
        self._env: Any = None  # scienceworld.ScienceWorldEnv, once started
        self.starts = 0  # JVMs started so far (a restart after a crash counts again)
        self.start_seconds = 0.0  # how long the last start took
        self._variations: dict[str, int] = {}

    # ----------------------------------------------------------------- lifecycle
    @property
    def running(self) -> bool:
        return self._env is not None

    @property
    def pid(self) -> int | None:
        """The JVM's process id (None before the first start)."""
        return None if self._env is None else self._env._gateway.java_process.pid

    def _server(self) -> Any:
        if self._env is None:
            self._start()
        return self._env.server

    def _start(self) -> None:
        from scienceworld import ScienceWorldEnv

        started = time.perf_counter()
        with _java_options(JVM_OPTIONS):
            # No task name: nothing is loaded until load(); the step limit is ours, not the wrapper's.
            self._env = ScienceWorldEnv("", envStepLimit=10**9)
        self.starts += 1
        self.start_seconds = time.perf_counter() - started

    def close(self) -> None:
        """Stop the JVM (if any). Safe to call twice, and on a JVM that has already died."""
        env, self._env = self._env, None
        if env is None:
            return
        process = env._gateway.java_process
        py4j_log = logging.getLogger("py4j")
        level = py4j_log.level
        py4j_log.setLevel(logging.CRITICAL)  # a dead gateway's shutdown only logs connection errors
        try:
            if process.poll() is None:
                with contextlib.suppress(Exception):
                    env.close()
            with contextlib.suppress(Exception):
                env._gateway.shutdown()
            with contextlib.suppress(Exception):
                process.kill()
                process.wait(timeout=10)
            # py4j would otherwise try to reach the dead JVM to release its proxies when they are collected.
            with contextlib.suppress(Exception):
                env._gateway._gateway_client.is_connected = False
        finally:
            py4j_log.setLevel(level)
        # The wrapper closes itself again when garbage-collected; make that a no-op now.
        env.close = lambda: None

    def _call(self, what: str, fn: Callable[[Any], _T]) -> _T:
        from py4j.protocol import Py4JError, Py4JJavaError

        try:
            return fn(self._server())
        except Py4JJavaError as exc:
            raise SimulatorActionError(f"ScienceWorld raised {exc.java_exception} while {what}") from exc
        except Py4JError as exc:
            code = None if self._env is None else self._env._gateway.java_process.poll()
            self.close()
            state = f"exited with code {code}" if code is not None else "stopped answering"
            raise SimulatorError(
                f"ScienceWorld's JVM {state} while {what}; this episode is lost and the next reset() starts a fresh JVM"
            ) from exc

    # ----------------------------------------------------------------- simulator calls
    def load(self, task: str, variation: int, simplifications: str, gold_path: bool = False) -> None:
        """Load a task variation in its initial state (optionally generating the gold path too).

        Through the wrapper's ``load()``, which checks the task name and simplifications; the
        simulator would answer an out-of-range variation with an error text the wrapper drops, so
        that is checked here.
        """
        limit = self._variations.get(task)
        if limit is None:
            limit = self._variations[task] = int(
                self._call(f"counting {task} variations", lambda _: self._env.get_max_variations(task))
            )
        if not 0 <= variation < limit:
            raise ValueError(f"ScienceWorld's {task} has variations 0..{limit - 1}, not {variation}")
        self._call(
            f"loading {task} variation {variation}",
            lambda _: self._env.load(task, variation, simplifications, generateGoldPath=gold_path),
        )

    def step(self, action: str) -> Step:
        """One action through the wrapper's own ``step()``, exactly as AgentBoard and ETO play it.

        That call also lists the valid actions (and reads the look, inventory and task texts) after
        the action, and listing valid actions advances the simulator's random generator: bees then
        pollinate differently, for instance. Going through the same call keeps the world's dynamics
        the ones the upstream evaluations saw.
        """

        def play(_server: Any) -> Step:
            observation, _, _, info = self._env.step(action)
            score = float(_server.getScore())
            return Step(str(observation), score, bool(_server.getCompleted()), [str(a) for a in info["valid"]])

        return self._call(f"playing {action[:80]!r}", play)

    def task_description(self) -> str:
        return str(self._call("reading the task description", lambda s: s.freeActionTaskDesc()))

    def inventory(self) -> str:
        return str(self._call("reading the inventory", lambda s: s.freeActionInventory()))

    def gold_actions(self) -> list[str]:
        """The gold path generated by the last ``load(..., gold_path=True)``."""
        return [str(a) for a in self._call("reading the gold path", lambda s: s.getGoldActionSequence())]
