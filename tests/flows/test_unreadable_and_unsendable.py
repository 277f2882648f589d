"""Issue 9's core rules on in-memory systems: a target record that cannot be read never leads to
a second record, invalid source projects are read again (the cursor waits), values known to be
unacceptable are never sent, text payroll cannot carry, two target hours with one marker, one
record's failing look-up, and a run history that is masked."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from fjordsync.domain.codes import AbsenceCode, PayoutPeriod
from fjordsync.domain.model import (
    Absence,
    Address,
    Compensation,
    Employee,
    Employment,
    InvalidRecord,
    Project,
)
from fjordsync.domain.values import DateRange, Email
from fjordsync.errors import Unavailable
from fjordsync.flows import absences, employees, hours, payroll_employees, projects
from fjordsync.testing.memory import InMemorySystem

from .conftest import by_key
from .test_hours import PERIOD as HOUR_PERIOD
from .test_hours import entry, systems

PERIOD = DateRange(date(2026, 10, 1), date(2026, 10, 31))


def unreadable(entity, key, owner=None):
    return InvalidRecord(entity, key, "StartDate: is not a date", owner)


def held(key):
    return (
        "conflict",
        "conflict",
        f"the target's record for key {key!r} cannot be read (StartDate: is not a date): "
        "correct it there first",
    )


# 1. a target record that cannot be read ------------------------------------------------------


def test_a_project_smartdok_cannot_read_is_a_conflict_not_a_second_project(runs, ledger):
    erp = InMemorySystem("erp", projects={"1": Project("1", "Skole"), "2": Project("2", "Kai")})
    smartdok = InMemorySystem("smartdok")
    smartdok.also_read.append(unreadable("project", "1 "))
    result = runs.run(projects.run, "projects", erp, smartdok)
    assert by_key(result)[("project", "1")] == held("1")
    assert sorted(smartdok.projects) == ["2"]
    assert ledger.cursor("acme", "projects", "changed_after") is None


def test_a_user_smartdok_cannot_read_is_a_conflict_and_needs_no_licence(runs):
    person = Employee("5", "Kari", "Nordmann", work_email=Email("kari@firma.no"))
    erp = InMemorySystem("erp", employees={"5": person})
    smartdok = InMemorySystem("smartdok", licenses=0)
    smartdok.also_read.append(unreadable("employee", "5"))
    result = runs.run(employees.run, "employees", erp, smartdok)
    assert by_key(result)[("employee", "5")] == held("5")
    assert result.notes == []
    assert smartdok.writes == 0


def hr_person(key="7", **changes):
    return replace(Employee(key, "Kari", "Nordmann"), **changes)


def salary(key="7"):
    return Compensation(key, date(2026, 1, 1), PayoutPeriod.MONTHLY, Decimal("50000"))


def hr(*people, employments=()):
    return InMemorySystem(
        "alexis",
        employees={p.key: p for p in people},
        employments={e.key: e for e in employments},
        compensations=[salary(p.key) for p in people],
    )


def run_payroll(runs, source, target):
    return runs.run(payroll_employees.run, "payroll-employees", source, target)


def test_a_payroll_employee_that_cannot_be_read_holds_the_employee_and_employments(runs):
    source = hr(hr_person(), employments=[Employment("7", DateRange(date(2020, 1, 1)), key="e1")])
    payroll = InMemorySystem("payroll")
    payroll.also_read.append(unreadable("employee", "7", "7"))
    result = run_payroll(runs, source, payroll)
    assert by_key(result)[("employee", "7")] == held("7")
    assert by_key(result)[("employment", "7/e1")][:2] == ("skip", "skipped")
    assert payroll.writes == 0


def test_an_unreadable_payroll_employment_holds_back_that_employees_employment_creates(runs):
    source = hr(
        hr_person("7"),
        hr_person("8"),
        employments=[
            Employment("7", DateRange(date(2020, 1, 1)), key="e1"),
            Employment("8", DateRange(date(2021, 1, 1)), key="e2"),
        ],
    )
    payroll = InMemorySystem(
        "payroll", employees={"7": hr_person("7", salary=None), "8": hr_person("8")}
    )
    payroll.also_read.append(unreadable("employment", "444", "7"))
    result = run_payroll(runs, source, payroll)
    assert by_key(result)[("employment", "7/e1")] == (
        "conflict",
        "conflict",
        "a payroll employment of employee 7 cannot be read (StartDate: is not a date): it may "
        "be this one, so none is created until it is corrected in 24SevenOffice Lønn",
    )
    assert by_key(result)[("employment", "8/e2")][:2] == ("create", "written")
    assert [e.employee_key for e in payroll.employments.values()] == ["8"]


def leave(key, employee="7", code=AbsenceCode.SICK_LEAVE):
    return Absence(key, employee, code, DateRange(date(2026, 10, 5), date(2026, 10, 6)))


def run_absences(runs, source, target):
    return runs.run(absences.run, "absences", source, target, period=PERIOD)


def test_a_payroll_absence_that_cannot_be_read_is_a_conflict_not_a_second_absence(runs):
    source = InMemorySystem("alexis", absences={"L1": leave("L1"), "L2": leave("L2")})
    payroll = InMemorySystem("payroll", employees={"7": hr_person()})
    payroll.also_read.append(unreadable("absence", "L1", "7"))
    result = run_absences(runs, source, payroll)
    assert by_key(result)[("absence", "L1")] == held("L1")
    assert sorted(payroll.absences) == ["L2"]


def test_a_linked_hour_whose_erp_hour_cannot_be_read_is_not_sent(runs):
    source, target = systems(entry("1"))
    runs.run(hours.run, "hours", source, target, period=HOUR_PERIOD)
    [made] = target.time_entries
    source.time_entries["1"] = entry("1", comment="Endret")
    del target.time_entries[made]
    target.also_read.append(unreadable("hour", made))
    result = runs.run(hours.run, "hours", source, target, period=HOUR_PERIOD)
    assert by_key(result)[("hour", "1")] == held(made)
    assert target.calls["save_time_entry"] == 1


# 5. two target hours with one marker -------------------------------------------------------


def test_two_erp_hours_with_one_hours_marker_are_a_conflict_and_nothing_is_sent(runs, ledger):
    source, target = systems(entry("1"), entry("2"))
    target.lose_answers.add("save_time_entry:1")
    runs.run(hours.run, "hours", source, target, period=HOUR_PERIOD)
    marker = "fjordsync:acme:1"
    [first] = [k for k, t in target.time_entries.items() if t.key == "1"]
    target.time_entries[first] = replace(target.time_entries[first], marker=marker)
    target.time_entries["by-hand"] = replace(
        target.time_entries[first], target_key="by-hand", marker=marker
    )
    result = runs.run(hours.run, "hours", source, target, period=HOUR_PERIOD)
    assert by_key(result)[("hour", "1")] == (
        "conflict",
        "conflict",
        "2 hours in 24SevenOffice carry the marker of hour 1: remove all but one by hand",
    )
    assert target.calls["save_time_entry"] == 2  # 1 (answer lost) and 2, nothing more
    assert "1" not in ledger.links("acme", "hours", "hour")
    assert "1" not in source.exported


# 2. invalid source records are read again --------------------------------------------------


def test_the_cursor_waits_while_a_project_is_invalid(runs, ledger):
    erp = InMemorySystem("erp", projects={"1": Project("1", "Skole")})
    erp.also_read.append(InvalidRecord("project", "2", "DateStart: is not a date"))
    runs.run(projects.run, "projects", erp, InMemorySystem("smartdok"))
    assert ledger.cursor("acme", "projects", "changed_after") is None


def test_a_retry_never_moves_the_cursor(runs, ledger):
    erp = InMemorySystem("erp", projects={"1": Project("1", "Skole")})
    context = runs.context("projects")
    context.scope = replace(context.scope, record_keys=frozenset({"1"}))
    import asyncio

    asyncio.run(projects.run(context, erp, InMemorySystem("smartdok")))
    assert ledger.cursor("acme", "projects", "changed_after") is None


def test_a_pending_project_the_read_no_longer_returns_is_settled_by_smartdok_alone(runs, ledger):
    erp = InMemorySystem("erp", projects={"1": Project("1", "Skole"), "2": Project("2", "Kai")})
    smartdok = InMemorySystem("smartdok")
    smartdok.lose_answers.add("create_project:1")
    smartdok.refuse.add("create_project:2")
    runs.run(projects.run, "projects", erp, smartdok)
    assert sorted(ledger.pending_writes("acme", "projects", "project")) == ["1", "2"]
    erp.projects.clear()  # neither is read again (an incremental read)
    result = runs.run(projects.run, "projects", erp, smartdok)
    assert by_key(result) == {
        ("project", "1"): (
            "create",
            "written",
            "found in SmartDok after an answer was lost: linked, not sent again",
        )
    }
    assert ledger.pending_writes("acme", "projects", "project") == {}
    assert ledger.links("acme", "projects", "project")["1"].target_key == "smartdok-1"
    assert ledger.cursor("acme", "projects", "changed_after") is not None


# 3. values known to be unacceptable --------------------------------------------------------


def test_a_project_name_of_only_whitespace_or_control_characters_is_invalid(runs):
    erp = InMemorySystem(
        "erp",
        projects={
            "1": Project("1", "   "),
            "2": Project("2", "\x01\x02"),
            "3": Project("3", "Kai"),
        },
    )
    smartdok = InMemorySystem("smartdok")
    result = runs.run(projects.run, "projects", erp, smartdok)
    for key in ("1", "2"):
        assert by_key(result)[("project", key)] == (
            "invalid",
            "invalid",
            "name is empty: give the project a name in 24SevenOffice",
        )
    assert sorted(smartdok.projects) == ["3"]


def test_a_person_without_a_name_is_invalid_before_smartdok_sees_them(runs):
    blank = Employee("5", " ", "", work_email=Email("kari@firma.no"))
    smartdok = InMemorySystem("smartdok")
    result = runs.run(
        employees.run, "employees", InMemorySystem("erp", employees={"5": blank}), smartdok
    )
    assert by_key(result)[("employee", "5")] == (
        "invalid",
        "invalid",
        "name is empty: give the contact a first or last name in 24SevenOffice",
    )
    assert smartdok.writes == 0


def test_an_employee_without_a_last_name_is_invalid_before_payroll_sees_them(runs):
    payroll = InMemorySystem("payroll")
    result = run_payroll(runs, hr(hr_person(last_name="  ")), payroll)
    assert by_key(result)[("employee", "7")] == (
        "invalid",
        "invalid",
        "lastName: is empty: add the last name in AlexisHR",
    )
    assert payroll.writes == 0


# 4. text payroll cannot carry ------------------------------------------------------------------


def test_payroll_text_loses_only_lone_surrogates_and_says_so(runs):
    person = hr_person(
        first_name="Kar\ud800i",
        last_name="\x1b[1mNordmann",
        home_address=Address("Storgata\udfff 1", "0150", "Oslo", "NO"),
    )
    payroll = InMemorySystem("payroll")
    result = run_payroll(runs, hr(person), payroll)
    assert by_key(result)[("employee", "7")] == (
        "create",
        "written",
        "firstname: 1 character(s) that cannot be sent (lone surrogates) were removed; "
        "postaddress: 1 character(s) that cannot be sent (lone surrogates) were removed",
    )
    made = payroll.employees["7"]
    assert (made.first_name, made.last_name) == ("Kari", "\x1b[1mNordmann")
    assert made.home_address.street == "Storgata 1"
    second = run_payroll(runs, hr(person), payroll)
    assert by_key(second)[("employee", "7")][:2] == ("unchanged", "unchanged")


# 6. one record's failing look-up ---------------------------------------------------------------


class ChildrenUnavailable(InMemorySystem):
    async def read_child_ids(self, employee_key):
        if employee_key == "7":
            raise Unavailable("timed out", system="payroll", operation="children", record="7")
        return await super().read_child_ids(employee_key)


def test_a_failing_child_lookup_fails_that_leave_and_the_run_goes_on(runs):
    source = InMemorySystem(
        "alexis",
        absences={
            "L1": leave("L1", code=AbsenceCode.SICK_CHILD),
            "L2": leave("L2", "8", code=AbsenceCode.SICK_CHILD),
        },
    )
    payroll = ChildrenUnavailable(
        "payroll", employees={"7": hr_person("7"), "8": hr_person("8")}, children={"8": ["c1"]}
    )
    result = run_absences(runs, source, payroll)
    assert by_key(result)[("absence", "L1")] == (
        "create",
        "failed",
        "sick child (02) needs the child's payroll id, which could not be read (payroll "
        "children (record 7): timed out)",
    )
    assert by_key(result)[("absence", "L2")][:2] == ("create", "written")
    assert payroll.absences["L2"].child_id == "c1"


# 7. the run history is masked ------------------------------------------------------------------


def test_messages_kept_in_the_run_history_are_masked(ledger):
    run_id = ledger.start_run("acme", "payroll-employees", trigger="manual", dry_run=False)
    ledger.record_item(
        run_id,
        entity="employee",
        key="7",
        action="create",
        outcome="failed",
        message="payroll said: personnr 15108695088 exists",
    )
    ledger.finish_run(
        run_id, status="failed", counts={}, message="GET /auth?token=s3cr3t-token failed"
    )
    kept = ledger.run(run_id)
    assert "15108695088" not in kept.items[0].message
    assert "s3cr3t-token" not in (kept.message or "")
