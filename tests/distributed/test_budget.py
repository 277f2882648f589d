"""The shared request budget in a real Redis: its count holds across processes, follows the
server's word down, rolls with the clock hour and names no credential in clear."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime

import pytest
import redis

from fjordsync.errors import RateLimited, Unavailable
from fjordsync.runtime.distributed.budget import RedisRateBudget, credential_hash, shared_budget

API = "https://api.24sevenoffice.com/"
USER = "Kari.Nordmann@fjordbygg.no"


class Clock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


def _spend_until_spent(url: str, per_hour: int, start, results) -> None:
    budget = RedisRateBudget.from_url(url, API, USER, per_hour)
    budget.remaining  # connected and its script loaded before the start  # noqa: B018
    start.wait()  # a barrier: both start spending together
    spent = 0
    while True:
        try:
            budget.spend("SaveHour")
        except RateLimited:
            break
        spent += 1
    results.put(spent)


def test_two_processes_spending_at_once_never_pass_the_budget_together(redis_url):
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(2), context.Queue()
    workers = [
        context.Process(target=_spend_until_spent, args=(redis_url, 700, start, results))
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    spent = [results.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(30)
    assert sum(spent) == 700
    assert all(share > 0 for share in spent)  # both spent: they did run at once
    assert RedisRateBudget.from_url(redis_url, API, USER, 700).remaining == 0


def test_spent_budget_says_when_it_goes_on_and_the_next_hour_starts_afresh(redis_url):
    clock = Clock(datetime(2026, 12, 1, 13, 59, 30, tzinfo=UTC))
    budget = RedisRateBudget.from_url(redis_url, API, USER, 2, clock=clock)
    budget.spend("GetHours")
    budget.spend("SaveHour")
    with pytest.raises(RateLimited) as raised:
        budget.spend("SaveHour")
    assert raised.value.resume_at == datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
    assert raised.value.operation == "SaveHour"
    assert (budget.used, budget.remaining) == (2, 0)
    clock.moment = datetime(2026, 12, 1, 14, 0, 5, tzinfo=UTC)
    assert (budget.used, budget.remaining, budget.resets_at) == (
        0,
        2,
        datetime(2026, 12, 1, 15, 0, tzinfo=UTC),
    )
    budget.spend("SaveHour")
    assert budget.remaining == 1


def test_the_servers_count_lowers_what_is_left_never_raises_it(redis_url):
    clock = Clock(datetime(2026, 12, 1, 9, 10, tzinfo=UTC))
    budget = RedisRateBudget.from_url(redis_url, API, USER, 100, clock=clock)
    other_worker = RedisRateBudget.from_url(
        redis_url, API.rstrip("/"), USER.upper(), 100, clock=clock
    )
    budget.observe("40")  # the server says 40 are left: 60 were spent, by someone
    assert (budget.remaining, other_worker.remaining) == (40, 40)
    budget.observe("90")  # more left than counted: not believed
    budget.observe(None)
    budget.observe("n/a")
    assert budget.remaining == 40
    other_worker.spend("SaveHour")
    assert budget.used == 61


def test_redis_holds_a_hash_of_the_credential_never_the_name(redis_url):
    clock = Clock(datetime(2026, 12, 1, 9, 10, tzinfo=UTC))
    RedisRateBudget.from_url(redis_url, API, USER, 10, clock=clock).spend("GetHours")
    client = redis.Redis.from_url(redis_url)
    keys = [key.decode() for key in client.keys("*")]
    assert keys == [f"fjordsync:budget:{credential_hash(API, USER)}:2026120109"]
    assert "kari" not in keys[0].lower() and "24seven" not in keys[0].lower()
    assert 3600 < client.ttl(keys[0]) <= 2 * 3600  # cleaned up by Redis after its hour


def test_an_unreachable_redis_lets_no_request_go_out():
    budget = RedisRateBudget.from_url("redis://127.0.0.1:1/0", API, USER, 10)
    with pytest.raises(Unavailable) as raised:
        budget.spend("SaveHour")
    assert "shared request budget cannot be read" in str(raised.value)


def test_a_distributed_process_shares_one_budget_per_credential(redis_url, monkeypatch):
    monkeypatch.delenv("FJORDSYNC_BUDGET_REDIS_URL", raising=False)
    monkeypatch.delenv("FJORDSYNC_BROKER_URL", raising=False)
    assert shared_budget(API, USER, 7200) is None  # embedded: the client's own budget
    monkeypatch.setenv("FJORDSYNC_BROKER_URL", redis_url)
    first = shared_budget(API, USER, 7200)
    assert first is not None and first is shared_budget(API.rstrip("/"), USER.lower(), 7200)
    assert shared_budget(API, "other@fjordbygg.no", 7200) is not first
    first.spend("GetHours")
    assert shared_budget(API, USER, 7200).remaining == 7199
