"""The reward-model leaderboard: submissions of per-candidate scores on a frozen pool, and their checks.

A row lives in ``BOARD/rm-submissions/NAME.json`` (schema: ``agentrm_bench/rm_submission.schema.json``)
with the reward model's scores of every candidate and sibling of the pool in
``BOARD/rm-scores/NAME.jsonl.gz``. The trust rules are the policy table's: nothing is taken on trust.
Whenever the board is read, the scores file must match the digest the row names, the pool must be the
one the row names (by sha256), and the metrics are recomputed from the scores and the pool's outcomes
and must equal the row's. *verified* means ``leaderboard verify`` loaded the reward model from its
package (same package, version and weights digest), re-scored a seeded sample of the pool's instances
and found the same scores; its verification record names the digests of exactly those scores and
metrics. Only the cost is the submitter's measurement, shown as such.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import os
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np

from .. import __version__, rewards
from ..leaderboard import SubmissionError, scores_sha256
from ..llm.base import run_sync
from .evaluate import check_shapes, read_pinned, read_scores, score_instance, summarise
from .format import Pool, PoolError, order
from .metrics import split_averages, task_metrics
from .store import DEFAULT_DIR, open_pool

SUBMISSIONS = "rm-submissions"
SCORES = "rm-scores"
DEFAULT_TOLERANCE = 1e-4


@cache
def _validator() -> jsonschema.Draft202012Validator:
    text = resources.files("agentrm_bench").joinpath("rm_submission.schema.json").read_text()
    return jsonschema.Draft202012Validator(json.loads(text))


def validate(document: dict[str, Any], origin: str = "reward-model submission") -> None:
    errors = sorted(_validator().iter_errors(document), key=lambda e: list(e.path))
    if errors:
        where = "/".join(str(p) for p in errors[0].path) or "(top level)"
        raise SubmissionError(f"{origin}: {where}: {errors[0].message}")


def submission_path(board: Path, name: str) -> Path:
    return Path(board) / SUBMISSIONS / f"{name}.json"


def exists(board: Path, name: str) -> bool:
    return submission_path(board, name).is_file()


def load(board: Path, name: str) -> dict[str, Any]:
    path = submission_path(board, name)
    if not path.is_file():
        known = ", ".join(d["name"] for d in load_all(board, check=False)) or "none"
        raise SubmissionError(f"no reward-model submission named {name!r} in {path.parent} (known: {known})")
    document = _read_json(path)
    validate(document, str(path))
    return document


def load_all(board: Path, pools: Path = DEFAULT_DIR, check: bool = True) -> list[dict[str, Any]]:
    """Every reward-model row of ``board``, schema-checked and (``check``) recomputed from its scores."""
    documents = []
    for path in sorted((Path(board) / SUBMISSIONS).glob("*.json")):
        document = _read_json(path)
        validate(document, str(path))
        if document["name"] != path.stem:
            raise SubmissionError(f"{path}: name {document['name']!r} differs from the file name")
        if check:
            problems = integrity(board, document, pools)
            if problems:
                raise SubmissionError(f"{path}: {problems[0]} (agentrm-bench leaderboard check lists all)")
        documents.append(document)
    return documents


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(Path(path).read_text())
    except json.JSONDecodeError as exc:
        raise SubmissionError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None


# ---------------------------------------------------------------------- scores files
def encode_scores(pool: Pool, scores: dict[tuple[str, int], dict[str, Any]]) -> bytes:
    lines = []
    for instance in order(pool.instances):
        row = scores[instance.key]
        lines.append(
            {
                "task": instance.task,
                "index": instance.index,
                "candidates": row["candidates"],
                "states": row["states"],
                "cost": row.get("cost", {}),
            }
        )
    text = "".join(json.dumps(r, sort_keys=True, separators=(",", ":")) + "\n" for r in lines)
    return gzip.compress(text.encode(), mtime=0)


def scores_of(board: Path, document: dict[str, Any]) -> dict[tuple[str, int], dict[str, Any]]:
    path = Path(board) / document["scores"]
    if not path.is_file():
        raise SubmissionError(f"{document['name']}: its scores {document['scores']} are missing")
    blob = path.read_bytes()
    if hashlib.sha256(blob).hexdigest() != document["scores_sha256"]:
        raise SubmissionError(f"{document['name']}: {document['scores']} does not match its scores_sha256")
    rows = [json.loads(line) for line in gzip.decompress(blob).decode().splitlines()]
    return {(r["task"], int(r["index"])): r for r in rows}


def pool_of(document: dict[str, Any], pools: Path) -> Pool:
    pool = open_pool(document["pool"]["name"], pools)
    if pool.sha256 != document["pool"]["sha256"]:
        raise PoolError(f"the row scored pool sha256 {document['pool']['sha256'][:12]}, {pools} has {pool.sha256[:12]}")
    return pool


def integrity(board: Path, document: dict[str, Any], pools: Path = DEFAULT_DIR) -> list[str]:
    """What is wrong with a reward-model row as the tools recompute it (empty: it stands)."""
    try:
        pool = pool_of(document, pools)
        scores = scores_of(board, document)
        if set(scores) != {i.key for i in pool.instances}:
            return ["its scores do not cover exactly the pool's instances"]
        check_shapes(pool, scores)
    except (SubmissionError, PoolError, OSError, ValueError, KeyError) as exc:
        return [str(exc)]
    problems = []
    metrics = task_metrics(pool, scores)
    if metrics != document["metrics"]:
        claimed = document["metrics"]
        changed = sorted(t for t in set(metrics) | set(claimed) if metrics.get(t) != claimed.get(t))
        problems.append(f"its metrics differ from those recomputed from its scores ({', '.join(changed)})")
    if split_averages(metrics, pool.n) != document["averages"]:
        problems.append("its averages differ from those recomputed from its scores")
    if document["status"] == "verified":
        record = document.get("verification") or {}
        if record.get("scores_sha256") != document["scores_sha256"]:
            problems.append("its verification record does not name these scores (re-run leaderboard verify)")
        if record.get("metrics_sha256") != scores_sha256(document["metrics"]):
            problems.append("its verification record does not name these metrics (re-run leaderboard verify)")
    return problems


# ---------------------------------------------------------------------- submit
def submit(
    eval_dir: Path,
    name: str,
    board: Path = Path("leaderboard"),
    pools: Path = DEFAULT_DIR,
    *,
    link: str | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
    replace: bool = False,
) -> Path:
    """Check a complete evaluation and write its row and scores under ``board``; nothing on a problem."""
    target = submission_path(board, name)
    if target.exists() and not replace:
        raise SubmissionError(f"{target} exists; choose another --name (or --replace)")
    pinned = read_pinned(eval_dir)
    named = pinned["pool"]
    try:
        pool = open_pool(named["name"], pools)
    except PoolError as exc:
        raise SubmissionError(f"the evaluated pool {named['name']!r} must be a named pool of {pools}: {exc}") from None
    if pool.sha256 != named["sha256"]:
        raise SubmissionError(
            f"{eval_dir} scored pool sha256 {named['sha256'][:12]}; {named['name']} is {pool.sha256[:12]}"
        )
    try:
        evaluation = summarise(pool, pinned, read_scores(eval_dir), Path(eval_dir))
    except PoolError as exc:
        raise SubmissionError(f"{eval_dir}: {exc}; rerun the same rm eval command first") from None
    blob = encode_scores(pool, evaluation.scores)
    document = {
        "name": name,
        "status": "submitted",
        "reward_model": {**pinned["rm"], "link": link},
        "pool": {"name": named["name"], "sha256": pool.sha256, "synthetic": pool.synthetic, "n": pool.n},
        "scores": f"{SCORES}/{name}.jsonl.gz",
        "scores_sha256": hashlib.sha256(blob).hexdigest(),
        "metrics": evaluation.metrics,
        "averages": evaluation.averages,
        "cost": evaluation.cost,
        "harness_version": __version__,
        "verification": {"tolerance": tolerance},
    }
    validate(document, f"reward-model submission {name!r}")
    _atomic_write(Path(board) / document["scores"], blob)
    _atomic_write(target, (json.dumps(document, indent=2, sort_keys=True) + "\n").encode())
    return target


# ---------------------------------------------------------------------- verify
@dataclass
class Verification:
    agreed: bool
    differences: list[str]
    instances: int


def verify(
    board: Path,
    name: str,
    pools: Path = DEFAULT_DIR,
    fraction: float = 1.0,
    seed: int = 0,
    tolerance: float | None = None,
    write: bool = True,
) -> Verification:
    """Load the row's reward model from its package, check it is the same one (package, version, weights
    digest, settings), re-score a seeded ``fraction`` of the pool's instances and compare every score."""
    if not 0 < fraction <= 1:
        raise SubmissionError(f"--fraction must be in (0, 1], got {fraction}")
    document = load(board, name)
    problems = integrity(board, {**document, "status": "submitted"}, pools)
    if problems:
        raise SubmissionError(f"{name}: {problems[0]}")
    tolerance = document.get("verification", {}).get("tolerance", DEFAULT_TOLERANCE) if tolerance is None else tolerance
    submitted = document["reward_model"]
    rm = rewards.make_rm(submitted["spec"], **submitted.get("options", {}))
    here = rewards.identify(submitted["spec"], rm).to_json()
    mismatch = [
        f"reward model {key}: {submitted['identity'].get(key)} submitted, {here.get(key)} here"
        for key in ("package", "version", "weights_sha256")
        if submitted["identity"].get(key) is not None and submitted["identity"].get(key) != here.get(key)
    ]
    if submitted.get("settings") is not None and rm.settings() != submitted["settings"]:
        mismatch.append(f"reward model settings: {submitted['settings']} submitted, {rm.settings()} here")
    if mismatch:
        return Verification(False, mismatch, 0)
    pool = pool_of(document, pools)
    original = scores_of(board, document)
    sample = _sample(pool, fraction, seed)

    async def rescore() -> list[dict[str, Any]]:
        rows = [await score_instance(rm, instance) for instance in sample]
        model = getattr(rm, "llm", None)
        if model is not None and hasattr(model, "aclose"):
            await model.aclose()
        return rows

    differences = []
    for instance, row in zip(sample, run_sync(rescore()), strict=True):
        then = original[instance.key]
        pairs = list(zip(then["candidates"], row["candidates"], strict=True))
        for a, b in zip(then["states"], row["states"], strict=True):
            pairs += list(zip(a, b, strict=True))
        off = [abs(a - b) for a, b in pairs if not math.isclose(a, b, rel_tol=tolerance, abs_tol=tolerance)]
        if off:
            where = f"{instance.task}[{instance.index}]"
            differences.append(f"{where}: scores differ by up to {max(off):.3g} (tolerance {tolerance})")
    if not differences and write:
        document["status"] = "verified"
        document["verification"] = {
            "tolerance": tolerance,
            "fraction": fraction,
            "seed": seed,
            "instances": len(sample),
            "harness_version": __version__,
            "scores_sha256": document["scores_sha256"],
            "metrics_sha256": scores_sha256(document["metrics"]),
        }
        validate(document, name)
        _atomic_write(submission_path(board, name), (json.dumps(document, indent=2, sort_keys=True) + "\n").encode())
    return Verification(not differences, differences, len(sample))


def _sample(pool: Pool, fraction: float, seed: int) -> list[Any]:
    """A seeded ``fraction`` of each task's instances (at least one each), in pool order."""
    rng = np.random.default_rng(seed)
    chosen = []
    for task in pool.tasks():
        rows = [i for i in pool.instances if i.task == task]
        count = max(1, math.ceil(fraction * len(rows)))
        chosen += [rows[int(k)] for k in sorted(rng.choice(len(rows), size=count, replace=False))]
    return chosen


def _atomic_write(path: Path, payload: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(payload)
    os.replace(temporary, path)
