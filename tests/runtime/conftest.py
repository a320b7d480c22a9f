"""Prints every handler's import (init) time measured by the runtime-import test after the run."""

from __future__ import annotations

from tests.runtime.lambda_runtime import ImportResult, format_results

INIT_TIMES: list[ImportResult] = []


def pytest_terminal_summary(terminalreporter) -> None:
    """A section with one line per function: stack, name, layers, init time (or why it failed)."""
    if INIT_TIMES:
        terminalreporter.section("Lambda handler init times (isolated runtime, cold import)")
        ordered = sorted(INIT_TIMES, key=lambda result: (result.function.stack, result.function.name))
        terminalreporter.write_line(format_results(ordered))
