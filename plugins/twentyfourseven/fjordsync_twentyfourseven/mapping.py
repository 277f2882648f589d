"""Pure 24SevenOffice <-> domain translation: SOAP records (as zeep hands them, plain dicts) and
payroll JSON (every value a string).

Reading the SOAP side, sentinels (-2147483648, 0001-01-01T00:00:00) are no value; writing, a
field with no value is left out, never sent as a sentinel. Reading the payroll side is lenient:
a value payroll holds that would not pass the domain's checks is read as no value, so the plan
overwrites it with the source's valid one instead of refusing the record.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
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
from fjordsync.domain.values import BankAccount, DateRange, Email, NationalId, PhoneNumber
from fjordsync.errors import InvalidValue

UNSET_INT = -2147483648
UNSET_YEAR = 1


# -- SOAP --------------------------------------------------------------------------------------
def no_sentinel(value: Any) -> Any:
    """None for .NET's "unset" values."""
    if value is None or value == UNSET_INT or value == "":
        return None
    if isinstance(value, datetime | date) and value.year <= UNSET_YEAR:
        return None
    return value


def _day(value: Any) -> date | None:
    value = no_sentinel(value)
    if isinstance(value, datetime):
        return value.date()
    return value


def _utc(value: Any) -> datetime | None:
    value = no_sentinel(value)
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def project(raw: Mapping[str, Any], *, deactivated: bool) -> Project | InvalidRecord:
    key = str(no_sentinel(raw.get("Id")) or "")
    try:
        return Project(
            key=key,
            name=str(raw.get("Name") or ""),
            active=not deactivated,
            start=_day(raw.get("DateStart")),
            end=_day(raw.get("DateStop")),
            customer_name=raw.get("CustomerName") or None,
            target_key=key,
        )
    except InvalidValue as error:
        return InvalidRecord.from_error("project", key or "(no Id)", error)


def _items(container: Any, name: str) -> list[dict[str, Any]]:
    if not container:
        return []
    items = container.get(name) if isinstance(container, dict) else container
    return list(items or [])


def person(raw: Mapping[str, Any]) -> Employee | InvalidRecord:
    """A CRM person who is an employee; the key is the Contact id (``PersonItem.Id``)."""
    key = str(no_sentinel(raw.get("Id")) or "")
    try:
        emails = _items(raw.get("EmailAddresses"), "EmailAddress")
        primary = next(
            (e for e in emails if e.get("Type") == "Primary" and e.get("Value")),
            next((e for e in emails if e.get("Value")), None),
        )
        phones = _items(raw.get("PhoneNumbers"), "PhoneNumber")
        mobile = next((p for p in phones if p.get("Type") == "Mobile" and p.get("Value")), None)
        return Employee(
            key=key,
            first_name=str(raw.get("FirstName") or "").strip(),
            last_name=str(raw.get("LastName") or "").strip(),
            work_email=Email(primary["Value"], field="EmailAddresses.Primary") if primary else None,
            mobile=PhoneNumber.parse(mobile["Value"], field="PhoneNumbers.Mobile")
            if mobile
            else None,
            target_key=key,
        )
    except InvalidValue as error:
        return InvalidRecord.from_error("employee", key or "(no Id)", error)


def code_item(raw: Mapping[str, Any], *, active: bool = True) -> CodeItem:
    return CodeItem(str(raw.get("Id")), str(raw.get("Name") or ""), active)


def _iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def hour(entry: TimeEntry, marker: str) -> dict[str, Any]:
    """A ``SaveHour`` Hour. ``marker`` goes into ``InternalNote`` so that a write whose answer
    was lost can be found again."""
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
    if entry.stop:
        record["StopTime"] = _iso_utc(entry.stop)
    return record


def time_entry(raw: Mapping[str, Any]) -> TimeEntry | InvalidRecord:
    key = str(no_sentinel(raw.get("Id")) or "")
    try:
        start = _utc(raw.get("StartTime"))
        return TimeEntry(
            key=key,
            employee_key=str(no_sentinel(raw.get("ContactId")) or ""),
            project_key=str(no_sentinel(raw.get("ProjectId")) or ""),
            day=start.date() if start else date.min,
            hours=no_sentinel(raw.get("TotalHours")),
            work_type_code=str(no_sentinel(raw.get("TypeOfWorkId")) or "") or None,
            salary_type_code=str(no_sentinel(raw.get("SalaryTypeId")) or "") or None,
            start=start,
            stop=_utc(raw.get("StopTime")),
            comment=raw.get("Description") or None,
            approved=raw.get("Approved") == "True",
            locked=raw.get("Locked") == "True",
            target_key=key,
        )
    except InvalidValue as error:
        return InvalidRecord.from_error("hour", key or "(no Id)", error)


# -- payroll -----------------------------------------------------------------------------------
def _text(raw: Mapping[str, Any], name: str) -> str | None:
    value = raw.get(name)
    return str(value).strip() or None if value is not None else None


def _lenient(build: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return build(*args, **kwargs)
    except (InvalidValue, ValueError, InvalidOperation):
        return None


def _payroll_day(value: str | None) -> date | None:
    return _lenient(date.fromisoformat, value[:10]) if value else None


def payroll_employee(raw: Mapping[str, Any]) -> Employee:
    emp_id = str(raw.get("empId", "")).strip()
    account = _text(raw, "account")
    country = (_text(raw, "countryCode") or "NO").upper()
    bank = None
    if account:
        bank = _lenient(
            BankAccount,
            account,
            "NO" if account.isdigit() else account[:2],
            bic=_text(raw, "bic"),
            clearing=_text(raw, "clearingno"),
        )
    salary = None
    salary_type = _text(raw, "salary_type")
    if salary_type in ("monthly", "hourly") and _text(raw, "salary"):
        amount = _lenient(Decimal, _text(raw, "salary"))
        if amount is not None:
            salary = Salary(
                SalaryType(salary_type), amount, _payroll_day(_text(raw, "salary_valid_from"))
            )
    international = raw.get("internationalID") or {}
    email = _text(raw, "email")
    return Employee(
        key=emp_id,
        first_name=_text(raw, "firstname") or "",
        last_name=_text(raw, "lastname") or "",
        work_email=_lenient(Email, email) if email else None,
        national_id=_lenient(NationalId, _text(raw, "personnr"))
        if _text(raw, "personnr")
        else None,
        nationality=(international.get("countryCode") or "").upper() or None,
        home_address=Address(
            street=_text(raw, "postaddress"),
            postal_code=_text(raw, "zipcode"),
            city=_text(raw, "city"),
            country=country,
        ),
        bank_account=bank,
        salary=salary,
        target_key=emp_id,
    )


def _money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'))}"


def payroll_employee_body(employee: Employee, *, defaults: bool) -> dict[str, Any]:
    """FLOWS.md flow 4's employee fields, every value a string. ``defaults`` adds the fields
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
    key = str(raw.get("employment_id", ""))
    try:
        start = _payroll_day(_text(raw, "startdate"))
        if start is None:
            raise InvalidValue("employment.startdate", "is missing in payroll")
        rate = _text(raw, "employment_rate")
        return Employment(
            employee_key=str(raw.get("empId", "")),
            period=DateRange(start, _payroll_day(_text(raw, "enddate"))),
            form=_lenient(EmploymentForm, _text(raw, "employment_form")),
            rate=_lenient(Decimal, rate) if rate else None,
            profession_code=_text(raw, "profession_code"),
            end_reason=_lenient(EndDateReason, _text(raw, "enddate_reason")),
            working_times=_lenient(WorkingTimes, _text(raw, "working_times"))
            or WorkingTimes.NO_SHIFTS,
            kind=_lenient(EmploymentKind, _text(raw, "employment_type")) or EmploymentKind.ORDINARY,
            key=key,
            target_key=key,
        )
    except InvalidValue as error:
        return InvalidRecord.from_error("employment", key, error)


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
    serial = str(raw.get("serialNo", ""))
    key = _text(raw, "externalId") or f"payroll:{serial}"
    try:
        start = _payroll_day(_text(raw, "startDate"))
        if start is None:
            raise InvalidValue("absence.startDate", "is missing in payroll")
        percent = _lenient(Decimal, _text(raw, "percent")) or Decimal(100)
        return Absence(
            key=key,
            employee_key=str(raw.get("empId", "")),
            code=AbsenceCode(str(raw.get("absenceType"))),
            period=DateRange(start, _payroll_day(_text(raw, "endDate")) or start),
            status=LeaveStatus.APPROVED,
            percent=percent,
            child_id=_text(raw, "childId"),
            target_key=serial,
        )
    except (InvalidValue, ValueError) as error:
        message = str(error) if isinstance(error, InvalidValue) else "absenceType is unknown"
        return InvalidRecord("absence", key, message)


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
