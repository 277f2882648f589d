"""The AlexisHR connector against its sandbox over HTTP: paging, scopes, incremental reads and
every mapping rule of docs/flows.md flows 4 and 5."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from alexis_fixtures import FAST_RETRIES

from fjordsync.domain.codes import (
    AbsenceCode,
    EmploymentForm,
    EndDateReason,
    LeaveStatus,
    PayoutPeriod,
)
from fjordsync.domain.model import Absence, Employee, Employment, InvalidRecord
from fjordsync.domain.rules import current_compensation
from fjordsync.errors import AuthFailed, Rejected
from fjordsync.ports import Query, Scope
from fjordsync_alexis.adapter import AlexisAdapter
from fjordsync_alexis.client import AlexisClient
from fjordsync_alexis.sandbox import AlexisSandbox


def by_key(records):
    return {r.key: r for r in records}


def scoped(**fields):
    return Query(
        scope=Scope(
            **{k: frozenset(v) if isinstance(v, list | set) else v for k, v in fields.items()}
        )
    )


async def test_pages_until_total_in_parallel(adapter, sandbox):
    employees = await adapter.read_employees(Query())
    assert sorted(e.key for e in employees) == ["1001", "1002", "1003", "1004", "1005"]
    assert sandbox.requests["GET /v1/employee"] == 3  # 5 records, 2 a page
    assert adapter.client.requests == 3


async def test_employee_mapping(adapter):
    employees = by_key(await adapter.read_employees(Query()))
    kari = employees["1001"]
    assert (kari.first_name, kari.last_name, str(kari.work_email)) == (
        "Kari",
        "Nordmann",
        "e1001@firma.no",
    )
    assert str(kari.national_id) == "15108695088"
    assert (kari.bank_account.number, kari.bank_account.bic) == ("86011117947", "DNBANOKK")
    assert (
        kari.home_address.street,
        kari.home_address.postal_code,
        kari.home_address.city,
        kari.home_address.country,
    ) == ("Storgata 1", "0150", "Oslo", "NO")
    assert (kari.department, kari.office, kari.nationality) == ("dep-bygg", "off-oslo", "NO")
    # an empty work e-mail is no e-mail: the private one is the contact address
    assert employees["1002"].work_email is None
    assert str(employees["1002"].private_email) == "p1002@gmail.com"
    # a foreign bank account is taken from the IBAN; D-numbers are valid national ids
    swede = employees["1003"]
    assert swede.bank_account.number == "SE4550000000058398257466"
    assert (swede.bank_account.country, swede.bank_account.clearing) == ("SE", "5000")
    assert swede.national_id.is_d_number and swede.nationality == "SE"


async def test_an_invalid_personal_number_names_the_field_never_the_value(adapter):
    bad = by_key(await adapter.read_employees(Query()))["1004"]
    assert isinstance(bad, InvalidRecord)
    assert bad.message == "ssn: is not a valid Norwegian fødselsnummer or D-number (check digits)"
    assert "15108695077" not in repr(bad)


async def test_employment_mapping(adapter):
    employments = {
        e.key.split("/")[-1] if isinstance(e, InvalidRecord) else e.key: e
        for e in await adapter.read_employments(Query())
    }
    permanent = employments["m1"]
    assert isinstance(permanent, Employment)
    assert (permanent.employee_key, permanent.form, permanent.rate) == (
        "1001",
        EmploymentForm.PERMANENT,
        Decimal(100),
    )
    assert (permanent.period.start, permanent.period.end) == (date(2020, 1, 1), None)
    assert (permanent.profession_code, permanent.end_reason) == ("7112101", None)
    # "temporary" in any case; a note without a colon is all profession code
    temporary = employments["m2"]
    assert (temporary.form, temporary.profession_code, temporary.rate) == (
        EmploymentForm.TEMPORARY,
        "0111101",
        Decimal(80),
    )
    ended = employments["m3"]
    assert (ended.period.end, ended.profession_code, ended.end_reason) == (
        date(2026, 12, 31),
        "3112103",
        EndDateReason.RESIGNED,
    )
    # an unknown reason with an end date cannot go to payroll; without one it is ignored
    assert employments["m4"] == InvalidRecord(
        "employment",
        "1004/m4",
        "employment.note: reason '7' after the colon is not one of 1..6; payroll requires a "
        "reason when the employment has an end date",
        owner="1004",  # the employee it hangs off
    )
    assert (employments["m5"].profession_code, employments["m5"].end_reason) == ("0111101", None)


async def test_compensations_all_rows_and_the_current_one(adapter):
    rows = await adapter.read_compensations(Query())
    kari = [r for r in rows if r.employee_key == "1001"]
    assert sorted(r.amount for r in kari) == [Decimal(45000), Decimal(48000), Decimal(52000)]
    assert current_compensation(kari).amount == Decimal(52000)
    periods = {r.employee_key: r.payout_period for r in rows}
    assert periods == {
        "1001": PayoutPeriod.MONTHLY,
        "1002": PayoutPeriod.HOURLY,
        "1003": PayoutPeriod.ANNUAL,
        "1005": PayoutPeriod.DAILY,
    }
    assert next(r for r in rows if r.employee_key == "1002").amount == Decimal("312.5")


async def test_absence_mapping_statuses_and_leave_types(adapter, sandbox):
    read = await adapter.read_absences(Query())
    absences = by_key(read)
    assert "l4" not in absences  # PENDING: never exported
    vacation = absences["l1"]
    assert (vacation.employee_key, vacation.code, vacation.status, vacation.percent) == (
        "1001",
        AbsenceCode.VACATION,
        LeaveStatus.APPROVED,
        Decimal(100),
    )
    assert (vacation.period.start, vacation.period.end) == (date(2026, 7, 6), date(2026, 7, 24))
    assert absences["l2"].code is AbsenceCode.SICK_LEAVE  # by kind
    assert absences["l2"].status is LeaveStatus.CONFIRMED
    course = absences["l3"]  # by the leave type's own code, half a day
    assert (course.code, course.percent) == (AbsenceCode.TRAINING_BENEFIT, Decimal(50))
    assert absences["l5"] == InvalidRecord(
        "absence",
        "l5",
        "leave.type: leave type 'Sabbatical' has code 'S1', which is not a payroll absence "
        "code: add the type to the flow's mapping",
        owner="1003",
    )
    # withdrawn leaves come back with their status, so a flow can see an exported one go
    assert absences["l6"].status is LeaveStatus.CANCELLED
    assert absences["l7"].status is LeaveStatus.DENIED
    assert sandbox.requests["GET /v1/leave-type"] == 3  # 5 types, 2 a page


async def test_tenant_mapping_wins(adapter):
    query = Query(mapping={"absence_types": {"lt-sab": "13", "Sommerferie": "21"}})
    absences = by_key(await adapter.read_absences(query))
    assert absences["l5"].code is AbsenceCode.OTHER_LEAVE_NON_STATUTORY
    assert absences["l1"].code is AbsenceCode.OTHER_ABSENCE


async def test_period_and_absence_type_scope(adapter):
    query = Query(
        scope=Scope(absence_codes=frozenset({"04", "01"})),
        period=_range("2026-01-01", "2026-06-30"),
    )
    absences = await adapter.read_absences(query)
    assert sorted((a.key, a.code.value) for a in absences) == [
        ("l2", "01"),
        ("l6", "04"),
        ("l7", "01"),
    ]


def _range(start, end):
    from fjordsync.domain.values import DateRange

    return DateRange(date.fromisoformat(start), date.fromisoformat(end))


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ({"employees": ["1001", "1003"]}, ["1001", "1003"]),
        ({"exclude_employees": ["1001", "1004"]}, ["1002", "1003", "1005"]),
        ({"departments": ["Administrasjon"]}, ["1002"]),
        ({"departments": ["dep-bygg"], "offices": ["Bergen"]}, ["1003"]),
        ({"active_only": True}, ["1001", "1002", "1003", "1005"]),
        ({"departments": ["Nonexistent"]}, []),
    ],
)
async def test_scopes_are_pushed_down(adapter, sandbox, scope, expected):
    employees = await adapter.read_employees(scoped(**scope))
    assert sorted(e.key for e in employees) == expected


async def test_scopes_cascade_to_employments_compensations_and_leaves(adapter, sandbox):
    query = scoped(employees=["1002"])
    assert [e.key for e in await adapter.read_employments(query)] == ["m2"]
    assert [c.key for c in await adapter.read_compensations(query)] == ["c2"]
    assert [a.key for a in await adapter.read_absences(query)] == ["l3"]
    assert sandbox.requests["GET /v1/leave"] == 1  # the filter went to the API


async def test_incremental_reads_of_employees_and_employments(adapter):
    since = Query(changed_since=datetime(2026, 11, 1, tzinfo=UTC))
    assert sorted(e.key for e in await adapter.read_employees(since)) == ["1002", "1005"]
    assert [e.key for e in await adapter.read_employments(since)] == ["m3"]


async def test_a_refused_token_is_auth_failed_without_retrying(sandbox):
    adapter = AlexisAdapter(AlexisClient(f"{sandbox.url}/v1", "wrong", retry=FAST_RETRIES))
    with pytest.raises(AuthFailed) as caught:
        await adapter.read_employees(Query())
    assert caught.value.operation == "GET /v1/employee"
    assert "access token was refused (401)" in str(caught.value)
    assert adapter.client.requests == 1


async def test_a_query_the_api_refuses_is_rejected_without_retrying(sandbox):
    client = AlexisClient(f"{sandbox.url}/v1", "sandbox-token", retry=FAST_RETRIES)
    with pytest.raises(Rejected) as caught:
        await client.get("employee", [("filters[shoeSize][$eq]", "44")])
    assert str(caught.value) == (
        "AlexisHR GET /v1/employee: AlexisHR answered 400: "
        "filters.shoeSize is not a filterable field"
    )
    assert client.requests == 1
    await client.aclose()


async def test_reads_return_domain_types_only(adapter):
    for read in (
        adapter.read_employees,
        adapter.read_employments,
        adapter.read_compensations,
        adapter.read_absences,
    ):
        for record in await read(Query()):
            assert type(record).__module__ == "fjordsync.domain.model"
    assert isinstance((await adapter.read_employees(Query()))[0], Employee)
    assert any(isinstance(a, Absence) for a in await adapter.read_absences(Query()))


async def test_generated_leave_types_reach_every_payroll_code(company_of_1000):
    with AlexisSandbox(company_of_1000) as server:
        adapter = AlexisAdapter(AlexisClient(f"{server.url}/v1", "sandbox-token"))
        absences = await adapter.read_absences(Query())
        await adapter.aclose()
    assert {a.code for a in absences if isinstance(a, Absence)} == set(AbsenceCode)
    unmapped = {a.message for a in absences if isinstance(a, InvalidRecord)}
    assert unmapped == {
        "leave.type: leave type 'Sabbatical' has code 'S1', which is not a payroll absence "
        "code: add the type to the flow's mapping",
        "leave.type: leave type 'Avspasering' has code 'AVSP', which is not a payroll "
        "absence code: add the type to the flow's mapping",
    }
