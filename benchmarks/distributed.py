"""Issue 13's scaling figure: 50 tenants' runs on one Celery worker process and on two
(concurrency 1 each), over a real Redis, every sandbox answering with added latency.

    .venv/bin/python benchmarks/distributed.py [--tenants 50] [--projects 10] [--latency 30]
        [--ledger-url URL] [--budget 30] [--json-out FILE]

Each tenant has its own SmartDok and writes ``--projects`` projects into it from a
24SevenOffice sandbox it shares with nine others (ten tenants a credential): the same, fixed
work per tenant in every scenario. A scenario starts from nothing (an empty ledger, empty
SmartDoks, an empty Redis), starts its workers and waits until they answer, then puts one run
per tenant on the queue and times until every run's key is final in the ledger. Printed beside
the wall times: their ratio, the sandbox's own answer time (``company.answer_time``: what a
request costs the sandbox, not the engine) and the requests per credential per hour each
24SevenOffice sandbox counted.

The budget scenario: two workers, and the first ten tenants' credential allowed ``--budget``
requests an hour, fewer than their runs need: the requests that credential's sandbox counted in
the hour against the budget (never above it, so no quarantine), and how many runs went through
and how many wait for the next hour.

The ledger is ``--ledger-url`` (PostgreSQL, as a deployment has it), else
FJORDSYNC_TEST_POSTGRES_URL, else a SQLite file of the scenario's (its tables are dropped and
made again for each scenario: give it a database of its own). ``redis-server`` must be on PATH.
"""

# ruff: noqa: T201

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import types
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))
# The tests' own process helpers: the benchmark starts what the tests prove correct.
from tests.distributed.processes import (  # noqa: E402
    empty_ledger,
    empty_redis,
    erp_project,
    ledger_section,
    secrets_env,
    start_redis,
    start_worker,
    stop_group,
    tenant_section,
    wait_for,
    worker_env,
)

PER_CREDENTIAL = 10
LEDGER_KEY = "distributed-benchmark-fingerprint-key"
NO_BUDGET = 7200  # the vendor's own hourly limit


def _reset(redis_url: str, ledger_url: str) -> None:
    empty_redis(redis_url)
    empty_ledger(ledger_url)


def _erp_state(group: int, projects: int) -> dict[str, Any]:
    return {
        "Project": [
            erp_project(5000 + group * 1000 + n, f"Prosjekt {group}-{n}")
            for n in range(1, projects + 1)
        ],
        "PersonItem": [],
    }


def _config(ledger_url: str, erp_urls: list[str], smartdoks: dict[str, str], budget: int) -> str:
    parts = [ledger_section(ledger_url)]
    for index, (tenant, smartdok_url) in enumerate(smartdoks.items()):
        group = index // PER_CREDENTIAL
        limit = budget if group == 0 else NO_BUDGET
        parts.append(
            tenant_section(
                tenant, erp_urls[group], smartdok_url, erp_settings=f"requests_per_hour = {limit}"
            )
        )
    return "".join(parts)


def scenario(
    options: argparse.Namespace, workdir: Path, redis_url: str, workers: int, budget: int
) -> dict[str, Any]:
    from company import answer_time

    from fjordsync.testing.sandbox import FaultSpec
    from fjordsync_smartdok.sandbox import SmartDokSandbox
    from fjordsync_twentyfourseven.sandbox import TwentyFourSevenSandbox

    _reset(redis_url, options.ledger_url)
    groups = -(-options.tenants // PER_CREDENTIAL)
    faults = FaultSpec(latency=options.latency)
    erps = [
        TwentyFourSevenSandbox(
            _erp_state(group, options.projects),
            faults,
            requests_per_hour=budget if group == 0 else NO_BUDGET,
        ).start()
        for group in range(groups)
    ]
    tenants = [f"t{n:03d}" for n in range(options.tenants)]
    smartdoks = {tenant: SmartDokSandbox(None, faults).start() for tenant in tenants}
    processes: list[subprocess.Popen[bytes]] = []
    try:
        config = workdir / f"fjordsync-{workers}.toml"
        config.write_text(
            _config(
                options.ledger_url,
                [erp.url for erp in erps],
                {t: sd.url for t, sd in smartdoks.items()},
                budget,
            ),
            "utf-8",
        )
        env = {**os.environ, **worker_env(redis_url, config, LEDGER_KEY)}
        os.environ.update({k: env[k] for k in ("FJORDSYNC_BROKER_URL", "FJORDSYNC_LEDGER_KEY")})
        from fjordsync.runtime.distributed import app as app_module
        from fjordsync.runtime.distributed.keys import RunKey
        from fjordsync.runtime.distributed.ledger import load_runtime
        from fjordsync.runtime.distributed.scheduler import enqueue_with_celery, submit

        app_module.app.conf.broker_url = redis_url
        for name, value in secrets_env().items():
            os.environ[name] = value
        ledger = load_runtime(str(config)).ledger  # migrated before the workers start
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        children_cpu = before.ru_utime + before.ru_stime
        processes = [
            start_worker(env, f"w{n}", workdir / f"worker-{workers}-{n}.log", "WARNING")
            for n in range(1, workers + 1)
        ]

        def ready() -> bool:
            replies = app_module.app.control.inspect(timeout=1).ping() or {}
            return len(replies) == workers

        wait_for(ready, 120, "the workers")
        load = os.getloadavg()[0]
        due = datetime.now(UTC)
        keys = [RunKey(tenant, "projects", due) for tenant in tenants]
        started, own_cpu = time.perf_counter(), time.process_time()
        for key in keys:
            submit(ledger, key, trigger="manual", enqueue=enqueue_with_celery)

        def final() -> bool:
            return sum(1 for d in ledger.dispatches() if d.final or d.status == "deferred") == len(
                keys
            )

        wait_for(final, options.timeout, "the runs")
        wall = time.perf_counter() - started
        # This process's CPU meanwhile: the sandboxes' threads (and this loop's polling).
        sandbox_cpu = time.process_time() - own_cpu
        states = ledger.dispatches()
        statuses: dict[str, int] = {}
        for state in states:
            statuses[state.status] = statuses.get(state.status, 0) + 1
        written = sum(sum(sd.writes.values()) for sd in smartdoks.values())
        usage = []
        for group, erp in enumerate(erps):
            limit = budget if group == 0 else NO_BUDGET
            for (_user, hour), used in sorted(erp.usage.items()):
                usage.append(
                    {
                        "credential": group,
                        "tenants": min(PER_CREDENTIAL, options.tenants - group * PER_CREDENTIAL),
                        "hour": datetime.fromtimestamp(hour * 3600, UTC).isoformat(),
                        "requests": used,
                        "requests_per_hour": limit,
                        "quarantined": max(used - limit, 0),
                    }
                )
        answer_ms = answer_time(
            types.SimpleNamespace(servers={"smartdok": smartdoks[tenants[0]]})  # type: ignore[arg-type]
        )
        ledger.close()
        for process in processes:
            stop_group(process)
        # The workers' CPU (their pool processes' included), from start to stop: what the runs
        # cost the machine, beside the wall time (on a machine with other work, two workers
        # share its cores with that work).
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        workers_cpu = after.ru_utime + after.ru_stime - children_cpu
        return {
            "workers": workers,
            "tenants": options.tenants,
            "wall_s": round(wall, 3),
            "workers_cpu_s": round(workers_cpu, 2),
            "sandbox_process_cpu_s": round(sandbox_cpu, 2),
            "load_average_before": round(load, 2),
            "cores": os.cpu_count(),
            "runs": statuses,
            "written": written,
            "sandbox_answer_ms": round(answer_ms, 2),
            "usage": usage,
        }
    finally:
        for process in processes:
            stop_group(process)
        for sandbox in [*smartdoks.values(), *erps]:
            sandbox.stop()


def _report(result: dict[str, Any]) -> None:
    print(
        f"{result['workers']} worker(s): {result['wall_s']:.2f} s wall, workers' CPU "
        f"{result['workers_cpu_s']:.1f} s, sandboxes' CPU {result['sandbox_process_cpu_s']:.1f} s, "
        f"load before {result['load_average_before']} on {result['cores']} cores; "
        f"runs {result['runs']}, written {result['written']}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tenants", type=int, default=50)
    parser.add_argument("--projects", type=int, default=10, help="written per tenant")
    parser.add_argument("--latency", type=int, default=30, help="ms added to every answer")
    parser.add_argument("--budget", type=int, default=30, help="the budget scenario's per hour")
    parser.add_argument("--ledger-url", default=os.environ.get("FJORDSYNC_TEST_POSTGRES_URL"))
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--json-out", type=Path)
    options = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="fjordsync-distributed-"))
    if not options.ledger_url:
        options.ledger_url = f"sqlite:///{workdir / 'ledger.db'}"
    started = start_redis(workdir)
    if started is None:
        sys.exit("redis-server is not on PATH (the Debian package redis-server)")
    redis_server, redis_url = started
    try:
        one = scenario(options, workdir, redis_url, 1, NO_BUDGET)
        _report(one)
        two = scenario(options, workdir, redis_url, 2, NO_BUDGET)
        _report(two)
        ratio = one["wall_s"] / two["wall_s"]
        print(
            f"ratio 1/2 workers: {ratio:.2f}x  (sandbox answer time {two['sandbox_answer_ms']} ms)"
        )
        budgeted = scenario(options, workdir, redis_url, 2, options.budget)
        first = [u for u in budgeted["usage"] if u["credential"] == 0]
        for entry in first:
            print(
                f"budget, 2 workers: credential of {entry['tenants']} tenants, hour "
                f"{entry['hour']}: {entry['requests']} requests of {entry['requests_per_hour']} "
                f"({100 * entry['requests'] / entry['requests_per_hour']:.0f}%), "
                f"{entry['quarantined']} over; runs {budgeted['runs']}"
            )
    except AssertionError as timed_out:  # wait_for's "timed out ... waiting for ...": one line
        sys.exit(str(timed_out))
    finally:
        redis_server.terminate()
        redis_server.wait(10)
    document = {
        "ledger": options.ledger_url.split(":", 1)[0],
        "latency_ms": options.latency,
        "projects_per_tenant": options.projects,
        "one_worker": one,
        "two_workers": two,
        "ratio": round(ratio, 3),
        "budget": budgeted,
    }
    text = json.dumps(document, indent=2)
    if options.json_out:
        options.json_out.write_text(text + "\n", "utf-8")
    print(text)
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
