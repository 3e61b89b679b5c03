"""The one service base and the one served-env client: ops, the error rule, sessions, codec, typed errors.

The three server tasks (WebShop, Tool-Query, Tool-Operation) share :class:`agentrm_bench.sandbox.service.Service`
and :class:`agentrm_bench.envs.served.ServedEnv`; these tests pin what they must have in common, on a small
service of their own (a counter whose values are not plain JSON, so the codec matters) and on the three
real services. Also: sandbox backends come from the registry, and the sandbox layer reads no task table.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pytest

from agentrm_bench import data, sandbox
from agentrm_bench.cli import main
from agentrm_bench.envs import service_pool
from agentrm_bench.envs.served import ServedEnv, call
from agentrm_bench.envs.tool_common import wire
from agentrm_bench.sandbox import images
from agentrm_bench.sandbox.local import LocalBackend
from agentrm_bench.sandbox.service import Service, UnknownOp, error_reply, op

from .fixtures.sandbox.support import COUNTER, FIXTURES

PACKAGE = Path(__file__).resolve().parents[1] / "agentrm_bench"


class Tally(Service[list[Any]]):
    """Each session keeps the values it was given; values travel in the tool tasks' wire form."""

    name = "tally"
    codec = wire

    @op(reply="session")
    def create(self) -> str:
        return self.open_session([])

    @op
    def add(self, session: str, value: Any) -> dict[str, Any]:
        self.session(session).append(value)
        return {"count": len(self.session(session)), "last": value}

    @op(reply="values")
    def values(self, session: str) -> list[Any]:
        return list(self.session(session))

    @op
    def fail(self, kind: str) -> None:
        raise {"data": data.DataMissingError, "value": ValueError}[kind](f"a {kind} problem")

    def helper(self) -> str:  # not an op: never reachable by a request
        return "private"


def test_ops_are_declared_once_and_direct_calls_stay_plain_python():
    service = Tally()
    assert sorted(Tally.ops) == ["add", "close", "create", "fail", "values"]
    session = service.create()
    assert service.add(session, (1, 2)) == {"count": 1, "last": (1, 2)} and service.values(session) == [(1, 2)]


def test_one_error_rule_for_every_failure():
    service = Tally()
    session = service.handle({"op": "create"})["session"]
    replies = [
        service.handle({"op": "helper"}),  # a method that is no op
        service.handle({"op": "add", "session": session}),  # a missing argument
        service.handle({"op": "add", "session": "s99", "value": 1}),  # no such session
        service.handle({"op": "fail", "kind": "value"}),  # the op raised
    ]
    assert [r["error_type"] for r in replies] == ["UnknownOp", "TypeError", "KeyError", "ValueError"]
    assert all(r["ok"] is False and r["error"].startswith(f"{r['error_type']}: ") for r in replies)
    assert "the tally service has add, close, create, fail, values" in replies[0]["error"]
    assert "no open tally session 's99'" in replies[2]["error"]
    assert error_reply(UnknownOp("x")) == {"ok": False, "error": "UnknownOp: x", "error_type": "UnknownOp"}
    assert service.handle({"op": "close", "session": session}) == {"ok": True} and not service.sessions()
    assert service.handle({"op": "close", "session": session}) == {"ok": True}  # already gone: not an error


def test_the_codec_is_applied_once_per_request_and_reply():
    service = Tally()
    session = service.handle({"op": "create"})["session"]
    request = json.loads(json.dumps({"op": "add", "session": session, "value": wire.encode({1: (2, 3)})}))
    reply = json.loads(json.dumps(service.handle(request)))
    assert wire.decode(reply["last"]) == {1: (2, 3)} and service.values(session) == [{1: (2, 3)}]


@pytest.mark.parametrize("where", [None, "local"])
def test_the_client_call_path_is_the_same_in_process_and_in_a_sandbox(where):
    handle = service_pool.start("tests.test_service_base:Tally", where, {})  # the server imports this module
    try:
        session = call(handle, "create", {}, wire)["session"]
        assert call(handle, "add", {"session": session, "value": {1, 2}}, wire)["last"] == {1, 2}
        assert call(handle, "values", {"session": session}, wire)["values"] == [{1, 2}]
        with pytest.raises(data.DataMissingError, match="^a data problem$"):
            call(handle, "fail", {"kind": "data"}, wire, {"DataMissingError": data.DataMissingError})
        with pytest.raises(sandbox.SandboxRequestError, match="ValueError: a value problem"):
            call(handle, "fail", {"kind": "value"}, wire, {"DataMissingError": data.DataMissingError})
    finally:
        handle.close()


def test_in_process_typed_errors_keep_the_original_exception():
    handle = service_pool.InProcess(Tally())
    with pytest.raises(data.DataMissingError) as caught:
        call(handle, "fail", {"kind": "data"}, wire, {"DataMissingError": data.DataMissingError})
    assert caught.value.__traceback__ is not None and "fail" in str(caught.traceback[-1].name)


def test_the_pool_shares_one_running_service_until_its_last_user_releases_it(monkeypatch):
    monkeypatch.setattr(service_pool, "_POOL", {})
    first = service_pool.acquire("tests.test_service_base:Tally", None, {})
    second = service_pool.acquire("tests.test_service_base:Tally", None, {})
    assert first is second
    service_pool.release(first)
    assert not first.closed
    service_pool.release(second)
    assert first.closed and service_pool.acquire("tests.test_service_base:Tally", None, {}) is not first


def test_the_three_server_envs_are_thin_served_envs():
    from agentrm_bench.envs.tool_operation.env import ToolOperationEnv
    from agentrm_bench.envs.tool_query.env import ToolQueryEnv

    for cls in (ToolOperationEnv, ToolQueryEnv):
        assert issubclass(cls, ServedEnv) and cls.service_spec and "close" not in vars(cls)
    with pytest.raises(ValueError, match="sandbox must be one of"):
        ToolOperationEnv(sandbox="vm")


# ------------------------------------------------------------------------------------------- sandbox layer
def test_a_sandbox_backend_plugs_in_through_the_registry():
    class Tagged(LocalBackend):
        name = "tagged"

    sandbox.BACKENDS.register("tagged", Tagged)
    try:
        with sandbox.start(COUNTER, "tagged", pythonpath=[FIXTURES], timeout=10) as box:
            assert box.backend.name == "tagged" and box.call("create")["session"] == "s1"
    finally:
        sandbox.BACKENDS.unregister("tagged")
    assert "tagged" not in sandbox.BACKENDS and sorted(sandbox.BACKENDS.builtin_names()) == ["docker", "local"]


def test_the_sandbox_layer_imports_no_task_table_and_no_task():
    for path in sorted((PACKAGE / "sandbox").glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                names = [f"{'.' * node.level}{node.module or ''}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                assert "tasks" not in name.split(".") and "envs" not in name.split("."), (path.name, name)


def test_a_task_image_installs_the_extras_its_caller_names():
    with_extra, repo, _ = images._context("webshop", ("webshop",))
    without, _, _ = images._context("webshop")
    assert repo == "agentrm-bench/webshop" and b"bm25s" in with_extra["requirements.txt"]
    assert b"bm25s" not in without["requirements.txt"]
    assert images._tag(with_extra, "sha256:1") != images._tag(without, "sha256:1")


def test_sandbox_build_refuses_bad_task_names_in_one_line(capsys):
    assert main(["sandbox", "build", "mase"]) == 2
    assert "unknown task 'mase'" in capsys.readouterr().err
    assert main(["sandbox", "build", "maze"]) == 2
    assert (
        capsys.readouterr().err.strip()
        == "agentrm-bench: error: maze has no image of its own (its service runs in the generic one)"
    )
