"""Flows 4 and 5 end to end: `fjordsync run` against the AlexisHR and 24SevenOffice sandboxes;
the payroll state is compared with the exact records docs/flows.md gives."""

from __future__ import annotations

import json

import pytest

from fjordsync.domain.codes import AbsenceCode
from fjordsync_alexis.sandbox import DEFAULT_TOKEN, AlexisSandbox
from fjordsync_twentyfourseven.sandbox import DEFAULT_ACCESS_TOKEN, TwentyFourSevenSandbox
from fjordsync_twentyfourseven.sandbox.payroll import absence_types

from .conftest import fjordsync, hr_and_payroll_config

ENV = {"HR_TOKEN": DEFAULT_TOKEN, "PAYROLL_TOKEN": DEFAULT_ACCESS_TOKEN}


def ts(day):
    return f"{day}T00:00:00.000+00:00"


def alexis_state():
    def employee(number, emp_id, **fields):
        return {
            "id": emp_id,
            "companyId": "c",
            "userId": f"u{emp_id}",
            "active": True,
            "employeeNumber": number,
            "firstName": "Kari",
            "lastName": "Nordmann",
            "workEmail": f"e{number}@firma.no",
            "privateEmail": f"p{number}@gmail.com",
            "ssn": "15108695088",
            "nationality": "NO",
            "created": ts("2020-01-01"),
            "updated": ts("2026-01-01"),
            "homeAddress": {
                "street": "Storgata 1",
                "postalCode": "0150",
                "city": "Oslo",
                "country": "NO",
            },
            "bankAccount": {
                "number": "86011117947",
                "iban": "",
                "bic": "DNBANOKK",
                "clearing": "",
                "country": "NO",
            },
            **fields,
        }

    def compensation(emp_id, cid, day, period, amount):
        return {
            "id": cid,
            "employeeId": emp_id,
            "companyId": "c",
            "amount": amount,
            "baseAmount": amount,
            "exchangeRate": 1,
            "currency": "NOK",
            "effectiveDate": ts(day),
            "payoutDay": 25,
            "payoutPeriod": period,
            "payoutFrequency": "MONTH",
            "salarySchedule": "ADVANCE",
            "paidOvertime": False,
        }

    def leave(lid, emp_id, type_id, start, end, status="APPROVED"):
        return {
            "id": lid,
            "employeeId": emp_id,
            "typeId": type_id,
            "status": status,
            "duration": "longer",
            "startDate": ts(start),
            "endDate": ts(end),
        }

    def leave_type(tid, name, kind):
        return {
            "id": tid,
            "name": name,
            "kind": kind,
            "minimumDuration": "DAY",
            "deductible": False,
            "paid": True,
            "disabled": False,
        }

    return {
        "employee": [
            employee("1001", "e1"),
            employee(
                "1002",
                "e2",
                firstName="Ingrid",
                lastName="Berg",
                workEmail="",
                nationality="SE",
                ssn="41018036736",
                bankAccount={
                    "number": "",
                    "iban": "SE4550000000058398257466",
                    "bic": "ESSESESS",
                    "clearing": "5000",
                    "country": "SE",
                },
            ),
            employee("1003", "e3", ssn="15108695077"),
            employee("1004", "e4", firstName="Per", lastName="Dag"),
            employee("1005", "e5", firstName="Siv", lastName="Kvartal"),
        ],
        "employment-type": [{"id": "t1", "companyId": "c", "name": "Temporary", "vacation": True}],
        "employment": [
            {
                "id": "m1",
                "companyId": "c",
                "employeeId": "e1",
                "typeId": "t1",
                "startDate": ts("2020-01-01"),
                "endDate": ts("2026-12-31"),
                "terminated": False,
                "rate": 80,
                "country": "NO",
                "note": "7112101:6",
                "updated": ts("2026-01-01"),
            },
            {
                "id": "m2",
                "companyId": "c",
                "employeeId": "e2",
                "typeId": "t1",
                "startDate": ts("2025-03-01"),
                "terminated": False,
                "rate": 100,
                "country": "NO",
                "note": "2142102",
                "updated": ts("2026-01-01"),
            },
            {
                "id": "m5",
                "companyId": "c",
                "employeeId": "e5",
                "typeId": "t1",
                "startDate": ts("2024-01-01"),
                "endDate": ts("2026-06-30"),
                "terminated": True,
                "rate": 100,
                "country": "NO",
                "note": "2142102:7",
                "updated": ts("2026-01-01"),
            },
        ],
        "compensation": [
            compensation("e1", "c1", "2025-01-01", "MONTHLY", 48000),
            compensation("e1", "c2", "2026-01-01", "ANNUAL", 650000),
            compensation("e2", "c3", "2026-01-01", "HOURLY", 312.5),
            compensation("e4", "c4", "2026-01-01", "DAILY", 2100),
            compensation("e5", "c5", "2026-01-01", "QUARTERLY", 150000),
        ],
        "leave-type": [
            leave_type("vac", "Sommerferie", "VACATION"),
            leave_type("sc", "Syke barn", "CHILDCARE"),
        ],
        "leave": [
            leave("l1", "e1", "vac", "2026-07-06", "2026-07-24"),
            leave("l2", "e1", "sc", "2026-03-02", "2026-03-03"),
            leave("l3", "e2", "sc", "2026-03-02", "2026-03-02"),
            leave("l4", "e2", "vac", "2026-08-03", "2026-08-07", status="PENDING"),
        ],
    }


def payroll_state():
    return {
        "payroll/employee": [
            {
                "empId": "1001",
                "email": "old@firma.no",
                "firstname": "Kari",
                "lastname": "Nordmann",
                "postaddress": "Gamleveien 1",
                "zipcode": "0150",
                "city": "Oslo",
                "countryCode": "NO",
                "account": "86011117947",
                "bic": "DNBANOKK",
                "clearingno": "",
                "personnr": "15108695088",
                "salary_type": "monthly",
                "salary": "48000.00",
                "salary_valid_from": "2025-01-01",
                "vacation_days": "30",
                "internationalID": {
                    "ID": "15108695088",
                    "countryCode": "NO",
                    "type": "socialSecurityNumber",
                },
            }
        ],
        "payroll/employment": [
            {
                "empId": "1001",
                "employment_id": "1001-1",
                "startdate": "2020-01-01",
                "enddate": "",
                "enddate_reason": "",
                "employment_form": "fast",
                "profession_code": "7112101",
                "employment_rate": "100.00",
                "employment_type": "ordinaertArbeidsforhold",
                "working_times": "ikkeSkift",
            }
        ],
        "payroll/absencetypes": absence_types(),
        "payroll/child": [
            {
                "empId": "1001",
                "childId": "102701",
                "firstnamn": "Emil",
                "surname": "Nordmann",
                "birthdate": "2019-03-01",
            }
        ],
    }


@pytest.fixture
def systems(tmp_path):
    with AlexisSandbox(alexis_state()) as hr, TwentyFourSevenSandbox(payroll_state()) as erp:
        config = tmp_path / "fjordsync.toml"
        config.write_text(
            hr_and_payroll_config(hr.url, erp.url, absence_types=["02", "04"]), encoding="utf-8"
        )
        yield hr, erp, config


def run(config, flow, *extra):
    result = fjordsync("run", flow, "--config", str(config), "--json", *extra, env=ENV)
    return result.returncode, json.loads(result.stdout)


def test_payroll_employees_end_to_end(systems):
    _, erp, config = systems
    code, document = run(config, "payroll-employees")
    assert code == 1  # 1003's personal number, 1004's daily pay and 1005's note are invalid
    items = {
        (i["entity"], i["key"]): (i["action"], i["outcome"], i["message"])
        for i in document["items"]
    }
    assert items[("employee", "1003")] == (
        "invalid",
        "invalid",
        "ssn: is not a valid Norwegian fødselsnummer or D-number (check digits)",
    )
    assert items[("employee", "1001")][:2] == ("update", "written")
    assert items[("employee", "1002")][:2] == ("create", "written")
    assert items[("employee", "1004")] == (
        "invalid",
        "invalid",
        "compensation.payoutPeriod: DAILY pay cannot be expressed in payroll, which takes "
        "monthly or hourly salaries: change the compensation's payout period in AlexisHR",
    )
    assert items[("employment", "1005/m5")] == (
        "invalid",
        "invalid",
        "employment.note: reason '7' after the colon is not one of 1..6; payroll requires a "
        "reason when the employment has an end date",
    )
    employees = {e["empId"]: e for e in erp.state["payroll/employee"]}
    kari = employees["1001"]
    assert {
        k: kari[k]
        for k in (
            "email",
            "postaddress",
            "salary_type",
            "salary",
            "salary_valid_from",
            "vacation_days",
        )
    } == {
        "email": "e1001@firma.no",
        "postaddress": "Storgata 1",
        "salary_type": "monthly",
        "salary": "54166.67",
        "salary_valid_from": "2026-01-01",
        "vacation_days": "30",
    }
    siv = employees["1005"]  # quarterly pay: monthly, divided by 3
    assert (siv["salary_type"], siv["salary"]) == ("monthly", "50000.00")
    ingrid = employees["1002"]
    assert {
        k: ingrid[k]
        for k in (
            "email",
            "personnr",
            "account",
            "bic",
            "clearingno",
            "salary_type",
            "salary",
            "vacation_days",
            "internationalID",
        )
    } == {
        "email": "p1002@gmail.com",
        "personnr": "41018036736",
        "account": "SE4550000000058398257466",
        "bic": "ESSESESS",
        "clearingno": "5000",
        "salary_type": "hourly",
        "salary": "312.50",
        "vacation_days": "25",
        "internationalID": {
            "ID": "41018036736",
            "countryCode": "SE",
            "type": "socialSecurityNumber",
        },
    }
    employments = {e["employment_id"]: e for e in erp.state["payroll/employment"]}
    assert {
        k: employments["1001-1"][k]
        for k in (
            "startdate",
            "enddate",
            "enddate_reason",
            "employment_form",
            "employment_rate",
            "profession_code",
            "working_times",
            "employment_type",
        )
    } == {
        "startdate": "2020-01-01",
        "enddate": "2026-12-31",
        "enddate_reason": "kontraktEngasjementEllerVikariatErUtloept",
        "employment_form": "midlertidig",
        "employment_rate": "80.00",
        "profession_code": "7112101",
        "working_times": "ikkeSkift",
        "employment_type": "ordinaertArbeidsforhold",
    }
    assert employments["1002-1"]["profession_code"] == "2142102"
    assert len(employments) == 2  # 1001's employment was the one payroll had, not a new one
    printed = fjordsync("run", "payroll-employees", "--config", str(config), "--dry-run", env=ENV)
    assert "15108695088" not in printed.stdout and "54166" not in printed.stdout
    writes = sum(erp.writes.values())
    code, again = run(config, "payroll-employees")
    assert again["counts"] == {"invalid": 3, "unchanged": 5}
    assert sum(erp.writes.values()) == writes


def test_absences_end_to_end(systems):
    _, erp, config = systems
    run(config, "payroll-employees")
    code, document = run(config, "absences", "--from", "2026-01-01", "--to", "2026-12-31")
    assert code == 1
    items = {i["key"]: (i["outcome"], i["message"]) for i in document["items"]}
    assert items["l3"] == (
        "invalid",
        "sick child (02) needs the child's payroll id, and the "
        "employee has no child registered in payroll: add the "
        "child in Lønn",
    )
    assert "l4" not in items  # pending
    absences = {a["externalId"]: a for a in erp.state["payroll/absence"]}
    assert {
        k: absences["l1"][k]
        for k in ("empId", "absenceType", "startDate", "endDate", "numberOfDays", "percent")
    } == {
        "empId": "1001",
        "absenceType": "04",
        "startDate": "2026-07-06 00:00:00",
        "endDate": "2026-07-24 00:00:00",
        "numberOfDays": "15",
        "percent": "100",
    }
    assert (absences["l2"]["absenceType"], absences["l2"]["childId"]) == ("02", "102701")
    writes = sum(erp.writes.values())
    _, again = run(config, "absences", "--from", "2026-01-01", "--to", "2026-12-31")
    assert again["counts"] == {"invalid": 1, "unchanged": 2}
    assert sum(erp.writes.values()) == writes


def test_a_leave_cancelled_after_export_is_a_conflict(systems):
    hr, _, config = systems
    run(config, "payroll-employees")
    run(config, "absences", "--from", "2026-01-01", "--to", "2026-12-31")
    hr.state["leave"][0]["status"] = "CANCELLED"
    code, document = run(config, "absences", "--from", "2026-01-01", "--to", "2026-12-31")
    [item] = [i for i in document["items"] if i["key"] == "l1"]
    assert (item["outcome"], item["message"]) == (
        "conflict",
        "cancelled in AlexisHR after it was exported; absences cannot be deleted "
        "through the API: remove it in 24SevenOffice Lønn",
    )
    assert code == 1


VALID_CODES = ", ".join(f"{code.value} {code.type.payroll_name}" for code in AbsenceCode)


def test_check_names_leave_types_without_a_payroll_code(systems):
    hr, _, config = systems
    hr.state["leave-type"].append(
        {
            "id": "sab",
            "name": "Sabbatical",
            "kind": "OFF_DUTY",
            "minimumDuration": "DAY",
            "deductible": False,
            "paid": False,
            "disabled": False,
        }
    )
    hr.state["leaveTypeCode"] = [{"id": "x", "companyId": "c", "leaveTypeId": "sab", "code": "S1"}]
    hr.state["leave"].append(
        {
            "id": "l9",
            "employeeId": "e1",
            "typeId": "sab",
            "status": "APPROVED",
            "duration": "longer",
            "startDate": ts("2026-09-01"),
            "endDate": ts("2026-09-30"),
        }
    )
    result = fjordsync("check", "absences", "--config", str(config), "--json", env=ENV)
    assert result.returncode == 1
    assert json.loads(result.stdout)["findings"] == [
        {
            "subject": "leave type",
            "record": "Sabbatical",
            "change_in": "fjordsync config",
            "message": "leave type 'Sabbatical' (code S1) has no payroll absence code (1 "
            "leave(s) in the year around today use it)",
            "proposal": "add it to the config:\n"
            "    [tenants.acme.flows.absences.mapping.absence_types]\n"
            '    "Sabbatical" = "<code>"\n'
            f"valid codes: {VALID_CODES}",
        }
    ]
    # The proposal's lines, pasted with a code filled in, are the fix.
    [finding] = json.loads(result.stdout)["findings"]
    pasted = "\n".join(finding["proposal"].splitlines()[1:3]).replace("<code>", "13")
    text = config.read_text() + pasted + "\n"
    config.write_text(text)
    assert fjordsync("check", "absences", "--config", str(config), env=ENV).returncode == 0


def test_absence_types_choose_what_is_exported(systems):
    _, erp, config = systems
    run(config, "payroll-employees")
    code, document = run(
        config, "absences", "--from", "2026-01-01", "--to", "2026-12-31", "--absence-types", "4"
    )
    assert (code, [i["key"] for i in document["items"]]) == (0, ["l1"])
    assert [a["externalId"] for a in erp.state["payroll/absence"]] == ["l1"]
