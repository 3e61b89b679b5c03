"""Turning a run into a leaderboard submission, and re-running a submission to verify it.

``submit`` accepts only a run that stands on its own: every test instance of every task it ran,
no episode left errored, records that belong to the manifest, and the run's ``scores.json`` equal to
the scores recomputed from its records. All checks happen before anything is written.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import os
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__, harness, policies, report, rewards
from . import leaderboard as board_mod
from . import manifest as manifest_mod
from . import tasks as task_table
from .episode import EpisodeRecord
from .leaderboard import SubmissionError
from .manifest import RunConfig
from .records import RecordStore, read_records
from .registry import UnknownPluginError

RECORDS_DIR = "records"
IDENTITY_FIELDS = ("package", "version", "weights_sha256", "parameters")


@dataclass
class CheckedRun:
    manifest: dict[str, Any]
    config: RunConfig
    records: list[EpisodeRecord]
    scores: dict[str, dict[str, Any]]


def check_run(run_dir: Path) -> CheckedRun:
    """Everything ``submit`` requires of a run; a :class:`SubmissionError` names the first problem."""
    run_dir = Path(run_dir)
    if not (run_dir / manifest_mod.MANIFEST).exists():
        raise SubmissionError(f"{run_dir} is not a run directory (no {manifest_mod.MANIFEST})")
    manifest = manifest_mod.read(run_dir)
    config = RunConfig(**{**manifest["config"], "tasks": tuple(manifest["config"]["tasks"])})
    if config.limit is not None:
        raise SubmissionError(f"incomplete test sets: the run used --limit {config.limit}")
    records = read_records(run_dir)
    by_task: dict[str, set[int]] = defaultdict(set)
    for record in records:
        if record.policy != config.policy or record.task not in config.tasks:
            raise SubmissionError(
                f"record {record.task}[{record.index}] of policy {record.policy!r} does not belong to this run "
                f"(policy {config.policy!r}, tasks {list(config.tasks)})"
            )
        if record.index in by_task[record.task]:
            raise SubmissionError(f"duplicate record for {record.task}[{record.index}]")
        by_task[record.task].add(record.index)
    errored = [e for e in RecordStore(run_dir).errors() if e.index not in by_task[e.task]]
    if errored:
        raise SubmissionError(f"{len(errored)} errored episode(s) not yet rerun; rerun the same command first")
    planned: dict[str, set[int]] = defaultdict(set)
    for task, index in harness.plan(config):
        planned[task].add(index)
    for task in config.tasks:
        spec = task_table.get(task)
        expected = len(planned[task])
        missing = sorted(planned[task] - by_task[task])
        if missing:
            shown = ", ".join(map(str, missing[:10])) + (" ..." if len(missing) > 10 else "")
            raise SubmissionError(f"{task}: {len(missing)} of {expected} episodes missing (indices {shown})")
        ran_on = manifest.get("task_versions", {}).get(task)
        if ran_on != spec.version:
            raise SubmissionError(f"{task}: the run used task version {ran_on}, this harness has {spec.version}")
    claimed_path = run_dir / harness.SCORES
    if not claimed_path.exists():
        raise SubmissionError(f"{run_dir} has no {harness.SCORES}; rerun the same command to write it")
    claimed = json.loads(claimed_path.read_text())
    recomputed = {s.task: s.to_json() for s in report.score(records)}
    _compare_claims(claimed, recomputed)
    return CheckedRun(manifest, config, records, recomputed)


def build(
    checked: CheckedRun,
    name: str,
    *,
    policy_model: str | None = None,
    rm_kind: str | None = None,
    rm_base: str | None = None,
    rm_link: str | None = None,
    tolerance: float = 0.0,
) -> dict[str, Any]:
    """The submission document of a checked run (validated against the schema)."""
    settings = checked.config.policy_settings
    resolved = checked.manifest.get("policy_settings", {})
    policy: dict[str, Any] = {
        "name": checked.config.policy,
        "settings": settings,
        "resolved": resolved,
        "seed": checked.config.seed,
        "split": checked.config.split,
        "max_turns": checked.config.max_turns,
    }
    if checked.config.subset:
        policy["subset"] = checked.config.subset
    if checked.manifest.get("policy_origin"):
        policy["origin"] = checked.manifest["policy_origin"]
    document = {
        "name": name,
        "status": "submitted",
        "variant": checked.config.variant,
        "policy_model": policy_model or str(resolved.get("model") or settings.get("model") or checked.config.policy),
        "reward_model": reward_model_row(resolved, settings, kind=rm_kind, base_model=rm_base, link=rm_link),
        "search": {"strategy": str(resolved.get("strategy") or checked.config.policy), "settings": resolved},
        "policy": policy,
        "harness_version": checked.manifest.get("package_version", "unknown"),
        "task_versions": checked.manifest.get("task_versions", {}),
        "scores": checked.scores,
        "records": f"{RECORDS_DIR}/{name}.jsonl.gz",
        "verification": {"tolerance": tolerance},
    }
    board_mod.validate(document, f"submission {name!r}")
    return document


def reward_model_row(
    resolved: dict[str, Any],
    settings: dict[str, Any],
    *,
    kind: str | None = None,
    base_model: str | None = None,
    link: str | None = None,
) -> dict[str, Any]:
    """The submission's ``reward_model``: from the identity the run recorded (name, base model, size,
    weights digest, package, version), each field overridable by hand; ``none`` for a run without one."""
    spec = resolved.get("rm") or settings.get("rm")
    identity = dict((resolved.get("reward_model") or {}).get("identity") or {})
    if spec and not identity:  # a run from before reward models declared an identity: read the spec
        name, _, argument = str(spec).partition(":")
        try:
            name, argument = rewards.SPECS.parse(str(spec))
        except UnknownPluginError:
            pass
        identity = {"name": name, "base_model": argument or None}
    row: dict[str, Any] = {
        "kind": kind or identity.get("name") or "none",
        "base_model": base_model or identity.get("base_model"),
        "link": link,
    }
    row.update({key: identity[key] for key in IDENTITY_FIELDS if identity.get(key) is not None})
    return row


def submit(
    run_dir: Path, name: str, board: Path = board_mod.DEFAULT_BOARD, replace: bool = False, **metadata: Any
) -> Path:
    """Check ``run_dir``, then write the submission and its gzipped records under ``board``."""
    target = board_mod.submission_path(board, name)
    if target.exists() and not replace:
        raise SubmissionError(f"{target} exists; choose another --name (or --replace)")
    checked = check_run(run_dir)
    document = build(checked, name, **metadata)
    lines = sorted((r for r in checked.records), key=lambda r: (r.task, r.index))
    payload = "".join(json.dumps(r.to_json(), ensure_ascii=False, sort_keys=True) + "\n" for r in lines)
    blob = gzip.compress(payload.encode(), mtime=0)
    document["records_sha256"] = hashlib.sha256(blob).hexdigest()
    _atomic_write(Path(board) / document["records"], blob)
    _atomic_write(target, (json.dumps(document, indent=2, sort_keys=True) + "\n").encode())
    return target


def submitted_records(board: Path, document: dict[str, Any]) -> list[EpisodeRecord]:
    return board_mod.records_of(board, document)


@dataclass
class Verification:
    agreed: bool
    differences: list[str]
    episodes: int


def verify(
    board: Path,
    name: str,
    fraction: float = 1.0,
    seed: int = 0,
    tolerance: float | None = None,
    workers: int | None = None,
    show_progress: bool = True,
    write: bool = True,
) -> Verification:
    """Re-run a submission's pinned policy on all or a seeded fraction of its episodes and compare.

    Scores are compared per task on the same episodes; on agreement within the tolerance the
    submission is marked *verified* (rewritten in place, unless ``write`` is False: CI's check of a
    pull request), with a verification record naming the digests of the records and scores it
    vouches for; otherwise it is left as it was.
    """
    if not 0 < fraction <= 1:
        raise SubmissionError(f"--fraction must be in (0, 1], got {fraction}")
    document = board_mod.load(board, name)
    if document["status"] == "reported" or "policy" not in document:
        raise SubmissionError(f"{name} is a reported row: it has no pinned policy to re-run")
    problems = board_mod.integrity(board, {**document, "status": "submitted"})
    if problems:
        raise SubmissionError(f"{name}: {problems[0]}")
    tolerance = document.get("verification", {}).get("tolerance", 0.0) if tolerance is None else tolerance
    original = {r.key: r for r in submitted_records(board, document)}
    rng = np.random.default_rng(seed)
    sample: list[tuple[str, int]] = []
    for task in sorted({k[0] for k in original}):
        indices = sorted(i for t, i in original if t == task)
        count = max(1, math.ceil(fraction * len(indices)))
        sample += [(task, int(i)) for i in sorted(rng.choice(indices, size=count, replace=False))]
    pinned = document["policy"]
    config = RunConfig(
        policy=pinned["name"],
        policy_settings=pinned["settings"],
        tasks=tuple(document["scores"]),
        split=pinned.get("split", "test"),
        seed=pinned.get("seed", 0),
        max_turns=pinned.get("max_turns"),
        subset=pinned.get("subset"),
    )
    mismatch = _weights_mismatch(document, config)
    if mismatch:
        return Verification(False, [mismatch], 0)
    with tempfile.TemporaryDirectory(prefix="agentrm-verify-") as scratch:
        harness.run(config, Path(scratch), workers=workers, show_progress=show_progress, only=sample)
        rerun = read_records(Path(scratch))
    differences = _differences([original[k] for k in sample], rerun, tolerance)
    if not differences and write:
        document["status"] = "verified"
        document["verification"] = {
            "tolerance": tolerance,
            "fraction": fraction,
            "episodes": len(sample),
            "seed": seed,
            "harness_version": __version__,
            "records_sha256": document["records_sha256"],
            "scores_sha256": board_mod.scores_sha256(document["scores"]),
        }
        board_mod.validate(document, name)
        _atomic_write(
            board_mod.submission_path(board, name), (json.dumps(document, indent=2, sort_keys=True) + "\n").encode()
        )
    return Verification(not differences, differences, len(sample))


def _weights_mismatch(document: dict[str, Any], config: RunConfig) -> str | None:
    """Why the reward model here is not the one submitted (other weights), or None; checked before any
    episode is re-run, since scores of other weights would prove nothing."""
    submitted = document.get("reward_model", {}).get("weights_sha256")
    if not submitted:
        return None
    here = policies.create(config.policy, **config.policy_settings).settings()
    found = (here.get("reward_model") or {}).get("identity", {}).get("weights_sha256")
    if found != submitted:
        return f"reward model weights: sha256 {submitted} submitted, {found or 'unknown'} here"
    return None


def _differences(before: list[EpisodeRecord], after: list[EpisodeRecord], tolerance: float) -> list[str]:
    old = {s.task: s for s in report.score(before)}
    new = {s.task: s for s in report.score(after)}
    out = []
    for task, then in old.items():
        now = new.get(task)
        if now is None:
            out.append(f"{task}: no episode finished in the re-run")
            continue
        for metric in ("success", "progress"):
            a, b = getattr(then, metric), getattr(now, metric)
            if (a is None) != (b is None) or (a and b and abs(a.mean - b.mean) > tolerance + 1e-9):
                out.append(f"{task}: {metric} {_fmt(a)} submitted, {_fmt(b)} re-run (tolerance {tolerance})")
    return out


def _fmt(rate: report.Rate | None) -> str:
    return "n/a" if rate is None else f"{100 * rate.mean:.1f}%"


def _compare_claims(claimed: dict[str, Any], recomputed: dict[str, Any]) -> None:
    if set(claimed) != set(recomputed):
        raise SubmissionError(f"{harness.SCORES} lists tasks {sorted(claimed)}, the records {sorted(recomputed)}")
    for task, values in recomputed.items():
        for key, value in values.items():
            said = claimed[task].get(key)
            if (said is None) != (value is None) or (value is not None and not math.isclose(said, value, abs_tol=1e-9)):
                raise SubmissionError(f"{harness.SCORES} claims {task} {key} = {said}, but the records give {value}")


def _atomic_write(path: Path, payload: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(payload)
    os.replace(temporary, path)
