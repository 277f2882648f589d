"""Reads employees from a CSV file and speaks the core's domain types only."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel

from fjordsync import Email, Employee, InvalidRecord, InvalidValue, PhoneNumber, Query


class CsvSettings(BaseModel):
    path: Path
    encoding: str = "utf-8"


class CsvEmployees:
    """Implements the ``EmployeeReader`` port."""

    def __init__(self, path: Path, encoding: str = "utf-8") -> None:
        self.path = path
        self.encoding = encoding

    @classmethod
    def from_settings(cls, settings: CsvSettings) -> CsvEmployees:
        return cls(settings.path, settings.encoding)

    async def read_employees(self, query: Query) -> Sequence[Employee | InvalidRecord]:
        employees: list[Employee | InvalidRecord] = []
        with self.path.open(encoding=self.encoding, newline="") as handle:
            for line, row in enumerate(csv.DictReader(handle), start=2):
                number = (row.get("number") or "").strip()
                if not query.scope.includes_employee(number, row.get("department")):
                    continue
                try:
                    employees.append(
                        Employee(
                            key=number,
                            first_name=row["first_name"].strip(),
                            last_name=row["last_name"].strip(),
                            work_email=Email(row["email"]) if row.get("email") else None,
                            mobile=PhoneNumber.parse(row["mobile"]) if row.get("mobile") else None,
                            department=row.get("department") or None,
                        )
                    )
                except InvalidValue as exc:
                    # One bad row must not hide the others: report it as a value.
                    employees.append(InvalidRecord("employee", number or f"line {line}", str(exc)))
        return employees
