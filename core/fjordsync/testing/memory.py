"""An in-memory system that implements every port, and the built-in ``memory`` connector.

For tests of use cases (assert on end state, not on calls), for hosts embedding the core, and for
rehearsing a config without any vendor. ``read_only=True`` makes every write fail, which is how a
dry run is shown to write nothing. ``writes`` counts write calls, ``calls`` counts them by
operation.

``also_read`` holds records that reads return besides the dictionaries' (of the read's type,
unfiltered): a source holding two records with one key, or an ``InvalidRecord`` (by its
entity: employee, employment, compensation, absence, project, hour).

Faults, each an entry ``"operation"`` (the next call of it) or ``"operation:key"`` (the next
call for that record), spent when it fires:

- ``refuse``: the call fails with ``Unavailable`` and nothing is written;
- ``lose_answers``: the write is committed, then the call fails with ``Unavailable`` (the answer
  was lost on the way back);
- ``crash_after``: the write is committed, then the call raises ``RuntimeError`` (an adapter bug:
  not a ``ConnectorError``);
- ``kill_after``: the write is committed, then ``SimulatedKill`` (a ``BaseException``, like a
  cancelled task or a killed process) ends the whole run: nothing after it is recorded.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import BaseModel

from fjordsync.connectors import Connector
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
from fjordsync.errors import Rejected, Unavailable
from fjordsync.hookspecs import hookimpl
from fjordsync.ports import Query

__all__ = ["InMemorySystem", "MemorySettings", "SimulatedKill"]


class SimulatedKill(BaseException):
    """The process died right after a write was committed (see ``kill_after``)."""


# The entity an ``InvalidRecord`` in ``also_read`` names, by the read that returns it.
_ENTITIES = {
    Employee: "employee",
    Employment: "employment",
    Compensation: "compensation",
    Absence: "absence",
    Project: "project",
    TimeEntry: "hour",
}


def _in_period(query: Query, day: Any) -> bool:
    return query.period is None or day in query.period


@dataclass
class InMemorySystem:
    """A system of record held in dictionaries keyed by each record's key."""

    name: str = "memory"
    employees: dict[str, Employee] = field(default_factory=dict)
    employments: dict[str, Employment] = field(default_factory=dict)
    compensations: list[Compensation] = field(default_factory=list)
    absences: dict[str, Absence] = field(default_factory=dict)
    projects: dict[str, Project] = field(default_factory=dict)
    time_entries: dict[str, TimeEntry] = field(default_factory=dict)
    codes: dict[str, list[CodeItem]] = field(default_factory=dict)
    licenses: int = 1000
    read_only: bool = False
    writes: int = 0
    markers: dict[str, str] = field(default_factory=dict)  # marker -> target key
    exported: set[str] = field(default_factory=set)
    children: dict[str, list[str]] = field(default_factory=dict)
    refuse: set[str] = field(default_factory=set)
    lose_answers: set[str] = field(default_factory=set)
    crash_after: set[str] = field(default_factory=set)
    kill_after: set[str] = field(default_factory=set)
    calls: Counter[str] = field(default_factory=Counter)
    also_read: list[Any] = field(default_factory=list)
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def _write(self, operation: str, key: str) -> None:
        if self.read_only:
            raise Rejected(
                "this system refuses every write", system=self.name, operation=operation, record=key
            )
        if self._fires(self.refuse, operation, key):
            raise Unavailable("refused (fault)", system=self.name, operation=operation, record=key)
        self.writes += 1
        self.calls[operation] += 1

    @staticmethod
    def _fires(faults: set[str], operation: str, key: str) -> bool:
        for entry in (f"{operation}:{key}", operation):
            if entry in faults:
                faults.discard(entry)
                return True
        return False

    def _answer(self, operation: str, key: str) -> None:
        """Called once a write is committed: the faults that strike after it."""
        if self._fires(self.lose_answers, operation, key):
            raise Unavailable(
                "the answer was lost (fault)", system=self.name, operation=operation, record=key
            )
        if self._fires(self.crash_after, operation, key):
            raise RuntimeError(f"adapter bug (fault) after {operation}")
        if self._fires(self.kill_after, operation, key):
            raise SimulatedKill(operation, key)

    def _new_id(self) -> str:
        return f"{self.name}-{next(self._ids)}"

    def _also(self, kind: type) -> list[Any]:
        entity = _ENTITIES[kind]
        return [
            r
            for r in self.also_read
            if isinstance(r, kind) or (isinstance(r, InvalidRecord) and r.entity == entity)
        ]

    def _employee_in_scope(self, key: str, query: Query) -> bool:
        employee = self.employees.get(key)
        return query.scope.includes_employee(
            key,
            employee.department if employee else None,
            employee.office if employee else None,
        )

    @classmethod
    def from_settings(cls, settings: MemorySettings) -> InMemorySystem:
        return cls(
            name=settings.name,
            read_only=settings.read_only,
            licenses=settings.licenses,
            projects={project.key: project for project in settings.projects},
        )

    # employees
    async def read_employees(self, query: Query) -> Sequence[Employee]:
        return [
            e
            for e in self.employees.values()
            if self._employee_in_scope(e.key, query) and (not query.scope.active_only or e.active)
        ] + self._also(Employee)

    async def create_employee(self, employee: Employee) -> str:
        self._write("create_employee", employee.key)
        target_key = self._new_id()
        self.employees[employee.key] = replace(employee, target_key=target_key)
        self._answer("create_employee", employee.key)
        return target_key

    async def update_employee(
        self, target_key: str, employee: Employee, fields: Iterable[str]
    ) -> str:
        self._write("update_employee", employee.key)
        current = next(e for e in self.employees.values() if e.target_key == target_key)
        changes = {name: getattr(employee, name) for name in fields}
        self.employees[current.key] = replace(current, **changes)
        self._answer("update_employee", employee.key)
        return target_key

    # employments and compensations
    async def read_employments(self, query: Query) -> Sequence[Employment]:
        return [
            e for e in self.employments.values() if self._employee_in_scope(e.employee_key, query)
        ] + self._also(Employment)

    async def save_employment(self, employment: Employment) -> str:
        self._write("save_employment", employment.employee_key)
        target_key = employment.target_key or self._new_id()
        self.employments[target_key] = replace(employment, target_key=target_key)
        self._answer("save_employment", employment.employee_key)
        return target_key

    async def read_compensations(self, query: Query) -> Sequence[Compensation]:
        return [
            c for c in self.compensations if self._employee_in_scope(c.employee_key, query)
        ] + self._also(Compensation)

    # absences
    async def read_absences(self, query: Query) -> Sequence[Absence]:
        codes = query.scope.absence_codes
        return [
            a
            for a in self.absences.values()
            if self._employee_in_scope(a.employee_key, query)
            and (not codes or a.code.value in codes)
            and (query.period is None or a.period.overlaps(query.period))
        ] + self._also(Absence)

    async def save_absence(self, absence: Absence, number_of_days: int | None) -> str:
        self._write("save_absence", absence.key)
        target_key = absence.target_key or self._new_id()
        self.absences[absence.key] = replace(absence, target_key=target_key)
        self._answer("save_absence", absence.key)
        return target_key

    async def read_child_ids(self, employee_key: str) -> Sequence[str]:
        return list(self.children.get(employee_key, []))

    # projects
    async def read_projects(self, query: Query) -> Sequence[Project]:
        wanted = query.scope.projects
        return [
            p for p in self.projects.values() if not wanted or p.key.strip() in wanted
        ] + self._also(Project)

    async def create_project(self, project: Project) -> str:
        self._write("create_project", project.key)
        target_key = self._new_id()
        self.projects[project.key] = replace(project, target_key=target_key)
        self._answer("create_project", project.key)
        return target_key

    async def update_project(self, target_key: str, project: Project, fields: Iterable[str]) -> str:
        self._write("update_project", project.key)
        current = next(p for p in self.projects.values() if p.target_key == target_key)
        self.projects[current.key] = replace(
            current, **{name: getattr(project, name) for name in fields}
        )
        self._answer("update_project", project.key)
        return target_key

    # hours
    async def read_time_entries(self, query: Query) -> Sequence[TimeEntry]:
        return [
            t
            for t in self.time_entries.values()
            if self._employee_in_scope(t.employee_key, query) and _in_period(query, t.day)
        ] + self._also(TimeEntry)

    async def mark_exported(self, keys: Iterable[str], export_id: str) -> None:
        wanted = list(keys)
        if self._fires(self.kill_after, "mark_exported", ""):
            raise SimulatedKill("mark_exported")  # the process dies before SmartDok hears
        if self._fires(self.refuse, "mark_exported", ""):
            raise Unavailable("refused (fault)", system=self.name, operation="mark_exported")
        self.calls["mark_exported"] += 1
        self.exported.update(wanted)

    async def save_time_entry(self, entry: TimeEntry, marker: str) -> str:
        self._write("save_time_entry", entry.key)
        target_key = entry.target_key or self._new_id()
        self.time_entries[target_key] = replace(entry, target_key=target_key)
        self.markers[marker] = target_key
        self._answer("save_time_entry", entry.key)
        return target_key

    async def find_time_entry(self, entry: TimeEntry, marker: str, since: Any = None) -> str | None:
        return self.markers.get(marker)

    # code lists and licences
    async def read_codes(self, kind: str) -> Sequence[CodeItem]:
        return list(self.codes.get(kind, []))

    async def free_licenses(self) -> int:
        return self.licenses


class MemorySettings(BaseModel):
    """Settings of the ``memory`` connector."""

    model_config = {"extra": "forbid"}

    name: str = "memory"
    read_only: bool = False
    licenses: int = 1000
    # Projects to start with, so a config alone can make the memory system a flow's source
    # (``projects = [{ key = "P-1", name = "Kaia" }]``); the other records start empty.
    projects: list[Project] = []


@hookimpl
def fjordsync_register_connectors(register: Any) -> None:
    register(
        Connector(
            name="memory",
            title="In-memory system (tests, embedding, rehearsals)",
            settings=MemorySettings,
            adapter=InMemorySystem,
            system="memory",
            testing=True,
        )
    )
