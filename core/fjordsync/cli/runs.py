"""``fjordsync runs list`` and ``runs show``: the run history in the ledger."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from fjordsync.cli.app import (
    ConfigOption,
    JsonOption,
    LedgerOption,
    UsageError,
    container,
    fail,
    out,
    print_json,
    runs_app,
)
from fjordsync.errors import FjordsyncError

if TYPE_CHECKING:
    from fjordsync.ledger import RunRecord


def _ledger(config: str | None, ledger: str | None, as_json: bool) -> Any:
    """The ledger, or None when there is none yet (listing runs creates no database)."""
    from fjordsync.container import ledger_exists

    try:
        built = container(config=config, ledger=ledger)
        if not ledger_exists(built.ledger_url()):
            return None
        return built.ledger()
    except FjordsyncError as exc:
        fail(exc, as_json)


# What a run's status can be (fjordsync.flows.common.status_of, and the ledger's own two).
RUN_STATUSES = ("running", "succeeded", "partial", "failed", "interrupted")


def _since(text: str | None) -> datetime | None:
    """--since as an aware moment: a date is its midnight, a time without a zone is UTC (the
    times runs are shown in)."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"--since {text!r} is not a date (YYYY-MM-DD) or an ISO time (YYYY-MM-DDTHH:MM)"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


@runs_app.command("list")
def runs_list(
    config: ConfigOption = None,
    ledger: LedgerOption = None,
    tenant: Annotated[str | None, typer.Option(help="Only this tenant's runs.")] = None,
    flow: Annotated[str | None, typer.Option(help="Only this flow's runs.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many runs.")] = 20,
    status: Annotated[
        str | None,
        typer.Option(help="Only runs with this status: " + ", ".join(RUN_STATUSES) + "."),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(help="Only runs started at or after this (YYYY-MM-DD or ISO time; UTC)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """The latest runs, newest first, with how long each took."""
    try:
        started_since = _since(since)
        if status is not None and status not in RUN_STATUSES:
            raise UsageError(f"--status {status!r} is not one of {', '.join(RUN_STATUSES)}")
    except UsageError as exc:
        fail(exc, as_json)
    store = _ledger(config, ledger, as_json)
    if store is not None:
        try:
            store.close_dead_runs()  # a run whose process died is shown as interrupted
        except FjordsyncError as exc:
            fail(exc, as_json)
    runs: list[RunRecord] = (
        store.runs(tenant=tenant, flow=flow, limit=limit, status=status, since=started_since)
        if store
        else []
    )
    if as_json:
        print_json({"runs": [run.as_dict() for run in runs]})
        return
    if not runs:
        out.print("No runs yet.")
        return
    from fjordsync.cli import render

    render.print_runs(out, runs)


# What a run's item can be (fjordsync.flows.common.Outcome's words).
ITEM_OUTCOMES = (
    "written",
    "planned",
    "unchanged",
    "skipped",
    "deferred",
    "invalid",
    "conflict",
    "failed",
)


def outcomes_of(options: list[str] | None) -> list[str] | None:
    """--outcome, repeated or a comma list ("invalid,conflict"), as outcome words; None when
    not given (every item)."""
    if not options:
        return None
    wanted = [word.strip() for option in options for word in option.split(",") if word.strip()]
    unknown = [word for word in wanted if word not in ITEM_OUTCOMES]
    if not wanted or unknown:
        what = f"{', '.join(repr(word) for word in unknown)} is not" if unknown else "names no"
        raise UsageError(f"--outcome {what} an outcome: {', '.join(ITEM_OUTCOMES)}")
    return list(dict.fromkeys(wanted))


@runs_app.command("show")
def runs_show(
    run_id: Annotated[int, typer.Argument(help="The run's id (see `fjordsync runs list`).")],
    config: ConfigOption = None,
    ledger: LedgerOption = None,
    outcome: Annotated[
        list[str] | None,
        typer.Option(
            help="Only the items with this outcome, and their problems (repeat it, or "
            "invalid,conflict): " + ", ".join(ITEM_OUTCOMES) + "."
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """One run: its problems grouped by cause, then its per-record outcomes."""
    try:
        outcomes = outcomes_of(outcome)
    except UsageError as exc:
        fail(exc, as_json)
    store = _ledger(config, ledger, as_json)
    run = store.run(run_id) if store else None
    if run is None:
        fail(FjordsyncError(f"no run {run_id} in the ledger"), as_json)
    from fjordsync.cli import render

    run = render.shown_items(run, outcomes)
    if as_json:
        print_json(run.as_dict())
        return
    render.print_run(out, run, outcomes)
