"""The generated 24SevenOffice company, and the sandbox as `fjordsync sandbox` serves it."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import httpx
from stdnum.no import fodselsnummer

from fjordsync.testing.company import SALARY_TYPES, WORK_TYPES
from fjordsync_twentyfourseven.sandbox.generator import generate

FJORDSYNC = str(Path(sys.executable).parent / "fjordsync")


def test_generated_company_has_what_the_flows_meet():
    state = generate(employees=60, seed=4, today=date(2026, 11, 24))
    assert generate(employees=60, seed=4, today=date(2026, 11, 24)) == state
    projects = state["Project"]
    assert len(projects) == 15
    assert any(p.get("_Deactivated") for p in projects)
    assert any(len(p["Name"]) > 70 for p in projects)
    assert any("DateStart" not in p for p in projects) or any("DateStop" not in p for p in projects)
    employees = [p for p in state["PersonItem"] if "EmployeeId" in p]
    assert len(employees) == 60 and len(state["PersonItem"]) > 60
    assert {u["ContactId"] for u in state["User"]} == {p["Id"] for p in employees}
    assert [w["Id"] for w in state["WorkType"]] == [w[0] for w in WORK_TYPES]
    assert [s["Id"] for s in state["SalaryType"]] == [s[0] for s in SALARY_TYPES]
    payroll = state["payroll/employee"]
    assert payroll and all(1001 <= int(e["empId"]) <= 1060 for e in payroll)
    assert all(fodselsnummer.is_valid(e["personnr"]) for e in payroll)
    assert len(state["payroll/absencetypes"]) == 19


def test_serve_a_generated_company(tmp_path):
    seed = tmp_path / "twentyfourseven.json"
    subprocess.run(
        [
            FJORDSYNC,
            "sandbox",
            "generate",
            "twentyfourseven",
            "--employees",
            "8",
            "--out",
            str(seed),
        ],
        check=True,
        timeout=60,
    )
    server = subprocess.Popen(
        [FJORDSYNC, "sandbox", "serve", "twentyfourseven", "--seed", str(seed)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        announced = json.loads(server.stdout.readline())
        url = announced["url"]
        assert announced["connections"]["twentyfourseven-payroll"]["payroll_url"] == (
            f"{url}/payroll/api"
        )
        wsdl = httpx.get(f"{url}/timesheet/v001/timeservice.asmx?wsdl")
        assert wsdl.status_code == 200 and f'location="{url}/' in wsdl.text
        state = httpx.get(f"{url}/_sandbox/state").json()
        assert len([p for p in state["PersonItem"] if "EmployeeId" in p]) == 8
    finally:
        server.terminate()
        server.wait(timeout=10)
