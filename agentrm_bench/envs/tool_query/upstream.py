"""Upstream files of the tool-query task: where each comes from and its sha256 (fetched, never committed)."""

from __future__ import annotations

from ...data import AGENTBOARD_DATA, DataFile, TaskData

FILES = TaskData(
    "tool-query",
    tuple(
        DataFile(
            f"agentgym_toolusage/{name}.jsonl",
            "https://raw.githubusercontent.com/WooooDyy/AgentGym/3ef9235d23e68e7c2920c5422ad957dc8ced5c6c/"
            f"agentenv-tool/Toolusage/data/{name}.jsonl",
            sha256=digest,
        )
        for name, digest in (
            ("academia", "94ab8b4cb346289e8249b8de940e93c49817d9894930d624b82808233c33a1f5"),
            ("weather", "3dd46d00e4bbc3dc0bf6d6ce4de74609c24f3b56ef4f5b7b89c76d19c0f7f1fc"),
            ("movie", "3b8a34540e9aaa8b5e8b8640512f350e7cabed77a7aa181b12aa0f7ef549c16a"),
        )
    )
    + tuple(
        # AgentBoard's DBLP subset (networkx pickles); only in the HF archive, checksums not yet known.
        DataFile(f"academia/raw/{name}.pkl", AGENTBOARD_DATA, member=f"data/tool-query/academia/raw/{name}.pkl")
        for name in ("paper_net", "author_net", "title2id_dict", "author2id_dict") + ("id2title_dict", "id2author_dict")
    ),
    "Tool-Query rows (AgentGym agentenv-tool, MIT; academia rows from AgentBoard) and AgentBoard's DBLP graph "
    "(hkust-nlp/agentboard data.tar.gz, GPL-2.0). Weather/movie API responses are not downloadable: "
    "record them with `python -m agentrm_bench.envs.tool_query.record <toolset>`",
    folder="tools",
)
