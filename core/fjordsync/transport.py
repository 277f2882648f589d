"""Pieces every HTTP connector client shares: the retry policy's settings, the failure worth
another attempt, ``Retry-After`` reading and the wait between attempts.

Each plugin's ``client.py`` still decides what it retries and builds its own tenacity loop with
``retrying()``; this module only keeps the parts that are the same for all of them in one place,
since plugins may not import each other.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential_jitter,
)

__all__ = [
    "LoopBound",
    "RetryAfterWait",
    "RetryPolicy",
    "Transient",
    "json_body",
    "retry_after",
    "retrying",
]


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6  # the first included
    first_wait: float = 0.25  # seconds, doubled each attempt, with jitter
    max_backoff: float = 8.0
    max_wait: float = 30.0  # ceiling for a Retry-After
    deadline: float = 120.0  # total seconds one request may take with its retries


class Transient(Exception):
    """A failure worth another attempt; carries what the final error will say."""

    def __init__(self, status: int | None, detail: str, retry_after: float | None = None):
        self.status = status
        self.detail = detail
        self.retry_after = retry_after
        super().__init__(detail)


def retry_after(response: httpx.Response) -> float | None:
    """Seconds from a ``Retry-After`` header (a number or an HTTP date), if there is one."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        try:
            return (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds()
        except (TypeError, ValueError):
            return None


def json_body(response: httpx.Response, system: str) -> object:
    """The answer's JSON, or ``Transient`` saying what came instead: an HTML page (a proxy's
    or a maintenance page, even with status 200) or a body cut short. Both pass with time, so
    they are retried like a 5xx; the message never quotes the body (it may hold personal data).
    """
    content_type = response.headers.get("Content-Type", "")
    if "html" in content_type.lower() or response.content.lstrip()[:1] == b"<":
        raise Transient(response.status_code, f"{system} sent an HTML page instead of JSON")
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError):
        raise Transient(
            response.status_code, f"{system} sent a body that is not JSON (cut short or garbled)"
        ) from None


class RetryAfterWait:
    """Back-off with jitter; a ``Retry-After`` wins, capped and never zero."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy
        self.backoff = wait_exponential_jitter(multiplier=policy.first_wait, max=policy.max_backoff)

    def __call__(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, Transient) and error.retry_after is not None:
            return min(max(error.retry_after, 0.1), self.policy.max_wait)
        return self.backoff(state)


def retrying(policy: RetryPolicy, *, attempts: int | None = None) -> AsyncRetrying:
    """A tenacity loop that retries ``Transient`` only, within the policy's bounds."""
    return AsyncRetrying(
        stop=stop_after_attempt(attempts or policy.attempts) | stop_after_delay(policy.deadline),
        wait=RetryAfterWait(policy),
        retry=retry_if_exception_type(Transient),
        reraise=True,
    )


class LoopBound:
    """An httpx.AsyncClient with a concurrency limit and a lock (for credentials), made anew
    when the client is used from another event loop: asyncio objects belong to the loop that
    made them, and a synchronous host may run each call in a loop of its own."""

    def __init__(self, base_url: str, *, timeout: float, max_concurrency: int) -> None:
        self.base_url = base_url
        self.timeout = timeout
        self.max_concurrency = max_concurrency
        self._loop: asyncio.AbstractEventLoop | None = None
        self.http: httpx.AsyncClient | None = None
        self.limit = asyncio.Semaphore(max_concurrency)
        self.lock = asyncio.Lock()

    def bind(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self.http is None or self.http.is_closed:
            self._loop = loop
            self.http = httpx.AsyncClient(
                base_url=self.base_url,
                timeout=self.timeout,
                limits=httpx.Limits(max_connections=self.max_concurrency),
            )
            self.limit = asyncio.Semaphore(self.max_concurrency)
            self.lock = asyncio.Lock()
        return self.http

    async def aclose(self) -> None:
        if self.http is not None and not self.http.is_closed:
            await self.http.aclose()
