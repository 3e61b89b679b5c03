"""Loading a base model to train, wrapping it with LoRA, and saving what ``hf:`` / ``explicit:`` load.

Training starts from a model spec: ``default`` (the embedded SmolLM2-135M-Instruct, converted once into
the user cache), ``hf:PATH`` or a bare folder -- a full checkpoint or one of our adapters, whose chain
is merged first. The device decides the precision: bf16 on a GPU that supports it, else fp32 (CPUs
train small models fastest and most safely in fp32).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..llm.adapters import write_base
from .artifacts import TrainingError

LORA_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def device_and_dtype(requested: str = "auto") -> tuple[Any, Any]:
    import torch

    if requested not in ("auto", "cpu", "cuda"):
        raise TrainingError(f"--device takes auto, cpu or cuda, got {requested!r}")
    use_cuda = torch.cuda.is_available() and requested != "cpu"
    if requested == "cuda" and not torch.cuda.is_available():
        raise TrainingError("--device cuda: no CUDA device here")
    if use_cuda:
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float32
        return torch.device("cuda"), dtype
    return torch.device("cpu"), torch.float32


def base_folder(spec: str) -> tuple[Path, str]:
    """(folder to load, reference an adapter records as its base) for a model spec."""
    from ..llm import embedded
    from ..llm.base import ModelSpecError
    from ..llm.hf import check_model_dir

    try:
        if spec in ("default", ""):
            embedded.check_available()
            return embedded.ensure_converted(), "default"
        path = spec[3:] if spec.startswith("hf:") else spec
        folder = check_model_dir(path).resolve()
    except ModelSpecError as exc:
        raise TrainingError(str(exc)) from None
    return folder, str(folder)


def load_tokenizer(folder: Path) -> Any:
    from transformers import AutoTokenizer

    from ..llm.adapters import base_folder as adapter_base
    from ..llm.adapters import is_adapter

    while is_adapter(folder) and not (folder / "tokenizer_config.json").is_file():
        folder = adapter_base(folder, prepare=True)
    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_causal_lm(folder: Path, dtype: Any) -> Any:
    from transformers import AutoModelForCausalLM

    from ..llm.adapters import load_model
    from ..llm.threads import passive_threads

    passive_threads()
    return load_model(AutoModelForCausalLM, folder, dtype=dtype)


def load_classifier(folder: Path, dtype: Any) -> Any:
    """A sequence classifier with one output (a value head) on ``folder``'s backbone (head initialised)."""
    from transformers import AutoModelForSequenceClassification

    from ..llm.adapters import load_model
    from ..llm.threads import passive_threads

    passive_threads()
    return load_model(AutoModelForSequenceClassification, folder, dtype=dtype, num_labels=1)


def add_lora(model: Any, rank: int, alpha: float, dropout: float, task_type: str, seed: int = 0) -> Any:
    """LoRA on every attention and MLP projection (and, for a classifier, a trained head); seeded init."""
    import torch
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(seed)

    present = {name.rsplit(".", 1)[-1] for name, _ in model.named_modules()}
    targets = [t for t in LORA_TARGETS if t in present]
    if not targets:
        raise TrainingError(f"the model has none of the LoRA target layers {LORA_TARGETS}")
    config = LoraConfig(
        r=rank,
        lora_alpha=alpha,
        lora_dropout=dropout,
        target_modules=targets,
        task_type=task_type,
        modules_to_save=["score"] if task_type == "SEQ_CLS" else None,
    )
    return get_peft_model(model, config)


def save(
    model: Any, tokenizer: Any, folder: Path, base: str, *, num_labels: int | None = None, dtype: str = "bfloat16"
) -> None:
    """Write a loadable folder: our adapter (LoRA weights cast to ``dtype`` to stay small) or a full model."""
    import torch

    folder.mkdir(parents=True, exist_ok=True)
    if hasattr(model, "peft_config"):
        from peft import get_peft_model_state_dict
        from safetensors.torch import save_file

        model.peft_config["default"].base_model_name_or_path = base
        model.peft_config["default"].save_pretrained(folder)
        # embeddings are never trained here; "auto" would look the base's config up on a hub
        weights = get_peft_model_state_dict(model, save_embedding_layers=False)
        cast = getattr(torch, dtype)
        save_file(
            {k: v.detach().to(cast).contiguous().cpu() for k, v in weights.items()},
            folder / "adapter_model.safetensors",
        )
        write_base(folder, base, num_labels)
    else:
        model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)


def write_into(model: Any, tokenizer: Any, out: Path, base: str, *, num_labels: int | None = None) -> None:
    """:func:`save` into the command's output folder: files written aside, renamed in, the config last
    (a folder is taken for a model only once its config is there)."""
    import os

    from .artifacts import scratch_folder

    scratch = scratch_folder(out / "model")
    save(model, tokenizer, scratch, base, num_labels=num_labels)
    names = sorted(p.name for p in scratch.iterdir())
    last = [n for n in names if n in ("adapter_config.json", "config.json")]
    for name in [n for n in names if n not in last] + last:
        (scratch / name).chmod(0o644)  # readable like any model folder (the scratch folder is private)
        os.replace(scratch / name, out / name)
    scratch.rmdir()


def parameter_count(model: Any) -> dict[str, int]:
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return {"parameters": int(total), "trainable": int(trainable)}


def describe(folder: Path) -> dict[str, Any]:
    """What a saved folder is, for manifests and reports."""
    files = {p.name: p.stat().st_size for p in folder.iterdir() if p.is_file()}
    adapter = (folder / "adapter_config.json").is_file()
    info: dict[str, Any] = {"adapter": adapter, "bytes": sum(files.values())}
    if adapter:
        info["adapter_bytes"] = files.get("adapter_model.safetensors", 0)
        info["base"] = json.loads((folder / "agentrm_base.json").read_text())["base"]
    return info
