"""Where Tool-Query's instances and data come from, and what is missing on this machine.

The 60 instances are fixed (their ids live in ``agentrm_bench/envs/tool_query/instances.json``): the 20 academia rows
and 20 each of weather and movie, picked from AgentGym's larger sets by an evenly-spaced rule (see
:func:`evenly_spaced` and ``agentrm_bench/envs/tool_query/PROVENANCE.md``). Keeping all 60 even when some data is absent
makes scores comparable across machines: an instance whose data is missing raises
:class:`~agentrm_bench.data.DataMissingError` at reset, naming the command that provides it, and the
harness records that as an error, never as a score.

What each toolset needs, under ``$AGENTRM_BENCH_DATA/tools/`` (the folder both tool tasks share):

- the rows: ``agentgym_toolusage/{academia,weather,movie}.jsonl`` (``agentrm-bench data fetch tool-query``);
- academia: AgentBoard's DBLP graph pickles ``academia/raw/*.pkl`` (same fetch command);
- weather, movie (recorded backend): ``cassettes/{weather,movie}.json``, which only a machine with
  network can make (``python -m agentrm_bench.envs.tool_query.record <toolset>``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ... import data
from .upstream import FILES

TASK = "tool-query"
TOOLSETS = ("academia", "weather", "movie")
ROW_FILES = {name: f"agentgym_toolusage/{name}.jsonl" for name in TOOLSETS}
GRAPH_FILES = (
    "paper_net.pkl",
    "author_net.pkl",
    "title2id_dict.pkl",
    "author2id_dict.pkl",
    "id2title_dict.pkl",
    "id2author_dict.pkl",
)
GRAPH_DIR = "academia/raw"
CASSETTE_DIR = "cassettes"
HTTP_TOOLSETS = ("weather", "movie")
PER_TOOLSET = 20
BUNDLED = Path(__file__).resolve().parent
FETCH_COMMAND = f"agentrm-bench data fetch {TASK}"


def record_command(toolset: str) -> str:
    return f"python -m agentrm_bench.envs.tool_query.record {toolset}"


@dataclass(frozen=True)
class Row:
    """One test row in the upstream schema (AgentBoard / AgentGym ``*.jsonl``)."""

    toolset: str
    id: int
    goal: str
    subgoals: list[Any]
    answer: Any = None
    init_config: dict[str, Any] | None = None
    difficulty: str = ""
    goal_type: int = 0
    reference_path: list[dict[str, Any]] | None = field(default=None, compare=False)  # fixtures carry their own

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Row:
        info = raw.get("additional_info") or {}
        toolset = info.get("tool", raw.get("toolset"))
        if toolset not in TOOLSETS:
            raise ValueError(f"row {raw.get('id')!r}: tool {toolset!r} is not a Tool-Query toolset {TOOLSETS}")
        subgoals = raw.get("subgoals")
        if not isinstance(subgoals, list):
            raise ValueError(f"row {raw.get('id')!r}: subgoals must be a list")
        return cls(
            toolset=toolset,
            id=int(raw["id"]),
            goal=str(raw["goal"]),
            subgoals=subgoals,
            answer=info.get("answer"),
            init_config=info.get("init_config"),
            difficulty=str(raw.get("difficulty", "")),
            goal_type=int(info.get("goal_type", 0)),
            reference_path=raw.get("reference_path"),
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "goal": self.goal,
            "subgoals": self.subgoals,
            "difficulty": self.difficulty,
            "additional_info": {
                "answer": self.answer,
                "init_config": self.init_config,
                "goal_type": self.goal_type,
                "tool": self.toolset,
            },
        }
        if self.reference_path is not None:
            out["reference_path"] = self.reference_path
        return out


def evenly_spaced(count: int, k: int = PER_TOOLSET) -> list[int]:
    """The selection rule for weather and movie: row positions ``floor(i * count / k)``, i = 0..k-1.

    Spread over the whole file, so every question family AgentGym wrote (they come in blocks) is
    represented, and reproducible without a seed.
    """
    if count < k:
        raise ValueError(f"need at least {k} rows, have {count}")
    return [(i * count) // k for i in range(k)]


@lru_cache(maxsize=1)
def instances() -> tuple[tuple[str, int], ...]:
    """The 60 (toolset, row id) pairs, in instance order: academia, weather, movie."""
    with open(BUNDLED / "instances.json", encoding="utf-8") as handle:
        ids = json.load(handle)["ids"]
    return tuple((toolset, int(row_id)) for toolset in TOOLSETS for row_id in ids[toolset])


def locate(relative: str, root: Path | None = None) -> Path | None:
    """The file under the task's data folder (``<root>/tools/``, shared with Tool-Operation), or None."""
    candidate = data.folder(FILES, root) / relative
    return candidate if candidate.is_file() else None


def rows_path(toolset: str, root: Path | None = None) -> Path:
    found = locate(ROW_FILES[toolset], root)
    if found is None:
        raise data.DataMissingError(
            f"{TASK}: the {toolset} rows {ROW_FILES[toolset]!r} are not under {data.folder(FILES, root)} "
            f"(run `{FETCH_COMMAND}`, or point {data.ENV_VAR} at a folder holding them)"
        )
    return found


def read_rows(path: Path) -> dict[int, Row]:
    """Rows of one ``*.jsonl`` file by id (cached per file and modification time)."""
    return _read_rows(str(path), path.stat().st_mtime_ns)


@lru_cache(maxsize=16)
def _read_rows(path: str, mtime: int) -> dict[int, Row]:
    del mtime
    rows: dict[int, Row] = {}
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                try:
                    row = Row.from_json(json.loads(line))
                except (ValueError, KeyError, TypeError) as exc:
                    raise ValueError(f"{path}:{number}: not a Tool-Query row ({exc})") from None
                rows[row.id] = row
    return rows


def graph_dir(root: Path | None = None) -> Path | None:
    """The folder holding all six academia pickles, or None."""
    first = locate(f"{GRAPH_DIR}/{GRAPH_FILES[0]}", root)
    if first is None:
        return None
    folder = first.parent
    return folder if all((folder / name).is_file() for name in GRAPH_FILES) else None


def missing_graph_error(root: Path | None = None) -> data.DataMissingError:
    where = data.folder(FILES, root) / GRAPH_DIR
    return data.DataMissingError(
        f"{TASK}: the academia toolset needs AgentBoard's DBLP graph ({', '.join(GRAPH_FILES)}) in {where} "
        f"(run `{FETCH_COMMAND}`; the files come from AgentBoard's data.tar.gz on Hugging Face)"
    )


def cassette_path(toolset: str, root: Path | None = None, cassette_dir: Path | None = None) -> Path:
    """Where the recorded backend reads ``toolset``'s cassette (need not exist)."""
    if cassette_dir is not None:
        return Path(cassette_dir) / f"{toolset}.json"
    found = locate(f"{CASSETTE_DIR}/{toolset}.json", root)
    return found or data.folder(FILES, root) / CASSETTE_DIR / f"{toolset}.json"


def missing_cassette_error(toolset: str, path: Path) -> data.DataMissingError:
    return data.DataMissingError(
        f"{TASK}: no recorded {toolset} responses at {path}. The {toolset} tools answer from the live "
        f"{'Open-Meteo' if toolset == 'weather' else 'TMDB'} API; on a machine with network, record them with "
        f"`{record_command(toolset)}`{' (needs MOVIE_KEY)' if toolset == 'movie' else ''}, "
        f"or run with backend='live'"
    )


def data_report(root: Path | None = None, cassette_dir: Path | None = None) -> dict[str, str]:
    """Per toolset: ``"ready"`` or what is missing and the command that provides it (recorded backend)."""
    report: dict[str, str] = {}
    for toolset in TOOLSETS:
        if locate(ROW_FILES[toolset], root) is None:
            report[toolset] = f"rows absent ({FETCH_COMMAND})"
        elif toolset == "academia" and graph_dir(root) is None:
            report[toolset] = f"DBLP graph absent ({FETCH_COMMAND})"
        elif toolset in HTTP_TOOLSETS and not cassette_path(toolset, root, cassette_dir).is_file():
            report[toolset] = f"no recorded cassette ({record_command(toolset)}, needs network)"
        else:
            report[toolset] = "ready"
    return report
