"""agentrm/ToolOperation-v0: AgentBoard's Tool-Operation task (sheet + todo toolsets), run locally.

Instances 0..19 are the 20 sheet rows, 20..39 the 20 todo rows (:mod:`.rows`). The agent acts
with ``Action: <tool> with Action Input: {...}`` (:mod:`..tool_common.protocol`); each toolset is a service
(:mod:`.service`) with one session per episode -- the spreadsheet over the reference workbook
(:mod:`.sheet`), the Todoist-compatible list on SQLite (:mod:`.todo`). The services never see
the answers: scoring happens here, as AgentBoard does it:

* sheet -- progress is the fraction of equal cells between the open sheet's displayed values and the
  target grid (over the rows x columns both have), measured after every call;
* todo -- every successful call logs its return value (ids removed) as a "subgoal", a failed call logs
  "Calling <tool> with <args> failed"; progress is the share of the row's ground-truth subgoals found
  among the logged values (each logged value used once, Python ``==``, so ``4 != "4"``); the answer
  given to ``finish`` is logged too;
* success -- ``finish`` was called and progress is 1.0; for todo operation rows also the final state
  (projects and active tasks, ids removed) equals the row's recorded final state.

Differences from upstream (on purpose): the episode ends when the ``finish`` tool succeeds (upstream
ends on any action whose text contains "finish", e.g. writing the word "finished" into a cell); the
workbook exposes only the start sheets Sheet1..Sheet21 (the upstream copy also holds the Answer sheets,
which would let an agent read the target); for todo the final-state check also covers AgentGym's
operation rows, whose data marks every row as a query (see agentrm_bench/envs/tool_operation/PROVENANCE.md).

``sandbox`` chooses where the toolset services run (:class:`~agentrm_bench.envs.served.ServedEnv`):
``"local"`` (default; a subprocess per toolset, started on its first episode), ``"docker"`` (a
container without network) or ``None`` (this process). Either way a process's envs share each
toolset's service, every episode in its own session; ``close()`` releases the env's share of a server.
The sandbox server imports :func:`service`.
"""

from __future__ import annotations

import functools
from typing import Any

from ...env import Outcome
from ..served import ServedEnv
from ..tool_common.protocol import ERROR_PREFIX
from . import SPEC
from . import expert as experts
from .rows import TODO_SEED, WORKBOOK, ToolRow, data_file, load_rows
from .service import OperationService
from .sheet import SheetToolset
from .todo import TodoToolset, final_state

NUM_INSTANCES = 40
START_SHEETS = tuple(f"Sheet{i}" for i in range(1, 22))
FINISH_HINT = "When the goal is reached, call the finish tool to end the episode."


TOOLSETS = {"sheet": SheetToolset, "todo": TodoToolset}
SERVICE = "agentrm_bench.envs.tool_operation.env:service"
CALL_TIMEOUT = 60.0
"""Seconds one call may take before the server is declared hung and stopped (tool calls take milliseconds)."""


def service(toolset: str) -> OperationService:
    """A fresh service for one toolset ("sheet" or "todo"): the factory the sandbox server imports."""
    if toolset not in TOOLSETS:
        raise ValueError(f"toolset must be one of {sorted(TOOLSETS)}, got {toolset!r}")
    return OperationService(TOOLSETS[toolset])


@functools.cache
def rows() -> tuple[ToolRow, ...]:
    return tuple(load_rows())


def sheet_match(current: list[list[str]] | None, target: list[list[str]]) -> float:
    """AgentBoard's sheet progress: equal cells / cells, over the rows and columns both grids have."""
    if not current or not target:
        return 0.0
    n_rows, n_cols = min(len(current), len(target)), min(len(current[0]), len(target[0]))
    total = n_rows * n_cols
    if total == 0:
        return 0.0
    equal = sum(current[i][j] == target[i][j] for i in range(n_rows) for j in range(n_cols) if j < len(current[i]))
    return equal / total


def subgoal_match(logged: list[Any], subgoals: list[Any]) -> float:
    """AgentBoard's query progress: ground-truth subgoals found among the logged values, each used once."""
    if not subgoals:
        return 0.0
    pool = list(logged)
    found = 0
    for subgoal in subgoals:
        if subgoal in pool:
            pool.remove(subgoal)
            found += 1
    return found / len(subgoals)


class ToolOperationEnv(ServedEnv):
    """Tool-Operation (held-out): 20 sheet and 20 todo rows; progress rate is the headline metric.

    ``split``, ``max_turns``, ``render_mode`` and ``sandbox`` as :class:`~agentrm_bench.envs.served.ServedEnv`;
    each toolset is its own service (``{"toolset": "sheet"}`` or ``"todo"``), chosen per episode.
    """

    task_spec = SPEC
    service_spec = SERVICE
    codec = OperationService.codec
    call_timeout = CALL_TIMEOUT

    def __init__(self, *args: Any, **options: Any):
        super().__init__(*args, **options)
        self._row: ToolRow | None = None
        self._logged: list[Any] = []  # upstream's action path "Subgoal" values
        self._state: Any = None  # the service's inspect() after the last reset/step/restore (one call, reused)
        self._expert_done = 0  # how many of the expert's planned opening actions have been taken

    # ----------------------------------------------------------------- TextEnv hooks
    @property
    def num_instances(self) -> int:
        return NUM_INSTANCES

    @property
    def row(self) -> ToolRow | None:
        return self._row

    def _start(self, index: int) -> tuple[str, str]:
        row = rows()[index]
        self._close_session()
        self._row, self._logged, self._expert_done = row, [], 0
        config = self._config(row)  # absent data: DataMissingError here, before any server starts
        self._open_session({"toolset": row.toolset})
        opened = self._session_call("reset", config=config)["observation"]
        self._state = self._session_call("inspect")["state"]
        return f"{row.goal}\n{FINISH_HINT}\n{opened}", row.goal

    def _config(self, row: ToolRow) -> dict[str, Any]:
        if row.toolset == "sheet":
            sheet = experts.sheet_name(row.goal)
            return {"workbook": str(data_file(WORKBOOK)), "sheets": list(START_SHEETS), "open": sheet}
        return {"seed": str(data_file(TODO_SEED)), **(row.init_config or {})}

    def _act(self, action: str) -> Outcome:
        assert self._row is not None
        out = self._session_call("step", action=action)
        state = self._state = self._session_call("inspect")["state"]
        if action == self.expert_plan_action():
            self._expert_done += 1
        if out["record"]:
            self._logged.append(out["subgoal"])
        # Upstream re-scores after every call it could dispatch, not after unreadable or unknown actions.
        rescored = out["error"] not in ("format", "arguments", "unknown_tool")
        progress = self._score(state) if rescored else (self.progress or 0.0)
        best = max(progress, self.progress or 0.0)
        success = bool(out["finished"]) and best == 1.0
        if success and self._row.toolset == "todo" and self._row.operation:
            success = final_state(state) == self._row.answer
        observation = out["observation"]
        extra = {
            "toolset": self._row.toolset,
            "tool": out["tool"],
            "grounded": not observation.startswith(ERROR_PREFIX),
        }
        return Outcome(
            observation, out["status"] == "ok", progress, success, bool(out["finished"]) and not success, extra
        )

    def _score(self, state: Any) -> float:
        assert self._row is not None
        if self._row.toolset == "sheet":
            return sheet_match(state, self._row.answer)
        return subgoal_match(self._logged, self._row.subgoals)

    def _native_state(self) -> Any:
        return {
            "service": self._session_call("snapshot")["state"],
            "logged": list(self._logged),
            "expert": self._expert_done,
        }

    def _load_native_state(self, state: Any) -> None:
        self._session_call("restore", state=state["service"])
        self._state = self._session_call("inspect")["state"]
        self._logged = list(state["logged"])
        self._expert_done = state["expert"]

    # ----------------------------------------------------------------- expert
    def expert_plan_action(self) -> str | None:
        """The next action of the expert's fixed opening (reference path / survey), None when it is done."""
        plan = self._expert_plan()
        return plan[self._expert_done] if self._expert_done < len(plan) else None

    def _expert_plan(self) -> tuple[str, ...]:
        assert self._row is not None and self._session is not None
        if self._row.toolset == "sheet":
            return experts.sheet_plan(self._row.row_id, self._row.subgoals)
        return experts.todo_survey(self._state)

    def expert_action(self) -> str:
        """Sheet: the row's reference action path, then cell repairs towards the target, then ``finish``.
        Todo: list the projects and their tasks, make the state equal the recorded final state, then
        ``finish`` with the ground-truth answer. All through the toolset's real tools."""
        if self._row is None or self._session is None:
            raise RuntimeError("reset() first")
        planned = self.expert_plan_action()
        if planned is not None:
            return planned
        if self._row.toolset == "sheet":
            return experts.sheet_repair(self._state, self._row.answer)
        return experts.todo_next(self._state, self._row)
