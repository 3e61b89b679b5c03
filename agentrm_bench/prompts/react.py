"""ReAct prompts ("Thought: ... / Action: ...") and the lenient action parser.

A conversation is: a system message (our instruction for the task, then one worked example generated
from our own expert), a user message with the task and the first observation, then alternating
assistant steps (normalised to the two-line form) and user observations. When the conversation would
not fit the model's context, the oldest steps are dropped (the first observation always stays) and a
note saying so is returned, to be recorded in the episode.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..llm.base import Message
from . import examples
from .instructions import instruction
from .trajectory import Trajectory

# Where a reply ends: the model starts writing the environment's part or a second step (four strings,
# the most the OpenAI API accepts).
STOP = ("\nObservation", "\nobservation:", "\nThought:", "\nTask:")
_ACTION = re.compile(r"^\s*[*_`]*action[*_`]*\s*[:：]\s*(.*)$", re.IGNORECASE | re.MULTILINE)
_THOUGHT = re.compile(r"^\s*[*_`]*thought[*_`]*\s*[:：]\s*(.*)$", re.IGNORECASE | re.MULTILINE)
_TRIM = " \t\"'`*.。"


@dataclass(frozen=True)
class Parsed:
    thought: str
    action: str
    well_formed: bool  # an "Action:" line was found (the action itself may still be invalid for the task)


def parse_action(text: str, admissible: Sequence[str] | None = None) -> Parsed:
    """The action in a model reply, forgiving what small models get wrong.

    Takes the last ``Action:`` line (case, markdown emphasis and a full-width colon do not matter);
    without one, the last non-empty line. Quotes, backticks and a trailing period are stripped. When
    the task lists admissible actions, a case- and spacing-insensitive match is mapped to its canonical
    spelling. Whatever remains goes to the environment, which answers an invalid action itself.
    """
    matches = _ACTION.findall(text)
    thoughts = _THOUGHT.findall(text)
    thought = thoughts[-1].strip() if thoughts else ""
    if matches:
        raw, well_formed = matches[-1], True
    else:
        lines = [line for line in text.splitlines() if line.strip()]
        raw, well_formed = (lines[-1] if lines else ""), False
        if not thought and len(lines) > 1:
            thought = " ".join(lines[:-1]).strip()
    action = " ".join(raw.strip().strip(_TRIM).split())
    if admissible:
        canonical = {" ".join(a.lower().split()): a for a in admissible}
        action = canonical.get(action.lower(), action)
    return Parsed(thought, action, well_formed)


def format_step(thought: str, action: str) -> str:
    return f"Thought: {thought or '...'}\nAction: {action}"


def task_message(trajectory: Trajectory) -> str:
    return f"Task: {trajectory.goal}\nObservation: {trajectory.first_observation}"


class ReActPrompter:
    """Builds the chat messages for the next step of a trajectory."""

    def __init__(self, task: str, *, show_actions: bool = False, use_example: bool = True, history: int | None = None):
        if history is not None and (not isinstance(history, int) or history < 0):
            raise ValueError(f"history must be a number of steps >= 0, got {history!r}")
        self.task = task
        self.show_actions = show_actions
        self.use_example = use_example
        self.history = history  # the most recent steps shown (None: all); fine-tuned policies see a window
        system = instruction(task)
        example = example_transcript(task) if use_example else None
        if example:
            system += "\n\nHere is an example of a whole episode:\n\n" + example
        self.system = system

    def settings(self) -> dict[str, object]:
        settings: dict[str, object] = {
            "format": "react",
            "show_actions": self.show_actions,
            "example": self.use_example,
        }
        if self.history is not None:
            settings["history"] = self.history
        return settings

    def messages(
        self,
        trajectory: Trajectory,
        admissible: Sequence[str] | None = None,
        budget: int | None = None,
        count: Callable[[Sequence[Message]], int] | None = None,
    ) -> tuple[list[Message], str | None]:
        """The conversation for the next step; ``budget`` tokens at most (measured by ``count``)."""
        head: list[Message] = [
            {"role": "system", "content": self.system},
            {"role": "user", "content": task_message(trajectory)},
        ]
        turns: list[Message] = []
        steps = trajectory.steps
        if self.history is not None and len(steps) > self.history:
            hidden = len(steps) - self.history
            steps = steps[hidden:] if self.history else ()
            head[1]["content"] += f"\n[{hidden} earlier step(s) not shown]"
        for step in steps:
            turns.append({"role": "assistant", "content": format_step(step.thought, step.action)})
            turns.append({"role": "user", "content": f"Observation: {step.observation}"})
        if self.show_actions and admissible:
            target = turns[-1] if turns else head[-1]
            target["content"] += "\nAvailable actions: " + ", ".join(admissible)
        messages, note = head + turns, None
        if budget is not None and count is not None and count(messages) > budget:

            def marked(dropped: int) -> list[Message]:
                marker = f"[{dropped} earlier step(s) omitted to fit the model's context]"
                return [head[0], {"role": "user", "content": head[1]["content"] + "\n" + marker}]

            dropped = 1
            turns = turns[2:]
            while turns and count(marked(dropped) + turns) > budget:
                turns = turns[2:]
                dropped += 1
            messages = marked(dropped) + turns
            note = f"turn {len(trajectory.steps)}: history truncated, {dropped} oldest step(s) dropped"
        return messages, note


def example_transcript(task: str) -> str | None:
    """The task's stored example as text in the reply form the model must use, or None if it has none."""
    example = examples.load(task)
    if example is None:
        return None
    lines = [f"Task: {example['goal']}", f"Observation: {example['first_observation']}"]
    for step in example["steps"]:
        lines.append(format_step(step["thought"], step["action"]))
        lines.append(f"Observation: {step['observation'].strip()}")
    return "\n".join(lines)
