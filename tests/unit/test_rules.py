"""The business rules of docs/flows.md, each with its edge cases."""

from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fjordsync.domain.codes import (
    AbsenceCode,
    EmploymentForm,
    EndDateReason,
    LeaveKind,
    PayoutPeriod,
    SalaryType,
)
from fjordsync.domain.model import Compensation
from fjordsync.domain.rules import (
    contact_email,
    current_compensation,
    employment_form_from_type_name,
    local_to_utc,
    norwegian_working_days,
    parse_employment_note,
    payroll_salary,
    resolve_absence_code,
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


@pytest.mark.parametrize(
    ("note", "end", "profession", "reason"),
    [
        ("0111101:3", date(2026, 6, 30), "0111101", EndDateReason.RESIGNED),
        ("0111101:5", date(2026, 6, 30), "0111101", EndDateReason.REORGANISATION_OR_INTERNAL_MOVE),
        ("0111101:7", None, "0111101", None),  # unknown reason, no end date: ignored
        ("0111101", None, "0111101", None),  # no colon: all of it is the profession code
        (" 2130101 : 6 ", date(2026, 1, 31), "2130101", EndDateReason.CONTRACT_EXPIRED),
        ("", None, None, None),
        (None, None, None, None),
    ],
)
def test_employment_note(note, end, profession, reason):
    parsed = parse_employment_note(note, end)
    assert (parsed.profession_code, parsed.end_reason) == (profession, reason)


def test_employment_note_unknown_reason_with_end_date_is_invalid():
    with pytest.raises(InvalidValue) as caught:
        parse_employment_note("0111101:7", date(2026, 6, 30))
    assert str(caught.value) == (
        "employment.note: reason '7' after the colon is not one of 1..6; "
        "payroll requires a reason when the employment has an end date"
    )
    with pytest.raises(InvalidValue, match="has no end-date reason"):
        parse_employment_note("0111101", date(2026, 6, 30))


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


@pytest.mark.parametrize(
    ("name", "form"),
    [
        ("Temporary employment", EmploymentForm.TEMPORARY),
        ("TEMPORARY", EmploymentForm.TEMPORARY),
        ("Midlertidig (temporary)", EmploymentForm.TEMPORARY),
        ("Permanent", EmploymentForm.PERMANENT),
        (None, EmploymentForm.PERMANENT),
    ],
)
def test_employment_form_from_type_name(name, form):
    assert employment_form_from_type_name(name) is form


def test_local_norwegian_time_to_utc_across_daylight_saving():
    assert local_to_utc(date(2026, 1, 15), time(7, 30)) == datetime(2026, 1, 15, 6, 30, tzinfo=UTC)
    assert local_to_utc(date(2026, 7, 15), time(7, 30)) == datetime(2026, 7, 15, 5, 30, tzinfo=UTC)


def test_truncate_reports_cutting():
    assert truncate("x" * 70, 70) == ("x" * 70, False)
    assert truncate("x" * 71, 70) == ("x" * 70, True)


class TestAbsenceCodeResolution:
    def resolve(self, **overrides):
        args = {
            "type_id": "lt1",
            "name": "Whatever",
            "user_code": None,
            "kind": None,
            "tenant_mapping": None,
        }
        args.update(overrides)
        return resolve_absence_code(**args)

    def test_tenant_mapping_by_id_wins_over_everything(self):
        assert (
            self.resolve(tenant_mapping={"lt1": "13"}, user_code="07", kind=LeaveKind.VACATION)
            is AbsenceCode.OTHER_LEAVE_NON_STATUTORY
        )

    def test_tenant_mapping_by_name_case_insensitive(self):
        assert self.resolve(name="Kurs", tenant_mapping={"kurs": "17"}) is (
            AbsenceCode.TRAINING_BENEFIT
        )

    def test_tenant_mapping_to_a_bad_code_is_an_error(self):
        with pytest.raises(InvalidValue, match=r"^mapping.absence_types: maps leave type"):
            self.resolve(tenant_mapping={"lt1": "99"})

    def test_user_given_code_then_name_then_kind(self):
        assert self.resolve(user_code="7", kind=LeaveKind.VACATION) is AbsenceCode.MILITARY_SERVICE
        assert self.resolve(name="Care leave", kind=LeaveKind.VACATION) is AbsenceCode.CARE_LEAVE
        assert self.resolve(name="Omsorgspermisjon") is AbsenceCode.CARE_LEAVE
        assert self.resolve(user_code=" ", kind=LeaveKind.CHILDCARE) is AbsenceCode.SICK_CHILD

    def test_a_deliberate_code_payroll_does_not_know_is_not_replaced_by_the_kind(self):
        with pytest.raises(InvalidValue) as caught:
            self.resolve(name="Sabbatical", user_code="99", kind=LeaveKind.OFF_DUTY)
        assert str(caught.value) == (
            "leave.type: leave type 'Sabbatical' has code '99', which is not a payroll absence "
            "code: add the type to the flow's mapping"
        )

    @pytest.mark.parametrize(
        ("kind", "code"),
        [
            (LeaveKind.SICK_LEAVE, "01"),
            (LeaveKind.CHILDCARE, "02"),
            (LeaveKind.VACATION, "04"),
            (LeaveKind.OFF_DUTY, "05"),
            (LeaveKind.PARENTAL_LEAVE, "06"),
        ],
    )
    def test_global_kinds(self, kind, code):
        assert self.resolve(kind=kind).value == code

    def test_every_seed_name_resolves_to_its_code(self):
        for code in AbsenceCode:
            assert self.resolve(name=code.type.alexis_name) is code

    def test_unresolvable_type_is_invalid_never_guessed(self):
        with pytest.raises(InvalidValue) as caught:
            self.resolve(name="Sabbatical", kind=None)
        assert str(caught.value) == (
            "leave.type: leave type 'Sabbatical' has no payroll absence code: "
            "add it to the flow's mapping"
        )
