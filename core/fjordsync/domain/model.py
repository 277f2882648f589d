"""The records fjordsync moves, independent of any vendor.

Every record is an immutable dataclass. ``key`` is the record's identity in the system it was
read from (an employee number, a Contact id, a project number, a leave id); ``target_key`` is
the identity a target system gave it, where that differs (a SmartDok user's id, a payroll
``employment_id`` or absence ``serialNo``). Fields holding personal data are declared so
(``personal``): they are masked in ``repr`` and, under their own names and the names the flows'
plans give them, wherever fjordsync shows a plan (``PERSONAL_FIELDS``).
Validation happens in the value objects and in ``__post_init__`` here; an invalid record cannot
be built, and the error names the field.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from fjordsync.domain.codes import (
    AbsenceCode,
    EmploymentForm,
    EmploymentKind,
    EndDateReason,
    LeaveStatus,
    PayoutPeriod,
    SalaryType,
    WorkingTimes,
)
from fjordsync.domain.problems import Problem, ProblemKind
from fjordsync.domain.values import (
    MASK,
    BankAccount,
    DateRange,
    Email,
    NationalId,
    PhoneNumber,
    decimal_in_range,
    to_decimal,
    work_hours,
)
from fjordsync.errors import InvalidValue

__all__ = [
    "PERSONAL_FIELDS",
    "Absence",
    "Address",
    "CodeItem",
    "Compensation",
    "Employee",
    "Employment",
    "InvalidRecord",
    "Project",
    "Salary",
    "TimeEntry",
    "masked",
    "personal",
    "personal_fields",
]

HUNDRED = Decimal(100)
PERSONAL = "personal"


def personal(*shown_as: str) -> dict[str, Any]:
    """The ``metadata`` of a field holding personal data; ``shown_as`` are the names a flow's plan
    gives the field (a payroll's ``personnr`` for ``national_id``), masked like its own name."""
    return {PERSONAL: shown_as}


def personal_fields(*records: type) -> frozenset[str]:
    """The names of the personal fields of these record classes, with the names plans show
    them by."""
    return frozenset(
        name
        for record in records
        for item in fields(record)
        if PERSONAL in item.metadata
        for name in (item.name, *item.metadata[PERSONAL])
    )


def _require_text(value: str, field_name: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidValue(field_name, "is required")


def _require_aware(value: datetime | None, field_name: str) -> None:
    if value is not None and value.utcoffset() is None:
        raise InvalidValue(field_name, "must carry a time zone")


@dataclass(frozen=True, slots=True)
class Address:
    """A postal address. Personal data: masked in ``repr``."""

    street: str | None = field(default=None, metadata=personal("postaddress"))
    postal_code: str | None = field(default=None, metadata=personal("zipcode"))
    city: str | None = field(default=None, metadata=personal())
    country: str | None = None  # ISO 3166 alpha-2

    def __repr__(self) -> str:
        return f"Address(***, country={self.country!r})"


@dataclass(frozen=True, slots=True)
class Salary:
    """A salary as payroll takes it: monthly or hourly, two decimals. Personal data: the amount
    is masked in ``repr``."""

    salary_type: SalaryType
    amount: Decimal = field(repr=False, metadata=personal("salary"))
    valid_from: date | None = None
    converted_from: PayoutPeriod | None = None  # set when the amount was divided


@dataclass(frozen=True, slots=True)
class Employee:
    """A person employed by the tenant's company."""

    key: str
    first_name: str
    last_name: str
    work_email: Email | None = None
    private_email: Email | None = None
    mobile: PhoneNumber | None = None
    national_id: NationalId | None = field(default=None, metadata=personal("personnr"))
    nationality: str | None = None  # ISO 3166 alpha-2
    home_address: Address | None = field(default=None, repr=False, metadata=personal())
    bank_account: BankAccount | None = field(default=None, repr=False, metadata=personal("account"))
    department: str | None = None
    office: str | None = None
    active: bool = True
    username: str | None = None
    # The current one, as payroll has it.
    salary: Salary | None = field(default=None, repr=False, metadata=personal())
    target_key: str | None = None

    def __post_init__(self) -> None:
        _require_text(self.key, "key")

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)


@dataclass(frozen=True, slots=True)
class Employment:
    """One employment of an employee (an employee may have several over time)."""

    employee_key: str
    period: DateRange
    form: EmploymentForm | None = None
    rate: Decimal | None = None  # percent, 0..100
    profession_code: str | None = None
    end_reason: EndDateReason | None = None
    working_times: WorkingTimes = WorkingTimes.NO_SHIFTS
    kind: EmploymentKind = EmploymentKind.ORDINARY
    key: str | None = None
    target_key: str | None = None

    def __post_init__(self) -> None:
        _require_text(self.employee_key, "employee_key")
        if self.rate is not None:
            rate = decimal_in_range(self.rate, "employment.rate", Decimal(0), HUNDRED)
            object.__setattr__(self, "rate", rate)


@dataclass(frozen=True, slots=True)
class Compensation:
    """An effective-dated pay row. The current one is the latest ``effective_date``.

    Personal data: the amount is masked in ``repr``.
    """

    employee_key: str
    effective_date: date
    payout_period: PayoutPeriod
    amount: Decimal = field(repr=False, metadata=personal())
    key: str | None = None

    def __post_init__(self) -> None:
        _require_text(self.employee_key, "employee_key")
        amount = to_decimal(self.amount, "compensation.amount")
        if amount < 0:
            raise InvalidValue("compensation.amount", "must not be negative")
        object.__setattr__(self, "amount", amount)


@dataclass(frozen=True, slots=True)
class Absence:
    """A leave of absence, already resolved to a payroll absence code."""

    key: str
    employee_key: str
    code: AbsenceCode
    period: DateRange
    status: LeaveStatus = LeaveStatus.APPROVED
    percent: Decimal = HUNDRED
    child_id: str | None = None
    leave_type: str | None = None  # the source's own name for the type, for messages
    target_key: str | None = None

    def __post_init__(self) -> None:
        _require_text(self.key, "key")
        _require_text(self.employee_key, "employee_key")
        if self.period.end is None:
            # Payroll absences are closed periods; an open leave is not guessed to end anywhere.
            raise InvalidValue("absence.period", "the leave has no end date; payroll needs one")
        percent = decimal_in_range(
            self.percent, "absence.percent", Decimal(0), HUNDRED, low_open=True
        )
        object.__setattr__(self, "percent", percent)


@dataclass(frozen=True, slots=True)
class Project:
    """A project that time is registered on. ``key`` is the project number/id."""

    key: str
    name: str
    active: bool = True
    start: date | None = None
    end: date | None = None
    customer_name: str | None = None
    target_key: str | None = None

    def __post_init__(self) -> None:
        _require_text(self.key, "key")
        if self.start and self.end:
            DateRange(self.start, self.end, field="project.period")


@dataclass(frozen=True, slots=True)
class TimeEntry:
    """Hours one employee worked on one project on one day."""

    key: str
    employee_key: str
    project_key: str
    day: date
    hours: Decimal
    work_type_code: str | None = None
    salary_type_code: str | None = None
    start: datetime | None = None  # UTC
    stop: datetime | None = None  # UTC
    comment: str | None = None
    approved: bool = False
    locked: bool = False
    exported: bool = False
    updated: datetime | None = None
    target_key: str | None = None
    # Read from a target: the marker an earlier write left in it (fjordsync:<tenant>:<key>),
    # so two target entries carrying one source entry's marker can be told apart.
    marker: str | None = None

    def __post_init__(self) -> None:
        _require_text(self.key, "key")
        _require_text(self.employee_key, "employee_key")
        object.__setattr__(self, "hours", work_hours(self.hours, "time_entry.hours"))
        for name in ("start", "stop", "updated"):
            _require_aware(getattr(self, name), f"time_entry.{name}")
        if self.start and self.stop and self.stop < self.start:
            raise InvalidValue("time_entry.stop", "is before the start")


@dataclass(frozen=True, slots=True)
class CodeItem:
    """An entry of a code list: an activity, wage type, work type or salary type."""

    code: str
    name: str
    active: bool = True


@dataclass(frozen=True, slots=True)
class InvalidRecord:
    """A source record that could not be read into the domain, as a value rather than an
    exception, so one bad record never stops a run: the flow plans it as ``invalid`` and the
    rest goes on. ``message`` names the field and the rule, never the value. ``owner`` is the
    key of the record it hangs off (an employee's number for a compensation or leave), when
    known, so a flow can hold the owner back instead of acting on what is left. ``problem``
    is the same as a value (``fjordsync.domain.problems``); when the reader gives none, it is
    an ``unreadable_value`` of the field the message starts with ("field: rule")."""

    entity: str
    key: str
    message: str
    owner: str | None = None
    # None only until __post_init__ fills it from the message: readers always see a Problem.
    problem: Problem = field(default=None, compare=False)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.problem is None:
            object.__setattr__(self, "problem", Problem.of_message(self.message))

    @classmethod
    def from_error(
        cls,
        entity: str,
        key: str,
        error: InvalidValue,
        owner: str | None = None,
        problem: Problem | None = None,
    ) -> InvalidRecord:
        return cls(
            entity,
            key,
            str(error),
            owner,
            problem or Problem(ProblemKind.UNREADABLE_VALUE, error.field),
        )


# Personal values are shown as *** unless the user asks for them (``--show-personal-data``).
PERSONAL_FIELDS = personal_fields(Address, Salary, Employee, Compensation)


def masked(field: str, value: Any, show_personal: bool) -> Any:
    """A plan's value as it may be shown or saved: ``***`` for a personal field's value unless
    the user asked for personal data; empty values and other fields as they are."""
    if value is None or value == "" or show_personal or field not in PERSONAL_FIELDS:
        return value
    return MASK
