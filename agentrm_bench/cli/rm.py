"""The commands of reward models on frozen pools: ``pool build|list|rebuild``, ``rm eval|submit``,
``plot best-of-k``, and the reward-model table's part in ``leaderboard`` (show, verify, check, readme).

Registered from :mod:`agentrm_bench.cli` (:func:`add_commands`); every user error (:class:`UsageError`,
:class:`~agentrm_bench.pools.format.PoolError`, a submission's problem) is one line on stderr and exit
status 2, before anything is written, as for the other commands.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tabulate import tabulate

from .. import executors, policies, report, rewards
from .. import tasks as task_table
from ..leaderboard import SubmissionError
from ..pools import board as rm_board
from ..pools import store
from ..pools.build import BuildConfig, Built, build
from ..pools.evaluate import evaluate
from ..pools.format import PoolError
from ..pools.tables import cost_line, eval_tables, pool_title, readme

READMES = "reward-models.md"


class UsageError(Exception):
    """A bad argument of these commands; the CLI prints it as one line (as it does PoolError)."""


def add_commands(sub: Any, positive: Callable[[str], int], non_negative: Callable[[str], int]) -> None:
    """Add ``pool`` and ``rm`` to the CLI's subcommands (``positive``/``non_negative``: its int parsers)."""
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
    q.add_argument("-n", type=positive, default=8, help="candidates per instance (default: 8)")
    q.add_argument("--states", type=non_negative, default=2, help="states sampled per instance (default: 2)")
    q.add_argument("--siblings", type=positive, default=4, help="next actions per sampled state, K (default: 4)")
    q.add_argument("--rollouts", type=positive, default=2, help="rollouts per sibling for its value (default: 2)")
    q.add_argument("--tasks", default="all", help="comma-separated short names, or all / held-in / held-out")
    q.add_argument("--split", default="test")
    q.add_argument("--seed", type=int, default=0)
    q.add_argument("--limit", type=positive, help="the first N instances of each task")
    q.add_argument(
        "--sample", metavar="N|TASK=N,...", help="N instances of each task (or of each named task), drawn with the seed"
    )
    q.add_argument("--max-turns", type=positive)
    q.add_argument("--out", type=Path, required=True, help="build directory (a resumable run)")
    q.add_argument("--name", help="install the pool under --pools as NAME (descriptor NAME.json beside it)")
    q.add_argument("--pools", type=Path, default=store.DEFAULT_DIR, help="named pools (default: leaderboard/pools)")
    q.add_argument("--replace", action="store_true", help="let --name replace another pool of that name")
    q.add_argument("--workers", type=non_negative, help="worker processes (default: cores; 0 = in-process)")
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
    q.add_argument("--workers", type=non_negative)
    q.add_argument("--no-progress", action="store_true")
    q.set_defaults(handler=_cmd_pool_rebuild)

    p = sub.add_parser("rm", help="reward models on frozen pools: evaluate offline, submit to the reward-model table")
    rm_sub = p.add_subparsers(title="rm commands", metavar="ACTION")
    q = rm_sub.add_parser(
        "eval",
        help="score a pool with a reward model, offline: Best-of-k vs random@k and oracle@k, step accuracy, cost",
        description="Score every candidate and sibling of a frozen pool (no environment runs). Scores are "
        "appended to OUT/scores.jsonl as instances finish: rerun the same command to resume.",
        epilog=EVAL_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    q.add_argument("--rm", required=True, help=f"reward model: {' | '.join(rewards.usages())} | package.module:attr")
    q.add_argument("--pool", required=True, help="a pool name (under --pools) or a pool file")
    q.add_argument("--pools", type=Path, default=store.DEFAULT_DIR)
    q.add_argument("--rm-options", default="{}", metavar="JSON", help="keyword options of the reward model")
    q.add_argument("--out", type=Path, help="evaluation directory (default: results/rm-<rm>-<pool>)")
    q.add_argument("--format", choices=list(report.FORMATS), default="github")
    q.add_argument("--no-progress", action="store_true")
    q.set_defaults(handler=_cmd_rm_eval)
    q = rm_sub.add_parser(
        "submit",
        help="add a finished evaluation to the reward-model table (its per-candidate scores, recomputed)",
    )
    q.add_argument("eval_dir", type=Path, metavar="EVAL_DIR")
    q.add_argument("--name", required=True, help="row name (letters, digits, . _ -)")
    q.add_argument("--board", type=Path, default=Path("leaderboard"))
    q.add_argument("--pools", type=Path, help="named pools (default: BOARD/pools)")
    q.add_argument("--link", help="where the reward model can be downloaded")
    q.add_argument("--tolerance", type=float, default=rm_board.DEFAULT_TOLERANCE, help="score tolerance for verify")
    q.add_argument("--replace", action="store_true")
    q.set_defaults(handler=_cmd_rm_submit)


def add_plot(plot_sub: Any) -> None:
    q = plot_sub.add_parser("best-of-k", help="Best-of-k curves of rm eval directories, with random and oracle@k")
    q.add_argument("runs", nargs="+", type=Path, metavar="EVAL_DIR")
    q.add_argument("--out", type=Path, default=Path("best-of-k"), help="output path without suffix")
    q.add_argument("--metric", choices=["headline", "success", "progress"], default="headline")
    q.set_defaults(handler=_cmd_plot_best_of_k)


BUILD_EXAMPLES = """examples:
  agentrm-bench pool build --policy noisy-expert --epsilon 0.2,0.4,0.6,0.8 -n 8 --tasks maze \\
      --out builds/ne-maze --name noisy-expert-maze
  agentrm-bench pool build --policy greedy --model hf:./sft --temperature 0.7 -n 8 --tasks babyai \\
      --sample 40 --out builds/sft-babyai --name sft-babyai"""

EVAL_EXAMPLES = """examples:
  agentrm-bench rm eval --rm oracle --pool noisy-expert-v1
  agentrm-bench rm eval --rm judge:default --pool noisy-expert-maze --out results/judge-maze
  agentrm-bench rm eval --rm my_package.module:MyRM --pool noisy-expert-v1 --out results/my-rm"""


def _pairs(pairs: list[str], flag: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"{flag} takes KEY=VALUE, got {pair!r}")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def _values(text: str) -> list[Any]:
    out = []
    for part in text.split(","):
        try:
            out.append(json.loads(part))
        except json.JSONDecodeError:
            out.append(part)
    return out


def _build_config(args: argparse.Namespace) -> BuildConfig:
    settings = _pairs(args.policy_arg, "--policy-arg")
    for key in ("model", "temperature"):
        if getattr(args, key) is not None:
            settings[key] = getattr(args, key)
    vary = {key: _values(str(value)) for key, value in _pairs(args.vary, "--vary").items()}
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


def _cmd_rm_eval(args: argparse.Namespace) -> int:
    try:
        options = json.loads(args.rm_options)
    except json.JSONDecodeError as exc:
        raise UsageError(f"--rm-options must be a JSON object: {exc.msg}") from None
    if not isinstance(options, dict):
        raise UsageError("--rm-options must be a JSON object")
    rewards.check_spec(args.rm)
    pool = store.open_pool(args.pool, args.pools)
    name = Path(args.pool).name.removesuffix(store.SUFFIX)
    out = args.out or Path("results") / f"rm-{args.rm.replace(':', '_').replace('/', '_')}-{name}"
    result = evaluate(pool, name, args.rm, out, options, show_progress=not args.no_progress)
    rm = result.pinned["rm"]
    identity = rm["identity"]
    base = f", {identity['base_model']}" if identity.get("base_model") else ""
    print(f"reward model: {args.rm} ({identity['name']}{base})")
    print(pool_title(result.pinned["pool"], pool.header.get("epsilon")) + "\n")
    print(eval_tables(result.metrics, result.averages, pool.n, args.format))
    print("\n" + cost_line(result.cost))
    if rm.get("upper_bound"):
        print("note: this reward model reads the environment's own outcome: an upper bound, not a reward model")
    print(f"\nscores: {out / 'scores.jsonl'}   submit: agentrm-bench rm submit {out} --name NAME")
    return 0


def _cmd_rm_submit(args: argparse.Namespace) -> int:
    pools = args.pools or args.board / "pools"
    target = rm_board.submit(
        args.eval_dir,
        args.name,
        args.board,
        pools,
        link=args.link,
        tolerance=args.tolerance,
        replace=args.replace,
    )
    print(f"submitted: {target}  (verify: agentrm-bench leaderboard verify {args.name})")
    return 0


def _cmd_plot_best_of_k(args: argparse.Namespace) -> int:
    from ..pools.plot import best_of_k

    written = best_of_k(args.runs, args.out, args.metric)
    print("wrote " + "  ".join(str(p) for p in written))
    return 0


# ---------------------------------------------------------------------- the leaderboard's part
def pools_of(board: Path) -> Path:
    return Path(board) / "pools"


def _epsilons(board: Path) -> dict[str, Any]:
    out = {}
    for name in store.names(pools_of(board)):
        out[name] = store.load_descriptor(pools_of(board), name).get("epsilon")
    return out


def board_section(board: Path, fmt: str) -> str | None:
    """The reward-model tables of ``board`` (None when it has no reward-model row)."""
    from ..pools.tables import board_tables

    try:
        documents = rm_board.load_all(board, pools_of(board))
    except PoolError as exc:
        raise SubmissionError(str(exc)) from exc
    if not documents:
        return None
    return board_tables(documents, _epsilons(board), fmt)


def verify(args: argparse.Namespace) -> int:
    result = rm_board.verify(
        args.board,
        args.name,
        pools_of(args.board),
        fraction=args.fraction,
        seed=args.seed,
        tolerance=args.tolerance,
        write=not args.check,
    )
    if result.agreed:
        print(f"{args.name}: {'agrees' if args.check else 'verified'} on {result.instances} instance(s)")
        return 0
    print(f"{args.name}: NOT verified on {result.instances} instance(s):", *result.differences, sep="\n  ")
    return 1


def check(board: Path) -> int:
    """Print each reward-model row's integrity; the number of bad rows."""
    bad = 0
    for document in rm_board.load_all(board, pools_of(board), check=False):
        problems = rm_board.integrity(board, document, pools_of(board))
        bad += bool(problems)
        verdict = "; ".join(problems) if problems else f"ok ({document['status']})"
        print(f"{document['name']} (reward model): {verdict}")
    return bad


def readme_text(board: Path) -> str:
    return readme(rm_board.load_all(board, pools_of(board)), _epsilons(board))
