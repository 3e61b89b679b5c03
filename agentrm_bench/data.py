"""The data layer: upstream files a task needs, fetched and verified on demand.

Upstream annotations and game files are never committed to this repository (their licences and sizes
vary). Each task declares what it needs as :class:`TaskData` in its own package (``envs/<task>/upstream.py``,
named by its spec) -- where upstream publishes each file and, where known, its sha256 -- and
``agentrm-bench data fetch <task>`` puts it under ``$AGENTRM_BENCH_DATA/<folder>/``. This module only
knows how to find, check and fetch declared files; which data sets exist is the task table's business
(:func:`agentrm_bench.tasks.catalogue`). Facts such as a maze grid or a level list live in code instead,
so that a task runs without its annotations where it can.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tarfile
import tempfile
import urllib.request
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import platformdirs

ENV_VAR = "AGENTRM_BENCH_DATA"
# Upstream sources that several tasks' declarations name.
AGENTBOARD_DATA = "https://huggingface.co/datasets/hkust-nlp/agentboard/resolve/main/data.tar.gz"
AGENTRM_PRM = "https://raw.githubusercontent.com/thunlp/AgentRM/5bad059b4e193a9264d7ed25f5083a30ce653421/eval_agent/prompt/prm_instruction/"


class DataMissingError(FileNotFoundError):
    """A task's upstream file is absent; the message says how to fetch it."""


class DataIntegrityError(RuntimeError):
    """A fetched file does not have the declared sha256."""


class DataFetchError(RuntimeError):
    """A declared file could not be downloaded (no network, moved upstream): one line says which and why."""


@dataclass(frozen=True)
class DataFile:
    """One upstream file: its place under the task folder and where it comes from."""

    path: str
    url: str
    sha256: str | None = None
    member: str | None = None  # the file's path inside an archive at ``url``; None if ``url`` is the file


@dataclass(frozen=True)
class TaskData:
    """A data set: files fetched together, kept under one folder of the data root.

    ``task`` is the set's key (``babyai``, ``babyai/agentrm_prompts``), the name ``data fetch`` takes.
    """

    task: str
    files: tuple[DataFile, ...]
    source: str
    folder: str | None = None  # the folder under the data root; tasks sharing upstream material share one
    required: bool = False  # the task cannot run without these files (else it runs, reporting less)


def folder(files: TaskData, root: Path | None = None) -> Path:
    """Where a data set's files live: ``<root>/<folder>``, the folder being its key unless declared."""
    return (root or data_root()) / (files.folder or files.task)


def data_root() -> Path:
    """``$AGENTRM_BENCH_DATA`` if set, else the user's cache directory."""
    configured = os.environ.get(ENV_VAR)
    if configured:
        return Path(configured).expanduser()
    return Path(platformdirs.user_cache_dir("agentrm-bench")) / "data"


def missing(files: TaskData, root: Path | None = None) -> list[DataFile]:
    """The declared files of a data set that are not present."""
    where = folder(files, root)
    return [f for f in files.files if not (where / f.path).is_file()]


def path(files: TaskData, relative: str) -> Path:
    """The local path of one declared file, or a :class:`DataMissingError` naming the fetch command."""
    candidate = folder(files) / relative
    if not candidate.is_file():
        raise DataMissingError(
            f"{files.task}: upstream file {relative!r} is not in {candidate.parent} "
            f"(run `agentrm-bench data fetch {files.task}`, or point {ENV_VAR} at a folder holding it)"
        )
    return candidate


def status(catalogue: Iterable[TaskData], root: Path | None = None) -> list[dict[str, object]]:
    """One row per data set: how many of its files are present."""
    rows = []
    for files in sorted(catalogue, key=lambda d: d.task):
        absent = missing(files, root)
        rows.append(
            {
                "task": files.task,
                "present": len(files.files) - len(absent),
                "declared": len(files.files),
                "missing": _shorten([f.path for f in absent]),
                "folder": str(folder(files, root)),
            }
        )
    return rows


def _shorten(paths: list[str], shown: int = 3) -> str:
    if not paths:
        return "-"
    more = f" (+{len(paths) - shown} more)" if len(paths) > shown else ""
    return ", ".join(paths[:shown]) + more


def sha256_of(file: Path) -> str:
    digest = hashlib.sha256()
    with open(file, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch(
    files: TaskData,
    root: Path | None = None,
    opener: Callable[[str], io.BufferedIOBase] | None = None,
    force: bool = False,
) -> list[Path]:
    """Download and verify every declared file of a data set; files already present are kept.

    Each file is written to a temporary name and renamed only once its checksum holds, so an
    interrupted fetch never leaves a half file where a task would read it.
    """
    where = folder(files, root)
    created = [p for p in (where, *where.parents) if not p.exists()]  # removed again if nothing arrives
    where.mkdir(parents=True, exist_ok=True)
    archives: dict[str, Path] = {}
    written: list[Path] = []
    try:
        _fetch_into(files, where, archives, written, opener or urllib.request.urlopen, force)
    finally:
        for path in created:  # innermost first: an interrupted or failed fetch leaves no empty folders
            if path.is_dir() and not any(path.iterdir()):
                path.rmdir()
    return written


def _fetch_into(
    files: TaskData,
    where: Path,
    archives: dict[str, Path],
    written: list[Path],
    opener: Callable[[str], io.BufferedIOBase],
    force: bool,
) -> None:
    with tempfile.TemporaryDirectory(dir=where, prefix=".fetch-") as scratch:
        for declared in files.files:
            target = where / declared.path
            if target.is_file() and not force:
                continue
            if declared.member is None:
                payload = _download(declared.url, Path(scratch), opener)
            else:
                if declared.url not in archives:
                    archives[declared.url] = _download(declared.url, Path(scratch), opener)
                payload = _extract(archives[declared.url], declared.member, Path(scratch))
            if declared.sha256 and sha256_of(payload) != declared.sha256:
                raise DataIntegrityError(
                    f"{files.task}: {declared.path} from {declared.url} has sha256 {sha256_of(payload)}, "
                    f"expected {declared.sha256}"
                )
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(payload, target)
            written.append(target)


def _download(url: str, scratch: Path, opener: Callable[[str], io.BufferedIOBase]) -> Path:
    destination = Path(tempfile.mkstemp(dir=scratch)[1])
    try:
        with opener(url) as response, open(destination, "wb") as out:
            shutil.copyfileobj(response, out)
    except (OSError, ValueError) as exc:  # URLError, HTTPError, timeouts, refused connections are OSErrors
        reason = getattr(exc, "reason", None) or exc
        raise DataFetchError(f"could not download {url}: {reason} (is the network reachable?)") from None
    return destination


def _extract(archive: Path, member: str, scratch: Path) -> Path:
    destination = Path(tempfile.mkstemp(dir=scratch)[1])
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as bundle, bundle.open(member) as src, open(destination, "wb") as out:
            shutil.copyfileobj(src, out)
        return destination
    with tarfile.open(archive) as bundle:
        src = bundle.extractfile(member)
        if src is None:
            raise DataIntegrityError(f"{member} in {archive.name} is not a regular file")
        with src, open(destination, "wb") as out:
            shutil.copyfileobj(src, out)
    return destination
