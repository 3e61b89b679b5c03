"""The client of the server tasks: one env class that owns reaching a service and the episode's session.

WebShop, Tool-Query and Tool-Operation keep their world in a service (a
:class:`~agentrm_bench.sandbox.service.Service`) and are played through :class:`ServedEnv`, a
:class:`~agentrm_bench.env.TextEnv` that owns everything about that service, the same way for all three:

- **Where it runs.** ``sandbox``: ``"local"`` (a subprocess; the default), ``"docker"`` (a container
  without network), another registered sandbox backend, or ``None`` (this process). The service starts
  on first use and is shared by the process's envs that ask for the same one (:mod:`.service_pool`).
- **One call path.** :meth:`ServedEnv._call` encodes the payload and decodes the reply with the
  service's codec (only where a socket is crossed) and re-raises the error kinds the env knows by the
  reply's ``error_type`` -- absent data stays a :class:`~agentrm_bench.data.DataMissingError` wherever
  the service runs. Any other refusal, and a crashed, hung or dead server, raises a
  :class:`~agentrm_bench.sandbox.SandboxError`: the harness records the episode as an error, never a score.
- **Sessions.** One per episode: created at reset (``create``, which also restarts a crashed server),
  closed at the next reset and at :meth:`close`; closing on a dead server is best effort.

A subclass names its service (:attr:`ServedEnv.service_spec`, :attr:`ServedEnv.codec`) and its
arguments (:attr:`ServedEnv.service_kwargs`, or per episode through :meth:`ServedEnv._open_session`), and
may say how a sandbox places it (:meth:`ServedEnv._placement`: timeouts, Docker image and mounts).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar

from .. import data
from ..env import TextEnv
from ..sandbox.backend import BACKENDS
from ..sandbox.errors import SandboxError, SandboxRequestError
from ..sandbox.service import PLAIN, Codec
from . import service_pool
from .service_pool import InProcess, Placement


def check_sandbox(sandbox: str | None) -> str | None:
    """``sandbox`` if it names a place a service can run (None: this process), else a ValueError."""
    if sandbox is not None and sandbox not in BACKENDS:
        raise ValueError(f"sandbox must be one of {(*BACKENDS.names(), None)}, got {sandbox!r}")
    return sandbox


class ServedEnv(TextEnv):
    """A task whose state lives in a service; subclasses play episodes through :meth:`_call`."""

    service_spec: ClassVar[str] = ""  # the factory the sandbox server imports, "module:callable"
    codec: ClassVar[Codec] = PLAIN  # the service's own codec (its values on the socket)
    error_types: ClassVar[Mapping[str, type[Exception]]] = {"DataMissingError": data.DataMissingError}
    env_keys: ClassVar[tuple[str, ...]] = (data.ENV_VAR,)  # read by the service at start: part of its identity
    call_timeout: ClassVar[float] = 30.0
    start_timeout: ClassVar[float] = 120.0

    def __init__(
        self,
        split: str = "test",
        max_turns: int | None = None,
        render_mode: str | None = None,
        *,
        sandbox: str | None = "local",
    ):
        super().__init__(split=split, max_turns=max_turns, render_mode=render_mode)
        self.sandbox = check_sandbox(sandbox)
        self.service_kwargs: dict[str, Any] = {}  # JSON-able: what the service factory gets
        self._services: dict[str, Any] = {}  # the kwargs (JSON text) -> this env's share of that running service
        self._service: Any = None  # the running service of the current (else the last) session
        self._session: str | None = None

    # ------------------------------------------------------------------ calls
    def _call(self, op: str, **payload: Any) -> dict[str, Any]:
        """One op on the current session's service (before any session: the one of :attr:`service_kwargs`)."""
        if self._service is None:
            self._service = self._service_for(self.service_kwargs)
        return self._request(self._service, op, payload)

    def _session_call(self, op: str, **payload: Any) -> dict[str, Any]:
        """One op on the current episode's session."""
        return self._call(op, session=self._require_session(), **payload)

    def _request(self, service: Any, op: str, payload: dict[str, Any]) -> dict[str, Any]:
        return call(service, op, payload, self.codec, self.error_types)

    # ------------------------------------------------------------------ services and sessions
    def _service_for(self, kwargs: dict[str, Any]) -> Any:
        """This env's share of the running service ``service_spec(**kwargs)``, acquired on first use."""
        key = json.dumps(kwargs, sort_keys=True)
        if key not in self._services:
            served, placement = self._placement(dict(kwargs))
            self._services[key] = service_pool.acquire(
                self.service_spec, self.sandbox, served, placement, self.env_keys
            )
        return self._services[key]

    def _placement(self, kwargs: dict[str, Any]) -> tuple[dict[str, Any], Placement]:
        """The arguments the server gets and how a sandbox runs it; subclasses add images and mounts."""
        return kwargs, Placement(timeout=self.call_timeout, start_timeout=self.start_timeout)

    def _open_session(self, kwargs: dict[str, Any] | None = None, **payload: Any) -> dict[str, Any]:
        """Close the previous session and ``create`` one (``payload``) on the service for ``kwargs``."""
        self._close_session()
        service = self._service_for(self.service_kwargs if kwargs is None else kwargs)
        reply = self._request(service, "create", payload)
        self._service, self._session = service, reply["session"]
        return reply

    def _close_session(self) -> None:
        """Forget the current session; telling the service is best effort (after a crash it is gone)."""
        session, self._session = self._session, None
        if session is not None and self._service is not None:
            try:
                self._service.call("close", session=session)
            except SandboxError:
                pass

    def _require_session(self) -> str:
        if self._session is None:
            raise RuntimeError("call reset() first")
        return self._session

    def close(self) -> None:
        """End the episode's session and release this env's services (idempotent)."""
        self._close_session()
        services, self._services, self._service = self._services, {}, None
        for service in services.values():
            service_pool.release(service)
        super().close()


def call(
    service: Any,
    op: str,
    payload: dict[str, Any],
    codec: Codec = PLAIN,
    error_types: Mapping[str, type[Exception]] | None = None,
) -> dict[str, Any]:
    """``op`` on a running service (:mod:`.service_pool`): the one call path of every served env.

    Across a socket the payload goes in the service's wire form and the reply comes back decoded; a
    refusal whose ``error_type`` names one of ``error_types`` is raised as that kind, any other as the
    :class:`~agentrm_bench.sandbox.SandboxRequestError` it is.
    """
    crossing = not isinstance(service, InProcess)
    try:
        reply = service.call(op, **(codec.encode(payload) if crossing else payload))
    except SandboxRequestError as refused:
        kind = (error_types or {}).get(str(refused.reply.get("error_type")))
        if kind is None:
            raise
        if isinstance(refused.__cause__, kind):  # in-process: the very exception, with its traceback
            raise refused.__cause__ from None
        raise kind(_strip_type(str(refused.reply.get("error", refused)))) from None
    return codec.decode(reply) if crossing else reply


def _strip_type(message: str) -> str:
    """``"DataMissingError: tool-query: ..."`` -> ``"tool-query: ..."`` (the type is the exception's)."""
    head, sep, rest = message.partition(": ")
    return rest if sep and head.isidentifier() else message
