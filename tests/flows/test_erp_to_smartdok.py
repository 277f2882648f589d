"""Flows 1 and 2 on in-memory systems: duplicate keys on either side, text XML cannot carry,
a crash in one write, and creates whose answer was lost or whose process was killed."""

from __future__ import annotations

import pytest

from fjordsync.domain.model import Employee, InvalidRecord, Project
from fjordsync.domain.values import Email
from fjordsync.flows import employees, projects
from fjordsync.testing.memory import InMemorySystem, SimulatedKill

from .conftest import by_key


def erp_projects(*items, also=()):
    erp = InMemorySystem("erp", projects={p.key: p for p in items})
    erp.also_read.extend(also)
    return erp


def test_projects_sharing_an_id_are_conflicts_and_none_is_created(runs):
    erp = erp_projects(Project("1", "Skole"), Project("2", "Kai"), also=[Project("2", "Kaia")])
    smartdok = InMemorySystem("smartdok")
    result = runs.run(projects.run, "projects", erp, smartdok)
    assert by_key(result)[("project", "2")] == (
        "conflict",
        "conflict",
        "2 source records share key '2': none is written until one is left",
    )
    assert sorted(smartdok.projects) == ["1"]


def test_a_number_two_smartdok_projects_share_is_a_conflict(runs):
    erp = erp_projects(Project("7", "Skole"))
    smartdok = InMemorySystem("smartdok", projects={"7": Project("7", "Skole A", target_key="a")})
    smartdok.also_read.append(Project("7 ", "Skole B", target_key="b"))
    result = runs.run(projects.run, "projects", erp, smartdok)
    assert by_key(result)[("project", "7")] == (
        "conflict",
        "conflict",
        "key '7' matches 2 records in the target",
    )
    assert smartdok.writes == 0


def test_a_project_name_loses_only_what_xml_cannot_carry(runs):
    erp = erp_projects(Project("1", "Skole\x1fbygg\ufffe"))
    smartdok = InMemorySystem("smartdok")
    result = runs.run(projects.run, "projects", erp, smartdok)
    assert by_key(result)[("project", "1")] == (
        "create",
        "written",
        "name: 2 character(s) that cannot be sent (control characters) were removed",
    )
    assert smartdok.projects["1"].name == "Skolebygg"


def test_a_crash_in_one_write_fails_that_project_and_the_run_goes_on(runs):
    erp = erp_projects(Project("1", "Skole"), Project("2", "Kai"))
    smartdok = InMemorySystem("smartdok")
    smartdok.crash_after.add("create_project:1")
    result = runs.run(projects.run, "projects", erp, smartdok)
    assert by_key(result)[("project", "1")][:2] == ("create", "failed")
    assert by_key(result)[("project", "2")][:2] == ("create", "written")
    assert result.status == "partial"


@pytest.mark.parametrize("fault", ["lose_answers", "kill_after"])
def test_a_project_create_whose_answer_was_lost_is_linked_not_sent_again(runs, ledger, fault):
    erp = erp_projects(Project("1", "Skole"))
    smartdok = InMemorySystem("smartdok")
    getattr(smartdok, fault).add("create_project")
    if fault == "kill_after":
        with pytest.raises(SimulatedKill):
            runs.run(projects.run, "projects", erp, smartdok)
    else:
        first = runs.run(projects.run, "projects", erp, smartdok)
        assert by_key(first)[("project", "1")][:2] == ("create", "failed")
    assert ledger.cursor("acme", "projects", "changed_after") is None  # not past the unknown
    assert ledger.pending_writes("acme", "projects", "project") == {"1": "fjordsync:acme:1"}
    second = runs.run(projects.run, "projects", erp, smartdok)
    assert by_key(second)[("project", "1")] == (
        "create",
        "written",
        "found in SmartDok after an answer was lost: linked, not sent again",
    )
    assert smartdok.calls["create_project"] == 1
    assert ledger.pending_writes("acme", "projects", "project") == {}
    assert ledger.links("acme", "projects", "project")["1"].target_key == "smartdok-1"
    assert ledger.cursor("acme", "projects", "changed_after") is not None


def test_the_cursor_stays_while_a_project_is_in_conflict(runs, ledger):
    erp = erp_projects(Project("2", "Kai"), also=[Project("2", "Kaia")])
    runs.run(projects.run, "projects", erp, InMemorySystem("smartdok"))
    assert ledger.cursor("acme", "projects", "changed_after") is None


def person(key, email="kari@firma.no", first="Kari"):
    return Employee(key, first, "Nordmann", work_email=Email(email))


def test_crm_persons_sharing_a_contact_id_are_conflicts(runs):
    erp = InMemorySystem("erp", employees={"5": person("5"), "6": person("6", "ola@firma.no")})
    erp.also_read.append(person("5", "per@firma.no", "Per"))
    smartdok = InMemorySystem("smartdok")
    result = runs.run(employees.run, "employees", erp, smartdok)
    assert by_key(result)[("employee", "5")] == (
        "conflict",
        "conflict",
        "2 source records share key '5': none is written until one is left",
    )
    assert sorted(smartdok.employees) == ["6"]


def test_an_invalid_and_a_valid_record_sharing_a_key_are_a_conflict(runs):
    erp = InMemorySystem("erp", employees={"5": person("5")})
    erp.also_read.append(InvalidRecord("employee", "5", "email: is not a valid e-mail address"))
    smartdok = InMemorySystem("smartdok")
    result = runs.run(employees.run, "employees", erp, smartdok)
    assert by_key(result)[("employee", "5")][:2] == ("conflict", "conflict")
    assert smartdok.employees == {}


def test_a_user_create_whose_answer_was_lost_is_linked_not_sent_again(runs):
    erp = InMemorySystem("erp", employees={"5": person("5", first="Ka\x07ri")})
    smartdok = InMemorySystem("smartdok")
    smartdok.lose_answers.add("create_employee:5")
    first = runs.run(employees.run, "employees", erp, smartdok)
    assert by_key(first)[("employee", "5")][:2] == ("create", "failed")
    second = runs.run(employees.run, "employees", erp, smartdok)
    assert by_key(second)[("employee", "5")] == (
        "create",
        "written",
        "found in SmartDok after an answer was lost: linked, not sent again",
    )
    assert smartdok.calls["create_employee"] == 1
    assert smartdok.employees["5"].first_name == "Kari"
