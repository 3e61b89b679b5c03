"""Tables of reward models on pools: one evaluation (``rm eval``) and the reward-model leaderboard.

Cells are the task's headline metric in percent (success for success tasks, progress for the others), as
in the policy tables. Every table of a synthetic pool says so in its title and in each row's pool cell,
and the two bounds are rows of their own: ``random`` (what a reward model that cannot tell candidates
apart scores, exactly) and ``oracle@N`` (the best candidate every time). An upper-bound "reward model"
(the oracle, which reads the environment's outcome) is marked ``[oracle]``.
"""

from __future__ import annotations

from typing import Any

from tabulate import tabulate

from .. import tasks as task_table
from ..report import FORMATS
from .metrics import headline, ks

BOUNDS_NOTE = (
    "random = the mean candidate (any reward model that cannot tell candidates apart scores exactly this); "
    "oracle@N = the best of the N candidates every time. Best-of-k is an exact expectation over all "
    "k-subsets of the N frozen candidates, ties broken uniformly. step: at sampled states, best = share of "
    "the reward model's top sibling that has the highest Monte Carlo value, pairs = sibling pairs ordered "
    "like their values (ties count half)."
)


def _pct(value: float | None) -> str:
    return "" if value is None else f"{100 * value:.1f}"


def size(parameters: int | None) -> str:
    if not parameters:
        return ""
    for unit, scale in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if parameters >= scale:
            return f"{parameters / scale:.1f}{unit}".replace(".0", "")
    return str(parameters)


def pool_title(pool: dict[str, Any], epsilon: list[float] | None = None) -> str:
    kind = "synthetic" if pool.get("synthetic") else "model candidates"
    noise = f", epsilon {'/'.join(str(e) for e in epsilon)}" if epsilon else ""
    return f"pool {pool['name']} ({kind}{noise}; N={pool.get('n')}; sha256 {pool['sha256'][:12]})"


def _label(rm: dict[str, Any], name: str) -> str:
    return f"{name} [oracle]" if rm.get("upper_bound") else name


def eval_tables(metrics: dict[str, Any], averages: dict[str, Any], n: int, fmt: str = "github") -> str:
    """Per split: each task's Best-of-k for every k, random and oracle@N, step-level accuracy."""
    sections = []
    for split in (task_table.HELD_IN, task_table.HELD_OUT):
        names = [s.name for s in task_table.table(split) if s.name in metrics]
        if not names:
            continue
        rows = []
        for task in names:
            entry = metrics[task]
            step = entry["step"]
            rows.append(
                [
                    f"{task} ({entry['headline'][0]})",
                    entry["n"],
                    *[_pct(headline(entry, "best_of_k", k)) for k in ks(n)],
                    _pct(headline(entry, "random")),
                    _pct(headline(entry, "oracle_at_k", n)),
                    f"{_pct(step['best_of_siblings'])} ({step['informative']}/{step['states']} states)",
                    f"{_pct(step['pairwise'])} ({step['pairs']} pairs)",
                ]
            )
        cell = averages[split]
        rows.append(
            [
                f"average ({cell['tasks']} tasks)",
                "",
                *([""] * (len(ks(n)) - 1)),
                _pct(cell["best_of_n"]),
                _pct(cell["random"]),
                _pct(cell["oracle_at_n"]),
                _pct(cell["best_of_siblings"]),
                _pct(cell["pairwise"]),
            ]
        )
        headers = ["task", "n", *[f"RM@{k}" for k in ks(n)], "random", f"oracle@{n}", "step best", "step pairs"]
        sections.append(f"{split}\n\n" + tabulate(rows, headers, tablefmt=FORMATS[fmt], disable_numparse=True))
    return "\n\n".join(sections)


def cost_line(cost: dict[str, Any]) -> str:
    tokens = ""
    if cost.get("tokens_in") or cost.get("tokens_out"):
        tokens = f", tokens in {cost.get('tokens_in', 0)} / out {cost.get('tokens_out', 0)}"
    per = cost["seconds"] / cost["trajectories"] if cost.get("trajectories") else 0.0
    return (
        f"cost: {cost.get('calls', 0)} calls, {cost.get('trajectories', 0)} trajectories, "
        f"{cost.get('seconds', 0):.1f} s ({1000 * per:.1f} ms a trajectory){tokens}"
    )


def board_tables(documents: list[dict[str, Any]], epsilons: dict[str, Any] | None = None, fmt: str = "github") -> str:
    """One table per pool: the rows that scored it, ranked by their Best-of-N average over the pool's tasks,
    and its random and oracle@N bounds."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    if not documents:
        return "(no reward-model rows)"
    by_pool: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for d in documents:
        by_pool.setdefault((d["pool"]["name"], d["pool"]["sha256"]), []).append(d)
    sections = []
    for (pool_name, _), rows in sorted(by_pool.items()):
        first = rows[0]
        tasks = [s.name for s in task_table.specs() if s.name in first["metrics"]]  # table order, not JSON's
        n = int(first["pool"]["n"])
        groups = {task_table.get(t).group for t in tasks}
        held = [s for s in (task_table.HELD_IN, task_table.HELD_OUT) if s in groups]
        mark = " (synthetic)" if first["pool"].get("synthetic") else ""
        body = []
        ranked = sorted(rows, key=lambda d: (-(d["averages"]["all"]["best_of_n"] or 0.0), d["name"]))
        for place, d in enumerate(ranked, start=1):
            rm, identity = d["reward_model"], d["reward_model"]["identity"]
            body.append(
                [
                    place,
                    _label(rm, d["name"]),
                    d["status"],
                    identity.get("name"),
                    identity.get("base_model") or "",
                    size(identity.get("parameters")),
                    pool_name + mark,
                    *[_pct(headline(d["metrics"][t], "best_of_k", n)) for t in tasks],
                    *[_pct(d["averages"][s]["best_of_n"]) for s in held],
                    _pct(d["averages"]["all"]["best_of_siblings"]),
                    _pct(d["averages"]["all"]["pairwise"]),
                    _cost_cell(d["cost"]),
                ]
            )
        for label, what, key in (("random", "random", "random"), (f"oracle@{n}", "oracle_at_k", "oracle_at_n")):
            body.append(
                [
                    "bound",
                    label,
                    "",
                    "",
                    "",
                    "",
                    pool_name + mark,
                    *[_pct(headline(first["metrics"][t], what, n)) for t in tasks],
                    *[_pct(first["averages"][s][key]) for s in held],
                    "",
                    "",
                    "",
                ]
            )
        headers = ["#", "name", "status", "reward model", "base model", "size", "pool"]
        headers += [f"{t} ({task_table.get(t).headline[0]})" for t in tasks] + held
        headers += ["step best", "step pairs", "cost"]
        title = pool_title(first["pool"], (epsilons or {}).get(pool_name))
        sections.append(
            f"{title}: Best-of-{n}\n\n" + tabulate(body, headers, tablefmt=FORMATS[fmt], disable_numparse=True)
        )
    sections.append(BOUNDS_NOTE + " cost = seconds in the reward model and trajectories scored, as submitted.")
    if any(d["reward_model"].get("upper_bound") for d in documents):
        sections.append("[oracle] = reads the environment's own outcome: an upper bound, not a reward model.")
    return "\n\n".join(sections)


def _cost_cell(cost: dict[str, Any]) -> str:
    return f"{cost.get('seconds', 0):.1f} s / {cost.get('trajectories', 0)} traj"


def readme(documents: list[dict[str, Any]], epsilons: dict[str, Any] | None = None) -> str:
    """``leaderboard/reward-models.md``, generated: never edit it by hand (a test checks it is fresh)."""
    parts = [
        "# Reward models on frozen candidate pools",
        "",
        "Generated by `agentrm-bench leaderboard readme` from `rm-submissions/*.json` (schema: "
        "`agentrm_bench/rm_submission.schema.json`). Do not edit by hand.",
        "",
        "Each row is a reward model's scores of every candidate of a frozen pool (`leaderboard/pools/`), "
        "recomputed into these numbers whenever the board is read; *verified* = `agentrm-bench leaderboard "
        "verify` loaded the reward model from its package and re-scored a sample to the same scores. "
        "Synthetic pools (candidates of a noisy expert, not of a language model) say so in every row.",
        "",
        board_tables(documents, epsilons, "github"),
    ]
    return "\n".join(parts) + "\n"
