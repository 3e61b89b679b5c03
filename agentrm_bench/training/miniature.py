"""The miniature AgentRM result, as one resumable script:
``python -m agentrm_bench.training.miniature --scale small|cpu|full --out DIR``.

Stages (each a folder under ``DIR``; a finished stage is skipped, an interrupted one resumes):

1. ``expert`` -- BabyAI expert trajectories on train seeds (never AgentBoard's test seeds);
2. ``policy`` -- the embedded SmolLM2-135M-Instruct fine-tuned on them (LoRA);
3. ``mcts`` -- MCTS with that policy on other train instances (values of states, outcomes of rollouts);
4. ``rm-explicit`` and ``rm-implicit`` -- the two reward models;
5. ``runs/<configuration>`` -- on BabyAI's test rows and on a held-out task the policy never saw (Maze):
   greedy, and Best-of-4 with the explicit RM, the implicit RM and ``judge:default``; oracle@4 is read
   from the Best-of-4 records (the best of the same four candidates);
6. ``table.md`` / ``table.json`` -- success and progress with standard errors, and every stage's cost.

Needs only torch, transformers, peft and this package (with gymnasium and minigrid); on a CUDA machine
training and generation use the GPU. ``small`` proves the pipeline on 2 CPU cores in well under an
hour; ``cpu`` runs the method end to end on 2 cores (28 expert rows, a declared subset of 8 test rows per
task, which the leaderboard ranks with its like): its training stages took ~70 min here, its evaluation
several hours more (it is generation-bound); ``full`` is the miniature of the issue (112 BabyAI test rows,
25 Maze rows), sized for a GPU.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from . import artifacts, chat_format, loop


@dataclass(frozen=True)
class Scale:
    expert_instances: int  # BabyAI train rows played by the expert (rows cycle through the 28 levels)
    sft: loop.Schedule
    mcts_instances: int  # train rows searched (after the expert's rows)
    simulations: int
    expansions: int
    mcts_max_turns: int
    rm: loop.Schedule
    eval_limit: int | None  # test rows per task (None: all)
    eval_max_turns: int | None  # None: each task's own budget
    n: int = 4
    max_length: int = 1024
    eval_subset: int | None = None  # a declared subset per task (submittable) instead of the first rows


SCALES = {
    "small": Scale(
        expert_instances=4,
        sft=loop.Schedule(epochs=1, batch_size=2, lr=3e-4, save_every=2),
        mcts_instances=1,
        simulations=2,
        expansions=2,
        mcts_max_turns=4,
        rm=loop.Schedule(epochs=1, batch_size=2, lr=1e-4, save_every=2),
        eval_limit=1,
        eval_max_turns=4,
    ),
    "cpu": Scale(  # the method end to end on 2 CPU cores, evaluated on a declared subset (hours, not minutes)
        expert_instances=28,  # one train row per level
        sft=loop.Schedule(epochs=2, batch_size=4, lr=3e-4, save_every=10),
        mcts_instances=4,
        simulations=3,
        expansions=2,
        mcts_max_turns=10,
        rm=loop.Schedule(epochs=2, batch_size=4, lr=1e-4, save_every=10),
        eval_limit=None,
        eval_max_turns=None,
        eval_subset=8,
    ),
    "full": Scale(
        expert_instances=560,
        sft=loop.Schedule(epochs=2, batch_size=8, lr=2e-4, save_every=50),
        mcts_instances=112,
        simulations=8,
        expansions=3,
        mcts_max_turns=20,
        rm=loop.Schedule(epochs=2, batch_size=8, lr=1e-4, save_every=50),
        eval_limit=None,
        eval_max_turns=None,
    ),
}
EVAL_TASKS = ("babyai", "maze")  # BabyAI: the training task's test rows; Maze: a task never trained on


def run(
    out: Path,
    scale: Scale,
    eval_tasks: tuple[str, ...] = EVAL_TASKS,
    show_progress: bool = True,
    table_only: bool = False,
) -> dict[str, Any]:
    """Every stage (finished ones are skipped), then the table; ``table_only`` tabulates the finished
    evaluation runs and starts none (the others are listed as pending)."""
    from . import collect_expert, collect_mcts, rm_explicit, rm_implicit, sft
    from .mcts import Settings

    out.mkdir(parents=True, exist_ok=True)
    costs: dict[str, Any] = {}

    def stage(name: str, work: Any) -> Any:
        started = time.perf_counter()
        print(f"== {name}", file=sys.stderr)
        result = work()
        costs[name] = round(time.perf_counter() - started, 1)
        return result

    history = chat_format.DEFAULT_HISTORY
    expert = stage(
        "expert",
        lambda: collect_expert.collect(
            ["babyai"], out / "expert", limit=scale.expert_instances, history=history, show_progress=show_progress
        ),
    )
    policy_dir = out / "policy"
    policy = stage(
        "policy", lambda: sft.train_policy(out / "expert", policy_dir, schedule=scale.sft, show_progress=show_progress)
    )
    settings = Settings(simulations=scale.simulations, expansions=scale.expansions)
    mcts = stage(
        "mcts",
        lambda: collect_mcts.collect(
            f"hf:{policy_dir}",
            ["babyai"],
            out / "mcts",
            skip=scale.expert_instances,  # states of instances the policy was not fine-tuned on
            limit=scale.mcts_instances,
            settings=settings,
            history=history,
            max_turns=scale.mcts_max_turns,
            show_progress=show_progress,
        ),
    )
    explicit = stage(
        "rm-explicit",
        lambda: rm_explicit.train_explicit(
            out / "mcts", out / "rm-explicit", schedule=scale.rm, show_progress=show_progress
        ),
    )
    implicit = stage(
        "rm-implicit",
        lambda: rm_implicit.train_implicit(
            out / "mcts", out / "rm-implicit", policy=f"hf:{policy_dir}", schedule=scale.rm, show_progress=show_progress
        ),
    )
    pending: list[str] = []
    rows = stage(
        "runs",
        lambda: evaluate(
            out, scale, eval_tasks, explicit, implicit, policy, show_progress, pending if table_only else None
        ),
    )
    summary = {
        "scale": {k: (v.to_json() if hasattr(v, "to_json") else v) for k, v in scale.__dict__.items()},
        "stage_seconds": costs,
        "expert": expert,
        "policy": {k: v for k, v in policy.items() if k != "training"} | {"training": _short(policy["training"])},
        "mcts": mcts,
        "rm_explicit": {k: v for k, v in explicit.items() if k != "training"}
        | {"training": _short(explicit["training"])},
        "rm_implicit": {k: v for k, v in implicit.items() if k != "training"}
        | {"training": _short(implicit["training"])},
        "results": rows,
        "pending": pending,
    }
    artifacts.write_json(out / "table.json", summary)
    artifacts.write_text(out / "table.md", markdown(summary))
    return summary


def _short(training: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in training.items() if k != "loss_history"}


def configurations(
    policy_dir: Path, explicit: dict[str, Any], implicit: dict[str, Any], scale: Scale
) -> dict[str, tuple[str, dict[str, Any]]]:
    """The evaluated policies: run name -> (policy, settings)."""
    base = {"model": f"hf:{policy_dir}", **chat_format.policy_args(chat_format.DEFAULT_HISTORY), "max_tokens": 48}
    bon = {**base, "n": scale.n, "temperature": 0.7}
    return {
        "greedy": ("greedy", base),
        "bon-explicit": ("best-of-n", {**bon, "rm": explicit["rm_spec"]}),
        "bon-implicit": ("best-of-n", {**bon, "rm": implicit["rm_spec"], "rm_options": implicit["rm_options"]}),
        "bon-judge": ("best-of-n", {**bon, "rm": "judge:default"}),
    }


def evaluate(
    out: Path,
    scale: Scale,
    eval_tasks: tuple[str, ...],
    explicit: dict[str, Any],
    implicit: dict[str, Any],
    policy: dict[str, Any],
    show_progress: bool,
    pending: list[str] | None = None,
) -> list[dict[str, Any]]:
    """One run per configuration (resumed where interrupted). With ``pending`` given, a configuration
    whose run has not finished is not started but named there."""
    from .. import harness
    from ..manifest import RunConfig
    from ..records import read_records

    rows = []
    for name, (policy_name, settings) in configurations(out / "policy", explicit, implicit, scale).items():
        config = RunConfig(
            policy=policy_name,
            policy_settings=settings,
            tasks=tuple(eval_tasks),
            limit=scale.eval_limit,
            subset=scale.eval_subset,
            max_turns=scale.eval_max_turns,
        )
        run_dir = out / "runs" / name  # one run per configuration, every task in it: one leaderboard submission
        if pending is not None:
            if not (run_dir / "scores.json").exists():  # written when a run has every episode
                pending.append(name)
                continue
        else:
            harness.run(config, run_dir, workers=0, show_progress=show_progress)
        records = read_records(run_dir)
        for task in eval_tasks:
            mine = [r for r in records if r.task == task]
            rows.append(summarize(name, task, mine, "chosen"))
            if name == "bon-explicit":
                rows.append(summarize(f"oracle@{scale.n}", task, mine, "oracle"))
    return rows


def summarize(name: str, task: str, records: list[Any], which: str) -> dict[str, Any]:
    """Success and progress means with standard errors (over episodes)."""
    if which == "oracle":
        success = [float(bool(r.extra.get("oracle_success"))) for r in records]
        progress = [r.extra.get("oracle_progress") for r in records]
    else:
        success = [float(r.success) for r in records]
        progress = [r.progress for r in records]
    progress = [float(p) for p in progress if p is not None]
    return {
        "run": name,
        "task": task,
        "episodes": len(records),
        "success": _mean_se(success),
        "progress": _mean_se(progress),
        "tokens_per_episode": round(sum(r.tokens for r in records) / len(records), 1) if records else None,
        "seconds_per_episode": round(sum(r.wall_time for r in records) / len(records), 1) if records else None,
    }


def _mean_se(values: list[float]) -> list[float] | None:
    if not values:
        return None
    mean = sum(values) / len(values)
    if len(values) < 2:
        return [round(mean, 4), 0.0]
    variance = sum((v - mean) ** 2 for v in values) / (len(values) - 1)
    return [round(mean, 4), round(math.sqrt(variance / len(values)), 4)]


def markdown(summary: dict[str, Any]) -> str:
    def cell(pair: list[float] | None) -> str:
        return "n/a" if pair is None else f"{100 * pair[0]:.1f} ± {100 * pair[1]:.1f}"

    lines = [
        "| task | policy | episodes | success % | progress % | tokens/ep | s/ep |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in summary["results"]:
        lines.append(
            f"| {row['task']} | {row['run']} | {row['episodes']} | {cell(row['success'])} | {cell(row['progress'])} | "
            f"{row['tokens_per_episode']} | {row['seconds_per_episode']} |"
        )
    policy, mcts = summary["policy"]["training"], summary["mcts"]
    ex, im = summary["rm_explicit"], summary["rm_implicit"]
    lines += [
        "",
        f"SFT: {policy['examples']} samples, {policy['examples_per_s']} samples/s, {policy['tokens_per_s']} tokens/s, "
        f"{policy['seconds_per_1000_examples']} s per 1,000 samples "
        f"({policy.get('cpu_seconds_per_1000_examples')} CPU-s), "
        f"loss {policy['loss_first']} -> {policy['loss_last']}.",
        f"MCTS: {mcts['instances']} instances, {mcts['nodes']} nodes, {mcts['nodes_per_s']} nodes/s "
        f"({mcts.get('nodes_per_cpu_s')} per CPU-s), "
        f"rollout success {mcts['outcome_success_rate']}.",
        f"Explicit RM: {ex['training']['seconds_this_run']} s ({ex['training'].get('cpu_seconds_this_run')} CPU-s); "
        f"held-out {ex['heldout']}.",
        f"Implicit RM: {im['training']['seconds_this_run']} s ({im['training'].get('cpu_seconds_this_run')} CPU-s); "
        f"held-out {im['heldout']}.",
        f"Seconds in this process, per stage (a finished stage is skipped): {summary['stage_seconds']}.",
    ]
    if summary.get("pending"):
        lines.append(f"Not finished yet (rerun without --table-only to resume): {', '.join(summary['pending'])}.")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m agentrm_bench.training.miniature", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--scale", choices=list(SCALES), default="small")
    parser.add_argument("--out", type=Path, help="output folder (default: results/miniature-SCALE)")
    parser.add_argument("--tasks", default=",".join(EVAL_TASKS), help="evaluation tasks (default: babyai,maze)")
    parser.add_argument("--eval-limit", type=int, help="test rows per task instead of the scale's")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument(
        "--table-only",
        action="store_true",
        help="write the table from the evaluation runs that have finished; start no run",
    )
    args = parser.parse_args(argv)
    scale = SCALES[args.scale]
    if args.eval_limit is not None:
        scale = replace(scale, eval_limit=args.eval_limit)
    out = args.out or Path("results") / f"miniature-{args.scale}"
    try:
        summary = run(
            out,
            scale,
            tuple(t for t in args.tasks.split(",") if t),
            show_progress=not args.no_progress,
            table_only=args.table_only,
        )
    except artifacts.TrainingError as exc:
        print(f"miniature: error: {exc}", file=sys.stderr)
        return 2
    print(markdown(summary))
    print(json.dumps({"table": str(out / "table.md")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
