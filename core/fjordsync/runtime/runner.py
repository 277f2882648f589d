"""Running a flow for a tenant: adapters from the config's connections, the run lock, the run's
record in the ledger, and the flow itself. Manual and scheduled runs take this same path.

Every run that starts is closed in the history: with the flow's status; ``failed`` when the flow
raised (a fjordsync error with its message, any other error by its class only, since its text
may carry values); ``interrupted`` when it was cancelled. A run whose process died cannot close
itself: the next run of that flow closes it as ``interrupted`` (``Ledger.close_dead_runs``).
Every message stored (the run's and its items') is masked by the ledger (``logs.redact``) on the
way in, so an error's text that carries a token or a personal number never reaches the history.

After a real run, its problems are compared with the ones the ledger remembers
(``Ledger.remember_problems``: ``result.new_problems``, ``result.known_problems``), and the
tenant's notifications (``fjordsync.notify``) are told of a run that failed, was interrupted or
met new problems; neither ever changes the run's status (an error becomes a note).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from fjordsync import logs
from fjordsync.config import Config
from fjordsync.domain.values import DateRange
from fjordsync.errors import ConfigError, FjordsyncError, LedgerError, RateLimited
from fjordsync.flows.common import FlowContext, RunResult
from fjordsync.flows.preflight import Finding
from fjordsync.flows.registry import FLOWS
from fjordsync.ledger import Ledger
from fjordsync.ledger.store import lock_holder
from fjordsync.notify import WEBHOOK_ATTEMPTS, notice_of, tell

__all__ = ["check", "period_of", "run_flow"]

log = logging.getLogger("fjordsync.runner")


def period_of(
    start_text: str | None, end_text: str | None, *, label: str, needs_start: str
) -> DateRange | None:
    """A period a person typed (YYYY-MM-DD, each end optional) as a DateRange, or None for the
    flow's default period: the end defaults to today; an end without a start is refused with
    ``needs_start``; ``label`` names the two fields in errors ("--from/--to")."""
    from datetime import date

    if not (start_text or end_text):
        return None
    try:
        start = date.fromisoformat(start_text) if start_text else None
        end = date.fromisoformat(end_text) if end_text else date.today()
    except ValueError as exc:
        raise FjordsyncError(f"{label}: {exc}") from None
    if start is None:
        raise FjordsyncError(needs_start)
    return DateRange(start, end, field=label)


async def _close(*adapters: Any) -> None:
    """Close each adapter once (a flow's source and target may be one connection)."""
    for adapter in {id(adapter): adapter for adapter in adapters}.values():
        close = getattr(adapter, "aclose", None)
        if close is not None:
            await close()


def _build(config: Config, connectors: Mapping[str, Any], tenant: str, connection: str) -> Any:
    plugin = config.tenants[tenant].connections[connection].plugin
    return connectors[plugin].connector.build(config.connection_settings[tenant][connection])


def _wording(config: Config, connectors: Mapping[str, Any], tenant: str, connection: str) -> Any:
    plugin = config.tenants[tenant].connections[connection].plugin
    return connectors[plugin].connector.wording


async def run_flow(
    config: Config,
    connectors: Mapping[str, Any],
    ledger: Ledger,
    flow: str,
    *,
    tenant: str | None = None,
    dry_run: bool = False,
    trigger: str = "manual",
    employees_scope: frozenset[str] | None = None,
    absence_codes: frozenset[str] | None = None,
    retry_failed: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    period: DateRange | None = None,
    now: Callable[[], datetime],
    gate: Callable[..., str | None] | None = None,
) -> RunResult:
    """Run ``flow`` for ``tenant`` once; raises ``RunLocked`` if it is running already.
    ``gate`` may hold writes back (``FlowContext.gate``: ``fjordsync apply`` writes only those
    of the reviewed plan)."""
    tenant_name, tenant_config = config.tenant(tenant)
    flow_config = tenant_config.flows.get(flow)
    if flow_config is None:
        raise ConfigError(
            f"tenant {tenant_name!r} has no flow {flow!r}",
            file=str(config.path),
            path=f"tenants.{tenant_name}.flows",
        )
    definition = FLOWS.get(flow)
    if definition is None:
        raise FjordsyncError(
            f"flow {flow!r} is not implemented in this version (implemented: {', '.join(FLOWS)})"
        )
    scope = flow_config.scope.to_scope()
    if employees_scope:
        scope = replace(scope, employees=employees_scope)
    if absence_codes:
        scope = replace(scope, absence_codes=absence_codes)
    if retry_failed is not None:
        earlier = ledger.run(retry_failed)
        if earlier is None or earlier.flow != flow or earlier.tenant != tenant_name:
            raise FjordsyncError(f"run {retry_failed} is not a run of {flow!r} for {tenant_name!r}")
        keys = set().union(*ledger.failed_keys(retry_failed).values())
        if not keys:
            raise FjordsyncError(f"run {retry_failed} has no failed or invalid record to retry")
        scope = replace(scope, record_keys=frozenset(keys))
    holder = lock_holder(trigger)
    with ledger.lock(tenant_name, flow, holder):
        # Holding the lock, any other run of this flow still "running" is one whose process died.
        ledger.close_dead_runs(tenant=tenant_name, flow=flow)
        run_id = ledger.start_run(
            tenant_name, flow, trigger=trigger, dry_run=dry_run, holder=holder
        )
        source = _build(config, connectors, tenant_name, flow_config.source)
        target = _build(config, connectors, tenant_name, flow_config.target)
        context = FlowContext(
            tenant=tenant_name,
            flow=flow,
            run_id=run_id,
            state=ledger,
            now=now(),
            scope=scope,
            options=flow_config.options,
            mapping=flow_config.mapping,
            dry_run=dry_run,
            concurrency=int(flow_config.options.get("concurrency", 4)),
            progress=progress,
            source_wording=_wording(config, connectors, tenant_name, flow_config.source),
            target_wording=_wording(config, connectors, tenant_name, flow_config.target),
            gate=gate,
        )
        try:
            with logs.run_context(run=run_id, tenant=tenant_name, flow=flow):
                result = await definition.start(context, source, target, period)
        except RateLimited as error:
            # The vendor's budget was spent before the flow could read what it needs (another
            # run of this hour spent it): nothing was done, and all of it waits for the reset,
            # as writes a budget stops do: a partial run that says when it goes on, not a failure.
            ledger.finish_run(run_id, status="partial", counts={}, message=str(error))
            return RunResult(
                run_id,
                flow,
                tenant_name,
                dry_run,
                items=[],
                notes=[str(error)],
                stopped=str(error),
                resume_at=error.resume_at,
            )
        except FjordsyncError as error:
            ledger.finish_run(run_id, status="failed", counts={}, message=str(error))
            if not dry_run:
                _note_in_history(
                    ledger,
                    run_id,
                    await _tell(config, ledger, tenant_name, flow, run_id, "failed", str(error)),
                )
            raise
        except Exception as error:
            why = f"the run stopped on an unexpected error ({type(error).__name__})"
            ledger.finish_run(run_id, status="failed", counts={}, message=why)
            if not dry_run:
                _note_in_history(
                    ledger,
                    run_id,
                    await _tell(config, ledger, tenant_name, flow, run_id, "failed", why),
                )
            raise
        except BaseException as stop:  # cancelled (a stopping scheduler, Ctrl-C)
            why = f"the run was stopped ({type(stop).__name__}) before it finished"
            ledger.finish_run(run_id, status="interrupted", counts={}, message=why)
            if not dry_run:
                # In this process, in one try: a stopping process must not wait on retries.
                _tell_now(config, ledger, tenant_name, flow, run_id, "interrupted", why)
            raise
        finally:
            await _close(source, target)
        message = "; ".join([*result.notes, *([result.stopped] if result.stopped else [])])
        ledger.finish_run(
            run_id, status=result.status, counts=result.counts, message=message or None
        )
        if not dry_run:
            # A run of the whole scope also closes the problems of records it no longer met.
            partial_scope = employees_scope or absence_codes or retry_failed is not None
            complete = not (partial_scope or gate or definition.takes_period)
            await _remember_and_tell(config, ledger, result, complete=complete)
        return result


async def _remember_and_tell(
    config: Config, ledger: Ledger, result: RunResult, *, complete: bool
) -> None:
    """Compare the run's problems with the ones the ledger knows (``result.new_problems``,
    ``result.known_problems``), then tell whoever the tenant's notifications name, if the run
    failed or met new problems. Neither fails the finished run: an error is a note."""
    new_items: tuple[Any, ...] = ()
    closed_with = len(result.notes)  # what is noted from here on, the history gains too
    try:
        news = ledger.remember_problems(
            result.tenant, result.flow, result.run_id, result.items, complete=complete
        )
    except LedgerError as error:
        log.warning("run %s: its problems could not be remembered: %s", result.run_id, error)
        result.notes.append(f"its problems could not be compared with known ones: {error}")
    else:
        result.new_problems, result.known_problems = news.new, news.known
        new_items = news.new_items
    result.notes.extend(
        await _tell(
            config,
            ledger,
            result.tenant,
            result.flow,
            result.run_id,
            result.status,
            None,
            counts=result.counts,
            new_problems=result.new_problems,
            known_problems=result.known_problems,
            new_items=new_items,
        )
    )
    _note_in_history(ledger, result.run_id, result.notes[closed_with:])


def _note_in_history(ledger: Ledger, run_id: int, notes: list[str]) -> None:
    """The run's message in the history gains what happened after it closed (a notification
    that could not be sent); a ledger that cannot take it leaves it in the log and the result."""
    try:
        ledger.add_run_notes(run_id, notes)
    except LedgerError as error:
        log.warning("run %s: its notes could not be kept in the history: %s", run_id, error)


async def _tell(
    config: Config,
    ledger: Ledger,
    tenant: str,
    flow: str,
    run_id: int,
    status: str,
    message: str | None,
    **about: Any,
) -> list[str]:
    """Tell about a finished run (in a thread: the senders block); the notes of those who
    could not be told."""
    if config.notifications_of(tenant) is None:
        return []
    return await asyncio.to_thread(
        _tell_now,
        config,
        ledger,
        tenant,
        flow,
        run_id,
        status,
        message,
        attempts=WEBHOOK_ATTEMPTS,
        **about,
    )


def _tell_now(
    config: Config,
    ledger: Ledger,
    tenant: str,
    flow: str,
    run_id: int,
    status: str,
    message: str | None,
    *,
    attempts: int = 1,
    **about: Any,
) -> list[str]:
    """Tell about run ``run_id`` here and now (its times from the history); ``attempts`` per
    webhook. Never raises: what could not be told is a note."""
    notifications = config.notifications_of(tenant)
    if notifications is None:
        return []
    try:  # the run's times; the latest run of the flow is this one (its lock is held)
        latest = ledger.runs(tenant=tenant, flow=flow, limit=1)
    except LedgerError:
        latest = []
    record = latest[0] if latest and latest[0].id == run_id else None
    try:
        notice = notice_of(
            tenant=tenant,
            flow=flow,
            run_id=run_id,
            status=status,
            counts=about.pop("counts", None) or (record.counts if record else {}),
            started_at=record.started_at if record else None,
            finished_at=record.finished_at if record else None,
            message=message if message is not None else (record.message if record else None),
            **about,
        )
        return tell(notifications, notice, attempts=attempts)
    except Exception as error:  # a bug in telling is never the run's failure
        log.error("run %s: telling about it failed (%s)", run_id, type(error).__name__)
        return [f"telling about the run failed ({type(error).__name__})"]


async def check(
    config: Config,
    connectors: Mapping[str, Any],
    flow: str,
    *,
    tenant: str | None = None,
    now: Callable[[], datetime],
) -> list[Finding]:
    """The preflight review of one flow, read-only; credentials are tried by reading."""
    tenant_name, tenant_config = config.tenant(tenant)
    flow_config = tenant_config.flows.get(flow)
    if flow_config is None:
        raise ConfigError(
            f"tenant {tenant_name!r} has no flow {flow!r}",
            file=str(config.path),
            path=f"tenants.{tenant_name}.flows",
        )
    definition = FLOWS.get(flow)
    if definition is None:
        return []
    source = _build(config, connectors, tenant_name, flow_config.source)
    target = _build(config, connectors, tenant_name, flow_config.target)
    try:
        return await definition.review(
            source,
            target,
            today=now().date(),
            mapping=dict(flow_config.mapping),
            source_wording=_wording(config, connectors, tenant_name, flow_config.source),
            target_wording=_wording(config, connectors, tenant_name, flow_config.target),
            tenant=tenant_name,
        )
    finally:
        await _close(source, target)
