"""AgentBoard's 60 PDDL problems, parsed and grounded with unified-planning.

Why unified-planning (Apache-2.0): it is maintained, parses these typed STRIPS files, and grounds
them with its own grounder (``up_grounder``, no GPL code involved), and the expert's planner
(Fast Downward through ``up-fast-downward``) consumes the very same parsed problem. AgentBoard itself
drives a vendored ``pddlgym``; that package pins the unmaintained ``gym`` and ``pillow<10`` and its
successor ``pddlgymnasium`` needs ``gymnasium<1``, so it cannot sit beside this project's
dependencies. The semantics do not change: a state is the set of true atoms, an action applies when
its (grounded) preconditions hold, deletes are applied before adds, as in PDDL and in pddlgym.

Grounding is the slow part (up to ~6 s for the largest barman problem on this machine), so the
grounded table of each problem is cached as JSON in the user's cache directory, keyed by the
sha256 of the exact texts that were parsed and by the unified-planning version.

The instances are facts of AgentBoard's run configuration: domains in the order gripper (20),
blockworld (10), barman (20), tyreworld (10); problem k of a domain is the k-th file of its folder
in lexicographic order (so blockworld goes problem1, problem10, problem2, ...).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import platformdirs

from ... import data
from .upstream import FILES

# unified-planning's engine factory imports every planner package it finds. up-fast-downward (the PDDL
# expert's planner, which we run out of process) cannot be imported beside ALFWorld's TextWorld: both ship
# a ``fast_downward`` package, and with TextWorld's in place up-fast-downward's import parses sys.argv and
# exits. We never use it in process, so it is hidden from the factory (the expert finds its files itself).
sys.modules.setdefault("up_fast_downward", None)  # type: ignore[arg-type]

Atom = tuple[str, ...]  # (predicate, object, object, ...)
ActionKey = tuple[str, tuple[str, ...]]  # (operator, objects)

DOMAINS: tuple[tuple[str, int], ...] = (("gripper", 20), ("blockworld", 10), ("barman", 20), ("tyreworld", 10))
_STEMS = {"gripper": "prob{:02d}", "blockworld": "problem{}", "barman": "p{:02d}", "tyreworld": "p{:02d}"}
CACHE_SCHEMA = 1


def problem_files(domain: str) -> list[str]:
    """The problem file names of ``domain`` in AgentBoard's (lexicographic) order."""
    count = dict(DOMAINS)[domain]
    return sorted(f"{_STEMS[domain].format(k)}.pddl" for k in range(1, count + 1))


@dataclass(frozen=True)
class Instance:
    """Row ``index`` of the test set: which domain file and problem file it is."""

    index: int
    domain: str
    problem: str  # file name inside ``pddl/<domain>/``

    @property
    def domain_path(self) -> str:
        return f"pddl/{self.domain}.pddl"

    @property
    def problem_path(self) -> str:
        return f"pddl/{self.domain}/{self.problem}"


INSTANCES: tuple[Instance, ...] = tuple(
    Instance(i, domain, name) for i, (domain, name) in enumerate((d, n) for d, _ in DOMAINS for n in problem_files(d))
)


@dataclass(frozen=True)
class GroundAction:
    """One grounded operator, as STRIPS sets of atoms."""

    operator: str
    args: tuple[str, ...]
    pre_pos: frozenset[Atom]
    pre_neg: frozenset[Atom]
    add: frozenset[Atom]
    delete: frozenset[Atom]

    def applicable(self, state: frozenset[Atom]) -> bool:
        return self.pre_pos <= state and not (self.pre_neg & state)

    def apply(self, state: frozenset[Atom]) -> frozenset[Atom]:
        """Deletes first, then adds (PDDL's rule: an atom both added and deleted stays true)."""
        return (state - self.delete) | self.add


@dataclass(frozen=True)
class GroundProblem:
    domain: str
    objects: tuple[str, ...]
    init: frozenset[Atom]
    goal: tuple[Atom, ...]
    actions: dict[ActionKey, GroundAction]

    @property
    def operators(self) -> set[str]:
        return {key[0] for key in self.actions}


class PDDLFormatError(ValueError):
    """A domain or problem uses something outside typed STRIPS, or a known fix no longer applies."""


def data_availability() -> tuple[bool, str]:
    """(every row can run here, note) for the task table: the PDDL files are needed, ``test.jsonl`` is not."""
    absent = [f.path for f in data.missing(FILES)]
    files = [path for path in absent if path.startswith("pddl/")]
    if files:
        return False, f"{len(files)} of 64 PDDL files absent (agentrm-bench data fetch pddl)"
    if absent:
        return True, "test.jsonl absent: no easy/hard labels (agentrm-bench data fetch pddl)"
    return True, "ready"


# ----------------------------------------------------------------------------- source texts
def _read(relative: str) -> str:
    return data.path(FILES, relative).read_text()


def fix_tyreworld_domain(text: str) -> str:
    """Make AgentBoard's tyreworld domain parse in unified-planning, without changing its meaning.

    Two fixes: ``:constants`` moves before ``:predicates`` (the order PDDL's BNF requires), and the
    ``in`` predicate declares its argument types as they are used everywhere (object, container);
    pddlgym, which AgentBoard runs, does not check predicate argument types, so this is its semantics.
    """
    constants = re.search(r"\(:constants[^)]*\)", text)
    if constants is None or "(:predicates" not in text:
        raise PDDLFormatError("tyreworld domain: expected a :constants block and a :predicates block")
    text = text.replace(constants.group(0), "", 1).replace("(:predicates", constants.group(0) + "\n(:predicates", 1)
    wrong = "(in ?x - container ?y - obj)"
    if wrong not in text:
        raise PDDLFormatError(f"tyreworld domain: expected the declaration {wrong!r} to fix")
    return text.replace(wrong, "(in ?x - obj ?y - container)", 1)


def fix_tyreworld_problem(text: str) -> str:
    """Drop the problem's re-declaration of the domain constants ``wrench jack pump - tool``."""
    fixed, count = re.subn(r"\n\s*wrench jack pump - tool\s*\n", "\n", text, count=1)
    if count != 1:
        raise PDDLFormatError("tyreworld problem: expected the line 'wrench jack pump - tool' to remove")
    return fixed


def source_texts(instance: Instance) -> tuple[str, str]:
    """The domain and problem texts that are parsed: the data files, with the tyreworld fixes in memory.

    The files under the data folder are never modified.
    """
    domain, problem = _read(instance.domain_path), _read(instance.problem_path)
    if instance.domain == "tyreworld":
        domain, problem = fix_tyreworld_domain(domain), fix_tyreworld_problem(problem)
    return domain, problem


def parse(instance: Instance) -> Any:
    """The unified-planning ``Problem`` of ``instance``."""
    from unified_planning.io import PDDLReader

    domain, problem = source_texts(instance)
    return PDDLReader().parse_problem_string(domain, problem)


# ----------------------------------------------------------------------------- grounding
def _atom(node: Any) -> Atom:
    if not node.is_fluent_exp():
        raise PDDLFormatError(f"expected an atom, got {node}")
    return (node.fluent().name.lower(), *(arg.object().name.lower() for arg in node.args))


def _literals(node: Any) -> tuple[list[Atom], list[Atom]]:
    """Positive and negative atoms of a conjunction of literals."""
    if node.is_true():
        return [], []
    if node.is_and():
        pos: list[Atom] = []
        neg: list[Atom] = []
        for arg in node.args:
            p, n = _literals(arg)
            pos += p
            neg += n
        return pos, neg
    if node.is_not():
        return [], [_atom(node.arg(0))]
    return [_atom(node)], []


def ground(problem: Any, domain: str) -> GroundProblem:
    """Ground ``problem`` with unified-planning's own grounder into STRIPS tables."""
    import unified_planning.shortcuts as ups
    from unified_planning.plans import ActionInstance

    ups.get_environment().credits_stream = None
    with ups.Compiler(name="up_grounder") as grounder:
        result = grounder.compile(problem)
    actions: dict[ActionKey, GroundAction] = {}
    for action in result.problem.actions:
        lifted = result.map_back_action_instance(ActionInstance(action))
        key = (lifted.action.name.lower(), tuple(p.object().name.lower() for p in lifted.actual_parameters))
        pos: list[Atom] = []
        neg: list[Atom] = []
        for condition in action.preconditions:
            p, n = _literals(condition)
            pos += p
            neg += n
        add, delete = set(), set()
        for effect in action.effects:
            if effect.is_conditional() or not effect.value.is_bool_constant():
                raise PDDLFormatError(f"{key}: only unconditional boolean effects are supported, got {effect}")
            (add if effect.value.bool_constant_value() else delete).add(_atom(effect.fluent))
        actions[key] = GroundAction(key[0], key[1], frozenset(pos), frozenset(neg), frozenset(add), frozenset(delete))
    init = frozenset(_atom(f) for f, v in problem.explicit_initial_values.items() if v.bool_constant_value())
    goal_pos: list[Atom] = []
    for goal in problem.goals:
        p, n = _literals(goal)
        if n:
            raise PDDLFormatError(f"negative goals are not supported: {n}")
        goal_pos += p
    objects = tuple(o.name.lower() for o in problem.all_objects)
    return GroundProblem(domain, objects, init, tuple(dict.fromkeys(goal_pos)), actions)


# ----------------------------------------------------------------------------- cache
def cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir("agentrm-bench")) / "pddl-grounded"


def _cache_key(instance: Instance) -> str:
    import unified_planning

    domain, problem = source_texts(instance)
    digest = hashlib.sha256()
    for part in (str(CACHE_SCHEMA), unified_planning.__version__, domain, problem):
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:32]


def _to_json(problem: GroundProblem) -> dict[str, Any]:
    return {
        "domain": problem.domain,
        "objects": list(problem.objects),
        "init": sorted(problem.init),
        "goal": list(problem.goal),
        "actions": [
            [a.operator, a.args, sorted(a.pre_pos), sorted(a.pre_neg), sorted(a.add), sorted(a.delete)]
            for a in problem.actions.values()
        ],
    }


def _from_json(blob: dict[str, Any]) -> GroundProblem:
    def atoms(items: list[list[str]]) -> frozenset[Atom]:
        return frozenset(tuple(x) for x in items)

    actions = {}
    for operator, args, pre_pos, pre_neg, add, delete in blob["actions"]:
        action = GroundAction(operator, tuple(args), atoms(pre_pos), atoms(pre_neg), atoms(add), atoms(delete))
        actions[(operator, tuple(args))] = action
    return GroundProblem(
        blob["domain"], tuple(blob["objects"]), atoms(blob["init"]), tuple(tuple(g) for g in blob["goal"]), actions
    )


@lru_cache(maxsize=64)
def load(index: int) -> GroundProblem:
    """The grounded problem of test row ``index`` (memoised, and cached on disk across processes)."""
    instance = INSTANCES[index]
    file = cache_dir() / f"{instance.domain}-{instance.problem[:-5]}-{_cache_key(instance)}.json"
    if file.is_file():
        try:
            return _from_json(json.loads(file.read_text()))
        except (ValueError, KeyError, TypeError):
            pass  # a damaged cache file is rebuilt below
    grounded = ground(parse(instance), instance.domain)
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=file.parent, delete=False, suffix=".tmp") as out:
            json.dump(_to_json(grounded), out)
        os.replace(out.name, file)
    except OSError:
        pass  # an unwritable cache only costs time
    return grounded


def difficulties() -> list[str] | None:
    """AgentBoard's easy/hard label of each row, from ``test.jsonl`` (None when the file is absent)."""
    try:
        file = data.path(FILES, "test.jsonl")
    except data.DataMissingError:
        return None
    rows = [json.loads(line) for line in file.read_text().splitlines() if line.strip()]
    if len(rows) != len(INSTANCES):
        raise PDDLFormatError(f"{file}: expected {len(INSTANCES)} rows, found {len(rows)}")
    for row, instance in zip(rows, INSTANCES, strict=True):
        if row.get("additional_info", {}).get("subtask") != instance.domain:
            raise PDDLFormatError(f"{file}: row {row.get('id')} is not a {instance.domain} problem")
    return [str(row.get("difficulty", "")) for row in rows]
