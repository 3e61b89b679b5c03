"""The Tool-Query toolset service: one session per episode, AgentBoard's action path and progress rule.

Each toolset (academia, weather, movie) is a :class:`Toolset`: a set of named tools with declared
parameters, plus how a tool's return value becomes a "Subgoal" and how a ground-truth subgoal is matched.
:class:`QueryService` runs episodes over them as a :class:`~agentrm_bench.sandbox.service.Service` (ops
create / reset / step / snapshot / restore / calls / close; values in the :mod:`..tool_common.wire` form
on the socket). The environment reaches it in-process or behind the sandbox's Unix-socket server alike
(:class:`~agentrm_bench.envs.served.ServedEnv`).

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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from ...sandbox.service import Service, op
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


class Toolset:
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
    toolset: Toolset
    path: list[dict[str, Any]]  # AgentBoard's action path: tool, input, subgoal
    calls: list[dict[str, Any]]  # every parsed call with its outcome (the expert reads it)
    progress: float = 0.0
    done: bool = False


def count_matched(truths: list[Any], predicted: list[Any], toolset: Toolset) -> int:
    """How many ground-truth subgoals find a recorded Subgoal; each record satisfies at most one."""
    pool = list(predicted)
    count = 0
    for truth in truths:
        for position, candidate in enumerate(pool):
            if toolset.matches(truth, candidate):
                del pool[position]
                count += 1
                break
    return count


def first_observation(row: Row, toolset: Toolset) -> str:
    """The goal, then a one-line hint for this toolset (our wording; the same form as Tool-Operation)."""
    return f"{row.goal}\n{toolset.first_hint}"


class QueryService(Service[Session]):
    """Episodes over toolsets; ``toolset_factory(row)`` builds a fresh toolset for each session."""

    name = "tool-query"
    codec = wire

    def __init__(self, toolset_factory: Callable[[Row], Toolset]):
        super().__init__()
        self._toolset_factory = toolset_factory

    # ------------------------------------------------------------------ ops
    @op(reply="session")
    def create(self, row: dict[str, Any]) -> str:
        """A session on ``row`` (its JSON form); building the toolset raises if the row's data is absent."""
        parsed = Row.from_json(row)
        return self.open_session(Session(parsed, self._toolset_factory(parsed), [], []))

    @op
    def reset(self, session: str) -> dict[str, Any]:
        state = self.session(session)
        state.toolset = self._toolset_factory(state.row)
        state.path, state.calls, state.progress, state.done = [], [], 0.0, False
        return {"observation": first_observation(state.row, state.toolset)}

    @op
    def step(self, session: str, action: str) -> dict[str, Any]:
        return self._step(self.session(session), str(action))

    @op(reply="state")
    def snapshot(self, session: str) -> dict[str, Any]:
        state = self.session(session)
        return copy.deepcopy(
            {
                "path": state.path,
                "calls": state.calls,
                "progress": state.progress,
                "done": state.done,
                "toolset": state.toolset.state(),
            }
        )

    @op
    def restore(self, session: str, state: dict[str, Any]) -> None:
        target = self.session(session)
        state = copy.deepcopy(state)
        target.path, target.calls = state["path"], state["calls"]
        target.progress, target.done = state["progress"], state["done"]
        target.toolset.load_state(state["toolset"])

    @op(reply="calls")
    def calls(self, session: str) -> list[dict[str, Any]]:
        """The session's parsed calls with their outcome (tool, args, ok, result), oldest first (a copy)."""
        return copy.deepcopy(self.session(session).calls)

    # ------------------------------------------------------------------ internals
    def _step(self, session: Session, action: str) -> dict[str, Any]:
        parsed = parse_tool_action(action)
        if isinstance(parsed, ParseError):
            return _reply(session, parsed.message)
        name, args = parsed.name, parsed.arguments
        text = f"{name} with Action Input: {parsed.raw_input}"  # what upstream's "finish" test reads
        toolset = session.toolset
        if name == "check_valid_actions":
            observation = f"You can use following valid actions: {list(toolset.valid_actions)}"
            session.calls.append({"tool": name, "args": args, "ok": True, "result": observation})
            return self._after_call(session, observation, text)
        tool = toolset.tools().get(name)
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
        subgoal = toolset.subgoal(result) if ok else f"Calling {tool.name} with {kwargs} failed"
        session.path.append({"tool": tool.name, "input": str(kwargs), "subgoal": subgoal})
        session.calls.append({"tool": name, "args": args, "ok": ok, "result": copy.deepcopy(result)})
        return self._after_call(session, str(result), text)

    def _after_call(self, session: Session, observation: str, text: str) -> dict[str, Any]:
        session.done = "Finish" in text or "finish" in text
        if "Invalid" not in observation:
            truths = list(session.row.subgoals)
            if truths:
                matched = count_matched(truths, [record["subgoal"] for record in session.path], session.toolset)
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
