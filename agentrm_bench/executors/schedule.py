"""Longest-expected-first: the order a run hands its episodes to workers, from what earlier runs took.

With a pool, the run ends when its last worker finishes; an hour-long episode handed out last keeps one
core busy while the others idle. Played longest-first, the long episodes overlap with each other and
the short ones fill the gaps at the end. What an episode will take is guessed from a cheap prior:

* the wall time the same policy took on the same instance in an earlier run on this machine (every run
  records its episodes' times in a small cost book, one JSON file per policy, task and split, under the
  user cache: ``AGENTRM_BENCH_COSTS`` moves it, and ``off`` turns it off);
* for an instance never played, the median of its task's recorded times;
* for a task never played, its turn budget times the median time per turn recorded for the policy's
  other tasks, or -- nothing recorded at all -- its turn budget alone, which still orders tasks by length.

The order only decides which episode starts first: records, seeds and scores do not depend on it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import statistics
import tempfile
from collections.abc import Iterable
from pathlib import Path

import platformdirs

from .. import tasks as task_table
from ..episode import EpisodeRecord
from ..manifest import RunConfig

VARIABLE = "AGENTRM_BENCH_COSTS"

Key = tuple[str, int]


def book_dir() -> Path | None:
    """Where the cost book lives; None when switched off."""
    configured = os.environ.get(VARIABLE)
    if configured == "off":
        return None
    if configured:
        return Path(configured)
    return Path(platformdirs.user_cache_dir("agentrm-bench")) / "episode-costs"


def longest_first(config: RunConfig, todo: list[Key]) -> list[Key]:
    """``todo`` sorted by expected wall time, longest first (ties keep the plan's order)."""
    expected = expected_seconds(config, todo)
    return sorted(todo, key=lambda key: -expected[key])  # sorted() is stable


def expected_seconds(config: RunConfig, todo: Iterable[Key]) -> dict[Key, float]:
    """The prior for each episode of ``todo`` (see the module's doc); seconds, or turns when nothing is known."""
    todo = list(todo)
    book = {task: _read(config, task) for task in dict.fromkeys(task for task, _ in todo)}
    per_turn = [seconds / max(turns, 1) for rows in book.values() for seconds, turns in rows.values()]
    seconds_per_turn = statistics.median(per_turn) if per_turn else 1.0
    typical = {task: statistics.median(s for s, _ in rows.values()) for task, rows in book.items() if rows}
    expected = {}
    for task, index in todo:
        known = book[task].get(index)
        if known is not None:
            expected[(task, index)] = known[0]
        elif task in typical:
            expected[(task, index)] = typical[task]
        else:
            expected[(task, index)] = _turn_budget(config, task) * seconds_per_turn
    return expected


def cost(record: EpisodeRecord) -> tuple[str, int, float, int] | None:
    """What the cost book keeps of a record: (task, index, seconds, turns); None for an error record (it
    says nothing about how long the episode takes)."""
    if record.error is not None or record.wall_time <= 0:
        return None
    return (record.task, record.index, record.wall_time, record.turns)


def remember(config: RunConfig, costs: Iterable[tuple[str, int, float, int]]) -> None:
    """Add finished episodes' (task, index, seconds, turns) to the cost book.

    A lost race with a concurrent run only loses that run's additions: the file is replaced atomically.
    """
    if book_dir() is None:
        return
    by_task: dict[str, dict[int, tuple[float, int]]] = {}
    for task, index, seconds, turns in costs:
        by_task.setdefault(task, {})[index] = (seconds, turns)
    for task, rows in by_task.items():
        try:
            _write(config, task, {**_read(config, task), **rows})
        except OSError:  # a read-only cache only costs the next run its ordering
            pass


def _turn_budget(config: RunConfig, task: str) -> int:
    return config.max_turns or task_table.get(task).max_turns


def _path(config: RunConfig, task: str) -> Path | None:
    root = book_dir()
    if root is None:
        return None
    key = f"{config.policy}|{task}|{config.split}|{config.max_turns}"
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{config.policy}-{task}-{config.split}")[:80]
    return root / f"{readable}-{hashlib.sha256(key.encode()).hexdigest()[:12]}.json"


def _read(config: RunConfig, task: str) -> dict[int, tuple[float, int]]:
    path = _path(config, task)
    if path is None:
        return {}
    try:
        rows = json.loads(path.read_text())["episodes"]
        return {int(index): (float(seconds), int(turns)) for index, (seconds, turns) in rows.items()}
    except (OSError, ValueError, KeyError, TypeError):  # none yet, or unreadable: no prior
        return {}


def _write(config: RunConfig, task: str, rows: dict[int, tuple[float, int]]) -> None:
    path = _path(config, task)
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "policy": config.policy,
        "task": task,
        "split": config.split,
        "max_turns": config.max_turns,
        "episodes": {str(index): [round(seconds, 4), turns] for index, (seconds, turns) in sorted(rows.items())},
    }
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".costs-", suffix=".tmp")
    try:
        with os.fdopen(handle, "w") as out:
            json.dump(payload, out)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
