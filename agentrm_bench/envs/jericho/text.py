"""Jericho text rules as AgentBoard applies them: action cutting, observation cleaning, subgoal matching.

AgentBoard's Jericho task (hkust-nlp/AgentBoard, ``tasks/jericho.py`` and ``environment/jericho_env.py``)
cuts the model's action at the first comma and the first period and keeps at most 20 words; it cleans
every game response by turning newlines into spaces, collapsing runs of spaces and dropping the
``[Your score ...]`` notices; and it scores progress by matching observation snippets: both sides
stripped of every character that is not a letter, digit or whitespace, the FIRST still-open snippet
contained in the observation earns one point (at most one per step), progress = points / snippets,
kept as a running maximum. A special action ("check valid actions": any action containing both
"check" and "action" once cut) lists the valid actions without advancing the game. All of that is
reimplemented here from those rules.

Two guards are ours, because a Z-machine interpreter reads raw bytes and obeys more than the game:
the action is reduced to printable ASCII without backslashes (a newline would be read as a second
command and bleed into the next step; bytes outside ASCII are echoed back in words cp1252 cannot
always decode; jericho's "dumb" frotz reads a backslash as an escape to itself, and one such escape
crashed the process in our fuzzing), capped under the 198-byte input buffer; and interpreter commands
(save, restore, script, recording, quit, restart, ...: they write files into the working directory or
end the session) and the debugging verbs some story files still carry (purloin, gonear, ...) are
answered by the benchmark instead of the game.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

CHECK_VALID_ACTIONS = "check valid actions"
VALID_ACTIONS_PREFIX = "You can take the following actions: "
MAX_WORDS = 20
MAX_INPUT_CHARS = 190  # the interpreter's input buffer holds 198 bytes
# Commands that are not moves in the game world. Interpreter commands write files into the working
# directory (save, script, transcript, recording), read them (restore, replay) or end / restart the
# session; debugging verbs that some of the 20 story files were compiled with move objects or the
# player anywhere (purloin, abstract, gonear, goto), fix the random numbers or dump the object tree.
INTERPRETER_VERBS = ("save", "restore", "script", "unscript", "transcript", "noscript", "recording", "replay")
SESSION_VERBS = ("quit", "q", "die", "restart")
DEBUG_VERBS = ("purloin", "abstract", "gonear", "goto", "random", "tree", "scope", "showobj", "showverb")
DEBUG_VERBS += ("trace", "routines", "daemons", "timers", "actions", "messages")
BLOCKED_VERBS = frozenset(INTERPRETER_VERBS + SESSION_VERBS + DEBUG_VERBS)
BLOCKED_TEXT = "[That command controls the interpreter and is not available in this benchmark.]"

_NOT_ALNUM = re.compile(r"[^a-zA-Z0-9\s]")
_SCORE_NOTICE = re.compile(r"\[Your score .*?\]")
_SPACES = re.compile(r" {2,}")


def is_check_valid_actions(action: str) -> bool:
    """AgentBoard's test for its special action: both words appear (case-insensitive) in the cut text."""
    lowered = action.strip().lower()
    return "check" in lowered and "action" in lowered


def agentboard_cut(action: str) -> str:
    """AgentBoard's cut of the model's action (``tasks/jericho.py`` ``parse_action``): first comma, first
    period, 20 words. It comes before everything else, the "check valid actions" test included."""
    action = action.split(",")[0].split(".")[0]
    return " ".join(action.split(" ")[:MAX_WORDS])


def cut_action(action: str) -> str:
    """AgentBoard's cut, then our byte-safety guard: the text the interpreter receives."""
    return to_game_input(agentboard_cut(action))


def to_game_input(action: str) -> str:
    """Printable ASCII only (accents folded, control characters as spaces), trimmed to the buffer."""
    folded = unicodedata.normalize("NFKD", action).replace("\\", " ")  # a backslash escapes to the interpreter
    chars = [c if " " <= c <= "~" else (" " if unicodedata.category(c)[0] in "CZ" else "") for c in folded]
    return " ".join("".join(chars).split())[:MAX_INPUT_CHARS].strip()


def is_blocked(game_input: str) -> bool:
    """Whether any command in the input (parsers run "look then save" as two) is an interpreter command.

    Z-machine dictionaries keep only the first 6 (version 3) or 9 letters of a word, so "restorx" is
    "restore" to a version-3 game: verbs of six letters or more are matched on their first six.
    """
    words = game_input.lower().split()
    starts = [0] + [i + 1 for i, word in enumerate(words) if word == "then"]
    return any(i < len(words) and _is_blocked_verb(words[i]) for i in starts)


def _is_blocked_verb(word: str) -> bool:
    return any(word == verb or (len(verb) >= 6 and len(word) >= 6 and word[:6] == verb[:6]) for verb in BLOCKED_VERBS)


def clean_observation(text: str) -> str:
    """AgentBoard's clean-up of a game response (newlines, runs of spaces, score notices)."""
    return _SCORE_NOTICE.sub("", _SPACES.sub(" ", text.replace("\n", " ")))


def strip_punctuation(text: str) -> str:
    """The form both sides take before AgentBoard's substring test."""
    return _NOT_ALNUM.sub("", text)


def snippet_matches(observation: str, snippet: str) -> bool:
    return strip_punctuation(snippet) in strip_punctuation(observation)


@lru_cache(maxsize=1024)
def _stripped_snippet(snippet: str) -> str:
    return strip_punctuation(snippet)


class SnippetTracker:
    """Progress over one game's subgoal snippets, scored the AgentBoard way (see the module doc)."""

    def __init__(self, snippets: Sequence[str]):
        if not snippets:
            raise ValueError("a game needs at least one subgoal snippet")
        self.snippets = tuple(snippets)
        self.open: list[str] = list(self.snippets)

    @property
    def points(self) -> int:
        return len(self.snippets) - len(self.open)

    @property
    def progress(self) -> float:
        return self.points / len(self.snippets)

    def update(self, observation: str) -> str | None:
        """Score one cleaned observation; returns the snippet it closed, if any."""
        observation = strip_punctuation(observation)  # once, not once per open snippet
        for snippet in self.open:
            if _stripped_snippet(snippet) in observation:  # snippet_matches()
                self.open.remove(snippet)
                return snippet
        return None

    def state(self) -> tuple[str, ...]:
        return tuple(self.open)

    def load(self, open_snippets: Sequence[str]) -> None:
        unknown = set(open_snippets) - set(self.snippets)
        if unknown:
            raise ValueError(f"snippets not of this game: {sorted(unknown)}")
        self.open = list(open_snippets)
