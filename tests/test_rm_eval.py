"""Reward models on frozen pools: offline evaluation (metrics, resume, cost), the reward-model table
(submit, recompute, verify by re-scoring), the commands, and AgentRM's explicit checkpoint layout."""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import os
import shutil
from pathlib import Path

import pytest

from agentrm_bench import leaderboard
from agentrm_bench.cli import main
from agentrm_bench.leaderboard import SubmissionError
from agentrm_bench.llm.scripted import ScriptedLLM
from agentrm_bench.pools import board, store
from agentrm_bench.pools.evaluate import EvalDirectoryError, evaluate, read_scores
from agentrm_bench.pools.format import PoolError
from agentrm_bench.rewards import RewardModel, RewardModelIdentity
from agentrm_bench.rewards.agentrm_format import template_file
from agentrm_bench.rewards.judge import JudgeRM

from . import pool_fixtures, tiny_models
from .conftest import data_file

maze_pool = pool_fixtures.maze_pool
agentrm_explicit = tiny_models.agentrm_explicit  # fixtures


class Constant(RewardModel):
    """Cannot tell candidates apart: must score random@k exactly."""

    kind = "constant"

    async def ascore(self, batch):
        return [1.0] * len(batch)


class Shortest(RewardModel):
    """Prefers short trajectories; ``DRIFT`` in the environment shifts one score (a changed model)."""

    kind = "shortest"

    def __init__(self, argument=None, *, step_cost: float = 1.0):
        self.step_cost = step_cost

    def settings(self):
        return {"kind": self.kind, "step_cost": self.step_cost}

    async def ascore(self, batch):
        drift = float(os.environ.get("AGENTRM_TEST_DRIFT", "0"))
        return [-self.step_cost * len(t.steps) + (drift if k == 0 else 0.0) for k, t in enumerate(batch)]


class Weighted(Shortest):
    """Names the weights in the file it is given: another file, another digest."""

    kind = "weighted"

    def __init__(self, argument=None, **options):
        super().__init__(**options)
        self.path = Path(argument)

    def identity(self):
        return RewardModelIdentity(self.kind, "tiny", 1, hashlib.sha256(self.path.read_bytes()).hexdigest())


class NotANumber(RewardModel):
    async def ascore(self, batch):
        return [math.nan] * len(batch)


@pytest.fixture
def pools(maze_pool, tmp_path):
    root, _ = maze_pool
    shutil.copytree(root / "pools", tmp_path / "board" / "pools")
    return tmp_path / "board" / "pools"


def _eval(pools, spec, out, **kwargs):
    return evaluate(store.open_pool("tiny", pools), "tiny", spec, out, show_progress=False, **kwargs)


# ---------------------------------------------------------------------- evaluation
def test_the_oracle_reaches_oracle_at_k_and_a_blind_rm_scores_random_exactly(pools, tmp_path):
    oracle = _eval(pools, "oracle", tmp_path / "oracle")
    blind = _eval(pools, "tests.test_rm_eval:Constant", tmp_path / "blind")
    maze = oracle.metrics["maze"]
    assert maze["n"] == 4 and maze["headline"] == "success"
    assert maze["success"]["best_of_k"] == maze["success"]["oracle_at_k"]
    flat = blind.metrics["maze"]["success"]
    assert all(math.isclose(v, flat["random"]) for v in flat["best_of_k"].values())
    assert flat["oracle_at_k"] == maze["success"]["oracle_at_k"] and list(flat["best_of_k"]) == ["1", "2", "4"]
    assert oracle.pinned["rm"]["upper_bound"] is True and blind.pinned["rm"]["upper_bound"] is False
    step = blind.metrics["maze"]["step"]
    assert step["states"] == 8 and (step["pairwise"] is None or step["pairwise"] == 0.5)  # ties: half right
    assert oracle.averages["held-out"]["tasks"] == 1 and oracle.averages["held-in"]["best_of_n"] is None


def test_an_evaluation_resumes_keeps_its_cost_and_refuses_another_rm(pools, tmp_path):
    pool = store.open_pool("tiny", pools)
    first = {pool.instances[0].key, pool.instances[1].key}
    with pytest.raises(PoolError, match="2 of 4 instances not scored"):
        _eval(pools, "tests.test_rm_eval:Shortest", tmp_path / "e", only=first)
    path = tmp_path / "e" / "scores.jsonl"
    path.write_bytes(path.read_bytes() + b'{"task": "maze", "ind')  # killed mid-write
    done = _eval(pools, "tests.test_rm_eval:Shortest", tmp_path / "e")
    assert len(read_scores(tmp_path / "e")) == 4 and path.read_bytes().endswith(b"\n")
    assert done.cost["calls"] == 4 * 3 and done.cost["trajectories"] == 4 * (4 + 2 * 3)  # 1 + 2 states each
    with pytest.raises(EvalDirectoryError, match="another reward model"):
        _eval(pools, "tests.test_rm_eval:Shortest", tmp_path / "e", options={"step_cost": 2.0})
    with pytest.raises(PoolError, match="not a finite number"):
        _eval(pools, "tests.test_rm_eval:NotANumber", tmp_path / "nan")


def test_judge_and_explicit_rms_count_their_tokens(agentrm_explicit, pools, tmp_path):
    judge = JudgeRM(ScriptedLLM(["Score: 7"]))
    instance = store.open_pool("tiny", pools).instances[0]
    judge.score([instance.candidate_trajectory(0)])
    assert judge.usage()["tokens_in"] > 50 and judge.usage()["tokens_out"] == 2
    data_file(*template_file("maze"))  # AgentRM's instruction comes from the upstream data
    result = _eval(pools, f"explicit:{agentrm_explicit}", tmp_path / "explicit")
    assert result.cost["tokens_in"] > 0 and result.cost["tokens_out"] == 0


# ---------------------------------------------------------------------- AgentRM's released checkpoint layout
def test_agentrm_explicit_checkpoint_layout_is_read_as_released(agentrm_explicit, pools, tmp_path):
    from agentrm_bench.llm.weights import folder_weights
    from agentrm_bench.rewards import identify, make_rm
    from agentrm_bench.rewards.agentrm_format import agentrm_conversation

    data_file(*template_file("maze"))
    shards = sorted(agentrm_explicit.glob("model-*.safetensors"))
    assert len(shards) > 1 and (agentrm_explicit / "model.safetensors.index.json").is_file()
    spec = f"explicit:{agentrm_explicit}"
    rm = make_rm(spec)
    identity = identify(spec, rm)
    assert identity.weights_sha256 == folder_weights(agentrm_explicit).sha256 and identity.parameters > 0
    pool = store.open_pool("tiny", pools)
    batch = [pool.instances[0].candidate_trajectory(c) for c in range(4)]
    together = rm.score(batch)
    assert together == [rm.score([t])[0] for t in batch]  # no padding token of its own: rows one by one
    assert len(set(together)) > 1
    chat = agentrm_conversation(batch[0])
    assert chat[0]["role"] == "user" and "{task_goal}" not in chat[0]["content"]
    assert [m["role"] for m in chat[1:3]] == ["assistant", "user"] and chat[2]["content"].startswith("Observation:")
    result = _eval(pools, spec, tmp_path / "e")
    first = read_scores(tmp_path / "e")[pool.instances[0].key]["candidates"]
    assert first == pytest.approx(together, abs=1e-5) and result.pinned["rm"]["identity"]["parameters"] > 0


# ---------------------------------------------------------------------- the reward-model table
@pytest.fixture
def submitted(pools, tmp_path):
    _eval(pools, "tests.test_rm_eval:Shortest", tmp_path / "e")
    board.submit(tmp_path / "e", "shortest", tmp_path / "board", pools)
    return tmp_path / "board"


def test_a_submission_is_recomputed_from_its_scores(submitted, pools):
    [document] = board.load_all(submitted, pools)
    assert document["status"] == "submitted" and document["pool"]["synthetic"] is True
    assert document["reward_model"]["spec"] == "tests.test_rm_eval:Shortest"
    assert board.integrity(submitted, document, pools) == []
    path = submitted / "rm-submissions" / "shortest.json"
    forged = json.loads(path.read_text())
    forged["metrics"]["maze"]["success"]["best_of_k"]["4"] = 0.123
    assert "metrics differ" in board.integrity(submitted, forged, pools)[0]
    assert "verification record" in board.integrity(submitted, {**document, "status": "verified"}, pools)[0]
    scores = submitted / document["scores"]
    rows = gzip.decompress(scores.read_bytes()).decode().splitlines()
    scores.write_bytes(gzip.compress("\n".join(rows[:-1]).encode() + b"\n", mtime=0))
    assert "does not match its scores_sha256" in board.integrity(submitted, document, pools)[0]
    with pytest.raises(SubmissionError, match="scores_sha256"):
        board.load_all(submitted, pools)


def test_submit_refuses_an_unfinished_evaluation_or_another_pool(pools, tmp_path):
    pool = store.open_pool("tiny", pools)
    with pytest.raises(PoolError):
        _eval(pools, "oracle", tmp_path / "e", only={pool.instances[0].key})
    with pytest.raises(SubmissionError, match="rerun the same rm eval command"):
        board.submit(tmp_path / "e", "x", tmp_path / "board", pools)
    _eval(pools, "oracle", tmp_path / "e")
    pinned = json.loads((tmp_path / "e" / "eval.json").read_text())
    (tmp_path / "e" / "eval.json").write_text(json.dumps({**pinned, "pool": {**pinned["pool"], "sha256": "2" * 64}}))
    with pytest.raises(SubmissionError, match="scored pool sha256 222222222222"):
        board.submit(tmp_path / "e", "x", tmp_path / "board", pools)
    assert not (tmp_path / "board" / "rm-submissions").exists()


def test_verify_rescores_a_sample_and_marks_the_row_verified(submitted, pools, monkeypatch):
    result = board.verify(submitted, "shortest", pools, fraction=0.5, seed=3)
    assert result.agreed and result.instances == 2
    [document] = board.load_all(submitted, pools)
    assert document["status"] == "verified" and document["verification"]["instances"] == 2
    monkeypatch.setenv("AGENTRM_TEST_DRIFT", "0.5")
    result = board.verify(submitted, "shortest", pools, write=False)
    assert not result.agreed and "scores differ by up to 0.5" in result.differences[0]


def test_verify_refuses_other_weights_before_scoring(pools, tmp_path):
    weights = tmp_path / "weights.bin"
    weights.write_bytes(b"one")
    _eval(pools, f"tests.test_rm_eval:Weighted:{weights}", tmp_path / "e")
    board.submit(tmp_path / "e", "weighted", tmp_path / "board", pools)
    assert board.verify(tmp_path / "board", "weighted", pools, write=False).agreed
    weights.write_bytes(b"two")
    result = board.verify(tmp_path / "board", "weighted", pools)
    assert not result.agreed and result.instances == 0 and "weights_sha256" in result.differences[0]


# ---------------------------------------------------------------------- the commands
def test_rm_commands_from_eval_to_a_verified_row_beside_the_bounds(pools, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    spec = "tests.test_rm_eval:Shortest"
    argv = ["rm", "eval", "--rm", spec, "--pool", "tiny", "--pools", str(pools), "--out", "e", "--no-progress"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "| maze (s) " in out and "RM@4" in out and "oracle@4" in out and "cost: 12 calls, 40 trajectories" in out
    assert "pool tiny (synthetic, epsilon 0.2/0.8; N=4" in out
    assert main(["rm", "submit", "e", "--name", "shortest", "--board", "board"]) == 0
    assert main(["leaderboard", "verify", "shortest", "--board", "board"]) == 0
    assert main(["leaderboard", "--board", "board"]) == 0
    out = capsys.readouterr().out
    table = out.split("reward models (offline")[1]
    assert "| 1 " in table and "shortest" in table and "verified" in table and "tiny (synthetic)" in table
    assert "| bound | random " in table and "| bound | oracle@4 " in table
    assert main(["leaderboard", "check", "--board", "board"]) == 0
    assert "shortest (reward model): ok (verified)" in capsys.readouterr().out
    assert main(["leaderboard", "readme", "--board", "board"]) == 0
    page = (tmp_path / "board" / "reward-models.md").read_text()
    assert "shortest" in page and "(synthetic)" in page
    assert "reward-models.md" in (tmp_path / "board" / "README.md").read_text()
    assert main(["leaderboard", "readme", "--check", "--board", "board"]) == 0


@pytest.mark.parametrize(
    "argv, message",
    [
        (["rm", "eval", "--rm", "nosuch:x", "--pool", "tiny"], "unknown reward model"),
        (["rm", "eval", "--rm", "oracle", "--pool", "nosuch"], "no pool named 'nosuch'"),
        (["rm", "eval", "--rm", "oracle", "--pool", "tiny", "--rm-options", "[1"], "--rm-options must be"),
        (["rm", "submit", "nowhere", "--name", "x"], "not an evaluation directory"),
        (["leaderboard", "verify", "nosuch"], "no submission named"),
    ],
)
def test_rm_usage_errors_are_one_line(argv, message, pools, capsys):
    assert main([*argv, *(["--pools", str(pools)] if argv[1] == "eval" else [])]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_plot_best_of_k_draws_the_curves_with_both_bounds(pools, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    from agentrm_bench.pools.plot import curves

    _eval(pools, "oracle", tmp_path / "oracle")
    _eval(pools, "tests.test_rm_eval:Shortest", tmp_path / "short")
    panels = curves([tmp_path / "oracle", tmp_path / "short"])
    assert set(panels) == {"maze", "average"}
    assert set(panels["maze"]) == {"oracle [oracle]", "shortest", "oracle@k", "random"}
    runs = [str(tmp_path / "oracle"), str(tmp_path / "short")]
    assert main(["plot", "best-of-k", *runs, "--out", str(tmp_path / "f")]) == 0
    assert (tmp_path / "f.png").stat().st_size > 0 and (tmp_path / "f.svg").is_file()


def test_the_committed_reward_model_table_is_fresh_and_stands():
    from .conftest import REPO

    documents = board.load_all(REPO / "leaderboard", REPO / "leaderboard" / "pools")
    from agentrm_bench.cli.board import rm_readme_text

    assert (REPO / "leaderboard" / "reward-models.md").read_text() == rm_readme_text(REPO / "leaderboard")
    assert "](reward-models.md)" in leaderboard.readme(leaderboard.load_all(REPO / "leaderboard"))
    assert all(d["pool"]["synthetic"] for d in documents if d["pool"]["name"].startswith("noisy-expert"))
