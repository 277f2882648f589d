"""Keys a clerk recognises for AlexisHR records without an id, rules told by AlexisHR's fields,
values not checked before (a leave's duration, an employee's ``updated``), and employees that
share one id (issue 9)."""

from __future__ import annotations

import pytest
from alexis_fixtures import compensation, employee, employment, leave, leave_type, small_company
from test_alexis_dirt import read

from fjordsync.domain.model import Absence, InvalidRecord
from fjordsync_alexis import mapping

VACATION = leave_type("lt-vac", "Sommerferie", "VACATION")


def a_leave(**fields):
    return leave("l9", "e1", "lt-vac", "2026-07-06", "2026-07-10") | fields


@pytest.mark.parametrize("ident", [None, "", "   "])
def test_a_leave_without_an_id_is_keyed_by_its_employee_and_start(ident):
    assert mapping.absence(a_leave(id=ident), "1001", VACATION, None, {}) == InvalidRecord(
        "absence", "(no id: employee 1001, startDate 2026-07-06)", "leave.id: is missing", "1001"
    )


def test_records_without_an_id_that_are_alike_are_numbered():
    records = [
        mapping.absence(a_leave(id="  "), "1001", VACATION, None, {}),
        mapping.absence(a_leave(id=None), "1001", VACATION, None, {}),
        mapping.absence(a_leave(id=None, startDate="i fjor"), "1001", VACATION, None, {}),
        mapping.employee(employee(" ", " ")),
        mapping.employee(employee(None, None)),
        mapping.employment(employment("e1", " "), "1001", "Permanent"),
    ]
    assert [r.key for r in mapping.numbered(records)] == [
        "(no id: employee 1001, startDate 2026-07-06, #1)",
        "(no id: employee 1001, startDate 2026-07-06, #2)",
        "(no id: employee 1001)",  # a start that is no date cannot tell it apart
        "(no employeeNumber: #1)",
        "(no employeeNumber: #2)",
        "1001/(no id: startDate 2020-01-01)",
    ]


def test_periods_ending_before_they_start_name_the_end_date():
    backwards = a_leave(startDate="2026-10-12T00:00:00.000+00:00")
    backwards["endDate"] = "2026-10-09T00:00:00.000+00:00"
    assert mapping.absence(backwards, "1001", VACATION, None, {}) == InvalidRecord(
        "absence", "l9", "leave.endDate: is before startDate", "1001"
    )
    ended = employment("e1", "m9", note="7112101:6", start="2024-01-01", end="2023-06-30")
    assert mapping.employment(ended, "1001", "Permanent") == InvalidRecord(
        "employment", "1001/m9", "employment.endDate: is before startDate", "1001"
    )


@pytest.mark.parametrize(
    ("duration", "message"),
    [
        ("quarter_day", "leave.duration: is not a known duration (half_day, one_day, longer)"),
        ({"days": 3}, "leave.duration: must be text"),
        (None, "leave.duration: is missing"),
        (
            "minutes",
            "leave.duration: is minutes: payroll takes whole or half days, and the share of "
            "the day is not known",
        ),
    ],
)
def test_a_leave_duration_that_gives_no_percent_is_invalid(duration, message):
    assert mapping.absence(a_leave(duration=duration), "1001", VACATION, None, {}) == (
        InvalidRecord("absence", "l9", message, "1001")
    )


@pytest.mark.parametrize(("duration", "percent"), [("half_day", 50), ("one_day", 100)])
def test_known_durations_give_their_percent(duration, percent):
    absence = mapping.absence(a_leave(duration=duration), "1001", VACATION, None, {})
    assert isinstance(absence, Absence) and absence.percent == percent


@pytest.mark.parametrize("updated", ["yesterday", 20261130, "2026-11-31T00:00:00.000+00:00"])
def test_an_employee_updated_that_is_no_date_time_is_invalid(updated):
    assert mapping.employee(employee("1001", "e1", updated=updated)) == InvalidRecord(
        "employee", "1001", "updated: is not a date-time"
    )


SHARED = (
    "2 employees share id e1 (employee numbers 1001, 1009): which one it belongs to cannot be "
    "told; AlexisHR must give each its own id"
)


async def test_records_of_an_id_two_employees_share_say_so_and_hold_each_back():
    state = small_company()
    state["employee"].append(employee("1009", "e1", firstName="Tvilling"))
    state["compensation"] = [compensation("e1", "c1", "2026-01-01")]
    state["employment"] = [employment("e1", "m1")]
    state["leave"] = [leave("l1", "e1", "lt-vac", "2026-07-06", "2026-07-24")]
    _, employments, compensations, absences = await read(state)
    assert employments == [
        InvalidRecord("employment", "1001/m1", f"employment.employeeId: {SHARED}", "1001"),
        InvalidRecord("employment", "1009/m1", f"employment.employeeId: {SHARED}", "1009"),
    ]
    assert compensations == [
        InvalidRecord("compensation", "1001/c1", f"compensation.employeeId: {SHARED}", "1001"),
        InvalidRecord("compensation", "1009/c1", f"compensation.employeeId: {SHARED}", "1009"),
    ]
    assert absences == [InvalidRecord("absence", "l1", f"leave.employeeId: {SHARED}")]
