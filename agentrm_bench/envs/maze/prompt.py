"""Our own maze prompt pieces: the instruction and how the in-context example is made (``example.json``)."""

from __future__ import annotations

import re

# What the task is and its actions; the prompt format adds how to reply (Thought / Action).
INSTRUCTION = (
    "You are walking through a grid maze towards a goal cell. A cell is written as two numbers, "
    "row then column; rows count downward and columns count to the right. Every turn you are told "
    "where the goal is, where you stand, and on which sides a wall blocks you.\n"
    "The four actions are:\n"
    "move up - the row number goes down by one\n"
    "move down - the row number goes up by one\n"
    "move left - the column number goes down by one\n"
    "move right - the column number goes up by one\n"
    "Walking into a wall leaves you where you are. Plan a route around the walls and reach the goal "
    "in as few actions as you can."
)

# The instance the in-context example is played on.
EXAMPLE_INDEX = 12

_POSITION = re.compile(r"current position is at position (\d+), (\d+)")


def thought(goal: str, observation: str, action: str) -> str:
    """Our template for the example's thoughts (no upstream prompt text is involved)."""
    found = _POSITION.search(observation)
    where = f"I am at {found.group(1)}, {found.group(2)}" if found else "I have moved"
    return f"{where}, and the goal is at 8, 6. Going around the walls, the next move is {action}."
