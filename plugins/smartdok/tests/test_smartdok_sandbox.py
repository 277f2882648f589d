"""The SmartDok sandbox's answers validate against ``contract/openapi.json``."""

from __future__ import annotations

import json

import httpx
import pytest
from smartdok_fixtures import REFERENCE

from fjordsync.testing.openapi import OpenAPIContract
from fjordsync_smartdok.sandbox import DEFAULT_API_TOKEN, SmartDokSandbox, generate


@pytest.fixture(scope="module")
def contract():
    spec = json.loads((REFERENCE / "openapi.json").read_text(encoding="utf-8"))
    return OpenAPIContract(spec, "https://api.smartdok.no")


@pytest.fixture(scope="module")
def generated():
    from datetime import date

    with SmartDokSandbox(generate(employees=12, seed=8, today=date(2026, 11, 24))) as server:
        session = httpx.post(
            f"{server.url}/Authorize/ApiToken", json={"Token": DEFAULT_API_TOKEN}
        ).json()
        yield server, {"Authorization": f"Bearer {session}"}


@pytest.mark.parametrize(
    "path",
    [
        "/Users?all=true",
        "/Users?active=true&offset=2&count=3",
        "/LicenseInfo",
        "/Projects?all=true",
        "/Projects?projectNumber=1001&all=true",
        "/Projects?updatedSince=2026-01-01T00:00:00Z&all=true",
        "/Projects?createdSince=2020-01-01T00:00:00Z",
        "/WorkDescriptions",
        "/Wages",
        "/WorkHours?fromDate=2026-10-01T00:00:00Z&toDate=2026-11-24T00:00:00Z",
        "/WorkHours?fromDate=2026-10-01T00:00:00Z&toDate=2026-11-24T00:00:00Z&onlyAttested=false"
        "&includeExported=true&exportedExternal=false",
        "/WorkHours?fromDate=2026-10-01T00:00:00Z&toDate=2026-11-24T00:00:00Z&lastUpdated=2026-11-01T00:00:00Z",
        "/WorkHours/v2?offset=0&count=50",
        "/WorkHours/v2?lastUpdated=2026-11-01T00:00:00Z",
        "/WorkHours/v2?approved=true&fromDate=2026-11-01T00:00:00Z",
    ],
)
def test_answers_validate_against_the_document(generated, contract, path):
    server, auth = generated
    answer = httpx.get(f"{server.url}{path}", headers=auth)
    assert answer.status_code == 200, answer.text
    contract.validate_request(answer.request)
    contract.validate_response(answer)


def test_get_one_and_writes_validate(generated, contract):
    server, auth = generated
    users = httpx.get(f"{server.url}/Users?all=true", headers=auth).json()["Items"]
    one = httpx.get(f"{server.url}/Users/{users[0]['Id']}", headers=auth)
    contract.validate_response(one)
    projects = httpx.get(f"{server.url}/Projects?all=true", headers=auth).json()["Items"]
    project = httpx.get(f"{server.url}/Projects/{projects[0]['Id']}", headers=auth)
    contract.validate_response(project)
    body = {"ProjectName": "Ny hall", "ProjectNumber": "2099", "IsActive": True}
    created = httpx.post(f"{server.url}/Projects", json=body, headers=auth)
    contract.validate_request(created.request)
    contract.validate_response(created)
    replaced = httpx.put(
        f"{server.url}/v3/Projects/{created.json()['Id']}",
        json={**body, "ProjectName": "Ny hall 2"},
        headers=auth,
    )
    contract.validate_request(replaced.request)
    contract.validate_response(replaced)
    new_user = {
        "UserName": "98765432",
        "Name": "Ny Ansatt",
        "Email": "ny@fjordbygg.no",
        "EmployeeNo": "2999",
        "Password": "Hemmelig-123",
        "Role": "User",
    }
    made = httpx.post(f"{server.url}/Users", json=new_user, headers=auth)
    contract.validate_request(made.request)
    contract.validate_response(made)
    mark = httpx.post(
        f"{server.url}/WorkHours/SetExportedExternal",
        params={"exportedExternalId": "x", "setAsExportedExternal": "true"},
        json=[1, 2],
        headers=auth,
    )
    assert mark.status_code == 200
    contract.validate_request(mark.request)


def test_errors_as_the_api_gives_them(generated):
    server, auth = generated
    missing = httpx.get(f"{server.url}/Users/00000000-0000-0000-0000-000000000000", headers=auth)
    assert (missing.status_code, missing.content) == (404, b"")
    put_missing = httpx.put(
        f"{server.url}/v3/Projects/99999",
        headers=auth,
        json={"ProjectName": "x", "ProjectNumber": "x", "IsActive": True},
    )
    assert put_missing.status_code == 404
    unnamed = httpx.post(
        f"{server.url}/Users",
        headers=auth,
        json={"UserName": "x", "Email": "x@y.no", "EmployeeNo": "1", "Password": "p"},
    )
    assert (unnamed.status_code, unnamed.json()) == (
        400,
        {"Code": "Required", "Error": "Name", "Message": "The Name field is required."},
    )
    no_token = httpx.get(f"{server.url}/Users")
    assert no_token.status_code == 401
    too_long = httpx.get(
        f"{server.url}/WorkHours?fromDate=2026-01-01T00:00:00Z&toDate=2026-06-01T00:00:00Z",
        headers=auth,
    )
    assert too_long.status_code == 400


def test_put_replaces_the_whole_resource(generated):
    server, auth = generated
    projects = httpx.get(f"{server.url}/Projects?all=true", headers=auth).json()["Items"]
    target = next(p for p in projects if p["ProjectOwnerName"] or True)
    httpx.put(
        f"{server.url}/v3/Projects/{target['Id']}",
        headers=auth,
        json={
            "ProjectName": "Bare navn",
            "ProjectNumber": target["ProjectNumber"],
            "IsActive": True,
            "Location": "Her",
        },
    )
    after = httpx.get(f"{server.url}/Projects/{target['Id']}", headers=auth).json()
    assert (after["ProjectName"], after["Location"], after["ClientCompanyName"]) == (
        "Bare navn",
        "Her",
        "",
    )
