"""Tool-Query's expert: each row's reference action path, executed through the real tools.

A reference path is a short list of tool calls that gathers the evidence for a row's answer (the
entities the question names, the records that decide it), followed by ``finish`` with the row's
ground-truth answer (its last subgoal). The paths of the 60 test rows are ours, written from the
questions (``agentrm_bench/envs/tool_query/reference_paths.json``); fixture rows carry their own.

Arguments are literals or references resolved at run time against earlier results, because ids and
coordinates come from the tools (and a recording run asks the live API for exactly these calls)::

    {"$ref": [2, "results", 0, "latitude"]}      # step 2's result, then keys / list positions
    {"$ref": [1, "crew", {"$where": {"job": "Director"}}, "id"]}   # first list item with job == Director
    {"$answer": [0]}                              # the row's answer (last subgoal), then a path

The expert is stateless: it finds how far the path has got by matching the session's call log in order,
so it works after snapshots, restores and foreign actions alike. A step whose reference cannot be
resolved (an earlier call failed or the data differ) is skipped rather than guessed.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from ..tool_common.protocol import ToolCall
from .rows import BUNDLED, Row

PATHS_FILE = BUNDLED / "reference_paths.json"


class Unresolved(LookupError):
    """A reference points at a value that is not there."""


@lru_cache(maxsize=1)
def bundled_paths() -> dict[str, list[dict[str, Any]]]:
    """The reference paths of the test rows, keyed ``"<toolset>/<row id>"``."""
    with open(PATHS_FILE, encoding="utf-8") as handle:
        return json.load(handle)["paths"]


def reference_path(row: Row) -> list[dict[str, Any]]:
    if row.reference_path is not None:
        return row.reference_path
    try:
        return bundled_paths()[f"{row.toolset}/{row.id}"]
    except KeyError:
        raise KeyError(f"no reference path for {row.toolset} row {row.id}") from None


def answer_of(row: Row) -> Any:
    """What the expert finishes with: the last ground-truth subgoal (the answer as progress counts it)."""
    return row.subgoals[-1] if row.subgoals else row.answer


def follow(value: Any, path: list[Any]) -> Any:
    """Walk ``path`` (keys, list positions, ``{"$where": {...}}`` selectors) into ``value``."""
    for key in path:
        if isinstance(key, dict) and "$where" in key:
            wanted = key["$where"]
            if not isinstance(value, list):
                raise Unresolved(f"$where needs a list, found {type(value).__name__}")
            matches = [v for v in value if isinstance(v, dict) and all(v.get(k) == w for k, w in wanted.items())]
            if not matches:
                raise Unresolved(f"no item with {wanted}")
            value = matches[0]
        elif isinstance(value, dict) and isinstance(key, str) and key in value:
            value = value[key]
        elif (
            isinstance(value, list)
            and isinstance(key, int)
            and not isinstance(key, bool)
            and -len(value) <= key < len(value)
        ):
            value = value[key]
        else:
            raise Unresolved(f"no {key!r} in the value")
    return value


def resolve(template: Any, results: dict[int, Any], row: Row) -> Any:
    """Replace ``$ref`` / ``$answer`` markers in an argument template by their values."""
    if isinstance(template, dict):
        if "$ref" in template:
            step, *path = template["$ref"]
            if step not in results:
                raise Unresolved(f"step {step} has no result")
            return follow(results[step], path)
        if "$answer" in template:
            return follow(answer_of(row), template["$answer"])
        return {key: resolve(value, results, row) for key, value in template.items()}
    if isinstance(template, list):
        return [resolve(value, results, row) for value in template]
    return template


def next_call(row: Row, calls: list[dict[str, Any]]) -> ToolCall:
    """The expert's next call, given the session's call log (tool, args, ok, result per parsed call)."""
    results: dict[int, Any] = {}
    cursor = 0
    for number, step in enumerate(reference_path(row)):
        try:
            args = resolve(step.get("args", {}), results, row)
        except Unresolved:
            continue
        found = next(
            (i for i in range(cursor, len(calls)) if calls[i]["tool"] == step["tool"] and calls[i]["args"] == args),
            None,
        )
        if found is None:
            return ToolCall(step["tool"], args)
        if calls[found]["ok"]:
            results[number] = calls[found]["result"]
        cursor = found + 1
    return ToolCall("finish", {"answer": answer_of(row)})


def next_action(row: Row, calls: list[dict[str, Any]]) -> str:
    return next_call(row, calls).render()
