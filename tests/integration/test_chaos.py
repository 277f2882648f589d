"""The chaos benchmark, small: every flow through faults, expiring sessions and SIGKILLs until it
reports nothing left, and its target then the same as a fault-free run's (benchmarks/chaos.py)."""

from __future__ import annotations

from .conftest import load_benchmark


def test_every_flow_converges_through_chaos_to_the_fault_free_target(tmp_path):
    chaos = load_benchmark("chaos")
    options = chaos.Options(
        employees=12,
        hours=150,
        leaves=30,
        seed=11,
        max_runs=12,
        run_timeout=180,
        workdir=str(tmp_path),
    )
    summary = chaos.run_chaos(options, report=lambda line: None)
    table = chaos.table(summary)
    assert [r.flow for r in summary["flows"]] == list(chaos.FLOWS), table
    for result in summary["flows"]:
        figures = (
            result.converged,
            result.duplicates,
            result.missing,
            result.wrongly_changed,
            result.unmarked_exports,
            result.runs_left_running,
        )
        assert figures == (True, 0, 0, 0, 0, 0), f"{result.flow}\n{table}"
    hours = next(r for r in summary["flows"] if r.flow == "hours")
    assert hours.target_records > 0, table  # the hours did reach 24SevenOffice
    assert sum(r.killed for r in summary["flows"]) > 0, table  # and processes were killed
