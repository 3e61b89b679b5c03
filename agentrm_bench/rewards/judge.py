"""``judge:MODEL``: an LLM asked to rate how well a trajectory is going (LLM-as-a-judge).

``mode="rate"`` (default): the judge sees the task and the steps so far of one trajectory and answers
one line ``Score: N`` with N from 0 to 10. ``mode="rank"``: trajectories of the batch that share their
task, goal and first observation (the candidates of one search step) are shown together, each from
where they part, and the judge answers ``Ranking: 2 > 1 > 3``; a candidate's score is 10 for the first
place down to 0 for the last. Comparing side by side is what judges do more reliably than grading on an
absolute scale, at the price of one longer prompt per group.

A reply without a readable score or ranking is not a crash: the trajectories get the middle of the
scale (neither preferred nor punished) and the reply is counted in ``parse_failures``. The judge samples
greedily, so its answers are reproducible.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ..llm import make_llm
from ..llm.base import LLM, Message
from ..prompts.react import format_step, task_message
from ..prompts.trajectory import Trajectory
from .base import RewardModel, RewardModelIdentity

JUDGE_INSTRUCTION = (
    "You are grading an agent that acts in a text environment. Read the task and what the agent has done "
    "so far, then judge how likely it is that the agent is on its way to completing the task: a useful, "
    "valid last step deserves a high grade; a wasted, invalid or harmful step a low one.\n"
    "Reply with one line and nothing else:\nScore: <an integer from 0 (hopeless) to 10 (certain success)>"
)
_SCORE = re.compile(r"score\s*[:=]?\s*(-?\d+(?:\.\d+)?)", re.IGNORECASE)
_NUMBER = re.compile(r"(-?\d+(?:\.\d+)?)")
NEUTRAL = 5.0
MODES = ("rate", "rank")
RANK_INSTRUCTION = (
    "You are comparing candidate continuations of an agent that acts in a text environment. Read the task, "
    "the steps all candidates share, and each candidate's own steps; then order the candidates from the "
    "one most likely to lead to completing the task to the least likely. Valid, useful steps rank high; "
    "wasted, invalid or harmful ones low.\n"
    "Reply with one line and nothing else, every candidate number once:\nRanking: <best> > <next> > ... > <worst>"
)
_RANKED = re.compile(r"\d+")


def parse_score(text: str) -> float | None:
    """The grade in a judge reply, clipped to [0, 10]; None when there is none."""
    found = _SCORE.search(text) or _NUMBER.search(text)
    if not found:
        return None
    return min(10.0, max(0.0, float(found.group(1))))


class JudgeRM(RewardModel):
    kind = "judge"

    def __init__(self, model: str | LLM | None = None, *, max_tokens: int = 16, mode: str = "rate"):
        if mode not in MODES:
            raise ValueError(f"judge mode must be one of {MODES}, got {mode!r}")
        self.llm = make_llm(model) if model is None or isinstance(model, str) else model
        self.max_tokens = max_tokens
        self.mode = mode
        self.parse_failures = 0
        self.calls = 0
        self.tokens_in = 0  # prompt tokens (the backend's count, or its estimate)
        self.tokens_out = 0

    def usage(self) -> dict[str, int]:
        return {"tokens_in": self.tokens_in, "tokens_out": self.tokens_out}

    async def _generate(self, conversations: list[list[Message]], max_tokens: int) -> list[Any]:
        """One greedy reply per conversation, its tokens counted."""
        self.tokens_in += sum(self.llm.count_tokens(c) for c in conversations)
        replies = await self.llm.agenerate(conversations, n=1, temperature=0.0, max_tokens=max_tokens)
        self.tokens_out += sum(g.tokens for row in replies for g in row)
        return replies

    def settings(self) -> dict[str, Any]:
        return {"kind": "judge", "model": self.llm.settings(), "mode": self.mode, "scale": "0-10", "neutral": NEUTRAL}

    def identity(self) -> RewardModelIdentity:
        return RewardModelIdentity.of(self.kind, self.llm.weights())

    @staticmethod
    def conversation(trajectory: Trajectory) -> list[Message]:
        lines = [task_message(trajectory)]
        for step in trajectory.steps:
            lines.append(format_step(step.thought, step.action))
            lines.append(f"Observation: {step.observation}")
        return [
            {"role": "system", "content": JUDGE_INSTRUCTION},
            {"role": "user", "content": "\n".join(lines) + "\n\nGrade the agent now."},
        ]

    async def ascore(self, batch: Sequence[Trajectory]) -> list[float]:
        if self.mode == "rank":
            return await self._rank(batch)
        replies = await self._generate([self.conversation(t) for t in batch], self.max_tokens)
        scores = []
        for (reply,) in replies:
            self.calls += 1
            score = parse_score(reply.text)
            if score is None:
                self.parse_failures += 1
                score = NEUTRAL
            scores.append(score)
        return scores

    async def _rank(self, batch: Sequence[Trajectory]) -> list[float]:
        groups: dict[tuple[str, str, str], list[int]] = {}
        for i, t in enumerate(batch):
            groups.setdefault((t.task, t.goal, t.first_observation), []).append(i)
        scores = [NEUTRAL] * len(batch)
        compared = [members for members in groups.values() if len(members) > 1]  # one alone has no rank
        replies = await self._generate(
            [self.ranking_conversation([batch[i] for i in members]) for members in compared],
            self.max_tokens + 4 * max((len(m) for m in compared), default=0),
        )
        for members, (reply,) in zip(compared, replies, strict=True):
            self.calls += 1
            order = parse_ranking(reply.text, len(members))
            if order is None:
                self.parse_failures += 1
                continue
            for place, candidate in enumerate(order):
                scores[members[candidate]] = 10.0 * (len(members) - 1 - place) / (len(members) - 1)
        return scores

    @staticmethod
    def ranking_conversation(candidates: Sequence[Trajectory]) -> list[Message]:
        shared = 0  # steps every candidate has in common
        while all(len(c.steps) > shared for c in candidates) and len({c.steps[shared] for c in candidates}) == 1:
            shared += 1
        lines = [task_message(candidates[0])]
        for step in candidates[0].steps[:shared]:
            lines += [format_step(step.thought, step.action), f"Observation: {step.observation}"]
        for number, candidate in enumerate(candidates, 1):
            lines.append(f"\nCandidate {number}:")
            own = candidate.steps[shared:]
            for step in own:
                lines += [format_step(step.thought, step.action), f"Observation: {step.observation}"]
            if not own:
                lines.append("(no further step)")
        return [
            {"role": "system", "content": RANK_INSTRUCTION},
            {"role": "user", "content": "\n".join(lines) + f"\n\nRank the {len(candidates)} candidates now."},
        ]


def parse_ranking(text: str, count: int) -> list[int] | None:
    """Candidate indexes (0-based) from best to worst; None unless every candidate appears exactly once.

    Reads the numbers after ``Ranking:`` when present (else the whole reply); a numbering the judge
    repeats or leaves out is unreadable, since a partial order cannot be turned into scores fairly.
    """
    tail = text.split(":", 1)[1] if "ranking" in text.lower() and ":" in text else text
    numbers = [int(n) for n in _RANKED.findall(tail)][:count]
    if sorted(numbers) != list(range(1, count + 1)):
        return None
    return [n - 1 for n in numbers]
