"""The CLI's fixed cost (issue 12): what a command costs before and around its few requests.

    .venv/bin/python benchmarks/cli_cost.py [--runs 7] [--employees 5] [--json-out FILE]

Serves the three sandboxes for a tiny generated company in this process (``company.Systems``),
then runs each command ``--runs`` times as a user would (the installed ``fjordsync``, a child
process) and prints the median wall time and the child's own CPU (user + system, ``os.wait4``),
with the requests the sandboxes answered per run (``GET /_sandbox/stats``), beside two floors:
``python -c pass`` (the interpreter) and ``python -c "import sqlalchemy, httpx, zeep"`` (the
libraries a run of the ERP flows cannot avoid), and the sandbox's own answer time.

``run projects`` is run once before the measured runs, so each measured run finds everything in
place (a run with nothing to write: the cost of the few reads and of the CLI around them).
Where PYTHONDONTWRITEBYTECODE is set no .pyc is written and every child compiles what it
imports: run ``python3 dev.py sync`` (which compiles) first, or the figures measure compiling.
Exit status: 0 when it ran.
"""

# ruff: noqa: T201, S603

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from company import FJORDSYNC, Systems, answer_time, company


@dataclass(frozen=True)
class Size:
    employees: int
    hours: int = 20
    leaves: int = 20
    seed: int = 1


def measure(command: list[str], cwd: Path) -> tuple[float, float, int]:
    """Wall seconds, the child's CPU seconds and its exit status, for one run of ``command``."""
    env = {**os.environ, "COLUMNS": "200"}
    started = time.perf_counter()
    child = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.stderr is not None:
        child.stderr.close()
    return wall, usage.ru_utime + usage.ru_stime, child.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per command (median shown)")
    parser.add_argument("--employees", type=int, default=5, help="size of the company")
    parser.add_argument("--json-out", help="write the figures to this file too")
    options = parser.parse_args(argv)

    python = sys.executable
    with tempfile.TemporaryDirectory(prefix="fjordsync-cli-cost-") as tmp:
        workdir = Path(tmp)
        systems = Systems("cli-cost", company(Size(options.employees), date.today()), workdir)
        try:
            config = str(systems.config)
            commands: dict[str, list[str]] = {
                "python -c pass": [python, "-c", "pass"],
                "import sqlalchemy, httpx, zeep": [python, "-c", "import sqlalchemy, httpx, zeep"],
                "fjordsync --version": [FJORDSYNC, "--version"],
                "fjordsync --help": [FJORDSYNC, "--help"],
                "fjordsync plugins": [FJORDSYNC, "plugins"],
                "fjordsync config check": [FJORDSYNC, "config", "check", config],
                "fjordsync check projects": [FJORDSYNC, "check", "projects", "--config", config],
                "fjordsync run projects": [
                    FJORDSYNC,
                    *("run", "projects", "--config", config, "--json"),
                ],
            }
            warm = systems.fjordsync("run", "projects", "--config", config, "--json")
            if warm.returncode not in (0, 1):
                print(f"the first run failed ({warm.returncode}): {warm.stderr[-500:]}")
                return 2
            answer_ms = answer_time(systems)
            rows: list[dict[str, Any]] = []
            for name, command in commands.items():
                walls, cpus, requests, statuses = [], [], [], set()
                for _ in range(options.runs):
                    systems.reset_stats()
                    wall, cpu, status = measure(command, workdir)
                    walls.append(wall)
                    cpus.append(cpu)
                    statuses.add(status)
                    requests.append(systems.requests())
                rows.append(
                    {
                        "command": name,
                        "wall_ms": round(statistics.median(walls) * 1000),
                        "cpu_ms": round(statistics.median(cpus) * 1000),
                        "requests": statistics.median(requests),
                        "exit": sorted(statuses),
                    }
                )
        finally:
            systems.stop()

    print(f"sandbox answer time: {answer_ms:.2f} ms (median of 50 small GETs, kept-alive)")
    print(f"runs per command: {options.runs} (median); company: {options.employees} employees")
    print()
    print(f"{'command':34s} {'wall ms':>8s} {'cpu ms':>8s} {'requests':>9s}  exit")
    for row in rows:
        exits = ",".join(str(code) for code in row["exit"])
        print(
            f"{row['command']:34s} {row['wall_ms']:8d} {row['cpu_ms']:8d} "
            f"{row['requests']:9g}  {exits}"
        )
    by_name = {row["command"]: row for row in rows}
    floor = by_name["import sqlalchemy, httpx, zeep"]["wall_ms"]
    run = by_name["fjordsync run projects"]
    print()
    print(
        f"run projects above the libraries' floor: {run['wall_ms'] - floor} ms wall, "
        f"{run['requests']:g} requests x {answer_ms:.2f} ms answer time = "
        f"{run['requests'] * answer_ms:.0f} ms of it in the sandbox"
    )
    if options.json_out:
        Path(options.json_out).write_text(
            json.dumps({"answer_ms": answer_ms, "runs": options.runs, "rows": rows}, indent=2)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
