"""One ScienceWorld simulator (a JVM reached through py4j), started lazily, reused, restarted after a crash.

The ``scienceworld`` package runs its Scala simulator in a Java process. Starting one costs a few
seconds and over a gigabyte, so an environment object keeps one JVM for all its episodes and a worker
process keeps one environment; the JVM starts on the first episode, not when the environment is made
(the harness makes environments just to count instances).

Version. Only scienceworld 1.1.3 is accepted (:data:`UPSTREAM_VERSION`): it is the release AgentBoard
and ETO ran. 1.2.3 (July 2025) made the ``openContainers`` simplification open every closable container
(fridges, freezers, cupboards, the bee hive), which changes 44 of AgentBoard's 90 first observations;
1.2.0-1.2.2 only add an object-tree API and fix ``look at <door>``. Running another release would give
scores that do not mean upstream's, so it is refused with one line saying what to install.

Determinism. The simulator seeds its random generator with the variation number on every load, but it
also iterates over hash sets of objects whose order follows the JVM's identity hash codes: which of two
same-named objects is listed (or numbered in an ambiguity menu) first, how wandering animals move, and
which objects the gold path generator picks all follow them. With the default JVM they depend on
everything the JVM hashed before (measured: the same problem loaded first, second or ninetieth in a JVM
lists its same-named objects in different orders), so a replay would not reproduce an episode. Starting
the JVM with constant identity hash codes (``-XX:hashCode=2``, an experimental HotSpot flag) makes every
load and replay identical whatever the JVM ran before, which the replay-based snapshots rely on; the
order it gives and how often a default JVM agrees with it are measured in PROVENANCE.md. Listing the
valid actions also advances the simulator's random generator, so every action goes through the
wrapper's own ``step()``, which lists them after each action exactly as AgentBoard's and ETO's loops do.

States. ``java/AgentrmStates.java``, put on the JVM's class path when ``javac`` can build it, saves and
restores the simulator's state inside the JVM (see :mod:`.states`); :meth:`Simulator.save_state` and
:meth:`Simulator.restore_state` reach it.

Crashes. When the JVM dies mid-episode, py4j fails on the next call; that becomes a
:class:`SimulatorError` (so the harness records an error, never a score) and the dead JVM is dropped,
so the next :meth:`Simulator.load` starts a fresh one.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from . import states

UPSTREAM_VERSION = "1.1.3"
JVM_OPTIONS = ("-XX:+UnlockExperimentalVMOptions", "-XX:hashCode=2")
_T = TypeVar("_T")
_LAUNCH_LOCK = threading.Lock()


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


class SimulatorVersionError(RuntimeError):
    """The installed ``scienceworld`` is not the release the upstream evaluations ran."""


def installed_version() -> str:
    from scienceworld.version import __version__

    return str(__version__)


def check_version() -> None:
    """Refuse any scienceworld but :data:`UPSTREAM_VERSION` (see the module docstring for why)."""
    found = installed_version()
    if found != UPSTREAM_VERSION:
        raise SimulatorVersionError(
            f"ScienceWorld: scienceworld {found} is installed, but AgentBoard and ETO ran {UPSTREAM_VERSION} "
            f"(later releases open fridges and cupboards under AgentBoard's simplifications); "
            f"pip install 'scienceworld=={UPSTREAM_VERSION}' (the sciworld extra pins it)"
        )


@contextlib.contextmanager
def _launch_with(options: tuple[str, ...], launched: list[Any], extra_class_path: str | None = None) -> Iterator[None]:
    """Make the wrapper's own JVM launch take ``options`` (and a class path entry) and hand back the process.

    scienceworld 1.1.3 starts the JVM itself, with no way to pass JVM options and without keeping
    the process; both are needed here (the hash-code option, and the process to stop it when this
    simulator closes). Its module-level ``launch_gateway`` is swapped for the length of one start.
    """
    import scienceworld.scienceworld as wrapper

    original = wrapper.launch_gateway

    def launch(*args: Any, **kwargs: Any) -> Any:
        asked_for_process = kwargs.get("return_proc", False)
        kwargs.update(javaopts=[*kwargs.get("javaopts", []), *options], return_proc=True)
        if extra_class_path:
            kwargs["classpath"] = os.pathsep.join((kwargs["classpath"], extra_class_path))
        port, process = original(*args, **kwargs)
        launched.append(process)
        return (port, process) if asked_for_process else port

    with _LAUNCH_LOCK:
        wrapper.launch_gateway = launch
        try:
            yield
        finally:
            wrapper.launch_gateway = original


def _exit_code(process: Any, wait: float = 2.0) -> int | None:
    """The JVM's exit code once it is gone (a killed JVM takes a moment to exit), or None if it still runs."""
    try:
        return process.wait(timeout=wait)
    except subprocess.TimeoutExpired:
        return None


class Simulator:
    """A ScienceWorld JVM with the few calls an environment needs, each guarded against a dead JVM."""

    def __init__(self) -> None:
        self._env: Any = None  # scienceworld.ScienceWorldEnv, once started
        self._process: Any = None  # its Java process (subprocess.Popen)
        self.starts = 0  # JVMs started so far (a restart after a crash counts again)
        self.start_seconds = 0.0  # how long the last start took
        self._variations: dict[str, int] = {}
        self._states: Any = None  # the JVM-side keeper of saved states (None: unavailable, replay)

    # ----------------------------------------------------------------- lifecycle
    @property
    def running(self) -> bool:
        return self._env is not None

    @property
    def pid(self) -> int | None:
        """The JVM's process id (None before the first start)."""
        return None if self._process is None or self._env is None else self._process.pid

    def _wrapper(self) -> Any:
        if self._env is None:
            self._start()
        return self._env

    def _start(self) -> None:
        check_version()
        from scienceworld import ScienceWorldEnv

        started = time.perf_counter()
        launched: list[Any] = []
        folder = states.class_path()
        with _launch_with(JVM_OPTIONS, launched, None if folder is None else str(folder)):
            # No task name: nothing is loaded until load(); the step limit is ours, not the wrapper's.
            self._env = ScienceWorldEnv("", envStepLimit=10**9)
        self._process = launched[0]
        self._states = None if folder is None else states.attach(self._env._gateway, self._env.server)
        self.starts += 1
        self.start_seconds = time.perf_counter() - started

    def close(self) -> None:
        """Stop the JVM (if any). Safe to call twice, and on a JVM that has already died."""
        env, self._env = self._env, None
        process, self._process = self._process, None
        self._states = None
        if env is None:
            return
        py4j_log = logging.getLogger("py4j")
        level = py4j_log.level
        py4j_log.setLevel(logging.CRITICAL)  # a dead gateway's shutdown only logs connection errors
        try:
            with contextlib.suppress(Exception):
                env._gateway.shutdown()
            if process is not None:
                with contextlib.suppress(Exception):
                    process.kill()
                    process.wait(timeout=10)
            # py4j would otherwise try to reach the dead JVM to release its proxies when they are collected.
            with contextlib.suppress(Exception):
                env._gateway._gateway_client.is_connected = False
        finally:
            py4j_log.setLevel(level)

    def _call(self, what: str, fn: Callable[[Any], _T]) -> _T:
        from py4j.protocol import Py4JError, Py4JJavaError

        try:
            return fn(self._wrapper())
        except Py4JJavaError as exc:
            raise SimulatorActionError(f"ScienceWorld raised {exc.java_exception} while {what}") from exc
        except Py4JError as exc:
            code = None if self._process is None else _exit_code(self._process)
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
                self._call(f"counting {task} variations", lambda env: env.getMaxVariations(task))
            )
        if not 0 <= variation < limit:
            raise ValueError(f"ScienceWorld's {task} has variations 0..{limit - 1}, not {variation}")
        self._call(
            f"loading {task} variation {variation}",
            lambda env: env.load(task, variation, simplifications, generateGoldPath=gold_path),
        )

    def step(self, action: str) -> Step:
        """One action through the wrapper's own ``step()``, exactly as AgentBoard and ETO play it.

        That call also lists the valid actions (and reads the look, inventory and task texts) after
        the action, and listing valid actions advances the simulator's random generator: bees then
        pollinate differently, for instance. Going through the same call keeps the world's dynamics
        the ones the upstream evaluations saw.
        """

        def play(env: Any) -> Step:
            observation, _, _, info = env.step(action)
            score = float(env.server.getScore())
            return Step(str(observation), score, bool(env.server.getCompleted()), [str(a) for a in info["valid"]])

        return self._call(f"playing {action[:80]!r}", play)

    def possible_actions(self) -> list[str]:
        """The simulator's action templates (``open OBJ``, ``go to LOC``, ...), as the wrapper lists them."""
        return [str(a) for a in self._call("listing the action templates", lambda env: env.getPossibleActions())]

    def valid_actions_with_templates(self) -> list[str]:
        """The valid action-object combinations, through the template-listing call AgentBoard makes after
        every turn (its grounding check). Like every listing it advances the random generator."""
        rows = self._call("listing valid actions", lambda env: env.getValidActionObjectCombinationsWithTemplates())
        return [str(row["action"]) for row in rows]

    def task_description(self) -> str:
        return str(self._call("reading the task description", lambda env: env.server.freeActionTaskDesc()))

    def inventory(self) -> str:
        return str(self._call("reading the inventory", lambda env: env.server.freeActionInventory()))

    def gold_actions(self) -> list[str]:
        """The gold path generated by the last ``load(..., gold_path=True)``."""
        return [str(a) for a in self._call("reading the gold path", lambda env: env.server.getGoldActionSequence())]

    # ----------------------------------------------------------------- saved states
    def save_state(self) -> states.SavedState | None:
        """Save the simulator's state in its JVM (None when states are unavailable: replay instead)."""
        if self._states is None or self._process is None:
            return None
        keeper = self._states
        number = int(self._call("saving the state", lambda env: keeper.save()))
        return states.SavedState(self._process.pid, self.starts, number)

    def restore_state(self, saved: states.SavedState) -> bool:
        """Put the simulator back into ``saved``; False when it is not this JVM's or no longer kept."""
        if self._states is None or self._process is None:
            return False
        if (saved.pid, saved.start) != (self._process.pid, self.starts):
            return False
        keeper = self._states
        return bool(self._call("restoring a saved state", lambda env: keeper.restore(saved.number)))
