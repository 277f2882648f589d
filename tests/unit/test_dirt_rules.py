"""The rules that keep dirt from being guessed at: duplicate keys, text XML cannot carry, clock
times outside the day, salaries of nothing, leaves without an end."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fjordsync.domain.codes import AbsenceCode, PayoutPeriod
from fjordsync.domain.diff import ActionKind, Decision, FieldSpec, Record, plan, unique_by_key
from fjordsync.domain.model import Absence, Compensation
from fjordsync.domain.rules import carriable_text, clock_time_problem, payroll_salary
from fjordsync.domain.values import DateRange
from fjordsync.errors import InvalidValue
from fjordsync.testing.strategies import record_sets, records


def test_unique_by_key_makes_every_shared_key_one_conflict_naming_how_many():
    rows = [("900017", "a"), ("900017 ", "b"), ("2", "c"), ("900017", "d")]
    unique, decisions = unique_by_key(rows, lambda row: row[0])
    assert unique == {"2": ("2", "c")}
    assert decisions == [
        Decision(
            "900017",
            ActionKind.CONFLICT,
            "3 source records share key '900017': none is written until one is left",
        )
    ]


def test_a_conflict_outranks_another_verdict_on_the_same_key():
    decided = [
        Decision("1", ActionKind.INVALID, "email: is required"),
        Decision("1", ActionKind.CONFLICT, "2 source records share key '1'"),
    ]
    the_plan = plan([], [], FieldSpec(owned={"name"}), decided=decided)
    assert [(a.kind, a.message) for a in the_plan.actions] == [
        (ActionKind.CONFLICT, "2 source records share key '1'")
    ]


@given(record_sets(), records(), st.data())
def test_a_duplicated_source_key_is_never_written(others, duplicated, data):
    twin = Record(duplicated.key + data.draw(st.sampled_from(["", " "])), {"name": "x"})
    desired = [*others, duplicated, twin]
    unique, decided = unique_by_key(desired, lambda r: r.key)
    current = data.draw(record_sets(unique=True))
    the_plan = plan(unique.values(), current, FieldSpec(owned={"name"}), decided=decided)
    key = duplicated.key.strip()
    assert key not in {a.key for a in the_plan.writes}
    [verdict] = [a for a in the_plan.actions if a.key == key]
    assert verdict.kind is ActionKind.CONFLICT


def test_carriable_text_removes_only_what_xml_1_0_forbids():
    text = "a\x00b\x08c\td\ne\rf\x1fg\ud800h\ufffei\uffffj\u00e6\U0001f600"
    assert carriable_text(text) == ("abc\td\ne\rfghij\u00e6\U0001f600", 6)
    assert carriable_text("Skolebygg Nord") == ("Skolebygg Nord", 0)


@given(st.text())
def test_carriable_text_leaves_nothing_xml_forbids_and_counts_what_it_took(text):
    kept, removed = carriable_text(text)
    assert len(kept) + removed == len(text)
    assert all(
        c in "\t\n\r" or 0x20 <= ord(c) < 0xD800 or 0xE000 <= ord(c) < 0xFFFE or ord(c) > 0xFFFF
        for c in kept
    )


def utc(day, hour):
    return datetime(2026, 10, day, hour, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "stop", "problem"),
    [
        (utc(5, 5), utc(5, 13), None),  # 07:00-15:00 in Oslo
        (utc(4, 22), utc(5, 6), None),  # 00:00-08:00 (summer time)
        (
            utc(6, 4),
            utc(6, 12),
            "time_entry.start: the clock time is not within the entry's day (00-24)",
        ),
        (
            utc(5, 5),
            utc(6, 0),
            "time_entry.stop: the clock time is not within the entry's day (00-24)",
        ),
        (utc(5, 13), utc(5, 5), "time_entry.stop: is before the start"),
    ],
)
def test_clock_times_must_be_times_of_the_entrys_day(start, stop, problem):
    assert clock_time_problem(date(2026, 10, 5), start, stop) == problem


@pytest.mark.parametrize("amount", ["0", "0.00"])
def test_a_salary_of_nothing_is_invalid(amount):
    row = Compensation("7", date(2026, 1, 1), PayoutPeriod.MONTHLY, Decimal(amount))
    with pytest.raises(InvalidValue) as raised:
        payroll_salary(row)
    assert raised.value.field == "compensation.amount"


def test_a_negative_compensation_cannot_be_built():
    with pytest.raises(InvalidValue, match=r"compensation\.amount: must not be negative"):
        Compensation("7", date(2026, 1, 1), PayoutPeriod.MONTHLY, Decimal("-1"))


def test_a_leave_without_an_end_date_names_the_rule():
    with pytest.raises(InvalidValue) as raised:
        Absence("L1", "7", AbsenceCode.SICK_LEAVE, DateRange(date(2026, 10, 5)))
    assert str(raised.value) == "absence.period: the leave has no end date; payroll needs one"


def test_json_text_loses_only_lone_surrogates():
    assert carriable_text("\x1b[1mKar\ud800i\udfff\x01", json=True) == ("\x1b[1mKari\x01", 2)
    assert carriable_text("\x1b[1mKar\ud800i\x01") == ("[1mKari", 3)
