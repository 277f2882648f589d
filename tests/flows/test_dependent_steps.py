"""A dry run shows what the real run will do, also for records that depend on an earlier step of
the same flow: the employments of an employee the run creates, the link a run makes for a create
whose answer was lost. Each test plans (--dry-run), then runs, and compares the dry run's
planned items with the real run's written ones (entity, key, action)."""

from __future__ import annotations

import asyncio
import copy
import json
from datetime import date
from decimal import Decimal

import pytest

from fjordsync.domain.model import CodeItem, Employee, Project, TimeEntry
from fjordsync.domain.values import DateRange
from fjordsync.flows import hours, projects
from fjordsync.ledger import Ledger
from fjordsync.testing.memory import InMemorySystem
from fjordsync_alexis.sandbox import AlexisSandbox
from fjordsync_twentyfourseven.sandbox import TwentyFourSevenSandbox
from tests.integration.conftest import fjordsync, hr_and_payroll_config
from tests.integration.test_flow_hours import notes_in, run_hours, systems
from tests.integration.test_flows_hr_to_payroll import ENV, alexis_state, payroll_state

__all__ = ["systems"]  # the hours sandboxes' fixture, used here as it is there


def did(items, outcome):
    return sorted(
        (item["entity"], item["key"], item["action"])
        for item in items
        if item["outcome"] == outcome
    )


def planned_and_written(result):
    return sorted(
        (i.entity, i.key, i.action.value, i.outcome.value)
        for i in result.items
        if i.outcome.value in ("planned", "written")
    )


@pytest.fixture
def hr_and_payroll(tmp_path):
    with AlexisSandbox(alexis_state()) as hr, TwentyFourSevenSandbox(payroll_state()) as erp:
        config = tmp_path / "fjordsync.toml"
        config.write_text(
            hr_and_payroll_config(hr.url, erp.url, absence_types=["02", "04"]), encoding="utf-8"
        )
        yield erp, config


def run(config, *args):
    result = fjordsync("run", *args, "--config", str(config), "--json", env=ENV)
    assert result.stdout.strip(), result.stderr
    return json.loads(result.stdout)["items"]


def test_a_dry_run_plans_the_employments_of_employees_it_would_create(hr_and_payroll):
    erp, config = hr_and_payroll
    before = copy.deepcopy(erp.state)
    plan = run(config, "payroll-employees", "--dry-run")
    assert erp.state == before  # a dry run writes nothing
    # 1002 is new in payroll: its employment m2 is planned with it, not "not in payroll".
    assert did(plan, "planned") == [
        ("employee", "1001", "update"),
        ("employee", "1002", "create"),
        ("employee", "1005", "create"),  # its one employment's note is invalid
        ("employment", "1001/m1", "update"),
        ("employment", "1002/m2", "create"),
    ]
    assert did(plan, "skipped") == []
    [m2] = [i for i in plan if i["key"] == "1002/m2"]
    assert [change["field"] for change in m2["changes"]] == [
        "employment_form",
        "employment_rate",
        "enddate",
        "enddate_reason",
        "profession_code",
        "startdate",
    ]
    done = run(config, "payroll-employees")
    assert did(done, "written") == did(plan, "planned")


def test_a_dry_run_of_absences_shows_what_the_real_run_writes(hr_and_payroll):
    _, config = hr_and_payroll
    run(config, "payroll-employees")
    period = ("--from", "2026-01-01", "--to", "2026-12-31")
    plan = run(config, "absences", *period, "--dry-run")
    done = run(config, "absences", *period)
    assert did(plan, "planned") == [("absence", "l1", "create"), ("absence", "l2", "create")]
    assert did(done, "written") == did(plan, "planned")


def test_a_dry_run_shows_the_link_the_real_run_makes_for_an_hour_whose_answer_was_lost(runs):
    entry = TimeEntry(
        "900017", "1001", "1004", date(2026, 10, 5), Decimal("7.5"), "10", "100", approved=True
    )
    source = InMemorySystem("smartdok", time_entries={"900017": entry})
    target = InMemorySystem(
        "erp",
        employees={"1001": Employee("1001", "Nora", "Larsen")},
        projects={"1004": Project("1004", "Gang- og sykkelvei")},
        codes={"work_types": [CodeItem("10", "Ordinær")], "salary_types": [CodeItem("100", "T")]},
        lose_answers={"save_time_entry"},
    )
    october = DateRange(date(2026, 10, 1), date(2026, 10, 31))
    lost = runs.run(hours.run, "hours", source, target, period=october)
    assert [(i.key, i.outcome.value) for i in lost.items] == [("900017", "failed")]
    context = runs.context("hours", dry_run=True)
    plan = asyncio.run(hours.run(context, source, target, period=october))
    done = runs.run(hours.run, "hours", source, target, period=october)
    assert planned_and_written(plan) == [("hour", "900017", "create", "planned")]
    assert planned_and_written(done) == [("hour", "900017", "create", "written")]
    assert [i.message for i in plan.items] == [
        "found in 24SevenOffice by its marker after an answer was lost: it will be linked, not "
        "sent again"
    ]
    assert len(target.time_entries) == 1  # linked, never sent twice


def test_a_dry_run_shows_the_link_the_real_run_makes_for_a_project_it_no_longer_reads(runs):
    erp = InMemorySystem("erp", projects={"1004": Project("1004", "Gang- og sykkelvei")})
    smartdok = InMemorySystem("smartdok", lose_answers={"create_project"})
    lost = runs.run(projects.run, "projects", erp, smartdok)
    assert [(i.key, i.outcome.value) for i in lost.items] == [("1004", "failed")]
    erp.projects.clear()  # as if unchanged since: the next runs' incremental reads skip it
    context = runs.context("projects", dry_run=True)
    plan = asyncio.run(projects.run(context, erp, smartdok))
    done = runs.run(projects.run, "projects", erp, smartdok)
    assert planned_and_written(plan) == [("project", "1004", "create", "planned")]
    assert planned_and_written(done) == [("project", "1004", "create", "written")]
    assert [i.label for i in plan.items] == ["project 1004 Gang- og sykkelvei"]


def test_hours_whose_answers_were_lost_are_planned_as_the_real_run_links_them(systems, tmp_path):
    erp, _, config = systems(count=6)
    run_hours(config)  # every hour in the ERP, carrying its marker fjordsync:acme:<WorkHourID>
    markers = sorted(notes_in(erp))
    # As if every answer had been lost: the ledger knows the pending writes, not their links.
    for leftover in tmp_path.glob("ledger.db*"):
        leftover.unlink()
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    run_id = ledger.start_run("acme", "hours", trigger="manual", dry_run=False)
    ledger.begin_writes(
        run_id,
        tenant="acme",
        flow="hours",
        entity="hour",
        markers={marker.rpartition(":")[2]: marker for marker in markers},
    )
    ledger.finish_run(run_id, status="interrupted", counts={}, message="killed")
    ledger.close()
    before = copy.deepcopy(erp.state)
    _, plan = run_hours(config, "--dry-run")
    assert erp.state == before  # a dry run links and sends nothing
    _, done = run_hours(config)
    pending = sorted(("hour", marker.rpartition(":")[2], "create") for marker in markers)
    assert did(done["items"], "written") == did(plan["items"], "planned") == pending
    assert {i["message"] for i in plan["items"] if i["outcome"] == "planned"} == {
        "found in 24SevenOffice by its marker after an answer was lost: it will be linked, not "
        "sent again"
    }
    assert sorted(notes_in(erp)) == markers and set(notes_in(erp).values()) == {1}  # none twice
