"""The workbook behind the sheet toolset: cells, number formats, notes, merges, and Google-style display.

AgentBoard copies the reference workbook (``Test Sheet-For Copy.xlsx``) into Google Sheets and the agent
edits it through gspread; scores compare the *displayed* values (``get_values``: formatted strings,
merged ranges filled with their top-left value) with the target grid. Offline, openpyxl reads the same
workbook -- values, number formats, notes (cell comments), merges -- into this small model, and the
display rules below reproduce what Google Sheets shows: a number in a ``0.00`` cell reads ``"68.00"``,
an integral number in an automatic cell ``"82"``, a float ``"184.8"``. Rendering all 21 start sheets and
the 21 answer sheets of the workbook this way gives exactly the targets stored in ``sheet.jsonl`` (a
test checks it).

A :class:`Sheet` is plain data (immutable :class:`Cell` tuples in dicts), so copying one for a new
episode or a snapshot is cheap and two episodes never share a mutable object.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any, NamedTuple

from . import sheet_formula as fx

GENERAL = "General"
MAX_ROWS = 20_000
MAX_COLS = 702  # column ZZ
MAX_CELLS = 200_000


class Cell(NamedTuple):
    """One cell: a literal value (None, str, float, bool) or a formula, and its number format."""

    value: Any = None
    fmt: str = GENERAL
    formula: str | None = None


@dataclass
class Sheet:
    """One worksheet. Rows and columns are 1-based; ``rows``/``cols`` is the grid size (its limits)."""

    title: str
    sheet_id: int
    cells: dict[tuple[int, int], Cell] = field(default_factory=dict)
    notes: dict[tuple[int, int], str] = field(default_factory=dict)
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)
    frozen: tuple[int, int] = (0, 0)
    rows: int = 1000
    cols: int = 26
    _values: dict[tuple[int, int], Any] = field(default_factory=dict, repr=False, compare=False)

    def copy(self) -> Sheet:
        return Sheet(
            self.title, self.sheet_id, dict(self.cells), dict(self.notes), list(self.merges), self.frozen,
            self.rows, self.cols,
        )  # fmt: skip

    def changed(self) -> None:
        """Forget computed formula values (call after every edit)."""
        self._values.clear()

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "sheet_id": self.sheet_id,
            "cells": [[r, c, cell.value, cell.fmt, cell.formula] for (r, c), cell in self.cells.items()],
            "notes": [[r, c, text] for (r, c), text in self.notes.items()],
            "merges": [list(m) for m in self.merges],
            "frozen": list(self.frozen),
            "size": [self.rows, self.cols],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Sheet:
        return cls(
            data["title"],
            data["sheet_id"],
            {(r, c): Cell(v, f, fo) for r, c, v, f, fo in data["cells"]},
            {(r, c): text for r, c, text in data["notes"]},
            [tuple(m) for m in data["merges"]],
            tuple(data["frozen"]),
            *data["size"],
        )

    # ------------------------------------------------------------------ values
    def value(self, row: int, col: int) -> Any:
        """The effective value of a cell (a formula's result), or None when empty."""
        return self._value(row, col, frozenset())

    def _value(self, row: int, col: int, visiting: frozenset[tuple[int, int]]) -> Any:
        cell = self.cells.get((row, col))
        if cell is None:
            return None
        if cell.formula is None:
            return cell.value
        key = (row, col)
        if key in self._values:
            return self._values[key]
        if key in visiting or len(visiting) > fx.MAX_DEPTH:
            raise fx.CircularReference(key)
        try:
            result = self._evaluate(cell.formula, visiting | {key})
        except fx.CircularReference:
            if visiting:
                raise
            result = "#REF!"
        self._values[key] = result
        return result

    def _evaluate(self, formula: str, visiting: frozenset[tuple[int, int]]) -> Any:
        def read(r1: int, c1: int, r2: int, c2: int) -> list[list[Any]]:
            r2, c2 = min(r2, r1 + MAX_ROWS, self.rows), min(c2, c1 + MAX_COLS, self.cols)
            return [[self._value(r, c, visiting) for c in range(c1, c2 + 1)] for r in range(r1, r2 + 1)]

        return fx.evaluate(formula, read)

    def compute(self, formula: str) -> Any:
        """Evaluate a formula against this sheet without storing it anywhere."""
        try:
            return self._evaluate(formula, frozenset())
        except fx.CircularReference:
            return "#REF!"

    def show(self, formula: str, value: Any, fmt: str) -> str:
        """How a formula's ``value`` is displayed in a cell of number format ``fmt``."""
        return render(value, self.inferred_format(formula) if fmt == GENERAL else fmt)

    def display(self, row: int, col: int) -> str:
        """What the spreadsheet shows in a cell (the formatted value), '' when empty."""
        cell = self.cells.get((row, col))
        if cell is None:
            return ""
        if cell.formula is not None:
            return self.show(cell.formula, self.value(row, col), cell.fmt)
        return render(cell.value, cell.fmt)

    def inferred_format(self, formula: str) -> str:
        """The number format an automatic cell shows a formula's result in (see FORMAT_PRESERVING)."""
        if fx.leading_function(formula) not in fx.FORMAT_PRESERVING:
            return GENERAL
        for r1, c1, r2, c2 in fx.references(formula):
            for r in range(r1, min(r2, r1 + MAX_ROWS) + 1):
                for c in range(c1, min(c2, c1 + MAX_COLS) + 1):
                    cell = self.cells.get((r, c))
                    if cell is not None and isinstance(self.value(r, c), float):
                        return cell.fmt
        return GENERAL

    def used_size(self) -> tuple[int, int]:
        """(rows, cols) of the block holding every non-empty displayed value, (0, 0) when empty."""
        rows = cols = 0
        for (r, c), cell in self.cells.items():
            if cell.formula is not None or cell.value not in (None, ""):
                rows, cols = max(rows, r), max(cols, c)
        return rows, cols

    def grid(self, r1: int, c1: int, r2: int, c2: int, combine_merged: bool = True) -> list[list[str]]:
        """Displayed values of a block, trailing empty rows and columns dropped (as the Sheets API does)."""
        used_rows, used_cols = self.used_size()
        r2, c2 = min(r2, used_rows), min(c2, used_cols)
        if r2 < r1 or c2 < c1:
            return []
        block = [[self.display(r, c) for c in range(c1, c2 + 1)] for r in range(r1, r2 + 1)]
        if combine_merged:
            for m1, n1, m2, n2 in self.merges:
                top_left = self.display(m1, n1)
                for r in range(max(m1, r1), min(m2, r2) + 1):
                    for c in range(max(n1, c1), min(n2, c2) + 1):
                        block[r - r1][c - c1] = top_left
        while block and not any(block[-1]):
            block.pop()
        width = max((max((i + 1 for i, v in enumerate(row) if v), default=0) for row in block), default=0)
        return [row[:width] for row in block]

    def all_values(self) -> list[list[str]]:
        rows, cols = self.used_size()
        return self.grid(1, 1, rows, cols) if rows else []


def render(value: Any, fmt: str) -> str:
    """A value as a spreadsheet shows it under a number format (the formats this workbook uses)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str):
        return value
    number = float(value)
    decimals = {"0": 0, "0.0": 1, "0.00": 2, "#,##0": 0, "#,##0.0": 1, "#,##0.00": 2}.get(fmt)
    if decimals is None:
        return _general(number)
    try:
        rounded = Decimal(repr(number)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    except InvalidOperation:
        return _general(number)
    if rounded == 0:
        rounded = abs(rounded)
    return f"{rounded:,}" if fmt.startswith("#,##") else f"{rounded}"


def _general(number: float) -> str:
    """Google's automatic display: integers without decimals, otherwise up to 10 decimals."""
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return f"{round(number, 10):.15g}"


# ---------------------------------------------------------------------------- the reference workbook
@functools.lru_cache(maxsize=2)
def load_workbook(path: str) -> dict[str, Sheet]:
    """Every worksheet of ``path`` as a :class:`Sheet` (openpyxl reads it once per process: ~2 s)."""
    import openpyxl

    book = openpyxl.load_workbook(Path(path))
    sheets: dict[str, Sheet] = {}
    for sheet_id, ws in enumerate(book.worksheets):
        sheet = Sheet(ws.title, sheet_id, rows=max(ws.max_row, 1000), cols=max(ws.max_column, 26))
        for row in ws.iter_rows():
            for cell in row:
                value = cell.value
                if isinstance(value, int) and not isinstance(value, bool):
                    value = float(value)
                formula = value if isinstance(value, str) and value.startswith("=") else None
                if value is not None or cell.number_format != GENERAL:
                    sheet.cells[(cell.row, cell.column)] = Cell(None if formula else value, cell.number_format, formula)
                if cell.comment is not None:
                    sheet.notes[(cell.row, cell.column)] = cell.comment.text
        sheet.merges = [(m.min_row, m.min_col, m.max_row, m.max_col) for m in ws.merged_cells.ranges]
        sheets[ws.title] = sheet
    return sheets
