"""AlexisHR's list query language, as the API documents it.

``select=a,b``, ``relations=x,y``, ``filters[field][$op]=v`` (``filters[field]=v`` means ``$eq``;
arrays as repeated ``[]`` keys), ``sort[field]=asc|desc``, ``limit``, ``offset``. Anything the
endpoint does not declare is refused with a 400, as the real (NestJS) API refuses it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from fjordsync_alexis.sandbox.contract import FIELDS, RELATIONS, REQUIRED

OPERATORS = ("$eq", "$neq", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$between", "$all")
LIST_OPERATORS = ("$in", "$nin", "$between", "$all")
_FILTER_KEY = re.compile(r"^filters\[([^\[\]]+)\](?:\[([^\[\]]*)\])?(\[\])?$")
_SORT_KEY = re.compile(r"^sort\[([^\[\]]+)\]$")


class QueryError(ValueError):
    """A query the API refuses; ``messages`` as the API lists them."""

    def __init__(self, *messages: str) -> None:
        self.messages = list(messages)
        super().__init__("; ".join(messages))


@dataclass
class ListQuery:
    select: list[str] | None = None
    relations: list[str] = field(default_factory=list)
    filters: list[tuple[str, str, Any]] = field(default_factory=list)  # field, op, value
    sort: list[tuple[str, bool]] = field(default_factory=list)  # field, descending
    limit: int | None = None
    offset: int = 0


def _csv(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _empty_items(name: str, value: str) -> list[str]:
    """``a,,b``, ``,`` or an empty value names a field or relation that is no name: the
    document's enums refuse it, as the API's validation does (schemathesis found
    ``relations=,`` and ``select=`` accepted)."""
    if any(not part.strip() for part in value.split(",")):
        return [f"{name} must not hold an empty name"]
    return []


def _non_negative(name: str, value: str) -> int:
    if not value.isdigit():
        raise QueryError(f"{name} must be a non-negative integer")
    return int(value)


def parse(resource: str, pairs: list[tuple[str, str]], *, listing: bool = True) -> ListQuery:
    fields = FIELDS[resource]
    query = ListQuery()
    problems: list[str] = []
    grouped: dict[tuple[str, str], list[str]] = {}
    for key, value in pairs:
        if key == "select":
            query.select = _csv(value)
            problems += _empty_items("select", value)
            bad = [f for f in query.select if f not in fields]
            problems += [f"select.{f} is not a selectable field" for f in bad]
        elif key == "relations":
            query.relations = _csv(value)
            problems += _empty_items("relations", value)
            bad = [r for r in query.relations if r not in RELATIONS.get(resource, ())]
            problems += [f"relations.{r} is not a relation of {resource}" for r in bad]
        elif listing and key in ("limit", "offset"):
            try:
                setattr(query, key, _non_negative(key, value))
            except QueryError as exc:
                problems += exc.messages
        elif listing and (match := _FILTER_KEY.match(key)):
            name, operator, array = match.group(1), match.group(2) or "$eq", match.group(3)
            if name not in fields:
                problems.append(f"filters.{name} is not a filterable field")
            elif operator not in OPERATORS:
                problems.append(f"filters.{name}.{operator} is not a valid operator")
            elif bool(array) != (operator in LIST_OPERATORS):
                problems.append(
                    f"filters.{name}.{operator} must be "
                    + (
                        "an array (repeat the key with [])"
                        if operator in LIST_OPERATORS
                        else "a single value"
                    )
                )
            else:
                grouped.setdefault((name, operator), []).append(value)
        elif listing and (match := _SORT_KEY.match(key)):
            name = match.group(1)
            if name not in fields:
                problems.append(f"sort.{name} is not a sortable field")
            elif value not in ("asc", "desc"):
                problems.append(f"sort.{name} must be one of the following values: asc, desc")
            else:
                query.sort.append((name, value == "desc"))
        else:
            problems.append(f"property {key} should not exist")
    for (name, operator), values in grouped.items():
        if operator == "$between" and len(values) != 2:
            problems.append(f"filters.{name}.$between needs exactly two values")
        operand: Any = values if operator in LIST_OPERATORS else values[-1]
        query.filters.append((name, operator, operand))
    if problems:
        raise QueryError(*problems)
    return query


def _comparable(record_value: Any, text: str) -> tuple[Any, Any] | None:
    """The record's value and the query's text as two values of one type, or None."""
    if record_value is None:
        return None
    if isinstance(record_value, bool):
        lowered = text.strip().lower()
        return (record_value, lowered == "true") if lowered in ("true", "false") else None
    if isinstance(record_value, int | float):
        try:
            return record_value, float(text)
        except ValueError:
            return None
    if isinstance(record_value, str):
        left, right = _as_moment(record_value), _as_moment(text)
        if left is not None and right is not None:
            return left, right
        return record_value, text
    return str(record_value), text


def _as_moment(text: str) -> datetime | None:
    if not re.match(r"^\d{4}-\d{2}-\d{2}", text):
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        try:
            moment = datetime.combine(date.fromisoformat(text[:10]), datetime.min.time())
        except ValueError:
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _matches(record: dict[str, Any], name: str, operator: str, wanted: Any) -> bool:
    value = record.get(name)
    if operator in ("$in", "$nin", "$all"):
        hits = [pair for pair in (_comparable(value, w) for w in wanted) if pair]
        found = any(a == b for a, b in hits)
        if operator == "$all":
            return len(hits) == len(wanted) and all(a == b for a, b in hits)
        return found if operator == "$in" else not found
    if operator == "$between":
        low, high = _comparable(value, wanted[0]), _comparable(value, wanted[1])
        return bool(low and high and low[1] <= low[0] <= high[1])
    pair = _comparable(value, wanted)
    if operator == "$neq":
        return pair is None or pair[0] != pair[1]
    if pair is None:
        return False
    left, right = pair
    try:
        return {
            "$eq": left == right,
            "$gt": left > right,
            "$gte": left >= right,
            "$lt": left < right,
            "$lte": left <= right,
        }[operator]
    except TypeError:
        return False


def apply_filters(records: list[dict[str, Any]], query: ListQuery) -> list[dict[str, Any]]:
    return [r for r in records if all(_matches(r, *f) for f in query.filters)]


def apply_sort(records: list[dict[str, Any]], query: ListQuery) -> list[dict[str, Any]]:
    ordered = list(records)
    for name, descending in reversed(query.sort):
        present = [r for r in ordered if r.get(name) is not None]
        missing = [r for r in ordered if r.get(name) is None]
        present.sort(key=lambda r: _sort_key(r[name]), reverse=descending)
        ordered = present + missing
    return ordered


def _sort_key(value: Any) -> tuple[int, Any]:
    """Numbers, then text, then anything else: dirty stored values of mixed types still sort."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (0, value)
    if isinstance(value, str):
        return (1, value)
    return (2, repr(value))


def project(resource: str, record: dict[str, Any], query: ListQuery) -> dict[str, Any]:
    """Apply ``select``: the selected fields and those the schema requires. Unselectable
    fields (homeAddress, bankAccount) only come with full objects."""
    if query.select is None:
        return dict(record)
    wanted = set(query.select) | set(REQUIRED[resource])
    return {name: value for name, value in record.items() if name in wanted}
