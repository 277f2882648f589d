"""Flow 3 end to end: attested SmartDok hours reach 24SevenOffice exactly once, through lost
answers, server errors and a process killed mid-run; references that do not resolve are invalid
with the fix named."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from fjordsync_smartdok.sandbox import SmartDokSandbox
from fjordsync_twentyfourseven.sandbox import (
    TwentyFourSevenSandbox,
)

from .conftest import erp_and_smartdok_config, erp_smartdok_env, fjordsync

ENV = erp_smartdok_env()
FJORDSYNC = str(Path(sys.executable).parent / "fjordsync")


def erp_state():
    return {
        "Project": [
            {"Id": 1001, "Name": "Skolebygg", "NameDisplay": "Plain", "TimeReg": "WorkType"}
        ],
        "PersonItem": [
            {"Id": 2000 + n, "EmployeeId": n, "FirstName": "Ansatt", "LastName": str(n)}
            for n in range(1, 6)
        ],
        "WorkType": [{"Id": 10, "Name": "Ordinær"}, {"Id": 11, "Name": "Overtid"}],
        "SalaryType": [{"Id": 100, "Name": "Timelønn", "Active": True}],
    }


def hour(hour_id, number, day, code="10", wage="100", project="1001", attested=True):
    return {
        "CompanyID": 1,
        "UserID": f"u{number}",
        "EmployeeNo": number,
        "WorkHourID": hour_id,
        "ForemanAttested": True,
        "ProjectAdminAttested": True,
        "AdminAttested": attested,
        "Exported": False,
        "Invoiced": False,
        "Date": f"{day}T00:00:00Z",
        "DepartmentIDsProject": [],
        "WorkDescriptionId": 1,
        "WageId": 1,
        "WageCode": wage,
        "WageAddition": False,
        "UnitAddition": False,
        "Diet": False,
        "TimeKontoLine": False,
        "OrdinaryHoursFrom": 7.0,
        "OrdinaryHoursTo": 15.0,
        "OrdinaryHours": 8.0,
        "BreakTime": 0.5,
        "NetHours": 7.5,
        "Comment": "Forskaling",
        "AdminComment": "",
        "WorkDescriptionCode": code,
        "WorkDescription": "Arbeid",
        "IsOrder": False,
        "ProjectID": 501,
        "ProjectNo": project,
        "ProjectNumber": project,
        "ProjectName": "Skolebygg",
        "ExportedExternal": False,
        "ExportedExternalId": None,
        "LastUpdated": f"{day}T16:00:00Z",
    }


def smartdok_state(count):
    days = [f"2026-10-{d:02d}" for d in range(1, 31)]
    hours = [hour(9000 + n, str(2001 + n % 5), days[n % 30]) for n in range(count)]
    hours += [
        hour(8001, "2001", "2026-10-05", code="01.1"),
        hour(8002, "2001", "2026-10-06", project="7777"),
        hour(8003, "2999", "2026-10-07"),
        hour(8004, "2001", "2026-10-08", wage="120"),
        hour(8005, "2001", "2026-10-09", attested=False),
    ]
    return {"WorkHours": hours}


@pytest.fixture
def systems(tmp_path):
    def start(count=40, faults=""):
        from fjordsync.testing.sandbox import FaultSpec

        erp = TwentyFourSevenSandbox(erp_state(), FaultSpec.parse(faults)).start()
        sd = SmartDokSandbox(smartdok_state(count)).start()
        config = tmp_path / "fjordsync.toml"
        config.write_text(
            erp_and_smartdok_config(erp.url, sd.url)
            + textwrap.dedent("""
            [tenants.acme.flows.hours]
            source = "time"
            target = "erp"
            """),
            encoding="utf-8",
        )
        started.extend([erp, sd])
        return erp, sd, config

    started: list = []
    yield start
    for server in started:
        server.stop()


def fjordsync_hours(config, *extra, env=ENV):
    """``fjordsync run hours --json`` over October, the month the generated hours are in."""
    return fjordsync(
        "run",
        "hours",
        "--config",
        str(config),
        "--from",
        "2026-10-01",
        "--to",
        "2026-10-31",
        "--json",
        *extra,
        env=env,
    )


def run_hours(config, *extra):
    result = fjordsync_hours(config, *extra)
    return result.returncode, json.loads(result.stdout) if result.stdout.strip() else None


def notes_in(erp):
    return Counter(h["InternalNote"] for h in erp.state["Hour"])


def test_references_that_do_not_resolve_are_invalid_with_the_fix(systems):
    erp, sd, config = systems(count=3)
    code, document = run_hours(config)
    assert (code, document["status"]) == (1, "partial")
    messages = {i["key"]: i["message"] for i in document["items"] if i["outcome"] == "invalid"}
    assert messages == {
        "8001": "activity code 01.1 has no Work Type ID 01.1 in 24SevenOffice: set Kode under "
        "Firmaopplysninger -> Aktiviteter",
        "8002": "project number 7777 has no Project id 7777 in 24SevenOffice: set the "
        "prosjektnummer (Pro.Nr) of the project in SmartDok",
        "8003": "employee number 2999 has no Contact id 2999 in 24SevenOffice: set "
        "Ansattnummer under Firmaopplysninger -> Brukeroversikt in SmartDok",
        "8004": "wage code 120 has no Salary Type ID 120 in 24SevenOffice: set Kode under "
        "Firmaopplysninger -> Lønnsarter",
    }
    assert "8005" not in {i["key"] for i in document["items"]}  # not attested: not read
    [saved] = [h for h in erp.state["Hour"] if h["InternalNote"] == "fjordsync:acme:9000"]
    assert (
        saved["ContactId"],
        saved["ProjectId"],
        saved["TypeOfWorkId"],
        saved["SalaryTypeId"],
        saved["TotalHours"],
        saved["StartTime"],
        saved["StopTime"],
        saved["Description"],
    ) == (2001, 1001, 10, 100, "7.5", "2026-10-01T05:00:00", "2026-10-01T13:00:00", "Forskaling")
    marked = {
        h["WorkHourID"]: h["ExportedExternalId"]
        for h in sd.state["WorkHours"]
        if h["ExportedExternal"]
    }
    assert marked == {9000: "fjordsync-acme", 9001: "fjordsync-acme", 9002: "fjordsync-acme"}


def test_an_hour_edited_after_transfer_updates_the_same_hour_unless_approved(systems):
    erp, sd, config = systems(count=2)
    run_hours(config)
    first = {h["InternalNote"]: h["Id"] for h in erp.state["Hour"]}
    sd.state["WorkHours"][0]["NetHours"] = 6.0
    sd.state["WorkHours"][1]["NetHours"] = 5.0
    # The ERP's hours are in the order their SaveHours arrived (up to four at once): find 9001's.
    [approved] = [h for h in erp.state["Hour"] if h["InternalNote"] == "fjordsync:acme:9001"]
    approved["Approved"] = "True"
    _, document = run_hours(config)
    by_key = {i["key"]: i for i in document["items"]}
    assert (by_key["9000"]["action"], by_key["9000"]["outcome"]) == ("update", "written")
    assert by_key["9001"]["outcome"] == "conflict"
    assert by_key["9001"]["message"] == (
        "the hour was changed in SmartDok after transfer, but it is approved in 24SevenOffice: "
        "change it there by hand"
    )
    after = {h["InternalNote"]: (h["Id"], h["TotalHours"]) for h in erp.state["Hour"]}
    assert after["fjordsync:acme:9000"] == (first["fjordsync:acme:9000"], "6.0")
    assert len(erp.state["Hour"]) == 2


def test_every_hour_exactly_once_through_faults_and_a_killed_process(systems, tmp_path):
    erp, _, config = systems(count=120, faults="lost=0.3,5xx=0.1,latency=15,seed=9")
    process = subprocess.Popen(
        [
            FJORDSYNC,
            "run",
            "hours",
            "--config",
            str(config),
            "--from",
            "2026-10-01",
            "--to",
            "2026-10-31",
        ],
        env={**os.environ, **ENV},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while len(erp.state["Hour"]) < 30 and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)  # dies mid-run, with writes in flight
    process.wait()
    assert 0 < len(erp.state["Hour"]) < 120
    for _ in range(6):
        code, document = run_hours(config)
        if document and document["counts"].get("written", 0) == 0 and code == 1:
            break
    httpx.post(f"{erp.url}/_sandbox/faults", content="")
    code, document = run_hours(config)
    notes = notes_in(erp)
    assert len(notes) == 120 and set(notes.values()) == {1}  # every hour, once
    assert document["counts"] == {"invalid": 4, "unchanged": 120}


def test_a_long_run_reports_progress_in_plain_lines_off_a_terminal(systems):
    _, _, config = systems(count=40)
    result = fjordsync(
        "run",
        "hours",
        "--config",
        str(config),
        "--from",
        "2026-10-01",
        "--to",
        "2026-10-31",
        env=ENV,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("hours: ")]
    assert lines[-1] == "hours: 40/40 written"
    assert 5 <= len(lines) <= 11


def test_hours_sharing_a_workhourid_in_smartdok_are_conflicts_and_neither_is_sent(systems):
    erp, sd, config = systems(count=2)
    twin = dict(sd.state["WorkHours"][0], NetHours=3.0, Comment="Annen")
    sd.state["WorkHours"].append(twin)
    code, document = run_hours(config)
    by_key = {i["key"]: i for i in document["items"]}
    assert (by_key["9000"]["outcome"], by_key["9000"]["message"]) == (
        "conflict",
        "2 source records share key '9000': none is written until one is left",
    )
    assert code == 1
    assert set(notes_in(erp)) == {"fjordsync:acme:9001"}
    marked = {h["WorkHourID"] for h in sd.state["WorkHours"] if h["ExportedExternal"]}
    assert marked == {9001}
