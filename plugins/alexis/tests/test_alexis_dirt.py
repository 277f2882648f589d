"""Trust under dirt and faults (issue 9): whatever AlexisHR sends maps to a record or to an
InvalidRecord naming the record and the field (never the value), records hanging off an
employee name it as their owner, duplicates are handed over, and answers that cannot be read
are retried, then a clear failure."""

from __future__ import annotations

import asyncio
from datetime import date

import httpx
import pytest
from alexis_fixtures import (
    FAST_RETRIES,
    compensation,
    employee,
    employment,
    leave,
    leave_type,
    small_company,
)

from fjordsync.domain.model import Absence, Compensation, Employee, InvalidRecord
from fjordsync.domain.values import DateRange
from fjordsync.errors import Unavailable
from fjordsync.ports import Query
from fjordsync.testing.sandbox import FaultSpec
from fjordsync_alexis import mapping
from fjordsync_alexis.adapter import AlexisAdapter
from fjordsync_alexis.client import AlexisClient, RetryPolicy
from fjordsync_alexis.sandbox import DEFAULT_TOKEN, AlexisSandbox


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"bankAccount": "86011117947"}, "bankAccount: must be an object"),
        ({"bankAccount": ["86011117947"]}, "bankAccount: must be an object"),
        ({"homeAddress": "Storgata 1, 0150 Oslo"}, "homeAddress: must be an object"),
        ({"homeAddress": {"street": 1}}, "street: must be text"),
        ({"ssn": 15108695088}, "ssn: must be text"),
        ({"active": "yes"}, "active: must be true or false"),
        ({"employeeNumber": 1001}, "employeeNumber: must be text"),
    ],
)
def test_an_employee_that_cannot_be_read_is_invalid_naming_the_field(fields, message):
    key = "id e1" if "employeeNumber" in fields else "1001"
    assert mapping.employee(employee("1001", "e1", **fields)) == InvalidRecord(
        "employee", key, message
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"amount": "84 000,50"}, "compensation.amount: must be a number"),
        ({"amount": "84000.50"}, "compensation.amount: must be a number"),
        ({"amount": None}, "compensation.amount: is required"),
        ({"amount": -1}, "compensation.amount: must not be negative"),
        ({"amount": float("nan")}, "compensation.amount: must be a finite number"),
        ({"amount": float("inf")}, "compensation.amount: must be a finite number"),
        (
            {"payoutPeriod": "FORTNIGHTLY"},
            "compensation.payoutPeriod: is not a known payout period",
        ),
        ({"payoutPeriod": {}}, "compensation.payoutPeriod: is not a known payout period"),
        (
            {"effectiveDate": "2026-02-30T00:00:00.000+00:00"},
            "compensation.effectiveDate: is not a date",
        ),
        ({"effectiveDate": 20260101}, "compensation.effectiveDate: is not a date"),
    ],
)
def test_a_compensation_that_cannot_be_read_is_invalid_owned_by_its_employee(fields, message):
    raw = compensation("e1", "c9", "2026-06-01") | fields
    assert mapping.compensation(raw, "1001") == InvalidRecord(
        "compensation", "1001/c9", message, "1001"
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"rate": "full"}, "employment.rate: must be a number"),
        ({"rate": 120}, "employment.rate: must be at least 0 and at most 100"),
        ({"rate": -5}, "employment.rate: must be at least 0 and at most 100"),
        ({"startDate": "soon"}, "employment.startDate: is not a date"),
        ({"endDate": "2026-13-01T00:00:00.000+00:00"}, "employment.endDate: is not a date"),
        ({"note": 7112101}, "note: must be text"),
    ],
)
def test_an_employment_that_cannot_be_read_is_invalid_owned_by_its_employee(fields, message):
    raw = employment("e1", "m9") | fields
    assert mapping.employment(raw, "1001", "Permanent") == InvalidRecord(
        "employment", "1001/m9", message, "1001"
    )


VACATION = leave_type("lt-vac", "Sommerferie", "VACATION")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"endDate": None}, "leave.endDate: the leave has no end date; payroll needs one"),
        ({"startDate": "2026-02-30T00:00:00.000+00:00"}, "leave.startDate: is not a date"),
        ({"endDate": "next week"}, "leave.endDate: is not a date"),
        ({"status": "MAYBE"}, "leave.status: is not a known leave status"),
    ],
)
def test_a_leave_that_cannot_be_read_is_invalid_owned_by_its_employee(fields, message):
    raw = leave("l9", "e1", "lt-vac", "2026-07-06", "2026-07-10") | fields
    assert mapping.absence(raw, "1001", VACATION, None, {}) == InvalidRecord(
        "absence", "l9", message, "1001"
    )


def test_messages_never_carry_the_value():
    dirty = employee("1001", "e1", bankAccount={"number": "86011117940", "country": "NO"})
    record = mapping.employee(dirty)
    assert isinstance(record, InvalidRecord) and "86011117940" not in record.message
    amount = mapping.compensation(compensation("e1", "c9", "2026-06-01", amount="84 000,50"), "1")
    assert "84" not in amount.message


def dirty_company():
    state = small_company()
    state["employee"] += [
        employee("1001", "e6", firstName="Kari (kopi)"),  # a second employee with number 1001
        employee("1007", "e7", bankAccount="86011117947", homeAddress="Storgata 1"),
    ]
    state["compensation"] += [
        compensation("e1", "c1d", "2026-10-01", amount="84 000,50"),  # the latest one: dirt
        compensation("e2", "c2b", "2026-10-01", amount=None),
    ]
    state["employment"].append(employment("e7", "m7", rate="full"))
    open_ended = leave("l8", "e1", "lt-vac", "2026-08-03", "2026-08-07")
    del open_ended["endDate"]
    state["leave"] += [
        open_ended,
        leave("l1", "e2", "lt-sick", "2026-03-09", "2026-03-10"),  # a second leave with id l1
        leave("l9", "e1", "lt-vac", "2026-02-30", "2026-03-01"),
    ]
    return state


async def read(state, query=None):
    query = query or Query()
    with AlexisSandbox(state) as server:
        adapter = AlexisAdapter(
            AlexisClient(f"{server.url}/v1", DEFAULT_TOKEN, page_size=3, retry=FAST_RETRIES)
        )
        try:
            return await asyncio.gather(
                adapter.read_employees(query),
                adapter.read_employments(query),
                adapter.read_compensations(query),
                adapter.read_absences(query),
            )
        finally:
            await adapter.aclose()


def invalid(records):
    return sorted((r for r in records if isinstance(r, InvalidRecord)), key=lambda r: r.key)


async def test_dirty_records_over_http_are_invalid_and_the_rest_goes_on():
    employees, employments, compensations, absences = await read(dirty_company())
    assert invalid(employees)[-1] == InvalidRecord(
        "employee", "1007", "homeAddress: must be an object"
    )
    # both employees numbered 1001 are handed over: the duplicate is the core's to report
    assert sorted(
        e.first_name for e in employees if isinstance(e, Employee) and e.key == "1001"
    ) == [
        "Kari",
        "Kari (kopi)",
    ]
    assert invalid(employments)[-1] == InvalidRecord(
        "employment", "1007/m7", "employment.rate: must be a number", "1007"
    )
    assert invalid(compensations) == [
        InvalidRecord("compensation", "1001/c1d", "compensation.amount: must be a number", "1001"),
        InvalidRecord("compensation", "1002/c2b", "compensation.amount: is required", "1002"),
    ]
    assert len([c for c in compensations if isinstance(c, Compensation)]) == 6
    assert [r for r in invalid(absences) if r.key in ("l8", "l9")] == [
        InvalidRecord(
            "absence", "l8", "leave.endDate: the leave has no end date; payroll needs one", "1001"
        ),
        InvalidRecord("absence", "l9", "leave.startDate: is not a date", "1001"),
    ]
    # both leaves with id l1 are handed over
    assert sorted(a.employee_key for a in absences if isinstance(a, Absence) and a.key == "l1") == [
        "1001",
        "1002",
    ]


async def test_a_leave_without_an_end_date_comes_back_for_a_period_too():
    period = DateRange(date(2026, 8, 1), date(2026, 8, 31))
    *_, absences = await read(dirty_company(), Query(period=period))
    assert [(r.key, r.message) for r in absences] == [
        ("l8", "leave.endDate: the leave has no end date; payroll needs one")
    ]


async def test_two_leave_types_with_one_id_make_their_leaves_invalid():
    state = small_company()
    state["leave-type"].append(leave_type("lt-vac", "Avspasering", "OFF_DUTY"))
    *_, absences = await read(state)
    assert [r for r in absences if r.key == "l1"] == [
        InvalidRecord("absence", "l1", "leave.typeId: names more than one leave type", "1001")
    ]


def test_the_sandbox_holds_dirty_stored_values_but_not_a_wrong_shape():
    with AlexisSandbox() as server:
        dirty = dirty_company()
        dirty["leave"].append({"employeeId": "e1"})  # no id at all
        assert httpx.put(f"{server.url}/_sandbox/state", json=dirty).status_code == 200
        refused = httpx.put(f"{server.url}/_sandbox/state", json={"leave": {"id": "l1"}})
        assert (refused.status_code, refused.json()) == (
            400,
            {"error": "invalid state: leave must be a list of records"},
        )


def read_company(state, faults, retry=FAST_RETRIES):
    async def run():
        with AlexisSandbox(state, FaultSpec.parse(faults)) as server:
            adapter = AlexisAdapter(AlexisClient(f"{server.url}/v1", DEFAULT_TOKEN, retry=retry))
            try:
                return await asyncio.gather(
                    adapter.read_employees(Query()),
                    adapter.read_compensations(Query()),
                    adapter.read_absences(Query()),
                )
            finally:
                await adapter.aclose()

    return asyncio.run(run())


def test_html_pages_and_cut_bodies_are_retried_to_the_same_records():
    assert read_company(small_company(), "html=0.2,truncated=0.2,seed=9") == read_company(
        small_company(), ""
    )


def test_an_html_page_every_time_is_a_clear_failure_naming_the_operation():
    policy = RetryPolicy(attempts=3, first_wait=0.01, max_backoff=0.02)
    with pytest.raises(Unavailable) as caught:
        read_company({"employee": small_company()["employee"]}, "html=1", retry=policy)
    assert caught.value.operation.startswith("GET /v1/")
    assert (
        caught.value.message == "AlexisHR sent an HTML page instead of JSON, still after 3 attempts"
    )


async def test_an_answer_of_the_wrong_shape_is_a_clear_failure():
    class ListInsteadOfData(AlexisSandbox):
        def handle(self, request):
            response = super().handle(request)
            response.body = b'[{"id": "e1"}]'
            return response

    with ListInsteadOfData(small_company()) as server:
        adapter = AlexisAdapter(AlexisClient(f"{server.url}/v1", DEFAULT_TOKEN, retry=FAST_RETRIES))
        with pytest.raises(Unavailable) as caught:
            await adapter.read_employees(Query())
        await adapter.aclose()
    assert (caught.value.operation, caught.value.message) == (
        "GET /v1/employee",
        "AlexisHR's answer does not fit the API: the answer is not an object",
    )
