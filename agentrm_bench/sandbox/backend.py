"""What a sandbox backend is, what it is asked to run, and the registry that names the backends.

A backend starts, watches and stops one server process (:mod:`.server`) that listens on a Unix socket;
:class:`~.core.Sandbox` drives it and owns everything else (health checks, timeouts, restarts). Two
ship with the package -- ``local`` (a subprocess, :mod:`.local`) and ``docker`` (a locked-down
container, :mod:`.docker_backend`) -- and others plug in through :data:`BACKENDS`: a registered name,
an entry point of the group ``agentrm_bench.sandbox_backends``, or a ``module:attribute`` naming a
callable ``(Launch) -> Backend``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..registry import Registry


class Backend(Protocol):
    """What a backend provides: start, stop and inspect one server listening on ``socket_path``."""

    name: str
    socket_path: str

    def launch(self) -> None: ...
    def alive(self) -> bool: ...
    def describe_exit(self) -> str: ...
    def wait_exit(self, seconds: float) -> bool: ...
    def kill(self) -> None: ...
    def stop(self) -> None: ...
    def destroy(self) -> None: ...


@dataclass(frozen=True)
class Launch:
    """What a backend is asked to run: the service factory and its arguments, and how to run its server.

    ``pythonpath``: extra import roots (absolute); ``env``: extra environment variables. For backends
    that isolate the server's files (docker): ``image`` (None: the generic service image; an
    :class:`~.images.TaskImage`: a task's own; a string: an existing tag), ``mounts`` (absolute host
    paths mounted read-only at the same path) and ``limits`` (``memory``, ``pids``, ``cpus``). A backend
    refuses what it cannot honour.
    """

    spec: str
    kwargs: dict[str, Any]
    pythonpath: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    image: Any = None
    mounts: tuple[str, ...] = ()
    limits: dict[str, Any] = field(default_factory=dict)


BACKENDS: Registry[Callable[[Launch], Backend]] = Registry(
    "sandbox backend",
    "agentrm_bench.sandbox_backends",
    {
        "local": "agentrm_bench.sandbox.local:LocalBackend",
        "docker": "agentrm_bench.sandbox.docker_backend:DockerBackend",
    },
)
