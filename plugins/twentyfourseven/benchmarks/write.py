"""Benchmark: writing hours (SOAP SaveHour) and payroll employees to the 24SevenOffice sandbox
with added latency, at several concurrency limits.

    uv run python plugins/twentyfourseven/benchmarks/write.py [--hours 500] [--latency 20]

Prints requests per written record (reads, logins and lookups included), wall time, the
client's CPU per record (the main thread's, where the client's event loop runs; the sandbox
answers from threads of its own) and the speed-up against concurrency 1 measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from fjordsync.domain.codes import SalaryType
from fjordsync.domain.model import Address, Employee, Salary, TimeEntry
from fjordsync.domain.values import Email
from fjordsync.ports import Query
from fjordsync.testing.sandbox import FaultSpec
from fjordsync_twentyfourseven.adapter import PayrollAdapter, TwentyFourSevenAdapter
from fjordsync_twentyfourseven.client import _BUDGETS, PayrollClient, SoapClient
from fjordsync_twentyfourseven.sandbox import (
    DEFAULT_ACCESS_TOKEN,
    DEFAULT_CREDENTIALS,
    DEFAULT_IDENTITIES,
    TwentyFourSevenSandbox,
)
from fjordsync_twentyfourseven.sandbox.generator import generate


def entries(count: int) -> list[TimeEntry]:
    first = date(2026, 9, 1)
    result = []
    for n in range(count):
        day = first + timedelta(days=n % 60)
        start = datetime(day.year, day.month, day.day, 6, tzinfo=UTC)
        result.append(
            TimeEntry(
                key=f"sd-{n}",
                employee_key=str(2001 + n % 40),
                project_key=str(1001 + n % 10),
                day=day,
                hours=Decimal("7.5"),
                work_type_code="10",
                salary_type_code="100",
                start=start,
                stop=start + timedelta(hours=8),
            )
        )
    return result


def employees(count: int) -> list[Employee]:
    return [
        Employee(
            key=str(5001 + n),
            first_name="Test",
            last_name=f"Person {n}",
            work_email=Email(f"person{n}@fjordbygg.no"),
            home_address=Address("Storgata 1", "0150", "Oslo", "NO"),
            salary=Salary(SalaryType.MONTHLY, Decimal("50000.00"), date(2026, 1, 1)),
        )
        for n in range(count)
    ]


def write_hours(url: str, concurrency: int, count: int) -> tuple[int, float, float]:
    _BUDGETS.clear()
    soap = SoapClient(
        api_url=url,
        webservices_url=url,
        application_id=DEFAULT_CREDENTIALS["ApplicationId"],
        username=DEFAULT_CREDENTIALS["Username"],
        password=DEFAULT_CREDENTIALS["Password"],
        identity_id=DEFAULT_IDENTITIES[0]["Id"],
        max_concurrency=concurrency,
    )
    adapter = TwentyFourSevenAdapter(soap)

    async def run() -> None:
        try:
            await asyncio.gather(
                *(adapter.save_time_entry(e, f"fjordsync:{e.key}") for e in entries(count))
            )
        finally:
            await adapter.aclose()

    started, cpu = time.perf_counter(), time.thread_time()
    asyncio.run(run())
    return soap.requests, time.perf_counter() - started, time.thread_time() - cpu


def write_employees(url: str, concurrency: int, count: int) -> tuple[int, float, float]:
    client = PayrollClient(f"{url}/payroll/api", DEFAULT_ACCESS_TOKEN, max_concurrency=concurrency)
    adapter = PayrollAdapter(client)

    async def run() -> None:
        try:
            await adapter.read_employees(Query())  # a flow reads the target before it writes
            await asyncio.gather(*(adapter.create_employee(e) for e in employees(count)))
        finally:
            await adapter.aclose()

    started, cpu = time.perf_counter(), time.thread_time()
    asyncio.run(run())
    return client.requests, time.perf_counter() - started, time.thread_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=int, default=500)
    parser.add_argument("--employees", type=int, default=100)
    parser.add_argument("--latency", type=float, default=20.0, help="ms added to each answer")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 8])
    args = parser.parse_args()
    for what, count, write in (
        ("hours", args.hours, write_hours),
        ("payroll employees", args.employees, write_employees),
    ):
        print(f"writing {count} {what}, {args.latency:g} ms added latency")
        print(
            f"{'concurrency':>11} {'requests':>8} {'per record':>10} {'seconds':>8} "
            f"{'CPU ms/record':>13} {'speed-up':>8}"
        )
        baseline = None
        for concurrency in args.concurrency:
            state = generate(employees=40, seed=7, today=date(2026, 11, 24), projects=10)
            with TwentyFourSevenSandbox(state, FaultSpec(latency=args.latency)) as server:
                requests, seconds, cpu = write(server.url, concurrency, count)
            baseline = baseline or seconds
            print(
                f"{concurrency:>11} {requests:>8} {requests / count:>10.2f} {seconds:>8.2f} "
                f"{cpu * 1000 / count:>13.2f} {baseline / seconds:>7.1f}x"
            )


if __name__ == "__main__":
    main()
