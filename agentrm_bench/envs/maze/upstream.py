"""Upstream files of the maze task: where each comes from and its sha256 (fetched, never committed)."""

from __future__ import annotations

from ...data import AGENTRM_PRM, DataFile, TaskData

RM_PROMPTS = TaskData(
    "maze/agentrm_prompts",
    (
        DataFile(
            "prm_maze_wo_turninfo.txt",
            AGENTRM_PRM + "maze_wo_turninfo.txt",
            sha256="436a344d94123fe467fa98543df4dab5494d86781320550ed1aa28fee43eb704",
        ),
    ),
    "AgentRM PRM instructions (thunlp/AgentRM @ 5bad059b, no licence file: fetched, never shipped)",
)
