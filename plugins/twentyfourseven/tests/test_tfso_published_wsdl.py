"""The SOAP sandbox as a client built from the vendor's published WSDLs sees it.

zeep clients are built from ``contract/*.wsdl`` (the vendor's documents, not what the sandbox
serves) with each service's address pointed at the sandbox, and every operation the sandbox
implements is called with valid and edge inputs. zeep does not enforce ``xs:pattern`` (the
``s1:guid`` of user and identity ids), so answers are also validated as raw XML, with lxml,
against the schema in the published WSDL. The TimeService has no published WSDL
(contract/TimeService.md): its client is built from the one we reconstructed. Raw HTTP checks
hold the protocol to what ASMX does (SOAP version by Content-Type, dispatch by SOAPAction, 405
with Allow).
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import httpx
import pytest
import requests
from lxml import etree
from tfso_fixtures import REFERENCE, small_company
from zeep import Client
from zeep.exceptions import Fault
from zeep.transports import Transport

from fjordsync_twentyfourseven.sandbox import DEFAULT_CREDENTIALS, DEFAULT_IDENTITIES
from fjordsync_twentyfourseven.sandbox.generator import generate
from fjordsync_twentyfourseven.sandbox.server import WSDL_DIR

TNS = "http://24sevenOffice.com/webservices"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
XSD = "http://www.w3.org/2001/XMLSchema"
WSDL = "http://schemas.xmlsoap.org/wsdl/"
GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
DATA_IDENTITY = DEFAULT_IDENTITIES[0]["Id"]  # the conftest sandbox logs in on identity 1

# name -> (WSDL, binding without its "12", path as the published WSDL spells it)
SERVICES = {
    "auth": (REFERENCE / "authService.wsdl", "AuthenticateSoap",
             "/authenticate/v001/authenticate.asmx"),
    "client": (REFERENCE / "clientService.wsdl", "ClientServiceSoap",
               "/Client/V001/ClientService.asmx"),
    "person": (REFERENCE / "personService.wsdl", "PersonServiceSoap",
               "/CRM/Contact/PersonService.asmx"),
    "project": (REFERENCE / "projectService.wsdl", "ProjectServiceSoap",
                "/Project/V001/ProjectService.asmx"),
    # No published WSDL exists for the TimeService: ours, reconstructed from TimeService.md.
    "time": (WSDL_DIR / "timeService.wsdl", "TimeServiceSoap",
             "/timesheet/v001/timeservice.asmx"),
}  # fmt: skip


def published_schema(wsdl: Path) -> etree.XMLSchema:
    """The schemas in a WSDL's ``wsdl:types`` as one lxml XMLSchema, each import pointed at
    its sibling (the published WSDLs import the guid schema by namespace only)."""
    tree = etree.parse(str(wsdl))
    schemas = tree.findall(f"{{{WSDL}}}types/{{{XSD}}}schema")
    with tempfile.TemporaryDirectory() as workdir:
        names = {s.get("targetNamespace"): f"s{i}.xsd" for i, s in enumerate(schemas)}
        for schema in schemas:
            copy = etree.fromstring(etree.tostring(schema))
            for imported in copy.findall(f"{{{XSD}}}import"):
                imported.set("schemaLocation", names[imported.get("namespace")])
            (Path(workdir) / names[schema.get("targetNamespace")]).write_bytes(etree.tostring(copy))
        return etree.XMLSchema(etree.parse(str(Path(workdir) / names[TNS])))


@pytest.fixture(scope="module")
def http():
    """One requests session for every client: the cookie goes on it as a plain header."""
    return requests.Session()


@pytest.fixture(scope="module")
def clients(http):
    transport = Transport(session=http)
    return {name: Client(str(wsdl), transport=transport) for name, (wsdl, _, _) in SERVICES.items()}


@pytest.fixture(scope="module")
def schemas():
    return {name: published_schema(wsdl) for name, (wsdl, _, _) in SERVICES.items()}


def services(clients, sandbox, version=SOAP11):
    suffix = "12" if version == SOAP12 else ""
    return {
        name: clients[name].create_service(f"{{{TNS}}}{binding}{suffix}", f"{sandbox.url}{path}")
        for name, (_, binding, path) in SERVICES.items()
    }


@pytest.fixture
def soap(clients, sandbox, http):
    """The services, logged in through AuthenticateService and on the data's identity."""
    svc = services(clients, sandbox)
    session_id = svc["auth"].Login(credential=DEFAULT_CREDENTIALS)
    use_session(http, session_id)
    assert svc["auth"].SetIdentityById(identityId=DATA_IDENTITY) is True
    yield svc
    use_session(http, None)


def use_session(http, session_id):
    """The session as the vendor notes send it: a plain Cookie header, never a cookie jar
    (which would keep sending the Set-Cookie of Login after the header is gone)."""
    http.cookies.clear()
    if session_id is None:
        http.headers.pop("Cookie", None)
    else:
        http.headers["Cookie"] = f"ASP.NET_SessionId={session_id}"


def fault_of(call, *args, **kwargs) -> str:
    with pytest.raises(Fault) as caught:
        call(*args, **kwargs)
    return caught.value.message


def ids(rows):
    return sorted(row["Id"] for row in rows or [])


# -- the served WSDLs are the published ones ---------------------------------------------------
@pytest.mark.parametrize("name", ["auth", "client", "person", "project"])
def test_the_served_wsdl_is_the_published_one_but_for_the_address(sandbox, name):
    wsdl, _, path = SERVICES[name]
    published = wsdl.read_text(encoding="utf-8")
    expected = re.sub(r'location="https://[^/"]+', f'location="{sandbox.url}', published)
    assert httpx.get(f"{sandbox.url}{path}?wsdl").text == expected


# -- AuthenticateService -----------------------------------------------------------------------
@pytest.mark.parametrize("version", [SOAP11, SOAP12])
def test_login_identities_and_faults_through_the_published_auth_service(
    clients, sandbox, http, version
):
    auth = services(clients, sandbox, version)["auth"]
    assert auth.Login(credential={**DEFAULT_CREDENTIALS, "Password": "wrong"}) is None  # ""
    session_id = auth.Login(credential=DEFAULT_CREDENTIALS)
    assert re.fullmatch(r"[0-9a-f]{24}", session_id)
    use_session(http, session_id)
    try:
        assert auth.HasSession() is True
        identities = auth.GetIdentities()
        assert [(i["Id"], i["IsCurrent"], i["IsDefault"], i["IsDisabled"]) for i in identities] == [
            (DEFAULT_IDENTITIES[0]["Id"], False, False, False),
            (DEFAULT_IDENTITIES[1]["Id"], True, True, False),
            (DEFAULT_IDENTITIES[2]["Id"], False, False, True),
        ]
        assert fault_of(auth.SetIdentityById, identityId=DEFAULT_IDENTITIES[2]["Id"]) == (
            "Provided IdentityId is blocked and cannot be used."
        )
        assert fault_of(
            auth.SetIdentityById, identityId="00000000-0000-4000-8000-000000000001"
        ) == ("Provided IdentityId is not connected to the user.")
        assert auth.SetIdentityById(identityId=DATA_IDENTITY) is True
    finally:
        use_session(http, None)
    assert auth.HasSession() is False
    person = services(clients, sandbox, version)["person"]
    assert fault_of(person.GetPersons, personSearch={}) == "Session is not authenticated"


# -- answers fit the published schemas -------------------------------------------------------
READS = [
    ("auth", "GetIdentities", {}),
    ("client", "GetUsers", {}),
    ("person", "GetPersons", {"personSearch": {}}),
    ("project", "GetProjectList", {"Ps": {}}),
    ("project", "GetProjectsDetailed", {"Ps": {}}),
    ("project", "GetDeactivatedProjects", {"ps": {}}),
    ("project", "GetSingleProject", {"projectId": 1001}),
    ("time", "GetWorkTypeList", {"wts": {}}),
    ("time", "GetSalaryTypes", {}),
    ("time", "GetHours", {"hs": {}}),
]


@pytest.mark.parametrize("version", [SOAP11, SOAP12])
def test_every_answer_on_a_generated_company_fits_the_published_schema(
    clients, schemas, sandbox, http, version
):
    """Validated as raw XML with lxml, since zeep checks no xs:pattern: a user id that is no
    GUID passes zeep and fails here."""
    state = generate(employees=8, seed=3)
    state["Project"][0]["_Deactivated"] = True  # so that GetDeactivatedProjects has one
    sandbox.state = sandbox.normalise_state(state)
    svc = services(clients, sandbox, version)
    use_session(http, svc["auth"].Login(credential=DEFAULT_CREDENTIALS))
    try:
        svc["auth"].SetIdentityById(identityId=DATA_IDENTITY)
        svc["time"].SaveHour(
            Hour={"TypeOfWorkId": 10, "StartTime": "2026-11-02T06:00:00Z", "TotalHours": 7.5,
                  "ContactId": 2001, "ProjectId": 1001}
        )  # fmt: skip
        for name, operation, args in READS:
            with clients[name].settings(raw_response=True):
                answer = getattr(svc[name], operation)(**args)
            assert answer.status_code == 200, (operation, answer.text)
            payload = etree.fromstring(answer.content).find(f"{{{version}}}Body")[0]
            assert payload.tag == f"{{{TNS}}}{operation}Response"
            assert len(payload) == 1 and len(payload[0]) > 0, operation  # an answer, not empty
            schema = schemas[name]
            assert schema.validate(etree.ElementTree(payload)), (operation, schema.error_log)
        users = svc["client"].GetUsers()
    finally:
        use_session(http, None)
    assert len(users) == 8 and all(GUID.fullmatch(user["Id"]) for user in users)


# -- dateTimes with offsets --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("changed_after", "expected"),
    [
        # 0000-12-31T23:00Z is before DateTime.MinValue: clamped to it, the unset date: no filter
        ("0001-01-01T00:00:00+01:00", [2001, 2002, 2003]),
        ("9999-12-31T23:59:59-01:00", []),  # past DateTime.MaxValue: clamped, nothing after it
        ("2026-11-20T00:30:00+01:00", [2001]),  # 2026-11-19T23:30Z: Kari changed 2026-11-20
        ("2026-11-20T01:00:00+01:00", []),  # 2026-11-20T00:00Z: not after it
        ("2026-11-19T23:30:00Z", [2001]),
    ],
)
def test_get_persons_reads_a_date_time_with_an_offset_as_the_utc_moment(
    soap, changed_after, expected
):
    rows = soap["person"].GetPersons(personSearch={"ChangedAfter": changed_after})
    assert ids(rows) == expected


def test_date_times_with_offsets_elsewhere_are_answered_never_a_handler_error(soap, sandbox):
    project, time = soap["project"], soap["time"]
    assert ids(project.GetProjectList(Ps={"StartedAfter": "0001-01-01T00:00:00+01:00"})) == [
        1001,
        1002,
    ]
    assert ids(time.GetHours(hs={"StartTime": "0001-01-01T00:00:00+05:00"})) == []
    hour_id = time.SaveHour(
        Hour={"TypeOfWorkId": 10, "StartTime": "2026-11-02T07:00:00+01:00",
              "StopTime": "0001-01-01T00:00:00+01:00", "TotalHours": 1, "ContactId": 2001}
    )  # fmt: skip
    [stored] = [h for h in sandbox.state["Hour"] if h["Id"] == hour_id]
    assert (stored["StartTime"], stored["StopTime"]) == (
        "2026-11-02T06:00:00",
        "0001-01-01T00:00:00",
    )


# -- PersonService -----------------------------------------------------------------------------
@pytest.fixture
def people(sandbox):
    """The small company's persons with the fields the filters read."""
    with sandbox.lock:
        kari, ola, per = sandbox.state["PersonItem"]
        kari.update(ConsumerPersonNo="K-1", WorkPosition="Prosjektleder")
        ola.update(CustomerId=7)
        per["RelationData"] = {
            "RelationData": [{"ContactId": 2003, "CustomerId": 9, "Title": "Innkjøper"}]
        }
    return sandbox


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ({}, [2001, 2002, 2003]),
        ({"Id": 2002}, [2002]),
        ({"Id": 0}, [2001, 2002, 2003]),  # 0 is the WSDL default: no filter
        ({"EmployeeId": 1}, [2001]),
        ({"EmployeeId": 0}, [2001, 2002, 2003]),
        ({"CustomerId": 7}, [2002]),
        ({"CustomerId": 9}, [2003]),  # through a relation
        ({"CustomerId": 0}, [2001, 2002, 2003]),
        ({"ConsumerPersonNo": "K-1"}, [2001]),
        ({"ConsumerPersonNo": "K-2"}, []),
        ({"Email": "PER@kunde.no"}, [2003]),
        ({"Name": "nordmann"}, [2001]),
        ({"Name": "Ola Hansen"}, [2002]),
        ({"Name": "Ola Nordmann"}, []),
        ({"Phone": "93456789"}, [2002]),
        ({"Phone": "+47 934 56 789"}, [2002]),
        ({"Phone": "11111111"}, []),
        ({"Role": "prosjektleder"}, [2001]),
        ({"Role": "Innkjøper"}, [2003]),  # a relation's title
        ({"Role": "Sjef"}, []),
        ({"IsEmployee": "True"}, [2001, 2002]),
        ({"IsEmployee": "False"}, [2003]),
        ({"IsEmployee": "none"}, [2001, 2002, 2003]),
        ({"IsEmployee": "True", "Name": "a"}, [2001, 2002]),
        ({"IsEmployee": "True", "Phone": "912 34 567", "Name": "Ola"}, []),  # all must hold
    ],
)
def test_every_documented_person_filter_is_applied(soap, people, search, expected):
    assert ids(soap["person"].GetPersons(personSearch=search)) == expected


def test_relation_data_comes_only_when_asked_for(soap, people):
    def relations(get):
        [per] = soap["person"].GetPersons(personSearch={"Id": 2003, "GetRelationData": get})
        return per["RelationData"]

    assert relations(False) is None
    assert [(r["CustomerId"], r["Title"]) for r in relations(True)["RelationData"]] == [
        (9, "Innkjøper")
    ]


def test_save_person_with_id_0_creates_the_documented_new_person(soap, sandbox):
    person = soap["person"]
    new_id = person.SavePerson(personItem={"Id": 0, "FirstName": "Nora", "LastName": "Ny"})
    assert new_id == 2004
    assert person.SavePerson(personItem={"FirstName": "Uten", "LastName": "Id"}) == 2005
    assert person.SavePerson(personItem={"Id": 2004, "LastName": "Nyere"}) == 2004
    [nora] = person.GetPersons(personSearch={"Id": 2004})
    assert (nora["FirstName"], nora["LastName"]) == ("Nora", "Nyere")
    assert fault_of(person.SavePerson, personItem={"Id": 0, "FirstName": "A", "EmployeeId": 9}) == (
        "Employees cannot be created through PersonService"
    )
    assert fault_of(person.SavePerson, personItem={"Id": 999, "FirstName": "A"}) == (
        "Person with Id 999 does not exist"
    )
    assert len(sandbox.state["PersonItem"]) == 5


# -- ProjectService ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ({}, [1001, 1002]),
        ({"StartedAfter": "2026-01-01T00:00:00"}, [1001]),  # 1002 has no DateStart
        ({"StartedAfter": "2026-01-05T00:00:00"}, []),  # strictly after
        ({"StartedBefore": "2026-01-06T00:00:00"}, [1001]),
        ({"StartedBefore": "2026-01-05T00:00:00"}, []),
        ({"StartedAfter": "2026-01-04T23:30:00-01:00"}, []),  # 2026-01-05T00:30Z
        ({"StartedAfter": "2025-01-01T00:00:00", "StartedBefore": "2025-12-31T00:00:00"}, []),
        ({"ProjectIds": {"int": [1002, 1003]}}, [1002]),
        ({"ChangedAfter": "2026-06-01T00:00:00"}, [1001]),
        ({"Search": "kai"}, [1002]),
        ({"CustomerId": 5}, []),
        ({"MyProjects": False, "AllOpenProjects": False}, [1001, 1002]),  # the defaults
    ],
)
def test_project_search_filters(soap, search, expected):
    assert ids(soap["project"].GetProjectList(Ps=search)) == expected
    assert ids(soap["project"].GetProjectsDetailed(Ps=search)) == expected


def test_deactivated_single_and_saved_projects(soap, sandbox):
    project = soap["project"]
    assert ids(project.GetDeactivatedProjects(ps={})) == [1003]
    assert ids(project.GetDeactivatedProjects(ps={"StartedAfter": "2026-01-01T00:00:00"})) == []
    assert project.GetSingleProject(projectId=1001)["Name"] == "Skolebygg Nord"
    assert fault_of(project.GetSingleProject, projectId=4242) == (
        "Project with id 4242 was not found"
    )
    assert fault_of(project.GetProjectList, Ps={"MyProjects": True}) == (
        "System.NotSupportedException: MyProjects is not served by the sandbox"
    )
    new_id = project.SaveProject(project={"Name": "Ny", "NameDisplay": "Plain", "TimeReg": "Task"})
    assert new_id == 1004
    assert (
        project.SaveProject(
            project={"Id": 1004, "Name": "Nyere", "NameDisplay": "Plain", "TimeReg": "Task"}
        )
        == 1004
    )
    assert project.GetSingleProject(projectId=1004)["Name"] == "Nyere"


# -- TimeService -------------------------------------------------------------------------------
HOUR = {"TypeOfWorkId": 10, "StartTime": "2026-11-02T06:00:00Z", "StopTime": "2026-11-02T14:00:00Z",
        "TotalHours": 7.5, "ContactId": 2001, "ProjectId": 1001, "SalaryTypeId": 100}  # fmt: skip


@pytest.mark.parametrize(
    ("fields", "fault"),
    [
        ({"TotalHours": 255.5}, "System.ArgumentException: TotalHours cannot be more than 255"),
        (
            {"TotalHoursInvoice": 300},
            "System.ArgumentException: TotalHoursInvoice cannot be more than 255",
        ),
        ({"OrderId": 77}, "System.ArgumentException: OrderId is read-only"),
        ({"ContactId": 9999}, "System.ArgumentException: ContactId 9999 does not exist"),
        ({"SalaryTypeId": 1}, "System.ArgumentException: SalaryTypeId 1 does not exist"),
    ],
)
def test_save_hour_refuses_what_the_documentation_forbids_and_stores_nothing(
    soap, sandbox, fields, fault
):
    assert fault_of(soap["time"].SaveHour, Hour={**HOUR, **fields}) == fault
    assert sandbox.state["Hour"] == []


def test_save_hour_at_the_limits_and_read_back(soap, sandbox):
    time = soap["time"]
    hour_id = time.SaveHour(Hour={**HOUR, "TotalHours": 255, "TotalHoursInvoice": 255})
    assert hour_id == 5001
    [hour] = time.GetHours(hs={"ContactId": 2001})
    assert (hour["Id"], hour["TotalHours"], hour["TotalHoursInvoice"], hour["OrderId"]) == (
        5001,
        255,
        255,
        -2147483648,  # read-only, never set: the unset sentinel
    )
    assert ids(time.GetHours(hs={"HourIds": {"int": [5001]}, "Status": "Registered"})) == [5001]
    assert ids(time.GetHours(hs={"ProjectId": 1002})) == []
    assert fault_of(time.GetHours, hs={"HourIds": {"int": list(range(1001))}}) == (
        "HourIds can hold at most 1000 ids"
    )
    assert [w["Id"] for w in time.GetWorkTypeList(wts={"Active": "True"})] == [10]
    assert [w["Id"] for w in time.GetWorkTypeList(wts={"Active": "False"})] == [90]
    assert [w["Id"] for w in time.GetWorkTypeList(wts={})] == [10, 90]
    assert [(s["Id"], s["Active"]) for s in time.GetSalaryTypes()] == [(100, True)]


# -- the protocol, over raw HTTP ---------------------------------------------------------------
PERSONS = "/CRM/Contact/PersonService.asmx"
HAS_SESSION = f'<HasSession xmlns="{TNS}" />'
ENVELOPE = '<e:Envelope xmlns:e="{}"><e:Body>{}</e:Body></e:Envelope>'


def raw(sandbox, path, envelope_version, content_type, body=HAS_SESSION, **headers):
    return httpx.post(
        f"{sandbox.url}{path}",
        content=ENVELOPE.format(envelope_version, body),
        headers={"Content-Type": content_type, **headers},
    )


def fault(answer):
    """(code, text) of a SOAP 1.1 or 1.2 fault answer."""
    envelope = etree.fromstring(answer.content)
    if etree.QName(envelope).namespace == SOAP12:
        return (
            envelope.findtext(f".//{{{SOAP12}}}Code/{{{SOAP12}}}Value"),
            envelope.findtext(f".//{{{SOAP12}}}Reason/{{{SOAP12}}}Text"),
        )
    return envelope.findtext(".//faultcode"), envelope.findtext(".//faultstring")


def test_an_envelope_of_the_other_soap_version_is_a_version_mismatch(sandbox):
    auth = "/authenticate/v001/authenticate.asmx"
    as12 = raw(sandbox, auth, SOAP11, f'application/soap+xml; action="{TNS}/HasSession"')
    assert as12.status_code == 500
    assert as12.headers["content-type"] == "application/soap+xml; charset=utf-8"
    assert fault(as12) == (
        "soap:VersionMismatch",
        f"Possible SOAP version mismatch: Envelope namespace {SOAP11} was unexpected. "
        f"Expecting {SOAP12}.",
    )
    as11 = raw(sandbox, auth, SOAP12, "text/xml; charset=utf-8", SOAPAction=f"{TNS}/HasSession")
    assert (as11.status_code, as11.headers["content-type"]) == (500, "text/xml; charset=utf-8")
    assert fault(as11) == (
        "soap:VersionMismatch",
        f"Possible SOAP version mismatch: Envelope namespace {SOAP12} was unexpected. "
        f"Expecting {SOAP11}.",
    )
    json = raw(sandbox, auth, SOAP11, "application/json")
    assert (json.status_code, json.text) == (415, "Request format is invalid: application/json.")


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            {},
            "Unable to handle request without a valid action parameter. Please supply a valid "
            "soap action.",
        ),
        ({"SOAPAction": ""}, "Server did not recognize the value of HTTP Header SOAPAction: ."),
        (
            {"SOAPAction": f'"{TNS}/NoSuchThing"'},
            f"Server did not recognize the value of HTTP Header SOAPAction: {TNS}/NoSuchThing.",
        ),
        (
            {"SOAPAction": f"{TNS}/SavePerson"},  # an action of this service, not the body's
            "System.Web.Services.Protocols.SoapException: Server was unable to read request. "
            "---> System.InvalidOperationException: There is an error in XML document (1, 1). "
            "---> System.InvalidOperationException: <GetPersons "
            f"xmlns='{TNS}'> was not expected.",
        ),
    ],
)
def test_soap_11_is_dispatched_by_its_soap_action(sandbox, headers, expected):
    body = f'<GetPersons xmlns="{TNS}"><personSearch /></GetPersons>'
    answer = raw(sandbox, PERSONS, SOAP11, "text/xml; charset=utf-8", body, **headers)
    assert answer.status_code == 500
    assert fault(answer) == ("soap:Client", expected)


def test_soap_12_is_dispatched_by_its_action_parameter_or_else_its_body(sandbox):
    body = f'<GetPersons xmlns="{TNS}"><personSearch /></GetPersons>'
    wrong = raw(sandbox, PERSONS, SOAP12, f'application/soap+xml; action="{TNS}/Nope"', body)
    assert fault(wrong) == (
        "soap:Sender",
        f"Server did not recognize the value of HTTP Header SOAPAction: {TNS}/Nope.",
    )
    # No action: routed by the body's element, as ASMX does for SOAP 1.2; it then needs a
    # session, which proves it reached GetPersons.
    unnamed = raw(sandbox, PERSONS, SOAP12, "application/soap+xml; charset=utf-8", body)
    assert fault(unnamed) == ("soap:Receiver", "Session is not authenticated")


@pytest.mark.parametrize(
    ("method", "query", "allow"),
    [
        ("GET", "", "POST"),
        ("PUT", "", "POST"),
        ("DELETE", "", "POST"),
        ("PATCH", "", "POST"),
        ("OPTIONS", "", "POST"),
        ("TRACE", "", "POST"),
        ("POST", "?wsdl", "GET, HEAD"),
        ("PUT", "?WSDL", "GET, HEAD"),
    ],
)
def test_methods_a_resource_does_not_take_are_405_with_allow(sandbox, method, query, allow):
    answer = httpx.request(method, f"{sandbox.url}{PERSONS}{query}")
    assert (answer.status_code, answer.headers["allow"]) == (405, allow)
    assert answer.text == (
        f"The HTTP verb {method} used to access path '{PERSONS}' is not allowed."
    )


def test_head_of_the_wsdl_is_its_get_without_the_body(sandbox):
    get = httpx.get(f"{sandbox.url}{PERSONS}?wsdl")
    head = httpx.head(f"{sandbox.url}{PERSONS}?wsdl")
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-length"] == str(len(get.content))


@pytest.mark.parametrize("version", [SOAP11, SOAP12])
def test_a_handler_error_is_a_soap_fault_not_a_json_500(
    clients, sandbox, http, monkeypatch, version
):
    """An exception in a handler is answered as ASMX answers an unhandled exception: a
    server fault in the request's SOAP version, which zeep reads as a Fault."""

    def broken(soap, args):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(sandbox, "_op_GetSalaryTypes", broken)
    svc = services(clients, sandbox, version)
    use_session(http, svc["auth"].Login(credential=DEFAULT_CREDENTIALS))
    try:
        svc["auth"].SetIdentityById(identityId=DATA_IDENTITY)
        with pytest.raises(Fault) as caught:
            svc["time"].GetSalaryTypes()
    finally:
        use_session(http, None)
    assert caught.value.code == ("soap:Receiver" if version == SOAP12 else "soap:Server")
    assert caught.value.message == (
        "System.Web.Services.Protocols.SoapException: Server was unable to process request. "
        "---> System.Exception: ZeroDivisionError: division by zero"
    )


def test_the_small_company_is_what_these_tests_assume():
    """The expectations above are read off this company: guard them against its changing."""
    company = small_company()
    assert [(p["Id"], p.get("EmployeeId")) for p in company["PersonItem"]] == [
        (2001, 1),
        (2002, 2),
        (2003, None),
    ]
    assert [
        (p["Id"], p.get("DateStart"), bool(p.get("_Deactivated"))) for p in company["Project"]
    ] == [
        (1001, "2026-01-05T00:00:00", False),
        (1002, None, False),
        (1003, None, True),
    ]
