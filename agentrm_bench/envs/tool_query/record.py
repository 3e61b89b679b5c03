"""Fill the weather / movie cassettes from the live APIs (needs network; movie needs ``MOVIE_KEY``).

    python -m agentrm_bench.envs.tool_query.record weather            # into $AGENTRM_BENCH_DATA/tool-query/cassettes/
    python -m agentrm_bench.envs.tool_query.record movie --out DIR    # into DIR/movie.json
    python -m agentrm_bench.envs.tool_query.record all

Runs the expert's reference path of every test row of the toolset with ``backend="record"``: each
request is answered from the cassette if already there, else by the live API, and the answer is added
to the cassette (saved after every new entry, atomically). The result is exactly the set of responses
the expert needs; an agent that asks something else later gets a "not recorded" tool error, unless you
record its runs too (``gym.make("agentrm/ToolQuery-v0", backend="record")`` in your own runs).
Prints per row how many of the expert's calls failed (an API error, or a reference that no longer
resolves because the live data changed), so drift is visible. Never prints the TMDB token.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .rows import HTTP_TOOLSETS, cassette_path


def record(toolset: str, out: Path | None = None, rows: Path | None = None) -> list[tuple[int, int, int]]:
    """Record the responses of ``toolset``'s rows (the test rows, or those of ``rows``).

    Returns (row id, calls made, calls that failed) per row.
    """
    from .env import ToolQueryEnv

    # In this process: recording needs the network anyway, so a sandbox would isolate nothing here.
    env = ToolQueryEnv(backend="record", cassette_dir=out, rows=rows, sandbox=None)
    outcome = []
    for index in range(env.num_instances):
        if env.toolset_of(index) != toolset:
            continue
        row = env.row(index)
        env.reset(options={"index": index})
        terminated = truncated = False
        while not (terminated or truncated):
            _, _, terminated, truncated, _ = env.step(env.expert_action())
        log = env.call_log()
        outcome.append((row.id, len(log), sum(not call["ok"] for call in log)))
    env.close()
    return outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m agentrm_bench.envs.tool_query.record", description=__doc__.split("\n")[0]
    )
    parser.add_argument("toolset", choices=[*HTTP_TOOLSETS, "all"])
    parser.add_argument("--out", type=Path, default=None, help="folder for <toolset>.json (default: the data folder)")
    args = parser.parse_args(argv)
    for toolset in HTTP_TOOLSETS if args.toolset == "all" else (args.toolset,):
        target = cassette_path(toolset, cassette_dir=args.out)
        print(f"{toolset}: recording into {target}")
        results = record(toolset, args.out)
        for row_id, calls, failed in results:
            print(f"  row {row_id:>4}: {calls} calls" + (f", {failed} failed: check this row" if failed else ""))
        print(f"{toolset}: {len(results)} rows recorded into {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
