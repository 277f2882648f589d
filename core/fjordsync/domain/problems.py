"""What is wrong with a record, as a value: a ``Problem`` says what kind of problem it is, which
field it is about and which codes or keys are involved, never a value (a salary, an account
number). Invalid records, the flows' decisions and the run's items carry one beside their
message, so a check or a host program works on the problem instead of parsing the message;
the message a clerk reads is rendered from the problem and the systems' ``Wording`` where the
flow decides, and stays the text of record.

A problem is description, not identity: records, decisions and items compare by what they say
(their message), not by their problem.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Problem", "ProblemKind"]


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
