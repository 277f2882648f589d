"""Benchmark: reading work hours from the SmartDok sandbox (windows of 93 days, pages of 100)
with added latency, at several concurrency limits.

    uv run python plugins/smartdok/benchmarks/read_hours.py [--hours 20000] [--latency 20]

Prints requests and wall time per concurrency, and the speed-up against concurrency 1 measured
in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import date

from fjordsync.domain.values import DateRange
from fjordsync.ports import Query
from fjordsync.testing.sandbox import FaultSpec
from fjordsync_smartdok.adapter import SmartDokAdapter
from fjordsync_smartdok.client import SmartDokClient
from fjordsync_smartdok.sandbox import DEFAULT_API_TOKEN, SmartDokSandbox, generate

TODAY = date(2026, 11, 24)


def measure(url: str, concurrency: int) -> tuple[int, int, float]:
    adapter = SmartDokAdapter(SmartDokClient(url, DEFAULT_API_TOKEN, max_concurrency=concurrency))

    async def run() -> int:
        try:
            entries = await adapter.read_time_entries(
                Query(period=DateRange(date(2026, 6, 1), TODAY))
            )
            return len(entries)
        finally:
            await adapter.aclose()

    started = time.perf_counter()
    records = asyncio.run(run())
    return records, adapter.client.requests, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=int, default=20_000)
    parser.add_argument("--latency", type=float, default=20.0, help="ms added to each answer")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 8])
    args = parser.parse_args()
    state = generate(employees=max(1, args.hours // 95), seed=11, today=TODAY, months=5)
    state["WorkHours"] = state["WorkHours"][: args.hours]
    for hour in state["WorkHours"]:
        hour["AdminAttested"] = True
    with SmartDokSandbox(state, FaultSpec(latency=args.latency)) as server:
        print(
            f"reading {len(state['WorkHours'])} hours (2026-06-01 to {TODAY}), "
            f"{args.latency:g} ms added latency"
        )
        print(f"{'concurrency':>11} {'records':>8} {'requests':>8} {'seconds':>8} {'speed-up':>8}")
        baseline = None
        for concurrency in args.concurrency:
            records, requests, seconds = measure(server.url, concurrency)
            baseline = baseline or seconds
            print(
                f"{concurrency:>11} {records:>8} {requests:>8} {seconds:>8.2f} "
                f"{baseline / seconds:>7.1f}x"
            )


if __name__ == "__main__":
    main()
