"""The 24SevenOffice payroll (Lønn) connector against its sandbox over HTTP: tokens, 409s,
employment upserts, absence upserts, and every payroll field of docs/flows.md flow 4."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from tfso_fixtures import FAST_RETRIES, REFERENCE

from fjordsync.domain.codes import (
    AbsenceCode,
    EmploymentForm,
    EndDateReason,
    SalaryType,
)
from fjordsync.domain.model import Absence, Address, Employee, Employment, Salary
from fjordsync.domain.values import BankAccount, DateRange, Email, NationalId
from fjordsync.errors import AuthFailed, Rejected
from fjordsync.ports import Query
from fjordsync_twentyfourseven.adapter import PayrollAdapter
from fjordsync_twentyfourseven.client import PayrollClient
from fjordsync_twentyfourseven.sandbox.payroll import complete_employee


def alexis_employee(**changes):
    values = {
        "key": "1002",
        "first_name": "Ingrid",
        "last_name": "Berg",
        "work_email": None,
        "private_email": Email("ingrid.berg@gmail.com"),
        "national_id": NationalId("15108695088"),
        "nationality": "NO",
        "home_address": Address("Fjordveien 3", "5003", "Bergen", "NO"),
        "bank_account": BankAccount("86011117947", "NO", bic="DNBANOKK", clearing=""),
        "salary": Salary(SalaryType.MONTHLY, Decimal("54166.67"), date(2026, 1, 1)),
    }
    values.update(changes)
    return Employee(**values)


async def test_create_sends_every_flow_4_field_with_defaults(payroll, sandbox):
    assert await payroll.create_employee(alexis_employee()) == "1002"
    created = next(e for e in sandbox.state["payroll/employee"] if e["empId"] == "1002")
    # Payroll keeps every key of an employee, those not sent empty or at its defaults.
    assert created == complete_employee(
        {
            "empId": "1002",
            "email": "ingrid.berg@gmail.com",
            "firstname": "Ingrid",
            "lastname": "Berg",
            "personnr": "15108695088",
            "postaddress": "Fjordveien 3",
            "city": "Bergen",
            "zipcode": "5003",
            "countryCode": "NO",
            "account": "86011117947",
            "bic": "DNBANOKK",
            "clearingno": "",
            "internationalID": {
                "ID": "15108695088",
                "countryCode": "NO",
                "type": "socialSecurityNumber",
            },
            "salary_type": "monthly",
            "salary": "54166.67",
            "salary_valid_from": "2026-01-01",
            "vacation_days": "25",
        }
    )


async def test_an_existing_emp_id_answers_409_and_is_updated_instead(payroll, sandbox):
    assert (
        await payroll.create_employee(
            alexis_employee(key="1001", first_name="Kari", last_name="Nordmann")
        )
        == "1001"
    )
    [kari] = [e for e in sandbox.state["payroll/employee"] if e["empId"] == "1001"]
    assert (kari["email"], kari["postaddress"], kari["salary"]) == (
        "ingrid.berg@gmail.com",
        "Fjordveien 3",
        "54166.67",
    )
    assert kari["vacation_days"] == "30"  # a clerk's value for a defaulted field stands
    assert sandbox.requests["POST /payroll/api/employee/v2"] == 1
    assert sandbox.requests["POST /payroll/api/employee/v2/1001"] == 1


async def test_an_update_keeps_the_international_id_type_payroll_holds(payroll, sandbox):
    """Found by the chaos benchmark: a create whose answer was lost comes back as a 409, is
    updated, and the update's whole ``internationalID`` object used to drop its ``type``."""
    employee = alexis_employee()
    await payroll.create_employee(employee)
    await payroll.create_employee(employee)  # the resend after a lost answer: 409, update
    [held] = [e for e in sandbox.state["payroll/employee"] if e["empId"] == "1002"]
    assert held["internationalID"] == {
        "ID": "15108695088",
        "countryCode": "NO",
        "type": "socialSecurityNumber",
    }
    held["internationalID"]["type"] = "passport"  # a clerk's later change stands too
    await payroll.update_employee("1002", employee, ["firstname"])
    [held] = [e for e in sandbox.state["payroll/employee"] if e["empId"] == "1002"]
    assert held["internationalID"]["type"] == "passport"


async def test_reading_payroll_employees_back(payroll):
    [kari] = await payroll.read_employees(Query())
    assert (kari.key, kari.full_name, str(kari.work_email), str(kari.national_id)) == (
        "1001",
        "Kari Nordmann",
        "old@firma.no",
        "15108695088",
    )
    assert (kari.salary.salary_type, kari.salary.amount, kari.salary.valid_from) == (
        SalaryType.MONTHLY,
        Decimal("45000.00"),
        date(2024, 1, 1),
    )
    assert (kari.home_address.street, kari.bank_account.number) == ("Gamleveien 1", "86011117947")


async def test_employments_are_upserted_by_their_generated_id(payroll, sandbox):
    employment = Employment(
        employee_key="1001",
        period=DateRange(date(2026, 2, 1), date(2026, 12, 31)),
        form=EmploymentForm.TEMPORARY,
        rate=Decimal(80),
        profession_code="3112103",
        end_reason=EndDateReason.CONTRACT_EXPIRED,
    )
    new_id = await payroll.save_employment(employment)
    assert new_id == "1001-2"
    rows = {r["employment_id"]: r for r in sandbox.state["payroll/employment"]}
    assert {
        k: rows[new_id][k]
        for k in (
            "startdate",
            "enddate",
            "enddate_reason",
            "employment_form",
            "employment_rate",
            "profession_code",
            "working_times",
            "employment_type",
        )
    } == {
        "startdate": "2026-02-01",
        "enddate": "2026-12-31",
        "enddate_reason": "kontraktEngasjementEllerVikariatErUtloept",
        "employment_form": "midlertidig",
        "employment_rate": "80.00",
        "profession_code": "3112103",
        "working_times": "ikkeSkift",
        "employment_type": "ordinaertArbeidsforhold",
    }
    from dataclasses import replace

    again = await payroll.save_employment(replace(employment, rate=Decimal(100), target_key=new_id))
    assert again == new_id and len(sandbox.state["payroll/employment"]) == 2
    read = {e.key: e for e in await payroll.read_employments(Query())}
    assert (read[new_id].rate, read[new_id].form) == (Decimal(100), EmploymentForm.TEMPORARY)


async def test_an_end_date_without_reason_is_rejected_by_payroll(payroll):
    employment = Employment(
        employee_key="1001", period=DateRange(date(2026, 2, 1), date(2026, 3, 1))
    )
    with pytest.raises(Rejected, match="enddate_reason is required"):
        await payroll.save_employment(employment)


def vacation(**changes):
    values = {
        "key": "leave-77",
        "employee_key": "1001",
        "code": AbsenceCode.VACATION,
        "period": DateRange(date(2026, 7, 6), date(2026, 7, 24)),
    }
    values.update(changes)
    return Absence(**values)


async def test_absences_are_created_then_updated_by_serial_number(payroll, sandbox):
    serial = await payroll.save_absence(vacation(), number_of_days=15)
    [row] = sandbox.state["payroll/absence"]
    assert {
        k: row[k]
        for k in (
            "empId",
            "absenceType",
            "startDate",
            "endDate",
            "percent",
            "externalId",
            "numberOfDays",
            "serialNo",
        )
    } == {
        "empId": "1001",
        "absenceType": "04",
        "startDate": "2026-07-06 00:00:00",
        "endDate": "2026-07-24 00:00:00",
        "percent": "100",
        "externalId": "leave-77",
        "numberOfDays": "15",
        "serialNo": serial,
    }
    again = await payroll.save_absence(
        vacation(period=DateRange(date(2026, 7, 6), date(2026, 7, 17)), target_key=serial), 10
    )
    assert again == serial and len(sandbox.state["payroll/absence"]) == 1
    [read] = await payroll.read_absences(Query())
    assert (read.key, read.target_key, read.period.end) == ("leave-77", serial, date(2026, 7, 17))


async def test_sick_child_needs_a_child(payroll):
    sick_child = vacation(
        key="leave-9",
        code=AbsenceCode.SICK_CHILD,
        period=DateRange(date(2026, 3, 2), date(2026, 3, 3)),
    )
    with pytest.raises(Rejected, match="childId is required"):
        await payroll.save_absence(sick_child, None)
    from dataclasses import replace

    assert await payroll.save_absence(replace(sick_child, child_id="102701"), None)


async def test_a_lost_absence_answer_is_found_by_its_external_id(payroll, sandbox):
    httpx.post(f"{sandbox.url}/_sandbox/faults", content="lost=1")
    # every write's answer is lost; the look-ups by externalId are reads and get through
    serials = {await payroll.save_absence(vacation(key=f"leave-{n}"), 15) for n in range(3)}
    httpx.post(f"{sandbox.url}/_sandbox/faults", content="")
    external = sorted(r["externalId"] for r in sandbox.state["payroll/absence"])
    assert external == ["leave-0", "leave-1", "leave-2"]
    assert len(serials) == 3


async def test_token_expiry_gets_one_new_exchange(payroll, sandbox):
    await payroll.read_employees(Query())
    httpx.delete(f"{sandbox.url}/_sandbox/payroll-tokens")
    await payroll.read_employees(Query())
    assert sandbox.requests["GET /payroll/api/auth"] == 2


async def test_a_refused_access_token_is_auth_failed(sandbox):
    adapter = PayrollAdapter(
        PayrollClient(f"{sandbox.url}/payroll/api", "wrong", retry=FAST_RETRIES)
    )
    with pytest.raises(AuthFailed, match="payroll access token was refused"):
        await adapter.read_employees(Query())


def test_payroll_sandbox_paths_are_the_documents(sandbox):
    spec = json.loads(Path(REFERENCE / "payroll.json").read_text())
    served = {
        "/auth",
        "/employee/v2",
        "/employee/v2/{empId}",
        "/employment/v2/{empId}",
        "/absence/v2",
        "/absence/v2/{empId}",
        "/absencetypes/v2",
        "/child/v2/{empId}",
    }
    assert served <= set(spec["paths"])
