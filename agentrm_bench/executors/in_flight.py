"""Many episodes in flight in one process, so that their model calls batch together.

Each episode is a coroutine with its own environment; while one waits for the model, the others step
their environments and submit their own requests, which the backend merges (one forward pass for an
in-process model, concurrent HTTP requests for a server). Records come out as episodes finish, in
whatever order that is; an episode that raises becomes an error record, exactly as one played alone
(:func:`.worker.play_episode`). The environments are made for the batch and closed at its end: a
simulator is not shared between coroutines, so the process's cached environments are not used.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import traceback
from collections.abc import Callable, Iterator

import gymnasium as gym

from ..episode import EpisodeRecord, aplay
from ..policies import Policy

_DONE = object()


def run_concurrently(
    policy: Policy,
    policy_name: str,
    episodes: list[tuple[str, int, int]],  # (task, index, seed)
    make_env: Callable[[str], gym.Env],
    in_flight: int,
) -> Iterator[EpisodeRecord]:
    """Play ``episodes`` with at most ``in_flight`` at a time; yield each record when it is done."""
    results: queue.Queue[object] = queue.Queue()

    async def main() -> None:
        pending = iter(episodes)
        free: dict[str, list[gym.Env]] = {}

        async def worker() -> None:
            for task, index, seed in pending:
                pool = free.setdefault(task, [])
                env = pool.pop() if pool else make_env(task)
                try:
                    record = await aplay(policy, env, policy_name=policy_name, task=task, index=index, seed=seed)
                    pool.append(env)
                except Exception:  # noqa: BLE001 - recorded and retried, never scored
                    record = EpisodeRecord(policy_name, task, index, seed, error=traceback.format_exc(limit=8))
                    _close(env)  # a crashed simulator is not reused
                results.put(record)

        try:
            await asyncio.gather(*(worker() for _ in range(max(1, in_flight))))
        finally:
            close = getattr(policy, "aclose", None)
            if close is not None:
                await close()
        for pool in free.values():
            for env in pool:
                _close(env)

    def target() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:  # noqa: BLE001 - handed to the consuming thread
            results.put(exc)
        results.put(_DONE)

    thread = threading.Thread(target=target, name="episodes-in-flight", daemon=True)
    thread.start()
    while True:
        item = results.get()
        if item is _DONE:
            break
        if isinstance(item, BaseException):
            raise item
        yield item  # type: ignore[misc]
    thread.join()


def _close(env: gym.Env) -> None:
    try:
        env.close()
    except Exception:  # noqa: BLE001 - closing a broken simulator must not hide the episode's own error
        pass
