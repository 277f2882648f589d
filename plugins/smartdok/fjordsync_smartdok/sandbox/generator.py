"""Realistic SmartDok data for a Norwegian construction company of N employees, deterministic.

- users whose employee numbers ("Ansattnummer") are the 24SevenOffice Contact ids (2001..);
- projects numbered as 24SevenOffice's project ids (1001..), some with trailing spaces;
- activities and wage types whose codes (``Number``) are 24SevenOffice's work type and salary
  type ids (``fjordsync.testing.company``);
- ``months`` of hours: work days only, 7-8 hours with a half-hour break, some overtime and travel,
  attested at different levels (foreman, project admin, admin), a few already exported,
  comments in Norwegian.
"""

from __future__ import annotations

import random
import uuid
from datetime import date, datetime, timedelta
from typing import Any

from fjordsync.testing import company
from fjordsync.testing.company import PROJECT_NAMES, SALARY_TYPES, WORK_TYPES
from fjordsync.testing.people import email_handle

COMMENTS = (
    "Forskaling dekke 2. etasje",
    "Armering fundament",
    "Støp av plate",
    "Riving innvendig",
    "Montering av vinduer",
    "Grunnarbeid",
    "Rydding av byggeplass",
    "Befaring med byggherre",
    "Tømrerarbeid tak",
    "Isolering yttervegg",
    "Kjøring av masser",
    "",
)


def generate(
    employees: int = 60,
    seed: int = 1,
    today: date | None = None,
    months: int = 2,
    projects: int | None = None,
    misaligned: bool = False,
) -> dict[str, Any]:
    """``misaligned`` leaves a few ids unaligned, the way seed 000 warns customers they may be
    (an old employee number, a project number of SmartDok's own, an activity and a wage type
    whose codes are not the ERP's ids), for the preflight check to find."""
    rng = random.Random(seed)
    today = today or date.today()
    company_id = 7301
    activities = [
        {
            "Id": index + 1,
            "Name": name,
            "Number": str(code),
            "IsActive": active,
            "Price": 0,
            "InternalRate": 0,
        }
        for index, (code, name, active) in enumerate(WORK_TYPES)
    ]
    wages = [
        {
            "Id": index + 1,
            "Name": name,
            "Number": str(code),
            "IsActive": active,
            "IsAbsence": False,
            "IsDaytime": True,
            "Export": True,
            "Rate": 0,
            "HourlyCost": 0,
            "InternalPrice": 0,
            "Order": index,
            "IsCommentRequired": False,
        }
        for index, (code, name, active) in enumerate(SALARY_TYPES)
    ]
    users = []
    for index in range(employees):
        person = company.employee(seed, index)
        prefix, _, number = person.mobile.removeprefix("+").partition(" ")
        users.append(
            {
                "Id": str(uuid.UUID(int=rng.getrandbits(128))),
                "UserName": number.replace(" ", ""),
                "Name": f"{person.first_name} {person.last_name}",
                "Email": f"{email_handle(person.first_name, person.last_name)}@fjordbygg.no",
                "PhonePrefix": prefix,
                "PhoneNumber": number.replace(" ", ""),
                "Role": "User",
                "AccessLevelId": str(uuid.UUID(int=rng.getrandbits(128))),
                "IsEnded": False,
                "CompanyId": company_id,
                "EmployeeNo": str(2001 + index),
                "GroupId": 1,
                "GroupName": "Ansatte",
                "LanguageCode": "nb-NO",
                "IsLockedOut": False,
                "IsDeleted": False,
                "IsContactPerson": False,
                "LastActivityTime": f"{today.isoformat()}T07:00:00Z",
                "CreatedDate": f"{(today - timedelta(days=400)).isoformat()}T08:00:00Z",
            }
        )
    project_count = projects if projects is not None else max(3, employees // 4)
    project_records = []
    for index in range(project_count):
        number = str(1001 + index) + (" " if rng.random() < 0.2 else "")
        project_records.append(
            {
                "Id": 501 + index,
                "ProjectName": PROJECT_NAMES[index % len(PROJECT_NAMES)][:70],
                "ProjectNumber": number,
                "Departments": [],
                "IsAbsenceProject": False,
                "IsActive": True,
                "IsOrder": False,
                "Location": "",
                "ProjectOwnerName": "",
                "ProjectOwnerEmail": "",
                "ProjectOwnerMobile": "",
                "ClientCompanyName": "",
                "ClientCompanyContact": "",
                "ClientCompanyEmail": "",
                "ClientCompanyMobile": "",
                "DescriptionText": "",
                "DocumentUrl": "",
                "CalcuatedTimeConsumption": 0,
                "CalculatedTimeConsumption": 0,
                "InternalCostPerHour": 0,
                "HourlyRate": 0,
                "Finished": False,
                "ToBeInvoiced": False,
                "UserIds": [],
                "TimeConsumption": 0,
                "Updated": f"{(today - timedelta(days=rng.randint(1, 90))).isoformat()}T10:00:00Z",
                "Created": f"{(today - timedelta(days=400)).isoformat()}T10:00:00Z",
            }
        )
    hours = _hours(rng, users, project_records, activities, wages, today, months, company_id)
    if misaligned:
        _misalign(users, project_records, activities, wages, hours)
    return {
        "Users": users,
        "Projects": project_records,
        "WorkDescriptions": activities,
        "Wages": wages,
        "WorkHours": hours,
        "LicenseInfo": {"AvailableLicenses": 5, "TotalLicenses": employees + 5},
    }


def _hours(
    rng: random.Random,
    users: list[dict[str, Any]],
    projects: list[dict[str, Any]],
    activities: list[dict[str, Any]],
    wages: list[dict[str, Any]],
    today: date,
    months: int,
    company_id: int,
) -> list[dict[str, Any]]:
    hours = []
    active_activities = [a for a in activities if a["IsActive"]]
    first = today - timedelta(days=30 * months)
    hour_id = 900000
    for user in users:
        project = rng.choice(projects)
        day = first
        while day < today:
            if day.weekday() < 5 and rng.random() < 0.92:
                start = rng.choice((6.5, 7.0, 7.0, 7.5))
                length = rng.choice((7.5, 7.5, 8.0, 8.0, 9.0, 10.0))
                activity = active_activities[0] if length <= 8 else rng.choice(active_activities)
                wage = wages[0] if length <= 8 else rng.choice(wages[:3])
                hour_id += 1
                level = rng.random()
                updated = datetime.combine(day, datetime.min.time()) + timedelta(
                    days=rng.randint(0, 5), hours=16
                )
                hours.append(
                    {
                        "CompanyID": company_id,
                        "UserID": user["Id"],
                        "EmployeeNo": user["EmployeeNo"],
                        "WorkHourID": hour_id,
                        "ForemanAttested": level < 0.9,
                        "ProjectAdminAttested": level < 0.8,
                        "AdminAttested": level < 0.7,
                        "Exported": rng.random() < 0.05,
                        "Invoiced": False,
                        "Date": f"{day.isoformat()}T00:00:00Z",
                        "DepartmentIDsProject": [],
                        "WorkDescriptionId": activity["Id"],
                        "WageId": wage["Id"],
                        "WageName": wage["Name"],
                        "WageCode": wage["Number"],
                        "WageAddition": False,
                        "UnitAddition": False,
                        "Diet": False,
                        "TimeKontoLine": False,
                        "OrdinaryHoursFrom": start,
                        "OrdinaryHoursTo": start + length + 0.5,
                        "OrdinaryHours": length + 0.5,
                        "BreakTime": 0.5,
                        "NetHours": length,
                        "Comment": rng.choice(COMMENTS),
                        "AdminComment": "",
                        "WorkDescriptionCode": activity["Number"],
                        "WorkDescription": activity["Name"],
                        "IsOrder": False,
                        "ProjectID": project["Id"],
                        "ProjectNo": project["ProjectNumber"],
                        "ProjectNumber": project["ProjectNumber"],
                        "ProjectName": project["ProjectName"],
                        "ExportedExternal": False,
                        "ExportedExternalId": None,
                        "LastUpdated": updated.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    }
                )
                if rng.random() < 0.1:
                    project = rng.choice(projects)
            day += timedelta(days=1)
    return hours


def _misalign(
    users: list[dict[str, Any]],
    projects: list[dict[str, Any]],
    activities: list[dict[str, Any]],
    wages: list[dict[str, Any]],
    hours: list[dict[str, Any]],
) -> None:
    """The misalignments seed 000 warns about, each once, with the hours that use them."""
    changes = []
    if len(users) > 3:
        changes.append(("EmployeeNo", users[3], "EmployeeNo", str(len(users) + 40)))
    if len(projects) > 3:
        changes.append(
            (
                "ProjectNumber",
                projects[3],
                "ProjectNumber",
                f"P-{projects[3]['ProjectNumber'].strip()}",
            )
        )
    travel = next((a for a in activities if a["Name"] == "Reisetid"), None)
    if travel is not None:
        changes.append(("WorkDescriptionCode", travel, "Number", "01.1"))
    overtime = wages[1] if len(wages) > 1 else None
    if overtime is not None:
        changes.append(("WageCode", overtime, "Number", "T" + overtime["Number"]))
    for hour_field, record, field, new in changes:
        old = record[field]
        record[field] = new
        for hour in hours:
            if hour.get(hour_field) == old and (
                hour_field != "ProjectNumber" or hour["ProjectID"] == record["Id"]
            ):
                hour[hour_field] = new
                if hour_field == "ProjectNumber":
                    hour["ProjectNo"] = new
