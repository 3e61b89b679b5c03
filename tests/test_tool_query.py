"""Tool-Query: the environment on the synthetic fixtures, the toolsets, scoring, cassettes, the real rows.

The real data (AgentBoard's DBLP graph, recorded Open-Meteo / TMDB cassettes) is not on this machine, so
the environment runs here on ``tests/fixtures/tool-query`` (invented data in the real structure, see its
README) through the constructor options, and the 60 real instances are checked to fail clearly.
"""

from __future__ import annotations

import json
import os
import pickle
import tarfile
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

pytest.importorskip("networkx")
pytest.importorskip("geopy")

import networkx as nx  # noqa: E402

import agentrm_bench  # noqa: E402,F401
from agentrm_bench import data, tasks  # noqa: E402
from agentrm_bench.env import EPISODE_OVER  # noqa: E402
from agentrm_bench.envs.tool_query import expert as toolq_expert  # noqa: E402
from agentrm_bench.envs.tool_query import rows as toolq_data  # noqa: E402
from agentrm_bench.envs.tool_query.academia import AcademiaToolset, UnsafePickleError, load_graph, load_pickle  # noqa: E402
from agentrm_bench.envs.tool_query.cassette import (  # noqa: E402
    Cassette,
    HttpResponse,
    LiveTransport,
    RecordedTransport,
    RecordingTransport,
    ToolBackendError,
)
from agentrm_bench.envs.tool_query.env import ToolQueryEnv, data_availability  # noqa: E402
from agentrm_bench.envs.tool_query.movie import MovieToolset  # noqa: E402
from agentrm_bench.envs.tool_query.service import QueryService  # noqa: E402
from agentrm_bench.envs.tool_query.weather import WeatherToolset, air_quality_level, is_same_location  # noqa: E402

from .conftest import data_file  # noqa: E402
from .test_contract import fuzz_actions  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures" / "tool-query"
ROWS = FIXTURES / "rows.jsonl"
CASSETTES = FIXTURES / "cassettes"


def build_graph_files(spec_file: Path, folder: Path) -> Path:
    """The six AgentBoard pickles from the fixture's JSON description, written with networkx."""
    spec = json.loads(spec_file.read_text(encoding="utf-8"))
    papers, authors = nx.Graph(), nx.Graph()
    for p in spec["papers"]:
        papers.add_node(
            p["id"], **{k: p[k] for k in ("authors", "year", "venue", "n_citation", "keywords", "doc_type")}
        )
    for a in spec["authors"]:
        authors.add_node(a["id"], name=a["name"], org=a["org"])
    papers.add_edges_from(tuple(edge) for edge in spec["citations"])
    for a, b, shared in spec["collaborations"]:
        authors.add_edge(a, b, collaborative_papers=shared)
    parts = {
        "paper_net": papers,
        "author_net": authors,
        "title2id_dict": {p["title"]: p["id"] for p in spec["papers"]},
        "author2id_dict": {a["name"]: a["id"] for a in spec["authors"]},
        "id2title_dict": {p["id"]: p["title"] for p in spec["papers"]},
        "id2author_dict": {a["id"]: a["name"] for a in spec["authors"]},
    }
    folder.mkdir(parents=True, exist_ok=True)
    for name, value in parts.items():
        (folder / f"{name}.pkl").write_bytes(pickle.dumps(value))
    return folder


@pytest.fixture(scope="session")
def graph_dir(tmp_path_factory) -> Path:
    return build_graph_files(FIXTURES / "academia_graph.json", tmp_path_factory.mktemp("academia") / "raw")


@pytest.fixture
def make_env(graph_dir):
    def make(**kwargs) -> ToolQueryEnv:
        options = {"rows": ROWS, "academia_dir": graph_dir, "cassette_dir": CASSETTES, "allow_synthetic": True}
        return ToolQueryEnv(**{**options, **kwargs})

    return make


def index_of(env: ToolQueryEnv, row_id: int) -> int:
    return next(i for i in range(env.num_instances) if env.row(i).id == row_id)


def run_expert(env: ToolQueryEnv, index: int) -> tuple[float, dict, bool, bool]:
    env.reset(options={"index": index})
    total, terminated, truncated, info = 0.0, False, False, {}
    while not (terminated or truncated):
        _, reward, terminated, truncated, info = env.step(env.expert_action())
        total += reward
    return total, info, terminated, truncated


def act(env: ToolQueryEnv, tool: str, **args) -> tuple[str, dict, bool]:
    obs, _, terminated, _, info = env.step(f"Action: {tool} with Action Input: {json.dumps(args)}")
    return obs, info, terminated


# ---------------------------------------------------------------------------------------------- contract
def test_expert_solves_every_fixture_row_and_rewards_sum_to_progress(make_env):
    env = make_env()
    toolsets = set()
    for index in range(env.num_instances):
        total, info, terminated, truncated = run_expert(env, index)
        assert info["success"] and info["progress"] == 1.0 and terminated and not truncated, env.row(index).id
        assert total == pytest.approx(1.0)
        assert all(call["ok"] for call in env.call_log()), env.row(index).id  # every reference call worked
        toolsets.add(info["toolset"])
        obs, reward, terminated, _, info = env.step("anything")
        assert obs == EPISODE_OVER and reward == 0.0 and info["valid_action"] is False
    assert toolsets == {"academia", "weather", "movie"}


def test_check_env_on_fixtures(make_env):
    check_env(make_env(), skip_render_check=True)


def test_gym_make_passes_the_fixture_options(graph_dir):
    env = gym.make(
        "agentrm/ToolQuery-v0", rows=ROWS, academia_dir=graph_dir, cassette_dir=CASSETTES, allow_synthetic=True
    )
    obs, info = env.reset(options={"index": 0})
    assert obs.startswith("How many mutual collaborators") and info["progress"] == 0.0


TOOL_FUZZ = [
    "Action: loadPaperNet with Action Input: {__import__('os').system('touch /tmp/tq-pwned')}",
    "Action: paperNodeCheck with Action Input: {\"node\": __import__('os').getcwd()}",
    "Action: finish with Action Input: {'answer': (lambda: 1)()}",
    "Action: finish with Action Input: {'answer': open('/etc/passwd').read()}",
    "Action: neighbourCheck with Action Input: " + "[" * 5000 + "]" * 5000,
    'Action: paperNodeCheck with Action Input: {"node": "' + "x" * 50_000 + '"}',
    'Action: paperNodeCheck with Action Input: {"node": [1, 2]}',
    'Action: get_search_movie with Action Input: {"movie_name": null}',
    'Action: get_historical_temp with Action Input: {"latitude": 1}',
    "Action: get_historical_temp with Action Input: {'latitude': 1, 'longitude': 2, 'start_date': 5, 'end_date': 'x'}",
    "Action: nosuchtool with Action Input: {}",
    "Action:  with Action Input: {}",
    "Action: finish with Action Input: [1, 2]",
    "Action: finish with Action Input: {1: 2}",
    "Action: finish with Action Input: {'answer': [1, 'a']}",
    "Action: check_valid_actions with Action Input: {}",
    "Action: get_distance with Action Input: {'latitude1': 'a', 'longitude1': 0, 'latitude2': 0, 'longitude2': 0}",
    "Action: get_air_quality_level with Action Input: {'air_quality_index': 'high'}",
    'Action: get_movie_details with Action Input: {"movie_id": "../../etc"}',
    'Action: loadAuthorNet with Action Input: {}\nAction: authorNodeCheck with Action Input: {"node": 1e999}',
]


def tool_fuzz(rng: np.random.Generator, count: int) -> list[str]:
    """Malformed inputs, unknown tools, huge arguments and code-injection strings, then generic noise."""
    out = list(TOOL_FUZZ)
    generic = fuzz_actions(rng, ["Action: loadPaperNet with Action Input: {}"], count)
    while len(out) < count:
        out.append(
            TOOL_FUZZ[int(rng.integers(len(TOOL_FUZZ)))] if rng.random() < 0.3 else generic[len(out) % len(generic)]
        )
    return out[:count]


@pytest.mark.parametrize("row_id", [1002, 2001, 3001])
def test_fuzzed_actions_never_raise_and_run_no_code(make_env, row_id, tmp_path):
    marker = Path("/tmp/tq-pwned")
    marker.unlink(missing_ok=True)
    env = make_env(max_turns=10_000)
    index = index_of(env, row_id)
    env.reset(seed=0, options={"index": index})
    rng = np.random.default_rng(row_id)
    for action in tool_fuzz(rng, 1000):
        obs, reward, terminated, truncated, info = env.step(action)
        assert isinstance(obs, str) and reward >= 0.0
        if "__import__" in action or "lambda" in action or "open(" in action:
            assert obs.startswith("ERROR | ") and info["valid_action"] is False
        if terminated or truncated:
            env.reset(seed=0, options={"index": index})
    assert not marker.exists()
    total, info, *_ = run_expert(env, index)
    assert info["success"] and total == pytest.approx(1.0)


@pytest.mark.parametrize("row_id", [1002, 2003, 3001])
@pytest.mark.parametrize("native", [True, False], ids=["native", "replay"])
def test_snapshot_restore_replays_identically(make_env, row_id, native, monkeypatch):
    env = make_env()
    if not native:
        monkeypatch.setattr(env, "_native_state", lambda: None)
    env.reset(seed=5, options={"index": index_of(env, row_id)})
    for _ in range(2):
        obs, *_, info = env.step(env.expert_action())
    state = env.snapshot()
    actions = [
        env.expert_action(),
        "Action: check_valid_actions with Action Input: {}",
        "Action: bogus with Action Input: {}",
    ]
    first = [env.step(a) for a in actions]
    restored_obs, restored_info = env.restore(state)
    assert restored_obs == obs and restored_info["turn"] == 2 and restored_info["progress"] == info["progress"]
    assert [env.step(a) for a in actions] == first


# ---------------------------------------------------------------------------------------------- real instances
@pytest.fixture
def real_rows_root(tmp_path, monkeypatch) -> Path:
    """A data root holding only the real rows (as the shared staging has them), nothing else."""
    for name in toolq_data.TOOLSETS:
        source = data_file("tools", toolq_data.ROW_FILES[name])
        target = tmp_path / "tools" / toolq_data.ROW_FILES[name]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(source)
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path))
    return tmp_path


def test_sixty_instances_with_absent_data_fail_at_reset_naming_the_command(real_rows_root):
    env = ToolQueryEnv()
    assert env.num_instances == 60
    assert [env.toolset_of(i) for i in (0, 19, 20, 39, 40, 59)] == ["academia"] * 2 + ["weather"] * 2 + ["movie"] * 2
    with pytest.raises(data.DataMissingError, match="agentrm-bench data fetch tool-query"):
        env.reset(options={"index": 0})
    with pytest.raises(data.DataMissingError, match="tool_query.record weather"):
        env.reset(options={"index": 20})
    with pytest.raises(data.DataMissingError, match=r"tool_query.record movie.*MOVIE_KEY"):
        env.reset(options={"index": 40})
    available, note = data_availability(real_rows_root)
    assert not available and "weather: no recorded cassette" in note


def test_rows_absent_is_a_data_missing_error(tmp_path, monkeypatch):
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path))
    with pytest.raises(data.DataMissingError, match="academia rows"):
        ToolQueryEnv().reset(options={"index": 3})


def test_data_report_ready_when_everything_is_there(real_rows_root, graph_dir):
    (real_rows_root / "tools" / "academia").mkdir(parents=True)
    (real_rows_root / "tools" / "academia" / "raw").symlink_to(graph_dir)
    for name in ("weather", "movie"):
        target = real_rows_root / "tools" / "cassettes" / f"{name}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps({"format": "agentrm-bench/tool-cassette", "version": 1, "interactions": []}))
    assert toolq_data.data_report(real_rows_root) == dict.fromkeys(toolq_data.TOOLSETS, "ready")
    assert data_availability(real_rows_root)[0] is True
    env = ToolQueryEnv()
    obs, _ = env.reset(options={"index": 20})  # an empty real cassette: every request is "not recorded"
    obs, info, _ = act(env, "get_latitude_longitude", name="New York")
    assert obs.startswith("ERROR | NotRecordedError(not recorded: GET") and info["not_recorded"] is True
    # Every real reference path runs to its finish within the turn limit, whatever the data answers (here
    # the fixture graph lacks the real names and the cassettes are empty, so most calls fail): the paths
    # are executable, and nothing is invented for the missing responses.
    for index in range(env.num_instances):
        total, info, terminated, truncated = run_expert(env, index)
        log = env.call_log()
        assert info["success"] and terminated and not truncated and info["turn"] <= 30, index
        assert log[-1]["tool"] == "finish" and log[-1]["ok"]
        if env.toolset_of(index) != "academia":
            assert not any(call["ok"] for call in log[:-1] if call["tool"].startswith("get_search"))


def test_fetch_lays_files_out_where_the_environment_reads_them(tmp_path, graph_dir, monkeypatch):
    """The CATALOGUE entry, fetched from stand-ins (the staged rows, an archive of fixture pickles)."""
    archive = tmp_path / "data.tar.gz"
    with tarfile.open(archive, "w:gz") as bundle:
        for name in toolq_data.GRAPH_FILES:
            bundle.add(graph_dir / name, arcname=f"data/tool-query/academia/raw/{name}")
    staged = {name: data_file("tools", toolq_data.ROW_FILES[name]) for name in toolq_data.TOOLSETS}

    def opener(url: str):
        if url == data.AGENTBOARD_DATA:
            return open(archive, "rb")
        return open(staged[url.rsplit("/", 1)[-1].removesuffix(".jsonl")], "rb")

    root = tmp_path / "root"
    written = data.fetch(
        tasks.data_set("tool-query"), root=root, opener=opener
    )  # verifies the declared sha256 of the rows
    assert len(written) == 9 and not data.missing(tasks.data_set("tool-query"), root)
    assert toolq_data.graph_dir(root) == root / "tools" / "academia" / "raw"
    monkeypatch.setenv(data.ENV_VAR, str(root))
    env = ToolQueryEnv()
    obs, _ = env.reset(options={"index": 0})  # the real row over the fixture graph: loads, names absent
    assert obs.startswith("How many mutual collaborators do Florian Kirchbuchner")
    act(env, "loadAuthorNet")
    obs, *_ = act(env, "neighbourCheck", graph="AuthorNet", node="Florian Kirchbuchner")
    assert obs == "There is no node named Florian Kirchbuchner in the AuthorNet."
    assert toolq_data.data_report(root)["academia"] == "ready"


@pytest.mark.slow
def test_expert_solves_every_real_instance_whose_data_is_present():
    """All 60 test rows, recorded backend: each instance with its data here must be solved by the expert."""
    env = ToolQueryEnv()
    solved = 0
    for index in range(env.num_instances):
        try:
            total, info, terminated, truncated = run_expert(env, index)
        except data.DataMissingError:
            continue  # this toolset's data is not here: the harness would record an error, not a score
        assert info["success"] and total == pytest.approx(1.0), env.row(index)
        solved += 1
    if not solved:
        pytest.skip(f"no Tool-Query instance has its data here: {toolq_data.data_report()}")


def test_instance_ids_follow_the_documented_rule():
    ids = json.loads((toolq_data.BUNDLED / "instances.json").read_text())
    for name in ("weather", "movie"):
        rows = toolq_data.read_rows(data_file("tools", toolq_data.ROW_FILES[name]))
        positions = toolq_data.evenly_spaced(len(rows))
        assert ids["ids"][name] == [sorted(rows)[p] for p in positions]
    assert ids["ids"]["academia"] == list(range(20))


def test_reference_paths_are_well_formed_for_the_real_rows(graph_dir):
    tool_tables = {
        "academia": AcademiaToolset(load_graph(graph_dir)).tools(),
        "weather": WeatherToolset(RecordedTransport(Cassette(Path("x"), "weather")), "2023-01-01", "X").tools(),
        "movie": MovieToolset(RecordedTransport(Cassette(Path("x"), "movie"))).tools(),
    }
    for toolset, row_id in toolq_data.instances():
        row = toolq_data.read_rows(data_file("tools", toolq_data.ROW_FILES[toolset]))[row_id]
        steps = toolq_expert.reference_path(row)
        assert steps, (toolset, row_id)
        for number, step in enumerate(steps):
            tool = tool_tables[toolset][step["tool"]]
            assert set(step["args"]) == set(tool.params), (toolset, row_id, step)
            text = json.dumps(step)
            assert "finish" not in text.lower() and "Invalid" not in text  # would end or freeze the episode
            for value in step["args"].values():
                if isinstance(value, dict) and "$ref" in value:
                    assert 0 <= value["$ref"][0] < number
                elif isinstance(value, dict) and "$answer" in value:
                    toolq_expert.follow(toolq_expert.answer_of(row), value["$answer"])
                elif toolset == "academia" and value not in ("PaperNet", "AuthorNet"):
                    assert value in row.goal, (row_id, value)  # names are the question's, not guessed
        answer = json.dumps(toolq_expert.answer_of(row), ensure_ascii=False)
        assert "Invalid" not in answer and "finish" not in answer.lower()


# ---------------------------------------------------------------------------------------------- scoring
def test_finish_answer_types_matter_and_end_the_episode(make_env):
    env = make_env()
    env.reset(options={"index": index_of(env, 1001)})  # answer 2 (an int)
    obs, info, terminated = act(env, "finish", answer="2")
    assert obs == "2" and terminated and not info["success"] and info["progress"] == 0.0


def test_finish_sorts_list_answers_and_rejects_unsortable_ones(make_env):
    env = make_env()
    env.reset(options={"index": index_of(env, 3003)})
    obs, info, terminated = act(env, "finish", answer=[1, "a"])
    assert obs.startswith("ERROR | TypeError(") and not terminated
    obs, info, terminated = act(env, "finish", answer=["Ben Placeholder", "Ada Stand-In"])
    assert obs == "['Ada Stand-In', 'Ben Placeholder']" and info["success"]


def test_unknown_tool_and_missing_argument_change_nothing(make_env):
    env = make_env()
    env.reset(options={"index": index_of(env, 1004)})
    obs, info, _ = act(env, "loadGraph")
    assert obs == "ERROR | Invalid action: loadGraph." and info["valid_action"] is False
    obs, info, _ = act(env, "neighbourCheck", graph="PaperNet")
    assert obs == "ERROR | KeyError('node')"
    obs, info, _ = act(env, "check_valid_actions")
    assert (
        obs.startswith("You can use following valid actions: ['loadPaperNet', 'loadAuthorNet'") and info["valid_action"]
    )
    assert env.call_log()[-1]["tool"] == "check_valid_actions"


def test_an_argument_mentioning_finish_ends_the_episode_as_upstream(make_env):
    env = make_env()
    env.reset(options={"index": index_of(env, 1004)})
    _, info, terminated = act(env, "paperNodeCheck", node="How to finish")
    assert terminated and not info["success"]


def test_partial_progress_and_failed_call_records(make_env):
    env = make_env(sandbox=None)  # reads the service's action path directly
    env.reset(options={"index": index_of(env, 1006)})  # subgoals: the neighbour list, then 3
    obs, info, _ = act(env, "neighbourCheck", graph="AuthorNet", node="Ada Quill")
    assert obs == "Please load the AuthorNet first." and info["valid_action"] and info["progress"] == 0.0
    act(env, "loadAuthorNet")
    _, info, _ = act(env, "neighbourCheck", graph="AuthorNet", node="Ada Quill")
    assert info["progress"] == 0.5
    session = env._service.service.session(env._session)
    assert (
        session.path[0]["subgoal"] == "Calling neighbourCheck with {'graph': 'AuthorNet', 'node': 'Ada Quill'} failed"
    )


def test_weather_fifty_km_rule():
    box = WeatherToolset(RecordedTransport(Cassette(Path("x"), "weather")), "2023-01-01", "X")
    truth = {"latitude": 10.6, "longitude": 20.3, "daily": {"rain_sum": [1.0]}}
    assert box.matches(truth, {"latitude": 10.5, "longitude": 20.25, "daily": {"rain_sum": [1.0]}})
    assert not box.matches(truth, {"latitude": 11.5, "longitude": 20.25, "daily": {"rain_sum": [1.0]}})
    assert not box.matches(truth, {"latitude": 10.5, "longitude": 20.25, "daily": {"rain_sum": [2.0]}})
    assert not box.matches(truth, "10.6")
    assert is_same_location((0.0, 0.0), (0.0, 0.449)) and not is_same_location((0.0, 0.0), (0.0, 0.451))


def test_air_quality_bands_keep_upstream_gaps():
    assert [air_quality_level(v) for v in (5, 20, 20.5, 30, 41, 50, 70, 90, 120)] == [
        "good", "good", "extremely poor", "fair", "extremely poor", "moderate", "poor", "very poor", "extremely poor",
    ]  # fmt: skip


# ---------------------------------------------------------------------------------------------- toolsets
def test_weather_date_rules_and_cleaning(make_env):
    env = make_env(sandbox=None)  # reads the service's action path directly
    env.reset(options={"index": index_of(env, 2001)})  # current date 2023-03-10
    span = {"latitude": 10.5, "longitude": 20.25}
    obs, info, _ = act(env, "get_historical_temp", **span, start_date="2023-03-10", end_date="2023-03-10")
    assert obs == "Error: start_date should be earlier than current_date" and info["valid_action"]
    obs, *_ = act(env, "get_rain_forecast", **span, start_date="2023-03-09", end_date="2023-03-12")
    assert obs == "Error: start_date should be later than current_date"
    obs, *_ = act(env, "get_historical_rain", **span, start_date="2023-01-01", end_date="2023-02-15")
    assert obs.startswith("Error: Sorry, at present, we support a maximum time span of 30 days")
    obs, *_ = act(env, "get_current_snow", **span, current_date="2031-01-01")  # unchecked, as upstream: it asks
    assert obs.startswith("ERROR | NotRecordedError(not recorded: GET https://archive-api.open-meteo.com")
    obs, *_ = act(env, "get_latitude_longitude", name="Fixtureville")
    assert obs == "{'results': [{'name': 'Fixtureville', 'latitude': 10.5, 'longitude': 20.25, 'country_code': 'XF'}]}"
    obs, *_ = act(env, "get_historical_temp", **span, start_date="2023-03-09", end_date="2023-03-09")
    assert "'temperature_2m_mean': [11.3]" in obs and "generationtime_ms" not in obs and "elevation" not in obs
    session = env._service.service.session(env._session)
    assert session.path[-1]["subgoal"]["daily"] == {"time": ["2023-03-09"]}  # arrays stripped for matching only
    obs, *_ = act(env, "get_elevation", latitude=10.7, longitude=20.4)
    assert obs == "{'elevation': [455.0]}"


def test_movie_tools_on_the_fixture_cassette(make_env):
    env = make_env(sandbox=None)  # reads the service's action path directly
    env.reset(options={"index": index_of(env, 3002)})
    obs, *_ = act(env, "get_search_movie", movie_name="No Such Film")
    assert obs == "ERROR | IndexError(list index out of range)"
    obs, info, _ = act(env, "get_movie_details", movie_id=404404)
    assert obs == '{"success":false,"status_code":34}' and info["valid_action"]
    session = env._service.service.session(env._session)
    assert session.path[-1]["subgoal"] == "Calling get_movie_details with {'movie_id': 404404} failed"
    obs, *_ = act(env, "get_movie_crew", movie_id="900001")  # the id as text asks the same URL
    assert obs.startswith("{'crew': [{'id': 800001, 'name': 'Rosa Mockwell', 'job': 'Director'}")
    obs, *_ = act(env, "get_movie_details", movie_id=900001)
    assert "'budget': 1000" in obs and "budget" not in str(session.path[-1]["subgoal"])


def test_academia_tool_failures(graph_dir):
    box = AcademiaToolset(load_graph(graph_dir))
    tools = box.tools()
    assert tools["paperNodeCheck"].run(node="Graph Sketches Revisited") == (False, "Please load the PaperNet first.")
    box.load_paper_net()
    box.load_author_net()
    assert tools["paperNodeCheck"].run(node="Nope") == (False, "There is no node named Nope in the PaperNet.")
    assert tools["paperNodeCheck"].run(node=["a"]) == (False, "TypeError(unhashable type: 'list')")
    assert tools["neighborCheck"].run(graph="AuthorNet", node="Emil Sorn") == (True, ["Faye Okoro"])
    assert tools["authorEdgeCheck"].run(node1="Emil Sorn", node2="Ada Quill") == (
        False,
        "There is no edge between Emil Sorn and Ada Quill.",
    )
    assert tools["paperEdgeCheck"].run(node1="Routing with Noisy Oracles", node2="Graph Sketches Revisited") == (
        True,
        {},
    )
    assert tools["neighbourCheck"].run(graph="CiteNet", node="x")[0] is False


def test_unsafe_pickles_are_refused(tmp_path, monkeypatch):
    evil = tmp_path / "paper_net.pkl"
    evil.write_bytes(pickle.dumps(os.getcwd))  # a reference to a function in os
    with pytest.raises(UnsafePickleError, match="posix.getcwd|os.getcwd"):
        load_pickle(evil)
    monkeypatch.setenv("AGENTRM_BENCH_TRUST_PICKLES", "1")
    assert load_pickle(evil) is os.getcwd


# ---------------------------------------------------------------------------------------------- cassettes and backends
class FakeNetwork:
    """Stands in for the live API (no network here): answers from a fixture cassette, counts calls."""

    def __init__(self, cassette: Cassette):
        self.cassette, self.calls, self.headers = cassette, 0, []

    def get(self, url, params=None, headers=None):
        self.calls += 1
        self.headers.append(headers)
        return self.cassette.lookup(url, params) or HttpResponse(404, "not found")


def test_recording_then_replaying_gives_the_same_episode(tmp_path, monkeypatch):
    network = FakeNetwork(Cassette.load(CASSETTES / "movie.json"))
    monkeypatch.setattr(
        LiveTransport, "get", lambda self, url, params=None, headers=None: network.get(url, params, headers)
    )
    monkeypatch.setenv("MOVIE_KEY", "secret-token-123")
    from agentrm_bench.envs.tool_query.record import record

    results = record("movie", out=tmp_path, rows=ROWS)
    assert [r[0] for r in results] == [3001, 3002, 3003] and all(failed == 0 for _, _, failed in results)
    assert network.headers[0]["Authorization"] == "Bearer secret-token-123"
    text = (tmp_path / "movie.json").read_text()
    assert "secret-token-123" not in text and json.loads(text)["synthetic"] is False
    calls = network.calls
    monkeypatch.delenv("MOVIE_KEY")
    env = ToolQueryEnv(rows=ROWS, cassette_dir=tmp_path, academia_dir=tmp_path)
    total, info, *_ = run_expert(env, index_of(env, 3001))
    assert info["success"] and network.calls == calls  # replay never touches the network


def test_recording_skips_transient_failures_and_refuses_synthetic_cassettes(tmp_path):
    class Flaky:
        def get(self, url, params=None, headers=None):
            return HttpResponse(429, "slow down")

    cassette = Cassette(tmp_path / "w.json", "weather")
    recorder = RecordingTransport(cassette, Flaky())
    assert recorder.get("https://x", {"a": 1}).status == 429 and len(cassette) == 0
    with pytest.raises(ValueError, match="synthetic"):
        RecordingTransport(Cassette.load(CASSETTES / "weather.json"), Flaky())


def test_synthetic_cassette_is_refused_by_default(graph_dir):
    env = ToolQueryEnv(rows=ROWS, academia_dir=graph_dir, cassette_dir=CASSETTES)
    with pytest.raises(data.DataMissingError, match="synthetic test cassette"):
        env.reset(options={"index": index_of(env, 2001)})


def test_live_transport_sends_the_real_request_and_hides_the_key(monkeypatch):
    requests = pytest.importorskip("requests")
    seen = {}

    class Answer:
        status_code = 200

        def json(self):
            return {"results": []}

    def fake_get(url, params=None, headers=None, timeout=None):
        seen.update(url=url, params=params, headers=headers, timeout=timeout)
        return Answer()

    monkeypatch.setattr(requests, "get", fake_get)
    box = MovieToolset(LiveTransport(), {"Authorization": "Bearer k-123"})
    assert box.search_person("Nobody") == (True, [])
    assert seen["url"] == "https://api.themoviedb.org/3/search/person" and seen["timeout"] == 30.0
    assert seen["params"] == {"query": "Nobody", "include_adult": "false", "language": "en-US", "page": "1"}
    assert "k-123" not in repr(box)

    def broken(*args, **kwargs):
        raise requests.ConnectionError("boom Bearer k-123")

    monkeypatch.setattr(requests, "get", broken)
    with pytest.raises(ToolBackendError) as caught:
        box.search_person("Nobody")
    assert "k-123" not in str(caught.value) and "ConnectionError" in str(caught.value)


def test_live_movie_backend_needs_the_key(graph_dir, monkeypatch):
    monkeypatch.delenv("MOVIE_KEY", raising=False)
    env = ToolQueryEnv(rows=ROWS, academia_dir=graph_dir, backend="live")
    with pytest.raises(RuntimeError, match=r"\$MOVIE_KEY"):
        env.reset(options={"index": index_of(env, 3001)})


# ---------------------------------------------------------------------------------------------- the service protocol
def test_service_speaks_json_and_sessions_are_isolated(graph_dir):
    rows = toolq_data.read_rows(ROWS)
    service = QueryService(lambda row: AcademiaToolset(load_graph(graph_dir)))
    wire = lambda message: json.loads(json.dumps(service.handle(json.loads(json.dumps(message)))))  # noqa: E731
    first = wire({"op": "create", "row": rows[1005].to_json()})["session"]
    second = wire({"op": "create", "row": rows[1005].to_json()})["session"]
    assert wire({"op": "reset", "session": first})["observation"].startswith("Is Chen Ming_2")
    wire({"op": "reset", "session": second})
    wire({"op": "step", "session": first, "action": "Action: loadAuthorNet with Action Input: {}"})
    state = wire({"op": "snapshot", "session": first})["state"]
    node = 'Action: authorNodeCheck with Action Input: {"node": "Dana Ilves"}'
    assert wire({"op": "step", "session": first, "action": node})["observation"].startswith("{'name': 'Dana Ilves'")
    assert wire({"op": "step", "session": second, "action": node})["observation"] == "Please load the AuthorNet first."
    assert wire({"op": "restore", "session": second, "state": state})["ok"]
    assert wire({"op": "step", "session": second, "action": node})["observation"].startswith("{'name': 'Dana Ilves'")
    assert wire({"op": "close", "session": first}) == {"ok": True}
    assert wire({"op": "step", "session": first, "action": node})["ok"] is False
    assert wire({"op": "explode"})["ok"] is False
