"""The one training loop of the policy and both reward models: seeded, resumable, measured.

Deliberately a plain PyTorch loop rather than a framework trainer: it needs only torch (it runs the
same on a bare GPU machine that has torch, transformers and peft), and what it does is short enough
to read. Examples are shuffled per epoch from the seed and grouped by length into batches (little
padding); AdamW with linear warm-up and decay; gradients clipped at 1. Every ``save_every`` optimizer
steps the trainable weights, the optimizer and the position are written to ``checkpoint/`` (written
beside it, then renamed into place), so a killed run resumes from its last checkpoint with the same
batches it would have seen.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from . import artifacts

CHECKPOINT = "checkpoint"


@dataclass(frozen=True)
class Schedule:
    epochs: float = 1.0
    batch_size: int = 4
    grad_accum: int = 1
    lr: float = 2e-4
    warmup: float = 0.05
    seed: int = 0
    save_every: int = 50  # optimizer steps between checkpoints

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def batches(lengths: Sequence[int], schedule: Schedule) -> list[list[int]]:
    """Every batch of every epoch, in order: per epoch a seeded shuffle, then chunks of 16 batches
    sorted by length (batches of similar lengths, little padding), then those batches shuffled."""
    rng = random.Random(schedule.seed)
    order: list[list[int]] = []
    whole = int(math.floor(schedule.epochs))
    for epoch in range(math.ceil(schedule.epochs)):
        ids = list(range(len(lengths)))
        rng.shuffle(ids)
        if epoch >= whole:  # a fractional last epoch
            ids = ids[: int(round((schedule.epochs - whole) * len(ids)))]
        chunk = schedule.batch_size * 16
        epoch_batches = []
        for start in range(0, len(ids), chunk):
            part = sorted(ids[start : start + chunk], key=lambda i: lengths[i])
            epoch_batches.extend(part[k : k + schedule.batch_size] for k in range(0, len(part), schedule.batch_size))
        rng.shuffle(epoch_batches)
        order.extend(epoch_batches)
    return order


def train(
    model: Any,
    examples: Sequence[Any],
    lengths: Sequence[int],
    loss_of: Callable[[Any, list[Any]], Any],
    out: Path,
    schedule: Schedule,
    *,
    desc: str = "train",
    show_progress: bool = True,
) -> dict[str, Any]:
    """Optimise ``model``'s trainable parameters on ``loss_of(model, batch)``; returns measured costs."""
    import torch

    if not examples:
        raise artifacts.TrainingError("no training examples")
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=schedule.lr, weight_decay=0.0)
    plan = batches(lengths, schedule)
    total_steps = max(1, math.ceil(len(plan) / schedule.grad_accum))
    warmup = max(1, int(schedule.warmup * total_steps))

    def rate(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, rate)
    step, start_batch, history = _resume(model, optimizer, scheduler, out / CHECKPOINT)
    model.train()
    bar = tqdm(total=len(plan), initial=start_batch, desc=desc, unit="batch", disable=not show_progress)
    started, cpu_started = time.perf_counter(), time.process_time()
    seen = tokens = 0
    window: list[float] = []
    try:
        for b in range(start_batch, len(plan)):
            batch = [examples[i] for i in plan[b]]
            torch.manual_seed(schedule.seed * 1_000_003 + b)  # dropout: the same with or without a resume
            loss = loss_of(model, batch)
            (loss / schedule.grad_accum).backward()
            window.append(float(loss.detach()))
            seen += len(batch)
            tokens += sum(lengths[i] for i in plan[b])
            if (b + 1) % schedule.grad_accum == 0 or b + 1 == len(plan):
                torch.nn.utils.clip_grad_norm_(params, 1.0)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                step += 1
                history.append(sum(window) / len(window))
                window = []
                if step % schedule.save_every == 0 and b + 1 < len(plan):
                    _checkpoint(model, optimizer, scheduler, step, b + 1, history, out / CHECKPOINT)
            bar.update(1)
            bar.set_postfix(loss=f"{history[-1] if history else float(loss):.4f}", refresh=False)
    finally:
        bar.close()
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started  # this process's CPU time: comparable on a busy machine
    model.eval()
    return {
        "examples": len(examples),
        "batches": len(plan),
        "optimizer_steps": step,
        "trained_examples_this_run": seen,
        "seconds_this_run": round(seconds, 2),
        "cpu_seconds_this_run": round(cpu_seconds, 2),
        "cpu_seconds_per_1000_examples": round(1000 * cpu_seconds / seen, 1) if seen else None,
        "examples_per_s": round(seen / seconds, 3) if seconds > 0 else None,
        "tokens_per_s": round(tokens / seconds, 1) if seconds > 0 else None,
        "seconds_per_1000_examples": round(1000 * seconds / seen, 1) if seen else None,
        "loss_first": round(history[0], 5) if history else None,
        "loss_last": round(sum(history[-10:]) / len(history[-10:]), 5) if history else None,
        "loss_history": [round(v, 5) for v in history],
    }


def _trainable_state(model: Any) -> dict[str, Any]:
    return {name: p.detach().clone() for name, p in model.named_parameters() if p.requires_grad}


def _checkpoint(
    model: Any, optimizer: Any, scheduler: Any, step: int, batch: int, history: list[float], folder: Path
) -> None:
    import torch

    scratch = artifacts.scratch_folder(folder)
    torch.save(
        {
            "weights": _trainable_state(model),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "step": step,
            "batch": batch,
            "history": history,
        },
        scratch / "state.pt",
    )
    artifacts.replace_folder(scratch, folder)


def _resume(model: Any, optimizer: Any, scheduler: Any, folder: Path) -> tuple[int, int, list[float]]:
    import torch

    path = folder / "state.pt"
    if not path.is_file():
        return 0, 0, []
    state = torch.load(path, weights_only=True)
    named = dict(model.named_parameters())
    with torch.no_grad():
        for name, value in state["weights"].items():
            named[name].copy_(value)
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    return int(state["step"]), int(state["batch"]), list(state["history"])


def drop_checkpoint(out: Path) -> None:
    import shutil

    shutil.rmtree(out / CHECKPOINT, ignore_errors=True)
