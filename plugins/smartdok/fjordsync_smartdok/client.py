"""Transport to the SmartDok API: token exchange, paging, bounded concurrency and retries.

Authentication (NOTES.md): the admin's API token is exchanged at ``POST /Authorize/ApiToken`` for
a session token sent as ``Authorization: Bearer``. A 401 gets one new exchange and one more try;
a second 401 means the token lacks a permission ("Missing claims") and is reported as that,
naming the endpoint.

Retry policy (tenacity, here only): transport errors, 5xx and 429 are retried with back-off and
jitter, a 429 after its ``Retry-After`` (capped, never zero); 400 (save errors), 401, 403 and 404
are not. Writes are retried only where a repeat cannot duplicate: PUT replaces the whole
resource, so repeating it is safe; a POST whose answer is lost is reported, not repeated (the
adapter reconciles it by looking the record up).

An answer that cannot be read (an HTML page with status 200 from a proxy, a body cut short) is
transient and retried like a 5xx; an answer of the wrong shape (a list where an object belongs,
a page without ``Items``) is a clear ``Unavailable`` naming the operation, never a TypeError.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import httpx

from fjordsync.errors import AuthFailed, RateLimited, Rejected, Unavailable
from fjordsync.transport import (
    LoopBound,
    RetryPolicy,
    Transient,
    json_body,
    retry_after,
    retrying,
)

SYSTEM = "SmartDok"
Params = Sequence[tuple[str, str]]


class NotFound(Rejected):
    """404: the resource does not exist."""


def malformed(operation: str, problem: str, record: str | None = None) -> Unavailable:
    """An answer that parsed but is not what the API declares: reported, not retried (the
    same request would get the same answer). ``problem`` names the shape, never the body."""
    return Unavailable(
        f"SmartDok's answer does not fit the API: {problem}",
        system=SYSTEM,
        operation=operation,
        record=record,
    )


def expect_object(value: Any, operation: str, record: str | None = None) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise malformed(operation, f"{_kind(value)} where an object belongs", record)
    return value


def expect_list(value: Any, operation: str, record: str | None = None) -> list[Any]:
    if not isinstance(value, list):
        raise malformed(operation, f"{_kind(value)} where a list belongs", record)
    return value


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    return {dict: "an object", list: "a list", str: "text", bool: "true/false"}.get(
        type(value), "a number"
    )


class SmartDokClient:
    def __init__(
        self,
        base_url: str,
        api_token: str,
        *,
        max_concurrency: int = 4,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._api_token = api_token
        self.max_concurrency = max_concurrency
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.requests = 0
        self._session: str | None = None
        self._bound = LoopBound(self.base_url, timeout=timeout, max_concurrency=max_concurrency)

    async def aclose(self) -> None:
        await self._bound.aclose()

    async def _authorize(self, stale: str | None) -> str:
        http = self._bound.bind()
        async with self._bound.lock:
            if self._session and self._session != stale:
                return self._session  # another task exchanged it meanwhile
            self.requests += 1
            try:
                response = await http.post("/Authorize/ApiToken", json={"Token": self._api_token})
            except httpx.TransportError as exc:
                raise Transient(None, f"could not reach SmartDok ({type(exc).__name__})") from None
            if response.status_code == 401:
                raise AuthFailed(
                    "the API token was refused: create a new one in SmartDok (an "
                    "admin's API token is valid for one year)",
                    system=SYSTEM,
                    operation="POST /Authorize/ApiToken",
                )
            if response.status_code >= 500 or response.status_code == 429:
                raise Transient(
                    response.status_code,
                    f"SmartDok answered {response.status_code}",
                    retry_after(response),
                )
            if response.status_code >= 400:
                raise Rejected(
                    f"SmartDok answered {response.status_code}",
                    system=SYSTEM,
                    operation="POST /Authorize/ApiToken",
                )
            session = json_body(response, SYSTEM)
            if not isinstance(session, str) or not session:
                raise malformed("POST /Authorize/ApiToken", f"{_kind(session)} for the session")
            self._session = session
            return session

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Params = (),
        json: Any = None,
        record: str | None = None,
        repeatable: bool = True,
    ) -> Any:
        """Send a request and return its JSON (None for an empty body)."""
        operation = f"{method} {path.split('?')[0]}"
        loop = retrying(self.retry, attempts=None if repeatable else 1)
        try:
            async for attempt in loop:
                with attempt:
                    return await self._once(method, path, params, json, operation, record)
        except Transient as failure:
            attempts = loop.statistics.get("attempt_number", 1)
            message = f"{failure.detail}, still after {attempts} attempt(s)"
            if failure.status == 429:
                raise RateLimited(
                    message, system=SYSTEM, operation=operation, record=record
                ) from None
            raise Unavailable(message, system=SYSTEM, operation=operation, record=record) from None
        raise AssertionError("unreachable")  # pragma: no cover

    async def _once(
        self, method: str, path: str, params: Params, body: Any, operation: str, record: str | None
    ) -> Any:
        http = self._bound.bind()
        session = self._session or await self._authorize(None)
        for second_try in (False, True):
            async with self._bound.limit:
                self.requests += 1
                try:
                    response = await http.request(
                        method,
                        path,
                        params=list(params),
                        json=body,
                        headers={"Authorization": f"Bearer {session}"},
                    )
                except httpx.TransportError as exc:
                    raise Transient(
                        None, f"could not reach SmartDok ({type(exc).__name__})"
                    ) from None
            if response.status_code != 401:
                break
            if second_try:
                raise AuthFailed(
                    f"SmartDok refused {operation} twice with 401 after a new session: the API "
                    'token lacks the permission ("Missing claims") for this endpoint',
                    system=SYSTEM,
                    operation=operation,
                    record=record,
                )
            session = await self._authorize(session)  # the session expired: one new one
        status = response.status_code
        if status == 429 or status >= 500:
            raise Transient(status, f"SmartDok answered {status}", retry_after(response))
        if status == 404:
            raise NotFound("not found (404)", system=SYSTEM, operation=operation, record=record)
        if status == 403:
            raise AuthFailed("forbidden (403)", system=SYSTEM, operation=operation, record=record)
        if status >= 400:
            raise Rejected(_save_error(response), system=SYSTEM, operation=operation, record=record)
        if not response.content:
            return None
        return json_body(response, SYSTEM)

    async def collection(self, path: str, params: Params = (), page_size: int = 100) -> list[Any]:
        """Every item of a ``{Count, Offset, TotalCount, Items}`` collection: the first page gives
        the total, the rest are fetched concurrently; an empty page ends it too."""
        operation = f"GET {path}"
        first = await self.request(
            "GET", path, params=[*params, ("offset", "0"), ("count", str(page_size))]
        )
        items = _items(first, operation)
        total = first.get("TotalCount")
        if total is None:
            total = len(items)
        if isinstance(total, bool) or not isinstance(total, int):
            raise malformed(operation, "TotalCount is not a whole number")
        if not items or len(items) >= total:
            return items
        step = len(items)
        pages = await asyncio.gather(
            *(
                self.request(
                    "GET",
                    path,
                    params=[*params, ("offset", str(offset)), ("count", str(page_size))],
                )
                for offset in range(step, total, step)
            )
        )
        for page in pages:
            items += _items(page, operation)  # every item: duplicates are the core's to judge
        return items


def _items(page: Any, operation: str) -> list[Any]:
    page = expect_object(page, operation)
    if "Items" not in page:
        raise malformed(operation, "a page without Items")
    return expect_list(page["Items"] or [], operation)


def _save_error(response: httpx.Response) -> str:
    """A SmartDok save error names the field and the rule ({Code, Error, Message})."""
    try:
        body = response.json()
    except ValueError:
        return f"SmartDok answered {response.status_code}"
    if isinstance(body, dict) and "Message" in body:
        return f"{body.get('Error')}: {body.get('Message')} ({body.get('Code')})"
    if isinstance(body, dict):
        return str(body.get("Title") or body.get("title") or body)
    return str(body)
