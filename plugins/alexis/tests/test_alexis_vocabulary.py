"""AlexisHR's vocabulary (moved from the core's tests/unit/test_rules.py with the rules, issue
11): the employment note, employment type names and the leave type -> absence code chain."""

from datetime import date

import pytest

from fjordsync.domain.codes import AbsenceCode, EmploymentForm, EndDateReason, LeaveKind
from fjordsync.errors import InvalidValue
from fjordsync_alexis.vocabulary import (
    LEAVE_TYPE_NAMES,
    employment_form_from_type_name,
    parse_employment_note,
    resolve_absence_code,
)


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
            assert self.resolve(name=LEAVE_TYPE_NAMES[code]) is code

    def test_unresolvable_type_is_invalid_never_guessed(self):
        with pytest.raises(InvalidValue) as caught:
            self.resolve(name="Sabbatical", kind=None)
        assert str(caught.value) == (
            "leave.type: leave type 'Sabbatical' has no payroll absence code: "
            "add it to the flow's mapping"
        )
