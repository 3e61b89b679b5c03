"""Arguments of the sheet tools: how upstream's loosely typed inputs become cell values and indexes.

Agents (and the reference action paths) pass numbers as strings, lists as strings (``'[[8], [5]]'``)
and regexes as ``re.compile(...)``; upstream converts with ``int()``/``float()`` and ``eval``. These
helpers do the same conversions with literal parsing only, and raise :class:`ToolFailure` with a
readable message when an argument cannot be used.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import regex

from ..tool_common.protocol import RegexLiteral, literal_value
from .service import ToolFailure

OPERATORS = ("SUM", "AVERAGE", "COUNT", "MAX", "MIN", "MINUS", "PRODUCT")
REGEX_TIMEOUT_S = 0.2
_FORMULA_A1 = re.compile(r"^[A-Z]{1}[0-9]+$")  # upstream's check for the formula tools: one letter
_REGEX_STRING = re.compile(r"""^\s*re\.compile\(\s*(['"])(.*)\1\s*\)\s*$""", re.DOTALL)


def int_arg(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise ToolFailure(f"{name} must be an integer, got {value!r}")
    try:
        number = int(str(value).strip()) if not isinstance(value, int) else value
    except ValueError:
        raise ToolFailure(f"{name} must be an integer, got {value!r}") from None
    if abs(number) > 10**7:
        raise ToolFailure(f"{name} {number} is out of range")
    return number


def as_list(value: Any, name: str) -> list[Any]:
    if isinstance(value, str):
        try:
            value = literal_value(value)
        except ValueError:
            raise ToolFailure(f"{name} must be a list, got {value!r}") from None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise ToolFailure(f"{name} must be a list, got {type(value).__name__}")
    return list(value)


def table(value: Any) -> list[list[Any]]:
    rows = as_list(value, "values_list")
    if not all(isinstance(row, (list, tuple)) for row in rows):
        raise ToolFailure("values_list must be a 2D list (a list of lists), please check the parameter")
    table = [list(row) for row in rows]
    for row in table:
        for item in row:
            if item is not None and not isinstance(item, (str, int, float, bool)):
                raise ToolFailure(f"values_list holds a {type(item).__name__}; cells take text or numbers")
    return table


def number(value: Any) -> Any:
    """Upstream turns anything ``float()`` accepts into a number before writing it."""
    if isinstance(value, bool) or value is None:
        return float(value) if isinstance(value, bool) else None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return value
    return number if number == number and abs(number) != float("inf") else value


def numbers(rows: list[list[Any]]) -> list[list[Any]]:
    return [[number(v) for v in row] for row in rows]


def user_entered(value: Any) -> tuple[Any, str | None]:
    """A value as Sheets' USER_ENTERED input reads it: numbers, TRUE/FALSE, ``=`` formulas, text."""
    value = number(value)
    if isinstance(value, str):
        if value.startswith("=") and len(value) > 1:
            return None, value
        if value.upper() in ("TRUE", "FALSE"):
            return value.upper() == "TRUE", None
        return value, None
    if value is not None and not isinstance(value, float):
        raise ToolFailure(f"value must be text or a number, got {type(value).__name__}")
    return value, None


def formula(operator: Any, start: Any, end: Any, position_list: Any, extra: tuple[Any, ...]) -> str:
    if operator not in OPERATORS:
        raise ToolFailure(f"operator must be one of {list(OPERATORS)}")
    if position_list is None:
        positions = (start, end)
        body = f"{start}:{end}"
    else:
        positions = tuple(as_list(position_list, "position_list"))
        body = ",".join(str(p) for p in positions)
    if not positions or not all(isinstance(p, str) and _FORMULA_A1.match(p) for p in positions + extra):
        raise ToolFailure(
            "Formula positions must be A1 notation with a one-letter column (like 'C2'); "
            "get_A1_annotation(row, col) gives a cell's A1 address."
        )
    return f"={operator}({body})"


def matcher(query: Any) -> Callable[[str], bool]:
    if isinstance(query, str) and _REGEX_STRING.match(query):
        try:
            query = literal_value(query)
        except ValueError:
            raise ToolFailure(f"invalid regular expression: {query!r}") from None
    if isinstance(query, RegexLiteral):
        try:
            pattern = regex.compile(query.pattern, query.flags & ~regex.VERBOSE)
        except (regex.error, ValueError, OverflowError) as exc:
            raise ToolFailure(f"invalid regular expression: {exc}") from None

        def search(text: str) -> bool:
            try:
                return pattern.search(text, timeout=REGEX_TIMEOUT_S) is not None
            except TimeoutError:
                raise ToolFailure("the regular expression took too long; simplify it") from None

        return search
    if isinstance(query, bool) or not isinstance(query, (str, int, float)):
        raise ToolFailure(f"query must be a string or re.compile(...), got {type(query).__name__}")
    text = query if isinstance(query, str) else str(query)
    return lambda value: value == text
