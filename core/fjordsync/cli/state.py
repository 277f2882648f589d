"""``fjordsync state show FLOW`` and ``fjordsync state clear FLOW``: what the ledger keeps
between runs of a flow (cursors, pending writes, owed export marks, the run lock), and clearing
it by hand after a person has looked.

Clearing asks first (``--yes`` skips the question; without a terminal and without ``--yes`` it
refuses). It never clears a live run lock: only one whose time ran out or whose process is gone
from this machine. Pending writes are what makes a non-idempotent write exactly once (the next
run looks each up in the target before sending it again), so their keys are listed before the
question and the question says that clearing gives that up for those records.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from fjordsync.cli.app import (
    EPILOG,
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
)
from fjordsync.errors import FjordsyncError

if TYPE_CHECKING:
    from datetime import datetime

    from fjordsync.ledger import Ledger
    from fjordsync.ledger.inspect import FlowState, LockState

state_app = typer.Typer(
    help="What the ledger keeps between runs of a flow: show it, clear it by hand.",
    epilog=EPILOG,
    no_args_is_help=True,
)
app.add_typer(state_app, name="state")

PENDING_WARNING = (
    "A pending write is a write that was sent (or about to be) whose outcome is not known. The "
    "next run looks each one up in the target before sending it again: that is what makes it "
    "exactly once. Clearing one gives that up for its record: the next run may send it again "
    "and the target may then hold it twice. Look each key up in the target first."
)


def _when(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC"


def _open(config: str, tenant: str | None, flow: str) -> tuple[str, Ledger]:
    """The tenant's name and the ledger of ``config``; the flow must be one of the tenant's."""
    from fjordsync.errors import ConfigError

    built = container(config=config)
    loaded = loaded_config(built)
    tenant_name, tenant_config = loaded.tenant(tenant)
    if flow not in tenant_config.flows:
        known = ", ".join(sorted(tenant_config.flows)) or "none"
        raise ConfigError(
            f"tenant {tenant_name!r} has no flow {flow!r} (its flows: {known})",
            file=str(loaded.path),
            path=f"tenants.{tenant_name}.flows",
        )
    return tenant_name, built.ledger()


def _lock_line(lock: LockState | None) -> str:
    if lock is None:
        return "run lock: none"
    state = f"stale ({lock.why})" if lock.stale else "live"
    return (
        f"run lock: {state}, held by {lock.process} since {_when(lock.acquired_at)}, "
        f"expires {_when(lock.expires_at)}"
    )


def _print_state(state: FlowState) -> None:
    from fjordsync.cli.render import cell

    lines = [f"{state.tenant} / {state.flow}"]
    lines.append(f"cursors: {len(state.cursors) or 'none'}")
    lines += [f"  {c.name} = {c.value} (set {_when(c.updated_at)})" for c in state.cursors]
    lines.append(f"pending writes: {len(state.pending) or 'none'}")
    lines += [
        f"  {p.entity} {p.source_key} (marker {p.marker}, since {_when(p.created_at)}"
        + (f", run {p.run_id})" if p.run_id is not None else ")")
        for p in state.pending
    ]
    lines.append(f"owed export marks: {len(state.owed_marks) or 'none'}")
    lines += [
        f"  {m.source_key} (export {m.export_id}, since {_when(m.created_at)}"
        + (f", run {m.run_id})" if m.run_id is not None else ")")
        for m in state.owed_marks
    ]
    lines.append(_lock_line(state.lock))
    for line in lines:
        out.print(cell(line), highlight=False, soft_wrap=True)


@state_app.command("show")
def state_show(
    flow: FlowArgument,
    config: ConfigFileOption,
    tenant: TenantOption = None,
    as_json: JsonOption = False,
) -> None:
    """A flow's cursors, pending writes (count and keys), owed export marks and run lock."""
    try:
        tenant_name, ledger = _open(config, tenant, flow)
        try:
            state = ledger.flow_state(tenant_name, flow)
        finally:
            ledger.close()
    except FjordsyncError as exc:
        fail(exc, as_json)
    if as_json:
        print_json(state.as_dict())
    else:
        _print_state(state)


def _confirmed(question: str, yes: bool) -> bool:
    if yes:
        return True
    if not sys.stdin.isatty():
        raise UsageError(
            "state clear asks before it clears, and there is no terminal to ask on: "
            "run it on a terminal, or give --yes after reading `fjordsync state show`"
        )
    return typer.confirm(question, default=False)


def _what_to_clear(state: FlowState, parts: dict[str, bool]) -> list[str]:
    """What will be cleared, line by line, for the question (every pending key listed)."""
    from fjordsync.cli.render import plain

    lines: list[str] = []
    if parts["cursors"]:
        names = ", ".join(plain(c.name) for c in state.cursors) or "none"
        lines.append(
            f"cursors: {len(state.cursors)} ({names}); the next run reads its whole window again"
        )
    if parts["pending"]:
        lines.append(f"pending writes: {len(state.pending)}")
        lines += [f"  {plain(p.entity)} {plain(p.source_key)}" for p in state.pending]
        if state.pending:
            lines.append(PENDING_WARNING)
    if parts["marks"]:
        lines.append(
            f"owed export marks: {len(state.owed_marks)}; the source is not told these records "
            "were exported"
        )
        lines += [f"  {plain(m.source_key)}" for m in state.owed_marks]
    if parts["locks"]:
        lines.append(_lock_line(state.lock))
    return lines


@state_app.command("clear")
def state_clear(
    flow: FlowArgument,
    config: ConfigFileOption,
    tenant: TenantOption = None,
    cursors: Annotated[
        bool, typer.Option("--cursors", help="Forget the cursors: read the whole window again.")
    ] = False,
    pending: Annotated[
        bool,
        typer.Option(
            "--pending",
            help="Forget the pending writes (gives up exactly-once for those records; their "
            "keys are listed first).",
        ),
    ] = False,
    locks: Annotated[
        bool, typer.Option("--locks", help="Remove the run lock if it is stale (never a live one).")
    ] = False,
    marks: Annotated[
        bool, typer.Option("--marks", help="Forget the export marks owed to the source.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask (scripts).")] = False,
) -> None:
    """Clear what a flow keeps between runs, after asking. Name what: --cursors, --pending,
    --marks, --locks. Exit 0 when cleared, 1 when the question was answered no, 2 on an error
    or a refusal (a live lock, no terminal without --yes)."""
    from fjordsync.cli.render import cell

    parts = {"cursors": cursors, "pending": pending, "marks": marks, "locks": locks}
    try:
        if not any(parts.values()):
            raise UsageError("name what to clear: --cursors, --pending, --marks or --locks")
        tenant_name, ledger = _open(config, tenant, flow)
    except FjordsyncError as exc:
        fail(exc, False)
    try:
        state = ledger.flow_state(tenant_name, flow)
        if locks and state.lock is not None and not state.lock.stale:
            raise UsageError(
                f"the run lock of {tenant_name}/{flow} is live (held by {state.lock.process} "
                f"until {_when(state.lock.expires_at)}): a run is going on; nothing cleared"
            )
        for line in [f"{tenant_name} / {flow}: to clear", *_what_to_clear(state, parts)]:
            out.print(cell(line), highlight=False, soft_wrap=True)
        if not _confirmed("Clear these?", yes):
            out.print("nothing cleared", highlight=False)
            raise typer.Exit(EXIT_PARTIAL)
        _clear(ledger, tenant_name, flow, parts)
    except FjordsyncError as exc:
        fail(exc, False)
    finally:
        ledger.close()


def _clear(ledger: Ledger, tenant: str, flow: str, parts: dict[str, bool]) -> None:
    from fjordsync.cli.render import cell

    done: list[str] = []
    if parts["cursors"]:
        done.append(f"{ledger.clear_cursors(tenant, flow)} cursors")
    if parts["pending"]:
        done.append(f"{ledger.clear_pending(tenant, flow)} pending writes")
    if parts["marks"]:
        done.append(f"{ledger.clear_owed_marks(tenant, flow)} owed export marks")
    if parts["locks"]:
        lock: Any = ledger.clear_stale_lock(tenant, flow)
        if lock is not None and not lock.stale:  # taken by a run since it was shown
            raise UsageError(
                f"the run lock of {tenant}/{flow} was taken by a run meanwhile: not cleared"
            )
        done.append("the stale run lock" if lock is not None else "no run lock")
    out.print(cell(f"cleared {', '.join(done)}"), highlight=False)
