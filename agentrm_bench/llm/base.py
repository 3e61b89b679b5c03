"""The one interface every model backend offers: batched, asynchronous chat generation.

Search strategies ask for many completions at once (N trajectories, W x K expansions) and the harness
keeps several episodes in flight, so the unit of work is a *batch* of chat requests, awaited as a
coroutine: an in-process backend (transformers, vLLM) turns concurrent batches into one forward pass,
a server backend (OpenAI-compatible) turns them into concurrent HTTP requests that the server batches.
"""

from __future__ import annotations

import asyncio
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from ..policies import PolicyConfigError
from .weights import Weights

Message = dict[str, str]  # {"role": "system" | "user" | "assistant", "content": str}
T = TypeVar("T")


class LLMError(RuntimeError):
    """A model backend failed at run time (server down, garbage answer, ...): the episode errors."""


class ModelSpecError(PolicyConfigError):
    """A model or reward-model spec is wrong (unknown prefix, missing path): a usage error, found early."""


class LogprobsUnsupportedError(LLMError):
    """The backend cannot give log-probabilities of a given continuation."""


@dataclass(frozen=True)
class Generation:
    """One sampled completion."""

    text: str
    tokens: int  # completion tokens
    finish_reason: str = "stop"  # "stop" (end of turn or stop string) or "length"


class LLM(ABC):
    """A chat model. Subclasses implement :meth:`agenerate` (and :meth:`alogprobs` where they can)."""

    name: str = "llm"
    supports_logprobs: bool = False

    def settings(self) -> dict[str, Any]:
        """What pins this model in a run manifest (the spec, never a secret)."""
        return {"backend": self.name}

    def weights(self) -> Weights | None:
        """Which weights this model runs (base model, parameter count, digest), when the backend can tell
        without loading them; reward models built on an LLM report it in their identity."""
        return None

    @property
    def context_length(self) -> int:
        """Prompt plus completion tokens the model accepts."""
        return 8192

    def count_tokens(self, messages: Sequence[Message]) -> int:
        """Tokens of ``messages`` as a prompt; an estimate (4 characters a token) unless the backend knows."""
        return sum(len(m["content"]) for m in messages) // 4 + 4 * len(messages)

    @abstractmethod
    async def agenerate(
        self,
        messages_batch: Sequence[Sequence[Message]],
        *,
        n: int = 1,
        temperature: float = 0.0,
        max_tokens: int = 256,
        stop: Sequence[str] | None = None,
        seeds: Sequence[int] | None = None,
    ) -> list[list[Generation]]:
        """``n`` completions for each conversation of ``messages_batch`` (the reply of the assistant).

        ``seeds`` (one per conversation) make sampling reproducible where the backend allows it, whatever
        else is batched with the request.
        """

    async def alogprobs(self, conversations: Sequence[Sequence[Message]]) -> list[list[list[float]]]:
        """For each conversation, the log-probability of every token of every assistant message, given
        everything before it (one list of floats per assistant message)."""
        raise LogprobsUnsupportedError(f"the {self.name} backend cannot score given text (log-probabilities)")

    def generate(self, messages_batch: Sequence[Sequence[Message]], **kwargs: Any) -> list[list[Generation]]:
        """Blocking :meth:`agenerate`, for scripts and tests."""
        return run_sync(self.agenerate(messages_batch, **kwargs))

    def logprobs(self, conversations: Sequence[Sequence[Message]]) -> list[list[list[float]]]:
        return run_sync(self.alogprobs(conversations))

    async def aclose(self) -> None:
        """Release what belongs to the running event loop (HTTP connections); called before it ends."""
        return None


def run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` to completion from synchronous code, even inside a running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    result: list[T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(coroutine))
        except BaseException as exc:  # noqa: BLE001 - handed back to the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return result[0]


class MicroBatcher:
    """Collects the rows that concurrent coroutines submit and runs them as one batch.

    ``run_batch`` is blocking (a forward pass); it runs on one dedicated thread so the event loop keeps
    serving other episodes. Rows arriving while a batch runs wait for the next one. A batcher belongs to
    the event loop that first used it and is rebuilt transparently for a new loop.

    A batch holds at most ``max_batch`` rows and, where ``row_cost`` is given, rows whose costs sum to at
    most ``max_cost`` (a first row costlier than that runs alone): a model's memory grows with the tokens
    of a batch, not with its rows, and sixteen 2,500-token judge prompts held 8 GB where sixteen
    agent turns hold well under one.
    """

    def __init__(
        self,
        run_batch: Callable[[list[Any]], list[Any]],
        max_batch: int = 32,
        window_s: float = 0.002,
        *,
        row_cost: Callable[[Any], int] | None = None,
        max_cost: int | None = None,
    ):
        self.run_batch = run_batch
        self.max_batch = max(1, max_batch)
        self.window_s = window_s
        self.row_cost = row_cost
        self.max_cost = max_cost
        self._carried: list[tuple[Any, asyncio.Future[Any]]] = []  # taken, but over the last batch's cost bound
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[tuple[Any, asyncio.Future[Any]]] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._lock = threading.Lock()  # one batch at a time across event loops (the model is shared)
        self.batches: list[int] = []  # sizes of the batches run, for measurements

    async def submit(self, rows: Sequence[Any]) -> list[Any]:
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._worker is None or self._worker.done():
            self._loop = loop
            self._queue = asyncio.Queue()
            self._carried = []
            self._worker = loop.create_task(self._serve())
        assert self._queue is not None
        futures = []
        for row in rows:
            future: asyncio.Future[Any] = loop.create_future()
            self._queue.put_nowait((row, future))
            futures.append(future)
        return list(await asyncio.gather(*futures))

    async def _serve(self) -> None:
        assert self._queue is not None
        queue = self._queue
        while True:
            if not self._carried:
                self._carried.append(await queue.get())
                if self.window_s:
                    await asyncio.sleep(self.window_s)  # let other episodes' rows arrive
            while not queue.empty():
                self._carried.append(queue.get_nowait())
            taken = self._take()
            live = [(row, fut) for row, fut in taken if not fut.cancelled()]
            if not live:
                continue
            try:
                results = await asyncio.to_thread(self._locked_run, [row for row, _ in live])
            except Exception as exc:  # noqa: BLE001 - every waiting request gets the error
                for _, fut in live:
                    if not fut.done():
                        fut.set_exception(exc)
                continue
            for (_, fut), res in zip(live, results, strict=True):
                if not fut.done():
                    fut.set_result(res)

    def _take(self) -> list[tuple[Any, asyncio.Future[Any]]]:
        """The next batch from the rows waiting, in arrival order, within both bounds."""
        cost, count = 0, 0
        for row, _ in self._carried:
            if count == self.max_batch:
                break
            if self.row_cost is not None and self.max_cost is not None:
                cost += self.row_cost(row)
                if count and cost > self.max_cost:
                    break
            count += 1
        taken, self._carried = self._carried[:count], self._carried[count:]
        return taken

    def _locked_run(self, rows: list[Any]) -> list[Any]:
        with self._lock:
            self.batches.append(len(rows))
            return self.run_batch(rows)
