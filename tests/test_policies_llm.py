"""LLM policies through the harness and the CLI: records, in-flight episodes, bad input, plots."""

from __future__ import annotations

import json
import socket

import pytest

from agentrm_bench import costs, harness, policies
from agentrm_bench.cli import main
from agentrm_bench.manifest import RunConfig
from agentrm_bench.records import RecordStore, read_records

from . import tiny_models
from .conftest import data_file

tiny_lm, tiny_ref, tiny_rm = tiny_models.tiny_lm, tiny_models.tiny_ref, tiny_models.tiny_rm  # fixtures


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def strip(records):
    rows = [costs.untimed(r.to_json()) for r in records]  # no wall time, no timed costs
    return sorted(rows, key=lambda r: (r["task"], r["index"]))


def test_the_three_strategies_are_registered():
    assert {"greedy", "best-of-n", "beam"} <= set(policies.names())


def test_greedy_hf_end_to_end_with_records_and_manifest(tmp_path, tiny_lm):
    settings = {"model": f"hf:{tiny_lm}", "max_tokens": 3, "example": False}
    config = RunConfig(policy="greedy", policy_settings=settings, tasks=("maze",), limit=2)
    summary = harness.run(config, tmp_path, show_progress=False, in_flight=2)
    assert (summary.finished, summary.errors) == (2, 0)
    records = read_records(tmp_path)
    for record in records:
        assert record.turns == 50 and record.truncated and len(record.observations) == 51
        assert record.tokens > 0 and len(record.extra["responses"]) == 50
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["policy_settings"]["model"] == f"hf:{tiny_lm}"
    assert manifest["policy_settings"]["strategy"] == "greedy"


def test_in_flight_episodes_give_the_same_records_as_one_at_a_time(tmp_path):
    config = RunConfig(
        policy="tests.scripted_policies:SeededBestOfN", policy_settings={"n": 3}, tasks=("maze",), limit=4
    )
    harness.run(config, tmp_path / "a", workers=0, show_progress=False, in_flight=1)
    harness.run(config, tmp_path / "b", workers=0, show_progress=False, in_flight=4)
    assert strip(read_records(tmp_path / "a")) == strip(read_records(tmp_path / "b"))


def test_in_flight_chunks_in_worker_processes(tmp_path):
    config = RunConfig(policy="tests.scripted_policies:SeededGreedy", tasks=("maze",), limit=4)
    harness.run(config, tmp_path / "a", workers=0, show_progress=False, in_flight=1)
    harness.run(config, tmp_path / "b", workers=2, show_progress=False, in_flight=2)
    assert strip(read_records(tmp_path / "a")) == strip(read_records(tmp_path / "b"))


@pytest.mark.parametrize(
    ("policy", "settings"),
    [
        ("best-of-n", {"n": 2, "rm": "implicit:{lm},{ref}"}),
        ("beam", {"beam_width": 2, "expansions": 2, "rm": "judge:hf:{lm}"}),
        ("beam", {"beam_width": 1, "expansions": 2, "rm": "explicit:{rm}"}),
    ],
)
def test_model_reward_models_guide_search_on_maze(policy, settings, tiny_lm, tiny_ref, tiny_rm):
    import gymnasium as gym

    from agentrm_bench.episode import play

    if settings["rm"].startswith("explicit:"):  # AgentRM's input form: the upstream instruction file
        data_file("maze/agentrm_prompts", "prm_maze_wo_turninfo.txt")
    rm = settings["rm"].format(lm=tiny_lm, ref=tiny_ref, rm=tiny_rm)
    agent = policies.create(policy, **{**settings, "rm": rm}, model=f"hf:{tiny_lm}", max_tokens=3, example=False)
    env = gym.make("agentrm/Maze-v0", max_turns=4)
    record = play(agent, env, policy_name=policy, task="maze", index=0, seed=1)
    assert record.extra["strategy"] == policy and record.turns == 4 and record.truncated
    assert record.tokens > 0 and len(record.observations) == 5


def test_cli_flags_reach_the_policy(capsys, tmp_path):
    out = tmp_path / "r"
    code, stdout, err = run_cli(
        capsys,
        "run",
        "--policy",
        "tests.scripted_policies:SeededBestOfN",
        "--tasks",
        "maze",
        "--limit",
        "2",
        "-n",
        "3",
        "--temperature",
        "0.5",
        "--out",
        str(out),
        "--no-progress",
        "--in-flight",
        "2",
    )
    assert code == 0, err
    settings = json.loads((out / "manifest.json").read_text())["policy_settings"]
    assert (settings["n"], settings["temperature"], settings["upper_bound"]) == (3, 0.5, True)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--policy", "greedy", "--model", "gpt:x"], "unknown model spec"),
        (["--policy", "greedy", "--model", "hf:/nonexistent/model"], "is not a folder"),
        (["--policy", "best-of-n", "--model", "scripted"], "needs a reward model"),
        (["--policy", "best-of-n", "--model", "scripted", "--rm", "oracle", "--temperature", "0"], "temperature"),
        (["--policy", "greedy", "--model", "scripted", "-n", "4"], "does not take settings"),
        (["--policy", "beam", "--model", "scripted", "--rm", "explicit:/nope"], "is not a folder"),
    ],
)
def test_bad_model_input_is_one_line_exit_2_and_nothing_written(capsys, tmp_path, argv, message):
    out = tmp_path / "r"
    code, _, err = run_cli(capsys, "run", *argv, "--tasks", "maze", "--out", str(out))
    assert code == 2 and message in err and err.count("\n") == 1
    assert not out.exists()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_server_that_is_down_gives_error_records_not_scores(capsys, tmp_path):
    pytest.importorskip("openai")
    out = tmp_path / "r"
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    code, stdout, _ = run_cli(
        capsys,
        "run",
        "--policy",
        "greedy",
        "--model",
        f"openai:{url}",
        "--tasks",
        "maze",
        "--limit",
        "2",
        "--out",
        str(out),
        "--no-progress",
        "--policy-arg",
        'model_options={"max_retries": 0}',
    )
    assert code == 1 and "2 errored" in stdout
    errors = RecordStore(out).errors()
    assert len(errors) == 2 and all(url in e.error for e in errors)
    assert read_records(out) == []


def test_plot_scaling_from_a_best_of_n_run(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    run = tmp_path / "bon"
    config = RunConfig(
        policy="tests.scripted_policies:SeededBestOfN", policy_settings={"n": 4}, tasks=("maze",), limit=6
    )
    harness.run(config, run, workers=0, show_progress=False)
    greedy = tmp_path / "greedy"
    harness.run(
        RunConfig(policy="tests.scripted_policies:SeededGreedy", tasks=("maze",), limit=6),
        greedy,
        workers=0,
        show_progress=False,
    )
    code, stdout, err = run_cli(capsys, "plot", "scaling", str(run), str(greedy), "--out", str(tmp_path / "fig"))
    assert code == 0, err
    assert (tmp_path / "fig.png").stat().st_size > 1000 and (tmp_path / "fig.svg").is_file()

    from agentrm_bench.plot import collect, summarise

    panels = summarise(collect([run]))
    curve, oracle = panels["maze"]["best-of-n (oracle)"], panels["maze"]["oracle@N"]
    assert sorted(curve) == [1, 2, 3, 4]
    assert all(oracle[k][0] >= curve[k][0] for k in curve)  # the oracle bounds the RM's pick
    assert all(oracle[k][0] <= oracle[k + 1][0] for k in (1, 2, 3))  # and grows with N


def test_plot_refuses_a_folder_that_is_not_a_run(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    code, _, err = run_cli(capsys, "plot", "scaling", str(tmp_path))
    assert code == 2 and "not a run directory" in err
