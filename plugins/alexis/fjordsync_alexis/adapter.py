"""AlexisHR as a source: implements EmployeeReader, EmploymentReader, CompensationReader and
AbsenceReader with the client and the pure mapping.

Scopes are pushed down to the API where it can filter (employee numbers, departments, offices,
active, employee ids for the records that hang off an employee, leave periods and statuses) and
the rest is filtered here. Employees and employments are read incrementally with
``filters[updated][$gte]``; compensations and leaves have no such field and are re-read (leaves
by period).

Every record is handed over as read: none is merged by id or employee number, so two employees
with one ``employeeNumber`` or two leaves with one id reach the core, which reports them as a
conflict. Related records (types, codes) are joined by id; an id two different ones carry makes
the records pointing at it invalid. Two employees sharing one id: the records naming that id are
invalid saying so (an employment or compensation once per employee number, so each of them is
held back). Records without an id are keyed by what identifies them (``mapping.numbered``).
Leaves are asked for by start date only and their end is checked here: a leave without an end
date must come back (as invalid), not be filtered away.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from fjordsync.domain.codes import LeaveStatus
from fjordsync.domain.model import Absence, Compensation, Employee, Employment, InvalidRecord
from fjordsync.errors import InvalidValue
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


def _index(records: list[dict]) -> dict[str, Any]:
    """Records by id; an id carried by two different records maps to ``mapping.CLASH``."""
    index: dict[str, Any] = {}
    for record in records:
        ident = mapping.ref(record, "id") if isinstance(record, dict) else None
        if ident is None:
            continue
        index[ident] = mapping.CLASH if index.get(ident, record) != record else record
    return index


def _shared_ids(records: list[dict]) -> dict[str, mapping.SharedId]:
    """Employee ids that different employees carry, with those employees' numbers."""
    numbers: dict[str, list[str]] = {}
    for ident, r in _index(records).items():
        if r is not mapping.CLASH:
            continue
        found = {
            (mapping.ref(e, "employeeNumber") or "(no employeeNumber)").strip()
            for e in records
            if isinstance(e, dict) and mapping.ref(e, "id") == ident
        }
        numbers[ident] = sorted(found)
    return {i: mapping.SharedId(i, tuple(n)) for i, n in numbers.items()}


def _overlaps(leave: Any, start: date) -> bool:
    """Whether a leave may reach into a period starting on ``start``: ends on or after it, or
    has no end (or none that can be read) and so must come back to be reported."""
    try:
        end = mapping.parse_day(leave.get("endDate"), "leave.endDate")
    except InvalidValue:
        return True
    return end is None or end >= start


class AlexisAdapter:
    def __init__(self, client: AlexisClient) -> None:
        self.client = client
        # Reads running at the same time share one look-up of the employee index.
        self._people_in_flight: dict[
            Scope, asyncio.Future[dict[str, _Person | mapping.SharedId]]
        ] = {}

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

    async def verify_credentials(self) -> str:
        """For ``fjordsync connections test``: the token is tried on the departments (their ids
        only), a read that touches no personal data and costs one page for most companies."""
        records, _ = await self.client.list_all("department", [("select", "id")])
        return f"read {len(records)} department{'' if len(records) == 1 else 's'}"

    # -- scope ------------------------------------------------------------------------------
    async def _ids_by_name(self, resource: str, wanted: frozenset[str]) -> list[str]:
        """Departments and offices may be named in a scope by id or by name."""
        records, _ = await self.client.list_all(resource, [("select", "id,name")])
        return sorted(
            ident
            for ident, r in _index(records).items()
            if r is not mapping.CLASH and (ident in wanted or r.get("name") in wanted)
        )

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

    async def _people(self, scope: Scope) -> dict[str, _Person | mapping.SharedId]:
        """Alexis employee id -> number (and what scopes look at), for the records that name
        their employee by id. Concurrent callers share one read; none is kept afterwards, so
        a later read sees later changes."""
        pending = self._people_in_flight.get(scope)
        if pending is None:
            pending = asyncio.ensure_future(self._read_people(scope))
            self._people_in_flight[scope] = pending
            pending.add_done_callback(lambda _: self._people_in_flight.pop(scope, None))
        return await asyncio.shield(pending)

    async def _read_people(self, scope: Scope) -> dict[str, _Person | mapping.SharedId]:
        """Only the fields needed are selected: no personal data travels for this. An id
        several employees carry maps to a ``SharedId``: its records are theirs to report,
        never "names no employee"."""
        params: list[tuple[str, str]] = [
            ("select", "id,employeeNumber,departmentId,officeId,active"),
            *await self._employee_filters(scope),
        ]
        records, _ = await self.client.list_all("employee", params)
        people: dict[str, _Person | mapping.SharedId] = {**_shared_ids(records)}
        for ident, r in _index(records).items():
            number = mapping.ref(r, "employeeNumber") if r is not mapping.CLASH else None
            if number is None or not number.strip():
                continue  # records of this employee "name no employee"; it is invalid itself
            people[ident] = _Person(
                number.strip(),
                mapping.ref(r, "departmentId"),
                mapping.ref(r, "officeId"),
                r.get("active") is not False,
            )
        return people

    @staticmethod
    def _restricted(scope: Scope) -> bool:
        return bool(
            scope.employees
            or scope.exclude_employees
            or scope.departments
            or scope.offices
            or scope.active_only
        )

    def _by_employee(self, people: dict[str, Any], scope: Scope) -> Params:
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
        return mapping.numbered(mapping.employee(r) for r in records)

    async def read_employments(self, query: Query) -> Sequence[Employment | InvalidRecord]:
        people = await self._people(query.scope)
        params = [("relations", "type"), *self._by_employee(people, query.scope)]
        if query.changed_since is not None:
            params.append(("filters[updated][$gte]", _iso(query.changed_since)))
        records, relations = await self.client.list_all("employment", params)
        types = {
            ident: t if t is mapping.CLASH else t.get("name")
            for ident, t in _index(relations.get("type", [])).items()
        }
        result: list[Employment | InvalidRecord] = []
        for r in records:
            person = people.get(mapping.ref(r, "employeeId") or "") if isinstance(r, dict) else None
            if person is None and self._restricted(query.scope):
                continue
            if person is None:
                result.append(mapping.employment(r, None, None))
            elif isinstance(person, mapping.SharedId):
                result += [mapping.employment(r, n, None, person) for n in person.numbers]
            else:
                name = types.get(mapping.ref(r, "typeId") or "")
                result.append(mapping.employment(r, person.number, name))
        return mapping.numbered(result)

    async def read_compensations(self, query: Query) -> Sequence[Compensation | InvalidRecord]:
        people = await self._people(query.scope)
        records, _ = await self.client.list_all(
            "compensation", self._by_employee(people, query.scope)
        )
        result: list[Compensation | InvalidRecord] = []
        for r in records:
            person = people.get(mapping.ref(r, "employeeId") or "") if isinstance(r, dict) else None
            if person is None and self._restricted(query.scope):
                continue
            if isinstance(person, mapping.SharedId):
                result += [mapping.compensation(r, n, person) for n in person.numbers]
            else:
                result.append(mapping.compensation(r, person.number if person else None))
        return mapping.numbered(result)

    async def read_absences(self, query: Query) -> Sequence[Absence | InvalidRecord]:
        params: list[tuple[str, str]] = [("filters[status][$in][]", s) for s in READ_STATUSES]
        if query.period is not None and query.period.end is not None:
            # the start is filtered by the API, the end here (see the module docstring)
            params.append(("filters[startDate][$lte]", query.period.end.isoformat()))
        (people, (types, type_relations)) = await asyncio.gather(
            self._people(query.scope),
            self.client.list_all("leave-type", [("relations", "leaveTypeCode")]),
        )
        params += self._by_employee(people, query.scope)
        records, _ = await self.client.list_all("leave", params)
        if query.period is not None:
            start = query.period.start
            records = [r for r in records if not isinstance(r, dict) or _overlaps(r, start)]
        types_by_id = _index(types)
        codes: dict[str, str] = {}
        for c in type_relations.get("leaveTypeCode", []):
            type_id, code = mapping.ref(c, "leaveTypeId"), mapping.ref(c, "code")
            if type_id and code:
                codes[type_id] = code
        tenant_mapping = query.mapping.get("absence_types", {})
        wanted_codes = query.scope.absence_codes
        result: list[Absence | InvalidRecord] = []
        for record in records:
            if not isinstance(record, dict):
                result.append(mapping.absence(record, None, None, None, tenant_mapping))
                continue
            person = people.get(mapping.ref(record, "employeeId") or "")
            if person is None and self._restricted(query.scope):
                continue
            type_id = mapping.ref(record, "typeId") or ""
            shared = person if isinstance(person, mapping.SharedId) else None
            mapped = mapping.absence(
                record,
                person.number if isinstance(person, _Person) else None,
                types_by_id.get(type_id),
                codes.get(type_id),
                tenant_mapping,
                shared,
            )
            if (
                isinstance(mapped, Absence)
                and wanted_codes
                and mapped.code.value not in (wanted_codes)
            ):
                continue
            result.append(mapped)
        return mapping.numbered(result)
