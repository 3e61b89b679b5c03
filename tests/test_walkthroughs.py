"""The walkthroughs in docs/ run as written: their files become a package, pip installs it, their
commands run through the CLI; then what they promise (names, origins, a verified row) is checked."""

from __future__ import annotations

import json
import os
import re
import shlex
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
