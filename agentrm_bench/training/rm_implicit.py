"""``agentrm-bench train rm --kind implicit``: the implicit process reward model of AgentRM (after PRIME,
"Free process rewards without process labels"): an outcome reward model parameterised as
r(trajectory) = beta * sum over its tokens of log pi(a|s) - log pi_ref(a|s), trained with binary
cross-entropy on outcome labels (did the rollout succeed?). Once trained, the same log-ratio summed over
one step's tokens is that step's process reward, which is what ``--rm implicit:POLICY,REF`` computes.

pi starts as the reference, the fine-tuned policy (``--policy``), with a new LoRA on top; pi_ref is that
policy unchanged (the LoRA switched off). The conversations are exactly those
:class:`~agentrm_bench.rewards.implicit.ImplicitRM` scores (our ReAct prompt; ``example`` as set). The
folder written to ``--out`` is an adapter over the policy folder; the manifest names the spec to use:
``implicit:hf:OUT,hf:POLICY``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..rewards.implicit import ImplicitRM
from . import artifacts, loop, models
from .chat_format import trajectory_from_json
from .collect_mcts import OUTCOMES
from .encode import Encoded, assistant_turns, token_logprobs
from .rm_explicit import split_by_instance


def outcomes_file(path: Path) -> Path:
    path = Path(path)
    if path.is_dir():
        path = path / OUTCOMES
    if not path.is_file():
        raise artifacts.TrainingError(
            f"{path}: no outcome-labelled rollouts (make them with: agentrm-bench collect mcts)"
        )
    return path


class _Conversations(ImplicitRM):
    """ImplicitRM's own conversation builder, without loading its two models."""

    def __init__(self, example: bool):  # noqa: D107 - only the prompt settings are needed
        self.example = example
        self._prompters = {}


def train_implicit(
    data: Path,
    out: Path,
    *,
    policy: str,
    schedule: loop.Schedule | None = None,
    lora_r: int = 16,
    beta: float = 0.05,
    example: bool = False,
    holdout: float = 0.2,
    max_length: int = 2048,
    device: str = "auto",
    show_progress: bool = True,
) -> dict[str, Any]:
    schedule = schedule or loop.Schedule(epochs=2, batch_size=2, lr=1e-4)
    source = outcomes_file(data)
    folder, policy_ref = models.base_folder(policy)
    settings = {
        "kind": "implicit",
        "policy": policy,
        "schedule": schedule.to_json(),
        "lora_r": lora_r,
        "beta": beta,
        "example": example,
        "holdout": holdout,
        "max_length": max_length,
        "loss": "bce of beta*log(pi/pi_ref) on outcome labels",
    }
    artifacts.start(out, "train rm implicit", settings, inputs={"outcomes": source, "policy": folder})
    done = artifacts.read_manifest(out)["outputs"]
    if done.get("model"):
        return done
    rows = artifacts.read_jsonl(source)
    train_rows, held_rows = split_by_instance(rows, holdout, schedule.seed)
    torch_device, dtype = models.device_and_dtype(device)
    tokenizer = models.load_tokenizer(folder)
    model = models.load_causal_lm(folder, dtype).to(torch_device)
    model = models.add_lora(model, lora_r, 2 * lora_r, 0.0, "CAUSAL_LM", schedule.seed)
    builder = _Conversations(example)

    def encode(row: dict[str, Any]) -> tuple[Encoded, float]:
        return assistant_turns(tokenizer, builder.conversation(trajectory_from_json(row))), float(bool(row["success"]))

    examples = [e for e in (encode(r) for r in train_rows) if len(e[0].ids) <= max_length]
    held = [e for e in (encode(r) for r in held_rows) if len(e[0].ids) <= max_length]
    pad = tokenizer.pad_token_id

    def loss_of(model: Any, batch: list[tuple[Encoded, float]]) -> Any:
        import torch

        reward = log_ratio(model, [e for e, _ in batch], pad, torch_device) * beta
        labels = torch.tensor([y for _, y in batch], dtype=reward.dtype, device=reward.device)
        return torch.nn.functional.binary_cross_entropy_with_logits(reward, labels)

    stats = loop.train(
        model,
        examples,
        [len(e.ids) for e, _ in examples],
        loss_of,
        out,
        schedule,
        desc="implicit rm",
        show_progress=show_progress,
    )
    models.write_into(model, tokenizer, out, policy_ref)
    outputs = {
        "model": models.describe(out),
        **models.parameter_count(model),
        "train_rows": len(examples),
        "heldout_rows": len(held),
        "train_success_rate": round(sum(y for _, y in examples) / len(examples), 4) if examples else None,
        "heldout": evaluate(model, held, pad, torch_device, beta),
        "device": str(torch_device),
        "training": stats,
        "rm_spec": f"implicit:hf:{out},hf:{folder}",
        "rm_options": {"example": example} if not example else {},
    }
    loop.drop_checkpoint(out)
    artifacts.finish(out, outputs)
    return outputs


def log_ratio(model: Any, batch: list[Encoded], pad: int, device: Any) -> Any:
    """Sum over all assistant tokens of log pi - log pi_ref, per row (pi_ref: the adapter switched off)."""
    import torch

    from .sft import _on

    mine = token_logprobs(_on(model, device), batch, pad)
    with torch.no_grad(), model.disable_adapter():
        theirs = token_logprobs(_on(model, device), batch, pad)
    return torch.stack(
        [sum(g.sum() for g in a) - sum(g.sum() for g in b) for a, b in zip(mine, theirs, strict=True)]
    ).float()


def evaluate(model: Any, rows: list[tuple[Encoded, float]], pad: int, device: Any, beta: float) -> dict[str, Any]:
    """Held-out accuracy of the sign of the reward, and pairwise accuracy (success scored above failure)."""
    import torch

    if not rows:
        return {"rows": 0}
    rewards: list[float] = []
    with torch.inference_mode():
        for k in range(0, len(rows), 4):
            rewards.extend(float(v) * beta for v in log_ratio(model, [e for e, _ in rows[k : k + 4]], pad, device))
    labels = [y for _, y in rows]
    good = [r for r, y in zip(rewards, labels, strict=True) if y]
    bad = [r for r, y in zip(rewards, labels, strict=True) if not y]
    pairs = [(g > b) + 0.5 * (g == b) for g in good for b in bad]
    return {
        "rows": len(rows),
        "sign_accuracy": round(sum((r > 0) == bool(y) for r, y in zip(rewards, labels, strict=True)) / len(rows), 4),
        "pairwise_accuracy": round(sum(pairs) / len(pairs), 4) if pairs else None,
    }
