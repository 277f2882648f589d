"""Transport to the 24SevenOffice ERP: the SOAP web services through zeep's async client over
httpx (on ``fjordsync.transport.LoopBound``, as the REST clients).

SOAP (NOTES.md): the WSDLs ship with the package and are parsed once per process; service
addresses come from the settings. The session cookie is sent as a plain ``Cookie`` header to
both hosts. ``HasSession`` is asked before logging in; a dead session ("Session is not
authenticated") gets one re-login; a session on the wrong identity is switched with
``SetIdentityById`` once. Faults are classified by the last ``--->`` segment of the faultstring:
authentication and identity -> AuthFailed, quota -> RateLimited (with when it lifts), schema and
argument errors -> Rejected (never retried), everything else transient -> retried, then
Unavailable. A non-idempotent call (``SaveHour``) is never retried here: an outcome that may
have happened is raised as ``OutcomeUnknown`` for the adapter to reconcile.

**Rate budget**: every request of one set of credentials spends from one budget, never more
than ``requests_per_hour`` in a clock hour whatever the concurrency: shared by the runs of this
machine through a file in the user's state directory (``fjordsync.budget.FileRateBudget``, so a
second run started in the same hour sends nothing the vendor would quarantine), in Redis when
distributed, per process (``RateBudget``) where files cannot be locked; the server's
``APILimitRemaining`` tightens it. When it is spent the call raises ``RateLimited`` with
``resume_at``: the run stops cleanly and the rest waits for the next run. ``aclose`` gives back
what this process reserved of the hour and did not spend.

**Answers that cannot be read** are connector errors, never a parser's traceback: an HTML page
(a proxy's or a maintenance page, even with status 200), XML that is not well-formed or cut short
are ``Transient`` (retried, then ``Unavailable`` naming the operation; for ``SaveHour``
``OutcomeUnknown``). A value zeep cannot convert (a date that is no date, a number that is no
number) comes out as ``mapping.UNREADABLE`` instead of zeep's silent None, so the mapping makes
that record invalid rather than guessing.

**Characters XML 1.0 forbids** (the rule for answers): .NET's serializer writes a control
character held in a text field as a character reference (``&#x1;``), which XML 1.0 forbids and
lxml refuses, so one bad project name would fail the whole answer. Before zeep parses an answer,
every character reference to a code point XML 1.0 does not allow (C0 controls other than tab, LF
and CR; surrogates D800-DFFF; FFFE, FFFF; beyond 10FFFF), every such raw character, and every
byte that is not UTF-8 is replaced by U+FFFD. The rest of the answer is read as sent; the mapping
makes each record whose text holds U+FFFD invalid, naming the field.

**Requests that cannot be built** (a value zeep or lxml refuses before anything is sent, e.g. a
NUL in a text) are ``Rejected`` naming the operation, never a failure of the whole run.

**Secrets**: no error text carries the application id, the password or the payroll token: a
refused ``Login`` gets a fixed message (its fault would quote the application id), and every
vendor message is scrubbed of the credentials before it is kept.
"""

from __future__ import annotations

import contextvars
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from zeep import AsyncClient, Settings
from zeep.exceptions import Error as ZeepError
from zeep.exceptions import Fault, TransportError, XMLSyntaxError
from zeep.helpers import serialize_object
from zeep.proxy import AsyncServiceProxy
from zeep.transports import AsyncTransport
from zeep.utils import get_media_type
from zeep.wsdl.utils import etree_to_string
from zeep.xsd.types.simple import AnySimpleType

from fjordsync.budget import FileRateBudget, RedisRateBudget, local_budget, shared_budget
from fjordsync.errors import AuthFailed, RateLimited, Rejected, Unavailable
from fjordsync.transport import (
    LoopBound,
    RetryPolicy,
    Transient,
    retrying,
    shared_ssl_context,
)
from fjordsync_twentyfourseven.erp import fastsoap
from fjordsync_twentyfourseven.shared import SYSTEM, UNREADABLE, OutcomeUnknown, scrub

WSDL_DIR = Path(__file__).resolve().parents[1] / "wsdl"
TNS = "http://24sevenOffice.com/webservices"
NO_IDENTITY = "00000000-0000-0000-0000-000000000000"
# service -> (WSDL file, binding, which host, path)
SERVICES = {
    "auth": ("authService.wsdl", "AuthenticateSoap", "api", "/authenticate/v001/authenticate.asmx"),
    "client": ("clientService.wsdl", "ClientServiceSoap", "api", "/Client/V001/ClientService.asmx"),
    "person": ("personService.wsdl", "PersonServiceSoap", "web", "/CRM/Contact/PersonService.asmx"),
    "project": (
        "projectService.wsdl",
        "ProjectServiceSoap",
        "web",
        "/Project/V001/ProjectService.asmx",
    ),
    "time": ("timeService.wsdl", "TimeServiceSoap", "web", "/timesheet/v001/timeservice.asmx"),
}
_QUARANTINE = re.compile(r"Quarantine ends at (\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2})")


# -- answers that cannot be read ------------------------------------------------------------------
_REPLACEMENT = b"&#xFFFD;"
_FORBIDDEN = re.compile(
    rb"[\x00-\x08\x0b\x0c\x0e-\x1f]|\xef\xbf[\xbe\xbf]|&#(?:[xX]([0-9a-fA-F]+)|([0-9]+));"
)


def _allowed(code: int) -> bool:
    """XML 1.0's Char production."""
    return (
        code in (0x9, 0xA, 0xD)
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    )


def _replace_forbidden(match: re.Match[bytes]) -> bytes:
    hexadecimal, decimal = match.groups()
    if hexadecimal is None and decimal is None:
        return _REPLACEMENT  # a raw control character, FFFE or FFFF
    digits = (hexadecimal or decimal).lstrip(b"0") or b"0"
    if len(digits) > 8:  # far beyond 10FFFF, and int() of it would be slow
        return _REPLACEMENT
    code = int(hexadecimal, 16) if hexadecimal is not None else int(decimal)
    return match.group(0) if _allowed(code) else _REPLACEMENT


def clean_xml(body: bytes) -> bytes:
    """``body`` with what XML 1.0 forbids replaced by U+FFFD (as ``&#xFFFD;``): character
    references to forbidden code points, raw forbidden characters, and bytes that are not
    UTF-8 (24SevenOffice answers in UTF-8). Everything else is left as it was sent."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        body = body.decode("utf-8", "replace").encode("utf-8")
    return _FORBIDDEN.sub(_replace_forbidden, body)


class _Unreadable(Exception):
    """An answer that is no SOAP envelope: what came instead, never its content."""


def _looks_like_html(response: httpx.Response) -> bool:
    media = get_media_type(response.headers.get("Content-Type", "text/xml")).lower()
    head = response.content.lstrip()[:64].lower()
    return "html" in media or head.startswith((b"<!doctype html", b"<html"))


class _Call:
    """What one request of ours has got to: set while zeep handles it (a context variable, so
    concurrent requests never see each other's)."""

    def __init__(self) -> None:
        self.sent = False


_CALL: contextvars.ContextVar[_Call | None] = contextvars.ContextVar("tfso_call", default=None)
_zeep_parse = AnySimpleType.parse_xmlelement


def _parse_or_unreadable(self: Any, xmlelement: Any, *args: Any, **kwargs: Any) -> Any:
    """zeep reads a value it cannot convert as None and logs it with a traceback (the value in
    the message). In our own calls it comes out as ``UNREADABLE`` instead, quietly, so the
    mapping can tell "not there" from "there but not readable"; zeep elsewhere is unchanged."""
    if _CALL.get() is None or xmlelement.text is None:
        return _zeep_parse(self, xmlelement, *args, **kwargs)
    try:
        return self.pythonvalue(xmlelement.text)
    except (TypeError, ValueError, ArithmeticError):
        return UNREADABLE


# Patched on zeep's class on purpose (mypy flags any assignment to a method).
AnySimpleType.parse_xmlelement = _parse_or_unreadable  # type: ignore[method-assign]


class RateBudget:
    """Requests left in this clock hour for one set of credentials, shared by everything that
    uses them in this process: where files cannot be locked (``_budget_for``)."""

    def __init__(self, per_hour: int, clock: Callable[[], datetime] | None = None) -> None:
        self.per_hour = per_hour
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.Lock()
        self._hour = self._hour_of(self._clock())
        self.used = 0

    @staticmethod
    def _hour_of(moment: datetime) -> datetime:
        return moment.replace(minute=0, second=0, microsecond=0)

    def _roll(self) -> None:
        hour = self._hour_of(self._clock())
        if hour != self._hour:
            self._hour, self.used = hour, 0

    @property
    def resets_at(self) -> datetime:
        return self._hour + timedelta(hours=1)

    def spend(self, operation: str) -> None:
        with self._lock:
            self._roll()
            if self.used >= self.per_hour:
                raise RateLimited(
                    f"the budget of {self.per_hour} requests an hour is spent; the rest of "
                    f"the work goes on after {self.resets_at:%H:%M} UTC",
                    system=SYSTEM,
                    operation=operation,
                    resume_at=self.resets_at,
                )
            self.used += 1

    def observe(self, remaining: str | None) -> None:
        """The server counts too: never believe there is more left than it says."""
        if remaining is None or not remaining.strip().lstrip("-").isdigit():
            return
        with self._lock:
            self._roll()
            self.used = max(self.used, self.per_hour - int(remaining))

    @property
    def remaining(self) -> int:
        with self._lock:
            self._roll()
            return max(self.per_hour - self.used, 0)


_BUDGETS: dict[tuple[str, str], RateBudget | FileRateBudget] = {}
_BUDGETS_LOCK = threading.Lock()


def _budget_for(api_url: str, username: str, per_hour: int) -> RateBudget | FileRateBudget:
    """This machine's budget of the credentials (one object per process), else this process's."""
    with _BUDGETS_LOCK:
        key = (api_url.rstrip("/").lower(), username.lower())
        budget = _BUDGETS.get(key)
        if budget is None or budget.per_hour != per_hour:
            budget = _BUDGETS[key] = local_budget(
                api_url, username, per_hour, system=SYSTEM
            ) or RateBudget(per_hour)
        return budget


def fault_message(fault: Fault) -> str:
    """The useful part of a .NET faultstring: its last ``--->`` segment."""
    return str(fault.message or "").split("--->")[-1].strip()


class _Answer:
    """What zeep's ``process_reply`` reads of an answer (status, headers, the cleaned body),
    straight from httpx's response: no ``requests.Response`` copied per call."""

    __slots__ = ("content", "headers", "status_code")
    encoding = "utf-8"

    def __init__(self, response: httpx.Response) -> None:
        self.content = clean_xml(response.content)
        self.status_code = response.status_code
        self.headers = response.headers  # case-insensitive, as zeep expects


class _Transport(AsyncTransport):
    """zeep's httpx transport over the event loop's client (``LoopBound``), sending the session
    cookie as a plain header (both hosts) and reading the quota headers of every answer."""

    def __init__(self, soap: SoapClient, http: httpx.AsyncClient) -> None:
        # The WSDLs are the shipped files, so this client only exists because zeep wants one:
        # on the process's one TLS context it costs no CA bundle loaded again (~60 ms).
        super().__init__(
            client=http,
            wsdl_client=httpx.Client(timeout=http.timeout, verify=shared_ssl_context()),
        )
        self.soap = soap

    async def post_xml(self, address: str, envelope: Any, headers: dict[str, str]) -> Any:
        message = etree_to_string(envelope)
        call = _CALL.get()
        if call is not None:
            call.sent = True  # from here on a write may have happened
        response = await self.post(address, message, headers)
        if response.status_code in (201, 202) and not response.content:
            return self.new_response(response)
        if _looks_like_html(response):
            raise _Unreadable("an HTML page instead of a SOAP answer")
        return _Answer(response)

    async def post(self, address: str, message: Any, headers: dict[str, str]) -> Any:
        if self.soap.session_id:
            headers = {**headers, "Cookie": f"ASP.NET_SessionId={self.soap.session_id}"}
        response = await self.client.post(address, content=message, headers=headers)
        self.client.cookies.clear()  # no domain-scoped jar: the header above is the session
        self.soap.budget.observe(response.headers.get("APILimitRemaining"))
        cookie = response.cookies.get("ASP.NET_SessionId")
        if cookie:
            self.soap.session_id = cookie
        return response


class SoapClient:
    def __init__(
        self,
        *,
        api_url: str,
        webservices_url: str,
        application_id: str,
        username: str,
        password: str,
        identity_id: str | None = None,
        requests_per_hour: int = 7200,
        max_concurrency: int = 4,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.hosts = {"api": api_url.rstrip("/"), "web": webservices_url.rstrip("/")}
        self._credential = {
            "ApplicationId": application_id,
            "Username": username,
            "Password": password,
        }
        self.identity_id = identity_id
        # Distributed, every worker spends one budget per credential in Redis; else this machine's.
        self.budget: RateBudget | FileRateBudget | RedisRateBudget = shared_budget(
            api_url, username, requests_per_hour
        ) or _budget_for(api_url, username, requests_per_hour)
        self.max_concurrency = max_concurrency
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.session_id: str | None = None
        self.requests = 0
        # The REST clients' binding: one httpx client, concurrency limit and login lock per
        # event loop; zeep's transport and the service proxies are made anew with the client.
        self._bound = LoopBound(timeout=timeout, max_concurrency=max_concurrency, system=SYSTEM)
        self._services: dict[str, Any] = {}
        self._shapes: dict[tuple[str, str], Any] = {}
        self._transport: _Transport | None = None

    # -- plumbing -----------------------------------------------------------------------------
    def _bind(self) -> _Transport:
        http = self._bound.bind()
        if self._transport is None or self._transport.client is not http:
            if self._transport is not None:
                self._transport.wsdl_client.close()
            self._transport = _Transport(self, http)
            self._services, self._shapes = {}, {}
        return self._transport

    def _service(self, name: str) -> Any:
        transport = self._bind()
        if name not in self._services:
            wsdl, binding, host, path = SERVICES[name]
            client = AsyncClient(
                str(WSDL_DIR / wsdl),
                transport=transport,
                settings=Settings(xml_huge_tree=True),
            )
            # AsyncClient.create_service gives a synchronous proxy: bind the async one to the
            # binding, at the configured address.
            self._services[name] = AsyncServiceProxy(
                client, client.wsdl.bindings[f"{{{TNS}}}{binding}"], address=self.hosts[host] + path
            )
        return self._services[name]

    async def aclose(self) -> None:
        await self._bound.aclose()
        if self._transport is not None:
            self._transport.wsdl_client.close()
        if isinstance(self.budget, FileRateBudget):
            # What this process reserved and did not spend goes back to the next run.
            self.budget.release()

    # -- one request ----------------------------------------------------------------------------
    async def _send(
        self,
        service: str,
        operation: str,
        args: dict[str, Any],
        idempotent: bool,
        plain: bool = False,
    ) -> Any:
        name = f"{SERVICES[service][1].removesuffix('Soap')}.{operation}"
        self.budget.spend(name)
        self._bind()
        async with self._bound.limit:
            self.requests += 1
            call = _Call()
            token = _CALL.set(call)
            try:
                return await self._invoke(service, operation, args, plain)
            except Fault as fault:
                raise self._classify(fault, name) from None
            except (httpx.TransportError, TransportError, XMLSyntaxError, _Unreadable) as exc:
                raise self._unclear(operation, name, _what_came(exc), idempotent) from None
            except (ValueError, TypeError, ZeepError) as exc:
                if call.sent:  # the answer is what zeep could not read
                    raise self._unclear(
                        operation, name, "an answer zeep cannot read", idempotent
                    ) from None
                # zeep or lxml refused a value before anything was sent (a NUL in a text, a
                # type the schema does not take): this request can never be sent as it is.
                raise Rejected(
                    f"the request cannot be built: a value does not fit the service's schema "
                    f"or is not XML text ({type(exc).__name__})",
                    system=SYSTEM,
                    operation=name,
                ) from None
            finally:
                _CALL.reset(token)

    async def _invoke(self, service: str, operation: str, args: dict[str, Any], plain: bool) -> Any:
        """zeep's ``send_async``; for ``plain`` data (what ``call`` gives) the envelope is built
        by ``fastsoap`` as zeep would, and a plain answer read by it into what
        ``serialize_object`` of zeep's result would be; anything else (unusual arguments, a
        fault, an unusual answer) is zeep's."""
        proxy = self._service(service)
        if not plain:
            return await getattr(proxy, operation)(**args)
        binding, client, options = proxy._binding, proxy._client, proxy._binding_options
        key = (service, operation)
        if key not in self._shapes:
            self._shapes[key] = (
                fastsoap.Request.of(binding, operation, client, options),
                fastsoap.output_shape(binding.get(operation)),
            )
        request, shape = self._shapes[key]
        envelope = request.build(args) if request is not None else None
        if envelope is None:
            envelope, headers = binding._create(operation, (), args, client=client, options=options)
        else:
            headers = dict(request.headers)
        answer = await client.transport.post_xml(options["address"], envelope, headers)
        if isinstance(answer, _Answer) and answer.status_code == 200 and shape is not None:
            read, value = fastsoap.read(answer.content, shape)
            if read:
                return value
        return serialize_object(binding.process_reply(client, binding.get(operation), answer))

    @staticmethod
    def _unclear(operation: str, name: str, what: str, idempotent: bool) -> Exception:
        if not idempotent:
            return OutcomeUnknown(
                f"no readable answer to {operation} ({what}): it may have been saved",
                system=SYSTEM,
                operation=name,
            )
        return Transient(None, what)

    @property
    def _secrets(self) -> tuple[str, ...]:
        return (self._credential["ApplicationId"], self._credential["Password"])

    def _classify(self, fault: Fault, operation: str) -> Exception:
        message = scrub(fault_message(fault), self._secrets)
        lowered = message.lower()
        if "session is not authenticated" in lowered:
            return _DeadSession(message)
        if "not authenticated on this identity" in lowered:
            return _WrongIdentity(message)
        if "limit exceeded" in lowered:
            match = _QUARANTINE.search(message)
            resume = (
                datetime.fromisoformat(match.group(1).replace(" ", "T")).replace(tzinfo=UTC)
                if match
                else None
            )
            return RateLimited(message, system=SYSTEM, operation=operation, resume_at=resume)
        if "identityid is blocked" in lowered or "not connected to the user" in lowered:
            return AuthFailed(message, system=SYSTEM, operation=operation)
        if operation == "Authenticate.Login":
            # Its fault would quote what was sent (a malformed application id, say).
            return AuthFailed(
                "24SevenOffice refused the login request: check the application id (a GUID, "
                "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx), the username and the password",
                system=SYSTEM,
                operation=operation,
            )
        return Rejected(message, system=SYSTEM, operation=operation)

    # -- the session ------------------------------------------------------------------------------
    async def ensure_session(self, stale: str | None = None) -> None:
        """A live session: the one we have if ``HasSession`` says so, else a new login.
        ``stale`` is the session the caller saw fail (or None): when another task has already
        replaced it while this one waited, that one is used as it is."""
        self._bind()
        async with self._bound.lock:
            replaced_meanwhile = self.session_id and self.session_id != stale
            if replaced_meanwhile and (
                stale is not None or await self._send("auth", "HasSession", {}, True)
            ):
                return
            self.session_id = None
            credential = dict(self._credential)
            session = await self._send("auth", "Login", {"credential": credential}, True)
            if not session:
                raise AuthFailed(
                    "the credentials were refused (Login returned no session): check the "
                    "username, password and application id",
                    system=SYSTEM,
                    operation="Authenticate.Login",
                )
            self.session_id = session
            if self.identity_id:
                await self._choose_identity()

    async def _choose_identity(self) -> None:
        identities = await self._send("auth", "GetIdentities", {}, True) or []
        for identity in identities:
            if str(identity.Id).lower() == str(self.identity_id).lower():
                if not identity.IsCurrent:
                    await self._send(
                        "auth", "SetIdentityById", {"identityId": self.identity_id}, True
                    )
                return
        raise AuthFailed(
            f"identity {self.identity_id} is not one this user can reach",
            system=SYSTEM,
            operation="Authenticate.GetIdentities",
        )

    async def call(
        self, service: str, operation: str, *, idempotent: bool = True, **args: Any
    ) -> Any:
        """Call an operation with a live session on the right identity; returns plain data.

        Only ``Transient`` failures are retried, and a non-idempotent operation never raises
        one for itself (its unclear outcomes are ``OutcomeUnknown``): what is retried for it is
        getting a session, never the write."""
        loop = retrying(self.retry)
        name = f"{SERVICES[service][1].removesuffix('Soap')}.{operation}"
        try:
            async for attempt in loop:
                with attempt:
                    return await self._with_session(service, operation, args, idempotent)
        except Transient as failure:
            raise Unavailable(
                f"24SevenOffice did not answer well ({failure}), still after "
                f"{loop.statistics.get('attempt_number')} attempts",
                system=SYSTEM,
                operation=name,
            ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    async def _with_session(
        self, service: str, operation: str, args: dict[str, Any], idempotent: bool
    ) -> Any:
        if not self.session_id:
            await self.ensure_session(stale="")
        session = self.session_id
        try:
            return await self._send(service, operation, args, idempotent, plain=True)
        except _DeadSession:
            pass  # one re-login, then the call once more
        except _WrongIdentity as wrong:
            if not self.identity_id:
                raise AuthFailed(
                    f"{wrong}: set the connection's identity_id to the client to act for",
                    system=SYSTEM,
                    operation=operation,
                ) from None
            await self._choose_identity()
            return await self._send(service, operation, args, idempotent, plain=True)
        await self.ensure_session(stale=session)
        try:
            return await self._send(service, operation, args, idempotent, plain=True)
        except (_DeadSession, _WrongIdentity) as still:
            raise AuthFailed(
                f"{still} (after logging in again)", system=SYSTEM, operation=operation
            ) from None


def _what_came(exc: Exception) -> str:
    """What an unclear answer was, in words, never quoting it (zeep's messages carry the body)."""
    if isinstance(exc, _Unreadable):
        return str(exc)
    if isinstance(exc, httpx.TransportError):
        return f"no answer: {type(exc).__name__}"
    if isinstance(exc, TransportError) and getattr(exc, "content", None) is None:
        return f"HTTP {exc.status_code} with no SOAP answer"
    return "an answer that is not well-formed XML (cut short or garbled)"


class _DeadSession(Exception):
    pass


class _WrongIdentity(Exception):
    pass
