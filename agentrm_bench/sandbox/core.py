"""The :class:`Sandbox` handle and :func:`start`: one running server, whatever the backend.

The handle owns a sandboxed server's whole lifecycle: a health check before the first call, a
timeout on every call, a clear exception instead of a reply when anything breaks, a restart when the
next episode begins (op ``create``) after a crash -- or when the server is found dead at that moment --
and cleanup always -- on :meth:`Sandbox.close`, when
the handle is garbage-collected, and at interpreter exit (a ``weakref.finalize`` per sandbox).

A crash never becomes a score: the failed call raises, the environment lets it propagate, the harness
records the episode as an error and a rerun retries it.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections.abc import Iterable, Mapping
from typing import Any

from . import cleanup
from .backend import BACKENDS, Backend, Launch
from .errors import (
    SandboxCrashed,
    SandboxError,
    SandboxProtocolError,
    SandboxRequestError,
    SandboxStartError,
    SandboxTimeout,
)
from .protocol import CALL_PATH, HEALTH_PATH, BadReply, Client, Disconnected, TimedOut, check_spec, encode


class Sandbox:
    """A running service behind the sandbox protocol. Thread-safe: calls are serialised."""

    def __init__(self, backend: Backend, spec: str, timeout: float, start_timeout: float):
        self.backend = backend
        self.spec = spec
        self.timeout = timeout
        self.start_timeout = start_timeout
        self.restarts = 0
        self.info: dict[str, Any] = {}  # the last /health answer: pid, uid, ...
        self._client = Client(backend.socket_path)
        self._lock = threading.RLock()
        self._broken: str | None = None
        self._closed = False
        self._finalizer = weakref.finalize(self, _destroy, backend, self._client)

    # ------------------------------------------------------------------ calls
    def call(self, op: str, /, **payload: Any) -> dict[str, Any]:
        """Send ``{"op": op, **payload}``; return the service's reply (a dict with ``"ok": true``)."""
        return self.request({**payload, "op": op})

    def request(self, message: Mapping[str, Any], timeout: float | None = None) -> dict[str, Any]:
        """Send one request object with an optional per-call timeout (default: the sandbox's)."""
        message = dict(message)
        op = message.get("op")
        what = f"sandbox call {op!r} to {self.spec} ({self.backend.name})"
        with self._lock:
            if self._closed:
                raise SandboxError(f"{what}: the sandbox is closed")
            if op == "create" and self._broken is None and not self.backend.alive():
                self._broken = f"the server died between episodes ({self.backend.describe_exit()})"
            if self._broken is not None:
                if op != "create":
                    raise SandboxCrashed(
                        f"{what}: {self._broken}. Its sessions are gone; a new episode (op 'create') restarts it."
                    )
                self._restart_locked()
            limit = self.timeout if timeout is None else timeout
            try:
                status, reply = self._client.post(CALL_PATH, message, limit)
            except TimedOut:
                self._fail(SandboxTimeout, f"{what} got no answer within {limit:g} s; the server was stopped")
            except Disconnected as exc:
                self._fail(SandboxCrashed, f"{what} failed, the connection broke ({exc})")
            except BadReply as exc:
                self._fail(SandboxProtocolError, f"{what} got an answer that is not a JSON object ({exc})")
        if status != 200 or reply.get("ok") is False:
            raise SandboxRequestError(f"{what} was refused: {reply.get('error', 'no reason given')}", reply)
        return reply

    def health(self) -> dict[str, Any]:
        """The server's ``/health`` answer; raises :class:`SandboxCrashed` if it does not answer."""
        with self._lock:
            if self._closed or self._broken is not None:
                raise SandboxCrashed(f"{self.spec} ({self.backend.name}): {self._broken or 'closed'}")
            try:
                _, reply = self._client.get(HEALTH_PATH, min(self.timeout, 10.0))
            except (TimedOut, Disconnected, BadReply) as exc:
                self._fail(SandboxCrashed, f"{self.spec} ({self.backend.name}) failed its health check ({exc})")
            self.info = reply
            return reply

    # ------------------------------------------------------------------ lifecycle
    @property
    def alive(self) -> bool:
        """Open, not broken, and the server process / container is running."""
        return not self._closed and self._broken is None and self.backend.alive()

    @property
    def closed(self) -> bool:
        return self._closed

    def restart(self) -> None:
        """Stop the server (if running) and start a fresh one; every session is lost."""
        with self._lock:
            if self._closed:
                raise SandboxError(f"{self.spec}: the sandbox is closed")
            self._restart_locked()

    def close(self) -> None:
        """Stop the server and remove its container / socket directory. Idempotent."""
        with self._lock:
            self._closed = True
            self._finalizer()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __reduce__(self) -> Any:
        raise TypeError("a Sandbox is a running server and cannot be pickled; start one in each worker process")

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("broken" if self._broken else "running")
        return f"<Sandbox {self.spec} backend={self.backend.name} {state} restarts={self.restarts}>"

    # ------------------------------------------------------------------ internals
    def _launch(self) -> None:
        self.backend.launch()
        self._wait_healthy()

    def _restart_locked(self) -> None:
        self._client.close()
        self.backend.stop()
        self._broken = "it is being restarted"
        try:
            self._launch()
        except SandboxError as exc:
            self._broken = f"the restart failed ({exc})"
            raise
        self._broken = None
        self.restarts += 1

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        delay = 0.005
        while True:
            if not self.backend.alive():
                self.backend.wait_exit(1.0)
                raise SandboxStartError(
                    f"the {self.spec} server ({self.backend.name}) did not start: {self.backend.describe_exit()}"
                )
            if os.path.exists(self.backend.socket_path):
                try:
                    status, reply = self._client.get(HEALTH_PATH, max(0.1, min(5.0, deadline - time.monotonic())))
                    if status == 200 and reply.get("ok"):
                        self.info = reply
                        return
                except (Disconnected, TimedOut, BadReply):
                    self._client.close()
            if time.monotonic() > deadline:
                detail = self.backend.describe_exit()
                self.backend.stop()
                raise SandboxStartError(
                    f"the {self.spec} server ({self.backend.name}) was not healthy within {self.start_timeout:g} s: "
                    f"{detail}"
                )
            time.sleep(delay)
            delay = min(delay * 1.5, 0.1)

    def _fail(self, kind: type[SandboxError], message: str) -> Any:
        """Mark the sandbox broken, stop what is left of the server, and raise ``kind`` with the reason."""
        self._client.close()
        self.backend.wait_exit(0.0 if kind is SandboxTimeout else 1.0)
        detail = self.backend.describe_exit()
        self.backend.stop()
        self._broken = f"{message} ({detail})"
        raise kind(self._broken)


def _destroy(backend: Backend, client: Client) -> None:
    client.close()
    try:
        backend.destroy()
    except Exception:  # noqa: BLE001 - cleanup at exit must not raise; stale leftovers are reaped at next start
        pass


def start(
    service: str,
    backend: str = "local",
    *,
    service_kwargs: dict[str, Any] | None = None,
    timeout: float = 30.0,
    image: Any = None,
    start_timeout: float = 120.0,
    pythonpath: Iterable[str | os.PathLike[str]] = (),
    mounts: Iterable[str | os.PathLike[str]] = (),
    env: Mapping[str, str] | None = None,
    limits: Mapping[str, Any] | None = None,
) -> Sandbox:
    """Start ``service`` (a ``"module:callable"`` factory spec) behind the protocol; return when healthy.

    ``service_kwargs`` (JSON) go to the factory. ``timeout`` bounds every call, ``start_timeout`` the
    start-up and health check. ``backend``: a name in :data:`~.backend.BACKENDS` (``local``,
    ``docker``, a plug-in) or ``module:attribute``. ``pythonpath``: extra import roots for the server
    (mounted read-only in Docker). Docker only: ``image`` -- None for the generic service image, an
    :class:`~.images.TaskImage` for the image of a task package's ``docker/Dockerfile`` with the task's
    pip extras (both built when absent), or an existing tag; ``mounts``: host paths mounted read-only
    at the same path (the data root always is); ``limits``: ``memory``, ``pids``, ``cpus``. Raises
    :class:`SandboxStartError` when the server does not come up.
    """
    spec = check_spec(service)
    kwargs = dict(service_kwargs or {})
    encode(kwargs)  # a TypeError now rather than a confusing failure inside the server
    if not timeout > 0 or not start_timeout > 0:
        raise ValueError(f"timeouts must be positive, got timeout={timeout!r}, start_timeout={start_timeout!r}")
    factory = BACKENDS.load(backend)  # an unknown name is refused before anything starts
    launch = Launch(
        spec,
        kwargs,
        pythonpath=tuple(str(os.path.abspath(p)) for p in pythonpath),
        env={str(k): str(v) for k, v in (env or {}).items()},
        image=image,
        mounts=tuple(str(os.path.abspath(m)) for m in mounts),
        limits=dict(limits or {}),
    )
    cleanup.reap_local()
    impl: Backend = factory(launch)
    sandbox = Sandbox(impl, spec, float(timeout), float(start_timeout))
    try:
        sandbox._launch()
    except BaseException:
        sandbox.close()
        raise
    return sandbox
