"""A leave type with no payroll absence code: the absences flow's invalid item and the preflight
finding carry the TOML lines to paste into this tenant's config and the valid codes; one problem
per leave type (its codes hold the type's name), so a run's problems group by type."""

from __future__ import annotations

import asyncio
import tomllib
from datetime import date

from fjordsync.domain.model import InvalidRecord
from fjordsync.domain.problems import Problem, ProblemKind
from fjordsync.domain.values import DateRange
from fjordsync.flows import absences, registry
from fjordsync.testing.memory import InMemorySystem

VALID = (
    "valid codes: 01 Sykmelding, 02 Sykt barn, 03 Egenmelding, 04 Ferie, 05 Permittering, "
    "06 Foreldrepenger, 07 Militærtjeneste, 10 Utdanningspermisjon - lovfestet, "
    "11 Utdanningspermisjon - ikke lovfestet, 12 Andre permisjoner - lovfestet, "
    "13 Andre permisjoner - ikke lovfestet, 14 Pleiepenger livets siste faser, "
    "15 Pleiepenger sykt barn, 16 Omsorgspenger (sykt barn dager), 17 Opplæringspenger, "
    "18 Svangerskapspenger, 19 Svangerskapspermisjon (foreldrepenger), 20 Omsorgspermisjon, "
    "21 Annet fravær"
)
PLUGIN_SAYS = "leave.type: leave type 'Avspasering' has no payroll absence code: add it"


def unmapped(key, owner, *codes):
    problem = Problem(ProblemKind.MISSING_REFERENCE, "leave.type", codes)
    return InvalidRecord("absence", key, PLUGIN_SAYS, owner, problem)


def hr_with(*records):
    hr = InMemorySystem("alexis")
    hr.also_read += records
    return hr


def test_the_invalid_leave_says_what_to_paste_into_the_tenants_config(runs):
    hr = hr_with(unmapped("L1", "1003", "Avspasering"), unmapped("L2", "1004", "Avspasering"))
    result = runs.run(
        absences.run,
        "absences",
        hr,
        InMemorySystem("payroll"),
        period=DateRange(date(2026, 1, 1), date(2026, 12, 31)),
    )
    said = (
        "leave type 'Avspasering' has no payroll absence code: add it to the config:\n"
        "    [tenants.acme.flows.absences.mapping.absence_types]\n"
        '    "Avspasering" = "<code>"\n' + VALID
    )
    assert [(i.key, i.outcome.value, i.message) for i in result.items] == [
        ("L1", "invalid", said),
        ("L2", "invalid", said),
    ]
    # One problem per leave type, whichever leave: what a run's problems group by.
    assert {i.problem for i in result.items} == {
        Problem(ProblemKind.MISSING_REFERENCE, "leave.type", ("Avspasering",))
    }


def test_the_companys_own_code_for_the_type_is_named_when_the_reader_gives_it():
    what, _ = absences.unmapped_leave_type(("Avspasering", "AVSP"), "demo", "absences")
    assert what == "leave type 'Avspasering' (code AVSP) has no payroll absence code"


def test_the_lines_to_paste_are_toml_that_maps_the_type_once_a_code_is_filled_in():
    _, fix = absences.unmapped_leave_type(('Fri "etter" avtale',), "nord vest", "absences")
    lines = fix.splitlines()
    assert lines[:3] == [
        "add it to the config:",
        '    [tenants."nord vest".flows.absences.mapping.absence_types]',
        '    "Fri \\"etter\\" avtale" = "<code>"',
    ]
    pasted = tomllib.loads("\n".join(lines[1:3]).replace("<code>", "13"))
    assert pasted == {
        "tenants": {
            "nord vest": {
                "flows": {"absences": {"mapping": {"absence_types": {'Fri "etter" avtale': "13"}}}}
            }
        }
    }
    assert lines[3:] == [VALID]


def test_the_preflight_finding_is_one_per_leave_type_with_the_lines_for_the_checked_tenant():
    hr = hr_with(
        unmapped("L1", "1003", "Avspasering"),
        unmapped("L2", "1004", "Avspasering"),
        unmapped("L3", "1004", "Sabbatical", "S1"),
    )
    findings = asyncio.run(
        registry.FLOWS["absences"].review(
            hr, InMemorySystem("payroll"), today=date(2026, 11, 2), mapping={}, tenant="demo"
        )
    )
    assert [(f.subject, f.record, f.change_in, f.message, f.proposal) for f in findings] == [
        (
            "leave type",
            "Avspasering",
            "fjordsync config",
            "leave type 'Avspasering' has no payroll absence code (2 leave(s) in the year around "
            "today use it)",
            "add it to the config:\n"
            "    [tenants.demo.flows.absences.mapping.absence_types]\n"
            '    "Avspasering" = "<code>"\n' + VALID,
        ),
        (
            "leave type",
            "Sabbatical",
            "fjordsync config",
            "leave type 'Sabbatical' (code S1) has no payroll absence code (1 leave(s) in the year "
            "around today use it)",
            "add it to the config:\n"
            "    [tenants.demo.flows.absences.mapping.absence_types]\n"
            '    "Sabbatical" = "<code>"\n' + VALID,
        ),
    ]
