"""Tool call latency in process vs through the local sandbox, side by side (pytest-benchmark; --benchmark-only).

Each group holds the same call made on the in-process service (``sandbox=None``) and on the service in
a local sandbox subprocess (JSON over HTTP on a Unix socket, values in the wire form): their ratio is
the cost of the sandbox per tool call. Tool-Operation: a sheet read, a sheet write and a todo read on
the real workbook / seed; Tool-Query: an academia graph lookup and a weather cassette replay on the
test fixtures; and a whole env step of each task (tool call + scoring; Tool-Operation's step also
fetches the state it scores). Every round starts from the same state (restored from a snapshot, untimed):
the action path grows with each call and progress matching walks it, so free-running rounds would time
a growing state and compare unequal round counts.
"""

from __future__ import annotations

import pytest

pytest.importorskip("openpyxl")
pytest.importorskip("formulas")
pytest.importorskip("networkx")
pytest.importorskip("geopy")

from agentrm_bench import data  # noqa: E402
from agentrm_bench.envs.tool_common import remote as tools_remote  # noqa: E402
from agentrm_bench.envs.tool_common.protocol import ToolCall  # noqa: E402
from agentrm_bench.envs.tool_operation import env as tool_operation  # noqa: E402
from agentrm_bench.envs.tool_operation import rows as tools_rows  # noqa: E402
from agentrm_bench.envs.tool_operation.env import ToolOperationEnv  # noqa: E402
from agentrm_bench.envs.tool_query import env as tool_query  # noqa: E402
from agentrm_bench.envs.tool_query.env import ToolQueryEnv  # noqa: E402
from agentrm_bench.envs.tool_query.rows import read_rows  # noqa: E402

from ..test_tool_query import CASSETTES, FIXTURES, ROWS, build_graph_files  # noqa: E402


def act(tool: str, **arguments) -> str:
    return ToolCall(tool, arguments).render()


ROUNDS = 300
WHERE = [None, "local"]
IDS = ["in-process", "local-sandbox"]
TEMP = act("get_historical_temp", latitude=10.5, longitude=20.25, start_date="2023-03-09", end_date="2023-03-09")


def upstream(relative: str) -> str:
    try:
        return str(tools_rows.data_file(relative))
    except data.DataMissingError as exc:
        pytest.skip(str(exc))


def timed(benchmark, service, session: str, call: str) -> dict:
    """``service.step(session, call)`` timed over ROUNDS rounds, each from the same restored state."""
    state = service.snapshot(session)

    def setup() -> None:
        service.restore(session, state)

    return benchmark.pedantic(service.step, args=(session, call), setup=setup, rounds=ROUNDS)


def timed_env(benchmark, env, action: str) -> None:
    """``env.step(action)`` timed over ROUNDS rounds, each from the same restored state."""
    state = env.snapshot()

    def setup() -> None:
        env.restore(state)

    benchmark.pedantic(env.step, args=(action,), setup=setup, rounds=ROUNDS)


@pytest.fixture(scope="module")
def graph(tmp_path_factory):
    return build_graph_files(FIXTURES / "academia_graph.json", tmp_path_factory.mktemp("academia") / "raw")


def operation_service(toolset: str, where: str | None):
    if where is None:
        return tool_operation.service(toolset), None
    box = tools_remote.start_service(tool_operation.SERVICE, where, {"toolset": toolset})
    return tools_remote.RemoteToolService(box), box


@pytest.mark.parametrize("where", WHERE, ids=IDS)
@pytest.mark.parametrize(
    "call",
    [act("get_all_values"), act("update_cell", position="D2", value="7")],
    ids=["get_all_values", "update_cell"],
)
def test_sheet_call(benchmark, where, call):
    benchmark.group = f"sheet {call.split()[1]}"
    service, box = operation_service("sheet", where)
    session = service.create()
    sheets = list(tool_operation.START_SHEETS)
    service.reset(session, {"workbook": upstream(tools_rows.WORKBOOK), "sheets": sheets, "open": "Sheet1"})
    try:
        assert timed(benchmark, service, session, call)["status"] == "ok"
    finally:
        if box is not None:
            box.close()


@pytest.mark.parametrize("where", WHERE, ids=IDS)
def test_todo_call(benchmark, where):
    benchmark.group = "todo get_projects"
    service, box = operation_service("todo", where)
    session = service.create()
    service.reset(session, {"seed": upstream(tools_rows.TODO_SEED), "current_date": "2015-06-01"})
    try:
        assert timed(benchmark, service, session, act("get_projects"))["status"] == "ok"
    finally:
        if box is not None:
            box.close()


@pytest.mark.parametrize("where", WHERE, ids=IDS)
@pytest.mark.parametrize(
    "row_id, call",
    [
        (1006, act("neighbourCheck", graph="AuthorNet", node="Ada Quill")),
        (2001, TEMP),
    ],
    ids=["academia neighbourCheck", "weather get_historical_temp"],
)
def test_query_call(benchmark, graph, where, row_id, call):
    benchmark.group = f"tool-query {call.split()[1]}"
    kwargs = {"academia_dir": str(graph), "cassette_dir": str(CASSETTES), "allow_synthetic": True}
    box = None
    if where is None:
        service = tool_query.service(**kwargs)
    else:
        box = tools_remote.start_service(tool_query.SERVICE, where, {"backend": "recorded", **kwargs})
        service = tools_remote.RemoteQueryService(box)
    session = service.create(read_rows(ROWS)[row_id])
    service.reset(session)
    if row_id == 1006:
        service.step(session, act("loadAuthorNet"))
    try:
        assert timed(benchmark, service, session, call)["valid"]
    finally:
        if box is not None:
            box.close()


@pytest.mark.parametrize("where", WHERE, ids=IDS)
@pytest.mark.parametrize("index", [0, 20], ids=["sheet row", "todo row"])
def test_tool_operation_env_step(benchmark, where, index):
    benchmark.group = f"tool-operation env step ({'sheet' if index == 0 else 'todo'})"
    upstream(tools_rows.WORKBOOK)
    env = ToolOperationEnv(sandbox=where, max_turns=10**9)
    env.reset(options={"index": index})
    try:
        timed_env(benchmark, env, env.expert_action())
    finally:
        env.close()


@pytest.mark.parametrize("where", WHERE, ids=IDS)
def test_tool_query_env_step(benchmark, graph, where):
    benchmark.group = "tool-query env step (weather)"
    env = ToolQueryEnv(
        rows=ROWS, academia_dir=graph, cassette_dir=CASSETTES, allow_synthetic=True, max_turns=10**9, sandbox=where
    )
    env.reset(options={"index": next(i for i in range(env.num_instances) if env.row(i).id == 2001)})
    try:
        timed_env(benchmark, env, TEMP)
    finally:
        env.close()
