"""Episodes per second: the local executor against Ray on this machine (the Ray overhead per episode).

All 112 BabyAI instances x 30 no-op steps, as the harness-overhead benchmark, under: the local executor
in this process, the local executor at 2 worker processes (their start included, as in a real run), and
Ray tasks on a 2-CPU local cluster started once for the module (its start is not included: a cluster
outlives runs). And Ray's cost per episode alone: 25 Maze expert episodes, whose own work is microseconds.
"""

from __future__ import annotations

import pytest

from agentrm_bench import harness
from agentrm_bench.executors import ray as ray_executor
from agentrm_bench.manifest import RunConfig

ray = pytest.importorskip("ray")

CONFIG = RunConfig(policy="noop", tasks=("babyai",))
TINY = RunConfig(policy="expert", tasks=("maze",))


@pytest.fixture(scope="module")
def cluster():
    yield ray_executor.connect("local", num_cpus=2)
    ray.shutdown()


@pytest.mark.parametrize("mode", ["local-0-workers", "local-2-workers", "ray-2-cpus"])
def test_episodes_per_second_local_vs_ray(benchmark, tmp_path_factory, cluster, mode):
    benchmark.group = "executor (112 BabyAI episodes x 30 no-op steps)"
    executor, count = mode.split("-")[0], int(mode.split("-")[1])

    def run_once():
        out = tmp_path_factory.mktemp("run")
        if executor == "ray":
            summary = harness.run(CONFIG, out, show_progress=False, executor="ray")
        else:
            summary = harness.run(CONFIG, out, workers=count, show_progress=False)
        assert summary.finished == 112

    benchmark.pedantic(run_once, rounds=3, iterations=1, warmup_rounds=1)


@pytest.mark.parametrize("executor", ["local", "ray"])
def test_ray_cost_per_episode(benchmark, tmp_path_factory, cluster, executor):
    """25 near-empty episodes (Maze expert, ~50 us each) in this process or as 25 Ray tasks: time / 25."""
    benchmark.group = "executor cost (25 Maze expert episodes)"

    def run_once():
        out = tmp_path_factory.mktemp("run")
        summary = harness.run(
            TINY, out, workers=0 if executor == "local" else None, show_progress=False, executor=executor
        )
        assert summary.finished == 25

    benchmark.pedantic(run_once, rounds=5, iterations=1, warmup_rounds=1)
