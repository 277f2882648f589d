"""``fjordsync status``: per tenant and flow, the last run, the next due run in the schedule's
local time and why, the run lock and who holds it, and the open problems
(``fjordsync.runtime.status``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from fjordsync.cli.app import (
    EXIT_OK,
    ConfigFileOption,
    JsonOption,
    TenantOption,
    app,
    container,
    fail,
    loaded_config,
    out,
    print_json,
)
from fjordsync.errors import ConfigError, FjordsyncError

if TYPE_CHECKING:
    from rich.console import Console

    from fjordsync.runtime.status import FlowStatus


@app.command("status")
def status_command(
    config: ConfigFileOption,
    tenant: TenantOption = None,
    as_json: JsonOption = False,
) -> None:
    """What stands where: the last run, the next due run and why, locks, open problems."""
    from fjordsync.container import ledger_exists
    from fjordsync.ledger import Ledger
    from fjordsync.runtime.status import flow_statuses

    built = container(config=config)
    try:
        loaded = loaded_config(built)
        if tenant is not None and tenant not in loaded.tenants and tenant not in loaded.broken:
            raise ConfigError(f"no tenant {tenant!r}", file=str(loaded.path), path="tenants")
        # Looking must not create a ledger: none yet is an empty one.
        ledger = built.ledger() if ledger_exists(built.ledger_url()) else Ledger("sqlite://")
        statuses = flow_statuses(loaded, ledger, built.clock().now())
    except FjordsyncError as exc:
        fail(exc, as_json)
    if tenant is not None:
        statuses = [status for status in statuses if status.tenant == tenant]
    if as_json:
        print_json({"flows": [status.as_dict() for status in statuses]})
    else:
        print_statuses(out, statuses)
    raise typer.Exit(EXIT_OK)


def _last_run(status: FlowStatus) -> tuple[str | tuple[str, str], str]:
    """The last run: its id and status, then when it started and how long it took; its counts."""
    from fjordsync.cli.render import duration

    run = status.last_run
    if run is None:
        return "never", "-"
    state = run.status + (" (dry run)" if run.dry_run else "")
    when = f"{run.started_at:%Y-%m-%d %H:%M} UTC, took {duration(run.duration_s)}"
    counts = ", ".join(f"{k} {v}" for k, v in run.counts.items() if v) or "-"
    return (f"{run.id} {state}", when), counts


def _problems(status: FlowStatus) -> str:
    if not status.open_problems:
        return "none"
    new = f", {status.new_problems} new" if status.new_problems else ""
    return f"{status.open_problems} open{new}"


def print_statuses(console: Console, statuses: list[FlowStatus]) -> None:
    """One row per flow: the next due time above the reason for it, the last run's status
    above when it ran (seven columns still fit a terminal of 100)."""
    from rich.text import Text

    from fjordsync.cli.render import cell, table

    def lines(value: str | tuple[str, ...]) -> Text:
        # Data escaped line by line (``cell`` shows a line break in data as \n).
        parts = (value,) if isinstance(value, str) else value
        return Text("\n").join(cell(part) for part in parts)

    listing = table(
        ("tenant", "flow", "last run", "counts", "next due (local)", "lock", "problems"), "Status"
    )
    for status in statuses:
        row: list[Any]
        if status.broken is not None:
            row = [status.tenant, "-", "-", "-", f"broken: {status.broken}", "-", "-"]
        else:
            due: str | tuple[str, ...] = status.next_due_reason
            if status.next_due is not None:
                due = (f"{status.next_due:%a %Y-%m-%d %H:%M %Z}", status.next_due_reason)
            lock = "-"
            if status.lock_holder is not None:
                lock = status.lock_holder + (" (stale)" if status.lock_stale else "")
            flow = status.flow + ("" if status.enabled else " (disabled)")
            row = [status.tenant, flow, *_last_run(status), due, lock, _problems(status)]
        listing.add_row(*(lines(value) for value in row))
    console.print(listing)
