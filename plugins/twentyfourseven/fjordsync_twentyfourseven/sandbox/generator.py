"""Realistic 24SevenOffice data for a Norwegian company of N employees, deterministic by seed.

- projects (about one for every four employees), some deactivated, some with names longer than
  SmartDok's 70 characters, some without start or stop date;
- employees as CRM persons with Contact ids and EmployeeIds, most with a primary e-mail and a
  mobile number, a few without an e-mail; other contacts who are not employees;
- users mapping to the employees' Contact ids;
- work types and salary types whose ids are the codes SmartDok's data uses
  (``fjordsync.testing.company``), one work type inactive;
- payroll employees already in Lønn: about a third of the AlexisHR company's employee numbers
  (1001 upwards), with stale values (old address, old salary), and their employments.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from fjordsync.testing import company
from fjordsync.testing.company import CUSTOMERS, PROJECT_NAMES, SALARY_TYPES, WORK_TYPES
from fjordsync.testing.people import email_handle, invent_person
from fjordsync_twentyfourseven.sandbox.payroll import absence_types, complete_employee

FIRST_CONTACT_ID = 2001


def _soap_time(day: date, hour: int = 8) -> str:
    return datetime.combine(day, time(hour), tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%S")


def generate(
    employees: int = 60, seed: int = 1, today: date | None = None, projects: int | None = None
) -> dict[str, Any]:
    rng = random.Random(seed)
    today = today or date.today()
    state: dict[str, list[dict[str, Any]]] = {
        "Project": [],
        "PersonItem": [],
        "User": [],
        "WorkType": [],
        "SalaryType": [],
        "Hour": [],
        "payroll/employee": [],
        "payroll/employment": [],
        "payroll/absence": [],
        "payroll/absencetypes": absence_types(),
        "payroll/child": [],
    }
    for work_type_id, name, active in WORK_TYPES:
        state["WorkType"].append(
            {
                "Id": work_type_id,
                "Name": name,
                "Description": "",
                "Invoiceable": work_type_id < 20,
                "_Active": active,
            }
        )
    for salary_type_id, name, active in SALARY_TYPES:
        state["SalaryType"].append({"Id": salary_type_id, "Name": name, "Active": active})
    project_count = projects if projects is not None else max(3, employees // 4)
    for index in range(project_count):
        name = PROJECT_NAMES[index % len(PROJECT_NAMES)]
        if index >= len(PROJECT_NAMES):
            name = f"{name} {index // len(PROJECT_NAMES) + 1}"
        start = today - timedelta(days=rng.randint(30, 700))
        record: dict[str, Any] = {
            "Id": 1001 + index,
            "Name": name,
            "NameDisplay": "Plain",
            "TimeReg": "WorkType",
            "CustomerName": rng.choice(CUSTOMERS),
            "Enabled": True,
            "DateChanged": _soap_time(today - timedelta(days=rng.randint(0, 60))),
            "DateRegistered": _soap_time(start),
        }
        if rng.random() < 0.85:
            record["DateStart"] = _soap_time(start, 0)
        if rng.random() < 0.4:
            record["DateStop"] = _soap_time(start + timedelta(days=rng.randint(90, 900)), 0)
        if rng.random() < 0.15:
            record["_Deactivated"] = True
        state["Project"].append(record)
    for index in range(employees):
        person = company.employee(seed, index)
        contact_id = FIRST_CONTACT_ID + index
        handle = email_handle(person.first_name, person.last_name)
        emails = (
            []
            if rng.random() < 0.05
            else [{"Type": "Primary", "Value": f"{handle}@fjordbygg.no", "Description": ""}]
        )
        state["PersonItem"].append(
            {
                "Id": contact_id,
                "EmployeeId": index + 1,
                "FirstName": person.first_name,
                "LastName": person.last_name,
                "EmailAddresses": {"EmailAddress": emails},
                "PhoneNumbers": {
                    "PhoneNumber": [{"Type": "Mobile", "Value": person.mobile, "Description": ""}]
                },
                "DateChanged": _soap_time(today - timedelta(days=rng.randint(0, 200))),
                "Department": "",
                "Workplace": "",
                "WorkPosition": "",
            }
        )
        state["User"].append(
            {
                "ContactId": contact_id,
                "EmployeeId": index + 1,
                # A System.Guid: the published schema's s1:guid pattern, with the dashes.
                "Id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "Name": f"{person.first_name} {person.last_name}",
            }
        )
    for index in range(max(2, employees // 10)):  # customers' contacts: not employees
        person = invent_person(rng)
        state["PersonItem"].append(
            {
                "Id": FIRST_CONTACT_ID + employees + index,
                "FirstName": person.first_name,
                "LastName": person.last_name,
                "EmailAddresses": {
                    "EmailAddress": [
                        {"Type": "Primary", "Value": f"kontakt{index}@kunde.no", "Description": ""}
                    ]
                },
                "DateChanged": _soap_time(today - timedelta(days=rng.randint(0, 200))),
            }
        )
    _payroll(rng, state, employees, today, seed)
    return state


def _payroll(
    rng: random.Random,
    state: dict[str, list[dict[str, Any]]],
    employees: int,
    today: date,
    seed: int,
) -> None:
    """Employees Lønn has from before: stale copies of part of the AlexisHR company."""
    for number in range(1001, 1001 + employees):
        if rng.random() > 0.33:
            continue
        person = company.employee(seed, number - 1001)  # the HR company's own people
        moved_from = invent_person(rng)  # stale: the address they had before
        emp_id = str(number)
        hired = today - timedelta(days=rng.randint(400, 3000))
        state["payroll/employee"].append(
            complete_employee(
                {
                    "empId": emp_id,
                    "email": "",
                    "email_copy": "",
                    "firstname": person.first_name,
                    "lastname": person.last_name,
                    "postaddress": moved_from.street,
                    "zipcode": moved_from.postal_code,
                    "city": moved_from.city,
                    "countryCode": "NO",
                    "clearingno": "",
                    "account": person.account_number or "",
                    "bic": "",
                    "employee_date": hired.isoformat(),
                    "telefon": "",
                    "personnr": person.national_id,
                    "internationalID": {
                        "countryCode": "NO",
                        "ID": person.national_id,
                        "type": "socialSecurityNumber",
                    },
                    "salary_type": "monthly",
                    "salary": f"{rng.randint(35, 60) * 1000}.00",
                    "salary_valid_from": hired.isoformat(),
                    "taxtable": "7100",
                    "employment_rate": "100.00",
                    "vacation_days": "25",
                    "hidden": "0",
                }
            )
        )
        state["payroll/employment"].append(
            {
                "empId": emp_id,
                "employment_id": f"{emp_id}-1",
                "primary_employment": "1",
                "startdate": hired.isoformat(),
                "enddate": "",
                "enddate_reason": "",
                "employment_form": "fast",
                "profession_code": "7112101",
                "employment_rate": "100.00",
                "employment_type": "ordinaertArbeidsforhold",
                "enterprise_number": "",
                "working_times": "ikkeSkift",
            }
        )
