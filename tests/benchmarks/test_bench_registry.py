"""Cost of the plug-in layer: resolving a spec through the registries against building the object
directly, and hashing weights for a reward model's identity (first time and remembered).

Run with ``pytest tests/benchmarks/test_bench_registry.py --benchmark-only``. Resolution happens once per
run (the policy is built once per process), hashing once per run start; neither is on the per-step path.
"""

from __future__ import annotations

import pytest

from agentrm_bench import policies, rewards
from agentrm_bench.llm import weights


@pytest.mark.parametrize("how", ["registry", "direct"])
def test_build_a_reward_model(benchmark, how):
    from agentrm_bench.rewards.oracle import OracleRM

    benchmark.group = "build the oracle reward model"
    benchmark(rewards.make_rm, "oracle") if how == "registry" else benchmark(OracleRM)


@pytest.mark.parametrize("how", ["registry", "direct"])
def test_build_an_llm_policy(benchmark, how):
    from agentrm_bench.search.policy import BestOfNPolicy

    benchmark.group = "build best-of-n (scripted model, oracle)"
    if how == "registry":
        benchmark(policies.create, "best-of-n", model="scripted", rm="oracle", n=4)
    else:
        benchmark(BestOfNPolicy, model="scripted", rm="oracle", n=4)


@pytest.mark.parametrize("remembered", [False, True])
def test_weights_identity_of_a_64_mb_folder(benchmark, tmp_path, remembered):
    import numpy as np
    from safetensors.numpy import save_file

    save_file({"w": np.ones((4096, 4096), dtype=np.float32)}, tmp_path / "model.safetensors")
    (tmp_path / "config.json").write_text("{}")

    def identify():
        if not remembered:
            weights._DIGESTS.clear()
        return weights.folder_weights(tmp_path)

    benchmark.group = "weights identity of a 64 MiB safetensors folder"
    found = benchmark(identify)
    assert found.parameters == 4096 * 4096
