"""A toolset as a service: sessions (one per episode) behind a small request/response API.

Tool-Operation talks to its toolsets only through :class:`OperationService`, a
:class:`~agentrm_bench.sandbox.service.Service` with the ops ``create``, ``reset``, ``step``,
``snapshot``, ``restore``, ``inspect``, ``close`` (values in the :mod:`..tool_common.wire` form on the
socket), reached in-process or behind the sandbox's Unix-socket server alike
(:class:`~agentrm_bench.envs.served.ServedEnv`). The service knows nothing about the benchmark rows
or their answers: it executes tool calls and reports, for each, what
AgentBoard records in its action path (the "subgoal" value scoring compares with the ground truth).

A toolset implements :class:`Toolset`: one ``tool_<name>`` method per tool, with keyword parameters
named as in AgentBoard's tool schemas. The service parses the agent's text with
:func:`~..tool_common.protocol.parse_tool_action`, answers unknown tools and missing arguments with
``ERROR | ...``, and turns a :class:`ToolFailure` (or any exception inside a tool) into the tool's own
failure message, as upstream's toolkits do; in every error or failure case the session state is
unchanged (tools validate before they write).
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar

from ...sandbox.service import Service, op
from ..tool_common import wire
from ..tool_common.protocol import ERROR_PREFIX, ParseError, parse_tool_action

MAX_OBSERVATION_CHARS = 20_000


class ToolFailure(Exception):
    """A tool call the toolset refuses (bad position, unknown id, ...): the message is the observation."""


class Toolset(ABC):
    """The tools of one session. Subclasses define ``tool_<name>`` methods and the class attributes."""

    name: ClassVar[str] = ""
    tools: ClassVar[tuple[str, ...]] = ()  # the agent-visible tool names, in the order the prompt lists them

    @abstractmethod
    def reset(self, config: dict[str, Any]) -> str:
        """Seed the session from ``config``; return the first observation text of the toolset."""

    @abstractmethod
    def snapshot(self) -> Any:
        """A JSON-able copy of the session state."""

    @abstractmethod
    def restore(self, state: Any) -> None: ...

    @abstractmethod
    def inspect(self) -> Any:
        """The state scoring looks at (sheet: the open sheet's values; todo: projects and tasks)."""

    def record(self, tool: str, value: Any) -> Any:
        """The action-path "Subgoal" of a successful call (todo drops ids; default: the value)."""
        return value

    def close(self) -> None:  # noqa: B027 -- optional hook, most toolsets hold nothing to release
        """Release resources (database connections)."""


class OperationService(Service[Toolset]):
    """Sessions of one toolset, each created by ``factory()``."""

    name = "tool-operation"
    codec = wire

    def __init__(self, factory: Callable[[], Toolset]):
        super().__init__()
        self._factory = factory

    # ------------------------------------------------------------------ ops
    @op(reply="session")
    def create(self) -> str:
        return self.open_session(self._factory())

    @op
    def reset(self, session: str, config: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"observation": self.session(session).reset(config or {})}

    @op
    def step(self, session: str, action: str = "") -> dict[str, Any]:
        """Run one action text. The answer: ``observation``, ``tool``, ``status`` ("ok", "failed" or
        "error"), ``error`` (for "error": "format", "arguments", "unknown_tool" or "missing_argument"),
        ``record`` (whether upstream logs the call in its action path), ``subgoal`` (the logged value) and
        ``finished`` (a successful ``finish`` call)."""
        toolset = self.session(session)
        call = parse_tool_action(str(action))
        if isinstance(call, ParseError):
            return _answer(call.message, call.name, "error", error=call.kind)
        if call.name == "check_valid_actions":
            return _answer(f"Valid actions: {list(toolset.tools)}", call.name, "ok")
        if call.name not in toolset.tools:
            message = f"{ERROR_PREFIX}Invalid action: {call.name}. Valid actions: {list(toolset.tools)}"
            return _answer(message, call.name, "error", error="unknown_tool")
        method = getattr(toolset, f"tool_{call.name}")
        parameters = inspect.signature(method).parameters
        missing = [p for p, spec in parameters.items() if spec.default is inspect.Parameter.empty]
        missing = [p for p in missing if p not in call.arguments]
        if missing:
            return _answer(f"{ERROR_PREFIX}KeyError({missing[0]!r})", call.name, "error", error="missing_argument")
        arguments = {k: v for k, v in call.arguments.items() if k in parameters}
        try:
            value = method(**arguments)
        except ToolFailure as failure:
            return _failed(call.name, arguments, str(failure))
        except Exception as exc:  # noqa: BLE001 -- upstream reports any error inside a tool as its failure
            return _failed(call.name, arguments, repr(exc))
        subgoal = toolset.record(call.name, value)
        return _answer(_text(value), call.name, "ok", record=True, subgoal=subgoal, finished=call.name == "finish")

    @op(reply="state")
    def snapshot(self, session: str) -> Any:
        return self.session(session).snapshot()

    @op
    def restore(self, session: str, state: Any) -> None:
        self.session(session).restore(state)

    @op(reply="state")
    def inspect(self, session: str) -> Any:
        return self.session(session).inspect()

    def on_close(self, state: Toolset) -> None:
        state.close()


def _answer(
    observation: str,
    tool: str | None,
    status: str,
    record: bool = False,
    subgoal: Any = None,
    finished: bool = False,
    error: str | None = None,
) -> dict[str, Any]:
    return {
        "observation": observation,
        "tool": tool,
        "status": status,
        "error": error,
        "record": record,
        "subgoal": subgoal,
        "finished": finished,
    }


def _failed(tool: str, arguments: dict[str, Any], message: str) -> dict[str, Any]:
    """Upstream logs a failed call as the text "Calling <tool> with <arguments> failed"."""
    subgoal = f"Calling {tool} with {arguments} failed"
    return _answer(_clip(message), tool, "failed", record=True, subgoal=subgoal)


def _text(value: Any) -> str:
    return _clip(value if isinstance(value, str) else str(value))


def _clip(text: str) -> str:
    if len(text) <= MAX_OBSERVATION_CHARS:
        return text
    return text[:MAX_OBSERVATION_CHARS] + f"... [{len(text) - MAX_OBSERVATION_CHARS} more characters]"
