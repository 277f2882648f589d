"""Realistic AlexisHR data for a Norwegian company of N employees, deterministic by seed.

What it contains, so that every rule of flows 4 and 5 meets real cases:
- valid fødselsnummer and kontonummer; about one in ten employees foreign, with a D-number and
  an IBAN account; about one in ten with a private e-mail only (no or empty work e-mail);
- departments and offices; permanent and temporary employment types (spelled in several ways);
- employment notes "profession:reason": most without an end date, some ended with a reason 1..6,
  a few with no colon, and a few ended with an unknown reason (which payroll cannot take);
- one to three compensations per employee across payout periods, a few DAILY or WEEKLY;
- a year of leaves of every kind and status; company leave types that reach every payroll code
  by name, by user-given code and by kind, and two whose codes payroll does not know.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from fjordsync.testing import company
from fjordsync.testing.people import email_handle

COMPANY_ID = "5f2b6c1e9d3a4b0012ab34cd"

DEPARTMENTS = ("Bygg", "Anlegg", "Prosjektering", "Service", "Administrasjon")
OFFICES = (
    ("Oslo", "+47 22 00 10 00"),
    ("Bergen", "+47 55 00 20 00"),
    ("Trondheim", "+47 73 00 30 00"),
)
EMPLOYMENT_TYPES = (
    "Permanent",
    "Temporary employment",
    "Fast ansatt",
    "TEMPORARY (seasonal)",
    "Lærling",
)
# name, kind, user-given code: together they reach codes 01..21 by kind, name and code.
LEAVE_TYPES = (
    ("Legemeldt fravær", "SICK_LEAVE", None),  # 01 by kind
    ("Syke barn", "CHILDCARE", None),  # 02 by kind
    ("Self-certified sick leave", "SICK_LEAVE", None),  # 03 by name
    ("Sommerferie", "VACATION", None),  # 04 by kind
    ("Ferie", "VACATION", None),  # 04 by payroll name
    ("Permittert", "OFF_DUTY", None),  # 05 by kind
    ("Foreldrepermisjon", "PARENTAL_LEAVE", None),  # 06 by kind
    ("Military service", "OFF_DUTY", None),  # 07 by name
    ("Educational leave statutory", "OFF_DUTY", None),  # 10 by name
    ("Studiepermisjon", "OFF_DUTY", "11"),
    ("Velferdspermisjon lovfestet", "OFF_DUTY", "12"),
    ("Velferdspermisjon", "OFF_DUTY", "13"),
    ("Palliative care benefit", "OFF_DUTY", None),  # 14 by name
    ("Pleiepenger barn", "CHILDCARE", "15"),
    ("Childcare sickness days", "CHILDCARE", None),  # 16 by name
    ("Kurs og opplæring", "OFF_DUTY", "17"),
    ("Pregnancy benefit", "PARENTAL_LEAVE", None),  # 18 by name
    ("Svangerskapspermisjon", "PARENTAL_LEAVE", "19"),
    ("Care leave", "OFF_DUTY", None),  # 20 by name
    ("Annen permisjon", "OFF_DUTY", "21"),
    ("Militærtjeneste (kode 7)", "OFF_DUTY", "7"),  # 07 by a one-digit code
    ("Sabbatical", "OFF_DUTY", "S1"),  # maps to nothing
    ("Avspasering", "VACATION", "AVSP"),  # maps to nothing
)
PROFESSIONS = ("7112101", "7115108", "7126101", "2142102", "3112103", "4110102", "8342101")
STATUSES = (("APPROVED", 60), ("CONFIRMED", 15), ("PENDING", 10), ("DENIED", 7), ("CANCELLED", 8))
PERIODS = (
    ("MONTHLY", 70),
    ("HOURLY", 15),
    ("ANNUAL", 7),
    ("QUARTERLY", 3),
    ("DAILY", 2),
    ("WEEKLY", 2),
    ("BI_WEEKLY", 1),
)


def _object_id(rng: random.Random) -> str:
    return f"{rng.getrandbits(96):024x}"


def _timestamp(day: date, hour: int = 8) -> str:
    return datetime.combine(day, time(hour), tzinfo=UTC).isoformat(timespec="milliseconds")


def _weighted(rng: random.Random, table: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([v for v, _ in table], weights=[w for _, w in table])[0]


def generate(employees: int = 60, seed: int = 1, today: date | None = None) -> dict[str, Any]:
    rng = random.Random(seed)
    today = today or date.today()
    state: dict[str, list[dict[str, Any]]] = {
        "department": [],
        "office": [],
        "employment-type": [],
        "employee": [],
        "employment": [],
        "compensation": [],
        "leave-type": [],
        "leaveTypeCode": [],
        "leave": [],
        "child": [],
    }
    for name in DEPARTMENTS:
        state["department"].append({"id": _object_id(rng), "companyId": COMPANY_ID, "name": name})
    for city, phone in OFFICES:
        state["office"].append(
            {
                "id": _object_id(rng),
                "companyId": COMPANY_ID,
                "name": city,
                "phone": phone,
                "email": f"{city.lower()}@fjordbygg.no",
                "timezone": "Europe/Oslo",
                "CFAR": "",
                "SCB": "",
                "SNI": "41200",
            }
        )
    for name in EMPLOYMENT_TYPES:
        state["employment-type"].append(
            {
                "id": _object_id(rng),
                "companyId": COMPANY_ID,
                "name": name,
                "vacation": True,
                "country": "NO",
            }
        )
    for name, kind, code in LEAVE_TYPES:
        type_id = _object_id(rng)
        state["leave-type"].append(
            {
                "id": type_id,
                "name": name,
                "kind": kind,
                "minimumDuration": "DAY",
                "deductible": kind == "VACATION",
                "paid": kind != "OFF_DUTY",
                "disabled": False,
                "archived": False,
            }
        )
        if code is not None:
            state["leaveTypeCode"].append(
                {
                    "id": _object_id(rng),
                    "companyId": COMPANY_ID,
                    "leaveTypeId": type_id,
                    "code": code,
                }
            )
    for index in range(employees):
        _employee(rng, state, 1001 + index, today, seed)
    return state


def _employee(
    rng: random.Random,
    state: dict[str, list[dict[str, Any]]],
    number: int,
    today: date,
    seed: int = 1,
) -> None:
    person = company.employee(seed, number - 1001)
    employee_id = _object_id(rng)
    hired = today - timedelta(days=rng.randint(60, 365 * 12))
    handle = email_handle(person.first_name, person.last_name)
    record: dict[str, Any] = {
        "id": employee_id,
        "companyId": COMPANY_ID,
        "userId": _object_id(rng),
        "active": True,
        "employeeNumber": str(number),
        "title": "",
        "firstName": person.first_name,
        "lastName": person.last_name,
        "ssn": person.national_id,
        "birthDate": _timestamp(person.born, 0),
        "nationality": person.nationality,
        "privateEmail": f"{handle}{number}@gmail.com",
        "workPhone": person.mobile,
        "privatePhone": person.mobile,
        "departmentId": rng.choice(state["department"])["id"],
        "officeId": rng.choice(state["office"])["id"],
        "employmentCountry": "NO",
        "hireDate": _timestamp(hired),
        "homeAddress": {
            "street": person.street,
            "postalCode": person.postal_code,
            "city": person.city,
            "country": "NO",
        },
        "bankAccount": {
            "bank": "",
            "clearing": "",
            "number": person.account_number or "",
            "iban": person.iban or "",
            "bic": person.bic or "",
            "country": person.account_country,
        },
        "created": _timestamp(hired),
        "updated": _timestamp(today - timedelta(rng.randint(0, 90))),
    }
    private_only = rng.random() < 0.1
    if not private_only:
        record["workEmail"] = f"{handle}@fjordbygg.no"
    elif rng.random() < 0.5:
        record["workEmail"] = ""
    state["employee"].append(record)

    employment = _employment(rng, state, employee_id, hired, today)
    record["employmentId"] = employment["id"]
    record["employmentTypeId"] = employment["typeId"]
    if employment.get("endDate") and employment["endDate"] < _timestamp(today):
        record["active"] = False
        record["endDate"] = employment["endDate"]

    compensations = _compensations(rng, employee_id, hired)
    state["compensation"] += compensations
    record["compensationId"] = compensations[-1]["id"]

    if rng.random() < 0.35:
        for _ in range(rng.randint(1, 3)):
            born = today - timedelta(days=rng.randint(200, 365 * 14))
            state["child"].append(
                {
                    "id": _object_id(rng),
                    "employeeId": employee_id,
                    "name": rng.choice(("Emil", "Ella", "Noah", "Olivia", "Jakob", "Sara")),
                    "birthdate": _timestamp(born, 0),
                }
            )
    for _ in range(rng.randint(1, 5)):
        state["leave"].append(_leave(rng, state, employee_id, today))


def _employment(
    rng: random.Random,
    state: dict[str, list[dict[str, Any]]],
    employee_id: str,
    hired: date,
    today: date,
) -> dict[str, Any]:
    kind = rng.random()
    employment_type = rng.choice(state["employment-type"])
    profession = rng.choice(PROFESSIONS)
    record: dict[str, Any] = {
        "id": _object_id(rng),
        "companyId": COMPANY_ID,
        "employeeId": employee_id,
        "typeId": employment_type["id"],
        "startDate": _timestamp(hired, 0),
        "terminated": False,
        "rate": rng.choice((100, 100, 100, 100, 80, 60, 50)),
        "country": "NO",
        "updated": _timestamp(today - timedelta(rng.randint(0, 120))),
        "note": profession,
    }
    if kind < 0.12:  # ended, with a reason payroll knows
        end = today + timedelta(days=rng.randint(-200, 60))
        record["endDate"] = _timestamp(max(end, hired + timedelta(days=30)), 0)
        record["note"] = f"{profession}:{rng.randint(1, 6)}"
        record["terminated"] = end < today
    elif kind < 0.15:  # ended with a reason that maps to nothing (invalid)
        record["endDate"] = _timestamp(today + timedelta(days=rng.randint(10, 90)), 0)
        record["note"] = f"{profession}:7"
    elif kind < 0.22:  # a reason but no end date: ignored
        record["note"] = f"{profession}:{rng.choice(('3', '7'))}"
    state["employment"].append(record)
    return record


def _compensations(rng: random.Random, employee_id: str, hired: date) -> list[dict[str, Any]]:
    rows = []
    effective = hired
    for _ in range(rng.randint(1, 3)):
        period = _weighted(rng, PERIODS)
        amount = {
            "MONTHLY": rng.randint(38, 85) * 1000,
            "HOURLY": rng.randint(220, 420),
            "ANNUAL": rng.randint(450, 1100) * 1000,
            "QUARTERLY": rng.randint(110, 270) * 1000,
            "DAILY": rng.randint(1800, 3500),
            "WEEKLY": rng.randint(9, 18) * 1000,
            "BI_WEEKLY": rng.randint(18, 36) * 1000,
        }[period]
        rows.append(
            {
                "id": _object_id(rng),
                "employeeId": employee_id,
                "companyId": COMPANY_ID,
                "amount": amount,
                "baseAmount": amount,
                "exchangeRate": 1,
                "currency": "NOK",
                "effectiveDate": _timestamp(effective, 0),
                "payoutDay": 25,
                "payoutPeriod": period,
                "payoutFrequency": "MONTH",
                "salarySchedule": "ADVANCE",
                "paidOvertime": rng.random() < 0.5,
                "note": "",
            }
        )
        effective += timedelta(days=rng.randint(180, 500))
    return rows


def _leave(
    rng: random.Random, state: dict[str, list[dict[str, Any]]], employee_id: str, today: date
) -> dict[str, Any]:
    leave_type = rng.choice(state["leave-type"])
    start = today - timedelta(days=rng.randint(-60, 300))
    if leave_type["kind"] == "VACATION":
        days = rng.randint(3, 15)
    elif leave_type["kind"] == "PARENTAL_LEAVE":
        days = rng.randint(10, 60)
    else:
        days = rng.randint(1, 5)
    duration = "longer" if days > 1 else rng.choice(("one_day", "one_day", "half_day"))
    return {
        "id": _object_id(rng),
        "employeeId": employee_id,
        "typeId": leave_type["id"],
        "status": _weighted(rng, STATUSES),
        "duration": duration,
        "startDate": _timestamp(start, 0),
        "endDate": _timestamp(start + timedelta(days=days - 1), 0),
        "description": "",
    }
