"""Pure SmartDok JSON <-> domain translation (FLOWS.md flows 1, 2 and 3)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from fjordsync.domain.model import CodeItem, Employee, InvalidRecord, Project, TimeEntry
from fjordsync.domain.rules import NORWAY, local_to_utc, truncate
from fjordsync.domain.values import Email, PhoneNumber
from fjordsync.errors import InvalidValue

PROJECT_NAME_LIMIT = 70
USER_NAME_LIMIT = 50
# Domain field -> SmartDok field, for the fields the flows own.
PROJECT_FIELDS = {
    "name": "ProjectName",
    "active": "IsActive",
    "start": "StartDate",
    "end": "EndDate",
    "customer_name": "ClientCompanyName",
}


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value[:10]) if value else None


def _midnight(day: date | None) -> str | None:
    return f"{day.isoformat()}T00:00:00Z" if day else None


def project(raw: Mapping[str, Any]) -> Project | InvalidRecord:
    """The key is ``ProjectNumber`` as SmartDok holds it (maybe with trailing spaces: matching
    trims); ``target_key`` is SmartDok's own id, for updates."""
    number = str(raw.get("ProjectNumber") or "")
    try:
        return Project(
            key=number,
            name=str(raw.get("ProjectName") or ""),
            active=bool(raw.get("IsActive")),
            start=_day(raw.get("StartDate")),
            end=_day(raw.get("EndDate")),
            customer_name=raw.get("ClientCompanyName") or None,
            target_key=str(raw.get("Id")),
        )
    except InvalidValue as error:
        return InvalidRecord.from_error("project", number or f"id {raw.get('Id')}", error)


def project_values(project: Project, fields: set[str]) -> dict[str, Any]:
    """SmartDok fields for the given domain fields of a project (names cut to 70)."""
    values: dict[str, Any] = {}
    for field in fields:
        target = PROJECT_FIELDS[field]
        value = getattr(project, field)
        if field == "name":
            value, _ = truncate(value, PROJECT_NAME_LIMIT)
        elif field in ("start", "end"):
            value = _midnight(value)
        elif field == "customer_name":
            value = value or ""
        values[target] = value
    return values


def new_project(project: Project) -> dict[str, Any]:
    body = {"ProjectNumber": project.key.strip()}
    body.update(project_values(project, set(PROJECT_FIELDS)))
    return body


def _split_name(name: str) -> tuple[str, str]:
    first, _, last = name.partition(" ")
    return first, last


def user(raw: Mapping[str, Any]) -> Employee | InvalidRecord:
    number = str(raw.get("EmployeeNo") or "")
    try:
        first, last = _split_name(str(raw.get("Name") or ""))
        prefix, phone = raw.get("PhonePrefix"), raw.get("PhoneNumber")
        return Employee(
            key=number or f"user {raw.get('Id')}",
            first_name=first,
            last_name=last,
            work_email=Email(raw["Email"], field="Email") if raw.get("Email") else None,
            mobile=PhoneNumber(str(prefix or "47"), str(phone)) if phone else None,
            active=not raw.get("IsEnded"),
            username=raw.get("UserName"),
            target_key=str(raw.get("Id")),
        )
    except InvalidValue as error:
        return InvalidRecord.from_error("employee", number or f"id {raw.get('Id')}", error)


def user_values(employee: Employee, fields: set[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if fields & {"first_name", "last_name", "full_name"}:
        values["Name"], _ = truncate(employee.full_name, USER_NAME_LIMIT)
    if "work_email" in fields:
        values["Email"] = str(employee.work_email) if employee.work_email else None
    if "mobile" in fields:
        values["PhonePrefix"] = employee.mobile.prefix if employee.mobile else None
        values["PhoneNumber"] = employee.mobile.national if employee.mobile else None
    return values


def new_user(employee: Employee, username: str, password: str) -> dict[str, Any]:
    body = {
        "UserName": username,
        "EmployeeNo": employee.key,
        "Role": "User",
        "Password": password,
        "IsEnded": False,
    }
    body.update(user_values(employee, {"full_name", "work_email", "mobile"}))
    return body


def code_item(raw: Mapping[str, Any]) -> CodeItem:
    return CodeItem(
        str(raw.get("Number") or ""), str(raw.get("Name") or ""), bool(raw.get("IsActive", True))
    )


def _clock(hours: float) -> time:
    minutes = round(hours * 60)
    return (datetime.min + timedelta(minutes=minutes)).time()


def _aware(text: str | None) -> datetime | None:
    if not text:
        return None
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def work_hour(raw: Mapping[str, Any]) -> TimeEntry | InvalidRecord:
    """A v1 work hour. Times are local Norwegian time in decimal hours; they become UTC."""
    key = str(raw.get("WorkHourID"))
    try:
        day = _day(raw.get("Date"))
        if day is None:
            raise InvalidValue("Date", "is missing")
        net = raw.get("NetHours")
        hours = net if net is not None else raw.get("OrdinaryHours")
        if hours is None:
            raise InvalidValue("NetHours", "is missing, and so is OrdinaryHours")
        start = stop = None
        if raw.get("OrdinaryHoursFrom") is not None and raw.get("OrdinaryHoursTo") is not None:
            start = local_to_utc(day, _clock(raw["OrdinaryHoursFrom"]), NORWAY)
            stop = local_to_utc(day, _clock(raw["OrdinaryHoursTo"]), NORWAY)
        updated = raw.get("LastUpdated")
        return TimeEntry(
            key=key,
            employee_key=str(raw.get("EmployeeNo") or ""),
            project_key=str(raw.get("ProjectNumber") or "").strip(),
            day=day,
            hours=Decimal(str(hours)),
            work_type_code=raw.get("WorkDescriptionCode") or None,
            salary_type_code=raw.get("WageCode") or None,
            start=start,
            stop=stop,
            comment=raw.get("Comment") or None,
            approved=bool(raw.get("AdminAttested")),
            exported=bool(raw.get("ExportedExternal")),
            updated=_aware(updated),
        )
    except InvalidValue as error:
        return InvalidRecord.from_error("hour", key, error)
