"""The sandbox's indexes give the answers a scan of the state gives, and a sandbox served in a
process of its own (the kit's SandboxProcess) is the same sandbox over HTTP."""

from __future__ import annotations

import http.client
import json
import re

from tfso_fixtures import small_company

from fjordsync.testing.sandbox import Request, SandboxProcess
from fjordsync_twentyfourseven.sandbox import DEFAULT_CREDENTIALS, TwentyFourSevenSandbox
from fjordsync_twentyfourseven.sandbox.soap import SOAP11, TNS

TIME = "/timesheet/v001/timeservice.asmx"


def _envelope(body: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{SOAP11}">'
        f"<soap:Body>{body}</soap:Body></soap:Envelope>"
    ).encode()


def _post(sandbox, path, operation, body, session=None):
    headers = {"content-type": "text/xml; charset=utf-8", "soapaction": f'"{TNS}/{operation}"'}
    if session:
        headers["cookie"] = f"ASP.NET_SessionId={session}"
    return sandbox.handle(Request("POST", path, [], headers, _envelope(body)))


def _login(sandbox):
    c = DEFAULT_CREDENTIALS
    answer = _post(
        sandbox,
        "/authenticate/v001/authenticate.asmx",
        "Login",
        f'<Login xmlns="{TNS}"><credential><ApplicationId>{c["ApplicationId"]}</ApplicationId>'
        f"<Password>{c['Password']}</Password><Username>{c['Username']}</Username>"
        "</credential></Login>",
    )
    return re.search(rb"LoginResult>(\w+)<", answer.body).group(1).decode()


def _save_hour(sandbox, session, contact, hour_id=None):
    known = f"<Id>{hour_id}</Id>" if hour_id is not None else ""
    answer = _post(
        sandbox,
        TIME,
        "SaveHour",
        f'<SaveHour xmlns="{TNS}"><Hour>{known}<TypeOfWorkId>10</TypeOfWorkId>'
        "<StartTime>2026-11-02T07:00:00</StartTime><TotalHours>7.5</TotalHours>"
        f"<ContactId>{contact}</ContactId><Description>x</Description>"
        "</Hour></SaveHour>",
        session,
    )
    found = re.search(rb"SaveHourResult>(-?\d+)<", answer.body)
    return answer.status, int(found.group(1)) if found else answer.body


def test_ids_follow_the_state_however_it_changes():
    sandbox = TwentyFourSevenSandbox(small_company())
    session = _login(sandbox)
    contact = sandbox.state["PersonItem"][0]["Id"]
    status, first = _save_hour(sandbox, session, contact)
    assert status == 200
    assert _save_hour(sandbox, session, contact) == (200, first + 1)
    # A record appended to the state by hand, and a state replaced: the next ids follow them.
    sandbox.state["Hour"].append({"Id": 9000, "ContactId": contact})
    assert _save_hour(sandbox, session, contact) == (200, 9001)
    sandbox.state = sandbox.normalise_state({**small_company(), "Hour": [{"Id": 7000}]})
    assert _save_hour(sandbox, session, contact) == (200, 7001)
    # An update finds the hour; an unknown hour and an unknown contact are faults as before.
    assert _save_hour(sandbox, session, contact, hour_id=7000) == (200, 7000)
    assert sandbox.state["Hour"][0]["Description"] == "x"
    status, body = _save_hour(sandbox, session, contact, hour_id=6999)
    assert status == 500 and b"Hour 6999 does not exist" in body
    # A person put in place of another (same length): the index notices.
    sandbox.state["PersonItem"][0] = {**sandbox.state["PersonItem"][0], "Id": 4242}
    status, body = _save_hour(sandbox, session, contact)
    assert status == 500 and f"ContactId {contact} does not exist".encode() in body
    assert _save_hour(sandbox, session, 4242) == (200, 7002)


def _get(url, path):
    host, _, port = url.removeprefix("http://").partition(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request("GET", path)
        answer = connection.getresponse()
        return answer.status, json.loads(answer.read() or b"null")
    finally:
        connection.close()


def test_a_sandbox_in_a_process_of_its_own_serves_its_state_and_stats():
    served = SandboxProcess(TwentyFourSevenSandbox, small_company(), requests_per_hour=5)
    try:
        status, state = _get(served.url, "/_sandbox/state")
        assert status == 200
        assert state["PersonItem"] == small_company()["PersonItem"]
        status, stats = _get(served.url, "/_sandbox/stats")
        assert status == 200
        assert stats["total_requests"] == 0 and stats["handler_ms"] == 0.0
        assert _get(served.url, "/_sandbox/usage") == (200, [])
        status, _ = _get(served.url, "/payroll/api/employee/v2")
        assert status == 401  # no token: handled by the vendor API
        status, stats = _get(served.url, "/_sandbox/stats")
        assert stats["total_requests"] == 1 and stats["handler_ms"] > 0
    finally:
        served.stop()
    assert served._process.returncode == 0
