"""Pure translation between the 24SevenOffice ERP's SOAP records (as zeep hands them, plain
dicts) and the domain.

**Every reading is total**: a vendor record becomes a domain record or an ``InvalidRecord``
naming the record and the field (never the value); nothing here raises for what a vendor sends.
A value zeep could not convert arrives as ``UNREADABLE`` and a character XML forbids as U+FFFD
(see ``erp/client.py``): both make the record invalid, with what to correct in 24SevenOffice.
Sentinels (-2147483648, 0001-01-01T00:00:00) are no value; writing, a field with no value is
left out, never sent as a sentinel.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from fjordsync.domain.model import (
    CodeItem,
    Employee,
    InvalidRecord,
    Project,
    TimeEntry,
)
from fjordsync.domain.rules import NORWAY, local_to_utc
from fjordsync.domain.values import Email, PhoneNumber
from fjordsync.errors import InvalidValue
from fjordsync_twentyfourseven.shared import (
    FIX_IN_ERP,
    MARKER_PREFIX,
    NOT_TEXT,
    UNREADABLE,
    Unfit,
    _in_vendor_terms,
    _message,
    no_sentinel,
)


def _soap_text(raw: Mapping[str, Any], name: str, label: str | None = None) -> str | None:
    """A text field, stripped of nothing; None when empty. ``label`` names it in a message
    where the element's own name says nothing (an e-mail address's ``Value``)."""
    value = raw.get(name)
    label = label or name
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise Unfit(label, f"is not text; {FIX_IN_ERP}")
    if NOT_TEXT in value:
        raise Unfit(
            label, f"holds a character that is not text (a control character); {FIX_IN_ERP}"
        )
    return value


def _soap_id(raw: Mapping[str, Any], name: str, *, required: bool = True) -> str | None:
    value = no_sentinel(raw.get(name))
    if value is UNREADABLE or isinstance(value, bool) or not isinstance(value, int | None):
        raise Unfit(name, f"is not a whole number; {FIX_IN_ERP}")
    if value is None or value <= 0:
        if required:
            raise Unfit(name, "is missing")
        return None
    return str(value)


def _moment(raw: Mapping[str, Any], name: str) -> datetime | None:
    value = no_sentinel(raw.get(name))
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise Unfit(name, f"is not a date and time; {FIX_IN_ERP}")
    return value


def _day(raw: Mapping[str, Any], name: str) -> date | None:
    value = no_sentinel(raw.get(name))
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raise Unfit(name, f"is not a date; {FIX_IN_ERP}")


def _utc(raw: Mapping[str, Any], name: str) -> datetime | None:
    value = _moment(raw, name)
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _decimal(raw: Mapping[str, Any], name: str) -> Decimal | None:
    value = no_sentinel(raw.get(name))
    if value is None:
        return None
    if value is UNREADABLE or isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise Unfit(name, f"is not a number; {FIX_IN_ERP}")
    return Decimal(value)


def _tristate(raw: Mapping[str, Any], name: str) -> bool:
    value = raw.get(name)
    if value in (None, "", "none", "False"):
        return False
    if value == "True":
        return True
    raise Unfit(name, f"is not one of True, False, none; {FIX_IN_ERP}")


def _lenient_day(raw: Mapping[str, Any], name: str) -> date | None:
    try:
        return _day(raw, name)
    except InvalidValue:
        return None


def _lenient_id(raw: Mapping[str, Any], name: str) -> str | None:
    try:
        return _soap_id(raw, name, required=False)
    except InvalidValue:
        return None


def _oslo_day(moment: datetime) -> date:
    """The Norwegian day of a moment: hours are days of Norwegian work, and an hour without
    clock times is sent at that day's midnight in Oslo, which is the evening before in UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(NORWAY).date()


def _what_it_is(entity: str, raw: Mapping[str, Any]) -> str:
    """What identifies a SOAP record without an Id, to a clerk looking in 24SevenOffice, by
    values that are never personal (numbers and dates, no names); ``numbered`` adds a counter
    where that is not enough."""
    if entity == "hour":
        contact = _lenient_id(raw, "ContactId")
        try:
            start = _moment(raw, "StartTime")
        except InvalidValue:
            start = None
        day = _oslo_day(start).isoformat() if start else "no StartTime"
        return f"contact {contact or '?'}, {day}"
    if entity == "employee" and _lenient_id(raw, "EmployeeId"):
        return f"EmployeeId {_lenient_id(raw, 'EmployeeId')}"
    registered = _lenient_day(raw, "DateRegistered")
    return f"{entity} registered {registered.isoformat()}" if registered else entity


def _soap_record(entity: str, raw: Any, key_field: str) -> tuple[str, InvalidRecord | None]:
    """The record's key, or why it has none (keyed by a stand-in naming what is missing and
    what the record is)."""
    if not isinstance(raw, Mapping):
        stand_in = f"(no {key_field})"
        return stand_in, InvalidRecord(entity, stand_in, "is not a record")
    try:
        return str(_soap_id(raw, key_field)), None
    except InvalidValue as error:
        stand_in = f"(no {key_field}: {_what_it_is(entity, raw)})"
        return stand_in, InvalidRecord(entity, stand_in, _message(error))


def project(raw: Mapping[str, Any], *, deactivated: bool) -> Project | InvalidRecord:
    key, invalid = _soap_record("project", raw, "Id")
    if invalid is not None:
        return invalid
    try:
        return Project(
            key=key,
            name=_soap_text(raw, "Name") or "",
            active=not deactivated,
            start=_day(raw, "DateStart"),
            end=_day(raw, "DateStop"),
            customer_name=_soap_text(raw, "CustomerName"),
            target_key=key,
        )
    except Unfit as error:
        return InvalidRecord("project", key, _message(error))
    except InvalidValue as error:
        error = _in_vendor_terms(
            error, {"project.period": ("DateStop", f"is before DateStart; {FIX_IN_ERP}")}
        )
        return InvalidRecord("project", key, _message(error))


def _items(container: Any, name: str) -> list[Any]:
    """The items of a SOAP array as zeep gives them: whatever the ERP sent (``_values`` checks)."""
    if not container:
        return []
    items = container.get(name) if isinstance(container, dict) else container
    return list(items or [])


def _values(raw: Mapping[str, Any], container: str, item: str) -> list[Mapping[str, Any]]:
    found = _items(raw.get(container), item)
    if not all(isinstance(entry, Mapping) for entry in found):
        raise Unfit(container, f"is not a list of records; {FIX_IN_ERP}")
    return found


def person(raw: Mapping[str, Any]) -> Employee | InvalidRecord:
    """A CRM person who is an employee; the key is the Contact id (``PersonItem.Id``). It came
    from a search for employees, so an ``EmployeeId`` that cannot be read makes it invalid."""
    key, invalid = _soap_record("employee", raw, "Id")
    if invalid is not None:
        return invalid
    try:
        _soap_id(raw, "EmployeeId")
        emails = _values(raw, "EmailAddresses", "EmailAddress")
        primary = next(
            (e for e in emails if e.get("Type") == "Primary" and e.get("Value")),
            next((e for e in emails if e.get("Value")), None),
        )
        phones = _values(raw, "PhoneNumbers", "PhoneNumber")
        mobile = next((p for p in phones if p.get("Type") == "Mobile" and p.get("Value")), None)
        # The element holding the address is "Value": named by its place, the clerk finds it.
        email_field = (
            "EmailAddresses.Primary"
            if primary and primary.get("Type") == "Primary"
            else "EmailAddresses.EmailAddress"
        )
        email = _soap_text(primary, "Value", email_field) if primary else None
        phone = _soap_text(mobile, "Value", "PhoneNumbers.Mobile") if mobile else None
        return Employee(
            key=key,
            first_name=(_soap_text(raw, "FirstName") or "").strip(),
            last_name=(_soap_text(raw, "LastName") or "").strip(),
            work_email=Email(email, field=email_field) if email else None,
            mobile=PhoneNumber.parse(phone, field="PhoneNumbers.Mobile") if phone else None,
            target_key=key,
        )
    except Unfit as error:
        return InvalidRecord("employee", key, _message(error))
    except InvalidValue as error:
        return InvalidRecord.from_error("employee", key, error)


def code_item(raw: Mapping[str, Any], *, active: bool = True) -> CodeItem | None:
    """A work or salary type; None when its Id cannot be read (nothing can refer to it)."""
    try:
        code = _soap_id(raw, "Id")
        name = _soap_text(raw, "Name") or ""
    except InvalidValue:
        return None
    return CodeItem(str(code), name, active)


def _iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def hour(entry: TimeEntry, marker: str) -> dict[str, Any]:
    """A ``SaveHour`` Hour. ``marker`` goes into ``InternalNote`` so that a write whose answer
    was lost can be found again.

    An entry without clock times (SmartDok gave only NetHours) is sent with ``StartTime`` = 00:00
    Europe/Oslo of its day (in UTC), no ``StopTime`` and ``TotalHours`` = its hours: without a
    StartTime the ERP hour would have no day at all, and GetHours, which filters periods by
    StartTime, would find it in no period. Read back, its day is the Oslo day of StartTime."""
    record: dict[str, Any] = {
        "ContactId": int(entry.employee_key),
        "ProjectId": int(entry.project_key),
        "TotalHours": entry.hours,
        "Description": entry.comment or "",
        "InternalNote": marker,
    }
    if entry.target_key:
        record["Id"] = int(entry.target_key)
    if entry.work_type_code:
        record["TypeOfWorkId"] = int(entry.work_type_code)
    if entry.salary_type_code:
        record["SalaryTypeId"] = int(entry.salary_type_code)
    if entry.start:
        record["StartTime"] = _iso_utc(entry.start)
    else:
        record["StartTime"] = _iso_utc(local_to_utc(entry.day, time(0)))
    if entry.stop:
        record["StopTime"] = _iso_utc(entry.stop)
    return record


def _marker(raw: Mapping[str, Any]) -> str | None:
    """The fjordsync marker (``fjordsync:<tenant>:<key>``) an hour's InternalNote carries, if
    it carries one; any other note is the clerk's and no marker."""
    note = raw.get("InternalNote")
    if not isinstance(note, str):
        return None
    note = note.strip()
    tenant, _, key = note.removeprefix(MARKER_PREFIX).partition(":")
    return note if note.startswith(MARKER_PREFIX) and tenant and key else None


def time_entry(raw: Mapping[str, Any]) -> TimeEntry | InvalidRecord:
    key, invalid = _soap_record("hour", raw, "Id")
    if invalid is not None:
        return invalid
    try:
        start = _utc(raw, "StartTime")
        if start is None:
            raise Unfit("StartTime", "is missing: the hour has no day")
        hours = _decimal(raw, "TotalHours")
        if hours is None:
            raise Unfit("TotalHours", "is missing")
        try:
            return TimeEntry(
                key=key,
                employee_key=str(_soap_id(raw, "ContactId")),
                project_key=_soap_id(raw, "ProjectId", required=False) or "",
                day=_oslo_day(start),
                hours=hours,
                work_type_code=_soap_id(raw, "TypeOfWorkId", required=False),
                salary_type_code=_soap_id(raw, "SalaryTypeId", required=False),
                start=start,
                stop=_utc(raw, "StopTime"),
                comment=_soap_text(raw, "Description"),
                approved=_tristate(raw, "Approved"),
                locked=_tristate(raw, "Locked"),
                target_key=key,
                marker=_marker(raw),
            )
        except Unfit:
            raise
        except InvalidValue as error:
            raise _in_vendor_terms(
                error,
                {
                    "time_entry.hours": ("TotalHours", "must be more than 0 and at most 24"),
                    "time_entry.stop": ("StopTime", "is before StartTime"),
                },
            ) from None
    except Unfit as error:
        return InvalidRecord("hour", key, _message(error))
    except InvalidValue as error:
        return InvalidRecord.from_error("hour", key, error)
