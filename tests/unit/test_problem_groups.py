"""Issue 14 §1: a run's problems grouped by cause (``group_problems``): the counts add up to the
invalid, conflict and failed items, each such item is in exactly one group, a group names at
most ``SAMPLES`` records, and the groups read as a clerk needs them (largest first, one fix
each, the record's own key taken out of the message)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from fjordsync.domain.diff import ActionKind
from fjordsync.domain.problems import (
    Problem,
    ProblemGroup,
    ProblemKind,
    group_problems,
    without_key,
)
from fjordsync.flows.common import ItemOutcome, Outcome
from fjordsync.ledger.history import RunItemRecord

PROBLEM_OUTCOMES = {"invalid", "conflict", "failed"}


@dataclass(frozen=True)
class Item:
    """An item as ``group_problems`` reads it (a run's ``ItemOutcome`` or a ``RunItemRecord``)."""

    key: str
    outcome: str
    message: str = ""
    problem: Problem | None = None
    label: str = ""


problems = st.one_of(
    st.none(),
    st.builds(
        Problem,
        st.sampled_from(list(ProblemKind)),
        st.sampled_from([None, "activity", "project", "leave.type"]),
        st.lists(st.sampled_from(["01.1", "7777", "120", "k1"]), max_size=2).map(tuple),
    ),
)
items = st.lists(
    st.builds(
        Item,
        key=st.sampled_from(["k1", "k2", "k3", "9001", "9002", "1"]),
        outcome=st.sampled_from(
            ["invalid", "conflict", "failed", "written", "planned", "unchanged", "skipped"]
        ),
        message=st.sampled_from(
            [
                "",
                "SmartDok POST /Users (record k1): UserName: is taken",
                "SmartDok POST /Users (record k2): UserName: is taken",
                "2 source records share key '9001': none is written until one is left",
                "activity code 01.1 has no Work Type ID 01.1",
            ]
        ),
        problem=problems,
        label=st.sampled_from(["", "employee 2001 Kari, 2026-10-05"]),
    ),
    max_size=40,
)


@given(items, st.integers(min_value=0, max_value=8))
def test_the_counts_add_up_to_the_problem_items_and_samples_stay_few(run_items, samples):
    groups = group_problems(run_items, samples)
    problem_items = [i for i in run_items if i.outcome in PROBLEM_OUTCOMES]
    assert sum(group.count for group in groups) == len(problem_items)
    by_outcome = Counter()
    for group in groups:
        by_outcome[group.outcome] += group.count
        assert len(group.records) == min(group.count, samples)
        assert group.count >= 1
    assert by_outcome == Counter(i.outcome for i in problem_items)
    assert [(-g.count, g.message) for g in groups] == sorted((-g.count, g.message) for g in groups)


@given(items)
def test_every_problem_item_is_in_exactly_one_group(run_items):
    # With samples enough for every item, each item's label (else key) is in its group's
    # records once per item: the groups partition the problem items.
    groups = group_problems(run_items, samples=len(run_items) + 1)
    named = Counter(record for group in groups for record in group.records)
    expected = Counter((i.label or i.key) for i in run_items if i.outcome in PROBLEM_OUTCOMES)
    assert named == expected


def test_the_hours_of_one_missing_code_are_one_cause_with_the_fix_and_labelled_samples():
    missing = Problem(ProblemKind.MISSING_REFERENCE, "activity", ("01.1",))
    message = "activity code 01.1 has no Work Type ID 01.1 in 24SevenOffice: set Kode"
    run = [
        ItemOutcome(
            "hour",
            str(9000 + n),
            ActionKind.INVALID,
            Outcome.INVALID,
            message,
            problem=missing,
            label=f"employee 2001 Kari, 2026-10-{n + 1:02d}, project 1001",
        )
        for n in range(7)
    ]
    run += [
        ItemOutcome(
            "hour",
            "8004",
            ActionKind.INVALID,
            Outcome.INVALID,
            "wage code 120 has no Salary Type ID 120 in 24SevenOffice",
            problem=Problem(ProblemKind.MISSING_REFERENCE, "wage", ("120",)),
        ),
        ItemOutcome("hour", "9100", ActionKind.CREATE, Outcome.WRITTEN, label="written"),
        ItemOutcome("hour", "9101", ActionKind.UNCHANGED, Outcome.UNCHANGED),
    ]
    assert group_problems(run) == [
        ProblemGroup(
            "missing_reference",
            "invalid",
            message,
            7,
            tuple(f"employee 2001 Kari, 2026-10-{n:02d}, project 1001" for n in range(1, 6)),
            "activity",
            ("01.1",),
        ),
        ProblemGroup(
            "missing_reference",
            "invalid",
            "wage code 120 has no Salary Type ID 120 in 24SevenOffice",
            1,
            ("8004",),  # no label: its key
            "wage",
            ("120",),
        ),
    ]
    assert group_problems(run)[1].as_dict() == {
        "kind": "missing_reference",
        "outcome": "invalid",
        "message": "wage code 120 has no Salary Type ID 120 in 24SevenOffice",
        "count": 1,
        "records": ["8004"],
        "field": "wage",
        "codes": ["120"],
    }


def test_failed_writes_without_a_problem_group_by_their_message_without_the_record():
    refused = [
        RunItemRecord(
            "user",
            key,
            "create",
            "failed",
            f"SmartDok POST /Users (record {key}): UserName: is already taken",
            (),
            label=f"employee {key}",
        )
        for key in ("2004", "2007", "2011")
    ]
    refused.append(
        RunItemRecord("user", "2012", "create", "failed", "SmartDok POST /Users: timed out", ())
    )
    assert group_problems(refused) == [
        ProblemGroup(
            "write_failed",
            "failed",
            "SmartDok POST /Users: UserName: is already taken",
            3,
            ("employee 2004", "employee 2007", "employee 2011"),
        ),
        ProblemGroup("write_failed", "failed", "SmartDok POST /Users: timed out", 1, ("2012",)),
    ]


def test_records_sharing_keys_are_one_cause_whatever_key_they_share():
    # A duplicate's problem names the key it shares, which is the record's own key: left out,
    # two pairs of duplicates are one cause with one fix.
    pairs = [
        ItemOutcome(
            "project",
            key,
            ActionKind.CONFLICT,
            Outcome.CONFLICT,
            f"2 source records share key {key!r}: none is written until one is left",
            problem=Problem(ProblemKind.DUPLICATE_KEY, codes=(key,)),
        )
        for key in ("P-17", "P-23")
    ]
    assert group_problems(pairs) == [
        ProblemGroup(
            "duplicate_key",
            "conflict",
            "2 source records share key …: none is written until one is left",
            2,
            ("P-17", "P-23"),
        )
    ]


def test_the_largest_cause_comes_first_then_by_message():
    run = [Item(f"b{n}", "invalid", "b: is wrong") for n in range(2)]
    run += [Item("a1", "invalid", "a: is wrong"), Item("c1", "conflict", "c: is wrong")]
    run += [Item(f"z{n}", "failed", "z: refused") for n in range(3)]
    assert [(g.count, g.message) for g in group_problems(run)] == [
        (3, "z: refused"),
        (2, "b: is wrong"),
        (1, "a: is wrong"),
        (1, "c: is wrong"),
    ]
    assert [g.kind for g in group_problems(run)] == [
        "write_failed",
        "unreadable_value",
        "unreadable_value",
        "ambiguous",
    ]


def test_a_key_is_taken_out_where_the_message_names_it_and_nowhere_else():
    assert without_key("SmartDok POST /Users (record 2004): UserName: taken", "2004") == (
        "SmartDok POST /Users: UserName: taken"
    )
    assert without_key("the target's record for key '9001' cannot be read", "9001") == (
        "the target's record for key … cannot be read"
    )
    assert without_key("hour 9001 of 2026-10-01 at 19001 and 9001.5 h", "9001") == (
        "hour … of 2026-10-01 at 19001 and 9001.5 h"
    )
    # A short bare key also stands for counts: only its quoted or "(record 1)" form goes.
    assert without_key("1 character(s) removed from '1' (record 1)", "1") == (
        "1 character(s) removed from …"
    )
    assert without_key("no key here", "") == "no key here"
