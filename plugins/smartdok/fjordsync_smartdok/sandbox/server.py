"""The SmartDok API as a local server, as ``openapi.json`` and NOTES.md describe it.

State (``GET/PUT /_sandbox/state``): ``Users``, ``Projects``, ``WorkDescriptions``, ``Wages``,
``WorkHours`` (records in the API's own output JSON; hours in the v1 ``WorkHourOutput`` shape,
from which the v2 view is derived) and ``LicenseInfo`` (an object).

Behaviour the documents leave open, chosen here: collections page by ``offset``/``count``
(default and largest page 100 for work hours, 1000 otherwise); ``onlyAttested`` (default true)
keeps hours with ``AdminAttested``, the last attestation level; ``includeExported`` (default
false) adds hours SmartDok itself exported to payroll (``Exported``); v2's ``approved`` is the
same attestation; save errors are 400 ``{Code, Error, Message}``; API tokens are those given to
the server, each with the claims it carries (a token without the ``WorkHours`` claim gets 401
"Missing claims" on work hours); sessions last ``session_lifetime`` seconds.

Stored records may be dirty (a test puts what a real SmartDok has been seen to send: text where a
number belongs, a date not in the calendar, no ``WorkHourID``) and are served as stored; only
requests are validated. Filters read a stored value they cannot parse this way: a ``Date`` is
compared as its text (ISO dates sort as text, so "2026-11-31" falls between the 30th and
December) and a non-text one is in no window; a ``LastUpdated``/``Updated`` that is no time
passes every "changed since" filter (it cannot be shown to be older).

Requests are bound as ASP.NET binds them: a query parameter or a body member of the type
``openapi.json`` declares (``QUERY_TYPES``, ``USER_TYPES``, ``PROJECT_TYPES``) or a 400
ProblemDetails, before anything is read or stored. The documented filters act: number and name
filters match the whole text (case and surrounding spaces aside), ``/Projects`` hides orders
unless ``includeOrders``, and hours filter on project, subproject, area and absence (an absence
wage type or absence project).
"""

from __future__ import annotations

import copy
import json
import re
import secrets
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from fjordsync.domain.values import Email
from fjordsync.errors import InvalidValue
from fjordsync.testing.sandbox import FaultSpec, Request, Response, Sandbox, json_response

DEFAULT_API_TOKEN = "smartdok-sandbox-token"  # noqa: S105 - the sandbox's well-known token
LIMITED_API_TOKEN = "smartdok-no-hours-token"  # noqa: S105 - a token without the hours claim
CLAIMS = ("Users", "Projects", "WorkDescriptions", "Wages", "WorkHours", "LicenseInfo")
STATE_KEYS = ("Users", "Projects", "WorkDescriptions", "Wages", "WorkHours", "LicenseInfo")
MAX_WINDOW_DAYS = 93
USER_LIMITS = {
    "UserName": 256,
    "Password": 256,
    "Name": 50,
    "PhonePrefix": 4,
    "PhoneNumber": 16,
    "Email": 256,
    "EmployeeNo": 50,
    "ExternalEmployeeNo": 50,
}
USER_REQUIRED = ("UserName", "Name", "Email", "EmployeeNo")
PROJECT_LIMITS = {
    "ProjectName": 70,
    "ProjectNumber": 20,
    "DescriptionText": 600,
    "Location": 50,
    "ProjectOwnerName": 50,
    "ProjectOwnerEmail": 200,
    "ProjectOwnerMobile": 20,
    "ClientCompanyName": 50,
    "ClientCompanyContact": 50,
    "ClientCompanyEmail": 200,
    "ClientCompanyMobile": 20,
    "InvoiceCalculationNote": 50,
    "ExternalReference": 100,
}
PROJECT_REQUIRED = ("ProjectName", "ProjectNumber")
# Output fields a PUT leaves empty when the body leaves them out ("replaces the whole resource").
PROJECT_OUTPUT_STRINGS = (
    "Location",
    "ProjectOwnerName",
    "ProjectOwnerEmail",
    "ProjectOwnerMobile",
    "ClientCompanyName",
    "ClientCompanyContact",
    "ClientCompanyEmail",
    "ClientCompanyMobile",
    "DescriptionText",
    "DocumentUrl",
)

# The types ``openapi.json`` declares for the query parameters of each served operation and for
# the members of ``UserInput`` and ``ProjectInput``. A value that does not bind to its type is a
# 400 ProblemDetails, as ASP.NET's model binding answers, before anything is read or stored; a
# trailing "?" admits null. Members the input types do not declare are ignored, as the API
# ignores them (an update PUTs back a whole GET answer).
QUERY_TYPES: dict[str, dict[str, str]] = {
    "GET /Users": {"all": "bool", "active": "bool"},
    "GET /Projects": {
        "projectNumber": "text",
        "projectName": "text",
        "all": "bool",
        "active": "bool",
        "includeOrders": "bool",
        "updatedSince": "moment",
        "createdSince": "moment",
    },
    "GET /WorkDescriptions": {
        "workDescriptionNumber": "text",
        "workDescriptionName": "text",
        "all": "bool",
        "active": "bool",
    },
    "GET /Wages": {"wageNumber": "text", "wageName": "text", "all": "bool", "active": "bool"},
    "GET /WorkHours": {
        "fromDate": "moment",
        "toDate": "moment",
        "includeExported": "bool",
        "onlyAttested": "bool",
        "includeMachineHours": "bool",
        "includeWagesMarkedNoExport": "bool",
        "projectId": "int",
        "subProjectId": "int",
        "areaId": "int",
        "exportedExternal": "bool",
        "exportedExternalId": "text",
        "absence": "bool",
        "includeHourBankHours": "bool",
        "includeAllowanceMarkedNoExport": "bool",
        "lastUpdated": "moment",
    },
    "GET /WorkHours/v2": {
        "offset": "int",
        "count": "int",
        "fromDate": "moment",
        "toDate": "moment",
        "projectId": "int",
        "subProjectId": "int",
        "areaId": "int",
        "lastUpdated": "moment",
        "approved": "bool",
        "absence": "bool",
    },
    "POST /WorkHours/SetExportedExternal": {
        "exportedExternalId": "text",
        "setAsExportedExternal": "bool",
    },
    "POST /WorkHours/UnmarkExportedExternal": {"exportedExternalId": "text"},
}
ROLES = (
    "User",
    "Guest",
    "Foreman",
    "ProjectAdministrator",
    "Administrator",
    "EmployeeWithoutAccess",
    "SubContractor",
)
USER_TYPES: dict[str, str] = {
    "UserName": "text",
    "Password": "text?",
    "Name": "text",
    "PhonePrefix": "text?",
    "PhoneNumber": "text?",
    "Email": "email",
    "IsLockedOut": "bool",
    "Role": "role",
    "CountryID": "int",
    "LanguageCode": "text?",
    "DepartmentId": "int?",
    "GroupId": "int?",
    "EmployeeNo": "text",
    "ExternalEmployeeNo": "text?",
    "BirthDate": "text?",
    "IsEnded": "bool?",
    "UserIsResource": "bool",
    "SendSMS": "bool",
    "AccessibleProjects": "ints",
    **{
        f"{kin}{part}": "text?"
        for kin in ("NextOfKin", "NextOfKin2")
        for part in ("Name", "PhonePrivate", "PhoneWork", "Relation")
    },
}
PROJECT_TYPES: dict[str, str] = {
    **{
        field: "text?"
        for field in (
            "DescriptionText",
            "Location",
            "ProjectOwnerName",
            "ProjectOwnerEmail",
            "ProjectOwnerMobile",
            "ClientCompanyName",
            "ClientCompanyContact",
            "ClientCompanyEmail",
            "ClientCompanyMobile",
            "DocumentUrl",
            "InvoiceCalculationNote",
            "ExternalReference",
        )
    },
    "ProjectName": "text",
    "ProjectNumber": "text",
    "CustomerId": "int?",
    "StartDate": "moment?",
    "EndDate": "moment?",
    "Departments": "ints?",
    "ActivityIds": "ints?",
    "CalculatedTimeConsumption": "int?",
    "HourlyRate": "number",
    "InternalCostPerHour": "number",
    "UserIds": "uuids?",
    "IsActive": "bool",
    "IsAbsenceProject": "bool",
    "Finished": "bool",
    "ToBeInvoiced": "bool",
    "GeoLocation": "geo",
    "OrderTypeId": "int?",
    "HSEResponsibleId": "uuid?",
    "QAResponsibleId": "uuid?",
}
INT32 = (-(2**31), 2**31 - 1)
_MOMENT = re.compile(
    r"^\d{4}-\d{2}-\d{2}(?:[Tt]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?(?:[Zz]|[+-]\d{2}:\d{2})?)?$"
)
_UUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _save_error(field: str, code: str, message: str) -> Response:
    return json_response(400, {"Code": code, "Error": field, "Message": message})


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() == "true"


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (
        moment.replace(tzinfo=None)
        if moment.tzinfo is None
        else moment.astimezone(UTC).replace(tzinfo=None)
    )


def _stored_moment(value: Any) -> datetime | None:
    """A stored date-time, or None when it is not one (dirty stored data)."""
    if not isinstance(value, str):
        return None
    try:
        return _moment(value)
    except ValueError:
        return None


def _changed_since(value: Any, since: datetime) -> bool:
    moment = _stored_moment(value)
    return moment is None or moment >= since


def _stored_day(hour: dict[str, Any]) -> str | None:
    value = hour.get("Date")
    return value[:10] if isinstance(value, str) else None


def _span(hours: Any) -> str:
    if isinstance(hours, bool) or not isinstance(hours, int | float):
        return "00:00:00"  # the v2 view of a dirty v1 value: no span
    total = round((hours or 0) * 60)
    return f"{total // 60:02d}:{total % 60:02d}:00"


def _check(
    body: dict[str, Any], required: tuple[str, ...], limits: dict[str, int]
) -> Response | None:
    for field in required:
        if not str(body.get(field) or "").strip():
            return _save_error(field, "Required", f"The {field} field is required.")
    for field, limit in limits.items():
        value = body.get(field)
        if isinstance(value, str) and len(value) > limit:
            return _save_error(
                field,
                "MaxLength",
                f"The field {field} must be a string with a maximum length of {limit}.",
            )
    return None


def _is_moment(text: str) -> bool:
    """A date or a date-time as ASP.NET binds it (the connector sends plain dates too)."""
    if not _MOMENT.match(text):
        return False
    try:
        _moment(text.upper())
    except ValueError:
        return False
    return True


def _is_email(value: Any) -> bool:
    if not isinstance(value, str) or value != value.strip():
        return False
    try:
        Email(value)
    except InvalidValue:
        return False
    return True


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and INT32[0] <= value <= INT32[1]


_BODY_KINDS: dict[str, Callable[[Any], bool]] = {
    "text": lambda v: isinstance(v, str),
    "email": _is_email,
    "role": lambda v: v in ROLES,
    "bool": lambda v: isinstance(v, bool),
    "int": _is_int,
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "moment": lambda v: isinstance(v, str) and _is_moment(v),
    "uuid": lambda v: isinstance(v, str) and bool(_UUID.match(v)),
    "ints": lambda v: isinstance(v, list) and all(_is_int(i) for i in v),
    "uuids": lambda v: isinstance(v, list) and all(_BODY_KINDS["uuid"](i) for i in v),
    "geo": lambda v: (
        isinstance(v, dict) and all(_BODY_KINDS["number"](v[k]) for k in ("Lat", "Lon") if k in v)
    ),
}


def _query_binds(text: str, kind: str) -> bool:
    if kind == "bool":
        return text.lower() in ("true", "false")
    if kind == "int":
        return bool(re.fullmatch(r"[+-]?\d{1,10}", text)) and INT32[0] <= int(text) <= INT32[1]
    if kind == "moment":
        return _is_moment(text)
    return True


def _not_bound(errors: dict[str, list[str]]) -> Response:
    """ASP.NET's answer to a request whose parameters or body do not bind."""
    return json_response(
        400,
        {
            "Type": "https://tools.ietf.org/html/rfc9110#section-15.5.1",
            "Title": "One or more validation errors occurred.",
            "Status": 400,
            "Errors": errors,
        },
    )


def _bind_query(operation: str, pairs: list[tuple[str, str]]) -> Response | None:
    declared = QUERY_TYPES.get(operation, {})
    errors = {
        name: [f"The value '{value}' is not valid."]
        for name, value in pairs
        if name in declared and not _query_binds(value, declared[name])
    }
    return _not_bound(errors) if errors else None


def _bind_body(body: dict[str, Any], types: dict[str, str]) -> Response | None:
    errors: dict[str, list[str]] = {}
    for name, kind in types.items():
        if name not in body:
            continue
        value = body[name]
        if value is None and kind.endswith("?"):
            continue
        if value is None or not _BODY_KINDS[kind.rstrip("?")](value):
            errors[f"$.{name}"] = [f"The JSON value could not be converted ({kind.rstrip('?')})."]
    return _not_bound(errors) if errors else None


def _matches(value: Any, wanted: str | None) -> bool:
    """A name or number filter: no filter, or the same text (case and spaces aside)."""
    if not wanted:
        return True
    return isinstance(value, str) and value.strip().casefold() == wanted.strip().casefold()


class SmartDokSandbox(Sandbox):
    name = "smartdok"

    def __init__(
        self,
        state: dict[str, Any] | None = None,
        faults: FaultSpec | None = None,
        *,
        api_tokens: dict[str, tuple[str, ...]] | None = None,
        session_lifetime: float = 3600,
    ) -> None:
        super().__init__(state, faults)
        self.api_tokens = api_tokens or {
            DEFAULT_API_TOKEN: CLAIMS,
            LIMITED_API_TOKEN: tuple(c for c in CLAIMS if c != "WorkHours"),
        }
        self.session_lifetime = session_lifetime
        self.sessions: dict[str, tuple[float, tuple[str, ...]]] = {}

    def empty_state(self) -> dict[str, Any]:
        state: dict[str, Any] = {key: [] for key in STATE_KEYS}
        state["LicenseInfo"] = {"AvailableLicenses": 10, "TotalLicenses": 10}
        return state

    def normalise_state(self, state: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(state, dict):
            raise ValueError("the state must be a JSON object")
        unknown = set(state) - set(STATE_KEYS)
        if unknown:
            raise ValueError(f"unknown keys: {', '.join(sorted(unknown))}")
        complete = self.empty_state()
        complete.update(copy.deepcopy(state))
        # The shape is checked (lists of objects), the stored values are not: they may be as
        # dirty as the vendor's.
        for key in STATE_KEYS:
            if key == "LicenseInfo":
                if not isinstance(complete[key], dict):
                    raise ValueError("LicenseInfo must be an object")
            elif not isinstance(complete[key], list) or not all(
                isinstance(r, dict) for r in complete[key]
            ):
                raise ValueError(f"{key} must be a list of objects")
        return complete

    def control(self, request: Request) -> Response | None:
        if request.method == "DELETE" and request.path == "/_sandbox/sessions":
            with self.lock:
                self.sessions.clear()
            return json_response(200, {"expired": "sessions"})
        return None

    def operation(self, request: Request) -> str:
        path = re.sub(r"/[0-9a-fA-F-]{36}$|/\d+$", "/{id}", request.path)
        return f"{request.method} {path}"

    # -- routing ------------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        parts = [p for p in request.path.split("/") if p]
        if parts == ["Authorize", "ApiToken"] and request.method == "POST":
            return self._authorize(request)
        claims = self._claims(request)
        if claims is None:
            return Response(401, b"", content_type="text/plain")
        needed = next((c for c in CLAIMS if c in parts), None)
        if needed and needed not in claims:
            return Response(401, b'"Missing claims"', content_type="application/json")
        query = request.query_dict()
        unbound = _bind_query(f"{request.method} /{'/'.join(parts)}", request.query)
        if unbound:
            return unbound
        try:
            body = json.loads(request.body) if request.body else None
        except ValueError:
            return _not_bound({"$": ["The body is not valid JSON."]})
        with self.lock:
            return self._route(request.method, parts, query, body)

    def _authorize(self, request: Request) -> Response:
        try:
            token = json.loads(request.body or b"{}").get("Token")
        except (ValueError, AttributeError):
            token = None
        claims = self.api_tokens.get(token or "")
        if claims is None:
            return Response(401, b"", content_type="text/plain")
        session = secrets.token_urlsafe(32)
        with self.lock:
            self.sessions[session] = (time.monotonic() + self.session_lifetime, claims)
        return json_response(200, session)

    def _claims(self, request: Request) -> tuple[str, ...] | None:
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        with self.lock:
            found = self.sessions.get(bearer)
            if found is None:
                return None
            expires, claims = found
            if expires < time.monotonic():
                del self.sessions[bearer]
                return None
            return claims

    def _route(self, method: str, parts: list[str], query: dict[str, str], body: Any) -> Response:
        match (method, parts):
            case ("GET", ["LicenseInfo"]):
                return json_response(200, self.state["LicenseInfo"])
            case ("GET", ["Users"]):
                users = self.state["Users"]
                if not _bool(query.get("all"), False):
                    active = _bool(query.get("active"), True)
                    users = [u for u in users if (not u.get("IsEnded")) is active]
                return self._page(users, query, 1000)
            case ("GET", ["Users", user_id]):
                return self._one(self.state["Users"], "Id", user_id)
            case ("POST", ["Users"]):
                return self._create_user(body)
            case ("PUT", ["Users", user_id]):
                return self._replace_user(user_id, body)
            case ("GET", ["Projects"]):
                return self._projects(query)
            case ("GET", ["Projects", project_id]):
                return self._one(self.state["Projects"], "Id", project_id)
            case ("POST", ["Projects"]):
                return self._create_project(body)
            case ("PUT", ["v3", "Projects", project_id]):
                return self._replace_project(project_id, body)
            case ("GET", ["WorkDescriptions"]):
                return self._codes("WorkDescriptions", "workDescription", query)
            case ("GET", ["Wages"]):
                return self._codes("Wages", "wage", query)
            case ("GET", ["WorkHours"]):
                return self._hours_v1(query)
            case ("GET", ["WorkHours", "v2"]):
                return self._hours_v2(query)
            case ("POST", ["WorkHours", "SetExportedExternal"]):
                return self._set_exported(query, body)
            case ("POST", ["WorkHours", "UnmarkExportedExternal"]):
                return self._unmark_exported(query)
        return Response(404, b"", content_type="text/plain")

    def _codes(self, key: str, prefix: str, query: dict[str, str]) -> Response:
        """Activities and wage types, a bare array: ``all`` defaults to true here (the
        document's defaults), ``active`` then filters when ``all`` is false. Without a filter
        the stored list is served as stored, dirty entries too."""
        items = self.state[key]
        number, name = query.get(f"{prefix}Number"), query.get(f"{prefix}Name")
        every = _bool(query.get("all"), True)
        if not isinstance(items, list) or (every and not number and not name):
            return json_response(200, items)
        items = [
            i
            for i in items
            if isinstance(i, dict)
            and _matches(i.get("Number"), number)
            and _matches(i.get("Name"), name)
        ]
        if not every:
            active = _bool(query.get("active"), False)
            items = [i for i in items if bool(i.get("IsActive", True)) is active]
        return json_response(200, items)

    def _page(
        self,
        items: list[dict[str, Any]],
        query: dict[str, str],
        largest: int,
        view: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    ) -> Response:
        """One page of ``items``; ``view``: how each item on the page is shown (only the
        page's items, not every item of the listing, are turned into their view)."""
        try:
            offset = max(int(query.get("offset") or 0), 0)
            count = min(max(int(query.get("count") or largest), 1), largest)
        except ValueError:
            return json_response(400, {"Title": "offset and count must be integers", "Status": 400})
        page = items[offset : offset + count]
        if view is not None:
            page = [view(item) for item in page]
        return json_response(
            200, {"Count": len(page), "Offset": offset, "TotalCount": len(items), "Items": page}
        )

    def _one(self, items: list[dict[str, Any]], key: str, value: str) -> Response:
        for item in items:
            if str(item.get(key)) == value:
                return json_response(200, item)
        return Response(404, b"", content_type="text/plain")  # no body, as the API answers

    # -- users --------------------------------------------------------------------------------
    def _user_from(self, body: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
        user = dict(base)
        for field in (
            "UserName",
            "Name",
            "Email",
            "PhonePrefix",
            "PhoneNumber",
            "EmployeeNo",
            "ExternalEmployeeNo",
            "BirthDate",
            "DepartmentId",
            "NextOfKinName",
            "NextOfKinPhonePrivate",
            "NextOfKinPhoneWork",
            "NextOfKinRelation",
        ):
            user[field] = body.get(field)  # a full replace: what is left out becomes empty
        user["Role"] = body.get("Role") or "User"
        user["IsEnded"] = bool(body.get("IsEnded") or False)
        user["IsLockedOut"] = bool(body.get("IsLockedOut") or False)
        if body.get("LanguageCode"):
            user["LanguageCode"] = body["LanguageCode"]
        return user

    def _create_user(self, body: Any) -> Response:
        if not isinstance(body, dict):
            return _save_error("body", "Required", "A user is required.")
        unbound = _bind_body(body, USER_TYPES)
        if unbound:
            return unbound
        error = _check(body, (*USER_REQUIRED, "Password"), USER_LIMITS)
        if error:
            return error
        if any(u.get("UserName") == body["UserName"] for u in self.state["Users"]):
            return _save_error("UserName", "Duplicate", "The user name is taken.")
        licences = self.state["LicenseInfo"]
        free = licences.get("AvailableLicenses", 0)
        if not isinstance(free, int) or isinstance(free, bool):
            # A stored count that is no number (dirty state): the save fails as SmartDok's
            # does when it cannot tell a free licence, and nothing is created.
            return _save_error(
                "License", "LicenseUnknown", "The number of available licenses is unknown."
            )
        if free <= 0:
            return _save_error("License", "NoAvailableLicenses", "There are no available licenses.")
        licences["AvailableLicenses"] -= 1
        now = _now()
        user = self._user_from(
            body,
            {
                "Id": str(uuid.uuid4()),
                "AccessLevelId": str(uuid.uuid4()),
                "GroupId": 1,
                "GroupName": "Ansatte",
                "LanguageCode": "nb-NO",
                "IsDeleted": False,
                "IsContactPerson": False,
                "LastActivityTime": now,
                "CreatedDate": now,
            },
        )
        self.state["Users"].append(user)
        return Response(200, json.dumps(user).encode(), write=True)

    def _replace_user(self, user_id: str, body: Any) -> Response:
        users = self.state["Users"]
        index = next((i for i, u in enumerate(users) if u.get("Id") == user_id), None)
        if index is None:
            return Response(404, b"", content_type="text/plain")
        if not isinstance(body, dict):
            return _save_error("body", "Required", "A user is required.")
        unbound = _bind_body(body, USER_TYPES)
        if unbound:
            return unbound
        error = _check(body, USER_REQUIRED, USER_LIMITS)
        if error:
            return error
        users[index] = self._user_from(body, users[index])
        return Response(200, json.dumps(users[index]).encode(), write=True)

    # -- projects -------------------------------------------------------------------------------
    def _projects(self, query: dict[str, str]) -> Response:
        projects = self.state["Projects"]
        if not _bool(query.get("all"), False):
            active = _bool(query.get("active"), True)
            projects = [p for p in projects if bool(p.get("IsActive")) is active]
        if query.get("projectNumber"):
            projects = [p for p in projects if p.get("ProjectNumber") == query["projectNumber"]]
        if query.get("projectName"):
            projects = [p for p in projects if _matches(p.get("ProjectName"), query["projectName"])]
        if not _bool(query.get("includeOrders"), False):
            projects = [p for p in projects if not p.get("IsOrder")]
        for param, field in (("updatedSince", "Updated"), ("createdSince", "Created")):
            if query.get(param):
                since = _moment(query[param])
                projects = [p for p in projects if p.get(field) and _changed_since(p[field], since)]
        return self._page(projects, query, 1000)

    def _project_from(self, body: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
        project = dict(base)
        for field in PROJECT_OUTPUT_STRINGS:
            project[field] = body.get(field) or ""
        for field in (
            "ProjectName",
            "ProjectNumber",
            "CustomerId",
            "StartDate",
            "EndDate",
            "ExternalReference",
            "InvoiceCalculationNote",
            "OrderTypeId",
        ):
            project[field] = body.get(field)
        for field in ("IsActive", "IsAbsenceProject", "Finished", "ToBeInvoiced"):
            project[field] = bool(body.get(field) or False)
        project["Departments"] = list(body.get("Departments") or [])
        project["UserIds"] = list(body.get("UserIds") or [])
        for field in ("HourlyRate", "InternalCostPerHour"):
            project[field] = body.get(field) or 0
        project["Updated"] = _now()
        return project

    def _create_project(self, body: Any) -> Response:
        if not isinstance(body, dict):
            return _save_error("body", "Required", "A project is required.")
        unbound = _bind_body(body, PROJECT_TYPES)
        if unbound:
            return unbound
        error = _check(body, PROJECT_REQUIRED, PROJECT_LIMITS)
        if error:
            return error
        projects = self.state["Projects"]
        project = self._project_from(
            body,
            {
                "Id": max(
                    (
                        p["Id"]
                        for p in projects
                        if isinstance(p.get("Id"), int) and not isinstance(p["Id"], bool)
                    ),
                    default=100,
                )
                + 1,
                "IsOrder": False,
                "CalcuatedTimeConsumption": 0,
                "CalculatedTimeConsumption": 0,
                "TimeConsumption": 0,
                "Created": _now(),
            },
        )
        projects.append(project)
        return Response(200, json.dumps(project).encode(), write=True)

    def _replace_project(self, project_id: str, body: Any) -> Response:
        projects = self.state["Projects"]
        index = next((i for i, p in enumerate(projects) if str(p.get("Id")) == project_id), None)
        if index is None:
            return Response(404, b"", content_type="text/plain")
        if not isinstance(body, dict):
            return _save_error("body", "Required", "A project is required.")
        unbound = _bind_body(body, PROJECT_TYPES)
        if unbound:
            return unbound
        error = _check(body, PROJECT_REQUIRED, PROJECT_LIMITS)
        if error:
            return error
        projects[index] = self._project_from(body, projects[index])
        return Response(200, json.dumps(projects[index]).encode(), write=True)

    # -- hours ----------------------------------------------------------------------------------
    def _hours_v1(self, query: dict[str, str]) -> Response:
        try:
            start = date.fromisoformat(query["fromDate"][:10])
            end = date.fromisoformat(query["toDate"][:10])
        except (KeyError, ValueError):
            return json_response(
                400, {"Title": "fromDate and toDate are required dates", "Status": 400}
            )
        if end < start or (end - start).days > MAX_WINDOW_DAYS:
            return json_response(
                400,
                {
                    "Title": f"fromDate and toDate must be at most {MAX_WINDOW_DAYS} days apart",
                    "Status": 400,
                },
            )
        first, last = start.isoformat(), end.isoformat()
        # _stored_day inlined: this runs over every hour for every page.
        hours = [
            h
            for h in self.state["WorkHours"]
            if isinstance(day := h.get("Date"), str) and first <= day[:10] <= last
        ]
        if _bool(query.get("onlyAttested"), True):
            hours = [h for h in hours if h.get("AdminAttested")]
        if not _bool(query.get("includeExported"), False):
            hours = [h for h in hours if not h.get("Exported")]
        if query.get("exportedExternal"):
            wanted = _bool(query["exportedExternal"], False)
            hours = [h for h in hours if bool(h.get("ExportedExternal")) is wanted]
        if query.get("exportedExternalId"):
            hours = [h for h in hours if h.get("ExportedExternalId") == query["exportedExternalId"]]
        if query.get("lastUpdated"):
            since = _moment(query["lastUpdated"])
            hours = [h for h in hours if _changed_since(h.get("LastUpdated"), since)]
        hours = self._hour_filters(hours, query)
        return self._page(hours, query, 100)

    def _hour_filters(self, hours: list[dict[str, Any]], query: dict[str, str]) -> list[Any]:
        """The filters v1 and v2 share: project, subproject, area and absence."""
        for param, field in (
            ("projectId", "ProjectID"),
            ("subProjectId", "SubProjectID"),
            ("areaId", "AreaID"),
        ):
            if query.get(param):
                hours = [h for h in hours if str(h.get(field)) == str(int(query[param]))]
        if query.get("absence"):
            wanted = _bool(query["absence"], False)
            hours = [h for h in hours if self._is_absence(h) is wanted]
        return hours

    def _is_absence(self, hour: dict[str, Any]) -> bool:
        """An absence hour: its wage type is an absence, or its project an absence project."""
        wage: dict[str, Any] = next(
            (w for w in self.state["Wages"] if w.get("Id") == hour.get("WageId")), {}
        )
        project: dict[str, Any] = next(
            (p for p in self.state["Projects"] if p.get("Id") == hour.get("ProjectID")), {}
        )
        return bool(wage.get("IsAbsence") or project.get("IsAbsenceProject"))

    def _hours_v2(self, query: dict[str, str]) -> Response:
        offset, count = query.get("offset") or "0", query.get("count") or "100"
        if int(offset) < 0 or not 1 <= int(count) <= 100:
            return json_response(
                400, {"Title": "offset must be 0 or more, count 1 to 100", "Status": 400}
            )
        hours = self._hour_filters(self.state["WorkHours"], query)
        if query.get("fromDate"):
            hours = [h for h in hours if (_stored_day(h) or "") >= query["fromDate"][:10]]
        if query.get("toDate"):
            hours = [h for h in hours if (_stored_day(h) or "\uffff") <= query["toDate"][:10]]
        if query.get("lastUpdated"):
            since = _moment(query["lastUpdated"])
            hours = [h for h in hours if _changed_since(h.get("LastUpdated"), since)]
        if query.get("approved"):
            wanted = _bool(query["approved"], True)
            hours = [h for h in hours if bool(h.get("AdminAttested")) is wanted]
        return self._page(hours, query, 100, self._v2)

    @staticmethod
    def _v2(hour: dict[str, Any]) -> dict[str, Any]:
        """The v2 view of a v1 hour (v2 carries no attestation state)."""
        return {
            "Id": hour.get("WorkHourID"),
            "UserId": hour.get("UserID"),
            "Date": _stored_day(hour),
            "TimeFrom": _span(hour.get("OrdinaryHoursFrom")),
            "TimeTo": _span(hour.get("OrdinaryHoursTo")),
            "BreakTime": _span(hour.get("BreakTime")),
            "HourBankDeposit": "00:00:00",
            "ProjectId": hour.get("ProjectID"),
            "SubProjectId": hour.get("SubProjectID"),
            "ActivityId": hour.get("WorkDescriptionId"),
            "WageId": hour.get("WageId") or 0,
            "DepartmentId": hour.get("DepartmentIDHours"),
            "AreaId": hour.get("AreaID"),
            "Comment": hour.get("Comment"),
            "AdminComment": hour.get("AdminComment"),
            "RegistrationType": "Ordinary",
            "AdditionRegistrations": [],
            "MachineHourRegistrations": [],
            "LastUpdated": hour.get("LastUpdated"),
        }

    def _set_exported(self, query: dict[str, str], body: Any) -> Response:
        if not isinstance(body, list) or not all(_is_int(i) for i in body):
            return _save_error("body", "Required", "A list of work hour ids is required.")
        mark = _bool(query.get("setAsExportedExternal"), True)
        wanted = set(body)
        for hour in self.state["WorkHours"]:
            if hour.get("WorkHourID") in wanted:
                hour["ExportedExternal"] = mark
                hour["ExportedExternalId"] = query.get("exportedExternalId") if mark else None
        return Response(200, b"", write=True)

    def _unmark_exported(self, query: dict[str, str]) -> Response:
        export_id = query.get("exportedExternalId")
        for hour in self.state["WorkHours"]:
            if hour.get("ExportedExternal") and (
                not export_id or hour.get("ExportedExternalId") == export_id
            ):
                hour["ExportedExternal"] = False
                hour["ExportedExternalId"] = None
        return Response(200, b"", write=True)
