"""Trust under dirt and faults (issue 9): whatever SmartDok sends maps to a record or to an
InvalidRecord naming the record and the field; answers that cannot be read are retried, then a
clear failure; a create whose answer is lost never makes a second user or project."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import httpx
import pytest
from smartdok_fixtures import FAST_RETRIES, hour, project, small_company, user

from fjordsync.domain.model import Employee, InvalidRecord, Project, TimeEntry
from fjordsync.domain.values import DateRange, Email, PhoneNumber
from fjordsync.errors import Rejected, Unavailable
from fjordsync.ports import Query, Scope
from fjordsync.testing.sandbox import FaultSpec
from fjordsync_smartdok import mapping
from fjordsync_smartdok.adapter import SmartDokAdapter
from fjordsync_smartdok.client import RetryPolicy, SmartDokClient
from fjordsync_smartdok.sandbox import DEFAULT_API_TOKEN, SmartDokSandbox

YEAR = DateRange(date(2026, 1, 1), date(2026, 12, 31))


def invalid(entity, key, message, owner=None):
    return InvalidRecord(entity, key, message, owner)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"NetHours": "abc"}, "NetHours: must be a number"),
        ({"NetHours": {}}, "NetHours: must be a number"),
        ({"NetHours": None, "OrdinaryHours": "7,5"}, "OrdinaryHours: must be a number"),
        (
            {"NetHours": None, "OrdinaryHours": None},
            "NetHours: is missing, and so is OrdinaryHours",
        ),
        ({"NetHours": True}, "NetHours: must be a number"),
        ({"NetHours": float("nan")}, "NetHours: must be a finite number"),
        ({"OrdinaryHoursFrom": "07:00"}, "OrdinaryHoursFrom: must be a number"),
        (
            {"OrdinaryHoursFrom": 30.0, "OrdinaryHoursTo": 38.0},
            "OrdinaryHoursFrom: 30.0 is not a time of day (0 to 24 hours)",
        ),
        ({"OrdinaryHoursTo": -1.0}, "OrdinaryHoursTo: -1.0 is not a time of day (0 to 24 hours)"),
        ({"Date": "2026-11-31T00:00:00Z"}, "Date: is not a date-time"),
        ({"Date": 20261130}, "Date: must be a date-time"),
        ({"Date": None}, "Date: is missing"),
        ({"LastUpdated": "yesterday"}, "LastUpdated: is not a date-time"),
        ({"AdminAttested": "yes"}, "AdminAttested: must be true or false"),
        ({"WageCode": 100}, "WageCode: must be text"),
        ({"ProjectNumber": ["1001"]}, "ProjectNumber: must be text"),
        ({"Comment": {"text": "x"}}, "Comment: must be text"),
    ],
)
def test_an_hour_that_cannot_be_read_is_invalid_naming_the_field(fields, message):
    assert mapping.work_hour(hour(7, "2001", "2026-03-02", **fields)) == invalid(
        "hour", "7", message, "2001"
    )


def test_an_hour_without_a_usable_work_hour_id_is_invalid_under_a_key_saying_so():
    missing = hour(7, "2001", "2026-03-02")
    del missing["WorkHourID"]
    assert mapping.work_hour(missing) == invalid(
        "hour", "(no WorkHourID: employee 2001, 2026-03-02)", "WorkHourID: is missing", "2001"
    )
    for blank in (None, "   "):
        assert mapping.work_hour(hour(blank, "2001", "2026-03-02")) == invalid(
            "hour", "(no WorkHourID: employee 2001, 2026-03-02)", "WorkHourID: is missing", "2001"
        )
    for wrong in ("7", "abc", 7000999.5, True):
        assert mapping.work_hour(hour(wrong, "2001", "2026-03-02")) == invalid(
            "hour",
            "(no WorkHourID: employee 2001, 2026-03-02)",
            "WorkHourID: is not a whole number",
            "2001",
        )
    neither = hour(None, None, "2026-11-31")
    assert mapping.work_hour(neither) == invalid(
        "hour", "(no WorkHourID: no EmployeeNo, no Date)", "WorkHourID: is missing"
    )
    assert mapping.work_hour(hour(7, None, "2026-03-02")) == invalid(
        "hour", "7", "EmployeeNo: is required"
    )
    assert mapping.work_hour("not an hour") == invalid(
        "hour", "(not an object)", "the record is not a JSON object"
    )


def test_hours_without_a_work_hour_id_keep_a_key_each_and_only_alike_ones_are_numbered():
    read = mapping.work_hours(
        [
            hour(None, "2001", "2026-11-03"),
            hour("abc", "2001", "2026-11-03"),
            hour(7000999.5, "2001", "2026-11-03"),
            hour(None, "2002", "2026-11-03"),
            hour(None, "2001", "2026-11-04"),
            hour(8, "2001", "2026-11-03"),
        ]
    )
    assert [r.key for r in read] == [
        "(no WorkHourID: employee 2001, 2026-11-03, #1)",
        "(no WorkHourID: employee 2001, 2026-11-03, #2)",
        "(no WorkHourID: employee 2001, 2026-11-03, #3)",
        "(no WorkHourID: employee 2002, 2026-11-03)",
        "(no WorkHourID: employee 2001, 2026-11-04)",
        "8",
    ]
    assert [r.message for r in read[:3]] == [
        "WorkHourID: is missing",
        "WorkHourID: is not a whole number",
        "WorkHourID: is not a whole number",
    ]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"NetHours": -2.0}, "NetHours: must be more than 0 and at most 24 for one day"),
        ({"NetHours": 0}, "NetHours: must be more than 0 and at most 24 for one day"),
        ({"NetHours": 256.0}, "NetHours: must be more than 0 and at most 24 for one day"),
        ({"NetHours": 1e308}, "NetHours: must be more than 0 and at most 24 for one day"),
        (
            {"NetHours": None, "OrdinaryHours": 25.0},
            "OrdinaryHours: must be more than 0 and at most 24 for one day",
        ),
        (
            {"OrdinaryHoursFrom": 15.0, "OrdinaryHoursTo": 7.0},
            "OrdinaryHoursTo: is before OrdinaryHoursFrom",
        ),
        ({"ProjectNumber": None}, "ProjectNumber: is missing"),
        ({"ProjectNumber": "  "}, "ProjectNumber: is missing"),
    ],
)
def test_a_rule_of_the_domain_is_told_by_the_smartdok_field(fields, message):
    raw = hour(7, "2001", "2026-03-02", **fields)
    if fields.get("ProjectNumber", "") is None:
        del raw["ProjectNumber"]
    assert mapping.work_hour(raw) == invalid("hour", "7", message, "2001")


@pytest.mark.parametrize(
    ("fields", "key"),
    [
        ({"ProjectNumber": "1001  ", "Id": None}, "1001"),
        ({"ProjectNumber": 1001}, "1001"),
        ({"ProjectNumber": None}, "id 501"),
    ],
)
def test_a_project_that_cannot_be_read_is_keyed_by_its_trimmed_project_number(fields, key):
    read = mapping.project(project(501, "1001", "Skolebygg", **fields))
    assert isinstance(read, InvalidRecord)
    assert read.key == key


@pytest.mark.parametrize(
    ("fields", "key"),
    [
        ({"EmployeeNo": " 2001 ", "Id": None}, "2001"),
        ({"EmployeeNo": 2001}, "2001"),
        ({"EmployeeNo": "", "Name": 7}, "id 11111111-1111-4111-8111-111111111111"),
    ],
)
def test_a_user_that_cannot_be_read_is_keyed_by_its_trimmed_employee_number(fields, key):
    read = mapping.user(user("2001", "11111111-1111-4111-8111-111111111111", **fields))
    assert isinstance(read, InvalidRecord)
    assert read.key == key


def test_clock_times_at_the_ends_of_the_day():
    night = mapping.work_hour(
        hour(7, "2001", "2026-03-02", OrdinaryHoursFrom=0.0, OrdinaryHoursTo=24.0, NetHours=24)
    )
    assert isinstance(night, TimeEntry)
    # local midnight to the next local midnight, winter time (UTC+1)
    assert night.start == datetime(2026, 3, 1, 23, 0, tzinfo=UTC)
    assert night.stop == datetime(2026, 3, 2, 23, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("fields", "key", "message"),
    [
        ({"EmployeeNo": 2001}, "2001", "EmployeeNo: must be text"),
        ({"Name": {"first": "Kari"}}, "2001", "Name: must be text"),
        ({"Email": ["e@x.no"]}, "2001", "Email: must be text"),
        ({"PhoneNumber": 92001}, "2001", "PhoneNumber: must be text"),
        ({"IsEnded": "false"}, "2001", "IsEnded: must be true or false"),
        ({"Id": None}, "2001", "Id: is missing: the user cannot be updated"),
    ],
)
def test_a_user_with_wrong_types_is_invalid(fields, key, message):
    raw = user("2001", "11111111-1111-4111-8111-111111111111", **fields)
    assert mapping.user(raw) == invalid("employee", key, message)


@pytest.mark.parametrize(
    ("fields", "key", "message"),
    [
        ({"ProjectNumber": 1001}, "1001", "ProjectNumber: must be text"),
        ({"ProjectNumber": "  "}, "id 501", "ProjectNumber: is required"),
        ({"Id": "501"}, "1001", "Id: must be a whole number"),
        ({"IsActive": "true"}, "1001", "IsActive: must be true or false"),
        ({"StartDate": "2026-02-30T00:00:00Z"}, "1001", "StartDate: is not a date-time"),
        ({"ProjectName": 42}, "1001", "ProjectName: must be text"),
    ],
)
def test_a_project_with_wrong_types_is_invalid(fields, key, message):
    assert mapping.project(project(501, "1001", "Skolebygg", **fields)) == invalid(
        "project", key, message
    )


def dirty_company():
    state = small_company()
    no_id = hour(0, "2001", "2026-03-04")
    del no_id["WorkHourID"]
    state["WorkHours"] += [
        hour(10, "2001", "2026-03-03", NetHours="abc"),
        hour(11, "2001", "2026-11-31"),  # SmartDok sent a day that is not in the calendar
        hour(12, "2002", "2026-03-05", LastUpdated="yesterday"),
        hour(13, "2001", "2026-03-06", OrdinaryHoursFrom=30.0, OrdinaryHoursTo=38.0),
        no_id,
        hour(1, "2001", "2026-03-09", Comment="the same WorkHourID again"),
    ]
    return state


async def test_dirty_hours_over_http_are_invalid_and_the_rest_goes_on():
    with SmartDokSandbox(dirty_company()) as server:
        adapter = SmartDokAdapter(SmartDokClient(server.url, DEFAULT_API_TOKEN, retry=FAST_RETRIES))
        read = await adapter.read_time_entries(Query(period=YEAR))
        await adapter.aclose()
    assert sorted((r for r in read if isinstance(r, InvalidRecord)), key=str) == sorted(
        [
            invalid("hour", "10", "NetHours: must be a number", "2001"),
            invalid("hour", "11", "Date: is not a date-time", "2001"),
            invalid("hour", "12", "LastUpdated: is not a date-time", "2002"),
            invalid(
                "hour",
                "13",
                "OrdinaryHoursFrom: 30.0 is not a time of day (0 to 24 hours)",
                "2001",
            ),
            invalid(
                "hour",
                "(no WorkHourID: employee 2001, 2026-03-04)",
                "WorkHourID: is missing",
                "2001",
            ),
        ],
        key=str,
    )
    good = [r for r in read if isinstance(r, TimeEntry)]
    # both hours with WorkHourID 1 are handed over: the duplicate is the core's to report
    assert sorted(e.key for e in good) == ["1", "1", "2", "4", "5"]
    assert {e.comment for e in good if e.key == "1"} == {"Forskaling", "the same WorkHourID again"}


async def test_an_invalid_hour_of_an_employee_out_of_scope_stays_out(sandbox):
    sandbox.state["WorkHours"] = dirty_company()["WorkHours"]
    adapter = SmartDokAdapter(SmartDokClient(sandbox.url, DEFAULT_API_TOKEN, retry=FAST_RETRIES))
    read = await adapter.read_time_entries(
        Query(period=YEAR, scope=Scope(employees=frozenset({"2002"})))
    )
    assert sorted(r.key for r in read) == ["12", "4"]


async def test_mark_exported_refuses_a_key_that_is_no_work_hour_id(adapter, sandbox):
    with pytest.raises(Rejected, match=r"1 key\(s\) are no WorkHourID"):
        await adapter.mark_exported(["1", "(no WorkHourID)"], "run-1")
    assert sandbox.writes["POST /WorkHours/SetExportedExternal"] == 0


def test_the_sandbox_holds_dirty_stored_values_but_not_a_wrong_shape(sandbox):
    dirty = dirty_company()
    dirty["Projects"].append(project("x", 9, "Uten tall-id"))
    assert httpx.put(f"{sandbox.url}/_sandbox/state", json=dirty).status_code == 200
    assert len(sandbox.state["WorkHours"]) == len(dirty["WorkHours"])
    refused = httpx.put(f"{sandbox.url}/_sandbox/state", json={"Users": {"Id": 1}})
    assert (refused.status_code, refused.json()) == (
        400,
        {"error": "invalid state: Users must be a list of objects"},
    )


async def everything(adapter):
    return await asyncio.gather(
        adapter.read_time_entries(Query(period=YEAR)),
        adapter.read_employees(Query()),
        adapter.read_projects(Query()),
        adapter.read_codes("wages"),
    )


def read_everything(state, faults, retry=FAST_RETRIES, read=everything):
    with SmartDokSandbox(state, FaultSpec.parse(faults)) as server:
        adapter = SmartDokAdapter(SmartDokClient(server.url, DEFAULT_API_TOKEN, retry=retry))

        async def run():
            try:
                return await read(adapter)
            finally:
                await adapter.aclose()

        return asyncio.run(run()), adapter.client.requests


def test_html_pages_and_cut_bodies_are_retried_to_the_same_records():
    clean, clean_requests = read_everything(small_company(), "")
    faulty, faulty_requests = read_everything(small_company(), "html=0.2,truncated=0.2,seed=5")
    assert faulty == clean
    assert faulty_requests > clean_requests


def test_an_html_page_every_time_is_a_clear_failure_naming_the_operation():
    policy = RetryPolicy(attempts=3, first_wait=0.01, max_backoff=0.02)
    with pytest.raises(Unavailable) as caught:
        read_everything(
            small_company(), "html=1", retry=policy, read=lambda a: a.read_projects(Query())
        )
    assert caught.value.operation == "GET /Projects"
    assert caught.value.message == (
        "SmartDok sent an HTML page instead of JSON, still after 3 attempt(s)"
    )


async def test_an_answer_of_the_wrong_shape_is_a_clear_failure(adapter, sandbox):
    sandbox.state["Wages"] = {"Items": []}  # an object where the API sends a bare list
    with pytest.raises(Unavailable) as caught:
        await adapter.read_codes("wages")
    assert (caught.value.operation, caught.value.message) == (
        "GET /Wages",
        "SmartDok's answer does not fit the API: an object where a list belongs",
    )


def newcomer():
    return Employee(
        "2003",
        "Ingrid",
        "Berg",
        work_email=Email("ingrid@fjordbygg.no"),
        mobile=PhoneNumber("47", "91234567"),
    )


class FaultsUntilACreate(SmartDokSandbox):
    """Faults that end once a create has been handled, so that a fault hitting every answer
    (truncated=1) meets the create's answer and not the look-up after it."""

    def handle(self, request):
        response = super().handle(request)
        if request.method == "POST" and request.path in ("/Users", "/Projects"):
            self.set_faults(FaultSpec())
        return response


UNCLEAR = [
    ("lost=1", SmartDokSandbox),  # every create's answer lost after the commit
    ("truncated=1", FaultsUntilACreate),  # the create's answer cut in half after the commit
    ("5xx=0.5,seed=1", SmartDokSandbox),  # 5xx before handling: nothing made, sent again
]


async def create_under(fault, sandbox_class, create):
    state = small_company()
    state["LicenseInfo"]["AvailableLicenses"] = 5
    with sandbox_class(state) as server:
        adapter = SmartDokAdapter(SmartDokClient(server.url, DEFAULT_API_TOKEN, retry=FAST_RETRIES))
        await adapter.read_projects(Query())  # a session first: the fault is for the create
        server.set_faults(FaultSpec.parse(fault))
        try:
            return await create(adapter), server.state, dict(server.writes)
        finally:
            await adapter.aclose()


@pytest.mark.parametrize(("fault", "sandbox_class"), UNCLEAR)
async def test_a_user_create_with_an_unclear_outcome_makes_exactly_one_user(fault, sandbox_class):
    created, state, writes = await create_under(
        fault, sandbox_class, lambda adapter: adapter.create_employee(newcomer())
    )
    assert [u["Id"] for u in state["Users"] if u["EmployeeNo"] == "2003"] == [created]
    assert state["LicenseInfo"]["AvailableLicenses"] == 4
    assert writes == {"POST /Users": 1}


@pytest.mark.parametrize(("fault", "sandbox_class"), UNCLEAR)
async def test_a_project_create_with_an_unclear_outcome_makes_exactly_one_project(
    fault, sandbox_class
):
    created, state, writes = await create_under(
        fault,
        sandbox_class,
        lambda adapter: adapter.create_project(Project("1003 ", "Ny hall", True, date(2026, 5, 1))),
    )
    assert [str(p["Id"]) for p in state["Projects"] if p["ProjectNumber"] == "1003"] == [created]
    assert writes == {"POST /Projects": 1}


async def test_a_lost_create_found_by_user_name_when_the_number_differs(adapter, sandbox):
    # someone gave the user made by the lost create another employee number meanwhile
    sandbox.state["Users"].append(user("9999", "u-made", UserName="91234567"))
    assert await adapter.find_employee(newcomer()) == "u-made"


async def test_two_users_with_the_number_are_not_a_guess(adapter, sandbox):
    sandbox.state["Users"] += [user("2003", "u-a"), user("2003", "u-b")]
    with pytest.raises(Rejected) as caught:
        await adapter.find_employee(newcomer())
    assert caught.value.message == (
        "2 SmartDok records carry this employee number: merge them by hand, then run again"
    )


async def test_a_create_that_never_succeeds_is_a_clear_failure_and_makes_nothing(sandbox):
    policy = RetryPolicy(attempts=3, first_wait=0.01, max_backoff=0.02, deadline=5)
    adapter = SmartDokAdapter(SmartDokClient(sandbox.url, DEFAULT_API_TOKEN, retry=policy))
    await adapter.read_projects(Query())
    sandbox.set_faults(FaultSpec.parse("drop=1"))
    with pytest.raises(Unavailable) as caught:
        await adapter.create_project(Project("1003", "Ny hall"))
    sandbox.set_faults(FaultSpec())
    assert caught.value.operation == "GET /Projects"  # the look-up could not be made either
    assert not [p for p in sandbox.state["Projects"] if p["ProjectNumber"] == "1003"]
