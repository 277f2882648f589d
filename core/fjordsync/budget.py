"""A vendor's request budget per credential, shared by every process that uses it: in Redis
by the workers of the distributed mode, in a small locked file by the runs of one machine.

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

Embedded (no Redis), ``local_budget()`` gives a ``FileRateBudget``: the same interface over one
file per credential in the user's state directory, so a second ``fjordsync run`` started in the
same clock hour knows what the first one spent and sends nothing the vendor would quarantine.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # Windows: no flock; the budget is then kept per process (local_budget)
    fcntl = None  # type: ignore[assignment]

from fjordsync.errors import RateLimited, Unavailable

__all__ = [
    "BUDGET_REDIS_URL_ENV",
    "KEY_PREFIX",
    "BudgetInUse",
    "FileRateBudget",
    "RedisRateBudget",
    "budgets_in_use",
    "credential_hash",
    "local_budget",
    "shared_budget",
]

log = logging.getLogger(__name__)

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
        _in_use(key[0], budget)
        return budget


# What one process reserves of the hour's budget at a time: a file lock per this many requests,
# and what a killed process (which cannot give back) loses of the hour at most.
BLOCK = 20


class FileRateBudget:
    """Requests left in this clock hour for one set of credentials, shared by the processes of
    one machine through a file changed only under an exclusive ``flock`` (POSIX).

    The file (``{"hour": "2026080112", "used": 57, "floor": 40}``, 0600 in a 0700 directory, named
    by ``credential_hash``, never the user name) counts what all processes have *reserved* this
    hour. A process takes a block of up to ``block`` requests at a time (fewer as the hour runs
    low, so runs side by side share its end) and spends it in memory: a request costs a file
    lock only once a block. ``release()`` (the client's ``aclose``, and at exit) gives back what
    was not spent. A killed process cannot give back: it loses at most one block of the hour,
    and never more than ``per_hour`` is sent in it.

    The server counts too (``observe``): this process holds no more than it says are left, and
    the file never says less was used than the server has seen (``floor``: what is given back
    never takes the count below it), so the next run does not spend what another use of the
    login already has."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        per_hour: int,
        *,
        block: int = BLOCK,
        clock: Callable[[], datetime] | None = None,
        system: str = "24SevenOffice",
    ) -> None:
        self.path = Path(path)
        self.per_hour = per_hour
        self.block = max(block, 1)
        self.system = system
        self._clock = clock or _system_clock
        self._lock = threading.Lock()
        self._hour: datetime | None = None  # the hour of what this process holds
        self._held = 0  # reserved in the file, not yet spent
        self._known = 0  # the file's count when this process last read it
        self._exit_hook = False

    def _current(self) -> datetime:
        return self._clock().astimezone(UTC).replace(minute=0, second=0, microsecond=0)

    def _roll(self) -> datetime:
        hour = self._current()
        if hour != self._hour:
            # What was held belonged to the hour that is over: nothing to give back.
            self._hour, self._held, self._known = hour, 0, 0
        return hour

    def _update(
        self,
        operation: str,
        hour: datetime,
        change: Callable[[int, int], tuple[int, int] | None],
    ) -> int:
        """Under the file's lock: ``change(used, floor)`` of ``hour`` (0, 0 when the file holds
        another hour or nothing readable) gives what to write, or None; returns the count."""
        label = f"{hour:%Y%m%d%H}"
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise self._unavailable(exc, operation) from None
        try:
            if os.fstat(fd).st_mode & 0o077:
                os.fchmod(fd, 0o600)  # the umask or a hand-made file let others in
            fcntl.flock(fd, fcntl.LOCK_EX)
            used = floor = 0
            try:
                state = json.loads(os.pread(fd, 4096, 0) or b"{}")
                if state.get("hour") == label:
                    used, floor = int(state["used"]), int(state.get("floor", 0))
            except (ValueError, TypeError, KeyError, AttributeError):
                # Unreadable (cut short by a full disk, edited by hand): the hour starts over,
                # and the server's APILimitRemaining tightens it on the first answer.
                log.warning("the request budget file was unreadable; counting starts over")
            new = change(used, floor)
            if new is not None and new != (used, floor):
                text = json.dumps({"hour": label, "used": new[0], "floor": new[1]}).encode()
                os.pwrite(fd, text, 0)
                os.ftruncate(fd, len(text))
                used = new[0]
            return used
        except OSError as exc:
            raise self._unavailable(exc, operation) from None
        finally:
            os.close(fd)  # and with it the lock

    def _unavailable(self, exc: OSError, operation: str) -> Unavailable:
        # Without the count no request may go out: another run may have spent the hour.
        # No path in the text: the state directory's path can hold the user's name.
        return Unavailable(
            f"the request budget kept in the user's state directory cannot be read or "
            f"written ({type(exc).__name__})",
            system=self.system,
            operation=operation,
        )

    @property
    def resets_at(self) -> datetime:
        return self._current() + timedelta(hours=1)

    def spend(self, operation: str) -> None:
        """Count one request; raises ``RateLimited`` (with ``resume_at``) when none is left."""
        with self._lock:
            hour = self._roll()
            if self._held <= 0:
                self._reserve(operation, hour)
            self._held -= 1

    def _reserve(self, operation: str, hour: datetime) -> None:
        taken = 0

        def take(used: int, floor: int) -> tuple[int, int]:
            nonlocal taken
            left = self.per_hour - used
            taken = min(self.block, max(left // 4, 1)) if left > 0 else 0
            return used + taken, floor

        self._known = self._update(operation, hour, take)
        if not taken:
            resume = hour + timedelta(hours=1)
            raise RateLimited(
                f"the budget of {self.per_hour} requests an hour is spent; the rest of "
                f"the work goes on after {resume:%H:%M} UTC",
                system=self.system,
                operation=operation,
                resume_at=resume,
            )
        self._held = taken
        if not self._exit_hook:
            # A process that ends without closing its client still gives back what it held.
            atexit.register(self.release)
            self._exit_hook = True

    def observe(self, remaining: str | None) -> None:
        """The server counts too: never believe there is more left than it says. Never raises
        (it runs on an answer already received): without the file the tightening stays in
        memory."""
        if remaining is None or not remaining.strip().lstrip("-").isdigit():
            return
        left = max(int(remaining), 0)
        with self._lock:
            hour = self._roll()
            self._held = min(self._held, left)
            seen, held = self.per_hour - left, self._held
            if seen + held <= self._known:
                return  # the file says as much already: the usual case, no lock taken

            def tighten(used: int, floor: int) -> tuple[int, int]:
                return max(used, seen + held), max(floor, seen)

            try:
                self._known = self._update("budget", hour, tighten)
            except Unavailable as exc:
                log.warning("%s", exc.message)

    def release(self) -> None:
        """Give back what this process reserved and did not spend (at the client's close)."""
        with self._lock:
            hour, held = self._hour, self._held
            self._held = 0
            if hour is None or held <= 0 or hour != self._current():
                return

            def give(used: int, floor: int) -> tuple[int, int]:
                return max(used - held, floor, 0), floor

            try:
                self._known = self._update("budget", hour, give)
            except Unavailable as exc:
                log.warning("%s", exc.message)

    @property
    def used(self) -> int:
        """Requests of this hour spent by this process or reserved by the others."""
        with self._lock:
            hour = self._roll()
            self._known = self._update("budget", hour, lambda used, floor: None)
            return max(self._known - self._held, 0)

    @property
    def remaining(self) -> int:
        return max(self.per_hour - self.used, 0)


_LOCAL_WARNED: list[str] = []


def budget_directory() -> Path:
    """Where the budget files are: ``budgets`` in the user's state directory
    (``$XDG_STATE_HOME/fjordsync``, ``~/.local/state/fjordsync`` on Linux), beside the log."""
    from platformdirs import user_state_path

    return user_state_path("fjordsync", appauthor=False) / "budgets"


def _warn_once(text: str) -> None:
    if text not in _LOCAL_WARNED:
        _LOCAL_WARNED.append(text)
        log.warning("%s", text)


def local_budget(
    api_url: str,
    username: str,
    per_hour: int,
    *,
    directory: str | os.PathLike[str] | None = None,
    system: str = "24SevenOffice",
) -> FileRateBudget | None:
    """The budget of these credentials shared by the processes of this machine (a file in
    ``directory``, default ``budget_directory()``), or None where that cannot be (no ``fcntl``,
    as on Windows; a state directory that cannot be made), said once in the log: the client
    then counts in memory, per process."""
    if fcntl is None:
        _warn_once(
            f"this system has no file locks: the {system} request budget is counted per "
            "process, so runs started in the same hour can together pass it"
        )
        return None
    where = Path(directory) if directory is not None else budget_directory()
    try:
        # mkdir's mode applies to the last directory only: make both private ones explicitly.
        where.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        where.mkdir(exist_ok=True, mode=0o700)
    except OSError as exc:
        _warn_once(
            f"the {system} request budget cannot be kept in the user's state directory "
            f"({type(exc).__name__}): it is counted per process"
        )
        return None
    credential = credential_hash(api_url, username)
    budget = FileRateBudget(where / f"{credential}.json", per_hour, system=system)
    _in_use(credential, budget)
    return budget


# -- what the metrics read (fjordsync.metrics, at scrape time) ------------------------------
@dataclass(frozen=True, slots=True)
class BudgetInUse:
    """A budget this process made, as the metrics show it: ``credential`` is its hash (never
    the user name), ``remaining`` None when its count cannot be read now."""

    system: str
    credential: str
    per_hour: int
    remaining: int | None


_IN_USE: dict[str, FileRateBudget | RedisRateBudget] = {}
_IN_USE_LOCK = threading.Lock()


def _in_use(credential: str, budget: FileRateBudget | RedisRateBudget) -> None:
    """The last budget made for a credential in this process (a new one replaces the old)."""
    with _IN_USE_LOCK:
        _IN_USE[credential] = budget


def budgets_in_use() -> list[BudgetInUse]:
    """The shared budgets this process's clients spend, each with what is left of this clock
    hour (the file or Redis read now, so another process's spending shows too)."""
    with _IN_USE_LOCK:
        budgets = sorted(_IN_USE.items())
    found: list[BudgetInUse] = []
    for credential, budget in budgets:
        try:
            remaining: int | None = budget.remaining
        except Unavailable:
            remaining = None
        found.append(BudgetInUse(budget.system, credential, budget.per_hour, remaining))
    return found
