"""``--executor local``: episodes in this process, or in a pool of worker processes on this machine.

Workers are forked from a forkserver that imported the run's modules once (:mod:`.processes`), never
from the driver: a child forked from the driver would inherit copies of its threads and open simulators
in whatever state they were. A pool lives for one run, so its workers' caches (:mod:`.worker`) do too;
the forkserver lives as long as the driver.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from ..episode import EpisodeRecord
from ..manifest import RunConfig
from . import processes, worker
from .worker import ATTEMPTS


def run_here(config: RunConfig, todo: list[tuple[str, int]], in_flight: int) -> Iterator[EpisodeRecord]:
    """Every episode in this process: one at a time, or ``in_flight`` at once as coroutines."""
    yield from worker.stream_chunk(config, todo, in_flight)


def run_in_pool(config: RunConfig, todo: list[tuple[str, int]], workers: int) -> Iterator[EpisodeRecord]:
    """Episodes in worker processes, in ``todo``'s order, a bounded number in flight (little is in the air on a
    kill).

    A worker process that dies (killed, out of memory) breaks the whole pool: every episode in flight
    then gets an error record and is queued again on a fresh pool, up to ``ATTEMPTS`` tries in this run.
    """
    context = processes.context(config)
    queue = deque(todo)
    attempts: Counter[tuple[str, int]] = Counter()
    while queue:
        pending: dict[Future[EpisodeRecord], tuple[str, int]] = {}
        pool = ProcessPoolExecutor(max_workers=min(workers, len(queue)), mp_context=context)
        lost: list[tuple[str, int]] = []
        try:
            while pending or queue:
                while queue and len(pending) < 2 * workers:
                    key = queue.popleft()
                    attempts[key] += 1
                    pending[pool.submit(worker.play_episode, config, *key)] = key
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in [f for f in pending if f in done]:  # in the order handed out, not the set's
                    key = pending.pop(future)
                    try:
                        yield future.result()
                    except BrokenProcessPool:
                        lost.append(key)
                if lost:  # the pool is unusable: what is still in flight is lost with it
                    lost.extend(pending.values())
                    pending.clear()
                    break
        finally:
            for future in pending:
                future.cancel()
            pool.shutdown(wait=not lost, cancel_futures=True)
        for task, index in lost:
            yield worker.lost_episode(config, task, index, "a worker process died (killed or out of memory) in flight")
        queue.extendleft(reversed([key for key in lost if attempts[key] < ATTEMPTS]))


def run_chunks_in_pool(
    config: RunConfig, todo: list[tuple[str, int]], workers: int, in_flight: int
) -> Iterator[EpisodeRecord]:
    """Chunks of ``in_flight`` episodes, one chunk at a time per worker process, each chunk as coroutines.

    Records come back a chunk at a time, in the order of the chunks.
    """
    chunks = [todo[i : i + in_flight] for i in range(0, len(todo), in_flight)]
    context = processes.context(config)
    with ProcessPoolExecutor(max_workers=min(workers, len(chunks)), mp_context=context) as pool:
        futures = [pool.submit(worker.play_chunk, config, chunk, in_flight) for chunk in chunks]
        try:
            for future in futures:
                yield from future.result()
        finally:
            for future in futures:
                future.cancel()
