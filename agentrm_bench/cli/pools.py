"""The commands of frozen candidate pools: ``pool build`` (a resumable run of the pool-building
policy, frozen into one file when every instance is played), ``pool list`` and ``pool rebuild`` (play a
named pool again from its descriptor; installed only if its digest agrees, so a committed pool stays the
pool everyone scores).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from tabulate import tabulate

from .. import executors, policies, report
from .. import tasks as task_table
from ..pools import store
from ..pools.build import BuildConfig, Built, build
from .common import UsageError, key_values, non_negative_int, positive_int

BUILD_EXAMPLES = """examples:
  agentrm-bench pool build --policy noisy-expert --epsilon 0.2,0.4,0.6,0.8 -n 8 --tasks maze \\
      --out builds/ne-maze --name noisy-expert-maze
  agentrm-bench pool build --policy greedy --model hf:./sft --temperature 0.7 -n 8 --tasks babyai \\
      --sample 40 --out builds/sft-babyai --name sft-babyai"""


def add_commands(sub: Any) -> None:
    """Add ``pool`` (build, list, rebuild) to the CLI's subcommands."""
    p = sub.add_parser(
        "pool",
        help="frozen candidate pools: build one (rerun to resume), list them, rebuild one by its descriptor",
    )
    pool_sub = p.add_subparsers(title="pool commands", metavar="ACTION")
    q = pool_sub.add_parser(
        "build",
        help="play N candidates per instance (and siblings with Monte Carlo values) and freeze them",
        description="Play N candidate trajectories per test instance with a pinned policy, and at sampled "
        "states along them K sibling next actions, each valued by rollouts from its state (snapshots). "
        "OUT holds a resumable run (rerun the same command to resume); when every instance is played the "
        "pool is written to OUT/pool.pool.jsonl.gz (and, with --name, installed under --pools).",
        epilog=BUILD_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    q.add_argument("--policy", required=True, help=f"the candidates' policy ({', '.join(policies.names())})")
    q.add_argument("--policy-arg", action="append", default=[], metavar="KEY=VALUE", help="a policy setting")
    q.add_argument(
        "--vary",
        action="append",
        default=[],
        metavar="KEY=V1,V2,...",
        help="candidate c plays with KEY = V[c mod len]: candidates of several settings in one pool",
    )
    q.add_argument("--epsilon", metavar="E1,E2,...", help="noisy-expert: the epsilons the candidates cycle through")
    q.add_argument("--model", help="model policies: the model spec (as for run)")
    q.add_argument("--temperature", type=float, help="model policies: the sampling temperature (above 0 for N > 1)")
    q.add_argument("-n", type=positive_int, default=8, help="candidates per instance (default: 8)")
    q.add_argument("--states", type=non_negative_int, default=2, help="states sampled per instance (default: 2)")
    q.add_argument("--siblings", type=positive_int, default=4, help="next actions per sampled state, K (default: 4)")
    q.add_argument("--rollouts", type=positive_int, default=2, help="rollouts per sibling for its value (default: 2)")
    q.add_argument("--tasks", default="all", help="comma-separated short names, or all / held-in / held-out")
    q.add_argument("--split", default="test")
    q.add_argument("--seed", type=int, default=0)
    q.add_argument("--limit", type=positive_int, help="the first N instances of each task")
    q.add_argument(
        "--sample", metavar="N|TASK=N,...", help="N instances of each task (or of each named task), drawn with the seed"
    )
    q.add_argument("--max-turns", type=positive_int)
    q.add_argument("--out", type=Path, required=True, help="build directory (a resumable run)")
    q.add_argument("--name", help="install the pool under --pools as NAME (descriptor NAME.json beside it)")
    q.add_argument("--pools", type=Path, default=store.DEFAULT_DIR, help="named pools (default: leaderboard/pools)")
    q.add_argument("--replace", action="store_true", help="let --name replace another pool of that name")
    q.add_argument("--workers", type=non_negative_int, help="worker processes (default: cores; 0 = in-process)")
    q.add_argument("--executor", choices=executors.EXECUTORS, default="local")
    q.add_argument("--ray-address", metavar="ADDR")
    q.add_argument("--no-progress", action="store_true")
    q.set_defaults(handler=_cmd_pool_build)
    q = pool_sub.add_parser("list", help="the named pools: digest, policy, candidates, tasks, size, present")
    q.add_argument("--pools", type=Path, default=store.DEFAULT_DIR)
    q.add_argument("--format", choices=list(report.FORMATS), default="github")
    q.set_defaults(handler=_cmd_pool_list)
    q = pool_sub.add_parser(
        "rebuild", help="play a named pool again from its descriptor; installed only if its digest agrees"
    )
    q.add_argument("name")
    q.add_argument("--pools", type=Path, default=store.DEFAULT_DIR)
    q.add_argument("--out", type=Path, help="build directory (default: POOLS/.build/NAME)")
    q.add_argument("--workers", type=non_negative_int)
    q.add_argument("--no-progress", action="store_true")
    q.set_defaults(handler=_cmd_pool_rebuild)


def _values(text: str) -> list[Any]:
    out = []
    for part in text.split(","):
        try:
            out.append(json.loads(part))
        except json.JSONDecodeError:
            out.append(part)
    return out


def _build_config(args: argparse.Namespace) -> BuildConfig:
    settings = key_values(args.policy_arg, "--policy-arg")
    for key in ("model", "temperature"):
        if getattr(args, key) is not None:
            settings[key] = getattr(args, key)
    vary = {key: _values(str(value)) for key, value in key_values(args.vary, "--vary").items()}
    if args.epsilon:
        if args.policy != "noisy-expert":
            raise UsageError("--epsilon is for --policy noisy-expert (use --vary KEY=V1,V2 for other policies)")
        vary["epsilon"] = _values(args.epsilon)
    if args.limit and args.sample:
        raise UsageError("give --limit or --sample, not both")
    sample = _sample(args.sample) if args.sample else None
    chosen = task_table.select(args.tasks)
    lacking = [s.name for s in chosen if args.split not in s.splits]
    if lacking:
        raise UsageError(f"--split {args.split!r} is not a split of: {', '.join(lacking)}")
    return BuildConfig(
        policy=args.policy,
        policy_settings=settings,
        tasks=tuple(s.name for s in chosen),
        n=args.n,
        states=args.states,
        siblings=args.siblings,
        rollouts=args.rollouts,
        vary=vary,
        split=args.split,
        seed=args.seed,
        limit=args.limit,
        sample=sample,
        max_turns=args.max_turns,
    )


def _sample(text: str) -> int | dict[str, int]:
    """``--sample 20`` or ``--sample maze=25,babyai=20``: positive counts, tasks by their short names."""
    try:
        if "=" not in text:
            counts: int | dict[str, int] = int(text)
            wanted = [counts]
        else:
            counts = {task_table.get(k).name: int(v) for k, _, v in (p.partition("=") for p in text.split(","))}
            wanted = list(counts.values())
    except ValueError:
        raise UsageError(f"--sample takes N or TASK=N,..., got {text!r}") from None
    if any(n < 1 for n in wanted):
        raise UsageError(f"--sample counts must be positive, got {text!r}")
    return counts


def _finish(built: Built | Any, out: Path, config: BuildConfig, name: str | None, pools: Path, replace: bool) -> int:
    if not isinstance(built, Built):
        print(f"{built.finished}/{built.total} instances played, {built.errors} errored: rerun the same command")
        return 1
    file = out / f"pool{store.SUFFIX}"
    file.write_bytes(built.blob)
    size = len(built.blob)
    print(f"pool: {file}  sha256 {built.sha256}  {size / 1024:.0f} KiB  ({_counts(built.header)})")
    if name:
        document = store.install(pools, name, built.blob, built.sha256, built.header, config, replace)
        print(f"installed as {name}: {store.pool_path(pools, name)} and {store.descriptor_path(pools, name)}")
        if not document["committed"]:
            print(
                f"note: {size / 1024:.0f} KiB is over the committed size budget ({store.BUDGET_BYTES // 1024} KiB): "
                f"commit {name}.json only; others run `agentrm-bench pool rebuild {name}`"
            )
    return 0


def _counts(header: dict[str, Any]) -> str:
    label = "synthetic" if header["synthetic"] else "model candidates"
    tasks = ", ".join(f"{t} {n}" for t, n in header["tasks"].items())
    return f"{label}; N={header['n']}; instances: {tasks}"


def _cmd_pool_build(args: argparse.Namespace) -> int:
    if args.name:
        store.check_name(args.name)
    config = _build_config(args)
    built = build(
        config,
        args.out,
        workers=args.workers,
        show_progress=not args.no_progress,
        executor=args.executor,
        ray_address=args.ray_address,
    )
    return _finish(built, args.out, config, args.name, args.pools, args.replace)


def _cmd_pool_rebuild(args: argparse.Namespace) -> int:
    document = store.load_descriptor(args.pools, args.name)
    config = BuildConfig.from_json(document["build"])
    out = args.out or args.pools / ".build" / args.name
    built = build(config, out, workers=args.workers, show_progress=not args.no_progress)
    if not isinstance(built, Built):
        return _finish(built, out, config, None, args.pools, False)
    if built.sha256 != document["sha256"]:
        print(
            f"{args.name}: the rebuild has sha256 {built.sha256}, the descriptor names {document['sha256']}: "
            f"NOT installed (the tasks, their data or the policy differ here; the build is in {out})",
            file=sys.stderr,
        )
        return 1
    store._atomic_write(store.pool_path(args.pools, args.name), built.blob)
    print(f"{args.name}: rebuilt with the descriptor's sha256 {built.sha256[:12]}; installed")
    return 0


def _cmd_pool_list(args: argparse.Namespace) -> int:
    rows = []
    for name in store.names(args.pools):
        d = store.load_descriptor(args.pools, name)
        here = store.pool_path(args.pools, name).is_file()
        rows.append(
            [
                name,
                d["sha256"][:12],
                "synthetic" if d.get("synthetic") else "model",
                d.get("policy"),
                "/".join(str(e) for e in d.get("epsilon") or []) or "",
                d.get("n"),
                ", ".join(f"{t} {n}" for t, n in (d.get("tasks") or {}).items()),
                f"{d.get('bytes', 0) / 1024:.0f} KiB",
                "yes" if here else "no (pool rebuild)",
            ]
        )
    headers = ["name", "sha256", "candidates", "policy", "epsilon", "N", "instances", "size", "here"]
    table = tabulate(rows, headers, tablefmt=report.FORMATS[args.format], disable_numparse=True)
    print(table if rows else "(no pools)")
    return 0
