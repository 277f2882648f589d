"""Chaos benchmark: every flow through faults and SIGKILLs until it reports nothing left, then the
target compared with a fault-free run of the same flow on the same data.

    .venv/bin/python benchmarks/chaos.py [--employees 2000] [--hours 20000] [--leaves 3000]
                                         [--seed 7] [--faults SPEC] [--kill-share 0.5]
                                         [--max-runs 30] [--flows projects,hours,...]
                                         [--jobs 2] [--json-out FILE]

A generated company (the sandboxes' own generators, one seed; SmartDok's hours and AlexisHR's
leaves sampled down to ``--hours`` and ``--leaves``; a share of SmartDok's users and projects
left out and some of the rest edited, so that flows 1 and 2 create and update) is loaded into
two sets of the three vendor sandboxes, served in this process on 127.0.0.1: a fault-free
reference and a faulty one. Per flow, in the order projects, employees, hours (one lane) and
payroll-employees, absences (another lane; ``--jobs 2`` runs the lanes side by side):

1. ``fjordsync run FLOW --config F --json`` once on the reference: its counts (the deliberate
   invalid records of the generated data) and the reference end state of the target;
2. on the faulty set, with the faults of ``--faults`` (latency with jitter, 5xx, 429 with a short
   Retry-After, dropped connections, answers lost after the commit of every write, HTML pages
   and cut bodies) and 24SevenOffice sessions, payroll tokens and SmartDok sessions expired
   before every run and at random moments during it: run after run, each killed with SIGKILL
   with probability ``--kill-share`` once a random number of writes has reached the sandboxes,
   until a run (not killed) exits with nothing written and nothing failed, deferred, in
   conflict, invalid or skipped beyond what the reference run reported (at most ``--max-runs``);
3. faults off, the two targets compared by each record's source identity (projects by
   ProjectNumber, SmartDok users by EmployeeNo, 24SevenOffice hours by the marker in
   InternalNote, payroll employees by empId, employments by (empId, startdate), absences by
   externalId), fields the sandboxes assign themselves (ids, timestamps) left out.

It prints per flow: runs to converge (and how many were killed), duplicates, missing, wrongly
changed, unmarked exports (hours in 24SevenOffice whose SmartDok hour is not marked exported),
runs left running (``fjordsync runs list --json`` after it has had its chance to close the runs
of dead processes), and the requests the faulty set answered against the fault-free run's. The
sandbox's own answer time (a small GET on a kept-alive connection, no faults) is printed above.

Everything runs against 127.0.0.1 only; every loop is bounded in runs and every run in time.
Exit status: 0 when every flow converged with all five figures zero, 1 otherwise.
"""

# ruff: noqa: T201, S311, S603

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from fjordsync.testing.sandbox import FaultSpec

# The generated company and the sandbox set are shared with the other benchmarks (company.py
# beside this file; the directory is put on the path so that a loader by file finds it too).
sys.path.insert(0, str(Path(__file__).resolve().parent))
from company import (
    FJORDSYNC,
    RATE_BUDGET,
    TENANT,
    Systems,
    answer_time,
    company,
    periods,
)

__all__ = ["FJORDSYNC", "RATE_BUDGET", "TENANT", "Systems", "answer_time", "company", "periods"]
FLOWS = ("projects", "employees", "hours", "payroll-employees", "absences")
# Flows that share a lane run one after another on one pair of sandbox sets (absences needs the
# employees payroll-employees writes); lanes run side by side (--jobs).
LANES = (("projects", "employees"), ("hours",), ("payroll-employees", "absences"))
DEFAULT_FAULTS = (
    "latency=5,jitter=5,5xx=0.15,429=0.05,retry-after=0.2,drop=0.02,lost=0.2,"
    "html=0.05,truncated=0.05"
)
# Outcomes a converged run may show only as often as the fault-free run shows them.
SETTLED = ("invalid", "skipped", "conflict")
# Outcomes that mean work is left.
UNSETTLED = ("written", "failed", "deferred")
# Fields a sandbox sets itself (ids, timestamps): not compared.
VOLATILE = {
    "Id",
    "Created",
    "Updated",
    "CreatedDate",
    "LastActivityTime",
    "_DateChanged",
    "_DateRegistered",
    "DateChanged",
    "serialNo",
    "requestDate",
    "lastChanged",
    "employment_id",
    "AccessLevelId",  # SmartDok gives a new user a fresh one
}
# Values shown in the differences of the report are these fields' names only.
PERSONAL = {"personnr", "ID", "account", "iban", "salary", "postaddress", "zipcode", "city"}


@dataclass
class Options:
    employees: int = 2000
    hours: int = 20000
    leaves: int = 3000
    seed: int = 7
    faults: str = DEFAULT_FAULTS
    kill_share: float = 0.5
    max_runs: int = 30
    run_timeout: float = 900.0
    expire_every: float = 2.0  # seconds, on average, between session expiries during a run
    flows: tuple[str, ...] = FLOWS
    jobs: int = 3
    workdir: str | None = None
    json_out: str | None = None


@dataclass
class RunRecord:
    exit_code: int | None
    killed: bool
    seconds: float
    status: str | None
    counts: dict[str, int]
    error: str | None = None


@dataclass
class FlowResult:
    flow: str
    converged: bool = False
    runs: int = 0
    killed: int = 0
    duplicates: int = 0
    missing: int = 0
    wrongly_changed: int = 0
    unmarked_exports: int = 0
    runs_left_running: int = 0
    runs_interrupted: int = 0
    requests_faulty: int = 0
    requests_reference: int = 0
    reference_counts: dict[str, int] = field(default_factory=dict)
    reference_seconds: float = 0.0
    chaos_seconds: float = 0.0
    target_records: int = 0
    examples: list[str] = field(default_factory=list)  # a few differences, for the report
    run_log: list[RunRecord] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return self.converged and not (
            self.duplicates
            or self.missing
            or self.wrongly_changed
            or self.unmarked_exports
            or self.runs_left_running
        )


# -- running a flow ------------------------------------------------------------------------------
def _document(stdout: str) -> dict[str, Any] | None:
    try:
        document = json.loads(stdout)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def run_once(
    systems: Systems,
    flow: str,
    extra: list[str],
    *,
    timeout: float,
    kill_after_writes: int | None = None,
    kill_after_seconds: float | None = None,
    expire_every: float = 0.0,
    rng: random.Random | None = None,
) -> RunRecord:
    """One `fjordsync run` as a subprocess; SIGKILLed once ``kill_after_writes`` more writes
    have reached the sandboxes, or ``kill_after_seconds`` have passed, or when it outlives
    ``timeout``; sessions and tokens expired about every ``expire_every`` seconds."""
    command = [FJORDSYNC, "run", flow, "--config", str(systems.config), "--json", *extra]
    base = systems.writes()
    started = time.monotonic()
    next_expiry = started + (expire_every * rng.uniform(0.5, 1.5) if rng and expire_every else 1e9)
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(
            command,
            stdout=out,
            stderr=err,
            text=True,
            cwd=systems.workdir,
            env={**os.environ, "COLUMNS": "200"},
        )
        killed = False
        timed_out = False
        while process.poll() is None:
            now = time.monotonic()
            if (kill_after_writes is not None and systems.writes() - base >= kill_after_writes) or (
                kill_after_seconds is not None and now - started >= kill_after_seconds
            ):
                process.send_signal(signal.SIGKILL)
                killed = True
            elif now - started > timeout:
                process.send_signal(signal.SIGKILL)
                killed = timed_out = True
            elif now >= next_expiry and rng is not None:
                with contextlib.suppress(OSError, RuntimeError):
                    systems.expire()
                next_expiry = now + expire_every * rng.uniform(0.5, 1.5)
            time.sleep(0.005)
        process.wait()
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    seconds = time.monotonic() - started
    document = None if killed else _document(stdout)
    error = None
    if timed_out:
        error = f"killed after {timeout:.0f} s: the run did not finish"
    elif not killed and (document is None or "error" in document):
        error = (document or {}).get("message") or (stderr or stdout).strip()[-600:]
    return RunRecord(
        exit_code=None if killed else process.returncode,
        killed=killed,
        seconds=round(seconds, 2),
        status=document.get("status") if document else None,
        counts=dict(document.get("counts", {})) if document else {},
        error=error,
    )


def converged(run: RunRecord, reference: RunRecord) -> bool:
    if run.killed or run.exit_code not in (0, 1) or run.status is None:
        return False
    if any(run.counts.get(outcome, 0) for outcome in UNSETTLED):
        return False
    return all(
        run.counts.get(outcome, 0) <= reference.counts.get(outcome, 0) for outcome in SETTLED
    )


# -- comparing targets ---------------------------------------------------------------------------
def _plain(record: dict[str, Any]) -> str:
    return json.dumps(
        {k: v for k, v in record.items() if k not in VOLATILE}, sort_keys=True, default=str
    )


def compare(
    reference: Iterable[dict[str, Any]],
    faulty: Iterable[dict[str, Any]],
    identity: Callable[[dict[str, Any]], Any],
    label: str,
    result: FlowResult,
) -> None:
    by_ref: dict[Any, list[str]] = defaultdict(list)
    by_faulty: dict[Any, list[str]] = defaultdict(list)
    for record in reference:
        by_ref[identity(record)].append(_plain(record))
    for record in faulty:
        by_faulty[identity(record)].append(_plain(record))
    for key in sorted(set(by_ref) | set(by_faulty), key=str):
        ref, got = by_ref.get(key, []), by_faulty.get(key, [])
        extra = len(got) - max(len(ref), 1) if got else 0
        lacking = len(ref) - len(got)
        if extra > 0:
            result.duplicates += extra
            _example(result, f"{label} {key}: {len(got)} in the target, {len(ref)} expected")
        if lacking > 0:
            result.missing += lacking
            _example(result, f"{label} {key}: missing ({len(got)} of {len(ref)})")
        unmatched = Counter(got[: len(ref)]) - Counter(ref)
        changed = sum(unmatched.values())
        if changed:
            result.wrongly_changed += changed
            fields = _differing_fields(ref, got)
            _example(result, f"{label} {key}: {'; '.join(fields) or 'different'}")


def _differing_fields(ref: list[str], got: list[str]) -> list[str]:
    """``field: old -> new`` for the first pair of records, nested objects by dotted name;
    personal values are shown as ***."""
    if not ref or not got:
        return []
    return _diff(json.loads(ref[0]), json.loads(got[0]), "")


def _diff(a: Any, b: Any, prefix: str) -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        found = []
        for key in sorted(set(a) | set(b)):
            if a.get(key, _ABSENT) != b.get(key, _ABSENT):
                found += _diff(a.get(key, _ABSENT), b.get(key, _ABSENT), f"{prefix}{key}.")
        return found
    name = prefix.rstrip(".")
    if name.rsplit(".", 1)[-1] in PERSONAL:
        return [f"{name}: *** -> ***"]
    return [f"{name}: {_shown(a)} -> {_shown(b)}"]


_ABSENT = object()


def _shown(value: Any) -> str:
    return "(absent)" if value is _ABSENT else json.dumps(value, ensure_ascii=False)[:40]


def _example(result: FlowResult, text: str) -> None:
    if len(result.examples) < 8:
        result.examples.append(text)


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def compare_targets(flow: str, reference: Systems, faulty: Systems, result: FlowResult) -> None:
    if flow in ("projects", "employees"):
        ref, got = reference.state("smartdok"), faulty.state("smartdok")
        key, name = ("Projects", "ProjectNumber") if flow == "projects" else ("Users", "EmployeeNo")
        compare(ref[key], got[key], lambda r: _strip(r.get(name)), key, result)
        result.target_records = len(got[key])
    elif flow == "hours":
        ref_erp, got_erp = reference.state("twentyfourseven"), faulty.state("twentyfourseven")
        ref_sd, got_sd = reference.state("smartdok"), faulty.state("smartdok")
        compare(ref_erp["Hour"], got_erp["Hour"], lambda r: r.get("InternalNote"), "Hour", result)
        # The export marks are part of the flow's result too.
        compare(
            ref_sd["WorkHours"],
            got_sd["WorkHours"],
            lambda r: r.get("WorkHourID"),
            "WorkHour",
            result,
        )
        marked = {h["WorkHourID"] for h in got_sd["WorkHours"] if h.get("ExportedExternal")}
        prefix = f"fjordsync:{TENANT}:"
        for hour in got_erp["Hour"]:
            note = str(hour.get("InternalNote") or "")
            if note.startswith(prefix):
                work_hour = note.removeprefix(prefix)
                if not work_hour.isdigit() or int(work_hour) not in marked:
                    result.unmarked_exports += 1
                    _example(result, f"Hour {note}: in 24SevenOffice, not marked in SmartDok")
        result.target_records = len(got_erp["Hour"])
    elif flow == "payroll-employees":
        ref, got = reference.state("twentyfourseven"), faulty.state("twentyfourseven")
        compare(
            ref["payroll/employee"],
            got["payroll/employee"],
            lambda r: r.get("empId"),
            "employee",
            result,
        )
        compare(
            ref["payroll/employment"],
            got["payroll/employment"],
            lambda r: (r.get("empId"), r.get("startdate")),
            "employment",
            result,
        )
        result.target_records = len(got["payroll/employee"]) + len(got["payroll/employment"])
    elif flow == "absences":
        ref, got = reference.state("twentyfourseven"), faulty.state("twentyfourseven")
        compare(
            ref["payroll/absence"],
            got["payroll/absence"],
            lambda r: (
                r.get("externalId") or (r.get("empId"), r.get("startDate"), r.get("absenceType"))
            ),
            "absence",
            result,
        )
        result.target_records = len(got["payroll/absence"])


def run_statuses(systems: Systems, flow: str) -> Counter[str]:
    """The statuses of the flow's runs, once `runs list` has had its chance to close the runs of
    processes that died."""
    listed = systems.fjordsync(
        "runs", "list", "--config", str(systems.config), "--flow", flow, "--limit", "1000", "--json"
    )
    document = _document(listed.stdout) or {}
    return Counter(str(run.get("status")) for run in document.get("runs", []))


# -- the benchmark --------------------------------------------------------------------------------
def chaos_flow(
    flow: str,
    reference: Systems,
    faulty: Systems,
    options: Options,
    extra: list[str],
    rng: random.Random,
    report: Callable[[str], None],
) -> FlowResult:
    result = FlowResult(flow)
    reference.reset_stats()
    before = reference.writes()
    ref_run = run_once(reference, flow, extra, timeout=options.run_timeout)
    expected_writes = max(1, reference.writes() - before)
    result.requests_reference = reference.requests()
    result.reference_counts = ref_run.counts
    result.reference_seconds = ref_run.seconds
    if ref_run.exit_code not in (0, 1):
        raise RuntimeError(f"{flow}: the fault-free run failed: {ref_run.error}")
    report(f"{flow}: fault-free run {ref_run.counts} in {ref_run.seconds:.1f} s")
    faulty.reset_stats()
    faulty.set_faults(f"{options.faults},seed={rng.randrange(1 << 30)}")
    started = time.monotonic()
    try:
        for number in range(1, options.max_runs + 1):
            with contextlib.suppress(OSError, RuntimeError):
                faulty.expire()
            # The first run is always killed (unless --kill-share is 0), later ones at random;
            # kills stop after two thirds of the budget, so that the loop can end. Most kills
            # come in the middle of the writes (after a random number of them), some at a
            # random moment.
            kill = options.kill_share > 0 and (
                number == 1
                or (number <= options.max_runs * 2 // 3 and rng.random() < options.kill_share)
            )
            by_time = kill and rng.random() < 0.2
            threshold = rng.randint(1, expected_writes) if kill and not by_time else None
            delay = rng.uniform(0.5, max(1.0, ref_run.seconds)) if by_time else None
            run = run_once(
                faulty,
                flow,
                extra,
                timeout=options.run_timeout,
                kill_after_writes=threshold,
                kill_after_seconds=delay,
                expire_every=options.expire_every,
                rng=rng,
            )
            result.run_log.append(run)
            result.runs = number
            result.killed += run.killed
            what = "killed" if run.killed else f"exit {run.exit_code} {run.counts}"
            report(f"{flow}: chaos run {number}: {what} in {run.seconds:.1f} s")
            if run.error and not run.killed:
                report(f"{flow}:   error: {run.error.splitlines()[-1][:300]}")
            if converged(run, ref_run):
                result.converged = True
                break
    finally:
        result.chaos_seconds = round(time.monotonic() - started, 1)
        faulty.set_faults("")
    result.requests_faulty = faulty.requests()
    compare_targets(flow, reference, faulty, result)
    statuses = run_statuses(faulty, flow)
    result.runs_left_running = statuses["running"]
    result.runs_interrupted = statuses["interrupted"]
    return result


def run_lane(
    flows: tuple[str, ...],
    states: dict[str, dict[str, Any]],
    options: Options,
    workdir: Path,
    lane: int,
    report: Callable[[str], None],
) -> tuple[list[FlowResult], float]:
    today = date.today()
    extra = periods(options, today)
    reference = Systems("reference", states, workdir / f"lane{lane}-reference")
    faulty = Systems("faulty", states, workdir / f"lane{lane}-faulty")
    try:
        answer = answer_time(reference)
        results = []
        for index, flow in enumerate(flows):
            rng = random.Random(options.seed * 1000 + lane * 100 + index)
            results.append(
                chaos_flow(flow, reference, faulty, options, extra.get(flow, []), rng, report)
            )
        return results, answer
    finally:
        reference.stop()
        faulty.stop()


def run_chaos(options: Options, report: Callable[[str], None] | None = None) -> dict[str, Any]:
    report = report or (lambda line: print(line, file=sys.stderr, flush=True))
    unknown = set(options.flows) - set(FLOWS)
    if unknown:
        raise ValueError(f"unknown flows: {', '.join(sorted(unknown))} (known: {', '.join(FLOWS)})")
    started = time.monotonic()
    states = company(options, date.today())
    sizes = {
        "employees": len(states["alexis"]["employee"]),
        "hours": len(states["smartdok"]["WorkHours"]),
        "leaves": len(states["alexis"]["leave"]),
        "projects": len(states["twentyfourseven"]["Project"]),
    }
    report(f"company: {sizes}")
    lanes = [tuple(f for f in lane if f in options.flows) for lane in LANES]
    lanes = [lane for lane in lanes if lane]
    with contextlib.ExitStack() as stack:
        workdir = Path(
            options.workdir
            or stack.enter_context(tempfile.TemporaryDirectory(prefix="fjordsync-chaos-"))
        )
        with ThreadPoolExecutor(max_workers=max(1, options.jobs)) as pool:
            futures = [
                pool.submit(run_lane, lane, states, options, workdir, number, report)
                for number, lane in enumerate(lanes)
            ]
            outcomes = [future.result() for future in futures]
    by_flow = {r.flow: r for results, _ in outcomes for r in results}
    return {
        "sizes": sizes,
        "faults": options.faults,
        "kill_share": options.kill_share,
        "seed": options.seed,
        "answer_ms": round(max(answer for _, answer in outcomes), 3),
        "seconds": round(time.monotonic() - started, 1),
        "flows": [by_flow[f] for f in FLOWS if f in by_flow],
    }


COLUMNS = (
    ("flow", 18),
    ("runs (killed)", 13),
    ("duplicates", 10),
    ("missing", 7),
    ("wrongly changed", 15),
    ("unmarked exports", 16),
    ("runs left running", 17),
    ("requests vs fault-free", 26),
)


def table(summary: dict[str, Any]) -> str:
    lines = [
        f"company: {summary['sizes']}; faults: {summary['faults']}; "
        f"SIGKILL share {summary['kill_share']}; seed {summary['seed']}",
        f"sandbox answer time (small GET, kept-alive, no faults): median "
        f"{summary['answer_ms']:.2f} ms; wall time {summary['seconds']:.0f} s",
        "",
        "  ".join(name.ljust(width) for name, width in COLUMNS),
        "  ".join("-" * width for _, width in COLUMNS),
    ]
    for r in summary["flows"]:
        runs = f"{r.runs} ({r.killed})" + ("" if r.converged else " NOT CONVERGED")
        ratio = r.requests_faulty / r.requests_reference if r.requests_reference else 0
        requests = f"{r.requests_faulty} / {r.requests_reference} = {ratio:.2f}x"
        cells = (
            r.flow,
            runs,
            r.duplicates,
            r.missing,
            r.wrongly_changed,
            r.unmarked_exports,
            r.runs_left_running,
            requests,
        )
        lines.append("  ".join(str(c).ljust(w) for c, (_, w) in zip(cells, COLUMNS, strict=True)))
    for r in summary["flows"]:
        for example in r.examples:
            lines.append(f"  {r.flow}: {example}")
    return "\n".join(lines)


def as_json(summary: dict[str, Any]) -> dict[str, Any]:
    return {
        **summary,
        "flows": [{**asdict(r), "clean": r.clean} for r in summary["flows"]],
    }


def parse(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    defaults = Options()
    parser.add_argument("--employees", type=int, default=defaults.employees)
    parser.add_argument("--hours", type=int, default=defaults.hours, help="SmartDok hours")
    parser.add_argument("--leaves", type=int, default=defaults.leaves, help="AlexisHR leaves")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--faults", default=defaults.faults, help="fault spec (seed is added)")
    parser.add_argument("--kill-share", type=float, default=defaults.kill_share)
    parser.add_argument("--max-runs", type=int, default=defaults.max_runs)
    parser.add_argument("--run-timeout", type=float, default=defaults.run_timeout)
    parser.add_argument("--expire-every", type=float, default=defaults.expire_every)
    parser.add_argument("--flows", default=",".join(FLOWS))
    parser.add_argument("--jobs", type=int, default=defaults.jobs, help="lanes side by side")
    parser.add_argument("--workdir", help="keep configs and ledgers here (default: a temp dir)")
    parser.add_argument("--json-out", help="write the results as JSON here")
    args = parser.parse_args(argv)
    FaultSpec.parse(args.faults)  # fails early on a bad spec
    options = Options(
        employees=args.employees,
        hours=args.hours,
        leaves=args.leaves,
        seed=args.seed,
        faults=args.faults,
        kill_share=args.kill_share,
        max_runs=args.max_runs,
        run_timeout=args.run_timeout,
        expire_every=args.expire_every,
        flows=tuple(f.strip() for f in args.flows.split(",") if f.strip()),
        jobs=args.jobs,
        workdir=args.workdir,
        json_out=args.json_out,
    )
    return options


def main(argv: list[str] | None = None) -> int:
    options = parse(argv)
    summary = run_chaos(options)
    print(table(summary))
    if options.json_out:
        Path(options.json_out).write_text(
            json.dumps(as_json(summary), indent=2) + "\n", encoding="utf-8"
        )
    return 0 if all(r.clean for r in summary["flows"]) else 1


if __name__ == "__main__":
    sys.exit(main())
