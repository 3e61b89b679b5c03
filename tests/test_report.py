"""Report tables on a fixed set of records match golden files (one per format)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from agentrm_bench import report
from agentrm_bench.episode import EpisodeRecord

GOLDEN = Path(__file__).parent / "golden"


def fixed_records() -> list[EpisodeRecord]:
    rows = []
    for i, ok in enumerate([True, True, False, True]):
        rows.append(EpisodeRecord("p", "maze", i, i, progress=float(ok), success=ok))
    for i, (prog, ok) in enumerate([(1.0, True), (0.5, False), (0.25, False)]):
        rows.append(EpisodeRecord("p", "babyai", i, i, progress=prog, success=ok))
    rows.append(EpisodeRecord("p", "babyai", 9, 9, error="boom"))  # errors are not scored
    return rows


def test_rate_and_standard_error():
    rate = report.Rate.of([1.0, 1.0, 0.0, 1.0])
    assert rate.mean == 0.75
    assert rate.stderr == pytest.approx(math.sqrt(0.25 / 4))
    assert report.Rate.of([0.3]).stderr == 0.0


@pytest.mark.parametrize("fmt", ["github", "markdown", "latex"])
def test_golden_tables(fmt):
    text = report.tables(report.score(fixed_records()), fmt) + "\n"
    golden = GOLDEN / f"report_{fmt}.txt"
    assert text == golden.read_text()


def test_progress_unavailable_is_not_averaged():
    rows = [EpisodeRecord("p", "babyai", 0, 0, progress=None, success=True)]
    text = report.tables(report.score(rows))
    assert "n/a" in text and "100.0 ± 0.0" in text


def test_both_splits_are_listed_and_an_incomplete_split_has_no_headline():
    text = report.tables(report.score(fixed_records()))
    assert text.startswith("held-in (headline average: n/a (incomplete: webshop not run;")
    assert "| webshop  | 0   | not run" in text and "| jericho        | 0   | not run" in text
    assert "held-out (headline average: n/a (incomplete: jericho not run; pddl not run" in text


def test_a_report_says_what_is_missing_and_why_progress_is_unavailable():
    rows = [EpisodeRecord("p", "babyai", 0, 0, progress=None, success=True)]
    cover = report.Coverage(
        planned={"babyai": 112, "maze": 25},
        full={"babyai": 112, "maze": 25},
        errored={"babyai": 3, "maze": 25},
        notes={"babyai": "annotations absent, progress unavailable (agentrm-bench data fetch babyai)"},
    )
    text = report.tables(report.score(rows), cover=cover)
    assert "| babyai         | 1/112, 3 errored" in text
    assert "n/a (annotations absent, progress unavailable (agentrm-bench data fetch babyai))" in text
    assert "| maze           | 0/25, 25 errored | n/a (every episode errored)" in text
    headline = next(line for line in text.splitlines() if line.startswith("held-out"))
    assert headline.startswith("held-out (headline average: n/a (incomplete: babyai 1/112, 3 errored episodes;")
    assert "maze 0/25, 25 errored episodes" in headline


def test_a_complete_split_has_its_headline(monkeypatch):
    records = [EpisodeRecord("p", "maze", i, i, progress=1.0, success=True) for i in range(25)]
    monkeypatch.setattr(report.task_table, "table", lambda group=None: [report.task_table.get("maze")])
    text = report.tables(report.score(records), cover=report.Coverage(full={"maze": 25}))
    assert "held-out (headline average: 100.0)" in text


def test_latex_output_compiles_as_is():
    """Everything outside the tabulars is a LaTeX comment; no raw ± (which needs inputenc) is left."""
    text = report.tables(report.score(fixed_records()), "latex")
    assert text.startswith("% agentrm-bench report; needs \\usepackage{booktabs}")
    assert "±" not in text and "$\\pm$" in text and text.isascii()
    inside = False
    for line in text.splitlines():
        if line.startswith("\\begin{tabular}"):
            inside = True
        assert inside or not line.strip() or line.startswith("%"), line
        if line.startswith("\\end{tabular}"):
            inside = False
