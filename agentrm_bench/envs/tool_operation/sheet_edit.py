"""Edits of a :class:`~.tools_sheet_model.Sheet` with Google Sheets' semantics (the ones gspread triggers).

- inserting rows/columns shifts everything below/right, moves notes, merges and formula references,
  and gives the new cells the number formats of the neighbouring row/column (``inherit_from_before``);
- deleting a row/column does the reverse (references into it become ``#REF!``);
- sorting (gspread's default range ``A2:<end>``, the header row stays) is stable, puts blank sort keys
  last in both orders, orders numbers before text before booleans (text case-insensitively), moves whole
  rows with their formats and notes, and refuses ranges with vertically merged cells;
- merging keeps only the top-left value.

Every function raises ``ValueError`` with an agent-readable message on a bad request and leaves the
sheet unchanged in that case.
"""

from __future__ import annotations

from typing import Any

from . import sheet_formula as fx
from .sheet_model import GENERAL, MAX_CELLS, MAX_COLS, MAX_ROWS, Cell, Sheet


def set_cell(sheet: Sheet, row: int, col: int, value: Any = None, formula: str | None = None) -> None:
    """Write a literal or a formula, keeping the cell's number format."""
    check_cell(sheet, row, col)
    old = sheet.cells.get((row, col))
    fmt = old.fmt if old else GENERAL
    if value is None and formula is None and fmt == GENERAL:
        sheet.cells.pop((row, col), None)
    else:
        if old is None and len(sheet.cells) >= MAX_CELLS:
            raise ValueError(f"the sheet is limited to {MAX_CELLS} cells")
        sheet.cells[(row, col)] = Cell(value, fmt, formula)
    sheet.changed()


def check_cell(sheet: Sheet, row: int, col: int) -> None:
    if not (1 <= row <= sheet.rows and 1 <= col <= sheet.cols):
        raise ValueError(
            f"cell (row {row}, column {col}) is outside the sheet's grid of {sheet.rows} rows x {sheet.cols} columns"
        )


def insert_rows(sheet: Sheet, at: int, values: list[list[Any]], inherit_from_before: bool) -> None:
    count = len(values)
    if not 1 <= at <= sheet.rows + 1:
        raise ValueError(f"row index {at} is outside 1..{sheet.rows + 1}")
    if sheet.rows + count > MAX_ROWS or any(len(v) > sheet.cols for v in values):
        raise ValueError(f"the inserted rows do not fit the grid ({MAX_ROWS} rows x {sheet.cols} columns at most)")
    _shift(sheet, "row", at, count)
    source = at - 1 if inherit_from_before else at + count
    for offset, row_values in enumerate(values):
        for col in range(1, sheet.cols + 1):
            fmt = _fmt(sheet, source, col)
            value = row_values[col - 1] if col <= len(row_values) else None
            if value is not None or fmt != GENERAL:
                sheet.cells[(at + offset, col)] = Cell(value, fmt)
    sheet.changed()


def insert_cols(sheet: Sheet, at: int, values: list[list[Any]], inherit_from_before: bool) -> None:
    count = len(values)
    if not 1 <= at <= sheet.cols + 1:
        raise ValueError(f"column index {at} is outside 1..{sheet.cols + 1}")
    if sheet.cols + count > MAX_COLS or any(len(v) > sheet.rows for v in values):
        raise ValueError(f"the inserted columns do not fit the grid ({sheet.rows} rows x {MAX_COLS} columns at most)")
    _shift(sheet, "col", at, count)
    source = at - 1 if inherit_from_before else at + count
    for offset, col_values in enumerate(values):
        for row in range(1, sheet.rows + 1):
            fmt = _fmt(sheet, row, source)
            value = col_values[row - 1] if row <= len(col_values) else None
            if value is not None or fmt != GENERAL:
                sheet.cells[(row, at + offset)] = Cell(value, fmt)
    sheet.changed()


def delete(sheet: Sheet, axis: str, index: int) -> None:
    """Delete one row (``axis='row'``) or column (``'col'``)."""
    size = sheet.rows if axis == "row" else sheet.cols
    if not 1 <= index <= size:
        raise ValueError(f"{'row' if axis == 'row' else 'column'} index {index} is outside 1..{size}")
    if size == 1:
        raise ValueError("a sheet must keep at least one row and one column")
    _shift(sheet, axis, index, -1)
    sheet.changed()


def sort_rows(sheet: Sheet, col: int, descending: bool) -> None:
    """Sort rows 2.. by column ``col`` (gspread's default sort range: everything below the header)."""
    if not 1 <= col <= sheet.cols:
        raise ValueError(f"column {col} is outside 1..{sheet.cols}")
    if any(r2 > r1 and r2 >= 2 for r1, _, r2, _ in sheet.merges):
        raise ValueError("the sort range contains vertically merged cells; unmerge them first")
    last, _ = sheet.used_size()
    if last < 3:
        return
    rows = list(range(2, last + 1))
    keyed = [(_sort_key(sheet.value(r, col)), r) for r in rows]
    filled = [item for item in keyed if item[0] is not None]
    blank = [r for key, r in keyed if key is None]
    filled.sort(key=lambda item: item[0], reverse=descending)  # stable in both directions
    order = [r for _, r in filled] + blank
    moved: dict[tuple[int, int], Cell] = {}
    notes: dict[tuple[int, int], str] = {}
    for new_row, old_row in zip(rows, order, strict=True):
        for col_index in range(1, sheet.cols + 1):
            cell = sheet.cells.get((old_row, col_index))
            if cell is not None:
                if cell.formula is not None:
                    cell = cell._replace(formula=fx.translate_rows(cell.formula, new_row - old_row))
                moved[(new_row, col_index)] = cell
            if (old_row, col_index) in sheet.notes:
                notes[(new_row, col_index)] = sheet.notes[(old_row, col_index)]
    sheet.cells = {k: v for k, v in sheet.cells.items() if not 2 <= k[0] <= last} | moved
    sheet.notes = {k: v for k, v in sheet.notes.items() if not 2 <= k[0] <= last} | notes
    sheet.changed()


def merge(sheet: Sheet, r1: int, c1: int, r2: int, c2: int) -> None:
    check_cell(sheet, r1, c1)
    check_cell(sheet, r2, c2)
    r1, r2, c1, c2 = min(r1, r2), max(r1, r2), min(c1, c2), max(c1, c2)
    if (r1, c1) == (r2, c2):
        raise ValueError("a merge needs at least two cells")
    sheet.merges = [m for m in sheet.merges if m[2] < r1 or m[0] > r2 or m[3] < c1 or m[1] > c2]
    sheet.merges.append((r1, c1, r2, c2))
    for r in range(r1, r2 + 1):
        for c in range(c1, c2 + 1):
            cell = sheet.cells.get((r, c))
            if (r, c) != (r1, c1) and cell is not None:
                sheet.cells[(r, c)] = Cell(None, cell.fmt)
    sheet.changed()


# ---------------------------------------------------------------------------- internals
def _fmt(sheet: Sheet, row: int, col: int) -> str:
    cell = sheet.cells.get((row, col))
    return cell.fmt if cell else GENERAL


def _sort_key(value: Any) -> tuple[int, Any] | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return (2, value)
    if isinstance(value, (int, float)):
        return (0, value)
    return (1, str(value).casefold())


def _shift(sheet: Sheet, axis: str, at: int, delta: int) -> None:
    """Move cells, notes, merges and references for an insertion (delta > 0) or a deletion (delta = -1)."""
    i = 0 if axis == "row" else 1

    def moved(key: tuple[int, int]) -> tuple[int, int] | None:
        index = key[i]
        if delta < 0 and index == at:
            return None
        if index >= at + (1 if delta < 0 else 0):
            index += delta
        return (index, key[1]) if i == 0 else (key[0], index)

    cells: dict[tuple[int, int], Cell] = {}
    for key, cell in sheet.cells.items():
        new = moved(key)
        if new is not None:
            if cell.formula is not None:
                cell = cell._replace(formula=fx.shift_references(cell.formula, axis, at, delta))
            cells[new] = cell
    sheet.cells = cells
    sheet.notes = {new: text for key, text in sheet.notes.items() if (new := moved(key)) is not None}
    merges = []
    for r1, c1, r2, c2 in sheet.merges:
        lo, hi = (r1, r2) if axis == "row" else (c1, c2)
        if delta > 0:
            lo, hi = (lo + delta if lo >= at else lo), (hi + delta if hi >= at else hi)
        else:
            lo, hi = (lo - 1 if lo > at else lo), (hi - 1 if hi >= at else hi)
        if hi < lo:
            continue
        merge_ = (lo, c1, hi, c2) if axis == "row" else (r1, lo, r2, hi)
        if (merge_[0], merge_[1]) != (merge_[2], merge_[3]):
            merges.append(merge_)
    sheet.merges = merges
    if axis == "row":
        sheet.rows += delta
    else:
        sheet.cols += delta
