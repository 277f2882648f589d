"""How the command shows things: text from data escaped, personal values masked, tables, and the
JSON documents ``--json`` prints.

Text that comes from data (names, keys, vendors' messages) is printed with control characters
escaped and rich markup not interpreted, so a project named ``\\x1b[2J`` cannot clear the screen.
Which values are personal is the domain's to say (``fjordsync.domain.model.PERSONAL_FIELDS``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, TextIO

from rich.markup import escape
from rich.table import Table
from rich.text import Text

from fjordsync import logs
from fjordsync.domain.model import PERSONAL_FIELDS

if TYPE_CHECKING:
    from rich.console import Console

    from fjordsync.config import Config
    from fjordsync.ledger import RunRecord

MASK = "***"


def plain(value: Any) -> str:
    """Data as it may be shown: controls escaped (markup is the caller's to escape)."""
    return logs.escape_controls("" if value is None else str(value))


def markup(value: Any) -> str:
    """Data to put into a line that has rich markup of its own."""
    return escape(plain(value))


def cell(value: Any) -> Text:
    """Data as a table cell: controls escaped, no markup interpreted."""
    return Text(plain(value))


def message(error: BaseException) -> str:
    """An error's message for the user: secrets the config resolved and credentials by their
    shape masked (an adapter may echo what a vendor sent back), controls escaped."""
    return plain(logs.redact(str(error)))


def shown(field: str, value: Any, show_personal: bool) -> str:
    """A plan's value as shown: ``(none)`` when empty, ``***`` when the field is personal."""
    if value is None or value == "":
        return "(none)"
    if field in PERSONAL_FIELDS and not show_personal:
        return MASK
    return str(value)


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
    return f"{','.join(schedule.days)} {schedule.time.strftime('%H:%M')} {schedule.timezone}"


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


def print_run(console: Console, run: RunRecord) -> None:
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
    items = table(("record", "action", "outcome", "fields", "message"))
    for item in run.items:
        items.add_row(
            cell(item.record_key),
            cell(item.action),
            cell(item.outcome),
            cell(", ".join(item.changed_fields)),
            cell(item.message),
        )
    console.print(items)


# --- run -----------------------------------------------------------------------------------


def result_document(result: Any, show_personal: bool) -> dict[str, Any]:
    return {
        **_result_head(result),
        "items": [_item_document(i, show_personal) for i in result.items],
    }


def _result_head(result: Any) -> dict[str, Any]:
    return {
        "run_id": result.run_id,
        "flow": result.flow,
        "tenant": result.tenant,
        "dry_run": result.dry_run,
        "status": result.status,
        "counts": result.counts,
        "notes": result.notes,
    }


def _item_document(item: Any, show_personal: bool) -> dict[str, Any]:
    return {
        "entity": item.entity,
        "key": item.key,
        "action": item.action,
        "outcome": item.outcome,
        "message": item.message,
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


def print_result(console: Console, result: Any, show_personal: bool, limit: int = 12) -> None:
    title = "Plan" if result.dry_run else "Run"
    console.print(
        f"[bold]{title} {result.run_id}[/]: {markup(result.flow)} for {markup(result.tenant)}"
        f"{' (dry run: nothing written)' if result.dry_run else ''}",
        highlight=False,
    )
    interesting = [i for i in result.items if i.outcome != "unchanged"]
    rows: list[Any] = []
    hidden: dict[str, int] = {}
    for item in interesting:  # a long run shows the first rows of each outcome, then a count
        if sum(1 for i in rows if i.outcome == item.outcome) < limit:
            rows.append(item)
        else:
            hidden[item.outcome] = hidden.get(item.outcome, 0) + 1
    if rows:
        items = table(("record", "action", "outcome", "details"))
        for item in rows:
            lines = [
                plain(
                    f"{name}: {shown(name, old, show_personal)} -> "
                    f"{shown(name, new, show_personal)}"
                )
                for name, old, new in item.changes
            ]
            if item.message:
                lines.append(plain(item.message))
            items.add_row(
                cell(item.key), cell(item.action), cell(item.outcome), Text("\n".join(lines))
            )
        for outcome, count in hidden.items():
            items.add_row(
                "…",
                "",
                cell(outcome),
                cell(
                    f"and {count} more ({outcome}): see --json or "
                    f"`fjordsync runs show {result.run_id}`"
                ),
            )
        console.print(items)
    unchanged = sum(1 for i in result.items if i.outcome == "unchanged")
    counts = ", ".join(f"{k} {v}" for k, v in result.counts.items())
    console.print(
        f"{unchanged} unchanged. {markup(counts) or 'nothing to do'}. "
        f"Status: [bold]{markup(result.status)}[/]",
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
            cell(finding.message),
            cell(finding.proposal),
        )
    console.print(listing)
