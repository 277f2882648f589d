"""Embedding fjordsync in a host product, with the host's own adapters and no CLI.

The host implements the ports it needs (here an employee directory as source and a staffing
tool as target, both in memory), projects records onto the fields it integrates, and lets the
core plan and apply. Run it: ``uv run python examples/embed.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import replace

from fjordsync import (
    ActionKind,
    Email,
    Employee,
    FieldSpec,
    InvalidRecord,
    InvalidValue,
    Query,
    Record,
    plan,
)
from fjordsync.ports import EmployeeReader, EmployeeWriter


class HostDirectory:
    """The host's own employee directory (an EmployeeReader)."""

    def __init__(self, rows: list[dict[str, str]]) -> None:
        self.rows = rows

    async def read_employees(self, query: Query) -> Sequence[Employee | InvalidRecord]:
        found: list[Employee | InvalidRecord] = []
        for row in self.rows:
            try:
                found.append(
                    Employee(
                        row["no"],
                        row["first"],
                        row["last"],
                        work_email=Email(row["mail"], field="mail"),
                    )
                )
            except InvalidValue as error:
                found.append(InvalidRecord.from_error("employee", row["no"], error))
        return found


class StaffingTool:
    """The host's target system (an EmployeeReader and EmployeeWriter)."""

    def __init__(self) -> None:
        self.people: dict[str, Employee] = {}
        self.writes = 0

    async def read_employees(self, query: Query) -> Sequence[Employee]:
        return list(self.people.values())

    async def create_employee(self, employee: Employee) -> str:
        self.writes += 1
        self.people[employee.key] = replace(employee, target_key=f"staff-{employee.key}")
        return f"staff-{employee.key}"

    async def update_employee(
        self, target_key: str, employee: Employee, fields: Iterable[str]
    ) -> str:
        self.writes += 1
        current = self.people[employee.key]
        self.people[employee.key] = replace(current, **{f: getattr(employee, f) for f in fields})
        return target_key


SPEC = FieldSpec(owned={"first_name", "last_name", "work_email"})


def view(employee: Employee) -> Record:
    """The fields this integration owns, as the plan compares them."""
    return Record(
        employee.key, {name: getattr(employee, name) for name in SPEC.owned}, employee.target_key
    )


async def sync(source: EmployeeReader, target: EmployeeWriter) -> dict[str, int]:
    read = await source.read_employees(Query())
    valid = [e for e in read if isinstance(e, Employee)]
    invalid = [e for e in read if isinstance(e, InvalidRecord)]
    current = await target.read_employees(Query())  # type: ignore[attr-defined]
    the_plan = plan([view(e) for e in valid], [view(e) for e in current], SPEC)
    by_key = {e.key: e for e in valid}
    for action in the_plan.writes:
        if action.kind is ActionKind.CREATE:
            await target.create_employee(by_key[action.key])
        else:
            await target.update_employee(
                action.target_key, by_key[action.key], [c.field for c in action.changes]
            )
    for record in invalid:
        print(f"  invalid {record.key}: {record.message}")
    counts = {kind.value: n for kind, n in the_plan.counts().items() if n}
    counts["invalid"] = counts.get("invalid", 0) + len(invalid)
    return counts


async def main() -> None:
    directory = HostDirectory(
        [
            {"no": "1001", "first": "Kari", "last": "Nordmann", "mail": "kari@firma.no"},
            {"no": "1002", "first": "Ola", "last": "Hansen", "mail": "ola@firma.no"},
            {"no": "1003", "first": "Per", "last": "Berg", "mail": "per@"},
        ]
    )
    staffing = StaffingTool()
    print("first pass:", await sync(directory, staffing))
    directory.rows[1]["last"] = "Hansen-Berg"
    print("second pass:", await sync(directory, staffing))
    print("third pass:", await sync(directory, staffing))
    print("writes:", staffing.writes)


if __name__ == "__main__":
    asyncio.run(main())
