"""The flows fjordsync runs: one ``Flow`` value per flow, the only list of them.

The runner runs a flow through its ``run``, the preflight through its ``check``; the config
refuses a connection whose connector lacks a port of the flow's ``source`` or ``target``
Protocol; ``fjordsync plugins`` shows the flows each connector serves (``flows_served``); the demo
wires its connections by the flow's ``roles``. A new flow is one function and one ``Flow`` value
added to ``FLOWS`` (``register``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from fjordsync.domain.values import DateRange
from fjordsync.flows import absences, employees, hours, payroll_employees, preflight, projects
from fjordsync.flows.common import FlowContext, RunResult
from fjordsync.flows.preflight import Finding
from fjordsync.ports import (
    AbsencesSource,
    AbsencesTarget,
    EmployeesSource,
    EmployeesTarget,
    HoursSource,
    HoursTarget,
    PayrollEmployeesSource,
    PayrollEmployeesTarget,
    ProjectsSource,
    ProjectsTarget,
    Wording,
    ports_of,
)

__all__ = ["FLOWS", "Flow", "FlowCheck", "FlowRun", "flows_served", "register"]

# run(context, source, target) or, for a flow that takes a period, with ``period=`` too.
FlowRun = Callable[..., Awaitable[RunResult]]
# check(source, target, *, today, mapping, source_wording, target_wording, tenant, flow): the
# read-only preflight review; ``tenant`` and ``flow`` name the config's table of the flow, so a
# finding can say what to add there.
FlowCheck = Callable[..., Awaitable[list[Finding]]]


@dataclass(frozen=True, slots=True)
class Flow:
    """One flow: what it needs of each side (a Protocol combining ports), how to run and check
    it, and whether it covers a period (``default_period(now)`` when the user gives none)."""

    name: str
    description: str
    source: type
    target: type
    run: FlowRun
    check: FlowCheck | None = None
    default_period: Callable[[datetime], DateRange] | None = None
    roles: tuple[str, str] = ("source", "target")  # the demo names its connections so

    @property
    def takes_period(self) -> bool:
        return self.default_period is not None

    @property
    def source_ports(self) -> tuple[str, ...]:
        return ports_of(self.source)

    @property
    def target_ports(self) -> tuple[str, ...]:
        return ports_of(self.target)

    def sides(self, capabilities: tuple[str, ...] | list[str]) -> tuple[str, ...]:
        """The sides of this flow ("source", "target") a connector with these ports can take."""
        have = set(capabilities)
        return tuple(
            side
            for side, ports in (("source", self.source_ports), ("target", self.target_ports))
            if set(ports) <= have
        )

    async def start(
        self, context: FlowContext, source: Any, target: Any, period: DateRange | None = None
    ) -> RunResult:
        """Run it: with ``period`` (else its default) when it takes one."""
        if self.default_period is None:
            return await self.run(context, source, target)
        return await self.run(
            context, source, target, period=period or self.default_period(context.now)
        )

    async def review(
        self,
        source: Any,
        target: Any,
        *,
        today: date,
        mapping: Mapping[str, Any],
        source_wording: Wording | None = None,
        target_wording: Wording | None = None,
        tenant: str = "<tenant>",
    ) -> list[Finding]:
        """Its preflight findings (none for a flow without a check); ``tenant`` is whose config
        a finding's fix is worded for."""
        if self.check is None:
            return []
        return await self.check(
            source,
            target,
            today=today,
            mapping=mapping,
            source_wording=source_wording or Wording("the source"),
            target_wording=target_wording or Wording("the target"),
            tenant=tenant,
            flow=self.name,
        )


FLOWS: dict[str, Flow] = {}


def register(flow: Flow) -> Flow:
    """Add ``flow`` to ``FLOWS`` (a flow of that name is replaced)."""
    FLOWS[flow.name] = flow
    return flow


def flows_served(capabilities: tuple[str, ...] | list[str]) -> dict[str, tuple[str, ...]]:
    """Per flow, the sides a connector with these ports can take (flows it cannot serve left
    out): what `fjordsync plugins` shows instead of port names."""
    served = {name: flow.sides(capabilities) for name, flow in FLOWS.items()}
    return {name: sides for name, sides in served.items() if sides}


for _flow in (
    Flow(
        "projects",
        "projects from the ERP to time registration",
        ProjectsSource,
        ProjectsTarget,
        projects.run,
        preflight.check_projects,
        roles=("erp", "time"),
    ),
    Flow(
        "employees",
        "employees from the ERP to time registration",
        EmployeesSource,
        EmployeesTarget,
        employees.run,
        preflight.check_employees,
        roles=("erp", "time"),
    ),
    Flow(
        "hours",
        "approved hours from time registration to the ERP",
        HoursSource,
        HoursTarget,
        hours.run,
        preflight.check_hours,
        default_period=hours.default_period,
        roles=("time", "erp"),
    ),
    Flow(
        "payroll-employees",
        "employees, employment and salary from HR to payroll",
        PayrollEmployeesSource,
        PayrollEmployeesTarget,
        payroll_employees.run,
        preflight.check_payroll_employees,
        roles=("hr", "payroll"),
    ),
    Flow(
        "absences",
        "absences from HR to payroll",
        AbsencesSource,
        AbsencesTarget,
        absences.run,
        preflight.check_absences,
        default_period=hours.default_period,
        roles=("hr", "payroll"),
    ),
):
    register(_flow)
