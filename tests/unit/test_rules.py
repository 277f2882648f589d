"""The business rules of docs/flows.md, each with its edge cases."""

from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fjordsync.domain.codes import (
    EndDateReason,
    PayoutPeriod,
    SalaryType,
)
from fjordsync.domain.model import Compensation
from fjordsync.domain.rules import (
    contact_email,
    current_compensation,
    local_to_utc,
    norwegian_working_days,
    payroll_salary,
    truncate,
)
from fjordsync.domain.values import DateRange, Email
from fjordsync.errors import InvalidValue
from fjordsync.testing.strategies import compensations


def comp(day, period="MONTHLY", amount="50000"):
    return Compensation("1001", day, PayoutPeriod(period), Decimal(amount))


def test_current_compensation_is_the_latest_effective_date():
    rows = [
        comp(date(2024, 1, 1), amount="40000"),
        comp(date(2026, 1, 1), amount="52000"),
        comp(date(2025, 6, 1), amount="45000"),
    ]
    assert current_compensation(rows).amount == Decimal("52000")
    assert current_compensation([]) is None


@given(st.lists(compensations, min_size=1, max_size=6))
def test_current_compensation_does_not_depend_on_order(rows):
    latest = max(r.effective_date for r in rows)
    distinct = {(r.payout_period, r.amount) for r in rows if r.effective_date == latest}
    if len(distinct) > 1:
        with pytest.raises(InvalidValue):
            current_compensation(rows)
        return
    assert current_compensation(rows).effective_date == latest
    assert current_compensation(list(reversed(rows))) == current_compensation(rows)


def test_two_different_compensations_on_the_same_date_are_an_error():
    with pytest.raises(InvalidValue, match=r"^compensation.effectiveDate: two different"):
        current_compensation([comp(date(2026, 1, 1), amount="1"), comp(date(2026, 1, 1))])


def test_contact_email_prefers_work():
    work, private = Email("kari@firma.no"), Email("kari@gmail.com")
    assert contact_email(work, private) == work
    assert contact_email(None, private) == private
    assert contact_email(None, None) is None


@pytest.mark.parametrize(
    ("period", "amount", "salary_type", "expected"),
    [
        ("MONTHLY", "52000", SalaryType.MONTHLY, "52000.00"),
        ("HOURLY", "312.5", SalaryType.HOURLY, "312.50"),
        ("ANNUAL", "650000", SalaryType.MONTHLY, "54166.67"),
        ("QUARTERLY", "100000", SalaryType.MONTHLY, "33333.33"),
    ],
)
def test_payroll_salary_conversion(period, amount, salary_type, expected):
    salary = payroll_salary(comp(date(2026, 1, 1), period, amount))
    assert (salary.salary_type, salary.amount) == (salary_type, Decimal(expected))
    assert salary.valid_from == date(2026, 1, 1)


@pytest.mark.parametrize("period", ["DAILY", "WEEKLY", "BI_WEEKLY"])
def test_payroll_salary_refuses_periods_payroll_cannot_take(period):
    with pytest.raises(InvalidValue) as caught:
        payroll_salary(comp(date(2026, 1, 1), period, "1234"))
    assert caught.value.field == "compensation.payoutPeriod"
    assert period in str(caught.value) and "1234" not in str(caught.value)


def test_working_days_skip_weekends_and_norwegian_public_holidays():
    # May 2026: 21 weekdays, less 1 May (Fri), Ascension 14 May (Thu), Whit Monday 25 May.
    assert norwegian_working_days(DateRange(date(2026, 5, 1), date(2026, 5, 31))) == 18
    # Constitution Day 17 May 2027 is a Monday.
    assert norwegian_working_days(DateRange(date(2027, 5, 17), date(2027, 5, 17))) == 0
    # Across New Year: 29-31 Dec 2025 (Mon-Wed) and 2 Jan 2026 (Fri); 1 Jan is a holiday.
    assert norwegian_working_days(DateRange(date(2025, 12, 29), date(2026, 1, 2))) == 4


def test_end_date_reasons_follow_seed_numbering_with_corrected_spelling():
    assert [EndDateReason.from_note_code(str(n)).value for n in range(1, 7)] == [
        "arbeidsforholdetSkulleAldriVaertRapportert",
        "arbeidsgiverHarSagtOppArbeidstaker",
        "arbeidstakerHarSagtOppSelv",
        "byttetLoenssystemEllerRegnskapsfoerer",
        "endringIOrganisasjonsstrukturEllerByttetJobbInternt",
        "kontraktEngasjementEllerVikariatErUtloept",
    ]
    assert EndDateReason.from_note_code("0") is None
    assert EndDateReason.from_note_code("x") is None


def test_local_norwegian_time_to_utc_across_daylight_saving():
    assert local_to_utc(date(2026, 1, 15), time(7, 30)) == datetime(2026, 1, 15, 6, 30, tzinfo=UTC)
    assert local_to_utc(date(2026, 7, 15), time(7, 30)) == datetime(2026, 7, 15, 5, 30, tzinfo=UTC)


def test_truncate_reports_cutting():
    assert truncate("x" * 70, 70) == ("x" * 70, False)
    assert truncate("x" * 71, 70) == ("x" * 70, True)
