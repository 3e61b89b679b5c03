"""``--executor ray``: a run's episodes as Ray tasks, on a cluster or on this machine.

Ray schedules, places and restarts workers; we only decide what one task is. A task plays one episode
(or, for a policy with episodes in flight, a chunk of them) in a Ray worker through
:func:`.worker.play_chunk`; the worker keeps its environments and policy between tasks (the per-process
caches of :mod:`.worker`), so sandboxes start on the worker that holds the episode. The task returns
the records; this driver process alone writes them, so resume, atomic appends and reports are exactly
those of a local run.

Each Ray worker of the run's job imports the run's modules as it starts (:mod:`.preload`, as Ray's
``worker_process_setup_hook``), while the driver is still planning, and tasks are submitted
longest-expected-first (:mod:`.schedule`), so that the long episodes do not start last.

A worker that dies mid-episode (killed, out of memory, node lost) fails its task. Ray is told not to
re-run it behind our back (``max_retries=0``): the driver writes an error record for every episode of
that task, which says what happened, and submits them again, up to ``ATTEMPTS`` times in this run. An
episode is written as finished once at most, because only a returned result is written.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Iterator, Sequence
from typing import Any

from .. import tasks as task_table
from ..episode import EpisodeRecord
from ..manifest import RunConfig
from . import worker
from .preload import VARIABLE as PRELOAD_VARIABLE
from .worker import ATTEMPTS

# The driver's settings that workers need (data folder, model cache, Docker socket, API key): a job's
# workers on a cluster do not share the driver's environment, so they travel in the job's runtime_env.
FORWARDED = ("AGENTRM_BENCH_DATA", "AGENTRM_BENCH_MODELS", "AGENTRM_DOCKER_HOST", "DOCKER_HOST", "OPENAI_API_KEY")


class RayUnavailableError(RuntimeError):
    """Ray is missing, cannot connect, or the cluster cannot host the run (said in one line)."""


def execute(config: RunConfig, todo: list[tuple[str, int]], in_flight: int = 1) -> Iterator[EpisodeRecord]:
    """Run ``todo`` on Ray and yield records as tasks finish (error records first for a dead worker).

    The cluster has already been joined (:func:`connect`) and its nodes checked (:func:`check_nodes`).
    """
    if not todo:
        return
    import ray

    size = max(1, in_flight)
    play = ray.remote(max_retries=0)(worker.play_chunk)
    attempts: dict[tuple[str, int], int] = {}
    running: dict[Any, list[tuple[str, int]]] = {}

    def submit(chunk: list[tuple[str, int]]) -> None:
        for key in chunk:
            attempts[key] = attempts.get(key, 0) + 1
        running[play.remote(config, chunk, size)] = chunk

    for start in range(0, len(todo), size):
        submit(todo[start : start + size])
    try:
        while running:
            done, _ = ray.wait(list(running), num_returns=1)
            chunk = running.pop(done[0])
            try:
                records = ray.get(done[0])
            except ray.exceptions.RayError as exc:  # the worker died or the task could not run
                detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                for task, index in chunk:
                    yield worker.lost_episode(config, task, index, f"Ray task failed: {type(exc).__name__}: {detail}")
                again = [key for key in chunk if attempts[key] < ATTEMPTS]
                if again:
                    submit(again)
                continue
            yield from records
    finally:
        for ref in running:  # an interrupted run leaves nothing computing on the cluster
            ray.cancel(ref, force=True)


def connect(address: str | None = None, preload: Sequence[str] = (), **init_kwargs: Any) -> Any:
    """Ray, initialised: joined to the cluster at ``address``, or a local one started for this run.

    A Ray already initialised in this process is used as it is. ``preload``: modules every worker of the
    job imports as it starts. ``init_kwargs`` go to ``ray.init`` (e.g. ``num_cpus`` for a local cluster).
    """
    try:
        import ray
    except ImportError:
        raise RayUnavailableError("the ray executor needs Ray: pip install 'agentrm-bench[ray]'") from None
    if address and address not in ("auto", "local") and "://" not in address:
        _check_reachable(address)  # Ray itself retries an unreachable address for minutes
    if ray.is_initialized():
        return ray
    env_vars = {name: os.environ[name] for name in FORWARDED if name in os.environ}
    # Workers import this package and the policy's module as the driver does (a policy given as
    # module:attr may live beside the driver, e.g. in tests/).
    path = [p for p in sys.path if p and os.path.isdir(p)]
    env_vars["PYTHONPATH"] = os.pathsep.join([os.getcwd(), *path])
    runtime_env: dict[str, Any] = {"env_vars": env_vars}
    if preload:
        env_vars[PRELOAD_VARIABLE] = ",".join(preload)
        runtime_env["worker_process_setup_hook"] = "agentrm_bench.executors.preload.from_environment"
    try:
        ray.init(
            address=address,
            runtime_env=runtime_env,
            include_dashboard=False,
            log_to_driver=False,
            configure_logging=False,
            **init_kwargs,
        )
    except Exception as exc:  # noqa: BLE001 - any failure to join means "no usable cluster"
        where = f"at {address}" if address else "on this machine"
        hint = ""
        if address and os.environ.get("RAY_AUTH_MODE") is None:
            # Ray sends its token (~/.ray/auth_token) to an address given explicitly only when asked to.
            hint = " (a cluster with token authentication, Ray's default, needs RAY_AUTH_MODE=token here)"
        raise RayUnavailableError(f"could not start or join a Ray cluster {where}: {exc}{hint}") from None
    return ray


def placement_notes(policy: Any) -> list[str]:
    """What a user should know about where the policy's models run under Ray (printed, never fatal)."""
    settings = policy.settings()
    notes = []
    model = settings.get("model")
    if isinstance(model, str) and not model.startswith(("openai:", "scripted")):
        notes.append(
            f"every Ray worker loads its own copy of the model {model!r}; serve it once per GPU node (vLLM) "
            "and pass --model openai:URL[,URL...] so that workers share the servers"
        )
    rm = settings.get("rm")
    if isinstance(rm, str) and rm != "oracle" and not rm.startswith("judge:openai:"):
        notes.append(f"every Ray worker loads its own copy of the reward model {rm!r}")
    return notes


def _check_reachable(address: str) -> None:
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise RayUnavailableError(f"--ray-address takes HOST:PORT (or auto), got {address!r}")
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except OSError as exc:
        raise RayUnavailableError(
            f"no Ray cluster answers at {address} ({exc}); start one with: ray start --head"
        ) from None


def check_nodes(ray: Any, config: RunConfig) -> None:
    """Refuse a Docker-sandboxed run unless every alive node has a Docker engine, naming those without."""
    servers = [name for name in config.tasks if task_table.get(name).sandbox == "server"]
    if config.sandbox != "docker" or not servers:
        return
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    probe = ray.remote(num_cpus=0, max_retries=0)(_docker_answer)
    nodes = [node for node in ray.nodes() if node.get("Alive")]
    answers = ray.get(
        [
            probe.options(scheduling_strategy=NodeAffinitySchedulingStrategy(node["NodeID"], soft=False)).remote()
            for node in nodes
        ]
    )
    missing = [
        f"{node['NodeManagerAddress']} ({answer})" for node, answer in zip(nodes, answers, strict=True) if answer
    ]
    if missing:
        raise RayUnavailableError(
            f"--sandbox docker needs a Docker engine on every Ray node ({', '.join(servers)} run there); "
            f"none answers on: {'; '.join(missing)}"
        )


def _docker_answer() -> str:
    """Empty when this node's Docker engine answers, else why not."""
    from ..sandbox.docker_backend import docker_client
    from ..sandbox.errors import SandboxError

    try:
        docker_client()
    except SandboxError as exc:
        return str(exc)
    return ""
