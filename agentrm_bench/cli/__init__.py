"""``agentrm-bench``: list tasks, run a policy, report scores, manage upstream data.

Every user error (unknown task or policy, bad number, a run directory of another configuration) ends
in one line on stderr and exit status 2, before anything is written.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from tabulate import tabulate

from .. import (
    __version__,
    costs,
    data,
    executors,
    harness,
    leaderboard,
    llm,
    manifest,
    policies,
    report,
    rewards,
    submission,
    trials,
)
from .. import tasks as task_table
from ..executors.ray import RayUnavailableError
from ..manifest import RunConfig
from ..pools.format import PoolError
from ..records import read_records
from ..registry import UnknownPluginError
from ..sandbox.errors import SandboxError
from ..search import strategy as strategies
from ..training.artifacts import TrainingError
from . import rm as cli_rm
from . import training as training_cli

EXIT_USAGE = 2


class UsageError(Exception):
    pass


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return args.handler(args)
    except (
        UsageError,
        task_table.UnknownTaskError,
        task_table.TaskUnavailableError,
        UnknownPluginError,  # unknown or broken policy, model, reward model, strategy (ModelSpecError too)
        manifest.RunDirectoryError,
        data.DataMissingError,
        data.DataFetchError,
        data.DataIntegrityError,
        leaderboard.SubmissionError,
        PoolError,  # a pool absent, corrupt or of another digest; an evaluation directory of another RM
        cli_rm.UsageError,
        RayUnavailableError,
        SandboxError,
        TrainingError,
    ) as exc:
        print(f"agentrm-bench: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("\ninterrupted: finished episodes are saved; rerun the same command to resume", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agentrm-bench",
        description="Evaluate LLM agents, optionally guided by reward models, on nine text-agent tasks.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")

    p = sub.add_parser("tasks", help="list the nine tasks and whether each can run here")
    p.add_argument("--format", choices=list(report.FORMATS), default="github")
    p.set_defaults(handler=_cmd_tasks)

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
        "--limit", type=_positive_int, help="run only the first N instances of each task (a trial: not submittable)"
    )
    p.add_argument(
        "--subset",
        type=_positive_int,
        metavar="N",
        help="a declared subset: the same fixed seeded N instances of each task for everyone; submittable, and "
        "ranked only with runs of the same subset",
    )
    p.add_argument("--seed", type=int, default=0, help="base seed of the per-episode seeds (default: 0)")
    p.add_argument(
        "--trials",
        type=_positive_int,
        default=1,
        help="play every instance T times (trial t: a run in OUT/trial-t with seed SEED+t-1); report shows "
        "the spread over trials",
    )
    p.add_argument(
        "--max-turns",
        type=_positive_int,
        help="turn budget for every task instead of each task's own (runs are then labelled as such)",
    )
    p.add_argument("--workers", type=_non_negative_int, help="worker processes (default: cores; 0 = in-process)")
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
    cli_rm.add_plot(plot_sub)

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

    p = sub.add_parser(
        "submit",
        help="check a run and add it to the leaderboard",
        description="Check RUN_DIR (complete test sets, no errored episodes, records consistent with the "
        "manifest, scores.json equal to the scores recomputed from the records) and write "
        "BOARD/submissions/NAME.json with the gzipped records beside it. Nothing is written on any problem.",
    )
    p.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    p.add_argument("--name", required=True, help="submission name (letters, digits, . _ -)")
    p.add_argument("--board", type=Path, default=Path("leaderboard"), help="leaderboard folder (default: leaderboard)")
    p.add_argument("--policy-model", help="the policy LLM as it should be shown (default: from the run)")
    p.add_argument(
        "--rm-kind",
        help=f"the reward model's kind as shown (default: from the run's reward-model identity; e.g. "
        f"{', '.join(rewards.names())} or none)",
    )
    p.add_argument("--rm-base", help="the reward model's base model")
    p.add_argument("--rm-link", help="where the reward model can be downloaded")
    p.add_argument("--tolerance", type=float, default=0.0, help="score tolerance for verification (default: 0)")
    p.add_argument("--replace", action="store_true", help="overwrite an existing submission of that name")
    p.set_defaults(handler=_cmd_submit)

    p = sub.add_parser("leaderboard", help="leaderboard tables; verify a submission; regenerate its README")
    p.add_argument("--board", type=Path, default=Path("leaderboard"), help="leaderboard folder (default: leaderboard)")
    p.add_argument("--format", choices=list(report.FORMATS), default="github")
    p.set_defaults(handler=_cmd_leaderboard)
    board_sub = p.add_subparsers(title="leaderboard commands", metavar="ACTION")
    # --board is accepted after the action too (leaderboard verify NAME --board B), not only before it.
    board = argparse.ArgumentParser(add_help=False)
    board.add_argument(
        "--board", type=Path, default=argparse.SUPPRESS, help="leaderboard folder (default: leaderboard)"
    )
    q = board_sub.add_parser(
        "verify",
        parents=[board],
        help="re-run a submission's pinned policy (a reward-model row: re-score a sample of its pool) and mark it "
        "verified if it agrees",
    )
    q.add_argument("name")
    q.add_argument("--fraction", type=float, default=1.0, help="re-run this fraction of its episodes (seeded)")
    q.add_argument("--seed", type=int, default=0, help="seed of the episode sample (default: 0)")
    q.add_argument("--tolerance", type=float, help="allowed score difference (default: the submission's)")
    q.add_argument("--workers", type=_non_negative_int, help="worker processes (default: cores)")
    q.add_argument("--check", action="store_true", help="only compare (exit 1 on disagreement); write nothing")
    q.add_argument("--no-progress", action="store_true", help="no progress bar")
    q.set_defaults(handler=_cmd_leaderboard_verify)
    q = board_sub.add_parser(
        "check",
        parents=[board],
        help="recompute every submission from its records and check its digests (what CI runs on a pull request)",
    )
    q.set_defaults(handler=_cmd_leaderboard_check)
    q = board_sub.add_parser("readme", parents=[board], help="write BOARD/README.md from the submissions")
    q.add_argument("--check", action="store_true", help="only check that README.md is up to date (exit 1 if not)")
    q.set_defaults(handler=_cmd_leaderboard_readme)

    training_cli.add_commands(sub, _positive_int, _non_negative_int)  # collect expert|mcts, train policy|rm
    cli_rm.add_commands(sub, _positive_int, _non_negative_int)  # pool build|list|rebuild, rm eval|submit

    p = sub.add_parser("data", help="upstream data: where it is and fetching it")
    data_sub = p.add_subparsers(title="data commands", metavar="ACTION")
    q = data_sub.add_parser("status", help="which declared upstream files are present")
    q.set_defaults(handler=_cmd_data_status)
    q = data_sub.add_parser("fetch", help=f"download and verify a task's files into ${data.ENV_VAR}")
    q.add_argument("tasks", nargs="+")
    q.add_argument("--force", action="store_true", help="download again even if present")
    q.set_defaults(handler=_cmd_data_fetch)

    p = sub.add_parser("sandbox", help="the Docker sandbox's images")
    q = p.add_subparsers(title="sandbox commands", metavar="ACTION").add_parser(
        "build", help="build the service image, and the named tasks' own images, where absent or out of date"
    )
    q.add_argument("tasks", nargs="*", help="tasks with an image of their own (e.g. webshop)")
    q.set_defaults(handler=_cmd_sandbox_build)
    return parser


EXAMPLES = """examples:
  agentrm-bench tasks
  agentrm-bench run --policy expert --tasks maze,babyai --out results/expert
  agentrm-bench run --policy greedy --model hf:./my-llm --tasks held-out --out results/greedy
  agentrm-bench report results/greedy
  agentrm-bench submit results/greedy --name my-greedy && agentrm-bench leaderboard verify my-greedy
commands have their own --help (agentrm-bench run --help)."""

RUN_EXAMPLES = """examples:
  agentrm-bench run --policy random --tasks held-out --out results/random --workers 2
  agentrm-bench run --policy best-of-n --model openai:http://127.0.0.1:8000/v1 --rm judge:default -n 4 \\
      --tasks maze --out results/bon
  agentrm-bench run --policy greedy --tasks sciworld --split test-eto --limit 20 --out results/sw-eto"""


def _split_values() -> str:
    return "; ".join(f"{s.name}: {', '.join(s.splits)}" for s in task_table.specs())


def _add_model_flags(p: argparse.ArgumentParser) -> None:
    """Settings of the LLM policies (greedy, best-of-n, beam, search); each goes into the policy settings."""
    g = p.add_argument_group("LLM policies (greedy, best-of-n, beam, search)")
    g.add_argument("--model", help=f"model: {' | '.join(llm.usages())} | package.module:attribute[:ARG]")
    g.add_argument("--rm", help=f"reward model: {' | '.join(rewards.usages())} | package.module:attribute[:ARG]")
    g.add_argument("-n", type=_positive_int, dest="n", help="best-of-n: trajectories sampled per episode")
    g.add_argument("--beam-width", type=_positive_int, help="beam: states kept per step")
    g.add_argument("--expansions", type=_positive_int, help="beam: actions sampled per kept state")
    g.add_argument("--temperature", type=float, help="sampling temperature")
    g.add_argument(
        "--in-flight", type=_positive_int, help="episodes kept in flight per process (their model calls batch)"
    )


_MODEL_FLAGS = ("model", "rm", "n", "beam_width", "expansions", "temperature")


def _positive_int(text: str) -> int:
    value = _non_negative_int(text)
    if value == 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {text!r}")
    return value


def _policy_settings(pairs: list[str]) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--policy-arg takes KEY=VALUE, got {pair!r}")
        try:
            settings[key] = json.loads(value)
        except json.JSONDecodeError:
            settings[key] = value
    return settings


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
            **_policy_settings(args.policy_arg),
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


def _cmd_data_status(args: argparse.Namespace) -> int:
    print(f"{data.ENV_VAR} = {data.data_root()}")
    print(tabulate(data.status(task_table.catalogue().values()), headers="keys", tablefmt="github"))
    return 0


def _cmd_data_fetch(args: argparse.Namespace) -> int:
    chosen = [task_table.data_set(key) for key in args.tasks]  # every name checked before any download
    for files in chosen:
        written = data.fetch(files, force=args.force)
        print(f"{files.task}: {len(written)} file(s) fetched into {data.folder(files)}")
    return 0


def _cmd_sandbox_build(args: argparse.Namespace) -> int:
    from ..sandbox import docker_backend, images

    wanted = []
    for spec in (task_table.get(name) for name in args.tasks):  # every name checked before any build
        if spec.image is None:
            raise UsageError(f"{spec.name} has no image of its own (its service runs in the generic one)")
        wanted.append(images.TaskImage(spec.image, (spec.extra,) if spec.extra else ()))
    images.build(docker_backend.docker_client(), wanted, log=sys.stdout)
    return 0


def _cmd_submit(args: argparse.Namespace) -> int:
    target = submission.submit(
        args.run_dir,
        args.name,
        board=args.board,
        replace=args.replace,
        policy_model=args.policy_model,
        rm_kind=args.rm_kind,
        rm_base=args.rm_base,
        rm_link=args.rm_link,
        tolerance=args.tolerance,
    )
    print(f"submitted: {target}  (verify: agentrm-bench leaderboard verify {args.name})")
    return 0


def _cmd_leaderboard(args: argparse.Namespace) -> int:
    print(leaderboard.tables(leaderboard.load_all(args.board), args.format))
    rm_tables = cli_rm.board_section(args.board, args.format)  # reward models on frozen pools, beside
    if rm_tables:
        print(f"\nreward models (offline, on frozen candidate pools)\n\n{rm_tables}")
    return 0


def _cmd_leaderboard_verify(args: argparse.Namespace) -> int:
    if cli_rm.rm_board.exists(args.board, args.name):  # a reward-model row: re-score, do not re-run
        return cli_rm.verify(args)
    result = submission.verify(
        args.board,
        args.name,
        fraction=args.fraction,
        seed=args.seed,
        tolerance=args.tolerance,
        workers=args.workers,
        show_progress=not args.no_progress,
        write=not args.check,
    )
    if result.agreed:
        print(f"{args.name}: {'agrees' if args.check else 'verified'} on {result.episodes} episode(s)")
        return 0
    print(f"{args.name}: NOT verified on {result.episodes} episode(s):", *result.differences, sep="\n  ")
    return 1


def _cmd_leaderboard_check(args: argparse.Namespace) -> int:
    bad = 0
    for document in leaderboard.load_all(args.board, check=False):
        problems = leaderboard.integrity(args.board, document)
        bad += bool(problems)
        print(f"{document['name']}: " + ("; ".join(problems) if problems else f"ok ({document['status']})"))
    bad += cli_rm.check(args.board)
    return 1 if bad else 0


def _cmd_leaderboard_readme(args: argparse.Namespace) -> int:
    pages = {
        args.board / "README.md": leaderboard.readme(leaderboard.load_all(args.board)),
        args.board / cli_rm.READMES: cli_rm.readme_text(args.board),
    }
    if args.check:
        stale = [path for path, text in pages.items() if not path.exists() or path.read_text() != text]
        for path in stale:
            print(f"{path} is stale: run `agentrm-bench leaderboard readme`", file=sys.stderr)
        if not stale:
            print(" and ".join(str(p) for p in pages) + " are up to date")
        return 1 if stale else 0
    for path, text in pages.items():
        path.write_text(text)
        print(f"wrote {path}")
    return 0
