"""Docker images for the sandbox: the generic service image and per-task images, built when absent.

Three layers, each built once and reused (``envs/docker/setup.sh`` prepares the first):

1. ``agentrm-bench/base:bookworm`` -- a Debian bookworm root filesystem made with ``debootstrap`` and
   imported (no registry is reachable here, so nothing is pulled).
2. ``agentrm-bench/service:<hash>`` -- ``envs/docker/Dockerfile.service``: Debian's Python 3.11 and the
   package's dependencies (core + the tool extras) in ``/opt/venv``, a non-root ``sandbox`` user.
3. ``agentrm-bench/<task>:<hash>`` -- the task package's ``docker/Dockerfile``
   (``agentrm_bench/envs/<task>/docker/``) ``FROM`` the service image (build argument ``BASE``), adding the
   task's pip extras. The caller says which (:class:`TaskImage`; the task's env reads them from its spec,
   ``agentrm-bench sandbox build`` from the task table): the sandbox layer knows no task table.

The package's code is not baked in (the backend mounts it read-only), so the tag hashes only what the
image holds: the Dockerfile, the requirement list derived from pyproject.toml, the files of the task's
``docker/`` folder and the parent image. A change to any of them gives a new tag, which is built on first use; editing
Python code never requires a rebuild.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import SandboxStartError

BASE_IMAGE = "agentrm-bench/base:bookworm"
SERVICE_REPO = "agentrm-bench/service"
SERVICE_EXTRAS = ("tool-operation", "tool-query")
LABEL = "agentrm.image"
LOCAL_CA_DIR = Path("/usr/local/share/ca-certificates")


@dataclass(frozen=True)
class TaskImage:
    """A task's own image: the ``docker/`` folder of package ``name`` plus the pip ``extras`` it needs."""

    name: str
    extras: tuple[str, ...] = ()


def source_root() -> Path:
    """The source tree holding pyproject.toml and envs/ (images can only be built from a checkout)."""
    root = Path(__file__).resolve().parents[2]
    if not (root / "pyproject.toml").is_file() or not (root / "envs" / "docker").is_dir():
        raise SandboxStartError(
            f"Docker images are built from a source checkout of agentrm-bench; {root} has no envs/docker"
        )
    return root


def task_folder(name: str) -> Path:
    """The build context of a task's own image: ``agentrm_bench/envs/<package>/docker/``."""
    return source_root() / "agentrm_bench" / "envs" / name.replace("-", "_") / "docker"


def is_task(name: str) -> bool:
    """Whether ``name`` is a task with its own image (a ``docker/Dockerfile`` in its package), not a tag."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", name):
        return False
    try:
        return (task_folder(name) / "Dockerfile").is_file()
    except SandboxStartError:
        return False


def requirements(extras: tuple[str, ...], core: bool = True) -> list[str]:
    """The pip requirements of the core package (if ``core``) plus ``extras``, from pyproject.toml."""
    project = tomllib.loads((source_root() / "pyproject.toml").read_text())["project"]
    optional: dict[str, list[str]] = project.get("optional-dependencies", {})
    out: list[str] = list(project["dependencies"]) if core else []
    pending, seen = list(extras), set()
    while pending:
        extra = pending.pop(0)
        if extra in seen:
            continue
        seen.add(extra)
        if extra not in optional:
            raise SandboxStartError(f"pyproject.toml has no extra {extra!r}")
        for requirement in optional[extra]:
            own = re.fullmatch(r"agentrm-bench\[([\w,\s-]+)\]", requirement.strip())
            if own:  # an extra that names other extras of the package itself
                pending.extend(name.strip() for name in own.group(1).split(","))
            elif requirement not in out:
                out.append(requirement)
    return out


def host_certificates() -> dict[str, bytes]:
    """``host-ca/*.crt``: the CA certificates added locally on this host, which the build must trust too."""
    files = {"host-ca/.keep": b""}
    if LOCAL_CA_DIR.is_dir():
        for path in sorted(LOCAL_CA_DIR.rglob("*.crt")):
            files[f"host-ca/{path.name}"] = path.read_bytes()
    return files


def _context(task: str | None, extras: tuple[str, ...] = ()) -> tuple[dict[str, bytes], str, dict[str, str]]:
    """The build context files, the image repository name and the build arguments (``extras``: a task's)."""
    root = source_root()
    if task is None:
        files = {"Dockerfile": (root / "envs" / "docker" / "Dockerfile.service").read_bytes()}
        files["requirements.txt"] = "\n".join(requirements(SERVICE_EXTRAS)).encode() + b"\n"
        files.update(host_certificates())
        return files, SERVICE_REPO, {"BASE": BASE_IMAGE}
    folder = task_folder(task)
    if not (folder / "Dockerfile").is_file():
        raise SandboxStartError(f"task {task!r} has no image of its own ({folder}/Dockerfile)")
    files = {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
    files["requirements.txt"] = "\n".join(requirements(tuple(extras), core=False)).encode() + b"\n"
    return files, f"agentrm-bench/{task}", {}


def _tag(files: dict[str, bytes], parent_id: str) -> str:
    digest = hashlib.sha256(parent_id.encode())
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return digest.hexdigest()[:12]


def _image_id(client: Any, name: str) -> str | None:
    try:
        return client.images.get(name).id
    except Exception:  # noqa: BLE001 - ImageNotFound
        return None


def ensure(
    client: Any, task: str | None = None, build: bool = True, log: Any = None, extras: tuple[str, ...] = ()
) -> str:
    """The tag of the up-to-date image for ``task`` (None: the generic service image), built if absent.

    ``extras``: the pip extras of agentrm-bench the task's image installs (the task's spec says which).
    """
    files, repo, buildargs = _context(task, extras)
    parent = BASE_IMAGE if task is None else ensure(client, None, build, log)
    parent_id = _image_id(client, parent)
    if parent_id is None:
        raise SandboxStartError(f"the Docker base image {parent} is missing; build it with envs/docker/setup.sh")
    tag = f"{repo}:{_tag(files, parent_id)}"
    if _image_id(client, tag) is not None:
        return tag
    if not build:
        raise SandboxStartError(f"the Docker image {tag} is not built; run envs/docker/setup.sh")
    buildargs = {**buildargs, "BASE": parent}
    with tempfile.TemporaryDirectory(prefix="agentrm-image-") as context:
        for name, content in files.items():
            target = Path(context) / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        _build(client, context, tag, buildargs, repo, log)
    _prune(client, repo, keep=tag)
    return tag


def build(client: Any, task_images: list[TaskImage], log: Any) -> None:
    """Build the service image and then ``task_images`` where absent or out of date, a line each on ``log``."""
    for image in [None, *task_images]:
        began = time.monotonic()
        tag = ensure(client, image.name if image else None, log=log, extras=image.extras if image else ())
        log.write(f"{tag} ready ({time.monotonic() - began:.1f} s)\n")


def _build(client: Any, context: str, tag: str, buildargs: dict[str, str], repo: str, log: Any) -> None:
    lines: list[str] = []
    stream = client.api.build(
        path=context,
        tag=tag,
        buildargs=buildargs,
        network_mode="host",  # the engine runs without a bridge; apt and PyPI are reached from the host
        labels={LABEL: repo},
        rm=True,
        forcerm=True,
        decode=True,
    )
    for chunk in stream:
        text = chunk.get("stream") or chunk.get("status") or ""
        if text:
            lines.append(text)
            if log is not None and text.startswith("Step "):  # one line per Dockerfile step
                log.write(text.rstrip("\n") + "\n")
                log.flush()
        if "error" in chunk:
            tail = "".join(lines[-20:])
            raise SandboxStartError(f"building {tag} failed: {chunk['error'].strip()}\n{tail}")


def _prune(client: Any, repo: str, keep: str) -> None:
    """Remove older builds of the same image (best effort: one still used by a container stays)."""
    for image in client.images.list(filters={"label": f"{LABEL}={repo}"}):
        if keep in image.tags:
            continue
        try:
            client.images.remove(image.id, force=False, noprune=False)
        except Exception:  # noqa: BLE001 - in use, or shares layers being kept
            pass
