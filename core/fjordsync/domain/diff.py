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
import heapq
import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from operator import attrgetter
from types import MappingProxyType
from typing import Any, TypeVar

from fjordsync.domain.matching import Ambiguous, normalise_key
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


# One empty mapping for every action that sends nothing (unchanged, skip, conflict: most of a
# re-run's 100,000), instead of a dict and a proxy each.
_EMPTY: Mapping[str, Any] = MappingProxyType({})


def _frozen(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping)) if mapping else _EMPTY


def _empty() -> Mapping[str, Any]:
    return _EMPTY


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
    values: Mapping[str, Any] = field(default_factory=_empty)  # what a write sends
    changes: tuple[FieldChange, ...] = ()  # old -> new, for updates
    message: str = ""
    problem: Problem | None = field(default=None, compare=False)  # a decision's, as a value

    def __post_init__(self) -> None:
        if self.values is not _EMPTY:
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

    # The target by key (what ``match`` does, here in one pass without its lists): a key more
    # than one target record holds is counted, never paired.
    def key_of(record: Record) -> str:
        # normalise_key's own rule for a text key, without a call per record
        key = record.key
        return key.strip() if fast and type(key) is str else normalise(key)

    fast = normalise is normalise_key
    have_by_key: dict[str, Record] = {}
    targets_holding: dict[str, int] = {}
    for held_record in current:
        key = key_of(held_record)
        if key in have_by_key:
            targets_holding[key] = targets_holding.get(key, 1) + 1
        else:
            have_by_key[key] = held_record
    # Each desired record is planned as it comes and then let go (100,000 of them need not be
    # held twice); a key a second desired record holds turns its action into a conflict.
    compared = sorted(spec.compared)
    on_create = spec.written_on_create
    planned: dict[str, Action] = {}
    sources_holding: dict[str, int] = {}
    no_key: list[Action] = []
    for want in desired:
        key = key_of(want)
        if key in decisions:
            continue
        if key == "":
            no_key.append(Action(ActionKind.INVALID, key, message=NO_KEY, problem=NO_KEY_PROBLEM))
            continue
        if key in planned:
            sources_holding[key] = sources_holding.get(key, 1) + 1
            continue
        if key in targets_holding:
            planned[key] = _AMBIGUOUS  # a conflict, written below with the count
            continue
        have = have_by_key.get(key)
        if have is None:
            values = {n: v for n, v in want.fields.items() if n in on_create}
            planned[key] = Action(ActionKind.CREATE, key, None, values)
            continue
        wanted, held = want.fields, have.fields
        for name in compared:  # most records are unchanged: found without building a list
            if name in wanted and wanted[name] != held.get(name):
                break
        else:
            planned[key] = Action(ActionKind.UNCHANGED, key, have.target_key)
            continue
        changes = [
            FieldChange(name, held.get(name), wanted[name])
            for name in compared
            if name in wanted and wanted[name] != held.get(name)
        ]
        if changes:
            values = {change.field: change.new for change in changes}
            planned[key] = Action(ActionKind.UPDATE, key, have.target_key, values, tuple(changes))
        else:
            planned[key] = Action(ActionKind.UNCHANGED, key, have.target_key)
    by_key = attrgetter("key", "kind")  # a kind sorts as its value: a StrEnum is its text
    decided_actions = [
        Action(d.kind, d.key, message=d.message, problem=d.problem) for d in decisions.values()
    ]
    decided_actions += no_key
    decided_actions.sort(key=by_key)
    actions: list[Action] = []
    for key in sorted(planned):
        action = planned[key]
        if action is _AMBIGUOUS or key in sources_holding:
            ambiguous = Ambiguous(
                key,
                (None,) * sources_holding.get(key, 1),
                (None,) * targets_holding.get(key, 1 if key in have_by_key else 0),
            )
            action = Action(
                ActionKind.CONFLICT,
                key,
                message=ambiguous.reason,
                problem=Problem(ProblemKind.DUPLICATE_KEY, codes=(key,)),
            )
        actions.append(action)
    # Planned actions are in key order, one per key, and no decided key is among them: merged,
    # not sorted again (the stable order a sort of all of them would give).
    if decided_actions:
        return Plan(tuple(heapq.merge(decided_actions, actions, key=by_key)))
    return Plan(tuple(actions))


# The placeholder of a key several target records hold, until it is written as a conflict.
_AMBIGUOUS = Action(ActionKind.CONFLICT, "")


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


# json.dumps with these options builds an encoder per call (a third of a fingerprint's time);
# this one gives the same text.
_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False)


def fingerprint(values: Mapping[str, Any], key: bytes) -> str:
    """A keyed digest of what was written, so the ledger can tell "changed since we wrote it"
    without keeping the values (salaries, account numbers). The key keeps low-entropy values such
    as a salary from being recovered by hashing guesses; it is kept apart from the values."""
    canonical = _CANONICAL.encode(
        {name: str(value) if value is not None else None for name, value in values.items()}
    )
    return hashlib.blake2b(canonical.encode(), key=key, digest_size=20).hexdigest()
