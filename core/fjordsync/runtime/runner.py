"""Running a flow for a tenant: adapters from the config's connections, the run lock, the run's
record in the ledger, and the flow itself. Manual and scheduled runs take this same path.

Every run that starts is closed in the history: with the flow's status; ``failed`` when the flow
raised (a fjordsync error with its message, any other error by its class only, since its text
may carry values); ``interrupted`` when it was cancelled. A run whose process died cannot close
itself: the next run of that flow closes it as ``interrupted`` (``Ledger.close_dead_runs``).
Every message stored (the run's and its items') is masked by the ledger (``logs.redact``) on the
way in, so an error's text that carries a token or a personal number never reaches the history.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from fjordsync.config import Config
from fjordsync.domain.values import DateRange
from fjordsync.errors import ConfigError, FjordsyncError, RateLimited
from fjordsync.flows.common import FlowContext, RunResult
from fjordsync.flows.preflight import Finding
from fjordsync.flows.registry import FLOWS
from fjordsync.ledger import Ledger
from fjordsync.ledger.store import lock_holder

__all__ = ["check", "run_flow"]


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
            raise
        except Exception as error:
            ledger.finish_run(
                run_id,
                status="failed",
                counts={},
                message=f"the run stopped on an unexpected error ({type(error).__name__})",
            )
            raise
        except BaseException as stop:  # cancelled (a stopping scheduler, Ctrl-C)
            ledger.finish_run(
                run_id,
                status="interrupted",
                counts={},
                message=f"the run was stopped ({type(stop).__name__}) before it finished",
            )
            raise
        finally:
            await _close(source, target)
        message = "; ".join([*result.notes, *([result.stopped] if result.stopped else [])])
        ledger.finish_run(
            run_id, status=result.status, counts=result.counts, message=message or None
        )
        return result


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
        )
    finally:
        await _close(source, target)
