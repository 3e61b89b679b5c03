"""Experts of the Tool-Operation rows: ground truth turned into tool calls (all through the real tools).

Sheet: each row carries a "Reference Action Path"; the expert replays it verbatim. Replayed on the
workbook model, 19 of the 20 paths produce exactly the row's target grid; the path of row 6 (Sheet7)
writes the ranks into a new column without creating it, so the header "Biology_Rank" and the
column's "0.0" number format are missing -- for that row the expert inserts the column instead
(:data:`SHEET_PATH_FIXES`). After the path, any cell still different from the target is rewritten
(:func:`sheet_repair`; never needed on the test rows), then ``finish``.

Todo: the rows have no action path, only the answer and (for operations) the recorded final state.
The expert lists the projects and each project's tasks (:func:`todo_survey`), then changes whatever
differs from the recorded final state -- favourite flags, due dates, tasks that must disappear (deleted
when the goal says delete/clear/remove, else completed) -- and finishes with the ground-truth answer
(:func:`todo_next`).
"""

from __future__ import annotations

import functools
import re
from typing import Any

from ..tool_common.protocol import ToolCall
from .rows import ToolRow
from .sheet_formula import column_letters
from .todo import final_state

_SHEET_NAME = re.compile(r'"Sheet(\d{1,2})"')
_PATH_LINE = re.compile(r"^Action \d+:\s*(.+)$")
_REMOVE_WORDS = re.compile(r"\b(delete|clear|remove)\b", re.IGNORECASE)

# row id -> {position in the reference path: replacement action}
SHEET_PATH_FIXES: dict[int, dict[int, str]] = {
    6: {
        1: ToolCall("insert_cols", {"values_list": [["Biology_Rank", *range(1, 26)]], "col_idx": 8}).render(),
    },
}


def sheet_name(goal: str) -> str:
    """The sheet a goal is about (upstream opens the first ``"SheetN"`` it quotes)."""
    match = _SHEET_NAME.search(goal)
    if not match:
        raise ValueError(f"the goal names no sheet: {goal[:80]!r}")
    return f"Sheet{match.group(1)}"


def call(name: str, **arguments: Any) -> str:
    return ToolCall(name, arguments).render()


@functools.lru_cache(maxsize=64)
def sheet_plan(row_id: int, reference_path: str) -> tuple[str, ...]:
    """The row's reference action path as action texts (with the documented fixes)."""
    actions = []
    for line in reference_path.splitlines():
        match = _PATH_LINE.match(line.strip())
        if match:
            actions.append(f"Action: {match.group(1).strip()}")
    for position, replacement in SHEET_PATH_FIXES.get(row_id, {}).items():
        actions[position] = replacement
    return tuple(actions)


def sheet_repair(grid: list[list[str]] | None, target: list[list[str]]) -> str:
    """One step from ``grid`` towards ``target``: fix the shape first, then the first differing cell."""
    grid = grid or []
    if grid == target:
        return call("finish")
    rows, cols = len(grid), len(grid[0]) if grid else 0
    t_rows, t_cols = len(target), len(target[0])
    if rows < t_rows:
        return call("insert_rows", values_list=target[rows:], row_idx=rows + 1)
    if cols < t_cols:
        columns = [[row[c] if c < len(row) else "" for row in target] for c in range(cols, t_cols)]
        return call("insert_cols", values_list=columns, col_idx=cols + 1)
    if rows > t_rows:
        return call("delete_batch_data", dimension="row", index_list=list(range(t_rows + 1, rows + 1)))
    if cols > t_cols:
        return call("delete_batch_data", dimension="col", index_list=list(range(t_cols + 1, cols + 1)))
    for r, (have, want) in enumerate(zip(grid, target, strict=True), start=1):
        for c, (a, b) in enumerate(zip(have, want, strict=False), start=1):
            if a != b:
                return call("update_cell", position=f"{column_letters(c)}{r}", value=b)
    return call("finish")


def todo_survey(state: dict[str, Any]) -> tuple[str, ...]:
    """List the projects, then each project's tasks (project ids never change in an episode)."""
    return (call("get_projects"), *(call("get_tasks", project_id=p["id"]) for p in state["projects"]))


def todo_next(state: dict[str, Any], row: ToolRow) -> str:
    """The next change towards the recorded final state, else ``finish`` with the answer."""
    if row.operation and final_state(state) != row.answer:
        wanted_projects = {p["name"]: p for p in row.answer["projects"]}
        for project in state["projects"]:
            wanted = wanted_projects.get(project["name"])
            if wanted is not None and wanted["is_favorite"] != project["is_favorite"]:
                return call("update_project", project_id=project["id"], is_favorite=wanted["is_favorite"])
        wanted_tasks = {t["content"]: t for t in row.answer["tasks"]}
        for task in state["tasks"]:
            wanted = wanted_tasks.get(task["content"])
            if wanted is None:
                tool = "delete_task" if _REMOVE_WORDS.search(row.goal) else "complete_task"
                return call(tool, task_id=task["id"])
            if wanted["due_date"] != task["due_date"]:
                return call("update_task", task_id=task["id"], due_date=wanted["due_date"])
    return call("finish", answer=row.subgoals[-1])
