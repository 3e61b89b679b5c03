"""Upstream files of the alfworld task: where each comes from and its sha256 (fetched, never committed)."""

from __future__ import annotations

from ...data import AGENTRM_PRM, DataFile, TaskData
from . import games

FILES = TaskData(
    "alfworld",
    tuple(
        DataFile(path, games.TW_PDDL_ARCHIVE, sha256=digest, member=path) for path, digest in games.catalogue_files()
    ),
    "ALFWorld json_2.1.1 game files (alfworld/alfworld release 0.2.2, MIT): 134 valid_unseen (test), "
    "140 valid_seen (dev); see envs/alfworld/PROVENANCE.md",
    required=True,
)


# AgentRM reward-model instructions (thunlp/AgentRM, eval_agent/prompt/prm_instruction/, renamed with a
# prm_ prefix): the input head of AgentRM's released explicit reward models (agentrm_bench.rewards).
RM_PROMPTS = TaskData(
    "alfworld/agentrm_prompts",
    (
        DataFile(
            "prm_alfworld.txt",
            AGENTRM_PRM + "alfworld.txt",
            sha256="8bd048a4965ee8e0eb96070526ff0e4307ffbc30023f2079e909740ee506e30d",
        ),
        DataFile(
            "prm_alfworld_ab_wo_turninfo.txt",
            AGENTRM_PRM + "alfworld_ab_wo_turninfo.txt",
            sha256="abac7463d0e75a66e3438f9f2746fe10d7dc8df24e82fd0590d898367f28a684",
        ),
        DataFile(
            "prm_alfworld_wo_turninfo.txt",
            AGENTRM_PRM + "alfworld_wo_turninfo.txt",
            sha256="bab15d8292ff2875b823028d9d44b75b47d91898640b8a86f0506d4fdfa92c3a",
        ),
    ),
    "AgentRM PRM instructions (thunlp/AgentRM @ 5bad059b, no licence file: fetched, never shipped)",
)
