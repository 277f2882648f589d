"""Transport to the AlexisHR API: bearer token, paging, bounded concurrency and retries.

The token goes on every request as ``fjordsync.transport.TokenAuth`` (a fixed one: a 401 is
final); answers are read by ``fjordsync.transport.classify``.

Retry policy (tenacity, here only): transport errors, 5xx and 429 are retried with exponential
back-off and jitter; a 429 waits what ``Retry-After`` says, capped by ``max_wait`` and never zero;
400, 401, 403 and 404 are never retried. Attempts and total time per request are bounded, so a
system that keeps failing ends in ``Unavailable`` (or ``RateLimited``) after a known time.
Every failure leaves as the core's error tree with system, operation and record key; response
bodies of failed requests are not echoed unless they are the API's own validation messages.
An answer that cannot be read (an HTML page with status 200, a body cut short) is transient and
retried; one of the wrong shape (a list where the object belongs, no ``data``) is a clear
``Unavailable`` naming the operation, never a TypeError or KeyError.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import httpx

from fjordsync.errors import Unavailable
from fjordsync.transport import RestClient, RetryPolicy, TokenAuth, classify

SYSTEM = "AlexisHR"
ACCEPT = {"Accept": "application/json"}
Params = Sequence[tuple[str, str]]


class AlexisClient(RestClient):
    """An httpx.AsyncClient with the token, a concurrency limit and the retry policy."""

    system = SYSTEM

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        max_concurrency: int = 4,
        page_size: int = 100,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.page_size = page_size
        super().__init__(
            base_url,
            TokenAuth(token=token, system=SYSTEM),
            timeout=timeout,
            max_concurrency=max_concurrency,
            retry=retry or RetryPolicy(),
        )

    async def get(self, path: str, params: Params = (), *, record: str | None = None) -> Any:
        """GET ``path`` and return its JSON, retrying what is worth retrying."""
        operation = f"GET /v1/{path.lstrip('/')}"
        return await self.retried(
            lambda: self._once(path, params, operation, record), operation=operation, record=record
        )

    async def _once(self, path: str, params: Params, operation: str, record: str | None) -> Any:
        response = await self.send(
            "GET", "/" + path.lstrip("/"), params=list(params), headers=ACCEPT
        )
        return classify(
            response,
            SYSTEM,
            operation,
            record=record,
            refused={
                401: "the access token was refused (401): create a new one in AlexisHR "
                "(Settings -> Access tokens) and update the connection's token",
                403: "the access token lacks permission for this request (403)",
            },
            rejected=_validation_message,
        )

    async def list_all(self, resource: str, params: Params = ()) -> tuple[list[dict], dict]:
        """Every record of a list, paged by ``limit``/``offset`` until ``total``: the first page
        tells the total, the rest are fetched concurrently (within the concurrency limit).
        Returns the records and the side-loaded relations, each related record once."""
        base = [*params, ("sort[id]", "asc")]  # a stable order, so pages neither skip nor repeat
        operation = f"GET /v1/{resource}"
        first = await self.get(resource, [*base, ("limit", str(self.page_size)), ("offset", "0")])
        total = _page(first, operation).get("total", len(first["data"]))
        if isinstance(total, bool) or not isinstance(total, int):
            raise _malformed(operation, "total is not a whole number")
        pages = [first]
        offsets = range(self.page_size, total, self.page_size)
        if offsets:
            pages += await asyncio.gather(
                *(
                    self.get(resource, [*base, ("limit", str(self.page_size)), ("offset", str(o))])
                    for o in offsets
                )
            )
        records: list[dict[str, Any]] = []
        # relation name -> related record id -> the copies of it the pages gave
        relations: dict[str, dict[str, list[dict[str, Any]]]] = {}
        for page in pages:
            records += _page(page, operation)["data"]  # every record: duplicates are for the core
            side = page.get("relations") or {}
            if not isinstance(side, dict):
                raise _malformed(operation, "relations is not an object")
            for name, related in side.items():
                if not isinstance(related, list):
                    raise _malformed(operation, f"relations.{name} is not a list")
                bucket = relations.setdefault(name, {})
                for item in related:
                    # A related record comes again with every page that points at it: one copy
                    # by id. Without an id nothing can be joined to it.
                    if isinstance(item, dict) and isinstance(item.get("id"), str):
                        bucket.setdefault(item["id"], []).append(item)
        return records, {
            name: [copy for copies in items.values() for copy in _distinct(copies)]
            for name, items in relations.items()
        }


def _distinct(copies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The copies of one related record: one when the pages agree, all of them when they
    differ (two records with one id), so the join sees the clash instead of one of them."""
    distinct: list[dict[str, Any]] = []
    for item in copies:
        if item not in distinct:
            distinct.append(item)
    return distinct


def _malformed(operation: str, problem: str) -> Unavailable:
    return Unavailable(
        f"AlexisHR's answer does not fit the API: {problem}", system=SYSTEM, operation=operation
    )


def _page(page: Any, operation: str) -> dict:
    if not isinstance(page, dict):
        raise _malformed(operation, "the answer is not an object")
    if not isinstance(page.get("data"), list):
        raise _malformed(operation, "data is missing or not a list")
    return page


def _validation_message(response: httpx.Response) -> str:
    """The API's own validation messages (field names, never record values)."""
    try:
        body = response.json()
    except ValueError:
        return f"AlexisHR answered {response.status_code}"
    if not isinstance(body, dict):
        return f"AlexisHR answered {response.status_code}"
    message = body.get("message")
    if isinstance(message, list):
        message = "; ".join(str(m) for m in message)
    return f"AlexisHR answered {response.status_code}: {message or body.get('error', '')}"
