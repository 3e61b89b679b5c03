"""The search-strategy interface and its registry: how an LLM policy turns samples into one trajectory.

A strategy is a class whose constructor takes its own settings (N, beam width, ...) as keyword arguments,
checks them, and whose :meth:`SearchStrategy.search` coroutine plays one episode on an
:class:`~agentrm_bench.search.run.EpisodeRun` -- proposing actions with ``run.propose``, stepping with
``run.step`` (on snapshots, so branches are cheap), scoring with ``run.score`` -- and returns the chosen
node and its own data for the episode record. The built-in ``greedy``, ``best-of-n`` and ``beam`` live
in :mod:`.strategies`; another is named ``package.module:attribute``, added with :func:`register`, or
shipped through the entry-point group ``agentrm_bench.search_strategies``, and played by the ``search``
policy: ``--policy search --policy-arg strategy=NAME --policy-arg KEY=VALUE``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar

from ..llm.base import ModelSpecError
from ..registry import Registry

if TYPE_CHECKING:
    from .run import EpisodeRun
    from .tree import Node


class SearchStrategy(ABC):
    """One way to search; subclasses set the class attributes and implement :meth:`search`."""

    name: ClassVar[str] = ""
    needs_rm: ClassVar[bool] = False  # refuse to run without a reward model
    default_temperature: ClassVar[float] = 0.0  # the policy's temperature unless one is given

    def settings(self) -> dict[str, Any]:
        """The strategy's own settings (merged into the policy's settings, so into the run manifest)."""
        return {}

    def check(self, temperature: float) -> None:
        """Refuse settings that make no sense together with the sampling temperature."""
        return None

    @abstractmethod
    async def search(self, run: EpisodeRun, temperature: float) -> tuple[Node, dict[str, Any]]:
        """Play the episode; return the chosen node and the strategy's data for ``record.extra``."""


BUILTIN = {
    "greedy": "agentrm_bench.search.strategies:Greedy",
    "best-of-n": "agentrm_bench.search.strategies:BestOfN",
    "beam": "agentrm_bench.search.strategies:Beam",
}
REGISTRY: Registry[type[SearchStrategy]] = Registry(
    "search strategy", "agentrm_bench.search_strategies", BUILTIN, error=ModelSpecError
)


def register(name: str, target: str | type[SearchStrategy]) -> None:
    REGISTRY.register(name, target)


def names() -> list[str]:
    return REGISTRY.names()


def create(name: str, **settings: Any) -> SearchStrategy:
    """The strategy ``name`` with its ``settings``; a :class:`ModelSpecError` for a bad name or setting."""
    factory = REGISTRY.load(name)
    if not (isinstance(factory, type) and issubclass(factory, SearchStrategy)):
        raise ModelSpecError(f"search strategy {name!r} is a {type(factory).__name__}, not a SearchStrategy class")
    try:
        return factory(**settings)
    except TypeError as exc:
        raise ModelSpecError(f"search strategy {name!r} does not take settings {sorted(settings)}: {exc}") from exc
