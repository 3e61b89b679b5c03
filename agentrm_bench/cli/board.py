"""The leaderboard's commands: ``submit`` a run, and ``leaderboard`` (show, ``verify``, ``check``,
``readme``) over both of its tables: the runs of policies, and the reward models scored offline on frozen
pools (:mod:`agentrm_bench.pools.board`), which every action covers beside the runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .. import leaderboard, report, rewards, submission
from ..leaderboard import SubmissionError
from ..pools import board as rm_board
from ..pools import store
from ..pools.format import PoolError
from ..pools.tables import readme
from .common import non_negative_int

RM_README = "reward-models.md"


def add_submit(sub: Any) -> None:
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


def add_leaderboard(sub: Any) -> None:
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
    q.add_argument("--workers", type=non_negative_int, help="worker processes (default: cores)")
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
    rm_tables = _rm_tables(args.board, args.format)  # reward models on frozen pools, beside
    if rm_tables:
        print(f"\nreward models (offline, on frozen candidate pools)\n\n{rm_tables}")
    return 0


def _cmd_leaderboard_verify(args: argparse.Namespace) -> int:
    if rm_board.exists(args.board, args.name):  # a reward-model row: re-score, do not re-run
        return _verify_rm_row(args)
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
    bad += _check_rm_rows(args.board)
    return 1 if bad else 0


def _cmd_leaderboard_readme(args: argparse.Namespace) -> int:
    pages = {
        args.board / "README.md": leaderboard.readme(leaderboard.load_all(args.board)),
        args.board / RM_README: rm_readme_text(args.board),
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


# ---------------------------------------------------------------------- the reward-model table's part
def pools_of(board: Path) -> Path:
    return Path(board) / "pools"


def _epsilons(board: Path) -> dict[str, Any]:
    out = {}
    for name in store.names(pools_of(board)):
        out[name] = store.load_descriptor(pools_of(board), name).get("epsilon")
    return out


def _rm_tables(board: Path, fmt: str) -> str | None:
    """The reward-model tables of ``board`` (None when it has no reward-model row)."""
    from ..pools.tables import board_tables

    try:
        documents = rm_board.load_all(board, pools_of(board))
    except PoolError as exc:
        raise SubmissionError(str(exc)) from exc
    if not documents:
        return None
    return board_tables(documents, _epsilons(board), fmt)


def _verify_rm_row(args: argparse.Namespace) -> int:
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


def _check_rm_rows(board: Path) -> int:
    """Print each reward-model row's integrity; the number of bad rows."""
    bad = 0
    for document in rm_board.load_all(board, pools_of(board), check=False):
        problems = rm_board.integrity(board, document, pools_of(board))
        bad += bool(problems)
        verdict = "; ".join(problems) if problems else f"ok ({document['status']})"
        print(f"{document['name']} (reward model): {verdict}")
    return bad


def rm_readme_text(board: Path) -> str:
    return readme(rm_board.load_all(board, pools_of(board)), _epsilons(board))
