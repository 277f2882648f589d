"""Scale benchmark (issue 12): every flow at a real customer's size through the installed CLI,
against the floor, a naive baseline, a concurrency sweep, the hourly budget and the engine's own
parts, with the sandbox's own answer time beside the figures.

    .venv/bin/python benchmarks/scale.py [--scale 1.0] [--latency 30] [--naive-sample 300]
                                         [--sweep] [--budget 600] [--json-out FILE]

``--scale 1.0`` is 5,000 employees, 2,000 projects, 100,000 hours and 20,000 leaves; ``--scale
0.02`` runs in a few minutes. See benchmarks/README.md for what each figure means, how the floor
is counted per flow and which targets are printed. Everything runs against 127.0.0.1.
Exit status: 0 when it ran (targets missed are reported, not failed), 2 on a bad argument.
"""

# ruff: noqa: T201, S311, S603

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from company import FJORDSYNC, Systems, answer_time, company, periods
from naive import run_naive

FLOWS = ("projects", "employees", "hours", "payroll-employees", "absences")
FULL = {"employees": 5000, "projects": 2000, "hours": 100_000, "leaves": 20_000}
# The connector doing the bulk of each flow (its writes), whose concurrency the floor allows.
BULK = {
    "projects": "smartdok",
    "employees": "smartdok",
    "hours": "twentyfourseven",
    "payroll-employees": "twentyfourseven-payroll",
    "absences": "twentyfourseven-payroll",
}
TARGETS = {
    "wall_per_floor": 1.2,  # first passes of >= 1,000 records
    "naive_ratio": 10.0,
    "rerun_writes": 0,
    "erp_requests_per_new_hour": 1.01,
    "cpu_ms_per_written_hour": 2.0,
    "cpu_ms_per_unchanged": 0.3,
    "plan_seconds": 2.0,  # 100,000 records
    "peak_mb_100k_hours": 400.0,
    "budget_used": 0.95,
    "budget_quarantines": 0,
}


def default_concurrency() -> int:
    """The connectors' configured default (all four declare the same), read from settings."""
    from fjordsync_twentyfourseven.settings import TwentyFourSevenSettings

    return int(TwentyFourSevenSettings.model_fields["max_concurrency"].default)


@dataclass
class Size:
    employees: int
    projects: int
    hours: int
    leaves: int
    seed: int = 7

    @classmethod
    def at(cls, scale: float, seed: int) -> Size:
        def part(name: str, least: int) -> int:
            return max(least, round(FULL[name] * scale))

        return cls(
            part("employees", 5), part("projects", 3), part("hours", 20), part("leaves", 5), seed
        )


@dataclass
class Options:
    scale: float = 1.0
    seed: int = 7
    latency: float = 30.0
    naive_sample: int = 300
    sweep: bool = False
    sweep_levels: tuple[int, ...] = (1, 2, 4, 8, 16)
    sweep_hours: int = 3000
    budget: int = 600
    plan_records: int = 100_000
    ledger_records: int | None = None  # default: 100,000 x scale, at least 500
    flows: tuple[str, ...] = FLOWS
    run_timeout: float = 7200.0
    workdir: str | None = None
    json_out: str | None = None


# -- one CLI run, measured ----------------------------------------------------------------------
@dataclass
class Measured:
    exit_code: int
    wall_s: float
    cpu_s: float
    peak_mb: float
    status: str | None
    counts: dict[str, int]
    notes: list[str]
    deferred: list[str]  # the messages of the records left for later, each once
    stderr: str
    requests: dict[str, dict[str, int]]  # sandbox -> operation -> requests
    writes: int
    sandbox_ms: float  # time the sandboxes' handlers spent, summed

    @property
    def total_requests(self) -> int:
        return sum(sum(ops.values()) for ops in self.requests.values())


class HandlerClock:
    """Time the sandboxes spend in their handlers (the vendor's logic, not the added latency nor
    the socket), read from each sandbox's stats (``handler_ms``): the sandboxes serve from
    processes of their own (``Systems(processes=True)``), so neither they nor this process
    share a GIL with each other."""

    def __init__(self, systems: Systems) -> None:
        self.systems = systems
        self.seen = 0.0

    def take(self) -> float:
        """Seconds spent since the last take (stats reset in between count from zero)."""
        now = self.systems.handler_ms()["wall"] / 1000
        if now < self.seen:  # the stats were reset
            self.seen = 0.0
        seconds, self.seen = now - self.seen, now
        return seconds


def cli_run(
    systems: Systems, clock: HandlerClock, flow: str, extra: list[str], timeout: float
) -> Measured:
    """``fjordsync run FLOW --config F --json`` as a user runs it; wall time, and the child's own
    CPU and peak RSS from os.wait4 on its pid (not RUSAGE_CHILDREN, which mixes all children)."""
    systems.reset_stats()
    clock.take()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            [FJORDSYNC, "run", flow, "--config", str(systems.config), "--json", *extra],
            stdout=out,
            stderr=err,
            cwd=systems.workdir,
            env={**os.environ, "COLUMNS": "200"},
        )
        killer = threading.Timer(timeout, process.kill)
        killer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            killer.cancel()
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode(errors="replace")
    try:
        document = json.loads(stdout)
    except ValueError:
        document = {}
    stats = {name: systems.call(name, "GET", "/_sandbox/stats") for name in systems.servers}
    return Measured(
        exit_code=process.returncode,
        wall_s=wall,
        cpu_s=usage.ru_utime + usage.ru_stime,
        peak_mb=usage.ru_maxrss / 1024,  # KiB on Linux
        status=document.get("status"),
        counts=dict(document.get("counts") or {}),
        notes=[str(n) for n in document.get("notes") or []],
        deferred=list(
            dict.fromkeys(
                str(item.get("message") or "")
                for item in document.get("items") or []
                if item.get("outcome") == "deferred" and item.get("message")
            )
        ),
        stderr=stderr[-2000:],
        requests={name: dict(s["requests"]) for name, s in stats.items()},
        writes=sum(s["total_writes"] for s in stats.values()),
        sandbox_ms=clock.take() * 1000,
    )


# -- the floor -----------------------------------------------------------------------------------
AUTH = {
    "SOAP Authenticate.Login",
    "SOAP Authenticate.GetIdentities",
    "SOAP Authenticate.SetIdentityById",
    "POST /Authorize/ApiToken",
    "GET /payroll/api/auth",
}
SMARTDOK_LISTS = {  # operation -> (state key, largest page)
    "GET /Projects": ("Projects", 1000),
    "GET /Users": ("Users", 1000),
    "GET /WorkHours": ("WorkHours", 100),
    "GET /WorkHours/v2": ("WorkHours", 100),
}
ALEXIS_LARGEST_PAGE = 1000


def unavoidable(
    requests: dict[str, dict[str, int]], writes: int, sizes: dict[str, dict[str, int]]
) -> tuple[int, dict[str, int]]:
    """The writes the sandboxes counted, plus per group of reads the fewest the vendor's API
    allows (never more than were made): one login per system; a SOAP listing once (no paging);
    a paged listing in pages of the largest size; 0 for a read by id of what a listing carries;
    payroll's per-employee reads (employment, child: the API has no listing of them) once each.
    Returns the total and the reads by group."""
    groups: dict[str, tuple[int, int]] = {}  # group -> (made, fewest)

    def add(group: str, made: int, fewest: int) -> None:
        had, least = groups.get(group, (0, fewest))
        groups[group] = (had + made, max(least, fewest))

    for system, operations in requests.items():
        for operation, made in operations.items():
            if operation in AUTH:
                add(f"{system} login {operation}", made, 1)
            elif system == "smartdok" and operation in SMARTDOK_LISTS:
                key, page = SMARTDOK_LISTS[operation]
                add(f"smartdok {key}", made, math.ceil(sizes["smartdok"].get(key, 0) / page) or 1)
            elif system == "smartdok" and operation == "GET /LicenseInfo":
                add("smartdok licences", made, 1)
            elif system == "alexis" and re.fullmatch(r"GET /v1/[\w-]+", operation):
                resource = operation.removeprefix("GET /v1/")
                count = sizes["alexis"].get(resource, 0)
                add(f"alexis {resource}", made, math.ceil(count / ALEXIS_LARGEST_PAGE) or 1)
            elif re.fullmatch(r"GET /payroll/api/(employment|child)/v2/\d+", operation):
                add(f"payroll per employee {operation}", made, 1)
            elif re.fullmatch(r"GET /payroll/api/[\w-]+/v2", operation):
                add(f"payroll {operation}", made, 1)
            elif operation.startswith("SOAP ") and not operation.rsplit(".", 1)[-1].startswith(
                ("Save", "GetSingle")
            ):
                add(f"soap {operation}", made, 1)
            elif operation.startswith("GET "):
                add(f"by id {system}", made, 0)  # a read of one record a listing carries
    reads = {group: min(made, fewest) for group, (made, fewest) in groups.items()}
    return writes + sum(reads.values()), reads


def state_sizes(systems: Systems) -> dict[str, dict[str, int]]:
    sizes = {}
    for name, server in systems.servers.items():
        with server.lock:
            sizes[name] = {
                key: len(value) for key, value in server.state.items() if isinstance(value, list)
            }
    return sizes


# -- scenarios ------------------------------------------------------------------------------------
@dataclass
class Pass:
    wall_s: float
    cpu_s: float
    peak_mb: float
    exit_code: int
    status: str | None
    counts: dict[str, int]
    records: int
    written: int
    unchanged: int
    requests: int
    requests_by_system: dict[str, int]
    requests_per_record: float
    writes: int
    unavoidable: int
    unavoidable_reads: dict[str, int]
    floor_s: float
    wall_per_floor: float
    cpu_ms_per_record: float  # per written record (first pass), per unchanged one (re-run)
    sandbox_ms_per_request: float
    ledger_mb: float


@dataclass
class Scenario:
    flow: str
    concurrency: int
    first: Pass
    rerun: Pass
    erp_requests_per_new_hour: float | None = None
    naive: dict[str, Any] = field(default_factory=dict)


def ledger_mb(systems: Systems) -> float:
    files = systems.workdir.glob("fjordsync.toml.ledger.db*")  # with its -wal and -shm
    return sum(f.stat().st_size for f in files) / 1e6


def measure_pass(
    systems: Systems,
    clock: HandlerClock,
    flow: str,
    extra: list[str],
    options: Options,
    concurrency: int,
    rerun: bool,
) -> Pass:
    sizes = state_sizes(systems)
    run = cli_run(systems, clock, flow, extra, options.run_timeout)
    if run.exit_code not in (0, 1) or run.status is None:
        raise RuntimeError(f"{flow}: exit {run.exit_code}: {run.stderr[-600:]}")
    records = sum(run.counts.values())
    written = run.counts.get("written", 0)
    unchanged = run.counts.get("unchanged", 0)
    needed, reads = unavoidable(run.requests, run.writes, sizes)
    floor = needed * options.latency / 1000 / concurrency
    per = unchanged if rerun else written
    # Ratios from the rounded figures as printed, so that a reader can redo them.
    wall, floor = round(run.wall_s, 3), round(floor, 3)
    return Pass(
        wall_s=wall,
        cpu_s=round(run.cpu_s, 3),
        peak_mb=round(run.peak_mb, 1),
        exit_code=run.exit_code,
        status=run.status,
        counts=run.counts,
        records=records,
        written=written,
        unchanged=unchanged,
        requests=run.total_requests,
        requests_by_system={k: sum(v.values()) for k, v in run.requests.items()},
        requests_per_record=round(run.total_requests / records, 3) if records else 0.0,
        writes=run.writes,
        unavoidable=needed,
        unavoidable_reads=reads,
        floor_s=floor,
        wall_per_floor=round(wall / floor, 3) if floor else 0.0,
        cpu_ms_per_record=round(run.cpu_s * 1000 / per, 3) if per else 0.0,
        sandbox_ms_per_request=(
            round(run.sandbox_ms / run.total_requests, 3) if run.total_requests else 0.0
        ),
        ledger_mb=round(ledger_mb(systems), 2),
    )


def run_scenarios(
    states: dict[str, Any],
    size: Size,
    options: Options,
    workdir: Path,
    report: Callable[[str], None],
) -> tuple[list[Scenario], float]:
    """The five flows in order on one set (absences needs the employees payroll-employees
    writes), each a first pass and a re-run with nothing changed."""
    extra = periods(size, date.today())
    concurrency = default_concurrency()
    systems = Systems("scale", states, workdir / "scale", processes=True)
    try:
        answer = answer_time(systems)  # no faults yet
        clock = HandlerClock(systems)
        systems.set_faults(f"latency={options.latency:g}")
        scenarios = []
        for flow in options.flows:
            first = measure_pass(
                systems, clock, flow, extra.get(flow, []), options, concurrency, rerun=False
            )
            report(f"{flow}: first pass {first.counts} in {first.wall_s:.1f} s")
            again = measure_pass(
                systems, clock, flow, extra.get(flow, []), options, concurrency, rerun=True
            )
            report(f"{flow}: re-run {again.counts} in {again.wall_s:.1f} s, {again.writes} writes")
            scenario = Scenario(flow, concurrency, first, again)
            if flow == "hours" and first.written:
                erp = first.requests_by_system.get("twentyfourseven", 0)
                scenario.erp_requests_per_new_hour = round(erp / first.written, 4)
            scenarios.append(scenario)
        return scenarios, answer
    finally:
        systems.stop()


def run_naive_baseline(
    states: dict[str, Any],
    size: Size,
    scenarios: list[Scenario],
    options: Options,
    workdir: Path,
    report: Callable[[str], None],
) -> None:
    """The naive loop over a sample per flow, on a fresh copy of the sandboxes (it writes),
    extrapolated to the scenario's records."""
    extra = periods(size, date.today())
    systems = Systems("naive", states, workdir / "naive", processes=True)
    try:
        systems.set_faults(f"latency={options.latency:g}")
        clock = HandlerClock(systems)
        for scenario in scenarios:
            clock.take()
            result = run_naive(
                scenario.flow, systems, options.naive_sample, extra.get(scenario.flow)
            )
            records = scenario.first.records
            extrapolated = round(result.ms_per_record * records / 1000, 1)
            scenario.naive = {
                "sample": result.records,
                "sample_seconds": round(result.seconds, 3),
                "ms_per_record": round(result.ms_per_record, 3),
                "requests": result.requests,
                "write_errors": result.write_errors,
                # The sandbox's handlers' share of it (the vendor's logic, in this process).
                "sandbox_ms_per_request": round(clock.take() * 1000 / result.requests, 3)
                if result.requests
                else 0.0,
                "records": records,
                "extrapolated_s": extrapolated,
                "extrapolated": result.records < records,
                "ratio": round(extrapolated / scenario.first.wall_s, 2)
                if scenario.first.wall_s
                else 0.0,
            }
            report(f"{scenario.flow}: naive {result.ms_per_record:.1f} ms per record")
    finally:
        systems.stop()


def run_sweep(
    options: Options, workdir: Path, report: Callable[[str], None]
) -> list[dict[str, Any]]:
    """The hours flow's first pass at ``--sweep-hours`` hours for each concurrency level (the
    SmartDok and 24SevenOffice connections alike), each on a fresh set."""
    employees = max(5, options.sweep_hours // 19 + 1)  # a month of work days covers the hours
    size = Size(employees, max(3, employees // 4), options.sweep_hours, 5, options.seed)
    states = company(size, date.today())
    extra = periods(size, date.today())["hours"]
    rows = []
    for level in options.sweep_levels:
        settings = {name: {"max_concurrency": level} for name in ("twentyfourseven", "smartdok")}
        systems = Systems(
            f"sweep{level}", states, workdir / f"sweep{level}", settings=settings, processes=True
        )
        try:
            clock = HandlerClock(systems)
            systems.set_faults(f"latency={options.latency:g}")
            first = measure_pass(systems, clock, "hours", extra, options, level, rerun=False)
        finally:
            systems.stop()
        rows.append(
            {
                "concurrency": level,
                "written": first.written,
                "requests": first.requests,
                "wall_s": first.wall_s,
                "floor_s": first.floor_s,
                "wall_per_floor": first.wall_per_floor,
                "cpu_ms_per_written": first.cpu_ms_per_record,
                "hours_per_s": round(first.written / first.wall_s, 1) if first.wall_s else 0.0,
            }
        )
        report(f"sweep: concurrency {level}: {first.wall_s:.1f} s for {first.written} hours")
    return rows


def run_budget(options: Options, workdir: Path, report: Callable[[str], None]) -> dict[str, Any]:
    """An hours run needing more than 24SevenOffice's hourly budget, the sandbox and the config
    holding the same small budget: requests used of it, quarantines, exit, the run's words."""
    hours = options.budget * 3 // 2
    employees = max(5, hours // 19 + 1)
    size = Size(employees, max(3, employees // 4), hours, 5, options.seed)
    states = company(size, date.today())
    extra = periods(size, date.today())["hours"]
    systems = Systems(
        "budget", states, workdir / "budget", requests_per_hour=options.budget, processes=True
    )
    try:
        systems.set_faults(f"latency={options.latency:g}")
        clock = HandlerClock(systems)
        run = cli_run(systems, clock, "hours", extra, options.run_timeout)
        erp = systems.servers["twentyfourseven"]
        with erp.lock:
            usage = dict(erp.usage)  # type: ignore[attr-defined]
    finally:
        systems.stop()
    hours_seen = {hour for (_, hour) in usage}
    used = sum(usage.values())
    answered = min(used, options.budget * len(hours_seen))
    quarantines = used - answered  # requests past the budget: each got the quarantine fault
    # What the run says about when it goes on: its notes and the deferred records' message.
    message = " ".join([*run.notes, *run.deferred[:2]]).strip() or run.stderr.strip()[-300:]
    result = {
        "budget": options.budget,
        "hours_needed": hours,
        "written": run.counts.get("written", 0),
        "counts": run.counts,
        "erp_requests": used,
        "clock_hours": len(hours_seen),
        "used_share": round(answered / (options.budget * len(hours_seen)), 4)
        if hours_seen
        else 0.0,
        "quarantines": quarantines,
        "exit_code": run.exit_code,
        "status": run.status,
        "message": str(message or "")[:600],
        "wall_s": round(run.wall_s, 2),
    }
    report(f"budget: {used} requests of {options.budget}, exit {run.exit_code}")
    return result


# -- the engine's own parts, in process -----------------------------------------------------------
def time_planning(records: int, seed: int) -> dict[str, Any]:
    """fjordsync.domain.diff.plan over ``records`` desired and as many current Records (a tenth
    differing, a twentieth missing): CPU seconds."""
    from fjordsync.domain.diff import FieldSpec, Record, plan

    rng = random.Random(seed)
    names = ("employee", "project", "date", "hours", "activity", "wage", "note")
    desired, current = [], []
    for index in range(records):
        values = {name: f"{name}-{index % 997}-{rng.randrange(100)}" for name in names}
        desired.append(Record(f"H{index:07d}", values))
        draw = rng.random()
        if draw < 0.05:
            continue  # to create
        have = dict(values)
        if draw < 0.15:
            have["hours"] = "changed"
        current.append(Record(f"H{index:07d}", have, target_key=str(index)))
    spec = FieldSpec(owned=names[:-1], create_only=("note",))
    started = time.process_time()
    result = plan(desired, current, spec)
    cpu = time.process_time() - started
    counts = {kind.value: n for kind, n in result.counts().items() if n}
    return {"records": records, "cpu_s": round(cpu, 3), "counts": counts}


def time_ledger(records: int) -> dict[str, Any]:
    """The ledger's public API into a temp SQLite file: ``records`` writes (begin_write, then
    record_write: the link with its outcome) and as many unchanged items (record_item)."""
    from fjordsync.ledger import Ledger

    with tempfile.TemporaryDirectory(prefix="fjordsync-ledger-") as folder:
        path = Path(folder) / "ledger.db"
        opened = time.perf_counter()
        ledger = Ledger(f"sqlite:///{path}")
        open_s = time.perf_counter() - opened
        run_id = ledger.start_run("bench", "hours", trigger="manual", dry_run=False)
        started = time.perf_counter()
        cpu = time.process_time()
        for index in range(records):
            key = f"H{index:07d}"
            ledger.begin_write(
                run_id, tenant="bench", flow="hours", entity="hour", source_key=key, marker=key
            )
            ledger.record_write(
                run_id,
                tenant="bench",
                flow="hours",
                entity="hour",
                source_key=key,
                target_key=str(index),
                fingerprint=f"{index:064x}",
                action="create",
            )
        links_s, links_cpu = time.perf_counter() - started, time.process_time() - cpu
        started, cpu = time.perf_counter(), time.process_time()
        for index in range(records):
            ledger.record_item(
                run_id, entity="hour", key=f"H{index:07d}", action="unchanged", outcome="unchanged"
            )
        items_s, items_cpu = time.perf_counter() - started, time.process_time() - cpu
        ledger.finish_run(run_id, status="succeeded", counts={"written": records})
        ledger.close()
        size = sum(f.stat().st_size for f in Path(folder).iterdir()) / 1e6
    return {
        "records": records,
        "open_s": round(open_s, 3),
        "links_s": round(links_s, 3),
        "links_ms_per_record": round(links_s * 1000 / records, 4),
        "links_cpu_s": round(links_cpu, 3),
        "items_s": round(items_s, 3),
        "items_ms_per_record": round(items_s * 1000 / records, 4),
        "items_cpu_s": round(items_cpu, 3),
        "file_mb": round(size, 2),
    }


# -- the report -----------------------------------------------------------------------------------
def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("pass" if ok else "MISS")


def targets(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target with its figure and pass/miss."""
    rows: list[dict[str, Any]] = []

    def add(name: str, figure: float | None, target: str, ok: bool | None) -> None:
        rows.append({"target": name, "figure": figure, "wanted": target, "verdict": verdict(ok)})

    for s in summary["scenarios"]:
        first, again = s["first"], s["rerun"]
        big = first["records"] >= 1000
        add(
            f"{s['flow']}: wall / floor (first pass)",
            first["wall_per_floor"],
            f"<= {TARGETS['wall_per_floor']} (>= 1,000 records)",
            first["wall_per_floor"] <= TARGETS["wall_per_floor"] if big else None,
        )
        if s.get("naive"):
            add(
                f"{s['flow']}: naive / fjordsync",
                s["naive"]["ratio"],
                f">= {TARGETS['naive_ratio']:g}x",
                s["naive"]["ratio"] >= TARGETS["naive_ratio"],
            )
        add(f"{s['flow']}: writes on re-run", again["writes"], "0", again["writes"] == 0)
        add(
            f"{s['flow']}: CPU ms per unchanged record (re-run)",
            again["cpu_ms_per_record"],
            f"<= {TARGETS['cpu_ms_per_unchanged']}",
            again["cpu_ms_per_record"] <= TARGETS["cpu_ms_per_unchanged"]
            if again["unchanged"]
            else None,
        )
        if s["flow"] == "hours":
            add(
                "hours: CPU ms per written hour",
                first["cpu_ms_per_record"],
                f"<= {TARGETS['cpu_ms_per_written_hour']}",
                first["cpu_ms_per_record"] <= TARGETS["cpu_ms_per_written_hour"]
                if first["written"]
                else None,
            )
            per_hour = s["erp_requests_per_new_hour"]
            add(
                "hours: 24SevenOffice requests per new hour",
                per_hour,
                f"<= {TARGETS['erp_requests_per_new_hour']}",
                None if per_hour is None else per_hour <= TARGETS["erp_requests_per_new_hour"],
            )
            full = first["records"] >= FULL["hours"]
            add(
                "hours: peak MB (first pass)",
                first["peak_mb"],
                f"< {TARGETS['peak_mb_100k_hours']:g} for 100,000 hours",
                first["peak_mb"] < TARGETS["peak_mb_100k_hours"] if full else None,
            )
    planning = summary.get("planning")
    if planning:
        add(
            f"planning {planning['records']:,} records: CPU s",
            planning["cpu_s"],
            f"< {TARGETS['plan_seconds']:g} (100,000)",
            planning["cpu_s"] < TARGETS["plan_seconds"] if planning["records"] >= 100_000 else None,
        )
    budget = summary.get("budget")
    if budget:
        add(
            "budget: share of the hourly budget used",
            budget["used_share"],
            f">= {TARGETS['budget_used']}",
            budget["used_share"] >= TARGETS["budget_used"],
        )
        add("budget: quarantines", budget["quarantines"], "0", budget["quarantines"] == 0)
    return rows


COLUMNS = (
    ("flow", 17),
    ("pass", 6),
    ("records", 8),
    ("written", 8),
    ("requests", 8),
    ("req/rec", 7),
    ("unavoid.", 8),
    ("wall s", 8),
    ("floor s", 8),
    ("wall/floor", 10),
    ("CPU ms/rec", 10),
    ("peak MB", 7),
    ("ledger MB", 9),
    ("writes", 6),
)


def _line(cells: tuple[Any, ...]) -> str:
    return "  ".join(str(c).ljust(w) for c, (_, w) in zip(cells, COLUMNS, strict=True)).rstrip()


def table(summary: dict[str, Any]) -> str:
    size = summary["size"]
    lines = [
        f"company (scale {summary['scale']:g}): {size['employees']:,} employees, "
        f"{size['projects']:,} projects, {size['hours']:,} hours, {size['leaves']:,} leaves; "
        f"latency {summary['latency_ms']:g} ms; concurrency {summary['concurrency']}",
        f"sandbox answer time (small GET, kept-alive, no faults): median "
        f"{summary['answer_ms']:.2f} ms; sandbox handlers {summary['sandbox_ms_per_request']:.2f} "
        f"ms per request over the scenarios (latency added on top)",
        "",
        _line(tuple(name for name, _ in COLUMNS)),
        _line(tuple("-" * width for _, width in COLUMNS)),
    ]
    for s in summary["scenarios"]:
        for label, p in (("first", s["first"]), ("re-run", s["rerun"])):
            lines.append(
                _line(
                    (
                        s["flow"] if label == "first" else "",
                        label,
                        p["records"],
                        p["written"],
                        p["requests"],
                        f"{p['requests_per_record']:.2f}",
                        p["unavoidable"],
                        f"{p['wall_s']:.2f}",
                        f"{p['floor_s']:.2f}",
                        f"{p['wall_per_floor']:.2f}",
                        f"{p['cpu_ms_per_record']:.2f}",
                        f"{p['peak_mb']:.0f}",
                        f"{p['ledger_mb']:.2f}",
                        p["writes"],
                    )
                )
            )
    lines.append(
        "(CPU ms/rec: per written record on the first pass, per unchanged one on the re-run)"
    )
    naive = [s for s in summary["scenarios"] if s.get("naive")]
    if naive:
        lines += ["", "naive baseline (one request at a time, read then write, no diff):"]
        for s in naive:
            n = s["naive"]
            mark = " (extrapolated)" if n["extrapolated"] else ""
            lines.append(
                f"  {s['flow']:<17} {n['ms_per_record']:.1f} ms per record over {n['sample']} "
                f"({n['write_errors']} refused; sandbox {n['sandbox_ms_per_request']:.1f} ms per "
                f"request) -> {n['extrapolated_s']:.1f} s for "
                f"{n['records']:,}{mark}; naive / fjordsync = {n['ratio']:.1f}x"
            )
    if summary.get("sweep"):
        lines += ["", "concurrency sweep (hours, first pass):"]
        for row in summary["sweep"]:
            lines.append(
                f"  concurrency {row['concurrency']:>2}: {row['written']} hours, "
                f"{row['requests']} requests, {row['wall_s']:.1f} s, floor {row['floor_s']:.1f} s, "
                f"wall/floor {row['wall_per_floor']:.2f}, {row['hours_per_s']:.0f} hours/s, "
                f"CPU {row['cpu_ms_per_written']:.2f} ms per hour"
            )
    budget = summary.get("budget")
    if budget:
        lines += [
            "",
            f"budget: {budget['hours_needed']} hours needed, budget {budget['budget']} requests "
            f"per hour: {budget['erp_requests']} requests in {budget['clock_hours']} clock "
            f"hour(s), {budget['used_share']:.1%} used, {budget['quarantines']} quarantines, "
            f"{budget['written']} written, exit {budget['exit_code']} ({budget['status']})",
            f"  it says: {budget['message']!r}",
        ]
    planning, ledger = summary.get("planning"), summary.get("ledger")
    if planning or ledger:
        lines.append("")
    if planning:
        lines.append(
            f"planning {planning['records']:,} records: {planning['cpu_s']:.2f} s CPU "
            f"({planning['counts']})"
        )
    if ledger:
        lines.append(
            f"ledger, {ledger['records']:,} records: writes (begin_write + record_write) "
            f"{ledger['links_s']:.1f} s = {ledger['links_ms_per_record']:.3f} ms each; unchanged "
            f"items (record_item) {ledger['items_s']:.1f} s = {ledger['items_ms_per_record']:.3f} "
            f"ms each; file {ledger['file_mb']:.1f} MB"
        )
    lines += ["", "targets:"]
    for row in summary["targets"]:
        lines.append(
            f"  {row['verdict']:<5} {row['target']}: {row['figure']} (wanted {row['wanted']})"
        )
    return "\n".join(lines)


def run_scale(options: Options, report: Callable[[str], None] | None = None) -> dict[str, Any]:
    report = report or (lambda line: print(line, file=sys.stderr, flush=True))
    unknown = set(options.flows) - set(FLOWS)
    if unknown:
        raise ValueError(f"unknown flows: {', '.join(sorted(unknown))}")
    started = time.monotonic()
    size = Size.at(options.scale, options.seed)
    states = company(size, date.today())
    generated = {
        "employees": len(states["alexis"]["employee"]),
        "projects": len(states["twentyfourseven"]["Project"]),
        "hours": len(states["smartdok"]["WorkHours"]),
        "leaves": len(states["alexis"]["leave"]),
    }
    report(f"company: {generated}")
    with ExitStack() as stack:
        workdir = Path(
            options.workdir
            or stack.enter_context(tempfile.TemporaryDirectory(prefix="fjordsync-scale-"))
        )
        scenarios, answer = run_scenarios(states, size, options, workdir, report)
        if options.naive_sample > 0:
            run_naive_baseline(states, size, scenarios, options, workdir, report)
        sweep = run_sweep(options, workdir, report) if options.sweep else []
        budget = run_budget(options, workdir, report) if options.budget > 0 else None
    planning = time_planning(options.plan_records, options.seed) if options.plan_records else None
    ledger_records = options.ledger_records
    if ledger_records is None:
        ledger_records = max(500, round(100_000 * options.scale))
    ledger = time_ledger(ledger_records) if ledger_records else None
    handled = sum(s.first.sandbox_ms_per_request * s.first.requests for s in scenarios)
    requests = sum(s.first.requests for s in scenarios)
    summary: dict[str, Any] = {
        "scale": options.scale,
        "size": generated,
        "latency_ms": options.latency,
        "concurrency": default_concurrency(),
        "answer_ms": round(answer, 3),
        "sandbox_ms_per_request": round(handled / requests, 3) if requests else 0.0,
        "scenarios": [_plain(s) for s in scenarios],
        "sweep": sweep,
        "budget": budget,
        "planning": planning,
        "ledger": ledger,
        "seconds": round(time.monotonic() - started, 1),
    }
    summary["targets"] = targets(summary)
    return summary


def _plain(scenario: Scenario) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(scenario)


def parse(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    d = Options()
    parser.add_argument("--scale", type=float, default=d.scale, help="1.0: 5,000 employees, ...")
    parser.add_argument("--seed", type=int, default=d.seed)
    parser.add_argument("--latency", type=float, default=d.latency, help="ms added per request")
    parser.add_argument(
        "--naive-sample", type=int, default=d.naive_sample, help="records per flow (0: none)"
    )
    parser.add_argument("--sweep", action="store_true", help="the hours concurrency sweep")
    parser.add_argument("--sweep-levels", default=",".join(map(str, d.sweep_levels)))
    parser.add_argument("--sweep-hours", type=int, default=d.sweep_hours)
    parser.add_argument(
        "--budget", type=int, default=d.budget, help="24SevenOffice requests per hour (0: none)"
    )
    parser.add_argument("--plan-records", type=int, default=d.plan_records)
    parser.add_argument("--ledger-records", type=int, default=None, help="100,000 x scale")
    parser.add_argument("--flows", default=",".join(FLOWS))
    parser.add_argument("--run-timeout", type=float, default=d.run_timeout)
    parser.add_argument("--workdir", help="keep configs and ledgers here (default: a temp dir)")
    parser.add_argument("--json-out", help="write the results as JSON here")
    args = parser.parse_args(argv)
    if args.scale <= 0:
        parser.error("--scale must be above 0")
    return Options(
        scale=args.scale,
        seed=args.seed,
        latency=args.latency,
        naive_sample=args.naive_sample,
        sweep=args.sweep,
        sweep_levels=tuple(int(x) for x in args.sweep_levels.split(",") if x.strip()),
        sweep_hours=args.sweep_hours,
        budget=args.budget,
        plan_records=args.plan_records,
        ledger_records=args.ledger_records,
        flows=tuple(f.strip() for f in args.flows.split(",") if f.strip()),
        run_timeout=args.run_timeout,
        workdir=args.workdir,
        json_out=args.json_out,
    )


def main(argv: list[str] | None = None) -> int:
    options = parse(argv)
    summary = run_scale(options)
    print(table(summary))
    if options.json_out:
        Path(options.json_out).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
