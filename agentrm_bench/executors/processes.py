"""How pool worker processes start: forked from a forkserver that imported the run's heavy modules once.

A spawned worker starts a fresh interpreter and imports gymnasium, numpy, the task's engine and the
policy's model stack itself: about a second of CPU per worker, paid again by every worker of every pool
(and, on a loaded machine, several times that in wall time). Instead, one forkserver process per driver
imports those modules once -- :func:`modules_for` says which -- and every worker is forked from it:
started in milliseconds, sharing the imported code copy-on-write.

Forking from the forkserver, never from the driver: the forkserver is a clean, single-threaded process
that holds no simulator, model or open connection, whereas a forked driver would carry copies of its
threads and simulators in whatever state they were. What it imports must therefore start nothing at
import time (no threads, no subprocess); importing a task's modules builds no environment.

The forkserver lives as long as the driver process and is reused by every pool of every run in it. It
is restarted when a run needs modules it has not imported or when the driver's environment variables
changed since it started (workers forked from it see the environment it was started with, where
spawned ones saw the driver's at the time). Where the platform has no forkserver, workers are spawned.
"""

from __future__ import annotations

import hashlib
import importlib.util
import multiprocessing
import os
import pkgutil
import threading
from collections.abc import Iterable
from multiprocessing.context import BaseContext

from .. import policies
from .. import tasks as task_table
from ..manifest import RunConfig
from ..registry import is_module_attribute
from .preload import VARIABLE

# Modules every worker imports to play any episode; the task's and the policy's are added per run.
COMMON = ("agentrm_bench.executors.worker",)

_lock = threading.Lock()
_started: tuple[frozenset[str], str] | None = None  # (modules imported, environment digest) of the running one


def modules_for(config: RunConfig) -> tuple[str, ...]:
    """What a worker of this run imports before its first episode, in import order.

    For a task that runs in process: its package's every module (the environment, its text rendering,
    its expert, ...) and the engine it requires; for a server task only its client (the service and its
    requirements run in the sandbox's own process). The policy's module, and for the expert the
    modules only the expert needs.
    """
    names = list(COMMON)
    for name in config.tasks:
        spec = task_table.get(name)
        names.append(spec.entry_point.partition(":")[0])
        if spec.sandbox == "in-process":
            names.extend(spec.requires)
            names.extend(_package_modules(spec.package))
        if config.policy == "expert":
            names.extend(spec.expert_requires)
    policy_module = _policy_module(config.policy)
    if policy_module:
        names.append(policy_module)
    return tuple(dict.fromkeys(names))


def context(config: RunConfig) -> BaseContext:
    """The multiprocessing context a pool of this run starts its workers with (see the module's doc)."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    start_forkserver(modules_for(config))
    return multiprocessing.get_context("forkserver")


def start_forkserver(modules: Iterable[str]) -> None:
    """Have a forkserver running that imported ``modules`` (returns at once; it imports in the background).

    Called as early as possible in a run (before the driver plans its episodes), so that the imports
    overlap with the driver's own start-up.
    """
    global _started
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return
    from multiprocessing import forkserver

    wanted = frozenset(modules)
    environment = _environment_digest()
    with _lock:
        if _started is not None and wanted <= _started[0] and _started[1] == environment and _alive():
            return
        if _started is not None:
            wanted |= _started[0] if _started[1] == environment else frozenset()
            _stop()
        # '__main__' as multiprocessing does by default (a script's main module); then ours, which imports
        # the modules named in the variable and survives any that fails to import.
        forkserver.set_forkserver_preload(["__main__", "agentrm_bench.executors.preload"])
        previous = os.environ.get(VARIABLE)
        os.environ[VARIABLE] = ",".join(sorted(wanted))  # read (and removed) by the forkserver at start
        try:
            forkserver.ensure_running()
        finally:
            if previous is None:
                os.environ.pop(VARIABLE, None)
            else:
                os.environ[VARIABLE] = previous
        _started = (wanted, environment)


def _alive() -> bool:
    from multiprocessing import forkserver

    pid = getattr(forkserver._forkserver, "_forkserver_pid", None)
    if pid is None:
        return False
    try:
        return os.waitpid(pid, os.WNOHANG) == (0, 0)
    except ChildProcessError:
        return False


def _stop() -> None:
    """End the running forkserver (its workers of earlier runs are gone: pools live for one run)."""
    from multiprocessing import forkserver

    stop = getattr(forkserver._forkserver, "_stop", None)  # CPython 3.8+; without it the old one stays
    if stop is not None:
        stop()


def _environment_digest() -> str:
    items = sorted((k, v) for k, v in os.environ.items() if k != VARIABLE)
    return hashlib.sha256(repr(items).encode()).hexdigest()


def _package_modules(package: str) -> list[str]:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return [package]
    found = [package]
    for info in pkgutil.iter_modules(spec.submodule_search_locations):
        if not info.ispkg:
            found.append(f"{package}.{info.name}")
    return found


def _policy_module(policy: str) -> str | None:
    declared = policies.REGISTRY.declared(policy)
    target = declared if isinstance(declared, str) else policy
    return target.partition(":")[0] if is_module_attribute(target) else None
