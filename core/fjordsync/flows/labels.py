"""What a clerk recognises a record by, for its item's ``label`` (``apply_plan(labels=)``).

An opaque key (``900017``) tells a payroll clerk nothing; an employee's number and name, a day
and a project do. Each flow builds its labels once per run, by key, from what it has already
read (no request per record): an hour "employee 1001 Nora Larsen, 2026-10-05, project 1004", a
project "project 1004 Gang- og sykkelvei", an employee "employee 1001 Nora Larsen", an
employment "employee 1020 Eva Berg, employment from 2019-03-01", an absence "employee 1003
Ingrid Lund, Sykmelding 2026-02-03..2026-02-07".

A label holds numbers, names, days, project numbers and leave types only: never a personal
number, a bank account, a salary or an address (the labels are kept in the run history and
shown without masking). A record that could not be read at all (an ``InvalidRecord``) is
labelled with what it has: its entity and key, and the employee it hangs off when known.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from fjordsync.domain.matching import normalise_key
from fjordsync.domain.model import Employee, InvalidRecord
from fjordsync.domain.rules import carriable_text

__all__ = ["employee_labels", "names_of", "person", "text", "unreadable"]


def text(value: str | None) -> str:
    """Text from a record as a label can hold it: without the characters the ledger (UTF-8)
    and a terminal cannot take (lone surrogates, control characters: ``rules.carriable_text``),
    and without line breaks or tabs, so a label is one line."""
    if not value:
        return ""
    if value.isprintable():  # most names: nothing to remove, known without a look at each
        return value
    kept, _ = carriable_text(value)
    return " ".join(kept.split())


def person(number: str, names: Mapping[str, str]) -> str:
    """An employee's label: "employee 1001 Nora Larsen", or "employee 1001" when the name is not
    known."""
    number = number.strip()
    name = names.get(number)
    return f"employee {number} {name}" if name else f"employee {number}"


def names_of(records: Iterable[object]) -> dict[str, str]:
    """Each readable employee's name, by (normalised) number; the first one read of a number
    several share."""
    names: dict[str, str] = {}
    for record in records:
        if isinstance(record, Employee):
            names.setdefault(normalise_key(record.key), text(record.full_name))
    return names


def unreadable(record: InvalidRecord, noun: str, names: Mapping[str, str]) -> str:
    """The label of a record that could not be read: "employee 1001 Nora Larsen, hour 900017"
    when it hangs off an employee, else "hour 900017"."""
    own = f"{noun} {record.key.strip()}" if record.key.strip() else f"{noun} without a key"
    if record.owner and record.owner.strip():
        return f"{person(record.owner, names)}, {own}"
    return own


def employee_labels(
    records: Iterable[Employee | InvalidRecord], names: Mapping[str, str]
) -> dict[str, str]:
    """Each employee record's label by (normalised) number, "employee 1001 Nora Larsen"; one
    that could not be read by what it has; the first read of a number several share."""
    labels: dict[str, str] = {}
    for record in records:
        key = normalise_key(record.key)
        if isinstance(record, InvalidRecord):
            labels.setdefault(key, unreadable(record, "employee", names))
        else:
            labels.setdefault(key, person(key, names))
    return labels
