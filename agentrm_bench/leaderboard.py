"""The leaderboard: schema-checked submissions under ``leaderboard/submissions/`` and their tables.

A row is *reported* (numbers from a paper, cited, never re-run), *submitted* (a run of this harness,
checked against its own records) or *verified* (re-run by the harness and found to agree). Cells show
each task's headline metric in percent; averages are unweighted over the tasks a row ran, and a row
that ran only some tasks of a split says so, because its average is not comparable to a full one.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
from tabulate import tabulate

from . import tasks as task_table
from .report import FORMATS

DEFAULT_BOARD = Path("leaderboard")
SUBMISSIONS = "submissions"


class SubmissionError(ValueError):
    """A submission or a run is not acceptable; the message says what is wrong."""


@cache
def schema() -> dict[str, Any]:
    return json.loads(resources.files("agentrm_bench").joinpath("submission.schema.json").read_text())


@cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema())


def validate(document: dict[str, Any], origin: str = "submission") -> None:
    errors = sorted(_validator().iter_errors(document), key=lambda e: list(e.path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.path) or "(top level)"
        raise SubmissionError(f"{origin}: {where}: {first.message}")
    for task in document.get("scores", {}):
        task_table.get(task)  # an unknown task name is an error too


def submission_path(board: Path, name: str) -> Path:
    return Path(board) / SUBMISSIONS / f"{name}.json"


def load(board: Path, name: str) -> dict[str, Any]:
    path = submission_path(board, name)
    if not path.exists():
        known = ", ".join(s["name"] for s in load_all(board)) or "none"
        raise SubmissionError(f"no submission named {name!r} in {Path(board) / SUBMISSIONS} (known: {known})")
    document = _read_json(path)
    validate(document, str(path))
    return document


def load_all(board: Path) -> list[dict[str, Any]]:
    folder = Path(board) / SUBMISSIONS
    documents = []
    for path in sorted(folder.glob("*.json")):
        document = _read_json(path)
        validate(document, str(path))
        if document["name"] != path.stem:
            raise SubmissionError(f"{path}: name {document['name']!r} differs from the file name")
        documents.append(document)
    return documents


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise SubmissionError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    except UnicodeDecodeError as exc:
        raise SubmissionError(f"{path}: not UTF-8 text ({exc.reason})") from None


def headline(document: dict[str, Any], task: str) -> float | None:
    """A task's headline metric in percent, or None when the row has no such cell."""
    cell = document["scores"].get(task)
    if cell is None:
        return None
    value = cell[task_table.get(task).headline]
    return None if value is None else 100 * value


def split_average(document: dict[str, Any], split: str) -> tuple[float | None, int]:
    """(average over the split's tasks the row ran, how many of them it ran)."""
    values = [headline(document, s.name) for s in task_table.table(split)]
    present = [v for v in values if v is not None]
    return (sum(present) / len(present) if present else None), len(present)


def overall(document: dict[str, Any]) -> float | None:
    if document.get("reported_average") is not None and not document["scores"]:
        return float(document["reported_average"])
    values = [headline(document, s.name) for s in task_table.table()]
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def tables(documents: list[dict[str, Any]], fmt: str = "github") -> str:
    """Held-in, held-out and overall tables, rows sorted by overall average (best first)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    ordered = sorted(documents, key=lambda d: (overall(d) is None, -(overall(d) or 0.0), d["name"]))
    sections = []
    for split in (task_table.HELD_IN, task_table.HELD_OUT):
        specs = task_table.table(split)
        rows = []
        for d in ordered:
            cells = [_pct(headline(d, s.name)) for s in specs]
            average, count = split_average(d, split)
            rows.append([_label(d), d["status"], d["variant"], *cells, _avg(average, count, len(specs))])
        headers = ["name", "status", "variant", *[f"{s.name} ({s.headline[0]})" for s in specs], "average"]
        sections.append(f"{split}\n\n" + tabulate(rows, headers, tablefmt=FORMATS[fmt], disable_numparse=True))
    rows = []
    for d in ordered:
        held_in, n_in = split_average(d, task_table.HELD_IN)
        held_out, n_out = split_average(d, task_table.HELD_OUT)
        present = n_in + n_out
        rows.append(
            [
                _label(d),
                d["status"],
                d["variant"],
                d["policy_model"],
                _rm(d["reward_model"]),
                d["search"]["strategy"],
                _avg(held_in, n_in, 3),
                _avg(held_out, n_out, 6),
                _avg(overall(d), present or 9, 9),
            ]
        )
    headers = ["name", "status", "variant", "policy", "reward model", "search", "held-in", "held-out", "average"]
    sections.append("overall\n\n" + tabulate(rows, headers, tablefmt=FORMATS[fmt], disable_numparse=True))
    sections.append(
        "(s) success rate, (p) progress rate, in %. An average over fewer tasks than the split has is marked "
        "(k/N) and is not comparable to a full one."
    )
    if any(_oracle(d) for d in documents):
        sections.append(ORACLE_NOTE)
    return "\n\n".join(sections)


def readme(documents: list[dict[str, Any]]) -> str:
    """``leaderboard/README.md``, generated: never edit it by hand (a test checks it is fresh)."""
    notes = []
    for d in documents:
        if d["status"] == "reported":
            notes.append(f"- **{d['name']}**: {d.get('citation') or 'no citation'}. {d.get('caveat') or ''}".rstrip())
    parts = [
        "# Leaderboard",
        "",
        "Generated by `agentrm-bench leaderboard readme` from `submissions/*.json` (schema: "
        "`agentrm_bench/submission.schema.json`). Do not edit by hand.",
        "",
        "Status: *reported* = numbers from a paper, not re-run here; *submitted* = a run of this harness "
        "whose scores were recomputed from its records; *verified* = re-run by `agentrm-bench leaderboard "
        "verify` and found to agree.",
        "",
        tables(documents, "github"),
    ]
    if notes:
        parts += ["", "## Reported rows", "", *notes]
    return "\n".join(parts) + "\n"


ORACLE_NOTE = (
    "[oracle] = the environment's own progress chose among the candidates: an upper bound of search, "
    "not a reward model; compare reward models against it, not with it."
)


def _oracle(document: dict[str, Any]) -> bool:
    return document["reward_model"]["kind"] == "oracle"


def _label(document: dict[str, Any]) -> str:
    """A row's name, marked wherever it is shown when its 'reward model' is the oracle."""
    return f"{document['name']} [oracle]" if _oracle(document) else document["name"]


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def _avg(value: float | None, count: int, total: int) -> str:
    if value is None:
        return ""
    return f"{value:.1f}" if count == total else f"{value:.1f} ({count}/{total})"


def _rm(reward_model: dict[str, Any]) -> str:
    kind = reward_model["kind"]
    base = reward_model.get("base_model")
    return f"{kind}: {base}" if base else kind
