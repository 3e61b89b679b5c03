"""ScienceWorld's checked gold paths, cached on disk and shared by workers and runs.

Why: finding an expert episode's actions is half its cost -- the simulator generates the gold path on a
reload of the variation, and the path is played once through the split's loop to check that it
completes (:meth:`.env.ScienceWorldEnv._gold_path`). The result is a pure function of the problem (task,
variation, simplifications), the loop's rules (AgentBoard's extra listings draw on the simulator's
random generator), the JVM options that fix its hash codes and the simulator's release, which is what
the key holds. Entries live in the user cache, or in ``$AGENTRM_BENCH_SCIWORLD_CACHE`` (``off``
switches the cache off); how they are written and checked is :mod:`..disk_cache`'s.
"""

from __future__ import annotations

from typing import Any

from ..disk_cache import DiskCache
from .rules import LoopRules
from .sets import Instance
from .sim import JVM_OPTIONS

VARIABLE = "AGENTRM_BENCH_SCIWORLD_CACHE"
GOLD = "gold"
_CACHE = DiskCache(VARIABLE, "sciworld", ("scienceworld",))


def key(instance: Instance, rules: LoopRules) -> str:
    return _CACHE.key(
        GOLD, instance.task, str(instance.variation), instance.simplifications, repr(rules), " ".join(JVM_OPTIONS)
    )


def read(key: str) -> tuple[list[str], bool] | None:
    """(the gold path, whether it is the unsimplified world's fallback), or None when not cached."""
    value = _CACHE.read(GOLD, key, _is_entry)
    return None if value is None else (value["actions"], value["fallback"])


def write(key: str, actions: list[str], fallback: bool) -> None:
    if actions:
        _CACHE.write(GOLD, key, {"actions": list(actions), "fallback": bool(fallback)})


def _is_entry(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("actions"), list)
        and bool(value["actions"])
        and all(isinstance(a, str) for a in value["actions"])
        and isinstance(value.get("fallback"), bool)
    )
