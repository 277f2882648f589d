"""A vendor's request budget per credential, shared in Redis by every worker that uses it.

A core module, not part of ``fjordsync.runtime``: a connector plugin's client asks
``shared_budget()`` for its credentials' budget, and plugins stay out of the runtime. Redis is
imported only when a shared budget is made, so the embedded mode never imports it.

In one process the 24SevenOffice client counts its budget in memory
(``fjordsync_twentyfourseven.erp.client.RateBudget``); two workers with the same credentials
would each spend the whole budget and the vendor would quarantine the credential. This budget
has the same interface (``per_hour``, ``spend``, ``observe``, ``remaining``, ``resets_at``,
``used``) and counts in one Redis key per credential and clock hour, changed only by Lua
scripts, so concurrent spends of any number of processes never pass ``per_hour`` together.

The key names the credential by a SHA-256 of (API URL, user name), never the name in clear
(Redis keys show up in ``MONITOR``, ``KEYS`` and memory reports). Each hour's key expires an
hour after its hour ends, so nothing needs cleaning up.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fjordsync.errors import RateLimited, Unavailable

__all__ = [
    "BUDGET_REDIS_URL_ENV",
    "KEY_PREFIX",
    "RedisRateBudget",
    "credential_hash",
    "shared_budget",
]

KEY_PREFIX = "fjordsync:budget:"
BUDGET_REDIS_URL_ENV = "FJORDSYNC_BUDGET_REDIS_URL"
BROKER_URL_ENV = "FJORDSYNC_BROKER_URL"

# KEYS[1] the hour's counter; ARGV[1] per_hour, ARGV[2] seconds to keep the key.
# Returns the count after spending, or -1 when the budget is spent (nothing is counted then).
_SPEND = """
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used >= tonumber(ARGV[1]) then return -1 end
used = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return used
"""

# KEYS[1] the hour's counter; ARGV[1] what the server says was used at least, ARGV[2] seconds.
# The count only ever rises: the server's word can lower what is left, never raise it.
_OBSERVE = """
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local floor = tonumber(ARGV[1])
if floor > used then
  redis.call('SET', KEYS[1], floor, 'EX', ARGV[2])
  return floor
end
return used
"""


def credential_hash(api_url: str, username: str) -> str:
    """The credential's name in Redis: the same normalisation as the in-process budgets
    (URL without its trailing ``/``, both lower case), hashed."""
    text = f"{api_url.rstrip('/').lower()}\n{username.lower()}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _system_clock() -> datetime:
    return datetime.now(UTC)


class RedisRateBudget:
    """Requests left in this clock hour for one set of credentials, shared through Redis."""

    def __init__(
        self,
        redis: Any,
        api_url: str,
        username: str,
        per_hour: int,
        *,
        clock: Callable[[], datetime] | None = None,
        system: str = "24SevenOffice",
    ) -> None:
        self.redis = redis
        self.per_hour = per_hour
        self.system = system
        self._clock = clock or _system_clock
        self._credential = credential_hash(api_url, username)
        self._spend = redis.register_script(_SPEND)
        self._observe = redis.register_script(_OBSERVE)

    @classmethod
    def from_url(
        cls, url: str, api_url: str, username: str, per_hour: int, **options: Any
    ) -> RedisRateBudget:
        import redis

        return cls(redis.Redis.from_url(url), api_url, username, per_hour, **options)

    def _hour(self) -> datetime:
        return self._clock().astimezone(UTC).replace(minute=0, second=0, microsecond=0)

    def _key(self, hour: datetime) -> str:
        return f"{KEY_PREFIX}{self._credential}:{hour:%Y%m%d%H}"

    def _ttl(self, hour: datetime) -> int:
        # Kept an hour past its hour: a worker whose clock is a little behind still finds it.
        return int((hour + timedelta(hours=2) - self._clock().astimezone(UTC)).total_seconds())

    def _call(self, script: Any, operation: str, *args: int) -> int:
        import redis

        hour = self._hour()
        try:
            return int(script(keys=[self._key(hour)], args=[*args, max(self._ttl(hour), 1)]))
        except redis.RedisError as exc:
            # Without the shared count no request may go out: another worker may have spent it.
            raise Unavailable(
                f"the shared request budget cannot be read ({type(exc).__name__})",
                system=self.system,
                operation=operation,
            ) from None

    @property
    def resets_at(self) -> datetime:
        return self._hour() + timedelta(hours=1)

    def spend(self, operation: str) -> None:
        """Count one request; raises ``RateLimited`` (with ``resume_at``) when none is left."""
        if self._call(self._spend, operation, self.per_hour) < 0:
            raise RateLimited(
                f"the budget of {self.per_hour} requests an hour is spent; the rest of "
                f"the work goes on after {self.resets_at:%H:%M} UTC",
                system=self.system,
                operation=operation,
                resume_at=self.resets_at,
            )

    def observe(self, remaining: str | None) -> None:
        """The server counts too: never believe there is more left than it says."""
        if remaining is None or not remaining.strip().lstrip("-").isdigit():
            return
        self._call(self._observe, "budget", self.per_hour - int(remaining))

    @property
    def used(self) -> int:
        import redis

        try:
            value = self.redis.get(self._key(self._hour()))
        except redis.RedisError as exc:
            raise Unavailable(
                f"the shared request budget cannot be read ({type(exc).__name__})",
                system=self.system,
                operation="budget",
            ) from None
        return int(value or 0)

    @property
    def remaining(self) -> int:
        return max(self.per_hour - self.used, 0)


_CLIENTS: dict[str, Any] = {}
_SHARED: dict[tuple[str, str, int], RedisRateBudget] = {}
_SHARED_LOCK = threading.Lock()


def shared_budget(api_url: str, username: str, per_hour: int) -> RedisRateBudget | None:
    """The budget of these credentials shared in Redis when this process runs distributed
    (``FJORDSYNC_BUDGET_REDIS_URL``, else ``FJORDSYNC_BROKER_URL``, is set); None otherwise, and
    the client keeps its in-process ``RateBudget``. One budget object per credential and
    process, over one Redis connection pool per URL."""
    url = os.environ.get(BUDGET_REDIS_URL_ENV) or os.environ.get(BROKER_URL_ENV)
    if not url:
        return None
    key = (credential_hash(api_url, username), url, per_hour)
    with _SHARED_LOCK:
        budget = _SHARED.get(key)
        if budget is None:
            client = _CLIENTS.get(url)
            if client is None:
                import redis

                client = _CLIENTS[url] = redis.Redis.from_url(url)
            budget = _SHARED[key] = RedisRateBudget(client, api_url, username, per_hour)
        return budget
