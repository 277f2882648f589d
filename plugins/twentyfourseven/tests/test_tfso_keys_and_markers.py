"""Keys a clerk recognises for records without their own, vendor field names in every message,
markers read back from ERP hours, and hours without clock times sent at Oslo's midnight of their
day (issue 9)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import httpx
import pytest

from fjordsync.domain.model import InvalidRecord, TimeEntry
from fjordsync.domain.values import DateRange
from fjordsync.ports import Query
from fjordsync_twentyfourseven import mapping

MARKER = "fjordsync:acme:7001"


def no_clock_entry(day=date(2026, 11, 2), **fields):
    values = {
        "key": "7001",
        "employee_key": "2001",
        "project_key": "1001",
        "day": day,
        "hours": Decimal("7.5"),
        "work_type_code": "10",
        "salary_type_code": "100",
    }
    values.update(fields)
    return TimeEntry(**values)


def test_a_project_ending_before_it_starts_names_date_stop_and_date_start():
    raw = {"Id": 1001, "Name": "Skolebygg", "DateStart": date(2026, 6, 1)}
    raw["DateStop"] = date(2026, 1, 1)
    assert mapping.project(raw, deactivated=False) == InvalidRecord(
        "project", "1001", "DateStop is before DateStart; correct it in 24SevenOffice"
    )


def test_an_email_address_with_a_control_character_names_where_it_is():
    raw = {
        "Id": 2001,
        "EmployeeId": 1,
        "FirstName": "Kari",
        "LastName": "Nordmann",
        "EmailAddresses": {"EmailAddress": [{"Type": "Home", "Value": "kari\ufffd@x.no"}]},
    }
    record = mapping.person(raw)
    assert record == InvalidRecord(
        "employee",
        "2001",
        "EmailAddresses.EmailAddress holds a character that is not text (a control "
        "character); correct it in 24SevenOffice",
    )


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        (
            {"StartTime": datetime(2026, 11, 1, 23, 0), "ContactId": 2001},
            "contact 2001, 2026-11-02",
        ),
        ({"ContactId": "Kari"}, "contact ?, no StartTime"),
    ],
)
def test_an_hour_without_an_id_is_keyed_by_its_contact_and_oslo_day(raw, key):
    record = mapping.time_entry({"TotalHours": Decimal(7), **raw})
    assert record == InvalidRecord("hour", f"(no Id: {key})", "Id is missing")


def test_alike_records_without_a_key_are_numbered_and_others_left_as_they_are():
    records = [
        InvalidRecord("hour", "(no Id: contact 2001, 2026-11-02)", "Id is missing"),
        InvalidRecord("hour", "(no Id: contact 2001, 2026-11-02)", "Id is missing"),
        InvalidRecord("hour", "(no Id: contact 2002, 2026-11-02)", "Id is missing"),
        InvalidRecord("employee", "(no empId)", "empId is missing"),
        InvalidRecord("employee", "(no empId)", "empId is missing"),
    ]
    assert [r.key for r in mapping.numbered(records)] == [
        "(no Id: contact 2001, 2026-11-02, #1)",
        "(no Id: contact 2001, 2026-11-02, #2)",
        "(no Id: contact 2002, 2026-11-02)",
        "(no empId: #1)",
        "(no empId: #2)",
    ]


@pytest.mark.parametrize(
    ("note", "marker"),
    [
        (MARKER, MARKER),
        (f" {MARKER} ", MARKER),
        ("ring Kari før fakturering", None),
        ("fjordsync:", None),
        ("fjordsync:acme:", None),
        (None, None),
    ],
)
def test_an_erp_hour_carries_the_marker_its_internal_note_holds(note, marker):
    raw = {
        "Id": 5001,
        "ContactId": 2001,
        "ProjectId": 1001,
        "StartTime": datetime(2026, 11, 2, 6, 0),
        "TotalHours": Decimal("7.5"),
        "InternalNote": note,
    }
    entry = mapping.time_entry(raw)
    assert isinstance(entry, TimeEntry)
    assert entry.marker == marker


def test_target_hour_rules_of_the_domain_name_the_erp_fields():
    raw = {"Id": 5001, "ContactId": 2001, "StartTime": datetime(2026, 11, 2, 6, 0)}
    assert mapping.time_entry({**raw, "TotalHours": Decimal(30)}).message == (
        "TotalHours must be more than 0 and at most 24"
    )
    assert mapping.time_entry({**raw, "TotalHours": None}).message == "TotalHours is missing"
    stop = {"TotalHours": Decimal(1), "StopTime": datetime(2026, 11, 2, 5, 0)}
    assert mapping.time_entry({**raw, **stop}).message == "StopTime is before StartTime"


@pytest.mark.parametrize(
    ("day", "start"),
    [
        (date(2026, 11, 2), "2026-11-01T23:00:00Z"),  # winter time, UTC+1
        (date(2026, 6, 15), "2026-06-14T22:00:00Z"),  # summer time, UTC+2
    ],
)
def test_an_hour_without_clock_times_starts_at_oslo_midnight_of_its_day(day, start):
    body = mapping.hour(no_clock_entry(day), MARKER)
    assert (body["StartTime"], "StopTime" in body, body["TotalHours"]) == (
        start,
        False,
        Decimal("7.5"),
    )


def test_payroll_records_without_a_readable_key_are_keyed_by_the_match_key():
    assert mapping.payroll_employee({"empId": 1001, "firstname": "Kari"}) == InvalidRecord(
        "employee",
        "1001",
        "empId is not text (a number); correct it in 24SevenOffice Lønn",
        "1001",
    )
    employment = {"empId": 1001, "employment_id": "1001-1", "startdate": "2020-01-01"}
    assert mapping.payroll_employment(employment) == InvalidRecord(
        "employment",
        "(no employment_id: employee 1001, from 2020-01-01)",
        "empId is not text (a number); correct it in 24SevenOffice Lønn",
        "1001",
    )


async def test_an_hour_without_clock_times_is_saved_on_its_day_and_found_by_its_marker(
    erp, sandbox
):
    entry = no_clock_entry()
    await erp.read_codes("salary_types")  # logged in before answers get lost
    assert httpx.post(f"{sandbox.url}/_sandbox/faults", content="lost=1").status_code == 200
    saved_id = await erp.save_time_entry(entry, MARKER)
    assert httpx.post(f"{sandbox.url}/_sandbox/faults", content="").status_code == 200

    # the answer was lost and the marker found the hour: exactly one, at Oslo's midnight
    [saved] = sandbox.state["Hour"]
    assert (str(saved["Id"]), saved["StartTime"], saved.get("StopTime")) == (
        saved_id,
        "2026-11-01T23:00:00",  # the sandbox keeps UTC as .NET does, without the zone
        None,
    )
    assert sandbox.writes["SOAP TimeService.SaveHour"] == 1

    # a later run finds it by its day, the first search
    asked = sandbox.requests["SOAP TimeService.GetHours"]
    assert await erp.find_time_entry(entry, MARKER) == saved_id
    assert sandbox.requests["SOAP TimeService.GetHours"] == asked + 1

    # and the hours of the day read it back on that day, carrying its marker
    [read] = await erp.read_time_entries(Query(period=DateRange(entry.day, entry.day)))
    await erp.aclose()
    assert (read.key, read.day, read.start, read.stop, read.marker) == (
        saved_id,
        entry.day,
        datetime(2026, 11, 1, 23, 0, tzinfo=UTC),
        None,
        MARKER,
    )
