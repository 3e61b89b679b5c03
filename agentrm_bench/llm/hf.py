"""``hf:PATH``: a transformers causal LM in this process, batched across all requests in flight.

Generation is our own short decoding loop over a key/value cache rather than ``model.generate``, for
one reason: every row of a batch samples with its *own* seeded generator, so an episode's samples do not
depend on which other episodes happened to share its batch (up to floating-point effects of padding).
Weights load from safetensors only; ``trust_remote_code`` stays off unless the user asks for it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .base import LLM, Generation, LLMError, Message, MicroBatcher, ModelSpecError
from .chat import assistant_token_positions, prompt_tokens, render
from .kv_prefix import PrefixCache, cache_layers, make_cache
from .threads import passive_threads
from .weights import Weights, folder_weights


def check_model_dir(path: str | Path) -> Path:
    """A local transformers model folder with safetensors weights, or a :class:`ModelSpecError`."""
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise ModelSpecError(f"model path {str(path)!r} is not a folder (hf: takes a local transformers model folder)")
    from .adapters import check_adapter, is_adapter

    if is_adapter(folder):  # a LoRA adapter over a base model (agentrm-bench train policy / train rm)
        check_adapter(folder)
        return folder
    if not (folder / "config.json").is_file():
        raise ModelSpecError(f"{folder} has no config.json: not a transformers model folder")
    if not any(folder.glob("*.safetensors")):
        raise ModelSpecError(f"{folder} has no *.safetensors weights (only safetensors are loaded, never pickles)")
    return folder


@dataclass
class _Score:
    messages: list[Message]


@dataclass
class _Row:
    prompt_ids: list[int]
    max_tokens: int
    temperature: float
    stop: tuple[str, ...]
    seed: int | None


def _row_tokens(row: _Row | _Score) -> int:
    """A row's share of a batch's memory: the tokens its keys and values will take."""
    return len(row.prompt_ids) + row.max_tokens if isinstance(row, _Row) else 0


class HFLLM(LLM):
    name = "hf"
    supports_logprobs = True

    def __init__(
        self,
        path: str | Path,
        *,
        trust_remote_code: bool = False,
        max_batch: int = 16,
        max_batch_tokens: int = 16384,
        dtype: str = "float32",
        label: str | None = None,
        prepare: Callable[[], Path] | None = None,
        prefix_cache_tokens: int = 32768,
        threads: int | None = None,
        identify: Callable[[], Weights] | None = None,
        device: str = "auto",
    ):
        # ``prepare`` makes the folder on first load (the embedded model converts its GGUF file then).
        self.path = Path(path) if prepare is not None else check_model_dir(path)
        self._prepare = prepare
        self._identify = identify  # how to name the weights before ``prepare`` made the folder
        self._prefix = PrefixCache(prefix_cache_tokens) if prefix_cache_tokens > 0 else None
        self.threads = threads
        self.trust_remote_code = trust_remote_code
        self.label = label or f"hf:{path}"
        self.dtype_name = dtype
        self.device_name = device  # auto: a CUDA device when there is one (the model moves there), else the CPU
        self._model: Any = None
        self._tokenizer: Any = None
        # Memory follows a batch's tokens (keys and values: ~46 KB a token for the embedded model in float32),
        # so batches are bounded by prompt + reply tokens as well as rows; scoring rows run one by one anyway.
        self._batcher = MicroBatcher(
            self._run_batch, max_batch=max_batch, row_cost=_row_tokens, max_cost=max_batch_tokens
        )
        self.generated_tokens = 0

    # ------------------------------------------------------------------ loading
    def settings(self) -> dict[str, Any]:
        return {"backend": "hf", "model": self.label, "dtype": self.dtype_name}

    def weights(self) -> Weights:
        return self._identify() if self._identify is not None else folder_weights(self.path)

    def load(self) -> None:
        if self._model is not None:
            return
        if self._prepare is not None:
            self.path = check_model_dir(self._prepare())
        passive_threads()
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        self._tokenizer = AutoTokenizer.from_pretrained(
            self.path, trust_remote_code=self.trust_remote_code, local_files_only=True
        )
        from .adapters import load_model

        self._model = load_model(
            AutoModelForCausalLM,
            self.path,
            trust_remote_code=self.trust_remote_code,
            dtype=getattr(torch, self.dtype_name),
        )
        self._model.eval()
        self._device = torch.device(
            "cuda"
            if self.device_name == "auto" and torch.cuda.is_available()
            else self.device_name.replace("auto", "cpu")
        )
        if self._device.type != "cpu":
            self._model.to(self._device)
        if self.threads:
            torch.set_num_threads(self.threads)
        parameters = inspect.signature(self._model.forward).parameters
        self._keep_arg = next((k for k in ("logits_to_keep", "num_logits_to_keep") if k in parameters), None)
        # transformers 5 renamed the cache argument; older releases call it past_key_values.
        self._cache_arg = "cache" if "cache" in parameters else "past_key_values"
        eos = self._model.generation_config.eos_token_id
        eos_ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
        if self._tokenizer.eos_token_id is not None:
            eos_ids.add(self._tokenizer.eos_token_id)
        self._eos = eos_ids
        self._pad = self._tokenizer.pad_token_id if self._tokenizer.pad_token_id is not None else min(eos_ids or {0})

    @property
    def tokenizer(self) -> Any:
        self.load()
        return self._tokenizer

    @property
    def model(self) -> Any:
        self.load()
        return self._model

    @property
    def context_length(self) -> int:
        config = self.model.config
        return int(getattr(config, "max_position_embeddings", 0) or 2048)

    def count_tokens(self, messages: Sequence[Message]) -> int:
        return prompt_tokens(self.tokenizer, messages)

    # ------------------------------------------------------------------ generation
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
        self.load()
        rows = []
        for i, messages in enumerate(messages_batch):
            prompt = render(self._tokenizer, messages, add_generation_prompt=True)
            ids = self._tokenizer(prompt, add_special_tokens=False)["input_ids"]
            if len(ids) + max_tokens > self.context_length:
                raise LLMError(
                    f"prompt of {len(ids)} tokens + {max_tokens} new ones exceeds the context of {self.context_length}"
                )
            for j in range(n):
                seed = None if seeds is None else int(seeds[i]) * 1009 + j
                rows.append(_Row(ids, max_tokens, temperature, tuple(stop or ()), seed))
        results = await self._batcher.submit(rows)
        return [results[i * n : (i + 1) * n] for i in range(len(messages_batch))]

    def _run_batch(self, rows: list[Any]) -> list[Any]:
        """Generation rows run as one batch; scoring requests (rarer, heavier) one by one."""
        out: list[Any] = [None] * len(rows)
        gen = [k for k, r in enumerate(rows) if isinstance(r, _Row)]
        if gen:
            for k, result in zip(gen, self._generate_rows([rows[k] for k in gen]), strict=True):
                out[k] = result
        for k, row in enumerate(rows):
            if isinstance(row, _Score):
                out[k] = self._score(row.messages)
        return out

    def _generate_rows(self, rows: list[_Row]) -> list[Generation]:
        import torch

        tok = self._tokenizer
        generators = []
        for row in rows:
            g = torch.Generator()
            g.manual_seed(row.seed if row.seed is not None else torch.seed() % (2**63))
            generators.append(g)
        produced: list[list[int]] = [[] for _ in rows]
        finish = ["length"] * len(rows)
        active = [r.max_tokens > 0 for r in rows]
        fed = 0  # decoding forward passes run after the prompt
        with torch.inference_mode():
            logits, cache, mask, step_positions, width = self._prefill(rows)
            for _ in range(max(r.max_tokens for r in rows)):
                chosen = torch.full((len(rows),), self._pad, dtype=torch.long)
                for k, row in enumerate(rows):
                    if not active[k]:
                        continue
                    if row.temperature <= 0:
                        token = int(torch.argmax(logits[k]))
                    else:
                        probs = torch.softmax(logits[k] / row.temperature, dim=-1)
                        token = int(torch.multinomial(probs, 1, generator=generators[k]))
                    chosen[k] = token
                    if token in self._eos:
                        active[k], finish[k] = False, "stop"
                        continue
                    produced[k].append(token)
                    if row.stop and _hits_stop(tok.decode(produced[k][-32:]), row.stop):
                        active[k], finish[k] = False, "stop"
                    elif len(produced[k]) >= row.max_tokens:
                        active[k] = False
                if not any(active):
                    break
                mask = torch.cat([mask, torch.ones((len(rows), 1), dtype=torch.long)], dim=1)
                logits, cache = self._forward(chosen[:, None], mask, step_positions, cache)
                step_positions = step_positions + 1
                fed += 1
        if self._prefix is not None:
            self._keep_prefixes(rows, produced, cache, width, fed)
        results = []
        for k, row in enumerate(rows):
            text = tok.decode(produced[k], skip_special_tokens=True)
            for marker in row.stop:
                if marker in text:
                    text = text[: text.index(marker)]
            self.generated_tokens += len(produced[k])
            results.append(Generation(text, len(produced[k]), finish[k]))
        return results

    def _forward(self, ids: Any, mask: Any, positions: Any, cache: Any) -> tuple[Any, Any]:
        kwargs = {self._keep_arg: 1} if self._keep_arg else {}
        kwargs[self._cache_arg] = cache
        device = self._device
        out = self._model(
            input_ids=ids.to(device),
            attention_mask=mask.to(device),
            position_ids=positions.to(device),
            use_cache=True,
            **kwargs,
        )
        cache = out.cache if getattr(out, "cache", None) is not None else getattr(out, "past_key_values", None)
        return out.logits[:, -1, :].float().cpu(), cache

    def _prefill(self, rows: list[_Row]) -> tuple[Any, Any, Any, Any, int]:
        """Run the prompts: (last logits, cache, attention mask, next positions, padded prompt width)."""
        import torch

        width = max(len(r.prompt_ids) for r in rows)
        if self._prefix is not None:
            try:
                return self._prefill_reusing(rows, width)
            except (AttributeError, TypeError, ImportError):  # a transformers cache without per-layer tensors
                self._prefix = None
        input_ids = torch.full((len(rows), width), self._pad, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for k, row in enumerate(rows):
            input_ids[k, width - len(row.prompt_ids) :] = torch.tensor(row.prompt_ids)
            mask[k, width - len(row.prompt_ids) :] = 1
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        logits, cache = self._forward(input_ids, mask, positions, make_cache(None))
        return logits, cache, mask, positions[:, -1:] + 1, width

    def _prefill_reusing(self, rows: list[_Row], width: int) -> tuple[Any, Any, Any, Any, int]:
        """Each prompt alone, from its longest cached prefix; then one left-padded cache for the batch."""
        import torch

        assert self._prefix is not None
        last = []
        batched: list[tuple[Any, Any]] = []  # per layer: the batch's keys, values (left-padded), filled row by row
        for k, row in enumerate(rows):
            start, kv = self._prefix.lookup(row.prompt_ids)
            ids = torch.tensor([row.prompt_ids[start:]])
            positions = torch.arange(start, len(row.prompt_ids))[None]
            mask = torch.ones((1, len(row.prompt_ids)), dtype=torch.long)
            logits, cache = self._forward(ids, mask, positions, make_cache(kv))
            last.append(logits[0])
            # Copied into the batch at once, so that no more than one row's cache is held twice.
            for layer, (keys, values) in enumerate(cache_layers(cache)):
                if layer == len(batched):
                    shape = (len(rows), keys.shape[1], width, keys.shape[3])
                    batched.append((keys.new_zeros(shape), values.new_zeros((*shape[:3], values.shape[3]))))
                batched[layer][0][k : k + 1, :, width - keys.shape[2] :] = keys
                batched[layer][1][k : k + 1, :, width - values.shape[2] :] = values
            del cache
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for k, row in enumerate(rows):
            mask[k, width - len(row.prompt_ids) :] = 1
        positions = torch.tensor([[len(row.prompt_ids)] for row in rows])
        return torch.stack(last), make_cache(batched), mask, positions, width

    def _keep_prefixes(self, rows: list[_Row], produced: list[list[int]], cache: Any, width: int, fed: int) -> None:
        """Leave each row's keys/values (prompt and the reply tokens fed back) for later turns."""
        assert self._prefix is not None
        try:
            layers = cache_layers(cache)
        except AttributeError:
            self._prefix = None
            return
        for k, row in enumerate(rows):
            used = min(len(produced[k]), fed)
            start, end = width - len(row.prompt_ids), width + used
            kv = [
                (keys[k : k + 1, :, start:end].clone(), values[k : k + 1, :, start:end].clone())
                for keys, values in layers
            ]
            self._prefix.store(row.prompt_ids + produced[k][:used], kv)

    # ------------------------------------------------------------------ scoring given text
    async def alogprobs(self, conversations: Sequence[Sequence[Message]]) -> list[list[list[float]]]:
        self.load()
        return await self._batcher.submit([_Score(list(c)) for c in conversations])

    def _score(self, messages: list[Message]) -> list[list[float]]:
        import torch

        ids, positions = assistant_token_positions(self._tokenizer, messages)
        wanted = sorted({p - 1 for group in positions for p in group})
        if not wanted:
            return [[] for _ in positions]
        with torch.inference_mode():
            index = torch.tensor(wanted)
            kwargs = {self._keep_arg: index.to(self._device)} if self._keep_arg == "logits_to_keep" else {}
            logits = self._model(input_ids=torch.tensor([ids]).to(self._device), **kwargs).logits[0].float().cpu()
            if not kwargs:
                logits = logits[index]
            logp = torch.log_softmax(logits, dim=-1)
        row_of = {p: k for k, p in enumerate(wanted)}
        return [[float(logp[row_of[p - 1], ids[p]]) for p in group] for group in positions]


def _hits_stop(tail: str, stops: tuple[str, ...]) -> bool:
    return any(marker in tail for marker in stops)
