"""24SevenOffice Lønn (payroll REST) as the sandbox serves it under ``/payroll/api``.

As ``payroll.json`` and NOTES.md describe: a customer access token is exchanged at ``/auth`` for a
bearer token that expires; every value in bodies is a string; ``GET /employee/v2/{empId}`` is an
array of one; creating an existing ``empId`` is a 409; employments are upserted by
``employment_id`` (generated as "<empId>-<n>"), ``enddate_reason`` is required with ``enddate``;
absences are created, or updated by ``serialNo``, ``childId`` is required for category
``sick_child``; dates come back as "YYYY-MM-DD HH:MM:SS"; there is no delete. Stored records may
be dirty (a missing key, an object where a string belongs): they are served as stored, never a
crash; requests are still validated: a body must have the shape of the document's example
(every value a string, objects and arrays where the example has them), an ``empId`` in a path
is a whole number, and a refused request is a 400 (the document lists no 404). Employees and
employments the API creates carry every key of the document's example.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from typing import Any

from fjordsync.testing.sandbox import Request, Response, json_response

ABSENCE_TYPES = [
    ("01", "Sykmelding", "sickness"),
    ("02", "Sykt barn", "sick_child"),
    ("03", "Egenmelding", "self_report"),
    ("04", "Ferie", "vacation"),
    ("05", "Permittering", "leave_of_absence"),
    ("06", "Foreldrepenger", "leave_of_absence"),
    ("07", "Militærtjeneste", "leave_of_absence"),
    ("10", "Utdanningspermisjon - lovfestet", "leave_of_absence"),
    ("11", "Utdanningspermisjon - ikke lovfestet", "leave_of_absence"),
    ("12", "Andre permisjoner - lovfestet", "leave_of_absence"),
    ("13", "Andre permisjoner - ikke lovfestet", "leave_of_absence"),
    ("14", "Pleiepenger livets siste faser", "leave_of_absence"),
    ("15", "Pleiepenger sykt barn", "leave_of_absence"),
    ("16", "Omsorgspenger (sykt barn dager)", "leave_of_absence"),
    ("17", "Opplæringspenger", "leave_of_absence"),
    ("18", "Svangerskapspenger", "leave_of_absence"),
    ("19", "Svangerskapspermisjon (foreldrepenger)", "leave_of_absence"),
    ("20", "Omsorgspermisjon", "leave_of_absence"),
    ("21", "Annet fravær", "leave_of_absence"),
]
DEFAULT_ACCESS_TOKEN = "payroll-sandbox-token"  # noqa: S105 - the sandbox's well-known token
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
ENDDATE_REASONS = (
    "arbeidsforholdetSkulleAldriVaertRapportert",
    "arbeidsgiverHarSagtOppArbeidstaker",
    "arbeidstakerHarSagtOppSelv",
    "byttetLoenssystemEllerRegnskapsfoerer",
    "endringIOrganisasjonsstrukturEllerByttetJobbInternt",
    "kontraktEngasjementEllerVikariatErUtloept",
)


# The shape of each body, as the document's examples show it: "s" is a string, a dict an object
# of those keys, a one-item list an array of that shape. Every value is a string; a value of
# another JSON type (null, a number, an object where a string belongs) is refused with a 400.
_S = "s"
EMPLOYEE_SHAPE: dict[str, Any] = {
    **{
        key: _S
        for key in (
            "empId",
            "email",
            "email_copy",
            "firstname",
            "lastname",
            "postaddress",
            "zipcode",
            "city",
            "countryCode",
            "clearingno",
            "account",
            "bic",
            "employee_date",
            "telefon",
            "personnr",
            "salary_type",
            "salary",
            "salary_valid_from",
            "taxtable",
            "employment_rate",
            "employment_rate_valid_from",
            "hours_per_week",
            "hours_per_week_valid_from",
            "vacation_percent",
            "vacation_percent_valid_from",
            "vacation_days",
            "hidden",
            "percentage_tax_main_employer",
            "percentage_tax_bi_employer",
            "tax_resident_country",
            "continental_shelf",
        )
    },
    "internationalID": {"countryCode": _S, "ID": _S, "type": _S},
    "taxexemption": {"percentage": _S, "amount": _S},
    "accounting": [{"percentage": _S, "dimensions": [{"dimid": _S, "value": _S}]}],
}
EMPLOYMENT_KEYS = (
    "employment_id",
    "primary_employment",
    "startdate",
    "enddate",
    "enddate_reason",
    "employment_form",
    "profession_code",
    "employment_rate",
    "employment_type",
    "enterprise_number",
    "working_times",
)
ABSENCE_KEYS = (
    "empId",
    "serialNo",
    "startDate",
    "endDate",
    "comment",
    "requestDate",
    "requestMotivation",
    "approved",
    "percent",
    "absenceType",
    "description",
    "childId",
    "numberOfDays",
    "permisjonId",
    "startdateParental",
    "lastChanged",
    "externalId",
)
# What payroll answers for what an employee was created without (the document's defaults).
_EMPLOYEE_DEFAULTS = {
    "hours_per_week": "37.50",
    "percentage_tax_main_employer": "50.00",
    "hidden": "0",
}


def _blank(shape: Any) -> Any:
    if isinstance(shape, dict):
        return {k: _blank(v) for k, v in shape.items()}
    if isinstance(shape, list):
        return []
    return ""


def complete_employee(employee: dict[str, Any]) -> dict[str, Any]:
    """An employee as payroll answers it: every key of the document's example, those it was
    not given empty (or the document's default), nested objects completed the same way."""
    complete = _blank(EMPLOYEE_SHAPE) | _EMPLOYEE_DEFAULTS
    complete["internationalID"]["type"] = "passnummer"
    for key, value in employee.items():
        if isinstance(complete.get(key), dict) and isinstance(value, dict):
            complete[key] = {**complete[key], **value}
        else:
            complete[key] = value
    return complete


def _misfit(value: Any, shape: Any, where: str) -> str | None:
    """Where ``value`` leaves the shape, as a message; None when it fits."""
    if shape == _S:
        return None if isinstance(value, str) else f"{where} must be a string"
    if isinstance(shape, list):
        if not isinstance(value, list):
            return f"{where} must be an array"
        return next(
            (m for i, v in enumerate(value) if (m := _misfit(v, shape[0], f"{where}[{i}]"))), None
        )
    if not isinstance(value, dict):
        return f"{where} must be an object"
    for key, item in value.items():
        # Keys the document does not show are the company's own fields: strings as well.
        problem = _misfit(item, shape.get(key, _S), f"{where}.{key}" if where else key)
        if problem:
            return problem
    return None


def _flat(keys: tuple[str, ...]) -> dict[str, str]:
    return dict.fromkeys(keys, _S)


def absence_types() -> list[dict[str, str]]:
    return [
        {
            "description": name,
            "code": code,
            "inntektsmelding_type": "",
            "permisjonId": "0",
            "leave_of_absence_type": "",
            "percentage": "1",
            "comment_mandatory": "0",
            "category": category,
        }
        for code, name, category in ABSENCE_TYPES
    ]


def _day(value: Any) -> str:
    """The date part of a stored date, "" for a stored value that is no text (dirty state)."""
    return value[:10] if isinstance(value, str) else ""


def _error(status: int, message: str) -> Response:
    return json_response(status, {"status": status, "message": message})


class PayrollApi:
    def __init__(self, sandbox: Any, access_tokens: tuple[str, ...], token_lifetime: float):
        self.sandbox = sandbox
        self.access_tokens = set(access_tokens)
        self.token_lifetime = token_lifetime
        self.bearers: dict[str, float] = {}  # bearer -> expiry (epoch seconds)

    def expire_tokens(self) -> None:
        self.bearers.clear()

    @property
    def state(self) -> dict[str, Any]:
        return self.sandbox.state

    def handle(self, request: Request, path: str) -> Response:
        if path == "/auth" and request.method == "GET":
            return self._auth(request)
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        expiry = self.bearers.get(bearer)
        if expiry is None or expiry < time.time():
            return _error(401, "Unauthorized: the access token is missing or has expired")
        parts = [p for p in path.split("/") if p]
        by_employee = len(parts) == 3 and parts[0] in ("employee", "employment", "absence", "child")
        if by_employee and not parts[2].isdigit():  # the document's empId is an integer
            return _error(400, f"empId must be a whole number, not {parts[2]!r}")
        try:
            body = json.loads(request.body) if request.body else None
        except ValueError:
            return _error(400, "the body is not JSON")
        with self.sandbox.lock:
            return self._route(request.method, parts, request, body)

    def _auth(self, request: Request) -> Response:
        if request.query_dict().get("token") not in self.access_tokens:
            return _error(401, "invalid token")
        bearer = secrets.token_urlsafe(24)
        expires = time.time() + self.token_lifetime
        self.bearers[bearer] = expires
        return json_response(
            200,
            {
                "accessToken": bearer,
                "expiresOn": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires)),
            },
        )

    def _route(self, method: str, parts: list[str], request: Request, body: Any) -> Response:
        match (method, parts):
            case ("GET", ["employee", "v2"]):
                return json_response(200, self.state["payroll/employee"])
            case ("POST", ["employee", "v2"]):
                return self._create_employee(body)
            case ("GET", ["employee", "v2", emp_id]):
                found = [e for e in self.state["payroll/employee"] if e.get("empId") == emp_id]
                # The document lists 200, 401 and 500 here: no 404 for an unknown empId.
                return json_response(200, found) if found else _error(400, "no such employee")
            case ("POST", ["employee", "v2", emp_id]):
                return self._update_employee(emp_id, body)
            case ("GET", ["employment", "v2", emp_id]):
                return json_response(
                    200, [e for e in self.state["payroll/employment"] if e.get("empId") == emp_id]
                )
            case ("POST", ["employment", "v2", emp_id]):
                return self._upsert_employments(emp_id, body)
            case ("GET", ["absence", "v2"]):
                return self._absences(None, request)
            case ("GET", ["absence", "v2", emp_id]):
                return self._absences(emp_id, request)
            case ("POST", ["absence", "v2"]):
                return self._save_absence(body)
            case ("GET", ["absencetypes", "v2"]):
                return json_response(200, self.state["payroll/absencetypes"])
            case ("GET", ["child", "v2", emp_id]):
                return json_response(
                    200, [c for c in self.state["payroll/child"] if c.get("empId") == emp_id]
                )
        return _error(404, f"no endpoint {method} /{'/'.join(parts)}")

    # -- employees ------------------------------------------------------------------------------
    def _create_employee(self, body: Any) -> Response:
        if not isinstance(body, dict):
            return _error(400, "the body must be an object")
        problem = _misfit(body, EMPLOYEE_SHAPE, "")
        if problem:
            return _error(400, problem)
        if not body.get("empId", "").strip():
            return _error(400, "empId is required")
        if not body["empId"].isdigit():
            return _error(400, "empId must be a whole number")
        body = complete_employee(body)
        if any(e.get("empId") == body["empId"] for e in self.state["payroll/employee"]):
            return _error(409, f"an employee with empId {body['empId']} exists already")
        self.state["payroll/employee"].append(body)
        return Response(200, json.dumps({"empId": body["empId"]}).encode(), write=True)

    def _update_employee(self, emp_id: str, body: Any) -> Response:
        if not isinstance(body, dict):
            return _error(400, "the body must be an object")
        problem = _misfit(body, EMPLOYEE_SHAPE, "")
        if problem:
            return _error(400, problem)
        for index, employee in enumerate(self.state["payroll/employee"]):
            if employee.get("empId") == emp_id:
                self.state["payroll/employee"][index] = {
                    **employee,
                    **body,
                    "empId": emp_id,
                }
                return Response(200, json.dumps({"empId": emp_id}).encode(), write=True)
        return _error(400, f"no employee with empId {emp_id}")

    def _upsert_employments(self, emp_id: str, body: Any) -> Response:
        if not isinstance(body, list):
            return _error(400, "the body must be an array of employments")
        problem = _misfit(body, [_flat(EMPLOYMENT_KEYS)], "")
        if problem:
            return _error(400, problem)
        if not any(e.get("empId") == emp_id for e in self.state["payroll/employee"]):
            return _error(400, f"no employee with empId {emp_id}")
        rows = self.state["payroll/employment"]
        saved = []
        for item in body:
            existing = next(
                (
                    r
                    for r in rows
                    if r.get("empId") == emp_id
                    and item.get("employment_id")
                    and r.get("employment_id") == item["employment_id"]
                ),
                None,
            )
            merged = {**(existing or {}), **item, "empId": emp_id}
            if merged.get("enddate") and merged.get("enddate_reason") not in ENDDATE_REASONS:
                return _error(
                    400,
                    "enddate_reason is required when enddate is set, and must "
                    "be one of the documented values",
                )
            if existing is None and not _DATE.match(merged.get("startdate", "")):
                return _error(400, "startdate (YYYY-MM-DD) is required for new employments")
            if existing is None:
                merged = {**dict.fromkeys(EMPLOYMENT_KEYS, ""), **merged}
                if not merged.get("employment_id"):
                    taken = sum(1 for r in rows if r.get("empId") == emp_id)
                    merged["employment_id"] = f"{emp_id}-{taken + 1}"
                rows.append(merged)
            else:
                rows[rows.index(existing)] = merged
            saved.append(merged["employment_id"])
        return Response(200, json.dumps({"employment_id": saved}).encode(), write=True)

    # -- absences -------------------------------------------------------------------------------
    def _absences(self, emp_id: str | None, request: Request) -> Response:
        query = request.query_dict()
        if "serialNo" in query and not query["serialNo"].isdigit():
            return _error(400, "serialNo must be a whole number")
        rows = self.state["payroll/absence"]
        if emp_id is not None:
            rows = [r for r in rows if r.get("empId") == emp_id]
        if query.get("serialNo"):
            rows = [r for r in rows if r.get("serialNo") == query["serialNo"]]
        if query.get("datefrom"):
            rows = [r for r in rows if (_day(r.get("endDate")) or "9999") >= query["datefrom"]]
        if query.get("dateto"):
            rows = [r for r in rows if (_day(r.get("startDate")) or "") <= query["dateto"]]
        return json_response(200, rows)

    def _save_absence(self, body: Any) -> Response:
        if not isinstance(body, dict):
            return _error(400, "the body must be an object")
        problem = _misfit(body, _flat(ABSENCE_KEYS), "")
        if problem:
            return _error(400, problem)
        body = dict(body)
        for required in ("empId", "absenceType"):
            if not body.get(required):
                return _error(400, f"{required} is required")
        if not any(e.get("empId") == body["empId"] for e in self.state["payroll/employee"]):
            return _error(400, f"no employee with empId {body['empId']}")
        kinds = {t["code"]: t for t in self.state["payroll/absencetypes"]}
        kind = kinds.get(body["absenceType"])
        if kind is None:
            return _error(400, f"absenceType {body['absenceType']} does not exist")
        if kind["category"] == "sick_child" and not body.get("childId"):
            return _error(400, "childId is required for absence types of category sick_child")
        if kind["category"] != "vacation":
            body["numberOfDays"] = ""
        for name in ("startDate", "endDate"):
            if body.get(name):
                if not _DATE.match(body[name][:10]):
                    return _error(400, f"{name} must be YYYY-MM-DD")
                body[name] = f"{body[name][:10]} 00:00:00"
        rows = self.state["payroll/absence"]
        serial = body.get("serialNo")
        if serial:
            existing = next((r for r in rows if r.get("serialNo") == serial), None)
            if existing is None:
                return _error(400, f"no absence with serialNo {serial}")
            existing.update(
                {
                    **body,
                    "description": kind["description"],
                    "lastChanged": time.strftime("%Y-%m-%d %H:%M:%S"),
                }
            )
            return Response(200, json.dumps({"serialNo": serial}).encode(), write=True)
        serial = str(
            max(
                (int(r["serialNo"]) for r in rows if str(r.get("serialNo", "")).isdigit()),
                default=100,
            )
            + 1
        )
        record = {
            "empId": "",
            "serialNo": serial,
            "startDate": "",
            "endDate": "",
            "comment": "",
            "requestDate": time.strftime("%Y-%m-%d %H:%M:%S"),
            "requestMotivation": "",
            "approved": "",
            "percent": "100",
            "absenceType": "",
            "description": "",
            "childId": "",
            "numberOfDays": "",
            "permisjonId": "",
            "startdateParental": "",
            "lastChanged": "",
            "externalId": "",
        }
        record.update(body)
        record.update({"serialNo": serial, "description": kind["description"]})
        rows.append(record)
        return Response(200, json.dumps({"serialNo": serial}).encode(), write=True)
