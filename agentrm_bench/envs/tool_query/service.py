"""The Tool-Query toolset service: one session per episode, AgentBoard's action path and progress rule.

Each toolset (academia, weather, movie) is a :class:`ToolBox`: a set of named tools with declared
parameters, plus how a tool's return value becomes a "Subgoal" and how a ground-truth subgoal is matched.
:class:`ToolService` runs episodes over them with a small request/response API (create / reset / step /
snapshot / restore / calls / close, JSON messages through :meth:`ToolService.handle`, values in the
:mod:`.tools_wire` form). The environment uses it in-process (``sandbox=None``) or behind the sandbox's
Unix-socket server through :class:`~.tools_remote.RemoteQueryService`, which has the same methods.

Scoring reproduces AgentBoard's tool environments (``agentboard/environment/*_env.py``):

- every dispatched tool call appends a record to the action path; its Subgoal is the (toolset-cleaned)
  return value, or ``"Calling <tool> with <kwargs> failed"`` when the tool reports failure;
- calls that raise (missing argument, bad date text, a response that is not recorded, ...) answer
  ``ERROR | Type(message)`` and append nothing; unparsable actions and unknown tools likewise;
- progress = matched ground-truth subgoals / all of them, each record usable once, Python ``==`` (so
  ``2 != "2"``), kept as a running maximum and not updated on a step whose observation contains
  ``"Invalid"``; the weather toolset matches dicts with coordinates by the 50 km rule instead;
- the episode ends when the action text (tool name and input) contains ``finish`` or ``Finish``;
  success = ended that way with progress 1.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from ..tool_common import wire
from ..tool_common.protocol import ERROR_PREFIX, ParseError, error_observation, parse_tool_action
from .cassette import NotRecordedError, ToolBackendError
from .rows import Row

FINISH_HINT = "When the goal is reached, call the finish tool to end the episode."


@dataclass(frozen=True)
class Tool:
    """A callable tool: ``run(**kwargs) -> (ok, result)``; it may raise, which becomes an ``ERROR | ...``."""

    name: str
    params: tuple[str, ...]
    run: Callable[..., tuple[bool, Any]]


class ToolBox:
    """The tools of one toolset for one episode (subclasses add state such as "PaperNet is loaded")."""

    toolset: ClassVar[str] = ""
    valid_actions: ClassVar[tuple[str, ...]] = ()  # what check_valid_actions lists (upstream schema order)
    first_hint: ClassVar[str] = FINISH_HINT

    def tools(self) -> dict[str, Tool]:
        raise NotImplementedError

    def subgoal(self, result: Any) -> Any:
        """The value recorded for progress matching (upstream strips a few noisy fields per toolset)."""
        return copy.deepcopy(result)

    def matches(self, truth: Any, predicted: Any) -> bool:
        """Whether a recorded Subgoal satisfies a ground-truth subgoal (Python equality upstream)."""
        try:
            return bool(truth == predicted)
        except Exception:  # noqa: BLE001 - exotic values that refuse comparison simply do not match
            return False

    def state(self) -> dict[str, Any]:
        return {}

    def load_state(self, state: dict[str, Any]) -> None:
        del state

    def finish(self, answer: Any) -> tuple[bool, Any]:
        """Echo the answer; a list is sorted first (so list answers are order-free), as upstream does."""
        if type(answer) is list:
            answer = sorted(answer)
        return True, answer


@dataclass
class Session:
    row: Row
    box: ToolBox
    path: list[dict[str, Any]]  # AgentBoard's action path: tool, input, subgoal
    calls: list[dict[str, Any]]  # every parsed call with its outcome (the expert reads it)
    progress: float = 0.0
    done: bool = False


def count_matched(truths: list[Any], predicted: list[Any], box: ToolBox) -> int:
    """How many ground-truth subgoals find a recorded Subgoal; each record satisfies at most one."""
    pool = list(predicted)
    count = 0
    for truth in truths:
        for position, candidate in enumerate(pool):
            if box.matches(truth, candidate):
                del pool[position]
                count += 1
                break
    return count


def first_observation(row: Row, box: ToolBox) -> str:
    """The goal, then a one-line hint for this toolset (our wording; the same form as Tool-Operation)."""
    return f"{row.goal}\n{box.first_hint}"


class ToolService:
    """Episodes over toolboxes; ``box_factory(row)`` builds a fresh toolbox for each session."""

    def __init__(self, box_factory: Callable[[Row], ToolBox]):
        self._box_factory = box_factory
        self._sessions: dict[str, Session] = {}
        self._ids = itertools.count(1)

    # ------------------------------------------------------------------ the request/response API
    def create(self, row: Row) -> str:
        session_id = f"s{next(self._ids)}"
        self._sessions[session_id] = Session(row, self._box_factory(row), [], [])
        return session_id

    def reset(self, session_id: str) -> dict[str, Any]:
        session = self._session(session_id)
        session.box = self._box_factory(session.row)
        session.path, session.calls, session.progress, session.done = [], [], 0.0, False
        return {"observation": first_observation(session.row, session.box)}

    def step(self, session_id: str, action: str) -> dict[str, Any]:
        return self._step(self._session(session_id), action)

    def snapshot(self, session_id: str) -> dict[str, Any]:
        session = self._session(session_id)
        return copy.deepcopy(
            {
                "path": session.path,
                "calls": session.calls,
                "progress": session.progress,
                "done": session.done,
                "box": session.box.state(),
            }
        )

    def restore(self, session_id: str, state: dict[str, Any]) -> None:
        session = self._session(session_id)
        state = copy.deepcopy(state)
        session.path, session.calls = state["path"], state["calls"]
        session.progress, session.done = state["progress"], state["done"]
        session.box.load_state(state["box"])

    def close(self, session_id: str) -> None:
        self._sessions.pop(session_id, None)

    def calls(self, session_id: str) -> list[dict[str, Any]]:
        """The session's parsed calls with their outcome (tool, args, ok, result), oldest first (a copy)."""
        return copy.deepcopy(self._session(session_id).calls)

    def session(self, session_id: str) -> Session:
        """Read access for in-process callers (the expert reads the call log)."""
        return self._session(session_id)

    def handle(self, message: dict[str, Any]) -> dict[str, Any]:
        """One JSON message in, one out: the form the sandbox protocol will carry over its socket."""
        try:
            op = message.get("op")
            if op == "create":
                return {"ok": True, "session": self.create(Row.from_json(message["row"]))}
            session_id = message["session"]
            if op == "reset":
                return {"ok": True, **self.reset(session_id)}
            if op == "step":
                return {"ok": True, **self.step(session_id, str(message["action"]))}
            if op == "snapshot":
                return {"ok": True, "state": wire.encode(self.snapshot(session_id))}
            if op == "restore":
                self.restore(session_id, wire.decode(message["state"]))
                return {"ok": True}
            if op == "calls":
                return {"ok": True, "calls": wire.encode(self.calls(session_id))}
            if op == "close":
                self.close(session_id)
                return {"ok": True}
            return {"ok": False, "error": f"unknown op {op!r}"}
        except Exception as exc:  # noqa: BLE001 - a protocol reply, never a crash of the server
            # error_type lets the remote side raise the same kind (DataMissingError, ToolBackendError, ...)
            return {"ok": False, "error": f"{type(exc).__name__}: {exc}", "error_type": type(exc).__name__}

    # ------------------------------------------------------------------ internals
    def _session(self, session_id: str) -> Session:
        try:
            return self._sessions[session_id]
        except KeyError:
            raise KeyError(f"no open tool session {session_id!r}") from None

    def _step(self, session: Session, action: str) -> dict[str, Any]:
        parsed = parse_tool_action(action)
        if isinstance(parsed, ParseError):
            return _reply(session, parsed.message)
        name, args = parsed.name, parsed.arguments
        text = f"{name} with Action Input: {parsed.raw_input}"  # what upstream's "finish" test reads
        box = session.box
        if name == "check_valid_actions":
            observation = f"You can use following valid actions: {list(box.valid_actions)}"
            session.calls.append({"tool": name, "args": args, "ok": True, "result": observation})
            return self._after_call(session, observation, text)
        tool = box.tools().get(name)
        if tool is None:
            session.calls.append({"tool": name, "args": args, "ok": False, "result": None})
            return _reply(session, f"{ERROR_PREFIX}Invalid action: {name}.")
        try:
            kwargs = {param: args[param] for param in tool.params}
            ok, result = tool.run(**kwargs)
        except ToolBackendError:
            raise  # the live API is unreachable: an environment error, recorded and retried by the harness
        except NotRecordedError as exc:
            session.calls.append({"tool": name, "args": args, "ok": False, "result": None})
            return _reply(session, error_observation(exc), not_recorded=True)
        except Exception as exc:  # noqa: BLE001 - upstream answers any tool exception as "ERROR | ..."
            session.calls.append({"tool": name, "args": args, "ok": False, "result": None})
            return _reply(session, error_observation(exc))
        subgoal = box.subgoal(result) if ok else f"Calling {tool.name} with {kwargs} failed"
        session.path.append({"tool": tool.name, "input": str(kwargs), "subgoal": subgoal})
        session.calls.append({"tool": name, "args": args, "ok": ok, "result": copy.deepcopy(result)})
        return self._after_call(session, str(result), text)

    def _after_call(self, session: Session, observation: str, text: str) -> dict[str, Any]:
        session.done = "Finish" in text or "finish" in text
        if "Invalid" not in observation:
            truths = list(session.row.subgoals)
            if truths:
                matched = count_matched(truths, [record["subgoal"] for record in session.path], session.box)
                session.progress = max(session.progress, matched / len(truths))
        return _reply(session, observation)


def _reply(session: Session, observation: str, not_recorded: bool = False) -> dict[str, Any]:
    return {
        "observation": observation,
        "valid": not observation.startswith(ERROR_PREFIX),
        "progress": session.progress,
        "done": session.done,
        "success": session.done and session.progress == 1.0,
        "not_recorded": not_recorded,
    }
