"""The data layer: declared files, clear errors when absent, verified fetch (from a local archive)."""

from __future__ import annotations

import hashlib
import io
import tarfile

import pytest

from agentrm_bench import data, tasks


@pytest.fixture
def fake_upstream(tmp_path, monkeypatch):
    """An archive laid out like AgentBoard's data.tar.gz, served from a file:// URL."""
    payload = b'{"id": 0}\n'
    archive = tmp_path / "upstream" / "data.tar.gz"
    archive.parent.mkdir()
    with tarfile.open(archive, "w:gz") as bundle:
        info = tarfile.TarInfo("data/demo/test.jsonl")
        info.size = len(payload)
        bundle.addfile(info, io.BytesIO(payload))
    spec = data.TaskData(
        "demo",
        (data.DataFile("test.jsonl", archive.as_uri(), hashlib.sha256(payload).hexdigest(), "data/demo/test.jsonl"),),
        "test fixture",
    )
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path / "cache"))
    return spec, payload


def test_missing_file_error_names_the_fetch_command(tmp_path, monkeypatch):
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path))
    with pytest.raises(data.DataMissingError, match="agentrm-bench data fetch babyai"):
        data.path(tasks.data_set("babyai"), "test.jsonl")
    assert [f.path for f in data.missing(tasks.data_set("babyai"))] == ["test.jsonl"]


def test_fetch_extracts_and_verifies(fake_upstream, tmp_path):
    spec, payload = fake_upstream
    written = data.fetch(spec)
    assert [p.name for p in written] == ["test.jsonl"]
    assert data.path(spec, "test.jsonl").read_bytes() == payload
    assert data.fetch(spec) == []  # present: not fetched again
    assert not list((tmp_path / "cache" / "demo").glob(".fetch-*"))  # scratch removed
    row = next(r for r in data.status([spec]) if r["task"] == "demo")
    assert (row["present"], row["declared"]) == (1, 1)


def test_fetch_rejects_a_wrong_checksum_and_writes_nothing(fake_upstream, tmp_path):
    spec, _ = fake_upstream
    bad = data.DataFile("test.jsonl", spec.files[0].url, "0" * 64, "data/demo/test.jsonl")
    with pytest.raises(data.DataIntegrityError, match="expected 0000"):
        data.fetch(data.TaskData("demo", (bad,), "bad checksum"))
    assert not (tmp_path / "cache" / "demo" / "test.jsonl").exists()


def test_babyai_annotations_are_declared_with_checksum():
    (declared,) = tasks.data_set("babyai").files
    assert declared.sha256 and declared.member == "data/babyai/test.jsonl"
