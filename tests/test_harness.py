"""The harness: records, resume, retries of errored episodes, refusal of a different configuration."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agentrm_bench import harness
from agentrm_bench.manifest import ConfigMismatchError, RunConfig
from agentrm_bench.records import RecordStore, read_records

from .conftest import REPO


def keys(run_dir: Path) -> list[tuple[str, int]]:
    lines = (run_dir / "records.jsonl").read_text().splitlines()
    return [(json.loads(line)["task"], json.loads(line)["index"]) for line in lines]


def test_expert_run_writes_one_record_per_episode(tmp_path):
    config = RunConfig(policy="expert", tasks=("maze",))
    summary = harness.run(config, tmp_path, workers=0, show_progress=False)
    assert (summary.total, summary.finished, summary.success, summary.errors) == (25, 25, 25, 0)
    assert sorted(keys(tmp_path)) == [("maze", i) for i in range(25)]
    record = json.loads((tmp_path / "records.jsonl").read_text().splitlines()[0])
    for field in (
        "policy",
        "task",
        "index",
        "seed",
        "actions",
        "observations",
        "progress",
        "success",
        "tokens",
        "wall_time",
        "error",
    ):
        assert field in record
    assert len(record["observations"]) == len(record["actions"]) + 1
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["config"]["tasks"] == ["maze"] and manifest["task_versions"] == {"maze": "0"}
    assert manifest["package_version"] and "command" in manifest


def test_workers_give_the_same_records_as_in_process(tmp_path):
    config = RunConfig(policy="random", tasks=("maze",), limit=6, seed=7)
    harness.run(config, tmp_path / "a", workers=0, show_progress=False)
    harness.run(config, tmp_path / "b", workers=2, show_progress=False)

    def strip(run):
        rows = [json.loads(x) for x in (run / "records.jsonl").read_text().splitlines()]
        return sorted(({k: v for k, v in r.items() if k != "wall_time"} for r in rows), key=lambda r: r["index"])

    assert strip(tmp_path / "a") == strip(tmp_path / "b")


def test_rerun_skips_finished_episodes(tmp_path):
    config = RunConfig(policy="expert", tasks=("maze",), limit=5)
    harness.run(config, tmp_path, workers=0, show_progress=False)
    before = (tmp_path / "records.jsonl").read_bytes()
    summary = harness.run(config, tmp_path, workers=0, show_progress=False)
    assert summary.skipped == 5 and summary.finished == 5
    assert (tmp_path / "records.jsonl").read_bytes() == before


def test_errored_episode_is_recorded_then_retried(tmp_path):
    marker = tmp_path / "crash"
    marker.touch()
    config = RunConfig(
        policy="tests.slow_policy:FlakyPolicy", policy_settings={"marker": str(marker)}, tasks=("maze",), limit=3
    )
    summary = harness.run(config, tmp_path / "run", workers=0, show_progress=False)
    assert summary.errors == 1 and summary.finished == 2
    errors = RecordStore(tmp_path / "run").errors()
    assert errors[0].index == 1 and "simulated simulator crash" in errors[0].error
    marker.unlink()
    summary = harness.run(config, tmp_path / "run", workers=0, show_progress=False)
    assert summary.errors == 0 and summary.finished == 3 and summary.skipped == 2
    assert sorted(keys(tmp_path / "run")) == [("maze", 0), ("maze", 1), ("maze", 2)]


def test_a_different_configuration_is_refused_and_nothing_written(tmp_path):
    harness.run(RunConfig(policy="expert", tasks=("maze",), limit=2), tmp_path, workers=0, show_progress=False)
    snapshot = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    with pytest.raises(ConfigMismatchError, match="limit"):
        harness.run(RunConfig(policy="expert", tasks=("maze",), limit=3), tmp_path, workers=0, show_progress=False)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == snapshot


def test_torn_last_line_is_dropped_and_the_episode_rerun(tmp_path):
    config = RunConfig(policy="expert", tasks=("maze",), limit=3)
    harness.run(config, tmp_path, workers=0, show_progress=False)
    path = tmp_path / "records.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:2]) + lines[2][:40])  # as if killed mid-write
    summary = harness.run(config, tmp_path, workers=0, show_progress=False)
    assert summary.skipped == 2 and summary.finished == 3
    assert sorted(keys(tmp_path)) == [("maze", 0), ("maze", 1), ("maze", 2)]


def test_sigkill_half_way_then_rerun_loses_and_duplicates_nothing(tmp_path):
    out = tmp_path / "run"
    command = [
        sys.executable,
        "-m",
        "agentrm_bench",
        "run",
        "--policy",
        "tests.slow_policy:SlowRandomPolicy",
        "--policy-arg",
        "delay=0.005",
        "--tasks",
        "maze",
        "--workers",
        "2",
        "--out",
        str(out),
        "--no-progress",
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        command, env=env, cwd=REPO, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    records = out / "records.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if records.exists() and len(records.read_bytes().splitlines()) >= 5:
            break
        time.sleep(0.01)
    os.killpg(process.pid, signal.SIGKILL)  # the driver and its workers, no chance to clean up
    process.wait()
    killed_at = len(keys(out))
    assert 5 <= killed_at < 25, "the run must be killed half-way for this test to mean anything"
    manifest_before = (out / "manifest.json").read_bytes()

    subprocess.run(command, env=env, cwd=REPO, check=True, capture_output=True)
    final = keys(out)
    assert sorted(final) == [("maze", i) for i in range(25)]
    assert len(final) == len(set(final))
    assert (out / "manifest.json").read_bytes() == manifest_before


def test_a_worker_process_killed_mid_episode_is_retried_in_the_same_run(tmp_path):
    marker = tmp_path / "killed"
    config = RunConfig(
        policy="tests.slow_policy:DiesOncePolicy", policy_settings={"marker": str(marker)}, tasks=("maze",), limit=4
    )
    summary = harness.run(config, tmp_path / "run", workers=2, show_progress=False)
    assert marker.exists()  # a worker really died half-way through instance 1
    assert (summary.finished, summary.errors) == (4, 0)
    store = RecordStore(tmp_path / "run")
    assert ("maze", 1) in {r.key for r in store.errors()}  # with whatever else was in flight then
    assert sorted(r.key for r in read_records(tmp_path / "run")) == [("maze", i) for i in range(4)]


def test_sandbox_choice_reaches_server_tasks_only_and_is_not_the_runs_identity():
    config = RunConfig(policy="expert", tasks=("maze", "tool-operation"), sandbox="docker", max_turns=7)
    assert config.env_kwargs("tool-operation") == {"split": "test", "max_turns": 7, "sandbox": "docker"}
    assert config.env_kwargs("maze") == {"split": "test", "max_turns": 7}  # Maze has no service
    assert "sandbox" not in config.to_json()  # a run may resume under the other sandbox
    assert (
        RunConfig(policy="expert", tasks=("maze",)).to_json()
        == RunConfig(policy="expert", tasks=("maze",), sandbox="local").to_json()
    )
