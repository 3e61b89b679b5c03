"""Speed of the PDDL task: one environment step per domain, and the expert's planner per problem.

Run with ``pytest tests/benchmarks/test_bench_pddl.py --benchmark-only``. A step includes what the
harness sees: reading the action, applying it, and the sorted list of admissible actions for the
next ``info``. Planner time is the expert's whole portfolio on a problem's initial state with
AgentBoard's 30-turn budget (Fast Downward through unified-planning, one process, as the expert runs).
"""

from __future__ import annotations

import itertools

import pytest

pytest.importorskip("unified_planning")

from agentrm_bench.envs.pddl import expert as pddl_expert
from agentrm_bench.envs.pddl import problems  # noqa: E402
from agentrm_bench.envs.pddl.env import PDDLEnv  # noqa: E402

from ..conftest import data_file  # noqa: E402


def stepper(domain: str):
    """A callable doing one step: cycles through the domain's rows and their admissible actions."""
    data_file("pddl", f"pddl/{domain}.pddl")
    env = PDDLEnv(max_turns=10**9)
    rows = itertools.cycle([i.index for i in problems.INSTANCES if i.domain == domain])
    for index in {i.index for i in problems.INSTANCES if i.domain == domain}:
        problems.load(index)  # grounding happens once per process, outside the timing
    state = {"turns": 0, "k": 0}
    _, info = env.reset(options={"index": next(rows)})
    state["actions"] = info["admissible_actions"]

    def step():
        actions = state["actions"]
        state["k"] += 1
        _, _, terminated, truncated, info = env.step(actions[state["k"] % len(actions)])
        state["actions"] = info["admissible_actions"]
        state["turns"] += 1
        if terminated or truncated or state["turns"] >= 30:
            state["turns"] = 0
            _, info = env.reset(options={"index": next(rows)})
            state["actions"] = info["admissible_actions"]

    return step


@pytest.mark.parametrize("domain", [d for d, _ in problems.DOMAINS])
def test_pddl_step(benchmark, domain):
    benchmark.group = "pddl step"
    benchmark(stepper(domain))


@pytest.mark.parametrize("index", range(len(problems.INSTANCES)), ids=lambda i: problems.INSTANCES[i].problem_path)
def test_pddl_planner_per_problem(benchmark, index):
    """The expert's planner portfolio on one problem (one round: a plan takes about a second)."""
    if not pddl_expert.available():
        pytest.skip("the PDDL expert needs the pddl-expert extra (up-fast-downward)")

    data_file("pddl", problems.INSTANCES[index].problem_path)
    benchmark.group = "pddl planner (expert portfolio, 30-turn budget)"
    ground = problems.load(index)
    pddl_expert._lifted(index)  # parsing is not planning
    result = benchmark.pedantic(pddl_expert.solve, args=(index, ground, ground.init, 30), rounds=1, iterations=1)
    benchmark.extra_info.update(plan_length=len(result.plan), planner=result.planner, fits=result.fits)
    assert result.plan
