"""The HTTP kit every connector client is built from (plugins may not import each other, so
what they share lives here):

- ``RetryPolicy`` and ``retrying()``: the tenacity loop that retries ``Transient`` only, with
  back-off and jitter, a ``Retry-After`` honoured (capped, never zero);
- ``classify()``: what an answer is, the same for every REST connector (5xx and 429 transient,
  401/403 ``AuthFailed``, 404 and other 4xx ``Rejected``, an HTML page or a body that is no
  JSON transient), and ``exhausted()``: what a transient failure becomes when the attempts are
  spent;
- ``TokenAuth``: ``Authorization: Bearer`` as an ``httpx.Auth``, with a token exchange reused
  until it expires and one new exchange on a 401;
- ``LoopBound``: the httpx client, concurrency limit and lock of one event loop, made anew in
  another (REST and SOAP alike);
- ``RestClient``: what every REST client is made of (the policy, its ``TokenAuth`` on a
  ``LoopBound`` client, the count of requests sent, one request retried while transient and
  sent within the limit); each plugin's client names its system and reads its own answers;
- ``reconciling()`` and ``Unsettled``: the loop of a write that must happen exactly once
  (send, and after an unclear outcome look it up before sending again).

Each plugin's ``client.py`` decides what is repeatable; nothing here ever repeats a write on
its own (``retrying(policy, attempts=1)`` for one that is not).
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Generic, TypeVar

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential,
    wait_exponential_jitter,
)

from fjordsync import metrics
from fjordsync.errors import AuthFailed, ConnectorError, RateLimited, Rejected, Unavailable
from fjordsync.logs import register_secrets

__all__ = [
    "LoopBound",
    "LoopLocal",
    "RestClient",
    "RetryAfterWait",
    "RetryPolicy",
    "Token",
    "TokenAuth",
    "Transient",
    "Unsettled",
    "classify",
    "exhausted",
    "json_body",
    "reconciling",
    "retry_after",
    "retrying",
    "shared_ssl_context",
]

T = TypeVar("T")


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


# -- one classifier ------------------------------------------------------------------------------
def classify(
    response: httpx.Response,
    system: str,
    operation: str,
    *,
    record: str | None = None,
    refused: Mapping[int, str] | None = None,
    rejected: Callable[[httpx.Response], str] | None = None,
    not_found: type[Rejected] | None = None,
    empty: bool = False,
) -> Any:
    """What an answer is: its JSON for a 2xx, else raised as the failure it is, the same way
    for every REST connector:

    - 5xx and 429: ``Transient`` carrying ``Retry-After`` (a 503 may send one too);
    - 401 and 403: ``AuthFailed``, with the connector's words for each (``refused``);
    - 404: ``not_found("not found (404)")`` when the connector has such a class, and it and
      the other 4xx ``Rejected`` with the vendor's own validation message when ``rejected``
      reads one (never a body it cannot vouch for);
    - a 2xx whose body is an HTML page or not JSON: ``Transient`` (``json_body``); an empty
      one is None where the API answers some requests with nothing (``empty``), else not JSON.
    """
    status = response.status_code
    if status == 429 or status >= 500:
        words = "429 Too Many Requests" if status == 429 else str(status)
        raise Transient(status, f"{system} answered {words}", retry_after(response))
    if status in (401, 403):
        default = "the credentials were refused (401)" if status == 401 else "forbidden (403)"
        message = (refused or {}).get(status, default)
        raise AuthFailed(message, system=system, operation=operation, record=record)
    if status == 404 and not_found is not None:
        raise not_found("not found (404)", system=system, operation=operation, record=record)
    if status >= 400:
        message = rejected(response) if rejected else f"{system} answered {status}"
        raise Rejected(message, system=system, operation=operation, record=record)
    if empty and not response.content.strip():
        return None
    return json_body(response, system)


def exhausted(
    failure: Transient,
    message: str,
    *,
    system: str,
    operation: str,
    record: str | None = None,
) -> ConnectorError:
    """The error a ``Transient`` becomes when its attempts are spent: ``RateLimited`` for a
    429 (the work goes on in a later run), ``Unavailable`` for the rest."""
    kind = RateLimited if failure.status == 429 else Unavailable
    return kind(message, system=system, operation=operation, record=record)


# -- one token authentication ------------------------------------------------------------------
@dataclass(frozen=True)
class Token:
    """A bearer token, and when it stops being good (None: until it is refused)."""

    value: str
    expires: datetime | None = None


class TokenAuth(httpx.Auth):
    """``Authorization: Bearer`` for every request of a client, in httpx's own auth flow (as
    ``DigestAuth`` answers its 401 inside the auth object).

    With an ``exchange`` (a credential traded for a token): the token is fetched before the
    first request and reused until ``expires`` (less ``margin`` seconds); a 401 gets one new
    exchange and the request once more, and a second 401 is left to the caller, whose
    classifier makes it its ``AuthFailed``. Concurrent requests share one exchange. Without
    one (a fixed token), a 401 is the caller's at once.

    With a ``policy`` the exchange is retried on its own (``Transient`` only) and one that
    keeps failing is ``Unavailable`` naming ``operation``; without one it is tried once and
    its ``Transient`` is the request's, retried with it by the caller's loop. A refused
    credential is the exchange's own ``AuthFailed``. No httpx error leaves it (their messages
    quote the URL, and a credential may travel in it), and the credential and every token are
    registered with the log redaction.
    """

    def __init__(
        self,
        exchange: Callable[[], Awaitable[Token]] | None = None,
        *,
        token: str | None = None,
        system: str = "",
        operation: str = "token exchange",
        policy: RetryPolicy | None = None,
        margin: float = 30.0,
        secrets: Iterable[str] = (),
    ) -> None:
        if (exchange is None) == (token is None):
            raise TypeError("TokenAuth takes an exchange or a fixed token, one of them")
        self._exchange = exchange
        self.token = Token(token) if token is not None else None
        self.system = system
        self.operation = operation
        self.policy = policy
        self.margin = timedelta(seconds=margin)
        self._lock = LoopLocal(asyncio.Lock)
        register_secrets([*secrets, *([token] if token else [])])

    def _fresh(self, token: Token | None, stale: str | None) -> bool:
        if token is None or token.value == stale:
            return False
        return token.expires is None or token.expires > datetime.now(UTC) + self.margin

    async def current(self, stale: str | None = None) -> str:
        """A good token: the one held, else (none, expired, or ``stale`` refused) a new one."""
        if self._exchange is None:
            assert self.token is not None
            return self.token.value
        async with self._lock.get():
            token = self.token
            if token is None or not self._fresh(token, stale):
                token = self.token = await self._exchanged(self._exchange)
                register_secrets([token.value])
            return token.value

    async def _exchanged(self, exchange: Callable[[], Awaitable[Token]]) -> Token:
        if self.policy is None:
            return await self._once(exchange)  # a Transient is the request's, retried with it
        loop = retrying(self.policy)
        try:
            async for attempt in loop:
                with attempt:
                    return await self._once(exchange)
        except Transient as failure:
            attempts = loop.statistics.get("attempt_number", self.policy.attempts)
            raise Unavailable(
                f"{failure.detail}, still after {attempts} attempts",
                system=self.system,
                operation=self.operation,
            ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    async def _once(self, exchange: Callable[[], Awaitable[Token]]) -> Token:
        try:
            return await exchange()
        except httpx.TransportError as exc:
            raise Transient(None, f"could not reach {self.system} ({type(exc).__name__})") from None
        except httpx.HTTPError as exc:
            raise Unavailable(
                f"the token exchange could not be sent ({type(exc).__name__})",
                system=self.system,
                operation=self.operation,
            ) from None

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self.current()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401 and self._exchange is not None:
            token = await self.current(stale=token)  # expired early: one new exchange
            request.headers["Authorization"] = f"Bearer {token}"
            yield request

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        raise RuntimeError("TokenAuth is for httpx.AsyncClient")


# -- reconciling writes --------------------------------------------------------------------------
class Unsettled(Exception):
    """A write's outcome is still unknown after its look-up found nothing: worth sending once
    more (the signal of ``reconciling``'s loop, never a connector's error)."""

    def __init__(self, cause: Exception | None = None) -> None:
        self.cause = cause
        super().__init__(str(cause) if cause else "outcome unknown")


def reconciling(policy: RetryPolicy, *, attempts: int | None = None) -> AsyncRetrying:
    """A tenacity loop for a write that must happen exactly once: each attempt sends it (or,
    after an unclear outcome, looks it up first) and raises ``Unsettled`` when it cannot say;
    only that is tried again, after the policy's back-off, and the last ``Unsettled`` is
    raised when the attempts are spent (the adapter says what it means)."""
    return AsyncRetrying(
        stop=stop_after_attempt(attempts or policy.attempts),
        wait=wait_exponential(multiplier=policy.first_wait, max=policy.max_backoff),
        retry=retry_if_exception_type(Unsettled),
        reraise=True,
    )


# -- one binding per event loop -----------------------------------------------------------------
class LoopLocal(Generic[T]):
    """One value per event loop, made on first use in each: asyncio objects belong to the loop
    that made them, and a synchronous host may run each call in a loop of its own."""

    def __init__(self, make: Callable[[], T]) -> None:
        self._make = make
        self._loop: asyncio.AbstractEventLoop | None = None
        self._value: T | None = None

    def get(self) -> T:
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._value is None:
            self._loop, self._value = loop, self._make()
        return self._value


class LoopBound:
    """An httpx.AsyncClient with a concurrency limit and a lock (for credentials), made anew
    when the client is used from another event loop: asyncio objects belong to the loop that
    made them, and a synchronous host may run each call in a loop of its own. ``sent`` counts
    every request the clients have sent (retries, token exchanges and resends after a 401
    included); ``auth`` goes on every request unless it says ``auth=None``. Every answer is
    also counted for the metrics (``fjordsync.metrics.count_request``) under ``system``, else
    the request's host."""

    def __init__(
        self,
        base_url: str = "",
        *,
        timeout: float,
        max_concurrency: int,
        auth: httpx.Auth | None = None,
        system: str = "",
    ) -> None:
        self.base_url = base_url
        self.system = system
        self.timeout = timeout
        self.max_concurrency = max_concurrency
        self.auth = auth
        self.sent = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self.http: httpx.AsyncClient | None = None
        self.limit = asyncio.Semaphore(max_concurrency)
        self.lock = asyncio.Lock()

    async def _count(self, request: httpx.Request) -> None:
        self.sent += 1

    async def _answered(self, response: httpx.Response) -> None:
        request = response.request
        metrics.count_request(self.system or request.url.host, request.method, response.status_code)

    def bind(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self.http is None or self.http.is_closed:
            self._loop = loop
            self.http = httpx.AsyncClient(
                base_url=self.base_url,
                timeout=self.timeout,
                limits=httpx.Limits(max_connections=self.max_concurrency),
                auth=self.auth,
                event_hooks={"request": [self._count], "response": [self._answered]},
                verify=shared_ssl_context(),
            )
            self.limit = asyncio.Semaphore(self.max_concurrency)
            self.lock = asyncio.Lock()
        return self.http

    async def aclose(self) -> None:
        if self.http is not None and not self.http.is_closed:
            await self.http.aclose()


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    """The one TLS context of this process's HTTP clients: httpx's default, built once
    (``httpx.create_ssl_context()``: SSL_CERT_FILE, else SSL_CERT_DIR, else certifi's bundle).
    httpx builds a new one for each client, and loading the CA bundle costs about 60 ms a time
    (three clients in a run); sharing it is safe because no client here speaks HTTP/2
    (httpcore sets the same ALPN protocols, http/1.1, on it for every connection)."""
    return httpx.create_ssl_context()


# -- one REST client ----------------------------------------------------------------------------
class RestClient:
    """What every REST connector's client shares: the retry policy, its ``TokenAuth`` on every
    request of a ``LoopBound`` client, the count of requests sent, one request retried while
    it is ``Transient`` (``retried``) and sent within the concurrency limit (``send``). A
    subclass names its ``system`` and says how it exchanges a token and reads its answers."""

    system: str = ""
    # What the message of a request whose attempts are spent says after their number.
    attempts_word = "attempts"

    def __init__(
        self,
        base_url: str,
        auth: TokenAuth,
        *,
        timeout: float,
        max_concurrency: int,
        retry: RetryPolicy,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_concurrency = max_concurrency
        self.retry = retry
        self.auth = auth
        self._bound = LoopBound(
            self.base_url,
            timeout=timeout,
            max_concurrency=max_concurrency,
            auth=auth,
            system=self.system,
        )

    @property
    def requests(self) -> int:
        """Requests sent, retries and token exchanges included."""
        return self._bound.sent

    async def aclose(self) -> None:
        await self._bound.aclose()

    async def retried(
        self,
        attempt: Callable[[], Awaitable[T]],
        *,
        operation: str,
        record: str | None = None,
        repeatable: bool = True,
    ) -> T:
        """``attempt()``, tried again while it raises ``Transient`` (only once when it is not
        ``repeatable``); a failure that outlasts the policy is ``exhausted``."""
        loop = retrying(self.retry, attempts=None if repeatable else 1)
        try:
            async for tried in loop:
                with tried:
                    return await attempt()
        except Transient as failure:
            attempts = loop.statistics.get("attempt_number", 1)
            raise exhausted(
                failure,
                f"{failure.detail}, still after {attempts} {self.attempts_word}",
                system=self.system,
                operation=operation,
                record=record,
            ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    async def send(self, method: str, path: str, **options: Any) -> httpx.Response:
        """One request within the concurrency limit; no answer at all is ``Transient``."""
        http = self._bound.bind()
        async with self._bound.limit:
            try:
                return await http.request(method, path, **options)
            except httpx.TransportError as exc:
                metrics.count_request(self.system, method, None)  # no answer: status "error"
                raise Transient(
                    None, f"could not reach {self.system} ({type(exc).__name__})"
                ) from None
