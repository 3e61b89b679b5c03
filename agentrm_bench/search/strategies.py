"""The three built-in search strategies: greedy, Best-of-N, step-level beam search.

Each is a coroutine over an :class:`~.run.EpisodeRun` returning the chosen node and the strategy's own
data for the episode record (``record.extra``), and a :class:`~.strategy.SearchStrategy` class that
carries its settings (the registry's targets). Only the chosen trajectory's outcome is the episode's
outcome; what the other candidates reached is kept for analysis (e.g. oracle@N).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..llm.base import ModelSpecError
from .run import EpisodeRun
from .strategy import SearchStrategy
from .tree import Node


async def greedy(run: EpisodeRun, temperature: float) -> tuple[Node, dict[str, Any]]:
    """One sample per step (greedy decoding at temperature 0), no reward model."""
    node = run.reset()
    while not node.done:
        [[(parsed, generation)]] = await run.propose([node], 1, temperature, [(0, node.depth)])
        node = run.step(node, parsed, generation)
    return node, {"strategy": "greedy"}


async def best_of_n(run: EpisodeRun, n: int, temperature: float) -> tuple[Node, dict[str, Any]]:
    """N complete trajectories sampled in lockstep (one model call per turn for all of them); the
    reward model scores the finished trajectories and the best one is the episode."""
    root = run.reset()
    nodes = [root] * n
    while True:
        alive = [i for i, node in enumerate(nodes) if not node.done]
        if not alive:
            break
        proposals = await run.propose([nodes[i] for i in alive], 1, temperature, [(i, nodes[i].depth) for i in alive])
        for i, [(parsed, generation)] in zip(alive, proposals, strict=True):
            nodes[i] = run.step(nodes[i], parsed, generation, keep=n > 1)  # stepped again after the others
    scores = await run.score([node.trajectory for node in nodes])
    chosen = max(range(n), key=lambda i: (scores[i], -i))  # the first of equal scores
    progress = [node.trajectory.progress for node in nodes]
    success = [node.trajectory.success for node in nodes]
    known = [p for p in progress if p is not None]
    return nodes[chosen], {
        "strategy": "best-of-n",
        "n": n,
        "chosen": chosen,
        "scores": scores,
        "candidate_progress": progress,
        "candidate_success": success,
        "candidate_turns": [node.depth for node in nodes],
        "oracle_progress": max(known) if known else None,
        "oracle_success": any(success),
    }


async def beam(run: EpisodeRun, width: int, expansions: int, temperature: float) -> tuple[Node, dict[str, Any]]:
    """Step-level beam search: each step, every live beam samples ``expansions`` actions, each is
    executed on the beam's snapshot, the reward model scores the new partial trajectories, and the
    best ``width`` of them (finished beams compete with their last score) are kept."""
    beams = [run.reset()]
    steps: list[dict[str, Any]] = []
    while any(not b.done for b in beams):
        alive = [b for b in beams if not b.done]
        proposals = await run.propose(alive, expansions, temperature, [(k, b.depth) for k, b in enumerate(alive)])
        children: list[Node] = []
        parents: list[int] = []
        for k, (parent, row) in enumerate(zip(alive, proposals, strict=True)):
            seen: set[str] = set()
            for parsed, generation in row:
                key = parsed.action.lower()
                if key in seen:  # the same action twice would only duplicate a branch
                    continue
                seen.add(key)
                children.append(run.step(parent, parsed, generation))
                parents.append(k)
        scores = await run.score([c.trajectory for c in children])
        children = [replace(c, score=s) for c, s in zip(children, scores, strict=True)]
        pool = children + [b for b in beams if b.done]
        ranked = sorted(
            range(len(pool)), key=lambda i: -(pool[i].score if pool[i].score is not None else float("-inf"))
        )
        beams = [pool[i] for i in ranked[:width]]
        steps.append(
            {
                "candidates": [
                    [p, c.trajectory.steps[-1].action, c.score] for p, c in zip(parents, children, strict=True)
                ],
                "kept": [i for i in ranked[:width]],
            }
        )
    best = max(range(len(beams)), key=lambda i: (beams[i].score if beams[i].score is not None else float("-inf"), -i))
    final = beams[best]
    reached = [b.trajectory.progress for b in beams if b.trajectory.progress is not None]
    return final, {
        "strategy": "beam",
        "width": width,
        "expansions": expansions,
        "steps": steps,
        "final_beams_progress": [b.trajectory.progress for b in beams],
        "oracle_progress": max(reached) if reached else None,
        "oracle_success": any(b.trajectory.success for b in beams),
    }


def _positive(name: str, value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ModelSpecError(f"{name} must be a positive integer, got {value!r}")
    return value


class Greedy(SearchStrategy):
    """One sample per step; temperature 0 (greedy decoding) unless set."""

    name = "greedy"

    async def search(self, run: EpisodeRun, temperature: float) -> tuple[Node, dict[str, Any]]:
        return await greedy(run, temperature)


class BestOfN(SearchStrategy):
    """N sampled trajectories, the reward model picks one (only its outcome counts)."""

    name = "best-of-n"
    needs_rm = True
    default_temperature = 0.7

    def __init__(self, n: int = 5):
        self.n = _positive("n", n)

    def settings(self) -> dict[str, Any]:
        return {"n": self.n}

    def check(self, temperature: float) -> None:
        if self.n > 1 and temperature == 0:
            raise ModelSpecError("best-of-n with n > 1 needs a temperature above 0 (else the N samples are equal)")

    async def search(self, run: EpisodeRun, temperature: float) -> tuple[Node, dict[str, Any]]:
        return await best_of_n(run, self.n, temperature)


class Beam(SearchStrategy):
    """Step-level beam search: W beams, K sampled expansions each, scored by the reward model."""

    name = "beam"
    needs_rm = True
    default_temperature = 0.7

    def __init__(self, beam_width: int = 2, expansions: int = 3):
        self.beam_width = _positive("beam_width", beam_width)
        self.expansions = _positive("expansions", expansions)

    def settings(self) -> dict[str, Any]:
        return {"beam_width": self.beam_width, "expansions": self.expansions}

    async def search(self, run: EpisodeRun, temperature: float) -> tuple[Node, dict[str, Any]]:
        return await beam(run, self.beam_width, self.expansions, temperature)
