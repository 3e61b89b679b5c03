"""The ``docker`` backend: the same server as the container's command, reached through a bind-mounted socket.

The container is locked down: no network at all (``network_mode="none"``: only a loopback interface),
a non-root user, a read-only root filesystem (a small tmpfs on /tmp is the only writable place besides
the socket directory), every capability dropped, ``no-new-privileges``, and memory / pids / CPU limits.
The package's code is mounted read-only from the harness's own installation, so the container always
runs exactly the code the harness runs; the image only carries Python and the dependencies
(:mod:`.images`). The data root is mounted read-only at the same path, so paths in requests stay valid.

Containers are labelled with the owning process (:mod:`.cleanup`): removed on close, by the reaper when
the harness dies, and by the next start when both are gone.
"""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path
from typing import Any

from . import cleanup, images, reaper
from .backend import Launch
from .errors import SandboxStartError
from .local import package_parent
from .protocol import SOCKET_NAME

DEFAULT_SOCKET = "/run/agentrm-docker.sock"  # where envs/docker/setup.sh starts the engine
SOCKET_DIR = "/sandbox"
CODE_DIR = "/opt/agentrm"
SANDBOX_UID = 10001  # the image's "sandbox" user; used when the harness runs as root
DEFAULT_LIMITS: dict[str, Any] = {"memory": "2g", "pids": 256, "cpus": 1.0}
ENTRYPOINT = ["python", "-m", "agentrm_bench.sandbox.server"]

_names = itertools.count(1)
_clients: dict[int, Any] = {}


def docker_host() -> str | None:
    """``$AGENTRM_DOCKER_HOST``, else ``$DOCKER_HOST``, else setup.sh's socket if present, else the SDK default."""
    host = os.environ.get("AGENTRM_DOCKER_HOST") or os.environ.get("DOCKER_HOST")
    if host:
        return host
    return f"unix://{DEFAULT_SOCKET}" if os.path.exists(DEFAULT_SOCKET) else None


def docker_client() -> Any:
    """A connected Docker SDK client (one per process), or :class:`SandboxStartError` saying what to do."""
    client = _clients.get(os.getpid())
    if client is not None:
        return client
    try:
        import docker
    except ImportError:
        message = "the docker backend needs the Docker SDK: pip install 'agentrm-bench[docker]'"
        raise SandboxStartError(message) from None
    host = docker_host()
    try:
        client = docker.DockerClient(base_url=host, timeout=120) if host else docker.from_env(timeout=120)
        client.ping()
    except Exception as exc:  # noqa: BLE001 - any failure here means "no usable engine"
        where = host or "the default Docker socket"
        raise SandboxStartError(
            f"no Docker engine answers at {where} ({type(exc).__name__}: {exc}); start one with envs/docker/setup.sh"
        ) from None
    _clients[os.getpid()] = client
    return client


class DockerBackend:
    """Runs one server container at a time for a :class:`~agentrm_bench.sandbox.Sandbox`."""

    name = "docker"

    def __init__(self, launch: Launch):
        unknown = set(launch.limits) - set(DEFAULT_LIMITS)
        if unknown:
            raise ValueError(f"unknown limits {sorted(unknown)}; known: {sorted(DEFAULT_LIMITS)}")
        image = launch.image
        if isinstance(image, str) and images.is_task(image):
            raise ValueError(
                f"{image!r} names a task image: pass images.TaskImage({image!r}, extras=(...)) so that its "
                "pip extras are installed (the task table has them: `agentrm-bench sandbox build TASK`)"
            )
        pythonpath, mounts, env = launch.pythonpath, launch.mounts, launch.env
        self.spec, self.kwargs = launch.spec, launch.kwargs
        self.limits = {**DEFAULT_LIMITS, **launch.limits}
        self.client = docker_client()
        cleanup.reap_containers(self.client)
        if image is None:
            self.image = images.ensure(self.client)
        elif isinstance(image, images.TaskImage):  # its package's docker/Dockerfile, on the service image
            self.image = images.ensure(self.client, image.name, extras=image.extras)
        else:
            self.image = _existing_image(self.client, str(image))
        self.dir = cleanup.private_dir()
        if os.getuid() == 0:  # never root inside: hand the socket directory to the image's sandbox user
            os.chown(self.dir, SANDBOX_UID, SANDBOX_UID)
            self.user = f"{SANDBOX_UID}:{SANDBOX_UID}"
        else:
            self.user = f"{os.getuid()}:{os.getgid()}"
        self.socket_path = str(self.dir / SOCKET_NAME)
        self.volumes = self._volumes(pythonpath, mounts)
        data_root = _data_root()
        self.environment = {
            "PYTHONPATH": os.pathsep.join([CODE_DIR, *pythonpath]),
            "HOME": "/tmp",
            "PYTHONDONTWRITEBYTECODE": "1",
            **({"AGENTRM_BENCH_DATA": str(data_root)} if data_root else {}),
            **(env or {}),
        }
        self.container: Any = None
        reaper.ensure(docker_host())

    def _volumes(self, pythonpath: tuple[str, ...], mounts: tuple[str, ...]) -> dict[str, dict[str, str]]:
        volumes = {
            str(self.dir): {"bind": SOCKET_DIR, "mode": "rw"},
            str(package_parent() / "agentrm_bench"): {"bind": f"{CODE_DIR}/agentrm_bench", "mode": "ro"},
        }
        data_root = _data_root()
        for path in [*([str(data_root)] if data_root else []), *pythonpath, *mounts]:
            if not os.path.exists(path):
                raise SandboxStartError(f"cannot mount {path} into the sandbox: it does not exist")
            volumes.setdefault(path, {"bind": path, "mode": "ro"})
        return volumes

    def launch(self) -> None:
        self.stop()
        Path(self.socket_path).unlink(missing_ok=True)
        socket_path = f"{SOCKET_DIR}/{SOCKET_NAME}"
        command = ["--service", self.spec, "--kwargs", json.dumps(self.kwargs), "--socket", socket_path]
        try:
            self.container = self.client.containers.run(
                self.image,
                command=command,
                entrypoint=ENTRYPOINT,
                name=f"agentrm-sbx-{cleanup.RUN_ID}-{next(_names)}",
                labels=cleanup.container_labels(self.spec),
                detach=True,
                init=True,  # an init as pid 1 forwards signals and reaps children
                user=self.user,
                working_dir="/tmp",
                network_mode="none",
                read_only=True,
                cap_drop=["ALL"],
                security_opt=["no-new-privileges"],
                mem_limit=self.limits["memory"],
                memswap_limit=self.limits["memory"],
                pids_limit=int(self.limits["pids"]),
                nano_cpus=int(float(self.limits["cpus"]) * 1e9),
                tmpfs={"/tmp": "rw,nosuid,nodev,size=256m"},
                volumes=self.volumes,
                environment=self.environment,
            )
        except Exception as exc:  # noqa: BLE001 - the engine refused the container: say so, with its reason
            raise SandboxStartError(f"Docker could not start a container from {self.image}: {exc}") from None

    def alive(self) -> bool:
        if self.container is None:
            return False
        try:
            self.container.reload()
        except Exception:  # noqa: BLE001 - removed (NotFound) or the engine is gone: not alive either way
            return False
        return self.container.status in ("created", "running")

    def describe_exit(self) -> str:
        if self.container is None:
            return "no container was started"
        try:
            self.container.reload()
            state = self.container.attrs.get("State", {})
            logs = self.container.logs(tail=40).decode("utf-8", "replace").strip()
        except Exception as exc:  # noqa: BLE001
            return f"the container {self.container.name} is gone ({type(exc).__name__})"
        what = f"the container {self.container.name} is {state.get('Status')}"
        if state.get("Status") != "running":
            what += f" (exit code {state.get('ExitCode')}"
            what += ", killed for exceeding its memory limit)" if state.get("OOMKilled") else ")"
        return what + (f"; its log ends:\n{logs[-1500:]}" if logs else "")

    def wait_exit(self, seconds: float) -> bool:
        if not self.alive():
            return True
        if seconds <= 0:
            return False
        try:
            self.container.wait(timeout=seconds)
        except Exception:  # noqa: BLE001 - a read timeout: still running
            return False
        return True

    def kill(self) -> None:
        if self.alive():
            self.container.kill()

    def stop(self) -> None:
        container, self.container = self.container, None
        if container is None:
            return
        try:
            container.remove(force=True)
        except Exception:  # noqa: BLE001 - already removed (by the reaper, or by hand)
            pass

    def destroy(self) -> None:
        self.stop()
        cleanup.remove_dir(self.dir)


def _existing_image(client: Any, image: str) -> str:
    try:
        client.images.get(image)
    except Exception as exc:  # noqa: BLE001
        raise SandboxStartError(f"the Docker image {image!r} is not there ({exc})") from None
    return image


def _data_root() -> Path | None:
    from .. import data

    root = data.data_root()
    return root if root.is_dir() else None
