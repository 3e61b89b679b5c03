"""Spreadsheet formulas for the sheet toolset: evaluation with the ``formulas`` library, reference shifting.

AgentBoard's sheet tools write formulas such as ``=SUM(C2:G2)`` into Google Sheets and read back the
displayed result. Here the formula text is kept in the cell (so it recomputes when its inputs change,
as in a real spreadsheet) and evaluated by `formulas <https://pypi.org/project/formulas/>`_ (a
maintained Excel formula engine), which compiles the expression into a function of its referenced
ranges; we feed it the referenced cells' values. ``MINUS`` is a Google Sheets function Excel lacks, so
it is registered here. Unknown functions, syntax errors and circular references show the spreadsheet
error values (``#NAME?``, ``#ERROR!``, ``#REF!``) instead of raising.

When rows or columns are inserted or deleted, references move as a spreadsheet moves them
(:func:`shift_references`); when a sort moves a row, its formulas are translated by the row offset
(:func:`translate_rows`), which keeps same-row references (``=SUM(C5:F5)`` in ``G5``) pointing at their row.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable
from typing import Any

import numpy as np

ERROR_VALUES = ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#ERROR!")
# Functions whose result has the same unit as their inputs: with an automatic (General) number format,
# the result is displayed in the number format of the referenced cells (as Google Sheets does: an
# AVERAGE of "0.0" cells shows "88.8", a PRODUCT of "0.00" cells shows "184.8").
FORMAT_PRESERVING = frozenset({"SUM", "AVERAGE", "MAX", "MIN", "MINUS"})
MAX_DEPTH = 64

_REF = re.compile(
    r"(?<![A-Za-z0-9_!.\"'])(\$?)([A-Za-z]{1,3})(\$?)(\d+)"  # A1, $A$1 (not Sheet2!A1, not LOG10)
    r"(?::(\$?)([A-Za-z]{1,3})(\$?)(\d+))?(?![A-Za-z0-9_(!])"  # optional :B2
)
_STRING = re.compile(r'"[^"]*"')
_LEADING_FUNCTION = re.compile(r"^=\s*([A-Za-z][A-Za-z0-9.]*)\s*\(")

logging.getLogger("schedula").setLevel(logging.CRITICAL)
logging.getLogger("formulas").setLevel(logging.CRITICAL)


class CircularReference(Exception):
    pass


@functools.cache
def _engine() -> tuple[Any, Any]:
    """Import ``formulas`` once (its first use costs a few seconds) and register Google's MINUS."""
    import formulas
    import schedula

    functions = formulas.get_functions()
    functions.setdefault("MINUS", _minus)
    return formulas.Parser(), schedula.EMPTY


def _minus(a: Any, b: Any) -> Any:
    """Google Sheets' MINUS(a, b) = a - b for two single values (blanks count as 0)."""
    return _scalar(a) - _scalar(b)


def _scalar(value: Any) -> float:
    if isinstance(value, np.ndarray):
        if value.size != 1:
            raise ValueError("MINUS takes single cells")
        value = value.item()
    if value is None or type(value).__name__ == "Token":  # schedula's EMPTY marker
        return 0.0
    if isinstance(value, str):
        return float(value)
    return float(value)


@functools.lru_cache(maxsize=4096)
def _compiled(formula: str) -> tuple[Callable[..., Any], tuple[str, ...]]:
    parser, _ = _engine()
    function = parser.ast(formula)[1].compile()
    return function, tuple(function.inputs)


def evaluate(formula: str, read: Callable[[int, int, int, int], list[list[Any]]]) -> Any:
    """The value of ``formula``; ``read(r1, c1, r2, c2)`` gives the referenced block's values.

    Returns a float, str or bool, or one of :data:`ERROR_VALUES` as a string. Never raises except
    :class:`CircularReference`, which the caller turns into ``#REF!``.
    """
    try:
        function, inputs = _compiled(formula)
    except Exception:  # the engine's parser errors have many types
        return "#ERROR!"
    _, empty = _engine()
    arguments = []
    for name in inputs:
        bounds = parse_range(name)
        if bounds is None:  # another sheet, a named range, ...: not supported here
            return "#REF!"
        block = read(*bounds)
        array = np.array([[empty if v is None else v for v in row] for row in block], dtype=object)
        arguments.append(array if ":" in name else array[0, 0])
    try:
        result = function(*arguments)
    except CircularReference:
        raise
    except Exception as exc:
        if "NotImplementedError" in repr(exc):
            return "#NAME?"
        return "#VALUE!"
    return _plain(result)


def _plain(result: Any) -> Any:
    """numpy / formulas results -> float, str, bool, or an error string."""
    if isinstance(result, np.ndarray):
        result = result.flat[0] if result.size else None
    if isinstance(result, (bool, np.bool_)):
        return bool(result)
    if isinstance(result, (int, float, np.integer, np.floating)):
        value = float(result)
        return value if np.isfinite(value) else "#NUM!"
    text = str(result)
    if text in ERROR_VALUES or text == "#GETTING_DATA":
        return text
    if type(result).__name__ == "Token" or result is None:
        return 0.0
    return text


def leading_function(formula: str) -> str | None:
    """``SUM`` for ``=SUM(C2:G2)``; None when the formula is not a single function call."""
    match = _LEADING_FUNCTION.match(formula)
    return match.group(1).upper() if match else None


def parse_range(text: str) -> tuple[int, int, int, int] | None:
    """``'C2:G2'`` / ``'B9'`` (any case, ``$`` allowed) -> (r1, c1, r2, c2), 1-based; None if not a plain range."""
    match = _REF.fullmatch(text.strip())
    if not match:
        return None
    c1, r1 = column_number(match.group(2)), int(match.group(4))
    if match.group(6):
        c2, r2 = column_number(match.group(6)), int(match.group(8))
    else:
        c2, r2 = c1, r1
    if min(r1, r2, c1, c2) < 1:
        return None
    return min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)


def references(formula: str) -> list[tuple[int, int, int, int]]:
    """The plain cell/range references of ``formula`` in order of appearance."""
    out = []
    for match in _REF.finditer(_STRING.sub('""', formula)):
        bounds = parse_range(match.group(0))
        if bounds:
            out.append(bounds)
    return out


def column_number(letters: str) -> int:
    number = 0
    for char in letters.upper():
        number = number * 26 + ord(char) - 64
    return number


def column_letters(number: int) -> str:
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def shift_references(formula: str, axis: str, at: int, delta: int) -> str:
    """References after inserting ``delta`` (> 0) rows/cols before ``at``, or deleting row/col ``at`` (delta -1)."""

    def shift(index: int) -> int | None:
        if delta > 0:
            return index + delta if index >= at else index
        if index == at:
            return None
        return index - 1 if index > at else index

    def fix(match: re.Match[str]) -> str:
        d1, col1, d2, row1, d3, col2, d4, row2 = match.groups()
        single = col2 is None
        if single:
            d3, col2, d4, row2 = d1, col1, d2, row1
        a, b = (int(row1), int(row2)) if axis == "row" else (column_number(col1), column_number(col2))
        lo, hi = min(a, b), max(a, b)
        new_lo, new_hi = shift(lo), shift(hi)
        if delta < 0 and new_lo is None and new_hi is None and (single or lo == hi):
            return "#REF!"
        if new_lo is None:
            new_lo = lo if lo < at else at  # the first remaining row/col of the range
        if new_hi is None:
            new_hi = hi - 1
        if axis == "row":
            row1, row2 = str(new_lo), str(new_hi)
        else:
            col1, col2 = column_letters(new_lo), column_letters(new_hi)
        first = f"{d1}{col1}{d2}{row1}"
        return first if single else f"{first}:{d3}{col2}{d4}{row2}"

    return _outside_strings(formula, lambda part: _REF.sub(fix, part))


def translate_rows(formula: str, offset: int) -> str:
    """Move a formula ``offset`` rows (relative references follow, ``$``-anchored rows stay)."""
    if offset == 0:
        return formula

    def fix(match: re.Match[str]) -> str:
        d1, col1, d2, row1, d3, col2, d4, row2 = match.groups()
        first = f"{d1}{col1}{d2}{int(row1) if d2 else max(1, int(row1) + offset)}"
        if col2 is None:
            return first
        return f"{first}:{d3}{col2}{d4}{int(row2) if d4 else max(1, int(row2) + offset)}"

    return _outside_strings(formula, lambda part: _REF.sub(fix, part))


def _outside_strings(formula: str, change: Callable[[str], str]) -> str:
    """Apply ``change`` to the parts of ``formula`` outside string literals."""
    pieces, last = [], 0
    for match in _STRING.finditer(formula):
        pieces.append(change(formula[last : match.start()]))
        pieces.append(match.group(0))
        last = match.end()
    pieces.append(change(formula[last:]))
    return "".join(pieces)


def warm_up() -> None:
    """Pay the engine's import cost now (a few seconds) rather than on an agent's first formula."""
    evaluate("=SUM(A1:A2)", lambda r1, c1, r2, c2: [[1.0], [2.0]])
