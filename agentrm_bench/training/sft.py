"""``agentrm-bench train policy``: supervised fine-tuning on expert samples, loss on the replies only.

Input: ``sft.jsonl`` of ``collect expert`` (or its folder). The base is a model spec (``default`` = the
embedded SmolLM2-135M-Instruct). By default a LoRA adapter is trained (``--lora-r 0``: every weight) and
saved in ``--out`` itself, so ``--model hf:OUT`` runs the fine-tuned policy (with the prompt settings
the data was made with: ``--policy-arg example=false --policy-arg history=H``, written in the manifest
as ``policy_args``). Resumable from ``OUT/checkpoint``; a finished folder is left as it is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import artifacts, loop, models
from .collect_expert import SFT
from .encode import Encoded, prompt_completion, token_logprobs


def data_file(path: Path) -> Path:
    path = Path(path)
    if path.is_dir():
        path = path / SFT
    if not path.is_file():
        raise artifacts.TrainingError(f"{path}: no SFT data (make it with: agentrm-bench collect expert)")
    return path


def train_policy(
    data: Path,
    out: Path,
    *,
    base: str = "default",
    schedule: loop.Schedule | None = None,
    lora_r: int = 16,
    lora_alpha: float | None = None,
    max_length: int = 1024,
    device: str = "auto",
    show_progress: bool = True,
) -> dict[str, Any]:
    schedule = schedule or loop.Schedule(epochs=2, batch_size=4, lr=2e-4)
    source = data_file(data)
    settings = {
        "base": base,
        "schedule": schedule.to_json(),
        "lora_r": lora_r,
        "lora_alpha": lora_alpha or 2 * lora_r,
        "max_length": max_length,
        "loss": "completion tokens only",
    }
    artifacts.start(out, "train policy", settings, inputs={"data": source})
    done = artifacts.read_manifest(out)["outputs"]
    if done.get("model"):
        return done
    rows = artifacts.read_jsonl(source)
    folder, base_ref = models.base_folder(base)
    torch_device, dtype = models.device_and_dtype(device)
    tokenizer = models.load_tokenizer(folder)
    model = models.load_causal_lm(folder, dtype).to(torch_device)
    if lora_r > 0:
        model = models.add_lora(model, lora_r, lora_alpha or 2 * lora_r, 0.05, "CAUSAL_LM", schedule.seed)
    examples = [prompt_completion(tokenizer, row["prompt"], row["completion"]) for row in rows]
    too_long = sum(len(e.ids) > max_length for e in examples)
    examples = [e for e in examples if len(e.ids) <= max_length]
    pad = tokenizer.pad_token_id

    def loss_of(model: Any, batch: list[Encoded]) -> Any:
        import torch

        groups = token_logprobs(_on(model, torch_device), batch, pad)
        values = torch.cat([g for row in groups for g in row])
        return -values.mean()

    stats = loop.train(
        model, examples, [len(e.ids) for e in examples], loss_of, out, schedule, desc="sft", show_progress=show_progress
    )
    models.write_into(model, tokenizer, out, base_ref)
    history = _prompt_settings(source)
    outputs = {
        "model": models.describe(out),
        **models.parameter_count(model),
        "dropped_too_long": too_long,
        "device": str(torch_device),
        "dtype": str(dtype).replace("torch.", ""),
        "policy_args": history,
        "training": stats,
    }
    loop.drop_checkpoint(out)
    artifacts.finish(out, outputs)
    return outputs


def _on(model: Any, device: Any) -> Any:
    """The model, with batches moved to ``device`` by the caller of its forward (see token_logprobs)."""
    if str(device) == "cpu":
        return model

    class OnDevice:
        def __call__(self, **kwargs: Any) -> Any:
            return model(**{k: v.to(device) if hasattr(v, "to") else v for k, v in kwargs.items()})

    return OnDevice()


def _prompt_settings(source: Path) -> dict[str, Any]:
    """The ``--policy-arg`` settings of the prompts the samples were made with (collect expert's manifest)."""
    from .chat_format import DEFAULT_HISTORY, policy_args

    manifest = source.parent / artifacts.MANIFEST
    if manifest.is_file():
        import json

        return policy_args(json.loads(manifest.read_text())["settings"].get("history"))
    return policy_args(DEFAULT_HISTORY)
