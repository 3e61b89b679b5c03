"""``agentrm-bench train rm --kind explicit``: AgentRM's explicit reward model, a value head on a backbone,
regressed (MSE) on the MCTS values of partial trajectories.

Input: ``values.jsonl`` of ``collect mcts`` (or its folder). Each row is rendered exactly as
:class:`~agentrm_bench.rewards.explicit.ExplicitRM` renders what it scores -- by default AgentRM's own
input template (the task's PRM instruction from the data layer, then the trajectory as a chat) -- and
the head reads the last token. The backbone is the base model (``default``; AgentRM trains its RM from
the policy's base LLM), with LoRA and a fresh one-output head; the folder written to ``--out`` is what
``--rm explicit:OUT`` loads. Rows are split by instance into train and held-out parts (``--holdout``),
and the manifest reports the held-out MSE and pairwise ranking accuracy: the evidence of whether the
RM learnt anything.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from ..llm.chat import render
from ..rewards.agentrm_format import conversations
from . import artifacts, loop, models
from .chat_format import trajectory_from_json
from .collect_mcts import VALUES


def values_file(path: Path) -> Path:
    path = Path(path)
    if path.is_dir():
        path = path / VALUES
    if not path.is_file():
        raise artifacts.TrainingError(f"{path}: no MCTS values (make them with: agentrm-bench collect mcts)")
    return path


def split_by_instance(rows: list[dict[str, Any]], holdout: float, seed: int) -> tuple[list[Any], list[Any]]:
    """Train and held-out rows, never the same instance in both."""
    instances = sorted({(r["task"], r["index"]) for r in rows})
    random.Random(seed).shuffle(instances)
    count = int(round(holdout * len(instances))) if len(instances) > 1 else 0
    held = set(instances[:count])
    return [r for r in rows if (r["task"], r["index"]) not in held], [
        r for r in rows if (r["task"], r["index"]) in held
    ]


def train_explicit(
    data: Path,
    out: Path,
    *,
    base: str = "default",
    schedule: loop.Schedule | None = None,
    lora_r: int = 16,
    template: str = "agentrm",
    variant: str = "wo_turninfo",
    holdout: float = 0.2,
    max_length: int = 1024,
    device: str = "auto",
    show_progress: bool = True,
) -> dict[str, Any]:
    schedule = schedule or loop.Schedule(epochs=2, batch_size=4, lr=1e-4)
    source = values_file(data)
    settings = {
        "kind": "explicit",
        "base": base,
        "schedule": schedule.to_json(),
        "lora_r": lora_r,
        "template": template,
        "variant": variant,
        "holdout": holdout,
        "max_length": max_length,
        "loss": "mse on MCTS values",
    }
    artifacts.start(out, "train rm explicit", settings, inputs={"values": source})
    done = artifacts.read_manifest(out)["outputs"]
    if done.get("model"):
        return done
    rows = artifacts.read_jsonl(source)
    train_rows, held_rows = split_by_instance(rows, holdout, schedule.seed)
    folder, base_ref = models.base_folder(base)
    torch_device, dtype = models.device_and_dtype(device)
    tokenizer = models.load_tokenizer(folder)
    model = models.load_classifier(folder, dtype).to(torch_device)
    model.config.pad_token_id = tokenizer.pad_token_id
    if lora_r > 0:
        model = models.add_lora(model, lora_r, 2 * lora_r, 0.05, "SEQ_CLS", schedule.seed)

    def encode(row: dict[str, Any]) -> tuple[list[int], float]:
        [chat] = conversations([trajectory_from_json(row)], template, variant)
        ids = tokenizer(render(tokenizer, chat, False), add_special_tokens=False)["input_ids"][-max_length:]
        return ids, float(row["value"])

    examples = [encode(r) for r in train_rows]
    held = [encode(r) for r in held_rows]

    def loss_of(model: Any, batch: list[tuple[list[int], float]]) -> Any:
        import torch

        predicted = scores(model, [ids for ids, _ in batch], tokenizer.pad_token_id, torch_device)
        target = torch.tensor([v for _, v in batch], dtype=predicted.dtype, device=predicted.device)
        return torch.nn.functional.mse_loss(predicted, target)

    stats = loop.train(
        model,
        examples,
        [len(i) for i, _ in examples],
        loss_of,
        out,
        schedule,
        desc="explicit rm",
        show_progress=show_progress,
    )
    # The RM reads at scoring time the window it was trained on: its last max_length tokens (ExplicitRM's limit).
    tokenizer.model_max_length = max_length
    models.write_into(model, tokenizer, out, base_ref, num_labels=1)
    outputs = {
        "model": models.describe(out),
        **models.parameter_count(model),
        "train_rows": len(examples),
        "heldout_rows": len(held),
        "heldout": evaluate(model, held, tokenizer.pad_token_id, torch_device),
        "train_fit": evaluate(model, examples[:200], tokenizer.pad_token_id, torch_device),
        "device": str(torch_device),
        "training": stats,
        "rm_spec": f"explicit:{out}",
    }
    loop.drop_checkpoint(out)
    artifacts.finish(out, outputs)
    return outputs


def scores(model: Any, rows: list[list[int]], pad: int, device: Any) -> Any:
    """The head's output at each row's last token (right padding; pooled by position, not by pad id)."""
    import torch

    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for k, row in enumerate(rows):
        ids[k, : len(row)] = torch.tensor(row)
        mask[k, : len(row)] = 1
    ids, mask = ids.to(device), mask.to(device)
    backbone = _backbone(model)
    hidden = backbone(input_ids=ids, attention_mask=mask, use_cache=False).last_hidden_state
    last = hidden[torch.arange(len(rows), device=device), mask.sum(-1) - 1]
    return _head(model)(last).float()[:, 0]


def _backbone(model: Any) -> Any:
    inner = model.get_base_model() if hasattr(model, "get_base_model") else model
    return getattr(inner, inner.base_model_prefix)


def _head(model: Any) -> Any:
    inner = model.get_base_model() if hasattr(model, "get_base_model") else model
    return inner.score


def evaluate(model: Any, rows: list[tuple[list[int], float]], pad: int, device: Any) -> dict[str, Any]:
    """MSE and pairwise accuracy (pairs with different values: is the higher-valued one scored higher?)."""
    import torch

    if not rows:
        return {"rows": 0}
    predicted: list[float] = []
    with torch.inference_mode():
        for k in range(0, len(rows), 8):
            predicted.extend(float(v) for v in scores(model, [ids for ids, _ in rows[k : k + 8]], pad, device))
    target = [v for _, v in rows]
    mse = sum((p - t) ** 2 for p, t in zip(predicted, target, strict=True)) / len(rows)
    right = total = 0
    for i in range(len(rows)):
        for j in range(i + 1, len(rows)):
            if target[i] != target[j]:
                total += 1
                right += (predicted[i] > predicted[j]) == (target[i] > target[j])
    return {"rows": len(rows), "mse": round(mse, 5), "pairwise_accuracy": round(right / total, 4) if total else None}
