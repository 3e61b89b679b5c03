"""Tool-Operation speed (pytest-benchmark; run with --benchmark-only): one tool call per toolset, snapshots.

A tool call goes through the whole service path (parse the action text, dispatch, run the tool on the
workbook model / the SQLite list, build the observation), as the env and the socket server use it.
"""

from __future__ import annotations

import itertools

import gymnasium as gym
import pytest

pytest.importorskip("openpyxl")
pytest.importorskip("formulas")

import agentrm_bench  # noqa: E402, F401
from agentrm_bench import data  # noqa: E402
from agentrm_bench.envs.tool_common.protocol import ToolCall  # noqa: E402
from agentrm_bench.envs.tool_operation import rows as tools_rows  # noqa: E402
from agentrm_bench.envs.tool_operation.service import OperationService  # noqa: E402
from agentrm_bench.envs.tool_operation.sheet import SheetToolset  # noqa: E402
from agentrm_bench.envs.tool_operation.todo import TodoToolset  # noqa: E402


def upstream(relative: str) -> str:
    try:
        return str(tools_rows.data_file(relative))
    except data.DataMissingError as exc:
        pytest.skip(str(exc))


def act(tool: str, **arguments) -> str:
    return ToolCall(tool, arguments).render()


SHEET_CALLS = {
    "get_all_values": act("get_all_values"),
    "update_cell": act("update_cell", position="D2", value="7"),
    "update_cell_by_formula": act(
        "update_cell_by_formula", start_position="C2", end_position="G2", result_position="H2", operator="SUM"
    ),
    "sort_sheet_by_col": act("sort_sheet_by_col", col_num=4, order="des"),
    "filter_cells": act("filter_cells", query="Meat", in_column=2),
}


@pytest.fixture(scope="module")
def sheet_service():
    service = OperationService(SheetToolset)
    session = service.create()
    workbook = upstream(tools_rows.WORKBOOK)
    service.reset(session, {"workbook": workbook, "sheets": [f"Sheet{i}" for i in range(1, 22)], "open": "Sheet1"})
    return service, session


@pytest.fixture(scope="module")
def todo_service():
    service = OperationService(TodoToolset)
    session = service.create()
    service.reset(session, {"seed": upstream(tools_rows.TODO_SEED), "current_date": "2015-06-01"})
    return service, session


@pytest.mark.parametrize("tool", list(SHEET_CALLS))
def test_sheet_tool_call(benchmark, sheet_service, tool):
    benchmark.group = "sheet tool call"
    service, session = sheet_service
    text = SHEET_CALLS[tool]
    result = benchmark(service.step, session, text)
    assert result["status"] == "ok"


@pytest.mark.parametrize("tool", ["get_projects", "get_tasks", "get_task_description", "update_task"])
def test_todo_tool_call(benchmark, todo_service, tool):
    benchmark.group = "todo tool call"
    service, session = todo_service
    state = service.inspect(session)
    task, project = state["tasks"][0]["id"], state["projects"][0]["id"]
    text = {
        "get_projects": act("get_projects"),
        "get_tasks": act("get_tasks", project_id=project),
        "get_task_description": act("get_task_description", task_id=task),
        "update_task": act("update_task", task_id=task, due_date="2015-06-09"),
    }[tool]
    result = benchmark(service.step, session, text)
    assert result["status"] == "ok"


@pytest.mark.parametrize("toolset", ["sheet", "todo"])
def test_service_snapshot_restore(benchmark, sheet_service, todo_service, toolset):
    benchmark.group = "service snapshot+restore"
    service, session = sheet_service if toolset == "sheet" else todo_service
    service.step(session, SHEET_CALLS["update_cell"] if toolset == "sheet" else act("get_projects"))

    def round_trip():
        service.restore(session, service.snapshot(session))

    benchmark(round_trip)


@pytest.mark.parametrize("index", [0, 20])
def test_env_step(benchmark, index):
    """A full env step (tool call + scoring) cycling through the expert's actions of one row."""
    benchmark.group = "tool-operation env step"
    env = gym.make("agentrm/ToolOperation-v0", max_turns=10**9).unwrapped
    env.reset(options={"index": index})
    actions = itertools.cycle([env.expert_action(), act("get_all_values") if index == 0 else act("get_projects")])
    benchmark(lambda: env.step(next(actions)))
