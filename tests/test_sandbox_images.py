"""Image bookkeeping: requirements from pyproject.toml, tags that change only with the image's inputs, task images."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from agentrm_bench.sandbox import images

from .fixtures.sandbox.support import require_docker

REPO = Path(__file__).resolve().parents[1]


def test_requirements_follow_pyproject_and_resolve_self_references() -> None:
    tools = images.requirements(("tool-operation",))
    assert "gymnasium>=1.0" in tools and "openpyxl>=3.1" in tools  # core + the extra
    nested = images.requirements(("pddl-expert",), core=False)  # "agentrm-bench[pddl]" + its own
    assert {r.split(">")[0].split("=")[0] for r in nested} == {"unified-planning", "up-fast-downward"}
    assert not any(r.startswith("agentrm-bench") for r in nested)
    with pytest.raises(images.SandboxStartError, match="no extra 'nope'"):
        images.requirements(("nope",))


def test_the_service_context_holds_the_dockerfile_requirements_and_host_certificates() -> None:
    files, repo, args = images._context(None)
    assert repo == images.SERVICE_REPO and args == {"BASE": images.BASE_IMAGE}
    assert files["Dockerfile"].startswith(b"# The generic sandbox image")
    assert b"formulas" in files["requirements.txt"] and "host-ca/.keep" in files
    assert images._tag(files, "sha256:1") == images._tag(dict(files), "sha256:1") != images._tag(files, "sha256:2")


def test_a_name_is_a_task_only_with_its_own_dockerfile() -> None:
    assert not images.is_task("maze")  # the maze package has no docker/Dockerfile
    assert images.is_task("webshop")
    assert not images.is_task("agentrm-bench/service:abc")


@pytest.mark.docker
def test_a_task_image_is_built_once_on_the_service_image(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    client = require_docker()
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(REPO / "envs" / "docker", tmp_path / "envs" / "docker")
    task = tmp_path / "agentrm_bench" / "envs" / "sbxdemo" / "docker"
    task.mkdir(parents=True)
    (task / "Dockerfile").write_text("ARG BASE\nFROM ${BASE}\nCOPY marker.txt requirements.txt /opt/agentrm/demo/\n")
    (task / "marker.txt").write_text("one")
    monkeypatch.setattr(images, "source_root", lambda: tmp_path)
    assert images.is_task("sbxdemo")
    tag = images.ensure(client, "sbxdemo")
    try:
        assert tag.startswith("agentrm-bench/sbxdemo:")
        assert images.ensure(client, "sbxdemo", build=False) == tag  # up to date: nothing to build
        (task / "marker.txt").write_text("two")  # a changed input is a new tag, not yet built
        with pytest.raises(images.SandboxStartError, match="not built"):
            images.ensure(client, "sbxdemo", build=False)
    finally:
        client.images.remove(tag, force=True)
