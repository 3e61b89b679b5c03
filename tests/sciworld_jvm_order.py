"""Measure how ScienceWorld's listing and menu order depends on the JVM's identity hash codes (not a test).

Which of two same-named objects the simulator lists or numbers first follows the JVM's identity hash
codes. This script plays the same action sequences (each AgentBoard problem's gold path cut at 30
turns, and separately the differential test's odd actions, whose ambiguity menus are answered by number),
under AgentBoard's loop rules, in fresh JVMs with different hash-code settings and different
histories (the order in which the 90 problems are played in one JVM, as AgentBoard plays them all in
one), and reports how often observations agree: between default JVMs (upstream's own variation), and
between each setting and the default. The numbers are in agentrm_bench/envs/sciworld/PROVENANCE.md.

    python -m tests.sciworld_jvm_order OUT_DIR        # ~2 h on 2 loaded cores; one JVM at a time

Needs scienceworld 1.1.3 and AgentBoard's annotations (AGENTRM_BENCH_DATA).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import subprocess
import sys
from pathlib import Path

SETTINGS = {
    "default": "",
    "hashCode=2": "-XX:+UnlockExperimentalVMOptions -XX:hashCode=2",
    "hashCode=3": "-XX:+UnlockExperimentalVMOptions -XX:hashCode=3",
}
# (setting, history) runs; each is a fresh JVM playing all 90 problems in the history's order.
RUNS = [
    ("default", "agentboard"),
    ("default", "reversed"),
    ("default", "shuffle-1"),
    ("default", "shuffle-2"),
    ("default", "agentboard-again"),
    ("hashCode=2", "agentboard"),
    ("hashCode=2", "reversed"),
    ("hashCode=2", "shuffle-1"),
    ("hashCode=3", "agentboard"),
    ("hashCode=3", "reversed"),
]
TURNS = 30
KINDS = ("gold", "odd")


def history(name: str) -> list[int]:
    order = list(range(90))
    if name.startswith("reversed"):
        return order[::-1]
    if name.startswith("shuffle"):
        random.Random(name).shuffle(order)
    return order


def gold_paths(out: Path) -> None:
    """Each problem's gold path, generated once (constant hash codes) and then fixed for every run."""
    from agentrm_bench.envs.sciworld.env import ScienceWorldEnv

    env = ScienceWorldEnv("test")
    paths = {}
    for index in range(env.num_instances):
        env.reset(options={"index": index})
        env.expert_action()  # generates (and checks) the gold path
        paths[index] = env._gold[env.instance(index)][:TURNS]
    env.close()
    out.write_text(json.dumps(paths))


def play(setting: str, order: str, paths_file: str, out: str, kind: str = "gold") -> None:
    """One fresh JVM: every problem in ``order``, its gold path (or the odd actions) under AgentBoard's loop."""
    import scienceworld

    from agentrm_bench.envs.sciworld import sets
    from tests.test_sciworld_differential import ODD_ACTIONS, AgentBoardLoop

    os.environ["JAVA_TOOL_OPTIONS"] = SETTINGS[setting]
    raw = scienceworld.ScienceWorldEnv("", envStepLimit=30)
    paths = json.loads(Path(paths_file).read_text())
    annotations = sets.agentboard_annotations()
    observations = {}
    for index in history(order):
        instance = sets.instances("test")[index]
        loop = AgentBoardLoop(raw, instance.task, instance.variation, annotations[index].subgoals)
        seen = [loop.first_observation]
        for action in paths[str(index)] if kind == "gold" else ODD_ACTIONS:
            seen.append(loop.step(action)[0])
            if loop.done:
                break
        observations[index] = seen
    Path(out).write_text(json.dumps(observations))
    os._exit(0)  # the JVM dies with this process


def share(pairs: list[tuple[dict, dict]], first_only: bool) -> str:
    """How often two runs print the same observation at the same step of the same problem."""
    agree = total = 0
    for a, b in pairs:
        for index in a:
            steps = list(zip(a[index], b[index], strict=False))[: 1 if first_only else None]
            total += len(steps)
            agree += sum(x == y for x, y in steps)
    return f"{agree / total:.2%} of {total}"


def output(out_dir: Path, kind: str, setting: str, order: str) -> Path:
    return out_dir / f"{'' if kind == 'gold' else kind + '--'}{setting}--{order}.json"


def summarize(out_dir: Path, kind: str) -> str:
    runs = {(s, h): json.loads(output(out_dir, kind, s, h).read_text()) for s, h in RUNS}
    by_setting = {setting: {h: r for (s, h), r in runs.items() if s == setting} for setting in SETTINGS}
    default = by_setting["default"]
    distinct = [h for h in default if not h.endswith("-again")]
    lines = [f"== {kind} sequences (first observations | every observation)"]

    def row(label: str, pairs: list[tuple[dict, dict]]) -> None:
        lines.append(f"  {label}: {share(pairs, True)} | {share(pairs, False)}")

    row("default, same history (fresh JVMs)", [(default["agentboard"], default["agentboard-again"])])
    row("default, different histories", [(default[a], default[b]) for a, b in itertools.combinations(distinct, 2)])
    for setting, mine in by_setting.items():
        if setting != "default":
            row(f"{setting} vs default", [(r, default[h]) for r in mine.values() for h in distinct])
            row(f"{setting} vs itself, different histories", list(itertools.combinations(mine.values(), 2)))
    first = [i for i in default["agentboard"] if len({default[h][i][0] for h in distinct}) > 1]
    anywhere = [i for i in default["agentboard"] if len({json.dumps(default[h][i]) for h in distinct}) > 1]
    lines.append(f"  problems whose first observation varies between default histories: {len(first)} of 90")
    lines.append(f"    {sorted(map(int, first))}")
    lines.append(f"  problems with any observation varying between default histories: {len(anywhere)} of 90")
    return "\n".join(lines)


def main(out_dir: str) -> None:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = out / "gold.json"
    if not paths.exists():
        gold_paths(paths)
    for kind in KINDS:
        for setting, order in RUNS:
            target = output(out, kind, setting, order)
            if not target.exists():
                call = f"play({setting!r}, {order!r}, {str(paths)!r}, {str(target)!r}, {kind!r})"
                subprocess.run([sys.executable, "-c", f"from tests.sciworld_jvm_order import play; {call}"], check=True)
    for kind in KINDS:
        print(summarize(out, kind))


if __name__ == "__main__":
    main(sys.argv[1])
