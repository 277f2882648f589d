"""Pure SmartDok JSON <-> domain translation (docs/flows.md flows 1, 2 and 3).

Every reading function is total: whatever SmartDok sends, it returns the domain record or an
``InvalidRecord`` naming the record and the SmartDok field, never raising and never guessing.
A value of the wrong JSON type for ``openapi.json`` (hours as text, a clock time "07:00" where
the API sends decimal hours, a date that is not in the calendar) is invalid, not coerced: a
coerced value would be a guess written into payroll. Messages never quote a value that could be
personal (names, e-mails, phone numbers); clock times and hour counts are not personal and are
quoted where that tells the clerk what to fix.
"""

from __future__ import annotations

import math
import sys
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from fjordsync.domain.model import CodeItem, Employee, InvalidRecord, Project, TimeEntry
from fjordsync.domain.rules import NORWAY, local_to_utc, truncate
from fjordsync.domain.values import Email, PhoneNumber
from fjordsync.errors import InvalidValue

PROJECT_NAME_LIMIT = 70
USER_NAME_LIMIT = 50
NO_WORK_HOUR_ID = "(no WorkHourID"  # the start of the stand-in key of an hour without one
# Domain field -> SmartDok field, for the fields the flows own.
PROJECT_FIELDS = {
    "name": "ProjectName",
    "active": "IsActive",
    "start": "StartDate",
    "end": "EndDate",
    "customer_name": "ClientCompanyName",
}


# -- strict readers of one JSON field: the type openapi.json declares, or InvalidValue ---------
def _text(raw: Mapping[str, Any], name: str) -> str | None:
    value = raw.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidValue(name, "must be text")
    return value


def _flag(raw: Mapping[str, Any], name: str, default: bool = False) -> bool:
    value = raw.get(name)
    if value is None:  # the API declares these nullable: no value is the default
        return default
    if not isinstance(value, bool):
        raise InvalidValue(name, "must be true or false")
    return value


def _number(raw: Mapping[str, Any], name: str) -> Decimal | None:
    value = raw.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidValue(name, "must be a number")
    if not math.isfinite(value):
        raise InvalidValue(name, "must be a finite number")
    return Decimal(str(value))  # through str: 7.1 stays 7.1, not its binary neighbour


def _whole(raw: Mapping[str, Any], name: str) -> int | None:
    value = raw.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidValue(name, "must be a whole number")
    return value


def _moment(raw: Mapping[str, Any], name: str) -> datetime | None:
    """A date-time as SmartDok writes it ("2026-03-02T00:00:00Z", maybe without a zone)."""
    value = raw.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidValue(name, "must be a date-time")
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise InvalidValue(name, "is not a date-time") from None


def _day(raw: Mapping[str, Any], name: str) -> date | None:
    """The calendar day of a date-time, as written (its zone is not applied: SmartDok sends
    days as midnight)."""
    moment = _moment(raw, name)
    return moment.date() if moment else None


def _aware(raw: Mapping[str, Any], name: str) -> datetime | None:
    moment = _moment(raw, name)
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _by_id(raw: Mapping[str, Any], missing: str) -> str:
    """A record's key when its own key field is unusable: SmartDok's id, else what is missing
    (an id is SmartDok's own, never personal)."""
    ident = raw.get("Id")
    if isinstance(ident, int | str) and not isinstance(ident, bool) and str(ident).strip():
        return f"id {ident}"
    return f"(no {missing})"


def _match_key(raw: Mapping[str, Any], name: str) -> str | None:
    """The flow's match key of a target record (``ProjectNumber``, ``EmployeeNo``), trimmed as
    matching trims it, also when the record cannot be read otherwise: keyed by it, an invalid
    target record holds back the source record that would match it, where SmartDok's own id
    would let that record be created a second time. A whole number stands for its digits
    here: that only ever holds a source record back, it is never written."""
    value = raw.get(name)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _in_vendor_terms(
    error: InvalidValue, fields: Mapping[str, tuple[str, str | None]]
) -> InvalidValue:
    """A domain constructor's error with the SmartDok field it came from (``time_entry.hours``
    -> ``NetHours``), so the clerk is told what to fix where they can fix it; ``fields`` maps a
    domain field to the SmartDok field and, optionally, the rule in SmartDok's words."""
    if error.field not in fields:
        return error
    name, problem = fields[error.field]
    return InvalidValue(name, problem or error.problem)


def _not_an_object(entity: str) -> InvalidRecord:
    return InvalidRecord(entity, "(not an object)", "the record is not a JSON object")


def _midnight(day: date | None) -> str | None:
    return f"{day.isoformat()}T00:00:00Z" if day else None


def project(raw: Mapping[str, Any]) -> Project | InvalidRecord:
    """The key is ``ProjectNumber`` as SmartDok holds it (maybe with trailing spaces: matching
    trims); ``target_key`` is SmartDok's own id, for updates."""
    if not isinstance(raw, Mapping):
        return _not_an_object("project")
    key = _match_key(raw, "ProjectNumber") or _by_id(raw, "ProjectNumber")
    try:
        number = _text(raw, "ProjectNumber")
        if not number or not number.strip():
            raise InvalidValue("ProjectNumber", "is required")
        target = _whole(raw, "Id")
        if target is None:
            raise InvalidValue("Id", "is missing: the project cannot be updated")
        return Project(
            key=number,
            name=_text(raw, "ProjectName") or "",
            active=_flag(raw, "IsActive"),
            start=_day(raw, "StartDate"),
            end=_day(raw, "EndDate"),
            customer_name=_text(raw, "ClientCompanyName") or None,
            target_key=str(target),
        )
    except InvalidValue as error:
        return InvalidRecord.from_error("project", key, error)


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
    if not isinstance(raw, Mapping):
        return _not_an_object("employee")
    key = _match_key(raw, "EmployeeNo") or _by_id(raw, "EmployeeNo")
    try:
        number = _text(raw, "EmployeeNo")
        ident = _text(raw, "Id")
        if not ident:
            raise InvalidValue("Id", "is missing: the user cannot be updated")
        first, last = _split_name(_text(raw, "Name") or "")
        prefix, phone = _text(raw, "PhonePrefix"), _text(raw, "PhoneNumber")
        email = _text(raw, "Email")
        return Employee(
            key=number or f"user {ident}",
            first_name=first,
            last_name=last,
            work_email=Email(email, field="Email") if email else None,
            mobile=PhoneNumber(prefix or "47", phone) if phone else None,
            active=not _flag(raw, "IsEnded"),
            username=_text(raw, "UserName"),
            target_key=ident,
        )
    except InvalidValue as error:
        return InvalidRecord.from_error("employee", key, error)


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


def code_item(raw: Any) -> CodeItem | None:
    """An activity or wage type; None for an entry without a usable code (it can be matched
    by nothing, and a code list has no place to report it)."""
    if not isinstance(raw, Mapping):
        return None
    number, name, active = raw.get("Number"), raw.get("Name"), raw.get("IsActive", True)
    if not isinstance(number, str) or not number.strip():
        return None
    return CodeItem(number, name if isinstance(name, str) else "", active is not False)


def _clock(raw: Mapping[str, Any], name: str, day: date) -> datetime | None:
    """A clock time in decimal hours (7.5 = 07:30) local Norwegian time on ``day``, as UTC.
    24.0 is the midnight that ends the day. Outside 0..24 it is no time of day, and taking it
    modulo 24 (30.0 -> 06:00) would be a guess."""
    hours = _number(raw, name)
    if hours is None:
        return None
    if not 0 <= hours <= 24:
        raise InvalidValue(name, f"{hours} is not a time of day (0 to 24 hours)")
    local = datetime.combine(day, datetime.min.time()) + timedelta(minutes=round(hours * 60))
    return local_to_utc(local.date(), local.time(), NORWAY)


def _no_work_hour_id(raw: Mapping[str, Any]) -> str:
    """The stand-in key of an hour without a usable WorkHourID: what a clerk finds it by in
    SmartDok (the employee number and the day; neither is personal), never one shared by all
    such hours, which the core would take for one key held twice. ``work_hours`` numbers those
    that are still alike."""
    number = raw.get("EmployeeNo")
    who = (
        f"employee {number.strip()}"
        if isinstance(number, str) and number.strip()
        else "no EmployeeNo"
    )
    try:
        day = _day(raw, "Date")
    except InvalidValue:
        day = None
    return f"{NO_WORK_HOUR_ID}: {who}, {day.isoformat() if day else 'no Date'})"


def work_hours(raws: Iterable[Any]) -> list[TimeEntry | InvalidRecord]:
    """``work_hour`` of each, in order; hours without a WorkHourID that are alike (same employee
    and day) get a counter, ``#1``, ``#2``, ..., so that each stays a record of its own."""
    return number_alike([work_hour(raw) for raw in raws])


def number_alike(read: list[TimeEntry | InvalidRecord]) -> list[TimeEntry | InvalidRecord]:
    """``read`` (``work_hour`` of each hour, in order) with a counter on the stand-in keys
    several hours without a WorkHourID share (``work_hours``): done over every hour read, so
    the pages can be read into records one by one as they arrive."""
    alike = Counter(
        r.key for r in read if isinstance(r, InvalidRecord) and r.key.startswith(NO_WORK_HOUR_ID)
    )
    if not any(count > 1 for count in alike.values()):
        return read
    seen: Counter[str] = Counter()
    numbered: list[TimeEntry | InvalidRecord] = []
    for record in read:
        if isinstance(record, InvalidRecord) and alike.get(record.key, 0) > 1:
            seen[record.key] += 1
            record = replace(record, key=f"{record.key[:-1]}, #{seen[record.key]})")
        numbered.append(record)
    return numbered


def _code(raw: Mapping[str, Any], name: str) -> str | None:
    """A code text (employee, project, activity, wage) shared, not copied, by the many hours
    that carry it: a hundred thousand hours name a few thousand codes."""
    value = _text(raw, name)
    return sys.intern(value) if value else value


def work_hour(raw: Mapping[str, Any]) -> TimeEntry | InvalidRecord:
    """A v1 work hour. Times are local Norwegian time in decimal hours; they become UTC.

    The key is ``WorkHourID``: without a whole-number one the hour can be neither transferred
    nor marked exported, so it is invalid under a stand-in key naming its employee and day
    (``_no_work_hour_id``). ``owner`` is the employee number when there is one."""
    if not isinstance(raw, Mapping):
        return _not_an_object("hour")
    ident = raw.get("WorkHourID")
    usable = isinstance(ident, int) and not isinstance(ident, bool)
    key = str(ident) if usable else _no_work_hour_id(raw)
    owner = raw.get("EmployeeNo")
    owner = owner.strip() if isinstance(owner, str) and owner.strip() else None
    hours_field = "NetHours"
    try:
        if ident is None or (isinstance(ident, str) and not ident.strip()):
            raise InvalidValue("WorkHourID", "is missing")
        if not usable:
            raise InvalidValue("WorkHourID", "is not a whole number")
        number = _code(raw, "EmployeeNo")
        if not number or not number.strip():
            raise InvalidValue("EmployeeNo", "is required")
        day = _day(raw, "Date")
        if day is None:
            raise InvalidValue("Date", "is missing")
        # NetHours, else OrdinaryHours (docs/flows.md); a NetHours that is there but no number is
        # invalid, not a reason to fall back.
        hours = _number(raw, "NetHours")
        if hours is None:
            hours_field = "OrdinaryHours"
            hours = _number(raw, "OrdinaryHours")
        if hours is None:
            raise InvalidValue("NetHours", "is missing, and so is OrdinaryHours")
        start = _clock(raw, "OrdinaryHoursFrom", day)
        stop = _clock(raw, "OrdinaryHoursTo", day)
        if start is None or stop is None:
            start = stop = None  # one end alone is no span
        project_number = _text(raw, "ProjectNumber")
        if not project_number or not project_number.strip():
            # An hour is transferred to a project: without its number there is none to look up.
            raise InvalidValue("ProjectNumber", "is missing")
        try:
            return TimeEntry(
                key=key,
                employee_key=number,
                project_key=sys.intern(project_number.strip()),
                day=day,
                hours=hours,
                work_type_code=_code(raw, "WorkDescriptionCode") or None,
                salary_type_code=_code(raw, "WageCode") or None,
                start=start,
                stop=stop,
                comment=_text(raw, "Comment") or None,
                approved=_flag(raw, "AdminAttested"),
                exported=_flag(raw, "ExportedExternal"),
                updated=_aware(raw, "LastUpdated"),
            )
        except InvalidValue as error:  # the domain's rule, told by the SmartDok field
            raise _in_vendor_terms(
                error,
                {
                    "time_entry.hours": (
                        hours_field,
                        "must be more than 0 and at most 24 for one day",
                    ),
                    "time_entry.stop": ("OrdinaryHoursTo", "is before OrdinaryHoursFrom"),
                },
            ) from None
    except InvalidValue as error:
        return InvalidRecord.from_error("hour", key, error, owner)
