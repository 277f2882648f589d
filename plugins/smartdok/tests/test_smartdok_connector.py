"""The SmartDok connector against its sandbox over HTTP."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import httpx
import pytest
from smartdok_fixtures import FAST_RETRIES

from fjordsync.domain.model import Employee, InvalidRecord, Project
from fjordsync.domain.values import DateRange, Email, PhoneNumber
from fjordsync.errors import AuthFailed, Rejected
from fjordsync.ports import Query, Scope
from fjordsync_smartdok.adapter import SmartDokAdapter, windows
from fjordsync_smartdok.client import SmartDokClient
from fjordsync_smartdok.sandbox import LIMITED_API_TOKEN

YEAR = DateRange(date(2026, 1, 1), date(2026, 12, 31))


async def test_projects_keep_their_numbers_as_smartdok_has_them(adapter):
    projects = {p.key: p for p in await adapter.read_projects(Query())}
    assert sorted(projects) == ["1001 ", "1002"]  # trailing space kept: matching trims
    assert (projects["1001 "].target_key, projects["1002"].active) == ("501", False)
    scoped = await adapter.read_projects(Query(scope=Scope(projects=frozenset({"1001"}))))
    assert [p.target_key for p in scoped] == ["501"]
    since = Query(changed_since=datetime(2026, 11, 1, tzinfo=UTC))
    assert [p.key for p in await adapter.read_projects(since)] == ["1002"]


async def test_update_is_read_modify_write_keeping_unknown_fields(adapter, sandbox):
    project = Project(
        "1001",
        "Skolebygg Nord - trinn 2 med ny gymsal, garderober, uteområde og parkering",
        True,
        date(2026, 2, 1),
        None,
        "Fjordvik kommune",
    )
    await adapter.update_project("501", project, {"name", "start"})
    [stored] = [p for p in sandbox.state["Projects"] if p["Id"] == 501]
    assert stored["ProjectName"] == project.name[:70]  # SmartDok's 70 characters
    assert stored["StartDate"] == "2026-02-01T00:00:00Z"
    assert stored["Custom"] == {"Colour": "blå"}  # a field we do not know, kept as it was
    assert (stored["ProjectOwnerName"], stored["HourlyRate"], stored["Location"]) == (
        "Per Prosjektleder",
        650.0,
        "Fjordvik",
    )  # fields the flow does not own, untouched


async def test_create_project_and_the_save_error_for_a_long_number(adapter, sandbox):
    created = await adapter.create_project(Project("1003", "Ny hall", True, date(2026, 5, 1)))
    stored = next(p for p in sandbox.state["Projects"] if str(p["Id"]) == created)
    assert (
        stored["ProjectNumber"],
        stored["ProjectName"],
        stored["IsActive"],
        stored["StartDate"],
    ) == ("1003", "Ny hall", True, "2026-05-01T00:00:00Z")
    with pytest.raises(Rejected) as caught:
        await adapter.create_project(Project("1" * 21, "For langt nummer"))
    assert caught.value.message == (
        "ProjectNumber: The field ProjectNumber must be a string with a maximum length of 20. "
        "(MaxLength)"
    )


async def test_users_as_employees(adapter):
    employees = {e.key: e for e in await adapter.read_employees(Query())}
    kari = employees["2001"]
    assert (kari.first_name, kari.last_name, str(kari.work_email), kari.username) == (
        "Kari",
        "Nordmann",
        "e2001@fjordbygg.no",
        "92001",
    )
    assert (kari.mobile.prefix, kari.mobile.national, kari.active) == ("47", "9200100", True)
    assert employees["2002"].active is False


def newcomer(number="2003", **changes):
    values = {
        "key": number,
        "first_name": "Ingrid",
        "last_name": "Berg",
        "work_email": Email("ingrid@fjordbygg.no"),
        "mobile": PhoneNumber("47", "91234567"),
    }
    values.update(changes)
    return Employee(**values)


async def test_create_user_with_the_configured_user_name_and_licences(adapter, sandbox):
    assert await adapter.free_licenses() == 1
    created = await adapter.create_employee(newcomer())
    stored = next(u for u in sandbox.state["Users"] if u["Id"] == created)
    assert {
        k: stored[k]
        for k in ("UserName", "Name", "Email", "EmployeeNo", "PhonePrefix", "PhoneNumber", "Role")
    } == {
        "UserName": "91234567",
        "Name": "Ingrid Berg",
        "Email": "ingrid@fjordbygg.no",
        "EmployeeNo": "2003",
        "PhonePrefix": "47",
        "PhoneNumber": "91234567",
        "Role": "User",
    }
    assert await adapter.free_licenses() == 0
    by_email = SmartDokAdapter(adapter.client, username_strategy="email")
    assert by_email.username_for(newcomer()) == "ingrid@fjordbygg.no"
    assert adapter.username_for(newcomer(mobile=None)) == "ingrid@fjordbygg.no"


async def test_licence_shortage_is_a_save_error(adapter, sandbox):
    sandbox.state["LicenseInfo"]["AvailableLicenses"] = 0
    with pytest.raises(Rejected, match="License: There are no available licenses"):
        await adapter.create_employee(newcomer())


async def test_update_user_keeps_what_the_flow_does_not_own(adapter, sandbox):
    kari = newcomer("2001", first_name="Kari", last_name="Nordmann-Berg")
    await adapter.update_employee("11111111-1111-4111-8111-111111111111", kari, {"last_name"})
    stored = sandbox.state["Users"][0]
    assert (stored["Name"], stored["Email"], stored["UserName"], stored["EmployeeNo"]) == (
        "Kari Nordmann-Berg",
        "e2001@fjordbygg.no",
        "92001",
        "2001",
    )


async def test_attested_hours_in_windows_of_at_most_93_days(adapter, sandbox):
    entries = {e.key: e for e in await adapter.read_time_entries(Query(period=YEAR))}
    assert sorted(entries) == ["1", "2", "4", "5"]  # 3 is not attested by an admin
    assert sandbox.requests["GET /WorkHours"] == 4  # 365 days: four windows
    summer = entries["2"]
    assert (summer.employee_key, summer.project_key, summer.day, summer.hours) == (
        "2001",
        "1001",
        date(2026, 7, 6),
        Decimal("7.5"),
    )
    # local Norwegian time, summer (UTC+2): 06:30 -> 04:30 UTC
    assert summer.start == datetime(2026, 7, 6, 4, 30, tzinfo=UTC)
    assert entries["1"].start == datetime(2026, 3, 2, 6, 0, tzinfo=UTC)  # winter: UTC+1
    assert (summer.work_type_code, summer.salary_type_code, summer.approved) == ("10", "100", True)
    assert entries["5"].hours == Decimal("8.0")  # no NetHours: OrdinaryHours
    assert entries["4"].exported is True
    everything = SmartDokAdapter(adapter.client, only_attested=False)
    assert len(await everything.read_time_entries(Query(period=YEAR))) == 5


def test_a_200_day_period_is_three_windows():
    assert windows(DateRange(date(2026, 1, 1), date(2026, 7, 19))) == [
        ("2026-01-01", "2026-04-03"),
        ("2026-04-04", "2026-07-05"),
        ("2026-07-06", "2026-07-19"),
    ]


async def test_the_sandbox_refuses_a_window_over_93_days(adapter):
    with pytest.raises(Rejected, match="at most 93 days apart"):
        await adapter.client.request(
            "GET", "/WorkHours", params=[("fromDate", "2026-01-01"), ("toDate", "2026-06-01")]
        )


async def test_marking_transferred_hours_exported_external(adapter, sandbox):
    await adapter.mark_exported(["1", "2"], "fjordsync-run-7")
    marked = {
        h["WorkHourID"]: (h["ExportedExternal"], h["ExportedExternalId"])
        for h in sandbox.state["WorkHours"]
    }
    assert marked[1] == marked[2] == (True, "fjordsync-run-7")
    assert marked[3] == (False, None)
    unmarked = next(h for h in sandbox.state["WorkHours"] if h["WorkHourID"] == 1)
    assert unmarked["Comment"] == "Forskaling"  # nothing else changed
    await adapter.client.request(
        "POST",
        "/WorkHours/UnmarkExportedExternal",
        params=[("exportedExternalId", "fjordsync-run-7")],
    )
    assert [h["WorkHourID"] for h in sandbox.state["WorkHours"] if h["ExportedExternal"]] == [4]


async def test_an_expired_session_gets_a_new_one(adapter, sandbox):
    await adapter.read_projects(Query())
    httpx.delete(f"{sandbox.url}/_sandbox/sessions")
    assert len(await adapter.read_projects(Query())) == 2
    assert sandbox.requests["POST /Authorize/ApiToken"] == 2


async def test_a_missing_claim_is_a_permission_problem_naming_the_endpoint(sandbox):
    limited = SmartDokAdapter(SmartDokClient(sandbox.url, LIMITED_API_TOKEN, retry=FAST_RETRIES))
    assert len(await limited.read_projects(Query())) == 2
    with pytest.raises(AuthFailed) as caught:
        await limited.read_time_entries(
            Query(period=DateRange(date(2026, 1, 1), date(2026, 1, 31)))
        )
    assert caught.value.operation == "GET /WorkHours"
    assert 'lacks the permission ("Missing claims")' in str(caught.value)


async def test_a_refused_api_token(sandbox):
    wrong = SmartDokAdapter(SmartDokClient(sandbox.url, "wrong", retry=FAST_RETRIES))
    with pytest.raises(AuthFailed, match="the API token was refused"):
        await wrong.read_projects(Query())


async def test_paging_collects_every_user(sandbox):
    sandbox.state["Users"] = [
        dict(sandbox.state["Users"][0], Id=f"id-{n}", EmployeeNo=str(n)) for n in range(2500)
    ]
    adapter = SmartDokAdapter(SmartDokClient(sandbox.url, "smartdok-sandbox-token"))
    employees = await adapter.read_employees(Query())
    assert len(employees) == 2500 and len({e.key for e in employees}) == 2500
    assert sandbox.requests["GET /Users"] == 3  # 1000 a page


async def test_reads_are_domain_types(adapter):
    for record in await adapter.read_time_entries(Query(period=YEAR)):
        assert not isinstance(record, InvalidRecord)
