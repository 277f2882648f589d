"""The 24SevenOffice ERP connector (SOAP) against its sandbox over HTTP."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from tfso_fixtures import soap_settings

from fjordsync.domain.model import Employee, InvalidRecord, TimeEntry
from fjordsync.errors import AuthFailed, RateLimited, Rejected
from fjordsync.ports import Query, Scope
from fjordsync_twentyfourseven.adapter import TwentyFourSevenAdapter
from fjordsync_twentyfourseven.client import SoapClient
from fjordsync_twentyfourseven.sandbox import DEFAULT_IDENTITIES


def entry(key="sd-1", hours="7.5", **fields):
    values = {
        "key": key,
        "employee_key": "2001",
        "project_key": "1001",
        "day": date(2026, 11, 2),
        "hours": Decimal(hours),
        "work_type_code": "10",
        "salary_type_code": "100",
        "start": datetime(2026, 11, 2, 6, tzinfo=UTC),
        "stop": datetime(2026, 11, 2, 14, tzinfo=UTC),
        "comment": "Forskaling",
    }
    values.update(fields)
    return TimeEntry(**values)


async def test_login_switches_to_the_configured_identity_and_reads_projects(erp, sandbox):
    projects = {p.key: p for p in await erp.read_projects(Query())}
    assert sorted(projects) == ["1001", "1002", "1003"]
    school = projects["1001"]
    assert (school.name, school.active, school.customer_name) == (
        "Skolebygg Nord",
        True,
        "Fjordvik kommune",
    )
    assert (school.start, school.end) == (date(2026, 1, 5), date(2026, 12, 18))
    # sentinel dates and empty names come back as no value
    assert (projects["1002"].start, projects["1002"].end, projects["1002"].customer_name) == (
        None,
        None,
        None,
    )
    assert projects["1003"].active is False  # from GetDeactivatedProjects
    assert sandbox.requests["SOAP Authenticate.SetIdentityById"] == 1
    assert sandbox.requests["SOAP Authenticate.Login"] == 1


async def test_changed_after_reads_incrementally(erp):
    since = Query(changed_since=datetime(2026, 11, 15, tzinfo=UTC))
    assert sorted(p.key for p in await erp.read_projects(since)) == ["1001", "1003"]
    assert [e.key for e in await erp.read_employees(since)] == ["2001"]


async def test_employees_are_persons_with_an_employee_id(erp):
    employees = {e.key: e for e in await erp.read_employees(Query())}
    assert sorted(employees) == ["2001", "2002"]
    kari = employees["2001"]
    assert (kari.full_name, str(kari.work_email), kari.mobile.prefix, kari.mobile.national) == (
        "Kari Nordmann",
        "kari@fjordbygg.no",
        "47",
        "91234567",
    )
    assert employees["2002"].work_email is None
    scoped = await erp.read_employees(Query(scope=Scope(employees=frozenset({"2002"}))))
    assert [e.key for e in scoped] == ["2002"]


async def test_code_lists(erp):
    work_types = await erp.read_codes("work_types")
    assert [(c.code, c.active) for c in work_types] == [("10", True), ("90", False)]
    assert [c.code for c in await erp.read_codes("salary_types")] == ["100"]
    with pytest.raises(Rejected, match="no code list 'wages'"):
        await erp.read_codes("wages")


async def test_a_dead_session_gets_one_new_login(erp, sandbox):
    await erp.read_projects(Query())
    httpx.delete(f"{sandbox.url}/_sandbox/sessions")
    assert [e.key for e in await erp.read_employees(Query())] == ["2001", "2002"]
    assert sandbox.requests["SOAP Authenticate.Login"] == 2


async def test_bad_credentials_and_blocked_identity_are_auth_failures(sandbox):
    wrong = TwentyFourSevenAdapter(SoapClient(**soap_settings(sandbox.url, password="nope")))
    with pytest.raises(AuthFailed, match="Login returned no session"):
        await wrong.read_projects(Query())
    blocked = TwentyFourSevenAdapter(
        SoapClient(**soap_settings(sandbox.url, identity_id=DEFAULT_IDENTITIES[2]["Id"]))
    )
    with pytest.raises(AuthFailed, match="Provided IdentityId is blocked"):
        await blocked.read_projects(Query())
    unset = TwentyFourSevenAdapter(SoapClient(**soap_settings(sandbox.url, identity_id=None)))
    with pytest.raises(AuthFailed, match="set the connection's identity_id"):
        await unset.read_projects(Query())


async def test_save_hour_creates_updates_and_is_found_by_its_marker(erp, sandbox):
    hour_id = await erp.save_time_entry(entry(), "fjordsync:sd-1")
    [saved] = sandbox.state["Hour"]
    assert (
        str(saved["Id"]),
        saved["ContactId"],
        saved["ProjectId"],
        saved["TypeOfWorkId"],
        saved["SalaryTypeId"],
        saved["TotalHours"],
        saved["InternalNote"],
    ) == (hour_id, 2001, 1001, 10, 100, "7.5", "fjordsync:sd-1")
    assert (saved["StartTime"], saved["StopTime"]) == ("2026-11-02T06:00:00", "2026-11-02T14:00:00")
    assert await erp.find_time_entry(entry(), "fjordsync:sd-1") == hour_id
    assert await erp.find_time_entry(entry(), "fjordsync:other") is None
    again = await erp.save_time_entry(entry(hours="8", target_key=hour_id), "fjordsync:sd-1")
    assert again == hour_id and len(sandbox.state["Hour"]) == 1
    assert sandbox.state["Hour"][0]["TotalHours"] == "8"
    read = await erp.read_time_entries(Query())
    assert [(t.key, t.hours, t.locked, t.approved) for t in read] == [
        (hour_id, Decimal(8), False, False)
    ]


async def test_a_locked_hour_cannot_be_changed(erp, sandbox):
    hour_id = await erp.save_time_entry(entry(), "fjordsync:sd-1")
    sandbox.state["Hour"][0]["Locked"] = "True"
    with pytest.raises(Rejected, match=f"Hour {hour_id} is locked"):
        await erp.save_time_entry(entry(target_key=hour_id), "fjordsync:sd-1")


async def test_a_reference_the_erp_does_not_have_is_rejected_naming_it(erp):
    with pytest.raises(Rejected) as caught:
        await erp.save_time_entry(entry(work_type_code="77"), "fjordsync:sd-9")
    assert caught.value.message == "System.ArgumentException: TypeOfWorkId 77 does not exist"
    assert caught.value.operation == "TimeService.SaveHour"


async def test_hours_written_exactly_once_under_lost_responses(erp, sandbox):
    httpx.post(f"{sandbox.url}/_sandbox/faults", content="lost=0.3,5xx=0.05,seed=5")
    entries = [entry(key=f"sd-{n}", day=date(2026, 11, 2 + n % 20)) for n in range(60)]
    ids = await asyncio.gather(*(erp.save_time_entry(e, f"fjordsync:{e.key}") for e in entries))
    assert len(set(ids)) == 60
    notes = sorted(h["InternalNote"] for h in sandbox.state["Hour"])
    assert notes == sorted(f"fjordsync:sd-{n}" for n in range(60))
    stats = httpx.get(f"{sandbox.url}/_sandbox/stats").json()
    assert stats["writes"]["SOAP TimeService.SaveHour"] == 60


async def test_the_rate_budget_stops_cleanly_and_says_when_to_go_on(sandbox):
    erp = TwentyFourSevenAdapter(SoapClient(**soap_settings(sandbox.url, requests_per_hour=8)))
    done = []
    with pytest.raises(RateLimited) as caught:
        for n in range(10):
            done.append(await erp.save_time_entry(entry(key=f"sd-{n}"), f"fjordsync:sd-{n}"))
    assert caught.value.resume_at is not None and caught.value.resume_at > datetime.now(UTC)
    assert "budget of 8 requests an hour is spent" in str(caught.value)
    # Login, GetIdentities, SetIdentityById, then one request a hour: 5 saved, none lost
    assert len(done) == len(sandbox.state["Hour"]) == 5
    assert sum(sandbox.requests.values()) == 8
    # The next hour the rest goes on where the work stopped.
    budget = erp.soap.budget
    budget._clock = lambda: datetime.now(UTC) + timedelta(hours=1)
    sandbox.usage.clear()
    for n in range(len(done), 10):
        done.append(await erp.save_time_entry(entry(key=f"sd-{n}"), f"fjordsync:sd-{n}"))
    assert sorted(h["InternalNote"] for h in sandbox.state["Hour"]) == sorted(
        f"fjordsync:sd-{n}" for n in range(10)
    )


async def test_the_servers_count_is_believed_over_our_own(sandbox):
    sandbox.requests_per_hour = 3  # another integration spent most of this login's hour
    erp = TwentyFourSevenAdapter(SoapClient(**soap_settings(sandbox.url)))
    with pytest.raises(RateLimited, match="budget of 7200 requests an hour is spent"):
        await erp.read_projects(Query())
    assert sum(sandbox.requests.values()) == 3  # APILimitRemaining said 0: nothing more sent


async def test_the_quarantine_fault_is_rate_limited_with_its_end(sandbox):
    sandbox.requests_per_hour = 0
    erp = TwentyFourSevenAdapter(SoapClient(**soap_settings(sandbox.url)))
    with pytest.raises(RateLimited, match=r"Limit exceeded by 1\. Request is blocked") as caught:
        await erp.read_projects(Query())
    assert caught.value.resume_at is not None
    assert caught.value.resume_at.minute == 0 and caught.value.resume_at > datetime.now(UTC)


async def test_reads_are_domain_types(erp):
    for record in [*await erp.read_projects(Query()), *await erp.read_employees(Query())]:
        assert not isinstance(record, InvalidRecord)
    assert all(isinstance(e, Employee) for e in await erp.read_employees(Query()))


async def test_an_idle_session_expires_and_is_replaced(sandbox):
    sandbox.session_idle = 0.2
    erp = TwentyFourSevenAdapter(SoapClient(**soap_settings(sandbox.url)))
    await erp.read_projects(Query())
    await asyncio.sleep(0.3)
    assert len(await erp.read_projects(Query())) == 3
    assert sandbox.requests["SOAP Authenticate.Login"] == 2
