"""AlexisHR as a source: implements EmployeeReader, EmploymentReader, CompensationReader and
AbsenceReader with the client and the pure mapping.

Scopes are pushed down to the API where it can filter (employee numbers, departments, offices,
active, employee ids for the records that hang off an employee, leave periods and statuses) and
the rest is filtered here. Employees and employments are read incrementally with
``filters[updated][$gte]``; compensations and leaves have no such field and are re-read (leaves
by period).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fjordsync.domain.codes import LeaveStatus
from fjordsync.domain.model import Absence, Compensation, Employee, Employment, InvalidRecord
from fjordsync.ports import Query, Scope
from fjordsync_alexis import mapping
from fjordsync_alexis.client import AlexisClient, Params, RetryPolicy
from fjordsync_alexis.settings import AlexisSettings

# Ids sent in one $in filter at most; beyond that the list is read whole and filtered here,
# which keeps URLs short whatever the scope.
MAX_IDS_IN_FILTER = 50
# PENDING leaves are not exported and may still change; the others are returned with their
# status: DENIED and CANCELLED ones let a flow see a leave withdrawn after export.
READ_STATUSES = tuple(s.value for s in LeaveStatus if s is not LeaveStatus.PENDING)


@dataclass(frozen=True)
class _Person:
    number: str
    department: str | None
    office: str | None
    active: bool


def _iso(moment: Any) -> str:
    return moment.isoformat()


class AlexisAdapter:
    def __init__(self, client: AlexisClient) -> None:
        self.client = client
        # Reads running at the same time share one look-up of the employee index.
        self._people_in_flight: dict[Scope, asyncio.Future[dict[str, _Person]]] = {}

    @classmethod
    def from_settings(cls, settings: AlexisSettings) -> AlexisAdapter:
        return cls(
            AlexisClient(
                str(settings.base_url),
                settings.token.get_secret_value(),
                max_concurrency=settings.max_concurrency,
                page_size=settings.page_size,
                timeout=settings.timeout_seconds,
                retry=RetryPolicy(
                    attempts=settings.retry_attempts, max_wait=settings.retry_max_wait_seconds
                ),
            )
        )

    async def aclose(self) -> None:
        await self.client.aclose()

    # -- scope ------------------------------------------------------------------------------
    async def _ids_by_name(self, resource: str, wanted: frozenset[str]) -> list[str]:
        """Departments and offices may be named in a scope by id or by name."""
        records, _ = await self.client.list_all(resource, [("select", "id,name")])
        return sorted({r["id"] for r in records if r["id"] in wanted or r.get("name") in wanted})

    async def _employee_filters(self, scope: Scope) -> list[tuple[str, str]]:
        params: list[tuple[str, str]] = []
        params += [("filters[employeeNumber][$in][]", n) for n in sorted(scope.employees)]
        params += [("filters[employeeNumber][$nin][]", n) for n in sorted(scope.exclude_employees)]
        if scope.departments:
            ids = await self._ids_by_name("department", scope.departments)
            params += [("filters[departmentId][$in][]", i) for i in ids or ["-none-"]]
        if scope.offices:
            ids = await self._ids_by_name("office", scope.offices)
            params += [("filters[officeId][$in][]", i) for i in ids or ["-none-"]]
        if scope.active_only:
            params.append(("filters[active][$eq]", "true"))
        return params

    async def _people(self, scope: Scope) -> dict[str, _Person]:
        """Alexis employee id -> number (and what scopes look at), for the records that name
        their employee by id. Concurrent callers share one read; none is kept afterwards, so
        a later read sees later changes."""
        pending = self._people_in_flight.get(scope)
        if pending is None:
            pending = asyncio.ensure_future(self._read_people(scope))
            self._people_in_flight[scope] = pending
            pending.add_done_callback(lambda _: self._people_in_flight.pop(scope, None))
        return await asyncio.shield(pending)

    async def _read_people(self, scope: Scope) -> dict[str, _Person]:
        """Only the fields needed are selected: no personal data travels for this."""
        params: list[tuple[str, str]] = [
            ("select", "id,employeeNumber,departmentId,officeId,active"),
            *await self._employee_filters(scope),
        ]
        records, _ = await self.client.list_all("employee", params)
        return {
            r["id"]: _Person(
                str(r.get("employeeNumber", "")).strip(),
                r.get("departmentId"),
                r.get("officeId"),
                bool(r.get("active", True)),
            )
            for r in records
        }

    @staticmethod
    def _restricted(scope: Scope) -> bool:
        return bool(
            scope.employees
            or scope.exclude_employees
            or scope.departments
            or scope.offices
            or scope.active_only
        )

    def _by_employee(self, people: dict[str, _Person], scope: Scope) -> Params:
        if self._restricted(scope) and len(people) <= MAX_IDS_IN_FILTER:
            return [("filters[employeeId][$in][]", i) for i in sorted(people) or ["-none-"]]
        return []

    # -- ports ------------------------------------------------------------------------------
    async def read_employees(self, query: Query) -> Sequence[Employee | InvalidRecord]:
        params = await self._employee_filters(query.scope)
        if query.changed_since is not None:
            params.append(("filters[updated][$gte]", _iso(query.changed_since)))
        # No ``select``: homeAddress and bankAccount only come with full objects.
        records, _ = await self.client.list_all("employee", params)
        return [mapping.employee(r) for r in records]

    async def read_employments(self, query: Query) -> Sequence[Employment | InvalidRecord]:
        people = await self._people(query.scope)
        params = [("relations", "type"), *self._by_employee(people, query.scope)]
        if query.changed_since is not None:
            params.append(("filters[updated][$gte]", _iso(query.changed_since)))
        records, relations = await self.client.list_all("employment", params)
        types = {t["id"]: t.get("name") for t in relations.get("type", [])}
        return [
            mapping.employment(r, people[r["employeeId"]].number, types.get(r.get("typeId")))
            if r.get("employeeId") in people
            else mapping.employment(r, None, None)
            for r in records
            if r.get("employeeId") in people or not self._restricted(query.scope)
        ]

    async def read_compensations(self, query: Query) -> Sequence[Compensation | InvalidRecord]:
        people = await self._people(query.scope)
        records, _ = await self.client.list_all(
            "compensation", self._by_employee(people, query.scope)
        )
        return [
            mapping.compensation(
                r, people[r["employeeId"]].number if r.get("employeeId") in people else None
            )
            for r in records
            if r.get("employeeId") in people or not self._restricted(query.scope)
        ]

    async def read_absences(self, query: Query) -> Sequence[Absence | InvalidRecord]:
        params: list[tuple[str, str]] = [("filters[status][$in][]", s) for s in READ_STATUSES]
        if query.period is not None:  # leaves that overlap the period
            if query.period.end is not None:
                params.append(("filters[startDate][$lte]", query.period.end.isoformat()))
            params.append(("filters[endDate][$gte]", query.period.start.isoformat()))
        (people, (types, type_relations)) = await asyncio.gather(
            self._people(query.scope),
            self.client.list_all("leave-type", [("relations", "leaveTypeCode")]),
        )
        params += self._by_employee(people, query.scope)
        records, _ = await self.client.list_all("leave", params)
        types_by_id = {t["id"]: t for t in types}
        codes = {c["leaveTypeId"]: c.get("code") for c in type_relations.get("leaveTypeCode", [])}
        tenant_mapping = query.mapping.get("absence_types", {})
        wanted_codes = query.scope.absence_codes
        result: list[Absence | InvalidRecord] = []
        for record in records:
            person = people.get(record.get("employeeId"))
            if person is None and self._restricted(query.scope):
                continue
            mapped = mapping.absence(
                record,
                person.number if person else None,
                types_by_id.get(record.get("typeId")),
                codes.get(record.get("typeId")),
                tenant_mapping,
            )
            if (
                isinstance(mapped, Absence)
                and wanted_codes
                and mapped.code.value not in (wanted_codes)
            ):
                continue
            result.append(mapped)
        return result
