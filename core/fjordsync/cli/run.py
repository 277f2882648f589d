"""``fjordsync run FLOW`` (a run now, or its plan with --dry-run) and ``fjordsync check FLOW``
(the read-only preflight)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from fjordsync.cli.app import (
    EXIT_ERROR,
    EXIT_OK,
    EXIT_PARTIAL,
    ConfigFileOption,
    FlowArgument,
    JsonOption,
    TenantOption,
    UsageError,
    app,
    container,
    fail,
    loaded_config,
    out,
    print_json,
    unexpected,
)
from fjordsync.errors import FjordsyncError

if TYPE_CHECKING:
    from fjordsync.container import AppContainer


@app.command("run")
def run_command(
    flow: FlowArgument,
    config: ConfigFileOption,
    tenant: TenantOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Plan only: write nothing.")] = False,
    employees: Annotated[str | None, typer.Option(help="Only these employees: N,N,...")] = None,
    absence_types: Annotated[
        str | None, typer.Option(help="Only these payroll absence codes: 01,04,...")
    ] = None,
    retry_failed: Annotated[
        int | None,
        typer.Option(help="Only the records that failed or were invalid in this earlier run."),
    ] = None,
    from_date: Annotated[
        str | None,
        typer.Option("--from", help="Period start (YYYY-MM-DD), for hours and absences."),
    ] = None,
    to_date: Annotated[
        str | None,
        typer.Option("--to", help="Period end (YYYY-MM-DD), for hours and absences."),
    ] = None,
    show_personal_data: Annotated[
        bool, typer.Option("--show-personal-data", help="Show personal values in the plan.")
    ] = False,
    queue: Annotated[
        bool,
        typer.Option("--queue", help="Put the run on the distributed queue for a worker."),
    ] = False,
    ignore_known_problems: Annotated[
        bool,
        typer.Option(
            "--ignore-known-problems",
            help="Exit 0 when the run's only problems were known before (no new problem).",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Run a flow now (or plan it with --dry-run; or queue it for a worker with --queue)."""
    if queue:
        _queue(
            flow,
            config,
            tenant,
            from_date,
            to_date,
            as_json,
            dry_run,
            employees,
            absence_types,
            retry_failed,
        )
    import asyncio

    from fjordsync.cli import render
    from fjordsync.cli.progress import ProgressReporter
    from fjordsync.runtime.runner import run_flow

    try:
        employees_scope = employee_numbers(employees)
        absence_codes = absence_code_set(absence_types)
    except UsageError as exc:
        fail(exc, as_json)
    built = container(config=config)
    reporter = ProgressReporter(out, flow, enabled=not as_json and not dry_run)
    started = datetime.now(UTC)
    loaded = None
    try:
        period = _period(from_date, to_date)
        loaded = loaded_config(built)
        result = asyncio.run(
            run_flow(
                loaded,
                built.connectors(),
                built.ledger(),
                flow,
                tenant=tenant,
                dry_run=dry_run,
                employees_scope=employees_scope,
                absence_codes=absence_codes,
                retry_failed=retry_failed,
                progress=reporter,
                period=period,
                now=built.clock().now,
            )
        )
    except FjordsyncError as exc:
        reporter.close()
        fail(exc, as_json)
    except Exception as exc:  # a bug, here or in a plugin: one line, the trace to the log file
        reporter.close()
        unexpected(exc, _failed_run(built, loaded, tenant, flow, started, exc), as_json)
    reporter.close()
    if as_json:
        # Item by item: a run of 100,000 items is never one document and one 30 MB string.
        render.write_result_document(sys.stdout, result, show_personal_data)
    else:
        render.print_result(out, result, show_personal_data)
    if ignore_known_problems and _only_known_problems(result):
        raise typer.Exit(EXIT_OK)
    raise typer.Exit({"succeeded": EXIT_OK, "partial": EXIT_PARTIAL}.get(result.status, EXIT_ERROR))


def _only_known_problems(result: Any) -> bool:
    """The run is partial only because of problems the ledger knew before it: none new, and
    no write left for later (deferred, stopped by a budget), which is not a problem."""
    return (
        result.status == "partial"
        and result.new_problems == 0
        and not result.stopped
        and not result.counts.get("deferred")
    )


def _queue(
    flow: str,
    config: str,
    tenant: str | None,
    from_date: str | None,
    to_date: str | None,
    as_json: bool,
    *scoped: object,
) -> None:
    """``run --queue``: the run goes to the distributed queue; prints its run key."""
    from datetime import date

    from fjordsync.cli.distributed import missing

    if any(scoped):
        fail(
            UsageError(
                "--queue takes a whole run: not --dry-run, --employees, "
                "--absence-types or --retry-failed"
            ),
            as_json,
        )
    try:
        from fjordsync.runtime.distributed.commands import queue_run
    except ImportError as exc:
        missing(exc, as_json=as_json)
    try:
        period = (from_date, to_date or date.today().isoformat()) if from_date else None
        key = queue_run(config, flow, tenant=tenant, period=period)
    except FjordsyncError as exc:
        fail(exc, as_json)
    if as_json:
        print_json({"queued": key.text, "tenant": key.tenant, "flow": key.flow})
    else:
        out.print(f"queued {key.text}: a worker runs it", highlight=False, markup=False)
    raise typer.Exit(EXIT_OK)


def _period(from_date: str | None, to_date: str | None) -> Any:
    """--from/--to as a DateRange, or None for the flow's default period."""
    from fjordsync.runtime.runner import period_of

    return period_of(from_date, to_date, label="--from/--to", needs_start="--to needs --from")


def employee_numbers(option: str | None) -> frozenset[str] | None:
    if option is None:
        return None
    numbers = frozenset(e.strip() for e in option.split(",") if e.strip())
    if not numbers:
        # An empty selection must not widen to everyone.
        raise UsageError(
            "--employees: no employee number given; write N,N,... or leave the option out "
            "to sync every employee in the flow's scope"
        )
    return numbers


def absence_code_set(option: str | None) -> frozenset[str] | None:
    if option is None:
        return None
    from fjordsync.cli import render
    from fjordsync.domain.codes import AbsenceCode

    valid = [code.value for code in AbsenceCode]
    codes = [c.strip().zfill(2) for c in option.split(",") if c.strip()]
    unknown = [code for code in codes if code not in valid]
    if not codes or unknown:
        what = (
            "no absence code given"
            if not codes
            else f"unknown absence code{'s' if len(unknown) > 1 else ''} "
            + ", ".join(repr(render.plain(code)) for code in unknown)
        )
        raise UsageError(f"--absence-types: {what} (valid: {', '.join(valid)})")
    return frozenset(codes)


def _failed_run(
    built: AppContainer,
    config: Any,
    tenant: str | None,
    flow: str,
    started: datetime,
    error: BaseException,
) -> int | None:
    """The run this command started, if it got that far, closed as failed (the runner closes
    runs on the errors it expects; this one it did not expect)."""
    if config is None:
        return None
    try:
        tenant_name, _ = config.tenant(tenant)
        ledger = built.ledger()
        runs = ledger.runs(tenant=tenant_name, flow=flow, limit=1)
        if not runs or runs[0].started_at < started:
            return None
        if runs[0].status == "running":
            ledger.finish_run(
                runs[0].id,
                status="failed",
                counts={},
                message=f"unexpected error ({type(error).__name__}): see the log file",
            )
        return runs[0].id
    except Exception:  # the ledger may be what broke: the trace of the error still matters more
        return None


@app.command("check")
def check_command(
    flow: FlowArgument,
    config: ConfigFileOption,
    tenant: TenantOption = None,
    as_json: JsonOption = False,
) -> None:
    """Preflight, read-only: do the ids the flow matches on line up? (exit 1 when not)"""
    import asyncio

    from fjordsync.cli import render
    from fjordsync.runtime.runner import check

    built = container(config=config)
    try:
        findings = asyncio.run(
            check(
                loaded_config(built),
                built.connectors(),
                flow,
                tenant=tenant,
                now=built.clock().now,
            )
        )
    except FjordsyncError as exc:
        fail(exc, as_json)
    if as_json:
        print_json(render.findings_document(flow, findings))
    else:
        render.print_findings(out, flow, findings)
    raise typer.Exit(EXIT_PARTIAL if findings else EXIT_OK)
