"""``openai:URL``: any OpenAI-compatible chat-completions server (vLLM, llama.cpp, TGI, a hosted API).

Each conversation of a batch becomes one request, all sent concurrently (bounded by ``concurrency``), so
a server that batches internally sees every episode in flight at once. Several servers of one model
(``openai:URL1,URL2,...``, e.g. a vLLM server per GPU node) share the load: each request goes to the
server with the fewest requests in flight, so a slower server simply receives fewer. The API key comes from an
environment variable (``OPENAI_API_KEY`` by default) and is never logged or written to a manifest.
A server that is down or answers garbage raises :class:`LLMError`, which the harness records as an
episode error (retried on the next run), never as a score.

A server that answered earlier and stops answering -- killed, restarted, preempted -- is another matter:
its requests go to the other servers, or, when none answers, wait for one to come back (``wait_s``,
300 s by default; a vLLM server restarts in under a minute on a small model) and are asked again with
the same seed. Episodes in flight then lose nothing; one whose server is still gone after the wait
errors as above. A server never reached fails at once: a wrong URL is not waited for.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

from .base import LLM, Generation, LLMError, Message, ModelSpecError
from .weights import Weights


class OpenAILLM(LLM):
    name = "openai"

    def __init__(
        self,
        url: str,
        *,
        model: str | None = None,
        concurrency: int = 64,
        max_retries: int = 3,
        timeout_s: float = 600.0,
        api_key_env: str = "OPENAI_API_KEY",
        n_per_request: bool = True,
        wait_s: float = 300.0,
    ):
        urls = [part.strip().rstrip("/") for part in url.split(",")]
        for one in urls:
            if not one.startswith(("http://", "https://")):
                raise ModelSpecError(f"openai: takes server URLs such as http://127.0.0.1:8000/v1, got {one!r}")
        try:
            import openai
        except ImportError:
            raise ModelSpecError(
                "the openai backend needs the openai package: pip install 'agentrm-bench[openai]'"
            ) from None
        self.urls = urls
        self.url = ",".join(urls)  # as given: the settings of a run name every server
        self.model = model
        self.concurrency = concurrency
        self.max_retries = max_retries
        self.timeout_s = timeout_s
        self.api_key_env = api_key_env
        self.n_per_request = n_per_request  # False: send n separate requests (servers that ignore n)
        self.wait_s = wait_s  # how long a server that answered before and stopped answering is waited for
        self._openai = openai
        self._loop: Any = None  # the event loop the client below belongs to
        self._client_pair: tuple[list[Any], asyncio.Semaphore, asyncio.Lock] | None = None
        self._answered = [False] * len(urls)  # answered at least once: its silence is a restart, waited for
        self._down: set[int] = set()  # answered before, now not answering
        self.outages = 0  # times every server was found down (and waited for)
        self.load = [0] * len(urls)  # requests in flight per server
        self.served = [0] * len(urls)  # requests answered per server
        self.in_flight = 0
        self.max_in_flight = 0
        self.completion_tokens = 0
        self.requests = 0

    def settings(self) -> dict[str, Any]:
        return {"backend": "openai", "url": self.url, "model": self.model}

    def weights(self) -> Weights:
        return Weights(base_model=self.model)  # a server's weights are its own business: named, not hashed

    def _clients(self) -> tuple[list[Any], asyncio.Semaphore, asyncio.Lock]:
        """The HTTP clients (one per server) of the running event loop (a client cannot outlive its loop),
        the bound on requests in flight, and the lock of the one probe of servers that went down."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._client_pair is None:
            key = os.environ.get(self.api_key_env) or "not-needed"
            clients = [
                self._openai.AsyncOpenAI(
                    base_url=url, api_key=key, max_retries=self.max_retries, timeout=self.timeout_s
                )
                for url in self.urls
            ]
            self._loop, self._client_pair = loop, (clients, asyncio.Semaphore(self.concurrency), asyncio.Lock())
        return self._client_pair

    def _least_loaded(self) -> int:
        """The answering server with the fewest requests in flight (any server while none is known down)."""
        candidates = [i for i in range(len(self.urls)) if i not in self._down] or list(range(len(self.urls)))
        return min(candidates, key=lambda i: (self.load[i], self.served[i]))

    async def aclose(self) -> None:
        if self._client_pair is not None and self._loop is asyncio.get_running_loop():
            for client in self._client_pair[0]:
                await client.close()
        self._loop, self._client_pair = None, None

    async def _model_name(self, client: Any) -> str:
        if self.model is None:
            try:
                listing = await client.models.list()
                self.model = listing.data[0].id
                self._answered[0] = True
            except Exception as exc:  # noqa: BLE001 - any failure here means the server is unusable
                raise LLMError(
                    f"OpenAI-compatible server at {self.urls[0]} did not list its models: {_short(exc)}"
                ) from exc
        return self.model

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
        clients, semaphore, _ = self._clients()
        model = await self._model_name(clients[0])

        async def one(messages: Sequence[Message], count: int, seed: int | None) -> list[Generation]:
            request: dict[str, Any] = {
                "model": model,
                "messages": list(messages),
                "n": count,
                "temperature": temperature,
                "max_tokens": max_tokens,
            }
            if stop:
                request["stop"] = list(stop)[:4]  # the API allows four stop strings
            if seed is not None:
                request["seed"] = seed
            async with semaphore:
                response, server = await self._complete(request)
            choices = _parse(response, count, self.urls[server])
            if len(choices) < count:  # a server that ignores n (llama.cpp): ask for the rest one by one
                self.n_per_request = False
                more = await asyncio.gather(
                    *(one(messages, 1, None if seed is None else seed + j) for j in range(len(choices), count))
                )
                choices += [g for row in more for g in row]
            return choices

        jobs = []
        grouped = self.n_per_request or n == 1  # one request per conversation, or one per sample
        for i, messages in enumerate(messages_batch):
            seed = None if seeds is None else int(seeds[i])
            if grouped:
                jobs.append(one(messages, n, seed))
            else:
                jobs.extend(one(messages, 1, None if seed is None else seed + j) for j in range(n))
        answers = await asyncio.gather(*jobs)
        if not grouped:
            answers = [sum(answers[i * n : (i + 1) * n], []) for i in range(len(messages_batch))]
        for row in answers:
            if len(row) != n:
                raise LLMError(f"server at {self.url} returned {len(row)} choices for n={n} (set n_per_request=False)")
            self.completion_tokens += sum(g.tokens for g in row)
        self.requests += len(jobs)
        return answers

    async def _complete(self, request: dict[str, Any]) -> tuple[Any, int]:
        """One chat completion from the least-loaded server, and which server answered; a server that went
        away (see the module's doc) is marked down and the request asked again elsewhere or after it is back."""
        clients = self._clients()[0]
        deadline = time.monotonic() + self.wait_s
        while True:
            server = self._least_loaded()
            self.load[server] += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            try:
                response = await clients[server].chat.completions.create(**request)
                self._answered[server] = True
                return response, server
            except self._openai.APIConnectionError as exc:
                gone = self._answered[server] and not isinstance(exc, self._openai.APITimeoutError)
                if not gone or self.wait_s <= 0:
                    raise LLMError(f"OpenAI-compatible server at {self.urls[server]} failed: {_short(exc)}") from exc
                self._down.add(server)
            except (self._openai.APIError, ValueError) as exc:  # ValueError: a body that is not JSON
                raise LLMError(f"OpenAI-compatible server at {self.urls[server]} failed: {_short(exc)}") from exc
            finally:
                self.in_flight -= 1
                self.load[server] -= 1
                self.served[server] += 1
            if not await self._until_one_answers(deadline):
                raise LLMError(
                    f"OpenAI-compatible server at {self.url} stopped answering and did not answer again "
                    f"within {self.wait_s:g} s (wait_s)"
                )

    async def _until_one_answers(self, deadline: float) -> bool:
        """Whether some server answers (again) before ``deadline``; one probe loop at a time, every second."""
        clients, _, probing = self._clients()
        async with probing:  # the requests waiting behind this one find the servers already probed
            if len(self._down) == len(self.urls):
                self.outages += 1
                print(
                    f"note: the model server at {self.url} stopped answering; waiting up to {self.wait_s:g} s for "
                    "it to come back (the requests in flight are asked again)",
                    file=sys.stderr,
                )
            while len(self._down) == len(self.urls):
                for server in sorted(self._down):
                    try:
                        await clients[server].with_options(max_retries=0, timeout=5.0).models.list()
                        self._down.discard(server)
                    except Exception:  # noqa: BLE001 - still down, whatever it says
                        pass
                if len(self._down) < len(self.urls):
                    break
                if time.monotonic() >= deadline:
                    return False
                await asyncio.sleep(1.0)
        return True


def _parse(response: Any, count: int, url: str) -> list[Generation]:
    choices = getattr(response, "choices", None)
    if not isinstance(choices, list) or not choices:
        raise LLMError(f"server at {url} answered without choices: {str(response)[:200]!r}")
    usage = getattr(response, "usage", None)
    total = getattr(usage, "completion_tokens", None) if usage is not None else None
    out = []
    for choice in sorted(choices, key=lambda c: getattr(c, "index", 0)):
        message = getattr(choice, "message", None)
        text = getattr(message, "content", None)
        if not isinstance(text, str):
            raise LLMError(f"server at {url} answered a choice without text: {str(choice)[:200]!r}")
        tokens = (total // len(choices)) if isinstance(total, int) else max(1, len(text) // 4)
        reason = getattr(choice, "finish_reason", None) or "stop"
        out.append(Generation(text, tokens, "length" if reason == "length" else "stop"))
    return out


def _short(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) < 300 else text[:300] + "..."


def wait_until_up(url: str, timeout_s: float = 60.0) -> bool:
    """Poll ``URL/models`` until it answers (for scripts that start a server)."""
    import urllib.request

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url.rstrip("/") + "/models", timeout=2):
                return True
        except OSError:
            time.sleep(0.5)
    return False
