"""Pure AlexisHR JSON -> domain translation, as docs/flows.md flows 4 and 5 state it.

Each function returns the domain record or an ``InvalidRecord`` naming the Alexis field that is
wrong (never its value), so one bad record never hides the others. The functions are total:
a value of another JSON type than ``openapi.yaml`` declares (an address or bank account given
as text, an amount "84 000,50" where the API declares a number, a rate "full") is invalid and
never coerced, since a coerced salary or account would be a guess sent to payroll. Records that
hang off an employee carry the employee number as ``owner``, so a flow can hold the employee
back instead of writing what is left (an older salary).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
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
from fjordsync.domain.problems import Problem, ProblemKind
from fjordsync.domain.values import BankAccount, DateRange, Email, NationalId
from fjordsync.errors import InvalidValue
from fjordsync_alexis.vocabulary import (
    employment_form_from_type_name,
    parse_employment_note,
    resolve_absence_code,
)

__all__ = [
    "CLASH",
    "SharedId",
    "absence",
    "compensation",
    "employee",
    "employment",
    "parse_day",
    "parse_moment",
    "ref",
]

# An id that two different related records carry (two leave types with one id): a join by it
# would be a guess, so the record pointing at it is invalid.
CLASH: Any = {"clash": True}
HALF_DAY = Decimal(50)
FULL = Decimal(100)
# A leave's duration -> the payroll percent of its days. "minutes" has none: the share of a
# day it takes depends on the work week, and a guessed percent would be paid as absence.
PERCENT_BY_DURATION = {"half_day": HALF_DAY, "one_day": FULL, "longer": FULL}


@dataclass(frozen=True)
class SharedId:
    """An employee id that several employees carry (their numbers): a record naming it
    belongs to one of them, and which one cannot be told."""

    ident: str
    numbers: tuple[str, ...]

    def error(self, field: str) -> InvalidValue:
        return InvalidValue(
            field,
            f"{len(self.numbers)} employees share id {self.ident} (employee numbers "
            f"{', '.join(self.numbers)}): which one it belongs to cannot be told; AlexisHR "
            "must give each its own id",
        )


def _text(raw: Mapping[str, Any], name: str) -> str | None:
    value = raw.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidValue(name, "must be text")
    return value.strip() or None


def _object(raw: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    """A nested object (``homeAddress``, ``bankAccount``); none is an empty one."""
    value = raw.get(name)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidValue(name, "must be an object")
    return value


def _number(raw: Mapping[str, Any], name: str, field: str) -> Decimal | None:
    value = raw.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidValue(field, "must be a number")  # "84 000,50" too: no locale is guessed
    if not math.isfinite(value):
        raise InvalidValue(field, "must be a finite number")
    return Decimal(str(value))


def _flag(raw: Mapping[str, Any], name: str, default: bool) -> bool:
    value = raw.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise InvalidValue(name, "must be true or false")
    return value


def ref(raw: Mapping[str, Any], name: str) -> str | None:
    """An id pointing at another record, when it is one (ids are text in the API)."""
    value = raw.get(name)
    return value if isinstance(value, str) and value else None


def parse_day(value: Any, field: str) -> date | None:
    """Alexis dates are date-times ("2024-01-01T00:00:00.000+00:00"); the day is what counts."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidValue(field, "is not a date")
    try:
        return datetime.fromisoformat(value).date()
    except ValueError:
        raise InvalidValue(field, "is not a date") from None


def parse_moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _moment(raw: Mapping[str, Any], name: str) -> datetime | None:
    """A date-time field (``updated``): the incremental read filters by it, so one that is no
    date-time would leave the record out of every later read, or in all of them."""
    value = raw.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidValue(name, "is not a date-time")
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise InvalidValue(name, "is not a date-time") from None


def _period(start: date, end: date | None, entity: str) -> DateRange:
    """The domain's period, its rule told by AlexisHR's field: the end is what to correct."""
    if end is not None and end < start:
        raise InvalidValue(f"{entity}.endDate", "is before startDate")
    return DateRange(start, end, field=entity)


def numbered(records: Iterable[Any]) -> list[Any]:
    """The records in order; invalid ones whose stand-in key (``(no id: ...)``) several share
    get a counter (``#1``, ``#2``), so each stays a record of its own instead of all becoming
    one key held twice (a conflict that names no field)."""
    records = list(records)
    stand_ins = Counter(r.key for r in records if isinstance(r, InvalidRecord) and "(no " in r.key)
    seen: Counter[str] = Counter()
    result = []
    for record in records:
        if isinstance(record, InvalidRecord) and stand_ins.get(record.key, 0) > 1:
            seen[record.key] += 1
            joint = ", " if record.key.rstrip(")").count(":") else ": "
            record = replace(record, key=f"{record.key[:-1]}{joint}#{seen[record.key]})")
        result.append(record)
    return result


def _bank_account(raw: Mapping[str, Any]) -> BankAccount | None:
    """The account number for a Norwegian account, else the IBAN (seed 001)."""
    account = _object(raw, "bankAccount")
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


NO_ID = "(no id)"


def _record_id(raw: Mapping[str, Any]) -> str:
    """The record's id; a blank one is none (no record can be found by it)."""
    ident = raw.get("id")
    return ident if isinstance(ident, str) and ident.strip() else NO_ID


def _stand_in(raw: Mapping[str, Any], date_field: str, employee: str | None = None) -> str:
    """The key of a record without an id: its employee (when the key does not name it already)
    and its date, which a clerk finds it by in AlexisHR; never a personal value. ``numbered``
    adds a counter where records are alike."""
    try:
        day = parse_day(raw.get(date_field), date_field)
    except InvalidValue:
        day = None
    parts = [f"employee {employee}"] if employee else []
    parts += [f"{date_field} {day.isoformat()}"] if day else []
    return f"(no id: {', '.join(parts)})" if parts else NO_ID


def _not_an_object(entity: str) -> InvalidRecord:
    return InvalidRecord(entity, "(not an object)", "the record is not a JSON object")


def employee(raw: Mapping[str, Any]) -> Employee | InvalidRecord:
    if not isinstance(raw, Mapping):
        return _not_an_object("employee")
    number = raw.get("employeeNumber")
    key = number.strip() if isinstance(number, str) and number.strip() else ""
    if not key:
        ident = _record_id(raw)
        key = f"id {ident}" if ident != NO_ID else "(no employeeNumber)"
    try:
        if not _text(raw, "employeeNumber"):
            raise InvalidValue("employeeNumber", "is empty")
        _moment(raw, "updated")
        work = _text(raw, "workEmail")
        private = _text(raw, "privateEmail")
        ssn = _text(raw, "ssn")
        address = _object(raw, "homeAddress")
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
            active=_flag(raw, "active", True),
        )
    except InvalidValue as error:
        return InvalidRecord.from_error("employee", key, error)


def employment(
    raw: Mapping[str, Any],
    employee_number: str | None,
    type_name: str | None,
    shared: SharedId | None = None,
) -> Employment | InvalidRecord:
    """``shared``: the employee id it names is carried by several employees; called once per
    employee number, so that each of them is held back."""
    if not isinstance(raw, Mapping):
        return _not_an_object("employment")
    ident = _record_id(raw)
    if ident == NO_ID:
        ident = _stand_in(raw, "startDate")
    key = f"{employee_number or ref(raw, 'employeeId') or '(no employee)'}/{ident}"
    try:
        if shared is not None:
            raise shared.error("employment.employeeId")
        if employee_number is None:
            raise InvalidValue("employment.employeeId", "names no employee")
        if _record_id(raw) == NO_ID:
            raise InvalidValue("employment.id", "is missing")
        if type_name is CLASH:
            raise InvalidValue("employment.typeId", "names more than one employment type")
        start = parse_day(raw.get("startDate"), "employment.startDate")
        if start is None:
            raise InvalidValue("employment.startDate", "is required")
        end = parse_day(raw.get("endDate"), "employment.endDate")
        note = parse_employment_note(_text(raw, "note"), end)
        return Employment(
            employee_key=employee_number,
            period=_period(start, end, "employment"),
            form=employment_form_from_type_name(type_name),
            rate=_number(raw, "rate", "employment.rate"),
            profession_code=note.profession_code,
            end_reason=note.end_reason,
            key=raw["id"],
        )
    except InvalidValue as error:
        return InvalidRecord.from_error("employment", key, error, employee_number)


def compensation(
    raw: Mapping[str, Any], employee_number: str | None, shared: SharedId | None = None
) -> Compensation | InvalidRecord:
    """``shared`` as for ``employment``."""
    if not isinstance(raw, Mapping):
        return _not_an_object("compensation")
    ident = _record_id(raw)
    if ident == NO_ID:
        ident = _stand_in(raw, "effectiveDate")
    key = f"{employee_number or ref(raw, 'employeeId') or '(no employee)'}/{ident}"
    try:
        if shared is not None:
            raise shared.error("compensation.employeeId")
        if employee_number is None:
            raise InvalidValue("compensation.employeeId", "names no employee")
        if _record_id(raw) == NO_ID:
            raise InvalidValue("compensation.id", "is missing")
        effective = parse_day(raw.get("effectiveDate"), "compensation.effectiveDate")
        if effective is None:
            raise InvalidValue("compensation.effectiveDate", "is required")
        period = raw.get("payoutPeriod")
        if not isinstance(period, str) or period not in PayoutPeriod.__members__.values():
            raise InvalidValue("compensation.payoutPeriod", "is not a known payout period")
        amount = _number(raw, "amount", "compensation.amount")
        if amount is None:
            raise InvalidValue("compensation.amount", "is required")
        return Compensation(
            employee_key=employee_number,
            effective_date=effective,
            payout_period=PayoutPeriod(period),
            amount=amount,
            key=raw["id"],
        )
    except InvalidValue as error:
        # owner: an invalid latest row must hold the employee back, never let an older salary
        # through as if it were the current one
        return InvalidRecord.from_error("compensation", key, error, employee_number)


def _percent(raw: Mapping[str, Any]) -> Decimal:
    """The payroll percent of a leave's days, by its ``duration`` (``openapi.yaml``: minutes,
    half_day, one_day, longer; required). Anything else would be a guess of how much of each
    day the employee was away."""
    duration = raw.get("duration")
    if duration is None:
        raise InvalidValue("leave.duration", "is missing")
    if not isinstance(duration, str):
        raise InvalidValue("leave.duration", "must be text")
    if duration == "minutes":
        raise InvalidValue(
            "leave.duration",
            "is minutes: payroll takes whole or half days, and the share of the day is not known",
        )
    if duration not in PERCENT_BY_DURATION:
        raise InvalidValue("leave.duration", "is not a known duration (half_day, one_day, longer)")
    return PERCENT_BY_DURATION[duration]


def absence(
    raw: Mapping[str, Any],
    employee_number: str | None,
    leave_type: Mapping[str, Any] | None,
    user_code: str | None,
    tenant_mapping: Mapping[str, str],
    shared: SharedId | None = None,
) -> Absence | InvalidRecord:
    if not isinstance(raw, Mapping):
        return _not_an_object("absence")
    key = _record_id(raw)
    if key == NO_ID:
        key = _stand_in(raw, "startDate", employee_number or ref(raw, "employeeId"))
    try:
        if shared is not None:
            raise shared.error("leave.employeeId")
        if employee_number is None:
            raise InvalidValue("leave.employeeId", "names no employee")
        if _record_id(raw) == NO_ID:
            raise InvalidValue("leave.id", "is missing")
        if leave_type is None:
            raise InvalidValue("leave.typeId", "names no leave type")
        if leave_type is CLASH:
            raise InvalidValue("leave.typeId", "names more than one leave type")
        kind = leave_type.get("kind")
        try:
            code = resolve_absence_code(
                type_id=str(leave_type["id"]),
                name=str(leave_type.get("name") or ""),
                user_code=user_code,
                kind=LeaveKind(kind)
                if isinstance(kind, str) and kind in LeaveKind.__members__
                else None,
                tenant_mapping=tenant_mapping,
            )
        except InvalidValue as error:
            if error.field != "leave.type":
                raise
            # The type maps to no payroll code: the check names it by the type's name (and
            # the company's own code for it, when it has one, so the message can say it).
            codes = (str(leave_type.get("name") or ""),) + (
                (user_code.strip(),) if user_code and user_code.strip() else ()
            )
            unmapped = Problem(ProblemKind.MISSING_REFERENCE, error.field, codes)
            return InvalidRecord.from_error("absence", key, error, employee_number, unmapped)
        start = parse_day(raw.get("startDate"), "leave.startDate")
        end = parse_day(raw.get("endDate"), "leave.endDate")
        if start is None:
            raise InvalidValue("leave.startDate", "is required")
        if end is None:
            raise InvalidValue("leave.endDate", "the leave has no end date; payroll needs one")
        status = raw.get("status")
        if not isinstance(status, str) or status not in LeaveStatus.__members__.values():
            raise InvalidValue("leave.status", "is not a known leave status")
        period = _period(start, end, "leave")
        return Absence(
            key=key,
            employee_key=employee_number,
            code=code,
            period=period,
            status=LeaveStatus(status),
            # Alexis has no grade; a half-day leave is half of that day.
            percent=_percent(raw),
            leave_type=str(leave_type.get("name") or ""),
        )
    except InvalidValue as error:
        return InvalidRecord.from_error("absence", key, error, employee_number)
