"""A model server killed and restarted in the middle of a run: nothing lost, nothing counted twice.

64 greedy BabyAI episodes in flight against the vLLM server ``.ci/llm-server`` started as ``wide``
(``AGENTRM_TEST_SERVER_URL_WIDE``); once the server has answered the first turn of every episode it is
killed (SIGKILL, as a crash) and started again on the same port. Twice:

* with the backend's default wait (``wait_s``, 300 s), the requests in flight wait for the server and are
  asked again: the run ends with all 64 episodes finished and no error;
* with a wait shorter than the restart (5 s), the episodes in flight become error records; the rerun of
  the same command retries them, and every episode is finished exactly once.

Slow (two restarts of vLLM, a minute or two each on 2 cores): marked ``server``, run by ``.ci/run``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from agentrm_bench.records import RecordStore, read_records

from .conftest import REPO, server_at
from .server_load import metrics_url

pytest.importorskip("openai")

WIDE = "AGENTRM_TEST_SERVER_URL_WIDE"
NAME = "wide"
EPISODES = 64
LLM_SERVER = REPO / ".ci" / "llm-server"


def served_requests(url: str) -> float:
    """Requests the server has finished since it started (vLLM's ``request_success_total``)."""
    try:
        with urllib.request.urlopen(metrics_url(url), timeout=5) as answer:
            text = answer.read().decode()
    except OSError:
        return 0.0
    return sum(float(v) for v in re.findall(r"^vllm:request_success_total\{[^}]*\}\s+([0-9.eE+-]+)$", text, re.M))


def command(url: str, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "agentrm_bench", "run", "--policy", "greedy", "--model", f"openai:{url}",
        "--tasks", "babyai", "--limit", str(EPISODES), "--max-turns", "4", "--in-flight", str(EPISODES),
        "--workers", "0", "--policy-arg", "max_tokens=24", "--policy-arg", "example=false",
        "--out", str(out), "--no-progress", *extra,
    ]  # fmt: skip


def kill_then_restart_when_busy(url: str, port: int, restarted: list[float]) -> threading.Thread:
    """Kill the server once it has answered a turn of every episode; start it again on ``port`` (in a thread)."""
    base = served_requests(url)
    deadline = time.monotonic() + 600
    while served_requests(url) < base + EPISODES and time.monotonic() < deadline:
        time.sleep(0.5)
    subprocess.run([str(LLM_SERVER), "kill", "--name", NAME], check=True, capture_output=True)

    def restart() -> None:
        parallel = str(EPISODES)
        subprocess.run(
            [str(LLM_SERVER), "start", "--name", NAME, "--parallel", parallel, "--port", str(port)],
            check=True,
            capture_output=True,
        )
        restarted.append(time.monotonic())

    thread = threading.Thread(target=restart, daemon=True)
    thread.start()
    return thread


def finished_once(out: Path) -> list[tuple[str, int]]:
    keys = [r.key for r in read_records(out)]
    assert len(keys) == len(set(keys)), "an episode was counted twice"
    return sorted(keys)


@pytest.fixture
def wide_server():
    url = server_at(WIDE, f".ci/llm-server start --name {NAME} --parallel {EPISODES}")
    named = subprocess.run([str(LLM_SERVER), "url", "--name", NAME], capture_output=True, text=True)
    if named.stdout.strip() != url.rstrip("/"):
        pytest.skip(f"{WIDE} is not the server .ci/llm-server started as '{NAME}' (the test kills and restarts it)")
    return url, int(url.rstrip("/").removesuffix("/v1").rpartition(":")[2])


@pytest.mark.server
def test_a_server_killed_and_restarted_mid_run_loses_nothing(wide_server, tmp_path):
    url, port = wide_server
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    every = [("babyai", i) for i in range(EPISODES)]

    # 1. The default wait: the run rides out the restart.
    restarted: list[float] = []
    run = subprocess.Popen(command(url, tmp_path / "wait"), env=env, cwd=REPO, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)  # fmt: skip
    restart = kill_then_restart_when_busy(url, port, restarted)
    stdout, stderr = run.communicate(timeout=1200)
    restart.join(timeout=600)
    assert restarted, "the server did not come back"
    assert run.returncode == 0, stdout + stderr
    assert "stopped answering" in stderr  # the run said why it paused
    assert finished_once(tmp_path / "wait") == every and not RecordStore(tmp_path / "wait").errors()

    # 2. A wait shorter than the restart: error records, then the rerun retries them.
    short = command(url, tmp_path / "short", "--policy-arg", 'model_options={"wait_s": 5}')
    restarted.clear()
    run = subprocess.Popen(short, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    restart = kill_then_restart_when_busy(url, port, restarted)
    stdout, stderr = run.communicate(timeout=1200)
    assert run.returncode == 1, stdout + stderr  # some episodes errored
    errored = {r.key for r in RecordStore(tmp_path / "short").errors()}
    finished = set(finished_once(tmp_path / "short"))
    assert errored and not errored & finished and len(errored | finished) == EPISODES
    assert all("stopped answering" in r.error for r in RecordStore(tmp_path / "short").errors())
    restart.join(timeout=600)
    assert restarted, "the server did not come back"
    rerun = subprocess.run(short, env=env, cwd=REPO, capture_output=True, text=True, timeout=1200)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert rerun.stdout.startswith(f"{EPISODES}/{EPISODES} episodes finished")
    assert finished_once(tmp_path / "short") == every
    redone = {r.key for r in read_records(tmp_path / "short")} - finished
    assert redone == errored  # the rerun played the errored episodes, and only those
