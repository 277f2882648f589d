"""The AlexisHR sandbox honours the vendor's document: its answers validate against
``contract/openapi.yaml``, and its query language behaves as the API describes.

openapi-core cannot read the API's nested deepObject filters (``filters[f][$in][]``), so
requests with filters are checked against the filterable fields the document lists
(``sandbox/contract.py``, taken from it); every other request is validated by openapi-core.
"""

from __future__ import annotations

import json

import httpx
import pytest
import yaml
from alexis_fixtures import REFERENCE

from fjordsync.testing.openapi import OpenAPIContract
from fjordsync.testing.sandbox import FaultSpec
from fjordsync_alexis.sandbox import AlexisSandbox
from fjordsync_alexis.sandbox.contract import FIELDS, RELATIONS

AUTH = {"Authorization": "Bearer sandbox-token"}


@pytest.fixture(scope="module")
def contract():
    spec = yaml.safe_load((REFERENCE / "openapi.yaml").read_text(encoding="utf-8"))
    return OpenAPIContract(spec, "https://api.alexishr.com/v1", strip_prefix="/v1")


@pytest.fixture(scope="module")
def generated_sandbox(company_of_1000):
    small = {name: records[:40] for name, records in company_of_1000.items()}
    with AlexisSandbox(small) as server:
        yield server


def get(sandbox, path, **params):
    return httpx.get(f"{sandbox.url}/v1/{path}", params=params, headers=AUTH)


@pytest.mark.parametrize("resource", sorted(FIELDS))
def test_every_resource_lists_and_gets_by_id_within_the_document(
    generated_sandbox, contract, resource
):
    relations = ",".join(RELATIONS.get(resource, ()))
    listing = get(
        generated_sandbox, resource, limit="5", **({"relations": relations} if relations else {})
    )
    assert listing.status_code == 200
    contract.validate_request(listing.request)
    contract.validate_response(listing)
    body = listing.json()
    assert (body["status"], body["count"], body["offset"]) == ("success", len(body["data"]), 0)
    assert body["total"] == len(generated_sandbox.state[resource]) > 0
    one = get(generated_sandbox, f"{resource}/{body['data'][0]['id']}")
    contract.validate_response(one)
    assert one.json()["data"] == body["data"][0]


def test_relations_are_side_loaded_once_and_joined_by_id(generated_sandbox, contract):
    answer = get(
        generated_sandbox,
        "employee",
        limit="10",
        relations="department,office,employmentType,compensation,child",
    )
    contract.validate_response(answer)
    body = answer.json()
    for name, key in (
        ("department", "departmentId"),
        ("office", "officeId"),
        ("employmentType", "employmentTypeId"),
        ("compensation", "compensationId"),
    ):
        related = body["relations"][name]
        assert len({r["id"] for r in related}) == len(related)
        assert {r["id"] for r in related} == {e[key] for e in body["data"]}
    employee_ids = {e["id"] for e in body["data"]}
    assert all(c["employeeId"] in employee_ids for c in body["relations"]["child"])
    codes = get(generated_sandbox, "leave-type", relations="leaveTypeCode", limit="100")
    contract.validate_response(codes)
    type_ids = {t["id"] for t in codes.json()["data"]}
    assert {c["leaveTypeId"] for c in codes.json()["relations"]["leaveTypeCode"]} <= type_ids


def test_select_sort_and_paging(generated_sandbox, contract):
    answer = get(
        generated_sandbox,
        "employee",
        select="id,employeeNumber,departmentId",
        limit="3",
        offset="2",
        **{"sort[employeeNumber]": "desc"},
    )
    contract.validate_request(answer.request)
    contract.validate_response(answer)
    data = answer.json()["data"]
    numbers = sorted(
        (e["employeeNumber"] for e in generated_sandbox.state["employee"]), reverse=True
    )
    assert [e["employeeNumber"] for e in data] == numbers[2:5]
    assert all("homeAddress" not in e and "bankAccount" not in e and "ssn" not in e for e in data)
    full = get(generated_sandbox, "employee", limit="1").json()["data"][0]
    assert "homeAddress" in full and "bankAccount" in full


@pytest.fixture
def leaves():
    records = [
        {
            "id": f"l{n}",
            "employeeId": f"e{n % 3}",
            "typeId": "t",
            "status": status,
            "duration": "one_day",
            "startDate": f"2026-0{n}-01T00:00:00.000+00:00",
            "endDate": f"2026-0{n}-02T00:00:00.000+00:00",
        }
        for n, status in enumerate(
            ("APPROVED", "PENDING", "CONFIRMED", "DENIED", "APPROVED"), start=1
        )
    ]
    with AlexisSandbox({"leave": records}) as server:
        yield server


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("filters[status]=APPROVED", ["l1", "l5"]),
        ("filters[status][$eq]=APPROVED", ["l1", "l5"]),
        ("filters[status][$neq]=APPROVED", ["l2", "l3", "l4"]),
        ("filters[startDate][$gt]=2026-03-01", ["l4", "l5"]),
        ("filters[startDate][$gte]=2026-03-01", ["l3", "l4", "l5"]),
        ("filters[startDate][$lt]=2026-03-01T00:00:00Z", ["l1", "l2"]),
        ("filters[startDate][$lte]=2026-03-01T00:00:00Z", ["l1", "l2", "l3"]),
        ("filters[status][$in][]=PENDING&filters[status][$in][]=DENIED", ["l2", "l4"]),
        ("filters[status][$nin][]=PENDING&filters[status][$nin][]=DENIED", ["l1", "l3", "l5"]),
        (
            "filters[startDate][$between][]=2026-02-01&filters[startDate][$between][]=2026-04-01",
            ["l2", "l3", "l4"],
        ),
        ("filters%5Bstatus%5D%5B%24in%5D%5B%5D=CONFIRMED", ["l3"]),  # brackets percent-encoded
        ("filters[employeeId][$eq]=e1&filters[status][$eq]=APPROVED", ["l1"]),
    ],
)
def test_filter_operators(leaves, query, expected):
    answer = httpx.get(f"{leaves.url}/v1/leave?{query}", headers=AUTH)
    assert answer.status_code == 200, answer.text
    assert [r["id"] for r in answer.json()["data"]] == expected


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("filters[shoeSize][$eq]=44", ["filters.shoeSize is not a filterable field"]),
        ("filters[status][$like]=APP", ["filters.status.$like is not a valid operator"]),
        (
            "filters[status][$in]=APPROVED",
            ["filters.status.$in must be an array (repeat the key with [])"],
        ),
        (
            "filters[startDate][$between][]=2026-01-01",
            ["filters.startDate.$between needs exactly two values"],
        ),
        ("sort[status]=up", ["sort.status must be one of the following values: asc, desc"]),
        ("select=id,bankAccount", ["select.bankAccount is not a selectable field"]),
        ("relations=office", ["relations.office is not a relation of leave"]),
        ("relations=,", ["relations must not hold an empty name"]),
        ("select=id,,status", ["select must not hold an empty name"]),
        ("select=", ["select must not hold an empty name"]),
        ("limit=-1", ["limit must be a non-negative integer"]),
        ("page=2", ["property page should not exist"]),
    ],
)
def test_what_the_api_refuses_is_a_400(leaves, contract, query, message):
    answer = httpx.get(f"{leaves.url}/v1/leave?{query}", headers=AUTH)
    assert answer.status_code == 400
    assert answer.json() == {"statusCode": 400, "message": message, "error": "Bad Request"}


def test_auth_and_not_found_errors_are_as_documented(leaves, contract):
    unauthorised = httpx.get(f"{leaves.url}/v1/leave")
    assert (unauthorised.status_code, unauthorised.json()) == (
        401,
        {"statusCode": 401, "message": "Unauthorized", "error": "Unauthorized"},
    )
    contract.validate_response(unauthorised)
    missing = httpx.get(f"{leaves.url}/v1/leave/nope", headers=AUTH)
    assert (missing.status_code, missing.json()) == (
        404,
        {"statusCode": 404, "message": "Not Found", "error": "Not Found"},
    )
    contract.validate_response(missing)


def test_state_can_be_read_and_replaced(leaves):
    state = httpx.get(f"{leaves.url}/_sandbox/state").json()
    assert [r["id"] for r in state["leave"]] == ["l1", "l2", "l3", "l4", "l5"]
    state["leave"] = state["leave"][:1]
    assert httpx.put(f"{leaves.url}/_sandbox/state", json=state).status_code == 200
    assert get(leaves, "leave").json()["total"] == 1
    refused = httpx.put(f"{leaves.url}/_sandbox/state", json={"salary": []})
    assert (refused.status_code, refused.json()) == (
        400,
        {"error": "invalid state: unknown resources: salary"},
    )


def statuses(sandbox, n):
    codes = []
    with httpx.Client() as client:
        for _ in range(n):
            try:
                codes.append(client.get(f"{sandbox.url}/v1/leave", headers=AUTH).status_code)
            except httpx.TransportError:
                codes.append("dropped")
    return codes


def test_faults_are_deterministic_by_seed_and_set_at_run_time(leaves):
    spec = "5xx=0.3,429=0.2,drop=0.1,retry-after=2,seed=11"
    assert httpx.post(f"{leaves.url}/_sandbox/faults", content=spec).status_code == 200
    first = statuses(leaves, 40)
    httpx.post(f"{leaves.url}/_sandbox/faults", content=spec)
    assert statuses(leaves, 40) == first
    assert {500, 502, 503, 429, "dropped", 200} <= set(first)
    httpx.post(f"{leaves.url}/_sandbox/faults", content="429=1")
    limited = httpx.get(f"{leaves.url}/v1/leave", headers=AUTH)
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "1")
    bad = httpx.post(f"{leaves.url}/_sandbox/faults", content="5xx=2")
    assert bad.json() == {"error": "fault share server_errors must be between 0 and 1"}


def test_fault_spec_parsing():
    assert FaultSpec.parse("latency=20,jitter=5,5xx=0.2,429=0.1,seed=7") == FaultSpec(
        latency=20, jitter=5, server_errors=0.2, rate_limited=0.1, seed=7
    )
    with pytest.raises(ValueError, match="unknown fault 'lag'"):
        FaultSpec.parse("lag=1")
    assert json.loads(json.dumps(FaultSpec(lost=0.3).as_json()))["lost"] == 0.3


def test_slow_bodies_arrive_whole_but_late(leaves):
    quick = get(leaves, "leave")
    httpx.post(f"{leaves.url}/_sandbox/faults", content="slow=50")
    slow = get(leaves, "leave")
    assert slow.json() == quick.json()
    assert slow.elapsed.total_seconds() >= 0.15  # four chunks, a pause after each
