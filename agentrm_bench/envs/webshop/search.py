"""WebShop's search engine: BM25 over each product's text, built once per catalogue and cached on disk.

Upstream indexes one document per product with Pyserini (Lucene): the lowercased title, description,
first bullet point and option list (``search_engine/convert_product_file_format.py``), searched with
Lucene's BM25 (k1=0.9, b=0.4) and its English analyzer (standard tokenizer, possessive removal, the
33-word English stop list, Porter stemmer); a search returns at most 50 products.

Here the same documents and scoring run on ``bm25s`` (https://github.com/xhluca/bm25s, MIT): a maintained
BM25 library on numpy sparse matrices, with Lucene's scoring variant (``method="lucene"``). Why not
Pyserini itself: it needs a JVM (Java 21 for current releases, 17 here) and a several-hundred-MB jar plus
torch/faiss in its dependency tree, for what is one inverted index; bm25s is pure Python + numpy, its
index saves to a folder of ``.npy`` arrays that load memory-mapped (fast start in every worker and
sandbox), and at 1.18M products a query takes milliseconds (tests/benchmarks/test_bench_webshop.py).
The analyzer is approximated by a regex tokenizer with the same stop list and PyStemmer's Porter stemmer;
ties are broken by catalogue order, as Lucene breaks them by document id.

The index is keyed by a hash of the documents and the analyzer settings, so a changed catalogue or
tokenizer builds a new one; it lives in the user's cache directory unless a folder is given.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from pathlib import Path

import bm25s
import numpy as np
import platformdirs
import Stemmer
from bm25s.stopwords import STOPWORDS_EN  # Lucene's English stop list (the same 33 words)

from .catalogue import Product

SEARCH_RETURN_N = 50  # upstream: a search shows at most 50 products (5 pages of 10)
K1, B = 0.9, 0.4  # Lucene / Pyserini BM25 defaults
MEMO_SIZE, MEMO_QUERY_CHARS = 2048, 1000  # remembered searches: how many, and the longest query kept
MEMO_WORDS = 1_000_000  # words whose terms a query analyzer remembers
INDEX_VERSION = "1"  # bump when the analyzer or the document text changes
_TOKEN = re.compile(r"\d+(?:[.,]\d+)+|\w+(?:['\u2019]\w+)*")
_STOP = frozenset(STOPWORDS_EN)


def document_text(product: Product) -> str:
    """Upstream's indexed text: title, description, first bullet point and "name: v1, v2, and ..." options."""
    option_text = ", and ".join(f"{name}: {', '.join(values)}" for name, values in product.options.items())
    first_bullet = product.bullets[0] if product.bullets else ""
    return " ".join([product.name, product.description, first_bullet, option_text]).lower()


class _Memo(dict):
    """A dict that computes a missing value once (a word's stem, a word's term id)."""

    def __init__(self, compute):
        super().__init__()
        self._compute = compute

    def __missing__(self, key):
        value = self[key] = self._compute(key)
        return value


class Analyzer:
    """Lowercase, split into words (numbers keep their decimal point), drop "'s" and stop words, stem.

    Every distinct word is analysed once and remembered: indexing 1.18M products meets a few million
    distinct words but a hundred million occurrences.
    """

    def __init__(self) -> None:
        self._stemmer = Stemmer.Stemmer("porter")
        self._stems = _Memo(self.stem)

    def stem(self, word: str) -> str:
        """The term of one lowercased word; "" for a stop word."""
        if word.endswith(("'s", "\u2019s")):
            word = word[:-2]
        if not word or word in _STOP:
            return ""
        return self._stemmer.stemWord(word)

    def __call__(self, text: str) -> list[str]:
        if len(self._stems) > MEMO_WORDS:  # a bound for pathological input (e.g. 100 KB of random text)
            self._stems.clear()
        return [term for term in map(self._stems.__getitem__, _TOKEN.findall(text.lower())) if term]

    def term_ids(self, texts: Iterable[str], vocab: dict[str, int]) -> list[list[int]]:
        """Each (lowercase) text as term ids, growing ``vocab``: the indexing path, without per-word strings."""

        def term_id(word: str) -> int:
            term = self._stems[word]
            return vocab.setdefault(term, len(vocab)) if term else -1

        ids = _Memo(term_id)
        find = _TOKEN.findall
        return [[i for i in map(ids.__getitem__, find(text)) if i >= 0] for text in texts]


class SearchIndex:
    """BM25 over a catalogue's documents; :meth:`search` gives ASINs, best first."""

    def __init__(self, retriever: bm25s.BM25, asins: list[str]):
        self._retriever = retriever
        self._asins = asins
        self._analyzer = Analyzer()
        self._memo: OrderedDict[str, list[str]] = OrderedDict()
        self._lock = threading.Lock()  # a threaded server may search from several sessions at once
        self._analyzer_lock = threading.Lock()

    @property
    def size(self) -> int:
        return len(self._asins)

    def search(self, query: str, k: int = SEARCH_RETURN_N) -> list[str]:
        """The ``k`` best-scoring products containing any query term (fewer if fewer match)."""
        with self._analyzer_lock:  # PyStemmer's stemmer objects are not thread-safe
            words = self._analyzer(query)
        ids = self._retriever.get_tokens_ids(words)
        if not ids:
            return []
        scores = self._retriever.get_scores_from_ids(ids)
        hits = np.flatnonzero(scores > 0)
        if hits.size > k:
            # keep every document tied with the k-th score, then order by (score desc, catalogue order)
            kth = np.partition(scores[hits], hits.size - k)[hits.size - k]
            hits = hits[scores[hits] >= kth]
        order = np.lexsort((hits, -scores[hits]))[:k]
        return [self._asins[i] for i in hits[order]]

    def cached_search(self, query: str) -> list[str]:
        """:meth:`search` with the default ``k``, remembered: paging through results re-reads them."""
        with self._lock:
            hits = self._memo.get(query)
            if hits is not None:
                self._memo.move_to_end(query)
                return list(hits)
        hits = self.search(query)
        if len(query) <= MEMO_QUERY_CHARS:
            with self._lock:
                self._memo[query] = hits
                if len(self._memo) > MEMO_SIZE:
                    self._memo.popitem(last=False)
        return list(hits)

    # ------------------------------------------------------------------------- build / load
    @classmethod
    def build(cls, asins: Sequence[str], texts: Iterable[str]) -> SearchIndex:
        """Index ``texts`` (one per ASIN); documents go straight to term ids, to keep 1.18M of them small."""
        vocab: dict[str, int] = {}
        corpus = Analyzer().term_ids(texts, vocab)
        if len(corpus) != len(asins):
            raise ValueError(f"{len(asins)} ASINs but {len(corpus)} documents")
        retriever = bm25s.BM25(k1=K1, b=B, method="lucene")
        retriever.index((corpus, vocab), show_progress=False)
        return cls(retriever, list(asins))

    def save(self, folder: Path) -> None:
        self._retriever.save(str(folder), show_progress=False)
        (folder / "asins.json").write_text(json.dumps(self._asins))

    @classmethod
    def load(cls, folder: Path) -> SearchIndex:
        retriever = bm25s.BM25.load(str(folder), mmap=True, show_progress=False)
        asins = json.loads((folder / "asins.json").read_text())
        return cls(retriever, asins)


def fingerprint(asins: Sequence[str], texts: Sequence[str]) -> str:
    digest = hashlib.sha256(f"webshop-bm25 v{INDEX_VERSION} k1={K1} b={B} porter lucene-stop\n".encode())
    for asin, text in zip(asins, texts, strict=True):
        digest.update(asin.encode())
        digest.update(b"\x00")
        digest.update(text.encode("utf-8", "surrogatepass"))
        digest.update(b"\x01")
    return digest.hexdigest()[:24]


def default_cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir("agentrm-bench")) / "webshop-index"


def open_index(products: dict[str, Product], cache_dir: str | Path | None = None) -> SearchIndex:
    """The catalogue's index from the cache, building (and caching) it the first time.

    A build goes to a private temporary folder renamed into place, so concurrent workers never read
    a half-written index; a worker that loses the race just uses the winner's copy.
    """
    asins = list(products)
    texts = [document_text(products[a]) for a in asins]
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    folder = root / fingerprint(asins, texts)
    if (folder / "asins.json").is_file():
        return SearchIndex.load(folder)
    index = SearchIndex.build(asins, texts)
    root.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(dir=root, prefix=".build-"))
    try:
        index.save(scratch)
        try:
            os.rename(scratch, folder)
        except OSError:
            if not (folder / "asins.json").is_file():
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return SearchIndex.load(folder)
