"""Reward models (DESIGN.md section 4), named by a spec string:

=================================  ====================================================================
``explicit:PATH``                  a value-head / sequence-classification model (AgentRM's explicit RM)
``implicit:POLICY,REF``            beta x sum of log pi - log pi_ref (each a model spec; a bare path = hf:)
``judge:MODEL``                    an LLM-as-a-judge (MODEL is a model spec, e.g. ``judge:default``)
``oracle``                         the environment's own progress: an upper bound, labelled as such
=================================  ====================================================================

The judge rates each trajectory alone by default; ``--policy-arg 'rm_options={"mode": "rank"}'`` makes
it rank the candidates of a search step side by side instead.
"""

from __future__ import annotations

from typing import Any

from ..llm.base import ModelSpecError
from .base import RewardModel

KINDS = ("explicit", "implicit", "judge", "oracle")


def check_spec(spec: str) -> None:
    """Validate ``spec`` without loading a model."""
    from ..llm import check_spec as check_model
    from ..llm.hf import check_model_dir
    from .implicit import _as_spec

    kind, _, rest = spec.partition(":")
    if kind not in KINDS:
        raise ModelSpecError(
            f"unknown reward model {spec!r}: use explicit:PATH, implicit:POLICY,REF, judge:MODEL or oracle"
        )
    if kind == "oracle":
        if rest:
            raise ModelSpecError("the oracle reward model takes no argument")
    elif kind == "explicit":
        if not rest:
            raise ModelSpecError("explicit: needs the path of a reward-model folder")
        check_model_dir(rest)
    elif kind == "implicit":
        parts = [p for p in rest.split(",") if p]
        if len(parts) != 2:
            raise ModelSpecError(f"implicit: takes POLICY,REF (two model specs), got {rest!r}")
        for part in parts:
            check_model(_as_spec(part))
    else:
        check_model(rest or "default")


def make_rm(spec: str, **options: Any) -> RewardModel:
    """The reward model named by ``spec``; ``options`` go to its constructor."""
    check_spec(spec)
    kind, _, rest = spec.partition(":")
    if kind == "oracle":
        from .oracle import OracleRM

        return OracleRM()
    if kind == "explicit":
        from .explicit import ExplicitRM

        return ExplicitRM(rest, **options)
    if kind == "implicit":
        from .implicit import ImplicitRM

        policy, reference = (p for p in rest.split(",") if p)
        return ImplicitRM(policy, reference, **options)
    from .judge import JudgeRM

    return JudgeRM(rest or "default", **options)


__all__ = ["KINDS", "RewardModel", "check_spec", "make_rm"]
