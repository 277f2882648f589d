"""Flow 1, projects: ERP (24SevenOffice) -> time registration (SmartDok).

Key: the ERP's project id = SmartDok's project number (trimmed). Owned: name (cut to SmartDok's
70 characters, reported), active (deactivated in the ERP -> inactive), start and end dates,
customer name. The number is written on create only. Read incrementally from the ERP by the
time of the last run whose writes all got through.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from fjordsync.domain.diff import Action, ActionKind, Decision, FieldSpec, Record, plan
from fjordsync.domain.model import InvalidRecord, Project
from fjordsync.domain.rules import truncate
from fjordsync.flows.common import FlowContext, RunResult, apply_plan
from fjordsync.ports import ProjectReader, ProjectWriter, Query

NAME_LIMIT = 70
SPEC = FieldSpec(owned={"name", "active", "start", "end", "customer_name"})
CURSOR = "changed_after"


def _view(project: Project) -> Record:
    return Record(
        project.key.strip(),
        {
            "name": project.name,
            "active": project.active,
            "start": project.start,
            "end": project.end,
            "customer_name": project.customer_name or None,
        },
        project.target_key,
    )


async def run(context: FlowContext, source: ProjectReader, target: ProjectReader) -> RunResult:
    assert isinstance(target, ProjectWriter)
    since_text = context.state.cursor(context.tenant, context.flow, CURSOR)
    since = datetime.fromisoformat(since_text) if since_text else None
    read = await source.read_projects(Query(scope=context.scope, changed_since=since))
    wanted = [p for p in read if isinstance(p, Project)]
    invalid = [r for r in read if isinstance(r, InvalidRecord)]
    notes: dict[str, str] = {}
    desired: dict[str, Project] = {}
    for project in wanted:
        name, cut = truncate(project.name, NAME_LIMIT)
        if cut:
            notes[project.key.strip()] = (
                f"the name is {len(project.name)} characters; SmartDok takes {NAME_LIMIT}, "
                "so it was cut"
            )
        desired[project.key.strip()] = replace(project, key=project.key.strip(), name=name)
    current = [p for p in await target.read_projects(Query()) if isinstance(p, Project)]
    the_plan = plan(
        [_view(p) for p in desired.values()],
        [_view(p) for p in current],
        SPEC,
        decided=[Decision(r.key, ActionKind.INVALID, r.message) for r in invalid],
    )

    async def write(action: Action) -> str:
        project = desired[action.key]
        if action.kind is ActionKind.CREATE:
            return await target.create_project(project)
        return await target.update_project(
            action.target_key or "", project, [c.field for c in action.changes]
        )

    result = await apply_plan(context, the_plan, "project", write, notes=notes)
    if not context.dry_run and not any(i.outcome in ("failed", "deferred") for i in result.items):
        context.state.advance_cursor(context.tenant, context.flow, CURSOR, context.now.isoformat())
    return result
