"""Upstream files of the sciworld task: where each comes from and its sha256 (fetched, never committed)."""

from __future__ import annotations

from ...data import AGENTBOARD_DATA, AGENTRM_PRM, DataFile, TaskData

FILES = TaskData(
    "sciworld",
    (
        DataFile(
            "agentboard/test.jsonl",
            AGENTBOARD_DATA,
            sha256="ed58212de963cd3c3479e87a25c5d91e2d2decd4bbc3a39bb75283892d186ce1",
            member="data/scienceworld/test.jsonl",
        ),
    )
    + tuple(
        DataFile(
            f"eto/{name}",
            "https://raw.githubusercontent.com/Yifan-Song793/ETO/a2fc5da38f8d00cfaf3f9b6370d586eebaf72904/"
            f"eval_agent/data/sciworld/{name}",
            sha256=digest,
        )
        for name, digest in (
            ("test_indices.json", "dfe4ab263824f04a49cf977b8f6d65af516ce13b8cfbef5736a97ed993da7152"),
            ("dev_indices.json", "78084ef4393d2da87b21507451821e431daa1a70ab1a486fd1a964ab2404d741"),
            ("max_steps.json", "035592f47fbe1309b6ed1a260b392a50d94d3163de951508a74e985d93048f73"),
        )
    ),
    "AgentBoard's 90 ScienceWorld problems with goals and subgoal patterns (hkust-nlp/agentboard, GPL-2.0); "
    "ETO's test/dev variation lists and step limits (Yifan-Song793/ETO), which the code also holds as facts",
)


RM_PROMPTS = TaskData(
    "sciworld/agentrm_prompts",
    (
        DataFile(
            "prm_sciworld.txt",
            AGENTRM_PRM + "sciworld.txt",
            sha256="a51b18659cc150fa7bdf6ea5f362904c2dd0302ce14b47cdcdaee1ed0523b08b",
        ),
        DataFile(
            "prm_sciworld_ab_wo_turninfo.txt",
            AGENTRM_PRM + "sciworld_ab_wo_turninfo.txt",
            sha256="5fa8617867f21fa6cfee066099083cc541af82a42495847e9cd46e03362bcdbe",
        ),
        DataFile(
            "prm_sciworld_wo_turninfo.txt",
            AGENTRM_PRM + "sciworld_wo_turninfo.txt",
            sha256="c00298131d8b6d15fc5c2d8009918c2d0ac093efcf5cfee4fc7426272e662476",
        ),
    ),
    "AgentRM PRM instructions (thunlp/AgentRM @ 5bad059b, no licence file: fetched, never shipped)",
)
