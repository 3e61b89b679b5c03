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
from agentrm_bench.envs import service_pool  # noqa: E402
from agentrm_bench.envs.served import call as served_call  # noqa: E402
from agentrm_bench.envs.tool_common import wire  # noqa: E402
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


class Client:
    """A running service (in-process or sandboxed) called as a served env calls it: the wire codec applied
    where a socket is crossed, so both sides of a group pay what an env pays."""

    def __init__(self, toolset_spec: str, where: str | None, kwargs: dict):
        placement = service_pool.Placement(timeout=60.0)
        self.service = service_pool.start(toolset_spec, where, kwargs, placement)

    def __call__(self, op: str, **payload) -> dict:
        return served_call(self.service, op, payload, wire)

    def close(self) -> None:
        self.service.close()


def timed(benchmark, client: Client, session: str, call: str) -> dict:
    """The ``step`` op of ``call`` timed over ROUNDS rounds, each from the same restored state."""
    state = client("snapshot", session=session)["state"]

    def setup() -> None:
        client("restore", session=session, state=state)

    return benchmark.pedantic(
        client, args=("step",), kwargs={"session": session, "action": call}, setup=setup, rounds=ROUNDS
    )


def timed_env(benchmark, env, action: str) -> None:
    """``env.step(action)`` timed over ROUNDS rounds, each from the same restored state."""
    state = env.snapshot()

    def setup() -> None:
        env.restore(state)

    benchmark.pedantic(env.step, args=(action,), setup=setup, rounds=ROUNDS)


@pytest.fixture(scope="module")
def graph(tmp_path_factory):
    return build_graph_files(FIXTURES / "academia_graph.json", tmp_path_factory.mktemp("academia") / "raw")


@pytest.mark.parametrize("where", WHERE, ids=IDS)
@pytest.mark.parametrize(
    "call",
    [act("get_all_values"), act("update_cell", position="D2", value="7")],
    ids=["get_all_values", "update_cell"],
)
def test_sheet_call(benchmark, where, call):
    benchmark.group = f"sheet {call.split()[1]}"
    client = Client(tool_operation.SERVICE, where, {"toolset": "sheet"})
    session = client("create")["session"]
    sheets = list(tool_operation.START_SHEETS)
    client(
        "reset", session=session, config={"workbook": upstream(tools_rows.WORKBOOK), "sheets": sheets, "open": "Sheet1"}
    )
    try:
        assert timed(benchmark, client, session, call)["status"] == "ok"
    finally:
        client.close()


@pytest.mark.parametrize("where", WHERE, ids=IDS)
def test_todo_call(benchmark, where):
    benchmark.group = "todo get_projects"
    client = Client(tool_operation.SERVICE, where, {"toolset": "todo"})
    session = client("create")["session"]
    client("reset", session=session, config={"seed": upstream(tools_rows.TODO_SEED), "current_date": "2015-06-01"})
    try:
        assert timed(benchmark, client, session, act("get_projects"))["status"] == "ok"
    finally:
        client.close()


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
    kwargs = {
        "backend": "recorded",
        "academia_dir": str(graph),
        "cassette_dir": str(CASSETTES),
        "allow_synthetic": True,
    }
    client = Client(tool_query.SERVICE, where, kwargs)
    session = client("create", row=read_rows(ROWS)[row_id].to_json())["session"]
    client("reset", session=session)
    if row_id == 1006:
        client("step", session=session, action=act("loadAuthorNet"))
    try:
        assert timed(benchmark, client, session, call)["valid"]
    finally:
        client.close()


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
