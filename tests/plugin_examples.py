"""Plug-ins written outside the package, named ``tests.plugin_examples:ATTRIBUTE`` in the tests: a reward
model, a policy, a search strategy and an LLM backend, each using only the public interfaces."""

from __future__ import annotations

from typing import Any

from agentrm_bench.llm import ModelSpecError
from agentrm_bench.llm.scripted import ScriptedLLM
from agentrm_bench.policies import Policy
from agentrm_bench.providers import provider
from agentrm_bench.rewards import RewardModel
from agentrm_bench.search.strategy import SearchStrategy

from .scripted_policies import MOVES, seeded_mover


class PreferMoveRM(RewardModel):
    """Scores a trajectory by how many of its actions are one move (``--rm ...:PreferMoveRM:move up``)."""

    kind = "prefer-move"

    def __init__(self, move: str = "move down", *, weight: float = 1.0):
        self.move = move
        self.weight = weight
        self.calls = 0

    @staticmethod
    def check_spec(argument: str | None) -> None:
        if argument is not None and argument not in MOVES:
            raise ModelSpecError(f"prefer-move takes one of {', '.join(MOVES)}, got {argument!r}")

    def settings(self) -> dict[str, Any]:
        return {"kind": self.kind, "move": self.move, "weight": self.weight}

    async def ascore(self, batch):
        self.calls += 1
        return [self.weight * sum(a == self.move for a in t.actions) for t in batch]


class FirstAdmissiblePolicy(Policy):
    """Always the first admissible action (or a fixed text where the task lists none)."""

    def __init__(self, fallback: str = "look"):
        self.fallback = fallback

    def settings(self) -> dict[str, Any]:
        return {"fallback": self.fallback}

    def act(self, env, observation, info):
        actions = info.get("admissible_actions")
        return str(actions[0]) if actions else self.fallback


class StepwiseBest(SearchStrategy):
    """Each step: sample ``k`` actions, keep the one the reward model scores highest (first of equals)."""

    name = "stepwise-best"
    needs_rm = True
    default_temperature = 0.7

    def __init__(self, k: int = 3):
        if not isinstance(k, int) or k < 1:
            raise ModelSpecError(f"k must be a positive integer, got {k!r}")
        self.k = k

    def settings(self) -> dict[str, Any]:
        return {"k": self.k}

    async def search(self, run, temperature):
        node = run.reset()
        offered: list[list[str]] = []
        while not node.done:
            [row] = await run.propose([node], self.k, temperature, [(0, node.depth)])
            children = [run.step(node, parsed, generation) for parsed, generation in row]
            scores = await run.score([child.trajectory for child in children])
            offered.append([parsed.action for parsed, _ in row])
            node = children[max(range(len(children)), key=lambda i: (scores[i], -i))]
        return node, {"strategy": self.name, "k": self.k, "offered": offered}


@provider("seeded", summary="a scripted model whose move depends on the sample's seed")
def seeded_llm(argument: str | None, **options: Any) -> ScriptedLLM:
    return ScriptedLLM(seeded_mover, **options)
