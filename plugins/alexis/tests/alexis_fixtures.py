"""Hand-made AlexisHR companies for the connector's tests, in the API's own JSON."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from fjordsync_alexis.client import RetryPolicy

TODAY = date(2026, 11, 24)
# The vendor's documents, kept in the repository (see contract/README.md).
REFERENCE = Path(__file__).resolve().parents[1] / "contract"
FAST_RETRIES = RetryPolicy(attempts=8, first_wait=0.01, max_backoff=0.2, max_wait=0.2, deadline=30)


def ts(day: str) -> str:
    return f"{day}T00:00:00.000+00:00"


def employee(number, emp_id, **fields):
    record = {
        "id": emp_id,
        "companyId": "c1",
        "userId": f"u{emp_id}",
        "active": True,
        "employeeNumber": number,
        "firstName": "Kari",
        "lastName": "Nordmann",
        "workEmail": f"e{number}@firma.no",
        "privateEmail": f"p{number}@gmail.com",
        "ssn": "15108695088",
        "nationality": "NO",
        "departmentId": "dep-bygg",
        "officeId": "off-oslo",
        "created": ts("2020-01-01"),
        "updated": ts("2026-01-01"),
        "homeAddress": {
            "street": "Storgata 1",
            "postalCode": "0150",
            "city": "Oslo",
            "country": "NO",
        },
        "bankAccount": {
            "number": "86011117947",
            "iban": "NO9386011117947",
            "bic": "DNBANOKK",
            "clearing": "",
            "country": "NO",
            "bank": "DNB",
        },
    }
    record.update(fields)
    return record


def employment(
    emp_id,
    employment_id,
    type_id="t-perm",
    note="7112101",
    start="2020-01-01",
    end=None,
    rate=100,
    updated="2026-01-01",
):
    record = {
        "id": employment_id,
        "companyId": "c1",
        "employeeId": emp_id,
        "typeId": type_id,
        "startDate": ts(start),
        "terminated": False,
        "rate": rate,
        "country": "NO",
        "note": note,
        "updated": ts(updated),
    }
    if end:
        record["endDate"] = ts(end)
    return record


def compensation(emp_id, comp_id, effective, period="MONTHLY", amount=50000):
    return {
        "id": comp_id,
        "employeeId": emp_id,
        "companyId": "c1",
        "amount": amount,
        "baseAmount": amount,
        "exchangeRate": 1,
        "currency": "NOK",
        "effectiveDate": ts(effective),
        "payoutDay": 25,
        "payoutPeriod": period,
        "payoutFrequency": "MONTH",
        "salarySchedule": "ADVANCE",
        "paidOvertime": False,
    }


def leave(leave_id, emp_id, type_id, start, end, status="APPROVED", duration="longer"):
    return {
        "id": leave_id,
        "employeeId": emp_id,
        "typeId": type_id,
        "status": status,
        "duration": duration,
        "startDate": ts(start),
        "endDate": ts(end),
    }


def leave_type(type_id, name, kind):
    return {
        "id": type_id,
        "name": name,
        "kind": kind,
        "minimumDuration": "DAY",
        "deductible": False,
        "paid": True,
        "disabled": False,
        "archived": False,
    }


def small_company():
    """Five employees, each carrying one of the cases flows 4 and 5 name."""
    return {
        "department": [
            {"id": "dep-bygg", "companyId": "c1", "name": "Bygg"},
            {"id": "dep-adm", "companyId": "c1", "name": "Administrasjon"},
        ],
        "office": [
            {
                "id": "off-oslo",
                "companyId": "c1",
                "name": "Oslo",
                "phone": "",
                "email": "",
                "timezone": "Europe/Oslo",
                "CFAR": "",
                "SCB": "",
                "SNI": "",
            },
            {
                "id": "off-bergen",
                "companyId": "c1",
                "name": "Bergen",
                "phone": "",
                "email": "",
                "timezone": "Europe/Oslo",
                "CFAR": "",
                "SCB": "",
                "SNI": "",
            },
        ],
        "employment-type": [
            {"id": "t-perm", "companyId": "c1", "name": "Permanent", "vacation": True},
            {"id": "t-temp", "companyId": "c1", "name": "Sommer TEMPORARY", "vacation": True},
        ],
        "employee": [
            employee("1001", "e1"),
            employee("1002", "e2", workEmail="", departmentId="dep-adm", updated=ts("2026-11-01")),
            employee(
                "1003",
                "e3",
                nationality="SE",
                ssn="41018036736",
                bankAccount={
                    "number": "5000 0000 0583 9825 7466",
                    "iban": "SE4550000000058398257466",
                    "bic": "ESSESESS",
                    "country": "SE",
                    "clearing": "5000",
                },
                officeId="off-bergen",
            ),
            employee("1004", "e4", ssn="15108695077", active=False),
            employee("1005", "e5", updated=ts("2026-11-20")),
        ],
        "employment": [
            employment("e1", "m1"),
            employment("e2", "m2", type_id="t-temp", note="0111101", rate=80),
            employment("e3", "m3", note="3112103:3", end="2026-12-31", updated="2026-11-10"),
            employment("e4", "m4", note="0111101:7", end="2026-06-30"),
            employment("e5", "m5", note="0111101:7"),
        ],
        "compensation": [
            compensation("e1", "c1a", "2024-01-01", amount=45000),
            compensation("e1", "c1b", "2026-01-01", amount=52000),
            compensation("e1", "c1c", "2025-01-01", amount=48000),
            compensation("e2", "c2", "2026-01-01", "HOURLY", 312.5),
            compensation("e3", "c3", "2026-01-01", "ANNUAL", 650000),
            compensation("e5", "c5", "2026-01-01", "DAILY", 2000),
        ],
        "leave-type": [
            leave_type("lt-vac", "Sommerferie", "VACATION"),
            leave_type("lt-sick", "Legemeldt fravær", "SICK_LEAVE"),
            leave_type("lt-mil", "Military service", "OFF_DUTY"),
            leave_type("lt-kurs", "Kurs", "OFF_DUTY"),
            leave_type("lt-sab", "Sabbatical", "OFF_DUTY"),
        ],
        "leaveTypeCode": [
            {"id": "ltc1", "companyId": "c1", "leaveTypeId": "lt-kurs", "code": "17"},
            {"id": "ltc2", "companyId": "c1", "leaveTypeId": "lt-sab", "code": "S1"},
        ],
        "leave": [
            leave("l1", "e1", "lt-vac", "2026-07-06", "2026-07-24"),
            leave("l2", "e1", "lt-sick", "2026-03-02", "2026-03-03", status="CONFIRMED"),
            leave("l3", "e2", "lt-kurs", "2026-04-14", "2026-04-14", duration="half_day"),
            leave("l4", "e2", "lt-mil", "2026-05-04", "2026-05-08", status="PENDING"),
            leave("l5", "e3", "lt-sab", "2026-09-01", "2026-09-30"),
            leave("l6", "e5", "lt-vac", "2026-02-09", "2026-02-13", status="CANCELLED"),
            leave("l7", "e5", "lt-sick", "2025-12-29", "2026-01-02", status="DENIED"),
        ],
        "child": [{"id": "ch1", "employeeId": "e1", "name": "Emil", "birthdate": ts("2019-03-01")}],
    }
