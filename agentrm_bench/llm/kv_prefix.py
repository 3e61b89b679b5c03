"""Reusing the key/value cache of a conversation's earlier turns (prefix caching) for the hf backend.

An agent's prompt at turn t is its prompt at turn t-1 plus a few dozen tokens, and every branch of a
search shares the prompt of its parent; without reuse, each turn recomputes thousands of prompt tokens,
which on a CPU costs far more than generating the reply. Here each finished row leaves its keys and
values behind (bounded by a token budget, least recently used first out); a new row starts from the
entry sharing the longest token prefix with it and computes only the rest.

It relies on the transformers cache holding per-layer ``keys``/``values`` tensors (``DynamicCache``,
transformers >= 4.56); where that is not so, the backend turns prefix caching off and recomputes.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np

KV = list[tuple[Any, Any]]  # per layer: keys, values of shape [1, heads, length, dim]


def cache_layers(cache: Any) -> KV:
    """The per-layer key/value tensors of a transformers cache."""
    return [(layer.keys, layer.values) for layer in cache.layers]


def make_cache(kv: KV | None) -> Any:
    from transformers import DynamicCache

    return DynamicCache() if kv is None else DynamicCache(ddp_cache_data=kv)


class PrefixCache:
    def __init__(self, budget_tokens: int = 32768):
        self.budget_tokens = budget_tokens
        self._entries: OrderedDict[int, tuple[np.ndarray, KV]] = OrderedDict()
        self._next = 0
        self.hits = 0
        self.reused_tokens = 0

    @property
    def tokens(self) -> int:
        return sum(len(ids) for ids, _ in self._entries.values())

    def lookup(self, ids: list[int]) -> tuple[int, KV | None]:
        """(length, keys/values) of the longest cached prefix of ``ids``, leaving at least one token."""
        query = np.asarray(ids)
        best, best_key = 0, None
        for key, (stored, _) in self._entries.items():
            n = min(len(stored), len(query) - 1)
            if n <= best:
                continue
            differ = np.nonzero(stored[:n] != query[:n])[0]
            common = int(differ[0]) if len(differ) else n
            if common > best:
                best, best_key = common, key
        if best_key is None:
            return 0, None
        self._entries.move_to_end(best_key)
        self.hits += 1
        self.reused_tokens += best
        _, kv = self._entries[best_key]
        return best, [(k[:, :, :best], v[:, :, :best]) for k, v in kv]

    def store(self, ids: list[int], kv: KV) -> None:
        """Keep ``ids``' keys/values. An entry that is a prefix of another holds nothing the longer one does
        not: a conversation's next turn replaces its last, and a prompt already covered is not kept twice
        (both ate the budget before, and with it the entries that other rows would have reused)."""
        if len(ids) > self.budget_tokens:
            return
        query = np.asarray(ids)
        for key, (stored, _) in list(self._entries.items()):
            if len(stored) >= len(query) and np.array_equal(stored[: len(query)], query):
                self._entries.move_to_end(key)  # covered by a longer entry
                return
            if np.array_equal(query[: len(stored)], stored):
                del self._entries[key]  # covered by this one
        self._entries[self._next] = (query, kv)
        self._next += 1
        while self.tokens > self.budget_tokens:
            self._entries.popitem(last=False)
