"""Where a server task's service runs, and one running service shared by a process's environments.

A served env (:class:`~.served.ServedEnv`) names its service by a factory spec (``"module:callable"``)
and JSON-able arguments, and chooses where it runs with ``sandbox``:

- ``None``: :class:`InProcess`, the service object in this process behind the sandbox's
  ``call(op, **payload)`` shape, so the env has one code path wherever its service is;
- ``"local"`` (a subprocess), ``"docker"`` (a container without network) or another registered sandbox
  backend: :func:`agentrm_bench.sandbox.start`.

Services are shared: :func:`acquire` gives every env of this process that asks for the same service
(factory, place, arguments, and the environment variables a service reads when it starts) the same
running one -- each episode still has its own session on it, so episodes never share state -- and
:func:`release` (the env's ``close()``) stops it when its last user is gone; sandboxes still running
at interpreter exit are stopped then. Sharing matters because a fresh server pays the service's warm-up
(the sheet toolset: about 2 s to import the formula library and read the workbook; WebShop: loading the
catalogue) that a process pays only once in-process.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import data
from ..sandbox.errors import SandboxRequestError
from ..sandbox.protocol import load_service
from ..sandbox.service import Service, error_reply


@dataclass(frozen=True)
class Placement:
    """How a sandbox runs a service: the limit on one call and on start-up (seconds), and for a container
    its image (None: the generic service image; an ``images.TaskImage``: the task's own) and the host
    folders the service reads, mounted read-only at the same path."""

    timeout: float = 30.0
    start_timeout: float = 120.0
    image: Any = None
    mounts: tuple[str, ...] = ()


class InProcess:
    """A service in this process with the sandbox's ``call(op, **payload)`` shape (``sandbox=None``).

    Calls run the op through :meth:`~agentrm_bench.sandbox.service.Service.dispatch`: there is no socket
    to cross, so no codec. A refused call raises :class:`~agentrm_bench.sandbox.SandboxRequestError`
    carrying the service's one error reply, as a sandbox does, with the original exception as its cause.
    """

    def __init__(self, service: Any):
        if not isinstance(service, Service):
            raise TypeError(f"an in-process service must be a sandbox.service.Service, got {type(service).__name__}")
        self.service = service
        self.closed = False

    def call(self, op: str, /, **payload: Any) -> dict[str, Any]:
        try:
            return {"ok": True, **self.service.dispatch(op, payload)}
        except Exception as exc:  # noqa: BLE001 - the service's one error rule, as on the wire
            reply = error_reply(exc)
            message = f"in-process call {op!r} to the {self.service.name} service was refused: {reply['error']}"
            raise SandboxRequestError(message, reply) from exc

    def close(self) -> None:
        self.closed = True

    def __repr__(self) -> str:
        return f"<InProcess {type(self.service).__name__} {'closed' if self.closed else 'open'}>"


def start(spec: str, sandbox: str | None, kwargs: dict[str, Any], placement: Placement = Placement()) -> Any:
    """A new running service ``spec(**kwargs)``: in this process (``sandbox=None``) or in a sandbox.

    Mounts that do not exist, or lie inside the data root (always mounted), are left out.
    """
    if sandbox is None:
        return InProcess(load_service(spec, kwargs))
    from .. import sandbox as sandboxes

    timeouts = {"timeout": placement.timeout, "start_timeout": placement.start_timeout}
    if sandbox == "local":  # a subprocess sees the host's files and has the host's image
        return sandboxes.start(spec, sandbox, service_kwargs=kwargs, **timeouts)
    mounts = _outside_data_root(placement.mounts)
    return sandboxes.start(spec, sandbox, service_kwargs=kwargs, image=placement.image, mounts=mounts, **timeouts)


def _outside_data_root(paths: Iterable[str | Path]) -> list[str]:
    root = os.environ.get(data.ENV_VAR)
    kept = []
    for path in paths:
        resolved = Path(path).resolve()
        if resolved.exists() and not (root and resolved.is_relative_to(Path(root).resolve())):
            kept.append(str(resolved))
    return kept


_POOL: dict[tuple[Any, ...], list[Any]] = {}  # key -> [running service, number of users]
_POOL_LOCK = threading.Lock()


def acquire(
    spec: str,
    sandbox: str | None,
    kwargs: dict[str, Any],
    placement: Placement = Placement(),
    env_keys: Iterable[str] = (data.ENV_VAR,),
) -> Any:
    """This process's running service ``spec(**kwargs)`` in ``sandbox``, started if there is none.

    ``env_keys``: environment variables the service reads when it starts; one started under other values
    is not reused.
    """
    key = (
        os.getpid(),
        spec,
        sandbox,
        json.dumps(kwargs, sort_keys=True),
        tuple((name, os.environ.get(name)) for name in env_keys),
    )
    with _POOL_LOCK:
        entry = _POOL.get(key)
        if entry is None or entry[0].closed:
            entry = _POOL[key] = [start(spec, sandbox, kwargs, placement), 0]
        entry[1] += 1
        return entry[0]


def release(handle: Any) -> None:
    """Give back one use of ``handle`` (from :func:`acquire`); the last one stops the service."""
    with _POOL_LOCK:
        for key, entry in list(_POOL.items()):
            if entry[0] is handle:
                entry[1] -= 1
                if entry[1] > 0:
                    return
                del _POOL[key]
                break
    handle.close()
