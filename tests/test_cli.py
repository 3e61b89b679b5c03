"""The command line: listing, bad input (one line, exit 2, nothing written), help."""

from __future__ import annotations

import dataclasses
import json

import pytest

from agentrm_bench import tasks
from agentrm_bench.cli import main


@pytest.fixture
def webshop_pending(monkeypatch):
    """A task table in which WebShop is not built yet (as it was before its issue landed)."""
    monkeypatch.setitem(
        tasks.REGISTRY._registered, "webshop", dataclasses.replace(tasks.get("webshop"), pending_issue=6)
    )
    monkeypatch.setattr(tasks.REGISTRY, "_loaded", {})


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_tasks_lists_all_nine_with_availability(capsys, webshop_pending):
    code, out, _ = run_cli(capsys, "tasks")
    assert code == 0
    for name in ("webshop", "alfworld", "sciworld", "babyai", "jericho", "pddl", "tool-query", "tool-operation"):
        assert f" {name} " in out
    assert "yes (ready)" in out and "no (not built yet (issue #6))" in out
    assert "| agentrm/Maze-v0 " in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "--policy", "expert", "--tasks", "mase"], "unknown task 'mase'"),
        (["run", "--policy", "expertt", "--tasks", "maze"], "unknown policy 'expertt'"),
        (["run", "--policy", "expert", "--tasks", "webshop"], "cannot start: webshop: not built yet (issue #6)"),
        (["run", "--policy", "expert", "--tasks", "maze", "--policy-arg", "oops"], "KEY=VALUE"),
        (["report", "/nonexistent/run"], "is not a run directory"),
        (["data", "fetch", "maze"], "no upstream data is declared for 'maze'"),
        (["run", "--policy", "expert", "--tasks", "maze,sciworld", "--split", "dev"], "is not a split of: maze (test)"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, tmp_path, argv, message, webshop_pending):
    code, out, err = run_cli(capsys, *argv, *(["--out", str(tmp_path / "r")] if argv[0] == "run" else []))
    assert code == 2
    assert err.count("\n") == 1 and message in err and err.startswith("agentrm-bench: error:")
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("limit", ["0", "-3", "ten"])
def test_bad_limit(capsys, tmp_path, limit):
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--policy", "expert", "--tasks", "maze", "--limit", limit, "--out", str(tmp_path / "r")])
    assert exit_info.value.code == 2
    assert "--limit" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_other_configuration_in_out_dir_is_refused(capsys, tmp_path):
    out = str(tmp_path / "r")
    assert (
        run_cli(capsys, "run", "--policy", "expert", "--tasks", "maze", "--limit", "2", "--out", out, "--workers", "0")[
            0
        ]
        == 0
    )
    before = (tmp_path / "r" / "records.jsonl").read_bytes()
    code, _, err = run_cli(
        capsys, "run", "--policy", "random", "--tasks", "maze", "--limit", "2", "--out", out, "--workers", "0"
    )
    assert code == 2 and "different config" in err and "policy: 'expert' there, 'random' now" in err
    assert (tmp_path / "r" / "records.jsonl").read_bytes() == before


def test_run_then_report(capsys, tmp_path):
    out = str(tmp_path / "r")
    code, stdout, _ = run_cli(capsys, "run", "--policy", "expert", "--tasks", "maze", "--out", out, "--workers", "0")
    assert code == 0 and "25/25 episodes finished; success 100.0%" in stdout
    code, stdout, _ = run_cli(capsys, "report", out, "--format", "latex")
    assert code == 0 and "\\toprule" in stdout and "maze" in stdout


def test_help_explains_run(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "rerunning the same command skips finished episodes" in out and "--workers" in out
    assert "examples: agentrm-bench run --policy random" in out and "sciworld: test, test-eto, dev" in out
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "examples:" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["report", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "run directories" in out and "compiles as is with booktabs" in out


def test_leaderboard_options_after_the_action(capsys, tmp_path):
    (tmp_path / "submissions").mkdir()
    assert main(["leaderboard", "readme", "--board", str(tmp_path)]) == 0
    assert (tmp_path / "README.md").exists()


def test_report_says_when_the_reward_model_is_the_oracle(capsys, tmp_path):
    out = str(tmp_path / "r")
    policy = "tests.scripted_policies:SeededBestOfN"
    code, _, _ = run_cli(capsys, "run", "--policy", policy, "--tasks", "maze", "--limit", "2", "--out", out)
    assert code == 0
    code, stdout, _ = run_cli(capsys, "report", out)
    assert code == 0 and "reward model: oracle" in stdout and "an upper bound of search" in stdout


def test_a_run_made_without_a_tasks_data_is_not_resumed_with_it(capsys, tmp_path, monkeypatch):
    """The upstream data a run used is part of its identity: records made without BabyAI's annotations
    (progress unavailable) must not be silently reused once the annotations are there."""
    out = str(tmp_path / "r")
    monkeypatch.setenv("AGENTRM_BENCH_DATA", str(tmp_path / "empty"))
    argv = ("run", "--policy", "expert", "--tasks", "babyai", "--limit", "1", "--out", out, "--workers", "0")
    assert run_cli(capsys, *argv)[0] == 0
    staged = tmp_path / "staged" / "babyai"
    staged.mkdir(parents=True)
    (staged / "test.jsonl").write_text("{}\n")  # the annotation file appears (content is not read here)
    monkeypatch.setenv("AGENTRM_BENCH_DATA", str(tmp_path / "staged"))
    code, _, err = run_cli(capsys, *argv)
    assert code == 2 and err.count("\n") == 1
    assert "different upstream data" in err and "babyai's upstream files: 'annotations absent" in err


def test_data_fetch_without_network_is_one_line_and_leaves_nothing(capsys, tmp_path, monkeypatch):
    import urllib.error

    from agentrm_bench import data

    def offline(url):  # noqa: ANN001, ANN202 - urllib's opener signature
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(data.urllib.request, "urlopen", offline)
    monkeypatch.setenv("AGENTRM_BENCH_DATA", str(tmp_path / "root"))
    code, _, err = run_cli(capsys, "data", "fetch", "babyai")
    assert code == 2 and err.count("\n") == 1
    assert "could not download https://huggingface.co/" in err and "name resolution" in err
    assert not (tmp_path / "root").exists()  # no empty folder left behind


def test_out_pointing_at_a_file_is_one_line(capsys, tmp_path):
    target = tmp_path / "a-file"
    target.write_text("keep me\n")
    code, _, err = run_cli(capsys, "run", "--policy", "expert", "--tasks", "maze", "--out", str(target))
    assert code == 2 and err.count("\n") == 1 and "is a file, not a run directory" in err
    assert target.read_text() == "keep me\n"


def test_a_malformed_submission_is_one_line(capsys, tmp_path):
    (tmp_path / "submissions").mkdir()
    (tmp_path / "submissions" / "broken.json").write_text('{"name": "broken",\n')
    code, _, err = run_cli(capsys, "leaderboard", "--board", str(tmp_path))
    assert code == 2 and err.count("\n") == 1
    assert "broken.json: not valid JSON (Expecting property name enclosed in double quotes at line 2" in err


def test_a_run_that_cannot_finish_is_refused_naming_every_missing_piece(capsys, tmp_path, monkeypatch):
    """Without upstream data, held-out has four tasks that cannot run: all four are named at once, in one
    line, and nothing is started (before, each of their episodes became an error record)."""
    monkeypatch.setenv("AGENTRM_BENCH_DATA", str(tmp_path / "empty"))
    out = tmp_path / "r"
    code, _, err = run_cli(capsys, "run", "--policy", "random", "--tasks", "held-out", "--out", str(out))
    assert code == 2 and err.count("\n") == 1 and err.startswith("agentrm-bench: error: cannot start:")
    for name in ("jericho", "pddl", "tool-query", "tool-operation"):
        assert f"{name}: " in err
    assert "babyai:" not in err and "maze:" not in err  # these run without their annotations
    assert not out.exists()


def test_the_expert_needs_its_own_extra(capsys, tmp_path, monkeypatch):
    import dataclasses

    spec = dataclasses.replace(tasks.get("maze"), expert_requires=("no_such_planner",), expert_extra="maze-expert")
    monkeypatch.setitem(tasks.REGISTRY._registered, "maze", spec)
    monkeypatch.setattr(tasks.REGISTRY, "_loaded", {})
    code, _, err = run_cli(capsys, "run", "--policy", "expert", "--tasks", "maze", "--out", str(tmp_path / "r"))
    assert code == 2 and "maze's expert: needs no_such_planner: pip install 'agentrm-bench[maze-expert]'" in err
    assert (
        run_cli(capsys, "run", "--policy", "random", "--tasks", "maze", "--limit", "1", "--out", str(tmp_path / "q"))[0]
        == 0
    )
    code, out, _ = run_cli(capsys, "tasks")
    assert "its expert needs no_such_planner" in out


def test_a_declared_subset_is_fixed_submittable_and_labelled(capsys, tmp_path):
    from agentrm_bench import leaderboard, submission
    from agentrm_bench.manifest import subset_indices

    assert subset_indices("maze", 25, 5) == subset_indices("maze", 25, 5) != list(range(5))
    assert subset_indices("maze", 25, 30) == list(range(25))
    out = tmp_path / "r"
    argv = ("run", "--policy", "expert", "--tasks", "maze", "--subset", "5", "--out", str(out), "--workers", "0")
    assert run_cli(capsys, *argv)[0] == 0
    ran = sorted(json.loads(line)["index"] for line in (out / "records.jsonl").read_text().splitlines())
    assert ran == subset_indices("maze", 25, 5)
    board = tmp_path / "board"
    submission.submit(out, "expert-subset", board=board)
    document = leaderboard.load(board, "expert-subset")
    assert document["variant"] == "test, subset 5 (seed 0)" and document["policy"]["subset"] == 5
    assert submission.verify(board, "expert-subset", workers=0, show_progress=False).agreed
    code, text, _ = run_cli(capsys, "report", str(out))
    assert "held-out (headline average: n/a (incomplete: babyai not run" in text and "| maze           | 5 " in text
