"""``--executor ray`` against a real local Ray cluster: the same records as a local run, a lost worker retried.

The cluster is started here (``num_cpus=2``); ``.ci/run`` also starts one with ``ray start --head`` and
sets ``AGENTRM_TEST_RAY_ADDRESS`` so that a driver joins it by address.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from agentrm_bench import cli, harness
from agentrm_bench.executors import ray as ray_executor
from agentrm_bench.manifest import RunConfig
from agentrm_bench.records import RecordStore, read_records

ray = pytest.importorskip("ray")

REPO = Path(__file__).resolve().parents[1]
NO_ENGINE = "unix:///nonexistent/agentrm-docker.sock"
PRELOADED = "tabnanny"  # a standard module neither Ray nor this package imports


@pytest.fixture(scope="module")
def cluster():
    """A two-CPU Ray cluster for this module; its workers see a Docker host where no engine answers, and
    import a module nothing else imports as they start (as a run's workers import its modules)."""
    saved = os.environ.get("AGENTRM_DOCKER_HOST")
    os.environ["AGENTRM_DOCKER_HOST"] = NO_ENGINE  # travels to the workers in the job's runtime_env
    try:
        yield ray_executor.connect("local", preload=(PRELOADED,), num_cpus=2)
    finally:
        if saved is None:
            os.environ.pop("AGENTRM_DOCKER_HOST", None)
        else:
            os.environ["AGENTRM_DOCKER_HOST"] = saved
        ray.shutdown()


def comparable(run_dir: Path) -> list[dict]:
    """The finished records of a run in plan order, without their timings."""
    rows = [r.to_json() for r in read_records(run_dir)]
    for row in rows:
        row.pop("wall_time")
        cost = row["extra"].get("cost", {})
        for key in [k for k in cost if k.endswith("_seconds")]:  # timings; tokens and calls must agree
            cost.pop(key)
    assert rows, f"no finished records in {run_dir}"
    return sorted(rows, key=lambda r: (r["task"], r["index"]))


@pytest.mark.parametrize("policy", ["expert", "random"])
def test_ray_records_equal_local_records(cluster, tmp_path, policy):
    config = RunConfig(policy=policy, tasks=("maze", "babyai"), limit=4, seed=3)
    local = harness.run(config, tmp_path / "local", workers=0, show_progress=False)
    remote = harness.run(config, tmp_path / "ray", show_progress=False, executor="ray")
    assert remote.finished == local.finished == 8 and remote.errors == 0
    assert comparable(tmp_path / "ray") == comparable(tmp_path / "local")
    assert json.loads((tmp_path / "ray" / "scores.json").read_text()) == json.loads(
        (tmp_path / "local" / "scores.json").read_text()
    )


def test_episodes_in_flight_run_as_chunks_on_ray(cluster, tmp_path):
    config = RunConfig(policy="tests.scripted_policies:SeededGreedy", tasks=("maze",), limit=5)
    harness.run(config, tmp_path / "local", workers=0, show_progress=False, in_flight=1)
    summary = harness.run(config, tmp_path / "ray", show_progress=False, in_flight=2, executor="ray")
    assert summary.finished == 5
    assert comparable(tmp_path / "ray") == comparable(tmp_path / "local")


def test_a_server_task_runs_its_local_sandbox_on_the_worker(cluster, tmp_path):
    from agentrm_bench import tasks

    servers = [s.name for s in tasks.specs() if s.sandbox == "server" and tasks.runnable(s)]
    if not servers:
        pytest.skip("no task served through a sandbox is runnable here")
    config = RunConfig(policy="expert", tasks=(servers[0],), limit=2, sandbox="local")
    harness.run(config, tmp_path / "local", workers=0, show_progress=False)
    summary = harness.run(config, tmp_path / "ray", show_progress=False, executor="ray")
    assert (summary.finished, summary.errors) == (2, 0)
    assert comparable(tmp_path / "ray") == comparable(tmp_path / "local")


def test_a_worker_killed_mid_episode_is_retried_never_lost_or_doubled(cluster, tmp_path):
    marker = tmp_path / "killed"
    config = RunConfig(
        policy="tests.slow_policy:DiesOncePolicy", policy_settings={"marker": str(marker)}, tasks=("maze",), limit=4
    )
    summary = harness.run(config, tmp_path / "ray", show_progress=False, executor="ray")
    assert marker.exists()  # a worker really died half-way through instance 1
    assert (summary.finished, summary.errors) == (4, 0)
    errors = RecordStore(tmp_path / "ray").errors()
    assert [(r.task, r.index) for r in errors] == [("maze", 1)] and "WorkerCrashedError" in errors[0].error
    finished = [r.key for r in read_records(tmp_path / "ray")]
    assert sorted(finished) == [("maze", i) for i in range(4)]  # each once
    harness.run(config, tmp_path / "local", workers=0, show_progress=False)  # marker present: nobody dies
    assert comparable(tmp_path / "ray") == comparable(tmp_path / "local")


def test_workers_import_the_runs_modules_as_they_start(cluster):
    def imported(name: str) -> bool:
        return name in sys.modules

    assert ray.get(ray.remote(imported).remote(PRELOADED))


def test_docker_sandbox_needs_an_engine_on_every_node(cluster):
    config = RunConfig(policy="expert", tasks=("webshop",), sandbox="docker")
    with pytest.raises(ray_executor.RayUnavailableError, match="Docker engine on every Ray node"):
        ray_executor.check_nodes(cluster, config)
    ray_executor.check_nodes(cluster, RunConfig(policy="expert", tasks=("maze",), sandbox="docker"))  # no server task


def test_unreachable_cluster_is_one_line_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["run", "--policy", "expert", "--tasks", "maze", "--out", str(out), "--executor", "ray"]
    assert cli.main([*argv, "--ray-address", "127.0.0.1:1"]) == 2
    assert "no Ray cluster answers at 127.0.0.1:1" in capsys.readouterr().err
    assert cli.main([*argv[:-2], "--ray-address", "127.0.0.1:1"]) == 2  # an address without the executor
    assert "--ray-address is for --executor ray" in capsys.readouterr().err
    assert not out.exists()


def test_a_driver_joins_a_running_cluster_by_address(tmp_path):
    address = os.environ.get("AGENTRM_TEST_RAY_ADDRESS")
    if not address:
        pytest.skip("AGENTRM_TEST_RAY_ADDRESS is not set (.ci/run starts a cluster with `ray start --head`)")
    common = [sys.executable, "-m", "agentrm_bench", "run", "--policy", "random", "--tasks", "maze,babyai"]
    common += ["--limit", "3", "--no-progress"]
    subprocess.run([*common, "--out", str(tmp_path / "local"), "--workers", "0"], check=True, cwd=REPO)
    joined = [*common, "--out", str(tmp_path / "ray"), "--executor", "ray", "--ray-address", address]
    token = {"RAY_AUTH_MODE": "token"}  # Ray sends its token to an explicit address only when told to
    subprocess.run(joined, check=True, cwd=REPO, env={**os.environ, **token})
    assert comparable(tmp_path / "ray") == comparable(tmp_path / "local")


def test_a_model_loaded_per_worker_is_pointed_out():
    from types import SimpleNamespace

    from agentrm_bench import policies

    judged = SimpleNamespace(settings=lambda: {"model": "scripted", "rm": "judge:hf:/models/judge"})
    served = policies.create("greedy", model="openai:http://10.0.0.1:8000/v1,http://10.0.0.2:8000/v1", rm="oracle")
    notes = ray_executor.placement_notes(judged)
    assert len(notes) == 1 and "reward model 'judge:hf:/models/judge'" in notes[0]
    assert ray_executor.placement_notes(served) == []
    assert "--model openai:URL" in ray_executor.placement_notes(policies.create("greedy"))[0]
