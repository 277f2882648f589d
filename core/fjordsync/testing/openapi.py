"""Validate sandbox traffic against a vendor's OpenAPI document with openapi-core.

``OpenAPIContract(spec_dict, server_url)`` checks httpx requests and responses: the request is
presented to openapi-core as if it had gone to the vendor's own server, so the document's
``servers`` need no change. Needs the ``testing`` extra.

``vendor_document(vendor, document)`` is the one place that says where a vendor's published
document is itself wrong, and works around it: the document as published goes in, a document
that describes the vendor's API as it answers comes out, for openapi-core and schemathesis
alike. ``DOCUMENT_DEFECTS`` lists each defect in words; each workaround below says what is wrong.
"""

from __future__ import annotations

import copy
import re
from datetime import date, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

__all__ = ["DOCUMENT_DEFECTS", "OpenAPIContract", "fix_norway", "java_map", "vendor_document"]


def fix_norway(node: Any) -> Any:
    """YAML 1.1 read the country code NO as ``false`` (the "Norway problem"), which then went
    into the document as false or "false": put "NO" back into enums of country codes, as
    plugins/alexis/contract/README.md says."""
    if isinstance(node, dict):
        fixed = {k: fix_norway(v) for k, v in node.items()}
        enum = fixed.get("enum")
        if isinstance(enum, list) and any(v is False or v == "false" for v in enum):
            others = [v for v in enum if not (v is False or v == "false")]
            if others and all(isinstance(v, str) and len(v) == 2 and v.isupper() for v in others):
                fixed["enum"] = ["NO" if v is False or v == "false" else v for v in enum]
        return fixed
    if isinstance(node, list):
        return [fix_norway(v) for v in node]
    return node


# -- where the vendors' documents are wrong ---------------------------------------------------
# One entry per defect: what the published document says, and what the API does instead. The
# workarounds below implement exactly these, and the contract READMEs point here.
DOCUMENT_DEFECTS: dict[str, tuple[str, ...]] = {
    "smartdok": (
        "Most operations list only a 200 answer (the document is generated without the error "
        "responses), while the API answers 400 for a request it refuses (ProblemDetails "
        "{Title, Status} for a parameter or a body that does not bind, {Code, Error, Message} "
        "for a save error), 401 without a valid session and 404 for an unknown id.",
        "Input schemas say additionalProperties: false, but the API ignores members it does not "
        "know: an update is a GET answer changed and PUT back whole, output-only members too.",
    ),
    "alexis": (
        "In the country enums Norway was parsed as false instead of 'NO' (the YAML 1.1 "
        "'Norway problem').",
        "Operation ids repeat (PUT and PATCH /employment-type/{id} are both "
        "Employmenttype_updateOneEmploymentType).",
        "Example dates and times are written unquoted, so a YAML reader makes them dates, "
        "which no JSON schema knows: they are put back as the text they were.",
    ),
    "payroll": (
        "Request bodies are declared as one string whose example is a Java map ({a=1, b=2}); "
        "the API takes a JSON object (or array) with the same keys, every value a string.",
        "Answers are declared type: object while their examples, and the API, are arrays; "
        "their schemas are the examples' shape: every value a string, every key present.",
        "POST /absence/v2 is declared text/html; the API takes application/json.",
        "The security scheme is an API key in a header named 'authorization2'; clients send "
        "Authorization: Bearer <token>.",
        "Operations list only some of the API's errors (400, 401, 409, 500): wherever the "
        "document leaves them out, a request the API refuses is a 400 and one without a valid "
        "token a 401 (GET /absencetypes/v2 lists 200 alone, yet needs the token).",
    ),
}


def vendor_document(vendor: str, document: dict[str, Any]) -> dict[str, Any]:
    """The vendor's published document with the defects of ``DOCUMENT_DEFECTS[vendor]``
    worked around; the argument is left as it is."""
    fixes = {"smartdok": _smartdok, "alexis": _alexis, "payroll": _payroll}
    if vendor not in fixes:
        raise ValueError(f"no document of {vendor!r} (known: {', '.join(fixes)})")
    return fixes[vendor](copy.deepcopy(document))


_METHODS = ("get", "put", "post", "delete", "patch")


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document.get("paths", {}).items()
        for method, operation in item.items()
        if method in _METHODS
    ]


def _smartdok(document: dict[str, Any]) -> dict[str, Any]:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    # The save error the API's help pages show; not in the document.
    schemas["SaveError"] = {
        "type": "object",
        "required": ["Code", "Error", "Message"],
        "properties": {
            "Code": {"type": "string"},
            "Error": {"type": "string"},
            "Message": {"type": "string"},
        },
    }
    refused = {
        "description": "Bad Request (added: the document lists no error answers)",
        "content": {
            "application/json": {
                "schema": {
                    "anyOf": [
                        {"$ref": "#/components/schemas/SaveError"},
                        {
                            "allOf": [
                                {"$ref": "#/components/schemas/ProblemDetails"},
                                {"type": "object", "required": ["Title", "Status"]},
                            ]
                        },
                    ]
                }
            }
        },
    }
    for _method, path, operation in _operations(document):
        responses = operation.setdefault("responses", {})
        responses.setdefault("400", refused)
        responses.setdefault("401", {"description": "No valid session (added)"})
        if "{" in path:
            responses.setdefault("404", {"description": "No such record (added)"})
    for name, schema in schemas.items():
        if name.endswith("Input") and schema.get("additionalProperties") is False:
            del schema["additionalProperties"]
    return document


def _as_json(node: Any) -> Any:
    """Dates a YAML reader made of unquoted example text, back as ISO text."""
    if isinstance(node, dict):
        return {k: _as_json(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_as_json(v) for v in node]
    if isinstance(node, date | datetime):
        return node.isoformat()
    return node


def _alexis(document: dict[str, Any]) -> dict[str, Any]:
    document = _as_json(fix_norway(document))
    seen: set[str] = set()
    for method, _path, operation in _operations(document):
        operation_id = operation.get("operationId")
        if operation_id in seen:
            operation["operationId"] = f"{operation_id}_{method}"
        if operation_id:
            seen.add(operation_id)
    return document


def java_map(text: str) -> Any:
    """Read the payroll document's Java map notation (``{a=1, b=[{c=}]}``) as JSON: objects,
    arrays and, for every value, its text. Raises ValueError on text that is not such."""
    value, end = _java_value(text, 0)
    if text[end:].strip():
        raise ValueError(f"unexpected text after position {end}: {text[end:][:20]!r}")
    return value


def _java_value(text: str, at: int) -> tuple[Any, int]:
    while at < len(text) and text[at] == " ":
        at += 1
    if text.startswith("{", at):
        result: dict[str, Any] = {}
        at += 1
        while not text.startswith("}", at):
            key_end = text.index("=", at)
            key = text[at:key_end].strip()
            result[key], at = _java_value(text, key_end + 1)
            at = _java_separator(text, at, "}")
        return result, at + 1
    if text.startswith("[", at):
        items: list[Any] = []
        at += 1
        while not text.startswith("]", at):
            item, at = _java_value(text, at)
            items.append(item)
            at = _java_separator(text, at, "]")
        return items, at + 1
    match = re.compile(r"[^,}\]]*").match(text, at)
    assert match is not None  # the pattern matches the empty text too
    return match.group().strip(), match.end()


def _java_separator(text: str, at: int, closing: str) -> int:
    if text.startswith(", ", at):
        return at + 2
    if text.startswith(",", at):
        return at + 1
    if text.startswith(closing, at):
        return at
    raise ValueError(f"expected ',' or {closing!r} at position {at}")


# Keys of a company's own employee fields (employee_field_<ID>): present or not per company.
_CUSTOM_FIELD = r"^employee_field_\d+$"


def _shape(example: Any, *, every_key: bool) -> dict[str, Any]:
    """The JSON schema of an example of the payroll API: objects of its keys (all of them
    required when ``every_key``), arrays of its first item's shape, text for every value."""
    if isinstance(example, dict):
        fixed = {k: v for k, v in example.items() if not re.match(_CUSTOM_FIELD, k)}
        schema: dict[str, Any] = {
            "type": "object",
            "properties": {k: _shape(v, every_key=every_key) for k, v in fixed.items()},
        }
        if len(fixed) < len(example):
            schema["patternProperties"] = {_CUSTOM_FIELD: {"type": "string"}}
        if every_key and fixed:
            schema["required"] = sorted(fixed)
        return schema
    if isinstance(example, list):
        return {
            "type": "array",
            "items": _shape(example[0], every_key=every_key) if example else {},
        }
    return {"type": "string"}


# What the API requires of a request body; the document's prose and the contract README say it.
_PAYROLL_REQUIRED = {
    ("post", "/employee/v2"): ("empId",),
    ("post", "/absence/v2"): ("empId", "absenceType"),
}


def _payroll(document: dict[str, Any]) -> dict[str, Any]:
    document.setdefault("components", {})["securitySchemes"] = {
        "APIKeyHeader": {"type": "http", "scheme": "bearer"}
    }
    for method, path, operation in _operations(document):
        body = operation.get("requestBody")
        if body is not None:
            media = body.get("content", {})
            declared: dict[str, Any] = next(iter(media.values()), {})
            example = declared.get("schema", {}).get("example")
            if isinstance(example, str) and example.strip()[:1] in ("{", "["):
                schema = _shape(java_map(example), every_key=False)
                required = _PAYROLL_REQUIRED.get((method, path))
                if required:
                    schema["required"] = list(required)
                body["content"] = {"application/json": {"schema": schema}}
        responses = operation.setdefault("responses", {})
        for answer in responses.values():
            for declared in answer.get("content", {}).values():
                schema = declared.get("schema", {})
                if "example" in schema and isinstance(schema["example"], list | dict):
                    declared["schema"] = _shape(schema["example"], every_key=True)
        if body is not None or operation.get("parameters"):
            responses.setdefault("400", {"description": "Refused (added: the API's errors)"})
        if operation.get("security", document.get("security")):
            responses.setdefault("401", {"description": "No valid token (added)"})
    return document


class _Request:
    def __init__(self, request: httpx.Request, server_url: str, strip_prefix: str) -> None:
        parts = urlsplit(server_url)
        self.host_url = f"{parts.scheme}://{parts.netloc}"
        path = request.url.path
        if strip_prefix and path.startswith(strip_prefix):
            path = path[len(strip_prefix) :]
        self.path = parts.path.rstrip("/") + path
        self.method = request.method.lower()
        self.body = request.content or None
        self.content_type = request.headers.get("content-type", "application/json").lower()
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(parse_qsl(request.url.query.decode(), keep_blank_values=True)),
            header=Headers(list(request.headers.items())),
            cookie=ImmutableMultiDict(),
        )


class _Response:
    def __init__(self, response: httpx.Response) -> None:
        self.status_code = response.status_code
        self.data = response.content
        self.content_type = response.headers.get("content-type", "").split(";")[0].lower()
        self.headers = Headers(list(response.headers.items()))


class OpenAPIContract:
    def __init__(self, spec: dict[str, Any], server_url: str, *, strip_prefix: str = "") -> None:
        """``server_url`` is one of the document's servers; ``strip_prefix`` is the part of the
        sandbox's paths that the server URL already holds (``/v1`` for AlexisHR)."""
        # The vendors' documents are not all valid OpenAPI (AlexisHR's repeats operation ids):
        # traffic is checked against their schemas, not the documents against the standard.
        self.openapi = OpenAPI.from_dict(fix_norway(spec), config=Config(spec_validator_cls=None))
        self.server_url = server_url
        self.strip_prefix = strip_prefix

    def validate_response(self, response: httpx.Response) -> None:
        """Raises an openapi-core error when the answer does not fit the document."""
        self.openapi.validate_response(
            _Request(response.request, self.server_url, self.strip_prefix), _Response(response)
        )

    def validate_request(self, request: httpx.Request) -> None:
        self.openapi.validate_request(_Request(request, self.server_url, self.strip_prefix))
