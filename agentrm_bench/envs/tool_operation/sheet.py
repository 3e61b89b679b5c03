"""The sheet toolset: AgentBoard's Google-Sheets tools over the local workbook model.

Tool names, parameters and return shapes follow AgentBoard's sheet toolkit (gspread on a copy of the
reference workbook): mutating tools return the open sheet's displayed values after the change,
``get_value_by_formula`` the displayed result, ``filter_cells`` a list of A1 addresses. What gspread
does underneath is reproduced where it shows in the values: numeric strings become numbers before
they are written (``"0.10"`` -> 0.1, shown as ``"0.10"`` in a ``0.00`` cell), ``update_cell`` and the
formula tools enter values as a user would (``=...`` becomes a formula), ``update_range`` and the
insert tools write raw values, inserted rows take the formats of the row after them (of the row
before when appended), the formula tools accept only one-letter A1 positions, and a whole-sheet
overwrite or deletion is refused. Failures are answered with our own messages; a failed call changes
nothing.

Leniencies (documented deviations): list arguments written as strings (``'[[8], [5]]'``, as in the
reference action paths) are read as literals, a ``filter_cells`` query written as the string
``"re.compile('...')"`` is a regex, a numeric query is matched as its text, and regexes run with a
time limit (the ``regex`` package) so no pattern can stall the service.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from . import sheet_args as args
from . import sheet_edit as edit
from . import sheet_formula as fx
from .service import ToolFailure, Toolset
from .sheet_model import GENERAL, Sheet, load_workbook

_A1 = re.compile(r"([A-Za-z]{1,3})([1-9]\d{0,6})")


class SheetToolset(Toolset):
    name = "sheet"
    tools: ClassVar[tuple[str, ...]] = (
        "open_sheet",
        "del_sheet",
        "freeze_data",
        "get_A1_annotation",
        "insert_cols",
        "insert_rows",
        "delete_batch_data",
        "update_cell",
        "update_cell_by_formula",
        "update_range",
        "sort_sheet_by_col",
        "merge_cells",
        "update_note",
        "get_all_values",
        "get_range_values",
        "get_cell_value",
        "get_value_by_formula",
        "filter_cells",
        "get_note",
        "finish",
    )

    def __init__(self) -> None:
        self._template: dict[str, Sheet] = {}
        self._order: list[str] = []
        self._own: dict[str, Sheet] = {}  # sheets this session has written (copied on first write)
        self._open: str | None = None

    # ------------------------------------------------------------------ session
    def reset(self, config: dict[str, Any]) -> str:
        """``config``: ``workbook`` (xlsx path), ``sheets`` (names to expose, default all), ``open`` (a name)."""
        book = load_workbook(str(config["workbook"]))
        names = list(config.get("sheets") or book)
        unknown = [n for n in names if n not in book]
        if unknown:
            raise ValueError(f"the workbook has no sheets {unknown}")
        self._template = {n: book[n] for n in names}
        self._order, self._own, self._open = names, {}, None
        fx.warm_up()
        if config.get("open"):
            self.tool_open_sheet(config["open"])
            return f"You are now in {self._open}\n{self._sheet().all_values()}"
        return "No sheet is open yet."

    def snapshot(self) -> dict[str, Any]:
        return {
            "order": list(self._order),
            "open": self._open,
            "own": {name: sheet.to_json() for name, sheet in self._own.items()},
        }

    def restore(self, state: dict[str, Any]) -> None:
        self._order = list(state["order"])
        self._open = state["open"]
        self._own = {name: Sheet.from_json(data) for name, data in state["own"].items()}

    def inspect(self) -> list[list[str]] | None:
        """The open sheet's displayed values (what AgentBoard scores), None when no sheet is open."""
        return self._sheet().all_values() if self._open else None

    # ------------------------------------------------------------------ tools
    def tool_open_sheet(self, name: Any) -> str:
        name = str(name)
        if name not in self._order:
            raise ToolFailure(f"WorksheetNotFound({name!r}): the spreadsheet has the sheets {self._order}")
        self._open = name
        return f"<Worksheet {name!r} id:{self._read(name).sheet_id}>"

    def tool_del_sheet(self, name: Any) -> str:
        name = str(name)
        if name not in self._order:
            raise ToolFailure(f"WorksheetNotFound({name!r})")
        if len(self._order) == 1:
            raise ToolFailure("A spreadsheet must keep at least one sheet.")
        self._order.remove(name)
        self._own.pop(name, None)
        if self._open == name:
            self._open = None
        return f"Sheet {name} has been deleted."

    def tool_freeze_data(self, dimension: Any, num: Any) -> str:
        count = args.int_arg(num, "num")
        if dimension not in ("rows", "columns"):
            raise ToolFailure("dimension must be 'rows' or 'columns'")
        sheet = self._sheet()
        limit = sheet.rows if dimension == "rows" else sheet.cols
        if not 0 <= count < limit:
            raise ToolFailure(f"cannot freeze {count} {dimension}: the sheet has {limit}")
        frozen = (count, sheet.frozen[1]) if dimension == "rows" else (sheet.frozen[0], count)
        self._edit(lambda s: setattr(s, "frozen", frozen))
        return f"Froze the first {count} {dimension}."

    def tool_get_A1_annotation(self, row: Any, col: Any) -> str:
        r, c = args.int_arg(row, "row"), args.int_arg(col, "col")
        sheet = self._sheet()
        _check(sheet, r, c)
        return f"{fx.column_letters(c)}{r}"

    def tool_insert_cols(self, values_list: Any, col_idx: Any) -> list[list[str]]:
        values, at = args.numbers(args.table(values_list)), args.int_arg(col_idx, "col_idx")
        sheet = self._sheet()
        current = sheet.all_values()
        if not current:
            raise ToolFailure("IndexError('list index out of range'): the sheet is empty")
        return self._edit(edit.insert_cols, at, values, at == len(current[0]) + 1)

    def tool_insert_rows(self, values_list: Any, row_idx: Any) -> list[list[str]]:
        values, at = args.numbers(args.table(values_list)), args.int_arg(row_idx, "row_idx")
        count = len(self._sheet().all_values())
        return self._edit(edit.insert_rows, at, values, at == count + 1)

    def tool_delete_batch_data(self, dimension: Any, index_list: Any) -> list[list[str]]:
        indexes = args.as_list(index_list, "index_list")
        numbers = sorted((args.int_arg(i, "index_list") for i in indexes), reverse=True)
        current = self._sheet().all_values()
        if dimension == "row":
            if len(numbers) >= len(current) - 1:
                raise ToolFailure("Deleting this many rows would empty the sheet; delete fewer rows at a time.")
            limit = self._sheet().rows
        elif dimension == "col":
            if current and len(numbers) == len(current[0]):
                raise ToolFailure("Deleting every column would empty the sheet; delete fewer columns at a time.")
            limit = self._sheet().cols
        else:
            raise ToolFailure("dimension must be 'row' or 'col'")
        if any(not 1 <= n <= limit for n in numbers):
            raise ToolFailure(f"index_list has indexes outside 1..{limit}: {numbers}")

        def delete_all(sheet: Sheet) -> None:
            for number in numbers:
                edit.delete(sheet, dimension, number)

        return self._edit(delete_all)

    def tool_update_cell(self, position: Any, value: Any) -> list[list[str]]:
        row, col = self._position(position)
        literal, formula = args.user_entered(value)
        return self._edit(edit.set_cell, row, col, literal, formula)

    def tool_update_cell_by_formula(
        self,
        start_position: Any = "B1",
        end_position: Any = "D2",
        position_list: Any = None,
        result_position: Any = "G2",
        operator: Any = "",
    ) -> list[list[str]]:
        formula = args.formula(operator, start_position, end_position, position_list, (result_position,))
        row, col = self._position(result_position)
        return self._edit(edit.set_cell, row, col, None, formula)

    def tool_update_range(self, start_position: Any, end_position: Any, values_list: Any) -> list[list[str]]:
        values = args.numbers(args.table(values_list))
        r1, c1 = self._position(start_position)
        r2, c2 = self._position(end_position)
        current = self._sheet().all_values()
        if current and (r1, c1, r2, c2) == (1, 1, len(current), len(current[0])):
            raise ToolFailure("Overwriting the whole sheet at once is not allowed; update a smaller range.")
        if r2 < r1 or c2 < c1:
            raise ToolFailure(f"the range {start_position}:{end_position} is empty")
        if len(values) > r2 - r1 + 1 or any(len(row) > c2 - c1 + 1 for row in values):
            raise ToolFailure(
                f"values_list does not fit the range {start_position}:{end_position} "
                f"({r2 - r1 + 1} rows x {c2 - c1 + 1} columns)"
            )

        def write(sheet: Sheet) -> None:
            for i, row_values in enumerate(values):
                for j, value in enumerate(row_values):
                    edit.set_cell(sheet, r1 + i, c1 + j, value)

        return self._edit(write)

    def tool_sort_sheet_by_col(self, col_num: Any, order: Any) -> list[list[str]]:
        col = args.int_arg(col_num, "col_num")
        if order not in ("asc", "des"):
            raise ToolFailure("order must be 'asc' or 'des'")
        return self._edit(edit.sort_rows, col, order == "des")

    def tool_merge_cells(self, start_position: Any, end_position: Any) -> list[list[str]]:
        r1, c1 = self._position(start_position)
        r2, c2 = self._position(end_position)
        return self._edit(edit.merge, r1, c1, r2, c2)

    def tool_update_note(self, position: Any, content: Any) -> str:
        row, col = self._position(position)
        text = "" if content is None else str(content)
        self._edit(
            lambda sheet: sheet.notes.pop((row, col), None) if not text else sheet.notes.update({(row, col): text})
        )
        return f"The note of {position} is now: {text}"

    def tool_get_all_values(self) -> list[list[str]]:
        return self._sheet().all_values()

    def tool_get_range_values(self, start_position: Any, end_position: Any) -> list[list[str]]:
        r1, c1 = self._position(start_position)
        r2, c2 = self._position(end_position)
        return self._sheet().grid(min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2))

    def tool_get_cell_value(self, position: Any) -> str | None:
        row, col = self._position(position)
        return self._sheet().display(row, col) or None

    def tool_get_value_by_formula(
        self, start_position: Any = "B1", end_position: Any = "D2", position_list: Any = None, operator: Any = ""
    ) -> str:
        formula = args.formula(operator, start_position, end_position, position_list, ())
        sheet = self._sheet()
        current = sheet.all_values()
        if not current:
            raise ToolFailure("IndexError('list index out of range'): the sheet is empty")
        # Upstream writes the formula into row 1 of a new last column (formats inherited from the
        # column before), reads the displayed result and deletes the column again.
        fmt = sheet.cells[(1, len(current[0]))].fmt if (1, len(current[0])) in sheet.cells else GENERAL
        return sheet.show(formula, sheet.compute(formula), fmt)

    def tool_filter_cells(self, query: Any, in_row: Any = None, in_column: Any = None) -> list[str]:
        row = None if in_row is None else args.int_arg(in_row, "in_row")
        col = None if in_column is None else args.int_arg(in_column, "in_column")
        match = args.matcher(query)
        sheet = self._sheet()
        rows, cols = sheet.used_size()
        found = []
        for r in range(1, rows + 1) if row is None else (row,):
            for c in range(1, cols + 1) if col is None else (col,):
                if match(sheet.display(r, c)):
                    found.append(f"{fx.column_letters(c)}{r}")
        return found

    def tool_get_note(self, position: Any) -> str:
        row, col = self._position(position)
        return self._sheet().notes.get((row, col), "")

    def tool_finish(self) -> list[list[str]]:
        return self._sheet().all_values()

    # ------------------------------------------------------------------ helpers
    def _read(self, name: str) -> Sheet:
        return self._own.get(name) or self._template[name]

    def _sheet(self) -> Sheet:
        if self._open is None:
            raise ToolFailure("No sheet is open: call open_sheet first.")
        return self._read(self._open)

    def _edit(self, operation: Any, *args: Any) -> list[list[str]]:
        """Apply an edit to a copy of the open sheet and keep the copy only if the edit succeeds.

        The first edit also detaches the session from the shared template workbook. Returns the open
        sheet's values after the edit (what upstream's mutating tools answer).
        """
        candidate = self._sheet().copy()
        try:
            operation(candidate, *args)
        except ValueError as exc:
            raise ToolFailure(str(exc)) from None
        assert self._open is not None
        self._own[self._open] = candidate
        return candidate.all_values()

    def _position(self, position: Any) -> tuple[int, int]:
        match = _A1.fullmatch(str(position).strip())
        if not match:
            raise ToolFailure(f"{position!r} is not an A1 cell position (like 'B3')")
        row, col = int(match.group(2)), fx.column_number(match.group(1))
        _check(self._sheet(), row, col)
        return row, col


def _check(sheet: Sheet, row: int, col: int) -> None:
    try:
        edit.check_cell(sheet, row, col)
    except ValueError as exc:
        raise ToolFailure(str(exc)) from None
