"""24SevenOffice as a local server with two faces: the SOAP web services at their real paths,
and the payroll REST API under ``/payroll/api``.

State (``GET/PUT /_sandbox/state``): ``Project``, ``PersonItem``, ``User``, ``WorkType``,
``SalaryType``, ``Hour`` hold SOAP records with the WSDL's element names as keys; the sandbox's
own bookkeeping uses keys that start with ``_`` (``_Deactivated`` on a project: it is only listed
by ``GetDeactivatedProjects``; ``_DateChanged`` and ``_DateRegistered`` on an hour, for
``ChangedAfter``/``RegisteredAfter``). Stored values may be dirty, as the real service's are (a
date that is no date, an id that is no number, a control character or a lone surrogate in a
text): they are served as stored, the forbidden characters as character references like .NET's
serializer writes them. ``payroll/employee``, ``payroll/employment`` (each with its
``empId``), ``payroll/absence``, ``payroll/absencetypes`` and ``payroll/child`` hold the payroll
API's own JSON.

Behaviour (NOTES.md): ``Login`` returns an empty string for bad credentials; the session cookie
``ASP.NET_SessionId`` works on every service; a session dies after ``session_idle`` seconds
without requests ("Session is not authenticated") or by ``DELETE /_sandbox/sessions``; a user
may reach several identities (clients), one of them blocked; the data belongs to the first
identity, and a session on another faults with "Client is not authenticated on this identity";
at most ``requests_per_hour`` SOAP requests per user in each clock hour, then the quarantine
fault; every SOAP answer carries ``APILimitRemaining`` and ``APILimitReset``; dates are UTC.

Protocol, as ASMX has it: the Content-Type picks the SOAP version (``text/xml`` 1.1,
``application/soap+xml`` 1.2, anything else 415) and an envelope of the other version is a
VersionMismatch fault; SOAP 1.1 is dispatched by its required SOAPAction header, SOAP 1.2 by the
Content-Type's ``action`` or else the body's element, and a body that is not the action's
operation is refused; ``x.asmx`` takes POST and ``x.asmx?wsdl`` GET and HEAD, anything else is
405 with ``Allow``; an error in a handler is a ``soap:Server`` fault, never a bare 500.
"""

from __future__ import annotations

import contextlib
import copy
import re
import secrets
import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from fjordsync.testing.sandbox import FaultSpec, Request, Response, Sandbox, json_response
from fjordsync_twentyfourseven.sandbox.payroll import (
    DEFAULT_ACCESS_TOKEN,
    PayrollApi,
    absence_types,
)
from fjordsync_twentyfourseven.sandbox.soap import (
    SOAP11,
    SOAP12,
    SoapCall,
    SoapFault,
    SoapService,
    UnsupportedMediaType,
    soap12_action,
    soap_version,
)

WSDL_DIR = Path(__file__).resolve().parents[1] / "wsdl"
# path (lower case: IIS paths are case-insensitive) -> (WSDL file, service name)
SERVICES = {
    "/authenticate/v001/authenticate.asmx": ("authService.wsdl", "Authenticate"),
    "/client/v001/clientservice.asmx": ("clientService.wsdl", "ClientService"),
    "/crm/contact/personservice.asmx": ("personService.wsdl", "PersonService"),
    "/project/v001/projectservice.asmx": ("projectService.wsdl", "ProjectService"),
    "/timesheet/v001/timeservice.asmx": ("timeService.wsdl", "TimeService"),
}
SOAP_KEYS = ("Project", "PersonItem", "User", "WorkType", "SalaryType", "Hour")
PAYROLL_KEYS = (
    "payroll/employee",
    "payroll/employment",
    "payroll/absence",
    "payroll/absencetypes",
    "payroll/child",
)
NO_SESSION_NEEDED = {"Login", "HasSession", "AuthenticateByToken"}
UNSET_INT = -2147483648
UNSET_DATE = datetime(1, 1, 1)

DEFAULT_CREDENTIALS = {
    "ApplicationId": "8c1b4a5e-6f3d-4e2a-9b7c-0d1e2f3a4b5c",
    "Username": "integrasjon@fjordbygg.no",
    "Password": "sandbox-password",
}
DEFAULT_IDENTITIES = (
    {
        "Id": "6b7f3c2a-1d4e-4f5a-8b9c-0a1b2c3d4e5f",
        "Client": {"Id": 40051, "Name": "Fjord Bygg AS"},
    },
    {
        "Id": "1e2d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b",
        "Client": {"Id": 40052, "Name": "Fjord Eiendom AS"},
    },
    {
        "Id": "9f8e7d6c-5b4a-4392-8a1b-2c3d4e5f6a7b",
        "Client": {"Id": 40053, "Name": "Fjord Holding AS"},
        "IsDisabled": True,
    },
)

_services: dict[str, SoapService] = {}
_services_lock = threading.Lock()


def service(path: str) -> SoapService:
    """The SoapService for a path, built once per process (zeep parses each WSDL once)."""
    with _services_lock:
        if path not in _services:
            wsdl, name = SERVICES[path]
            _services[path] = SoapService(WSDL_DIR / wsdl, name)
        return _services[path]


def _moment(value: Any) -> datetime | None:
    """A dateTime from the state or a request, as naive UTC; the unset sentinel is None."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    moment = _naive_utc(moment)
    return None if moment <= UNSET_DATE else moment


def _naive_utc(moment: datetime) -> datetime:
    """``moment`` as naive UTC. An offset that carries it past either end of the range clamps
    to that end, as .NET's XsdDateTime does: ``0001-01-01T00:00:00+01:00`` is the unset date
    (DateTime.MinValue), not an error."""
    if moment.tzinfo is None:
        return moment
    try:
        return moment.astimezone(UTC).replace(tzinfo=None)
    except OverflowError:
        offset = moment.utcoffset() or timedelta(0)
        return datetime.min if offset > timedelta(0) else datetime.max


def _int(value: Any) -> int | None:
    return None if value in (None, "", UNSET_INT, str(UNSET_INT)) else int(value)


# The state may hold what the real service does hold and send: a date that is no date, an id
# that is no number, a control character in a name. Reading stored values never fails on them:
# a stored value that cannot be read is "there" for a filter on presence and matches no range.
def _stored_moment(value: Any) -> datetime | None:
    try:
        return _moment(value)
    except (TypeError, ValueError):
        return None


def _stored_int(value: Any) -> Any:
    try:
        return _int(value)
    except (TypeError, ValueError):
        return value


def _next_id(records: list[dict[str, Any]], floor: int) -> int:
    return max((r["Id"] for r in records if type(r.get("Id")) is int), default=floor) + 1


class _Ids:
    """Where each id of one state list is, and its largest int id, kept alongside the list so
    that a write costs the same with 10 or 100,000 records (a scan per SaveHour was most of the
    sandbox's CPU at scale, issue 12). The list stays the truth: the index is rebuilt when it is
    another list (``PUT /_sandbox/state``) or another length than when it was built, and a
    position is only believed when the record there still has that id; a miss is checked against
    a rebuilt index before it is reported, so the answers are those of a scan."""

    __slots__ = ("_length", "_records", "largest", "positions")

    def __init__(self) -> None:
        self._records: list[dict[str, Any]] | None = None
        self._length = -1
        self.largest: int | None = None
        self.positions: dict[Any, int] = {}

    def _rebuild(self, records: list[dict[str, Any]]) -> None:
        self._records, self._length = records, len(records)
        self.positions, self.largest = {}, None
        for position, record in enumerate(records):
            self._note(record, position)

    def _note(self, record: dict[str, Any], position: int) -> None:
        value = record.get("Id")
        # A dirty id that is no hashable value equals no id asked for: it is left out.
        with contextlib.suppress(TypeError):
            self.positions.setdefault(value, position)  # the first one, as a scan finds it
        if type(value) is int and (self.largest is None or value > self.largest):
            self.largest = value

    def _current(self, records: list[dict[str, Any]]) -> None:
        if records is not self._records or len(records) != self._length:
            self._rebuild(records)

    def next_id(self, records: list[dict[str, Any]], floor: int) -> int:
        """As ``_next_id``: one more than the largest int id, or than ``floor``."""
        self._current(records)
        return (floor if self.largest is None else self.largest) + 1

    def appended(self, records: list[dict[str, Any]]) -> None:
        """The handler appended ``records[-1]``: noted without a rebuild."""
        if records is self._records and len(records) == self._length + 1:
            self._length += 1
            self._note(records[-1], self._length - 1)
        else:
            self._rebuild(records)

    def find(self, records: list[dict[str, Any]], wanted: Any) -> int | None:
        """The position of the first record whose ``Id`` equals ``wanted``; None: there is none."""
        for attempt in range(2):
            if attempt:
                self._rebuild(records)
            else:
                self._current(records)
            try:
                position = self.positions.get(wanted)
            except TypeError:
                return _scan(records, wanted)
            if position is not None and records[position].get("Id") == wanted:
                return position
        return None


def _scan(records: list[dict[str, Any]], wanted: Any) -> int | None:
    return next((i for i, r in enumerate(records) if r.get("Id") == wanted), None)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def _iso(moment: datetime) -> str:
    # isoformat, not strftime: "%Y" writes year 1 (the unset date) as "1", not "0001".
    return moment.replace(microsecond=0, tzinfo=None).isoformat()


class _Session:
    def __init__(self, username: str, identity: str) -> None:
        self.username = username
        self.identity = identity
        self.last_used = time.monotonic()


class TwentyFourSevenSandbox(Sandbox):
    name = "twentyfourseven"

    def __init__(
        self,
        state: dict[str, Any] | None = None,
        faults: FaultSpec | None = None,
        *,
        credentials: dict[str, str] | None = None,
        identities: tuple[dict[str, Any], ...] = DEFAULT_IDENTITIES,
        default_identity: int = 0,
        session_idle: float = 20 * 60,
        requests_per_hour: int = 7200,
        payroll_tokens: tuple[str, ...] = (DEFAULT_ACCESS_TOKEN,),
        payroll_token_lifetime: float = 3600,
    ) -> None:
        super().__init__(state, faults)
        self.credentials = credentials or DEFAULT_CREDENTIALS
        self.identities = identities
        self.default_identity = identities[default_identity]["Id"]
        self.data_identity = identities[0]["Id"]
        self.session_idle = session_idle
        self.requests_per_hour = requests_per_hour
        self.sessions: dict[str, _Session] = {}
        self.usage: dict[tuple[str, int], int] = {}  # (user, hour) -> requests
        self.payroll = PayrollApi(self, payroll_tokens, payroll_token_lifetime)
        self._ids = {key: _Ids() for key in SOAP_KEYS}  # taken under self.lock, as the state

    # -- state ----------------------------------------------------------------------------------
    def empty_state(self) -> dict[str, Any]:
        state: dict[str, Any] = {key: [] for key in (*SOAP_KEYS, *PAYROLL_KEYS)}
        state["payroll/absencetypes"] = absence_types()
        return state

    def normalise_state(self, state: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(state, dict):
            raise ValueError("the state must be a JSON object")
        unknown = set(state) - set(SOAP_KEYS) - set(PAYROLL_KEYS)
        if unknown:
            raise ValueError(f"unknown keys: {', '.join(sorted(unknown))}")
        complete = self.empty_state()
        for key, records in state.items():
            if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
                raise ValueError(f"{key} must be a list of records")
            complete[key] = copy.deepcopy(records)
        return complete

    # -- routing --------------------------------------------------------------------------------
    def operation(self, request: Request) -> str:
        path = request.path.lower()
        if path in SERVICES:
            action = request.headers.get("soapaction", "") or request.headers.get(
                "content-type", ""
            )
            name = action.rsplit("/", 1)[-1].strip('"; ')
            return (
                f"SOAP {SERVICES[path][1]}.{name}" if request.method == "POST" else (f"GET {path}")
            )
        if request.path.startswith("/payroll/api"):
            return f"{request.method} {request.path}"
        return super().operation(request)

    def handle(self, request: Request) -> Response:
        path = request.path.lower()
        if path.startswith("/payroll/api/"):
            return self.payroll.handle(request, request.path[len("/payroll/api") :])
        if path not in SERVICES:
            return json_response(404, {"error": f"no service at {request.path}"})
        soap = service(path)
        # Two resources per path: ``x.asmx?wsdl`` (GET, HEAD) and ``x.asmx`` (POST of an
        # envelope). Any other method on either is 405 with the Allow that resource has, in
        # the words IIS uses.
        wants_wsdl = "wsdl" in {key.lower() for key, _ in request.query}
        allowed = ("GET", "HEAD") if wants_wsdl else ("POST",)
        if request.method not in allowed:
            return Response(
                405,
                f"The HTTP verb {request.method} used to access path '{request.path}' is not "
                "allowed.".encode(),
                {"Allow": ", ".join(allowed)},
                content_type="text/plain; charset=utf-8",
            )
        if wants_wsdl:
            base = f"http://{request.headers.get('host', '127.0.0.1')}"
            return Response(200, soap.wsdl(base).encode(), content_type="text/xml; charset=utf-8")
        return self._soap(soap, request)

    def _soap(self, soap: SoapService, request: Request) -> Response:
        request_type = request.headers.get("content-type", "")
        try:
            version = soap_version(request_type)
        except UnsupportedMediaType as exc:
            return Response(
                415,
                str(exc).encode(),
                {"Accept": "text/xml, application/soap+xml"},
                content_type="text/plain; charset=utf-8",
            )
        action = (
            request.headers.get("soapaction") if version == SOAP11 else soap12_action(request_type)
        )
        content_type = (
            "application/soap+xml; charset=utf-8"
            if version == SOAP12
            else "text/xml; charset=utf-8"
        )
        headers: dict[str, str] = {}
        try:
            call = soap.read(request.body, version, action)
            with self.lock:
                headers.update(self._count(self._user_of(call, request)))
                result, session_cookie, write = self._dispatch(soap, call, request)
            body = soap.answer(call, result)
            if session_cookie:
                headers["Set-Cookie"] = f"ASP.NET_SessionId={session_cookie}; path=/; HttpOnly"
            return Response(200, body, headers, content_type=content_type, write=write)
        except SoapFault as fault:  # ASMX answers every fault with HTTP 500
            return Response(500, soap.fault(version, fault), headers, content_type=content_type)
        except Exception as exc:  # a handler's error is a SOAP fault, as ASMX answers it
            failure = SoapFault(
                "System.Web.Services.Protocols.SoapException: Server was unable to process "
                f"request. ---> System.Exception: {type(exc).__name__}: {exc}"
            )
            return Response(500, soap.fault(version, failure), headers, content_type=content_type)

    # -- sessions, identities, rate limit ------------------------------------------------------
    def expire_sessions(self) -> None:
        with self.lock:
            self.sessions.clear()

    def control(self, request: Request) -> Response | None:
        """``DELETE /_sandbox/sessions`` kills every SOAP session, ``DELETE
        /_sandbox/payroll-tokens`` every payroll bearer token: expiry on request. ``GET
        /_sandbox/usage``: the SOAP requests counted against each user's clock hours, as
        ``[{"user", "hour", "requests"}]`` (a benchmark reads the budget's use over HTTP when
        the sandbox runs in another process)."""
        if request.method == "GET" and request.path == "/_sandbox/usage":
            with self.lock:
                usage = [
                    {"user": user, "hour": hour, "requests": used}
                    for (user, hour), used in self.usage.items()
                ]
            return json_response(200, usage)
        if request.method == "DELETE" and request.path == "/_sandbox/sessions":
            self.expire_sessions()
            return json_response(200, {"expired": "sessions"})
        if request.method == "DELETE" and request.path == "/_sandbox/payroll-tokens":
            self.payroll.expire_tokens()
            return json_response(200, {"expired": "payroll tokens"})
        return None

    def _session_id(self, request: Request) -> str | None:
        for part in request.headers.get("cookie", "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == "ASP.NET_SessionId":
                return value
        return None

    def _live_session(self, request: Request) -> _Session | None:
        session_id = self._session_id(request) or ""
        session = self.sessions.get(session_id)
        if session is None:
            return None
        if time.monotonic() - session.last_used > self.session_idle:
            del self.sessions[session_id]
            return None
        session.last_used = time.monotonic()
        return session

    def _user_of(self, call: SoapCall, request: Request) -> str:
        if call.operation == "Login":
            return str((call.arguments.get("credential") or {}).get("Username") or "")
        session = self.sessions.get(self._session_id(request) or "")
        return session.username if session else ""

    def _count(self, user: str) -> dict[str, str]:
        """Count a request against the user's hour; the headers to send; raises the
        quarantine fault past the limit."""
        hour = int(time.time() // 3600)
        used = self.usage.get((user, hour), 0) + 1
        self.usage[(user, hour)] = used
        reset = datetime.fromtimestamp((hour + 1) * 3600, UTC)
        if used > self.requests_per_hour:
            raise SoapFault(
                f"System.Exception: Limit exceeded by {used - self.requests_per_hour}. "
                f"Request is blocked. Quarantine ends at {reset.strftime('%Y-%m-%d %H:%M:%S')}"
            )
        return {
            "APILimitRemaining": str(max(self.requests_per_hour - used, 0)),
            "APILimitReset": reset.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }

    def _identity(self, identity_id: object) -> dict[str, Any]:
        for identity in self.identities:
            if identity["Id"].lower() == str(identity_id).lower():
                if identity.get("IsDisabled"):
                    raise SoapFault("Provided IdentityId is blocked and cannot be used.")
                return identity
        raise SoapFault("Provided IdentityId is not connected to the user.")

    # -- operations -----------------------------------------------------------------------------
    def _dispatch(
        self, soap: SoapService, call: SoapCall, request: Request
    ) -> tuple[Any, str | None, bool]:
        args = call.arguments
        if call.operation == "Login":
            return (*self._login(args.get("credential") or {}), False)
        session = self._live_session(request)
        if call.operation == "HasSession":
            return session is not None, None, False
        if session is None:
            raise SoapFault("Session is not authenticated")
        if call.operation == "GetIdentities":
            return (
                {"Identity": [self._identity_item(i, session) for i in self.identities]},
                (None),
                False,
            )
        if call.operation == "SetIdentityById":
            session.identity = self._identity(args.get("identityId"))["Id"]
            return True, None, False
        if session.identity != self.data_identity:
            raise SoapFault("Client is not authenticated on this identity")
        handler = getattr(self, f"_op_{call.operation}", None)
        if handler is None:
            raise SoapFault(f"{call.operation} is not served by the sandbox")
        result = handler(soap, args)
        return result, None, call.operation.startswith("Save")

    def _identity_item(self, identity: dict[str, Any], session: _Session) -> dict[str, Any]:
        return {
            "Id": identity["Id"],
            "User": {"ContactId": 1, "Name": self.credentials["Username"], "EmployeeId": 1},
            "Client": identity["Client"],
            "IsCurrent": identity["Id"] == session.identity,
            "IsDefault": identity["Id"] == self.default_identity,
            "IsProtected": False,
            "IsDisabled": bool(identity.get("IsDisabled")),
        }

    def _login(self, credential: dict[str, Any]) -> tuple[str, str | None]:
        expected = self.credentials
        if (
            str(credential.get("ApplicationId", "")).lower() != expected["ApplicationId"].lower()
            or credential.get("Username") != expected["Username"]
            or credential.get("Password") != expected["Password"]
        ):
            return "", None  # bad credentials: an empty string, not a fault
        identity = self.default_identity
        if credential.get("IdentityId") and str(credential["IdentityId"]) != (
            "00000000-0000-0000-0000-000000000000"
        ):
            identity = self._identity(credential["IdentityId"])["Id"]
        session_id = secrets.token_hex(12)
        self.sessions[session_id] = _Session(expected["Username"], identity)
        return session_id, session_id

    def _op_GetUsers(self, soap: SoapService, args: dict[str, Any]) -> Any:
        return {"User": [soap.complete("User", u) for u in self.state["User"]]}

    def _visible(self, record: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in record.items() if not k.startswith("_")}

    def _op_GetPersons(self, soap: SoapService, args: dict[str, Any]) -> Any:
        """Every documented filter of PersonSearchParameters, all of them together (AND); a
        field at its WSDL default filters nothing. How the text filters match is not documented:
        the sandbox decides, case-insensitively: ``Name`` is a part of "FirstName LastName",
        ``Phone`` the end of a phone number's digits, ``Email`` and ``ConsumerPersonNo`` whole
        values, ``Role`` the WorkPosition or a relation's Title; ``CustomerId`` is the person's
        own or a relation's. ``GetRelationData`` false (the default) leaves RelationData out."""
        search = soap.given("PersonSearchParameters", args.get("personSearch"))
        people = self.state["PersonItem"]
        for field in ("Id", "EmployeeId"):
            if field in search:
                people = [p for p in people if _stored_int(p.get(field)) == int(search[field])]
        if "CustomerId" in search:
            wanted_customer = int(search["CustomerId"])
            people = [
                p
                for p in people
                if _stored_int(p.get("CustomerId")) == wanted_customer
                or any(_stored_int(r.get("CustomerId")) == wanted_customer for r in _relations(p))
            ]
        if search.get("IsEmployee") in ("True", "False"):
            wanted = search["IsEmployee"] == "True"
            people = [p for p in people if (_stored_int(p.get("EmployeeId")) is not None) == wanted]
        after = _moment(search.get("ChangedAfter"))
        if after:
            people = [
                p for p in people if (_stored_moment(p.get("DateChanged")) or UNSET_DATE) > after
            ]
        if "Email" in search:
            wanted_email = search["Email"].lower()
            people = [
                p
                for p in people
                if any(
                    _text(e.get("Value")).lower() == wanted_email
                    for e in _items(p, "EmailAddresses", "EmailAddress")
                )
            ]
        if "ConsumerPersonNo" in search:
            people = [
                p for p in people if _text(p.get("ConsumerPersonNo")) == search["ConsumerPersonNo"]
            ]
        if "Name" in search:
            part = search["Name"].lower()
            people = [
                p
                for p in people
                if part in f"{_text(p.get('FirstName'))} {_text(p.get('LastName'))}".lower()
            ]
        if "Phone" in search:
            digits = re.sub(r"\D", "", search["Phone"])
            people = [
                p
                for p in people
                if digits
                and any(
                    re.sub(r"\D", "", _text(n.get("Value"))).endswith(digits)
                    for n in _items(p, "PhoneNumbers", "PhoneNumber")
                )
            ]
        if "Role" in search:
            role = search["Role"].lower()
            people = [
                p
                for p in people
                if _text(p.get("WorkPosition")).lower() == role
                or any(_text(r.get("Title")).lower() == role for r in _relations(p))
            ]
        answers = []
        for person in people:
            visible = self._visible(person)
            if not search.get("GetRelationData"):
                visible.pop("RelationData", None)
            answers.append(soap.complete("PersonItem", visible))
        return {"PersonItem": answers}

    def _op_SavePerson(self, soap: SoapService, args: dict[str, Any]) -> Any:
        item = {k: v for k, v in (args.get("personItem") or {}).items() if v is not None}
        people = self.state["PersonItem"]
        item["DateChanged"] = _iso(_now())
        # Id 0 is PersonItem.Id's WSDL default: a new person, as is an Id left out.
        if _int(item.get("Id")) in (None, 0):
            item.pop("Id", None)
            if _int(item.get("EmployeeId")) is not None:
                raise SoapFault("Employees cannot be created through PersonService")
            item["Id"] = _next_id(people, 1000)
            people.append(_jsonable(item))
            return item["Id"]
        for index, person in enumerate(people):
            if person.get("Id") == _int(item["Id"]):
                people[index] = {**person, **_jsonable(item)}
                return person["Id"]
        raise SoapFault(f"Person with Id {item['Id']} does not exist")

    def _projects(
        self, soap: SoapService, args: dict[str, Any], *, deactivated: bool
    ) -> list[dict[str, Any]]:
        search = soap.given("ProjectSearch", args.get("Ps") or args.get("ps"))
        for flag in ("MyProjects", "AllOpenProjects"):
            # Which projects these mean is not documented: refused rather than ignored, so
            # that nobody reads all projects as "mine".
            if search.get(flag):
                raise SoapFault(
                    f"System.NotSupportedException: {flag} is not served by the sandbox"
                )
        projects = [p for p in self.state["Project"] if bool(p.get("_Deactivated")) is deactivated]
        ids = (search.get("ProjectIds") or {}).get("int") or []
        if ids:
            projects = [p for p in projects if p.get("Id") in set(ids)]
        after = _moment(search.get("ChangedAfter"))
        if after:
            projects = [
                p for p in projects if (_stored_moment(p.get("DateChanged")) or UNSET_DATE) > after
            ]
        if _int(search.get("CustomerId")) is not None:
            projects = [p for p in projects if p.get("CustomerId") == _int(search["CustomerId"])]
        if search.get("Search"):
            projects = [
                p for p in projects if search["Search"].lower() in str(p.get("Name", "")).lower()
            ]
        # StartedAfter/StartedBefore: DateStart strictly after/before; no DateStart, no match.
        started_after = _moment(search.get("StartedAfter"))
        if started_after:
            projects = [
                p
                for p in projects
                if (_stored_moment(p.get("DateStart")) or UNSET_DATE) > started_after
            ]
        started_before = _moment(search.get("StartedBefore"))
        if started_before:
            projects = [
                p
                for p in projects
                if UNSET_DATE < (_stored_moment(p.get("DateStart")) or UNSET_DATE) < started_before
            ]
        return projects

    def _project_list(self, soap: SoapService, projects: list[dict[str, Any]]) -> Any:
        return {"Project": [soap.complete("Project", self._visible(p)) for p in projects]}

    def _op_GetProjectList(self, soap: SoapService, args: dict[str, Any]) -> Any:
        return self._project_list(soap, self._projects(soap, args, deactivated=False))

    _op_GetProjectsDetailed = _op_GetProjectList

    def _op_GetDeactivatedProjects(self, soap: SoapService, args: dict[str, Any]) -> Any:
        return self._project_list(soap, self._projects(soap, args, deactivated=True))

    def _op_GetSingleProject(self, soap: SoapService, args: dict[str, Any]) -> Any:
        for project in self.state["Project"]:
            if project.get("Id") == _int(args.get("projectId")):
                return soap.complete("Project", self._visible(project))
        raise SoapFault(f"Project with id {args.get('projectId')} was not found")

    def _op_SaveProject(self, soap: SoapService, args: dict[str, Any]) -> Any:
        item = {k: v for k, v in (args.get("project") or {}).items() if v is not None}
        item["DateChanged"] = _iso(_now())
        projects = self.state["Project"]
        if _int(item.get("Id")) is None:
            item["Id"] = _next_id(projects, 1000)
            item.setdefault("DateRegistered", item["DateChanged"])
            projects.append(_jsonable(item))
            return item["Id"]
        for index, project in enumerate(projects):
            if project.get("Id") == _int(item["Id"]):
                projects[index] = {**project, **_jsonable(item)}
                return project["Id"]
        raise SoapFault(f"Project with id {item['Id']} was not found")

    def _op_GetHours(self, soap: SoapService, args: dict[str, Any]) -> Any:
        search = args.get("hs") or {}
        hours = self.state["Hour"]
        for field in ("ContactId", "ProjectId", "TypeOfWorkId"):
            if _int(search.get(field)) is not None:
                hours = [h for h in hours if h.get(field) == _int(search[field])]
        ids = (search.get("HourIds") or {}).get("int") or []
        if len(ids) > 1000:
            raise SoapFault("HourIds can hold at most 1000 ids", client=True)
        if ids:
            hours = [h for h in hours if h.get("Id") in set(ids)]
        start, stop = _moment(search.get("StartTime")), _moment(search.get("StopTime"))
        if start:
            hours = [
                h for h in hours if (_stored_moment(h.get("StartTime")) or UNSET_DATE) >= start
            ]
        if stop:
            hours = [h for h in hours if (_stored_moment(h.get("StartTime")) or UNSET_DATE) <= stop]
        # ChangedAfter and RegisteredAfter have minute precision: seconds are ignored.
        for field, own in (
            ("ChangedAfter", "_DateChanged"),
            ("RegisteredAfter", "_DateRegistered"),
        ):
            after = _moment(search.get(field))
            if after:
                after = after.replace(second=0)
                hours = [h for h in hours if (_stored_moment(h.get(own)) or UNSET_DATE) > after]
        status = search.get("Status")
        if status and status != "none":
            hours = [h for h in hours if _hour_status(h) == status]
        return {"Hour": [soap.complete("Hour", self._visible(h)) for h in hours]}

    def _op_SaveHour(self, soap: SoapService, args: dict[str, Any]) -> Any:
        item = _jsonable({k: v for k, v in (args.get("Hour") or {}).items() if v is not None})
        for field in ("TotalHours", "TotalHoursInvoice"):  # both "max 255" (TimeService.md)
            if Decimal(str(item.get(field, "0"))) > 255:
                raise SoapFault(
                    f"System.ArgumentException: {field} cannot be more than 255", client=True
                )
        if _int(item.get("OrderId")) is not None:  # "OrderId int (read-only)"
            raise SoapFault("System.ArgumentException: OrderId is read-only", client=True)
        checks = (
            ("ContactId", "PersonItem", "Id"),
            ("ProjectId", "Project", "Id"),
            ("TypeOfWorkId", "WorkType", "Id"),
            ("SalaryTypeId", "SalaryType", "Id"),
        )
        for field, key, _ in checks:
            value = _int(item.get(field))
            if value is not None and self._ids[key].find(self.state[key], value) is None:
                raise SoapFault(
                    f"System.ArgumentException: {field} {value} does not exist", client=True
                )
        now = _iso(_now())
        hours = self.state["Hour"]
        hour_id = _int(item.get("Id"))
        index = self._ids["Hour"]
        if hour_id is None:
            item["Id"] = index.next_id(hours, 5000)
            item.update({"_DateRegistered": now, "_DateChanged": now})
            hours.append(item)
            index.appended(hours)
            return item["Id"]
        position = index.find(hours, hour_id)
        if position is not None:
            hour = hours[position]
            if _hour_status(hour) in ("Locked", "Approved"):
                raise SoapFault(
                    f"System.Exception: Hour {hour_id} is "
                    f"{_hour_status(hour).lower()} and cannot be changed"
                )
            hours[position] = {**hour, **item, "_DateChanged": now}
            return hour_id
        raise SoapFault(f"System.Exception: Hour {hour_id} does not exist")

    def _op_GetWorkTypeList(self, soap: SoapService, args: dict[str, Any]) -> Any:
        search = args.get("wts") or {}
        types = self.state["WorkType"]
        # With ProjectId, Active is ignored: the sandbox keeps no per-project work types, so a
        # project gets them all (as a project with none ticked does).
        if _int(search.get("ProjectId")) is None and search.get("Active") in ("True", "False"):
            wanted = search["Active"] == "True"
            types = [t for t in types if bool(t.get("_Active", True)) is wanted]
        return {"WorkType": [soap.complete("WorkType", self._visible(t)) for t in types]}

    def _op_GetSalaryTypes(self, soap: SoapService, args: dict[str, Any]) -> Any:
        return {"SalaryType": [soap.complete("SalaryType", s) for s in self.state["SalaryType"]]}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _items(record: dict[str, Any], array: str, item: str) -> list[dict[str, Any]]:
    """The items of a stored array (``{"EmailAddresses": {"EmailAddress": [...]}}``); a
    stored value of another shape holds none."""
    holder = record.get(array)
    items = holder.get(item) if isinstance(holder, dict) else None
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def _relations(person: dict[str, Any]) -> list[dict[str, Any]]:
    return _items(person, "RelationData", "RelationData")


def _hour_status(hour: dict[str, Any]) -> str:
    if hour.get("Approved") == "True":
        return "Approved"
    if hour.get("Locked") == "True":
        return "Locked"
    if hour.get("Approved") == "False" and hour.get("_Rejected"):
        return "Rejected"
    return "Registered"


def _jsonable(value: Any) -> Any:
    """zeep hands datetimes and decimals; the state keeps JSON."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return _iso(_naive_utc(value))
    if isinstance(value, Decimal):
        return str(value)
    return value
