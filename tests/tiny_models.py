"""Tiny transformers models built locally for tests (never downloaded).

A byte-level BPE tokenizer trained here on a few of our own prompt sentences, with a ChatML-style chat
template; a 2-layer Llama causal LM (two seeds: a "policy" and a "reference"); a 2-layer Llama
sequence classifier with one output (a value head). Saved as safetensors, like any real checkpoint.
"""

from __future__ import annotations

from pathlib import Path

import pytest

CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
SPECIALS = ["<|im_start|>", "<|im_end|>", "<pad>"]


def _corpus() -> list[str]:
    from agentrm_bench.envs.maze import env as maze
    from agentrm_bench.prompts.instructions import instruction

    lines = [instruction("maze"), instruction("babyai")]
    lines += [maze.describe(cell) for cell in maze.STARTS]
    lines += ["Thought: I should move.\nAction: move down", "Observation: Success", "Score: 7", "Task: reach"]
    return lines * 3


def build_tokenizer(folder: Path):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=SPECIALS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tok.train_from_iterator(_corpus(), trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<pad>", chat_template=CHAT_TEMPLATE
    )
    fast.save_pretrained(folder)
    return fast


def _config(tokenizer, **extra):
    from transformers import LlamaConfig

    return LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
        tie_word_embeddings=True,
        initializer_range=0.5,  # large random weights: varied (not constant) greedy outputs
        **extra,
    )


def build_causal_lm(folder: Path, seed: int = 0) -> Path:
    import torch
    from transformers import LlamaForCausalLM

    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tokenizer(folder)
    torch.manual_seed(seed)
    model = LlamaForCausalLM(_config(tokenizer))
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.save_pretrained(folder)
    return folder


def build_classifier(folder: Path, seed: int = 0) -> Path:
    import torch
    from transformers import LlamaForSequenceClassification

    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tokenizer(folder)
    torch.manual_seed(seed)
    model = LlamaForSequenceClassification(_config(tokenizer, num_labels=1))
    model.save_pretrained(folder)
    return folder


# ---------------------------------------------------------------------- pytest fixtures (import them)


@pytest.fixture(scope="session")
def tiny_lm(tmp_path_factory) -> Path:
    pytest.importorskip("transformers")
    return build_causal_lm(tmp_path_factory.mktemp("tiny-lm"), seed=0)


@pytest.fixture(scope="session")
def tiny_ref(tmp_path_factory) -> Path:
    pytest.importorskip("transformers")
    return build_causal_lm(tmp_path_factory.mktemp("tiny-ref"), seed=1)


@pytest.fixture(scope="session")
def tiny_rm(tmp_path_factory) -> Path:
    pytest.importorskip("transformers")
    return build_classifier(tmp_path_factory.mktemp("tiny-rm"), seed=2)


# ---------------------------------------------------------------------- AgentRM's released explicit RM layout
LLAMA3_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}<|start_header_id|>{{ message['role'] }}<|end_header_id|>\n\n"
    "{{ message['content'] | trim }}<|eot_id|>{% endfor %}"
    "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}"
)
LLAMA3_SPECIALS = ["<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]


def build_agentrm_explicit(folder: Path, seed: int = 3) -> Path:
    """A tiny reward model laid out like AgentRM's released explicit checkpoint (a Llama-3-8B-Instruct
    fine-tuned as a one-output regression head with alignment-handbook): ``LlamaForSequenceClassification``
    with ``num_labels=1`` and ``problem_type="regression"``, sharded safetensors with their index, a
    Llama-3 chat template whose tokenizer has no padding token of its own, and the trainer's leftovers
    (``training_args.bin``, a pickle, which must never be loaded: here it is not even a valid one)."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaForSequenceClassification, PreTrainedTokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=LLAMA3_SPECIALS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tok.train_from_iterator(_corpus(), trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<|begin_of_text|>", eos_token="<|eot_id|>", chat_template=LLAMA3_TEMPLATE
    )
    tokenizer.save_pretrained(folder)
    torch.manual_seed(seed)
    config = _config(tokenizer, num_labels=1, problem_type="regression")
    config.pad_token_id = None
    config.bos_token_id = tokenizer.bos_token_id
    LlamaForSequenceClassification(config).save_pretrained(folder, max_shard_size="60KB")
    (folder / "training_args.bin").write_bytes(b"not a pickle: loading it would fail")
    (folder / "trainer_state.json").write_text('{"global_step": 1}')
    return folder


@pytest.fixture(scope="session")
def agentrm_explicit(tmp_path_factory) -> Path:
    pytest.importorskip("transformers")
    return build_agentrm_explicit(tmp_path_factory.mktemp("agentrm-explicit"))
