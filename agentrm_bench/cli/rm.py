"""The commands of reward models on frozen pools: ``rm eval`` (score a pool offline, resumable),
``rm submit`` (add the evaluation to the reward-model table) and ``plot best-of-k``. No environment runs:
a pool holds every candidate and sibling, so a reward model is compared on the same trajectories as
every other.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from .. import report, rewards
from ..pools import board as rm_board
from ..pools import store
from ..pools.evaluate import evaluate
from ..pools.tables import cost_line, eval_tables, pool_title
from .common import UsageError

EVAL_EXAMPLES = """examples:
  agentrm-bench rm eval --rm oracle --pool noisy-expert-v1
  agentrm-bench rm eval --rm judge:default --pool noisy-expert-maze --out results/judge-maze
  agentrm-bench rm eval --rm my_package.module:MyRM --pool noisy-expert-v1 --out results/my-rm"""


def add_commands(sub: Any) -> None:
    """Add ``rm`` (eval, submit) to the CLI's subcommands."""
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
