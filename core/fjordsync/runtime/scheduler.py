"""The embedded scheduler: runs each flow when its schedule says, in this process.

The next due time of each scheduled flow is kept in the ledger's ``schedules`` table, with the
schedule it was worked out from, so a restart neither repeats nor skips a run, and several
``serve`` processes sharing a ledger never run one flow twice at once (the run lock). A schedule
seen for the first time is queued for shortly after 06:00 CET the next day (seed 001); after
each run the next time follows the schedule's own days, time and zone. A flow whose run is locked (a
manual run is going on) is tried again at the next tick.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any, Literal

from fjordsync.config import Config, ScheduleConfig
from fjordsync.domain.schedule import first_run, next_run
from fjordsync.errors import FjordsyncError, RunLocked
from fjordsync.ledger import Ledger
from fjordsync.runtime.runner import run_flow

__all__ = ["due_at", "next_due", "serve", "signature", "tick", "tick_until_stopped"]

log = logging.getLogger("fjordsync.scheduler")


def signature(schedule: ScheduleConfig) -> str:
    """The schedule as text, stored with its next due time: another text means it changed."""
    return f"{','.join(schedule.days)} {schedule.time.isoformat()} {schedule.timezone}"


def next_due(schedule: ScheduleConfig, after: datetime) -> datetime:
    """When ``schedule`` is due next after ``after``."""
    return next_run(schedule.days, schedule.time, schedule.zone, after)


def due_at(
    ledger: Ledger, tenant: str, flow: str, schedule: ScheduleConfig, now: datetime
) -> datetime | None:
    """The due time of ``flow`` of ``tenant`` if it is due at ``now``, else None.

    The schedule state is read once: read twice, another scheduler may have moved it on in
    between, and the second read would name the next run, due later, as due now. A schedule
    seen for the first time is due shortly after 06:00 CET the next day (seed 001), a changed
    one at its next time by the new schedule; either is stored, and is not due at once."""
    when, why = upcoming(ledger.schedule(tenant, flow), schedule, now)
    if why == "stored":
        return when if when <= now else None
    ledger.set_schedule(tenant, flow, spec=signature(schedule), next_due=when)
    return None


def upcoming(
    state: Any, schedule: ScheduleConfig, now: datetime
) -> tuple[datetime, Literal["stored", "first_run", "changed"]]:
    """When a flow with this schedule and stored schedule state (None: never seen) is due
    next, and why: the time stored with this schedule, the first-run rule for a schedule never
    seen, or its next time by a schedule that changed since its time was stored. ``due_at``
    stores the latter two; ``fjordsync status`` only shows them."""
    if state is None:
        return first_run(now), "first_run"
    if state.spec != signature(schedule):
        return next_due(schedule, now), "changed"
    return state.next_due, "stored"


async def _tenant_tick(
    config: Config,
    connectors: Mapping[str, Any],
    ledger: Ledger,
    now: Callable[[], datetime],
    tenant: str,
) -> list[tuple[str, str, str]]:
    done = []
    for flow, flow_config in config.tenants[tenant].flows.items():
        schedule = flow_config.schedule
        if not flow_config.enabled or schedule is None or not schedule.enabled:
            continue
        try:
            if due_at(ledger, tenant, flow, schedule, now()) is None:
                continue
            result = await run_flow(
                config, connectors, ledger, flow, tenant=tenant, trigger="scheduled", now=now
            )
            status = result.status
        except RunLocked:
            done.append((tenant, flow, "locked"))
            continue  # a manual run is going on: try again at the next tick
        except FjordsyncError as error:
            log.warning("scheduled %s for %s failed: %s", flow, tenant, error)
            status = "failed"
        except Exception as error:  # a bug, here or in a plugin: this flow's, never the others'
            log.error("scheduled %s for %s failed (%s)", flow, tenant, type(error).__name__)
            status = "failed"
        try:
            ledger.set_schedule(
                tenant, flow, spec=signature(schedule), next_due=next_due(schedule, now())
            )
        except FjordsyncError as error:  # the ledger away: the run is tried again next tick
            log.warning("the next run of %s for %s cannot be stored: %s", flow, tenant, error)
        done.append((tenant, flow, status))
    return done


async def tick(
    config: Config, connectors: Mapping[str, Any], ledger: Ledger, now: Callable[[], datetime]
) -> list[tuple[str, str, str]]:
    """Run every scheduled flow that is due; returns (tenant, flow, status) for each tried.

    Tenants go side by side, each its flows in turn: one tenant's slow vendor or long run
    never holds up another's, and one tenant's failure is its own (a broken tenant's config
    is not even loaded: ``Config.broken``)."""
    per_tenant = await asyncio.gather(
        *(_tenant_tick(config, connectors, ledger, now, tenant) for tenant in config.tenants)
    )
    return [outcome for outcomes in per_tenant for outcome in outcomes]


async def serve(
    config: Config,
    connectors: Mapping[str, Any],
    ledger: Ledger,
    now: Callable[[], datetime],
    *,
    tick_seconds: float = 30.0,
    once: bool = False,
    report: Callable[[str], None] = print,
) -> None:
    """Tick until stopped (or once). Tenants whose config is broken are reported at the start
    (the config is read once) and never run; the others are."""
    await tick_until_stopped(
        config,
        now,
        lambda: tick(config, connectors, ledger, now),
        tick_seconds=tick_seconds,
        once=once,
        report=report,
    )


async def tick_until_stopped(
    config: Config,
    now: Callable[[], datetime],
    tick_once: Callable[[], Awaitable[list[tuple[str, str, str]]]],
    *,
    tick_seconds: float,
    once: bool,
    report: Callable[[str], None],
    logger: logging.Logger = log,
) -> None:
    """The loop of both schedulers (this one runs flows, the distributed one enqueues them):
    broken tenants reported once at the start, then every ``tick_seconds`` a tick, each of its
    outcomes ``(tenant, flow, what)`` reported as a line with the time. ``logger``: the
    scheduler's own, so an operator's log filter keeps seeing each scheduler under its name."""
    for line in config.broken_summary():
        logger.warning("%s", line)
        report(f"{now():%Y-%m-%d %H:%M:%S} UTC  {line}")
    while True:
        for tenant, flow, what in await tick_once():
            report(f"{now():%Y-%m-%d %H:%M:%S} UTC  {tenant}  {flow}: {what}")
        if once:
            return
        await asyncio.sleep(tick_seconds)
