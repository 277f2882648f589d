"""Flow 3 on in-memory systems: duplicate WorkHourIDs, implausible clock times, text XML cannot
carry, lost answers, crashes and kills, and the exported marks a kill or a failure must not
lose."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from fjordsync.domain.model import CodeItem, Employee, Project, TimeEntry
from fjordsync.domain.values import DateRange
from fjordsync.flows import hours
from fjordsync.testing.memory import InMemorySystem, SimulatedKill

from .conftest import by_key

PERIOD = DateRange(date(2026, 10, 1), date(2026, 10, 31))
DAY = date(2026, 10, 5)


def entry(key, *, start=None, stop=None, comment="Forskaling", hours_=Decimal("7.5")):
    return TimeEntry(
        key=key,
        employee_key="2001",
        project_key="1001",
        day=DAY,
        hours=hours_,
        work_type_code="10",
        salary_type_code="100",
        start=start,
        stop=stop,
        comment=comment,
        approved=True,
    )


def systems(*entries, also=()):
    source = InMemorySystem("smartdok", time_entries={e.key: e for e in entries})
    source.also_read.extend(also)
    target = InMemorySystem(
        "erp",
        employees={"2001": Employee("2001", "Kari", "Nordmann")},
        projects={"1001": Project("1001", "Skolebygg")},
        codes={
            "work_types": [CodeItem("10", "Ordinær")],
            "salary_types": [CodeItem("100", "Timelønn")],
        },
    )
    return source, target


def run(runs, source, target):
    return runs.run(hours.run, "hours", source, target, period=PERIOD)


def erp_hours(target):
    return sorted(e.key for e in target.time_entries.values())


def test_hours_sharing_a_workhourid_are_all_conflicts_and_none_is_sent(runs):
    source, target = systems(entry("9001"), entry("900017"), also=[entry("900017", comment="B")])
    result = run(runs, source, target)
    assert by_key(result)[("hour", "900017")] == (
        "conflict",
        "conflict",
        "2 source records share key '900017': none is written until one is left",
    )
    assert erp_hours(target) == ["9001"]
    assert source.exported == {"9001"}


def test_clock_times_outside_the_day_or_backwards_are_invalid_not_moved(runs):
    late = entry(
        "1",
        start=datetime(2026, 10, 6, 4, 0, tzinfo=UTC),
        stop=datetime(2026, 10, 6, 12, tzinfo=UTC),
    )
    fine = entry(
        "2",
        start=datetime(2026, 10, 5, 5, 0, tzinfo=UTC),
        stop=datetime(2026, 10, 5, 13, tzinfo=UTC),
    )
    source, target = systems(late, fine)
    result = run(runs, source, target)
    assert by_key(result)[("hour", "1")] == (
        "invalid",
        "invalid",
        "time_entry.start: the clock time is not within the entry's day (00-24)",
    )
    assert erp_hours(target) == ["2"]


def test_a_comment_loses_only_what_xml_cannot_carry_and_the_item_says_so(runs):
    source, target = systems(entry("1", comment="Forskaling\x00 dag\x0b 2\ttab"))
    result = run(runs, source, target)
    assert by_key(result)[("hour", "1")] == (
        "create",
        "written",
        "comment: 2 character(s) that cannot be sent (control characters) were removed",
    )
    [sent] = target.time_entries.values()
    assert sent.comment == "Forskaling dag 2\ttab"


@pytest.mark.parametrize("fault", ["lose_answers", "crash_after"])
def test_a_lost_answer_or_an_adapter_crash_never_makes_a_second_hour(runs, fault):
    source, target = systems(entry("1"), entry("2"))
    getattr(target, fault).add("save_time_entry:1")
    first = run(runs, source, target)
    action, outcome, message = by_key(first)[("hour", "1")]
    assert (action, outcome) == ("create", "failed")
    if fault == "crash_after":  # the class only: an unknown error's text may hold values
        assert message == (
            "unexpected error (RuntimeError) in the create of this hour; the details are in the log"
        )
    assert by_key(first)[("hour", "2")][1] == "written"  # the run went on
    assert source.exported == {"2"}
    second = run(runs, source, target)
    assert by_key(second)[("hour", "1")] == (
        "create",
        "written",
        "found in 24SevenOffice by its marker after an answer was lost: linked, not sent again",
    )
    assert erp_hours(target) == ["1", "2"]
    assert target.calls["save_time_entry"] == 2
    assert source.exported == {"1", "2"}
    third = run(runs, source, target)
    assert {item.outcome for item in third.items} == {"unchanged"}


def test_a_kill_after_the_commit_is_reconciled_by_its_marker_and_then_marked(runs, ledger):
    source, target = systems(entry("1"), entry("2"))
    target.kill_after.add("save_time_entry:1")
    with pytest.raises(SimulatedKill):
        run(runs, source, target)
    assert ledger.pending_writes("acme", "hours", "hour") == {"1": "fjordsync:acme:1"}
    second = run(runs, source, target)
    assert by_key(second)[("hour", "1")][1] == "written"
    assert erp_hours(target) == ["1", "2"]
    assert source.exported == {"1", "2"}
    assert ledger.pending_writes("acme", "hours", "hour") == {}
    assert ledger.owed_marks("acme", "hours") == {}


def test_marks_a_kill_kept_from_smartdok_are_sent_first_next_run(runs, ledger):
    source, target = systems(entry("1"), entry("2"))
    source.kill_after.add("mark_exported")
    with pytest.raises(SimulatedKill):
        run(runs, source, target)
    assert source.exported == set()
    assert ledger.owed_marks("acme", "hours") == {"1": "fjordsync-acme", "2": "fjordsync-acme"}
    second = run(runs, source, target)
    assert {item.outcome for item in second.items} == {"unchanged"}
    assert source.exported == {"1", "2"}
    assert ledger.owed_marks("acme", "hours") == {}
    assert erp_hours(target) == ["1", "2"]


def test_a_failing_mark_keeps_the_marks_owed_and_says_so(runs, ledger):
    source, target = systems(entry("1"))
    source.refuse.add("mark_exported")
    first = run(runs, source, target)
    assert by_key(first)[("hour", "1")][1] == "written"
    assert first.notes == [
        "1 hour(s) transferred to 24SevenOffice are not yet marked exported in SmartDok "
        "(smartdok mark_exported: refused (fault)); they stay owed and are marked first next run"
    ]
    assert ledger.owed_marks("acme", "hours") == {"1": "fjordsync-acme"}
    second = run(runs, source, target)
    assert second.notes == []
    assert source.exported == {"1"}
    assert ledger.owed_marks("acme", "hours") == {}
