"""Transport to 24SevenOffice Lønn, the payroll REST API, through httpx.

Payroll: ``GET /auth?token=`` exchanges the customer's access token for a bearer token, reused
until ``expiresOn``; a 401 gets one re-exchange (both ``fjordsync.transport.TokenAuth``).
Answers are read by ``fjordsync.transport.classify``: 5xx and 429 are retried after their
``Retry-After`` (``RateLimited`` when a 429 outlasts them), 401/403 are ``AuthFailed``, other
4xx but 409 ``Rejected``; an HTML page or half a body is ``Transient``. No message names a URL,
since the one of ``/auth`` carries the token.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from fjordsync.errors import Rejected, Unavailable
from fjordsync.transport import (
    RestClient,
    RetryPolicy,
    Token,
    TokenAuth,
    Transient,
    classify,
    json_body,
)
from fjordsync_twentyfourseven.shared import PAYROLL, OutcomeUnknown, scrub

AUTH = "GET /auth"


class PayrollAnswer:
    """A payroll answer: its status and its body, already parsed (None when empty)."""

    __slots__ = ("body", "status_code")

    def __init__(self, status_code: int, body: Any) -> None:
        self.status_code = status_code
        self.body = body

    def json(self) -> Any:
        return self.body


class PayrollClient(RestClient):
    """httpx client of the payroll REST API, with the token exchange (``TokenAuth``), the one
    classifier and retries."""

    system = PAYROLL

    def __init__(
        self,
        base_url: str,
        access_token: str,
        *,
        timeout: float = 60.0,
        max_concurrency: int = 4,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._access_token = access_token
        retry = retry or RetryPolicy()
        super().__init__(
            base_url,
            TokenAuth(
                self._exchange,
                system=PAYROLL,
                operation=AUTH,
                policy=retry,
                secrets=[access_token],
            ),
            timeout=timeout,
            max_concurrency=max_concurrency,
            retry=retry,
        )

    def _scrub(self, text: str) -> str:
        bearer = self.auth.token.value if self.auth.token else ""
        return scrub(text, (self._access_token, bearer))

    async def _exchange(self) -> Token:
        """One token exchange. Its URL carries the access token: no message may name it
        (``TokenAuth`` lets no httpx error through, since their messages quote the URL)."""
        http = self._bound.bind()
        response = await http.get("/auth", params={"token": self._access_token}, auth=None)
        refused = (
            "the payroll access token was refused: create a new one "
            "(Lønn -> Innstillinger -> Diverse innstillinger -> API, "
            "e-post, integrasjoner)"
        )
        try:
            body = classify(response, PAYROLL, AUTH, refused={401: refused, 403: refused})
        except Rejected:
            raise Unavailable(
                f"payroll answered {response.status_code}", system=PAYROLL, operation=AUTH
            ) from None
        bearer = body.get("accessToken") if isinstance(body, dict) else None
        expires = body.get("expiresOn") if isinstance(body, dict) else None
        try:
            if not isinstance(bearer, str) or not bearer or not isinstance(expires, str):
                raise ValueError
            moment = datetime.fromisoformat(expires.replace("Z", "+00:00"))
        except ValueError:
            raise Unavailable(
                "the token exchange answered without a usable accessToken and expiresOn",
                system=PAYROLL,
                operation=AUTH,
            ) from None
        return Token(bearer, moment if moment.tzinfo else moment.replace(tzinfo=UTC))

    async def request(
        self,
        method: str,
        path: str,
        *,
        record: str | None = None,
        json: Any = None,
        params: dict[str, str] | None = None,
        idempotent: bool = True,
    ) -> PayrollAnswer:
        """Send a request; returns the answer of a 2xx (its JSON parsed) or a 409 (the caller
        decides what a conflict means); raises the core's errors for the rest. A body that is
        an HTML page or cut short is retried like a 5xx (after ``Retry-After`` when one came);
        for a write that is not idempotent it is ``OutcomeUnknown`` (it may have been saved),
        like a lost answer."""
        operation = f"{method} {path}"
        return await self.retried(
            lambda: self._once(method, path, operation, record, json, params, idempotent),
            operation=operation,
            record=record,
            repeatable=idempotent,
        )

    async def _once(
        self,
        method: str,
        path: str,
        operation: str,
        record: str | None,
        body: Any,
        params: dict[str, str] | None,
        idempotent: bool,
    ) -> PayrollAnswer:
        http = self._bound.bind()

        def unclear(what: str, status: int | None = None, wait: float | None = None) -> Exception:
            if not idempotent:
                return OutcomeUnknown(
                    f"{what}: it may have been saved",
                    system=PAYROLL,
                    operation=operation,
                    record=record,
                )
            return Transient(status, what, wait)

        async with self._bound.limit:
            try:
                response = await http.request(method, path, json=body, params=params)
            except httpx.TransportError as exc:
                raise unclear(f"no answer from payroll ({type(exc).__name__})") from None
        if response.status_code == 409:
            return PayrollAnswer(409, None)
        try:
            # A 401 here came after one re-exchange (TokenAuth): the fresh token was refused.
            answer = classify(
                response,
                PAYROLL,
                operation,
                record=record,
                refused={401: "payroll refused a fresh token (401)"},
                rejected=self._rejected,
                empty=True,
            )
        except Transient as failure:
            raise unclear(failure.detail, failure.status, failure.retry_after) from None
        return PayrollAnswer(response.status_code, answer)

    def _rejected(self, response: httpx.Response) -> str:
        return f"payroll answered {response.status_code}: {self._scrub(_payroll_message(response))}"


def _payroll_message(response: httpx.Response) -> str:
    """The message of an error answer, never an HTML page or a garbled body."""
    try:
        body = json_body(response, PAYROLL)
    except Transient:
        return response.reason_phrase
    if isinstance(body, dict):
        return str(body.get("message", "")) or response.reason_phrase
    return response.reason_phrase
