"""Pure translation between 24SevenOffice Lønn's payroll JSON (every value a string) and the
domain.

Reading the payroll side (the target of flows 4 and 5): the keys (``empId``, ``employment_id``,
``serialNo``), the fields an employment or absence is matched by (its dates, the absence type
and percent) and every value of the wrong JSON type (an object where a string belongs) make the
record invalid, with ``owner`` the employee's number. Any other string that would not pass the
domain's checks is read as no value, so the plan overwrites it with the source's valid one
instead of refusing the employee.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date
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
    Employee,
    Employment,
    InvalidRecord,
    Salary,
)
from fjordsync.domain.values import BankAccount, DateRange, Email, NationalId
from fjordsync.errors import InvalidValue
from fjordsync_twentyfourseven.shared import (
    FIX_IN_PAYROLL,
    Unfit,
    _message,
)


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
