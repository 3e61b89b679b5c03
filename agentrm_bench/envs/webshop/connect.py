"""Where the WebShop server runs: in this process, in a local subprocess or in a Docker container.

:func:`connect` returns an object with ``call(op, **payload) -> dict`` and ``close()`` -- the shape of
:class:`agentrm_bench.sandbox.Sandbox` -- so the environment never sees the transport:

- ``None``: :class:`InProcessShop`, the service object in this process (tests, debugging);
- ``"local"``: :func:`agentrm_bench.sandbox.start` with the local backend (a subprocess on a Unix socket);
  while the sandbox layer is not installed, the shop runs in-process instead;
- ``"docker"``: the same with the Docker backend, in the ``docker/Dockerfile`` image of this package
  (the service image plus the ``webshop`` extra). The container's filesystem is read-only, so the BM25 index is built
  on the host first and its cache folder mounted read-only (as is a catalogue folder outside the data
  root, which the sandbox always mounts).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from .catalogue import files_of
from .search import default_cache_dir
from .service import WebShopService, index_for

SERVICE = "agentrm_bench.envs.webshop.service:make_service"
SANDBOXES = ("local", "docker", None)
START_TIMEOUT = {"small": 300.0, "full": 3600.0}  # loading the 1.18M-product file takes minutes


class InProcessShop:
    """The sandbox's ``call(op, **payload)`` shape over a service in this process (``sandbox=None``)."""

    def __init__(self, service: WebShopService):
        self.service = service

    def call(self, op: str, **payload: Any) -> dict[str, Any]:
        return self.service.handle({"op": op, **payload})

    def close(self) -> None:
        pass


def connect(sandbox: str | None, service_kwargs: dict[str, Any]) -> Any:
    """A handle on a WebShop service built from ``service_kwargs`` (JSON-able) in the chosen place."""
    if sandbox not in SANDBOXES:
        raise ValueError(f"sandbox must be one of {SANDBOXES}, got {sandbox!r}")
    files_of(str(service_kwargs.get("catalogue", "small")))  # absent data: DataMissingError here, not in a server
    if sandbox is None or (sandbox == "local" and importlib.util.find_spec("agentrm_bench.sandbox") is None):
        return InProcessShop(WebShopService(**service_kwargs))
    from ... import sandbox as sandboxes

    catalogue = str(service_kwargs.get("catalogue", "small"))
    timeout = START_TIMEOUT.get(catalogue, START_TIMEOUT["small"])
    if sandbox == "local":
        return sandboxes.start(SERVICE, "local", service_kwargs=service_kwargs, start_timeout=timeout)
    from ...sandbox import images
    from ...sandbox.docker_backend import docker_client

    kwargs = dict(service_kwargs)
    cache = Path(kwargs.get("index_cache") or default_cache_dir()).resolve()
    kwargs["index_cache"] = str(cache)
    sizes = kwargs.get("split_sizes")
    index_for(catalogue, tuple(sizes) if sizes else None, str(cache))  # build on the host, where it can write
    _readable_by_all(cache)  # the container's unprivileged user reads the index through a read-only mount
    mounts = [str(cache)] + ([str(Path(catalogue).resolve())] if catalogue not in ("small", "full") else [])
    image = images.ensure(docker_client(), "webshop")
    return sandboxes.start(SERVICE, "docker", service_kwargs=kwargs, image=image, mounts=mounts, start_timeout=timeout)


def _readable_by_all(folder: Path) -> None:
    """Let other users read ``folder``'s tree (private temp folders are made 0700; the index holds no secret)."""
    folder.chmod(folder.stat().st_mode | 0o755)
    for path in folder.rglob("*"):
        path.chmod(path.stat().st_mode | (0o755 if path.is_dir() else 0o644))
