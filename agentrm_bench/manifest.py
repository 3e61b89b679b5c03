"""The run manifest: what a run directory's records were produced by.

Written once when a run starts. A rerun with the same configuration resumes; a rerun with a different
one is refused before anything is written, so records of two configurations never mix.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import data
from . import tasks as task_table

MANIFEST = "manifest.json"
IDENTITY = ("config", "policy_settings", "data")  # what must be equal for a run directory to be resumed


class RunDirectoryError(ValueError):
    """The output directory cannot hold this run (a file is there, or another run's records)."""


class ConfigMismatchError(RunDirectoryError):
    """The directory holds a run of another configuration (or of other upstream data)."""


@dataclass(frozen=True)
class RunConfig:
    """Everything that decides which episodes run and how; workers and output place are not part of it."""

    policy: str
    policy_settings: dict[str, Any] = field(default_factory=dict)
    tasks: tuple[str, ...] = ()
    split: str = "test"
    limit: int | None = None
    seed: int = 0
    max_turns: int | None = None  # None: each task's own turn budget (the comparable setting)
    # A declared subset: this many instances per task, the same fixed seeded sample for everyone
    # (:func:`subset_indices`), so that a CPU user can submit a run that is ranked with its like.
    subset: int | None = None
    # Where server tasks run their service ("local" process or "docker" container; None: each task's
    # default). Not part of the run's identity: the records are the same either way, so a run may
    # resume under another sandbox and the manifest's config leaves it out (its command shows it).
    sandbox: str | None = None

    def env_kwargs(self, task: str | None = None) -> dict[str, Any]:
        """What ``gym.make`` gets for ``task`` (for every task when None: the sandbox is left out)."""
        kwargs: dict[str, Any] = {"split": self.split, **({"max_turns": self.max_turns} if self.max_turns else {})}
        if self.sandbox is not None and task is not None and task_table.get(task).sandbox == "server":
            kwargs["sandbox"] = self.sandbox
        return kwargs

    def to_json(self) -> dict[str, Any]:
        row = asdict(self)
        row["tasks"] = list(self.tasks)
        del row["sandbox"]
        if row["subset"] is None:  # absent from runs made before subsets existed: keep them resumable
            del row["subset"]
        return row

    @property
    def variant(self) -> str:
        """How the run's rows are labelled on the leaderboard (rows are ranked only with their like)."""
        text = self.split
        if self.subset:
            text += f", subset {self.subset} (seed {SUBSET_SEED})"
        if self.max_turns:
            text += f", max turns {self.max_turns}"
        return text


SUBSET_SEED = 0  # fixed: a subset is the same for every run and every user


def subset_indices(task: str, count: int, size: int) -> list[int]:
    """The declared subset of ``task``: ``size`` of its ``count`` instances, a fixed seeded sample."""
    if size >= count:
        return list(range(count))
    rng = np.random.default_rng(np.random.SeedSequence([SUBSET_SEED, zlib.crc32(task.encode())]))
    return sorted(int(i) for i in rng.choice(count, size=size, replace=False))


def build(config: RunConfig, task_versions: dict[str, str], policy_settings: dict[str, Any]) -> dict[str, Any]:
    from . import __version__, policies

    return {
        "config": config.to_json(),
        "policy_settings": policy_settings,
        "data": data_identity(config.tasks),
        # Where the policy's code comes from (a plug-in's package and version); not compared on resume.
        "policy_origin": policies.origin(config.policy).to_json(),
        "package_version": __version__,
        "git_commit": _git_commit(),
        "task_versions": task_versions,
        "command": sys.argv,
        "python": sys.version.split()[0],
    }


def check_or_write(run_dir: Path, manifest: dict[str, Any]) -> bool:
    """Write the manifest of a new run; for an existing run, check that it is the same run.

    Returns True when the run is being resumed.
    """
    if Path(run_dir).exists() and not Path(run_dir).is_dir():
        raise RunDirectoryError(f"{run_dir} is a file, not a run directory; give --out a directory")
    path = Path(run_dir) / MANIFEST
    if path.exists():
        existing = json.loads(path.read_text())
        for key in IDENTITY:
            if existing.get(key) != manifest[key]:
                difference = _diff(existing.get(key), manifest[key])
                what = "upstream data" if key == "data" else key
                raise ConfigMismatchError(
                    f"{run_dir} holds a run with a different {what} ({difference}); use another --out directory"
                )
        return True
    Path(run_dir).mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    os.replace(temporary, path)
    return False


def data_identity(task_names: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """Per task: a digest of the upstream files present for it, and what the task says about them.

    Part of a run's identity: records made without a task's annotations (progress unavailable) must not
    be resumed once the annotations are there, nor mixed with records made with them. The digest covers
    each declared file's path and declared sha256 (its size where none is declared), so it is cheap even
    for multi-GB catalogues and changes whenever a file appears, disappears or is declared anew.
    """
    identity: dict[str, Any] = {}
    for name in task_names:
        spec = task_table.get(name)
        digest = hashlib.sha256()
        for files in spec.data:
            where = data.folder(files)
            for declared in files.files:
                path = where / declared.path
                present = (declared.sha256 or str(path.stat().st_size)) if path.is_file() else "absent"
                digest.update(f"{files.task}/{declared.path}={present}\n".encode())
        identity[name] = {"files": digest.hexdigest()[:16], "note": task_table.evaluable(spec)[1]}
    return identity


def read(run_dir: Path) -> dict[str, Any]:
    path = Path(run_dir) / MANIFEST
    return json.loads(path.read_text()) if path.exists() else {}


def _diff(old: Any, new: Any) -> str:
    if (
        isinstance(old, dict)
        and isinstance(new, dict)
        and all(isinstance(v, dict) and "note" in v for v in new.values())
    ):
        changed = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
        return "; ".join(  # the data identity: say what each task's files were, in words
            f"{k}'s upstream files: {(old.get(k) or {}).get('note', 'absent')!r} there, "
            f"{(new.get(k) or {}).get('note', 'absent')!r} now (digest {(old.get(k) or {}).get('files')} vs "
            f"{(new.get(k) or {}).get('files')})"
            for k in changed
        )
    if isinstance(old, dict) and isinstance(new, dict):
        keys = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
        return ", ".join(f"{k}: {old.get(k)!r} there, {new.get(k)!r} now" for k in keys)
    return f"{old!r} there, {new!r} now"


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            cwd=Path(__file__).resolve().parent,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None
