"""Pure AlexisHR JSON -> domain translation, as FLOWS.md flows 4 and 5 state it.

Each function returns the domain record or an ``InvalidRecord`` naming the Alexis field that is
wrong (never its value), so one bad record never hides the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from fjordsync.domain.codes import LeaveKind, LeaveStatus, PayoutPeriod
from fjordsync.domain.model import (
    Absence,
    Address,
    Compensation,
    Employee,
    Employment,
    InvalidRecord,
)
from fjordsync.domain.rules import (
    employment_form_from_type_name,
    parse_employment_note,
    resolve_absence_code,
)
from fjordsync.domain.values import BankAccount, DateRange, Email, NationalId
from fjordsync.errors import InvalidValue

__all__ = [
    "absence",
    "compensation",
    "employee",
    "employment",
    "parse_day",
    "parse_moment",
]

HALF_DAY = Decimal(50)
FULL = Decimal(100)


def _text(raw: Mapping[str, Any], name: str) -> str | None:
    value = raw.get(name)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def parse_day(value: str | None, field: str) -> date | None:
    """Alexis dates are date-times ("2024-01-01T00:00:00.000+00:00"); the day is what counts."""
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise InvalidValue(field, "is not a date") from None


def parse_moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _bank_account(raw: Mapping[str, Any]) -> BankAccount | None:
    """The account number for a Norwegian account, else the IBAN (seed 001)."""
    account = raw.get("bankAccount") or {}
    country = (_text(account, "country") or "NO").upper()
    source = "number" if country == "NO" else "iban"
    number = _text(account, source)
    if number is None:
        return None
    return BankAccount(
        number,
        country,
        bic=_text(account, "bic"),
        clearing=_text(account, "clearing"),
        field=f"bankAccount.{source}",
    )


def employee(raw: Mapping[str, Any]) -> Employee | InvalidRecord:
    key = _text(raw, "employeeNumber") or ""
    try:
        if not key:
            raise InvalidValue("employeeNumber", "is empty")
        work = _text(raw, "workEmail")
        private = _text(raw, "privateEmail")
        ssn = _text(raw, "ssn")
        address = raw.get("homeAddress") or {}
        return Employee(
            key=key,
            first_name=_text(raw, "firstName") or "",
            last_name=_text(raw, "lastName") or "",
            work_email=Email(work, field="workEmail") if work else None,
            private_email=Email(private, field="privateEmail") if private else None,
            national_id=NationalId(ssn, field="ssn") if ssn else None,
            nationality=(_text(raw, "nationality") or "").upper() or None,
            home_address=Address(
                street=_text(address, "street"),
                postal_code=_text(address, "postalCode"),
                city=_text(address, "city"),
                country=(_text(address, "country") or "").upper() or None,
            )
            if address
            else None,
            bank_account=_bank_account(raw),
            department=_text(raw, "departmentId"),
            office=_text(raw, "officeId"),
            active=bool(raw.get("active", True)),
        )
    except InvalidValue as error:
        return InvalidRecord.from_error("employee", key or f"id {raw.get('id')}", error)


def employment(
    raw: Mapping[str, Any],
    employee_number: str | None,
    type_name: str | None,
) -> Employment | InvalidRecord:
    key = f"{employee_number or raw.get('employeeId')}/{raw.get('id')}"
    try:
        if employee_number is None:
            raise InvalidValue("employment.employeeId", "names no employee")
        start = parse_day(raw.get("startDate"), "employment.startDate")
        if start is None:
            raise InvalidValue("employment.startDate", "is required")
        end = parse_day(raw.get("endDate"), "employment.endDate")
        note = parse_employment_note(raw.get("note"), end)
        rate = raw.get("rate")
        return Employment(
            employee_key=employee_number,
            period=DateRange(start, end, field="employment"),
            form=employment_form_from_type_name(type_name),
            rate=Decimal(str(rate)) if rate is not None else None,
            profession_code=note.profession_code,
            end_reason=note.end_reason,
            key=str(raw["id"]),
        )
    except InvalidValue as error:
        return InvalidRecord.from_error("employment", key, error)


def compensation(
    raw: Mapping[str, Any], employee_number: str | None
) -> Compensation | InvalidRecord:
    key = f"{employee_number or raw.get('employeeId')}/{raw.get('id')}"
    try:
        if employee_number is None:
            raise InvalidValue("compensation.employeeId", "names no employee")
        effective = parse_day(raw.get("effectiveDate"), "compensation.effectiveDate")
        if effective is None:
            raise InvalidValue("compensation.effectiveDate", "is required")
        try:
            period = PayoutPeriod(raw.get("payoutPeriod"))
        except ValueError:
            raise InvalidValue(
                "compensation.payoutPeriod", "is not a known payout period"
            ) from None
        return Compensation(
            employee_key=employee_number,
            effective_date=effective,
            payout_period=period,
            amount=Decimal(str(raw.get("amount"))),
            key=str(raw["id"]),
        )
    except InvalidValue as error:
        return InvalidRecord.from_error("compensation", key, error)


def absence(
    raw: Mapping[str, Any],
    employee_number: str | None,
    leave_type: Mapping[str, Any] | None,
    user_code: str | None,
    tenant_mapping: Mapping[str, str],
) -> Absence | InvalidRecord:
    key = str(raw.get("id"))
    try:
        if employee_number is None:
            raise InvalidValue("leave.employeeId", "names no employee")
        if leave_type is None:
            raise InvalidValue("leave.typeId", "names no leave type")
        kind = leave_type.get("kind")
        code = resolve_absence_code(
            type_id=str(leave_type["id"]),
            name=str(leave_type.get("name") or ""),
            user_code=user_code,
            kind=LeaveKind(kind) if kind in LeaveKind.__members__ else None,
            tenant_mapping=tenant_mapping,
        )
        start = parse_day(raw.get("startDate"), "leave.startDate")
        end = parse_day(raw.get("endDate"), "leave.endDate")
        if start is None or end is None:
            raise InvalidValue(
                "leave.startDate" if start is None else "leave.endDate", "is required"
            )
        return Absence(
            key=key,
            employee_key=employee_number,
            code=code,
            period=DateRange(start, end, field="leave"),
            status=LeaveStatus(raw.get("status")),
            # Alexis has no grade; a half-day leave is half of that day.
            percent=HALF_DAY if raw.get("duration") == "half_day" else FULL,
            leave_type=str(leave_type.get("name") or ""),
        )
    except InvalidValue as error:
        return InvalidRecord.from_error("absence", key, error)
