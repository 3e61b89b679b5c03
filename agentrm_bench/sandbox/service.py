"""The base of every environment service: ops declared once, one dispatch, one error rule, shared sessions.

A service is what the sandbox serves (:mod:`.server`): an object whose ``handle(request) -> reply``
takes one JSON object and answers one. WebShop, Tool-Query and Tool-Operation each run their episodes
as sessions of such a service; :class:`Service` holds what must not differ between them:

- **Ops are declared once.** A method marked :func:`op` is the op of that name; the request's other
  fields are its keyword arguments, and what it returns is the reply -- a dict, or a single value put
  under the key the mark names (``@op(reply="state")``). The method stays an ordinary method, so
  in-process code and tests may call it directly.
- **One dispatch.** :meth:`Service.dispatch` runs an op (the in-process path); :meth:`Service.handle` is
  the same op on the wire, with the service's :attr:`~Service.codec` decoding the request and encoding
  the reply in that one place (the tool tasks' values are not all plain JSON: ``tool_common.wire``).
- **One error rule.** Whatever goes wrong -- an unknown op, a missing argument, an unknown session, an
  exception inside the op -- the wire reply is :func:`error_reply`: ``{"ok": false, "error": "Type:
  message", "error_type": "Type"}``. A client re-raises the kinds it knows by ``error_type`` (absent
  data, an unreachable API), so an error means the same thing wherever the service runs.
- **Sessions.** One per episode: :meth:`Service.open_session`, :meth:`Service.session` (an id that is
  not open is a ``KeyError`` naming it) and the ``close`` op, with :meth:`Service.on_close` for what a
  session must release.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Protocol, TypeVar, overload

S = TypeVar("S")
F = TypeVar("F", bound=Callable[..., Any])


class Codec(Protocol):
    """How a service's values cross the socket: ``decode(encode(v)) == v`` for the values it uses."""

    def encode(self, value: Any) -> Any: ...
    def decode(self, value: Any) -> Any: ...


class PlainJSON:
    """The codec of a service whose values are plain JSON already: the identity both ways."""

    @staticmethod
    def encode(value: Any) -> Any:
        return value

    @staticmethod
    def decode(value: Any) -> Any:
        return value


PLAIN = PlainJSON()


class UnknownOp(LookupError):
    """The request names no op of the service."""


@dataclass(frozen=True)
class OpSpec:
    """What :func:`op` records on a method: the key its value travels under (None: it returns the reply)."""

    reply: str | None = None


_MARK = "__service_op__"


@overload
def op(function: F) -> F: ...
@overload
def op(*, reply: str) -> Callable[[F], F]: ...
def op(function: Any = None, *, reply: str | None = None) -> Any:
    """Mark a method of a :class:`Service` as the op of the same name (``@op`` or ``@op(reply="key")``)."""

    def mark(method: F) -> F:
        setattr(method, _MARK, OpSpec(reply))
        return method

    return mark(function) if function is not None else mark


def error_reply(exc: BaseException) -> dict[str, Any]:
    """The one error reply: the exception's type and message, and the type alone for typed re-raising."""
    kind = type(exc).__name__
    return {"ok": False, "error": f"{kind}: {exc}", "error_type": kind}


class Service(Generic[S]):
    """Sessions of state ``S`` behind ops. Subclasses set :attr:`name`, mark their ops, call ``__init__``."""

    name: ClassVar[str] = "service"  # said in errors: "no open webshop session 's3'"
    codec: ClassVar[Codec] = PLAIN
    ops: ClassVar[dict[str, OpSpec]] = {}  # op name -> its spec, collected from the marked methods

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        found: dict[str, OpSpec] = {}
        for klass in reversed(cls.__mro__):
            for attribute, value in vars(klass).items():
                spec = getattr(value, _MARK, None)
                if isinstance(spec, OpSpec):
                    found[attribute] = spec
                else:
                    found.pop(attribute, None)  # overridden by a method that is not an op
        cls.ops = found

    def __init__(self) -> None:
        self._sessions: dict[str, S] = {}
        self._ids = itertools.count(1)

    # ------------------------------------------------------------------ dispatch
    def handle(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """One request on the wire -> its reply (``"ok": true`` and the op's fields, or :func:`error_reply`)."""
        try:
            payload = self.codec.decode({key: value for key, value in request.items() if key != "op"})
            return {"ok": True, **self.codec.encode(self.dispatch(request.get("op"), payload))}
        except Exception as exc:  # noqa: BLE001 - the one error rule: a reply, never a crash of the server
            return error_reply(exc)

    def dispatch(self, op: Any, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Run ``op`` with ``payload`` as keyword arguments and return its reply (no codec: in-process).

        Raises what the op raises; :class:`UnknownOp` for a name that is no op of this service.
        """
        spec = self.ops.get(op) if isinstance(op, str) else None
        if spec is None:
            raise UnknownOp(f"unknown op {op!r}; the {self.name} service has {', '.join(sorted(self.ops))}")
        value = getattr(self, op)(**payload)
        if spec.reply is not None:
            return {spec.reply: value}
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise TypeError(f"op {op!r} of the {self.name} service returned a {type(value).__name__}, not a dict")
        return value

    # ------------------------------------------------------------------ sessions
    def open_session(self, state: S) -> str:
        """Keep ``state`` as a new session; return its id."""
        session = f"s{next(self._ids)}"
        self._sessions[session] = state
        return session

    def session(self, session: str) -> S:
        """The state of an open session; a ``KeyError`` naming the id if it is not open."""
        try:
            return self._sessions[session]
        except (KeyError, TypeError):
            raise KeyError(f"no open {self.name} session {session!r}") from None

    def replace_session(self, session: str, state: S) -> None:
        """Put ``state`` in place of an open session's state (reset, restore)."""
        self.session(session)
        self._sessions[session] = state

    def sessions(self) -> list[str]:
        """The ids of the open sessions."""
        return list(self._sessions)

    @op
    def close(self, session: str) -> None:
        """End a session; closing one that is not open is not an error (after a restart it is gone)."""
        state = self._sessions.pop(session, None) if isinstance(session, str) else None
        if state is not None:
            self.on_close(state)

    def on_close(self, state: S) -> None:
        """Release what a closed session holds (database connections, ...); nothing by default."""
