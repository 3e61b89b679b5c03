"""A small noisy-expert pool of Maze, built once per test session (seconds), for the pool tests."""

from __future__ import annotations

import pytest

from agentrm_bench.pools import store
from agentrm_bench.pools.build import BuildConfig, Built, build

EPSILONS = [0.2, 0.8]
CONFIG = BuildConfig(
    policy="noisy-expert", tasks=("maze",), n=4, states=2, siblings=3, rollouts=2, vary={"epsilon": EPSILONS}, limit=4
)


@pytest.fixture(scope="session")
def maze_pool(tmp_path_factory):
    """(root, built): the build in ``root/build``, the pool installed as ``tiny`` under ``root/pools``."""
    root = tmp_path_factory.mktemp("maze-pool")
    built = build(CONFIG, root / "build", workers=0, show_progress=False)
    assert isinstance(built, Built)
    store.install(root / "pools", "tiny", built.blob, built.sha256, built.header, CONFIG, replace=False)
    return root, built
