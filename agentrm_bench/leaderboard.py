"""The leaderboard: schema-checked submissions under ``leaderboard/submissions/`` and their tables.

A row is *reported* (numbers from a paper, cited, never re-run), *submitted* (a run of this harness,
checked against its own records) or *verified* (re-run by the harness and found to agree). Nothing in
a submission is taken on trust: every time the board is read, each row's scores are recomputed from its
gzipped records (whose sha256 the row names), and a *verified* row's verification record must name the
digests of exactly those records and scores -- so a hand-edited score or status is refused, not shown.
Cells show each task's headline metric in percent; averages are unweighted over the tasks a row ran.
Rows are ranked only against rows of the same coverage and variant (like with like), and every row
shows how many tasks it covers.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
from tabulate import tabulate

from . import report
from . import tasks as task_table
from .episode import EpisodeRecord
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


def load_all(board: Path, check: bool = True) -> list[dict[str, Any]]:
    """Every submission of ``board``, schema-checked and (``check``) recomputed from its records."""
    folder = Path(board) / SUBMISSIONS
    documents = []
    for path in sorted(folder.glob("*.json")):
        document = _read_json(path)
        validate(document, str(path))
        if document["name"] != path.stem:
            raise SubmissionError(f"{path}: name {document['name']!r} differs from the file name")
        if check:
            problems = integrity(board, document)
            if problems:
                raise SubmissionError(f"{path}: {problems[0]} (agentrm-bench leaderboard check lists all)")
        documents.append(document)
    return documents


def scores_sha256(scores: dict[str, Any]) -> str:
    """The digest a verification record names: of the scores, in canonical JSON."""
    return hashlib.sha256(json.dumps(scores, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def records_of(board: Path, document: dict[str, Any]) -> list[EpisodeRecord]:
    """A submission's records, after checking the file against the sha256 the submission names."""
    path = Path(board) / document["records"]
    if not path.is_file():
        raise SubmissionError(f"{document['name']}: its records {document['records']} are missing")
    blob = path.read_bytes()
    if hashlib.sha256(blob).hexdigest() != document.get("records_sha256"):
        raise SubmissionError(f"{document['name']}: {document['records']} does not match its records_sha256")
    return [EpisodeRecord.from_json(json.loads(line)) for line in gzip.decompress(blob).decode().splitlines()]


def integrity(board: Path, document: dict[str, Any]) -> list[str]:
    """What is wrong with a submission as the tools recompute it (empty: it stands).

    A submitted or verified row must name records whose digest matches, whose recomputed scores equal
    the row's scores exactly; a verified row's verification record must name the digests of those
    records and scores (``leaderboard verify`` writes them). Reported rows carry no records.
    """
    if document["status"] == "reported":
        return [] if not document.get("records") else ["a reported row cannot carry records"]
    if not document.get("records"):
        return [f"a {document['status']} row must name its records"]
    try:
        records = records_of(board, document)
    except (SubmissionError, OSError, ValueError) as exc:
        return [str(exc)]
    problems = []
    recomputed = {s.task: s.to_json() for s in report.score(records)}
    if recomputed != document["scores"]:
        changed = sorted(
            t for t in set(recomputed) | set(document["scores"]) if recomputed.get(t) != document["scores"].get(t)
        )
        problems.append(f"its scores differ from those recomputed from its records ({', '.join(changed)})")
    if document["status"] == "verified":
        record = document.get("verification") or {}
        if record.get("records_sha256") != document.get("records_sha256"):
            problems.append("its verification record does not name these records (re-run leaderboard verify)")
        if record.get("scores_sha256") != scores_sha256(document["scores"]):
            problems.append("its verification record does not name these scores (re-run leaderboard verify)")
    return problems


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


def coverage(document: dict[str, Any], split: str | None = None) -> int:
    """How many tasks (of ``split``, or of all nine) a row has a headline for; a reported nine-task
    average counts as all nine for the overall table."""
    if split is None and document.get("reported_average") is not None and not document["scores"]:
        return len(task_table.table())
    return sum(headline(document, s.name) is not None for s in task_table.table(split))


def _ranked(documents: list[dict[str, Any]], split: str | None) -> list[tuple[str, dict[str, Any]]]:
    """(rank, row) best first, ranked only among rows of the same coverage and variant.

    A row over 2 of 9 tasks is not better than one over 9 because its average is higher: rows are
    grouped by coverage (most tasks first), then variant (a declared subset apart from full test
    sets); the rank restarts in each group and says which group it is in.
    """
    score = (lambda d: split_average(d, split)[0]) if split else overall
    groups: dict[tuple[int, str], list[dict[str, Any]]] = {}
    for d in documents:
        if coverage(d, split):
            groups.setdefault((coverage(d, split), d["variant"]), []).append(d)
    ranked = []
    for key in sorted(groups, key=lambda k: (-k[0], k[1])):
        rows = sorted(groups[key], key=lambda d: (-(score(d) or 0.0), d["name"]))
        ranked += [(f"{place}", d) for place, d in enumerate(rows, start=1)]
    return ranked


def tables(documents: list[dict[str, Any]], fmt: str = "github") -> str:
    """Held-in, held-out and overall tables; rows ranked like with like (see :func:`_ranked`)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    sections = []
    for split in (task_table.HELD_IN, task_table.HELD_OUT):
        specs = task_table.table(split)
        rows = []
        for rank, d in _ranked(documents, split):
            cells = [_pct(headline(d, s.name)) for s in specs]
            average, count = split_average(d, split)
            covered = f"{count}/{len(specs)}"
            rows.append([rank, _label(d), d["status"], d["variant"], covered, *cells, _avg(average, count, len(specs))])
        headers = ["#", "name", "status", "variant", "tasks", *[f"{s.name} ({s.headline[0]})" for s in specs]]
        headers.append("average")
        table = tabulate(rows, headers, tablefmt=FORMATS[fmt], disable_numparse=True) if rows else "(no rows)"
        sections.append(f"{split}\n\n{table}")
    rows = []
    for rank, d in _ranked(documents, None):
        held_in, n_in = split_average(d, task_table.HELD_IN)
        held_out, n_out = split_average(d, task_table.HELD_OUT)
        reported = d.get("reported_average") is not None and not d["scores"]
        covered = "9/9 (reported average)" if reported else f"{n_in + n_out}/9"
        rows.append(
            [
                rank,
                _label(d),
                d["status"],
                d["variant"],
                covered,
                d["policy_model"],
                _rm(d["reward_model"]),
                d["search"]["strategy"],
                _avg(held_in, n_in, 3),
                _avg(held_out, n_out, 6),
                _avg(overall(d), coverage(d), 9),
            ]
        )
    headers = ["#", "name", "status", "variant", "tasks", "policy", "reward model", "search", "held-in", "held-out"]
    headers.append("average")
    sections.append("overall\n\n" + tabulate(rows, headers, tablefmt=FORMATS[fmt], disable_numparse=True))
    sections.append(
        "(s) success rate, (p) progress rate, in %. # ranks a row only among rows covering as many tasks on "
        "the same variant: an average over fewer tasks (k/N) is not comparable to a full one. Reported rows "
        "give a nine-task average only (no per-task numbers), so they appear in the overall table alone."
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
        "",
        "Reward models judged offline on frozen candidate pools have a table of their own: "
        "[reward-models.md](reward-models.md).",
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
