"""Leaderboard: schema, submit's checks (nothing written on a problem), verify, tables, README freshness."""

from __future__ import annotations

import gzip
import json
import shutil

import pytest

from agentrm_bench import harness, leaderboard, submission
from agentrm_bench.cli import main
from agentrm_bench.leaderboard import SubmissionError
from agentrm_bench.manifest import RunConfig

from .conftest import REPO


@pytest.fixture(scope="module")
def expert_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("expert-run")
    harness.run(RunConfig(policy="expert", tasks=("maze",)), out, workers=0, show_progress=False)
    return out


@pytest.fixture
def run_copy(expert_run, tmp_path):
    target = tmp_path / "run"
    shutil.copytree(expert_run, target)
    return target


def board_files(board):
    return sorted(p.relative_to(board) for p in board.rglob("*") if p.is_file()) if board.exists() else []


def test_schema_rejects_bad_documents():
    with pytest.raises(SubmissionError, match="status"):
        leaderboard.validate(
            {
                "name": "x",
                "status": "great",
                "variant": "t",
                "policy_model": "m",
                "reward_model": {"kind": "none"},
                "search": {"strategy": "greedy"},
                "scores": {},
            }
        )
    with pytest.raises(SubmissionError, match="1.5 is greater than the maximum"):
        leaderboard.validate(
            {
                "name": "x",
                "status": "submitted",
                "variant": "t",
                "policy_model": "m",
                "reward_model": {"kind": "none"},
                "search": {"strategy": "greedy"},
                "scores": {
                    "maze": {"n": 1, "success": 1.5, "success_stderr": 0, "progress": None, "progress_stderr": None}
                },
            }
        )


def test_submit_writes_a_valid_submission_with_its_records(run_copy, tmp_path):
    board = tmp_path / "board"
    path = submission.submit(run_copy, "expert-maze", board=board)
    document = json.loads(path.read_text())
    leaderboard.validate(document)
    assert document["status"] == "submitted" and document["scores"]["maze"]["success"] == 1.0
    assert document["policy"]["name"] == "expert" and document["task_versions"] == {"maze": "0"}
    records = gzip.decompress((board / document["records"]).read_bytes()).decode().splitlines()
    assert len(records) == 25
    with pytest.raises(SubmissionError, match="exists"):
        submission.submit(run_copy, "expert-maze", board=board)


def _drop_record(run):
    path = run / "records.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:3] + lines[4:]))


def _flip_success(run):
    path = run / "records.jsonl"
    rows = [json.loads(x) for x in path.read_text().splitlines()]
    rows[0]["success"] = False
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def _claim_more(run):
    path = run / "scores.json"
    scores = json.loads(path.read_text())
    scores["maze"]["progress"] = 0.99
    path.write_text(json.dumps(scores))


def _add_error(run):
    (run / "errors.jsonl").write_text(
        json.dumps({"policy": "expert", "task": "maze", "index": 3, "seed": 1, "error": "boom"}) + "\n"
    )
    _drop_record(run)


def _foreign_record(run):
    path = run / "records.jsonl"
    rows = [json.loads(x) for x in path.read_text().splitlines()]
    rows[5]["policy"] = "random"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (_drop_record, "maze: 1 of 25 episodes missing \\(indices 3\\)"),
        (_flip_success, "scores.json claims maze success = 1.0, but the records give 0.96"),
        (_claim_more, "scores.json claims maze progress = 0.99"),
        (_add_error, "1 errored episode"),
        (_foreign_record, "does not belong to this run"),
    ],
)
def test_submit_refuses_an_inconsistent_run_and_writes_nothing(run_copy, tmp_path, damage, message):
    damage(run_copy)
    board = tmp_path / "board"
    with pytest.raises(SubmissionError, match=message):
        submission.submit(run_copy, "bad", board=board)
    assert board_files(board) == []


def test_submit_refuses_a_limited_run(tmp_path):
    harness.run(RunConfig(policy="expert", tasks=("maze",), limit=3), tmp_path / "r", workers=0, show_progress=False)
    with pytest.raises(SubmissionError, match="--limit 3"):
        submission.submit(tmp_path / "r", "limited", board=tmp_path / "board")


def test_submit_cli_error_is_one_line_exit_2(tmp_path, capsys):
    assert main(["submit", str(tmp_path), "--name", "x", "--board", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is not a run directory" in err


def test_verify_marks_verified_and_detects_differences(run_copy, tmp_path):
    board = tmp_path / "board"
    submission.submit(run_copy, "expert-maze", board=board)
    result = submission.verify(board, "expert-maze", fraction=0.2, seed=1, workers=0, show_progress=False)
    assert result.agreed and result.episodes == 5
    document = leaderboard.load(board, "expert-maze")
    assert document["status"] == "verified" and document["verification"]["fraction"] == 0.2

    # a submission whose records claim failures the policy does not produce is not verified
    _flip_success(run_copy)
    (run_copy / "scores.json").unlink()
    harness.write_scores(run_copy, submission.read_records(run_copy))
    submission.submit(run_copy, "tampered", board=board)
    result = submission.verify(board, "tampered", fraction=1.0, workers=0, show_progress=False)
    assert not result.agreed and result.differences[0].startswith("maze: success 96.0% submitted, 100.0% re-run")
    assert leaderboard.load(board, "tampered")["status"] == "submitted"


def test_reported_rows_cannot_be_verified():
    with pytest.raises(SubmissionError, match="reported row"):
        submission.verify(REPO / "leaderboard", "paper-llama3-8b-greedy")


def test_tables_rank_like_with_like_and_mark_partial_rows(run_copy, tmp_path):
    board = tmp_path / "board"
    shutil.copytree(REPO / "leaderboard", board)
    submission.submit(run_copy, "expert-maze", board=board)
    text = leaderboard.tables(leaderboard.load_all(board))
    overall = text.split("overall")[1]
    # a 1-task row at 100% does not rank above the nine-task rows (issue 17: like with like)
    assert overall.index("paper-agentrm-explicit-beam") < overall.index("expert-maze")
    assert "100.0 (1/6)" in text and "100.0 (1/9)" in text


def test_paper_rows_are_reported_averages_only():
    documents = {d["name"]: d for d in leaderboard.load_all(REPO / "leaderboard")}
    paper = [d for d in documents.values() if d["status"] == "reported"]
    assert len(paper) == 5
    assert all(d["scores"] == {} and d["citation"] and d["caveat"] for d in paper)
    assert documents["paper-agentrm-explicit-beam"]["reported_average"] == 63.3


def test_leaderboard_readme_is_fresh():
    board = REPO / "leaderboard"
    assert (board / "README.md").read_text() == leaderboard.readme(leaderboard.load_all(board)), (
        "leaderboard/README.md is stale: run `agentrm-bench leaderboard readme`"
    )


def test_oracle_rows_are_marked_as_upper_bounds_in_every_table(run_copy, tmp_path):
    board = tmp_path / "board"
    submission.submit(run_copy, "search-with-oracle", board=board, rm_kind="oracle")
    submission.submit(run_copy, "expert-maze", board=board)
    text = leaderboard.tables(leaderboard.load_all(board))
    assert text.count("search-with-oracle [oracle]") == 2  # held-out (its only split) and overall
    assert "expert-maze [oracle]" not in text and leaderboard.ORACLE_NOTE in text


def test_a_hand_edited_score_or_status_is_refused_not_shown(run_copy, tmp_path, capsys):
    """Verified is recomputed, never trusted: editing a score or the status in a copy of the board
    makes every command that reads the board refuse it, and `leaderboard check` names what is wrong."""
    board = tmp_path / "board"
    submission.submit(run_copy, "expert-maze", board=board)
    assert submission.verify(board, "expert-maze", fraction=0.2, workers=0, show_progress=False).agreed
    path = board / "submissions" / "expert-maze.json"
    document = json.loads(path.read_text())
    assert document["verification"]["records_sha256"] == document["records_sha256"]
    assert leaderboard.integrity(board, document) == []
    assert main(["leaderboard", "check", "--board", str(board)]) == 0
    edited = json.loads(path.read_text())
    edited["scores"]["maze"]["success"] = 0.99
    path.write_text(json.dumps(edited))
    capsys.readouterr()
    assert main(["leaderboard", "--board", str(board)]) == 2
    assert "its scores differ from those recomputed from its records (maze)" in capsys.readouterr().err
    assert main(["leaderboard", "check", "--board", str(board)]) == 1
    # a submitted row promoted to verified by hand: its verification record names no digests
    document.update(status="verified", verification={"tolerance": 0.0})
    path.write_text(json.dumps(document))
    problems = leaderboard.integrity(board, document)
    assert any("does not name these records" in p for p in problems)


def test_verify_check_compares_without_writing(run_copy, tmp_path):
    board = tmp_path / "board"
    submission.submit(run_copy, "expert-maze", board=board)
    before = (board / "submissions" / "expert-maze.json").read_bytes()
    result = submission.verify(board, "expert-maze", fraction=0.2, workers=0, show_progress=False, write=False)
    assert result.agreed and (board / "submissions" / "expert-maze.json").read_bytes() == before


def test_rows_are_ranked_like_with_like():
    def row(name, tasks, value):
        scores = {
            t: {"n": 1, "success": value, "success_stderr": 0.0, "progress": value, "progress_stderr": 0.0}
            for t in tasks
        }
        return {
            "name": name,
            "status": "submitted",
            "variant": "test",
            "policy_model": "m",
            "reward_model": {"kind": "none"},
            "search": {"strategy": "greedy"},
            "scores": scores,
        }

    two = row("two-tasks", ["maze", "babyai"], 0.99)
    nine = row("nine-tasks", [s.name for s in leaderboard.task_table.table()], 0.5)
    text = leaderboard.tables([two, nine])
    overall = text.split("overall")[1]
    assert overall.index("nine-tasks") < overall.index("two-tasks")  # 9/9 first though its average is lower
    assert "| 1   | nine-tasks" in overall and "| 1   | two-tasks" in overall  # each ranked in its own group
    assert "9/9" in overall and "2/9" in overall


def test_ci_rechecks_every_submission_on_a_pull_request():
    workflow = (REPO / ".github" / "workflows" / "ci.yml").read_text()
    job = workflow.split("  leaderboard:")[1]
    assert "if: github.event_name == 'pull_request'" in job
    assert "agentrm-bench leaderboard check" in job and "leaderboard verify" in job and "--check" in job
    assert "agentrm-bench leaderboard check" in (REPO / ".ci" / "run").read_text()


def test_any_reward_model_kind_with_its_package_and_digest_is_a_valid_row():
    document = {
        "name": "plug-in",
        "status": "submitted",
        "variant": "test",
        "policy_model": "m",
        "reward_model": {
            "kind": "my-rm",
            "base_model": "Llama-3-8B",
            "link": None,
            "package": "my-rm",
            "version": "0.3.1",
            "weights_sha256": "ab" * 32,
            "parameters": 8_000_000_000,
        },
        "search": {"strategy": "best-of-n"},
        "scores": {},
    }
    leaderboard.validate(document)
    with pytest.raises(SubmissionError, match="does not match"):
        leaderboard.validate({**document, "reward_model": {**document["reward_model"], "weights_sha256": "xyz"}})


def test_rows_of_runs_without_a_recorded_identity_read_the_spec():
    row = submission.reward_model_row({"rm": "explicit:/models/agentrm"}, {})
    assert row == {"kind": "explicit", "base_model": "/models/agentrm", "link": None}
    assert submission.reward_model_row({}, {})["kind"] == "none"
    assert submission.reward_model_row({"rm": "judge:default"}, {}, kind="judge-8b")["kind"] == "judge-8b"
