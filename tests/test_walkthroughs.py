"""The walkthroughs in docs/ run as written: their files become a package, pip installs it, their
commands run through the CLI; then what they promise (names, origins, a verified row) is checked."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys

import pytest

from agentrm_bench import leaderboard
from agentrm_bench.cli import main
from agentrm_bench.records import read_records

from .conftest import REPO

FILE = re.compile(r"<!-- file: (\S+) -->\n```\w*\n(.*?)```", re.S)
RUN = re.compile(r"<!-- run -->\n```bash\n(.*?)```", re.S)


def walk(doc: str, workdir, monkeypatch) -> None:
    """Write the doc's files under ``workdir``, then run its commands there, each of which must succeed."""
    text = (REPO / "docs" / doc).read_text()
    files, blocks = FILE.findall(text), RUN.findall(text)
    assert files and blocks, f"{doc} has no files or no commands to run"
    monkeypatch.chdir(workdir)
    for path, body in files:
        (workdir / path).parent.mkdir(parents=True, exist_ok=True)
        (workdir / path).write_text(body)
    site = workdir / "site"
    for line in (line for block in blocks for line in block.splitlines() if line.strip()):
        argv = shlex.split(line)
        if argv[:2] == ["pip", "install"]:  # into a folder of this test, offline, like `pip install` would
            pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index"]
            subprocess.run([*pip, "--target", str(site), *argv[2:]], check=True)
            monkeypatch.syspath_prepend(str(site))
            monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]))
        elif argv[0] == "agentrm-bench":
            assert main(argv[1:]) == 0, line
        else:
            pytest.fail(f"{doc}: the walkthrough runs a command the test does not know: {line}")


@pytest.fixture
def forget_modules():
    yield
    for name in ("my_rm", "my_policy"):
        sys.modules.pop(name, None)


def test_adding_a_reward_model(tmp_path, monkeypatch, capsys, forget_modules):
    walk("adding-a-reward-model.md", tmp_path, monkeypatch)
    document = leaderboard.load(tmp_path / "board", "progress-words-maze")
    row = document["reward_model"]
    assert (row["kind"], row["package"], row["version"]) == ("progress-words", "my-rm", "0.1.0")
    assert document["status"] == "verified" and document["scores"]["maze"]["n"] == 25
    settings = json.loads((tmp_path / "runs/pw-maze/manifest.json").read_text())["policy_settings"]
    assert settings["reward_model"]["settings"] == {"kind": "progress-words", "step_cost": 0.1}


def test_adding_a_policy_and_a_search_strategy(tmp_path, monkeypatch, capsys, forget_modules):
    walk("adding-a-policy.md", tmp_path, monkeypatch)
    manifest = json.loads((tmp_path / "runs/curious/manifest.json").read_text())
    origin = manifest["policy_origin"]
    assert (origin["source"], origin["package"], origin["version"]) == ("entry-point", "my-policy", "0.2.0")
    for record in read_records(tmp_path / "runs/curious"):  # four moves, each tried once before repeating
        assert len(set(record.actions[:4])) == 4
    searched = read_records(tmp_path / "runs/best-of-k")
    assert len(searched) == 2 and all(r.extra == {**r.extra, "strategy": "best-of-k", "k": 2} for r in searched)


def test_adding_a_task(tmp_path, monkeypatch, capsys):
    from agentrm_bench import tasks

    try:
        walk("adding-a-task.md", tmp_path, monkeypatch)
        out = capsys.readouterr().out
        assert "| guess/Guess-v0 " in out and "yes (ready)" in out.split("guess/Guess-v0")[1].splitlines()[0]
        expert = read_records(tmp_path / "runs/guess-expert")
        assert len(expert) == 20 and all(r.success and r.turns <= 7 for r in expert)
        assert not any(r.success for r in read_records(tmp_path / "runs/guess-random"))
        assert "| guess " in out.split("held-out (headline average")[-1]
        origin = tasks.REGISTRY.origin("guess")
        assert (origin.source, origin.package, origin.version) == ("entry-point", "guess-task", "0.1.0")
    finally:
        sys.modules.pop("guess_task", None)
        sys.modules.pop("guess_task.env", None)
        sys.modules.pop("guess_task.prompt", None)
        tasks.REGISTRY.refresh()


def test_submitting_a_reward_model(tmp_path, monkeypatch, capsys):
    """An RM from its own package: evaluated on the committed pool, submitted, verified, shown in the
    reward-model table beside the oracle row and the random / oracle@N bounds."""
    pools = tmp_path / "leaderboard" / "pools"
    pools.mkdir(parents=True)
    for path in (REPO / "leaderboard" / "pools").glob("noisy-expert-v1*"):
        shutil.copy(path, pools / path.name)
    try:
        walk("submitting-a-reward-model.md", tmp_path, monkeypatch)
    finally:
        sys.modules.pop("tone_rm", None)
    out = capsys.readouterr().out
    document = json.loads((tmp_path / "leaderboard/rm-submissions/tone.json").read_text())
    identity = document["reward_model"]["identity"]
    assert (identity["name"], identity["package"], identity["version"]) == ("tone", "tone-rm", "1.0.0")
    assert document["status"] == "verified" and document["pool"] == {
        "name": "noisy-expert-v1",
        "sha256": json.loads((pools / "noisy-expert-v1.json").read_text())["sha256"],
        "synthetic": True,
        "n": 8,
    }
    table = out.split("reward models (offline, on frozen candidate pools)")[1]
    rows = {line.split("|")[2].strip(): line for line in table.splitlines() if line.startswith("| ")}
    assert {"tone", "oracle [oracle]", "random", "oracle@8"} <= set(rows)
    assert all("noisy-expert-v1 (synthetic)" in rows[name] for name in ("tone", "random", "oracle@8"))
    assert "verified" in rows["tone"] and "verified" in rows["oracle [oracle]"]
