"""Value objects validate, name the field, and never echo a personal value."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given

from fjordsync.domain.values import (
    BankAccount,
    DateRange,
    Email,
    NationalId,
    PhoneNumber,
    decimal_in_range,
    work_hours,
)
from fjordsync.errors import InvalidValue
from fjordsync.testing.strategies import fodselsnummer_values, kontonummer_values

VALID_FNR = "15108695088"  # python-stdnum's documented example
VALID_KONTONR = "86011117947"


@given(fodselsnummer_values())
def test_generated_fodselsnummer_are_accepted(number):
    assert NationalId(number).value == number


@given(fodselsnummer_values(d_number=True))
def test_d_numbers_are_accepted_and_recognised(number):
    assert NationalId(number).is_d_number


def test_national_id_with_wrong_check_digit_names_field_not_value():
    with pytest.raises(InvalidValue) as caught:
        NationalId("15108695077", field="personnr")
    assert caught.value.field == "personnr"
    assert str(caught.value) == (
        "personnr: is not a valid Norwegian fødselsnummer or D-number (check digits)"
    )
    assert "15108695077" not in str(caught.value)


def test_personal_values_are_masked_in_repr():
    assert repr(NationalId(VALID_FNR)) == "NationalId(***)"
    account = BankAccount(VALID_KONTONR)
    assert VALID_KONTONR not in repr(account)
    assert repr(account) == "BankAccount(***, country='NO')"


@given(kontonummer_values())
def test_generated_kontonummer_are_accepted(number):
    assert BankAccount(number).number == number


def test_kontonummer_mod11_failure():
    with pytest.raises(InvalidValue, match=r"^bank_account: is not a valid Norwegian kontonummer"):
        BankAccount("86011117949")


def test_foreign_account_needs_iban_and_validates_bic():
    account = BankAccount("SE45 5000 0000 0583 9825 7466", country="SE", bic="ESSESESS")
    assert account.is_iban and account.number == "SE4550000000058398257466"
    assert account.bic == "ESSESESS"
    with pytest.raises(InvalidValue, match="must be given as an IBAN"):
        BankAccount(VALID_KONTONR, country="SE")
    with pytest.raises(InvalidValue, match=r"^bank_account: is not a valid IBAN$"):
        BankAccount("SE45 5000 0000 0583 9825 7467", country="SE")
    with pytest.raises(InvalidValue, match=r"^bank_account.bic: is not a valid BIC$"):
        BankAccount("SE4550000000058398257466", country="SE", bic="ESSE")


def test_email_is_normalised_and_rejected_with_field():
    assert Email("Kari.Nordmann@Example.NO").value == "Kari.Nordmann@example.no"
    assert Email("Kari@EXAMPLE.no").key == "kari@example.no"
    with pytest.raises(InvalidValue, match=r"^workEmail: is not a valid e-mail address$"):
        Email("kari@", field="workEmail")


def test_phone_split_into_prefix_and_national_number():
    assert PhoneNumber.parse("+47 912 34 567") == PhoneNumber("47", "91234567")
    assert PhoneNumber.parse("912 34 567") == PhoneNumber("47", "91234567")
    assert PhoneNumber.parse("+46 70 123 45 67") == PhoneNumber("46", "701234567")
    with pytest.raises(InvalidValue, match=r"^mobile: "):
        PhoneNumber.parse("12", field="mobile")


def test_date_range_end_not_before_start():
    assert date(2026, 3, 1) in DateRange(date(2026, 3, 1), date(2026, 3, 1))
    assert DateRange(date(2026, 3, 1)).end is None
    with pytest.raises(InvalidValue, match=r"^employment.period: ends before it starts$"):
        DateRange(date(2026, 3, 2), date(2026, 3, 1), field="employment.period")


@pytest.mark.parametrize("hours", ["0", "-1", "24.01", "abc"])
def test_hours_out_of_range(hours):
    with pytest.raises(InvalidValue, match=r"^hours: must be"):
        work_hours(hours)


def test_hours_in_range_accepts_comma_decimals():
    assert work_hours("7,5") == Decimal("7.5")
    assert work_hours(24) == Decimal(24)


def test_rate_bounds():
    assert decimal_in_range("100", "rate", Decimal(0), Decimal(100)) == Decimal(100)
    with pytest.raises(InvalidValue, match=r"^rate: must be at least 0 and at most 100$"):
        decimal_in_range("100.5", "rate", Decimal(0), Decimal(100))
