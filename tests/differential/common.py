"""Playing one action sequence through our environment and an upstream reference in lockstep, and counting.

A *reference* re-implements one upstream wrapper over the raw engine. After every action both sides
are compared on what an agent and a score see: the observation text, whether the episode ended, whether
it ended as a success and, where the reference can compute it from the same annotations, the progress
rate. Each step is a *simulator step* when upstream's wrapper handed the action to its engine, else a
*wrapper step* (a special command the wrapper answered itself).

A difference is either *explained* -- a deliberate deviation of ours, named by the task's ``explain``
function with the reason its PROVENANCE gives -- or a failure. The report counts both per task.
"""

from __future__ import annotations

import json
import os
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol


@dataclass(frozen=True)
class RefStep:
    """What upstream's wrapper answered to one action."""

    observation: str
    done: bool
    success: bool
    progress: float | None  # None: the reference does not score progress for this task
    simulator: bool  # the action reached the engine (False: the wrapper answered it itself)


class Reference(Protocol):
    def reset(self, index: int) -> str: ...

    def step(self, action: str) -> RefStep: ...


@dataclass
class Difference:
    index: int
    sequence: str
    turn: int
    action: str
    what: str
    ours: Any
    upstream: Any
    reason: str | None  # the deliberate deviation that explains it; None: unexplained

    def line(self) -> str:
        return (
            f"[{self.index}/{self.sequence} turn {self.turn}] {self.action!r}: {self.what} "
            f"ours={str(self.ours)[:160]!r} upstream={str(self.upstream)[:160]!r}"
            + (f" -- {self.reason}" if self.reason else "")
        )


@dataclass
class Agreement:
    """Step-level agreement of one task."""

    task: str
    episodes: int = 0
    first_observations: int = 0
    first_agree: int = 0
    simulator_steps: int = 0
    simulator_agree: int = 0
    wrapper_steps: int = 0
    wrapper_agree: int = 0
    residue: Counter = field(default_factory=Counter)
    differences: list[Difference] = field(default_factory=list)

    @property
    def unexplained(self) -> list[Difference]:
        return [d for d in self.differences if d.reason is None]

    def summary(self) -> dict[str, Any]:
        def rate(agree: int, total: int) -> float | None:
            return round(agree / total, 6) if total else None

        return {
            "task": self.task,
            "episodes": self.episodes,
            "first observations": f"{self.first_agree}/{self.first_observations}",
            "simulator steps": f"{self.simulator_agree}/{self.simulator_steps}",
            "simulator agreement": rate(self.simulator_agree, self.simulator_steps),
            "wrapper steps": f"{self.wrapper_agree}/{self.wrapper_steps}",
            "wrapper agreement": rate(self.wrapper_agree, self.wrapper_steps),
            "explained residue": dict(self.residue),
            "unexplained": len(self.unexplained),
        }


Explain = Callable[[str, str, Any, Any], str | None]  # (action, what, ours, upstream) -> reason or None
Chooser = Callable[[Any, dict, random.Random], str]  # (env, info, rng) -> the next action


def play(
    env: Any,
    reference: Reference,
    index: int,
    sequence: str,
    choose: Chooser,
    agreement: Agreement,
    explain: Explain,
    *,
    seed: int = 0,
    compare_progress: bool = True,
) -> None:
    """Play one episode of ``choose``'s actions through both sides, recording every difference."""
    rng = random.Random(f"{agreement.task}/{index}/{sequence}/{seed}")
    ours, info = env.reset(options={"index": index})
    upstream = reference.reset(index)
    agreement.episodes += 1
    agreement.first_observations += 1
    if ours == upstream:
        agreement.first_agree += 1
    else:
        _record(agreement, explain, index, sequence, 0, "", "first observation", ours, upstream)
    terminated = truncated = False
    turn = 0
    while not (terminated or truncated):
        action = choose(env, info, rng)
        turn += 1
        observation, _, terminated, truncated, info = env.step(action)
        ref = reference.step(action)
        pairs = [
            ("observation", observation, ref.observation),
            ("done", terminated, ref.done),
            ("success", bool(info["success"]), ref.success),
        ]
        if compare_progress and ref.progress is not None:
            pairs.append(("progress", round(info["progress"] or 0.0, 9), round(ref.progress, 9)))
        same = True
        for what, mine, theirs in pairs:
            if mine != theirs:
                same = False
                _record(agreement, explain, index, sequence, turn, action, what, mine, theirs)
        if ref.simulator:
            agreement.simulator_steps += 1
            agreement.simulator_agree += same
        else:
            agreement.wrapper_steps += 1
            agreement.wrapper_agree += same
        if ref.done and not terminated:
            break  # upstream ended the episode where we did not: recorded above; nothing left to compare


def _record(
    agreement: Agreement,
    explain: Explain,
    index: int,
    sequence: str,
    turn: int,
    action: str,
    what: str,
    ours: Any,
    upstream: Any,
) -> None:
    reason = explain(action, what, ours, upstream)
    if reason is not None:
        agreement.residue[reason] += 1
    agreement.differences.append(Difference(index, sequence, turn, action, what, ours, upstream, reason))


# ----------------------------------------------------------------------------- action choosers
def expert(env: Any, info: dict, rng: random.Random) -> str:
    return env.expert_action()


def random_admissible(env: Any, info: dict, rng: random.Random) -> str:
    actions = info.get("admissible_actions") or [env.expert_action()]
    return rng.choice(actions)


Odd = str | Chooser  # a fixed odd text, or one made from the state (e.g. an admissible action misspelt)


def mixed(odd: Sequence[Odd], expert_share: float = 0.5, odd_share: float = 0.2) -> Chooser:
    """Mostly the expert (so episodes get somewhere), some random admissible actions, some odd texts."""

    def choose(env: Any, info: dict, rng: random.Random) -> str:
        roll = rng.random()
        if roll < odd_share:
            item = rng.choice(list(odd))
            return item(env, info, rng) if callable(item) else item
        if roll < odd_share + expert_share:
            return env.expert_action()
        return random_admissible(env, info, rng)

    return choose


def scripted(actions: Sequence[Odd], then: Chooser = expert) -> Chooser:
    """Fixed actions first (the deliberately odd ones, in order), then ``then``."""
    queue = list(actions)

    def choose(env: Any, info: dict, rng: random.Random) -> str:
        if not queue:
            return then(env, info, rng)
        item = queue.pop(0)
        return item(env, info, rng) if callable(item) else item

    return choose


# ----------------------------------------------------------------------------- the report
def report(agreements: Sequence[Agreement]) -> str:
    """One line per task, then every difference (explained ones marked with their reason)."""
    lines = []
    for a in agreements:
        lines.append(json.dumps(a.summary()))
        lines.extend("  " + d.line() for d in a.differences[:200])
    text = "\n".join(lines)
    target = os.environ.get("AGENTRM_DIFFERENTIAL_REPORT")
    if target:
        path = Path(target)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(text + "\n")
    return text
