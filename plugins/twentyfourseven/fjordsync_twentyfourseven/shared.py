"""What the ERP (SOAP) and payroll (REST) halves of the 24SevenOffice plugin share: the systems'
names, the error of a write whose outcome is unknown, scrubbing secrets from vendor messages,
and the mapping's common pieces (sentinels, ``UNREADABLE``, numbering records without a key).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from fjordsync.domain.model import (
    InvalidRecord,
)
from fjordsync.errors import InvalidValue, Unavailable

SYSTEM = "24SevenOffice"
PAYROLL = "24SevenOffice Lønn"


class OutcomeUnknown(Unavailable):
    """A write was sent but its answer never came: it may or may not have happened."""


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret (of four characters or more) replaced by ``***``."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = re.sub(re.escape(secret), "***", text, flags=re.IGNORECASE)
    return text


UNSET_INT = -2147483648
UNSET_YEAR = 1
NOT_TEXT = "\ufffd"  # what client.py puts for a character XML forbids
FIX_IN_ERP = "correct it in 24SevenOffice"
FIX_IN_PAYROLL = "correct it in 24SevenOffice Lønn"
MARKER_PREFIX = "fjordsync:"  # the marker fjordsync writes into an hour's InternalNote


class _Unreadable:
    """A value that was there but could not be read (zeep could not convert it)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "UNREADABLE"


UNREADABLE: Any = _Unreadable()


class Unfit(InvalidValue):
    """A vendor value that cannot be read: says "<field> <problem>" (never the value)."""

    def __str__(self) -> str:
        return f"{self.field} {self.problem}"


def _message(error: InvalidValue) -> str:
    return str(error)


def _in_vendor_terms(error: InvalidValue, fields: Mapping[str, tuple[str, str]]) -> InvalidValue:
    """A domain constructor's error told by the 24SevenOffice field it came from
    (``project.period`` -> ``DateStop``/``DateStart``): the clerk fixes the vendor's field, and
    a domain name is no place to look for in 24SevenOffice."""
    if error.field not in fields:
        return error
    name, problem = fields[error.field]
    return Unfit(name, problem)


def numbered(records: Iterable[Any]) -> list[Any]:
    """The records in order; invalid ones whose stand-in key (``(no Id: ...)``) is shared by
    several get a counter (``#1``, ``#2``), so each stays a record of its own instead of all
    becoming one key held twice (a conflict that names no field)."""
    records = list(records)
    stand_ins = Counter(
        r.key for r in records if isinstance(r, InvalidRecord) and r.key.startswith("(no ")
    )
    seen: Counter[str] = Counter()
    result = []
    for record in records:
        if isinstance(record, InvalidRecord) and stand_ins.get(record.key, 0) > 1:
            seen[record.key] += 1
            inner = record.key[1:-1]
            joint = ", " if ":" in inner else ": "
            record = replace(record, key=f"({inner}{joint}#{seen[record.key]})")
        result.append(record)
    return result


# -- SOAP --------------------------------------------------------------------------------------
def no_sentinel(value: Any) -> Any:
    """None for .NET's "unset" values."""
    if value is None or value is UNREADABLE:
        return value
    if isinstance(value, bool):
        return value
    if value == UNSET_INT or value == "":
        return None
    if isinstance(value, datetime | date) and value.year <= UNSET_YEAR:
        return None
    return value
