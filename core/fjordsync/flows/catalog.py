"""The flows fjordsync runs, and the ports each needs from its source and target connection.

Config validation uses this to refuse a flow wired to a connector that cannot serve it.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FLOWS", "FlowDefinition"]


@dataclass(frozen=True, slots=True)
class FlowDefinition:
    name: str
    description: str
    source_ports: tuple[str, ...]
    target_ports: tuple[str, ...]


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
