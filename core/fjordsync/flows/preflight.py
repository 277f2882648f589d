"""Preflight ``check``: the id-alignment review seed 000 asks customers to do by hand, read-only.

For each code a flow matches on, it looks on both sides and reports every mismatch with the
system to change, where to change it (the seed's menu paths) and, when one stands out, the likely
counterpart (the same name or e-mail) so the fix is one edit. 24SevenOffice ids cannot be
changed, so the fix is always on the SmartDok side for flows 1 to 3.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from fjordsync.domain.model import CodeItem, Employee, InvalidRecord, Project
from fjordsync.domain.values import DateRange
from fjordsync.ports import (
    AbsencesSource,
    AbsencesTarget,
    EmployeesSource,
    EmployeesTarget,
    HoursSource,
    HoursTarget,
    PayrollEmployeesSource,
    PayrollEmployeesTarget,
    ProjectsSource,
    ProjectsTarget,
    Query,
)

__all__ = [
    "Finding",
    "check_absences",
    "check_employees",
    "check_hours",
    "check_payroll_employees",
    "check_projects",
]

WHERE = {
    "employee": "Firmaopplysninger -> Brukeroversikt (Ansattnummer)",
    "project": "the project's Detaljer (Nummer / Pro.Nr)",
    "activity": "Firmaopplysninger -> Aktiviteter (Kode)",
    "wage": "Firmaopplysninger -> Lønnsarter (Kode)",
}


@dataclass(frozen=True)
class Finding:
    subject: str  # employee, project, activity, wage, leave type
    record: str  # the code as it stands where it must change
    change_in: str  # the system to change
    message: str
    proposal: str = ""


def _by_name(items: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for code, name in items:
        found.setdefault(name.strip().casefold(), []).append(code)
    return found


def _proposal(name: str, by_name: dict[str, list[str]], what: str) -> str:
    codes = by_name.get(name.strip().casefold(), [])
    if len(codes) == 1:
        return f"{what} {codes[0]} has the same name: use {codes[0]}"
    return ""


def _employees(erp: Sequence[Employee], smartdok: Sequence[Employee]) -> list[Finding]:
    findings = []
    contacts = {e.key.strip(): e for e in erp}
    by_email = {}
    for e in erp:
        if e.work_email:
            by_email.setdefault(e.work_email.key, []).append(e.key.strip())
    by_name = _by_name((e.key.strip(), e.full_name) for e in erp)
    for user in smartdok:
        number = user.key.strip()
        if number in contacts:
            continue
        proposal = ""
        if user.work_email and len(by_email.get(user.work_email.key, [])) == 1:
            match = by_email[user.work_email.key][0]
            proposal = f"Contact id {match} has the same e-mail: set Ansattnummer to {match}"
        else:
            proposal = _proposal(user.full_name, by_name, "Contact id")
        findings.append(
            Finding(
                "employee",
                number,
                "SmartDok",
                f"SmartDok user {user.full_name!r} has Ansattnummer {number or '(none)'}, which is "
                f"no Contact id in 24SevenOffice; the flow would create a second user for this "
                f"person. Change it in SmartDok under {WHERE['employee']}",
                proposal,
            )
        )
    return findings


def _projects(erp: Sequence[Project], smartdok: Sequence[Project]) -> list[Finding]:
    ids = {p.key.strip() for p in erp}
    by_name = _by_name((p.key.strip(), p.name) for p in erp)
    return [
        Finding(
            "project",
            p.key.strip(),
            "SmartDok",
            f"SmartDok project {p.name!r} has number {p.key.strip() or '(none)'}, which is "
            "no Project id in 24SevenOffice; its hours cannot be transferred. Change it in "
            f"SmartDok under {WHERE['project']}",
            _proposal(p.name, by_name, "Project id"),
        )
        for p in smartdok
        if p.key.strip() not in ids
    ]


def _codes(
    subject: str, smartdok: Sequence[CodeItem], erp: Sequence[CodeItem], erp_name: str
) -> list[Finding]:
    ids = {c.code for c in erp if c.active}
    by_name = _by_name((c.code, c.name) for c in erp if c.active)
    label = "activity" if subject == "activity" else "wage type"
    return [
        Finding(
            subject,
            c.code,
            "SmartDok",
            f"SmartDok {label} {c.name!r} has Kode {c.code or '(none)'}, which is no "
            f"{erp_name} in 24SevenOffice; hours registered on it cannot be transferred. "
            f"Change it in SmartDok under {WHERE[subject]}",
            _proposal(c.name, by_name, erp_name),
        )
        for c in smartdok
        if c.active and c.code not in ids
    ]


def _valid(records: Sequence[object], kind: type) -> list:
    return [r for r in records if isinstance(r, kind)]


async def check_employees(
    source: EmployeesSource, target: EmployeesTarget, *, today: date, mapping: Mapping
) -> list[Finding]:
    """Read-only: every target user whose number is no source employee's."""
    query = Query()
    erp = _valid(await source.read_employees(query), Employee)
    return _employees(erp, _valid(await target.read_employees(query), Employee))


async def check_projects(
    source: ProjectsSource, target: ProjectsTarget, *, today: date, mapping: Mapping
) -> list[Finding]:
    """Read-only: every target project whose number is no source project's."""
    query = Query()
    erp = _valid(await source.read_projects(query), Project)
    return _projects(erp, _valid(await target.read_projects(query), Project))


async def check_hours(
    source: HoursSource, target: HoursTarget, *, today: date, mapping: Mapping
) -> list[Finding]:
    """Read-only: the users, projects, activities and wage types of the source that match
    nothing in the target."""
    query = Query()
    smartdok, erp = source, target
    findings = _employees(
        _valid(await erp.read_employees(query), Employee),
        _valid(await smartdok.read_employees(query), Employee),
    )
    findings += _projects(
        _valid(await erp.read_projects(query), Project),
        _valid(await smartdok.read_projects(query), Project),
    )
    findings += _codes(
        "activity",
        await smartdok.read_codes("activities"),
        await erp.read_codes("work_types"),
        "Work Type ID",
    )
    findings += _codes(
        "wage",
        await smartdok.read_codes("wages"),
        await erp.read_codes("salary_types"),
        "Salary Type ID",
    )
    return findings


async def check_absences(
    source: AbsencesSource, target: AbsencesTarget, *, today: date, mapping: Mapping
) -> list[Finding]:
    """Read-only: the leave types of the year around today that map to no payroll code."""
    period = DateRange(today - timedelta(days=365), today + timedelta(days=365))
    read = await source.read_absences(Query(period=period, mapping=mapping or {}))
    unmapped: dict[str, int] = {}
    for record in read:
        if isinstance(record, InvalidRecord) and record.message.startswith("leave.type:"):
            unmapped[record.message] = unmapped.get(record.message, 0) + 1
    findings = []
    for message, leaves in sorted(unmapped.items()):
        named = re.search(r"leave type '([^']*)'", message)
        findings.append(
            Finding(
                "leave type",
                named.group(1) if named else "?",
                "fjordsync config",
                f"{message.removeprefix('leave.type: ')} ({leaves} leave(s) in the year around "
                "today use it)",
            )
        )
    return findings


async def check_payroll_employees(
    source: PayrollEmployeesSource, target: PayrollEmployeesTarget, *, today: date, mapping: Mapping
) -> list[Finding]:
    """Read-only: every source employee that cannot be read."""
    read = await source.read_employees(Query())
    return [
        Finding("employee", r.key, "AlexisHR", r.message)
        for r in read
        if isinstance(r, InvalidRecord)
    ]
