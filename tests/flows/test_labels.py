"""Every item of every flow carries what a clerk recognises the record by (``ItemOutcome.label``):
employee number and name, day, project, leave; the invalid and conflicting ones too, and never a
personal number, bank account, salary or address."""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal

from fjordsync.domain.codes import AbsenceCode, PayoutPeriod
from fjordsync.domain.model import (
    Absence,
    Address,
    CodeItem,
    Compensation,
    Employee,
    Employment,
    InvalidRecord,
    Project,
    TimeEntry,
)
from fjordsync.domain.values import BankAccount, DateRange, NationalId
from fjordsync.errors import Unavailable
from fjordsync.flows import absences, employees, hours, payroll_employees, projects
from fjordsync.testing.memory import InMemorySystem

OCTOBER = DateRange(date(2026, 10, 1), date(2026, 10, 31))
YEAR = DateRange(date(2026, 1, 1), date(2026, 12, 31))


def labels(result):
    return {(item.entity, item.key): (item.outcome, item.label) for item in result.items}


def hour(key, *, employee="1001", project="1004", day=date(2026, 10, 5), approved=True):
    return TimeEntry(key, employee, project, day, Decimal("7.5"), "10", "100", approved=approved)


def test_an_hour_is_labelled_by_employee_number_and_name_day_and_project(runs):
    source = InMemorySystem(
        "smartdok",
        time_entries={
            "900017": hour("900017"),
            "900018": hour("900018", project="9999", day=date(2026, 10, 6)),  # no such project
            "900019": hour("900019", employee="1002"),  # no such contact: no name known
            "900020": hour("900020", approved=False),  # never planned
        },
    )
    source.also_read += [
        InvalidRecord("hour", "900021", "Hours: is not a number", "1001"),
        InvalidRecord("hour", "900022", "EmployeeNo: is missing"),
        hour("900023", day=date(2026, 10, 7)),
        hour("900023", day=date(2026, 10, 8)),  # the same WorkHourID twice: the first read names it
    ]
    target = InMemorySystem(
        "erp",
        employees={"1001": Employee("1001", "Nora", "Larsen")},
        projects={"1004": Project("1004", "Gang- og sykkelvei")},
        codes={"work_types": [CodeItem("10", "Ordinær")], "salary_types": [CodeItem("100", "T")]},
    )
    result = runs.run(hours.run, "hours", source, target, period=OCTOBER)
    assert labels(result) == {
        ("hour", "900017"): ("written", "employee 1001 Nora Larsen, 2026-10-05, project 1004"),
        ("hour", "900018"): ("invalid", "employee 1001 Nora Larsen, 2026-10-06, project 9999"),
        ("hour", "900019"): ("invalid", "employee 1002, 2026-10-05, project 1004"),
        ("hour", "900021"): ("invalid", "employee 1001 Nora Larsen, hour 900021"),
        ("hour", "900022"): ("invalid", "hour 900022"),
        ("hour", "900023"): ("conflict", "employee 1001 Nora Larsen, 2026-10-07, project 1004"),
    }


def test_a_dry_run_labels_its_planned_items_the_same_way(runs, ledger):
    source = InMemorySystem("smartdok", time_entries={"900017": hour("900017")})
    target = InMemorySystem(
        "erp",
        employees={"1001": Employee("1001", "Nora", "Larsen")},
        projects={"1004": Project("1004", "Gang- og sykkelvei")},
        codes={"work_types": [CodeItem("10", "Ordinær")], "salary_types": [CodeItem("100", "T")]},
        read_only=True,
    )
    context = runs.context("hours", dry_run=True)
    result = asyncio.run(hours.run(context, source, target, period=OCTOBER))
    assert labels(result) == {
        ("hour", "900017"): ("planned", "employee 1001 Nora Larsen, 2026-10-05, project 1004")
    }


def test_a_project_is_labelled_by_its_number_and_name(runs):
    erp = InMemorySystem(
        "erp",
        projects={
            "1004": Project("1004", "Gang- og sykkelvei"),
            "1005": Project("1005", "Skole\x00bygg"),  # the label holds what can be shown
        },
    )
    erp.also_read.append(InvalidRecord("project", "1006", "DateStart: is not a date"))
    smartdok = InMemorySystem("smartdok")
    result = runs.run(projects.run, "projects", erp, smartdok)
    assert labels(result) == {
        ("project", "1004"): ("written", "project 1004 Gang- og sykkelvei"),
        ("project", "1005"): ("written", "project 1005 Skolebygg"),
        ("project", "1006"): ("invalid", "project 1006"),
    }


def test_an_employee_is_labelled_by_number_and_name(runs):
    erp = InMemorySystem(
        "erp",
        employees={
            "1001": Employee("1001", "Nora", "Larsen", work_email=None),
            "1002": Employee("1002", "Ola", "Nordmann"),
        },
    )
    erp.also_read.append(InvalidRecord("employee", "1003", "EmailAddresses: is not an e-mail"))
    smartdok = InMemorySystem("smartdok", employees={"1002": Employee("1002", "Ola", "Nordmann")})
    result = runs.run(employees.run, "employees", erp, smartdok)
    assert labels(result) == {
        ("employee", "1001"): ("invalid", "employee 1001 Nora Larsen"),  # no e-mail
        ("employee", "1002"): ("unchanged", "employee 1002 Ola Nordmann"),
        ("employee", "1003"): ("invalid", "employee 1003"),
    }


PERSONAL = {
    "personal number": "15108695088",
    "account": "86011117947",
    "salary": "54321",
    "street": "Storgata 1",
    "postal code": "0150",
    "city": "Oslo",
}


def nora():
    """An employee with every kind of personal data there is."""
    return Employee(
        "1001",
        "Nora",
        "Larsen",
        national_id=NationalId(PERSONAL["personal number"]),
        home_address=Address(PERSONAL["street"], PERSONAL["postal code"], PERSONAL["city"], "NO"),
        bank_account=BankAccount(PERSONAL["account"]),
    )


def test_payroll_employees_and_employments_are_labelled_without_personal_data(runs):
    hr = InMemorySystem(
        "alexis",
        employees={"1001": nora(), "1020": Employee("1020", "Eva", "Berg")},
        employments={
            "m1": Employment("1020", DateRange(date(2019, 3, 1), None), key="m1"),
        },
        compensations=[
            Compensation(
                "1001", date(2026, 1, 1), PayoutPeriod.MONTHLY, Decimal(PERSONAL["salary"])
            )
        ],
    )
    hr.also_read.append(InvalidRecord("employment", "1001/m2", "startDate: is not a date", "1001"))
    payroll = InMemorySystem("payroll")
    result = runs.run(payroll_employees.run, "payroll-employees", hr, payroll)
    assert labels(result) == {
        ("employee", "1001"): ("written", "employee 1001 Nora Larsen"),
        ("employee", "1020"): ("written", "employee 1020 Eva Berg"),
        ("employment", "1001/m2"): ("invalid", "employee 1001 Nora Larsen, employment 1001/m2"),
        ("employment", "1020/m1"): (
            "written",
            "employee 1020 Eva Berg, employment from 2019-03-01",
        ),
    }
    shown = " ".join(item.label for item in result.items)
    assert [what for what, value in PERSONAL.items() if value in shown] == []
    assert payroll.employees["1001"].bank_account == BankAccount(PERSONAL["account"])  # all sent


def test_a_leave_is_labelled_by_employee_leave_type_and_period(runs):
    hr = InMemorySystem(
        "alexis",
        absences={
            "L1": Absence(
                "L1", "1003", AbsenceCode.SICK_LEAVE, DateRange(date(2026, 2, 3), date(2026, 2, 7))
            ),
            "L2": Absence(
                "L2",
                "1003",
                AbsenceCode.VACATION,
                DateRange(date(2026, 7, 6), date(2026, 7, 24)),
                leave_type="Sommerferie",
            ),
            "L3": Absence(
                "L3", "1009", AbsenceCode.SICK_LEAVE, DateRange(date(2026, 3, 2), date(2026, 3, 2))
            ),
        },
    )
    hr.also_read.append(InvalidRecord("absence", "L4", "leave.endDate: is missing", "1003"))
    payroll = InMemorySystem("payroll", employees={"1003": Employee("1003", "Ingrid", "Lund")})
    result = runs.run(absences.run, "absences", hr, payroll, period=YEAR)
    assert labels(result) == {
        ("absence", "L1"): (
            "written",
            "employee 1003 Ingrid Lund, Sykmelding 2026-02-03..2026-02-07",
        ),
        ("absence", "L2"): (
            "written",
            "employee 1003 Ingrid Lund, Sommerferie 2026-07-06..2026-07-24",
        ),
        ("absence", "L3"): ("invalid", "employee 1009, Sykmelding 2026-03-02..2026-03-02"),
        ("absence", "L4"): ("invalid", "employee 1003 Ingrid Lund, leave L4"),
    }


def test_the_history_keeps_each_items_label_also_of_items_a_flow_records_itself(runs, ledger):
    sick_child = Absence(
        "L5", "1003", AbsenceCode.SICK_CHILD, DateRange(date(2026, 3, 2), date(2026, 3, 2))
    )
    hr = InMemorySystem("alexis", absences={"L5": sick_child})
    payroll = InMemorySystem("payroll", employees={"1003": Employee("1003", "Ingrid", "Lund")})
    payroll.read_child_ids = refuse_children  # its one read of the children fails
    result = runs.run(absences.run, "absences", hr, payroll, period=YEAR)
    kept = ledger.run(result.run_id)
    assert [(i.record_key, i.outcome, i.label) for i in kept.items] == [
        ("L5", "failed", "employee 1003 Ingrid Lund, Sykt barn 2026-03-02..2026-03-02")
    ]


async def refuse_children(employee_key):
    raise Unavailable("refused", system="payroll", operation="GET /child", record=employee_key)


def test_a_label_holds_no_character_the_history_or_a_terminal_cannot_take(runs):
    hr = InMemorySystem("alexis", employees={"7": Employee("7", "Kari\ud800", "Nord\x1bmann\n")})
    result = runs.run(payroll_employees.run, "payroll-employees", hr, InMemorySystem("payroll"))
    assert labels(result) == {("employee", "7"): ("written", "employee 7 Kari Nordmann")}
