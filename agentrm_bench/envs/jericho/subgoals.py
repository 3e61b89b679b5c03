"""Writes agentrm_bench/envs/jericho/subgoals.json: our subgoal snippets and expert path for each of the 20 games.

AgentBoard scores Jericho by observation snippets per game that it never published. We author our own
from the games, by one rule, so that the metric is reproducible (and labelled as ours):

1. The goal point: the walkthrough step at which AgentBoard's hand-written goal is met (``GOALS``
   below, chosen by reading each goal against the game). Where the goal names intermediate things
   ("get out of the house", "the armory room") the steps showing them are kept as *named* milestones.
2. The expert path: jericho's walkthrough up to the goal point, replayed with the walkthrough seed and
   AgentBoard's action cut. Where it is longer than AgentBoard's 30 steps, steps the goal does not
   need are removed greedily (a step or a short run of steps is dropped when the replay still shows
   every named milestone and the goal, in order); the result is replayed from scratch to confirm it.
3. Subgoals: the responses at every score increase along the expert path, plus the named milestones
   and the goal step, one per step. Each snippet is the first sentence of that response (at most 14
   words, at least 3; parenthesised parser remarks such as "(first opening the door)" left out) that
   no earlier response on the path and not the first observation contains, and that the same step
   also shows under four other interpreter seeds (so text added by chance never becomes a subgoal).
   A score step with no such sentence (a bare "Taken.") is listed as skipped instead. AgentBoard's
   rule (first open snippet contained in the response, punctuation stripped) must close each snippet
   exactly at its own step and the last one at the last step; this is checked for every game before
   the file is written.

Run ``python -m agentrm_bench.envs.jericho.subgoals`` (needs jericho and the story files); the output
is deterministic.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import games as jg
from .text import SnippetTracker, clean_observation, cut_action, snippet_matches, strip_punctuation

BUDGET = 30  # AgentBoard's max steps: the expert must finish within it
SNIPPET_WORDS = (3, 14)
WINDOWS = (1, 2, 3, 4, 6, 8)
RESEED = (1, 7, 999, 12345)  # other interpreter seeds a snippet must also show under


@dataclass(frozen=True)
class GoalPoint:
    """Where AgentBoard's goal is met in jericho's walkthrough (1-based steps), and why."""

    step: int
    named: dict[int, str] = field(default_factory=dict)  # step -> the goal phrase it shows
    note: str = ""
    keep: frozenset[int] = frozenset()  # steps the goal names whose response is too bare for a snippet


GOALS: dict[str, GoalPoint] = {
    "905": GoalPoint(22, {17: "get out of the house", 19: "escape via driving"}, "the game's ending"),
    "acorncourt": GoalPoint(17, {16: "unlock the gate"}, "the gate opens: the game's ending"),
    "afflicted": GoalPoint(
        33, {7: "into Nikolai's restaurant"}, "Nikolai shows himself (step 66, escaping him, needs 34)"
    ),
    "balances": GoalPoint(
        107, {2: "learn rezrov", 11: "learn bozbar"}, "lleps learned: the last of the three spells named"
    ),
    "dragon": GoalPoint(5, {2: "an inn"}, "the pewter mug found in the inn cellar"),
    "jewel": GoalPoint(8, {}, "arriving at the Fifth Layer Dropoff"),
    "library": GoalPoint(29, {}, "the Rare Books Room reached, where the biography is (taking it says only 'Taken.')"),
    "omniquest": GoalPoint(27, {22: "a tool to breathe when you swim"}, "falling into the Cylindrical Room"),
    "reverb": GoalPoint(13, {2: "who to deliver", 8: "the delivery address"}, "the pizza delivered and its file shown"),
    "snacktime": GoalPoint(34, {}, "the pet woken and fed: the game's ending"),
    "zenon": GoalPoint(15, {}, "out of the cell into the corridor"),
    "zork1": GoalPoint(25, {23: "the entrance in the living room"}, "down the trap door into the cellar"),
    "zork2": GoalPoint(10, {6: "light against the grue"}, "the unicorn seen"),
    "zork3": GoalPoint(
        15, {5: "search for bread", 10: "Engravings room", 14: "the old gatekeeper"}, "the secret door revealed"
    ),
    "detective": GoalPoint(50, {}, "the culprit caught in room 30 of the Holiday Inn", frozenset({6})),
    "night": GoalPoint(37, {}, "the missing printer found in the gnome's lair"),
    "pentari": GoalPoint(22, {}, "the Armory reached, where the dagger lies (taking it says only 'Taken.')"),
    "weapon": GoalPoint(33, {30: "recalibrate the contacts"}, "the power stud activated"),
    "huntdark": GoalPoint(
        54, {2: "hunt the wumpus"}, "the wounded Wumpus tracked to the canyon (the ending needs 37 steps)"
    ),
    "loose": GoalPoint(17, {5: "hidden in a pot"}, "the hairpin returned to Mary"),
}


@dataclass
class Replay:
    """One run of a path: cleaned responses, score after each step, and where the goal showed."""

    observations: list[str]
    scores: list[int]
    done_at: int | None  # number of steps at which the last required snippet showed


class Game:
    """A loaded story file with fast replay from cached interpreter states."""

    def __init__(self, name: str):
        from jericho import FrotzEnv

        self.name = name
        self.frotz = FrotzEnv(str(jg.story_path(name)))
        self.walkthrough = self.frotz.get_walkthrough()
        self.frotz.reset()
        self.start = self.frotz.get_state()
        self.start_score = self.frotz.get_score()

    def run(self, path: list[str], required: list[str], state: Any = None, prefix: Replay | None = None) -> Replay:
        """Replay ``path`` (from ``state`` after ``prefix`` if given), stopping once all required show."""
        self.frotz.set_state(state if state is not None else self.start)
        observations = list(prefix.observations) if prefix else []
        scores = list(prefix.scores) if prefix else []
        r = _required_seen(observations, required)
        if r == len(required) and required:
            return Replay(observations, scores, len(observations))
        for action in path[len(observations) :]:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                raw, _, done, info = self.frotz.step(action)
            observations.append(clean_observation(raw))
            scores.append(info["score"])
            if r < len(required) and snippet_matches(observations[-1], required[r]):
                r += 1
                if r == len(required):
                    return Replay(observations, scores, len(observations))
            if done:
                break
        return Replay(observations, scores, None)

    def variants(self, state: Any, action: str) -> list[str]:
        """The response to ``action`` from ``state`` under other random seeds (text chance adds differs)."""
        out = []
        for seed in RESEED:
            ram, stack, pc, sp, fp, frames, opcode, rng, narrative = state
            self.frotz.set_state((ram, stack, pc, sp, fp, frames, opcode, (seed, *rng[1:]), narrative))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out.append(clean_observation(self.frotz.step(action)[0]))
        return out

    def states_along(self, path: list[str]) -> list[Any]:
        """Interpreter state before each step of ``path`` (and after the last)."""
        self.frotz.set_state(self.start)
        states = [self.frotz.get_state()]
        for action in path:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self.frotz.step(action)
            states.append(self.frotz.get_state())
        return states


def _required_seen(observations: list[str], required: list[str]) -> int:
    r = 0
    for obs in observations:
        if r < len(required) and snippet_matches(obs, required[r]):
            r += 1
    return r


def choose_snippet(observation: str, earlier: Sequence[str], variants: Sequence[str] = ()) -> str:
    """The first sentence (3-14 words) of ``observation`` that no earlier text contains and that every
    variant (the same step under other random seeds) shows too, so chance text is never a subgoal."""
    stripped_earlier = [strip_punctuation(text) for text in earlier]
    stripped_variants = [strip_punctuation(text) for text in variants]
    # Parenthesised parser remarks ("(first opening the door)", "(with the key)") depend on how the
    # command was phrased, so they are cut out and never part of a snippet.
    for sentence in re.split(r"\([^)]*\)|(?<=[.!?])\s+", observation.strip()):
        sentence = sentence.strip()
        words = sentence.split()
        if len(strip_punctuation(sentence).split()) < SNIPPET_WORDS[0]:
            continue
        candidate = " ".join(words[: SNIPPET_WORDS[1]])
        key = strip_punctuation(candidate)
        if key.strip() and not any(key in text for text in stripped_earlier):
            if all(key in text for text in stripped_variants):
                return candidate
    raise ValueError(f"no distinctive sentence in {observation[:200]!r}")


def prune(game: Game, actions: list[str], required: list[str], keep: frozenset[int] = frozenset()) -> list[int]:
    """Indices of ``actions`` left after dropping steps (single or short runs, latest first) while the
    replay still shows every required snippet in order, until the path fits the budget. Steps in
    ``keep`` (0-based) are never dropped."""
    kept = list(range(len(actions)))
    changed = True
    while changed and len(kept) > BUDGET:
        changed = False
        for window in WINDOWS:
            path = [actions[k] for k in kept]
            states = game.states_along(path)
            base = game.run(path, [], game.start)
            i = len(kept) - window
            while i >= 0:
                if not keep.intersection(kept[i : i + window]):
                    candidate = kept[:i] + kept[i + window :]
                    prefix = Replay(base.observations[:i], base.scores[:i], None)
                    replay = game.run([actions[k] for k in candidate], required, states[i], prefix)
                    if replay.done_at is not None:
                        kept = candidate[: replay.done_at]
                        if len(kept) <= BUDGET:
                            return kept
                        changed = True
                        path = [actions[k] for k in kept]
                        states = game.states_along(path)
                        base = game.run(path, [], game.start)
                i = min(i - 1, len(kept) - window)
    return kept


def annotate(name: str, first_observation: str) -> dict[str, Any]:
    """The expert path and subgoals of one game (see the module doc for the rule)."""
    point = GOALS[name]
    game = Game(name)
    full = [cut_action(a) for a in game.walkthrough[: point.step]]
    original = game.run(full, [], game.start)
    named_steps = sorted(point.named) + [point.step]
    required = []
    states = game.states_along(full)
    for step in named_steps:
        earlier = [first_observation, *original.observations[: step - 1]]
        variants = game.variants(states[step - 1], full[step - 1])
        try:
            required.append(choose_snippet(original.observations[step - 1], earlier, variants))
        except ValueError as exc:
            raise ValueError(f"{name}, walkthrough step {step}: {exc}") from None
    kept = list(range(point.step))
    if len(full) > BUDGET:
        kept = prune(game, full, required, frozenset(k - 1 for k in point.keep))
        full = [full[k] for k in kept]
    replay = game.run(full, required, game.start)
    if replay.done_at is None or replay.done_at != len(full) or len(full) > BUDGET:
        raise ValueError(f"{name}: the expert path ({len(full)} steps) does not reach the goal within {BUDGET}")
    skipped: list[dict] = []
    variants = [game.variants(state, action) for state, action in zip(game.states_along(full), full, strict=False)]
    subgoals = _subgoals(point, first_observation, replay, required, game.start_score, skipped, variants)
    _check(name, replay.observations, subgoals)
    return {
        "game": name,
        "goal_point": {
            "walkthrough_step": point.step,
            "what": point.note,
            "named": {str(k): v for k, v in point.named.items()},
        },
        "walkthrough_sha256": jg.walkthrough_sha256(game.walkthrough),
        "walkthrough_length": len(game.walkthrough),
        "pruned": len(kept) < point.step,
        "expert_steps": kept,
        "subgoals": subgoals,
        "score_steps_without_snippet": skipped,
    }


def _subgoals(
    point: GoalPoint,
    first: str,
    replay: Replay,
    required: list[str],
    start: int,
    skipped: list[dict],
    variants: list[list[str]],
) -> list[dict]:
    """One subgoal per turn: named milestones and the goal, then score increases with a distinctive response
    (those without one -- a bare "Taken.", or only chance text -- are listed in ``skipped``)."""
    by_turn: dict[int, dict] = {}
    r = 0
    for turn, obs in enumerate(replay.observations, 1):
        if r < len(required) and snippet_matches(obs, required[r]):
            why = point.named.get(sorted(point.named)[r], "") if r < len(point.named) else "goal"
            by_turn[turn] = {"turn": turn, "snippet": required[r], "why": why or "goal"}
            r += 1
    previous = start
    for turn, score in enumerate(replay.scores, 1):
        if score > previous and turn not in by_turn:
            earlier = [first, *replay.observations[: turn - 1]]
            try:
                snippet = choose_snippet(replay.observations[turn - 1], earlier, variants[turn - 1])
            except ValueError:  # e.g. a bare "Taken.": nothing to tell this step from others
                skipped.append(
                    {"turn": turn, "why": f"score +{score - previous}", "response": replay.observations[turn - 1]}
                )
                previous = score
                continue
            by_turn[turn] = {"turn": turn, "snippet": snippet, "why": f"score +{score - previous}"}
        elif score > previous:
            by_turn[turn]["why"] += f"; score +{score - previous}"
        previous = score
    return [by_turn[t] for t in sorted(by_turn)]


def _check(name: str, observations: list[str], subgoals: list[dict]) -> None:
    """AgentBoard's rule must close each snippet exactly at its turn and finish at the last step."""
    tracker = SnippetTracker([s["snippet"] for s in subgoals])
    expected = {s["turn"]: s["snippet"] for s in subgoals}
    for turn, obs in enumerate(observations, 1):
        closed = tracker.update(obs)
        if closed != expected.get(turn):
            raise ValueError(f"{name}: turn {turn} closed {closed!r}, expected {expected.get(turn)!r}")
    if tracker.open or observations and expected and max(expected) != len(observations):
        raise ValueError(f"{name}: subgoals {tracker.open} stay open or finish before the last step")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=jg.SUBGOALS)
    parser.add_argument("--games", default=",".join(jg.GAMES), help="comma-separated subset (default: all 20)")
    args = parser.parse_args(argv)
    import jericho

    goals = {row["game_name"]: row for row in jg.load_goals()}
    # A subset updates those games in an existing file and keeps the others.
    rows = jg.load_annotation(args.out) if args.out.is_file() else {}
    for name in args.games.split(","):
        if name not in goals:
            parser.error(f"unknown game {name!r}; the games are {', '.join(jg.GAMES)}")
        rows[name] = annotate(name, goals[name]["init_obs"])
        steps, subgoals = len(rows[name]["expert_steps"]), len(rows[name]["subgoals"])
        print(f"{name}: {steps} steps, {subgoals} subgoals", file=sys.stderr)
    document = {
        "about": (
            "agentrm-bench's own Jericho subgoals (not AgentBoard's, which are unpublished): snippets of the "
            "games' responses at the score increases and goal-named milestones along jericho's walkthrough "
            "up to where AgentBoard's goal is met. Written by agentrm_bench/envs/jericho/subgoals.py."
        ),
        "jericho_version": jericho.__version__,
        "budget_steps": BUDGET,
        "games": [rows[name] for name in jg.GAMES if name in rows],
    }
    args.out.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
