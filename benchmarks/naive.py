"""The naive baseline of the scale benchmark: what a first integration would do, record by record.

One request at a time over one kept-alive connection per system (plain httpx for the REST APIs,
zeep over the shipped WSDLs for 24SevenOffice's SOAP services): for each record, read it from
the source by its id, then write it to the target. No diff, no ledger, no concurrency, no
retries. Per flow:

- projects: 24SevenOffice ``GetSingleProject`` -> SmartDok ``POST /Projects``;
- employees: 24SevenOffice ``GetPersons`` (by Id) -> SmartDok ``POST /Users``;
- hours: SmartDok ``GET /WorkHours/v2`` (a page of one at the hour's place among the hours of
  its day and project) -> 24SevenOffice ``SaveHour``;
- payroll-employees: AlexisHR ``GET /employee/{id}`` -> payroll ``POST /employee/v2``;
- absences: AlexisHR ``GET /leave/{id}`` -> payroll ``POST /absence/v2``.

Which records to visit is taken from the source sandbox's state (``GET /_sandbox/state``) before
the clock starts: a real naive integration would list them first, one request more. The writes
are create-shaped with a minimal mapping and the answer's status is only counted (a 4xx for a
record that exists already is still a request of the same kind): the baseline is, if anything,
cheaper than a real naive integration that would look each record up in the target first, so
the ratio against it is conservative. The login of each system is made before the clock starts.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import requests
import zeep
from zeep.transports import Transport

WSDL = (
    Path(__file__).resolve().parents[1]
    / "plugins"
    / "twentyfourseven"
    / "fjordsync_twentyfourseven"
    / "wsdl"
)
TNS = "{http://24sevenOffice.com/webservices}"
SOAP_SERVICES = {  # service -> (WSDL file, binding, path), as 24SevenOffice documents them
    "auth": ("authService.wsdl", "AuthenticateSoap", "/authenticate/v001/authenticate.asmx"),
    "person": ("personService.wsdl", "PersonServiceSoap", "/CRM/Contact/PersonService.asmx"),
    "project": ("projectService.wsdl", "ProjectServiceSoap", "/Project/V001/ProjectService.asmx"),
    "time": ("timeService.wsdl", "TimeServiceSoap", "/timesheet/v001/timeservice.asmx"),
}


@dataclass
class NaiveResult:
    flow: str
    records: int  # records visited (read, then written)
    seconds: float  # the loop over them, one request at a time
    requests: int
    write_errors: int  # writes the target refused (counted, not retried)

    @property
    def ms_per_record(self) -> float:
        return self.seconds * 1000 / self.records if self.records else 0.0


class _Soap:
    """24SevenOffice's SOAP services through zeep, one session (its cookie in requests' jar)."""

    def __init__(self, url: str, credentials: dict[str, str], identity: str) -> None:
        self.session = requests.Session()
        transport = Transport(session=self.session)
        self.services: dict[str, Any] = {}
        for name, (wsdl, binding, path) in SOAP_SERVICES.items():
            client = zeep.Client(str(WSDL / wsdl), transport=transport)
            self.services[name] = client.create_service(f"{TNS}{binding}", f"{url}{path}")
        self.services["auth"].Login(credential=credentials)
        self.services["auth"].SetIdentityById(identityId=identity)

    def close(self) -> None:
        self.session.close()


def _smartdok(url: str, api_token: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=60)
    answer = client.post("/Authorize/ApiToken", json={"Token": api_token}).json()
    token = answer if isinstance(answer, str) else answer.get("Token") or answer.get("token")
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def _payroll(url: str, access_token: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=60)
    bearer = client.get("/auth", params={"token": access_token}).json()["accessToken"]
    client.headers["Authorization"] = f"Bearer {bearer}"
    return client


def _alexis(url: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=url, timeout=60, headers={"Authorization": f"Bearer {token}"})


def _refused(response: httpx.Response) -> int:
    return 1 if response.status_code >= 400 else 0


def run_naive(flow: str, systems: Any, sample: int, period: list[str] | None = None) -> NaiveResult:
    """The naive loop over the first ``sample`` records of ``flow``'s source, against
    ``systems`` (a company.Systems of its own: the baseline writes to its targets)."""
    from fjordsync_alexis.sandbox import DEFAULT_TOKEN
    from fjordsync_smartdok.sandbox import DEFAULT_API_TOKEN
    from fjordsync_twentyfourseven.sandbox import (
        DEFAULT_ACCESS_TOKEN,
        DEFAULT_CREDENTIALS,
        DEFAULT_IDENTITIES,
    )

    urls = {name: server.url for name, server in systems.servers.items()}
    erp_url = urls["twentyfourseven"]
    if flow in ("projects", "employees", "hours"):
        soap = _Soap(erp_url, dict(DEFAULT_CREDENTIALS), DEFAULT_IDENTITIES[0]["Id"])
        smartdok = _smartdok(urls["smartdok"], DEFAULT_API_TOKEN)
        closers = [soap.close, smartdok.close]
    else:
        alexis = _alexis(f"{urls['alexis']}/v1", DEFAULT_TOKEN)
        payroll = _payroll(f"{erp_url}/payroll/api", DEFAULT_ACCESS_TOKEN)
        closers = [alexis.close, payroll.close]
    errors = 0
    try:
        if flow == "projects":
            ids = [p["Id"] for p in systems.state("twentyfourseven")["Project"]][:sample]
            started = time.perf_counter()
            for project_id in ids:
                project = soap.services["project"].GetSingleProject(projectId=project_id)
                body = {
                    "ProjectName": str(project["Name"] or "")[:70] or "-",
                    "ProjectNumber": str(project["Id"]),
                }
                errors += _refused(smartdok.post("/Projects", json=body))
        elif flow == "employees":
            ids = [p["Id"] for p in systems.state("twentyfourseven")["PersonItem"]][:sample]
            started = time.perf_counter()
            for person_id in ids:
                found = soap.services["person"].GetPersons(personSearch={"Id": person_id}) or []
                person = found[0] if found else {}
                number = str(person["EmployeeId"] if person else person_id)
                body = {
                    "UserName": f"naive{number}",
                    "Name": f"{person['FirstName'] if person else ''} {person_id}",
                    "Email": f"naive{number}@example.com",
                    "EmployeeNo": number,
                    "Password": "Naive-baseline-1",
                }
                errors += _refused(smartdok.post("/Users", json=body))
        elif flow == "hours":
            # Each hour read by its own day and project (a page of one at its place among
            # them): a read over the whole period would have the sandbox convert every hour of
            # it for each request, and the baseline would measure the sandbox.
            hours = systems.state("smartdok")["WorkHours"]
            places: dict[tuple[str, Any], int] = {}
            visits = []
            for hour in hours:
                where = (str(hour.get("Date") or "")[:10], hour.get("ProjectID"))
                visits.append((where, places.get(where, 0)))
                places[where] = places.get(where, 0) + 1
            ids = visits[:sample]
            started = time.perf_counter()
            for (day, project), offset in ids:
                query = {"fromDate": day, "toDate": day, "offset": offset, "count": 1}
                if project is not None:
                    query["projectId"] = project
                page = smartdok.get("/WorkHours/v2", params=query)
                items = page.json().get("Items") or [{}] if page.status_code == 200 else [{}]
                hour = items[0] if items else {}
                body = {
                    "StartTime": f"{str(hour.get('Date') or day)[:10]}T07:00:00",
                    "TotalHours": float(hour.get("Hours") or hour.get("NetHours") or 1.0),
                    "InternalNote": f"naive:{hour.get('WorkHourID') or hour.get('Id')}",
                }
                try:
                    soap.services["time"].SaveHour(Hour=body)
                except zeep.exceptions.Fault:
                    errors += 1
        elif flow == "payroll-employees":
            ids = [e["id"] for e in systems.state("alexis")["employee"]][:sample]
            started = time.perf_counter()
            for number, employee_id in enumerate(ids):
                employee = alexis.get(f"/employee/{employee_id}").json()
                record = employee.get("data", employee) if isinstance(employee, dict) else {}
                body = {
                    "empId": str(90000 + number),
                    "firstname": str(record.get("firstName") or ""),
                    "lastname": str(record.get("lastName") or ""),
                }
                errors += _refused(payroll.post("/employee/v2", json=body))
        elif flow == "absences":
            ids = [leave["id"] for leave in systems.state("alexis")["leave"]][:sample]
            emp_ids = [e.get("empId") for e in systems.state("twentyfourseven")["payroll/employee"]]
            started = time.perf_counter()
            for number, leave_id in enumerate(ids):
                leave = alexis.get(f"/leave/{leave_id}").json()
                record = leave.get("data", leave) if isinstance(leave, dict) else {}
                body = {
                    "empId": emp_ids[number % len(emp_ids)] if emp_ids else "1",
                    "absenceType": "01",
                    "startDate": str(record.get("startDate") or "")[:10],
                    "endDate": str(record.get("endDate") or "")[:10],
                    "externalId": f"naive-{leave_id}",
                }
                errors += _refused(payroll.post("/absence/v2", json=body))
        else:
            raise ValueError(f"no naive baseline for {flow}")
        seconds = time.perf_counter() - started
    finally:
        for close in closers:
            close()
    # Two requests per record: its read and its write.
    return NaiveResult(flow, len(ids), seconds, 2 * len(ids), errors)
