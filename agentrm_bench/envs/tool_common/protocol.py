"""The tool-call text protocol shared by the tool tasks (Tool-Query and Tool-Operation).

AgentBoard's tool agents answer with a line of the form::

    Action: <tool name> with Action Input: <dict literal>

e.g. ``Action: open_sheet with Action Input: {"name": "Sheet3"}``. Upstream evaluates the input with
``eval``; here it is read with ``json.loads`` and, failing that, ``ast.literal_eval``, so an agent can
never run code through its arguments (``{"x": __import__('os')}`` is simply a parse error).

Public API (kept stable, the tool tasks import it):

- :func:`parse_tool_action` ``(text) -> ToolCall | ParseError``
- :class:`ToolCall` ``(name, arguments, raw_input)``: a well-formed call; whether the tool exists and
  accepts these arguments is the toolset service's business, not the parser's.
- :class:`ParseError` ``(kind, message, name)``: ``kind`` is ``"format"`` (no ``Action: ... with Action
  Input:`` found) or ``"arguments"`` (the input is not a dict literal); ``message`` is the observation to
  show the agent and always starts with :data:`ERROR_PREFIX`, the marker AgentBoard's grounding accuracy
  counts.
- :func:`error_observation` ``(exc) -> str``: the ``ERROR | Type(message)`` text for a tool that failed.
- :class:`RegexLiteral` ``(pattern, flags)``: an argument written as ``re.compile('<pattern>')`` (the sheet
  tool ``filter_cells`` takes one, upstream passes a compiled regex through ``eval``); it is recognised
  structurally in the syntax tree, never executed.
- :func:`literal_value` ``(text) -> Any``: the same literal reader for argument values that agents pass
  as strings (``'[[8], [5]]'``); raises ``ValueError``.
- :meth:`ToolCall.render`: the canonical action text of a call (experts and tests build actions with it).

Leniency (the design asks for a lenient parser, since LLM output is messy): the *last* ``Action:`` line
wins (a "Thought:" above it may mention actions too), ``Action`` matching is case-insensitive, the name
may be wrapped in quotes, backticks or brackets, the input may be followed by chatter on later lines
(only the first line is retried), may sit in a code fence, and an empty input means ``{}``.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal

ERROR_PREFIX = "ERROR | "
MAX_INPUT_CHARS = 20_000
"""Longer argument text is refused before parsing: it bounds parse time and memory for fuzzed input."""

FORMAT_HINT = 'answer in the form "Action: <tool name> with Action Input: <a dict of arguments>"'

_ACTION = re.compile(r"action\s*:\s*(?P<name>[^\n]*?)\s+with\s+action\s+input\s*:", re.IGNORECASE)
_NAME_WRAPPERS = "`'\"[]()<>* "


@dataclass(frozen=True)
class ToolCall:
    """A parsed call: the tool's name and its keyword arguments (a plain dict of literals)."""

    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    raw_input: str = "{}"

    def render(self) -> str:
        """The canonical action text for this call (what an expert or a test sends)."""
        return f"Action: {self.name} with Action Input: {json.dumps(self.arguments, ensure_ascii=False)}"


@dataclass(frozen=True)
class RegexLiteral:
    """``re.compile('<pattern>'[, flags])`` written as an argument value; compiling it is the tool's job."""

    pattern: str
    flags: int = 0


@dataclass(frozen=True)
class ParseError:
    """Why an action text is not a tool call; ``message`` is the agent-facing observation."""

    kind: Literal["format", "arguments"]
    message: str
    name: str | None = None


def parse_tool_action(text: str) -> ToolCall | ParseError:
    """Read ``Action: <name> with Action Input: <dict>`` out of free-form agent text.

    Never raises (any input text, any size); never evaluates code.
    """
    if not isinstance(text, str):
        text = str(text)
    matches = list(_ACTION.finditer(text))
    if not matches:
        return ParseError("format", f"{ERROR_PREFIX}Format error: {FORMAT_HINT}.")
    match = matches[-1]
    name = match.group("name").strip(_NAME_WRAPPERS)
    if not name:
        return ParseError("format", f"{ERROR_PREFIX}Format error: the tool name is missing; {FORMAT_HINT}.")
    raw = text[match.end() :].strip()
    if len(raw) > MAX_INPUT_CHARS:
        return ParseError(
            "arguments",
            f"{ERROR_PREFIX}ValueError(action input of {len(raw)} characters is longer than "
            f"the {MAX_INPUT_CHARS} allowed)",
            name,
        )
    arguments = _read_arguments(raw)
    if isinstance(arguments, str):
        return ParseError("arguments", f"{ERROR_PREFIX}{arguments}", name)
    return ToolCall(name, arguments, raw)


def error_observation(exc: BaseException) -> str:
    """The observation for a tool call that raised: ``ERROR | KeyError('position')`` style."""
    return f"{ERROR_PREFIX}{type(exc).__name__}({exc})"


def _read_arguments(raw: str) -> dict[str, Any] | str:
    """The argument dict, or an error description (without the prefix) when ``raw`` is no dict literal."""
    for candidate in _candidates(raw):
        value = _literal(candidate)
        if value is _NOT_A_LITERAL:
            continue
        if isinstance(value, dict):
            if all(isinstance(key, str) for key in value):
                return value
            return "TypeError(the argument names in the action input must be strings)"
        return f"TypeError(the action input must be a dict of arguments, got {type(value).__name__})"
    return "SyntaxError(the action input is not a valid dict literal; please change your action input)"


def _candidates(raw: str) -> list[str]:
    """Texts to try, most faithful first: the whole input, then without code fences, then its first line."""
    text = raw
    if not text:
        return ["{}"]
    out = [text]
    unfenced = text.strip("`").strip()
    if unfenced.startswith(("json\n", "python\n")):
        unfenced = unfenced.split("\n", 1)[1].strip()
    if unfenced != text:
        out.append(unfenced)
    first_line = unfenced.split("\n", 1)[0].strip().rstrip(".").strip("`")
    if first_line not in out:
        out.append(first_line)
    return out


_NOT_A_LITERAL = object()


def _literal(text: str) -> Any:
    """``json.loads``, then ``ast.literal_eval``, then literals with ``re.compile`` calls; else the sentinel."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        pass
    if "re.compile" not in text:
        return _NOT_A_LITERAL
    try:
        return _with_regex(ast.parse(text, mode="eval").body)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return _NOT_A_LITERAL


def literal_value(text: str) -> Any:
    """A Python/JSON literal (``re.compile`` allowed) read from ``text``; ``ValueError`` if it is none.

    Tools use it for arguments that upstream agents often pass as strings, e.g.
    ``'values_list': '[[8], [5]]'``.
    """
    if len(text) > MAX_INPUT_CHARS:
        raise ValueError(f"a literal of {len(text)} characters is longer than the {MAX_INPUT_CHARS} allowed")
    value = _literal(text.strip())
    if value is _NOT_A_LITERAL:
        raise ValueError(f"not a literal: {text[:80]!r}")
    return value


def _with_regex(node: ast.AST) -> Any:
    """A literal syntax tree in which ``re.compile(<str>[, <int>])`` calls become :class:`RegexLiteral`."""
    if isinstance(node, ast.Call):
        func = node.func
        is_compile = (
            isinstance(func, ast.Attribute)
            and func.attr == "compile"
            and isinstance(func.value, ast.Name)
            and func.value.id == "re"
        )
        if not is_compile or node.keywords or not 1 <= len(node.args) <= 2:
            raise ValueError("only re.compile(pattern[, flags]) calls are accepted")
        args = [ast.literal_eval(arg) for arg in node.args]
        if not isinstance(args[0], str) or (len(args) == 2 and not isinstance(args[1], int)):
            raise ValueError("re.compile takes a string pattern and integer flags")
        return RegexLiteral(*args)
    if isinstance(node, ast.Dict):
        if any(key is None for key in node.keys):
            raise ValueError("dict unpacking is not a literal")
        return {_with_regex(k): _with_regex(v) for k, v in zip(node.keys, node.values, strict=True)}
    if isinstance(node, ast.List):
        return [_with_regex(e) for e in node.elts]
    if isinstance(node, ast.Tuple):
        return tuple(_with_regex(e) for e in node.elts)
    return ast.literal_eval(node)
