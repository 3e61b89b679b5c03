"""The PDDL expert: Fast Downward plans from the current state, replayed as text actions.

Fast Downward (through ``up-fast-downward``) is GPL-3.0, so it lives in the optional extra
``pddl-expert`` and is imported only here, only when an expert action is asked for; the environment
itself needs only unified-planning (Apache-2.0).

Plans must fit AgentBoard's 30-step budget, and Fast Downward's quick configuration (``lama-first``)
returns valid but long plans (barman p01: 35 steps where 12 suffice). So a small portfolio runs in
order and stops at the first plan that fits the turns left:

1. ``lama-first`` (greedy, well under a second here);
2. lazy weighted A* (w=2) with the FF heuristic and preferred operators: the 23-24-step barman plans
   (lama-first: 31-35) in a few seconds;
3. A* with the FF heuristic (``eager_wastar([ff()], w=1)``), which finds the 30-step gripper plan
   that the weighted searches miss.

Every run has a wall-clock timeout and Fast Downward's own search time limit. (Fast Downward's
anytime mode through unified-planning's ``AnytimePlanner`` is not used: stopping it early left a
search process running here.)

When nothing fits, the shortest plan found is used and reported as not fitting (five of the 60
problems have no plan within 30 steps at all; PROVENANCE.md lists them). Each plan is checked by
replaying it on the grounded problem; an expert episode follows the plan it made (the environment
keeps it), so it plans once, and a state off that plan (after another policy's steps, or a restore) is
planned from afresh. Plans are remembered per (row, state, budget) only, so an episode never depends
on what the process planned before.
"""

from __future__ import annotations

import importlib.machinery
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from . import problems
from .problems import ActionKey, Atom, GroundAction, GroundProblem

EXTRA_HINT = "pip install 'agentrm-bench[pddl-expert]'"


@dataclass(frozen=True)
class Config:
    name: str
    search: dict[str, str]  # the search: a driver alias or a search configuration
    timeout: int  # seconds


PORTFOLIO: tuple[Config, ...] = (
    Config("lama-first", {"fast_downward_alias": "lama-first"}, 60),
    Config("lazy-wastar-ff-w2", {"fast_downward_search_config": "let(h,ff(),lazy_wastar([h],preferred=[h],w=2))"}, 30),
    Config("astar-ff", {"fast_downward_search_config": "eager_wastar([ff()],w=1)"}, 30),
)


class ExpertUnavailableError(RuntimeError):
    """The planner is not installed."""


@dataclass(frozen=True)
class PlanResult:
    plan: tuple[ActionKey, ...]
    planner: str  # the portfolio entry that gave the plan
    seconds: float  # planner wall time, all entries tried
    fits: bool  # whether the plan fits the budget it was asked for


def available() -> bool:
    return _planner_spec() is not None


def _planner_spec() -> Any:
    """up-fast-downward's package spec, found on sys.path (the module itself is hidden: pddl_problems)."""
    return importlib.machinery.PathFinder.find_spec("up_fast_downward")


@lru_cache(maxsize=8)
def _lifted(index: int) -> Any:
    return problems.parse(problems.INSTANCES[index])


def problem_from(index: int, state: frozenset[Atom]) -> Any:
    """The unified-planning problem of row ``index`` with ``state`` as its initial state."""
    problem = _lifted(index).clone()
    fluents = {f.name.lower(): f for f in problem.fluents}
    objects = {o.name.lower(): o for o in problem.all_objects}

    def node(atom: Atom) -> Any:
        return fluents[atom[0]](*(objects[name] for name in atom[1:]))

    initial = {
        (f.fluent().name.lower(), *(a.object().name.lower() for a in f.args))
        for f, v in problem.explicit_initial_values.items()
        if v.bool_constant_value()
    }
    for atom in initial - state:
        problem.set_initial_value(node(atom), False)
    for atom in state - initial:
        problem.set_initial_value(node(atom), True)
    return problem


def _driver() -> tuple[Path, Path]:
    """Fast Downward's driver script and translator as up-fast-downward ships them (not imported)."""
    spec = _planner_spec()  # finds the package without running its __init__
    if spec is None or not spec.submodule_search_locations:
        raise ExpertUnavailableError(f"the PDDL expert needs the Fast Downward planner: {EXTRA_HINT}")
    root = Path(next(iter(spec.submodule_search_locations))) / "downward"
    return root / "fast-downward.py", root / "builds" / "release" / "bin" / "fast_downward" / "translate"


def _run(config: Config, problem: Any) -> tuple[ActionKey, ...] | None:
    """One portfolio entry: Fast Downward's driver in a subprocess, in a private folder.

    The planner runs out of process, and its translator is put first on the path through a private
    ``fast_downward`` package: importing up-fast-downward in this process would pull in the
    ``fast-downward-translate`` package, which shares the ``fast_downward`` name with the older
    translator that ALFWorld's TextWorld needs, and the two cannot live in one process. A private
    folder also keeps Fast Downward's ``output.sas`` away from other workers' planners.
    """
    from unified_planning.io import PDDLWriter

    driver, translate = _driver()
    writer = PDDLWriter(problem)
    with tempfile.TemporaryDirectory(prefix="agentrm-fd-") as scratch:
        folder = Path(scratch)
        (folder / "domain.pddl").write_text(writer.get_domain())
        (folder / "problem.pddl").write_text(writer.get_problem())
        package = folder / "shim" / "fast_downward"
        package.mkdir(parents=True)
        (package / "__init__.py").write_text("")
        (package / "translate").symlink_to(translate, target_is_directory=True)
        search = config.search
        command = [
            sys.executable,
            str(driver),
            "--plan-file",
            "plan",
            "--sas-file",
            "output.sas",
            "--search-time-limit",
            f"{config.timeout}s",
        ]
        if "fast_downward_alias" in search:
            command += ["--alias", search["fast_downward_alias"], "domain.pddl", "problem.pddl"]
        else:
            command += ["domain.pddl", "problem.pddl", "--search", search["fast_downward_search_config"]]
        environment = {**os.environ, "PYTHONPATH": str(folder / "shim")}
        try:
            subprocess.run(command, cwd=folder, env=environment, capture_output=True, timeout=config.timeout + 30)
        except subprocess.TimeoutExpired:
            return None
        plan_file = folder / "plan"
        if not plan_file.exists():
            return None
        return tuple(_key(writer, line) for line in plan_file.read_text().splitlines() if line.startswith("("))


def _key(writer: Any, line: str) -> ActionKey:
    """A plan line ``(pick ball1 rooma left)`` as our (action, arguments) key, names as the problem has them."""

    def name(token: str) -> str:
        try:
            return writer.get_item_named(token).name.lower()
        except Exception:  # noqa: BLE001 - a name the writer kept as it was
            return token.lower()

    action, *arguments = line.strip().strip("()").split()
    return (name(action), tuple(name(a) for a in arguments))


def replay(ground: GroundProblem, state: frozenset[Atom], plan: tuple[ActionKey, ...]) -> list[frozenset[Atom]]:
    """The states a plan passes through; raises if a step does not apply or the goal is not reached."""
    states = [state]
    for key in plan:
        action = ground.actions.get(key)
        if action is None or not action.applicable(states[-1]):
            raise RuntimeError(f"{ground.domain}: planned step {key} does not apply in the grounded problem")
        states.append(action.apply(states[-1]))
    if not all(atom in states[-1] for atom in ground.goal):
        raise RuntimeError(f"{ground.domain}: the plan does not reach the goal")
    return states


def solve(index: int, ground: GroundProblem, state: frozenset[Atom], budget: int) -> PlanResult:
    """Plan from ``state``: the first portfolio plan of at most ``budget`` steps, else the shortest."""
    if not available():
        raise ExpertUnavailableError(f"the PDDL expert needs the Fast Downward planner: {EXTRA_HINT}")
    problem = problem_from(index, state)
    start = time.perf_counter()
    best: tuple[tuple[ActionKey, ...], str] | None = None
    for config in PORTFOLIO:
        plan = _run(config, problem)
        if plan is not None and (best is None or len(plan) < len(best[0])):
            best = (plan, config.name)
        if best is not None and len(best[0]) <= budget:
            break
    if best is None:
        raise RuntimeError(f"row {index}: no planner in the portfolio found a plan")
    replay(ground, state, best[0])
    return PlanResult(best[0], best[1], time.perf_counter() - start, len(best[0]) <= budget)


# (row, state, budget) -> the portfolio's plan from that state. A pure function of its key: what an expert
# episode does never depends on what this process planned before (other episodes, other policies' states).
_SOLVED: dict[tuple[int, frozenset[Atom], int], PlanResult] = {}


@dataclass(frozen=True)
class Following:
    """The plan an expert episode is following: each remaining step with the state it is taken from."""

    steps: tuple[tuple[frozenset[Atom], ActionKey], ...]
    exhausted: bool  # the portfolio found nothing within the budget it was given


def plan_from(index: int, ground: GroundProblem, state: frozenset[Atom], budget: int) -> PlanResult:
    """``solve``, remembered per (row, state, budget)."""
    key = (index, state, budget)
    if key not in _SOLVED:
        if len(_SOLVED) > 10_000:
            _SOLVED.clear()
        _SOLVED[key] = solve(index, ground, state, budget)
    return _SOLVED[key]


def next_action(
    index: int, ground: GroundProblem, state: frozenset[Atom], budget: int, following: Following | None = None
) -> tuple[GroundAction, Following]:
    """The expert's next grounding in ``state`` with ``budget`` turns left, and the plan it follows from here.

    An episode keeps following the plan it made (pass back what the last call returned); a state off that
    plan (another policy's step, a restore) or a plan longer than the turns left gets a plan from this state.
    """
    steps = following.steps if following is not None else ()
    while steps and steps[0][0] != state:  # drop the steps already taken
        steps = steps[1:]
    if steps and (len(steps) <= budget or (following is not None and following.exhausted)):
        kept = Following(steps, following.exhausted if following is not None else False)
        return ground.actions[steps[0][1]], kept
    result = plan_from(index, ground, state, budget)
    states = replay(ground, state, result.plan)
    fresh = Following(tuple(zip(states[:-1], result.plan, strict=True)), not result.fits)
    return ground.actions[fresh.steps[0][1]], fresh
