"""Score regression: fixed-seed runs of `random` and `expert` on a pinned subset of every available task.

Each episode's outcome (success, progress, turns and a digest of its actions and observations) is
compared with the golden file of its task; any change fails with the list of episodes that changed.
After an intended change, regenerate with ``AGENTRM_UPDATE_GOLDEN=1 pytest tests/test_score_regression.py``
and commit the diff of ``tests/golden/scores/``.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from agentrm_bench import data, harness
from agentrm_bench import tasks as task_table
from agentrm_bench.executors import worker
from agentrm_bench.manifest import RunConfig
from agentrm_bench.records import read_records

GOLDEN = Path(__file__).parent / "golden" / "scores"
POLICIES = ("expert", "random")
SEED = 1234
UPDATE = os.environ.get("AGENTRM_UPDATE_GOLDEN") == "1"


def pinned_indices(count: int) -> list[int]:
    """First, middle and last instance: spread over the set, cheap enough for every CI run."""
    return sorted({0, count // 2, count - 1})


def fresh_environments() -> None:
    """Close the environments cached in this process: each task starts from a new simulator, so
    its outcome does not depend on what earlier tests did with it (ScienceWorld's gold paths do)."""
    worker.close_envs()


def outcomes(task: str, tmp_path: Path) -> dict[str, dict]:
    fresh_environments()
    rows: dict[str, dict] = {}
    for policy in POLICIES:
        config = RunConfig(policy=policy, tasks=(task,), seed=SEED)
        planned = harness.plan(config)
        subset = [(task, i) for i in pinned_indices(len(planned))]
        out = tmp_path / policy
        harness.run(config, out, workers=0, show_progress=False, only=subset)
        for record in sorted(read_records(out), key=lambda r: r.index):
            digest = hashlib.sha256(json.dumps([record.actions, record.observations]).encode()).hexdigest()[:16]
            rows[f"{policy}/{record.index}"] = {
                "success": record.success,
                "progress": record.progress,
                "turns": record.turns,
                "trajectory": digest,
            }
    return rows


@pytest.mark.parametrize("task", [s.name for s in task_table.specs() if task_table.runnable(s)], ids=lambda name: name)
def test_scores_match_golden(task, tmp_path):
    if task in task_table.catalogue() and data.missing(task_table.data_set(task)):
        pytest.skip(
            f"{task}: its upstream files are absent, so its scores differ from the golden ones "
            f"(agentrm-bench data fetch {task})"
        )
    expert_ok, reason = task_table.expert_availability(task_table.get(task))
    if not expert_ok:
        pytest.skip(f"{task}'s expert {reason}")
    got = outcomes(task, tmp_path)
    path = GOLDEN / f"{task}.json"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n")
    assert path.exists(), f"no golden scores for {task}: run AGENTRM_UPDATE_GOLDEN=1 pytest {__file__}"
    expected = json.loads(path.read_text())
    changed = [
        f"  {key}: golden {expected.get(key)} -> now {got.get(key)}"
        for key in sorted(set(expected) | set(got))
        if expected.get(key) != got.get(key)
    ]
    assert not changed, f"{task}: {len(changed)} episode(s) changed:\n" + "\n".join(changed)
