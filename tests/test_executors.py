"""The executors: which way a command's episodes run, the public chunk entry point, no import back to the harness.

That every way gives the records of the others is checked where the runs are (tests/test_harness.py,
tests/test_policies_llm.py, tests/test_ray.py); here, the choice of way itself and the worker's API.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from agentrm_bench import costs, executors, harness, policies
from agentrm_bench import tasks as tasks_table
from agentrm_bench.executors import preload, processes, schedule, worker
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


def test_a_cached_environment_serves_only_runs_that_would_build_the_same_one(tmp_path, monkeypatch):
    """A driver plays several runs; one whose data folder or turn budget differs gets an environment of its own."""
    data_root = os.environ.get("AGENTRM_BENCH_DATA")
    if not data_root or not (Path(data_root) / "babyai").is_dir():
        pytest.skip("BabyAI annotations absent: set AGENTRM_BENCH_DATA")
    worker.close_envs()
    monkeypatch.setenv("AGENTRM_BENCH_DATA", str(tmp_path / "empty"))
    without = worker.play_episode(RunConfig(policy="expert", tasks=("babyai",)), "babyai", 0)
    monkeypatch.setenv("AGENTRM_BENCH_DATA", data_root)
    config = RunConfig(policy="expert", tasks=("babyai",))
    with_data = worker.play_episode(config, "babyai", 0)
    assert without.progress is None and with_data.progress == 1.0
    short = worker.play_episode(RunConfig(policy="expert", tasks=("babyai",), max_turns=1), "babyai", 0)
    assert short.turns == 1 and with_data.turns > 1
    worker.close_envs()


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
            # as packages: the cli package's every module counts, not only its __init__
            assert graph.find_shortest_chain(module, above, as_packages=True) is None, f"{module} reaches {above}"
        for imported in graph.find_modules_directly_imported_by(module) - inside:
            back = graph.find_shortest_chain(imported, module)
            assert back is None, f"import cycle: {module} -> {' -> '.join(back or ())}"
    assert graph.find_shortest_chain("agentrm_bench.search", "agentrm_bench.executors") is None


# ---------------------------------------------------------------------- start-up paid once, longest first


def _imported(names: list[str]) -> dict[str, bool]:
    """Run in a pool worker: which of ``names`` it has imported before doing anything."""
    import sys

    return {name: name in sys.modules for name in names}


def _variable(name: str) -> str | None:
    return os.environ.get(name)


def test_a_run_names_its_tasks_engines_and_its_policy_for_the_workers_to_import():
    names = processes.modules_for(RunConfig(policy="expert", tasks=("babyai", "tool-operation")))
    assert {"agentrm_bench.executors.worker", "agentrm_bench.policies", "minigrid"} <= set(names)
    assert {"agentrm_bench.envs.babyai.env", "agentrm_bench.envs.babyai.expert"} <= set(names)  # the package's
    assert "agentrm_bench.envs.tool_operation.env" in names  # a server task: its client only, not its service
    assert not any(name.startswith("agentrm_bench.envs.tool_operation.s") for name in names)
    assert "agentrm_bench.search.policy" in processes.modules_for(RunConfig(policy="beam", tasks=("maze",)))
    assert "tests.slow_policy" in processes.modules_for(RunConfig(policy="tests.slow_policy:Slow", tasks=("maze",)))


def test_pool_workers_start_with_the_modules_imported_and_the_drivers_environment(monkeypatch):
    if "forkserver" not in multiprocessing.get_all_start_methods():
        pytest.skip("no forkserver on this platform: workers are spawned")
    monkeypatch.setenv("AGENTRM_TEST_SEEN_BY_WORKERS", "first")
    processes.start_forkserver(["tabnanny", "no.such.module"])  # a missing module must not stop the server
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        assert pool.submit(_imported, ["tabnanny"]).result() == {"tabnanny": True}
        assert pool.submit(_variable, "AGENTRM_TEST_SEEN_BY_WORKERS").result() == "first"
        assert pool.submit(_variable, preload.VARIABLE).result() is None
    monkeypatch.setenv("AGENTRM_TEST_SEEN_BY_WORKERS", "second")  # a changed environment restarts the server
    processes.start_forkserver(["tabnanny"])
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        assert pool.submit(_variable, "AGENTRM_TEST_SEEN_BY_WORKERS").result() == "second"


def test_preloading_survives_modules_that_fail_to_import():
    assert preload.preload(["json", "no.such.module"]) == ["no.such.module"]


@pytest.fixture
def cost_book(tmp_path, monkeypatch):
    monkeypatch.setenv(schedule.VARIABLE, str(tmp_path / "costs"))
    return tmp_path / "costs"


def test_episodes_are_ordered_longest_expected_first_from_recorded_times(cost_book):
    config = RunConfig(policy="expert", tasks=("maze", "babyai"))
    todo = [("maze", 0), ("maze", 1), ("maze", 2), ("babyai", 0), ("babyai", 1)]
    # Nothing recorded: tasks by turn budget, the plan's order within a task.
    budgets = {name: tasks_table.get(name).max_turns for name in ("maze", "babyai")}
    longer, shorter = sorted(budgets, key=budgets.get, reverse=True)
    assert schedule.longest_first(config, todo) == [k for k in todo if k[0] == longer] + [
        k for k in todo if k[0] == shorter
    ]
    schedule.remember(config, [("maze", 1, 3.0, 10), ("maze", 2, 1.0, 10), ("babyai", 0, 0.5, 5)])
    assert schedule.longest_first(config, todo) == [
        ("maze", 1),  # 3 s recorded
        ("maze", 0),  # never played: the median of Maze's recorded times, 2 s
        ("maze", 2),  # 1 s
        ("babyai", 0),  # 0.5 s
        ("babyai", 1),  # never played: BabyAI's median, 0.5 s (ties keep the plan's order)
    ]
    other = RunConfig(policy="random", tasks=("maze",))  # another policy's times are not this one's
    assert schedule.expected_seconds(other, [("maze", 1)]) == {("maze", 1): budgets["maze"] * 1.0}


def test_a_pool_run_records_its_times_and_the_next_run_starts_with_the_longest(cost_book, tmp_path):
    config = RunConfig(policy="expert", tasks=("maze",), limit=4)
    harness.run(config, tmp_path / "first", workers=0, show_progress=False)
    recorded = schedule.expected_seconds(config, [("maze", i) for i in range(4)])
    assert all(seconds > 0 for seconds in recorded.values()) and len(set(recorded.values())) > 1
    longest = max(recorded, key=recorded.get)
    schedule.remember(config, [(*longest, 60.0, 1)])  # make it unmistakably the longest
    harness.run(config, tmp_path / "second", workers=1, show_progress=False)  # one worker: records in start order
    assert read_records(tmp_path / "second")[0].key == longest
    harness.run(config, tmp_path / "here", workers=0, show_progress=False)  # in process: the plan's order
    assert [r.index for r in read_records(tmp_path / "here")] == [0, 1, 2, 3]


def test_the_cost_book_can_be_switched_off(monkeypatch, tmp_path):
    monkeypatch.setenv(schedule.VARIABLE, "off")
    config = RunConfig(policy="expert", tasks=("maze",))
    schedule.remember(config, [("maze", 0, 1.0, 3)])
    budget = tasks_table.get("maze").max_turns
    assert schedule.book_dir() is None and schedule.expected_seconds(config, [("maze", 0)]) == {("maze", 0): budget}
