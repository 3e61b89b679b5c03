"""Sandboxes: run an environment's service as a server, in a local process or a Docker container.

A *service* is any object with ``handle(request: dict) -> dict`` (JSON in, JSON out), built by a
factory named ``"package.module:callable"``; the environments' services derive from
:class:`.service.Service` (ops declared once, one error rule, sessions). Requests carry
``{"op": ..., "session": ..., ...}`` with the ops create / reset / step / snapshot / restore / close (one
session per episode) plus the service's own. :func:`start` puts the service behind the same small
protocol (JSON over HTTP on a Unix domain socket, :mod:`.protocol`) whichever backend runs it::

    from agentrm_bench import sandbox

    todo = {"toolset": "todo"}
    with sandbox.start("agentrm_bench.envs.tool_operation.env:service", "docker", service_kwargs=todo) as box:
        session = box.call("create")["session"]
        box.call("step", session=session, action="...")

Backends (:data:`BACKENDS`, a registry): ``local`` (default; :mod:`.local`), ``docker``
(:mod:`.docker_backend`; engine and images from ``envs/docker/setup.sh``), or a plug-in of the entry-point
group ``agentrm_bench.sandbox_backends``. Failures raise :class:`SandboxError` subclasses, never a reply.
"""

from .backend import BACKENDS
from .core import Sandbox, start
from .errors import (
    SandboxCrashed,
    SandboxError,
    SandboxProtocolError,
    SandboxRequestError,
    SandboxStartError,
    SandboxTimeout,
)

__all__ = [
    "BACKENDS",
    "Sandbox",
    "SandboxCrashed",
    "SandboxError",
    "SandboxProtocolError",
    "SandboxRequestError",
    "SandboxStartError",
    "SandboxTimeout",
    "start",
]
