"""Under faults the connector returns exactly what it returns without them; when the API never
recovers it gives up with a clear error after a bounded time."""

from __future__ import annotations

import asyncio
import time

import pytest
from alexis_fixtures import FAST_RETRIES

from fjordsync.errors import RateLimited, Unavailable
from fjordsync.ports import Query
from fjordsync.testing.sandbox import FaultSpec
from fjordsync_alexis.adapter import AlexisAdapter
from fjordsync_alexis.client import AlexisClient, RetryPolicy
from fjordsync_alexis.sandbox import DEFAULT_TOKEN, AlexisSandbox


async def full_read(adapter):
    """Everything flows 4 and 5 read."""
    query = Query()
    return await asyncio.gather(
        adapter.read_employees(query),
        adapter.read_employments(query),
        adapter.read_compensations(query),
        adapter.read_absences(query),
    )


async def employees_only(adapter):
    return await adapter.read_employees(Query())


def read_company(state, faults, retry=FAST_RETRIES, read=full_read):
    with AlexisSandbox(state, FaultSpec.parse(faults)) as server:
        adapter = AlexisAdapter(
            AlexisClient(f"{server.url}/v1", DEFAULT_TOKEN, retry=retry, max_concurrency=8)
        )

        async def run():
            try:
                return await read(adapter)
            finally:
                await adapter.aclose()

        return asyncio.run(run()), adapter.client.requests


def test_a_full_read_of_1000_employees_is_the_same_under_20_percent_faults(company_of_1000):
    clean, clean_requests = read_company(company_of_1000, "")
    faulty, faulty_requests = read_company(
        company_of_1000, "5xx=0.1,429=0.1,retry-after=0.05,drop=0.02,seed=3"
    )
    not_pending = [r for r in company_of_1000["leave"] if r["status"] != "PENDING"]
    assert [len(part) for part in clean] == [
        1000,
        1000,
        len(company_of_1000["compensation"]),
        len(not_pending),
    ]
    assert faulty == clean
    assert faulty_requests > clean_requests  # the faults were met, and retried


def test_a_system_that_never_answers_well_ends_unavailable_in_bounded_time(company_of_1000):
    small = {"employee": company_of_1000["employee"][:5]}
    policy = RetryPolicy(attempts=4, first_wait=0.05, max_backoff=0.2, deadline=5)
    started = time.monotonic()
    with pytest.raises(Unavailable) as caught:
        read_company(small, "5xx=1", retry=policy, read=employees_only)
    assert time.monotonic() - started < 5
    assert caught.value.operation == "GET /v1/employee"
    assert "still after 4 attempts" in str(caught.value)


def test_dropped_connections_every_time_end_unavailable(company_of_1000):
    small = {"employee": company_of_1000["employee"][:5]}
    policy = RetryPolicy(attempts=3, first_wait=0.01, max_backoff=0.05)
    with pytest.raises(Unavailable, match=r"could not reach AlexisHR \(RemoteProtocolError\)"):
        read_company(small, "drop=1", retry=policy, read=employees_only)


def test_rate_limits_that_never_lift_end_rate_limited_honouring_retry_after(company_of_1000):
    small = {"employee": company_of_1000["employee"][:5]}
    policy = RetryPolicy(attempts=3, first_wait=0.01, max_wait=0.3)
    started = time.monotonic()
    with pytest.raises(RateLimited, match="429 Too Many Requests, still after 3 attempts"):
        read_company(small, "429=1,retry-after=0.2", retry=policy, read=employees_only)
    assert time.monotonic() - started >= 0.4  # two waits of Retry-After, not a zero-wait loop
