"""How the command shows things: text from data escaped, personal values masked, tables, and the
JSON documents ``--json`` prints.

Text that comes from data (names, keys, vendors' messages) is printed with control characters
escaped and rich markup not interpreted, so a project named ``\\x1b[2J`` cannot clear the screen.
Which values are personal is the domain's to say (``fjordsync.domain.model.PERSONAL_FIELDS``).

A run is shown as a summary line ("3 to create, 12 to update, 1,287 unchanged, 4 problems"),
its writes (the first rows of each outcome, with their fields), and its problems grouped by
cause (``fjordsync.domain.problems.group_problems``): count, the one fix, sample records. The
records behind a group are in ``fjordsync runs show ID --outcome invalid`` (docs/problems.md).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TextIO

from rich.markup import escape
from rich.table import Table
from rich.text import Text

from fjordsync import logs
from fjordsync.domain.model import masked
from fjordsync.domain.problems import ProblemGroup, group_problems

if TYPE_CHECKING:
    from rich.console import Console

    from fjordsync.config import Config
    from fjordsync.ledger import RunRecord


def plain(value: Any) -> str:
    """Data as it may be shown: controls escaped (markup is the caller's to escape)."""
    return logs.escape_controls("" if value is None else str(value))


def markup(value: Any) -> str:
    """Data to put into a line that has rich markup of its own."""
    return escape(plain(value))


def cell(value: Any) -> Text:
    """Data as a table cell: controls escaped, no markup interpreted."""
    return Text(plain(value))


def message_cell(value: Any) -> Text:
    """A message as a table cell: its own line breaks kept (an unmapped leave type's fix is
    the TOML lines to paste), every other control escaped; inside the cell's borders a line
    cannot pass for a line of output."""
    return Text(logs.escape_controls("" if value is None else str(value), keep=_LINE_BREAK))


_LINE_BREAK = frozenset("\n")


def message(error: BaseException) -> str:
    """An error's message for the user: secrets the config resolved and credentials by their
    shape masked (an adapter may echo what a vendor sent back), controls escaped."""
    return plain(logs.redact(str(error)))


def shown(field: str, value: Any, show_personal: bool) -> str:
    """A plan's value as shown: ``(none)`` when empty, ``***`` when the field is personal."""
    if value is None or value == "":
        return "(none)"
    return str(masked(field, value, show_personal))


def table(columns: tuple[str, ...], title: str | Text | None = None) -> Table:
    result = Table(title=title)
    for column in columns:
        result.add_column(column)
    return result


# --- plugins -------------------------------------------------------------------------------


def print_connectors(console: Console, rows: list[dict[str, Any]]) -> None:
    listing = table(
        ("connector", "distribution", "version", "flows it can serve"), "Installed connectors"
    )
    for row in rows:
        served = ", ".join(
            f"{flow} ({' and '.join(sides)})" for flow, sides in row["flows"].items()
        )
        listing.add_row(
            f"{markup(row['name'])}\n[dim]{markup(row['title'])}[/]",
            cell(row["distribution"]),
            cell(row["version"]),
            markup(served)
            if served
            else "[yellow]no adapter yet[/]"
            if not row["capabilities"]
            else "[yellow]none of the flows[/]",
        )
    console.print(listing)


# --- config check --------------------------------------------------------------------------


def schedule_text(schedule: Any) -> str | None:
    if schedule is None or not schedule.enabled:
        return None
    return str(schedule.text)


def redact_url(url: str) -> str:
    """Database URLs may carry a password: never print it."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def config_problems_document(
    file: str, problems: list[tuple[str, str]], lines: list[int | None] | None = None
) -> dict[str, Any]:
    """Each problem with its key path and its line in the file (null when it has none)."""
    at = lines or [None] * len(problems)
    return {
        "file": file,
        "valid": False,
        "problems": [
            {"path": path, "problem": problem, "line": line}
            for (path, problem), line in zip(problems, at, strict=True)
        ],
    }


def config_document(file: str, config: Config) -> dict[str, Any]:
    return {
        "file": file,
        "valid": True,
        "ledger": redact_url(config.ledger_url),
        "tenants": {
            name: {
                "connections": {c: conn.plugin for c, conn in tenant.connections.items()},
                "flows": {
                    f: {
                        "source": flow.source,
                        "target": flow.target,
                        "enabled": flow.enabled,
                        "schedule": schedule_text(flow.schedule),
                    }
                    for f, flow in tenant.flows.items()
                },
            }
            for name, tenant in config.tenants.items()
        },
        "warnings": list(config.warnings),
    }


def print_config(console: Console, summary: dict[str, Any]) -> None:
    console.print(f"[bold green]{markup(summary['file'])}: valid[/]", highlight=False)
    for name, tenant in summary["tenants"].items():
        flows = table(("flow", "source", "target", "schedule"), cell(f"tenant {name}"))
        for flow_name, flow in tenant["flows"].items():
            source = f"{flow['source']} ({tenant['connections'][flow['source']]})"
            target = f"{flow['target']} ({tenant['connections'][flow['target']]})"
            enabled = "" if flow["enabled"] else " [dim](disabled)[/]"
            flows.add_row(
                markup(flow_name) + enabled,
                cell(source),
                cell(target),
                cell(flow["schedule"] or "manual"),
            )
        console.print(flows)


# --- runs ----------------------------------------------------------------------------------


def duration(seconds: float | None) -> str:
    """A run's duration as a clerk reads it: 0.4 s, 12 s, 3 min 05 s, 1 h 02 min; '-' while
    it runs."""
    if seconds is None:
        return "-"
    if seconds < 10:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def print_runs(console: Console, runs: list[RunRecord]) -> None:
    listing = table(
        ("id", "tenant", "flow", "trigger", "started (UTC)", "took", "status", "counts"), "Runs"
    )
    for run in runs:
        status = run.status + (" (dry run)" if run.dry_run else "")
        counts = ", ".join(f"{k} {v}" for k, v in run.counts.items() if v)
        listing.add_row(
            str(run.id),
            cell(run.tenant),
            cell(run.flow),
            cell(run.trigger),
            run.started_at.strftime("%Y-%m-%d %H:%M:%S"),
            duration(run.duration_s),
            cell(status),
            cell(counts),
        )
    console.print(listing)


# The outcomes that are problems (grouped by cause, never listed one by one in a run's output).
PROBLEM_OUTCOMES = ("invalid", "conflict", "failed")


def _word(value: Any) -> str:
    """An outcome or action as its word (``Outcome`` and ``ActionKind`` are str enums, whose
    str() is their word; the ledger keeps the plain words)."""
    return str(value)


def record_name(key: Any, label: Any) -> str:
    """A record as a clerk finds it: "label (key)", or its key when it has no label."""
    return f"{label} ({key})" if label else str(key)


def summary(items: Iterable[Any], dry_run: bool) -> str:
    """One line of what a run did, or a plan will do: "3 to create, 12 to update, 1,287
    unchanged, 4 problems" (a real run: "3 created, ..."); a count of 0 is left out, and the
    problems say of which outcomes they are when they are of more than one."""
    by_outcome: Counter[str] = Counter()
    writes: Counter[str] = Counter()
    for item in items:
        outcome = _word(item.outcome)
        by_outcome[outcome] += 1
        if outcome in ("planned", "written"):
            writes[_word(item.action)] += 1
    creates, updates = writes["create"], writes["update"]
    parts = (
        [(creates, "to create"), (updates, "to update")]
        if dry_run
        else [(creates, "created"), (updates, "updated")]
    )
    parts += [
        (by_outcome["unchanged"], "unchanged"),
        (by_outcome["skipped"], "skipped"),
        (by_outcome["deferred"], "deferred to the next run"),
    ]
    said = [f"{count:,} {what}" for count, what in parts if count]
    problems = [(by_outcome[o], o) for o in PROBLEM_OUTCOMES if by_outcome[o]]
    total = sum(count for count, _ in problems)
    if total:
        kinds = f" ({', '.join(f'{c:,} {o}' for c, o in problems)})" if len(problems) > 1 else ""
        said.append(f"{total:,} problem{'s' if total != 1 else ''}{kinds}")
    return ", ".join(said) or "nothing to do"


def problems_table(groups: list[ProblemGroup]) -> Table:
    """A run's problems by cause: how many records, the one fix, a few of the records (by
    what a clerk recognises them by) and how many more there are."""
    total = sum(group.count for group in groups)
    heading = (
        f"Problems: {total:,} record{'s' if total != 1 else ''}, "
        f"{len(groups)} cause{'s' if len(groups) != 1 else ''}"
    )
    listing = table(("count", "outcome", "problem and fix", "records"), cell(heading))
    for group in groups:
        records = [plain(record) for record in group.records]
        if group.count > len(group.records):
            records.append(f"and {group.count - len(group.records):,} more")
        listing.add_row(
            f"{group.count:,}",
            cell(group.outcome),
            message_cell(group.message),
            Text("\n".join(records)),
        )
    return listing


def shown_items(run: RunRecord, outcomes: Iterable[str] | None) -> RunRecord:
    """``run`` with only its items of ``outcomes`` (all when None): ``runs show --outcome``."""
    if outcomes is None:
        return run
    wanted = set(outcomes)
    return replace(run, items=tuple(i for i in run.items if i.outcome in wanted))


def print_run(console: Console, run: RunRecord, only: list[str] | None = None) -> None:
    """A run from the history: what it was, its summary, its problems by cause, then each of
    its items; ``only``: the outcomes ``shown_items`` kept (``--outcome``)."""
    console.print(
        f"[bold]Run {run.id}[/]: {markup(run.flow)} for {markup(run.tenant)}, "
        f"{markup(run.trigger)}{' (dry run)' if run.dry_run else ''}, "
        f"[bold]{markup(run.status)}[/]",
        highlight=False,
    )
    console.print(
        f"started {run.started_at:%Y-%m-%d %H:%M:%S} UTC, finished "
        f"{run.finished_at:%Y-%m-%d %H:%M:%S} UTC"
        if run.finished_at
        else "still running"
    )
    if run.message:
        console.print(cell(run.message), highlight=False)
    if only is not None:
        console.print(cell(f"Only its {' and '.join(only)} items (--outcome)."), highlight=False)
    elif run.items:
        console.print(cell(summary(run.items, run.dry_run)), highlight=False)
    groups = run.problems
    if groups:
        console.print(problems_table(groups))
    items = table(("record", "action", "outcome", "fields", "message"))
    for item in run.items:
        items.add_row(
            cell(record_name(item.record_key, item.label)),
            cell(item.action),
            cell(item.outcome),
            cell(", ".join(item.changed_fields)),
            message_cell(item.message),
        )
    console.print(items)


# --- run -----------------------------------------------------------------------------------


def result_document(result: Any, show_personal: bool) -> dict[str, Any]:
    return {
        **_result_head(result),
        "items": [_item_document(i, show_personal) for i in result.items],
    }


def _result_head(result: Any) -> dict[str, Any]:
    head: dict[str, Any] = {
        "run_id": result.run_id,
        "flow": result.flow,
        "tenant": result.tenant,
        "dry_run": result.dry_run,
        "status": result.status,
        "summary": summary(result.items, result.dry_run),
        "counts": result.counts,
        "notes": result.notes,
        "problems": [group.as_dict() for group in group_problems(result.items)],
    }
    # Set once the runner compared the problems with those the ledger remembers (not in a
    # dry run).
    if result.new_problems is not None:
        head["new_problems"] = result.new_problems
    if result.known_problems is not None:
        head["known_problems"] = result.known_problems
    return head


def _item_document(item: Any, show_personal: bool) -> dict[str, Any]:
    return {
        "entity": item.entity,
        "key": item.key,
        "label": item.label or None,
        "action": item.action,
        "outcome": item.outcome,
        "message": item.message,
        "problem": item.problem.as_dict() if item.problem else None,
        "changes": [
            {
                "field": name,
                "old": shown(name, old, show_personal),
                "new": shown(name, new, show_personal),
            }
            for name, old, new in item.changes
        ],
    }


def write_result_document(out: TextIO, result: Any, show_personal: bool) -> None:
    """``result_document`` as ``json.dumps(..., indent=2)`` prints it, written item by item:
    100,000 items are never one list of documents and one string of 30 MB at once."""
    head = json.dumps({**_result_head(result), "items": [_ITEMS]}, indent=2)
    before, _, after = head.rpartition(json.dumps(_ITEMS))  # "items" is the last key
    if not result.items:  # printed as "[]", not as a list around nothing
        out.write(json.dumps(result_document(result, show_personal), indent=2) + "\n")
        return
    out.write(before)
    for number, item in enumerate(result.items):
        if number:
            out.write(",\n    ")
        text = json.dumps(_item_document(item, show_personal), indent=2)
        out.write(text.replace("\n", "\n    "))  # an item sits two levels in
    out.write(after + "\n")


# Stands for the items in the document's head; no item can be this text.
_ITEMS = "\x00items"


def _change_line(action: Any, name: str, old: Any, new: Any, show_personal: bool) -> str:
    """A write's field as the run's table shows it: a create's "field: value", an update's
    "field: old -> new" (personal values masked unless asked)."""
    if _word(action) == "create" and old is None:
        return plain(f"{name}: {shown(name, new, show_personal)}")
    return plain(f"{name}: {shown(name, old, show_personal)} -> {shown(name, new, show_personal)}")


def print_result(console: Console, result: Any, show_personal: bool, limit: int = 12) -> None:
    """A run's (or a plan's) output: what it was, its summary and status, its writes (the
    first ``limit`` of each outcome, with their fields), its problems by cause, and its notes.
    Problems are never listed one by one: ``runs show ID --outcome invalid`` lists them."""
    title = "Plan" if result.dry_run else "Run"
    console.print(
        f"[bold]{title} {result.run_id}[/]: {markup(result.flow)} for {markup(result.tenant)}"
        f"{' (dry run: nothing written)' if result.dry_run else ''}",
        highlight=False,
    )
    console.print(
        f"{markup(summary(result.items, result.dry_run))}. "
        f"Status: [bold]{markup(result.status)}[/]",
        highlight=False,
    )
    writes = [
        i
        for i in result.items
        if _word(i.outcome) != "unchanged" and _word(i.outcome) not in PROBLEM_OUTCOMES
    ]
    rows: list[Any] = []
    shown_of: Counter[str] = Counter()
    hidden: dict[str, int] = {}
    for item in writes:  # a long run shows the first rows of each outcome, then a count
        outcome = _word(item.outcome)
        if shown_of[outcome] < limit:
            rows.append(item)
            shown_of[outcome] += 1
        else:
            hidden[outcome] = hidden.get(outcome, 0) + 1
    if rows:
        items = table(("record", "action", "outcome", "details"))
        for item in rows:
            lines = [
                _change_line(item.action, name, old, new, show_personal)
                for name, old, new in item.changes
            ]
            if item.message:
                lines.append(message_cell(item.message).plain)
            items.add_row(
                cell(record_name(item.key, item.label)),
                cell(_word(item.action)),
                cell(_word(item.outcome)),
                Text("\n".join(lines)),
            )
        for outcome, count in hidden.items():
            items.add_row(
                "…",
                "",
                cell(outcome),
                cell(
                    f"and {count:,} more ({outcome}): see --json or "
                    f"`fjordsync runs show {result.run_id} --outcome {outcome}`"
                ),
            )
        console.print(items)
    groups = group_problems(result.items)
    if groups:
        console.print(problems_table(groups))
        console.print(
            f"Every record: `fjordsync runs show {result.run_id} --outcome "
            f"{','.join(o for o in PROBLEM_OUTCOMES if any(g.outcome == o for g in groups))}`",
            highlight=False,
            markup=False,
        )
    if result.new_problems is not None and result.known_problems is not None:
        new, known = result.new_problems, result.known_problems
        console.print(
            f"{new:,} new problem{'s' if new != 1 else ''}, {known:,} known",
            highlight=False,
        )
    for note in result.notes:
        console.print(f"[yellow]note:[/] {markup(note)}", highlight=False)


# --- check ---------------------------------------------------------------------------------


def findings_document(flow: str, findings: list[Any]) -> dict[str, Any]:
    return {
        "flow": flow,
        "aligned": not findings,
        "findings": [
            {
                "subject": f.subject,
                "record": f.record,
                "change_in": f.change_in,
                "message": f.message,
                "proposal": f.proposal,
            }
            for f in findings
        ],
    }


def print_findings(console: Console, flow: str, findings: list[Any]) -> None:
    if not findings:
        console.print(
            f"[bold green]{markup(flow)}: the ids line up[/] (credentials work, every code the "
            "flow matches on exists on both sides)",
            highlight=False,
        )
        return
    listing = table(
        ("what", "code", "change in", "problem", "proposal"),
        cell(f"{flow}: {len(findings)} to fix before the first run"),
    )
    for finding in findings:
        listing.add_row(
            cell(finding.subject),
            cell(finding.record),
            cell(finding.change_in),
            message_cell(finding.message),
            message_cell(finding.proposal),
        )
    console.print(listing)
