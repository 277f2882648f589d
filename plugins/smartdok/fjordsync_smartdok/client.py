"""Transport to the SmartDok API: token exchange, paging, bounded concurrency and retries.

Authentication (NOTES.md): the admin's API token is exchanged at ``POST /Authorize/ApiToken`` for
a session token sent as ``Authorization: Bearer`` (``fjordsync.transport.TokenAuth``). A 401
gets one new exchange and one more try; a second 401 means the token lacks a permission
("Missing claims") and is reported as that, naming the endpoint. Answers are read by
``fjordsync.transport.classify``.

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
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import httpx

from fjordsync.errors import Rejected, Unavailable
from fjordsync.transport import RestClient, RetryPolicy, Token, TokenAuth, classify

SYSTEM = "SmartDok"
AUTHORIZE = "POST /Authorize/ApiToken"
Params = Sequence[tuple[str, str]]
T = TypeVar("T")


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


class SmartDokClient(RestClient):
    system = SYSTEM
    attempts_word = "attempt(s)"

    def __init__(
        self,
        base_url: str,
        api_token: str,
        *,
        max_concurrency: int = 4,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._api_token = api_token
        super().__init__(
            base_url,
            TokenAuth(self._exchange, system=SYSTEM, operation=AUTHORIZE, secrets=[api_token]),
            timeout=timeout,
            max_concurrency=max_concurrency,
            retry=retry or RetryPolicy(),
        )

    async def _exchange(self) -> Token:
        """The API token for a session token (no expiry given: used until refused)."""
        http = self._bound.bind()
        # httpx.Auth() adds nothing: the exchange goes without the session's token (httpx
        # takes auth=None at run time too, but its post() is typed without None).
        response = await http.post(
            "/Authorize/ApiToken", json={"Token": self._api_token}, auth=httpx.Auth()
        )
        session = classify(
            response,
            SYSTEM,
            AUTHORIZE,
            refused={
                401: "the API token was refused: create a new one in SmartDok (an "
                "admin's API token is valid for one year)"
            },
        )
        if not isinstance(session, str) or not session:
            raise malformed(AUTHORIZE, f"{_kind(session)} for the session")
        return Token(session)

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
        return await self.retried(
            lambda: self._once(method, path, params, json, operation, record),
            operation=operation,
            record=record,
            repeatable=repeatable,
        )

    async def _once(
        self, method: str, path: str, params: Params, body: Any, operation: str, record: str | None
    ) -> Any:
        response = await self.send(method, path, params=list(params), json=body)
        # A 401 here came after one new session (TokenAuth): the token lacks a permission.
        return classify(
            response,
            SYSTEM,
            operation,
            record=record,
            refused={
                401: f"SmartDok refused {operation} twice with 401 after a new session: the API "
                'token lacks the permission ("Missing claims") for this endpoint'
            },
            rejected=_save_error,
            not_found=NotFound,
            empty=True,
        )

    async def collection(self, path: str, params: Params = (), page_size: int = 100) -> list[Any]:
        """Every item of a ``{Count, Offset, TotalCount, Items}`` collection: the first page gives
        the total, the rest are fetched concurrently; an empty page ends it too."""
        return await self.collection_of(path, lambda items: items, params, page_size)

    async def collection_of(
        self,
        path: str,
        read: Callable[[list[Any]], list[T]],
        params: Params = (),
        page_size: int = 100,
    ) -> list[T]:
        """``collection``, each page's items passed through ``read`` as the page arrives, in
        page order: only what ``read`` makes of a page is kept, so 100,000 hours are never held
        as JSON all at once (a decoded hour takes about twice the memory of its record)."""
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
        step = len(items)
        result = read(items)
        if not items or step >= total:
            return result
        del first, items

        async def page(offset: int) -> list[T]:
            answer = await self.request(
                "GET", path, params=[*params, ("offset", str(offset)), ("count", str(page_size))]
            )
            return read(_items(answer, operation))

        pages = await asyncio.gather(*(page(offset) for offset in range(step, total, step)))
        for part in pages:
            result += part  # every item: duplicates are the core's to judge
        return result


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
