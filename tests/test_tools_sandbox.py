"""The tool tasks served through the sandbox: the same episodes as in-process, crashes, sharing, wire values.

Tool-Operation and Tool-Query run their toolset services in a sandbox by default (``sandbox="local"``).
These tests compare whole expert episodes with the in-process services (``sandbox=None``), play a
crashed server, check that closing an env releases its server and that two envs on one server never
see each other's state, and that values JSON cannot carry (tuples, sets, int keys) keep their type --
and so their score -- across the socket. Docker runs the same episodes where an engine can be started.
"""

from __future__ import annotations

import json
import math
import re

import pytest

pytest.importorskip("openpyxl")
pytest.importorskip("formulas")
pytest.importorskip("regex")
pytest.importorskip("networkx")
pytest.importorskip("geopy")

import agentrm_bench  # noqa: E402, F401
from agentrm_bench import data, sandbox  # noqa: E402
from agentrm_bench.envs import service_pool  # noqa: E402
from agentrm_bench.envs.tool_common import wire  # noqa: E402
from agentrm_bench.envs.tool_common.protocol import RegexLiteral  # noqa: E402
from agentrm_bench.envs.tool_operation import rows as tools_rows  # noqa: E402
from agentrm_bench.envs.tool_operation.env import ToolOperationEnv  # noqa: E402
from agentrm_bench.envs.tool_query.env import ToolQueryEnv  # noqa: E402

from .conftest import check_todo_isolation, expert_steps, todo_isolation_index  # noqa: E402
from .fixtures.sandbox.support import BACKENDS, pid_running, require_docker, wait_until  # noqa: E402
from .test_tool_query import CASSETTES, ROWS, graph_dir, index_of  # noqa: E402, F401 -- graph_dir: a fixture

TODO_ROWS = (20, 25, 39)  # Tool-Operation instances: todo rows (sheet rows are marked slow below)


def need_data() -> None:
    try:
        tools_rows.data_file(tools_rows.WORKBOOK)
        tools_rows.data_file(tools_rows.TODO_SEED)
    except data.DataMissingError as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "docker":
        require_docker()
    return request.param


@pytest.fixture
def fresh_pool(monkeypatch):
    """An empty server pool, so this test's envs are the only users of the servers they start."""
    monkeypatch.setattr(service_pool, "_POOL", {})


# ------------------------------------------------------------------------------------ same episodes as in-process
@pytest.mark.parametrize("index", [*TODO_ROWS, pytest.param(0, marks=pytest.mark.slow)])
def test_tool_operation_expert_episodes_match_in_process(backend, index):
    need_data()
    env, reference = ToolOperationEnv(sandbox=backend), ToolOperationEnv(sandbox=None)
    try:
        steps = expert_steps(env, index)
        assert steps == expert_steps(reference, index)
        assert steps[-1][-1]["success"]
        assert isinstance(env._service, sandbox.Sandbox)
        assert env._service.backend.name == backend
    finally:
        env.close()
        reference.close()


def test_tool_query_expert_episodes_match_in_process(backend, graph_dir):  # noqa: F811
    options = {"rows": ROWS, "academia_dir": graph_dir, "cassette_dir": CASSETTES, "allow_synthetic": True}
    env, reference = ToolQueryEnv(sandbox=backend, **options), ToolQueryEnv(sandbox=None, **options)
    try:
        toolsets = set()
        for index in range(env.num_instances):
            steps = expert_steps(env, index)
            assert steps == expert_steps(reference, index), env.row(index).id
            assert steps[-1][-1]["success"] and env.call_log() == reference.call_log()
            toolsets.add(env.toolset)
        assert toolsets == {"academia", "weather", "movie"}
        assert env._service.backend.name == backend
    finally:
        env.close()
        reference.close()


def test_snapshot_restore_through_the_sandbox():
    need_data()
    env = ToolOperationEnv()
    env.reset(options={"index": 25})
    for _ in range(3):
        env.step(env.expert_action())
    state = env.snapshot()
    first = [env.step(a) for a in (env.expert_action(), "Action: get_projects with Action Input: {}")]
    env.restore(state)
    assert [env.step(a) for a in (env.expert_action(), "Action: get_projects with Action Input: {}")] == first
    env.close()


# ------------------------------------------------------------------------------------ crashes, closing, sharing
def test_a_killed_server_is_a_clear_error_and_the_next_episode_restarts_it(fresh_pool):
    need_data()
    env = ToolOperationEnv()
    try:
        env.reset(options={"index": 20})
        env.step(env.expert_action())
        box = env._service
        pid = box.info["pid"]
        box.backend.kill()
        assert wait_until(lambda: not pid_running(pid), 5.0)
        with pytest.raises(sandbox.SandboxCrashed, match="killed by SIGKILL"):
            env.step("Action: get_projects with Action Input: {}")
        with pytest.raises(sandbox.SandboxCrashed, match="a new episode .* restarts it"):
            env.step(env.expert_action())
        steps = expert_steps(env, 20)  # reset: closing the lost session is ignored, create restarts the server
        assert steps[-1][-1]["success"] and box.restarts == 1 and box.info["pid"] != pid
    finally:
        env.close()


def test_a_hung_server_times_out_instead_of_hanging(fresh_pool, monkeypatch):
    need_data()
    monkeypatch.setattr(ToolOperationEnv, "call_timeout", 1.0)
    env = ToolOperationEnv()
    try:
        env.reset(options={"index": 20})
        box = env._service
        import os
        import signal

        os.kill(box.info["pid"], signal.SIGSTOP)  # frozen: alive, but never answers
        with pytest.raises(sandbox.SandboxTimeout, match="no answer within 1 s"):
            env.step(env.expert_action())
    finally:
        env.close()


def test_close_releases_the_server_when_its_last_env_closes(fresh_pool, graph_dir):  # noqa: F811
    need_data()
    first, second = ToolOperationEnv(), ToolOperationEnv()
    first.reset(options={"index": 20})
    second.reset(options={"index": 21})
    box = first._service
    assert second._service is box  # one server for the process's todo episodes
    pid = box.info["pid"]
    first.close()
    assert box.alive and second.step(second.expert_action())[-1]["valid_action"]
    second.close()
    assert box.closed and wait_until(lambda: not pid_running(pid), 5.0)
    second.close()  # idempotent

    query = ToolQueryEnv(rows=ROWS, academia_dir=graph_dir, cassette_dir=CASSETTES, allow_synthetic=True)
    query.reset(options={"index": 0})
    query_box = query._service
    query.close()
    assert query_box.closed


def test_two_todo_envs_on_one_server_never_share_state(fresh_pool):
    need_data()
    first, second = ToolOperationEnv(), ToolOperationEnv()
    try:
        check_todo_isolation(first, second, todo_isolation_index())
        assert first._service is second._service and first._session != second._session  # one server
    finally:
        first.close()
        second.close()


def test_absent_data_is_still_a_data_missing_error_through_the_sandbox(graph_dir):  # noqa: F811
    env = ToolQueryEnv(rows=ROWS, academia_dir=graph_dir, cassette_dir=CASSETTES)  # synthetic: refused
    try:
        with pytest.raises(data.DataMissingError, match="synthetic test cassette"):
            env.reset(options={"index": index_of(env, 2001)})
    finally:
        env.close()


def test_docker_refuses_the_backends_that_need_network():
    for backend in ("live", "record"):
        with pytest.raises(ValueError, match="docker sandbox has no network"):
            ToolQueryEnv(backend=backend, sandbox="docker")
    with pytest.raises(ValueError, match="sandbox must be one of"):
        ToolOperationEnv(sandbox="vm")


# ------------------------------------------------------------------------------------ values across the wire
ODD_VALUES = [
    (1, "1"),
    [1, 2],
    {"nested": [(1, 2), {3, 4}, frozenset({5})]},
    {1: "int key", (2, 3): "tuple key"},
    {"__py__": "a key that looks like the tag"},
    b"\x00bytes",
    complex(1, -2),
    float("inf"),
    Ellipsis,
    RegexLiteral("^Meat$", re.IGNORECASE),
]


@pytest.mark.parametrize("value", ODD_VALUES, ids=lambda v: type(v).__name__)
def test_wire_values_keep_their_type(value):
    encoded = wire.encode(value)
    decoded = wire.decode(json.loads(json.dumps(encoded, allow_nan=False)))
    assert decoded == value and type(decoded) is type(value)


def test_wire_is_the_identity_on_plain_json_and_keeps_nan_and_foreign_values():
    plain = {"a": [1, 2.5, None, True, "x", {"b": []}]}
    assert wire.encode(plain) == plain
    assert math.isnan(wire.decode(wire.encode(float("nan"))))
    foreign = wire.decode(json.loads(json.dumps(wire.encode(object()))))
    assert isinstance(foreign, wire.Foreign) and foreign.type == "object"


def test_finish_with_a_tuple_or_set_answer_scores_as_in_process():
    """``finish`` echoes the answer as the agent wrote it: a tuple is not a list (upstream ``==``)."""
    need_data()
    env, reference = ToolOperationEnv(), ToolOperationEnv(sandbox=None)
    try:
        for answer in ("(1, 2)", "{1, 2}", "{1: 2}"):
            action = f"Action: finish with Action Input: {{'answer': {answer}}}"
            remote, local = env.reset(options={"index": 22}), reference.reset(options={"index": 22})
            assert remote == local
            assert env.step(action) == reference.step(action)
            assert env._logged == reference._logged and type(env._logged[-1]) is type(reference._logged[-1])
    finally:
        env.close()
        reference.close()
