"""The four built-in reward models as providers: each checks its argument cheaply (a folder exists, the
model specs are valid) and imports its implementation only when it is built."""

from __future__ import annotations

from typing import Any

from ..llm.base import ModelSpecError
from ..providers import provider
from .base import RewardModel


def _check_oracle(argument: str | None) -> None:
    if argument:
        raise ModelSpecError("the oracle reward model takes no argument")


def _explicit_folder(argument: str) -> str:
    """``default`` names the explicit RM shipped with the embedded model (trained for ``default:sft``)."""
    if argument == "default":
        from ..llm import embedded

        return str(embedded.SFT_EXPLICIT_RM)
    return argument


def _check_explicit(argument: str | None) -> None:
    if not argument:
        raise ModelSpecError("explicit: needs the path of a reward-model folder, or default")
    from ..llm.hf import check_model_dir

    check_model_dir(_explicit_folder(argument))


def _check_implicit(argument: str | None) -> None:
    from ..llm import check_spec
    from .implicit import as_model_spec

    parts = [p for p in (argument or "").split(",") if p]
    if len(parts) != 2:
        raise ModelSpecError(f"implicit: takes POLICY,REF (two model specs), got {argument or ''!r}")
    for part in parts:
        check_spec(as_model_spec(part))


def _check_judge(argument: str | None) -> None:
    from ..llm import check_spec

    check_spec(argument or "default")


@provider(
    "explicit",
    usage="explicit:PATH",
    summary="a value-head / sequence-classification model folder (AgentRM's explicit RM); explicit:default is "
    "the one shipped for default:sft",
    requires=("transformers", "torch"),
    extra="hf",
    check=_check_explicit,
)
def explicit(argument: str, **options: Any) -> RewardModel:
    from .explicit import ExplicitRM

    return ExplicitRM(_explicit_folder(argument), **options)


@provider(
    "implicit",
    usage="implicit:POLICY,REF",
    summary="beta x sum of log pi - log pi_ref (each a model spec; a bare path = hf:)",
    check=_check_implicit,
)
def implicit(argument: str, **options: Any) -> RewardModel:
    from .implicit import ImplicitRM

    policy, reference = (p for p in argument.split(",") if p)
    return ImplicitRM(policy, reference, **options)


@provider("judge", usage="judge:MODEL", summary="an LLM-as-a-judge (MODEL is a model spec)", check=_check_judge)
def judge(argument: str | None, **options: Any) -> RewardModel:
    from .judge import JudgeRM

    return JudgeRM(argument or "default", **options)


@provider("oracle", summary="the environment's own progress: an upper bound, labelled as such", check=_check_oracle)
def oracle(argument: str | None, **options: Any) -> RewardModel:
    from .oracle import OracleRM

    return OracleRM(**options)
