"""The 24SevenOffice ERP (SOAP) as ``TwentyFourSevenAdapter``: projects and employees (CRM
persons) as a source, hours as a target, and the work-type and salary-type code lists.

**Exactly once**: ``SaveHour`` (no Id: a new hour every time) is never retried blind. When its
outcome is unclear (a lost or cut answer, an HTML page, a timeout after sending) the hour is
looked up with ``GetHours`` by the marker in ``InternalNote`` (by the employee's hours
registered since the first attempt, or, in a later run, those of the entry's day and then all
the employee's hours, which also finds hours an older version saved without a StartTime) before
it is ever sent again; found is taken, not sent again (``fjordsync.transport.reconciling``).

**Hours without clock times** (SmartDok gave only NetHours) are sent with ``StartTime`` = 00:00
Europe/Oslo of their day (in UTC), no ``StopTime``, and ``TotalHours`` = the hours: an ERP hour
without a StartTime has no day, and GetHours, which filters periods by StartTime, finds it in no
period. Hours are read back by Norwegian days (a period's bounds are Oslo midnights), and each
carries as ``marker`` the fjordsync marker its ``InternalNote`` holds, so two ERP hours with one
SmartDok hour's marker can be told apart.

Free text sent to the ERP loses the characters XML 1.0 cannot carry
(``fjordsync.domain.rules.carriable_text``), so one NUL in a comment never fails a request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from typing import Any

from fjordsync.domain.model import (
    CodeItem,
    Employee,
    InvalidRecord,
    Project,
    TimeEntry,
)
from fjordsync.domain.rules import carriable_text, local_to_utc
from fjordsync.errors import Rejected, Unavailable
from fjordsync.ports import Query
from fjordsync.transport import Unsettled, reconciling
from fjordsync_twentyfourseven.erp import mapping
from fjordsync_twentyfourseven.erp.client import SoapClient
from fjordsync_twentyfourseven.settings import TwentyFourSevenSettings
from fjordsync_twentyfourseven.shared import SYSTEM, OutcomeUnknown, no_sentinel, numbered

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
        projects = numbered(
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
        employees = numbered(mapping.person(p) for p in people)
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
        return numbered(mapping.time_entry(h) for h in rows)

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
                    found = no_sentinel(row.get("Id"))
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
        saved = no_sentinel(saved)
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
