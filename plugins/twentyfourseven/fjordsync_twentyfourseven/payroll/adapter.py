"""24SevenOffice Lønn (payroll, REST) as ``PayrollAdapter``: employees, employments and
absences as a target.

**Exactly once**: what each write does when its outcome is unclear (a lost or cut answer, an
HTML page, a timeout after sending), before it is ever sent again
(``fjordsync.transport.reconciling``):

- employee create (``POST /employee/v2``): retried as it is; payroll answers 409 for an
  ``empId`` it has, and a 409 becomes an update, so a lost answer never makes a second one.
- employment upsert (``POST /employment/v2/{empId}``): with an ``employment_id`` it is an update
  and retried as it is; without one it creates, so an unclear outcome re-reads the employee's
  employments and takes the one equal to what was sent (same start date and every field sent)
  that did not exist before; only when none is there is it sent again.
- absence create (``POST /absence/v2``): carries ``externalId`` = the absence's key; an unclear
  outcome looks for that ``externalId`` among the employee's absences before sending again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Any

from fjordsync.domain.model import (
    Absence,
    Employee,
    Employment,
    InvalidRecord,
)
from fjordsync.errors import Rejected, Unavailable
from fjordsync.ports import Query
from fjordsync.transport import Unsettled, reconciling
from fjordsync_twentyfourseven.payroll import mapping
from fjordsync_twentyfourseven.payroll.client import PayrollAnswer, PayrollClient
from fjordsync_twentyfourseven.settings import PayrollSettings
from fjordsync_twentyfourseven.shared import PAYROLL, OutcomeUnknown, numbered

SAVE_ATTEMPTS = 5


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
        employees = numbered(
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
        return numbered(
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
        absences = numbered(mapping.payroll_absence(a) for a in _list(response, "GET /absence/v2"))
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
