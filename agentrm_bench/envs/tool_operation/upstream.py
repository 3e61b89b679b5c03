"""Upstream files of the tool-operation task: where each comes from and its sha256 (fetched, never committed)."""

from __future__ import annotations

from ...data import DataFile, TaskData

FILES = TaskData(
    "tool-operation",
    (
        DataFile(
            "agentgym_toolusage/sheet.jsonl",
            "https://raw.githubusercontent.com/WooooDyy/AgentGym/3ef9235d23e68e7c2920c5422ad957dc8ced5c6c/"
            "agentenv-tool/Toolusage/data/sheet.jsonl",
            sha256="3c5b4cb195b61fb2ea062f3a240a6c9fdd3dcf9a0b1a4effdaa22f18b5c50456",
        ),
        DataFile(
            "agentgym_toolusage/todo.jsonl",
            "https://raw.githubusercontent.com/WooooDyy/AgentGym/3ef9235d23e68e7c2920c5422ad957dc8ced5c6c/"
            "agentenv-tool/Toolusage/data/todo.jsonl",
            sha256="8375b721746a771c4407c8d4b601e6788b93bbb043e657003c888cbec7fac097",
        ),
        DataFile(
            "todo/projects.agentgym.json",
            "https://raw.githubusercontent.com/WooooDyy/AgentGym/3ef9235d23e68e7c2920c5422ad957dc8ced5c6c/"
            "agentenv-tool/Toolusage/toolusage/utils/todo/projects.json",
            sha256="a4ed1441070055b9e426a568c0b61955cbf3badcab51aaf8b6590f2f471c73b4",
        ),
        DataFile(
            "sheet/test_sheet_for_copy.xlsx",
            "https://raw.githubusercontent.com/hkust-nlp/AgentBoard/bb7255e2daf1989069a186dad9e53f70680961db/"
            "agentboard/utils/sheet/Test%20Sheet-For%20Copy.xlsx",
            sha256="c3b6747a954e936acc394b71f0bdf7ae73afd43247799cab770def8c43c0f42d",
        ),
    ),
    "Tool-Operation rows and todo seed (AgentGym agentenv-tool, MIT; sheet rows from AgentBoard) and "
    "AgentBoard's reference workbook (hkust-nlp/AgentBoard, Apache-2.0)",
    folder="tools",
    required=True,
)
