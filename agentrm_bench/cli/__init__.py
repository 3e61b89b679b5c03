"""``agentrm-bench``: list tasks, run a policy, report scores, manage upstream data.

Every user error (unknown task or policy, bad number, a run directory of another configuration) ends
in one line on stderr and exit status 2, before anything is written. This module assembles the parser
from one module per command family (:mod:`.run`, :mod:`.board`, :mod:`.training`, :mod:`.pools`,
:mod:`.rm`, :mod:`.data`) and holds that rule: which exceptions are the user's.
"""

from __future__ import annotations

import argparse
import sys

from .. import __version__, leaderboard, manifest
from .. import tasks as task_table
from ..data import DataFetchError, DataIntegrityError, DataMissingError
from ..executors.ray import RayUnavailableError
from ..pools.format import PoolError
from ..registry import UnknownPluginError
from ..sandbox.errors import SandboxError
from ..training.artifacts import TrainingError
from . import board, data, pools, rm, run, training
from .common import EXIT_USAGE, UsageError


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
        DataMissingError,
        DataFetchError,
        DataIntegrityError,
        leaderboard.SubmissionError,
        PoolError,  # a pool absent, corrupt or of another digest; an evaluation directory of another RM
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
    run.add_tasks(sub)
    run.add_run(sub)
    rm.add_plot(run.add_plot(sub))  # plot scaling, plot best-of-k
    run.add_report(sub)
    board.add_submit(sub)
    board.add_leaderboard(sub)
    training.add_commands(sub)  # collect expert|mcts, train policy|rm
    pools.add_commands(sub)  # pool build|list|rebuild
    rm.add_commands(sub)  # rm eval|submit
    data.add_data(sub)
    data.add_sandbox(sub)
    return parser


EXAMPLES = """examples:
  agentrm-bench tasks
  agentrm-bench run --policy expert --tasks maze,babyai --out results/expert
  agentrm-bench run --policy greedy --model hf:./my-llm --tasks held-out --out results/greedy
  agentrm-bench report results/greedy
  agentrm-bench submit results/greedy --name my-greedy && agentrm-bench leaderboard verify my-greedy
commands have their own --help (agentrm-bench run --help)."""
