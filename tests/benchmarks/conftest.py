"""The ratio checks' verdicts, one line each, at the end of the run (after pytest-benchmark's tables)."""

from __future__ import annotations

from .ratios import VERDICTS


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # noqa: ANN001, ARG001 - pytest's hook
    if VERDICTS:
        terminalreporter.section("ratio checks (ours / floor, same run)")
        for line in VERDICTS:
            terminalreporter.write_line(line)
