"""Benchmark: a full AlexisHR read (employees, employments, compensations, leaves) of a
generated company, against the sandbox with added latency, at several concurrency limits.

    uv run python plugins/alexis/benchmarks/read_company.py [--employees 1000] [--latency 20]

Prints requests and wall time per concurrency, and the speed-up against concurrency 1 measured
in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import date

from fjordsync.ports import Query
from fjordsync.testing.sandbox import FaultSpec
from fjordsync_alexis.adapter import AlexisAdapter
from fjordsync_alexis.client import AlexisClient
from fjordsync_alexis.sandbox import DEFAULT_TOKEN, AlexisSandbox, generate


async def full_read(adapter: AlexisAdapter) -> int:
    query = Query()
    parts = await asyncio.gather(
        adapter.read_employees(query),
        adapter.read_employments(query),
        adapter.read_compensations(query),
        adapter.read_absences(query),
    )
    return sum(len(part) for part in parts)


def measure(url: str, concurrency: int, page_size: int) -> tuple[int, int, float]:
    adapter = AlexisAdapter(
        AlexisClient(f"{url}/v1", DEFAULT_TOKEN, page_size=page_size, max_concurrency=concurrency)
    )

    async def run() -> int:
        try:
            return await full_read(adapter)
        finally:
            await adapter.aclose()

    started = time.perf_counter()
    records = asyncio.run(run())
    return records, adapter.client.requests, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=20.0, help="ms added to each answer")
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 8])
    args = parser.parse_args()
    state = generate(employees=args.employees, seed=42, today=date(2026, 11, 24))
    with AlexisSandbox(state, FaultSpec(latency=args.latency)) as server:
        print(
            f"full read of {args.employees} employees, {args.latency:g} ms added latency, "
            f"page size {args.page_size}"
        )
        print(f"{'concurrency':>11} {'records':>8} {'requests':>8} {'seconds':>8} {'speed-up':>8}")
        baseline = None
        for concurrency in args.concurrency:
            records, requests, seconds = measure(server.url, concurrency, args.page_size)
            baseline = baseline or seconds
            print(
                f"{concurrency:>11} {records:>8} {requests:>8} {seconds:>8.2f} "
                f"{baseline / seconds:>7.1f}x"
            )


if __name__ == "__main__":
    main()
