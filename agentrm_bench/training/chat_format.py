"""The conversations a fine-tuned policy is trained on -- exactly the prompts it is later run with.

A training sample is one decision: the prompt :class:`~agentrm_bench.prompts.react.ReActPrompter`
builds for the state (our instruction, the task and first observation, the last ``history`` steps;
no in-context example: the fine-tuned model has learnt the form) and the reply to learn (``Thought:
... / Action: ...``). It is stored in TRL's conversational prompt-completion form (``prompt`` and
``completion`` lists of chat messages), which ``datasets`` loads as it is; the loss is on the
completion's tokens only. The policy is then run with the same prompt settings:
``--policy-arg example=false --policy-arg history=H``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..prompts.react import ReActPrompter, format_step
from ..prompts.trajectory import Step, Trajectory

DEFAULT_HISTORY = 2  # steps of history in a prompt: short sequences train fast; BabyAI views are local


def prompter(task: str, history: int | None = DEFAULT_HISTORY) -> ReActPrompter:
    return ReActPrompter(task, use_example=False, history=history)


def policy_args(history: int | None) -> dict[str, Any]:
    """The ``--policy-arg`` settings that run a policy fine-tuned on these prompts."""
    return {"example": False, **({"history": history} if history is not None else {})}


def samples(trajectory: Trajectory, history: int | None = DEFAULT_HISTORY) -> list[dict[str, Any]]:
    """One prompt-completion sample per step of ``trajectory`` (its steps are the replies to learn)."""
    build = prompter(trajectory.task, history)
    rows = []
    prefix = Trajectory(trajectory.task, trajectory.goal, trajectory.first_observation, info=trajectory.info)
    for step in trajectory.steps:
        prompt, _ = build.messages(prefix)
        completion = [{"role": "assistant", "content": format_step(step.thought, step.action)}]
        rows.append({"prompt": prompt, "completion": completion})
        prefix = prefix.extend(step, progress=None, success=False, done=False, info=prefix.info)
    return rows


def trajectory_to_json(trajectory: Trajectory) -> dict[str, Any]:
    return {
        "task": trajectory.task,
        "goal": trajectory.goal,
        "first_observation": trajectory.first_observation,
        "steps": [{"thought": s.thought, "action": s.action, "observation": s.observation} for s in trajectory.steps],
        "info": dict(trajectory.info),
    }


def trajectory_from_json(row: dict[str, Any], progress: float | None = None, success: bool = False) -> Trajectory:
    steps: Sequence[dict[str, Any]] = row.get("steps", [])
    return Trajectory(
        row["task"],
        row.get("goal", ""),
        row.get("first_observation", ""),
        tuple(Step(s.get("thought", ""), s["action"], s.get("observation", "")) for s in steps),
        progress=progress,
        success=success,
        info=dict(row.get("info") or {}),
    )
