"""The executors: which way a command's episodes run, the public chunk entry point, no import back to the harness.

That every way gives the records of the others is checked where the runs are (tests/test_harness.py,
tests/test_policies_llm.py, tests/test_ray.py); here, the choice of way itself and the worker's API.
"""

from __future__ import annotations

import os

import pytest

from agentrm_bench import costs, executors, harness, policies
from agentrm_bench.executors import worker
from agentrm_bench.manifest import RunConfig
from agentrm_bench.records import read_records

from .scripted_policies import SeededGreedy

SIMULATOR_ONLY = policies.create("random")  # in_process False, in_flight 1
MODEL = SeededGreedy()  # in_process True, in_flight 8


@pytest.mark.parametrize(
    ("executor", "workers", "in_flight", "policy", "way", "line"),
    [
        ("local", 0, None, SIMULATOR_ONLY, "here", "episodes: in this process, one at a time"),
        ("local", None, None, MODEL, "here-in-flight", "episodes: in this process, 8 in flight"),
        ("local", None, 1, MODEL, "here", "episodes: in this process, one at a time"),
        ("local", 3, None, SIMULATOR_ONLY, "pool", "episodes: 3 worker processes, one at a time each"),
        ("local", 2, None, MODEL, "pool-in-flight", "episodes: 2 worker processes, 8 in flight each"),
        ("local", 2, 4, SIMULATOR_ONLY, "pool-in-flight", "episodes: 2 worker processes, 4 in flight each"),
        ("ray", 5, None, SIMULATOR_ONLY, "ray", "episodes: Ray tasks, one at a time each"),
        ("ray", None, 2, MODEL, "ray", "episodes: Ray tasks, 2 in flight each"),
    ],
)
def test_route_says_which_of_the_five_ways_a_command_takes(executor, workers, in_flight, policy, way, line):
    route = executors.route(executor, workers, in_flight, policy)
    assert route.way == way and route.way in executors.WAYS
    assert route.describe() == line


def test_simulator_only_policies_default_to_one_worker_per_core():
    route = executors.route("local", None, None, SIMULATOR_ONLY)
    assert (route.way, route.workers, route.in_flight) == ("pool", os.cpu_count() or 1, 1)


def test_an_unknown_executor_is_refused():
    with pytest.raises(ValueError, match="unknown executor 'slurm'; choose one of local, ray"):
        executors.route("slurm", None, None, SIMULATOR_ONLY)


def test_a_run_says_its_way_in_one_line(tmp_path, capsys):
    harness.run(RunConfig(policy="expert", tasks=("maze",), limit=2), tmp_path, workers=0)
    lines = capsys.readouterr().err.splitlines()
    assert "episodes: in this process, one at a time" in lines


def test_play_chunk_gives_the_records_of_a_run(tmp_path):
    """The public entry point, called as a pool worker or a Ray task calls it: the run's own records."""
    config = RunConfig(policy="tests.scripted_policies:SeededGreedy", tasks=("maze",), limit=3, seed=5)
    harness.run(config, tmp_path, workers=0, in_flight=1, show_progress=False)
    from_run = sorted((r.to_json() for r in read_records(tmp_path)), key=lambda r: r["index"])
    chunk = [("maze", 0), ("maze", 1), ("maze", 2)]
    for in_flight in (1, 2):
        played = sorted((r.to_json() for r in worker.play_chunk(config, chunk, in_flight)), key=lambda r: r["index"])
        assert [costs.untimed(r) for r in played] == [costs.untimed(r) for r in from_run]  # clocks aside
        assert [r["seed"] for r in played] == [worker.episode_seed(5, "maze", i) for i in range(3)]


def test_a_lost_episode_says_why_and_is_never_scored():
    record = worker.lost_episode(RunConfig(policy="random", tasks=("maze",), seed=2), "maze", 4, "node lost")
    assert (record.key, record.error, record.success) == (("maze", 4), "node lost", False)
    assert record.seed == worker.episode_seed(2, "maze", 4)


def test_executors_never_import_the_harness_and_sit_in_no_cycle():
    grimp = pytest.importorskip("grimp")
    graph = grimp.build_graph("agentrm_bench")
    inside = {m for m in graph.modules if m == "agentrm_bench.executors" or m.startswith("agentrm_bench.executors.")}
    for module in sorted(inside):
        for above in ("agentrm_bench.harness", "agentrm_bench.cli", "agentrm_bench.submission"):
            assert graph.find_shortest_chain(module, above) is None, f"{module} reaches {above}"
        for imported in graph.find_modules_directly_imported_by(module) - inside:
            back = graph.find_shortest_chain(imported, module)
            assert back is None, f"import cycle: {module} -> {' -> '.join(back or ())}"
    assert graph.find_shortest_chain("agentrm_bench.search", "agentrm_bench.executors") is None
