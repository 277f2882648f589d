"""The fjordsync demo: the whole story for a generated company, on one machine.

    uv run python examples/demo.py        (what `python3 dev.py demo` runs)

It starts the three vendor sandboxes with `fjordsync sandbox up` (a company of 60 employees,
15 projects, two months of hours and a year of leaves, with a few of the id misalignments seed 000
warns about), then runs, as a user would: the preflight check of each flow, the five flows (the
hours run shows its invalid hours grouped by cause; payroll is planned, saved for review and then
applied as reviewed), the run history and the status view, and a second pass that finds nothing
left to write and only problems already known.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

FJORDSYNC = str(Path(sys.executable).parent / "fjordsync")
FLOWS = ("projects", "employees", "hours", "payroll-employees", "absences")


def fjordsync(*args: str, quiet: bool = False) -> subprocess.CompletedProcess[str]:
    if not quiet:
        print(f"\n$ fjordsync {' '.join(args)}", flush=True)
    result = subprocess.run(
        [FJORDSYNC, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": os.environ.get("COLUMNS", "120")},
        check=False,
    )
    if not quiet:
        print((result.stdout + result.stderr).rstrip(), flush=True)
    return result


def period_args(flow: str, today: date) -> list[str]:
    if flow == "hours":
        return ["--from", (today - timedelta(days=62)).isoformat(), "--to", today.isoformat()]
    if flow == "absences":
        return [
            "--from",
            date(today.year, 1, 1).isoformat(),
            "--to",
            date(today.year, 12, 31).isoformat(),
        ]
    return []


def main() -> None:
    today = date.today()
    with tempfile.TemporaryDirectory(prefix="fjordsync-demo-") as workdir:
        config = Path(workdir) / "demo.toml"
        urls = Path(workdir) / "urls.json"
        print("Starting the AlexisHR, 24SevenOffice and SmartDok sandboxes ...", flush=True)
        sandboxes = subprocess.Popen(
            [FJORDSYNC, "sandbox", "up", "--config-out", str(config), "--urls-out", str(urls)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 60
            while not urls.exists() and time.monotonic() < deadline:
                if sandboxes.poll() is not None:
                    sys.exit(f"the sandboxes did not start: {sandboxes.stderr.read()}")
                time.sleep(0.2)
            for name, url in json.loads(urls.read_text()).items():
                print(f"  {name:16} {url}")
            print("\n== 1. Preflight: do the ids line up? (seed 000's manual review) ==")
            for flow in FLOWS:
                fjordsync("check", flow, "--config", str(config))
            print("\n== 2. The five flows (payroll: a plan reviewed, then applied) ==")
            for flow in FLOWS:
                if flow == "payroll-employees":
                    plan = Path(workdir) / "payroll-plan.json"
                    fjordsync("plan", flow, "--config", str(config), "--out", str(plan))
                    fjordsync("apply", str(plan))
                    continue
                fjordsync("run", flow, "--config", str(config), *period_args(flow, today))
            print("\n== 3. What happened, and what is next ==")
            fjordsync("runs", "list", "--config", str(config))
            fjordsync("status", "--config", str(config))
            print("\n== 4. A second pass: nothing left to write, no new problem ==")
            for flow in FLOWS:
                result = fjordsync(
                    "run",
                    flow,
                    "--config",
                    str(config),
                    "--json",
                    *period_args(flow, today),
                    quiet=True,
                )
                document = json.loads(result.stdout)
                written = document["counts"].get("written", 0)
                print(
                    f"  {flow:18} written {written:4}   new problems "
                    f"{document.get('new_problems') or 0:3}, known "
                    f"{document.get('known_problems') or 0:4}   "
                    f"{document['counts'] or '(read incrementally: nothing changed since)'}"
                )
        finally:
            sandboxes.terminate()
            sandboxes.wait(timeout=10)


if __name__ == "__main__":
    main()
