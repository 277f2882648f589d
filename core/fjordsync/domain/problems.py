"""What is wrong with a record, as a value: a ``Problem`` says what kind of problem it is, which
field it is about and which codes or keys are involved, never a value (a salary, an account
number). Invalid records, the flows' decisions and the run's items carry one beside their
message, so a check or a host program works on the problem instead of parsing the message;
the message a clerk reads is rendered from the problem and the systems' ``Wording`` where the
flow decides, and stays the text of record.

A problem is description, not identity: records, decisions and items compare by what they say
(their message), not by their problem.

``group_problems`` turns a run's items into its problems grouped by cause (``ProblemGroup``):
the 344 invalid hours of a run are 4 causes, each with its count, its one fix and a few sample
records a clerk recognises. Items with a problem are grouped by its kind, field and codes (the
item's own key left out of the codes: "two records share key 17" is one cause for every such
key); items without one (a write that failed) by their message with the record's own key taken
out ("SmartDok POST /Users (record 2004): UserName: ..." names its record).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = ["SAMPLES", "Problem", "ProblemGroup", "ProblemKind", "group_problems", "without_key"]


class ProblemKind(StrEnum):
    UNREADABLE_VALUE = "unreadable_value"  # a value breaks a rule: the record cannot be read
    MISSING_KEY = "missing_key"  # the record has no key
    DUPLICATE_KEY = "duplicate_key"  # several records of one side hold the key (or marker)
    MISSING_REFERENCE = "missing_reference"  # a code matches nothing on the other side
    UNREADABLE_TARGET = "unreadable_target"  # the target's record for the key cannot be read
    CANNOT_CARRY = "cannot_carry"  # the target cannot take what is left (an empty name)
    IMPLAUSIBLE_VALUE = "implausible_value"  # outside what the target or the rules take
    NOT_IN_TARGET = "not_in_target"  # what the record hangs off is not in the target yet
    TARGET_LOCKED = "target_locked"  # changed after transfer, but locked or approved there
    WITHDRAWN = "withdrawn"  # withdrawn in the source after transfer; the target cannot delete
    AMBIGUOUS = "ambiguous"  # several target records could be the one meant
    NO_CAPACITY = "no_capacity"  # the target has no room for it (no free licence)
    UNEXPECTED = "unexpected"  # an error that is not fjordsync's (a bug): named by class only
    WRITE_FAILED = "write_failed"  # a write the target refused or never answered (no problem given)


# A message's leading field name: "leave.type: ...", "EmailAddresses.EmailAddress.0.Value: ...".
_LEADING_FIELD = re.compile(r"([^\s:'\"]+): ")


@dataclass(frozen=True, slots=True)
class Problem:
    """``kind``; ``field``, the field it is about as the message names it (a domain field such
    as ``leave.type`` or the source's own field name), or None for the record as a whole;
    ``codes``, the codes or keys involved (a missing activity code, a shared key, a leave
    type's name), never personal values."""

    kind: ProblemKind
    field: str | None = None
    codes: tuple[str, ...] = ()

    @classmethod
    def of_message(cls, message: str, kind: ProblemKind = ProblemKind.UNREADABLE_VALUE) -> Problem:
        """The problem of a message whose writer gave none (a plugin's ``InvalidRecord``):
        ``kind`` and the field the message starts with ("field: rule"), if it does."""
        leading = _LEADING_FIELD.match(message)
        return cls(kind, leading.group(1) if leading else None)

    def as_dict(self) -> dict[str, object]:
        """For JSON documents: kind, field and codes (never values)."""
        return {"kind": self.kind.value, "field": self.field, "codes": list(self.codes)}


# How many sample records a group names: enough to find the pattern, few enough to read.
SAMPLES = 5

# The outcomes that are problems (``flows.common.Outcome``'s words: the domain does not import
# the flows), and the kind a group of items without a problem gets by its outcome.
_PROBLEM_OUTCOMES = ("invalid", "conflict", "failed")
_KIND_WITHOUT_PROBLEM = {
    "invalid": ProblemKind.UNREADABLE_VALUE,
    "conflict": ProblemKind.AMBIGUOUS,
    "failed": ProblemKind.WRITE_FAILED,
}
# Where "…" stands for a record's key taken out of a message.
ELIDED = "…"
# A bare key shorter than this is left in a message: "1" or "12" also stand for counts and
# hours ("1 character(s) were removed"), so only a quoted key or "(record 1)" is taken out.
_SHORTEST_BARE_KEY = 3


@dataclass(frozen=True, slots=True)
class ProblemGroup:
    """The items of one cause: ``kind`` (a ``ProblemKind`` value), ``outcome`` (invalid,
    conflict or failed), ``message`` (the one fix: the first item's message with its own key
    taken out), ``count``, ``records`` (up to ``SAMPLES`` samples: each item's label, else its
    key), and the problem's ``field`` and ``codes`` when the items had one."""

    kind: str
    outcome: str
    message: str
    count: int
    records: tuple[str, ...]
    field: str | None = None
    codes: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        """For JSON documents (``--json``, ``runs show --json``)."""
        return {
            "kind": self.kind,
            "outcome": self.outcome,
            "message": self.message,
            "count": self.count,
            "records": list(self.records),
            "field": self.field,
            "codes": list(self.codes),
        }


def without_key(message: str, key: str) -> str:
    """``message`` with the record's own ``key`` taken out: " (record KEY)" goes, a quoted or
    (long enough) bare KEY becomes "…", so the messages of one cause read alike."""
    if not key or key not in message:  # most messages: no pattern to build
        return message
    text = message.replace(f" (record {key})", "")
    quoted = re.escape(key)
    text = re.sub(f"'{quoted}'|\"{quoted}\"", ELIDED, text)
    if len(key) >= _SHORTEST_BARE_KEY:
        text = re.sub(f"(?<![\\w.-]){quoted}(?![\\w-]|\\.\\w)", ELIDED, text)
    return text


def group_problems(items: Iterable[Any], samples: int = SAMPLES) -> list[ProblemGroup]:
    """The problems among ``items`` (anything with ``key``, ``label``, ``outcome``, ``message``
    and ``problem``: a run's ``ItemOutcome`` or the ledger's ``RunItemRecord``) grouped by
    cause, the largest first (then by message). Only invalid, conflict and failed items are
    problems; each is in exactly one group, so the counts add up to them."""
    groups: dict[tuple[object, ...], list[Any]] = {}
    # Per cause, what its group says: the first item's message, its problem's kind, field and
    # codes (the item's own key left out), or None for items without a problem.
    said: dict[tuple[object, ...], tuple[str, str, Problem | None]] = {}
    for item in items:  # a loop over 100,000 items: the cause is built from what they hold
        outcome = item.outcome
        if outcome not in _PROBLEM_OUTCOMES:  # Outcome is a str enum: equal to its word
            continue
        outcome = str(outcome)
        key = str(item.key or "")
        problem: Problem | None = item.problem
        if problem is not None:
            codes = problem.codes
            if key in codes:
                codes = tuple(code for code in codes if code != key)
            cause: tuple[object, ...] = (outcome, problem.kind, problem.field, codes)
        else:
            cause = (outcome, without_key(str(item.message or ""), key))
        members = groups.get(cause)
        if members is None:  # a new cause: it says what its first item says
            groups[cause] = members = []
            if problem is not None:
                problem = Problem(problem.kind, problem.field, codes)
            said[cause] = (outcome, without_key(str(item.message or ""), key), problem)
        members.append(item)
    result = []
    for cause, members in groups.items():
        outcome, message, problem = said[cause]
        records = tuple(str(m.label or m.key) for m in members[: max(0, samples)])
        if problem is None:
            kind = _KIND_WITHOUT_PROBLEM[outcome].value
            result.append(ProblemGroup(kind, outcome, message, len(members), records))
        else:
            result.append(
                ProblemGroup(
                    problem.kind.value,
                    outcome,
                    message,
                    len(members),
                    records,
                    problem.field,
                    problem.codes,
                )
            )
    result.sort(key=lambda g: (-g.count, g.message, g.outcome, g.kind, g.field or "", g.codes))
    return result
