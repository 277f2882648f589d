"""A small hand-made SmartDok company for the connector's tests, in the API's own JSON."""

from __future__ import annotations

from pathlib import Path

from fjordsync_smartdok.client import RetryPolicy

# The vendor's documents, kept in the repository (see contract/README.md).
REFERENCE = Path(__file__).resolve().parents[1] / "contract"
FAST_RETRIES = RetryPolicy(attempts=8, first_wait=0.01, max_backoff=0.2, max_wait=0.2, deadline=30)


def user(number, user_id, name="Kari Nordmann", **fields):
    record = {
        "Id": user_id,
        "UserName": f"9{number}",
        "Name": name,
        "Email": f"e{number}@fjordbygg.no",
        "PhonePrefix": "47",
        "PhoneNumber": f"9{number}00",
        "Role": "User",
        "IsEnded": False,
        "EmployeeNo": number,
        "GroupId": 1,
        "GroupName": "Ansatte",
        "LanguageCode": "nb-NO",
        "AccessLevelId": "00000000-0000-0000-0000-000000000001",
        "IsLockedOut": False,
        "IsDeleted": False,
        "IsContactPerson": False,
        "LastActivityTime": "2026-11-01T07:00:00Z",
        "CreatedDate": "2025-01-01T07:00:00Z",
    }
    record.update(fields)
    return record


def project(project_id, number, name, **fields):
    record = {
        "Id": project_id,
        "ProjectName": name,
        "ProjectNumber": number,
        "Departments": [],
        "IsAbsenceProject": False,
        "IsActive": True,
        "IsOrder": False,
        "Location": "Fjordvik",
        "ProjectOwnerName": "Per Prosjektleder",
        "ProjectOwnerEmail": "per@fjordbygg.no",
        "ProjectOwnerMobile": "99999999",
        "ClientCompanyName": "Fjordvik kommune",
        "ClientCompanyContact": "",
        "ClientCompanyEmail": "",
        "ClientCompanyMobile": "",
        "DescriptionText": "",
        "DocumentUrl": "",
        "CalcuatedTimeConsumption": 0,
        "CalculatedTimeConsumption": 0,
        "InternalCostPerHour": 0,
        "HourlyRate": 650.0,
        "Finished": False,
        "ToBeInvoiced": False,
        "UserIds": [],
        "TimeConsumption": 0,
        "Updated": "2026-06-01T10:00:00Z",
        "Created": "2025-01-01T10:00:00Z",
    }
    record.update(fields)
    return record


def hour(hour_id, number, day, **fields):
    record = {
        "CompanyID": 1,
        "UserID": f"u-{number}",
        "EmployeeNo": number,
        "WorkHourID": hour_id,
        "ForemanAttested": True,
        "ProjectAdminAttested": True,
        "AdminAttested": True,
        "Exported": False,
        "Invoiced": False,
        "Date": f"{day}T00:00:00Z",
        "DepartmentIDsProject": [],
        "WorkDescriptionId": 1,
        "WageId": 1,
        "WageCode": "100",
        "WageAddition": False,
        "UnitAddition": False,
        "Diet": False,
        "TimeKontoLine": False,
        "OrdinaryHoursFrom": 7.0,
        "OrdinaryHoursTo": 15.0,
        "OrdinaryHours": 8.0,
        "BreakTime": 0.5,
        "NetHours": 7.5,
        "Comment": "Forskaling",
        "AdminComment": "",
        "WorkDescriptionCode": "10",
        "WorkDescription": "Ordinær arbeidstid",
        "IsOrder": False,
        "ProjectID": 501,
        "ProjectNo": "1001 ",
        "ProjectNumber": "1001 ",
        "ProjectName": "Skolebygg Nord",
        "ExportedExternal": False,
        "ExportedExternalId": None,
        "LastUpdated": f"{day}T16:00:00Z",
    }
    record.update(fields)
    return record


def small_company():
    return {
        "Users": [
            user("2001", "11111111-1111-4111-8111-111111111111"),
            user("2002", "22222222-2222-4222-8222-222222222222", "Ola Hansen", IsEnded=True),
        ],
        "Projects": [
            project(501, "1001 ", "Skolebygg Nord", Custom={"Colour": "blå"}),
            project(502, "1002", "Kaianlegg", IsActive=False, Updated="2026-11-20T10:00:00Z"),
        ],
        "WorkDescriptions": [
            {
                "Id": 1,
                "Name": "Ordinær arbeidstid",
                "Number": "10",
                "IsActive": True,
                "Price": 0,
                "InternalRate": 0,
            }
        ],
        "Wages": [
            {
                "Id": 1,
                "Name": "Timelønn",
                "Number": "100",
                "IsActive": True,
                "IsAbsence": False,
                "IsDaytime": True,
                "Export": True,
                "Rate": 0,
                "HourlyCost": 0,
                "InternalPrice": 0,
                "Order": 0,
                "IsCommentRequired": False,
            }
        ],
        "WorkHours": [
            hour(1, "2001", "2026-03-02"),
            hour(2, "2001", "2026-07-06", OrdinaryHoursFrom=6.5, OrdinaryHoursTo=14.5),
            hour(3, "2001", "2026-09-15", AdminAttested=False),
            hour(4, "2002", "2026-09-16", ExportedExternal=True, ExportedExternalId="earlier"),
            hour(5, "2001", "2026-01-05", NetHours=None),
        ],
        "LicenseInfo": {"AvailableLicenses": 1, "TotalLicenses": 3},
    }
