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
import zlib
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from fjordsync.testing.openapi import vendor_document
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
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]

schema = schemathesis.openapi.from_dict(DOCUMENT).include(name=SERVED)
# Bounded: about 30 requests an operation keeps the whole module to some 20 seconds.
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
    max_examples=30,
    # The session is the test's (a valid token on every request): a drawn or removed
    # Authorization header would be replaced by it, so schemathesis draws none.
    with_security_parameters=False,
)
# The coverage phase would send every boundary value of every parameter (thousands of requests
# for AlexisHR's filters): bounded fuzzing in both modes finds the same classes in seconds.
schema.config.phases.coverage.enabled = False


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


@schema.parametrize()
@settings(
    derandomize=True,  # the same requests every run: a failure can be repeated
    deadline=None,  # shared cores: a slow answer is not a defect; the request timeout bounds it
    # One sandbox an operation, on purpose: its examples may build on one another.
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_the_sandbox_keeps_the_document(case, served):
    sandbox, headers, known = served
    _sometimes_a_known_record(case, known["{id}"])
    case.call_and_validate(base_url=sandbox.url, headers=headers, checks=CHECKS, timeout=10)


def _sometimes_a_known_record(case, ids: list[str]) -> None:
    """Half the valid requests to ``/{id}`` name a record that exists (a random id never
    does), so that reads and updates of real records are checked too."""
    if not case.path_parameters or case.meta is None or case.meta.generation.mode.is_negative:
        return
    drawn = str(case.path_parameters.get("id"))
    kind = "Users" if case.path.startswith("/Users") else "Projects"
    candidates = [i for i in ids if ("-" in i) == (kind == "Users")]
    if candidates and zlib.crc32(drawn.encode()) % 2 == 0:
        case.path_parameters["id"] = candidates[zlib.crc32(drawn.encode()) % len(candidates)]


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
