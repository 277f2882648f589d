"""SmartDok as a target of projects and employees and a source of approved hours.

Updates are read-modify-write: SmartDok's PUT replaces the whole resource, so the adapter GETs
the record, changes only the fields the flow owns, and PUTs back everything else as it came,
fields it does not know included. Hours are read in windows of at most 93 days.

How each write is made exactly once (reconcile rules):

- ``POST /Users`` and ``POST /Projects`` (creates) are not idempotent: a repeat makes a second
  record. They are sent once per attempt; after an unclear outcome (no answer, a timeout after
  sending, a 5xx, a body cut short, an HTML page, an answer without ``Id``) the adapter looks
  the record up before sending again: users by ``EmployeeNo``, else by ``UserName``; projects by
  ``ProjectNumber``, trimmed. Found: its id is returned and nothing is sent again. Not found:
  the create did not happen and is sent again, within the retry policy's attempts. A process
  killed between SmartDok's commit and the answer leaves a record the next run reads and
  matches by the same keys (``find_employee``/``find_project`` do the look-up on their own).
- ``GET`` + ``PUT /Users/{id}`` and ``PUT /v3/Projects/{id}`` (updates) replace the whole
  resource with the same body each time: idempotent, retried by the client.
- ``POST /WorkHours/SetExportedExternal`` sets a flag and an export id on the given hours:
  idempotent, retried by the client; a repeat changes nothing.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import timedelta
from typing import Any

from fjordsync.domain.model import CodeItem, Employee, InvalidRecord, Project, TimeEntry
from fjordsync.domain.values import DateRange
from fjordsync.errors import RateLimited, Rejected, Unavailable
from fjordsync.ports import Query
from fjordsync.transport import Unsettled, reconciling
from fjordsync_smartdok import mapping
from fjordsync_smartdok.client import (
    SYSTEM,
    RetryPolicy,
    SmartDokClient,
    expect_list,
    expect_object,
)
from fjordsync_smartdok.settings import SmartDokSettings

WINDOW_DAYS = 93
HOURS_PAGE = 100  # the most SmartDok gives of work hours in one page
LIST_PAGE = 1000


def windows(period: DateRange, days: int = WINDOW_DAYS) -> list[tuple[str, str]]:
    """``period`` as consecutive windows of at most ``days`` days (both ends included)."""
    if period.end is None:
        raise Rejected(
            "reading hours needs a period with an end",
            system="SmartDok",
            operation="GET /WorkHours",
        )
    result = []
    start = period.start
    while start <= period.end:
        end = min(start + timedelta(days=days - 1), period.end)
        result.append((start.isoformat(), end.isoformat()))
        start = end + timedelta(days=1)
    return result


class SmartDokAdapter:
    def __init__(
        self,
        client: SmartDokClient,
        *,
        username_strategy: str = "mobile",
        only_attested: bool = True,
    ) -> None:
        self.client = client
        self.username_strategy = username_strategy
        self.only_attested = only_attested

    @classmethod
    def from_settings(cls, settings: SmartDokSettings) -> SmartDokAdapter:
        client = SmartDokClient(
            str(settings.base_url),
            settings.api_token.get_secret_value(),
            max_concurrency=settings.max_concurrency,
            timeout=settings.timeout_seconds,
            retry=RetryPolicy(),
        )
        return cls(
            client,
            username_strategy=settings.username_strategy,
            only_attested=settings.only_attested,
        )

    async def aclose(self) -> None:
        await self.client.aclose()

    # -- projects -----------------------------------------------------------------------------
    async def read_projects(self, query: Query) -> Sequence[Project | InvalidRecord]:
        params = [("all", "true")]
        if query.changed_since is not None:
            params.append(("updatedSince", query.changed_since.isoformat()))
        projects = [
            mapping.project(p)
            for p in await self.client.collection("/Projects", params, page_size=LIST_PAGE)
        ]
        if query.scope.projects:
            projects = [p for p in projects if p.key.strip() in query.scope.projects]
        return projects

    async def create_project(self, project: Project) -> str:
        body = mapping.new_project(project)
        return await self._create_once(
            "POST /Projects",
            project.key,
            lambda: self.client.request(
                "POST", "/Projects", json=body, record=project.key, repeatable=False
            ),
            lambda: self.find_project(project),
        )

    async def find_project(self, project: Project) -> str | None:
        """SmartDok's id of the project with this number (trimmed), if there is one."""
        number = project.key.strip()
        found = [
            p
            for p in await self.client.collection("/Projects", [("all", "true")], LIST_PAGE)
            if isinstance(p, dict)
            and isinstance(p.get("ProjectNumber"), str)
            and p["ProjectNumber"].strip() == number
        ]
        return _only(found, "POST /Projects", project.key, "project number")

    async def update_project(self, target_key: str, project: Project, fields: Iterable[str]) -> str:
        operation = "GET /Projects/{id}"
        current = expect_object(
            await self.client.request("GET", f"/Projects/{target_key}", record=project.key),
            operation,
            project.key,
        )
        current.update(mapping.project_values(project, set(fields)))
        await self.client.request(
            "PUT", f"/v3/Projects/{target_key}", json=current, record=project.key
        )
        return target_key

    # -- users --------------------------------------------------------------------------------
    async def read_employees(self, query: Query) -> Sequence[Employee | InvalidRecord]:
        users = await self.client.collection("/Users", [("all", "true")], page_size=LIST_PAGE)
        employees = [mapping.user(u) for u in users]
        return [e for e in employees if query.scope.includes_employee(e.key)]

    def username_for(self, employee: Employee) -> str:
        """The mobile number, else the e-mail (or the e-mail first, by the setting)."""
        mobile = employee.mobile.national if employee.mobile else None
        email = str(employee.work_email) if employee.work_email else None
        choices = (mobile, email) if self.username_strategy == "mobile" else (email, mobile)
        username = next((c for c in choices if c), None)
        if username is None:
            raise Rejected(
                "a new user needs a mobile number or an e-mail for its user name",
                system="SmartDok",
                operation="POST /Users",
                record=employee.key,
            )
        return username

    async def create_employee(self, employee: Employee) -> str:
        # SmartDok requires a password on create; the user sets their own on first log-in.
        username = self.username_for(employee)
        body = mapping.new_user(employee, username, secrets.token_urlsafe(18))
        return await self._create_once(
            "POST /Users",
            employee.key,
            lambda: self.client.request(
                "POST", "/Users", json=body, record=employee.key, repeatable=False
            ),
            lambda: self.find_employee(employee, username),
        )

    async def find_employee(self, employee: Employee, username: str | None = None) -> str | None:
        """SmartDok's id of the user with this employee number, else (none has it) of the one
        with the user name a create would give it; None when there is neither."""
        users = [
            u
            for u in await self.client.collection("/Users", [("all", "true")], LIST_PAGE)
            if isinstance(u, dict)
        ]
        number = employee.key.strip()
        by_number = [
            u
            for u in users
            if isinstance(u.get("EmployeeNo"), str) and u["EmployeeNo"].strip() == number
        ]
        if by_number:
            return _only(by_number, "POST /Users", employee.key, "employee number")
        if username is None:
            try:
                username = self.username_for(employee)
            except Rejected:
                return None
        by_name = [u for u in users if u.get("UserName") == username]
        return _only(by_name, "POST /Users", employee.key, "user name")

    async def _create_once(
        self,
        operation: str,
        record: str,
        send: Callable[[], Awaitable[Any]],
        find: Callable[[], Awaitable[str | None]],
    ) -> str:
        """Send a create; after an unclear outcome look the record up before sending again
        (``fjordsync.transport.reconciling``: the policy's attempts and back-off)."""
        policy = self.client.retry

        async def once() -> str:
            try:
                created = await send()
            except (Unavailable, RateLimited) as failure:
                unclear: Exception | None = failure
            else:
                ident = created.get("Id") if isinstance(created, dict) else None
                if isinstance(ident, int | str) and not isinstance(ident, bool) and str(ident):
                    return str(ident)
                unclear = None  # created, but the answer does not say as what: look it up
            found = await find()
            if found is not None:
                return found
            if unclear is None:
                raise Unavailable(
                    "SmartDok accepted the create but its answer carries no Id, and the "
                    "record cannot be found",
                    system=SYSTEM,
                    operation=operation,
                    record=record,
                )
            raise Unsettled(unclear)

        try:
            async for attempt in reconciling(policy):
                with attempt:
                    return await once()
        except Unsettled as unsettled:
            unclear = unsettled.cause
        assert unclear is not None
        raise Unavailable(
            f"not created after {policy.attempts} attempts, each unclear and followed by a "
            f"look-up that found nothing (last: {getattr(unclear, 'message', unclear)})",
            system=SYSTEM,
            operation=operation,
            record=record,
        )

    async def update_employee(
        self, target_key: str, employee: Employee, fields: Iterable[str]
    ) -> str:
        current: dict[str, Any] = expect_object(
            await self.client.request("GET", f"/Users/{target_key}", record=employee.key),
            "GET /Users/{id}",
            employee.key,
        )
        current.update(mapping.user_values(employee, set(fields)))
        await self.client.request("PUT", f"/Users/{target_key}", json=current, record=employee.key)
        return target_key

    async def free_licenses(self) -> int:
        info = expect_object(await self.client.request("GET", "/LicenseInfo"), "GET /LicenseInfo")
        free = info.get("AvailableLicenses")
        if free is None:
            return 0
        if isinstance(free, bool) or not isinstance(free, int):
            raise Unavailable(
                "SmartDok's answer does not fit the API: AvailableLicenses is not a whole number",
                system=SYSTEM,
                operation="GET /LicenseInfo",
            )
        return free

    # -- hours --------------------------------------------------------------------------------
    async def read_time_entries(self, query: Query) -> Sequence[TimeEntry | InvalidRecord]:
        if query.period is None:
            raise Rejected(
                "reading hours needs a period", system="SmartDok", operation="GET /WorkHours"
            )
        base = [
            ("onlyAttested", "true" if self.only_attested else "false"),
            ("includeExported", "true"),
        ]
        if query.changed_since is not None:
            base.append(("lastUpdated", query.changed_since.isoformat()))
        scope = query.scope

        def in_scope(entry: TimeEntry | InvalidRecord) -> bool:
            if isinstance(entry, InvalidRecord):  # kept unless its employee is out of scope
                return entry.owner is None or scope.includes_employee(entry.owner)
            return scope.includes_employee(entry.employee_key) and (
                not scope.projects or entry.project_key in scope.projects
            )

        def page(items: list[Any]) -> list[TimeEntry | InvalidRecord]:
            # Read into records as each page arrives, and its JSON let go: held all at once,
            # the JSON of 100,000 hours is twice the memory of their records.
            return [e for e in map(mapping.work_hour, items) if in_scope(e)]

        pages = await asyncio.gather(
            *(
                self.client.collection_of(
                    "/WorkHours",
                    page,
                    [("fromDate", start), ("toDate", end), *base],
                    page_size=HOURS_PAGE,
                )
                for start, end in windows(query.period)
            )
        )
        # Every hour as it came, none merged by WorkHourID: two hours with one id are a
        # conflict for the core to report, not a choice for the connector to make.
        return mapping.number_alike([entry for part in pages for entry in part])

    async def mark_exported(self, keys: Iterable[str], export_id: str) -> None:
        """Mark hours exported-external by their WorkHourID (the keys ``read_time_entries``
        gave); a key that is no WorkHourID is refused before anything is sent."""
        keys = list(keys)
        wrong = [key for key in keys if not key.isdigit()]
        if wrong:
            raise Rejected(
                f"{len(wrong)} key(s) are no WorkHourID, e.g. {wrong[0]!r}: nothing was marked",
                system=SYSTEM,
                operation="POST /WorkHours/SetExportedExternal",
            )
        ids = sorted({int(key) for key in keys})
        if ids:
            await self.client.request(
                "POST",
                "/WorkHours/SetExportedExternal",
                params=[("exportedExternalId", export_id), ("setAsExportedExternal", "true")],
                json=ids,
            )

    # -- code lists ----------------------------------------------------------------------------
    async def read_codes(self, kind: str) -> Sequence[CodeItem]:
        paths = {"activities": "/WorkDescriptions", "wages": "/Wages"}
        if kind not in paths:
            raise Rejected(
                f"SmartDok has no code list {kind!r} (activities, wages)",
                system="SmartDok",
                operation="read_codes",
            )
        items = expect_list(await self.client.request("GET", paths[kind]), f"GET {paths[kind]}")
        return [code for code in map(mapping.code_item, items) if code is not None]


def _only(found: list[dict[str, Any]], operation: str, record: str, by: str) -> str | None:
    """The id of the one record found; several are a mess a person must sort out, since
    taking either one would be a guess."""
    if not found:
        return None
    if len(found) > 1:
        raise Rejected(
            f"{len(found)} SmartDok records carry this {by}: merge them by hand, then run again",
            system=SYSTEM,
            operation=operation,
            record=record,
        )
    ident = found[0].get("Id")
    if ident is None:
        return None
    return str(ident)
