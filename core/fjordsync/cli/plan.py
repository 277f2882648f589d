"""``fjordsync plan FLOW --out FILE`` (a dry run, saved as a plan to review) and ``fjordsync
apply FILE`` (exactly the plan's writes, or a refusal naming the records that changed).

The rules are ``fjordsync.runtime.plans``'s; this module parses options and prints. A plan is
printed as ``run --dry-run`` prints one (``render.print_result``), personal values masked on the
terminal and in the file unless ``--show-personal-data``.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

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
    err,
    fail,
    loaded_config,
    out,
    print_json,
    unexpected,
)
from fjordsync.cli.run import _failed_run, _period, absence_code_set, employee_numbers
from fjordsync.errors import FjordsyncError

if TYPE_CHECKING:
    from fjordsync.runtime.plans import PlanChanged

EXIT_BY_STATUS = {"succeeded": EXIT_OK, "partial": EXIT_PARTIAL}


@app.command("plan")
def plan_command(
    flow: FlowArgument,
    config: ConfigFileOption,
    out_file: Annotated[
        str, typer.Option("--out", "-o", help="Save the plan to this file (created 0600).")
    ],
    tenant: TenantOption = None,
    from_date: Annotated[
        str | None,
        typer.Option("--from", help="Period start (YYYY-MM-DD), for hours and absences."),
    ] = None,
    to_date: Annotated[
        str | None,
        typer.Option("--to", help="Period end (YYYY-MM-DD), for hours and absences."),
    ] = None,
    employees: Annotated[str | None, typer.Option(help="Only these employees: N,N,...")] = None,
    absence_types: Annotated[
        str | None, typer.Option(help="Only these payroll absence codes: 01,04,...")
    ] = None,
    show_personal_data: Annotated[
        bool,
        typer.Option(
            "--show-personal-data",
            help="Show personal values (personal numbers, accounts, salaries, addresses) on the "
            "terminal and keep them in the plan file.",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Plan a flow (a dry run: nothing written) and save it to review, then `apply` it."""
    import asyncio

    from fjordsync.cli import render
    from fjordsync.runtime.plans import make_plan, write_plan

    try:
        employees_scope = employee_numbers(employees)
        absence_codes = absence_code_set(absence_types)
        folder = Path(out_file).parent
        if not folder.is_dir():  # said before the dry run, not after it
            raise UsageError(f"--out: the folder {render.plain(folder)} does not exist")
    except UsageError as exc:
        fail(exc, as_json)
    built = container(config=config)
    started = datetime.now(UTC)
    loaded = None
    try:
        period = _period(from_date, to_date)
        loaded = loaded_config(built)
        result, plan = asyncio.run(
            make_plan(
                loaded,
                built.connectors(),
                built.ledger(),
                flow,
                tenant=tenant,
                period=period,
                employees_scope=employees_scope,
                absence_codes=absence_codes,
                now=built.clock().now,
            )
        )
        write_plan(plan, Path(out_file), show_personal=show_personal_data)
    except FjordsyncError as exc:
        fail(exc, as_json)
    except Exception as exc:  # a bug, here or in a plugin: one line, the trace to the log file
        unexpected(exc, _failed_run(built, loaded, tenant, flow, started, exc), as_json)
    if as_json:
        print_json(
            {"saved_to": out_file, "plan": plan.as_document(show_personal=show_personal_data)}
        )
    else:
        render.print_result(out, result, show_personal_data)
        out.print(
            f"plan saved to {render.markup(out_file)}: apply it with "
            f"`fjordsync apply {render.markup(out_file)}`",
            highlight=False,
        )
    raise typer.Exit(EXIT_BY_STATUS.get(result.status, EXIT_ERROR))


@app.command("apply")
def apply_command(
    plan_file: Annotated[str, typer.Argument(help="A plan `fjordsync plan --out` saved.")],
    config: Annotated[
        str | None,
        typer.Option(
            "--config", "-c", help="The config file (default: the one the plan was made with)."
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Carry out exactly the writes of a reviewed plan; refuses (exit 2, naming the records)
    when the source or the target changed since in a way that touches them."""
    import asyncio

    from fjordsync.cli import render
    from fjordsync.cli.progress import ProgressReporter
    from fjordsync.runtime.plans import PlanChanged, apply_saved_plan, read_plan

    try:
        plan = read_plan(Path(plan_file))
    except FjordsyncError as exc:
        fail(exc, as_json)
    saved_config = plan.computed_from.get("config")
    config_path = config or (saved_config.get("path") if isinstance(saved_config, dict) else None)
    if not config_path:
        fail(UsageError(f"{plan_file} does not say its config file: give --config"), as_json)
    built = container(config=config_path)
    reporter = ProgressReporter(out, plan.flow, enabled=not as_json)
    started = datetime.now(UTC)
    loaded = None
    try:
        loaded = loaded_config(built)
        result = asyncio.run(
            apply_saved_plan(
                loaded,
                built.connectors(),
                built.ledger(),
                plan,
                now=built.clock().now,
                progress=reporter,
            )
        )
    except PlanChanged as changed:
        reporter.close()
        _refused(changed, as_json)
    except FjordsyncError as exc:
        reporter.close()
        fail(exc, as_json)
    except Exception as exc:  # a bug, here or in a plugin: one line, the trace to the log file
        reporter.close()
        unexpected(exc, _failed_run(built, loaded, plan.tenant, plan.flow, started, exc), as_json)
    reporter.close()
    if as_json:
        render.write_result_document(sys.stdout, result, False)
    else:
        render.print_result(out, result, False)
    raise typer.Exit(EXIT_BY_STATUS.get(result.status, EXIT_ERROR))


def _refused(changed: PlanChanged, as_json: bool) -> NoReturn:
    """A plan that no longer holds: the reason, then one line per changed record; exit 2."""
    from fjordsync import logs
    from fjordsync.cli import render

    if as_json:
        print_json(
            {
                "error": type(changed).__name__,
                "message": logs.redact(str(changed)),
                "records": changed.records,
                "details": changed.details,
            },
            None,
        )
    else:
        err.print(
            "[bold red]error:[/] the plan no longer holds: the source or the target changed "
            "since it was made. Nothing was written: make a new plan and review it. Changed:",
            highlight=False,
        )
        for line in changed.details:
            err.print(f"  {render.markup(line)}", highlight=False)
    raise typer.Exit(EXIT_ERROR)
