"""Chat samples as token ids with the positions the loss reads, and batched log-probabilities.

Prompts are rendered with the model's own chat template exactly as the backends render them at run
time (:func:`agentrm_bench.llm.chat.render`), so what a model is trained on is what it later sees.
Batches are left-padded: every row's tail (the completion, or the trajectory's assistant turns) ends
at the same column, and the language-model head runs only on the columns a loss needs -- on a 49k
vocabulary that head is a third of a small model's compute.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..llm.base import Message
from ..llm.chat import assistant_token_positions, render
from .artifacts import TrainingError


@dataclass(frozen=True)
class Encoded:
    ids: tuple[int, ...]
    targets: tuple[tuple[int, ...], ...]  # per scored message, the positions of its tokens in ``ids``

    @property
    def first_target(self) -> int:
        return min((group[0] for group in self.targets if group), default=len(self.ids))


def prompt_completion(tokenizer: Any, prompt: Sequence[Message], completion: Sequence[Message]) -> Encoded:
    """The prompt as the backend would send it, then the completion's tokens (its end-of-turn included)."""
    head = render(tokenizer, prompt, add_generation_prompt=True)
    full = render(tokenizer, [*prompt, *completion], add_generation_prompt=False)
    if not full.startswith(head):
        raise TrainingError("the model's chat template does not render a prompt as a prefix of its conversation")
    prompt_ids = tokenizer(head, add_special_tokens=False)["input_ids"]
    reply_ids = tokenizer(full[len(head) :], add_special_tokens=False)["input_ids"]
    ids = (*prompt_ids, *reply_ids)
    return Encoded(ids, (tuple(range(len(prompt_ids), len(ids))),))


def assistant_turns(tokenizer: Any, conversation: Sequence[Message]) -> Encoded:
    """A whole conversation; the tokens of each assistant message are scored (implicit reward model)."""
    ids, positions = assistant_token_positions(tokenizer, conversation)
    return Encoded(tuple(ids), tuple(tuple(group) for group in positions))


def left_pad(rows: Sequence[Sequence[int]], pad: int) -> tuple[Any, Any, Any]:
    """(ids, attention mask, position ids), left-padded to the longest row."""
    import torch

    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for k, row in enumerate(rows):
        ids[k, width - len(row) :] = torch.tensor(row, dtype=torch.long)
        mask[k, width - len(row) :] = 1
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    return ids, mask, positions


def token_logprobs(model: Any, batch: Sequence[Encoded], pad: int) -> list[list[Any]]:
    """For each row, per scored message, the tensor of log-probabilities of its tokens (differentiable)."""
    import torch

    ids, mask, positions = left_pad([e.ids for e in batch], pad)
    width = ids.shape[1]
    # column of token p of row k after left padding: p + offset_k; its logit sits one column earlier
    offsets = [width - len(e.ids) for e in batch]
    first = min(e.first_target + off for e, off in zip(batch, offsets, strict=True))
    keep = width - first + 1
    out = model(input_ids=ids, attention_mask=mask, position_ids=positions, logits_to_keep=keep, use_cache=False)
    logp = torch.log_softmax(out.logits.float(), dim=-1)  # columns width-keep .. width-1
    base = width - keep
    result = []
    for k, (encoded, off) in enumerate(zip(batch, offsets, strict=True)):
        groups = []
        for group in encoded.targets:
            if not group:
                groups.append(logp.new_zeros(0))
                continue
            cols = torch.tensor([p + off - 1 - base for p in group])
            tokens = ids[k, torch.tensor([p + off for p in group])]
            groups.append(logp[k, cols, tokens])
        result.append(groups)
    return result
