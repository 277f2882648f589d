"""The generated company has every case flows 4 and 5 must meet, with valid numbers."""

from __future__ import annotations

from collections import Counter

from alexis_fixtures import TODAY
from stdnum import iban
from stdnum.no import fodselsnummer, kontonr

from fjordsync_alexis.sandbox import generate


def test_same_seed_same_company_other_seed_other_company():
    assert generate(employees=20, seed=9, today=TODAY) == generate(
        employees=20, seed=9, today=TODAY
    )
    assert generate(employees=20, seed=9, today=TODAY) != generate(
        employees=20, seed=10, today=TODAY
    )


def test_generated_company_covers_the_cases(company_of_1000):
    state = company_of_1000
    employees = state["employee"]
    assert len(employees) == 1000
    assert len({e["employeeNumber"] for e in employees}) == 1000
    assert all(fodselsnummer.is_valid(e["ssn"]) for e in employees)
    norwegian = [e for e in employees if e["bankAccount"]["country"] == "NO"]
    foreign = [e for e in employees if e["bankAccount"]["country"] != "NO"]
    assert all(kontonr.is_valid(e["bankAccount"]["number"]) for e in norwegian)
    assert foreign and all(iban.is_valid(e["bankAccount"]["iban"]) for e in foreign)
    assert all(int(e["ssn"][0]) >= 4 for e in foreign)  # D-numbers
    assert any("workEmail" not in e for e in employees)
    assert any(e.get("workEmail") == "" for e in employees)
    type_names = {t["name"] for t in state["employment-type"]}
    assert {"Temporary employment", "TEMPORARY (seasonal)", "Permanent"} <= type_names
    notes = [(m["note"], "endDate" in m) for m in state["employment"]]
    assert any(":" in n and ended and n[-1] in "123456" for n, ended in notes)
    assert any(n.endswith(":7") and ended for n, ended in notes)
    assert any(":" not in n for n, _ in notes)
    per_employee = Counter(c["employeeId"] for c in state["compensation"])
    assert max(per_employee.values()) >= 3
    assert {c["payoutPeriod"] for c in state["compensation"]} == {
        "MONTHLY",
        "HOURLY",
        "ANNUAL",
        "QUARTERLY",
        "DAILY",
        "WEEKLY",
        "BI_WEEKLY",
    }
    assert {leave["status"] for leave in state["leave"]} == {
        "APPROVED",
        "CONFIRMED",
        "PENDING",
        "DENIED",
        "CANCELLED",
    }
    kinds = {t["kind"] for t in state["leave-type"]}
    assert kinds == {"SICK_LEAVE", "PARENTAL_LEAVE", "VACATION", "OFF_DUTY", "CHILDCARE"}
    assert state["child"] and state["department"] and state["office"]
