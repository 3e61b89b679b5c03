"""What every training command writes the same way: a manifest, append-only row files, atomic files.

A command's output folder is its identity: ``manifest.json`` pins the settings (and the digests of the
inputs) when the work starts; rerunning the same command resumes, another command on the same folder is
refused before anything is written. Work is recorded in JSONL files one whole line per finished unit
(an instance's expert trajectory, an instance's search tree), written with a single ``O_APPEND`` write,
so a kill leaves at most a torn last line, which the next run drops and redoes. Files that are rewritten
(derived tables, checkpoints, models) are written beside their place and renamed into it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from .. import __version__
from ..manifest import ConfigMismatchError, _git_commit

MANIFEST = "manifest.json"


class TrainingError(RuntimeError):
    """A training command cannot go on (bad input, missing data): said in one line."""


# ---------------------------------------------------------------------------- digests
def file_digest(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            h.update(block)
    return "sha256:" + h.hexdigest()


def folder_digest(folder: str | Path) -> str:
    """One digest over a folder's files (names and contents), ignoring work files (checkpoints)."""
    folder = Path(folder)
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not _is_work_file(p.relative_to(folder))):
        h.update(str(path.relative_to(folder)).encode() + b"\0" + file_digest(path).encode() + b"\0")
    return "sha256:" + h.hexdigest()


def _is_work_file(relative: Path) -> bool:
    return relative.parts[0] in ("checkpoint", MANIFEST) or relative.name.startswith(".")


def input_digest(path: str | Path) -> str:
    path = Path(path)
    return folder_digest(path) if path.is_dir() else file_digest(path)


# ---------------------------------------------------------------------------- atomic files
def write_text(path: str | Path, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def write_json(path: str | Path, payload: Any) -> None:
    write_text(path, json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def write_jsonl(path: str | Path, rows: Iterable[dict[str, Any]]) -> int:
    """Write ``rows`` as a JSONL file atomically; returns the number of rows."""
    count = 0
    lines = []
    for row in rows:
        lines.append(json.dumps(row, ensure_ascii=False))
        count += 1
    write_text(path, "".join(line + "\n" for line in lines))
    return count


def replace_folder(scratch: Path, target: Path) -> None:
    """Move a finished folder into place (the old one, if any, goes only once the new one is complete)."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old")
        if old.exists():
            shutil.rmtree(old)
        os.replace(target, old)
    os.replace(scratch, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def scratch_folder(target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}-"))


# ---------------------------------------------------------------------------- append-only rows
class Rows:
    """A JSONL file of finished units, appended one line per unit (see the module docstring)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def read(self, repair: bool = True) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        raw = self.path.read_bytes()
        rows, good = [], 0
        for line in raw.splitlines(keepends=True):
            if not line.endswith(b"\n"):
                break  # torn by a kill mid-write: redone on resume
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise TrainingError(f"{self.path}: corrupt row at byte {good}: {exc}") from exc
            good += len(line)
        if repair and good < len(raw):
            with open(self.path, "r+b") as handle:
                handle.truncate(good)
        return rows

    def append(self, row: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = (json.dumps(row, ensure_ascii=False) + "\n").encode("utf-8")
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.read(repair=False))


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    path = Path(path)
    if not path.is_file():
        raise TrainingError(f"{path} does not exist")
    return Rows(path).read(repair=False)


# ---------------------------------------------------------------------------- the manifest
def start(out: str | Path, command: str, settings: dict[str, Any], inputs: dict[str, str | Path] | None = None) -> bool:
    """Write ``out``'s manifest, or check that an existing one is the same work. True when resuming.

    ``settings`` and the digests of ``inputs`` (files or folders the work reads) are the identity of the
    work; a mismatch is refused with what differs.
    """
    out = Path(out)
    digests = {name: input_digest(path) for name, path in (inputs or {}).items()}
    identity = {"command": command, "settings": settings, "inputs": digests}
    path = out / MANIFEST
    if path.exists():
        existing = json.loads(path.read_text())
        for key in ("command", "settings", "inputs"):
            if existing.get(key) != identity[key]:
                raise ConfigMismatchError(
                    f"{out} holds the output of another {key} ({_diff(existing.get(key), identity[key])}); "
                    "use another --out folder"
                )
        return True
    import sys

    write_json(
        path,
        {
            **identity,
            "package_version": __version__,
            "git_commit": _git_commit(),
            "argv": sys.argv,
            "outputs": {},
        },
    )
    return False


def finish(out: str | Path, outputs: dict[str, Any]) -> None:
    """Record what the work produced (counts, digests, measured costs) in the manifest."""
    path = Path(out) / MANIFEST
    manifest = json.loads(path.read_text())
    manifest["outputs"] = outputs
    write_json(path, manifest)


def read_manifest(out: str | Path) -> dict[str, Any]:
    path = Path(out) / MANIFEST
    if not path.is_file():
        raise TrainingError(f"{out} is not an output folder of agentrm-bench (no {MANIFEST})")
    return json.loads(path.read_text())


def _diff(old: Any, new: Any) -> str:
    if isinstance(old, dict) and isinstance(new, dict):
        keys = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
        return ", ".join(f"{k}: {old.get(k)!r} there, {new.get(k)!r} now" for k in keys)
    return f"{old!r} there, {new!r} now"
