"""Flows 1 and 2 end to end: `fjordsync run` as a user runs it, against the 24SevenOffice and
SmartDok sandboxes over HTTP; the target sandbox's state is compared with the exact records."""

from __future__ import annotations

import json
import textwrap

import pytest

from fjordsync_smartdok.sandbox import SmartDokSandbox
from fjordsync_twentyfourseven.sandbox import (
    TwentyFourSevenSandbox,
)

from .conftest import erp_and_smartdok_config, erp_smartdok_env, fjordsync

LONG_NAME = (
    "Oppgradering av Bjørkeveien bru med ny gangbane, rekkverk og belysning i begge retninger"
)
ENV = erp_smartdok_env()


def erp_state():
    def project(pid, name, **fields):
        return {
            "Id": pid,
            "Name": name,
            "NameDisplay": "Plain",
            "TimeReg": "WorkType",
            "DateChanged": "2026-11-01T00:00:00",
            **fields,
        }

    def person(cid, first, last, email, mobile):
        record = {
            "Id": cid,
            "EmployeeId": cid - 2000,
            "FirstName": first,
            "LastName": last,
            "PhoneNumbers": {"PhoneNumber": [{"Type": "Mobile", "Value": mobile}]},
        }
        if email:
            record["EmailAddresses"] = {"EmailAddress": [{"Type": "Primary", "Value": email}]}
        return record

    return {
        "Project": [
            project(
                1001,
                "Skolebygg Nord",
                CustomerName="Fjordvik kommune",
                DateStart="2026-01-05T00:00:00",
            ),
            project(
                1002, LONG_NAME, DateStart="2026-03-01T00:00:00", DateStop="2026-12-18T00:00:00"
            ),
            project(1003, "Riving av gammelt lager", _Deactivated=True),
        ],
        "PersonItem": [
            person(2001, "Kari", "Nordmann", "kari@fjordbygg.no", "+47 912 34 567"),
            person(2002, "Ola", "Hansen", "ola@fjordbygg.no", "+47 934 56 789"),
            person(2003, "Per", "Berg", None, "+47 955 00 111"),
            person(2004, "Ida", "Lie", "ida@fjordbygg.no", "+47 977 00 222"),
            person(2005, "Tor", "Moen", "tor@fjordbygg.no", "+47 988 00 333"),
        ],
    }


def smartdok_state():
    return {
        "Projects": [
            {
                "Id": 501,
                "ProjectName": "Skolebygg (gammelt navn)",
                "ProjectNumber": "1001 ",
                "IsActive": True,
                "Departments": [],
                "IsAbsenceProject": False,
                "IsOrder": False,
                "Location": "Fjordvik",
                "ProjectOwnerName": "Per Prosjektleder",
                "ProjectOwnerEmail": "",
                "ProjectOwnerMobile": "",
                "ClientCompanyName": "",
                "ClientCompanyContact": "",
                "ClientCompanyEmail": "",
                "ClientCompanyMobile": "",
                "DescriptionText": "",
                "DocumentUrl": "",
                "CalcuatedTimeConsumption": 0,
                "CalculatedTimeConsumption": 0,
                "InternalCostPerHour": 0,
                "HourlyRate": 650.0,
                "Finished": False,
                "ToBeInvoiced": False,
                "UserIds": [],
                "TimeConsumption": 0,
                "Updated": "2026-01-01T00:00:00Z",
                "Created": "2026-01-01T00:00:00Z",
            }
        ],
        "Users": [
            {
                "Id": "11111111-1111-4111-8111-111111111111",
                "UserName": "91234567",
                "Name": "Kari Nordmann",
                "Email": "kari@fjordbygg.no",
                "PhonePrefix": "47",
                "PhoneNumber": "90000000",
                "Role": "User",
                "IsEnded": False,
                "EmployeeNo": "2001",
                "GroupId": 1,
                "GroupName": "Ansatte",
                "LanguageCode": "nb-NO",
                "AccessLevelId": "00000000-0000-0000-0000-000000000001",
                "IsLockedOut": False,
                "IsDeleted": False,
                "IsContactPerson": False,
                "LastActivityTime": "2026-01-01T00:00:00Z",
                "CreatedDate": "2026-01-01T00:00:00Z",
            }
        ],
        "LicenseInfo": {"AvailableLicenses": 2, "TotalLicenses": 3},
    }


@pytest.fixture
def systems(tmp_path):
    with TwentyFourSevenSandbox(erp_state()) as erp, SmartDokSandbox(smartdok_state()) as sd:
        config = tmp_path / "fjordsync.toml"
        config.write_text(
            erp_and_smartdok_config(erp.url, sd.url)
            + textwrap.dedent("""
            [tenants.acme.connections.refuses]
            plugin = "memory"
            settings = { read_only = true }
            [tenants.acme.flows.projects]
            source = "erp"
            target = "time"
            [tenants.acme.flows.employees]
            source = "erp"
            target = "time"
            """),
            encoding="utf-8",
        )
        yield erp, sd, config


def run(config, *args):
    result = fjordsync("run", *args, "--config", str(config), "--json", env=ENV)
    return result.returncode, json.loads(result.stdout)


def test_projects_end_to_end_then_nothing_left_to_write(systems):
    _, sd, config = systems
    code, document = run(config, "projects")
    assert (code, document["status"], document["counts"]) == (0, "succeeded", {"written": 3})
    projects = {p["ProjectNumber"].strip(): p for p in sd.state["Projects"]}
    school = projects["1001"]
    assert (
        school["Id"],
        school["ProjectName"],
        school["ClientCompanyName"],
        school["StartDate"],
        school["IsActive"],
    ) == (501, "Skolebygg Nord", "Fjordvik kommune", "2026-01-05T00:00:00Z", True)
    assert (school["Location"], school["ProjectOwnerName"], school["HourlyRate"]) == (
        "Fjordvik",
        "Per Prosjektleder",
        650.0,
    )  # not the flow's: untouched
    bridge = projects["1002"]
    assert (bridge["ProjectName"], bridge["StartDate"], bridge["EndDate"]) == (
        LONG_NAME[:70],
        "2026-03-01T00:00:00Z",
        "2026-12-18T00:00:00Z",
    )
    assert projects["1003"]["IsActive"] is False
    cut = next(i for i in document["items"] if i["key"] == "1002")
    assert cut["message"] == (
        f"the name is {len(LONG_NAME)} characters; SmartDok takes 70, so it was cut"
    )
    writes_before = sum(sd.writes.values())
    code, again = run(config, "projects")
    assert (code, again["status"], again["counts"]) == (0, "succeeded", {})
    assert sum(sd.writes.values()) == writes_before  # zero write requests on a re-run


def test_employees_end_to_end_with_missing_email_and_licence_shortage(systems):
    _, sd, config = systems
    code, document = run(config, "employees")
    assert (code, document["status"]) == (1, "partial")
    outcomes = {i["key"]: (i["action"], i["outcome"]) for i in document["items"]}
    assert outcomes == {
        "2001": ("update", "written"),
        "2002": ("create", "written"),
        "2003": ("invalid", "invalid"),
        "2004": ("create", "written"),
        "2005": ("invalid", "invalid"),
    }
    messages = {i["key"]: i["message"] for i in document["items"]}
    assert messages["2003"] == (
        "has no e-mail address, which SmartDok needs to create a user: "
        "add a primary e-mail to the contact in 24SevenOffice"
    )
    assert messages["2005"] == (
        "no free SmartDok licence (1 missing): buy more or end users who have left"
    )
    assert document["notes"] == ["1 SmartDok licence(s) missing: 3 new users, 2 free"]
    kari = next(u for u in sd.state["Users"] if u["EmployeeNo"] == "2001")
    assert (kari["PhoneNumber"], kari["UserName"]) == ("91234567", "91234567")
    update = next(i for i in document["items"] if i["key"] == "2001")
    assert update["changes"] == [{"field": "mobile", "old": "+47 90000000", "new": "+47 91234567"}]
    ola = next(u for u in sd.state["Users"] if u["EmployeeNo"] == "2002")
    assert {
        k: ola[k] for k in ("Name", "Email", "PhonePrefix", "PhoneNumber", "UserName", "Role")
    } == {
        "Name": "Ola Hansen",
        "Email": "ola@fjordbygg.no",
        "PhonePrefix": "47",
        "PhoneNumber": "93456789",
        "UserName": "93456789",
        "Role": "User",
    }
    writes_before = sum(sd.writes.values())
    code, again = run(config, "employees")
    assert again["counts"] == {"invalid": 2, "unchanged": 3}
    assert sum(sd.writes.values()) == writes_before


def test_a_dry_run_against_a_target_that_refuses_every_write(systems):
    config = systems[2]
    text = config.read_text().replace(
        '[tenants.acme.flows.projects]\nsource = "erp"\ntarget = "time"',
        '[tenants.acme.flows.projects]\nsource = "erp"\ntarget = "refuses"',
    )
    config.write_text(text)
    code, document = run(config, "projects", "--dry-run")
    assert (code, document["dry_run"], document["counts"]) == (0, True, {"planned": 3})
    table = fjordsync("run", "projects", "--config", str(config), "--dry-run", env=ENV)
    assert "dry run: nothing written" in table.stdout
    failing = fjordsync("run", "projects", "--config", str(config), env=ENV)
    assert failing.returncode == 2  # a real run against it fails every write


def test_check_finds_each_misalignment_and_proposes_the_counterpart(systems):
    _, sd, config = systems
    user = sd.state["Users"][0]
    sd.state["Users"].append(
        {
            **user,
            "Id": "22222222-2222-4222-8222-222222222222",
            "EmployeeNo": "17",
            "Name": "Ola Hansen",
            "Email": "ola@fjordbygg.no",
        }
    )
    sd.state["Projects"].append(
        {
            **sd.state["Projects"][0],
            "Id": 502,
            "ProjectNumber": "P-7",
            "ProjectName": "Riving av gammelt lager",
        }
    )
    sd.state["WorkDescriptions"] = [
        {
            "Id": 1,
            "Name": "Ordinær",
            "Number": "01.1",
            "IsActive": True,
            "Price": 0,
            "InternalRate": 0,
        }
    ]
    result = fjordsync("check", "employees", "--config", str(config), "--json", env=ENV)
    assert result.returncode == 1
    [finding] = json.loads(result.stdout)["findings"]
    assert finding == {
        "subject": "employee",
        "record": "17",
        "change_in": "SmartDok",
        "message": "SmartDok user 'Ola Hansen' has Ansattnummer 17, which is no Contact id in "
        "24SevenOffice; the flow would create a second user for this person. Change "
        "it in SmartDok under Firmaopplysninger -> Brukeroversikt (Ansattnummer)",
        "proposal": "Contact id 2002 has the same e-mail: set Ansattnummer to 2002",
    }
    projects = json.loads(
        fjordsync("check", "projects", "--config", str(config), "--json", env=ENV).stdout
    )["findings"]
    assert [(f["record"], f["proposal"]) for f in projects] == [
        ("P-7", "Project id 1003 has the same name: use 1003")
    ]
    text = config.read_text() + '[tenants.acme.flows.hours]\nsource = "time"\ntarget = "erp"\n'
    config.write_text(text)
    hours = json.loads(
        fjordsync("check", "hours", "--config", str(config), "--json", env=ENV).stdout
    )["findings"]
    assert {(f["subject"], f["record"]) for f in hours} == {
        ("employee", "17"),
        ("project", "P-7"),
        ("activity", "01.1"),
    }
    activity = next(f for f in hours if f["subject"] == "activity")
    assert activity["message"].endswith(
        "Change it in SmartDok under Firmaopplysninger -> Aktiviteter (Kode)"
    )
    sd.state["Users"].pop()
    sd.state["Projects"].pop()
    aligned = fjordsync("check", "employees", "--config", str(config), env=ENV)
    assert aligned.returncode == 0 and "the ids line up" in aligned.stdout


def test_serve_runs_a_scheduled_flow_when_due_and_queues_the_next(systems, tmp_path):
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from fjordsync.ledger import Ledger

    config = systems[2]
    config.write_text(
        config.read_text().replace(
            '[tenants.acme.flows.projects]\nsource = "erp"\ntarget = "time"',
            '[tenants.acme.flows.projects]\nsource = "erp"\ntarget = "time"\n'
            'schedule = { days = ["mon", "wed", "fri"], time = "06:30" }',
        )
    )
    first = fjordsync("serve", "--config", str(config), "--once", env=ENV)
    assert first.returncode == 0 and first.stdout.strip() == ""  # queued, not run
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    queued = ledger.schedule("acme", "projects")
    due = queued.next_due
    assert (due.astimezone(UTC).hour, due.minute) in ((5, 5), (4, 5))  # 06:05 CET/CEST
    assert ledger.runs() == []
    ledger.set_schedule(
        "acme", "projects", spec=queued.spec, next_due=datetime(2026, 1, 1, tzinfo=UTC)
    )  # it is due
    second = fjordsync("serve", "--config", str(config), "--once", env=ENV)
    assert "acme  projects: succeeded" in second.stdout
    [run] = ledger.runs()
    assert (run.trigger, run.status, run.counts) == ("scheduled", "succeeded", {"written": 3})
    after = ledger.schedule("acme", "projects")
    local = after.next_due.astimezone(ZoneInfo("Europe/Oslo"))
    assert local.strftime("%a %H:%M") in ("Mon 06:30", "Wed 06:30", "Fri 06:30")
    ledger.close()


def test_retry_failed_runs_only_the_records_that_failed_before(systems):
    erp, sd, config = systems
    code, first = run(config, "employees")
    assert first["counts"] == {"invalid": 2, "written": 3}
    person = next(p for p in erp.state["PersonItem"] if p["Id"] == 2003)
    person["EmailAddresses"] = {"EmailAddress": [{"Type": "Primary", "Value": "per@fjordbygg.no"}]}
    sd.state["LicenseInfo"]["AvailableLicenses"] = 5
    code, retry = run(config, "employees", "--retry-failed", str(first["run_id"]))
    assert (code, retry["counts"]) == (0, {"written": 2})
    assert sorted(i["key"] for i in retry["items"]) == ["2003", "2005"]
    wrong = fjordsync(
        "run", "projects", "--config", str(config), "--retry-failed", str(first["run_id"]), env=ENV
    )
    assert wrong.returncode == 2 and "is not a run of 'projects'" in wrong.stderr
