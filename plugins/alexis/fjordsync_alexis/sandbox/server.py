"""The AlexisHR API v1 as a local server: list and get-by-id of the resources flows 4 and 5 read.

State: a JSON object whose keys are resource names (``employee``, ``employment``,
``employment-type``, ``compensation``, ``leave``, ``leave-type``, ``department``, ``office``,
``child``) and whose values are lists of records exactly as ``GET /v1/<resource>`` returns them in
``data``; plus ``leaveTypeCode``, the records of the leave type's ``leaveTypeCode`` relation
(``{id, companyId, leaveTypeId, code}``), which the API only side-loads.

Behaviour the spec leaves open, chosen here: the default page size is 100 and the largest 1000;
``select`` narrows the answer to the selected fields plus those the response schema requires;
tokens are those given to the server (``sandbox-token`` by default); errors are NestJS-shaped
``{statusCode, message, error}``.

Stored records may be dirty (text where a number belongs, an address as text, no ``id``): the
vendor has been seen to send such, so the state holds them and serves them as stored; only the
shape (lists of objects) and requests are checked.
"""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

from fjordsync.testing.sandbox import FaultSpec, Request, Response, Sandbox, json_response
from fjordsync_alexis.sandbox import query as q
from fjordsync_alexis.sandbox.contract import FIELDS

DEFAULT_TOKEN = "sandbox-token"  # noqa: S105 - a sandbox's well-known test token
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
RELATION_STATE_KEYS = ("leaveTypeCode",)
_PATH = re.compile(r"^/v1/([a-z-]+)(?:/([^/]+))?/?$")

# relation name -> (state key of the related records, how a record points at them)
# "field" joins record[field] == related["id"]; "back" joins related[field] == record["id"].
_JOINS: dict[str, dict[str, tuple[str, str, str]]] = {
    "employee": {
        "office": ("office", "field", "officeId"),
        "department": ("department", "field", "departmentId"),
        "employment": ("employment", "field", "employmentId"),
        "employmentType": ("employment-type", "field", "employmentTypeId"),
        "compensation": ("compensation", "field", "compensationId"),
        "managerEmployee": ("employee", "field", "managerEmployeeId"),
        "child": ("child", "back", "employeeId"),
    },
    "employment": {
        "type": ("employment-type", "field", "typeId"),
        "employee": ("employee", "field", "employeeId"),
    },
    "leave": {
        "type": ("leave-type", "field", "typeId"),
        "employee": ("employee", "field", "employeeId"),
    },
    "leave-type": {"leaveTypeCode": ("leaveTypeCode", "back", "leaveTypeId")},
}


def _hashable(value: Any) -> Any:
    """A stored id usable in a set (a dirty one may be an object or a list)."""
    return value if isinstance(value, str | int | float | bool) or value is None else repr(value)


def _error(status: int, message: Any) -> Response:
    """NestJS's error answer: ``error`` is always the status's reason phrase."""
    return json_response(
        status, {"statusCode": status, "message": message, "error": HTTPStatus(status).phrase}
    )


class AlexisSandbox(Sandbox):
    name = "alexis"

    def __init__(
        self,
        state: dict[str, Any] | None = None,
        faults: FaultSpec | None = None,
        tokens: tuple[str, ...] = (DEFAULT_TOKEN,),
    ) -> None:
        super().__init__(state, faults)
        self.tokens = set(tokens)

    def empty_state(self) -> dict[str, Any]:
        return {name: [] for name in (*FIELDS, *RELATION_STATE_KEYS)}

    def normalise_state(self, state: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(state, dict):
            raise ValueError("the state must be a JSON object of resource lists")
        unknown = set(state) - set(FIELDS) - set(RELATION_STATE_KEYS)
        if unknown:
            raise ValueError(f"unknown resources: {', '.join(sorted(unknown))}")
        complete = self.empty_state()
        for name, records in state.items():
            if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
                raise ValueError(f"{name} must be a list of records")
            complete[name] = records
        return complete

    def operation(self, request: Request) -> str:
        match = _PATH.match(request.path)
        if not match:
            return f"{request.method} {request.path}"
        return f"{request.method} /v1/{match.group(1)}" + ("/{id}" if match.group(2) else "")

    def handle(self, request: Request) -> Response:
        match = _PATH.match(request.path)
        if not match or match.group(1) not in FIELDS:
            return _error(404, f"Cannot {request.method} {request.path}")
        if request.headers.get("authorization", "").removeprefix("Bearer ").strip() not in (
            self.tokens
        ):
            return _error(401, "Unauthorized")
        if request.method != "GET":
            return _error(405, f"the sandbox serves reads only, not {request.method}")
        resource, record_id = match.groups()
        try:
            parsed = q.parse(resource, request.query, listing=record_id is None)
        except q.QueryError as exc:
            return _error(400, exc.messages)
        with self.lock:
            records = list(self.state[resource])
            if record_id is not None:
                found = next((r for r in records if r.get("id") == record_id), None)
                if found is None:
                    return _error(404, "Not Found")
                payload: dict[str, Any] = {
                    "status": "success",
                    "data": q.project(resource, found, parsed),
                }
                if parsed.relations:
                    relations = self._relations(resource, [found], parsed.relations)
                    payload["relations"] = self._one_record_relations(resource, relations)
                return json_response(200, payload)
            selected = q.apply_sort(q.apply_filters(records, parsed), parsed)
            limit = min(parsed.limit if parsed.limit is not None else DEFAULT_LIMIT, MAX_LIMIT)
            page = selected[parsed.offset : parsed.offset + limit]
            payload = {
                "status": "success",
                "data": [q.project(resource, r, parsed) for r in page],
                "total": len(selected),
                "count": len(page),
                "offset": parsed.offset,
            }
            if parsed.relations:
                payload["relations"] = self._relations(resource, page, parsed.relations)
        return json_response(200, payload)

    @staticmethod
    def _one_record_relations(
        resource: str, relations: dict[str, list[dict[str, Any]]]
    ) -> dict[str, Any]:
        """The relations of a get-by-id answer. A leave type has at most one code, and the
        document gives ``GET /leave-type/{id}`` that relation as one object, not a list (left
        out when the type has no code); every other relation stays a list."""
        if resource != "leave-type" or "leaveTypeCode" not in relations:
            return relations
        shaped: dict[str, Any] = dict(relations)
        codes = shaped.pop("leaveTypeCode")
        if codes:
            shaped["leaveTypeCode"] = codes[0]
        return shaped

    def _relations(
        self, resource: str, records: list[dict[str, Any]], names: list[str]
    ) -> dict[str, list[dict[str, Any]]]:
        """Side-load related records, each once, joined by id."""
        loaded: dict[str, list[dict[str, Any]]] = {}
        for name in names:
            join = _JOINS.get(resource, {}).get(name)
            if join is None:  # a relation to a resource this sandbox does not keep
                loaded[name] = []
                continue
            state_key, how, key = join
            related = self.state.get(state_key, [])
            if how == "field":
                wanted = {_hashable(r.get(key)) for r in records} - {None}
                loaded[name] = [r for r in related if _hashable(r.get("id")) in wanted]
            else:
                ids = {_hashable(r.get("id")) for r in records}
                loaded[name] = [r for r in related if _hashable(r.get(key)) in ids]
        return loaded
