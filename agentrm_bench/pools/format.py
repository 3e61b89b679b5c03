"""The frozen candidate pool as a file: what it holds, how it is written, how it is read and checked.

A pool freezes what a reward model is asked to judge, so that two reward models are compared on the
very same candidates instead of on two draws of a policy's sampling noise. It is one gzipped JSON-lines
file: a header line (how the pool was built: the policy's name, settings and identity, the epsilons of a
synthetic pool, N, K, the rollouts, the tasks and instances, task versions), then one line per test
instance, in task-table order:

- ``candidates``: N complete trajectories the pinned policy played from the instance's start, each with
  its outcome (success, progress) -- the material of Best-of-k;
- ``states``: states sampled along those trajectories, each with K sibling next actions (the action the
  candidate took first), and for each sibling the outcomes of rollouts from the state it leads to: its
  Monte Carlo value -- the material of step-level accuracy.

A pool is content-addressed: its ``sha256`` is that of the *decompressed* bytes (so another zlib, which
may compress the same lines differently, names the same pool), and everything that refers to a pool --
an evaluation, a reward-model submission, a pool's descriptor -- names it by that digest. Steps are
written as ``[thought, action, observation]``; the model's raw reply is not kept (no reward model reads
it).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import tasks as task_table
from ..prompts.trajectory import Step, Trajectory

FORMAT = "agentrm-bench-pool"
VERSION = 1
SUFFIX = ".pool.jsonl.gz"


class PoolError(ValueError):
    """A pool file or name is not usable (absent, corrupt, another digest); the message says which."""


@dataclass(frozen=True)
class Outcome:
    """Where an episode ended: the environment's own verdict, the candidate's label."""

    success: bool
    progress: float | None
    turns: int = 0

    def value(self, metric: str) -> float | None:
        if metric == "success":
            return float(self.success)
        return None if self.progress is None else float(self.progress)


@dataclass(frozen=True)
class Candidate:
    """One complete trajectory of the pinned policy; ``settings`` are those it was played with where
    they vary across candidates (a synthetic pool's epsilon)."""

    steps: tuple[Step, ...]
    outcome: Outcome
    terminated: bool
    truncated: bool
    settings: dict[str, Any] = field(default_factory=dict)
    tokens: int = 0


@dataclass(frozen=True)
class Sibling:
    """One next action at a sampled state, what it led to, and the rollouts played from there.

    ``rollouts`` is empty when the action ended the episode: its value is then its own outcome.
    """

    step: Step
    reached: Outcome  # the outcome as it stands right after this action
    done: bool
    rollouts: tuple[Outcome, ...] = ()

    def value(self, metric: str) -> float | None:
        """The Monte Carlo value: the mean outcome of the rollouts (``metric``: success or progress)."""
        finals = self.rollouts or (self.reached,)
        values = [o.value(metric) for o in finals]
        if any(v is None for v in values):
            return None
        return math.fsum(values) / len(values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class State:
    candidate: int
    depth: int  # steps of that candidate before the state
    siblings: tuple[Sibling, ...]


@dataclass(frozen=True)
class Instance:
    task: str
    index: int
    seed: int
    goal: str
    first_observation: str
    info: dict[str, Any]  # what a reward model may read besides the text (a PDDL domain)
    candidates: tuple[Candidate, ...]
    states: tuple[State, ...] = ()

    @property
    def key(self) -> tuple[str, int]:
        return (self.task, self.index)

    def _trajectory(self, steps: tuple[Step, ...], outcome: Outcome, done: bool) -> Trajectory:
        return Trajectory(
            task=self.task,
            goal=self.goal,
            first_observation=self.first_observation,
            steps=steps,
            progress=outcome.progress,
            success=outcome.success,
            done=done,
            info={**self.info, "turn": len(steps)},
        )

    def candidate_trajectory(self, c: int) -> Trajectory:
        candidate = self.candidates[c]
        return self._trajectory(candidate.steps, candidate.outcome, True)

    def sibling_trajectory(self, s: int, j: int) -> Trajectory:
        """The partial trajectory of state ``s`` followed by its sibling ``j``: what a step-level reward
        model scores."""
        state = self.states[s]
        sibling = state.siblings[j]
        prefix = self.candidates[state.candidate].steps[: state.depth]
        return self._trajectory((*prefix, sibling.step), sibling.reached, sibling.done)

    # ------------------------------------------------------------------ JSON
    def to_json(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "index": self.index,
            "seed": self.seed,
            "goal": self.goal,
            "first_observation": self.first_observation,
            "info": self.info,
            "candidates": [
                {
                    "steps": [_step_json(s) for s in c.steps],
                    **_outcome_json(c.outcome),
                    "terminated": c.terminated,
                    "truncated": c.truncated,
                    "settings": c.settings,
                    "tokens": c.tokens,
                }
                for c in self.candidates
            ],
            "states": [
                {
                    "candidate": s.candidate,
                    "depth": s.depth,
                    "siblings": [
                        {
                            "step": _step_json(b.step),
                            **_outcome_json(b.reached),
                            "done": b.done,
                            "rollouts": [[o.success, o.progress, o.turns] for o in b.rollouts],
                        }
                        for b in s.siblings
                    ],
                }
                for s in self.states
            ],
        }

    @classmethod
    def from_json(cls, row: dict[str, Any]) -> Instance:
        candidates = tuple(
            Candidate(
                steps=tuple(_step(s) for s in c["steps"]),
                outcome=_outcome(c),
                terminated=bool(c["terminated"]),
                truncated=bool(c["truncated"]),
                settings=dict(c.get("settings") or {}),
                tokens=int(c.get("tokens") or 0),
            )
            for c in row["candidates"]
        )
        states = tuple(
            State(
                candidate=int(s["candidate"]),
                depth=int(s["depth"]),
                siblings=tuple(
                    Sibling(
                        step=_step(b["step"]),
                        reached=_outcome(b),
                        done=bool(b["done"]),
                        rollouts=tuple(Outcome(bool(o[0]), o[1], int(o[2])) for o in b["rollouts"]),
                    )
                    for b in s["siblings"]
                ),
            )
            for s in row.get("states", [])
        )
        return cls(
            task=row["task"],
            index=int(row["index"]),
            seed=int(row["seed"]),
            goal=row["goal"],
            first_observation=row["first_observation"],
            info=dict(row.get("info") or {}),
            candidates=candidates,
            states=states,
        )


def _step_json(step: Step) -> list[str]:
    return [step.thought, step.action, step.observation]


def _step(row: Sequence[str]) -> Step:
    thought, action, observation = row
    return Step(thought, action, observation)


def _outcome_json(outcome: Outcome) -> dict[str, Any]:
    return {"success": outcome.success, "progress": outcome.progress, "turns": outcome.turns}


def _outcome(row: dict[str, Any]) -> Outcome:
    progress = row.get("progress")
    return Outcome(bool(row["success"]), None if progress is None else float(progress), int(row.get("turns") or 0))


@dataclass
class Pool:
    """A pool read from its file, its digest checked."""

    header: dict[str, Any]
    instances: list[Instance]
    sha256: str
    path: Path | None = None

    @property
    def synthetic(self) -> bool:
        return bool(self.header.get("synthetic"))

    @property
    def n(self) -> int:
        return int(self.header["n"])

    def tasks(self) -> list[str]:
        present = {i.task for i in self.instances}
        return [s.name for s in task_table.specs() if s.name in present]

    def by_key(self) -> dict[tuple[str, int], Instance]:
        return {i.key: i for i in self.instances}


def order(instances: Iterable[Instance]) -> list[Instance]:
    """Task-table order, then index: the one order a pool's lines are written in."""
    place = {s.name: k for k, s in enumerate(task_table.specs())}
    return sorted(instances, key=lambda i: (place.get(i.task, len(place)), i.task, i.index))


def encode(header: dict[str, Any], instances: Iterable[Instance]) -> tuple[bytes, str]:
    """(gzipped file bytes, sha256 of the decompressed bytes) of a pool; the same lines give the same digest."""
    lines = [{"format": FORMAT, "version": VERSION, **header}] + [i.to_json() for i in order(instances)]
    text = "".join(json.dumps(row, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n" for row in lines)
    raw = text.encode("utf-8")
    return gzip.compress(raw, compresslevel=9, mtime=0), hashlib.sha256(raw).hexdigest()


def decode(blob: bytes, origin: str = "pool") -> tuple[dict[str, Any], list[Instance], str]:
    """(header, instances, sha256) of gzipped pool bytes; a :class:`PoolError` if they are not a pool."""
    try:
        raw = gzip.decompress(blob)
        rows = [json.loads(line) for line in raw.decode("utf-8").splitlines()]
    except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PoolError(f"{origin}: not a gzipped JSON-lines pool ({exc})") from None
    if not rows or rows[0].get("format") != FORMAT:
        raise PoolError(f"{origin}: not an agentrm-bench pool (its first line is no {FORMAT} header)")
    header = rows[0]
    if header.get("version") != VERSION:
        raise PoolError(f"{origin}: pool format version {header.get('version')}, this harness reads {VERSION}")
    try:
        instances = [Instance.from_json(row) for row in rows[1:]]
    except (KeyError, TypeError, ValueError) as exc:
        raise PoolError(f"{origin}: a malformed instance line ({exc!r})") from None
    return header, instances, hashlib.sha256(raw).hexdigest()


def read(path: str | Path, sha256: str | None = None) -> Pool:
    """The pool in ``path``; with ``sha256``, refused unless its content has exactly that digest."""
    path = Path(path)
    if not path.is_file():
        raise PoolError(f"no pool file at {path}")
    header, instances, digest = decode(path.read_bytes(), str(path))
    if sha256 is not None and digest != sha256:
        raise PoolError(f"{path}: its content has sha256 {digest}, not the {sha256} it is named by")
    return Pool(header, instances, digest, path)
