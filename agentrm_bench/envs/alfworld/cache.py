"""On-disk caches of the ALFWorld engine's two pure, expensive functions: the planner's plans and the
PDDL-to-SAS translations.

Why: in an expert sweep the planner is most of the cost (one game of the test split plans for 86 s on an
idle machine) and the translation most of every game load (~85%), and both are pure functions of what
the key holds, so a rerun, another worker or another run on the same machine pays for each once.

* A plan is keyed by the sha256 of the game file, the commands the engine has been given since the
  reset (they determine its state: the engine is deterministic and text that is not a command never
  reaches it), and :func:`planner_version`.
* A translation is keyed by the PDDL domain and problem texts it translates, its ``optimize`` flag and
  :func:`planner_version`.

Entries live in the user cache, or in ``$AGENTRM_BENCH_ALFWORLD_CACHE`` (``off`` switches the cache off);
how they are written and checked is :mod:`..disk_cache`'s.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..disk_cache import DiskCache

VARIABLE = "AGENTRM_BENCH_ALFWORLD_CACHE"
SCHEMA = 1  # bump when an entry's meaning changes
PLANS = "plans"
TRANSLATIONS = "translations"
# The packages whose code computes an entry: the planner and translator, the engine and its wrappers.
_CACHE = DiskCache(VARIABLE, "alfworld", ("fast-downward-textworld", "textworld", "alfworld"), SCHEMA)


def cache_dir() -> Path | None:
    """Where the entries live; None when the cache is switched off."""
    return _CACHE.root()


def planner_version() -> str:
    """The versions of everything that computes an entry, so that an upgrade never reads an old one."""
    return _CACHE.versions


def plan_key(game_sha256: str, commands: Sequence[str]) -> str:
    """The key of the plan from the state ``commands`` lead to in the game with that file digest."""
    return _CACHE.key(PLANS, game_sha256, *commands)


def translation_key(domain: str, problem: str, optimize: bool) -> str:
    return _CACHE.key(TRANSLATIONS, domain, problem, str(bool(optimize)))


def read_plan(key: str) -> list[str] | None:
    return read(PLANS, key, _is_plan)


def write_plan(key: str, plan: Sequence[str]) -> None:
    if plan:  # "no plan" is an error to report, not a fact worth keeping
        write(PLANS, key, list(plan))


def read(kind: str, key: str, valid: Callable[[Any], bool]) -> Any | None:
    """The value stored under ``key``, or None when there is none or it cannot be trusted."""
    return _CACHE.read(kind, key, valid)


def write(kind: str, key: str, value: Any) -> None:
    """Store ``value`` under ``key`` atomically (an unwritable cache only costs time)."""
    _CACHE.write(kind, key, value)


def _is_plan(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(command, str) for command in value)
