"""The ``fjordsync`` command.

Exit codes: 0 success; 1 partial (a run where some records were invalid, in conflict or failed);
2 failure, or a usage, config or plugin error. ``--json`` prints one JSON document on stdout.

No traceback reaches a user: an error fjordsync expects prints its one-line message; anything
else prints one line naming the error's class, the run and the log file, where the traceback
goes (``--log-file``, else ``fjordsync.logs.default_log_file()``). Text that comes from data
(names, keys, vendors' messages) is printed with control characters escaped and rich markup not
interpreted, so a project named ``\x1b[2J`` cannot clear the screen.
"""

from __future__ import annotations

import json
import sys
import threading
from datetime import UTC, datetime
from importlib import metadata
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from fjordsync import logs
from fjordsync.domain.codes import AbsenceCode
from fjordsync.errors import ConfigError, FjordsyncError

if TYPE_CHECKING:
    from fjordsync.container import AppContainer
    from fjordsync.ledger import RunRecord

EXIT_OK = 0
EXIT_PARTIAL = 1
EXIT_ERROR = 2

EPILOG = (
    "Exit codes: 0 success; 1 partial (some records invalid, in conflict or failed); "
    "2 failure, or a usage, config or plugin error."
)

app = typer.Typer(
    name="fjordsync",
    help="Keeps HR, project and time data in step between Nordic business systems.",
    epilog=EPILOG,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
config_app = typer.Typer(help="Check config files.", epilog=EPILOG, no_args_is_help=True)
runs_app = typer.Typer(help="Run history.", epilog=EPILOG, no_args_is_help=True)
app.add_typer(config_app, name="config")
sandbox_app = typer.Typer(
    help="Vendor sandboxes: local servers speaking the vendors' APIs.",
    epilog=EPILOG,
    no_args_is_help=True,
)
app.add_typer(runs_app, name="runs")
app.add_typer(sandbox_app, name="sandbox")

out = Console()
err = Console(stderr=True, soft_wrap=True)  # an error line stays one line, for grep

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
ConfigOption = Annotated[
    str | None, typer.Option("--config", "-c", help="Config file (for its ledger URL).")
]
LedgerOption = Annotated[
    str | None,
    typer.Option(
        "--ledger",
        help="Ledger database URL (default: the config's, "
        "else $FJORDSYNC_LEDGER_URL, else sqlite:///fjordsync.db).",
    ),
]


class UsageError(FjordsyncError):
    """A command-line option is wrong (exit 2)."""


def _plain(value: Any) -> str:
    """Data as it may be shown: controls escaped (markup is the caller's to escape)."""
    return logs.escape_controls("" if value is None else str(value))


def _m(value: Any) -> str:
    """Data to put into a line that has rich markup of its own."""
    return escape(_plain(value))


def _t(value: Any) -> Text:
    """Data as a table cell: controls escaped, no markup interpreted."""
    return Text(_plain(value))


def _message(error: BaseException) -> str:
    """An error's message for the user: secrets the config resolved and credentials by their
    shape masked (an adapter may echo what a vendor sent back), controls escaped."""
    return _plain(logs.redact(str(error)))


def _fail(error: Exception, as_json: bool) -> NoReturn:
    if as_json:
        print(json.dumps({"error": type(error).__name__, "message": logs.redact(str(error))}))
    else:
        err.print(f"[bold red]error:[/] {escape(_message(error))}", highlight=False, markup=True)
    raise typer.Exit(EXIT_ERROR)


def _unexpected(error: BaseException, run_id: int | None, as_json: bool) -> NoReturn:
    """One line for the user, the traceback to the log file; exit 2."""
    name = type(error).__name__
    in_run = f" in run {run_id}" if run_id is not None else ""
    path = logs.write_trace(error, f"unexpected error ({name}){in_run}")
    where = f"details in {path}" if path else "no log file could be written"
    line = f"fjordsync: unexpected error ({name}){in_run} — {where}"
    if as_json:
        print(
            json.dumps(
                {
                    "error": name,
                    "message": line,
                    "run_id": run_id,
                    "log_file": str(path) if path else None,
                }
            )
        )
    else:
        err.print(_t(line), highlight=False)
    raise typer.Exit(EXIT_ERROR)


def _container(config: str | None = None, ledger: str | None = None) -> AppContainer:
    # Imported here so that --help and --version do not wait for SQLAlchemy and Alembic.
    from fjordsync.container import AppContainer

    container = AppContainer()
    container.settings.from_dict({"config_path": config, "ledger_url": ledger})
    return container


def _version_callback(value: bool) -> None:
    if value:
        print(f"fjordsync {metadata.version('fjordsync')}")
        raise typer.Exit()


def _log_level_option(value: str) -> str:
    if value.upper() not in logs.LEVELS:
        raise typer.BadParameter(f"{_plain(value)!r} is not one of {', '.join(logs.LEVELS)}")
    return value.upper()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_version_callback,
            is_eager=True,
            help="Show the version and exit.",
        ),
    ] = False,
    log_level: Annotated[
        str,
        typer.Option(
            "--log-level",
            envvar=logs.LOG_LEVEL_ENV,
            callback=_log_level_option,
            metavar="[" + "|".join(logs.LEVELS) + "]",
            help="Log records from this level on (credentials and personal numbers are masked "
            "at every level).",
        ),
    ] = logs.DEFAULT_LEVEL,
    log_file: Annotated[
        str | None,
        typer.Option(
            "--log-file",
            envvar=logs.LOG_FILE_ENV,
            help="Log to this file (created 0600) instead of stderr. Tracebacks of unexpected "
            "errors go here, else to fjordsync.log in the user's state directory.",
        ),
    ] = None,
) -> None:
    """Keeps HR, project and time data in step between Nordic business systems.

    --log-level and --log-file may also be given after the command."""
    try:
        logs.configure(log_level, log_file)
    except OSError as exc:
        reason = str(exc) if isinstance(exc, PermissionError) and exc.errno is None else None
        _fail(UsageError(f"--log-file: {reason or exc.strerror}"), False)


@app.command("plugins")
def plugins_command(
    as_json: JsonOption = False,
    show_all: Annotated[
        bool, typer.Option("--all", help="Also the connectors made for tests and demos.")
    ] = False,
) -> None:
    """List the installed connectors: the flows each can serve and on which side."""
    try:
        registered = _container().connectors()
    except FjordsyncError as exc:
        _fail(exc, as_json)
    rows = [item.as_dict() for item in registered.values()]
    rows = [row for row in rows if show_all or not row["testing"]]
    if as_json:
        print(json.dumps({"connectors": rows}, indent=2))
        return
    table = Table(title="Installed connectors")
    for column in ("connector", "distribution", "version", "flows it can serve"):
        table.add_column(column)
    for row in rows:
        served = ", ".join(
            f"{flow} ({' and '.join(sides)})" for flow, sides in row["flows"].items()
        )
        table.add_row(
            f"{_m(row['name'])}\n[dim]{_m(row['title'])}[/]",
            _t(row["distribution"]),
            _t(row["version"]),
            _m(served)
            if served
            else "[yellow]no adapter yet[/]"
            if not row["capabilities"]
            else "[yellow]none of the flows[/]",
        )
    out.print(table)


@config_app.command("check")
def config_check(
    file: Annotated[str, typer.Argument(help="The config file to check.")],
    as_json: JsonOption = False,
) -> None:
    """Validate a config file: structure, plugins, settings, secrets and flow wiring."""
    try:
        config = _container(config=file).config()
    except ConfigError as exc:
        problems = getattr(exc, "problems", [(exc.path or "", str(exc))])
        if as_json:
            print(
                json.dumps(
                    {
                        "file": file,
                        "valid": False,
                        "problems": [
                            {"path": path, "problem": problem} for path, problem in problems
                        ],
                    },
                    indent=2,
                )
            )
        else:
            err.print(f"[bold red]{_m(file)}: invalid[/]", highlight=False)
            for line in logs.redact(str(exc)).splitlines():  # one problem a line
                err.print(_t(line), highlight=False)
        raise typer.Exit(EXIT_ERROR) from None
    except FjordsyncError as exc:
        _fail(exc, as_json)
    summary = {
        "file": file,
        "valid": True,
        "ledger": _redact_url(config.ledger_url),
        "tenants": {
            name: {
                "connections": {c: conn.plugin for c, conn in tenant.connections.items()},
                "flows": {
                    f: {
                        "source": flow.source,
                        "target": flow.target,
                        "enabled": flow.enabled,
                        "schedule": _schedule_text(flow.schedule),
                    }
                    for f, flow in tenant.flows.items()
                },
            }
            for name, tenant in config.tenants.items()
        },
        "warnings": list(config.warnings),
    }
    if as_json:
        print(json.dumps(summary, indent=2))
        return
    out.print(f"[bold green]{_m(file)}: valid[/]", highlight=False)
    for name, tenant in summary["tenants"].items():
        table = Table(title=_t(f"tenant {name}"))
        for column in ("flow", "source", "target", "schedule"):
            table.add_column(column)
        for flow_name, flow in tenant["flows"].items():
            source = f"{flow['source']} ({tenant['connections'][flow['source']]})"
            target = f"{flow['target']} ({tenant['connections'][flow['target']]})"
            enabled = "" if flow["enabled"] else " [dim](disabled)[/]"
            table.add_row(
                _m(flow_name) + enabled, _t(source), _t(target), _t(flow["schedule"] or "manual")
            )
        out.print(table)
    for warning in config.warnings:
        err.print(f"[yellow]warning:[/] {_m(warning)}", highlight=False)


def _schedule_text(schedule: Any) -> str | None:
    if schedule is None or not schedule.enabled:
        return None
    return f"{','.join(schedule.days)} {schedule.time.strftime('%H:%M')} {schedule.timezone}"


def _redact_url(url: str) -> str:
    """Database URLs may carry a password: never print it."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _ledger(config: str | None, ledger: str | None, as_json: bool) -> Any:
    from fjordsync.container import ledger_exists

    try:
        container = _container(config=config, ledger=ledger)
        if not ledger_exists(container.ledger_url()):
            return None
        return container.ledger()
    except FjordsyncError as exc:
        _fail(exc, as_json)


@runs_app.command("list")
def runs_list(
    config: ConfigOption = None,
    ledger: LedgerOption = None,
    tenant: Annotated[str | None, typer.Option(help="Only this tenant's runs.")] = None,
    flow: Annotated[str | None, typer.Option(help="Only this flow's runs.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many runs.")] = 20,
    as_json: JsonOption = False,
) -> None:
    """The latest runs, newest first."""
    store = _ledger(config, ledger, as_json)
    if store is not None:
        try:
            store.close_dead_runs()  # a run whose process died is shown as interrupted
        except FjordsyncError as exc:
            _fail(exc, as_json)
    runs: list[RunRecord] = store.runs(tenant=tenant, flow=flow, limit=limit) if store else []
    if as_json:
        print(json.dumps({"runs": [run.as_dict() for run in runs]}, indent=2))
        return
    if not runs:
        out.print("No runs yet.")
        return
    table = Table(title="Runs")
    for column in ("id", "tenant", "flow", "trigger", "started", "status", "counts"):
        table.add_column(column)
    for run in runs:
        status = run.status + (" (dry run)" if run.dry_run else "")
        counts = ", ".join(f"{k} {v}" for k, v in run.counts.items() if v)
        table.add_row(
            str(run.id),
            _t(run.tenant),
            _t(run.flow),
            _t(run.trigger),
            run.started_at.strftime("%Y-%m-%d %H:%M:%S"),
            _t(status),
            _t(counts),
        )
    out.print(table)


@runs_app.command("show")
def runs_show(
    run_id: Annotated[int, typer.Argument(help="The run's id (see `fjordsync runs list`).")],
    config: ConfigOption = None,
    ledger: LedgerOption = None,
    as_json: JsonOption = False,
) -> None:
    """One run with its per-record outcomes."""
    store = _ledger(config, ledger, as_json)
    run = store.run(run_id) if store else None
    if run is None:
        _fail(FjordsyncError(f"no run {run_id} in the ledger"), as_json)
    if as_json:
        print(json.dumps(run.as_dict(), indent=2))
        return
    out.print(
        f"[bold]Run {run.id}[/]: {_m(run.flow)} for {_m(run.tenant)}, {_m(run.trigger)}"
        f"{' (dry run)' if run.dry_run else ''}, [bold]{_m(run.status)}[/]",
        highlight=False,
    )
    out.print(
        f"started {run.started_at:%Y-%m-%d %H:%M:%S} UTC, finished "
        f"{run.finished_at:%Y-%m-%d %H:%M:%S} UTC"
        if run.finished_at
        else "still running"
    )
    if run.message:
        out.print(_t(run.message), highlight=False)
    table = Table()
    for column in ("record", "action", "outcome", "fields", "message"):
        table.add_column(column)
    for item in run.items:
        table.add_row(
            _t(item.record_key),
            _t(item.action),
            _t(item.outcome),
            _t(", ".join(item.changed_fields)),
            _t(item.message),
        )
    out.print(table)


PERSONAL_FIELDS = {
    "personnr",
    "national_id",
    "account",
    "bank_account",
    "salary",
    "postaddress",
    "home_address",
    "zipcode",
    "city",
    "address",
}


def _shown(field: str, value: Any, show_personal: bool) -> str:
    if value is None or value == "":
        return "(none)"
    if field in PERSONAL_FIELDS and not show_personal:
        return "***"
    return str(value)


def _result_document(result: Any, show_personal: bool) -> dict[str, Any]:
    return {
        "run_id": result.run_id,
        "flow": result.flow,
        "tenant": result.tenant,
        "dry_run": result.dry_run,
        "status": result.status,
        "counts": result.counts,
        "notes": result.notes,
        "items": [
            {
                "entity": item.entity,
                "key": item.key,
                "action": item.action,
                "outcome": item.outcome,
                "message": item.message,
                "changes": [
                    {
                        "field": name,
                        "old": _shown(name, old, show_personal),
                        "new": _shown(name, new, show_personal),
                    }
                    for name, old, new in item.changes
                ],
            }
            for item in result.items
        ],
    }


def _print_result(result: Any, show_personal: bool, limit: int = 12) -> None:
    title = "Plan" if result.dry_run else "Run"
    out.print(
        f"[bold]{title} {result.run_id}[/]: {_m(result.flow)} for {_m(result.tenant)}"
        f"{' (dry run: nothing written)' if result.dry_run else ''}",
        highlight=False,
    )
    interesting = [i for i in result.items if i.outcome != "unchanged"]
    shown: list[Any] = []
    hidden: dict[str, int] = {}
    for item in interesting:  # a long run shows the first rows of each outcome, then a count
        if sum(1 for i in shown if i.outcome == item.outcome) < limit:
            shown.append(item)
        else:
            hidden[item.outcome] = hidden.get(item.outcome, 0) + 1
    if shown:
        table = Table()
        for column in ("record", "action", "outcome", "details"):
            table.add_column(column)
        for item in shown:
            lines = [
                _plain(
                    f"{name}: {_shown(name, old, show_personal)} -> "
                    f"{_shown(name, new, show_personal)}"
                )
                for name, old, new in item.changes
            ]
            if item.message:
                lines.append(_plain(item.message))
            table.add_row(_t(item.key), _t(item.action), _t(item.outcome), Text("\n".join(lines)))
        for outcome, count in hidden.items():
            table.add_row(
                "…",
                "",
                _t(outcome),
                _t(
                    f"and {count} more ({outcome}): see --json or "
                    f"`fjordsync runs show {result.run_id}`"
                ),
            )
        out.print(table)
    unchanged = sum(1 for i in result.items if i.outcome == "unchanged")
    counts = ", ".join(f"{k} {v}" for k, v in result.counts.items())
    out.print(
        f"{unchanged} unchanged. {_m(counts) or 'nothing to do'}. "
        f"Status: [bold]{_m(result.status)}[/]",
        highlight=False,
    )
    for note in result.notes:
        out.print(f"[yellow]note:[/] {_m(note)}", highlight=False)


class _ProgressReporter:
    """A progress bar on a terminal; plain lines (each tenth) otherwise."""

    def __init__(self, flow: str, *, enabled: bool) -> None:
        self.flow = flow
        self.enabled = enabled
        self.bar: Any = None
        self.task: Any = None
        self.last_tenth = -1

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total < 20:
            return
        if out.is_terminal:
            if self.bar is None:
                from rich.progress import Progress

                self.bar = Progress(console=out, transient=True)
                self.bar.start()
                self.task = self.bar.add_task(f"{_m(self.flow)}: writing", total=total)
            self.bar.update(self.task, completed=done)
            return
        tenth = done * 10 // total
        if tenth != self.last_tenth:
            self.last_tenth = tenth
            out.print(_t(f"{self.flow}: {done}/{total} written"), highlight=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


@app.command("run")
def run_command(
    flow: Annotated[
        str, typer.Argument(help="projects, employees, hours, payroll-employees, absences")
    ],
    config: Annotated[str, typer.Option("--config", "-c", help="The config file.")],
    tenant: Annotated[
        str | None, typer.Option(help="The tenant (if the config has several).")
    ] = None,
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
    as_json: JsonOption = False,
) -> None:
    """Run a flow now (or plan it with --dry-run)."""
    import asyncio
    from datetime import date

    from fjordsync.domain.values import DateRange
    from fjordsync.runtime.runner import run_flow

    try:
        employees_scope = _employee_numbers(employees)
        absence_codes = _absence_codes(absence_types)
    except UsageError as exc:
        _fail(exc, as_json)
    container = _container(config=config)
    reporter = _ProgressReporter(flow, enabled=not as_json and not dry_run)
    started = datetime.now(UTC)
    loaded = None
    try:
        period = None
        if from_date or to_date:
            try:
                start = date.fromisoformat(from_date) if from_date else None
                end = date.fromisoformat(to_date) if to_date else date.today()
            except ValueError as exc:
                raise FjordsyncError(f"--from/--to: {exc}") from None
            if start is None:
                raise FjordsyncError("--to needs --from")
            period = DateRange(start, end, field="--from/--to")
        loaded = container.config()
        result = asyncio.run(
            run_flow(
                loaded,
                container.connectors(),
                container.ledger(),
                flow,
                tenant=tenant,
                dry_run=dry_run,
                employees_scope=employees_scope,
                absence_codes=absence_codes,
                retry_failed=retry_failed,
                progress=reporter,
                period=period,
                now=container.clock().now,
            )
        )
    except FjordsyncError as exc:
        reporter.close()
        _fail(exc, as_json)
    except Exception as exc:  # a bug, here or in a plugin: one line, the trace to the log file
        reporter.close()
        _unexpected(exc, _failed_run(container, loaded, tenant, flow, started, exc), as_json)
    reporter.close()
    if as_json:
        print(json.dumps(_result_document(result, show_personal_data), indent=2))
    else:
        _print_result(result, show_personal_data)
    raise typer.Exit({"succeeded": EXIT_OK, "partial": EXIT_PARTIAL}.get(result.status, EXIT_ERROR))


def _employee_numbers(option: str | None) -> frozenset[str] | None:
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


def _absence_codes(option: str | None) -> frozenset[str] | None:
    if option is None:
        return None
    valid = [code.value for code in AbsenceCode]
    codes = [c.strip().zfill(2) for c in option.split(",") if c.strip()]
    unknown = [code for code in codes if code not in valid]
    if not codes or unknown:
        what = (
            "no absence code given"
            if not codes
            else f"unknown absence code{'s' if len(unknown) > 1 else ''} "
            + ", ".join(repr(_plain(code)) for code in unknown)
        )
        raise UsageError(f"--absence-types: {what} (valid: {', '.join(valid)})")
    return frozenset(codes)


def _failed_run(
    container: AppContainer,
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
        ledger = container.ledger()
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
    flow: Annotated[str, typer.Argument(help="The flow whose id alignment to review.")],
    config: Annotated[str, typer.Option("--config", "-c", help="The config file.")],
    tenant: Annotated[
        str | None, typer.Option(help="The tenant (if the config has several).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Preflight, read-only: do the ids the flow matches on line up? (exit 1 when not)"""
    import asyncio

    from fjordsync.runtime.runner import check

    container = _container(config=config)
    try:
        findings = asyncio.run(
            check(
                container.config(),
                container.connectors(),
                flow,
                tenant=tenant,
                now=container.clock().now,
            )
        )
    except FjordsyncError as exc:
        _fail(exc, as_json)
    if as_json:
        print(
            json.dumps(
                {
                    "flow": flow,
                    "aligned": not findings,
                    "findings": [
                        {
                            "subject": f.subject,
                            "record": f.record,
                            "change_in": f.change_in,
                            "message": f.message,
                            "proposal": f.proposal,
                        }
                        for f in findings
                    ],
                },
                indent=2,
            )
        )
    elif not findings:
        out.print(
            f"[bold green]{_m(flow)}: the ids line up[/] (credentials work, every code the "
            "flow matches on exists on both sides)",
            highlight=False,
        )
    else:
        table = Table(title=_t(f"{flow}: {len(findings)} to fix before the first run"))
        for column in ("what", "code", "change in", "problem", "proposal"):
            table.add_column(column)
        for finding in findings:
            table.add_row(
                _t(finding.subject),
                _t(finding.record),
                _t(finding.change_in),
                _t(finding.message),
                _t(finding.proposal),
            )
        out.print(table)
    raise typer.Exit(EXIT_PARTIAL if findings else EXIT_OK)


@app.command("serve")
def serve_command(
    config: Annotated[str, typer.Option("--config", "-c", help="The config file.")],
    tick: Annotated[
        float, typer.Option(min=1, help="Seconds between looks at the schedules.")
    ] = 30.0,
    once: Annotated[bool, typer.Option("--once", help="Run what is due now, then stop.")] = False,
) -> None:
    """Run the flows on their schedules, in this process, until stopped."""
    import asyncio

    from fjordsync.runtime.scheduler import serve

    container = _container(config=config)
    try:
        loaded = container.config()
        if not once:
            err.print(_t(f"serving the schedules of {config} (Ctrl-C to stop)"), highlight=False)
        asyncio.run(
            serve(
                loaded,
                container.connectors(),
                container.ledger(),
                container.clock().now,
                tick_seconds=tick,
                once=once,
                report=lambda line: out.print(_t(line), highlight=False),
            )
        )
    except KeyboardInterrupt:
        return
    except FjordsyncError as exc:
        _fail(exc, False)


def _sandbox_spec(name: str) -> Any:
    from fjordsync.plugins import get_plugin_manager, sandboxes

    try:
        found = sandboxes(get_plugin_manager())
    except FjordsyncError as exc:
        _fail(exc, False)
    if name not in found:
        _fail(
            FjordsyncError(f"no sandbox {name!r} (installed: {', '.join(found) or 'none'})"), False
        )
    return found[name]


@sandbox_app.command("serve")
def sandbox_serve(
    name: Annotated[str, typer.Argument(help="The sandbox: alexis, twentyfourseven, smartdok.")],
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: a free one).")] = 0,
    seed: Annotated[
        str | None, typer.Option(help="State to start from: a JSON file in the API's shape.")
    ] = None,
    faults: Annotated[
        str | None, typer.Option(help="Faults, e.g. latency=20,jitter=5,5xx=0.2,429=0.1,seed=7.")
    ] = None,
    employees: Annotated[
        int, typer.Option(help="Without --seed: generate a company of this many employees.")
    ] = 60,
) -> None:
    """Serve a vendor sandbox on 127.0.0.1 until interrupted."""
    from fjordsync.testing.sandbox import FaultSpec

    spec = _sandbox_spec(name)
    try:
        fault_spec = FaultSpec.parse(faults)
    except ValueError as exc:
        _fail(FjordsyncError(f"--faults: {exc}"), False)
    if seed:
        try:
            with open(seed, encoding="utf-8") as handle:
                state = json.load(handle)
        except (OSError, ValueError) as exc:
            _fail(FjordsyncError(f"--seed {seed}: {exc}"), False)
    else:
        state = spec.generate(employees=employees)
    try:
        server = spec.server(state, fault_spec)
    except ValueError as exc:
        _fail(FjordsyncError(f"--seed {seed}: {exc}"), False)
    server.start(port)
    err.print(_t(f"{spec.title} sandbox at {server.url} (Ctrl-C to stop)"), highlight=False)
    print(
        json.dumps(
            {"sandbox": name, "url": server.url, "connections": spec.connection(server.url)}
        ),
        flush=True,
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


DEMO_FLOWS = {
    "projects": ("erp", "time"),
    "employees": ("erp", "time"),
    "hours": ("time", "erp"),
    "payroll-employees": ("hr", "payroll"),
    "absences": ("hr", "payroll"),
}
DEMO_CONNECTIONS = {  # connection name -> (sandbox, connector)
    "hr": ("alexis", "alexis"),
    "erp": ("twentyfourseven", "twentyfourseven"),
    "payroll": ("twentyfourseven", "twentyfourseven-payroll"),
    "time": ("smartdok", "smartdok"),
}
SECRET_SETTINGS = {"token", "api_token", "access_token", "password", "application_id"}


def _toml_value(value: Any) -> str:
    return (
        json.dumps(value)
        if isinstance(value, str)
        else str(value).lower()
        if isinstance(value, bool)
        else str(value)
    )


def write_demo_config(path: str, urls: dict[str, str], connections: dict[str, dict]) -> None:
    """A ready config for tenant ``demo``: the five flows wired to the sandboxes. Secrets go to
    a secrets file beside it, referred to as ${NAME}, never into the config itself."""
    import os

    lines = [
        f'secrets_file = "{os.path.basename(path)}.secrets"',
        "",
        "[ledger]",
        f'url = "sqlite:///{os.path.basename(path)}.ledger.db"',
        "",
    ]
    secrets: dict[str, str] = {}
    for name, (sandbox, connector) in DEMO_CONNECTIONS.items():
        settings = connections[sandbox][connector]
        lines += [
            f"[tenants.demo.connections.{name}]",
            f'plugin = "{connector}"',
            f"[tenants.demo.connections.{name}.settings]",
        ]
        for key, value in settings.items():
            if key in SECRET_SETTINGS:
                reference = f"DEMO_{name}_{key}".upper()
                secrets[reference] = str(value)
                value = "${" + reference + "}"
            lines.append(f"{key} = {_toml_value(value)}")
        lines.append("")
    for flow, (source, target) in DEMO_FLOWS.items():
        lines += [
            f"[tenants.demo.flows.{flow}]",
            f'source = "{source}"',
            f'target = "{target}"',
            'schedule = { days = ["mon", "tue", "wed", "thu", "fri"], time = "06:30" }',
            "",
        ]
    # Both 0600: the secrets file is refused otherwise, and the config names where they are.
    _write_private(
        path,
        "# Written by `fjordsync sandbox up`: the demo tenant, wired to the sandboxes.\n"
        + "\n".join(lines),
    )
    _write_private(f"{path}.secrets", "".join(f'{k} = "{v}"\n' for k, v in secrets.items()))


def _write_private(path: str, text: str) -> None:
    """Write ``path`` afresh, 0600 whatever the umask and whatever mode an older file had."""
    import os

    if os.path.exists(path):
        os.chmod(path, 0o600)
    with open(logs.open_private(path, append=False), "w", encoding="utf-8") as handle:
        handle.write(text)


@sandbox_app.command("up")
def sandbox_up(
    config_out: Annotated[str, typer.Option("--config-out", help="Write the demo config here.")],
    seed_dir: Annotated[
        str | None,
        typer.Option(help="Seed each sandbox from DIR/<name>.json (else generated data)."),
    ] = None,
    faults: Annotated[str | None, typer.Option(help="Faults for every sandbox.")] = None,
    urls_out: Annotated[str | None, typer.Option(help="Write the sandboxes' URLs here.")] = None,
    employees: Annotated[int, typer.Option(help="Employees in the generated company.")] = 60,
    seed: Annotated[int, typer.Option(help="Random seed of the generated company.")] = 1,
) -> None:
    """Start the three sandboxes on free 127.0.0.1 ports and write a ready config for them."""
    import os

    from fjordsync.testing.sandbox import FaultSpec

    try:
        fault_spec = FaultSpec.parse(faults)
    except ValueError as exc:
        _fail(FjordsyncError(f"--faults: {exc}"), False)
    servers = {}
    for name in ("alexis", "twentyfourseven", "smartdok"):
        spec = _sandbox_spec(name)
        seed_file = os.path.join(seed_dir, f"{name}.json") if seed_dir else None
        if seed_file and os.path.exists(seed_file):
            with open(seed_file, encoding="utf-8") as handle:
                state = json.load(handle)
        else:
            # The demo's SmartDok has the misalignments seed 000 warns about, for `check`.
            options = {"misaligned": True} if name == "smartdok" else {}
            state = spec.generate(employees=employees, seed=seed, **options)
        servers[name] = (spec, spec.server(state, fault_spec).start())
    urls = {name: server.url for name, (_, server) in servers.items()}
    connections = {name: spec.connection(server.url) for name, (spec, server) in servers.items()}
    write_demo_config(config_out, urls, connections)
    if urls_out:
        with open(urls_out, "w", encoding="utf-8") as handle:
            json.dump(urls, handle)
    err.print(
        _t(
            f"sandboxes up: {', '.join(f'{n} {u}' for n, u in urls.items())}; config in "
            f"{config_out} (Ctrl-C to stop)"
        ),
        highlight=False,
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        for _, server in servers.values():
            server.stop()


@sandbox_app.command("generate")
def sandbox_generate(
    name: Annotated[str, typer.Argument(help="The sandbox: alexis, twentyfourseven, smartdok.")],
    employees: Annotated[int, typer.Option(min=1, help="Employees in the company.")] = 60,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed, the same data.")] = 1,
    out: Annotated[str | None, typer.Option(help="Write here instead of stdout.")] = None,
) -> None:
    """Generate realistic sandbox state (JSON, the shape `sandbox serve --seed` loads)."""
    state = _sandbox_spec(name).generate(employees=employees, seed=seed)
    text = json.dumps(state, ensure_ascii=False, indent=1)
    if out:
        with open(out, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
    else:
        print(text)


LOG_OPTIONS = ("--log-level", "--log-file")


def _hoist_log_options(args: list[str]) -> list[str]:
    """--log-level and --log-file are the group's options, which click takes only before the
    command; users write them anywhere (``fjordsync run hours --log-level DEBUG``)."""
    front: list[str] = []
    rest: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            rest += args[index:]
            break
        if arg in LOG_OPTIONS and index + 1 < len(args):
            front += args[index : index + 2]
            index += 2
            continue
        if arg.startswith(tuple(f"{option}=" for option in LOG_OPTIONS)):
            front.append(arg)
        else:
            rest.append(arg)
        index += 1
    return front + rest


def main() -> None:
    args = _hoist_log_options(sys.argv[1:])
    try:
        app(args=args, prog_name="fjordsync")
    except FjordsyncError as exc:  # anything a command did not handle itself
        err.print(f"[bold red]error:[/] {escape(_message(exc))}", highlight=False)
        sys.exit(EXIT_ERROR)
    except typer.Exit as exc:  # raised outside click's own handling (by _unexpected)
        sys.exit(exc.exit_code)
    except Exception as exc:
        try:
            _unexpected(exc, None, "--json" in args)
        except typer.Exit as done:
            sys.exit(done.exit_code)


if __name__ == "__main__":
    main()
