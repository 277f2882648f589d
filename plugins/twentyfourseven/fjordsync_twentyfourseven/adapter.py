"""24SevenOffice as two systems, two adapters:

- ``TwentyFourSevenAdapter`` (the ERP, SOAP): projects and employees (CRM persons) as a source,
  hours as a target, and the work-type and salary-type code lists;
- ``PayrollAdapter`` (Lønn, REST): employees, employments and absences as a target.

**Exactly once**: what each write does when its outcome is unclear (a lost or cut answer, an
HTML page, a timeout after sending), before it is ever sent again:

- ``SaveHour`` (no Id: a new hour every time): never retried blind; the hour is looked up with
  ``GetHours`` by the marker in ``InternalNote`` (by the employee's hours registered since the
  first attempt, or, in a later run, those of the entry's day and then all the employee's
  hours, which also finds hours an older version saved without a StartTime); found is taken,
  not sent again.

**Hours without clock times** (SmartDok gave only NetHours) are sent with ``StartTime`` = 00:00
Europe/Oslo of their day (in UTC), no ``StopTime``, and ``TotalHours`` = the hours: an ERP hour
without a StartTime has no day, and GetHours, which filters periods by StartTime, finds it in no
period. Hours are read back by Norwegian days (a period's bounds are Oslo midnights), and each
carries as ``marker`` the fjordsync marker its ``InternalNote`` holds, so two ERP hours with one
SmartDok hour's marker can be told apart.
- employee create (``POST /employee/v2``): retried as it is; payroll answers 409 for an
  ``empId`` it has, and a 409 becomes an update, so a lost answer never makes a second one.
- employment upsert (``POST /employment/v2/{empId}``): with an ``employment_id`` it is an update
  and retried as it is; without one it creates, so an unclear outcome re-reads the employee's
  employments and takes the one equal to what was sent (same start date and every field sent)
  that did not exist before; only when none is there is it sent again.
- absence create (``POST /absence/v2``): carries ``externalId`` = the absence's key; an unclear
  outcome looks for that ``externalId`` among the employee's absences before sending again.

Free text sent to the ERP loses the characters XML 1.0 cannot carry
(``fjordsync.domain.rules.carriable_text``), so one NUL in a comment never fails a request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import replace
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
from fjordsync.domain.rules import carriable_text, local_to_utc
from fjordsync.errors import Rejected, Unavailable
from fjordsync.ports import Query
from fjordsync.transport import Unsettled, reconciling
from fjordsync_twentyfourseven import mapping
from fjordsync_twentyfourseven.client import (
    PAYROLL,
    SYSTEM,
    OutcomeUnknown,
    PayrollAnswer,
    PayrollClient,
    SoapClient,
)
from fjordsync_twentyfourseven.settings import PayrollSettings, TwentyFourSevenSettings

SAVE_ATTEMPTS = 5


def _carriable(text: str | None) -> str | None:
    return carriable_text(text)[0] if text else text


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
        projects = mapping.numbered(
            [
                *(mapping.project(p, deactivated=False) for p in _rows(open_projects, "Project")),
                *(mapping.project(p, deactivated=True) for p in _rows(deactivated, "Project")),
            ]
        )
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
        employees = mapping.numbered(mapping.person(p) for p in people)
        return [e for e in employees if query.scope.includes_employee(e.key)]

    # -- code lists ---------------------------------------------------------------------------
    async def read_codes(self, kind: str) -> Sequence[CodeItem]:
        if kind == "work_types":
            active, inactive = await asyncio.gather(
                self.soap.call("time", "GetWorkTypeList", wts={"Active": "True"}),
                self.soap.call("time", "GetWorkTypeList", wts={"Active": "False"}),
            )
            items = [mapping.code_item(w) for w in _rows(active, "WorkType")] + [
                mapping.code_item(w, active=False) for w in _rows(inactive, "WorkType")
            ]
            return [item for item in items if item is not None]
        if kind == "salary_types":
            rows = _rows(await self.soap.call("time", "GetSalaryTypes"), "SalaryType")
            items = [mapping.code_item(s, active=s.get("Active") is not False) for s in rows]
            return [item for item in items if item is not None]
        raise Rejected(
            f"24SevenOffice has no code list {kind!r} (work_types, salary_types)",
            system="24SevenOffice",
            operation="read_codes",
        )

    # -- hours ----------------------------------------------------------------------------------
    async def read_time_entries(self, query: Query) -> Sequence[TimeEntry | InvalidRecord]:
        search: dict[str, Any] = {}
        if query.period is not None:
            # The period's days are Norwegian days: from Oslo's midnight of the first (the
            # StartTime of an hour without clock times) to the last second before the next.
            search["StartTime"] = _soap_time(local_to_utc(query.period.start, time(0)))
            if query.period.end is not None:
                end = local_to_utc(query.period.end + timedelta(days=1), time(0))
                search["StopTime"] = _soap_time(end - timedelta(seconds=1))
        if query.changed_since is not None:
            search["ChangedAfter"] = _soap_time(query.changed_since)
        rows = _rows(await self.soap.call("time", "GetHours", hs=search), "Hour")
        return mapping.numbered(mapping.time_entry(h) for h in rows)

    async def find_time_entry(
        self, entry: TimeEntry, marker: str, since: datetime | None = None
    ) -> str | None:
        """The Id of the hour written with ``marker``: among the employee's hours registered
        since ``since`` when given (the same run); else among those of the entry's day (an hour
        without clock times starts at Oslo's midnight of it, the evening before in UTC, inside
        the search's two extra days), then among all the employee's hours, which finds an hour
        an older version saved without a StartTime (GetHours puts it in no period)."""
        contact = int(entry.employee_key)
        if since is not None:
            searches = [
                {"ContactId": contact, "RegisteredAfter": _soap_time(since - timedelta(minutes=1))}
            ]
        else:
            day = datetime.combine(entry.day, time(0), tzinfo=UTC)
            searches = [
                {
                    "ContactId": contact,
                    "StartTime": _soap_time(day - timedelta(days=1)),
                    "StopTime": _soap_time(day + timedelta(days=2)),
                },
                {"ContactId": contact},
            ]
        for search in searches:
            rows = _rows(await self.soap.call("time", "GetHours", hs=search), "Hour")
            for row in rows:
                if isinstance(row, dict) and row.get("InternalNote") == marker:
                    found = mapping.no_sentinel(row.get("Id"))
                    if isinstance(found, int) and found > 0:
                        return str(found)
        return None

    async def save_time_entry(self, entry: TimeEntry, marker: str) -> str:
        """Create (no target key) or update an hour; exactly once, whatever the network does:
        after an unclear outcome the hour is looked up by its marker before it is sent again
        (``fjordsync.transport.reconciling``)."""
        started = datetime.now(UTC)
        body = mapping.hour(replace(entry, comment=_carriable(entry.comment)), marker)
        last: Exception | None = None
        try:
            async for attempt in reconciling(self.soap.retry, attempts=SAVE_ATTEMPTS):
                with attempt:
                    again = attempt.retry_state.attempt_number > 1
                    return await self._save_hour_once(entry, marker, body, started, again)
        except Unsettled as unsettled:
            last = unsettled.cause
        found = await self.find_time_entry(entry, marker, since=started)
        if found is not None:
            return found
        raise Unavailable(
            f"SaveHour kept failing ({getattr(last, 'message', None) or 'no answer'}); "
            "the hour was not saved",
            system=SYSTEM,
            operation="TimeService.SaveHour",
            record=entry.key,
        )

    async def _save_hour_once(
        self,
        entry: TimeEntry,
        marker: str,
        body: dict[str, Any],
        started: datetime,
        again: bool,
    ) -> str:
        """One attempt: after an unclear one the marker's look-up first, then ``SaveHour``;
        ``Unsettled`` when the outcome is unclear again."""
        if again:
            found = await self.find_time_entry(entry, marker, since=started)
            if found is not None:
                return found
        try:
            saved = await self.soap.call("time", "SaveHour", idempotent=False, Hour=body)
        except OutcomeUnknown as unknown:
            raise Unsettled(unknown) from None
        except Rejected as rejected:
            raise Rejected(
                rejected.message, system=SYSTEM, operation=rejected.operation, record=entry.key
            ) from None
        saved = mapping.no_sentinel(saved)
        if isinstance(saved, int) and saved > 0:
            return str(saved)
        # Saved, but the answer holds no Id: the marker finds it.
        raise Unsettled(
            OutcomeUnknown(
                "SaveHour answered without the hour's Id",
                system=SYSTEM,
                operation="TimeService.SaveHour",
                record=entry.key,
            )
        )


def _list(answer: PayrollAnswer, operation: str, record: str | None = None) -> list[Any]:
    """A payroll list answer; anything else is a failure of that request (never guessed)."""
    if isinstance(answer.body, list):
        return answer.body
    raise Unavailable(
        "payroll answered with something other than a list",
        system=PAYROLL,
        operation=operation,
        record=record,
    )


def _field(answer: PayrollAnswer, name: str) -> Any:
    return answer.body.get(name) if isinstance(answer.body, dict) else None


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
        employees = mapping.numbered(
            mapping.payroll_employee(e) for e in _list(response, "GET /employee/v2")
        )
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
        # An update sends ``internationalID`` whole, and payroll replaces the object: read what
        # it holds first and keep the keys we do not own (the id's ``type``, written on create
        # and perhaps changed by a clerk since), so an update never drops them.
        current = await self.payroll.request(
            "GET", f"/employee/v2/{target_key}", record=employee.key
        )
        held = _list(current, "GET /employee/v2/{empId}", employee.key)
        existing = held[0].get("internationalID") if held and isinstance(held[0], dict) else None
        if isinstance(existing, dict):
            body["internationalID"] = {**existing, **body["internationalID"]}
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
        return mapping.numbered(
            mapping.payroll_employment(row)
            for r in responses
            for row in _list(r, "GET /employment/v2/{empId}")
        )

    async def save_employment(self, employment: Employment) -> str:
        item = mapping.payroll_employment_body(employment)
        operation = "POST /employment/v2/{empId}"
        path = f"/employment/v2/{employment.employee_key}"
        record = employment.employee_key
        if employment.target_key:  # an update by employment_id: the same request is harmless
            response = await self.payroll.request("POST", path, json=[item], record=record)
            return self._employment_id(response, operation, record)
        before = {row.get("employment_id") for row in await self._employments_of(record)}

        async def once() -> str:
            try:
                response = await self.payroll.request(
                    "POST", path, json=[item], record=record, idempotent=False
                )
                return self._employment_id(response, operation, record)
            except OutcomeUnknown as unknown:
                found = await self._created_employment(record, item, before)
                if found is not None:
                    return found
                raise Unsettled(unknown) from None

        try:
            async for attempt in reconciling(self.payroll.retry, attempts=SAVE_ATTEMPTS):
                with attempt:
                    return await once()
        except Unsettled as unsettled:
            last = unsettled.cause
        raise Unavailable(
            f"saving the employment kept failing ({getattr(last, 'message', '')}); "
            "it was not saved",
            system=PAYROLL,
            operation=operation,
            record=record,
        )

    @staticmethod
    def _employment_id(response: PayrollAnswer, operation: str, record: str) -> str:
        saved = _field(response, "employment_id")
        if not isinstance(saved, list) or not saved or not isinstance(saved[0], str | int):
            raise Unavailable(
                "payroll saved the employment but gave no employment_id",
                system=PAYROLL,
                operation=operation,
                record=record,
            )
        return str(saved[0])

    async def _employments_of(self, emp_id: str) -> list[dict[str, Any]]:
        response = await self.payroll.request("GET", f"/employment/v2/{emp_id}", record=emp_id)
        rows = _list(response, "GET /employment/v2/{empId}", emp_id)
        return [row for row in rows if isinstance(row, dict)]

    async def _created_employment(
        self, emp_id: str, sent: dict[str, Any], before: set[Any]
    ) -> str | None:
        """The employment a create whose answer was lost made: new since ``before`` and equal
        to what was sent in every field (payroll echoes each as the string it was given)."""
        for row in await self._employments_of(emp_id):
            if row.get("employment_id") in before or not row.get("employment_id"):
                continue
            if all(str(row.get(name, "")).strip() == value for name, value in sent.items()):
                return str(row["employment_id"])
        return None

    async def read_absences(self, query: Query) -> Sequence[Absence | InvalidRecord]:
        params: dict[str, str] = {}
        if query.period is not None:
            params["datefrom"] = query.period.start.isoformat()
            if query.period.end is not None:
                params["dateto"] = query.period.end.isoformat()
        response = await self.payroll.request("GET", "/absence/v2", params=params)
        absences = mapping.numbered(
            mapping.payroll_absence(a) for a in _list(response, "GET /absence/v2")
        )
        return [
            a
            for a in absences
            if isinstance(a, InvalidRecord) or query.scope.includes_employee(a.employee_key)
        ]

    async def save_absence(self, absence: Absence, number_of_days: int | None) -> str:
        body = mapping.payroll_absence_body(absence, number_of_days)
        if absence.target_key:  # an update by serialNo: the same request is harmless
            response = await self.payroll.request(
                "POST", "/absence/v2", json=body, record=absence.key
            )
            return self._serial_no(response, absence)

        async def once() -> str:
            try:
                response = await self.payroll.request(
                    "POST", "/absence/v2", json=body, record=absence.key, idempotent=False
                )
                return self._serial_no(response, absence)
            except OutcomeUnknown as unknown:
                # The absence carries its externalId: find it before sending it again.
                found = await self._serial_of(absence)
                if found is not None:
                    return found
                raise Unsettled(unknown) from None

        try:
            async for attempt in reconciling(self.payroll.retry, attempts=SAVE_ATTEMPTS):
                with attempt:
                    return await once()
        except Unsettled:
            pass
        raise Unavailable(
            "saving the absence kept failing; it was not saved",
            system=PAYROLL,
            operation="POST /absence/v2",
            record=absence.key,
        )

    @staticmethod
    def _serial_no(response: PayrollAnswer, absence: Absence) -> str:
        serial = _field(response, "serialNo")
        if not isinstance(serial, str | int) or not str(serial).strip():
            raise Unavailable(
                "payroll saved the absence but gave no serialNo",
                system=PAYROLL,
                operation="POST /absence/v2",
                record=absence.key,
            )
        return str(serial)

    async def _serial_of(self, absence: Absence) -> str | None:
        response = await self.payroll.request(
            "GET",
            f"/absence/v2/{absence.employee_key}",
            record=absence.key,
            params={"datefrom": absence.period.start.isoformat()},
        )
        for row in _list(response, "GET /absence/v2/{empId}", absence.key):
            if (
                isinstance(row, dict)
                and row.get("externalId") == absence.key
                and row.get("serialNo")
            ):
                return str(row["serialNo"])
        return None

    async def read_child_ids(self, employee_key: str) -> Sequence[str]:
        response = await self.payroll.request(
            "GET", f"/child/v2/{employee_key}", record=employee_key
        )
        rows = _list(response, "GET /child/v2/{empId}", employee_key)
        return [
            str(child["childId"])
            for child in rows
            if isinstance(child, dict)
            and isinstance(child.get("childId"), str | int)
            and str(child["childId"]).strip()
        ]
