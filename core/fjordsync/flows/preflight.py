"""Preflight ``check``: the id-alignment review seed 000 asks customers to do by hand, read-only.

For each code a flow matches on, it looks on both sides and reports every mismatch with the
system to change, where to change it and, when one stands out, the likely counterpart (the same
name or e-mail) so the fix is one edit. Systems, code names and menu paths are the connectors'
own words (``fjordsync.ports.Wording``). 24SevenOffice ids cannot be changed, so the fix is
always on the SmartDok side for flows 1 to 3.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, TypeVar

from fjordsync.domain.model import CodeItem, Employee, InvalidRecord, Project
from fjordsync.domain.values import DateRange
from fjordsync.flows.absences import LEAVE_TYPE, unmapped_leave_type
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
    Wording,
)

__all__ = [
    "Finding",
    "check_absences",
    "check_employees",
    "check_hours",
    "check_payroll_employees",
    "check_projects",
]

R = TypeVar("R")


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


def _employees(
    reference: Sequence[Employee], to_change: Sequence[Employee], fixed: Wording, changed: Wording
) -> list[Finding]:
    """Users of the side to change (``changed``) whose number is no employee's of the side
    whose ids are fixed."""
    mine, theirs = changed.code("employee"), fixed.code("employee")
    findings = []
    contacts = {e.key.strip(): e for e in reference}
    by_email: dict[str, list[str]] = {}
    for e in reference:
        if e.work_email:
            by_email.setdefault(e.work_email.key, []).append(e.key.strip())
    by_name = _by_name((e.key.strip(), e.full_name) for e in reference)
    for user in to_change:
        number = user.key.strip()
        if number in contacts:
            continue
        proposal = ""
        if user.work_email and len(by_email.get(user.work_email.key, [])) == 1:
            match = by_email[user.work_email.key][0]
            proposal = f"{theirs.name} {match} has the same e-mail: set {mine.name} to {match}"
        else:
            proposal = _proposal(user.full_name, by_name, theirs.name)
        findings.append(
            Finding(
                "employee",
                number,
                changed.system,
                f"{changed.system} {mine.label} {user.full_name!r} has {mine.name} "
                f"{number or '(none)'}, which is no {theirs.name} in {fixed.system}; the flow "
                "would create a second user for this person. Change it in "
                f"{changed.system} under {mine.where}",
                proposal,
            )
        )
    return findings


def _projects(
    reference: Sequence[Project], to_change: Sequence[Project], fixed: Wording, changed: Wording
) -> list[Finding]:
    mine, theirs = changed.code("project"), fixed.code("project")
    ids = {p.key.strip() for p in reference}
    by_name = _by_name((p.key.strip(), p.name) for p in reference)
    return [
        Finding(
            "project",
            p.key.strip(),
            changed.system,
            f"{changed.system} {mine.label} {p.name!r} has {mine.name} "
            f"{p.key.strip() or '(none)'}, which is no {theirs.name} in {fixed.system}; its "
            f"hours cannot be transferred. Change it in {changed.system} under {mine.where}",
            _proposal(p.name, by_name, theirs.name),
        )
        for p in to_change
        if p.key.strip() not in ids
    ]


def _codes(
    subject: str,
    to_change: Sequence[CodeItem],
    reference: Sequence[CodeItem],
    fixed: Wording,
    changed: Wording,
) -> list[Finding]:
    mine, theirs = changed.code(subject), fixed.code(subject)
    ids = {c.code for c in reference if c.active}
    by_name = _by_name((c.code, c.name) for c in reference if c.active)
    return [
        Finding(
            subject,
            c.code,
            changed.system,
            f"{changed.system} {mine.label} {c.name!r} has {mine.name} {c.code or '(none)'}, "
            f"which is no {theirs.name} in {fixed.system}; hours registered on it cannot be "
            f"transferred. Change it in {changed.system} under {mine.where}",
            _proposal(c.name, by_name, theirs.name),
        )
        for c in to_change
        if c.active and c.code not in ids
    ]


def _valid(records: Sequence[object], kind: type[R]) -> list[R]:
    return [r for r in records if isinstance(r, kind)]


async def check_employees(
    source: EmployeesSource,
    target: EmployeesTarget,
    *,
    today: date,
    mapping: Mapping[str, Any],
    source_wording: Wording,
    target_wording: Wording,
    tenant: str = "<tenant>",
    flow: str = "",
) -> list[Finding]:
    """Read-only: every target user whose number is no source employee's."""
    query = Query()
    reference = _valid(await source.read_employees(query), Employee)
    users = _valid(await target.read_employees(query), Employee)
    return _employees(reference, users, source_wording, target_wording)


async def check_projects(
    source: ProjectsSource,
    target: ProjectsTarget,
    *,
    today: date,
    mapping: Mapping[str, Any],
    source_wording: Wording,
    target_wording: Wording,
    tenant: str = "<tenant>",
    flow: str = "",
) -> list[Finding]:
    """Read-only: every target project whose number is no source project's."""
    query = Query()
    reference = _valid(await source.read_projects(query), Project)
    mine = _valid(await target.read_projects(query), Project)
    return _projects(reference, mine, source_wording, target_wording)


async def check_hours(
    source: HoursSource,
    target: HoursTarget,
    *,
    today: date,
    mapping: Mapping[str, Any],
    source_wording: Wording,
    target_wording: Wording,
    tenant: str = "<tenant>",
    flow: str = "",
) -> list[Finding]:
    """Read-only: the users, projects, activities and wage types of the source that match
    nothing in the target."""
    query = Query()
    to_change, reference = source, target
    findings = _employees(
        _valid(await reference.read_employees(query), Employee),
        _valid(await to_change.read_employees(query), Employee),
        target_wording,
        source_wording,
    )
    findings += _projects(
        _valid(await reference.read_projects(query), Project),
        _valid(await to_change.read_projects(query), Project),
        target_wording,
        source_wording,
    )
    findings += _codes(
        "activity",
        await to_change.read_codes("activities"),
        await reference.read_codes("work_types"),
        target_wording,
        source_wording,
    )
    findings += _codes(
        "wage",
        await to_change.read_codes("wages"),
        await reference.read_codes("salary_types"),
        target_wording,
        source_wording,
    )
    return findings


async def check_absences(
    source: AbsencesSource,
    target: AbsencesTarget,
    *,
    today: date,
    mapping: Mapping[str, Any],
    source_wording: Wording,
    target_wording: Wording,
    tenant: str = "<tenant>",
    flow: str = "absences",
) -> list[Finding]:
    """Read-only: the leave types of the year around today that map to no payroll code, one
    finding per type, with the lines to add to ``tenant``'s config for ``flow`` and the valid
    codes as its proposal."""
    period = DateRange(today - timedelta(days=365), today + timedelta(days=365))
    read = await source.read_absences(Query(period=period, mapping=mapping or {}))
    unmapped: dict[str, tuple[tuple[str, ...], int]] = {}  # type -> (its codes, leaves using it)
    for record in read:
        if isinstance(record, InvalidRecord) and record.problem.field == LEAVE_TYPE:
            codes = record.problem.codes or ("?",)
            _, leaves = unmapped.get(codes[0], (codes, 0))
            unmapped[codes[0]] = (codes, leaves + 1)
    findings = []
    for named, (codes, leaves) in sorted(unmapped.items()):
        what, fix = unmapped_leave_type(codes, tenant, flow)
        findings.append(
            Finding(
                "leave type",
                named,
                "fjordsync config",
                f"{what} ({leaves} leave(s) in the year around today use it)",
                fix,
            )
        )
    return findings


async def check_payroll_employees(
    source: PayrollEmployeesSource,
    target: PayrollEmployeesTarget,
    *,
    today: date,
    mapping: Mapping[str, Any],
    source_wording: Wording,
    target_wording: Wording,
    tenant: str = "<tenant>",
    flow: str = "",
) -> list[Finding]:
    """Read-only: every source employee that cannot be read."""
    read = await source.read_employees(Query())
    return [
        Finding("employee", r.key, source_wording.system, r.message)
        for r in read
        if isinstance(r, InvalidRecord)
    ]
