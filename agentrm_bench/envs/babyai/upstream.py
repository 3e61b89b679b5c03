"""Upstream files of the babyai task: where each comes from and its sha256 (fetched, never committed)."""

from __future__ import annotations

from ...data import AGENTBOARD_DATA, AGENTRM_PRM, DataFile, TaskData

FILES = TaskData(
    "babyai",
    (
        DataFile(
            "test.jsonl",
            AGENTBOARD_DATA,
            sha256="d63d3dec56a623ea1c381a0815b31d6cfc3f707c5693c6d66e49b47c053c25bc",
            member="data/babyai/test.jsonl",
        ),
    ),
    "AgentBoard test set (hkust-nlp/agentboard, GPL-2.0): goals, subgoal patterns, first observations",
)


RM_PROMPTS = TaskData(
    "babyai/agentrm_prompts",
    (
        DataFile(
            "prm_babyai.txt",
            AGENTRM_PRM + "babyai.txt",
            sha256="8c2ac006bffc39d39a7641a8e96a923c07856009620d335c7b8f2426506d6f28",
        ),
        DataFile(
            "prm_babyai_wo_turninfo.txt",
            AGENTRM_PRM + "babyai_wo_turninfo.txt",
            sha256="c6d49d1c6ad7a31f36a67a0eab74ac4e577e4b8445b90ab40edcf857c7cfd69d",
        ),
    ),
    "AgentRM PRM instructions (thunlp/AgentRM @ 5bad059b, no licence file: fetched, never shipped)",
)
