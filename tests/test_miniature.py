"""The miniature's table: means with standard errors, oracle@N from the Best-of-N records, pending runs."""

from __future__ import annotations

import math

from agentrm_bench.episode import EpisodeRecord
from agentrm_bench.training import miniature


def _record(index: int, success: bool, progress: float, oracle: float) -> EpisodeRecord:
    return EpisodeRecord(
        "best-of-n",
        "babyai",
        index,
        0,
        progress=progress,
        success=success,
        tokens=10,
        wall_time=2.0,
        extra={"oracle_success": oracle == 1.0, "oracle_progress": oracle},
    )


def test_rows_are_means_with_standard_errors_and_oracle_reads_the_best_candidate():
    records = [_record(0, True, 1.0, 1.0), _record(1, False, 0.5, 1.0), _record(2, False, 0.0, 0.5)]
    chosen = miniature.summarize("bon-explicit", "babyai", records, "chosen")
    oracle = miniature.summarize("oracle@4", "babyai", records, "oracle")
    assert chosen["episodes"] == 3 and chosen["success"][0] == round(1 / 3, 4)
    assert chosen["progress"] == [0.5, round(math.sqrt(0.25 / 3), 4)]  # sample variance 0.25
    assert oracle["success"][0] == round(2 / 3, 4) and oracle["progress"][0] == round(2.5 / 3, 4)
    assert chosen["tokens_per_episode"] == 10 and chosen["seconds_per_episode"] == 2.0


def test_table_only_starts_no_run_and_names_the_unfinished(tmp_path):
    scale = miniature.SCALES["small"]
    explicit = {"rm_spec": "explicit:x"}
    implicit = {"rm_spec": "implicit:x,y", "rm_options": {}}
    pending: list[str] = []
    rows = miniature.evaluate(tmp_path, scale, ("babyai",), explicit, implicit, {}, False, pending)
    assert rows == [] and pending == ["greedy", "bon-explicit", "bon-implicit", "bon-judge"]
    assert not (tmp_path / "runs").exists()
