"""Test setup: upstream data comes from ../shared/data (read-only) unless AGENTRM_BENCH_DATA is set."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"

if "AGENTRM_BENCH_DATA" not in os.environ and SHARED_DATA.is_dir():
    os.environ["AGENTRM_BENCH_DATA"] = str(SHARED_DATA)


def data_file(task: str, relative: str) -> Path:
    """The path of an upstream file, or skip the test saying which file is missing."""
    from agentrm_bench import data

    try:
        return data.path(task, relative)
    except data.DataMissingError as exc:
        pytest.skip(str(exc))


def available_ids() -> list[str]:
    from agentrm_bench import tasks

    return [spec.id for spec in tasks.TASKS if tasks.runnable(spec)]


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
