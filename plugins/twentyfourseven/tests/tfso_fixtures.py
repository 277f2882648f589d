"""A small hand-made 24SevenOffice company for the connector's tests, in the services' own
shapes (SOAP records by WSDL element name, payroll JSON with string values)."""

from __future__ import annotations

from pathlib import Path

from fjordsync_twentyfourseven.client import RetryPolicy
from fjordsync_twentyfourseven.sandbox import DEFAULT_CREDENTIALS, DEFAULT_IDENTITIES
from fjordsync_twentyfourseven.sandbox.payroll import absence_types

# The vendor's documents, kept in the repository (see contract/README.md).
REFERENCE = Path(__file__).resolve().parents[1] / "contract"
FAST_RETRIES = RetryPolicy(attempts=6, first_wait=0.01, max_backoff=0.1, deadline=30)
IDENTITY = DEFAULT_IDENTITIES[0]["Id"]


def soap_settings(url: str, **overrides):
    settings = {
        "api_url": url,
        "webservices_url": url,
        "application_id": DEFAULT_CREDENTIALS["ApplicationId"],
        "username": DEFAULT_CREDENTIALS["Username"],
        "password": DEFAULT_CREDENTIALS["Password"],
        "identity_id": IDENTITY,
        "retry": FAST_RETRIES,
    }
    settings.update(overrides)
    return settings


def person(contact_id, first, last, email=None, mobile=None, employee_id=None, **fields):
    record = {
        "Id": contact_id,
        "FirstName": first,
        "LastName": last,
        "DateChanged": "2026-01-01T00:00:00",
    }
    if employee_id is not None:
        record["EmployeeId"] = employee_id
    if email:
        record["EmailAddresses"] = {"EmailAddress": [{"Type": "Primary", "Value": email}]}
    if mobile:
        record["PhoneNumbers"] = {"PhoneNumber": [{"Type": "Mobile", "Value": mobile}]}
    record.update(fields)
    return record


def small_company():
    return {
        "Project": [
            {
                "Id": 1001,
                "Name": "Skolebygg Nord",
                "NameDisplay": "Plain",
                "TimeReg": "WorkType",
                "CustomerName": "Fjordvik kommune",
                "DateStart": "2026-01-05T00:00:00",
                "DateStop": "2026-12-18T00:00:00",
                "DateChanged": "2026-11-20T10:00:00",
            },
            {
                "Id": 1002,
                "Name": "Kaianlegg Sjøgata",
                "NameDisplay": "Plain",
                "TimeReg": "WorkType",
                "DateChanged": "2026-01-01T00:00:00",
            },
            {
                "Id": 1003,
                "Name": "Riving av gammelt lager",
                "NameDisplay": "Plain",
                "TimeReg": "WorkType",
                "DateChanged": "2026-11-21T00:00:00",
                "_Deactivated": True,
            },
        ],
        "PersonItem": [
            person(
                2001,
                "Kari",
                "Nordmann",
                "kari@fjordbygg.no",
                "+47 912 34 567",
                1,
                DateChanged="2026-11-20T00:00:00",
            ),
            person(2002, "Ola", "Hansen", None, "+47 934 56 789", 2),
            person(2003, "Per", "Kunde", "per@kunde.no"),  # a customer's contact
        ],
        "User": [
            {
                "ContactId": 2001,
                "EmployeeId": 1,
                "Id": "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa",
                "Name": "Kari Nordmann",
            }
        ],
        "WorkType": [
            {"Id": 10, "Name": "Ordinær arbeidstid"},
            {"Id": 90, "Name": "Gammel", "_Active": False},
        ],
        "SalaryType": [{"Id": 100, "Name": "Timelønn", "Active": True}],
        "Hour": [],
        "payroll/employee": [
            {
                "empId": "1001",
                "email": "old@firma.no",
                "firstname": "Kari",
                "lastname": "Nordmann",
                "postaddress": "Gamleveien 1",
                "zipcode": "0150",
                "city": "Oslo",
                "countryCode": "NO",
                "account": "86011117947",
                "bic": "",
                "clearingno": "",
                "personnr": "15108695088",
                "salary_type": "monthly",
                "salary": "45000.00",
                "salary_valid_from": "2024-01-01",
                "vacation_days": "30",
                "internationalID": {
                    "countryCode": "NO",
                    "ID": "15108695088",
                    "type": "socialSecurityNumber",
                },
            },
        ],
        "payroll/employment": [
            {
                "empId": "1001",
                "employment_id": "1001-1",
                "startdate": "2020-01-01",
                "enddate": "",
                "enddate_reason": "",
                "employment_form": "fast",
                "profession_code": "7112101",
                "employment_rate": "100.00",
                "employment_type": "ordinaertArbeidsforhold",
                "working_times": "ikkeSkift",
            },
        ],
        "payroll/absence": [],
        "payroll/absencetypes": absence_types(),
        "payroll/child": [
            {
                "empId": "1001",
                "childId": "102701",
                "firstnamn": "Emil",
                "surname": "Nordmann",
                "birthdate": "2019-03-01",
            }
        ],
    }
