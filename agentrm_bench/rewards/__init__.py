"""Reward models, named by a spec string ``NAME[:ARG]``; the built-in ones are

=================================  ====================================================================
``explicit:PATH``                  a value-head / sequence-classification model (AgentRM's explicit RM)
``implicit:POLICY,REF``            beta x sum of log pi - log pi_ref (each a model spec; a bare path = hf:)
``judge:MODEL``                    an LLM-as-a-judge (MODEL is a model spec, e.g. ``judge:default``)
``oracle``                         the environment's own progress: an upper bound, labelled as such
=================================  ====================================================================

Any other reward model implements :class:`RewardModel` (see :mod:`.base` for the contract) and is named
``package.module:attribute[:ARG]``, added with :func:`register`, or shipped as its own pip package through
the entry-point group ``agentrm_bench.reward_models``. A name resolves to a provider
(:mod:`agentrm_bench.providers`) that checks the spec without loading a model, so a bad ``--rm`` is refused
before a run directory is written.

The judge rates each trajectory alone by default; ``--policy-arg 'rm_options={"mode": "rank"}'`` makes
it rank the candidates of a search step side by side instead.
"""

from __future__ import annotations

from typing import Any

from ..llm.base import ModelSpecError
from ..providers import Provider, SpecRegistry
from ..registry import Registry
from .base import RewardModel, RewardModelIdentity

BUILTIN = {name: f"agentrm_bench.rewards.builtin:{name}" for name in ("explicit", "implicit", "judge", "oracle")}
KINDS = tuple(BUILTIN)
REGISTRY: Registry[Any] = Registry("reward model", "agentrm_bench.reward_models", BUILTIN, error=ModelSpecError)
SPECS: SpecRegistry[RewardModel] = SpecRegistry(REGISTRY, RewardModel, "reward model", ModelSpecError)


def register(name: str, target: str | Provider[RewardModel] | type[RewardModel] | RewardModel) -> None:
    """Add a reward model under ``name``: a provider, a class, a built object or a lazy ``"module:attr"``."""
    REGISTRY.register(name, target)


def names() -> list[str]:
    """Every reward-model name: built-in, registered and from installed plug-ins."""
    return REGISTRY.names()


def usages() -> list[str]:
    """How each known reward model is named (``explicit:PATH``, ...), for help texts and error messages."""
    return SPECS.usages()


def check_spec(spec: str) -> None:
    """Validate ``spec`` without loading a model (a plug-in's module is imported, its weights are not)."""
    SPECS.check(spec)


def make_rm(spec: str, **options: Any) -> RewardModel:
    """The reward model named by ``spec``; ``options`` go to its constructor."""
    return SPECS.make(spec, **options)


def kind_of(spec: str) -> str:
    """The registered name (or ``module:attribute``) a spec names: ``judge`` for ``judge:hf:/m``."""
    return SPECS.parse(spec)[0]


def identify(spec: str, rm: RewardModel) -> RewardModelIdentity:
    """``rm``'s identity, with the package and version it was loaded from where it does not say them."""
    origin = SPECS.origin(spec)
    return rm.identity().with_origin(origin.package, origin.version)


__all__ = [
    "KINDS",
    "RewardModel",
    "RewardModelIdentity",
    "check_spec",
    "identify",
    "kind_of",
    "make_rm",
    "names",
    "register",
    "usages",
]
