"""LoRA adapter folders as models: ``hf:PATH`` and ``explicit:PATH`` load them like full checkpoints.

Fine-tuning here writes small LoRA adapters (``agentrm-bench train policy`` / ``train rm``), not 540 MB
copies of the base model. An adapter folder holds PEFT's ``adapter_config.json`` and
``adapter_model.safetensors``, the tokenizer, and ``agentrm_base.json`` naming its base: ``"default"``
(the embedded model, wherever this user's cache converted it), or a folder -- absolute, or relative to
the adapter folder -- that may itself be an adapter (an implicit reward model is an adapter over the
fine-tuned policy, itself an adapter over the embedded model). Loading merges the chain into plain
weights, so inference costs what the base model costs.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .base import ModelSpecError

ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = "adapter_model.safetensors"
BASE_FILE = "agentrm_base.json"
MAX_CHAIN = 8  # adapters over adapters; more is a loop


def is_adapter(folder: str | Path) -> bool:
    return (Path(folder) / ADAPTER_CONFIG).is_file()


def base_reference(folder: str | Path) -> str:
    """What the adapter was trained on, as written: ``default`` or a folder path."""
    folder = Path(folder)
    marker = folder / BASE_FILE
    if marker.is_file():
        return str(json.loads(marker.read_text())["base"])
    config = json.loads((folder / ADAPTER_CONFIG).read_text())
    base = config.get("base_model_name_or_path")
    if not base:
        raise ModelSpecError(f"{folder}: the adapter names no base model ({BASE_FILE} or base_model_name_or_path)")
    return str(base)


def base_folder(folder: str | Path, prepare: bool = False) -> Path:
    """The base model's folder; ``prepare`` converts the embedded model if that is the base."""
    reference = base_reference(folder)
    if reference == "default":
        from . import embedded

        embedded.check_available()
        return embedded.ensure_converted() if prepare else embedded.converted_dir()
    path = Path(reference).expanduser()
    return path if path.is_absolute() else (Path(folder) / path).resolve()


def check_adapter(folder: Path, depth: int = 0) -> None:
    """An adapter folder whose weights and base chain are present, or a :class:`ModelSpecError`."""
    if depth >= MAX_CHAIN:
        raise ModelSpecError(f"{folder}: adapters over adapters go more than {MAX_CHAIN} deep (a loop?)")
    if not (folder / ADAPTER_WEIGHTS).is_file():
        raise ModelSpecError(f"{folder} has {ADAPTER_CONFIG} but no {ADAPTER_WEIGHTS}")
    import importlib.util

    if importlib.util.find_spec("peft") is None:
        raise ModelSpecError(f"{folder} is a LoRA adapter; loading it needs peft: pip install 'agentrm-bench[train]'")
    if base_reference(folder) == "default":
        base_folder(folder)  # the embedded model must be installable
        return
    base = base_folder(folder)
    if not base.is_dir():
        raise ModelSpecError(f"{folder}: its base model folder {base} does not exist")
    if is_adapter(base):
        check_adapter(base, depth + 1)
    elif not (base / "config.json").is_file():
        raise ModelSpecError(f"{folder}: its base {base} is not a transformers model folder")


def load_model(auto_class: Any, folder: str | Path, **kwargs: Any) -> Any:
    """``auto_class.from_pretrained(folder)``, or for an adapter: its base chain loaded and merged.

    An adapter's base is always loaded as the class the adapter was trained on (its PEFT task type: a
    causal LM for policies, a sequence classifier for value heads); only the last link is ``auto_class``.
    """
    folder = Path(folder)
    if not is_adapter(folder):
        return auto_class.from_pretrained(folder, use_safetensors=True, local_files_only=True, **kwargs)
    from peft import PeftModel

    kwargs = {**kwargs, **_head_settings(folder)}
    base_path = base_folder(folder, prepare=True)
    if is_adapter(base_path):
        from transformers import AutoModelForCausalLM

        base = load_model(AutoModelForCausalLM, base_path, **kwargs)
        if auto_class is not AutoModelForCausalLM:
            base = _rebuild_as(auto_class, base, kwargs)
    else:
        with _quiet_if_the_adapter_brings_the_head(folder):
            base = auto_class.from_pretrained(base_path, use_safetensors=True, local_files_only=True, **kwargs)
    model = PeftModel.from_pretrained(base, folder, is_trainable=False)
    return model.merge_and_unload()


@contextlib.contextmanager
def _quiet_if_the_adapter_brings_the_head(folder: Path) -> Iterator[None]:
    """Silence transformers' load report while a value head's base is built from a causal LM: the report
    says the head (``score``) is "MISSING ... newly initialized ... consider training", which reads as an
    untrained reward model in every run's output, yet the adapter saved that head (``modules_to_save``)
    and loads it next. Load errors still raise; other folders keep the report."""
    if "score" not in (json.loads((folder / ADAPTER_CONFIG).read_text()).get("modules_to_save") or []):
        yield
        return
    from transformers.utils import logging as transformers_logging

    verbosity = transformers_logging.get_verbosity()
    transformers_logging.set_verbosity_error()
    try:
        yield
    finally:
        transformers_logging.set_verbosity(verbosity)


def _head_settings(folder: Path) -> dict[str, Any]:
    """Settings the base must be built with for the adapter to fit (a value head's ``num_labels``)."""
    marker = folder / BASE_FILE
    if not marker.is_file():
        return {}
    head = json.loads(marker.read_text()).get("num_labels")
    return {"num_labels": int(head)} if head is not None else {}


def training_manifest(folder: str | Path, command: str) -> dict[str, Any]:
    """The manifest ``command`` (``train policy``, ``train rm explicit``, ...) wrote in ``folder``; empty
    when the folder holds none, or another command's."""
    try:
        row = json.loads((Path(folder) / "manifest.json").read_text())
    except (OSError, ValueError):
        return {}
    return row if isinstance(row, dict) and row.get("command") == command else {}


def trained_prompt(folder: str | Path) -> dict[str, Any]:
    """The prompt settings (``example``, ``history``) a policy in ``folder`` was fine-tuned on, as ``train
    policy`` recorded them in its manifest; empty for any other folder. A fine-tuned policy prompted
    otherwise (an in-context example it never saw, a longer history) is run off its training distribution."""
    found = (training_manifest(folder, "train policy").get("outputs") or {}).get("policy_args")
    return {k: v for k, v in found.items() if k in ("example", "history")} if isinstance(found, dict) else {}


def write_base(folder: str | Path, base: str, num_labels: int | None = None) -> None:
    """Record an adapter's base (``default`` or a folder) beside its weights."""
    row: dict[str, Any] = {"base": base}
    if num_labels is not None:
        row["num_labels"] = num_labels
    (Path(folder) / BASE_FILE).write_text(json.dumps(row, indent=2) + "\n")


def _rebuild_as(auto_class: Any, causal: Any, kwargs: dict[str, Any]) -> Any:
    """A model of ``auto_class`` whose backbone takes ``causal``'s (merged) weights."""
    config = causal.config
    for key in ("num_labels",):
        if key in kwargs:
            setattr(config, key, kwargs[key])
    model = auto_class.from_config(config, dtype=causal.dtype)
    backbone = causal.base_model_prefix
    getattr(model, backbone).load_state_dict(getattr(causal, backbone).state_dict())
    return model
