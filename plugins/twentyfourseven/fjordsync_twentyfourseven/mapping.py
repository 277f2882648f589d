"""Pure 24SevenOffice <-> domain translation: SOAP records (as zeep hands them, plain dicts) and
payroll JSON (every value a string).

**Every reading is total**: a vendor record becomes a domain record or an ``InvalidRecord``
naming the record and the field (never the value); nothing here raises for what a vendor sends.
On the SOAP side a value zeep could not convert arrives as ``UNREADABLE`` and a character XML
forbids as U+FFFD (see ``client.py``): both make the record invalid, with what to correct in
24SevenOffice. Sentinels (-2147483648, 0001-01-01T00:00:00) are no value; writing, a field with
no value is left out, never sent as a sentinel.

Reading the payroll side (the target of flows 4 and 5): the keys (``empId``, ``employment_id``,
``serialNo``), the fields an employment or absence is matched by (its dates, the absence type
and percent) and every value of the wrong JSON type (an object where a string belongs) make the
record invalid, with ``owner`` the employee's number. Any other string that would not pass the
domain's checks is read as no value, so the plan overwrites it with the source's valid one
instead of refusing the employee.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from fjordsync.domain.codes import (
    AbsenceCode,
    EmploymentForm,
    EmploymentKind,
    EndDateReason,
    LeaveStatus,
    SalaryType,
    WorkingTimes,
)
from fjordsync.domain.model import (
    Absence,
    Address,
    CodeItem,
    Employee,
    Employment,
    InvalidRecord,
    Project,
    Salary,
    TimeEntry,
)
from fjordsync.domain.rules import NORWAY, local_to_utc
from fjordsync.domain.values import BankAccount, DateRange, Email, NationalId, PhoneNumber
from fjordsync.errors import InvalidValue

UNSET_INT = -2147483648
UNSET_YEAR = 1
NOT_TEXT = "\ufffd"  # what client.py puts for a character XML forbids
FIX_IN_ERP = "correct it in 24SevenOffice"
FIX_IN_PAYROLL = "correct it in 24SevenOffice Lønn"
MARKER_PREFIX = "fjordsync:"  # the marker fjordsync writes into an hour's InternalNote


class _Unreadable:
    """A value that was there but could not be read (zeep could not convert it)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "UNREADABLE"


UNREADABLE: Any = _Unreadable()


class Unfit(InvalidValue):
    """A vendor value that cannot be read: says "<field> <problem>" (never the value)."""

    def __str__(self) -> str:
        return f"{self.field} {self.problem}"


def _message(error: InvalidValue) -> str:
    return str(error)


def _in_vendor_terms(error: InvalidValue, fields: Mapping[str, tuple[str, str]]) -> InvalidValue:
    """A domain constructor's error told by the 24SevenOffice field it came from
    (``project.period`` -> ``DateStop``/``DateStart``): the clerk fixes the vendor's field, and
    a domain name is no place to look for in 24SevenOffice."""
    if error.field not in fields:
        return error
    name, problem = fields[error.field]
    return Unfit(name, problem)


def numbered(records: Iterable[Any]) -> list[Any]:
    """The records in order; invalid ones whose stand-in key (``(no Id: ...)``) is shared by
    several get a counter (``#1``, ``#2``), so each stays a record of its own instead of all
    becoming one key held twice (a conflict that names no field)."""
    records = list(records)
    stand_ins = Counter(
        r.key for r in records if isinstance(r, InvalidRecord) and r.key.startswith("(no ")
    )
    seen: Counter[str] = Counter()
    result = []
    for record in records:
        if isinstance(record, InvalidRecord) and stand_ins.get(record.key, 0) > 1:
            seen[record.key] += 1
            inner = record.key[1:-1]
            joint = ", " if ":" in inner else ": "
            record = replace(record, key=f"({inner}{joint}#{seen[record.key]})")
        result.append(record)
    return result


# -- SOAP --------------------------------------------------------------------------------------
def no_sentinel(value: Any) -> Any:
    """None for .NET's "unset" values."""
    if value is None or value is UNREADABLE:
        return value
    if isinstance(value, bool):
        return value
    if value == UNSET_INT or value == "":
        return None
    if isinstance(value, datetime | date) and value.year <= UNSET_YEAR:
        return None
    return value


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


def _items(container: Any, name: str) -> list[dict[str, Any]]:
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


# -- payroll -----------------------------------------------------------------------------------
def _kind(value: Any) -> str:
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "true or false"
    return "a number"


def _text(raw: Mapping[str, Any], name: str) -> str | None:
    """A payroll string field, stripped; None when absent or empty. Payroll sends every value
    as a string: a value of another JSON type makes the record invalid."""
    value = raw.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise Unfit(name, f"is not text ({_kind(value)}); {FIX_IN_PAYROLL}")
    return value.strip() or None


def _lenient(build: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return build(*args, **kwargs)
    except (InvalidValue, ValueError, InvalidOperation):
        return None


def _payroll_day(value: str | None) -> date | None:
    return _lenient(date.fromisoformat, value[:10]) if value else None


def _strict_day(raw: Mapping[str, Any], name: str, *, required: bool) -> date | None:
    value = _text(raw, name)
    if value is None:
        if required:
            raise Unfit(name, "is missing in payroll")
        return None
    found = _payroll_day(value)
    if found is None:
        raise Unfit(name, f"is not a date (YYYY-MM-DD); {FIX_IN_PAYROLL}")
    return found


def _loose_text(raw: Mapping[str, Any], name: str) -> str | None:
    """A payroll key field as text, for keying a record that may be invalid: a whole number
    stands for its digits. Such a key only ever holds a record back (the source record that
    would match it), it is never written."""
    value = raw.get(name)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return (value.strip() or None) if isinstance(value, str) else None


def _payroll_stand_in(entity: str, raw: Mapping[str, Any], key_field: str) -> str:
    """The key of a payroll record without its own: what a clerk finds it by in Lønn (the
    employee's number and a date, never a name); ``numbered`` adds a counter when alike."""
    owner = _loose_text(raw, "empId")
    day_field = {"employment": "startdate", "absence": "startDate"}.get(entity)
    day = (
        _payroll_day(raw.get(day_field))
        if day_field and isinstance(raw.get(day_field), str)
        else None
    )
    parts = [f"employee {owner}"] if owner and entity != "employee" else []
    if day is not None:
        parts.append(f"from {day.isoformat()}")
    return f"(no {key_field}: {', '.join(parts)})" if parts else f"(no {key_field})"


def _payroll_record(
    entity: str, raw: Any, key_field: str
) -> tuple[str, str | None, InvalidRecord | None]:
    """(key, the employee's number, why the record has no key). The employee's number is
    ``owner`` also when it is not text, so that the flow holds that employee back."""
    if not isinstance(raw, Mapping):
        stand_in = f"(no {key_field})"
        return stand_in, None, InvalidRecord(entity, stand_in, "is not a record")
    owner = _loose_text(raw, "empId")
    stand_in = _payroll_stand_in(entity, raw, key_field)
    if key_field == "empId" and owner:
        stand_in = owner  # the flow's match key, even when it is not text
    try:
        _text(raw, "empId")
        key = _text(raw, key_field)
    except InvalidValue as error:
        return stand_in, owner, InvalidRecord(entity, stand_in, _message(error), owner)
    if not key:
        return stand_in, owner, InvalidRecord(entity, stand_in, f"{key_field} is missing", owner)
    return key, owner, None


def payroll_employee(raw: Mapping[str, Any]) -> Employee | InvalidRecord:
    emp_id, _, invalid = _payroll_record("employee", raw, "empId")
    if invalid is not None:
        return invalid
    try:
        return _payroll_employee(emp_id, raw)
    except Unfit as error:
        return InvalidRecord("employee", emp_id, _message(error), emp_id)
    except InvalidValue as error:
        return InvalidRecord.from_error("employee", emp_id, error, emp_id)


def _payroll_employee(emp_id: str, raw: Mapping[str, Any]) -> Employee:
    account = _text(raw, "account")
    country = (_text(raw, "countryCode") or "NO").upper()
    bic, clearing = _text(raw, "bic"), _text(raw, "clearingno")
    bank = None
    if account:
        bank = _lenient(
            BankAccount,
            account,
            "NO" if account.isdigit() else account[:2],
            bic=bic,
            clearing=clearing,
        )
    salary = None
    salary_type, amount_text = _text(raw, "salary_type"), _text(raw, "salary")
    valid_from = _payroll_day(_text(raw, "salary_valid_from"))
    if salary_type in ("monthly", "hourly") and amount_text:
        amount = _lenient(Decimal, amount_text)
        if amount is not None and amount.is_finite():
            salary = Salary(SalaryType(salary_type), amount, valid_from)
    international = raw.get("internationalID")
    if international in (None, ""):
        international = {}
    if not isinstance(international, Mapping):
        raise Unfit("internationalID", f"is not an object ({_kind(international)})")
    nationality = _text(international, "countryCode")
    email, personnr = _text(raw, "email"), _text(raw, "personnr")
    first_name, last_name = _text(raw, "firstname"), _text(raw, "lastname")
    street, postal_code, city = _text(raw, "postaddress"), _text(raw, "zipcode"), _text(raw, "city")
    return Employee(
        key=emp_id,
        first_name=first_name or "",
        last_name=last_name or "",
        work_email=_lenient(Email, email) if email else None,
        national_id=_lenient(NationalId, personnr) if personnr else None,
        nationality=nationality.upper() if nationality else None,
        home_address=Address(street=street, postal_code=postal_code, city=city, country=country),
        bank_account=bank,
        salary=salary,
        target_key=emp_id,
    )


def _money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'))}"


def payroll_employee_body(employee: Employee, *, defaults: bool) -> dict[str, Any]:
    """docs/flows.md flow 4's employee fields, every value a string. ``defaults`` adds the fields
    that are written on create (vacation days, the type of the international id)."""
    address = employee.home_address or Address()
    bank = employee.bank_account
    body: dict[str, Any] = {
        "empId": employee.key,
        "email": str(employee.work_email or employee.private_email or ""),
        "firstname": employee.first_name,
        "lastname": employee.last_name,
        "personnr": str(employee.national_id or ""),
        "postaddress": address.street or "",
        "city": address.city or "",
        "zipcode": address.postal_code or "",
        "countryCode": address.country or "",
        "account": bank.number if bank else "",
        "bic": (bank.bic or "") if bank else "",
        "clearingno": (bank.clearing or "") if bank else "",
        "internationalID": {
            "ID": str(employee.national_id or ""),
            "countryCode": employee.nationality or "",
        },
    }
    if employee.salary is not None:
        body["salary_type"] = employee.salary.salary_type.value
        body["salary"] = _money(employee.salary.amount)
        body["salary_valid_from"] = (
            employee.salary.valid_from.isoformat() if employee.salary.valid_from else ""
        )
    if defaults:
        body["vacation_days"] = "25"
        body["internationalID"]["type"] = "socialSecurityNumber"
    return body


def payroll_employment(raw: Mapping[str, Any]) -> Employment | InvalidRecord:
    key, owner, invalid = _payroll_record("employment", raw, "employment_id")
    if invalid is not None:
        return invalid
    try:
        if not owner:
            raise Unfit("empId", "is missing")
        start = _strict_day(raw, "startdate", required=True)
        end = _strict_day(raw, "enddate", required=False)
        assert start is not None
        rate = _text(raw, "employment_rate")
        form, reason = _text(raw, "employment_form"), _text(raw, "enddate_reason")
        working_times, kind = _text(raw, "working_times"), _text(raw, "employment_type")
        return Employment(
            employee_key=owner,
            period=DateRange(start, end),
            form=_lenient(EmploymentForm, form),
            rate=_lenient(Decimal, rate) if rate else None,
            profession_code=_text(raw, "profession_code"),
            end_reason=_lenient(EndDateReason, reason),
            working_times=_lenient(WorkingTimes, working_times) or WorkingTimes.NO_SHIFTS,
            kind=_lenient(EmploymentKind, kind) or EmploymentKind.ORDINARY,
            key=key,
            target_key=key,
        )
    except Unfit as error:
        return InvalidRecord("employment", key, _message(error), owner)
    except InvalidValue as error:
        return InvalidRecord.from_error("employment", key, error, owner)


def payroll_employment_body(employment: Employment) -> dict[str, Any]:
    body = {
        "startdate": employment.period.start.isoformat(),
        "enddate": employment.period.end.isoformat() if employment.period.end else "",
        "enddate_reason": employment.end_reason.value if employment.end_reason else "",
        "employment_form": employment.form.value if employment.form else "",
        "employment_rate": f"{employment.rate:.2f}" if employment.rate is not None else "",
        "profession_code": employment.profession_code or "",
        "working_times": employment.working_times.value,
        "employment_type": employment.kind.value,
    }
    if employment.target_key:
        body["employment_id"] = employment.target_key
    return body


def payroll_absence(raw: Mapping[str, Any]) -> Absence | InvalidRecord:
    serial, owner, invalid = _payroll_record("absence", raw, "serialNo")
    if invalid is not None:
        # Keyed by its externalId (the flow's match key, the leave's id) when it has one, so
        # the leave is held back instead of being sent again beside an absence payroll has.
        external = _loose_text(raw, "externalId") if isinstance(raw, Mapping) else None
        return replace(invalid, key=external) if external else invalid
    try:
        key = _text(raw, "externalId") or f"payroll:{serial}"
    except InvalidValue as error:
        return InvalidRecord("absence", f"payroll:{serial}", _message(error), owner)
    try:
        if not owner:
            raise Unfit("empId", "is missing")
        start = _strict_day(raw, "startDate", required=True)
        assert start is not None
        end = _strict_day(raw, "endDate", required=False) or start
        percent_text = _text(raw, "percent")
        # An empty percent is payroll's own default, a whole day's absence.
        percent = Decimal(100)
        if percent_text is not None:
            percent = _lenient(Decimal, percent_text)
            if percent is None or not percent.is_finite():
                raise Unfit("percent", f"is not a number; {FIX_IN_PAYROLL}")
        type_code = _text(raw, "absenceType")
        code = _lenient(AbsenceCode, type_code)
        if code is None:
            raise Unfit("absenceType", "is missing" if type_code is None else "is unknown")
        return Absence(
            key=key,
            employee_key=owner,
            code=code,
            period=DateRange(start, end),
            status=LeaveStatus.APPROVED,
            percent=percent,
            child_id=_text(raw, "childId"),
            target_key=serial,
        )
    except Unfit as error:
        return InvalidRecord("absence", key, _message(error), owner)
    except InvalidValue as error:
        return InvalidRecord.from_error("absence", key, error, owner)


def payroll_absence_body(absence: Absence, number_of_days: int | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "empId": absence.employee_key,
        "absenceType": absence.code.value,
        "startDate": absence.period.start.isoformat(),
        "endDate": absence.period.end.isoformat() if absence.period.end else "",
        "percent": f"{absence.percent.normalize():f}",
        "externalId": absence.key,
        "childId": absence.child_id or "",
        "numberOfDays": str(number_of_days) if number_of_days is not None else "",
    }
    if absence.target_key:
        body["serialNo"] = absence.target_key
    return body
