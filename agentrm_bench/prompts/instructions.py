"""Task instructions (our own words, never upstream prompt text): what the task is, its actions, the reply form.

A task's instruction lives in its own package (the module its spec names as ``prompt``, holding
``INSTRUCTION``); this module adds the ReAct reply form. A task without one gets :data:`GENERIC`, which
still works because every first observation carries the goal.
"""

from __future__ import annotations

import importlib
from functools import cache

from .. import tasks

REPLY_FORM = (
    "Answer every turn with exactly two lines and nothing else:\n"
    "Thought: <one or two short sentences of reasoning>\n"
    "Action: <exactly one action>"
)

GENERIC = (
    "You are an agent acting in a text environment. Each turn you read an observation and choose one "
    "action that brings you closer to completing the task stated in the first observation.\n" + REPLY_FORM
)


@cache
def prompt_module(task: str):  # noqa: ANN201 - a module, or None
    """The module holding ``task``'s prompt pieces, or None when its spec names none."""
    spec = tasks.get(task)
    return importlib.import_module(spec.prompt) if spec.prompt else None


def instruction(task: str) -> str:
    module = prompt_module(task)
    if module is None:
        return GENERIC
    return f"{module.INSTRUCTION}\n{REPLY_FORM}"
