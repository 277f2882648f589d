"""SmartDok as a target of projects and employees and a source of approved hours.

Updates are read-modify-write: SmartDok's PUT replaces the whole resource, so the adapter GETs
the record, changes only the fields the flow owns, and PUTs back everything else as it came,
fields it does not know included. Hours are read in windows of at most 93 days.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from fjordsync.domain.model import CodeItem, Employee, InvalidRecord, Project, TimeEntry
from fjordsync.domain.values import DateRange
from fjordsync.errors import Rejected
from fjordsync.ports import Query
from fjordsync_smartdok import mapping
from fjordsync_smartdok.client import RetryPolicy, SmartDokClient
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
        created = await self.client.request(
            "POST",
            "/Projects",
            json=mapping.new_project(project),
            record=project.key,
            repeatable=False,
        )
        return str(created["Id"])

    async def update_project(self, target_key: str, project: Project, fields: Iterable[str]) -> str:
        current = await self.client.request("GET", f"/Projects/{target_key}", record=project.key)
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
        body = mapping.new_user(employee, self.username_for(employee), secrets.token_urlsafe(18))
        created = await self.client.request(
            "POST", "/Users", json=body, record=employee.key, repeatable=False
        )
        return str(created["Id"])

    async def update_employee(
        self, target_key: str, employee: Employee, fields: Iterable[str]
    ) -> str:
        current: dict[str, Any] = await self.client.request(
            "GET", f"/Users/{target_key}", record=employee.key
        )
        current.update(mapping.user_values(employee, set(fields)))
        await self.client.request("PUT", f"/Users/{target_key}", json=current, record=employee.key)
        return target_key

    async def free_licenses(self) -> int:
        info = await self.client.request("GET", "/LicenseInfo")
        return int(info.get("AvailableLicenses") or 0)

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
        pages = await asyncio.gather(
            *(
                self.client.collection(
                    "/WorkHours",
                    [("fromDate", start), ("toDate", end), *base],
                    page_size=HOURS_PAGE,
                )
                for start, end in windows(query.period)
            )
        )
        entries = [mapping.work_hour(h) for page in pages for h in page]
        scope = query.scope
        return [
            e
            for e in entries
            if isinstance(e, InvalidRecord)
            or (
                scope.includes_employee(e.employee_key)
                and (not scope.projects or e.project_key in scope.projects)
            )
        ]

    async def mark_exported(self, keys: Iterable[str], export_id: str) -> None:
        ids = sorted(int(key) for key in keys)
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
        return [mapping.code_item(item) for item in await self.client.request("GET", paths[kind])]
