"""Named pools under ``leaderboard/pools/``: a descriptor per pool, the file beside it when small enough.

``NAME.json`` (the descriptor, always committed) binds the name to the pool's sha256 and keeps the
build configuration and the command that makes it; ``NAME.pool.jsonl.gz`` (the pool) is committed when
it fits the size budget, ``BUDGET_BYTES`` (512 KiB). A larger pool is not committed: ``agentrm-bench
pool rebuild NAME`` plays it again from the descriptor and installs it only if its digest is the one the
descriptor names. Either way a pool is read only through its descriptor's digest, so a name never
silently means other candidates.
"""

from __future__ import annotations

import json
import os
import re
import shlex
from pathlib import Path
from typing import Any

from .. import __version__
from .build import BuildConfig
from .format import SUFFIX, Pool, PoolError, read

DEFAULT_DIR = Path("leaderboard") / "pools"
BUDGET_BYTES = 512 * 1024  # a committed pool file at most; larger ones are rebuilt by command
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")


def check_name(name: str) -> str:
    if not NAME.match(name) or name.endswith(".pool"):
        raise PoolError(f"pool name {name!r}: use letters, digits, . _ - (at most 80, not ending in .pool)")
    return name


def pool_path(folder: Path, name: str) -> Path:
    return Path(folder) / f"{name}{SUFFIX}"


def descriptor_path(folder: Path, name: str) -> Path:
    return Path(folder) / f"{name}.json"


def command(config: BuildConfig, name: str | None = None) -> str:
    """The ``agentrm-bench pool build`` command line that makes this pool (shown in the descriptor)."""
    argv = ["agentrm-bench", "pool", "build", "--policy", config.policy, "--tasks", ",".join(config.tasks)]
    for key, value in sorted(config.policy_settings.items()):
        argv += ["--policy-arg", f"{key}={json.dumps(value)}"]
    for key, values in sorted(config.vary.items()):
        argv += ["--vary", f"{key}={','.join(json.dumps(v) for v in values)}"]
    argv += ["-n", str(config.n), "--states", str(config.states), "--siblings", str(config.siblings)]
    argv += ["--rollouts", str(config.rollouts), "--split", config.split, "--seed", str(config.seed)]
    sample = config.sample
    if isinstance(sample, dict):
        sample = ",".join(f"{task}={count}" for task, count in sample.items())
    for flag, value in (("--limit", config.limit), ("--sample", sample), ("--max-turns", config.max_turns)):
        if value is not None:
            argv += [flag, str(value)]
    if name:
        argv += ["--name", name]
    return shlex.join(argv)


def descriptor(name: str, sha256: str, size: int, header: dict[str, Any], config: BuildConfig) -> dict[str, Any]:
    return {
        "name": name,
        "sha256": sha256,
        "bytes": size,
        "committed": size <= BUDGET_BYTES,
        "synthetic": header["synthetic"],
        "policy": header["policy"]["name"],
        "epsilon": header.get("epsilon"),
        "n": header["n"],
        "tasks": header["tasks"],
        "build": config.to_json(),
        "command": command(config, name),
        "harness_version": __version__,
    }


def install(
    folder: Path, name: str, blob: bytes, sha256: str, header: dict[str, Any], config: BuildConfig, replace: bool
) -> dict[str, Any]:
    """Write ``NAME.pool.jsonl.gz`` and ``NAME.json`` under ``folder``; refuses another pool of that name
    unless ``replace``. Returns the descriptor."""
    check_name(name)
    existing = descriptor_path(folder, name)
    if existing.exists() and not replace:
        old = load_descriptor(folder, name)
        if old["sha256"] != sha256:
            raise PoolError(f"{existing} names another pool (sha256 {old['sha256'][:12]}); choose another --name")
    document = descriptor(name, sha256, len(blob), header, config)
    _atomic_write(pool_path(folder, name), blob)
    _atomic_write(existing, (json.dumps(document, indent=2, sort_keys=True) + "\n").encode())
    return document


def load_descriptor(folder: Path, name: str) -> dict[str, Any]:
    path = descriptor_path(folder, name)
    if not path.is_file():
        known = ", ".join(names(folder)) or "none"
        raise PoolError(f"no pool named {name!r} in {folder} (known: {known}); a pool file's path works too")
    try:
        document = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise PoolError(f"{path}: not valid JSON ({exc.msg})") from None
    if not isinstance(document, dict) or not re.fullmatch(r"[0-9a-f]{64}", str(document.get("sha256"))):
        raise PoolError(f"{path}: a pool descriptor names the pool's sha256")
    return document


def names(folder: Path) -> list[str]:
    return sorted(p.stem for p in Path(folder).glob("*.json")) if Path(folder).is_dir() else []


def open_pool(spec: str | Path, folder: Path = DEFAULT_DIR) -> Pool:
    """The pool a name (under ``folder``) or a file path names, its digest checked against its descriptor.

    A file given by path is checked against a descriptor beside it (``NAME.json``) when there is one.
    """
    path = Path(spec)
    if str(spec).endswith(SUFFIX) or path.is_file():
        name = path.name.removesuffix(SUFFIX)
        beside = descriptor_path(path.parent, name)
        sha256 = load_descriptor(path.parent, name)["sha256"] if beside.is_file() else None
        return read(path, sha256)
    name = check_name(str(spec))
    document = load_descriptor(folder, name)
    file = pool_path(folder, name)
    if not file.is_file():
        raise PoolError(
            f"pool {name!r} is not here ({document.get('bytes', '?')} bytes, over the committed size budget): "
            f"rebuild it with `agentrm-bench pool rebuild {name}` (its digest is checked)"
        )
    return read(file, document["sha256"])


def _atomic_write(path: Path, payload: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(payload)
    os.replace(temporary, path)
