"""Planning and applying converge, touch only owned fields, and never write ambiguous keys."""

from decimal import Decimal

import pytest
from hypothesis import given

from fjordsync.domain.diff import (
    ActionKind,
    Decision,
    FieldChange,
    FieldSpec,
    Record,
    apply,
    fingerprint,
    plan,
)
from fjordsync.testing.strategies import field_specs, record_sets


def by_key(records):
    return {r.key.strip(): r for r in records}


@given(record_sets(unique=True), field_specs)
def test_planning_identical_sides_writes_nothing(records, spec):
    result = plan(records, records, spec)
    assert result.writes == ()
    assert {a.kind for a in result.actions} <= {ActionKind.UNCHANGED, ActionKind.INVALID}


@given(record_sets(unique=True), record_sets(unique=True), field_specs)
def test_applying_converges_on_owned_fields_and_leaves_the_rest(desired, current, spec):
    the_plan = plan(desired, current, spec)
    after = by_key(apply(the_plan, current))
    before = by_key(current)
    for want in desired:
        key = want.key.strip()
        if not key:
            continue
        have = after[key]
        for name in spec.compared:
            if name in want.fields:
                assert have.fields.get(name) == want.fields[name]
        if key in before:  # an update never touches a field the flow does not own
            for name, value in before[key].fields.items():
                if name not in spec.compared or name not in want.fields:
                    assert have.fields[name] == value
            assert have.target_key == before[key].target_key


@given(record_sets(unique=True), record_sets(unique=True), field_specs)
def test_planning_again_after_applying_writes_nothing(desired, current, spec):
    after = apply(plan(desired, current, spec), current)
    assert plan(desired, after, spec).writes == ()


@given(record_sets(), record_sets(), field_specs)
def test_ambiguous_keys_never_produce_writes(desired, current, spec):
    the_plan = plan(desired, current, spec)
    held = {}
    for r in [*desired, *current]:
        held.setdefault(r.key.strip(), []).append(r)
    desired_count = {k: sum(1 for r in desired if r.key.strip() == k) for k in held}
    current_count = {k: sum(1 for r in current if r.key.strip() == k) for k in held}
    ambiguous = {k for k in held if desired_count[k] > 1 or current_count[k] > 1}
    for action in the_plan.writes:
        assert action.key not in ambiguous
    conflicts = {a.key for a in the_plan.of_kind(ActionKind.CONFLICT)}
    assert conflicts == {k for k in ambiguous if desired_count[k] and k}


def test_update_lists_old_and_new_of_changed_owned_fields_only():
    spec = FieldSpec(owned={"name", "email"}, create_only={"vacation_days"})
    desired = [Record("1001", {"name": "Kari", "email": "k@x.no", "vacation_days": "25"})]
    current = [
        Record(
            "1001 ",
            {"name": "Kari N", "email": "k@x.no", "vacation_days": "30", "phone": "1"},
            target_key="u-9",
        )
    ]
    [action] = plan(desired, current, spec).actions
    assert action.kind is ActionKind.UPDATE
    assert action.target_key == "u-9"
    assert action.changes == (FieldChange("name", "Kari N", "Kari"),)
    assert dict(action.values) == {"name": "Kari"}
    enforced = FieldSpec(
        owned={"name", "email"}, create_only={"vacation_days"}, compare_create_only=True
    )
    [action] = plan(desired, current, enforced).actions
    assert dict(action.values) == {"name": "Kari", "vacation_days": "25"}


def test_create_writes_owned_and_create_only_fields():
    spec = FieldSpec(owned={"name"}, create_only={"vacation_days", "empId"})
    [action] = plan(
        [Record("7", {"name": "Ola", "vacation_days": "25", "empId": "7", "extra": 1})], [], spec
    ).actions
    assert action.kind is ActionKind.CREATE
    assert dict(action.values) == {"name": "Ola", "vacation_days": "25", "empId": "7"}


def test_decisions_replace_planning_for_their_keys():
    spec = FieldSpec(owned={"name"})
    the_plan = plan(
        [Record("1", {"name": "a"}), Record("2", {"name": "b"})],
        [],
        spec,
        decided=[Decision("2", ActionKind.INVALID, "email: is required on create")],
    )
    assert [(a.key, a.kind, a.message) for a in the_plan.actions] == [
        ("1", ActionKind.CREATE, ""),
        ("2", ActionKind.INVALID, "email: is required on create"),
    ]
    assert the_plan.counts()[ActionKind.INVALID] == 1


def test_decision_cannot_be_a_write():
    with pytest.raises(ValueError, match="skip, invalid or conflict"):
        Decision("1", ActionKind.CREATE, "no")


def test_decimal_values_compare_by_value():
    spec = FieldSpec(owned={"rate"})
    the_plan = plan(
        [Record("1", {"rate": Decimal("100")})], [Record("1", {"rate": Decimal("100.00")})], spec
    )
    assert the_plan.counts()[ActionKind.UNCHANGED] == 1


def test_fingerprint_is_keyed_and_order_independent():
    values = {"salary": Decimal("52000.00"), "account": "86011117947"}
    assert fingerprint(values, b"k1") == fingerprint(dict(reversed(values.items())), b"k1")
    assert fingerprint(values, b"k1") != fingerprint(values, b"k2")
    assert "52000" not in fingerprint(values, b"k1")
