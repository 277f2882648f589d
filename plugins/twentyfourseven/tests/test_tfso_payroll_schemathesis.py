"""schemathesis against the payroll (Lønn) sandbox, with 24SevenOffice's own document.

Every payroll operation the sandbox serves is called over real HTTP with requests drawn from
``contract/payroll.json`` as ``vendor_document`` reads it (the document writes its bodies in
Java map notation and its answers as examples: the loader turns both into JSON schemas): valid
requests and, negatively, ones the document forbids. An answer must never be a server error,
must have a status and a content type the document lists and fit its schema, and a forbidden
request must be refused. Each operation gets a fresh sandbox.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from fjordsync.testing.openapi import vendor_document
from fjordsync.testing.schemathesis_kit import (
    checks,
    keeps_the_document,
    known_record,
    sandbox_schema,
)
from fjordsync_twentyfourseven.sandbox import DEFAULT_ACCESS_TOKEN, TwentyFourSevenSandbox
from fjordsync_twentyfourseven.sandbox.generator import generate

DOCUMENT = vendor_document(
    "payroll",
    json.loads(
        (Path(__file__).parents[1] / "contract" / "payroll.json").read_text(encoding="utf-8")
    ),
)
SERVED = [
    "GET /employee/v2",
    "POST /employee/v2",
    "GET /employee/v2/{empId}",
    "POST /employee/v2/{empId}",
    "GET /employment/v2/{empId}",
    "POST /employment/v2/{empId}",
    "GET /absence/v2",
    "POST /absence/v2",
    "GET /absence/v2/{empId}",
    "GET /absencetypes/v2",
    "GET /child/v2/{empId}",
]
CHECKS = checks()

schema = sandbox_schema(DOCUMENT, SERVED, max_examples=20)


@pytest.fixture
def served():
    """A fresh sandbox with a small generated company, and a bearer token of its payroll."""
    with TwentyFourSevenSandbox(generate(employees=8, seed=5)) as sandbox:
        answer = httpx.get(
            f"{sandbox.url}/payroll/api/auth", params={"token": DEFAULT_ACCESS_TOKEN}
        )
        answer.raise_for_status()
        yield sandbox, {"Authorization": f"Bearer {answer.json()['accessToken']}"}


@keeps_the_document(schema)
def test_the_sandbox_keeps_the_document(case, served):
    sandbox, headers = served
    _sometimes_a_known_employee(case, sandbox)
    case.call_and_validate(
        base_url=f"{sandbox.url}/payroll/api", headers=headers, checks=CHECKS, timeout=10
    )


def _sometimes_a_known_employee(case, sandbox) -> None:
    """Half the valid requests to ``/{empId}`` name an employee payroll has (a random number
    seldom does), so that reads and updates of real records are checked too."""
    chosen = known_record(
        case, "empId", lambda: [e["empId"] for e in sandbox.state["payroll/employee"]]
    )
    if chosen is not None:
        case.path_parameters["empId"] = int(chosen)


# -- the defects found, each kept fixed --------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/absence/v2", {"empId": "1001", "absenceType": "04", "startDate": {}}, "startDate"),
        ("/absence/v2", {"empId": None, "absenceType": "04"}, "empId"),
        ("/absence/v2", {"empId": "1001", "absenceType": "04", "serialNo": None}, "serialNo"),
        ("/absence/v2", [{"empId": "1001", "absenceType": "04"}], "object"),
        ("/employee/v2", {"empId": None}, "empId"),
        ("/employee/v2", {"empId": "77", "internationalID": "NO"}, "internationalID"),
        ("/employee/v2", {"empId": "77", "accounting": "50"}, "accounting"),
        ("/employment/v2/{known}", [{"startdate": 20240101}], "startdate"),
    ],
)
def test_a_body_of_the_wrong_shape_is_a_400_and_nothing_is_stored(served, path, body, message):
    sandbox, headers = served
    known = sandbox.state["payroll/employee"][0]["empId"]
    before = json.dumps(sandbox.state, sort_keys=True)
    answer = httpx.post(
        f"{sandbox.url}/payroll/api{path.format(known=known)}", json=body, headers=headers
    )
    assert answer.status_code == 400
    assert answer.json()["status"] == 400
    assert message in answer.json()["message"]
    assert json.dumps(sandbox.state, sort_keys=True) == before


def test_employees_carry_every_key_of_the_documents_example(served):
    sandbox, headers = served
    created = httpx.post(
        f"{sandbox.url}/payroll/api/employee/v2",
        json={"empId": "4242", "firstname": "Ny"},
        headers=headers,
    )
    assert created.status_code == 200
    example = DOCUMENT["paths"]["/employee/v2"]["get"]["responses"]["200"]["content"]["*/*"]
    required = set(example["schema"]["items"]["required"])
    assert len(required) > 30  # the loader read the example's keys
    for employee in httpx.get(f"{sandbox.url}/payroll/api/employee/v2", headers=headers).json():
        assert required <= set(employee), employee["empId"]


def test_an_unknown_employee_is_a_400_as_the_document_lists_no_404(served):
    sandbox, headers = served
    answer = httpx.get(f"{sandbox.url}/payroll/api/employee/v2/999999", headers=headers)
    assert (answer.status_code, answer.json()["message"]) == (400, "no such employee")
