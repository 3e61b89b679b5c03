"""The tool services behind the sandbox: start one, and talk to it with the in-process service's methods.

The tool tasks (Tool-Operation, Tool-Query) choose where a toolset service runs with ``sandbox``:
``None`` (the service object in this process), ``"local"`` (a subprocess) or ``"docker"`` (a container,
no network) through :mod:`agentrm_bench.sandbox`. :func:`start_service` starts the server from a
``module:callable`` factory; :class:`RemoteToolService` (Tool-Operation) and :class:`RemoteQueryService`
(Tool-Query) map the service methods the environments call -- create / reset / step / snapshot /
restore / inspect or calls / close -- onto ``Sandbox.call``, values decoded from the :mod:`.tools_wire`
form, so an environment runs the same code whichever place serves it.

Servers are shared: :func:`acquire` gives every environment of this process that asks for the same
service (factory, backend, arguments, data root) the same running server -- each episode still has its
own session on it, so episodes never share state -- and :func:`release` (the env's ``close()``) stops it
when its last user is gone; servers still running at interpreter exit are stopped then. Sharing matters
because a fresh server pays the toolset's warm-up (the sheet toolset: about 2 s to import the formula
library and read the workbook) that a process pays only once in-process.

Failures keep their meaning: a crashed, hung or dead server raises a
:class:`~agentrm_bench.sandbox.SandboxError` (the harness records the episode as an error; the next
episode's ``create`` restarts the server), and errors the service reports by kind (absent data, an
unreachable live API) are raised as that kind here. Closing a session on a dead server is best effort.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ... import data
from . import wire

SANDBOXES = ("local", "docker", None)
CALL_TIMEOUT = 60.0
"""Seconds one call may take before the server is declared hung and stopped (tool calls take milliseconds;
a live API call has its own shorter HTTP timeout)."""
START_TIMEOUT = 120.0


def check_sandbox(sandbox: str | None) -> str | None:
    if sandbox not in SANDBOXES:
        raise ValueError(f"sandbox must be one of {SANDBOXES}, got {sandbox!r}")
    return sandbox


def start_service(spec: str, sandbox: str, kwargs: dict[str, Any], mounts: Iterable[str | Path] = ()) -> Any:
    """A running :class:`~agentrm_bench.sandbox.Sandbox` serving ``spec(**kwargs)``.

    Docker runs the generic service image (it holds both tool extras); ``mounts`` are host folders the
    service reads (fixture graphs, cassettes) -- those that exist and lie outside the data root, which
    is always mounted -- read-only at the same path.
    """
    from ... import sandbox as sandboxes

    if check_sandbox(sandbox) is None:
        raise ValueError("start_service needs a sandbox backend, 'local' or 'docker'")
    if sandbox == "local":
        return sandboxes.start(spec, "local", service_kwargs=kwargs, timeout=CALL_TIMEOUT, start_timeout=START_TIMEOUT)
    root = os.environ.get("AGENTRM_BENCH_DATA")
    extra = []
    for path in mounts:
        resolved = Path(path).resolve()
        if resolved.exists() and not (root and resolved.is_relative_to(Path(root).resolve())):
            extra.append(str(resolved))
    return sandboxes.start(
        spec, "docker", service_kwargs=kwargs, mounts=extra, timeout=CALL_TIMEOUT, start_timeout=START_TIMEOUT
    )


_POOL: dict[tuple[Any, ...], list[Any]] = {}  # key -> [Sandbox, number of users]
_POOL_LOCK = threading.Lock()
ENV_KEYS = (data.ENV_VAR, "MOVIE_KEY", "AGENTRM_BENCH_TRUST_PICKLES")
"""Environment variables a service reads when it starts: a server started under other values is not reused."""


def acquire(spec: str, sandbox: str, kwargs: dict[str, Any], mounts: Iterable[str | Path] = ()) -> Any:
    """This process's running server for ``spec(**kwargs)`` in ``sandbox``, started if there is none."""
    key = (
        os.getpid(),
        spec,
        sandbox,
        json.dumps(kwargs, sort_keys=True),
        tuple(os.environ.get(name) for name in ENV_KEYS),
    )
    with _POOL_LOCK:
        entry = _POOL.get(key)
        if entry is None or entry[0].closed:
            entry = _POOL[key] = [start_service(spec, sandbox, kwargs, mounts), 0]
        entry[1] += 1
        return entry[0]


def release(box: Any) -> None:
    """Give back one use of ``box`` (from :func:`acquire`); the last one stops the server."""
    with _POOL_LOCK:
        for key, entry in list(_POOL.items()):
            if entry[0] is box:
                entry[1] -= 1
                if entry[1] > 0:
                    return
                del _POOL[key]
                break
    box.close()


class _Remote:
    """Shared plumbing: one sandbox, calls that re-raise the service's own error kinds."""

    raised: dict[str, type[Exception]] = {}  # error_type the service reports -> the exception to raise here

    def __init__(self, box: Any):
        self.box = box  # the Sandbox

    def _call(self, op: str, **payload: Any) -> dict[str, Any]:
        from ...sandbox import SandboxRequestError

        try:
            return self.box.call(op, **payload)
        except SandboxRequestError as exc:
            kind = self.raised.get(str(exc.reply.get("error_type")))
            if kind is None:
                raise
            raise kind(_strip_type(str(exc.reply.get("error", exc)))) from None

    def close(self, session: str) -> None:
        """Forget ``session`` on the server; after a crash it is gone already, so failures are ignored."""
        from ...sandbox import SandboxError

        try:
            self.box.call("close", session=session)
        except SandboxError:
            pass

    def shutdown(self) -> None:
        """Release this handle's use of the server (:func:`release`); call it once."""
        release(self.box)


class RemoteToolService(_Remote):
    """:class:`~.tools_service.ToolService`'s methods for a Tool-Operation toolset served in a sandbox."""

    def create(self) -> str:
        return self._call("create")["session"]

    def reset(self, session: str, config: dict[str, Any]) -> dict[str, Any]:
        return {"observation": self._call("reset", session=session, config=config)["observation"]}

    def step(self, session: str, text: str) -> dict[str, Any]:
        reply = self._call("step", session=session, action=text)
        reply.pop("ok", None)
        reply["subgoal"] = wire.decode(reply.get("subgoal"))
        return reply

    def snapshot(self, session: str) -> Any:
        return wire.decode(self._call("snapshot", session=session)["state"])

    def restore(self, session: str, state: Any) -> None:
        self._call("restore", session=session, state=wire.encode(state))

    def inspect(self, session: str) -> Any:
        return wire.decode(self._call("inspect", session=session)["state"])


class RemoteQueryService(_Remote):
    """:class:`~.toolq_service.ToolService`'s methods for the Tool-Query toolsets served in a sandbox."""

    def __init__(self, box: Any):
        from ..tool_query.cassette import ToolBackendError

        super().__init__(box)
        self.raised = {"DataMissingError": data.DataMissingError, "ToolBackendError": ToolBackendError}

    def create(self, row: Any) -> str:
        return self._call("create", row=row.to_json())["session"]

    def reset(self, session: str) -> dict[str, Any]:
        return {"observation": self._call("reset", session=session)["observation"]}

    def step(self, session: str, action: str) -> dict[str, Any]:
        reply = self._call("step", session=session, action=action)
        reply.pop("ok", None)
        return reply

    def snapshot(self, session: str) -> Any:
        return wire.decode(self._call("snapshot", session=session)["state"])

    def restore(self, session: str, state: Any) -> None:
        self._call("restore", session=session, state=wire.encode(state))

    def calls(self, session: str) -> list[dict[str, Any]]:
        return wire.decode(self._call("calls", session=session)["calls"])


def _strip_type(message: str) -> str:
    """``"DataMissingError: tool-query: ..."`` -> ``"tool-query: ..."`` (the type is the exception's)."""
    head, sep, rest = message.partition(": ")
    return rest if sep and head.isidentifier() else message
