"""``implicit:POLICY,REF``: the implicit process reward of a policy against its reference model.

The reward of a step is beta * sum over the step's tokens of (log pi(a|s) - log pi_ref(a|s)): the
log-ratio of the fine-tuned policy to its reference. The score of a trajectory is, by default, the sum
over all its steps (the ratio of the whole trajectory; comparing partial trajectories by it compares
their implicit Q-values); ``aggregate="last"`` scores the newest step alone. Both models must give
log-probabilities of given text (hf: or vllm: backends). The conversation scored is the ReAct prompt
the agent itself sees.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from ..llm import make_llm
from ..llm.base import LLM, Message, ModelSpecError
from ..llm.weights import combined
from ..prompts.react import ReActPrompter, format_step, task_message
from ..prompts.trajectory import Trajectory
from .base import RewardModel, RewardModelIdentity


class ImplicitRM(RewardModel):
    kind = "implicit"

    def __init__(
        self,
        policy: str | LLM,
        reference: str | LLM,
        *,
        beta: float = 1.0,
        aggregate: str = "sum",
        example: bool = True,
    ):
        if aggregate not in ("sum", "last"):
            raise ModelSpecError(f"implicit RM aggregate must be 'sum' or 'last', got {aggregate!r}")
        self.policy = make_llm(as_model_spec(policy)) if isinstance(policy, str) else policy
        self.reference = make_llm(as_model_spec(reference)) if isinstance(reference, str) else reference
        for model in (self.policy, self.reference):
            if not model.supports_logprobs:
                raise ModelSpecError(f"the implicit RM needs log-probabilities, which {model.name} models do not give")
        self.beta = beta
        self.aggregate = aggregate
        self.example = bool(example)  # the in-context example in the scored prompt (off for fine-tuned policies)
        self._prompters: dict[str, ReActPrompter] = {}

    def settings(self) -> dict[str, Any]:
        return {
            "kind": "implicit",
            "policy": self.policy.settings(),
            "reference": self.reference.settings(),
            "beta": self.beta,
            "aggregate": self.aggregate,
            **({} if self.example else {"example": False}),
        }

    def identity(self) -> RewardModelIdentity:
        """The policy's base model and size; the digest covers both the policy's and the reference's weights."""
        mine, theirs = self.policy.weights(), self.reference.weights()
        if mine is None:
            return RewardModelIdentity(self.kind)
        digest = combined(mine.sha256, theirs.sha256 if theirs else None)
        return RewardModelIdentity(self.kind, mine.base_model, mine.parameters, digest)

    def conversation(self, trajectory: Trajectory) -> list[Message]:
        if trajectory.task not in self._prompters:
            self._prompters[trajectory.task] = ReActPrompter(trajectory.task, use_example=self.example)
        prompter = self._prompters[trajectory.task]
        messages: list[Message] = [
            {"role": "system", "content": prompter.system},
            {"role": "user", "content": task_message(trajectory)},
        ]
        for k, step in enumerate(trajectory.steps):
            messages.append({"role": "assistant", "content": format_step(step.thought, step.action)})
            if k + 1 < len(trajectory.steps):
                messages.append({"role": "user", "content": f"Observation: {step.observation}"})
        return messages

    async def ascore(self, batch: Sequence[Trajectory]) -> list[float]:
        chats = [self.conversation(t) for t in batch]
        mine, theirs = await asyncio.gather(self.policy.alogprobs(chats), self.reference.alogprobs(chats))
        scores = []
        for ours, ref in zip(mine, theirs, strict=True):
            steps = [sum(a) - sum(b) for a, b in zip(ours, ref, strict=True)]
            if self.aggregate == "last":
                steps = steps[-1:]
            scores.append(self.beta * sum(steps))
        return scores


def as_model_spec(text: str) -> str:
    """A bare path means an hf: model."""
    return text if text.startswith(("hf:", "vllm:", "openai:", "default", "scripted")) else f"hf:{text}"
