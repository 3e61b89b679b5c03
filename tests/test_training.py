"""The training pipeline end to end on tiny models built here: collect expert -> train policy -> collect
mcts -> train rm (explicit, implicit), each output loaded where runs load it; no test instance in any
training data; kill-and-resume; a trained explicit RM ranking a known-good candidate above a known-bad one.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agentrm_bench import cli
from agentrm_bench.training import artifacts, chat_format, pools

from . import tiny_models
from .conftest import REPO

tiny_lm = tiny_models.tiny_lm  # fixture

pytest.importorskip("peft")


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


# ------------------------------------------------------------------------------ no test instances
def test_training_pools_never_hold_a_test_instance():
    from agentrm_bench.envs.babyai import levels
    from agentrm_bench.envs.sciworld import sets

    train = {pools.identity("babyai", "train", i) for i in range(levels.NUM_TRAIN_INSTANCES)}
    assert len(train) == levels.NUM_TRAIN_INSTANCES
    assert not train & pools.test_identities("babyai")
    assert {seed for _, seed in train}.isdisjoint(levels.SEEDS)
    # ETO's ScienceWorld dev set holds two of AgentBoard's test problems: the collectors leave them out
    dev = [i for i in range(len(sets.instances("dev"))) if pools.is_test_instance("sciworld", "dev", i)]
    assert [pools.identity("sciworld", "dev", i) for i in dev] == [
        ("identify-life-stages-1", 7),
        ("identify-life-stages-1", 6),
    ]


@pytest.mark.parametrize(("task", "split"), [("babyai", "test"), ("sciworld", "test-eto"), ("maze", "test")])
def test_collect_refuses_test_splits_and_tasks_without_a_pool(task, split, tmp_path, capsys):
    assert cli.main(["collect", "expert", "--tasks", task, "--split", split, "--out", str(tmp_path / "x")]) == 2
    message = capsys.readouterr().err.strip()
    assert message.startswith("agentrm-bench: error:") and "\n" not in message
    assert not (tmp_path / "x").exists()


@pytest.fixture(scope="module")
def expert_data(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("expert")
    assert cli.main(["collect", "expert", "--tasks", "babyai", "--limit", "4", "--out", str(out), "--no-progress"]) == 0
    return out


def test_collected_expert_data_has_no_test_instance_and_loads_with_datasets(expert_data):
    episodes = _rows(expert_data / "episodes.jsonl")
    assert [e["index"] for e in episodes] == [0, 1, 2, 3] and all(e["split"] == "train" for e in episodes)
    test_marks = pools.test_fingerprints("babyai")
    for episode in episodes:
        assert tuple(episode["identity"]) not in pools.test_identities("babyai")
        assert episode["fingerprint"] not in test_marks
        assert episode["success"]
    samples = _rows(expert_data / "sft.jsonl")
    assert len(samples) == sum(e["turns"] for e in episodes)
    first = samples[0]
    assert first["prompt"][0]["role"] == "system" and first["completion"][0]["content"].startswith("Thought:")
    assert "Here is an example" not in first["prompt"][0]["content"]  # the fine-tuned prompt has no example
    manifest = json.loads((expert_data / "manifest.json").read_text())
    assert manifest["outputs"]["sft_digest"] == artifacts.file_digest(expert_data / "sft.jsonl")
    datasets = pytest.importorskip("datasets")
    loaded = datasets.load_dataset("json", data_files=str(expert_data / "sft.jsonl"), split="train")
    assert loaded.num_rows == len(samples) and {"prompt", "completion"} <= set(loaded.column_names)


def test_history_window_matches_the_run_time_prompt():
    from agentrm_bench.prompts.trajectory import Step, Trajectory

    steps = tuple(Step(f"t{k}", f"turn left {k}", f"obs {k}") for k in range(5))
    trajectory = Trajectory("babyai", "go to the ball", "start", steps)
    samples = chat_format.samples(trajectory, history=2)
    last = samples[-1]["prompt"]
    assert [m["content"] for m in last if m["role"] == "assistant"] == [
        "Thought: t2\nAction: turn left 2",
        "Thought: t3\nAction: turn left 3",
    ]
    assert "[2 earlier step(s) not shown]" in last[1]["content"]
    from agentrm_bench.search.policy import GreedyPolicy

    policy = GreedyPolicy(model="scripted", example=False, history=2)
    assert policy.prompter("babyai").messages(Trajectory("babyai", "go to the ball", "start", steps[:4]))[0] == last
    assert policy.settings()["prompt"]["history"] == 2


def test_collect_expert_resumes_after_a_kill(tmp_path, expert_data):
    out = tmp_path / "killed"
    command = [sys.executable, "-m", "agentrm_bench", "collect", "expert", "--tasks", "babyai", "--limit", "4"]
    command += ["--out", str(out), "--no-progress"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and process.poll() is None:
        episodes = out / "episodes.jsonl"
        if episodes.exists() and episodes.read_text().count("\n") >= 1:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    with open(out / "episodes.jsonl", "ab") as handle:  # a torn last line, as a kill mid-write leaves
        handle.write(b'{"task": "babyai", "ind')
    assert cli.main(command[3:]) == 0
    assert [e["index"] for e in _rows(out / "episodes.jsonl")] == [0, 1, 2, 3]
    assert (out / "sft.jsonl").read_bytes() == (expert_data / "sft.jsonl").read_bytes()
    assert cli.main([*command[3:], "--history", "1"]) == 2  # another configuration: refused


# ------------------------------------------------------------------------------ SFT
@pytest.fixture(scope="module")
def tiny_policy(tmp_path_factory, expert_data, tiny_lm) -> Path:
    out = tmp_path_factory.mktemp("policy")
    args = ["train", "policy", "--data", str(expert_data), "--out", str(out), "--base", f"hf:{tiny_lm}"]
    args += [
        "--epochs",
        "6",
        "--batch-size",
        "4",
        "--lr",
        "0.01",
        "--lora-r",
        "4",
        "--no-progress",
        "--save-every",
        "2",
    ]
    assert cli.main(args) == 0
    return out


def sft_outputs(out: Path, data: Path, base: Path) -> dict:
    from agentrm_bench.training import loop, sft

    schedule = loop.Schedule(epochs=6, batch_size=4, lr=0.01, save_every=2)
    return sft.train_policy(data, out, base=f"hf:{base}", schedule=schedule, lora_r=4, show_progress=False)


def test_train_policy_writes_an_adapter_that_hf_loads(tiny_policy, tiny_lm, expert_data):
    from agentrm_bench.llm import check_spec, make_llm

    manifest = json.loads((tiny_policy / "manifest.json").read_text())
    outputs = manifest["outputs"]
    assert outputs["model"]["adapter"] and outputs["model"]["base"] == str(Path(tiny_lm).resolve())
    assert outputs["training"]["loss_last"] < outputs["training"]["loss_first"]  # it learnt something
    assert outputs["policy_args"] == {"example": False, "history": chat_format.DEFAULT_HISTORY}
    assert not (tiny_policy / "checkpoint").exists()
    check_spec(f"hf:{tiny_policy}")
    llm = make_llm(f"hf:{tiny_policy}")
    [[reply]] = llm.generate([[{"role": "user", "content": "Task: go to the ball"}]], max_tokens=5)
    assert reply.tokens > 0
    # the merged adapter changes the model: its log-probabilities differ from the base's
    chat = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Thought: go\nAction: turn left"}]
    assert llm.logprobs([chat]) != make_llm(f"hf:{tiny_lm}").logprobs([chat])
    # a finished folder is left as it is; another configuration on it is refused
    before = (tiny_policy / "adapter_model.safetensors").read_bytes()
    assert sft_outputs(tiny_policy, expert_data, tiny_lm) == outputs
    assert (tiny_policy / "adapter_model.safetensors").read_bytes() == before
    args = ["train", "policy", "--data", str(expert_data), "--out", str(tiny_policy)]
    assert cli.main(args) == 2


def test_train_policy_resumes_from_its_checkpoint(tmp_path, expert_data, tiny_lm):
    from agentrm_bench.training import loop, sft

    schedule = loop.Schedule(epochs=2, batch_size=2, lr=0.01, save_every=1)
    whole = sft.train_policy(
        expert_data, tmp_path / "whole", base=f"hf:{tiny_lm}", schedule=schedule, lora_r=4, show_progress=False
    )

    calls = {"n": 0}
    original = loop._checkpoint

    def dying(*args, **kwargs):
        original(*args, **kwargs)
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # killed right after the third checkpoint

    loop._checkpoint = dying
    try:
        with pytest.raises(KeyboardInterrupt):
            sft.train_policy(
                expert_data, tmp_path / "cut", base=f"hf:{tiny_lm}", schedule=schedule, lora_r=4, show_progress=False
            )
    finally:
        loop._checkpoint = original
    assert (tmp_path / "cut" / "checkpoint" / "state.pt").exists()
    resumed = sft.train_policy(
        expert_data, tmp_path / "cut", base=f"hf:{tiny_lm}", schedule=schedule, lora_r=4, show_progress=False
    )
    assert resumed["training"]["trained_examples_this_run"] < whole["training"]["trained_examples_this_run"]
    assert resumed["training"]["loss_history"] == pytest.approx(whole["training"]["loss_history"], rel=1e-3, abs=1e-4)


# ------------------------------------------------------------------------------ MCTS
@pytest.fixture(scope="module")
def mcts_data(tmp_path_factory, tiny_policy) -> Path:
    out = tmp_path_factory.mktemp("mcts")
    args = ["collect", "mcts", "--model", f"hf:{tiny_policy}", "--tasks", "babyai", "--limit", "2", "--out", str(out)]
    args += ["--simulations", "3", "--expansions", "2", "--max-turns", "3", "--max-tokens", "8", "--no-progress"]
    assert cli.main(args) == 0
    return out


def test_mcts_trees_values_and_outcomes(mcts_data):
    summaries = _rows(mcts_data / "instances.jsonl")
    assert [s["index"] for s in summaries] == [0, 1]
    for summary in summaries:
        assert tuple(summary["identity"]) not in pools.test_identities("babyai")
        tree = json.loads((mcts_data / "trees" / f"babyai-{summary['index']}.json").read_text())
        nodes = tree["nodes"]
        assert tree["return"] == "success" and nodes[0]["parent"] is None and len(nodes) == summary["nodes"] > 1
        for node in nodes:
            assert node["depth"] == (0 if node["parent"] is None else nodes[node["parent"]]["depth"] + 1)
            if node["visits"]:
                assert 0.0 <= node["value"] <= 1.0
            below = sum(nodes[c]["visits"] for c in node["children"])
            assert node["visits"] >= below  # a parent's rollouts include all of its children's
        assert nodes[0]["visits"] >= len(tree["rollouts"])  # every rollout went through the root
    values = _rows(mcts_data / "values.jsonl")
    assert values and all(len(v["steps"]) == v["depth"] >= 1 for v in values)
    outcomes = _rows(mcts_data / "outcomes.jsonl")
    assert outcomes and all(isinstance(o["success"], bool) for o in outcomes)
    manifest = json.loads((mcts_data / "manifest.json").read_text())
    assert manifest["outputs"]["nodes_per_s"] > 0 and manifest["settings"]["search"]["simulations"] == 3


def test_mcts_is_deterministic_and_resumes(tmp_path, mcts_data, tiny_policy):
    from agentrm_bench.training import collect_mcts
    from agentrm_bench.training.mcts import Settings

    settings = Settings(simulations=3, expansions=2, max_tokens=8)
    kwargs = {"limit": 2, "settings": settings, "max_turns": 3, "show_progress": False}
    collect_mcts.collect(f"hf:{tiny_policy}", ["babyai"], tmp_path, **{**kwargs, "limit": 2})
    first = _rows(tmp_path / "instances.jsonl")
    lines = (tmp_path / "instances.jsonl").read_text().splitlines(keepends=True)
    (tmp_path / "instances.jsonl").write_text(lines[0])  # as if killed after the first instance
    collect_mcts.collect(f"hf:{tiny_policy}", ["babyai"], tmp_path, **kwargs)
    again = _rows(tmp_path / "instances.jsonl")
    assert [r["index"] for r in again] == [0, 1]
    assert [r["nodes"] for r in again] == [r["nodes"] for r in first]
    assert (tmp_path / "values.jsonl").read_bytes() == (mcts_data / "values.jsonl").read_bytes()


# ------------------------------------------------------------------------------ reward models
def _labelled(tmp_path: Path, count: int) -> Path:
    """values.jsonl / outcomes.jsonl with known-good (expert) and known-bad (turning in place) trajectories."""
    import gymnasium as gym

    import agentrm_bench  # noqa: F401

    env = gym.make("agentrm/BabyAI-v0", split="train")
    values, outcomes = [], []
    for index in range(count):
        for good in (True, False):
            observation, info = env.reset(seed=0, options={"index": index})
            head = {
                "task": "babyai",
                "index": index,
                "goal": info["goal"],
                "first_observation": observation,
                "info": {},
            }
            steps = []
            for _ in range(2):
                action = env.unwrapped.expert_action() if good else "turn left"
                observation, _, terminated, truncated, info = env.step(action)
                steps.append({"thought": "I act.", "action": action, "observation": observation})
                if terminated:
                    break
            values.append(
                {**head, "node": len(values), "depth": len(steps), "visits": 4, "value": float(good), "steps": steps}
            )
            outcomes.append({**head, "rollout": len(outcomes), "steps": steps, "success": good, "progress": None})
    env.close()
    artifacts.write_jsonl(tmp_path / "values.jsonl", values)
    artifacts.write_jsonl(tmp_path / "outcomes.jsonl", outcomes)
    return tmp_path


def test_trained_explicit_rm_ranks_a_known_good_candidate_above_a_known_bad_one(tmp_path, tiny_lm):
    """What the RM learnt, loaded as runs load it (``--rm explicit:PATH``), ranks as it did in training.

    Generalisation from six tiny-model instances is luck (held-out accuracy is reported in the manifest, not
    asserted here); what must hold is that the loaded RM reads the same window and weights training scored.
    """
    from agentrm_bench.rewards import make_rm
    from agentrm_bench.training import loop, rm_explicit
    from agentrm_bench.training.chat_format import trajectory_from_json

    data = _labelled(tmp_path / "data", 8)
    schedule = loop.Schedule(epochs=10, batch_size=4, lr=3e-3)
    # the last 192 tokens hold the trajectory's steps: what tells good from bad here
    outputs = rm_explicit.train_explicit(
        data,
        tmp_path / "rm",
        base=f"hf:{tiny_lm}",
        schedule=schedule,
        lora_r=0,
        template="own",
        holdout=0.25,
        max_length=192,
        show_progress=False,
    )
    assert outputs["heldout_rows"] == 4 and outputs["train_fit"]["pairwise_accuracy"] == 1.0
    rm = make_rm(f"explicit:{tmp_path / 'rm'}", template="own")
    trained, _ = rm_explicit.split_by_instance(_rows(data / "values.jsonl"), 0.25, schedule.seed)
    for index in sorted({r["index"] for r in trained}):
        good, bad = (trajectory_from_json(r) for r in trained if r["index"] == index)  # expert first, then turning
        high, low = rm.score([good, bad])
        assert high > low, f"instance {index}: the loaded RM scores the expert's {high:.3f}, turning in place {low:.3f}"


def test_explicit_rm_adapter_with_agentrm_template_loads_as_explicit_rm(tmp_path, tiny_lm):
    from agentrm_bench.rewards import make_rm
    from agentrm_bench.training.chat_format import trajectory_from_json

    from .conftest import data_file

    data_file("babyai/agentrm_prompts", "prm_babyai_wo_turninfo.txt")
    data = _labelled(tmp_path / "data", 2)
    args = [
        "train",
        "rm",
        "--kind",
        "explicit",
        "--data",
        str(data),
        "--out",
        str(tmp_path / "rm"),
        "--base",
        f"hf:{tiny_lm}",
    ]
    args += ["--epochs", "1", "--lora-r", "4", "--no-progress", "--holdout", "0.5"]
    assert cli.main(args) == 0
    manifest = json.loads((tmp_path / "rm" / "manifest.json").read_text())
    assert manifest["outputs"]["model"]["adapter"] and manifest["outputs"]["rm_spec"] == f"explicit:{tmp_path / 'rm'}"
    rm = make_rm(manifest["outputs"]["rm_spec"])
    scores = rm.score([trajectory_from_json(r) for r in _rows(data / "values.jsonl")])
    assert len(scores) == 4 and len(set(scores)) > 1


def test_an_rm_adapter_loads_without_transformers_calling_its_head_missing(tmp_path, tiny_lm):
    """Building a value head's base from a causal LM makes transformers report the head (``score``) as
    "MISSING ... newly initialized": false for an adapter that saved the head, and it read as an untrained
    RM in every run's output. The report is silenced for such adapters only; the head still loads."""
    import logging

    from transformers.utils import logging as transformers_logging

    from agentrm_bench.rewards import make_rm
    from agentrm_bench.training import loop, rm_explicit
    from agentrm_bench.training.chat_format import trajectory_from_json

    data = _labelled(tmp_path / "data", 2)
    schedule = loop.Schedule(epochs=1, batch_size=4, lr=1e-2)
    rm_explicit.train_explicit(
        data, tmp_path / "rm", base=f"hf:{tiny_lm}", schedule=schedule, lora_r=4, template="own", show_progress=False
    )
    reports: list[str] = []
    collector = logging.Handler()
    collector.emit = lambda record: reports.append(record.getMessage())
    library = transformers_logging.get_logger("transformers")  # the library's root: its records stop there
    library.addHandler(collector)
    try:
        rm = make_rm(f"explicit:{tmp_path / 'rm'}", template="own")
        scores = rm.score([trajectory_from_json(r) for r in _rows(data / "values.jsonl")])
    finally:
        library.removeHandler(collector)
    assert not [r for r in reports if "LOAD REPORT" in r or "MISSING" in r]
    assert len(set(scores)) > 1  # the trained head, not a constant
    assert transformers_logging.get_verbosity() != transformers_logging.ERROR  # the verbosity was put back


def test_implicit_rm_trains_on_outcomes_and_loads_as_implicit_rm(tmp_path, tiny_policy):
    from agentrm_bench.rewards import make_rm
    from agentrm_bench.training import loop, rm_implicit
    from agentrm_bench.training.chat_format import trajectory_from_json

    data = _labelled(tmp_path / "data", 4)
    schedule = loop.Schedule(epochs=6, batch_size=4, lr=1e-2)
    outputs = rm_implicit.train_implicit(
        data,
        tmp_path / "rm",
        policy=f"hf:{tiny_policy}",
        schedule=schedule,
        lora_r=4,
        beta=0.5,
        holdout=0.25,
        show_progress=False,
    )
    assert outputs["rm_spec"] == f"implicit:hf:{tmp_path / 'rm'},hf:{tiny_policy}"
    assert outputs["training"]["loss_last"] < outputs["training"]["loss_first"]
    rm = make_rm(outputs["rm_spec"], **outputs["rm_options"])
    rows = _rows(data / "outcomes.jsonl")
    scores = rm.score([trajectory_from_json(r) for r in rows])
    good = [s for s, r in zip(scores, rows, strict=True) if r["success"]]
    bad = [s for s, r in zip(scores, rows, strict=True) if not r["success"]]
    assert sum(good) / len(good) > sum(bad) / len(bad)  # the log-ratio learnt the outcome labels
    reference = make_rm(f"implicit:hf:{tiny_policy},hf:{tiny_policy}", **outputs["rm_options"])
    assert reference.score([trajectory_from_json(rows[0])]) == [0.0]  # pi = pi_ref: no reward


def test_greedy_runs_the_fine_tuned_policy_with_its_prompt_settings(tmp_path, tiny_policy):
    settings = json.loads((tiny_policy / "manifest.json").read_text())["outputs"]["policy_args"]
    args = ["run", "--policy", "greedy", "--model", f"hf:{tiny_policy}", "--tasks", "babyai", "--limit", "1"]
    args += ["--max-turns", "2", "--out", str(tmp_path / "run"), "--no-progress", "--workers", "0"]
    for key, value in settings.items():
        args += ["--policy-arg", f"{key}={json.dumps(value)}"]
    args += ["--policy-arg", "max_tokens=8"]
    assert cli.main(args) == 0
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["policy_settings"]["prompt"]["history"] == settings["history"]


@pytest.mark.slow
def test_mcts_on_ray_writes_what_a_local_search_writes(tmp_path, mcts_data, tiny_policy):
    pytest.importorskip("ray")
    from agentrm_bench.executors import ray as ray_executor

    ray_executor.connect("local", num_cpus=2)
    try:
        args = ["collect", "mcts", "--model", f"hf:{tiny_policy}", "--tasks", "babyai", "--limit", "2"]
        args += ["--simulations", "3", "--expansions", "2", "--max-turns", "3", "--max-tokens", "8", "--no-progress"]
        assert cli.main([*args, "--out", str(tmp_path), "--executor", "ray"]) == 0
    finally:
        import ray

        ray.shutdown()
    assert (tmp_path / "values.jsonl").read_bytes() == (mcts_data / "values.jsonl").read_bytes()
    assert (tmp_path / "outcomes.jsonl").read_bytes() == (mcts_data / "outcomes.jsonl").read_bytes()
