"""Test setup: upstream data comes from $AGENTRM_BENCH_DATA (tests needing a missing file skip, naming it)."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# The runs of the test session record their episodes' wall times (the order the next run plays them in) in a
# cost book of their own, not the user's: tests neither leave times behind nor depend on earlier runs.
if "AGENTRM_BENCH_COSTS" not in os.environ:
    os.environ["AGENTRM_BENCH_COSTS"] = _COSTS = tempfile.mkdtemp(prefix="agentrm-costs-")
    atexit.register(shutil.rmtree, _COSTS, ignore_errors=True)
# Likewise ALFWorld's plans and translations and ScienceWorld's gold paths (envs/disk_cache.py): cached for
# the session, not the user.
for _variable, _prefix in (
    ("AGENTRM_BENCH_ALFWORLD_CACHE", "agentrm-alfworld-"),
    ("AGENTRM_BENCH_SCIWORLD_CACHE", "agentrm-sciworld-"),
):
    if _variable not in os.environ:
        os.environ[_variable] = _folder = tempfile.mkdtemp(prefix=_prefix)
        atexit.register(shutil.rmtree, _folder, ignore_errors=True)


def data_file(files, relative: str) -> Path:  # noqa: ANN001 - a data-set key, a folder name or a TaskData
    """The path of an upstream file, or skip the test saying which file is missing."""
    from agentrm_bench import data, tasks

    if isinstance(files, str):
        files = tasks.catalogue().get(files) or data.TaskData(files, (), "a folder of the data root")
    try:
        return data.path(files, relative)
    except data.DataMissingError as exc:
        pytest.skip(str(exc))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):  # noqa: ANN001, ANN201 - pytest's hook signature
    """A test that reaches for an upstream file that is absent skips, naming it (as ``data_file`` does), instead
    of failing: CI and a fresh clone may hold only part of the upstream data."""
    from agentrm_bench.data import DataMissingError

    outcome = yield
    report = outcome.get_result()
    if report.failed and call.excinfo is not None and call.excinfo.errisinstance(DataMissingError):
        report.outcome = "skipped"
        report.longrepr = (str(item.path), item.location[1] or 0, f"Skipped: {call.excinfo.value}")


def available_ids() -> list[str]:
    from agentrm_bench import tasks

    return [spec.id for spec in tasks.specs() if tasks.runnable(spec)]


def server_at(variable: str, start: str = ".ci/llm-server start") -> str:
    """The URL in ``$variable`` of an OpenAI-compatible server that answers, or skip saying what is missing."""
    import urllib.request

    url = os.environ.get(variable)
    if not url:
        pytest.skip(f"{variable} is not set (start a server: {start})")
    try:
        with urllib.request.urlopen(url.rstrip("/") + "/models", timeout=5):
            pass
    except OSError as exc:
        pytest.skip(f"no OpenAI-compatible server answers at {url}: {exc}")
    return url


def expert_steps(env, index: int) -> list[tuple]:
    """The expert's episode on ``index``: the reset's (observation, info), then every step's 5-tuple."""
    steps = [env.reset(options={"index": index})]
    terminated = truncated = False
    while not (terminated or truncated):
        steps.append(env.step(env.expert_action()))
        terminated, truncated = steps[-1][2], steps[-1][3]
    return steps


def todo_isolation_index() -> int:
    """A Tool-Operation todo row whose expert deletes a task: the change another episode must not see."""
    from agentrm_bench.envs.tool_operation import rows as tools_rows

    return 20 + tools_rows.TODO_TEST_IDS.index(85 if 85 in tools_rows.TODO_TEST_IDS else 131)


def check_todo_isolation(first, second, index: int) -> None:
    """``first`` deletes a task; ``second``, reset on the same row, keeps its own state and can still win."""
    first.reset(options={"index": index})
    second.reset(options={"index": index})
    before = second._session_call("inspect")["state"]
    while first.expert_action().startswith("Action: get_"):
        first.step(first.expert_action())
    first.step(first.expert_action())  # the deletion
    assert first._session_call("inspect")["state"] != before
    assert second._session_call("inspect")["state"] == before
    assert expert_steps(second, index)[-1][-1]["success"]
