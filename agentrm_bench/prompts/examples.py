"""In-context examples: one whole episode per task, played by our own expert, stored as JSON.

A task's example is ``example.json`` in its package, played on the ``EXAMPLE_INDEX`` its prompt module
names; ``python -m agentrm_bench.prompts.examples TASK [INDEX]`` writes it and a test regenerates it to
prove it is exactly what our expert does. The thoughts come from the prompt module's ``thought()``
template (or a generic one), so that no upstream prompt text is involved.
"""

from __future__ import annotations

import json
import sys
from functools import cache
from pathlib import Path
from typing import Any

from .. import tasks
from .instructions import prompt_module

FILE = "example.json"


def example_path(task: str) -> Path:
    """Where ``task``'s example lives: beside its prompt module (in the task's package)."""
    module = prompt_module(task)
    if module is None or not getattr(module, "__file__", None):
        raise ValueError(f"{task}: its spec names no prompt module, so it has no in-context example")
    return Path(module.__file__).resolve().parent / FILE


def thought_for(task: str, goal: str, observation: str, action: str) -> str:
    """The example's thought before ``action``: the task's template, else a generic sentence."""
    module = prompt_module(task)
    if module is not None and hasattr(module, "thought"):
        return module.thought(goal, observation, action)
    return f"To {goal[0].lower() + goal[1:] if goal else 'finish the task'}, my next step is: {action}."


def generate(task: str, index: int) -> dict[str, Any]:
    """Play the task's expert on ``index`` and return the example record."""
    import gymnasium as gym

    env = gym.make(tasks.get(task).id)
    try:
        observation, info = env.reset(seed=0, options={"index": index})
        record: dict[str, Any] = {
            "task": task,
            "index": index,
            "goal": info["goal"],
            "first_observation": observation,
            "steps": [],
        }
        done = False
        while not done:
            action = env.unwrapped.expert_action()
            thought = thought_for(task, info["goal"], observation, action)
            observation, _, terminated, truncated, info = env.step(action)
            record["steps"].append({"thought": thought, "action": action, "observation": observation})
            done = terminated or truncated
        record["success"] = bool(info["success"])
        return record
    finally:
        env.close()


@cache
def load(task: str) -> dict[str, Any] | None:
    """The stored example of ``task``, or None if it has none."""
    if prompt_module(task) is None:
        return None
    path = example_path(task)
    return json.loads(path.read_text()) if path.is_file() else None


def main(argv: list[str]) -> int:
    task = argv[0]
    index = int(argv[1]) if len(argv) > 1 else prompt_module(task).EXAMPLE_INDEX
    record = generate(task, index)
    example_path(task).write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n")
    print(f"{task}: {len(record['steps'])} steps, success={record['success']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
