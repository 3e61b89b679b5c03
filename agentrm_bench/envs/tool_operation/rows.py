"""The Tool-Operation test rows: 20 sheet rows and 20 todo rows, with the rule that picks the todo rows.

Sheet: AgentBoard's 20 sheet rows (``agentgym_toolusage/sheet.jsonl``, ids 0..19 on Sheet1..Sheet20).
Todo: AgentBoard's own 20 todo rows are only on Hugging Face, so 20 rows are chosen from AgentGym's 155
(``todo.jsonl``, matching seed ``projects.agentgym.json``) by a fixed rule (:func:`select_todo_ids`):
split the rows, in file order, into *query* rows (their recorded final state equals the seeded state)
and *operation* rows (it differs), and take 10 evenly spaced rows from each pool (pool positions
``i * len(pool) // 10``). A test re-derives :data:`TODO_TEST_IDS` from the data with this rule; the ids
are also listed in ``todo_test_ids.json`` beside this module.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ... import data
from .upstream import FILES

TASK = "tool-operation"
SHEET_ROWS = "agentgym_toolusage/sheet.jsonl"
TODO_ROWS = "agentgym_toolusage/todo.jsonl"
TODO_SEED = "todo/projects.agentgym.json"
WORKBOOK = "sheet/test_sheet_for_copy.xlsx"

SHEET_TEST_IDS: tuple[int, ...] = tuple(range(20))
TODO_QUERY_IDS: tuple[int, ...] = (0, 11, 24, 34, 43, 56, 66, 75, 101, 111)
TODO_OPERATION_IDS: tuple[int, ...] = (1, 49, 84, 90, 96, 124, 131, 137, 143, 149)
TODO_TEST_IDS: tuple[int, ...] = TODO_QUERY_IDS + TODO_OPERATION_IDS
PER_POOL = 10


@dataclass(frozen=True)
class ToolRow:
    """One test row: which toolset, the goal, and the ground truth scoring compares with."""

    toolset: str  # "sheet" or "todo"
    row_id: int
    goal: str
    subgoals: Any  # todo: list of expected subgoal values; sheet: the reference action path (text)
    answer: Any  # sheet: target grid (list of lists of str); todo: final state {"projects", "tasks"}
    difficulty: str
    init_config: dict[str, Any] | None
    operation: bool  # todo: the final state is checked (it differs from the seed, or the goal is an operation)


def data_file(relative: str) -> Path:
    """An upstream file of this task, from the data layer (``$AGENTRM_BENCH_DATA/tools/``, shared with Tool-Query)."""
    return data.path(FILES, relative)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def select_todo_ids(rows: list[dict[str, Any]], seed_state: dict[str, Any]) -> tuple[list[int], list[int]]:
    """The documented rule: 10 evenly spaced query rows and 10 evenly spaced operation rows."""
    query = [r["id"] for r in rows if r["additional_info"]["answer"] == seed_state]
    operation = [r["id"] for r in rows if r["additional_info"]["answer"] != seed_state]
    pick = lambda pool: [pool[i * len(pool) // PER_POOL] for i in range(PER_POOL)]  # noqa: E731
    return pick(query), pick(operation)


def load_rows() -> list[ToolRow]:
    """The 40 test rows in instance order: sheet rows 0..19, then the todo rows (queries, then operations)."""
    from .todo import load_seed, seed_status

    sheet_rows = {r["id"]: r for r in read_jsonl(data_file(SHEET_ROWS))}
    todo_rows = {r["id"]: r for r in read_jsonl(data_file(TODO_ROWS))}
    seed_state = seed_status(load_seed(data_file(TODO_SEED)))
    out = []
    for row_id in SHEET_TEST_IDS:
        row = sheet_rows[row_id]
        info = row["additional_info"]
        answer = json.loads(info["answer"])
        out.append(ToolRow("sheet", row_id, row["goal"], row["subgoals"], answer, row["difficulty"], None, True))
    for row_id in TODO_TEST_IDS:
        row = todo_rows[row_id]
        info = row["additional_info"]
        operation = info["answer"] != seed_state or row["subgoals"] == ["done"]
        out.append(
            ToolRow(
                "todo", row_id, row["goal"], row["subgoals"], info["answer"], row["difficulty"],
                info["init_config"], operation,
            )
        )  # fmt: skip
    return out
