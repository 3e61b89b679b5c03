"""Shrink a trained LoRA adapter to a lower rank: each module's update replaced by its best rank-k part.

Why: a LoRA update ``B @ A`` of rank r usually has most of its weight in a few directions, and the
adapters the miniature trains (r=16, 9.8 MB in bf16) are twice what the repository ships (5 MB each).
The truncated singular value decomposition of every update is the closest rank-k matrix to it (in the
Frobenius norm), so a shrunk adapter is the trained one minus its weakest directions, not a retrained
one; the share of the updates' energy it keeps is measured and written beside it (``shrink.json``).

``python -m agentrm_bench.training.shrink SRC DST --rank 8`` copies SRC's folder (tokenizer, base marker,
value head, manifest) to DST with the reduced weights and PEFT config. The scaling ``alpha / r`` is kept
by scaling ``lora_alpha`` with the rank, so the merged weights stay ``W + (alpha / r) * B @ A``.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from ..llm.adapters import ADAPTER_CONFIG, ADAPTER_WEIGHTS, is_adapter
from .artifacts import TrainingError, file_digest

RECORD = "shrink.json"


def low_rank(a: Any, b: Any, rank: int) -> tuple[Any, Any, float, float]:
    """(A', B', kept energy, total energy): ``B' @ A'`` is the best rank-``rank`` part of ``B @ A``.

    Computed from two small QR factorisations rather than the full out x in product: ``B @ A = Qb (Rb
    Ra^T) Qa^T``, so only the r x r core needs a singular value decomposition.
    """
    import torch

    a64, b64 = a.double(), b.double()
    qb, rb = torch.linalg.qr(b64)
    qa, ra = torch.linalg.qr(a64.T)
    u, s, vh = torch.linalg.svd(rb @ ra.T)
    root = s[:rank].sqrt()
    new_b = (qb @ u[:, :rank]) * root
    new_a = (root[:, None] * vh[:rank]) @ qa.T
    energy = s.square()
    kept, total = float(energy[:rank].sum()), float(energy.sum())
    return new_a.to(a.dtype).contiguous(), new_b.to(b.dtype).contiguous(), kept, total


def shrink_adapter(source: str | Path, target: str | Path, rank: int) -> dict[str, Any]:
    """Write ``source``'s adapter at ``rank`` into the new folder ``target``; returns what was kept."""
    from safetensors.torch import load_file, save_file

    source, target = Path(source), Path(target)
    if not is_adapter(source):
        raise TrainingError(f"{source} is not a LoRA adapter folder (no {ADAPTER_CONFIG})")
    if target.exists():
        raise TrainingError(f"{target} exists; give a new folder")
    config = json.loads((source / ADAPTER_CONFIG).read_text())
    old_rank = int(config["r"])
    if config.get("rank_pattern") or config.get("alpha_pattern"):
        raise TrainingError(f"{source}: per-module ranks (rank_pattern/alpha_pattern) are not supported")
    if not 1 <= rank < old_rank:
        raise TrainingError(f"--rank must be between 1 and the adapter's rank - 1 ({old_rank - 1}), got {rank}")
    weights = load_file(source / ADAPTER_WEIGHTS)
    kept = total = 0.0
    shrunk: dict[str, Any] = {}
    for name, tensor in weights.items():
        if ".lora_B." in name:
            continue
        if ".lora_A." not in name:
            shrunk[name] = tensor  # a value head or other saved module: unchanged
            continue
        partner = name.replace(".lora_A.", ".lora_B.")
        new_a, new_b, k, t = low_rank(tensor, weights[partner], rank)
        shrunk[name], shrunk[partner] = new_a, new_b
        kept, total = kept + k, total + t
    ratio = rank / old_rank
    config["r"] = rank
    config["lora_alpha"] = config["lora_alpha"] * (math.sqrt(ratio) if config.get("use_rslora") else ratio)
    record = {
        "source_rank": old_rank,
        "rank": rank,
        "kept_energy": round(kept / total, 4) if total else 1.0,
        "source_weights": file_digest(source / ADAPTER_WEIGHTS),
    }
    staging = Path(tempfile.mkdtemp(prefix=".shrink-", dir=target.parent))
    try:
        for path in source.iterdir():
            if path.is_file() and path.name not in (ADAPTER_WEIGHTS, ADAPTER_CONFIG):
                shutil.copy2(path, staging / path.name)
        save_file(shrunk, str(staging / ADAPTER_WEIGHTS), metadata={"format": "pt"})
        (staging / ADAPTER_CONFIG).write_text(json.dumps(config, indent=2) + "\n")
        record["bytes"] = (staging / ADAPTER_WEIGHTS).stat().st_size
        (staging / RECORD).write_text(json.dumps(record, indent=2) + "\n")
        for path in staging.iterdir():
            path.chmod(0o644)
        staging.chmod(0o755)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m agentrm_bench.training.shrink",
        description="Copy a LoRA adapter folder with every update cut to its best rank-K part (truncated SVD); "
        "prints the share of the updates' energy kept and the new size.",
    )
    parser.add_argument("source", help="an adapter folder written by agentrm-bench train policy / train rm")
    parser.add_argument("target", help="the new folder (must not exist)")
    parser.add_argument("--rank", type=int, required=True, help="the new LoRA rank, below the adapter's own")
    args = parser.parse_args(argv)
    Path(args.target).parent.mkdir(parents=True, exist_ok=True)
    try:
        record = shrink_adapter(args.source, args.target, args.rank)
    except TrainingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(record))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
