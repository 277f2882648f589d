"""Issue 11 §2: what is wrong with a record as a value (``Problem``), beside the message a clerk
reads: derived from the message's leading field when a reader gives none, never part of what
records, decisions and items compare by."""

from __future__ import annotations

from fjordsync.domain.diff import ActionKind, Decision, FieldSpec, Record, plan, unique_by_key
from fjordsync.domain.model import InvalidRecord
from fjordsync.domain.problems import Problem, ProblemKind
from fjordsync.errors import InvalidValue


def test_an_invalid_record_without_a_problem_gets_the_field_its_message_starts_with():
    record = InvalidRecord("project", "1", "DateStart: is not a date")
    assert record.problem == Problem(ProblemKind.UNREADABLE_VALUE, "DateStart")
    dotted = InvalidRecord("employee", "2", "EmailAddresses.EmailAddress.0.Value: is no e-mail")
    assert dotted.problem.field == "EmailAddresses.EmailAddress.0.Value"


def test_a_message_that_starts_with_no_field_gives_a_problem_without_one():
    assert InvalidRecord("hour", "x", "is not a record").problem == Problem(
        ProblemKind.UNREADABLE_VALUE
    )
    said = InvalidRecord("absence", "l", "leave type 'Sabbatical' has no payroll code: add it")
    assert said.problem.field is None


def test_from_error_takes_the_errors_field_and_a_given_problem_stands():
    error = InvalidValue("leave.type", "leave type 'X' has no payroll absence code")
    assert InvalidRecord.from_error("absence", "l1", error).problem == Problem(
        ProblemKind.UNREADABLE_VALUE, "leave.type"
    )
    given = Problem(ProblemKind.MISSING_REFERENCE, "leave.type", ("X",))
    assert InvalidRecord.from_error("absence", "l1", error, "7", given).problem == given


def test_records_and_decisions_compare_by_what_they_say_not_by_their_problem():
    plain = InvalidRecord("absence", "l1", "leave.type: no code")
    told = InvalidRecord(
        "absence", "l1", "leave.type: no code", problem=Problem(ProblemKind.AMBIGUOUS)
    )
    assert plain == told
    assert Decision("1", ActionKind.INVALID, "x") == Decision(
        "1", ActionKind.INVALID, "x", Problem(ProblemKind.CANNOT_CARRY, "name")
    )


def test_shared_and_missing_keys_are_problems_naming_the_key():
    _, decisions = unique_by_key([("9", "a"), ("9 ", "b"), ("", "c")], lambda row: row[0])
    assert {(d.key, d.problem) for d in decisions} == {
        ("9", Problem(ProblemKind.DUPLICATE_KEY, codes=("9",))),
        ("", Problem(ProblemKind.MISSING_KEY)),
    }


def test_a_plan_carries_each_decisions_problem_to_its_action_and_names_ambiguous_keys():
    problem = Problem(ProblemKind.MISSING_REFERENCE, "activity", ("01.1",))
    the_plan = plan(
        [Record("1", {"name": "a"})],
        [Record("2", {"name": "b"}), Record("2", {"name": "c"})],
        FieldSpec(owned={"name"}),
        decided=[Decision("3", ActionKind.INVALID, "activity code 01.1 ...", problem)],
    )
    [invalid] = the_plan.of_kind(ActionKind.INVALID)
    assert invalid.problem == problem
    wanted = plan(
        [Record("2", {"name": "a"}), Record("2 ", {"name": "b"})], [], FieldSpec(owned={"name"})
    )
    [conflict] = wanted.of_kind(ActionKind.CONFLICT)
    assert conflict.problem == Problem(ProblemKind.DUPLICATE_KEY, codes=("2",))


def test_a_problem_as_json_holds_kind_field_and_codes_only():
    assert Problem(ProblemKind.DUPLICATE_KEY, "time_entry.marker", ("7",)).as_dict() == {
        "kind": "duplicate_key",
        "field": "time_entry.marker",
        "codes": ["7"],
    }
