"""Flows 4 and 5 on in-memory systems: duplicate keys never let one person's data reach
another's payroll record, an unreadable compensation is never replaced by an older salary, and
lost answers or kills never make a second employee, employment or absence."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from fjordsync.domain.codes import AbsenceCode, PayoutPeriod
from fjordsync.domain.model import Absence, Compensation, Employee, Employment, InvalidRecord
from fjordsync.domain.values import BankAccount, DateRange, NationalId
from fjordsync.flows import absences, payroll_employees
from fjordsync.testing.memory import InMemorySystem, SimulatedKill

from .conftest import by_key

PERIOD = DateRange(date(2026, 10, 1), date(2026, 10, 31))


def person(key, account="86011117947"):
    return Employee(
        key,
        "Kari",
        "Nordmann",
        national_id=NationalId("15108695088"),
        bank_account=BankAccount(account),
    )


def salary(key, amount="50000", day=date(2026, 1, 1)):
    return Compensation(key, day, PayoutPeriod.MONTHLY, Decimal(amount))


def run_payroll(runs, hr, payroll):
    return runs.run(payroll_employees.run, "payroll-employees", hr, payroll)


def test_hr_employees_sharing_a_number_are_conflicts_and_neither_reaches_payroll(runs):
    hr = InMemorySystem("alexis", employees={"900017": person("900017"), "2": person("2")})
    hr.also_read.append(person("900017", account="12345678903"))
    payroll = InMemorySystem("payroll")
    result = run_payroll(runs, hr, payroll)
    assert by_key(result)[("employee", "900017")] == (
        "conflict",
        "conflict",
        "2 source records share key '900017': none is written until one is left",
    )
    assert sorted(payroll.employees) == ["2"]


def test_an_empid_two_payroll_employees_share_is_a_conflict(runs):
    hr = InMemorySystem("alexis", employees={"7": person("7")})
    payroll = InMemorySystem("payroll", employees={"7": person("7", account="12345678903")})
    payroll.also_read.append(Employee("7", "Ola", "Nordmann"))
    result = run_payroll(runs, hr, payroll)
    assert by_key(result)[("employee", "7")] == (
        "conflict",
        "conflict",
        "key '7' matches 2 records in the target",
    )
    assert payroll.writes == 0


@pytest.mark.parametrize("owner", ["7", None])
def test_an_unreadable_compensation_makes_the_salary_unknown_never_an_older_one(runs, owner):
    hr = InMemorySystem("alexis", employees={"7": person("7")}, compensations=[salary("7")])
    hr.also_read.append(
        InvalidRecord("compensation", "7/c9", "compensation.amount: is not a number", owner)
    )
    payroll = InMemorySystem("payroll")
    result = run_payroll(runs, hr, payroll)
    assert by_key(result)[("employee", "7")] == (
        "invalid",
        "invalid",
        "compensation.amount: is not a number: the current salary cannot be known",
    )
    assert payroll.employees == {}


def test_a_latest_salary_of_zero_is_invalid_not_skipped_for_an_older_one(runs):
    rows = [salary("7"), salary("7", "0", date(2026, 6, 1))]
    hr = InMemorySystem("alexis", employees={"7": person("7")}, compensations=rows)
    payroll = InMemorySystem("payroll")
    result = run_payroll(runs, hr, payroll)
    assert by_key(result)[("employee", "7")][:2] == ("invalid", "invalid")
    assert by_key(result)[("employee", "7")][2].startswith(
        "compensation.amount: is not more than 0"
    )
    assert payroll.employees == {}


def test_an_employee_create_whose_answer_was_lost_is_linked_not_sent_again(runs):
    hr = InMemorySystem("alexis", employees={"7": person("7")}, compensations=[salary("7")])
    payroll = InMemorySystem("payroll")
    payroll.lose_answers.add("create_employee")
    run_payroll(runs, hr, payroll)
    second = run_payroll(runs, hr, payroll)
    assert by_key(second)[("employee", "7")] == (
        "create",
        "written",
        "found in 24SevenOffice Lønn after an answer was lost: linked, not sent again",
    )
    assert payroll.calls["create_employee"] == 1


def employment(key, start=date(2020, 1, 1)):
    return Employment("7", DateRange(start), key=key)


@pytest.mark.parametrize("fault", ["lose_answers", "kill_after", "crash_after"])
def test_an_employment_create_never_makes_a_second_employment(runs, ledger, fault):
    hr = InMemorySystem(
        "alexis",
        employees={"7": person("7")},
        employments={"e1": employment("e1")},
        compensations=[salary("7")],
    )
    payroll = InMemorySystem("payroll")
    getattr(payroll, fault).add("save_employment")
    if fault == "kill_after":
        with pytest.raises(SimulatedKill):
            run_payroll(runs, hr, payroll)
    else:
        first = run_payroll(runs, hr, payroll)
        assert by_key(first)[("employment", "7/e1")][:2] == ("create", "failed")
    second = run_payroll(runs, hr, payroll)
    assert by_key(second)[("employment", "7/e1")] == (
        "create",
        "written",
        "found in 24SevenOffice Lønn after an answer was lost: linked, not sent again",
    )
    assert len(payroll.employments) == 1
    [made] = payroll.employments
    assert ledger.links("acme", "payroll-employees", "employment")["7/e1"].target_key == made
    assert ledger.pending_writes("acme", "payroll-employees", "employment") == {}


def test_a_lost_employment_create_among_two_same_day_candidates_is_a_conflict(runs, ledger):
    hr = InMemorySystem(
        "alexis",
        employees={"7": person("7")},
        employments={"e1": employment("e1")},
        compensations=[salary("7")],
    )
    payroll = InMemorySystem("payroll")
    payroll.lose_answers.add("save_employment")
    run_payroll(runs, hr, payroll)
    payroll.employments["by-hand"] = Employment(
        "7", DateRange(date(2020, 1, 1)), target_key="by-hand"
    )
    second = run_payroll(runs, hr, payroll)
    assert by_key(second)[("employment", "7/e1")] == (
        "conflict",
        "conflict",
        "an earlier create of this employment got no answer, and 2 payroll employments of the "
        "employee that no link claims start that day: remove the extra one in 24SevenOffice Lønn",
    )
    assert len(payroll.employments) == 2
    assert payroll.calls["save_employment"] == 1


def leave(key, employee="7", start=date(2026, 10, 5), end=date(2026, 10, 6)):
    return Absence(key, employee, AbsenceCode.SICK_LEAVE, DateRange(start, end))


def run_absences(runs, hr, payroll):
    return runs.run(absences.run, "absences", hr, payroll, period=PERIOD)


def test_leaves_sharing_an_id_are_conflicts(runs):
    hr = InMemorySystem("alexis", absences={"L1": leave("L1"), "L2": leave("L2")})
    hr.also_read.append(leave("L1", start=date(2026, 10, 20), end=date(2026, 10, 21)))
    payroll = InMemorySystem("payroll", employees={"7": person("7")})
    result = run_absences(runs, hr, payroll)
    assert by_key(result)[("absence", "L1")] == (
        "conflict",
        "conflict",
        "2 source records share key 'L1': none is written until one is left",
    )
    assert sorted(payroll.absences) == ["L2"]


def test_a_leave_payroll_holds_twice_is_a_conflict(runs):
    hr = InMemorySystem("alexis", absences={"L1": leave("L1")})
    payroll = InMemorySystem("payroll", employees={"7": person("7")})
    payroll.absences["L1"] = leave("L1")
    payroll.also_read.append(leave("L1", start=date(2026, 10, 7), end=date(2026, 10, 7)))
    result = run_absences(runs, hr, payroll)
    assert by_key(result)[("absence", "L1")] == (
        "conflict",
        "conflict",
        "2 records in the target share key 'L1': none is written until one is left",
    )
    assert payroll.writes == 0


def test_a_leave_without_an_end_date_is_invalid_and_reported(runs):
    hr = InMemorySystem("alexis")
    hr.also_read.append(
        InvalidRecord(
            "absence", "L3", "absence.period: the leave has no end date; payroll needs one", "7"
        )
    )
    payroll = InMemorySystem("payroll", employees={"7": person("7")})
    result = run_absences(runs, hr, payroll)
    assert by_key(result)[("absence", "L3")] == (
        "invalid",
        "invalid",
        "absence.period: the leave has no end date; payroll needs one",
    )


@pytest.mark.parametrize("fault", ["lose_answers", "kill_after"])
def test_an_absence_whose_answer_was_lost_is_linked_not_sent_again(runs, fault):
    hr = InMemorySystem("alexis", absences={"L1": leave("L1")})
    payroll = InMemorySystem("payroll", employees={"7": person("7")})
    getattr(payroll, fault).add("save_absence")
    if fault == "kill_after":
        with pytest.raises(SimulatedKill):
            run_absences(runs, hr, payroll)
    else:
        run_absences(runs, hr, payroll)
    second = run_absences(runs, hr, payroll)
    assert by_key(second)[("absence", "L1")] == (
        "create",
        "written",
        "found in 24SevenOffice Lønn after an answer was lost: linked, not sent again",
    )
    assert payroll.calls["save_absence"] == 1
