"""Run inside a venv with vLLM (``python -m tests.vllm_check MODEL_DIR``): agentrm-bench's ``vllm:`` backend
end to end, printing one JSON line of what it observed for tests/test_llm_vllm.py to judge.

A module of its own because vLLM's engine starts worker processes by spawn (the main-module guard) and
its packages clash with this project's venv.
"""

from __future__ import annotations

import json
import sys
import time


def main() -> None:
    from agentrm_bench.llm import make_llm

    llm = make_llm(f"vllm:{sys.argv[1]}", enforce_eager=True, max_model_len=4096)
    ask = [{"role": "user", "content": "The goal is at 8, 6; you are at 1, 1. Reply: Action: move <direction>"}]
    started = time.perf_counter()
    first = llm.generate([ask] * 4, n=2, temperature=0.7, max_tokens=12, seeds=[0, 1, 2, 3])
    seconds = time.perf_counter() - started
    again = llm.generate([ask] * 4, n=2, temperature=0.7, max_tokens=12, seeds=[0, 1, 2, 3])
    greedy = llm.generate([ask], n=1, temperature=0.0, max_tokens=12)
    scored = llm.logprobs([[*ask, {"role": "assistant", "content": "Action: move right"}]])
    report = {
        "shape": [len(row) for row in first],
        "texts": [g.text for row in first for g in row],
        "tokens": sum(g.tokens for row in first for g in row),
        "same_batch_again_equal": [[g.text for g in r] for r in first] == [[g.text for g in r] for r in again],
        "greedy": greedy[0][0].text,
        "logprobs": scored[0][-1],
        "settings": llm.settings(),
        "seconds": seconds,
    }
    print("VLLM_CHECK " + json.dumps(report))


if __name__ == "__main__":
    main()
