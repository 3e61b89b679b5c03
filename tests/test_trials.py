"""Online runs: several trials per instance with their spread, and what each episode cost."""

from __future__ import annotations

import json
import statistics

import pytest

from agentrm_bench import costs, report, trials
from agentrm_bench.cli import main
from agentrm_bench.records import read_records


def test_trials_are_runs_with_their_own_seeds_and_the_report_shows_their_spread(tmp_path, capsys):
    argv = ["run", "--policy", "tests.scripted_policies:SeededBestOfN", "--tasks", "maze", "--limit", "3"]
    assert main([*argv, "--trials", "3", "--seed", "10", "--out", str(tmp_path / "r"), "--no-progress"]) == 0
    assert json.loads((tmp_path / "r" / "trials.json").read_text()) == {"trials": 3, "seeds": [10, 11, 12]}
    dirs = trials.trial_dirs(tmp_path / "r")
    assert [d.name for d in dirs] == ["trial-1", "trial-2", "trial-3"]
    seeds = [json.loads((d / "manifest.json").read_text())["config"]["seed"] for d in dirs]
    assert seeds == [10, 11, 12]
    per_trial = [report.score(read_records(d))[0].success.mean for d in dirs]
    mean, sd, low, high = trials.spread(tmp_path / "r")["maze"]["success"]
    assert mean == pytest.approx(statistics.fmean(per_trial)) and sd == pytest.approx(statistics.stdev(per_trial))
    assert (low, high) == (min(per_trial), max(per_trial))
    capsys.readouterr()
    assert main(["report", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out
    assert "3 trials" in out and "| maze " in out and "cost per episode" in out
    assert main([*argv, "--trials", "3", "--seed", "10", "--out", str(tmp_path / "r"), "--no-progress"]) == 0
    assert "3 from an earlier run" in capsys.readouterr().out  # each trial resumes like a run


def test_model_episodes_record_their_cost(tmp_path, capsys):
    argv = ["run", "--policy", "tests.scripted_policies:SeededBestOfN", "--tasks", "maze", "--limit", "2"]
    assert main([*argv, "--out", str(tmp_path / "r"), "--no-progress"]) == 0
    records = read_records(tmp_path / "r")
    for record in records:
        cost = record.extra["cost"]
        assert cost["tokens_in"] > 100 and cost["tokens_out"] == record.tokens > 0
        assert cost["rm_calls"] == 1 and cost["rm_trajectories"] == 5 and cost["model_seconds"] >= 0
    summary = costs.per_episode(records)["maze"]
    assert summary["episodes"] == 2 and summary["rm_calls"] == 1.0
    capsys.readouterr()
    assert main(["report", str(tmp_path / "r")]) == 0
    assert "cost per episode (mean)" in capsys.readouterr().out
    assert main(["report", str(tmp_path / "r"), "--format", "latex"]) == 0
    assert "cost per episode" not in capsys.readouterr().out  # the LaTeX document stays compilable
    assert costs.table([]) is None
