"""The flows fjordsync runs, and the ports each needs from its source and target connection.

Config validation uses this to refuse a flow wired to a connector that cannot serve it.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FLOWS", "FlowDefinition", "flows_served"]


@dataclass(frozen=True, slots=True)
class FlowDefinition:
    name: str
    description: str
    source_ports: tuple[str, ...]
    target_ports: tuple[str, ...]

    def sides(self, capabilities: tuple[str, ...] | list[str]) -> tuple[str, ...]:
        """The sides of this flow ("source", "target") a connector with these ports can take."""
        have = set(capabilities)
        return tuple(
            side
            for side, ports in (("source", self.source_ports), ("target", self.target_ports))
            if set(ports) <= have
        )


def flows_served(capabilities: tuple[str, ...] | list[str]) -> dict[str, tuple[str, ...]]:
    """Per flow, the sides a connector with these ports can take (flows it cannot serve left
    out): what `fjordsync plugins` shows instead of port names."""
    served = {name: flow.sides(capabilities) for name, flow in FLOWS.items()}
    return {name: sides for name, sides in served.items() if sides}


FLOWS: dict[str, FlowDefinition] = {
    flow.name: flow
    for flow in (
        FlowDefinition(
            "projects",
            "projects from the ERP (24SevenOffice) to time registration (SmartDok)",
            ("ProjectReader",),
            ("ProjectReader", "ProjectWriter"),
        ),
        FlowDefinition(
            "employees",
            "employees from the ERP (24SevenOffice) to time registration (SmartDok)",
            ("EmployeeReader",),
            ("EmployeeReader", "EmployeeWriter", "LicenseReader"),
        ),
        FlowDefinition(
            "hours",
            "approved hours from time registration (SmartDok) to the ERP (24SevenOffice)",
            ("TimeEntryReader", "ExportMarker", "CodeListReader"),
            ("TimeEntryWriter", "CodeListReader", "EmployeeReader", "ProjectReader"),
        ),
        FlowDefinition(
            "payroll-employees",
            "employees, employment and salary from HR (AlexisHR) to payroll (24SevenOffice Lønn)",
            ("EmployeeReader", "EmploymentReader", "CompensationReader"),
            ("EmployeeReader", "EmployeeWriter", "EmploymentReader", "EmploymentWriter"),
        ),
        FlowDefinition(
            "absences",
            "absences from HR (AlexisHR) to payroll (24SevenOffice Lønn)",
            ("AbsenceReader",),
            ("AbsenceReader", "AbsenceWriter", "EmployeeReader", "ChildReader"),
        ),
    )
}
