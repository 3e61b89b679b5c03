"""The Tool-Operation service (sheet and todo toolsets) served through both backends answers exactly as in-process.

The first real users of the sandbox. For one sheet row and one todo row, the task's own expert plays the
episode in-process; its actions are then replayed through a sandboxed service and through a fresh
in-process one side by side: every reply, the snapshot / restore branch and the final state must be
equal. The service is built by ``sandbox_fixture_services:tool_operation`` (the same objects the env's
``service()`` builds); the workbook and the todo seed come from the data root, which the Docker backend
mounts read-only. The sheet row, whose in-process expert run alone takes seconds, is marked slow.
"""

from __future__ import annotations

import functools
from typing import Any

import pytest

pytest.importorskip("openpyxl")
pytest.importorskip("formulas")
pytest.importorskip("regex")

import gymnasium as gym  # noqa: E402

import agentrm_bench  # noqa: E402, F401
from agentrm_bench import sandbox  # noqa: E402
from agentrm_bench.envs.tool_operation.service import OperationService  # noqa: E402
from agentrm_bench.envs.tool_operation.sheet import SheetToolset  # noqa: E402
from agentrm_bench.envs.tool_operation.todo import TodoToolset  # noqa: E402

from .fixtures.sandbox.support import BACKENDS, FIXTURES, require_docker  # noqa: E402

ROWS = {"sheet": 0, "todo": 20}  # instance indices of the first sheet row and the first todo row
TOOLSETS = {"sheet": SheetToolset, "todo": TodoToolset}


@functools.cache
def _expert_episode(index: int) -> tuple[dict[str, Any], tuple[str, ...]] | str:
    """The reset config and the expert's actions for one instance, played in-process (or why not)."""
    from agentrm_bench import data

    try:
        env = gym.make("agentrm/ToolOperation-v0").unwrapped
        env.reset(options={"index": index})
    except data.DataMissingError as exc:
        return str(exc)
    config = env._config(env.row)
    actions, done = [], False
    while not done:
        action = env.expert_action()
        actions.append(action)
        _, _, terminated, truncated, info = env.step(action)
        done = terminated or truncated
    assert info["success"], "the expert must solve the row for the comparison to mean something"
    env.close()
    return config, tuple(actions)


def expert_episode(index: int) -> tuple[dict[str, Any], tuple[str, ...]]:
    episode = _expert_episode(index)
    if isinstance(episode, str):
        pytest.skip(episode)
    return episode


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "docker":
        require_docker()
    return request.param


@pytest.mark.parametrize("toolset", [pytest.param("sheet", marks=pytest.mark.slow), "todo"])
def test_the_sandboxed_service_answers_as_in_process(backend: str, toolset: str) -> None:
    config, actions = expert_episode(ROWS[toolset])
    reference = OperationService(TOOLSETS[toolset])
    ref_session = reference.create()
    spec = "sandbox_fixture_services:tool_operation"
    with sandbox.start(spec, backend, service_kwargs={"toolset": toolset}, pythonpath=[FIXTURES], timeout=60) as box:
        session = box.call("create")["session"]
        first = box.call("reset", session=session, config=config)
        assert first["observation"] == reference.reset(ref_session, config)["observation"]
        half = len(actions) // 2
        for action in actions[:half]:
            assert _strip(box.call("step", session=session, action=action)) == reference.step(ref_session, action)
        branch = box.call("snapshot", session=session)["state"]
        assert branch == _json_round_trip(reference.snapshot(ref_session))
        for action in actions[half:]:
            assert _strip(box.call("step", session=session, action=action)) == reference.step(ref_session, action)
        final = box.call("inspect", session=session)["state"]
        assert final == _json_round_trip(reference.inspect(ref_session))
        box.call("restore", session=session, state=branch)  # back to the middle, then the same ending again
        for action in actions[half:]:
            box.call("step", session=session, action=action)
        assert box.call("inspect", session=session)["state"] == final
        assert box.call("close", session=session) == {"ok": True}


def _strip(reply: dict[str, Any]) -> dict[str, Any]:
    return _json_round_trip({k: v for k, v in reply.items() if k != "ok"})


def _json_round_trip(value: Any) -> Any:
    import json

    return json.loads(json.dumps(value))
