"""WebShop served from a sandbox (local subprocess; Docker where an engine can be started).

The same fixture episodes as in-process must give the same pages; snapshot/restore goes through the
protocol (a server-side copy of the session); a killed server is an error, and the next episode starts
a fresh one.
"""

from __future__ import annotations

import pytest

pytest.importorskip("bm25s", reason="webshop needs its extra: pip install 'agentrm-bench[webshop]'")

from agentrm_bench import sandbox  # noqa: E402
from agentrm_bench.envs.webshop.env import WebShopEnv  # noqa: E402

from .conftest import expert_steps  # noqa: E402
from .fixtures.sandbox.support import BACKENDS, pid_running, require_docker, wait_until  # noqa: E402
from .test_webshop import FIXTURE, SIZES  # noqa: E402


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "docker":
        require_docker()
    return request.param


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("webshop-sandbox-index")


def make(sandbox_kind, index_dir) -> WebShopEnv:
    return WebShopEnv(sandbox=sandbox_kind, catalogue=FIXTURE, index_cache=index_dir, split_sizes=SIZES)


def test_sandboxed_episodes_match_in_process(backend, index_dir):
    env = make(backend, index_dir)
    reference = make(None, index_dir)
    try:
        box = env._service
        assert isinstance(box, sandbox.Sandbox) and box.backend.name == backend
        for index in (0, 26, 10):
            assert expert_steps(env, index) == expert_steps(reference, index)
        env.reset(options={"index": 29})
        env.step("search[coffee mugs]")
        state = env.snapshot()
        first = [env.step(a) for a in ("click[B0MUG00004]", "click[speckled white]")]
        env.restore(state)
        assert [env.step(a) for a in ("click[B0MUG00004]", "click[speckled white]")] == first
    finally:
        env.close()
    assert box.closed


def test_a_killed_server_is_an_error_and_the_next_episode_restarts_it(backend, index_dir):
    env = make(backend, index_dir)
    try:
        env.reset(options={"index": 1})
        env.step("search[running shoes]")
        pid = env._service.info.get("pid")
        env._service.backend.kill()
        if backend == "local" and pid:
            assert wait_until(lambda: not pid_running(pid), 5.0)
        with pytest.raises(sandbox.SandboxError):
            env.step("click[Next >]")
        steps = expert_steps(env, 1)  # reset -> create restarts the server
        assert steps[-1][-1]["success"] and env._service.restarts == 1
    finally:
        env.close()
