"""Ports: what the use cases need from the outside world, as async Protocols.

Adapters (connector plugins, a host product's own objects, the in-memory fakes of
``fjordsync.testing``) implement them. Ports speak domain types only: an adapter takes and
returns ``Employee``, never vendor JSON, and raises only the ``fjordsync.errors`` tree.

A reader returns the records it could map and, for each one it could not, an ``InvalidRecord``
naming the record and the field: one bad record never hides the others.

Reading takes a ``Query`` (all records, records changed since a time, in a period, in a scope);
writing returns the key the target system gave the record. The clock is a port too, so the core
never reads the time itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from fjordsync.domain.model import (
    Absence,
    CodeItem,
    Compensation,
    Employee,
    Employment,
    InvalidRecord,
    Project,
    TimeEntry,
)
from fjordsync.domain.problems import Problem
from fjordsync.domain.values import DateRange

__all__ = [
    "PORTS",
    "AbsenceReader",
    "AbsenceWriter",
    "AbsencesSource",
    "AbsencesTarget",
    "ChildReader",
    "Clock",
    "CodeField",
    "CodeListReader",
    "CompensationReader",
    "EmployeeReader",
    "EmployeeWriter",
    "EmployeesSource",
    "EmployeesTarget",
    "EmploymentReader",
    "EmploymentWriter",
    "ExportMarker",
    "HoursSource",
    "HoursTarget",
    "LicenseReader",
    "PayrollEmployeesSource",
    "PayrollEmployeesTarget",
    "ProjectReader",
    "ProjectWriter",
    "ProjectsSource",
    "ProjectsTarget",
    "Query",
    "SavedOutcome",
    "Scope",
    "SyncState",
    "TimeEntryReader",
    "TimeEntryWriter",
    "Wording",
    "ports_of",
]


@dataclass(frozen=True, slots=True)
class Scope:
    """Which records a run covers. Empty sets mean "no restriction".

    Employee filters cascade: hours and absences of employees outside the scope are out too.
    """

    employees: frozenset[str] = frozenset()
    exclude_employees: frozenset[str] = frozenset()
    departments: frozenset[str] = frozenset()
    offices: frozenset[str] = frozenset()
    projects: frozenset[str] = frozenset()
    absence_codes: frozenset[str] = frozenset()
    active_only: bool = False
    record_keys: frozenset[str] = frozenset()  # only these records (a retry of failed ones)

    def includes_employee(
        self, key: str, department: str | None = None, office: str | None = None
    ) -> bool:
        key = key.strip()
        if key in self.exclude_employees:
            return False
        if self.employees and key not in self.employees:
            return False
        if self.departments and department not in self.departments:
            return False
        return not (self.offices and office not in self.offices)


@dataclass(frozen=True, slots=True)
class Query:
    """What to read: ``changed_since`` for incremental reads, ``period`` for dated records.

    ``mapping`` carries the flow's mapping tables (e.g. ``absence_types``: leave type id or
    name -> payroll code) for sources that translate their own codes into the domain's.
    """

    scope: Scope = field(default_factory=Scope)
    changed_since: datetime | None = None
    period: DateRange | None = None
    mapping: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CodeField:
    """How a system names one of the codes flows match on, and where a person edits it.

    ``label`` is what the record holding the code is called ("user", "activity"); ``name`` the
    code field's own name ("Contact id", "Kode"); ``noun`` the code as a sentence names it
    ("employee number"); ``where`` where it is edited (a menu path); ``fix`` the edit that
    corrects a code matching nothing on the other side, as one phrase."""

    label: str = ""
    name: str = ""
    noun: str = ""
    where: str = ""
    fix: str = ""


@dataclass(frozen=True, slots=True)
class Wording:
    """What a connector tells the core about its system, so that the core's messages name it
    without knowing it: the system's name (and a short one), its codes by subject
    (``employee``, ``project``, ``activity``, ``wage``) and its limits by field
    (``project.name``: characters; ``time_entry.hours``: hours one entry may hold). A connector
    registers it (``Connector(wording=...)``); the runner puts both sides' into the run."""

    system: str
    short: str = ""
    codes: Mapping[str, CodeField] = field(default_factory=dict)
    limits: Mapping[str, int] = field(default_factory=dict)

    def __hash__(self) -> int:
        # Frozen, yet its mappings are not hashable: hash their items, so a Connector holding a
        # Wording can still key a dict (config check groups flows by connector).
        return hash(
            (self.system, self.short, tuple(sorted(self.codes.items())), tuple(self.limits.items()))
        )

    def code(self, subject: str) -> CodeField:
        """The code field of ``subject``; plain words when the system described none."""
        return self.codes.get(subject) or CodeField(
            label=subject, name=f"{subject} code", noun=f"{subject} code", where="its settings"
        )

    def limit(self, what: str) -> int | None:
        return self.limits.get(what)

    @property
    def short_name(self) -> str:
        return self.short or self.system


@runtime_checkable
class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware."""
        ...


@runtime_checkable
class EmployeeReader(Protocol):
    async def read_employees(self, query: Query) -> Sequence[Employee | InvalidRecord]: ...


@runtime_checkable
class EmployeeWriter(Protocol):
    async def create_employee(self, employee: Employee) -> str:
        """Create the employee; returns the target's key for it."""
        ...

    async def update_employee(
        self, target_key: str, employee: Employee, fields: Iterable[str]
    ) -> str:
        """Overwrite only ``fields`` (domain field names) of the target record."""
        ...


@runtime_checkable
class EmploymentReader(Protocol):
    async def read_employments(self, query: Query) -> Sequence[Employment | InvalidRecord]: ...


@runtime_checkable
class EmploymentWriter(Protocol):
    async def save_employment(self, employment: Employment) -> str:
        """Create or update (by ``target_key``) an employment; returns its target key."""
        ...


@runtime_checkable
class CompensationReader(Protocol):
    async def read_compensations(self, query: Query) -> Sequence[Compensation | InvalidRecord]: ...


@runtime_checkable
class AbsenceReader(Protocol):
    async def read_absences(self, query: Query) -> Sequence[Absence | InvalidRecord]: ...


@runtime_checkable
class AbsenceWriter(Protocol):
    async def save_absence(self, absence: Absence, number_of_days: int | None) -> str:
        """Create or update (by ``target_key``) an absence; returns its target key."""
        ...


@runtime_checkable
class ChildReader(Protocol):
    async def read_child_ids(self, employee_key: str) -> Sequence[str]:
        """The target's ids of an employee's children (payroll needs one for sick child)."""
        ...


@runtime_checkable
class ProjectReader(Protocol):
    async def read_projects(self, query: Query) -> Sequence[Project | InvalidRecord]: ...


@runtime_checkable
class ProjectWriter(Protocol):
    async def create_project(self, project: Project) -> str: ...

    async def update_project(
        self, target_key: str, project: Project, fields: Iterable[str]
    ) -> str: ...


@runtime_checkable
class TimeEntryReader(Protocol):
    async def read_time_entries(self, query: Query) -> Sequence[TimeEntry | InvalidRecord]: ...


@runtime_checkable
class ExportMarker(Protocol):
    async def mark_exported(self, keys: Iterable[str], export_id: str) -> None:
        """Tell the source these time entries have been taken by the target."""
        ...


@runtime_checkable
class TimeEntryWriter(Protocol):
    async def save_time_entry(self, entry: TimeEntry, marker: str) -> str:
        """Create (no ``target_key``) or update an entry; ``marker`` is written into the target
        record so that a write whose answer was lost can be found again."""
        ...

    async def find_time_entry(
        self, entry: TimeEntry, marker: str, since: datetime | None = None
    ) -> str | None:
        """The target key of an entry written earlier with ``marker`` (since ``since``, when
        given), if the target has it."""
        ...


@runtime_checkable
class CodeListReader(Protocol):
    async def read_codes(self, kind: str) -> Sequence[CodeItem]:
        """A code list by kind: ``work_types`` and ``salary_types`` (24SevenOffice),
        ``activities`` and ``wages`` (SmartDok)."""
        ...


@runtime_checkable
class LicenseReader(Protocol):
    async def free_licenses(self) -> int: ...


# What each flow needs of its source and its target, as one Protocol per side (the flow's
# signature takes it; the config refuses a connection whose connector lacks a part of it).


@runtime_checkable
class ProjectsSource(ProjectReader, Protocol): ...


@runtime_checkable
class ProjectsTarget(ProjectReader, ProjectWriter, Protocol): ...


@runtime_checkable
class EmployeesSource(EmployeeReader, Protocol): ...


@runtime_checkable
class EmployeesTarget(EmployeeReader, EmployeeWriter, LicenseReader, Protocol): ...


@runtime_checkable
class HoursSource(
    TimeEntryReader, ExportMarker, CodeListReader, EmployeeReader, ProjectReader, Protocol
):
    """Hours' source: its entries, marks and code lists; its users and projects for the check."""


@runtime_checkable
class HoursTarget(
    TimeEntryWriter, CodeListReader, EmployeeReader, ProjectReader, TimeEntryReader, Protocol
): ...


@runtime_checkable
class PayrollEmployeesSource(EmployeeReader, EmploymentReader, CompensationReader, Protocol): ...


@runtime_checkable
class PayrollEmployeesTarget(
    EmployeeReader, EmployeeWriter, EmploymentReader, EmploymentWriter, Protocol
): ...


@runtime_checkable
class AbsencesSource(AbsenceReader, Protocol): ...


@runtime_checkable
class AbsencesTarget(AbsenceReader, AbsenceWriter, EmployeeReader, ChildReader, Protocol): ...


# The ports a connector may implement, by name: its capabilities are checked against these.
PORTS: dict[str, type] = {
    "EmployeeReader": EmployeeReader,
    "EmployeeWriter": EmployeeWriter,
    "EmploymentReader": EmploymentReader,
    "EmploymentWriter": EmploymentWriter,
    "CompensationReader": CompensationReader,
    "AbsenceReader": AbsenceReader,
    "AbsenceWriter": AbsenceWriter,
    "ChildReader": ChildReader,
    "ProjectReader": ProjectReader,
    "ProjectWriter": ProjectWriter,
    "TimeEntryReader": TimeEntryReader,
    "ExportMarker": ExportMarker,
    "TimeEntryWriter": TimeEntryWriter,
    "CodeListReader": CodeListReader,
    "LicenseReader": LicenseReader,
}


def ports_of(protocol: type) -> tuple[str, ...]:
    """The names of the ports (``PORTS``) a flow side's Protocol is made of, in its order."""
    by_class = {port: name for name, port in PORTS.items()}
    return tuple(by_class[cls] for cls in protocol.__mro__ if cls in by_class)


@dataclass(frozen=True, slots=True)
class SavedOutcome:
    """One record's outcome in a run, as ``SyncState.save_outcomes`` keeps it: its run item
    and, when ``target_key`` is set (a write that got through), its link, the end of its pending
    marker and, with ``owed_mark``, the source mark it owes. ``label`` is what a clerk
    recognises the record by and ``problem`` what is wrong with it, kept to group a run's
    problems by cause."""

    key: str
    action: str
    outcome: str
    message: str | None = None
    changed_fields: tuple[str, ...] = ()
    target_key: str | None = None
    fingerprint: str | None = None
    owed_mark: str | None = None
    label: str | None = None
    problem: Problem | None = None


@runtime_checkable
class SyncState(Protocol):
    """What a flow records as it runs: the ledger, seen through the core's eyes."""

    @property
    def fingerprint_key(self) -> bytes:
        """The key a flow's fingerprints are made with (read only: the ledger keeps it)."""
        ...

    def links(self, tenant: str, flow: str, entity: str) -> Mapping[str, Any]: ...

    def record_item(
        self,
        run_id: int,
        *,
        entity: str,
        key: str,
        action: str,
        outcome: str,
        message: str | None = None,
        changed_fields: tuple[str, ...] = (),
        label: str | None = None,
        problem: Problem | None = None,
    ) -> None: ...

    def record_write(
        self,
        run_id: int,
        *,
        tenant: str,
        flow: str,
        entity: str,
        source_key: str,
        target_key: str,
        fingerprint: str,
        action: str,
        changed_fields: tuple[str, ...] = (),
        message: str | None = None,
        owed_mark: str | None = None,
    ) -> None:
        """Save a write's link and item, end its pending write and, with ``owed_mark``, note
        in the same transaction that the source is owed a mark (an export id) for it."""
        ...

    def owed_marks(self, tenant: str, flow: str) -> Mapping[str, str]:
        """Source key -> export id of marks owed to the source and not yet taken by it."""
        ...

    def settle_marks(self, tenant: str, flow: str, keys: Iterable[str]) -> None: ...

    def begin_write(
        self, run_id: int, *, tenant: str, flow: str, entity: str, source_key: str, marker: str
    ) -> None: ...

    def begin_writes(
        self, run_id: int, *, tenant: str, flow: str, entity: str, markers: Mapping[str, str]
    ) -> None:
        """``begin_write`` for many records (source key -> marker) in one transaction, saved
        before any of those writes is sent."""
        ...

    def save_outcomes(
        self,
        run_id: int,
        *,
        tenant: str,
        flow: str,
        entity: str,
        outcomes: Sequence[SavedOutcome],
        unsent: Iterable[str] = (),
    ) -> None:
        """Save many records' outcomes in one transaction, in order: each one's run item and,
        for a write, what ``record_write`` saves with it; ``unsent`` ends the pending markers of
        writes that were marked ahead and never sent."""
        ...

    def pending_writes(self, tenant: str, flow: str, entity: str) -> Mapping[str, str]: ...

    def forget_pending(self, *, tenant: str, flow: str, entity: str, source_key: str) -> None: ...

    def cursor(self, tenant: str, flow: str, name: str) -> str | None: ...

    def advance_cursor(self, tenant: str, flow: str, name: str, value: str) -> None: ...
