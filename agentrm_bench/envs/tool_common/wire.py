"""Tool values across the sandbox socket: a JSON form that keeps Python types, so ``==`` scores the same.

The tool tasks score with Python equality on values the tools return (AgentBoard: ``2 != "2"``, and a
tuple is not a list). Those values come from literals the agent wrote (``finish`` echoes its answer,
which :func:`~.tools_protocol.parse_tool_action` may have read as a tuple, a set, bytes, a dict with int
keys, a ``re.compile`` literal) and from tool results. Plain JSON would turn a tuple into a list and
``{1: "a"}`` into ``{"1": "a"}`` -- changing scores -- and would refuse a set outright, crashing the episode.

:func:`encode` therefore tags what JSON cannot carry as ``{"__py__": <kind>, "v": ...}`` and is the
identity on values that are already plain JSON (so replies of ordinary episodes read as before);
:func:`decode` rebuilds the Python values. Only data is rebuilt (tuples, sets, bytes, complex numbers,
:class:`~.tools_protocol.RegexLiteral`), never code. A value of any other type (say a numpy scalar from
a graph pickle) travels as its ``.item()`` when it has one, else as :class:`Foreign` (its type name and
``repr``), which compares equal only to the same foreign value.
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass
from typing import Any

from .protocol import RegexLiteral

TAG = "__py__"


@dataclass(frozen=True)
class Foreign:
    """A value of a type the wire does not know, kept as its type name and ``repr`` (for display and ``==``)."""

    type: str
    repr: str

    def __str__(self) -> str:
        return self.repr


def encode(value: Any) -> Any:
    """A JSON-serialisable form of ``value`` that :func:`decode` turns back into an equal value."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {TAG: "float", "v": repr(value)}
    if isinstance(value, list):
        return [encode(item) for item in value]
    if isinstance(value, dict):
        if TAG not in value and all(isinstance(key, str) for key in value):
            return {key: encode(item) for key, item in value.items()}
        return {TAG: "dict", "v": [[encode(key), encode(item)] for key, item in value.items()]}
    if isinstance(value, tuple):
        return {TAG: "tuple", "v": [encode(item) for item in value]}
    if isinstance(value, (set, frozenset)):
        return {TAG: type(value).__name__, "v": [encode(item) for item in value]}
    if isinstance(value, (bytes, bytearray)):
        return {TAG: "bytes", "v": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, complex):
        return {TAG: "complex", "v": [encode(value.real), encode(value.imag)]}
    if value is Ellipsis:
        return {TAG: "ellipsis"}
    if isinstance(value, RegexLiteral):
        return {TAG: "regex", "v": [value.pattern, value.flags]}
    if isinstance(value, Foreign):
        return {TAG: "foreign", "v": [value.type, value.repr]}
    item = getattr(value, "item", None)
    if callable(item):
        try:
            plain = item()
        except (TypeError, ValueError):
            plain = value
        if plain is not value and isinstance(plain, (bool, int, float, str, complex)):
            return encode(plain)
    return {TAG: "foreign", "v": [type(value).__name__, repr(value)]}


def decode(value: Any) -> Any:
    """The Python value :func:`encode` was given (``Foreign`` for types it does not know)."""
    if isinstance(value, list):
        return [decode(item) for item in value]
    if not isinstance(value, dict):
        return value
    kind = value.get(TAG)
    if kind is None:
        return {key: decode(item) for key, item in value.items()}
    body = value.get("v")
    if kind == "dict":
        return {_hashable(decode(key)): decode(item) for key, item in body}
    if kind == "tuple":
        return tuple(decode(item) for item in body)
    if kind in ("set", "frozenset"):
        items = [_hashable(decode(item)) for item in body]
        return set(items) if kind == "set" else frozenset(items)
    if kind == "bytes":
        return base64.b64decode(body)
    if kind == "complex":
        return complex(float(body[0]), float(body[1]))
    if kind == "float":
        return float(body)
    if kind == "ellipsis":
        return Ellipsis
    if kind == "regex":
        return RegexLiteral(str(body[0]), int(body[1]))
    if kind == "foreign":
        return Foreign(str(body[0]), str(body[1]))
    raise ValueError(f"unknown wire tag {kind!r}")


def _hashable(value: Any) -> Any:
    """Keys and set members were hashable when encoded; lists only appear here from a corrupted message."""
    if isinstance(value, (list, dict)):
        raise ValueError("a dict key or set member on the wire decoded to an unhashable value")
    return value
