"""The reward-model interface: what a reward model must do to guide a search and to be on the leaderboard.

A reward model scores a batch of (partial) trajectories -- one float each, higher is better -- and
declares what pins it (:meth:`RewardModel.settings`) and which model it is
(:meth:`RewardModel.identity`: name, base model, parameter count, weights digest; the package and version
are filled from where it was loaded, see :func:`agentrm_bench.rewards.identify`). That is all: the
built-in ``explicit``, ``implicit``, ``judge`` and ``oracle`` implement exactly this, and so does one
written outside this repository::

    from agentrm_bench.rewards import RewardModel

    class ShortIsGood(RewardModel):
        kind = "short-is-good"

        def __init__(self, argument: str | None = None, *, penalty: float = 1.0):
            self.penalty = penalty  # load weights lazily, on the first score: construction must stay cheap

        def settings(self):
            return {"kind": self.kind, "penalty": self.penalty}

        async def ascore(self, batch):
            return [-self.penalty * len(t.steps) for t in batch]

It is then usable as ``--rm my_package.module:ShortIsGood`` (``--rm my_package.module:ShortIsGood:ARG``
passes ARG as the first constructor argument; ``--policy-arg 'rm_options={"penalty": 2}'`` passes
options), or under a name of its own through the entry-point group ``agentrm_bench.reward_models``.

What a score may depend on: each :class:`~agentrm_bench.prompts.trajectory.Trajectory` carries the task
name, goal, first observation and the steps so far (thought, action, observation). Its ``progress`` and
``success`` are the environment's own: only an upper bound (``upper_bound = True``, the oracle) may read
them. Only the order of the scores within one call matters to the search strategies, so reward models
need not share a scale; a batch may mix trajectories of several episodes and tasks.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from ..llm.base import run_sync
from ..llm.weights import Weights
from ..prompts.trajectory import Trajectory


@dataclass(frozen=True)
class RewardModelIdentity:
    """Which reward model this is, as a leaderboard row shows it and a verifier checks it.

    ``name`` is what the leaderboard calls its kind (``explicit``, ``my-rm``); ``weights_sha256`` pins the
    exact weights (see :mod:`agentrm_bench.llm.weights` for how a folder is hashed); ``package`` and
    ``version`` name the distribution whose code computed the scores.
    """

    name: str
    base_model: str | None = None
    parameters: int | None = None
    weights_sha256: str | None = None
    package: str | None = None
    version: str | None = None

    @classmethod
    def of(cls, name: str, weights: Weights | None) -> RewardModelIdentity:
        """An identity from the weights of the model behind the reward model (None: nothing known)."""
        if weights is None:
            return cls(name)
        return cls(name, weights.base_model, weights.parameters, weights.sha256)

    def with_origin(self, package: str | None, version: str | None) -> RewardModelIdentity:
        """Fill package and version where the reward model did not declare its own."""
        return replace(self, package=self.package or package, version=self.version or version)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class RewardModel(ABC):
    """Scores (partial) trajectories; see the module docstring for the whole contract."""

    kind: str = ""  # the short name it is known by (the class name when empty)
    upper_bound: bool = False  # True only for an RM that reads the environment's own progress (the oracle)

    def settings(self) -> dict[str, Any]:
        """Everything that pins its behaviour (goes into the run manifest): options, templates, modes."""
        return {"kind": self.kind or type(self).__name__}

    def identity(self) -> RewardModelIdentity:
        """Which model it is, without loading its weights (hashing them is fine)."""
        return RewardModelIdentity(self.kind or type(self).__name__)

    def usage(self) -> dict[str, int]:
        """Tokens read and written so far (``tokens_in``, ``tokens_out``), where the reward model counts
        them: an offline evaluation reports their increase as its cost. Empty when it does not count."""
        return {}

    @abstractmethod
    async def ascore(self, batch: Sequence[Trajectory]) -> list[float]:
        """One score per trajectory of ``batch``, in order; higher is better."""

    def score(self, batch: Sequence[Trajectory]) -> list[float]:
        """Blocking :meth:`ascore`."""
        return run_sync(self.ascore(batch))
