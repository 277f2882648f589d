"""The SOAP face of the sandbox honours the WSDLs: they are the vendor's own (the TimeService one
reconstructed), zeep parses each as served, and requests and answers fit their schemas."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest
from lxml import etree
from tfso_fixtures import REFERENCE
from zeep import Client

from fjordsync_twentyfourseven.sandbox.server import SERVICES, WSDL_DIR, service
from fjordsync_twentyfourseven.sandbox.soap import SOAP11, SOAP12, TNS


@pytest.fixture(scope="module")
def payroll_spec():
    return json.loads((REFERENCE / "payroll.json").read_text(encoding="utf-8"))


ENVELOPE = {
    SOAP11: (
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
        "<soap:Body>{}</soap:Body></soap:Envelope>",
        "text/xml; charset=utf-8",
    ),
    SOAP12: (
        '<soap12:Envelope xmlns:soap12="http://www.w3.org/2003/05/soap-envelope">'
        "<soap12:Body>{}</soap12:Body></soap12:Envelope>",
        "application/soap+xml; charset=utf-8",
    ),
}


@pytest.mark.parametrize(
    "wsdl", ["authService.wsdl", "clientService.wsdl", "personService.wsdl", "projectService.wsdl"]
)
def test_the_shipped_wsdls_are_the_vendors(wsdl):
    assert (WSDL_DIR / wsdl).read_bytes() == (REFERENCE / wsdl).read_bytes()


@pytest.mark.parametrize("path", sorted(SERVICES))
def test_zeep_parses_every_served_wsdl_and_it_points_at_the_sandbox(sandbox, path):
    served = httpx.get(f"{sandbox.url}{path}?WSDL")
    assert served.headers["content-type"].startswith("text/xml")
    assert served.text.count(f'location="{sandbox.url}') == 2  # the SOAP 1.1 and 1.2 ports
    client = Client(f"{sandbox.url}{path}?wsdl")
    operations = {
        name
        for svc in client.wsdl.services.values()
        for port in svc.ports.values()
        for name in port.binding._operations
    }
    assert operations >= {op for op in _wanted(path)}


def _wanted(path):
    return {
        "/authenticate/v001/authenticate.asmx": {
            "Login",
            "HasSession",
            "GetIdentities",
            "SetIdentityById",
        },
        "/client/v001/clientservice.asmx": {"GetUsers"},
        "/crm/contact/personservice.asmx": {"GetPersons", "SavePerson"},
        "/project/v001/projectservice.asmx": {
            "GetProjectList",
            "GetProjectsDetailed",
            "GetDeactivatedProjects",
            "GetSingleProject",
            "SaveProject",
        },
        "/timesheet/v001/timeservice.asmx": {
            "GetHours",
            "SaveHour",
            "GetWorkTypeList",
            "GetSalaryTypes",
        },
    }[path]


def post(sandbox, path, body, version=SOAP11, cookie=None):
    """POST ``body`` as a .NET client does: the action, the body's element, goes in the
    SOAPAction header (SOAP 1.1) or in the Content-Type's action parameter (SOAP 1.2)."""
    template, content_type = ENVELOPE[version]
    element = re.match(r"<(\w+)", body).group(1)
    action = f"{TNS}/{element}"
    if version == SOAP11:
        headers = {"Content-Type": content_type, "SOAPAction": f'"{action}"'}
    else:
        headers = {"Content-Type": f'{content_type}; action="{action}"'}
    if cookie:
        headers["Cookie"] = f"ASP.NET_SessionId={cookie}"
    return httpx.post(f"{sandbox.url}{path}", content=template.format(body), headers=headers)


def login(sandbox, version=SOAP11):
    answer = post(
        sandbox,
        "/authenticate/v001/authenticate.asmx",
        f'<Login xmlns="{TNS}"><credential>'
        "<ApplicationId>8c1b4a5e-6f3d-4e2a-9b7c-0d1e2f3a4b5c</ApplicationId>"
        "<Password>sandbox-password</Password>"
        "<Username>integrasjon@fjordbygg.no</Username></credential></Login>",
        version,
    )
    assert answer.status_code == 200
    return answer.cookies["ASP.NET_SessionId"], answer


def answer_payload(answer, version):
    envelope = etree.fromstring(answer.content)
    return envelope.find(f"{{{version}}}Body")[0]


@pytest.mark.parametrize("version", [SOAP11, SOAP12])
def test_answers_fit_the_schema_in_both_soap_versions(sandbox, version):
    session, answer = login(sandbox, version)
    assert answer.headers["content-type"].startswith(ENVELOPE[version][1].split(";")[0])
    assert int(answer.headers["APILimitRemaining"]) == 7199
    checks = [
        (
            "/authenticate/v001/authenticate.asmx",
            f'<SetIdentityById xmlns="{TNS}"><identityId>6b7f3c2a-1d4e-4f5a-8b9c-0a1b2c3d4e5f'
            "</identityId></SetIdentityById>",
        ),
        ("/authenticate/v001/authenticate.asmx", f'<GetIdentities xmlns="{TNS}" />'),
        ("/client/v001/clientservice.asmx", f'<GetUsers xmlns="{TNS}" />'),
        (
            "/crm/contact/personservice.asmx",
            f'<GetPersons xmlns="{TNS}"><personSearch><IsEmployee>True</IsEmployee>'
            "</personSearch></GetPersons>",
        ),
        (
            "/project/v001/projectservice.asmx",
            f'<GetProjectsDetailed xmlns="{TNS}"><Ps /></GetProjectsDetailed>',
        ),
        (
            "/project/v001/projectservice.asmx",
            f'<GetSingleProject xmlns="{TNS}"><projectId>1001</projectId></GetSingleProject>',
        ),
        (
            "/timesheet/v001/timeservice.asmx",
            f'<GetWorkTypeList xmlns="{TNS}"><wts><Active>none</Active></wts></GetWorkTypeList>',
        ),
        ("/timesheet/v001/timeservice.asmx", f'<GetSalaryTypes xmlns="{TNS}" />'),
        (
            "/timesheet/v001/timeservice.asmx",
            f'<SaveHour xmlns="{TNS}"><Hour><TypeOfWorkId>10</TypeOfWorkId>'
            "<StartTime>2026-11-02T06:00:00Z</StartTime><StopTime>2026-11-02T14:00:00Z</StopTime>"
            "<TotalHours>7.5</TotalHours><ContactId>2001</ContactId><ProjectId>1001</ProjectId>"
            "<SalaryTypeId>100</SalaryTypeId></Hour></SaveHour>",
        ),
        (
            "/timesheet/v001/timeservice.asmx",
            f'<GetHours xmlns="{TNS}"><hs><ContactId>2001</ContactId></hs></GetHours>',
        ),
    ]
    for path, body in checks:
        answer = post(sandbox, path, body, version, session)
        assert answer.status_code == 200, answer.text
        payload = answer_payload(answer, version)
        schema = service(path).schema
        assert schema.validate(etree.ElementTree(payload)), (path, schema.error_log)
    hours = answer_payload(answer, version)
    assert hours.find(f".//{{{TNS}}}ApprovedBy").text == "-2147483648"  # unset sentinel


def test_elements_out_of_schema_order_are_refused(sandbox):
    answer = post(
        sandbox,
        "/authenticate/v001/authenticate.asmx",
        f'<Login xmlns="{TNS}"><credential>'
        "<ApplicationId>8c1b4a5e-6f3d-4e2a-9b7c-0d1e2f3a4b5c</ApplicationId>"
        "<Username>u</Username><Password>p</Password></credential></Login>",
    )
    assert answer.status_code == 500
    assert (
        "Element '{http://24sevenOffice.com/webservices}Password': This element is not "
        "expected" in answer.text
    )


def test_a_request_outside_the_schema_is_refused_as_asmx_does(sandbox):
    session, _ = login(sandbox)
    answer = post(
        sandbox,
        "/timesheet/v001/timeservice.asmx",
        f'<SaveHour xmlns="{TNS}"><Hour><Locked>maybe</Locked></Hour></SaveHour>',
        cookie=session,
    )
    assert answer.status_code == 500
    fault = etree.fromstring(answer.content).find(".//faultstring").text
    assert "Server was unable to read request. --->" in fault
    assert "Instance validation error" in fault and "'maybe'" in fault
    assert sandbox.state["Hour"] == []


def test_sessions_identities_and_bad_credentials_as_notes_describe(sandbox):
    bad = post(
        sandbox,
        "/authenticate/v001/authenticate.asmx",
        f'<Login xmlns="{TNS}"><credential>'
        "<ApplicationId>8c1b4a5e-6f3d-4e2a-9b7c-0d1e2f3a4b5c</ApplicationId>"
        "<Password>x</Password><Username>integrasjon@fjordbygg.no</Username>"
        "</credential></Login>",
    )
    assert bad.status_code == 200 and answer_payload(bad, SOAP11)[0].text is None
    no_session = post(
        sandbox,
        "/project/v001/projectservice.asmx",
        f'<GetProjectList xmlns="{TNS}"><Ps /></GetProjectList>',
    )
    assert "Session is not authenticated" in no_session.text
    session, _ = login(sandbox)
    wrong_identity = post(
        sandbox,
        "/project/v001/projectservice.asmx",
        f'<GetProjectList xmlns="{TNS}"><Ps /></GetProjectList>',
        cookie=session,
    )
    assert "Client is not authenticated on this identity" in wrong_identity.text
    has = post(
        sandbox,
        "/authenticate/v001/authenticate.asmx",
        f'<HasSession xmlns="{TNS}" />',
        cookie=session,
    )
    assert answer_payload(has, SOAP11)[0].text == "true"


def test_timeservice_wsdl_says_it_is_reconstructed():
    text = Path(WSDL_DIR / "timeService.wsdl").read_text()
    assert "Reconstructed by fjordsync from 24SevenOffice's TimeService documentation" in text


def test_payroll_bodies_use_only_the_documents_field_names(sandbox, payroll_spec):
    """payroll.json gives its bodies as examples (Java map notation for requests): every field
    the sandbox answers with, and every field the connector sends, is one of them."""
    import asyncio
    from datetime import date
    from decimal import Decimal

    from fjordsync.domain.codes import AbsenceCode, SalaryType
    from fjordsync.domain.model import Absence, Employee, Employment, Salary
    from fjordsync.domain.values import DateRange, Email, NationalId
    from fjordsync_twentyfourseven import mapping

    def example_keys(path, method, where):
        operation = payroll_spec["paths"][path][method]
        if where == "request":
            example = next(iter(operation["requestBody"]["content"].values()))["schema"]["example"]
            return set(re.findall(r"([A-Za-z_]+)=", example))
        example = next(iter(operation["responses"]["200"]["content"].values()))["schema"]["example"]
        keys = set()
        for item in example:
            keys |= set(item)
        return keys

    employee = Employee(
        "1002",
        "Ingrid",
        "Berg",
        work_email=Email("i@firma.no"),
        national_id=NationalId("15108695088"),
        nationality="NO",
        salary=Salary(SalaryType.MONTHLY, Decimal(50000), date(2026, 1, 1)),
    )
    body = mapping.payroll_employee_body(employee, defaults=True)
    assert set(body) <= example_keys("/employee/v2", "post", "request")
    employment = Employment("1002", DateRange(date(2026, 1, 1)))
    assert set(mapping.payroll_employment_body(employment)) <= example_keys(
        "/employment/v2/{empId}", "post", "request"
    )
    absence = Absence(
        "l1", "1002", AbsenceCode.VACATION, DateRange(date(2026, 7, 6), date(2026, 7, 10))
    )
    assert set(mapping.payroll_absence_body(absence, 5)) <= example_keys(
        "/absence/v2", "post", "request"
    )
    token = httpx.get(
        f"{sandbox.url}/payroll/api/auth", params={"token": "payroll-sandbox-token"}
    ).json()["accessToken"]
    bearer = {"Authorization": f"Bearer {token}"}
    for path, documented in (
        ("/employee/v2", "/employee/v2"),
        ("/absencetypes/v2", "/absencetypes/v2"),
    ):
        rows = httpx.get(f"{sandbox.url}/payroll/api{path}", headers=bearer).json()
        assert rows and all(set(row) <= example_keys(documented, "get", "response") for row in rows)
    asyncio.run(_absence_round_trip(sandbox, bearer))
    rows = httpx.get(f"{sandbox.url}/payroll/api/absence/v2", headers=bearer).json()
    assert rows and all(set(row) <= example_keys("/absence/v2", "get", "response") for row in rows)


async def _absence_round_trip(sandbox, bearer):
    async with httpx.AsyncClient() as client:
        answer = await client.post(
            f"{sandbox.url}/payroll/api/absence/v2",
            headers=bearer,
            json={
                "empId": "1001",
                "absenceType": "04",
                "startDate": "2026-07-06",
                "endDate": "2026-07-10",
                "numberOfDays": "5",
                "externalId": "l1",
            },
        )
        assert answer.status_code == 200
