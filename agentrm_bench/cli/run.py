"""The commands that play and read runs: ``tasks``, ``run`` (rerun to resume; ``--trials``), ``report``
and ``plot scaling``. A run's configuration is checked whole (tasks, split, settings) before anything is
written, so a bad command leaves no half-made run directory behind.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from tabulate import tabulate

from .. import costs, executors, harness, leaderboard, llm, manifest, policies, report, rewards, trials
from .. import tasks as task_table
from ..manifest import RunConfig
from ..records import read_records
from ..search import strategy as strategies
from .common import UsageError, key_values, non_negative_int, positive_int

RUN_EXAMPLES = """examples:
  agentrm-bench run --policy random --tasks held-out --out results/random --workers 2
  agentrm-bench run --policy best-of-n --model openai:http://127.0.0.1:8000/v1 --rm judge:default -n 4 \\
      --tasks maze --out results/bon
  agentrm-bench run --policy greedy --tasks sciworld --split test-eto --limit 20 --out results/sw-eto"""

_MODEL_FLAGS = ("model", "rm", "n", "beam_width", "expansions", "temperature")


def add_tasks(sub: Any) -> None:
    p = sub.add_parser("tasks", help="list the nine tasks and whether each can run here")
    p.add_argument("--format", choices=list(report.FORMATS), default="github")
    p.set_defaults(handler=_cmd_tasks)


def add_run(sub: Any) -> None:
    p = sub.add_parser(
        "run",
        help="run a policy on tasks, writing one record per episode (rerun to resume)",
        description="Run POLICY on every test instance of the chosen tasks. Records are appended to "
        "OUT/records.jsonl as episodes finish; rerunning the same command skips finished episodes and "
        "retries errored ones.",
        epilog=RUN_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--policy",
        required=True,
        help=f"policy name ({', '.join(policies.names())}) or package.module:attribute; the search policy takes "
        f"--policy-arg strategy=NAME ({', '.join(strategies.names())} or package.module:attribute)",
    )
    p.add_argument("--tasks", default="all", help="comma-separated short names, or all / held-in / held-out")
    p.add_argument("--out", type=Path, help="run directory (default: results/<policy>)")
    p.add_argument("--split", default="test", help=f"instance split (default: test); the tasks have: {_split_values()}")
    p.add_argument(
        "--limit", type=positive_int, help="run only the first N instances of each task (a trial: not submittable)"
    )
    p.add_argument(
        "--subset",
        type=positive_int,
        metavar="N",
        help="a declared subset: the same fixed seeded N instances of each task for everyone; submittable, and "
        "ranked only with runs of the same subset",
    )
    p.add_argument("--seed", type=int, default=0, help="base seed of the per-episode seeds (default: 0)")
    p.add_argument(
        "--trials",
        type=positive_int,
        default=1,
        help="play every instance T times (trial t: a run in OUT/trial-t with seed SEED+t-1); report shows "
        "the spread over trials",
    )
    p.add_argument(
        "--max-turns",
        type=positive_int,
        help="turn budget for every task instead of each task's own (runs are then labelled as such)",
    )
    p.add_argument("--workers", type=non_negative_int, help="worker processes (default: cores; 0 = in-process)")
    p.add_argument(
        "--executor",
        choices=executors.EXECUTORS,
        default="local",
        help="local: worker processes on this machine (default); ray: episodes as Ray tasks on a cluster "
        "(pip install 'agentrm-bench[ray]'; give model servers as --model openai:URL[,URL...])",
    )
    p.add_argument(
        "--ray-address",
        metavar="ADDR",
        help="the Ray cluster to join (HOST:PORT, or auto); default: the cluster of RAY_ADDRESS or one running "
        "on this machine, else a new local one for this run",
    )
    p.add_argument(
        "--sandbox",
        choices=["local", "docker"],
        help="where server tasks (WebShop, tools) run their service: a local process (default) or a Docker "
        "container; the records are the same, so a run may resume under the other",
    )
    p.add_argument(
        "--policy-arg",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a policy setting (repeatable); VALUE is parsed as JSON when it can be",
    )
    _add_model_flags(p)
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(handler=_cmd_run)


def add_plot(sub: Any) -> Any:
    """Add ``plot`` with ``plot scaling``; returns its subparsers, for the other plots to join."""
    p = sub.add_parser("plot", help="figures of runs: test-time scaling")
    plot_sub = p.add_subparsers(title="plots", metavar="PLOT")
    q = plot_sub.add_parser(
        "scaling",
        help="score against N (best-of-n) or beam width, with the oracle@N curve, per task and averaged",
    )
    q.add_argument("runs", nargs="+", type=Path, metavar="RUN_DIR")
    q.add_argument("--out", type=Path, default=Path("scaling"), help="output path without suffix (default: scaling)")
    q.add_argument("--metric", choices=["headline", "success", "progress"], default="headline")
    q.set_defaults(handler=_cmd_plot_scaling)
    return plot_sub


def add_report(sub: Any) -> None:
    p = sub.add_parser(
        "report",
        help="held-in / held-out tables of a run's records",
        description="Success and progress per task with standard errors, both split tables, and what the "
        "run does not cover (tasks not run, partial or errored episodes, why a value is n/a).",
    )
    p.add_argument("runs", nargs="+", type=Path, metavar="RUN_DIR", help="run directories (of agentrm-bench run)")
    p.add_argument(
        "--format",
        choices=list(report.FORMATS),
        default="github",
        help="github / markdown tables, or latex (compiles as is with booktabs)",
    )
    p.set_defaults(handler=_cmd_report)


def _split_values() -> str:
    return "; ".join(f"{s.name}: {', '.join(s.splits)}" for s in task_table.specs())


def _add_model_flags(p: argparse.ArgumentParser) -> None:
    """Settings of the LLM policies (greedy, best-of-n, beam, search); each goes into the policy settings."""
    g = p.add_argument_group("LLM policies (greedy, best-of-n, beam, search)")
    g.add_argument("--model", help=f"model: {' | '.join(llm.usages())} | package.module:attribute[:ARG]")
    g.add_argument("--rm", help=f"reward model: {' | '.join(rewards.usages())} | package.module:attribute[:ARG]")
    g.add_argument("-n", type=positive_int, dest="n", help="best-of-n: trajectories sampled per episode")
    g.add_argument("--beam-width", type=positive_int, help="beam: states kept per step")
    g.add_argument("--expansions", type=positive_int, help="beam: actions sampled per kept state")
    g.add_argument("--temperature", type=float, help="sampling temperature")
    g.add_argument(
        "--in-flight", type=positive_int, help="episodes kept in flight per process (their model calls batch)"
    )


def _cmd_tasks(args: argparse.Namespace) -> int:
    rows = []
    for spec in task_table.specs():
        ok, reason = task_table.availability(spec)
        ok = ok and task_table.runnable(spec)  # built and installed, and every instance has its data here
        expert_ok, expert_reason = task_table.expert_availability(spec)
        if ok and not expert_ok:
            reason += f"; its expert {expert_reason}"
        rows.append(
            [
                spec.id,
                spec.name,
                spec.group,
                spec.category,
                spec.headline,
                spec.test_size,
                spec.max_turns,
                spec.sandbox,
                f"{'yes' if ok else 'no'} ({reason})",
            ]
        )
    headers = ["id", "name", "group", "category", "metric", "test size", "max turns", "sandbox", "available"]
    print(tabulate(rows, headers=headers, tablefmt=report.FORMATS[args.format]))
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    chosen = task_table.select(args.tasks)
    lacking = [f"{s.name} ({', '.join(s.splits)})" for s in chosen if args.split not in s.splits]
    if lacking:
        raise UsageError(f"--split {args.split!r} is not a split of: {'; '.join(lacking)}")
    config = RunConfig(
        policy=args.policy,
        policy_settings={
            **key_values(args.policy_arg, "--policy-arg"),
            **{k: getattr(args, k) for k in _MODEL_FLAGS if getattr(args, k) is not None},
        },
        tasks=tuple(spec.name for spec in chosen),
        split=args.split,
        limit=args.limit,
        seed=args.seed,
        max_turns=args.max_turns,
        subset=args.subset,
        sandbox=args.sandbox,
    )
    if args.ray_address and args.executor != "ray":
        raise UsageError("--ray-address is for --executor ray")
    out = args.out or Path("results") / args.policy.replace(":", "_").replace("/", "_")
    options = {
        "workers": args.workers,
        "show_progress": not args.no_progress,
        "in_flight": args.in_flight,
        "executor": args.executor,
        "ray_address": args.ray_address,
    }
    if args.trials > 1:
        summaries = trials.run(config, out, args.trials, **options)
        for t, summary in enumerate(summaries, start=1):
            print(f"trial {t}: {harness.summary_line(summary)}")
        print(f"records: {out}/trial-*/records.jsonl   report: agentrm-bench report {out}")
        return 0 if all(s.errors == 0 for s in summaries) else 1
    summary = harness.run(config, out, **options)
    print(harness.summary_line(summary))
    print(f"records: {out / 'records.jsonl'}   report: agentrm-bench report {out}")
    return 0 if summary.errors == 0 else 1


def _cmd_plot_scaling(args: argparse.Namespace) -> int:
    from .. import plot

    try:
        written = plot.scaling(args.runs, args.out, metric=args.metric)
    except plot.PlotError as exc:
        raise UsageError(str(exc)) from exc
    print("wrote " + "  ".join(str(p) for p in written))
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    for run_dir in args.runs:
        if trials.is_trials(run_dir):  # several trials: their spread, and what an episode cost
            print(f"## {run_dir}: {len(trials.trial_dirs(run_dir))} trials\n\n{trials.table(run_dir, args.format)}")
            spent = costs.table([r for d in trials.trial_dirs(run_dir) for r in read_records(d)], args.format)
            if spent and args.format != "latex":
                print(f"\n{spent}")
            continue
        if not (run_dir / manifest.MANIFEST).exists():
            raise UsageError(f"{run_dir} is not a run directory (no {manifest.MANIFEST})")
        pinned = manifest.read(run_dir)
        config, settings = pinned.get("config", {}), pinned.get("policy_settings", {})
        if len(args.runs) > 1:
            print(f"## {run_dir}\n")
        header = f"policy: {config.get('policy')}"
        for key, label in (("model", "model"), ("rm", "reward model")):
            if settings.get(key):
                header += f"  {label}: {settings[key]}"
        print(f"{header}  split: {config.get('split')}\n")
        print(report.tables(report.score(read_records(run_dir)), args.format, report.coverage(run_dir)))
        spent = costs.table(read_records(run_dir), args.format)
        if spent and args.format != "latex":  # the LaTeX output stays one document that compiles
            print(f"\n{spent}")
        if settings.get("rm") == "oracle":
            print("\n" + leaderboard.ORACLE_NOTE.replace("[oracle] = the", "reward model oracle: the"))
    return 0
