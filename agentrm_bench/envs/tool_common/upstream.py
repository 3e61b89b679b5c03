"""Upstream files of the tool-common tasks: where each comes from and its sha256 (fetched, never committed)."""

from __future__ import annotations

from ...data import AGENTRM_PRM, DataFile, TaskData

RM_PROMPTS = TaskData(
    "tools/agentrm_prompts",
    (
        DataFile(
            "prm_tool_operation.txt",
            AGENTRM_PRM + "tool_operation.txt",
            sha256="e4741ebf4b8e0b75af579b6456a0f9ac2df8a1f2c11ff0eb5542a7ce155ac2d4",
        ),
        DataFile(
            "prm_tool_operation_wo_turninfo.txt",
            AGENTRM_PRM + "tool_operation_wo_turninfo.txt",
            sha256="74892783f98e9250a6c894fb274311c50a7ea515bb3483f0f1aae93911142078",
        ),
        DataFile(
            "prm_tool_query.txt",
            AGENTRM_PRM + "tool_query.txt",
            sha256="e4741ebf4b8e0b75af579b6456a0f9ac2df8a1f2c11ff0eb5542a7ce155ac2d4",
        ),
        DataFile(
            "prm_tool_query_wo_turninfo.txt",
            AGENTRM_PRM + "tool_query_wo_turninfo.txt",
            sha256="74892783f98e9250a6c894fb274311c50a7ea515bb3483f0f1aae93911142078",
        ),
    ),
    "AgentRM PRM instructions (thunlp/AgentRM @ 5bad059b, no licence file: fetched, never shipped)",
)
