"""``explicit:PATH``: a sequence-classification / value-head model, as AgentRM's explicit reward model.

Loaded with transformers from safetensors only, ``trust_remote_code`` off unless asked. The score of a
trajectory is the model's scalar output at the end of the rendered conversation (``num_labels == 1``,
a regression head like AgentRM's); a two-label classifier scores with the probability of label 1.
Conversations longer than the model accepts keep their most recent tokens.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..llm.base import Message, MicroBatcher
from ..llm.chat import render
from ..llm.hf import check_model_dir
from ..llm.threads import passive_threads
from ..llm.weights import folder_weights
from ..prompts.trajectory import Trajectory
from .agentrm_format import conversations
from .base import RewardModel, RewardModelIdentity


def trained_input(folder: Path) -> dict[str, str]:
    """The input template (``template``, ``variant``) ``train rm --kind explicit`` recorded in the folder's
    manifest; empty for a folder it did not write (AgentRM's released checkpoints: their own template)."""
    from ..llm.adapters import training_manifest

    settings = training_manifest(folder, "train rm explicit").get("settings")
    if not isinstance(settings, dict):
        return {}
    return {k: settings[k] for k in ("template", "variant") if isinstance(settings.get(k), str)}


class ExplicitRM(RewardModel):
    kind = "explicit"

    def __init__(
        self,
        path: str | Path,
        *,
        template: str | None = None,
        variant: str | None = None,
        max_turns: int | None = None,
        trust_remote_code: bool = False,
        max_batch: int = 8,
    ):
        self.path = check_model_dir(path)
        trained = trained_input(self.path)  # score in the form the model was trained on, unless told otherwise
        self.template = template or trained.get("template", "agentrm")
        self.variant = variant or trained.get("variant", "wo_turninfo")
        self.max_turns = max_turns
        self.trust_remote_code = trust_remote_code
        self._model: Any = None
        self._tokenizer: Any = None
        self._batcher = MicroBatcher(self._run, max_batch=max_batch)
        self.tokens_in = 0  # tokens read (after truncation to the model's length)

    def settings(self) -> dict[str, Any]:
        return {"kind": "explicit", "model": str(self.path), "template": self.template, "variant": self.variant}

    def identity(self) -> RewardModelIdentity:
        return RewardModelIdentity.of(self.kind, folder_weights(self.path))

    def usage(self) -> dict[str, int]:
        return {"tokens_in": self.tokens_in, "tokens_out": 0}

    def load(self) -> None:
        if self._model is not None:
            return
        passive_threads()
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        options = {"trust_remote_code": self.trust_remote_code, "local_files_only": True}
        self._tokenizer = AutoTokenizer.from_pretrained(self.path, **options)
        self._own_pad = self._tokenizer.pad_token is not None and (
            self._tokenizer.pad_token_id != self._tokenizer.eos_token_id
        )
        if self._tokenizer.pad_token is None:
            self._tokenizer.pad_token = self._tokenizer.eos_token
        self._tokenizer.padding_side = "right"
        from ..llm.adapters import load_model

        self._model = load_model(
            AutoModelForSequenceClassification, self.path, trust_remote_code=self.trust_remote_code
        )
        self._model.config.pad_token_id = self._tokenizer.pad_token_id
        self._model.eval()

    async def ascore(self, batch: Sequence[Trajectory]) -> list[float]:
        self.load()
        chats = conversations(batch, self.template, self.variant, self.max_turns)
        return await self._batcher.submit(chats)

    def _run(self, chats: list[list[Message]]) -> list[float]:
        import torch

        tok, model = self._tokenizer, self._model
        # The last `limit` tokens: the model's context, or the window it was trained on when its tokenizer says
        # one (`train rm` saves it; tokenizers without one say ~1e30).
        limit = int(getattr(model.config, "max_position_embeddings", 0) or 4096)
        if tok.model_max_length and tok.model_max_length < limit:
            limit = int(tok.model_max_length)
        rows = [tok(render(tok, chat, False), add_special_tokens=False)["input_ids"][-limit:] for chat in chats]
        # The model pools at the last token that is not padding; without a padding token of its own
        # (pad == eos) a padded row could be misread, so such a model scores rows one by one.
        self.tokens_in += sum(len(row) for row in rows)
        groups = [rows] if self._own_pad else [[row] for row in rows]
        scores: list[float] = []
        with torch.inference_mode():
            for group in groups:
                width = max(len(r) for r in group)
                ids = torch.full((len(group), width), tok.pad_token_id, dtype=torch.long)
                mask = torch.zeros((len(group), width), dtype=torch.long)
                for k, row in enumerate(group):
                    ids[k, : len(row)] = torch.tensor(row)
                    mask[k, : len(row)] = 1
                logits = model(input_ids=ids, attention_mask=mask).logits.float()
                if logits.shape[-1] == 1:
                    scores.extend(float(v) for v in logits[:, 0])
                else:
                    scores.extend(float(v) for v in torch.softmax(logits, dim=-1)[:, 1])
        return scores
