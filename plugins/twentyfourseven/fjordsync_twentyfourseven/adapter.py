"""24SevenOffice as two systems, two adapters:

- ``TwentyFourSevenAdapter`` (the ERP, SOAP): projects and employees (CRM persons) as a source,
  hours as a target, and the work-type and salary-type code lists;
- ``PayrollAdapter`` (Lønn, REST): employees, employments and absences as a target.

Writing an hour is the one non-idempotent write: ``SaveHour`` with no Id makes a new hour every
time. Before any retry of a SaveHour whose outcome is unknown, the adapter looks the hour up
with ``GetHours`` by the marker it wrote into ``InternalNote``, so a lost answer never makes a
second hour.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any

from fjordsync.domain.model import (
    Absence,
    CodeItem,
    Employee,
    Employment,
    InvalidRecord,
    Project,
    TimeEntry,
)
from fjordsync.errors import Rejected, Unavailable
from fjordsync.ports import Query
from fjordsync_twentyfourseven import mapping
from fjordsync_twentyfourseven.client import (
    PAYROLL,
    OutcomeUnknown,
    PayrollClient,
    SoapClient,
)
from fjordsync_twentyfourseven.settings import PayrollSettings, TwentyFourSevenSettings

SAVE_ATTEMPTS = 5


def _soap_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _rows(result: Any, name: str) -> list[dict[str, Any]]:
    """zeep gives an array wrapper as a list (or None when empty)."""
    if not result:
        return []
    if isinstance(result, dict):
        return list(result.get(name) or [])
    return list(result)


class TwentyFourSevenAdapter:
    def __init__(self, soap: SoapClient) -> None:
        self.soap = soap

    @classmethod
    def from_settings(cls, settings: TwentyFourSevenSettings) -> TwentyFourSevenAdapter:
        return cls(
            SoapClient(
                api_url=str(settings.api_url),
                webservices_url=str(settings.webservices_url),
                application_id=settings.application_id.get_secret_value(),
                username=settings.username,
                password=settings.password.get_secret_value(),
                identity_id=settings.identity_id,
                requests_per_hour=settings.requests_per_hour,
                max_concurrency=settings.max_concurrency,
                timeout=settings.timeout_seconds,
            )
        )

    async def aclose(self) -> None:
        await self.soap.aclose()

    # -- projects ---------------------------------------------------------------------------
    async def read_projects(self, query: Query) -> Sequence[Project | InvalidRecord]:
        search: dict[str, Any] = {}
        if query.changed_since is not None:
            search["ChangedAfter"] = _soap_time(query.changed_since)
        wanted = sorted(query.scope.projects)
        if wanted and all(key.isdigit() for key in wanted):
            search["ProjectIds"] = {"int": [int(key) for key in wanted]}
        open_projects, deactivated = await asyncio.gather(
            self.soap.call("project", "GetProjectsDetailed", Ps=search),
            self.soap.call("project", "GetDeactivatedProjects", ps=search),
        )
        projects = [mapping.project(p, deactivated=False) for p in _rows(open_projects, "Project")]
        projects += [mapping.project(p, deactivated=True) for p in _rows(deactivated, "Project")]
        if wanted:
            projects = [p for p in projects if p.key.strip() in query.scope.projects]
        return projects

    # -- employees (CRM persons with an EmployeeId) ------------------------------------------
    async def read_employees(self, query: Query) -> Sequence[Employee | InvalidRecord]:
        search: dict[str, Any] = {"IsEmployee": "True"}
        if query.changed_since is not None:
            search["ChangedAfter"] = _soap_time(query.changed_since)
        people = _rows(
            await self.soap.call("person", "GetPersons", personSearch=search), "PersonItem"
        )
        employees = [mapping.person(p) for p in people]
        return [e for e in employees if query.scope.includes_employee(e.key)]

    # -- code lists ---------------------------------------------------------------------------
    async def read_codes(self, kind: str) -> Sequence[CodeItem]:
        if kind == "work_types":
            active, inactive = await asyncio.gather(
                self.soap.call("time", "GetWorkTypeList", wts={"Active": "True"}),
                self.soap.call("time", "GetWorkTypeList", wts={"Active": "False"}),
            )
            return [mapping.code_item(w) for w in _rows(active, "WorkType")] + [
                mapping.code_item(w, active=False) for w in _rows(inactive, "WorkType")
            ]
        if kind == "salary_types":
            rows = _rows(await self.soap.call("time", "GetSalaryTypes"), "SalaryType")
            return [mapping.code_item(s, active=bool(s.get("Active", True))) for s in rows]
        raise Rejected(
            f"24SevenOffice has no code list {kind!r} (work_types, salary_types)",
            system="24SevenOffice",
            operation="read_codes",
        )

    # -- hours ----------------------------------------------------------------------------------
    async def read_time_entries(self, query: Query) -> Sequence[TimeEntry | InvalidRecord]:
        search: dict[str, Any] = {}
        if query.period is not None:
            search["StartTime"] = f"{query.period.start.isoformat()}T00:00:00"
            if query.period.end is not None:
                search["StopTime"] = f"{query.period.end.isoformat()}T23:59:59"
        if query.changed_since is not None:
            search["ChangedAfter"] = _soap_time(query.changed_since)
        rows = _rows(await self.soap.call("time", "GetHours", hs=search), "Hour")
        return [mapping.time_entry(h) for h in rows]

    async def find_time_entry(
        self, entry: TimeEntry, marker: str, since: datetime | None = None
    ) -> str | None:
        """The Id of the hour written with ``marker``, looked up among the employee's hours
        registered since ``since`` (else those of the entry's day)."""
        search: dict[str, Any] = {"ContactId": int(entry.employee_key)}
        if since is not None:
            search["RegisteredAfter"] = _soap_time(since - timedelta(minutes=1))
        else:
            day = datetime.combine(entry.day, time(0), tzinfo=UTC)
            search["StartTime"] = _soap_time(day - timedelta(days=1))
            search["StopTime"] = _soap_time(day + timedelta(days=2))
        rows = _rows(await self.soap.call("time", "GetHours", hs=search), "Hour")
        found = [h for h in rows if h.get("InternalNote") == marker]
        return str(found[0]["Id"]) if found else None

    async def save_time_entry(self, entry: TimeEntry, marker: str) -> str:
        """Create (no target key) or update an hour; exactly once, whatever the network does."""
        started = datetime.now(UTC)
        body = mapping.hour(entry, marker)
        last: OutcomeUnknown | None = None
        for _ in range(SAVE_ATTEMPTS):
            if last is not None:
                found = await self.find_time_entry(entry, marker, since=started)
                if found is not None:
                    return found
            try:
                return str(await self.soap.call("time", "SaveHour", idempotent=False, Hour=body))
            except OutcomeUnknown as unknown:
                last = unknown
                await asyncio.sleep(0.05)
        found = await self.find_time_entry(entry, marker, since=started)
        if found is not None:
            return found
        raise Unavailable(
            f"SaveHour kept failing ({last}); the hour was not saved",
            system="24SevenOffice",
            operation="TimeService.SaveHour",
            record=entry.key,
        )


class PayrollAdapter:
    def __init__(self, payroll: PayrollClient) -> None:
        self.payroll = payroll

    @classmethod
    def from_settings(cls, settings: PayrollSettings) -> PayrollAdapter:
        return cls(
            PayrollClient(
                str(settings.payroll_url),
                settings.access_token.get_secret_value(),
                timeout=settings.timeout_seconds,
                max_concurrency=settings.max_concurrency,
            )
        )

    async def aclose(self) -> None:
        await self.payroll.aclose()

    async def read_employees(self, query: Query) -> Sequence[Employee | InvalidRecord]:
        response = await self.payroll.request("GET", "/employee/v2")
        employees = [mapping.payroll_employee(e) for e in response.json()]
        return [e for e in employees if query.scope.includes_employee(e.key)]

    async def create_employee(self, employee: Employee) -> str:
        body = mapping.payroll_employee_body(employee, defaults=True)
        response = await self.payroll.request(
            "POST", "/employee/v2", json=body, record=employee.key
        )
        if response.status_code == 409:  # it exists already: update it instead
            return await self.update_employee(employee.key, employee, ())
        return employee.key

    async def update_employee(
        self, target_key: str, employee: Employee, fields: Iterable[str]
    ) -> str:
        body = mapping.payroll_employee_body(employee, defaults=False)
        response = await self.payroll.request(
            "POST", f"/employee/v2/{target_key}", json=body, record=employee.key
        )
        if response.status_code == 409:
            raise Rejected(
                "payroll answered 409 to an update",
                system=PAYROLL,
                operation="POST /employee/v2/{empId}",
                record=employee.key,
            )
        return target_key

    async def read_employments(self, query: Query) -> Sequence[Employment | InvalidRecord]:
        employees = await self.read_employees(query)
        responses = await asyncio.gather(
            *(
                self.payroll.request("GET", f"/employment/v2/{e.key}", record=e.key)
                for e in employees
                if isinstance(e, Employee)
            )
        )
        return [mapping.payroll_employment(row) for r in responses for row in r.json()]

    async def save_employment(self, employment: Employment) -> str:
        body = [mapping.payroll_employment_body(employment)]
        response = await self.payroll.request(
            "POST",
            f"/employment/v2/{employment.employee_key}",
            json=body,
            record=employment.employee_key,
        )
        saved = response.json().get("employment_id") or []
        if not saved:
            raise Unavailable(
                "payroll saved the employment but gave no employment_id",
                system=PAYROLL,
                operation="POST /employment/v2/{empId}",
                record=employment.employee_key,
            )
        return str(saved[0])

    async def read_absences(self, query: Query) -> Sequence[Absence | InvalidRecord]:
        params: dict[str, str] = {}
        if query.period is not None:
            params["datefrom"] = query.period.start.isoformat()
            if query.period.end is not None:
                params["dateto"] = query.period.end.isoformat()
        response = await self.payroll.request("GET", "/absence/v2", params=params)
        absences = [mapping.payroll_absence(a) for a in response.json()]
        return [
            a
            for a in absences
            if isinstance(a, InvalidRecord) or query.scope.includes_employee(a.employee_key)
        ]

    async def save_absence(self, absence: Absence, number_of_days: int | None) -> str:
        body = mapping.payroll_absence_body(absence, number_of_days)
        for _ in range(SAVE_ATTEMPTS):
            try:
                response = await self.payroll.request(
                    "POST", "/absence/v2", json=body, record=absence.key, idempotent=False
                )
                return str(response.json()["serialNo"])
            except OutcomeUnknown:
                # The absence carries its externalId: find it before sending it again.
                found = await self._serial_of(absence)
                if found is not None:
                    return found
                await asyncio.sleep(0.05)
        raise Unavailable(
            "saving the absence kept failing; it was not saved",
            system=PAYROLL,
            operation="POST /absence/v2",
            record=absence.key,
        )

    async def _serial_of(self, absence: Absence) -> str | None:
        response = await self.payroll.request(
            "GET",
            f"/absence/v2/{absence.employee_key}",
            record=absence.key,
            params={"datefrom": absence.period.start.isoformat()},
        )
        for row in response.json():
            if row.get("externalId") == absence.key:
                return str(row["serialNo"])
        return None

    async def read_child_ids(self, employee_key: str) -> Sequence[str]:
        response = await self.payroll.request(
            "GET", f"/child/v2/{employee_key}", record=employee_key
        )
        return [str(child["childId"]) for child in response.json() if child.get("childId")]
