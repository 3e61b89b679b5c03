"""The input form of AgentRM's released reward models, so their checkpoints work here unchanged.

Their input is the task's PRM instruction (an upstream file, ``prm_<task>[_wo_turninfo].txt``, read
through the data layer -- never copied into this code) with the task filled in, followed by the
trajectory as a chat: assistant turns ``Thought: ... / Action: ...`` and user turns
``Observation: ...``; the model's chat template renders it and the value head reads the last token.
Our own reward models may use our own instruction instead (``template="own"``), recorded in the
policy settings.
"""

from __future__ import annotations

from collections.abc import Sequence

from .. import data, tasks
from ..llm.base import Message, ModelSpecError
from ..prompts.instructions import instruction
from ..prompts.react import format_step, task_message
from ..prompts.trajectory import Trajectory

VARIANTS = ("wo_turninfo", "turninfo")


def template_file(task: str, variant: str = "wo_turninfo", domain: str | None = None) -> tuple[data.TaskData, str]:
    """(data set, file name) of a task's PRM instruction, as its spec declares them."""
    spec = tasks.get(task)
    if spec.rm_prompts is None or spec.rm_template is None:
        raise ModelSpecError(f"no AgentRM reward-model instruction is known for task {task!r}")
    if variant not in VARIANTS:
        raise ModelSpecError(f"template variant must be one of {VARIANTS}, got {variant!r}")
    stem = spec.rm_template
    if "{domain}" in stem:
        if not domain:
            raise ModelSpecError(f"{task}: the AgentRM instruction depends on the domain, which the episode lacks")
        stem = stem.format(domain=domain)
    return spec.rm_prompts, stem + ("_wo_turninfo" if variant == "wo_turninfo" else "") + ".txt"


def load_template(task: str, variant: str = "wo_turninfo", domain: str | None = None) -> str:
    files, name = template_file(task, variant, domain)
    return data.path(files, name).read_text()


def fill(template: str, trajectory: Trajectory, max_turns: int | None) -> str:
    task = trajectory.first_observation
    in_observation = tasks.get(trajectory.task).goal_in_observation
    if trajectory.goal and not in_observation and trajectory.goal not in task:
        task = f"{trajectory.goal}\n{task}"
    # str.replace, not str.format: the instructions contain other braces (JSON, PDDL).
    return template.replace("{task_goal}", task).replace("{max_turn}", str(max_turns or ""))


def conversation(trajectory: Trajectory, head: str) -> list[Message]:
    """``head`` (the filled instruction) then the trajectory's steps as a chat."""
    messages: list[Message] = [{"role": "user", "content": head}]
    for step in trajectory.steps:
        messages.append({"role": "assistant", "content": format_step(step.thought, step.action)})
        messages.append({"role": "user", "content": f"Observation: {step.observation}"})
    return messages


def agentrm_conversation(
    trajectory: Trajectory, variant: str = "wo_turninfo", max_turns: int | None = None
) -> list[Message]:
    domain = trajectory.info.get("domain") if trajectory.info else None
    template = load_template(trajectory.task, variant, domain)
    return conversation(trajectory, fill(template, trajectory, max_turns))


def own_conversation(trajectory: Trajectory) -> list[Message]:
    return conversation(trajectory, instruction(trajectory.task) + "\n\n" + task_message(trajectory))


def conversations(
    batch: Sequence[Trajectory], template: str, variant: str = "wo_turninfo", max_turns: int | None = None
) -> list[list[Message]]:
    if template == "agentrm":
        return [agentrm_conversation(t, variant, max_turns) for t in batch]
    if template == "own":
        return [own_conversation(t) for t in batch]
    raise ModelSpecError(f"reward-model template must be 'agentrm' or 'own', got {template!r}")
