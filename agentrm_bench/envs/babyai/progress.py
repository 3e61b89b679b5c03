"""AgentBoard's progress rate for BabyAI: subgoal patterns matched against the observations.

Each test row lists observation patterns (``subgoals``). After every action that changes the world,
the new observation is checked: the *first* pattern still open that matches earns one point and is
closed -- at most one point per step, so a single observation that shows two subgoals done only counts
one of them that step. Progress is points / number of patterns, kept as a running maximum.

A pattern may contain the wildcard ``**`` (or a single ``*`` when there is no ``**``): it is cut there
and every piece, stripped of surrounding periods (spaces inside the pattern are kept, so " 4 steps"
cannot match "14 steps"), must occur inside ONE sentence of the observation (the observation is cut at
periods). Without a wildcard the pattern is one piece.

How AgentBoard's end-of-episode rules are reflected. AgentBoard ends an episode when progress reaches
1 ("The task is completed." is shown) and, when the level itself reports done with progress still at
or below 0.5, keeps the episode going; its success is "the episode ended". In agentrm-bench
(``BabyAIEnv``) success is the level's *own* success signal, and progress is this module's fraction,
unchanged:

* a level solved with some patterns unmatched keeps its partial progress (as AgentBoard reports it);
* patterns all matched without the level being solved give progress 1 but no success, and the
  episode goes on until the level is solved or the turns run out (AgentBoard would stop and count a
  success here);
* a level that reports done *without* success (a strict level's "failure") does not end the episode,
  which is what AgentBoard's "done but progress <= 0.5" override amounts to; above 0.5 AgentBoard would
  stop and count a success, agentrm-bench does not.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache


def pattern_pieces(pattern: str) -> list[str]:
    """The pieces a pattern is cut into at its wildcard, each stripped of surrounding periods."""
    pattern = pattern.strip()
    wildcard = "**" if "**" in pattern else "*"
    return [piece.strip(".") for piece in pattern.split(wildcard)]


def matches(observation: str, pattern: str) -> bool:
    """Whether every piece of ``pattern`` occurs inside one and the same sentence of ``observation``."""
    return _in_one_sentence(observation.split("."), pattern)


def _in_one_sentence(sentences: list[str], pattern: str) -> bool:
    pieces = _pieces(pattern)
    return any(all(piece in sentence for piece in pieces) for sentence in sentences)


@lru_cache(maxsize=4096)
def _pieces(pattern: str) -> tuple[str, ...]:
    """:func:`pattern_pieces`, cut once per pattern rather than at every step of every episode."""
    return tuple(pattern_pieces(pattern))


class SubgoalTracker:
    """Scores a stream of observations against one row's patterns (one point per step, running max)."""

    def __init__(self, patterns: Sequence[str]):
        self.patterns = tuple(patterns)
        self.open = list(self.patterns)
        self.points = 0
        self.progress = 0.0

    def update(self, observation: str) -> float:
        """Score one new observation; returns the progress so far (a running maximum)."""
        sentences = observation.split(".")  # once for all patterns
        for pattern in self.open:
            if _in_one_sentence(sentences, pattern):
                self.open.remove(pattern)
                self.points += 1
                break
        if self.patterns:
            self.progress = max(self.progress, self.points / len(self.patterns))
        return self.progress

    def update_all(self, observations: Iterable[str]) -> float:
        for observation in observations:
            self.update(observation)
        return self.progress
