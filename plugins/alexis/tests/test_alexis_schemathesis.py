"""schemathesis against the AlexisHR sandbox, with AlexisHR's own document.

Every read the sandbox serves (list and get-by-id of the nine resources) is called over real
HTTP with requests drawn from ``contract/openapi.yaml`` (as ``vendor_document`` corrects it):
valid ones and, negatively, ones the document forbids. An answer must never be a server error,
must have a status and a content type the document lists and fit its schema, and a forbidden
request must be refused. Each operation gets a fresh sandbox.
"""

from __future__ import annotations

import httpx
import pytest
import yaml
from alexis_fixtures import REFERENCE

from fjordsync.testing.openapi import vendor_document
from fjordsync.testing.schemathesis_kit import (
    checks,
    keeps_the_document,
    known_record,
    sandbox_schema,
)
from fjordsync_alexis.sandbox import DEFAULT_TOKEN, AlexisSandbox, generate
from fjordsync_alexis.sandbox.contract import FIELDS

DOCUMENT = vendor_document(
    "alexis", yaml.safe_load((REFERENCE / "openapi.yaml").read_text(encoding="utf-8"))
)
SERVED = [f"GET /{name}" for name in FIELDS] + [f"GET /{name}/{{id}}" for name in FIELDS]
CHECKS = checks()
# Bounded: some 20 requests an operation keeps the module to well under a minute.
schema = sandbox_schema(DOCUMENT, SERVED, max_examples=20)


@pytest.fixture
def served():
    with AlexisSandbox(generate(employees=5, seed=4)) as sandbox:
        yield sandbox


@keeps_the_document(schema)
def test_the_sandbox_keeps_the_document(case, served):
    _sometimes_a_known_record(case, served)
    case.call_and_validate(
        base_url=f"{served.url}/v1",
        headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"},
        checks=CHECKS,
        timeout=10,
    )


def _sometimes_a_known_record(case, sandbox) -> None:
    """Half the valid requests to ``/{id}`` name a record that exists (a random id never
    does), so that answers with real records and their relations are checked too."""
    chosen = known_record(case, "id", lambda: sandbox.state[case.path.strip("/").split("/")[0]])
    if chosen is not None:
        case.path_parameters["id"] = chosen["id"]


# -- the defects found, each kept fixed --------------------------------------------------------
def test_one_leave_type_has_its_code_as_one_object(served):
    auth = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}
    code = served.state["leaveTypeCode"][0]
    answer = httpx.get(
        f"{served.url}/v1/leave-type/{code['leaveTypeId']}",
        params={"relations": "leaveTypeCode"},
        headers=auth,
    ).json()
    assert answer["relations"] == {"leaveTypeCode": code}
    listed = httpx.get(
        f"{served.url}/v1/leave-type", params={"relations": "leaveTypeCode"}, headers=auth
    ).json()
    assert code in listed["relations"]["leaveTypeCode"]  # a list answers a list


@pytest.mark.parametrize(
    ("path", "auth", "status", "error"),
    [
        ("/v1/leave", False, 401, "Unauthorized"),
        ("/v1/leave/nope", True, 404, "Not Found"),
        ("/v1/nothing", True, 404, "Not Found"),
        ("/v1/leave?limit=x", True, 400, "Bad Request"),
    ],
)
def test_every_error_names_its_error(served, path, auth, status, error):
    headers = {"Authorization": f"Bearer {DEFAULT_TOKEN}"} if auth else {}
    answer = httpx.get(f"{served.url}{path}", headers=headers)
    assert (answer.status_code, answer.json()["statusCode"], answer.json()["error"]) == (
        status,
        status,
        error,
    )
