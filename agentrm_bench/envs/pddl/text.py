"""PDDL atoms and actions as English, and English back to actions, the way AgentBoard does it.

The sentence templates are facts of AgentBoard's PDDL environment (hkust-nlp/AgentBoard @ bb7255e2,
``pddl_env.py``), reproduced so that observations, and therefore scores, compare with published
ones. Upstream keeps one table for all domains in which some names appear twice; the entry that
wins there wins here too. That gives a few odd sentences which are kept on purpose:

- ``clear b1`` reads "The b1 is clear." and ``free`` reads "{} is free. " in every domain;
- barman's two-argument ``holding h c`` uses the one-argument template, so it names the hand only
  ("You are holding left. ");
- names without a template (gripper's ``room`` and ``drop``, barman's ``handempty``) read as the
  bare name followed by the objects ("drop ball1 roomb left");
- several templates end with a space, so joined sentences can show two spaces.

State sentences are capitalised with Python's ``str.capitalize`` (which also lower-cases the rest),
sorted, and joined with a space; goal sentences are sorted and joined with ", "; action sentences
are neither capitalised nor changed.

Reading an action follows upstream's rule: lower-case the text, split it into words, take the first
word that names an operator with at least one valid grounding in the current state, then the words
that name objects, in order, cut to the operator's arity (too few: unreadable). Upstream splits
words with NLTK's tokenizer; :func:`words` does the same for the texts that matter here (names keep
their hyphens and digits; sentence punctuation is split off) without NLTK and its data download.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

Atom = tuple[str, ...]

TEMPLATES: dict[str, str] = {
    # blockworld
    "on": "{} is on {}.",
    "clear": "The {} is clear.",
    "arm-empty": "Your arm is empty.",
    "holding": "You are holding {}. ",
    "on-table": "{} is on the table.",
    "putdown": "Putdown {}.",
    "stack": "Stack {} on {}.",
    "pickup": "Pickup {}.",
    "unstack": "Unstack {} from {}.",
    # tyreworld
    "isopen": "{} is open.",
    "closed": "{} is closed.",
    "have": "You have {}.",
    "in": "{} is in {}.",
    "loose": "The nut {} on the hub {} is loose.",
    "tight": "The nut {} on the hub {} is tight.",
    "unlocked": "{} is unlocked.",
    "on-ground": "Hub {} is on the ground.",
    "not-on-ground": "Hub {} is not on the ground.",
    "inflated": "Wheel {} is inflated.",
    "not-inflated": "Wheel {} is not inflated.",
    "fastened": "Hub {} is fastened.",
    "unfastened": "Hub {} is unfastened.",
    "intact": "Wheel {} is intact.",
    "open": "Open {}.",
    "close": "Close {}.",
    "fetch": "Fetch {} from {}.",
    "put-away": "Put-away {} in {}.",
    "loosen": "Loosen the nut {} on the hub {}.",
    "tighten": "Tighten the nut {} on the hub {}.",
    "jack-up": "jack-up the hub {}.",
    "jack-down": "Jack-down the hub {}.",
    "undo": "Undo the fastening of the nut {} on the hub {}.",
    "do-up": "Do-up the nut {} on the hub {}.",
    "remove-wheel": "Remove-wheel {} from the hub {}.",
    "put-on-wheel": "put-on-wheel {} on the hub {}.",
    "inflate": "Inflate the wheel {}.",
    # gripper
    "ball": "{} is a ball. ",
    "gripper": "{} is a gripper. ",
    "at-robby": "Robby is at {}. ",
    "at": "{} is at {}. ",
    "free": "{} is free. ",
    "carry": "{} is carrying {}. ",
    "move": "Move from {} to {}. ",
    "pick": "Pick up {} at {} with arm {}. ",
    # barman
    "ontable": "{} is on the table. ",
    "empty": "{} is empty. ",
    "contains": "{} contains {}. ",
    "clean": "{} is clean. ",
    "used": "Pour {} from a shot glass to a used shaker {}",
    "dispenses": "{} dispenses {}. ",
    "shaker-empty-level": "{} is at empty level {}. ",
    "shaker-level": "{} is at level {}. ",
    "next": "level {} is next to level {}. ",
    "unshaked": "{} is unshaked. ",
    "shaked": "{} is shaked. ",
    "cocktail-part1": "{} part1 ingredient is {}. ",
    "cocktail-part2": "{} part2 ingredient is {}. ",
    "grasp": "{} grasp {}. ",
    "leave": "{} leave {}. ",
    "fill-shot": "fill-shot glass {} with {} with {} and {} holding {}. ",
    "refill-shot": "refill-shot {} with {} with {} and {} holding {}. ",
    "empty-shot": "use hand {} to empty-shot glass {} with beverage {}. ",
    "clean-shot": "clean-shot glass {} with {} with hand {} holding shot glass and {}. ",
    "pour-shot-to-clean-shaker": (
        "pour-shot-to-clean-shaker from a shot glass {} with {} to a clean shaker {} with hand {} "
        "from level {} to level {}"
    ),
    "pour-shot-to-used-shaker": (
        "pour-shot-to-used-shaker from a shot glass {} with {} to a used shaker {} with hand {} "
        "from level {} to level {}"
    ),
    "empty-shaker": "use hand {} to empty-shaker {} with ingredient {} from level {} to level {}.",
    "clean-shaker": "use hand {} and hand {} to clean-shaker {}",
    "shake": "shake a cocktail {} with ingredient {} and ingredient {} in a shaker {} with hand {} and hand {}",
    "pour-shaker-to-shot": (
        "pour-shaker-to-shot to a shot glass {} the ingredient {} with hand {} from shaker {} from level {} to level {}"
    ),
}

GOAL_PREFIX = "The goal is to satisfy the following conditions: "
CHECK_ACTIONS = "check valid actions"
LOOK_AROUND = "look around"
VALID_PREFIX = "Valid actions are: "
GOAL_REACHED = " The goal is satisfied."
UNREADABLE = "The action is not valid and therefore takes no effect. Please check valid actions."
NO_EFFECT = (
    "The action is not valid and therefore takes no effect. Please remember to satisfy the restriction of "
    "actions. You can also check valid actions."
)


def sentence(name: str, args: Iterable[str]) -> str:
    """One atom or action as upstream words it (extra objects beyond the template's slots are dropped)."""
    args = list(args)
    template = TEMPLATES.get(name)
    if template is None:
        return f"{name} {' '.join(args)}"
    slots = template.count("{}")
    if slots > len(args):
        raise ValueError(f"template of {name!r} needs {slots} objects, got {args}")
    return template.format(*args)


def state_text(atoms: Iterable[Atom]) -> str:
    """A set of atoms as the observation shows it: capitalised sentences, sorted, space-joined."""
    return " ".join(sorted(sentence(a[0], a[1:]).capitalize() for a in atoms))


def goal_text(goal: Iterable[Atom]) -> str:
    return GOAL_PREFIX + ", ".join(sorted(sentence(a[0], a[1:]) for a in goal))


def action_text(operator: str, args: Iterable[str]) -> str:
    return sentence(operator, args)


def valid_actions_text(actions: list[str]) -> str:
    return VALID_PREFIX + ", ".join(actions)


_SPLIT = re.compile(r"[\s,;:!?()\[\]{}\"'`<>|]+")


def words(text: str) -> list[str]:
    """Lower-cased words of ``text``; hyphens, underscores and inner dots stay, outer dots go."""
    out = []
    for piece in _SPLIT.split(text.lower()):
        piece = piece.strip(".")
        if piece:
            out.append(piece)
    return out


def read_action(text: str, arity: dict[str, int], objects: Iterable[str]) -> tuple[str, tuple[str, ...]] | None:
    """Upstream's reading of an action: (operator, objects), or None when the text names none.

    ``arity`` holds only the operators that have a valid grounding in the current state: upstream
    looks for those names alone.
    """
    tokens = words(text)
    operator = next((t for t in tokens if t in arity), None)
    if operator is None:
        return None
    names = set(objects)
    args = tuple(t for t in tokens if t in names)[: arity[operator]]
    if len(args) < arity[operator]:
        return None
    return operator, args
