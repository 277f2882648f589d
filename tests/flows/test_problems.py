"""Issue 11 §2: the flows build a ``Problem`` where they decide, beside the message they render
from it, and the run's items carry it; the preflight works on the problems, not the messages."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import date

from fjordsync.domain.codes import AbsenceCode
from fjordsync.domain.model import Absence, Employee, InvalidRecord, Project
from fjordsync.domain.problems import Problem, ProblemKind
from fjordsync.domain.values import DateRange
from fjordsync.flows import absences, hours, preflight, projects
from fjordsync.ports import Wording
from fjordsync.testing.memory import InMemorySystem

from .test_hours import PERIOD, entry, systems


def problems(result):
    return {(item.entity, item.key): item.problem for item in result.items}


def test_an_hour_whose_activity_code_resolves_to_nothing_is_a_missing_reference(runs):
    source, target = systems(entry("1"), replace(entry("2"), work_type_code="01.1"))
    result = runs.run(hours.run, "hours", source, target, period=PERIOD)
    assert problems(result)[("hour", "2")] == Problem(
        ProblemKind.MISSING_REFERENCE, "activity", ("01.1",)
    )
    assert problems(result)[("hour", "1")] is None  # written: nothing wrong


def test_two_erp_hours_with_one_marker_name_the_hour_in_problem_and_message(runs):
    source, target = systems(entry("7000076"))
    runs.run(hours.run, "hours", source, target, period=PERIOD)
    [first] = list(target.time_entries)
    marked = replace(target.time_entries[first], marker="fjordsync:acme:7000076")
    target.time_entries[first] = marked
    target.time_entries["by-hand"] = replace(marked, target_key="by-hand")
    result = runs.run(hours.run, "hours", source, target, period=PERIOD)
    [item] = [i for i in result.items if i.key == "7000076"]
    assert item.message == (
        "2 hours in 24SevenOffice carry the marker of hour 7000076: remove all but one by hand"
    )
    assert item.problem == Problem(ProblemKind.DUPLICATE_KEY, "time_entry.marker", ("7000076",))


def test_source_duplicates_unreadable_targets_and_empty_names_are_problems(runs):
    erp = InMemorySystem("erp", projects={"1": Project("1", "Skole"), "3": Project("3", " ")})
    erp.also_read.append(Project("1", "Skole B"))
    erp.also_read.append(InvalidRecord("project", "4", "DateStart: is not a date"))
    smartdok = InvalidRecord("project", "5", "ProjectName: is not text")
    erp.projects["5"] = Project("5", "Bro")
    target = InMemorySystem("smartdok")
    target.also_read.append(smartdok)
    result = runs.run(projects.run, "projects", erp, target)
    found = problems(result)
    assert found[("project", "1")] == Problem(ProblemKind.DUPLICATE_KEY, codes=("1",))
    assert found[("project", "3")] == Problem(ProblemKind.CANNOT_CARRY, "name")
    assert found[("project", "4")] == Problem(ProblemKind.UNREADABLE_VALUE, "DateStart")
    assert found[("project", "5")] == Problem(ProblemKind.UNREADABLE_TARGET, "ProjectName", ("5",))


def test_a_leave_of_an_employee_not_in_payroll_names_the_employee(runs):
    period = DateRange(date(2026, 10, 1), date(2026, 10, 31))
    leave = Absence(
        "L1", "7", AbsenceCode.SICK_LEAVE, DateRange(date(2026, 10, 5), date(2026, 10, 6))
    )
    result = runs.run(
        absences.run,
        "absences",
        InMemorySystem("alexis", absences={"L1": leave}),
        InMemorySystem("payroll", employees={"8": Employee("8", "Kari", "Nordmann")}),
        period=period,
    )
    assert problems(result)[("absence", "L1")] == Problem(
        ProblemKind.NOT_IN_TARGET, "employee", ("7",)
    )


def test_the_absences_check_finds_unmapped_leave_types_by_their_problem_not_their_message():
    named = Problem(ProblemKind.MISSING_REFERENCE, "leave.type", ("Sabbatical",))
    message = "leave.type: leave type 'Sabbatical' has no payroll absence code: add it"
    hr = InMemorySystem("alexis")
    hr.also_read += [
        InvalidRecord("absence", "l1", message, "7", named),
        InvalidRecord("absence", "l2", message, "8", named),
        # Worded like one, but a problem of another field: not a leave type to map.
        InvalidRecord("absence", "l3", "leave.typeId: leave type 'Ferie' names no leave type"),
    ]
    findings = asyncio.run(
        preflight.check_absences(
            hr,
            InMemorySystem("payroll"),
            today=date(2026, 11, 2),
            mapping={},
            source_wording=Wording("the source"),
            target_wording=Wording("the target"),
            tenant="acme",
            flow="absences",
        )
    )
    assert findings == [
        preflight.Finding(
            "leave type",
            "Sabbatical",
            "fjordsync config",
            "leave type 'Sabbatical' has no payroll absence code (2 leave(s) in the year around "
            "today use it)",
            "add it to the config:\n"
            "    [tenants.acme.flows.absences.mapping.absence_types]\n"
            '    "Sabbatical" = "<code>"\n'
            "valid codes: 01 Sykmelding, 02 Sykt barn, 03 Egenmelding, 04 Ferie, 05 Permittering, "
            "06 Foreldrepenger, 07 Militærtjeneste, 10 Utdanningspermisjon - lovfestet, "
            "11 Utdanningspermisjon - ikke lovfestet, 12 Andre permisjoner - lovfestet, "
            "13 Andre permisjoner - ikke lovfestet, 14 Pleiepenger livets siste faser, "
            "15 Pleiepenger sykt barn, 16 Omsorgspenger (sykt barn dager), 17 Opplæringspenger, "
            "18 Svangerskapspenger, 19 Svangerskapspermisjon (foreldrepenger), "
            "20 Omsorgspermisjon, 21 Annet fravær",
        )
    ]
