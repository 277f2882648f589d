"""schemathesis against the SmartDok sandbox, with SmartDok's own document.

Every operation the sandbox serves is called over real HTTP with requests drawn from
``contract/openapi.json`` (as ``vendor_document`` corrects it): valid ones and, negatively,
ones the document forbids. An answer must never be a server error, must have a status and a
content type the document lists and fit its schema, and a forbidden request must be refused.
Each operation gets a fresh sandbox, so creates and updates of one never reach another.
"""

from __future__ import annotations

import copy
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
from fjordsync_smartdok.sandbox import DEFAULT_API_TOKEN, SmartDokSandbox, generate

DOCUMENT = vendor_document(
    "smartdok",
    json.loads(
        (Path(__file__).parents[1] / "contract" / "openapi.json").read_text(encoding="utf-8")
    ),
)
# What the sandbox serves; the document has some 200 more operations it does not.
SERVED = [
    "GET /LicenseInfo",
    "GET /Users",
    "POST /Users",
    "GET /Users/{id}",
    "PUT /Users/{id}",
    "GET /Projects",
    "POST /Projects",
    "GET /Projects/{id}",
    "PUT /v3/Projects/{id}",
    "GET /WorkDescriptions",
    "GET /Wages",
    "GET /WorkHours",
    "GET /WorkHours/v2",
    "POST /WorkHours/SetExportedExternal",
    "POST /WorkHours/UnmarkExportedExternal",
]
CHECKS = checks()
# Bounded: about 30 requests an operation keeps the whole module to some 20 seconds.
schema = sandbox_schema(DOCUMENT, SERVED, max_examples=30)


@pytest.fixture
def served():
    """A fresh sandbox with a small generated company, and a session to it."""
    with SmartDokSandbox(generate(employees=6, projects=4, months=1, seed=3)) as sandbox:
        answer = httpx.post(f"{sandbox.url}/Authorize/ApiToken", json={"Token": DEFAULT_API_TOKEN})
        answer.raise_for_status()
        known = {
            "{id}": [str(u["Id"]) for u in sandbox.state["Users"]]
            + [str(p["Id"]) for p in sandbox.state["Projects"]],
        }
        yield sandbox, {"Authorization": f"Bearer {answer.json()}"}, known


@keeps_the_document(schema)
def test_the_sandbox_keeps_the_document(case, served):
    sandbox, headers, known = served
    _sometimes_a_known_record(case, known["{id}"])
    case.call_and_validate(base_url=sandbox.url, headers=headers, checks=CHECKS, timeout=10)


def _sometimes_a_known_record(case, ids: list[str]) -> None:
    """Half the valid requests to ``/{id}`` name a record that exists (a random id never
    does), so that reads and updates of real records are checked too."""
    users = case.path.startswith("/Users")
    chosen = known_record(case, "id", lambda: [i for i in ids if ("-" in i) == users])
    if chosen is not None:
        case.path_parameters["id"] = chosen


# -- what schemathesis cannot see: the documented filters act, bad requests are 400s ---------
def _get(sandbox, headers, path, **params):
    answer = httpx.get(f"{sandbox.url}{path}", params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_documented_filters_select(served):
    sandbox, headers, _ = served
    wage = sandbox.state["Wages"][1]
    assert [w["Id"] for w in _get(sandbox, headers, "/Wages", wageNumber=wage["Number"])] == [
        wage["Id"]
    ]
    assert [w["Id"] for w in _get(sandbox, headers, "/Wages", wageName=wage["Name"])] == [
        wage["Id"]
    ]
    sandbox.state["Wages"][0]["IsActive"] = False  # a wage type no longer in use
    inactive = _get(sandbox, headers, "/Wages", all="false", active="false")
    assert {w["Id"] for w in inactive} == {sandbox.state["Wages"][0]["Id"]}
    activity = sandbox.state["WorkDescriptions"][0]
    found = _get(sandbox, headers, "/WorkDescriptions", workDescriptionNumber=activity["Number"])
    assert [a["Id"] for a in found] == [activity["Id"]]
    project = sandbox.state["Projects"][2]
    named = _get(sandbox, headers, "/Projects", projectName=project["ProjectName"])["Items"]
    assert [p["Id"] for p in named] == [project["Id"]]
    hours = _get(sandbox, headers, "/WorkHours/v2", projectId=project["Id"])["Items"]
    expected = [
        h["WorkHourID"] for h in sandbox.state["WorkHours"] if h["ProjectID"] == project["Id"]
    ]
    assert expected and [h["Id"] for h in hours] == expected[:100]


@pytest.mark.parametrize(
    ("method", "path", "params", "body", "field"),
    [
        ("GET", "/Projects", {"updatedSince": "not-a-date"}, None, "updatedSince"),
        ("GET", "/WorkHours/v2", {"lastUpdated": "x"}, None, "lastUpdated"),
        (
            "POST",
            "/Projects",
            {},
            {"ProjectName": "A", "ProjectNumber": "9", "IsActive": True, "Departments": 5},
            "$.Departments",
        ),
        (
            "POST",
            "/Projects",
            {},
            {"ProjectName": "A", "ProjectNumber": "9", "IsActive": "yes"},
            "$.IsActive",
        ),
        (
            "POST",
            "/Projects",
            {},
            {"ProjectName": "A", "ProjectNumber": "9", "IsActive": True, "HourlyRate": "lots"},
            "$.HourlyRate",
        ),
        (
            "POST",
            "/Users",
            {},
            {
                "UserName": "u",
                "Name": "N",
                "EmployeeNo": "9",
                "Password": "p",
                "Email": "not an e-mail",
            },
            "$.Email",
        ),
    ],
)
def test_a_request_that_does_not_bind_is_a_400_and_nothing_is_stored(
    served, method, path, params, body, field
):
    sandbox, headers, _ = served
    before = copy.deepcopy(sandbox.state)
    answer = httpx.request(
        method, f"{sandbox.url}{path}", params=params, json=body, headers=headers
    )
    assert answer.status_code == 400
    assert answer.json()["Title"] == "One or more validation errors occurred."
    assert list(answer.json()["Errors"]) == [field]
    assert sandbox.state == before


def test_a_licence_count_stored_as_text_refuses_the_user_with_a_save_error(served):
    sandbox, headers, _ = served
    sandbox.state["LicenseInfo"]["AvailableLicenses"] = "ten"
    users = len(sandbox.state["Users"])
    answer = httpx.post(
        f"{sandbox.url}/Users",
        json={
            "UserName": "ny",
            "Name": "Ny Bruker",
            "Email": "ny@firma.no",
            "EmployeeNo": "777",
            "Password": "hemmelig",
        },
        headers=headers,
    )
    assert (answer.status_code, answer.json()["Code"], answer.json()["Error"]) == (
        400,
        "LicenseUnknown",
        "License",
    )
    assert len(sandbox.state["Users"]) == users
