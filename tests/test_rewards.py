"""Reward models: oracle, explicit (value head, AgentRM input form), implicit (log-ratio), judge."""

from __future__ import annotations

import math

import pytest

from agentrm_bench.llm import ModelSpecError
from agentrm_bench.llm.scripted import ScriptedLLM
from agentrm_bench.prompts.trajectory import Step, Trajectory
from agentrm_bench.rewards import check_spec, make_rm
from agentrm_bench.rewards.agentrm_format import agentrm_conversation, fill, template_file
from agentrm_bench.rewards.judge import NEUTRAL, JudgeRM, parse_ranking, parse_score

from . import tiny_models
from .conftest import data_file

tiny_lm, tiny_ref, tiny_rm = tiny_models.tiny_lm, tiny_models.tiny_ref, tiny_models.tiny_rm  # fixtures

FIRST = "The goal is at position 8, 6. Your current position is at position 5, 4. There are walls above you, below you."


def trajectory(*actions: str, progress: float = 0.0, success: bool = False, task: str = "maze") -> Trajectory:
    steps = tuple(Step(f"I go {a}", a, f"after {a}") for a in actions)
    return Trajectory(task, "reach position 8, 6", FIRST, steps, progress, success)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("reward:x", "unknown reward model"),
        ("explicit:", "needs the path"),
        ("explicit:/nonexistent", "is not a folder"),
        ("implicit:/only-one", "POLICY,REF"),
        ("oracle:extra", "takes no argument"),
        ("judge:weird:model", "unknown model spec"),
    ],
)
def test_bad_rm_specs(spec, message):
    with pytest.raises(ModelSpecError, match=message):
        check_spec(spec)


def test_oracle_ranks_by_success_then_progress_and_says_it_is_an_upper_bound():
    rm = make_rm("oracle")
    scores = rm.score([trajectory(progress=0.5), trajectory(progress=1.0, success=True), trajectory(progress=None)])
    assert scores == [0.5, 2.0, 0.0] and rm.upper_bound and rm.settings()["upper_bound"]


def test_agentrm_instruction_comes_from_the_data_layer():
    key, name = template_file("maze")
    path = data_file(key, name)
    conversation = agentrm_conversation(trajectory("move down", "move right"))
    head = path.read_text().replace("{task_goal}", FIRST)
    assert conversation[0] == {"role": "user", "content": head}
    assert [m["role"] for m in conversation[1:]] == ["assistant", "user"] * 2
    assert conversation[1]["content"] == "Thought: I go move down\nAction: move down"
    assert conversation[2]["content"] == "Observation: after move down"


def test_template_fill_and_choice():
    assert fill("T: {task_goal} in {max_turn}", trajectory(), 30) == f"T: {FIRST} in 30"
    babyai = Trajectory("babyai", "go to the red ball", "You see a wall.")
    assert fill("{task_goal}", babyai, None) == "go to the red ball\nYou see a wall."
    files, name = template_file("babyai", "turninfo")
    assert (files.task, name) == ("babyai/agentrm_prompts", "prm_babyai.txt")
    assert template_file("pddl", domain="gripper")[1] == "prm_pddl_gripper_wo_turninfo.txt"
    with pytest.raises(ModelSpecError, match="domain"):
        template_file("pddl")
    with pytest.raises(ModelSpecError, match="variant"):
        template_file("maze", "short")


def test_explicit_rm_scores_batches_like_single_rows(tiny_rm):
    data_file("maze/agentrm_prompts", "prm_maze_wo_turninfo.txt")
    rm = make_rm(f"explicit:{tiny_rm}")
    batch = [trajectory(), trajectory("move down"), trajectory("move down", "move left", "move up")]
    together = rm.score(batch)
    alone = [rm.score([t])[0] for t in batch]
    assert all(math.isfinite(s) for s in together)
    assert together == pytest.approx(alone, abs=1e-5)
    assert len(set(together)) == 3  # the trajectory matters
    assert rm.settings()["template"] == "agentrm"


def test_explicit_rm_with_our_own_template(tiny_rm):
    rm = make_rm(f"explicit:{tiny_rm}", template="own")
    assert math.isfinite(rm.score([trajectory("move up")])[0])


def test_implicit_rm_is_beta_times_the_log_ratio(tiny_lm, tiny_ref):
    same = make_rm(f"implicit:{tiny_lm},{tiny_lm}")
    batch = [trajectory("move down"), trajectory("move down", "move up")]
    assert same.score(batch) == pytest.approx([0.0, 0.0], abs=1e-5)

    rm = make_rm(f"implicit:hf:{tiny_lm},{tiny_ref}", beta=0.5)
    scores = rm.score(batch)
    chats = [rm.conversation(t) for t in batch]
    mine, ref = rm.policy.logprobs(chats), rm.reference.logprobs(chats)
    expected = [0.5 * sum(sum(a) - sum(b) for a, b in zip(x, y, strict=True)) for x, y in zip(mine, ref, strict=True)]
    assert scores == pytest.approx(expected) and scores[0] != 0.0

    last = make_rm(f"implicit:{tiny_lm},{tiny_ref}", aggregate="last")
    step_two = last.score([batch[1]])[0]
    assert step_two == pytest.approx(scores[1] * 2 - scores[0] * 2, abs=1e-4)  # sum of steps - first step


def test_implicit_rm_needs_logprobs():
    with pytest.raises(ModelSpecError, match="log-probabilities"):
        make_rm("implicit:scripted,scripted")


@pytest.mark.parametrize(
    ("reply", "score"),
    [("Score: 7", 7.0), ("score=3.5 because", 3.5), ("I give it 12", 10.0), ("Score: -2", 0.0), ("no idea", None)],
)
def test_judge_score_parser(reply, score):
    assert parse_score(reply) == score


def test_judge_survives_garbage_and_counts_it():
    replies = iter(["Score: 9", "blah blah", "Score: 2"])
    judge = JudgeRM(ScriptedLLM(lambda m, j, s: next(replies)))
    assert judge.score([trajectory(), trajectory(), trajectory()]) == [9.0, NEUTRAL, 2.0]
    assert judge.parse_failures == 1 and judge.calls == 3


def test_judge_prompt_shows_the_steps():
    (system, user) = JudgeRM.conversation(trajectory("move down"))
    assert "Score:" in system["content"]
    assert "Action: move down" in user["content"] and "Observation: after move down" in user["content"]


def test_judge_with_a_real_tiny_model(tiny_lm):
    judge = make_rm(f"judge:hf:{tiny_lm}")
    scores = judge.score([trajectory("move down")])
    assert len(scores) == 1 and 0.0 <= scores[0] <= 10.0


def test_pddl_episodes_carry_their_domain_to_the_agentrm_instruction():
    pytest.importorskip("unified_planning")
    import gymnasium as gym

    from agentrm_bench import tasks

    if not tasks.runnable(tasks.get("pddl")):
        pytest.skip("PDDL's problems are absent here")
    env = gym.make("agentrm/PDDL-v0")
    domains = set()
    for index in (0, 59):
        observation, info = env.reset(options={"index": index})
        domains.add(info["domain"])
        _, _, _, _, after = env.step("check valid actions")
        assert after["domain"] == info["domain"]
        key, name = template_file("pddl", domain=info["domain"])
        instruction = data_file(key, name).read_text().split("{task_goal}")[0]
        traj = Trajectory("pddl", info["goal"], observation, info=info)
        assert agentrm_conversation(traj)[0]["content"].startswith(instruction)
    assert len(domains) == 2  # the first and last problems are of different domains
    env.close()


@pytest.mark.parametrize(
    ("reply", "count", "order"),
    [
        ("Ranking: 2 > 3 > 1", 3, [1, 2, 0]),
        ("I think... Ranking: 1>2", 2, [0, 1]),
        ("Ranking: 2 > 2 > 1", 3, None),  # a repeated candidate
        ("Ranking: 3 > 1", 3, None),  # one left out
        ("no idea", 2, None),
    ],
)
def test_judge_ranking_parser(reply, count, order):
    assert parse_ranking(reply, count) == order


def test_ranking_judge_compares_the_candidates_of_one_step():
    prompts = []

    def judge_model(messages, sample, seed):
        prompts.append(messages[-1]["content"])
        return "Ranking: 2 > 3 > 1" if "reach position 8, 6" in messages[-1]["content"] else "garbage"

    judge = JudgeRM(ScriptedLLM(judge_model), mode="rank")
    candidates = [trajectory("move up", last) for last in ("move left", "move right", "move down")]
    other = Trajectory("maze", "reach position 1, 1", FIRST, candidates[0].steps)
    alone = Trajectory("babyai", "go to the ball", "You see a wall.")
    scores = judge.score([*candidates, other, other, alone])
    assert scores[:3] == [0.0, 10.0, 5.0]  # best = candidate 2, then 3, then 1
    assert scores[3:] == [NEUTRAL, NEUTRAL, NEUTRAL]  # unreadable ranking; a trajectory alone is not ranked
    assert judge.calls == 2 and judge.parse_failures == 1 and judge.settings()["mode"] == "rank"
    shown = next(p for p in prompts if "reach position 8, 6" in p)
    assert shown.count("Action: move up") == 1  # the shared step once, then each candidate's own
    assert "Candidate 3:" in shown and "Action: move down" in shown


def test_judge_mode_is_checked():
    with pytest.raises(ValueError, match="judge mode"):
        JudgeRM(ScriptedLLM(lambda m, j, s: ""), mode="vote")


def test_explicit_rm_identity_names_its_weights_without_loading_them(tiny_rm):
    import hashlib

    from agentrm_bench.rewards import identify

    rm = make_rm(f"explicit:{tiny_rm}")
    identity = identify(f"explicit:{tiny_rm}", rm)
    assert rm._model is None  # nothing was loaded to say which model it is
    listing = "".join(
        f"{hashlib.sha256(f.read_bytes()).hexdigest()}  {f.name}\n" for f in sorted(tiny_rm.glob("*.safetensors"))
    )
    assert identity.weights_sha256 == hashlib.sha256(listing.encode()).hexdigest()  # sha256sum's listing, hashed
    rm.load()
    assert identity.parameters == sum(p.numel() for p in rm._model.parameters())
    assert (identity.name, identity.package) == ("explicit", "agentrm-bench") and identity.version


def test_model_based_rms_identify_the_weights_they_run(tiny_lm, tiny_ref):
    from agentrm_bench.llm.weights import folder_weights
    from agentrm_bench.rewards import identify

    judge = identify(f"judge:hf:{tiny_lm}", make_rm(f"judge:hf:{tiny_lm}"))
    assert judge.weights_sha256 == folder_weights(tiny_lm).sha256 and judge.parameters > 0
    same = identify(f"implicit:{tiny_lm},{tiny_lm}", make_rm(f"implicit:{tiny_lm},{tiny_lm}")).weights_sha256
    other = identify(f"implicit:{tiny_lm},{tiny_ref}", make_rm(f"implicit:{tiny_lm},{tiny_ref}")).weights_sha256
    assert same and other and same != other  # the reference's weights are part of the implicit RM
    assert identify("oracle", make_rm("oracle")).weights_sha256 is None
