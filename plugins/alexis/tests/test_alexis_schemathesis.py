"""schemathesis against the AlexisHR sandbox, with AlexisHR's own document.

Every read the sandbox serves (list and get-by-id of the nine resources) is called over real
HTTP with requests drawn from ``contract/openapi.yaml`` (as ``vendor_document`` corrects it):
valid ones and, negatively, ones the document forbids. An answer must never be a server error,
must have a status and a content type the document lists and fit its schema, and a forbidden
request must be refused. Each operation gets a fresh sandbox.
"""

from __future__ import annotations

import zlib

import httpx
import pytest
import schemathesis
import yaml
from alexis_fixtures import REFERENCE
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
from fjordsync_alexis.sandbox import DEFAULT_TOKEN, AlexisSandbox, generate
from fjordsync_alexis.sandbox.contract import FIELDS

DOCUMENT = vendor_document(
    "alexis", yaml.safe_load((REFERENCE / "openapi.yaml").read_text(encoding="utf-8"))
)
SERVED = [f"GET /{name}" for name in FIELDS] + [f"GET /{name}/{{id}}" for name in FIELDS]
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]

schema = schemathesis.openapi.from_dict(DOCUMENT).include(name=SERVED)
# Bounded: some 20 requests an operation keeps the module to well under a minute.
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
    max_examples=20,
    # The session is the test's (a valid token on every request): a drawn or removed
    # Authorization header would be replaced by it, so schemathesis draws none.
    with_security_parameters=False,
)
# The coverage phase would send every boundary value of every parameter (thousands of requests
# for AlexisHR's filters): bounded fuzzing in both modes finds the same classes in seconds.
schema.config.phases.coverage.enabled = False


@pytest.fixture
def served():
    with AlexisSandbox(generate(employees=5, seed=4)) as sandbox:
        yield sandbox


@schema.parametrize()
@settings(
    derandomize=True,  # the same requests every run: a failure can be repeated
    deadline=None,  # shared cores: a slow answer is not a defect; the request timeout bounds it
    # One sandbox an operation, on purpose; reads leave it as it was.
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
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
    if not case.path_parameters or case.meta is None or case.meta.generation.mode.is_negative:
        return
    records = sandbox.state[case.path.strip("/").split("/")[0]]
    drawn = str(case.path_parameters.get("id"))
    if records and zlib.crc32(drawn.encode()) % 2 == 0:
        case.path_parameters["id"] = records[zlib.crc32(drawn.encode()) % len(records)]["id"]


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
