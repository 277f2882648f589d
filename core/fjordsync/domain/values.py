"""Value objects: small immutable values that validate themselves.

Each constructor raises ``InvalidValue`` naming the field and the rule, never the value: these
hold fødselsnummer, account numbers and amounts, which must not reach a log or an error. The
``repr`` of a personal value is masked for the same reason; ``str()`` or ``.value`` gives it to
code that must send it.

Number checks use python-stdnum (check digits of fødselsnummer/D-number, kontonummer MOD11, IBAN,
BIC), e-mail syntax uses email-validator without network look-ups, phone numbers use
phonenumbers: pure libraries, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

import email_validator
import phonenumbers
from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.no import fodselsnummer, kontonr

from fjordsync.errors import InvalidValue

__all__ = [
    "BankAccount",
    "DateRange",
    "Email",
    "NationalId",
    "PhoneNumber",
    "decimal_in_range",
    "to_decimal",
    "work_hours",
]

MASK = "***"


def to_decimal(value: object, field: str) -> Decimal:
    """A Decimal from an int, Decimal or numeric text; floats go through ``str`` to stay exact."""
    if isinstance(value, bool):
        raise InvalidValue(field, "must be a number")
    try:
        if isinstance(value, Decimal | int):
            number = Decimal(value)
        elif isinstance(value, str | float):
            number = Decimal(str(value).strip().replace(",", "."))
        else:
            raise InvalidValue(field, "must be a number")
    except (InvalidOperation, ValueError):
        raise InvalidValue(field, "must be a number") from None
    if not number.is_finite():
        raise InvalidValue(field, "must be a finite number")
    return number


def decimal_in_range(
    value: object, field: str, low: Decimal, high: Decimal, *, low_open: bool = False
) -> Decimal:
    """A Decimal within ``low`` (inclusive unless ``low_open``) and ``high`` (inclusive)."""
    number = to_decimal(value, field)
    below = number <= low if low_open else number < low
    if below or number > high:
        bound = f"greater than {low}" if low_open else f"at least {low}"
        raise InvalidValue(field, f"must be {bound} and at most {high}")
    return number


def work_hours(value: object, field: str = "hours") -> Decimal:
    """Hours of one time entry: more than 0, at most 24."""
    return decimal_in_range(value, field, Decimal(0), Decimal(24), low_open=True)


@dataclass(frozen=True, slots=True)
class NationalId:
    """A Norwegian fødselsnummer or D-number, check digits verified. ``repr`` is masked."""

    value: str

    def __init__(self, value: str, field: str = "national_id") -> None:
        try:
            compact = fodselsnummer.validate(str(value))
        except StdnumError:
            raise InvalidValue(
                field, "is not a valid Norwegian fødselsnummer or D-number (check digits)"
            ) from None
        object.__setattr__(self, "value", compact)

    @property
    def is_d_number(self) -> bool:
        """D-numbers (for people without a fødselsnummer) add 4 to the first digit."""
        return int(self.value[0]) >= 4

    def __str__(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return f"NationalId({MASK})"


@dataclass(frozen=True, slots=True)
class BankAccount:
    """A bank account: a Norwegian kontonummer (MOD11) or an IBAN, with optional BIC and clearing.

    ``country`` is the account's ISO country code. A Norwegian account may be given as kontonummer
    or IBAN; a foreign one must be an IBAN. ``repr`` is masked.
    """

    number: str
    country: str
    bic: str | None = None
    clearing: str | None = None

    def __init__(
        self,
        number: str,
        country: str = "NO",
        bic: str | None = None,
        clearing: str | None = None,
        field: str = "bank_account",
    ) -> None:
        country = (country or "NO").strip().upper()
        raw = str(number or "").strip()
        if not raw:
            raise InvalidValue(field, "has no account number")
        is_iban = raw[:2].isalpha()
        try:
            compact = stdnum_iban.validate(raw) if is_iban else kontonr.validate(raw)
        except StdnumError:
            kind = "IBAN" if is_iban else "Norwegian kontonummer (MOD11)"
            raise InvalidValue(field, f"is not a valid {kind}") from None
        if not is_iban and country != "NO":
            raise InvalidValue(field, "of a foreign bank must be given as an IBAN")
        clean_bic = None
        if bic and bic.strip():
            try:
                clean_bic = stdnum_bic.validate(bic)
            except StdnumError:
                raise InvalidValue(f"{field}.bic", "is not a valid BIC") from None
        object.__setattr__(self, "number", compact)
        object.__setattr__(self, "country", country)
        object.__setattr__(self, "bic", clean_bic)
        object.__setattr__(self, "clearing", (clearing or "").strip() or None)

    @property
    def is_iban(self) -> bool:
        return self.number[:2].isalpha()

    def __repr__(self) -> str:
        return f"BankAccount({MASK}, country={self.country!r})"


@dataclass(frozen=True, slots=True)
class Email:
    """An e-mail address, syntax checked (no DNS), domain lower-cased."""

    value: str

    def __init__(self, value: str, field: str = "email") -> None:
        try:
            checked = email_validator.validate_email(str(value).strip(), check_deliverability=False)
        except email_validator.EmailNotValidError:
            raise InvalidValue(field, "is not a valid e-mail address") from None
        object.__setattr__(self, "value", checked.normalized)

    @property
    def key(self) -> str:
        """The form used to match addresses: case-insensitive."""
        return self.value.casefold()

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class PhoneNumber:
    """A phone number split into country prefix and national number ("+47 912 34 567" ->
    "47", "91234567"). Numbers without a prefix are read as Norwegian."""

    prefix: str
    national: str

    @classmethod
    def parse(cls, text: str, field: str = "phone", default_region: str = "NO") -> PhoneNumber:
        try:
            parsed = phonenumbers.parse(str(text), default_region)
        except phonenumbers.NumberParseException:
            raise InvalidValue(field, "is not a phone number") from None
        if not phonenumbers.is_possible_number(parsed):
            raise InvalidValue(field, "is not a possible phone number")
        return cls(str(parsed.country_code), phonenumbers.national_significant_number(parsed))

    def __str__(self) -> str:
        return f"+{self.prefix} {self.national}"


@dataclass(frozen=True, slots=True)
class DateRange:
    """From ``start`` to ``end`` inclusive; ``end`` None means open-ended."""

    start: date
    end: date | None = None

    def __init__(self, start: date, end: date | None = None, field: str = "period") -> None:
        if not isinstance(start, date):
            raise InvalidValue(f"{field}.start", "must be a date")
        if end is not None and not isinstance(end, date):
            raise InvalidValue(f"{field}.end", "must be a date")
        if end is not None and end < start:
            raise InvalidValue(field, "ends before it starts")
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)

    def __contains__(self, day: object) -> bool:
        if not isinstance(day, date):
            return False
        return self.start <= day and (self.end is None or day <= self.end)

    def overlaps(self, other: DateRange) -> bool:
        starts_before_other_ends = other.end is None or self.start <= other.end
        ends_after_other_starts = self.end is None or other.start <= self.end
        return starts_before_other_ends and ends_after_other_starts

    def days(self) -> int:
        if self.end is None:
            raise InvalidValue("period", "is open-ended")
        return (self.end - self.start).days + 1
