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

Entries live in the user cache (``platformdirs``), or in ``$AGENTRM_BENCH_ALFWORLD_CACHE`` (``off``
switches the cache off), one zlib-compressed JSON file per key. A write goes to a temporary file that
is renamed into place, so a reader sees a whole entry or none; an entry that cannot be read back (cut
short, damaged -- zlib's checksum catches flipped bits --, of another key or another shape) is treated
as missing, and recomputing it rewrites it.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import os
import tempfile
import zlib
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import platformdirs

VARIABLE = "AGENTRM_BENCH_ALFWORLD_CACHE"
SCHEMA = 1  # bump when an entry's meaning changes
PLANS = "plans"
TRANSLATIONS = "translations"
# The packages whose code computes an entry: the planner and translator, the engine and its wrappers.
_ENGINE_DISTRIBUTIONS = ("fast-downward-textworld", "textworld", "alfworld")


def cache_dir() -> Path | None:
    """Where the entries live; None when the cache is switched off."""
    configured = os.environ.get(VARIABLE)
    if configured == "off":
        return None
    if configured:
        return Path(configured).expanduser()
    return Path(platformdirs.user_cache_dir("agentrm-bench")) / "alfworld"


@cache
def planner_version() -> str:
    """The versions of everything that computes an entry, so that an upgrade never reads an old one."""
    versions = []
    for name in _ENGINE_DISTRIBUTIONS:
        try:
            versions.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{name} absent")
    return f"schema {SCHEMA}; " + ", ".join(versions)


def plan_key(game_sha256: str, commands: Sequence[str]) -> str:
    """The key of the plan from the state ``commands`` lead to in the game with that file digest."""
    return _digest(PLANS, planner_version(), game_sha256, *commands)


def translation_key(domain: str, problem: str, optimize: bool) -> str:
    return _digest(TRANSLATIONS, planner_version(), domain, problem, str(bool(optimize)))


def read_plan(key: str) -> list[str] | None:
    return read(PLANS, key, _is_plan)


def write_plan(key: str, plan: Sequence[str]) -> None:
    if plan:  # "no plan" is an error to report, not a fact worth keeping
        write(PLANS, key, list(plan))


def read(kind: str, key: str, valid: Callable[[Any], bool]) -> Any | None:
    """The value stored under ``key``, or None when there is none or it cannot be trusted."""
    file = _file(kind, key)
    if file is None:
        return None
    try:
        entry = json.loads(zlib.decompress(file.read_bytes()))
    except (OSError, ValueError, zlib.error):
        return None
    if not isinstance(entry, dict) or entry.get("key") != key or not valid(entry.get("value")):
        return None
    return entry["value"]


def write(kind: str, key: str, value: Any) -> None:
    """Store ``value`` under ``key`` atomically (an unwritable cache only costs time)."""
    file = _file(kind, key)
    if file is None:
        return
    blob = zlib.compress(json.dumps({"key": key, "value": value}).encode(), 1)
    temporary = None
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=file.parent, prefix=file.name, suffix=".tmp")
        with os.fdopen(handle, "wb") as out:
            out.write(blob)
        os.replace(temporary, file)
    except OSError:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)


def _file(kind: str, key: str) -> Path | None:
    root = cache_dir()
    return None if root is None else root / kind / f"{key}.json.z"


def _digest(*parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def _is_plan(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(command, str) for command in value)
