"""Plan, then apply: per-record actions from the desired state and the target's current state.

A flow turns domain records into ``Record`` views: the record's match key and the target fields
it integrates, already in the form the target compares (the projection is the flow's job). This
module then decides, record by record:

- ``create``: no target record has the key; every owned and create-only field is written;
- ``update``: the target record differs on an owned field; only the changed fields are written,
  each with its old and new value, so fields the flow does not own are never touched;
- ``unchanged``: nothing owned differs: no write;
- ``conflict``: the key is ambiguous (held by several records on a side), or the flow decided so;
- ``skip`` and ``invalid``: decided by the flow (out of scope, cannot be mapped), with a message.

Create-only fields (keys, defaults) are compared on update only when ``FieldSpec`` says so,
so a payroll clerk's later change to a defaulted field stands.

``apply`` is the pure model of what a target does with a plan: the property tests use it to show
that applying a plan converges (planning again gives no writes).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any, TypeVar

from fjordsync.domain.matching import match, normalise_key
from fjordsync.domain.problems import Problem, ProblemKind

R = TypeVar("R")

__all__ = [
    "Action",
    "ActionKind",
    "Decision",
    "FieldChange",
    "FieldSpec",
    "Plan",
    "Record",
    "apply",
    "fingerprint",
    "plan",
    "unique_by_key",
]


class ActionKind(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    SKIP = "skip"
    INVALID = "invalid"
    CONFLICT = "conflict"

    @property
    def writes(self) -> bool:
        return self in (ActionKind.CREATE, ActionKind.UPDATE)


NO_KEY = "the record has no key"
NO_KEY_PROBLEM = Problem(ProblemKind.MISSING_KEY)


def _frozen(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True, slots=True)
class Record:
    """A record as the plan sees it: match key, integration fields, and the target's own id."""

    key: str
    fields: Mapping[str, Any]
    target_key: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "fields", _frozen(self.fields))


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """Which fields a flow owns (compared and overwritten) and which it writes only on create."""

    owned: frozenset[str]
    create_only: frozenset[str] = frozenset()
    compare_create_only: bool = False

    def __init__(
        self,
        owned: Iterable[str],
        create_only: Iterable[str] = (),
        compare_create_only: bool = False,
    ) -> None:
        object.__setattr__(self, "owned", frozenset(owned))
        object.__setattr__(self, "create_only", frozenset(create_only))
        object.__setattr__(self, "compare_create_only", compare_create_only)

    @property
    def compared(self) -> frozenset[str]:
        return self.owned | self.create_only if self.compare_create_only else self.owned

    @property
    def written_on_create(self) -> frozenset[str]:
        return self.owned | self.create_only


@dataclass(frozen=True, slots=True)
class FieldChange:
    field: str
    old: Any
    new: Any


@dataclass(frozen=True, slots=True)
class Decision:
    """A verdict a flow reached before planning: skip, invalid or conflict, with its reason:
    ``message`` for the clerk, ``problem`` as a value (not compared: a verdict is what it
    says)."""

    key: str
    kind: ActionKind
    message: str
    problem: Problem | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.kind.writes or self.kind is ActionKind.UNCHANGED:
            raise ValueError("a Decision is a skip, invalid or conflict")


@dataclass(frozen=True, slots=True)
class Action:
    kind: ActionKind
    key: str
    target_key: str | None = None
    values: Mapping[str, Any] = field(default_factory=dict)  # what a write sends
    changes: tuple[FieldChange, ...] = ()  # old -> new, for updates
    message: str = ""
    problem: Problem | None = field(default=None, compare=False)  # a decision's, as a value

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", _frozen(self.values))


@dataclass(frozen=True, slots=True)
class Plan:
    actions: tuple[Action, ...]

    @property
    def writes(self) -> tuple[Action, ...]:
        return tuple(a for a in self.actions if a.kind.writes)

    def counts(self) -> dict[ActionKind, int]:
        tally = Counter(a.kind for a in self.actions)
        return {kind: tally.get(kind, 0) for kind in ActionKind}

    def of_kind(self, kind: ActionKind) -> tuple[Action, ...]:
        return tuple(a for a in self.actions if a.kind is kind)


def plan(
    desired: Iterable[Record],
    current: Iterable[Record],
    spec: FieldSpec,
    *,
    decided: Iterable[Decision] = (),
    normalise: Callable[[object], str] = normalise_key,
) -> Plan:
    """The per-record actions that make ``current`` hold ``desired`` on the owned fields.

    A key the flow already ``decided`` (skip, invalid, conflict) is not planned again.
    Target records no desired record matches are left alone: flows never delete.
    """
    decisions: dict[str, Decision] = {}
    for decision in decided:
        # One verdict per key: the first, except that a conflict (a key several records share)
        # outranks anything said about one of them.
        known = decisions.setdefault(normalise(decision.key), decision)
        if decision.kind is ActionKind.CONFLICT and known.kind is not ActionKind.CONFLICT:
            decisions[normalise(decision.key)] = decision
    wanted = [r for r in desired if normalise(r.key) not in decisions]
    result = match(
        wanted, current, source_key=lambda r: r.key, target_key=lambda r: r.key, normalise=normalise
    )
    actions = [
        Action(d.kind, d.key, message=d.message, problem=d.problem) for d in decisions.values()
    ]
    for key, want, have in result.matched:
        changes = tuple(
            FieldChange(name, have.fields.get(name), want.fields[name])
            for name in sorted(spec.compared)
            if name in want.fields and want.fields[name] != have.fields.get(name)
        )
        if changes:
            values = {change.field: change.new for change in changes}
            actions.append(Action(ActionKind.UPDATE, key, have.target_key, values, changes))
        else:
            actions.append(Action(ActionKind.UNCHANGED, key, have.target_key))
    for key, want in result.unmatched_source:
        if key == "":
            actions.append(Action(ActionKind.INVALID, key, message=NO_KEY, problem=NO_KEY_PROBLEM))
            continue
        values = {n: v for n, v in want.fields.items() if n in spec.written_on_create}
        actions.append(Action(ActionKind.CREATE, key, None, values))
    for ambiguous in result.ambiguous:
        if ambiguous.sources:
            actions.append(
                Action(
                    ActionKind.CONFLICT,
                    ambiguous.key,
                    message=ambiguous.reason,
                    problem=Problem(ProblemKind.DUPLICATE_KEY, codes=(ambiguous.key,)),
                )
            )
    actions.sort(key=lambda a: (a.key, a.kind.value))
    return Plan(tuple(actions))


def unique_by_key(
    records: Iterable[R],
    key_of: Callable[[R], object],
    *,
    side: str = "source",
    normalise: Callable[[object], str] = normalise_key,
) -> tuple[dict[str, R], list[Decision]]:
    """Split ``records`` into those whose (normalised) key no other record holds, by key, and a
    ``conflict`` for each key several records share: which of them is the real one cannot be
    known, so none is written until one is left. Turning a collection into a dict by key
    without this would let the last record silently win (one employee's bank account on
    another's payroll record). Keys are ids and numbers, never personal data, so the message
    names the key. Records without a key are left out, each as ``invalid``."""
    groups: dict[str, list[R]] = {}
    decisions: list[Decision] = []
    for record in records:
        key = normalise(key_of(record))
        if not key:
            decisions.append(Decision(key, ActionKind.INVALID, NO_KEY, NO_KEY_PROBLEM))
            continue
        groups.setdefault(key, []).append(record)
    unique: dict[str, R] = {}
    where = "source records" if side == "source" else "records in the target"
    for key, group in groups.items():
        if len(group) == 1:
            unique[key] = group[0]
        else:
            decisions.append(
                Decision(
                    key,
                    ActionKind.CONFLICT,
                    f"{len(group)} {where} share key {key!r}: none is written until one is left",
                    Problem(ProblemKind.DUPLICATE_KEY, codes=(key,)),
                )
            )
    return unique, decisions


def apply(
    the_plan: Plan,
    current: Iterable[Record],
    *,
    new_target_key: Callable[[str], str] = lambda key: key,
    normalise: Callable[[object], str] = normalise_key,
) -> tuple[Record, ...]:
    """The target's records after the plan's writes: creates added, updates applied to the
    changed fields only. A model of a well-behaved target, for tests and in-memory fakes."""
    records = list(current)
    index = {normalise(r.key): i for i, r in enumerate(records)}
    for action in the_plan.writes:
        if action.kind is ActionKind.CREATE:
            index[normalise(action.key)] = len(records)
            records.append(Record(action.key, action.values, new_target_key(action.key)))
        else:
            position = index[normalise(action.key)]
            old = records[position]
            records[position] = Record(old.key, {**old.fields, **action.values}, old.target_key)
    return tuple(records)


def fingerprint(values: Mapping[str, Any], key: bytes) -> str:
    """A keyed digest of what was written, so the ledger can tell "changed since we wrote it"
    without keeping the values (salaries, account numbers). The key keeps low-entropy values such
    as a salary from being recovered by hashing guesses; it is kept apart from the values."""
    canonical = json.dumps(
        {name: str(value) if value is not None else None for name, value in values.items()},
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.blake2b(canonical.encode(), key=key, digest_size=20).hexdigest()
