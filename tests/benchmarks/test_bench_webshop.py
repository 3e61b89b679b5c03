"""WebShop speed (pytest-benchmark; run with --benchmark-only): steps, sandbox start, and search at scale.

On the synthetic fixture catalogue (tests/fixtures/webshop): one step through ``env.step`` in-process and
through the local sandbox (a search, and a click on a results page), the sandbox's start time, the
expert over all 36 goals. At scale (marked slow; ``pytest -m slow --benchmark-only -k scale``): a
generated catalogue of 1.18M products in the upstream file format -- invented words with a Zipf-like
frequency, titles, descriptions, bullets and options like WebShop's -- parsed by the real loader,
indexed by the real BM25 code (build time and peak memory in ``extra_info``), then searched with
2-5-word queries; the target is a median search under 50 ms.
"""

from __future__ import annotations

import resource
import time

import numpy as np
import pytest

pytest.importorskip("bm25s", reason="webshop needs its extra: pip install 'agentrm-bench[webshop]'")

from agentrm_bench.envs.webshop import catalogue as webshop_catalogue  # noqa: E402
from agentrm_bench.envs.webshop.env import WebShopEnv  # noqa: E402
from agentrm_bench.envs.webshop.search import open_index  # noqa: E402

from ..test_webshop import FIXTURE, SIZES  # noqa: E402

FULL_SIZE = 1_180_000
STEPS = {
    "search": ("search[running shoes]", None),  # from the search page
    "click": ("click[B0RUN00001]", "search[running shoes]"),  # a product link on a results page
}


def make_env(sandbox: str | None, index_dir) -> WebShopEnv:
    return WebShopEnv(sandbox=sandbox, catalogue=FIXTURE, index_cache=index_dir, split_sizes=SIZES, max_turns=10**9)


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("webshop-bench-index")


@pytest.mark.parametrize("sandbox", [None, "local"], ids=["in-process", "local-sandbox"])
@pytest.mark.parametrize("kind", list(STEPS))
def test_step_latency(benchmark, index_dir, sandbox, kind):
    """One env.step; the page is put back first (restore of a snapshot is not timed)."""
    benchmark.group = f"webshop: step ({kind})"
    env = make_env(sandbox, index_dir)
    action, before = STEPS[kind]
    env.reset(options={"index": 2})
    if before:
        env.step(before)
    state = env.snapshot()

    def setup():
        env.restore(state)

    result = benchmark.pedantic(lambda: env.step(action), setup=setup, rounds=200, iterations=1, warmup_rounds=5)
    assert result[-1]["valid_action"]
    env.close()


def test_local_sandbox_start(benchmark, index_dir):
    """Starting the local sandbox server until healthy, with the catalogue and the cached index loaded."""
    benchmark.group = "webshop: sandbox start"
    make_env(None, index_dir).close()  # the index is cached before timing

    def start():
        env = make_env("local", index_dir)
        env.close()

    benchmark.pedantic(start, rounds=3, iterations=1)


def test_expert_over_all_fixture_goals(benchmark, index_dir):
    benchmark.group = "webshop: expert"
    env = make_env(None, index_dir)

    def run():
        total = 0.0
        for index in range(env.num_instances):
            env.reset(options={"index": index})
            terminated = truncated = False
            while not (terminated or truncated):
                *_, terminated, truncated, info = env.step(env.expert_action())
            total += info["progress"]
        return total / env.num_instances

    assert benchmark.pedantic(run, rounds=3, iterations=1) > 0.9


# ------------------------------------------------------------------------------------- scale
def generated_products(count: int, seed: int = 0):
    """Raw products in the upstream format over an invented vocabulary (no WebShop text involved)."""
    rng = np.random.default_rng(seed)
    syllables = ["ka", "lo", "mi", "tur", "sen", "va", "rok", "del", "pi", "nor", "xe", "bal", "qui", "mo", "zan"]
    vocab = np.array(["".join(rng.choice(syllables, size=rng.integers(2, 5))) + str(i % 7) for i in range(60_000)])
    weights = 1.0 / (np.arange(vocab.size) + 20.0)
    weights /= weights.sum()
    colors = ["black", "navy blue", "grey", "red", "olive green", "white", "pink", "beige"]
    sizes = ["small", "medium", "large", "x-large", "7", "8", "9", "10", "11", "12 oz", "16 oz"]
    chunk = 20_000
    for start in range(0, count, chunk):
        n = min(chunk, count - start)
        words = vocab[rng.choice(vocab.size, size=(n, 90), p=weights)]
        for row in range(n):
            w = words[row]
            i = start + row
            yield {
                "asin": f"B{i:09d}",
                "name": " ".join(w[:9]).title(),
                "full_description": " ".join(w[9:69]),
                "small_description": [" ".join(w[69:78]), " ".join(w[78:84])],
                "pricing": f"${5 + (i % 400) * 0.25:.2f}",
                "customization_options": {
                    "color": [{"value": c} for c in colors[i % 5 : i % 5 + 3]],
                    "size": [{"value": s} for s in sizes[i % 7 : i % 7 + 4]],
                },
                "images": [f"https://example.invalid/{i}.jpg"],
                "category": "fashion",
                "query": " ".join(w[84:86]),
                "product_category": "A › B › " + w[86],
            }


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


@pytest.mark.slow
def test_scale_search_on_a_generated_full_size_catalogue(benchmark, tmp_path):
    benchmark.group = "webshop: search at 1.18M products"
    began = time.perf_counter()
    products = webshop_catalogue.parse_products(generated_products(FULL_SIZE), {})
    parsed = time.perf_counter()
    rss_parsed = _rss_mb()
    index = open_index(products, tmp_path)
    built = time.perf_counter()
    rss_built = _rss_mb()
    reopened = open_index(products, tmp_path)  # from the cache: memory-mapped arrays
    loaded = time.perf_counter()
    rng = np.random.default_rng(1)
    names = [p.name.lower().split() for p in list(products.values())[:: FULL_SIZE // 500]]
    queries = [" ".join(rng.choice(words, size=int(rng.integers(2, 6)), replace=False)) for words in names]
    position = {"i": 0}

    def search():
        query = queries[position["i"] % len(queries)]
        position["i"] += 1
        return reopened.search(query)

    hits = benchmark.pedantic(search, rounds=500, iterations=1, warmup_rounds=10)
    assert 0 < len(hits) <= 50 and index.size == reopened.size == FULL_SIZE
    benchmark.extra_info.update(
        {
            "products": FULL_SIZE,
            "generate_and_parse_s": round(parsed - began, 1),
            "index_build_s": round(built - parsed, 1),
            "index_load_from_cache_s": round(loaded - built, 2),
            "peak_rss_after_parse_mb": round(rss_parsed),
            "peak_rss_after_build_mb": round(rss_built),
        }
    )
    assert benchmark.stats.stats.median < 0.050, "target: a search in under 50 ms at 1.18M products"
